//! A fine-tuned text classifier: the tuned sentence encoder and its head.
//! Saved as a sentence-transformers folder (the base folder's files, the
//! tuned `model.safetensors`) plus `classifier.safetensors` (the head in
//! torch's `nn.Linear` layout, the label names and the history), so that
//! sentence-transformers and `text::encoder` read its encoder part and
//! `text::load_classifier` the whole.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use safetensors::{Dtype, SafeTensors};

use super::FineTuneHistory;
use super::params::{NamedTensors, Params, safetensors_bytes};
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::text::encoder::folder::fingerprint;
use crate::text::encoder::handle::Encoder;
use crate::text::encoder::{EncoderOptions, Folder, SentenceEncoder, Target};

const HEAD_FILE: &str = "classifier.safetensors";
const KIND: &str = "genrelab-text-classifier-1";

/// A tuned encoder with a sigmoid head per label.
#[derive(Clone)]
pub struct TextClassifier {
    pub encoder: Encoder,
    /// labels × hidden, as torch's `nn.Linear.weight`.
    pub head_weight: Arc<Vec<f32>>,
    pub head_bias: Arc<Vec<f32>>,
    pub names: Vec<String>,
    pub history: Option<Arc<FineTuneHistory>>,
    /// The tuned BERT in `BertModel`'s names, for `save`.
    bert: Arc<NamedTensors>,
}

impl TextClassifier {
    /// The classifier of trained `params` on `base`'s folder.
    pub fn new(
        base: &Encoder,
        params: Params,
        names: Vec<String>,
        history: Option<FineTuneHistory>,
        max_length: usize,
    ) -> Result<TextClassifier> {
        let bert = params.bert_tensors();
        let head = params.head_tensors();
        let folder = Folder::read(&base.encoder.folder)?;
        let encoder = tuned_encoder(&base.encoder.folder, folder, &bert, max_length, base.batch)?;
        Ok(TextClassifier {
            encoder,
            head_weight: Arc::new(head[0].2.clone()),
            head_bias: Arc::new(head[1].2.clone()),
            names,
            history: history.map(Arc::new),
            bert: Arc::new(bert),
        })
    }

    /// P(label | text) for each text (rows named by `ids` when given).
    pub fn predict_proba(&self, texts: &[&str], ids: Option<Vec<String>>) -> Result<Matrix> {
        let enc = &self.encoder.encoder;
        let mut bar = crate::progress::Progress::new("classify", texts.len(), "texts");
        let pooled = enc.encode_rows(texts, None, self.encoder.batch, None, false, |done, _| {
            bar.update(done, "")
        })?;
        let x = pooled.matrix.values();
        let (labels, hidden) = (self.names.len(), x.ncols());
        let w = ndarray::ArrayView2::from_shape((labels, hidden), &self.head_weight)
            .map_err(|e| Error::invalid(format!("internal: head: {e}")))?;
        let mut z = x.dot(&w.t());
        for mut row in z.rows_mut() {
            for (v, b) in row.iter_mut().zip(self.head_bias.iter()) {
                *v = 1.0 / (1.0 + (-(*v + b)).exp());
            }
        }
        Matrix::new(z).with_names(ids, Some(self.names.clone()))
    }

    /// Writes the classifier to the folder `out` (made if needed): the base
    /// folder's files with the tuned weights, and the head.
    pub fn save(&self, out: &Path) -> Result<()> {
        let base = &self.encoder.encoder.folder;
        if out.exists() && std::fs::canonicalize(out).ok() == std::fs::canonicalize(base).ok() {
            return Err(Error::file(
                out,
                "this is the base model's folder; save the tuned model to a folder of its own",
            ));
        }
        let folder = Folder::read(base)?;
        let weights_rel = folder
            .weights
            .strip_prefix(base)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| PathBuf::from("model.safetensors"));
        copy_tree(base, out, &[weights_rel.as_path(), Path::new(HEAD_FILE)])?;
        let bytes = safetensors_bytes(
            &self.bert,
            Some(HashMap::from([("format".into(), "pt".into())])),
        )?;
        crate::io_util::write_bytes_atomic(&out.join(&weights_rel), &bytes)?;
        let head = vec![
            (
                "weight".to_string(),
                vec![
                    self.names.len(),
                    self.head_weight.len() / self.names.len().max(1),
                ],
                self.head_weight.to_vec(),
            ),
            (
                "bias".to_string(),
                vec![self.names.len()],
                self.head_bias.to_vec(),
            ),
        ];
        let meta = HashMap::from([
            ("format".to_string(), KIND.to_string()),
            (
                "labels".to_string(),
                serde_json::to_string(&self.names).unwrap_or_default(),
            ),
            (
                "history".to_string(),
                serde_json::to_string(&self.history.as_deref()).unwrap_or_default(),
            ),
            (
                "max_length".to_string(),
                self.encoder.encoder.max_length.to_string(),
            ),
        ]);
        crate::io_util::write_bytes_atomic(
            &out.join(HEAD_FILE),
            &safetensors_bytes(&head, Some(meta))?,
        )
    }

    /// A classifier saved with [`TextClassifier::save`].
    pub fn load(path: &Path, batch: usize) -> Result<TextClassifier> {
        let head_path = path.join(HEAD_FILE);
        if !head_path.is_file() {
            return Err(Error::file(
                path,
                format!(
                    "the folder has no {HEAD_FILE}: a sentence-transformers folder, but not a classifier that TextClassifier.save wrote (text::encoder reads it as an encoder)"
                ),
            ));
        }
        let bytes = std::fs::read(&head_path).map_err(|e| Error::io(&head_path, e))?;
        crate::matrix::io::check_safetensors_size(&head_path, &bytes)?;
        let (_, meta) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::file(&head_path, format!("not a safetensors file: {e}")))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(KIND) {
            return Err(Error::file(&head_path, "not a genrelab classifier head"));
        }
        let names: Vec<String> = meta
            .get("labels")
            .and_then(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| Error::file(&head_path, "no label names in its metadata"))?;
        let history: Option<FineTuneHistory> = meta
            .get("history")
            .and_then(|h| serde_json::from_str(h).ok())
            .flatten();
        let max_length = meta.get("max_length").and_then(|m| m.parse().ok());
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::file(&head_path, format!("not a safetensors file: {e}")))?;
        let floats = |name: &str| -> Result<Vec<f32>> {
            let t = st
                .tensor(name)
                .map_err(|_| Error::file(&head_path, format!("no tensor '{name}'")))?;
            if t.dtype() != Dtype::F32 {
                return Err(Error::file(
                    &head_path,
                    format!("tensor '{name}' is not F32"),
                ));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let (w, b) = (floats("weight")?, floats("bias")?);
        let encoder = SentenceEncoder::open(
            path,
            &EncoderOptions {
                max_length,
                ..EncoderOptions::default()
            },
        )?;
        let hidden = encoder.dim();
        if b.len() != names.len() || w.len() != names.len() * hidden {
            return Err(Error::file(
                &head_path,
                format!(
                    "the head is {} × {}, the encoder {hidden} wide with {} labels",
                    b.len(),
                    w.len() / b.len().max(1),
                    names.len()
                ),
            ));
        }
        let folder = Folder::read(path)?;
        let bert = Params::read(&folder.weights, &folder.config, 0, 0)?.bert_tensors();
        Ok(TextClassifier {
            encoder: Encoder {
                encoder: Rc::new(encoder),
                batch,
            },
            head_weight: Arc::new(w),
            head_bias: Arc::new(b),
            names,
            history: history.map(Arc::new),
            bert: Arc::new(bert),
        })
    }
}

/// The encoder of `path`'s folder with the tuned `bert` weights.
fn tuned_encoder(
    path: &Path,
    folder: Folder,
    bert: &[(String, Vec<usize>, Vec<f32>)],
    max_length: usize,
    batch: usize,
) -> Result<Encoder> {
    let bytes: Vec<u8> = bert
        .iter()
        .flat_map(|(_, _, d)| d.iter().flat_map(|v| v.to_le_bytes()))
        .collect();
    let print = format!("tuned-{}", fingerprint(&[&bytes]));
    let encoder = SentenceEncoder::with_weights(
        path,
        folder,
        bert,
        print,
        &EncoderOptions {
            max_length: Some(max_length),
            target: Some(Target::Cpu),
            ..EncoderOptions::default()
        },
    )?;
    Ok(Encoder {
        encoder: Rc::new(encoder),
        batch,
    })
}

/// Copies the files under `from` to `to` (folders made as needed), all
/// but those at `skip` (relative paths).
fn copy_tree(from: &Path, to: &Path, skip: &[&Path]) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| Error::io(from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let name = entry.file_name();
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            let inner: Vec<PathBuf> = skip
                .iter()
                .filter_map(|s| s.strip_prefix(&name).ok().map(Path::to_path_buf))
                .collect();
            let inner: Vec<&Path> = inner.iter().map(PathBuf::as_path).collect();
            copy_tree(&src, &dst, &inner)?;
        } else if !skip.iter().any(|s| *s == Path::new(&name)) && name != "pytorch_model.bin" {
            std::fs::copy(&src, &dst).map_err(|e| Error::io(&dst, e))?;
        }
    }
    Ok(())
}

impl std::fmt::Display for TextClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let trained = self.history.as_ref().map_or(String::new(), |h| {
            format!("; trained {} epochs, best {}", h.epochs.len(), h.best_epoch)
        });
        write!(
            f,
            "TextClassifier({} genres on {}{trained})",
            self.names.len(),
            self.encoder.encoder.describe()
        )
    }
}
