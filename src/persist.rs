//! Fitted models on disk: one `.safetensors` file per model, f64 tensors for
//! the numbers and JSON in the metadata for everything else (kind, format
//! version, parameters, label names, vocabulary). PyTorch and safetensors
//! users can open the tensors directly.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use ndarray::Array2;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::io_util::{extension, write_atomic};

const FORMAT: &str = "genrelab-model-1";

/// A model's named tensors (row-major f64) and metadata.
#[derive(Default)]
pub struct Saved {
    pub meta: serde_json::Map<String, Value>,
    pub tensors: Vec<(String, Vec<usize>, Vec<f64>)>,
}

impl Saved {
    pub fn new(kind: &str) -> Saved {
        let mut saved = Saved::default();
        saved.meta.insert("kind".into(), kind.into());
        saved
    }

    pub fn set(&mut self, key: &str, value: impl serde::Serialize) -> &mut Self {
        self.meta.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    pub fn matrix(&mut self, name: &str, m: &Array2<f64>) -> &mut Self {
        let data = m.as_standard_layout().iter().copied().collect();
        self.tensors
            .push((name.into(), vec![m.nrows(), m.ncols()], data));
        self
    }

    pub fn vector(&mut self, name: &str, v: &[f64]) -> &mut Self {
        self.tensors.push((name.into(), vec![v.len()], v.to_vec()));
        self
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        extension(path, &["safetensors"])?;
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .tensors
            .iter()
            .map(|(n, shape, data)| {
                (
                    n.clone(),
                    shape.clone(),
                    data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                )
            })
            .collect();
        let mut views = Vec::new();
        for (name, shape, data) in &bytes {
            let view = TensorView::new(Dtype::F64, shape.clone(), data)
                .map_err(|e| Error::file(path, format!("cannot write tensor '{name}': {e}")))?;
            views.push((name.as_str(), view));
        }
        let meta = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            (
                "genrelab".to_string(),
                Value::Object(self.meta.clone()).to_string(),
            ),
        ]);
        let out = safetensors::serialize(views, Some(meta))
            .map_err(|e| Error::file(path, e.to_string()))?;
        write_atomic(path, |w| w.write_all(&out).map_err(|e| Error::io(path, e)))
    }

    /// What a genrelab file is, from its safetensors metadata, with the
    /// function that reads it: for the error of a loader given another kind.
    pub fn describe(meta: &HashMap<String, String>) -> Option<String> {
        let loader = |kind: &str| match kind {
            "svm" => "svm::load",
            "naive_bayes" => "nb::load",
            "logistic" => "linear::load",
            "mlp" | "gmu" => "nn::load",
            "vectorizer" | "tfidf" => "text::load",
            _ => "?",
        };
        match meta.get("format").map(String::as_str) {
            Some(FORMAT) => {
                let kind = meta
                    .get("genrelab")
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_string))?;
                Some(format!(
                    "a genrelab '{kind}' model (read it with {})",
                    loader(&kind)
                ))
            }
            Some("genrelab word vectors") => {
                Some("genrelab word vectors (read them with text::word_vectors)".into())
            }
            Some("csr") => Some("a sparse matrix (read it with data::load_matrix)".into()),
            _ => None,
        }
    }

    /// Reads a model file, checking that it holds a model of `kinds`.
    pub fn read(path: &Path, kinds: &[&str]) -> Result<Saved> {
        extension(path, &["safetensors"])?;
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        crate::matrix::io::check_safetensors_size(path, &bytes)?;
        let bad = |why: String| Error::file(path, why);
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
        let info = header.metadata().clone().unwrap_or_default();
        if info.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(bad(match Saved::describe(&info) {
                Some(what) => format!("this is {what}, not a model file"),
                None => "not a genrelab model file (no 'genrelab-model-1' format tag)".into(),
            }));
        }
        let meta: serde_json::Map<String, Value> = info
            .get("genrelab")
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| bad("the model metadata is missing or not JSON".into()))?;
        let kind = meta.get("kind").and_then(Value::as_str).unwrap_or("?");
        if !kinds.contains(&kind) {
            let what = Saved::describe(&info).unwrap_or_else(|| format!("a '{kind}' model"));
            return Err(bad(format!(
                "this is {what}, expected a {} model",
                kinds.join(" or ")
            )));
        }
        let tensors = SafeTensors::deserialize(&bytes)
            .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
        let mut out = Vec::new();
        for (name, view) in tensors.tensors() {
            if view.dtype() != Dtype::F64 {
                return Err(bad(format!(
                    "tensor '{name}' is {:?}, expected F64",
                    view.dtype()
                )));
            }
            let data = view
                .data()
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
            out.push((name, view.shape().to_vec(), data));
        }
        Ok(Saved { meta, tensors: out })
    }

    pub fn kind(&self) -> &str {
        self.meta.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    /// Whether the metadata has `key` (fields added in later versions).
    pub fn has(&self, key: &str) -> bool {
        self.meta.contains_key(key)
    }

    /// A metadata field, deserialized; `path` names the file in errors.
    pub fn get<T: serde::de::DeserializeOwned>(&self, path: &Path, key: &str) -> Result<T> {
        let value = self
            .meta
            .get(key)
            .ok_or_else(|| Error::file(path, format!("model metadata has no '{key}'")))?;
        serde_json::from_value(value.clone())
            .map_err(|e| Error::file(path, format!("model metadata '{key}': {e}")))
    }

    fn tensor(&self, path: &Path, name: &str) -> Result<(&[usize], &[f64])> {
        self.tensors
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, d)| (s.as_slice(), d.as_slice()))
            .ok_or_else(|| Error::file(path, format!("missing tensor '{name}'")))
    }

    pub fn get_matrix(
        &self,
        path: &Path,
        name: &str,
        rows: usize,
        cols: usize,
    ) -> Result<Array2<f64>> {
        let (shape, data) = self.tensor(path, name)?;
        if shape != [rows, cols] {
            return Err(Error::file(
                path,
                format!("tensor '{name}' has shape {shape:?}, expected [{rows}, {cols}]"),
            ));
        }
        Ok(Array2::from_shape_vec((rows, cols), data.to_vec()).expect("shape checked"))
    }

    pub fn get_vector(&self, path: &Path, name: &str, len: usize) -> Result<Vec<f64>> {
        let (shape, data) = self.tensor(path, name)?;
        if shape != [len] {
            return Err(Error::file(
                path,
                format!("tensor '{name}' has shape {shape:?}, expected [{len}]"),
            ));
        }
        Ok(data.to_vec())
    }
}
