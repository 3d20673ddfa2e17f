//! A fine-tuned MobileNetV2 and its genre classifier: predictions through
//! the folded inference network (batch norms folded as for the published
//! weights), the tuned features through a `Backbone`, and a `.safetensors`
//! file in torchvision's names, layouts and dtypes, which
//! `torchvision.models.mobilenet_v2(num_classes=…).load_state_dict` accepts
//! as it is (via `safetensors.torch.load_file`).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::History;
use super::net::Network;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::vision::backbone::{Backbone, OnError, Output};
use crate::vision::handle::{BackboneRef, ExtractOptions, Images};
use crate::vision::mobilenet::MobileNetV2;
use crate::vision::pth::{Tensor, TensorData};

const FORMAT: &str = "genrelab-image-classifier-1";

/// A tuned poster classifier as scripts hold it.
#[derive(Clone)]
pub struct ImageClassifier {
    /// The tuned network with its classifier (output: logits).
    logits: Rc<Backbone>,
    /// torchvision's state dict, in file order.
    state: Rc<Vec<Tensor>>,
    pub names: Vec<String>,
    pub history: Option<Rc<History>>,
    /// Where the weights came from (the base checkpoint, or the file loaded).
    source: PathBuf,
}

impl ImageClassifier {
    pub fn new(
        net: Network,
        source: &Path,
        names: Vec<String>,
        history: Option<History>,
    ) -> Result<ImageClassifier> {
        let state = net
            .state_dict()
            .into_iter()
            .map(|(name, shape, data)| Tensor { name, shape, data })
            .collect();
        ImageClassifier::from_state(state, source, names, history)
    }

    fn from_state(
        state: Vec<Tensor>,
        source: &Path,
        names: Vec<String>,
        history: Option<History>,
    ) -> Result<ImageClassifier> {
        let folded = MobileNetV2::from_tensors(state.clone())?;
        if folded.classes() != names.len() {
            return Err(Error::file(
                source,
                format!(
                    "the classifier has {} outputs for {} genres",
                    folded.classes(),
                    names.len()
                ),
            ));
        }
        let tag = fingerprint(&state);
        Ok(ImageClassifier {
            logits: Rc::new(Backbone::mobilenet(folded, source, tag, Output::Logits)),
            state: Rc::new(state),
            names,
            history: history.map(Rc::new),
            source: source.to_path_buf(),
        })
    }

    /// P(genre | poster) for each image (columns named by genre; rows by
    /// movie id for a `Movies`). Unreadable posters are left out, each
    /// named in a warning (the row names say which remain).
    pub fn predict_proba(&self, images: &Images) -> Result<Matrix> {
        let o = ExtractOptions {
            batch: 8,
            cache: None,
            on_error: OnError::Skip,
        };
        let logits = BackboneRef(self.logits.clone()).extract(images, &o)?;
        let rows = logits.row_names().map(<[String]>::to_vec);
        let p = logits.values().mapv(|z| 1.0 / (1.0 + (-z).exp()));
        Matrix::new(p).with_names(rows, Some(self.names.clone()))
    }

    /// The tuned network as a feature extractor (1,280 pooled features).
    pub fn backbone(&self) -> Result<BackboneRef> {
        let folded = MobileNetV2::from_tensors(self.state.to_vec())?;
        Ok(BackboneRef(Rc::new(Backbone::mobilenet(
            folded,
            &self.source,
            fingerprint(&self.state),
            Output::Features,
        ))))
    }

    /// Writes the state dict (torchvision's names, f32 weights, i64
    /// `num_batches_tracked`) with the genres and the history in the
    /// metadata.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io_util::extension(path, &["safetensors"])?;
        let bytes: Vec<Vec<u8>> = self
            .state
            .iter()
            .map(|t| match &t.data {
                TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                TensorData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            })
            .collect();
        let views = self
            .state
            .iter()
            .zip(&bytes)
            .map(|(t, b)| {
                let dtype = match t.data {
                    TensorData::F32(_) => Dtype::F32,
                    TensorData::I64(_) => Dtype::I64,
                };
                TensorView::new(dtype, t.shape.clone(), b)
                    .map(|v| (t.name.clone(), v))
                    .map_err(|e| {
                        Error::file(path, format!("cannot write tensor '{}': {e}", t.name))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let meta = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("architecture".to_string(), "mobilenet_v2".to_string()),
            (
                "genres".to_string(),
                serde_json::to_string(&self.names).unwrap_or_default(),
            ),
            (
                "history".to_string(),
                serde_json::to_string(&self.history.as_deref()).unwrap_or_default(),
            ),
        ]);
        let out = safetensors::serialize(views, Some(meta))
            .map_err(|e| Error::file(path, format!("cannot write: {e}")))?;
        crate::io_util::write_bytes_atomic(path, &out)
    }

    /// Reads a classifier written by `save`.
    pub fn load(path: &Path) -> Result<ImageClassifier> {
        crate::io_util::extension(path, &["safetensors"])?;
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        crate::matrix::io::check_safetensors_size(path, &bytes)?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::file(path, format!("not a safetensors file: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(FORMAT) {
            let what = crate::persist::Saved::describe(&meta).map_or_else(
                || "not a genrelab image classifier".to_string(),
                |w| format!("this is {w}"),
            );
            return Err(Error::file(
                path,
                format!(
                    "{what}; vision::load_classifier reads the files ImageClassifier.save writes"
                ),
            ));
        }
        let names: Vec<String> = meta
            .get("genres")
            .and_then(|g| serde_json::from_str(g).ok())
            .ok_or_else(|| Error::file(path, "the genre names are unreadable"))?;
        let history: Option<History> = meta
            .get("history")
            .and_then(|h| serde_json::from_str(h).ok())
            .flatten();
        let state = crate::vision::checkpoint::read_safetensors(path)?;
        ImageClassifier::from_state(state, path, names, history).map_err(|e| match e {
            Error::Invalid(m) => Error::file(path, m),
            other => other,
        })
    }
}

/// What tells this network's cached feature rows from any other's.
fn fingerprint(state: &[Tensor]) -> String {
    let mut bytes = Vec::new();
    for t in state {
        if let TensorData::F32(v) = &t.data {
            bytes.extend(v.iter().flat_map(|x| x.to_le_bytes()));
        }
    }
    format!("tuned {}", crate::text::encoder::fnv128(&bytes))
}

impl fmt::Display for ImageClassifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ImageClassifier (mobilenet_v2, {} genres",
            self.names.len()
        )?;
        if let Some(h) = &self.history {
            write!(
                f,
                "; {} epochs, best {}{}",
                h.epochs.len(),
                h.best_epoch,
                if h.stopped_early {
                    ", stopped early"
                } else {
                    ""
                }
            )?;
        }
        write!(f, ")")
    }
}
