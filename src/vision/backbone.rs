//! A pretrained network as a feature extractor over image files: batches
//! decoded in parallel, a resumable cache, unreadable images reported.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::matrix::row_cache::{RowCache, compute_units};
use crate::vision::layers::Maps;
use crate::vision::mobilenet::MobileNetV2;
use crate::vision::preprocess::{self, Normalize, Resize};
use crate::vision::pth;
use crate::vision::vgg::{self, Vgg16, VggOutput};

/// What the network hands back per image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Output {
    /// The globally averaged last maps (1,280 for MobileNetV2, 512 for VGG16).
    Features,
    /// MobileNetV2's ImageNet logits (1,000).
    Logits,
    /// VGG16's last pool flattened, 25,088 (Keras `include_top=False`).
    Conv,
    /// VGG16's second fully connected layer, 4,096.
    Fc2,
}

enum Network {
    MobileNetV2(MobileNetV2),
    Vgg16(Vgg16),
}

pub struct Backbone {
    pub name: String,
    /// The checkpoint it was read from.
    pub source: PathBuf,
    /// What tells a fine-tuned network's cached rows from the base's
    /// (empty for published weights).
    tag: String,
    net: Network,
    pub output: Output,
    pub resize: Resize,
    pub normalize: Normalize,
}

/// What to do with an image that cannot be read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OnError {
    /// Leave its row out (the matrix's row names say which remain).
    Skip,
    /// Keep a row of zeros.
    Zero,
}

/// What one core made of one unit of images.
struct Unit {
    keys: Vec<String>,
    rows: Array2<f32>,
    failures: Vec<(String, String)>,
}

/// The result of an extraction.
pub struct Extracted {
    pub matrix: Matrix,
    /// (path, why) of every image that could not be used.
    pub failures: Vec<(String, String)>,
    /// Rows taken from the cache rather than computed.
    pub cached: usize,
}

impl Backbone {
    /// A network by name from a checkpoint (legacy or zip `.pth`, or
    /// `.safetensors`), with torchvision's preprocessing unless `resize` /
    /// `normalize` say otherwise.
    pub fn open(
        name: &str,
        weights: &Path,
        output: Option<Output>,
        resize: Option<Resize>,
        normalize: Option<Normalize>,
    ) -> Result<Backbone> {
        let in_file = |e: Error| match e {
            Error::Invalid(message) => Error::file(weights, message),
            other => other,
        };
        let (net, output, default_resize) = match name {
            "mobilenet_v2" => {
                let output = output.unwrap_or(Output::Features);
                if !matches!(output, Output::Features | Output::Logits) {
                    return Err(Error::invalid(format!(
                        "vision::backbone: mobilenet_v2 outputs \"features\" or \"logits\", not {output:?}"
                    )));
                }
                let net = MobileNetV2::from_tensors(pth::read(weights)?).map_err(in_file)?;
                if output == Output::Logits && !net.has_classifier() {
                    return Err(Error::file(
                        weights,
                        "these weights have no classifier; use output \"features\"",
                    ));
                }
                (Network::MobileNetV2(net), output, Resize::ShorterSideCrop)
            }
            "vgg16" => {
                let output = output.unwrap_or(Output::Conv);
                if output == Output::Logits {
                    return Err(Error::invalid(
                        "vision::backbone: vgg16 outputs \"conv\", \"avg\" or \"fc2\"",
                    ));
                }
                let net = Vgg16::from_tensors(pth::read(weights)?).map_err(in_file)?;
                if output == Output::Fc2 && !net.has_classifier() {
                    return Err(Error::file(
                        weights,
                        "these weights have no classifier; use output \"conv\" or \"avg\"",
                    ));
                }
                // The seed loaded posters with Keras' load_img(target_size=(224, 224)).
                (Network::Vgg16(net), output, Resize::Stretch)
            }
            other => {
                return Err(Error::invalid(format!(
                    "vision::backbone: unknown network '{other}'; use \"mobilenet_v2\" or \"vgg16\""
                )));
            }
        };
        Ok(Backbone {
            name: name.to_string(),
            source: weights.to_path_buf(),
            tag: String::new(),
            net,
            output,
            resize: resize.unwrap_or(default_resize),
            // Both checkpoints are torchvision's, trained on torch-normalised inputs.
            normalize: normalize.unwrap_or(Normalize::Torch),
        })
    }

    /// A MobileNetV2 built from tensors already in memory (a fine-tuned
    /// one, told apart in caches by `tag`), with torchvision's
    /// preprocessing.
    pub fn mobilenet(net: MobileNetV2, source: &Path, tag: String, output: Output) -> Backbone {
        Backbone {
            name: "mobilenet_v2".into(),
            source: source.to_path_buf(),
            tag,
            net: Network::MobileNetV2(net),
            output,
            resize: Resize::ShorterSideCrop,
            normalize: Normalize::Torch,
        }
    }

    /// The MobileNetV2 inside, if that is what this is.
    pub fn as_mobilenet(&self) -> Option<&MobileNetV2> {
        match &self.net {
            Network::MobileNetV2(net) => Some(net),
            Network::Vgg16(_) => None,
        }
    }

    pub fn width(&self) -> usize {
        match (&self.net, self.output) {
            (Network::MobileNetV2(net), Output::Logits) => net.classes(),
            (Network::MobileNetV2(_), _) => crate::vision::mobilenet::FEATURES,
            (Network::Vgg16(_), Output::Conv) => vgg::CONV_FEATURES,
            (Network::Vgg16(_), Output::Fc2) => 4096,
            (Network::Vgg16(_), _) => 512,
        }
    }

    /// What identifies this extractor's outputs in a cache.
    fn signature(&self) -> String {
        let tag = if self.tag.is_empty() {
            String::new()
        } else {
            format!("/{}", self.tag)
        };
        format!(
            "{}/{:?}/{:?}/{:?}{tag}",
            self.name, self.output, self.resize, self.normalize
        )
    }

    /// Network outputs for preprocessed inputs (each 224 × 224 × 3, HWC,
    /// as `preprocess::load` makes them).
    pub fn forward(&self, inputs: &[Vec<f32>]) -> Result<Array2<f32>> {
        // Independent slices of the batch, one per thread, each on one core,
        // keep every core busy without a synchronisation per layer: faster
        // for MobileNetV2's small layers and for VGG16's large ones alike
        // (0.22 → 0.18 s per VGG16 image on 2 cores), at the price of one
        // patch buffer per thread (115 MB for VGG16's first layers).
        let threads = rayon::current_num_threads();
        if threads > 1 && inputs.len() > 1 {
            use rayon::prelude::*;
            let per = inputs.len().div_ceil(threads);
            let parts: Vec<Array2<f32>> = inputs
                .par_chunks(per)
                .map(|part| crate::nn::gemm::serial(|| self.forward_batch(part)))
                .collect::<Result<_>>()?;
            let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
            return ndarray::concatenate(ndarray::Axis(0), &views)
                .map_err(|e| Error::invalid(e.to_string()));
        }
        self.forward_batch(inputs)
    }

    fn forward_batch(&self, inputs: &[Vec<f32>]) -> Result<Array2<f32>> {
        let n = inputs.len();
        let size = preprocess::SIZE as usize;
        match &self.net {
            Network::MobileNetV2(net) => {
                let images: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
                let want = matches!(self.output, Output::Logits);
                let (features, logits) = net.forward_images(&images, (size, size, 3), want)?;
                match self.output {
                    Output::Logits => {
                        logits.ok_or_else(|| Error::invalid("backbone: no classifier"))
                    }
                    _ => Ok(features),
                }
            }
            Network::Vgg16(net) => net.forward(
                &Maps {
                    n,
                    h: size,
                    w: size,
                    c: 3,
                    data: inputs.concat(),
                },
                match self.output {
                    Output::Fc2 => VggOutput::Fc2,
                    Output::Features => VggOutput::Avg,
                    _ => VggOutput::Conv,
                },
            ),
        }
    }

    /// Outputs for `items` (key, image path), in input order. Cached rows are
    /// reused; new ones are added to the cache as they come (every few units
    /// and on the way out, interrupted or not), so an interrupted run resumes
    /// where it stopped.
    ///
    /// Each core takes a unit of up to `batch` images, decodes them and runs
    /// them through the network on its own, then takes the next: no core
    /// waits for another between batches (a barrier per batch, decode
    /// overlapped with the forward pass, left a third of the time idle).
    pub fn extract(
        &self,
        items: &[(String, PathBuf)],
        batch: usize,
        cache: Option<&Path>,
        on_error: OnError,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Extracted> {
        let mut known = RowCache::open(cache, &self.signature(), self.width())?;
        let cached = items.iter().filter(|(k, _)| known.contains(k)).count();
        let todo: Vec<&(String, PathBuf)> =
            items.iter().filter(|(k, _)| !known.contains(k)).collect();
        let mut failures: Vec<(String, String)> = Vec::new();
        let mut done = cached;
        progress(done, items.len());
        // Small jobs still spread over every core.
        let per_unit = batch
            .max(1)
            .min(todo.len().div_ceil(rayon::current_num_threads()).max(1));
        let units: Vec<&[&(String, PathBuf)]> = todo.chunks(per_unit).collect();
        compute_units(
            &units,
            |unit| self.run_unit(unit),
            &mut known,
            cache,
            |unit, known| {
                done += unit.keys.len() + unit.failures.len();
                failures.extend(unit.failures);
                for (key, row) in unit.keys.into_iter().zip(unit.rows.rows()) {
                    known.insert(key, row.to_vec());
                }
                progress(done, items.len());
            },
        )?;
        let keys: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
        let names: Vec<String> = items.iter().map(|(k, _)| k.clone()).collect();
        let matrix = known.matrix(&keys, &names, on_error == OnError::Zero)?;
        Ok(Extracted {
            matrix,
            failures,
            cached,
        })
    }

    /// Decodes a unit's images and runs them through the network, all on
    /// the calling thread's core.
    fn run_unit(&self, unit: &[&(String, PathBuf)]) -> Result<Unit> {
        let mut inputs = Vec::with_capacity(unit.len());
        let mut keys = Vec::with_capacity(unit.len());
        let mut failures = Vec::new();
        for (key, path) in unit.iter().map(|item| (&item.0, &item.1)) {
            match preprocess::load(path, self.resize, self.normalize) {
                Ok(x) => {
                    inputs.push(x);
                    keys.push(key.clone());
                }
                Err(e) => failures.push((path.to_string_lossy().into_owned(), e.to_string())),
            }
        }
        let rows = if inputs.is_empty() {
            Array2::zeros((0, self.width()))
        } else {
            crate::nn::gemm::serial(|| self.forward_batch(&inputs))?
        };
        Ok(Unit {
            keys,
            rows,
            failures,
        })
    }
}
