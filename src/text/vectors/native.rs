//! genrelab's own word-vector file: one `.safetensors` with the matrix
//! (`vectors`, f32, words × dim) and the words (`words`, u8: UTF-8, one per
//! line), readable from Python with `safetensors.numpy.load_file`. Loading it
//! is a copy of the bytes, no parsing of numbers.

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::WordVectors;
use crate::error::{Error, Result};
use crate::io_util::write_bytes_atomic;

const KIND: &str = "genrelab word vectors";

pub fn save(wv: &WordVectors, path: &Path) -> Result<()> {
    if path.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        return Err(Error::file(
            path,
            "word vectors are saved as .safetensors (read back with text::word_vectors)",
        ));
    }
    if let Some(w) = wv.words().iter().find(|w| w.contains('\n')) {
        return Err(Error::invalid(format!(
            "save: the word {w:?} holds a line break, which this format cannot store"
        )));
    }
    let words = wv.words().join("\n").into_bytes();
    let values: Vec<u8> = wv
        .values()
        .as_standard_layout()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let bad = |e: safetensors::SafeTensorError| Error::file(path, format!("cannot write: {e}"));
    let vectors = TensorView::new(Dtype::F32, vec![wv.len(), wv.dim()], &values).map_err(bad)?;
    let words_view = TensorView::new(Dtype::U8, vec![words.len()], &words).map_err(bad)?;
    let meta = HashMap::from([("format".to_string(), KIND.to_string())]);
    let bytes = safetensors::serialize([("vectors", vectors), ("words", words_view)], Some(meta))
        .map_err(bad)?;
    write_bytes_atomic(path, &bytes)
}

pub fn load(path: &Path) -> Result<WordVectors> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    crate::matrix::io::check_safetensors_size(path, &bytes)?;
    let tensors = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::file(path, format!("not a word-vectors .safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::file(path, format!("not a word-vectors .safetensors file: {e}")))?;
    let info = header.metadata().clone().unwrap_or_default();
    let get = |name: &str, dtype: Dtype| {
        let t = tensors.tensor(name).map_err(|_| {
            let what = match crate::persist::Saved::describe(&info) {
                Some(what) => format!("this is {what}"),
                None => "not a word-vectors file written by genrelab".into(),
            };
            Error::file(path, format!("no tensor '{name}': {what}"))
        })?;
        if t.dtype() != dtype {
            return Err(Error::file(
                path,
                format!("tensor '{name}' is {:?}, expected {dtype:?}", t.dtype()),
            ));
        }
        Ok(t)
    };
    let vectors = get("vectors", Dtype::F32)?;
    let words = get("words", Dtype::U8)?;
    let [n, dim] = vectors.shape() else {
        return Err(Error::file(path, "tensor 'vectors' is not a matrix"));
    };
    let text = std::str::from_utf8(words.data())
        .map_err(|e| Error::file(path, format!("the words are not UTF-8: {e}")))?;
    let list: Vec<String> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').map(str::to_string).collect()
    };
    if list.len() != *n {
        return Err(Error::file(
            path,
            format!("{} words for {n} vectors", list.len()),
        ));
    }
    let values: Vec<f32> = vectors
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        let (row, col) = (k / (*dim).max(1), k % (*dim).max(1));
        return Err(Error::file(
            path,
            format!(
                "word {} ('{}'): value {} is {}; word vectors must be finite",
                row + 1,
                list[row],
                col + 1,
                values[k]
            ),
        ));
    }
    let values = Array2::from_shape_vec((*n, *dim), values)
        .map_err(|e| Error::file(path, format!("tensor 'vectors': {e}")))?;
    WordVectors::from_rows(list, values).map_err(|e| Error::file(path, e.to_string()))
}
