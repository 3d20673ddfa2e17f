//! A pretrained network as a feature extractor over image files: batches
//! decoded in parallel, a resumable cache, unreadable images reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use ndarray::Array2;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt;
use crate::matrix::{Matrix, io};
use crate::vision::mobilenet::MobileNetV2;
use crate::vision::preprocess::{self, Normalize, Resize};
use crate::vision::pth;

/// What the network hands back per image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Output {
    /// The pooled features (1,280 for MobileNetV2).
    Features,
    /// The ImageNet logits (1,000).
    Logits,
}

pub struct Backbone {
    pub name: String,
    net: MobileNetV2,
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

/// The result of an extraction.
pub struct Extracted {
    pub matrix: Matrix,
    /// (path, why) of every image that could not be used.
    pub failures: Vec<(String, String)>,
    /// Rows taken from the cache rather than computed.
    pub cached: usize,
}

fn candle(e: candle_core::Error) -> Error {
    Error::invalid(format!("backbone: {e}"))
}

impl Backbone {
    /// torchvision's MobileNetV2 from a checkpoint (`mobilenet_v2-b0353104.pth`).
    pub fn mobilenet_v2(weights: &Path, output: Output) -> Result<Backbone> {
        let tensors = pth::read_legacy(weights)?;
        let net =
            MobileNetV2::from_tensors(tensors).map_err(|e| Error::file(weights, e.to_string()))?;
        if output == Output::Logits && !net.has_classifier() {
            return Err(Error::file(
                weights,
                "these weights have no classifier; use output \"features\"",
            ));
        }
        Ok(Backbone {
            name: "mobilenet_v2".into(),
            net,
            output,
            resize: Resize::ShorterSideCrop,
            normalize: Normalize::Torch,
        })
    }

    pub fn width(&self) -> usize {
        match self.output {
            Output::Features => crate::vision::mobilenet::FEATURES,
            Output::Logits => 1000,
        }
    }

    /// What identifies this extractor's outputs in a cache.
    fn signature(&self) -> String {
        format!(
            "{}/{:?}/{:?}/{:?}",
            self.name, self.output, self.resize, self.normalize
        )
    }

    /// Network outputs for preprocessed inputs (each 3 × 224 × 224).
    pub fn forward(&self, inputs: &[Vec<f32>]) -> Result<Array2<f32>> {
        let n = inputs.len();
        let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
        let x = Tensor::from_vec(flat, (n, 3, 224, 224), &Device::Cpu).map_err(candle)?;
        let (features, logits) = self.net.forward(&x)?;
        let out = match self.output {
            Output::Features => features,
            Output::Logits => logits.ok_or_else(|| Error::invalid("backbone: no classifier"))?,
        };
        let rows = out.to_vec2::<f32>().map_err(candle)?;
        let width = rows.first().map_or(0, Vec::len);
        Array2::from_shape_vec((n, width), rows.into_iter().flatten().collect())
            .map_err(|e| Error::invalid(e.to_string()))
    }

    /// Outputs for `items` (key, image path), in input order. Cached rows are
    /// reused; new ones are added to the cache every few batches, so an
    /// interrupted run resumes where it stopped.
    pub fn extract(
        &self,
        items: &[(String, PathBuf)],
        batch: usize,
        cache: Option<&Path>,
        on_error: OnError,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Extracted> {
        let batch = batch.max(1);
        let mut known: HashMap<String, Vec<f32>> = match cache {
            Some(path) if path.exists() => self.read_cache(path)?,
            _ => HashMap::new(),
        };
        let cached = items.iter().filter(|(k, _)| known.contains_key(k)).count();
        let todo: Vec<&(String, PathBuf)> = items
            .iter()
            .filter(|(k, _)| !known.contains_key(k))
            .collect();
        let mut failures: Vec<(String, String)> = Vec::new();
        let mut done = cached;
        progress(done, items.len());
        for (b, chunk) in todo.chunks(batch).enumerate() {
            interrupt::check()?;
            let decoded: Vec<Result<Vec<f32>>> = chunk
                .par_iter()
                .map(|(_, path)| preprocess::load(path, self.resize, self.normalize))
                .collect();
            let mut inputs = Vec::new();
            let mut keys = Vec::new();
            for ((key, path), d) in chunk.iter().map(|item| (&item.0, &item.1)).zip(decoded) {
                match d {
                    Ok(x) => {
                        inputs.push(x);
                        keys.push(key.clone());
                    }
                    Err(e) => failures.push((path.to_string_lossy().into_owned(), e.to_string())),
                }
            }
            if !inputs.is_empty() {
                let out = self.forward(&inputs)?;
                for (key, row) in keys.into_iter().zip(out.rows()) {
                    known.insert(key, row.to_vec());
                }
            }
            done += chunk.len();
            progress(done, items.len());
            if let Some(path) = cache
                && (b % 8 == 7 || done == items.len())
            {
                self.write_cache(path, &known)?;
            }
        }
        let width = self.width();
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (key, _) in items {
            match (known.get(key), on_error) {
                (Some(row), _) => values.extend_from_slice(row),
                (None, OnError::Zero) => values.extend(std::iter::repeat_n(0.0, width)),
                (None, OnError::Skip) => continue,
            }
            names.push(key.clone());
        }
        let matrix = Matrix::new(
            Array2::from_shape_vec((names.len(), width), values)
                .map_err(|e| Error::invalid(e.to_string()))?,
        )
        .with_names(Some(names), None)?;
        Ok(Extracted {
            matrix,
            failures,
            cached,
        })
    }

    fn read_cache(&self, path: &Path) -> Result<HashMap<String, Vec<f32>>> {
        let (loaded, meta) = io::load_with_meta(path)?;
        let io::Loaded::Dense(m) = loaded else {
            return Err(Error::file(path, "not a feature cache (sparse matrix)"));
        };
        let signature = meta.get("extractor").cloned().unwrap_or_default();
        if signature != self.signature() {
            return Err(Error::file(
                path,
                format!(
                    "this cache holds '{signature}' outputs, not '{}'; use another cache file",
                    self.signature()
                ),
            ));
        }
        let names = m
            .row_names()
            .ok_or_else(|| Error::file(path, "the cache has no row keys"))?;
        Ok(names
            .iter()
            .cloned()
            .zip(m.values().rows().into_iter().map(|r| r.to_vec()))
            .collect())
    }

    fn write_cache(&self, path: &Path, known: &HashMap<String, Vec<f32>>) -> Result<()> {
        let mut keys: Vec<&String> = known.keys().collect();
        keys.sort();
        let width = self.width();
        let values: Vec<f32> = keys
            .iter()
            .flat_map(|k| known[*k].iter().copied())
            .collect();
        let m = Matrix::new(
            Array2::from_shape_vec((keys.len(), width), values)
                .map_err(|e| Error::invalid(e.to_string()))?,
        )
        .with_names(Some(keys.into_iter().cloned().collect()), None)?;
        io::save_dense_with_meta(
            &m,
            path,
            HashMap::from([("extractor".to_string(), self.signature())]),
        )
    }
}
