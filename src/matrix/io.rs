//! Saving and loading matrices as `.safetensors` (PyTorch / safetensors
//! users), `.npy` (numpy) and `.csv` (pandas). Sparse matrices go to
//! safetensors as their three CSR arrays, the names scipy uses, so that
//! `scipy.sparse.csr_matrix((data, indices, indptr), shape)` rebuilds them.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use ndarray::Array2;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::{Csr, Matrix, Sparse};
use crate::error::{Error, Result};
use crate::io_util::{extension, write_atomic};

const FORMATS: &[&str] = &["safetensors", "npy", "csv"];
/// Densifying more than this many cells for .npy/.csv is refused (1 GiB of f32).
const MAX_DENSE_CELLS: usize = 1 << 28;

/// What [`load`] found in a file: a dense or a sparse matrix.
pub type Loaded = super::Features;

fn tensor_error(path: &Path, err: impl std::fmt::Display) -> Error {
    Error::file(path, format!("not a valid safetensors file: {err}"))
}

/// Says plainly when `bytes` cannot be a whole safetensors file: too short
/// for its header, or shorter than its header promises (a copy cut short),
/// instead of the parser's detail. Every safetensors reader calls it first.
pub fn check_safetensors_size(path: &Path, bytes: &[u8]) -> Result<()> {
    let size = bytes.len();
    let not_format = |why: String| {
        Error::file(
            path,
            format!("not a safetensors file ({size} bytes): {why}"),
        )
    };
    let Some(head) = bytes.get(..8) else {
        return Err(not_format(
            "a safetensors file starts with an 8-byte header length".into(),
        ));
    };
    let header_len = u64::from_le_bytes(head.try_into().unwrap_or_default());
    if header_len > 100 << 20 {
        return Err(not_format(format!(
            "its first 8 bytes give a header of {header_len} bytes"
        )));
    }
    let header_end = 8 + header_len as usize;
    if size < header_end {
        return Err(Error::file(
            path,
            format!("truncated: {size} bytes, but its header alone promises {header_end}"),
        ));
    }
    let Ok(header) = serde_json::from_slice::<serde_json::Value>(&bytes[8..header_end]) else {
        return Err(not_format("its header is not JSON".into()));
    };
    let data_end = header
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, t)| t.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .unwrap_or(0) as usize;
    if size < header_end + data_end {
        return Err(Error::file(
            path,
            format!(
                "truncated: {size} bytes, but its header promises {}",
                header_end + data_end
            ),
        ));
    }
    Ok(())
}

fn le_bytes<T: Copy>(values: &[T], to_bytes: impl Fn(T) -> Vec<u8>) -> Vec<u8> {
    values.iter().flat_map(|&v| to_bytes(v)).collect()
}

pub fn save_dense(matrix: &Matrix, path: &Path) -> Result<()> {
    save_dense_with_meta(matrix, path, HashMap::new())
}

/// As [`save_dense`], with extra string metadata in a `.safetensors` file
/// (ignored by the other formats).
pub fn save_dense_with_meta(
    matrix: &Matrix,
    path: &Path,
    extra: HashMap<String, String>,
) -> Result<()> {
    match extension(path, FORMATS)? {
        "npy" => write_atomic(path, |out| {
            matrix
                .values()
                .write_npy(out)
                .map_err(|e| Error::file(path, format!("cannot write .npy: {e}")))
        }),
        "safetensors" => {
            let data = le_bytes(
                matrix
                    .values()
                    .as_standard_layout()
                    .as_slice()
                    .unwrap_or(&[]),
                |v: f32| v.to_le_bytes().to_vec(),
            );
            let shape = vec![matrix.rows(), matrix.cols()];
            let view =
                TensorView::new(Dtype::F32, shape, &data).map_err(|e| tensor_error(path, e))?;
            let mut meta = extra;
            if let Some(names) = matrix.row_names() {
                meta.insert(
                    "row_names".into(),
                    serde_json::to_string(names).unwrap_or_default(),
                );
            }
            if let Some(names) = matrix.col_names() {
                meta.insert(
                    "col_names".into(),
                    serde_json::to_string(names).unwrap_or_default(),
                );
            }
            let bytes =
                safetensors::serialize([("data", view)], (!meta.is_empty()).then_some(meta))
                    .map_err(|e| tensor_error(path, e))?;
            write_atomic(path, |out| {
                out.write_all(&bytes).map_err(|e| Error::io(path, e))
            })
        }
        _ => write_csv(
            path,
            matrix.values(),
            matrix.row_names(),
            matrix.col_names(),
        ),
    }
}

pub fn save_sparse(sparse: &Sparse, path: &Path) -> Result<()> {
    let csr = sparse.csr();
    match extension(path, FORMATS)? {
        "safetensors" => {
            let indptr = le_bytes(csr.indptr(), |v: usize| (v as i64).to_le_bytes().to_vec());
            let indices = le_bytes(csr.indices(), |v: u32| (v as i32).to_le_bytes().to_vec());
            let data = le_bytes(csr.data(), |v: f32| v.to_le_bytes().to_vec());
            let nnz = csr.nnz();
            let views = [
                ("data", TensorView::new(Dtype::F32, vec![nnz], &data)),
                ("indices", TensorView::new(Dtype::I32, vec![nnz], &indices)),
                (
                    "indptr",
                    TensorView::new(Dtype::I64, vec![csr.rows() + 1], &indptr),
                ),
            ];
            let mut tensors = Vec::new();
            for (name, view) in views {
                tensors.push((name, view.map_err(|e| tensor_error(path, e))?));
            }
            let meta = HashMap::from([
                ("format".to_string(), "csr".to_string()),
                (
                    "shape".to_string(),
                    format!("[{}, {}]", csr.rows(), csr.cols()),
                ),
            ]);
            let bytes =
                safetensors::serialize(tensors, Some(meta)).map_err(|e| tensor_error(path, e))?;
            write_atomic(path, |out| {
                out.write_all(&bytes).map_err(|e| Error::io(path, e))
            })
        }
        other => {
            if csr.rows().saturating_mul(csr.cols()) > MAX_DENSE_CELLS {
                return Err(Error::file(
                    path,
                    format!(
                        "a {} × {} sparse matrix is too large to write densely as .{other}; use .safetensors",
                        csr.rows(),
                        csr.cols()
                    ),
                ));
            }
            save_dense(&Matrix::new(csr.to_dense()), path)
        }
    }
}

fn write_csv(
    path: &Path,
    values: &Array2<f32>,
    row_names: Option<&[String]>,
    col_names: Option<&[String]>,
) -> Result<()> {
    write_atomic(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        let fail = |e: csv::Error| Error::file(path, format!("cannot write CSV: {e}"));
        if let Some(cols) = col_names {
            let mut header: Vec<&str> = Vec::new();
            if row_names.is_some() {
                header.push("");
            }
            header.extend(cols.iter().map(String::as_str));
            w.write_record(&header).map_err(fail)?;
        }
        for (i, row) in values.rows().into_iter().enumerate() {
            let mut record: Vec<String> = Vec::with_capacity(row.len() + 1);
            if let Some(names) = row_names {
                record.push(names[i].clone());
            }
            record.extend(row.iter().map(|v| v.to_string()));
            w.write_record(&record).map_err(fail)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

/// Reads a matrix saved by genrelab, numpy, safetensors or a numeric CSV.
pub fn load(path: &Path) -> Result<Loaded> {
    load_with_meta(path).map(|(loaded, _)| loaded)
}

/// As [`load`], with the string metadata of a `.safetensors` file.
pub fn load_with_meta(path: &Path) -> Result<(Loaded, HashMap<String, String>)> {
    let ext = extension(path, FORMATS)?;
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    match ext {
        "npy" => load_npy(path, &bytes).map(|m| (Loaded::Dense(Matrix::new(m)), HashMap::new())),
        "safetensors" => {
            let meta = SafeTensors::read_metadata(&bytes)
                .map(|(_, h)| h.metadata().clone().unwrap_or_default())
                .unwrap_or_default();
            load_safetensors(path, &bytes).map(|l| (l, meta))
        }
        _ => load_csv(path, &bytes).map(|m| (Loaded::Dense(m), HashMap::new())),
    }
}

/// Says plainly when `bytes` cannot be a whole `.npy` file: not the format
/// (no magic), or fewer data bytes than its header's shape and dtype promise.
fn check_npy_size(path: &Path, bytes: &[u8]) -> Result<()> {
    let size = bytes.len();
    if !bytes.starts_with(b"\x93NUMPY") || size < 10 {
        return Err(Error::file(
            path,
            format!(
                "not a .npy file ({size} bytes): it does not start with numpy's magic \\x93NUMPY"
            ),
        ));
    }
    let (len_bytes, start) = if bytes[6] == 1 { (2, 8) } else { (4, 8) };
    let Some(len) = bytes.get(start..start + len_bytes) else {
        return Err(Error::file(
            path,
            format!("truncated: {size} bytes, cut inside the .npy header"),
        ));
    };
    let header_len = len
        .iter()
        .rev()
        .fold(0usize, |acc, b| acc * 256 + *b as usize);
    let data_start = start + len_bytes + header_len;
    let Some(header) = bytes.get(start + len_bytes..data_start) else {
        return Err(Error::file(
            path,
            format!("truncated: {size} bytes, but its header alone promises {data_start}"),
        ));
    };
    let header = String::from_utf8_lossy(header);
    // {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
    let itemsize = header
        .split("'descr':")
        .nth(1)
        .and_then(|d| d.split('\'').nth(1))
        .and_then(|d| {
            d.trim_start_matches(['<', '>', '|', '='])
                .get(1..)?
                .parse::<usize>()
                .ok()
        });
    let cells = header.split("'shape':").nth(1).and_then(|s| {
        let inner = s.split('(').nth(1)?.split(')').next()?;
        inner
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .try_fold(1usize, |acc, d| d.parse::<usize>().ok().map(|d| acc * d))
    });
    if let (Some(item), Some(cells)) = (itemsize, cells) {
        let expected = data_start + item * cells;
        if size < expected {
            return Err(Error::file(
                path,
                format!("truncated: {size} bytes, but its header promises {expected}"),
            ));
        }
    }
    Ok(())
}

fn load_npy(path: &Path, bytes: &[u8]) -> Result<Array2<f32>> {
    check_npy_size(path, bytes)?;
    fn widen<T: ndarray_npy::ReadableElement + Copy>(
        bytes: &[u8],
        to_f32: impl Fn(T) -> f32,
    ) -> Option<Array2<f32>> {
        Array2::<T>::read_npy(bytes).ok().map(|a| a.mapv(to_f32))
    }
    if let Ok(a) = Array2::<f32>::read_npy(bytes) {
        return Ok(a);
    }
    widen(bytes, |v: f64| v as f32)
        .or_else(|| widen(bytes, |v: i64| v as f32))
        .or_else(|| widen(bytes, |v: i32| v as f32))
        .or_else(|| widen(bytes, |v: u8| v as f32))
        .or_else(|| widen(bytes, |v: bool| v as u8 as f32))
        .ok_or_else(|| match Array2::<f32>::read_npy(bytes) {
            Err(e) => Error::file(
                path,
                format!("cannot read as a 2-d numeric .npy array: {e}"),
            ),
            Ok(_) => unreachable!("read succeeded above"),
        })
}

fn floats(path: &Path, view: &TensorView<'_>, name: &str) -> Result<Vec<f32>> {
    let d = view.data();
    Ok(match view.dtype() {
        Dtype::F32 => d
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        Dtype::F64 => d
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        Dtype::I64 => d
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        Dtype::I32 => d
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        Dtype::U8 => d.iter().map(|&v| v as f32).collect(),
        other => {
            return Err(Error::file(
                path,
                format!("tensor '{name}' has dtype {other:?}; expected a float or integer type"),
            ));
        }
    })
}

fn integers(path: &Path, view: &TensorView<'_>, name: &str) -> Result<Vec<i64>> {
    let d = view.data();
    Ok(match view.dtype() {
        Dtype::I64 => d
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        Dtype::I32 => d
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i64)
            .collect(),
        other => {
            return Err(Error::file(
                path,
                format!("tensor '{name}' has dtype {other:?}; expected I32 or I64"),
            ));
        }
    })
}

fn load_safetensors(path: &Path, bytes: &[u8]) -> Result<Loaded> {
    check_safetensors_size(path, bytes)?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| tensor_error(path, e))?;
    let info = meta.metadata().clone().unwrap_or_default();
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| tensor_error(path, e))?;
    let get = |name: &str| {
        tensors.tensor(name).map_err(|_| {
            let what = crate::persist::Saved::describe(&info)
                .map(|w| format!(": this is {w}"))
                .unwrap_or_default();
            Error::file(
                path,
                format!(
                    "no tensor '{name}'; tensors present: {}{what}",
                    tensors.names().join(", ")
                ),
            )
        })
    };
    if info.get("format").map(String::as_str) == Some("csr") {
        let shape: Vec<usize> = info
            .get("shape")
            .and_then(|s| serde_json::from_str(s).ok())
            .filter(|s: &Vec<usize>| s.len() == 2)
            .ok_or_else(|| Error::file(path, "CSR metadata 'shape' must be [rows, cols]"))?;
        let as_usize = |v: Vec<i64>, name: &str| -> Result<Vec<usize>> {
            v.into_iter()
                .map(|x| {
                    usize::try_from(x)
                        .map_err(|_| Error::file(path, format!("negative value in '{name}'")))
                })
                .collect()
        };
        let indptr = as_usize(integers(path, &get("indptr")?, "indptr")?, "indptr")?;
        let indices = as_usize(integers(path, &get("indices")?, "indices")?, "indices")?
            .into_iter()
            .map(|c| c as u32)
            .collect();
        let data = floats(path, &get("data")?, "data")?;
        let csr = Csr::new(shape[0], shape[1], indptr, indices, data)
            .map_err(|e| Error::file(path, e.to_string()))?;
        return Ok(Loaded::Sparse(Sparse::new(csr)));
    }
    if let Some(what) = crate::persist::Saved::describe(&info) {
        return Err(Error::file(path, format!("this is {what}, not a matrix")));
    }
    let names = tensors.names();
    let name = if names.contains(&"data") {
        "data".to_string()
    } else if names.len() == 1 {
        names[0].to_string()
    } else {
        return Err(Error::file(
            path,
            format!(
                "holds {} tensors ({}); expected one, or one named 'data'",
                names.len(),
                names.join(", ")
            ),
        ));
    };
    let view = get(&name)?;
    let shape = match view.shape() {
        [r, c] => (*r, *c),
        [n] => (1, *n),
        other => {
            return Err(Error::file(
                path,
                format!("tensor '{name}' has shape {other:?}; expected 2 dimensions"),
            ));
        }
    };
    let values = Array2::from_shape_vec(shape, floats(path, &view, &name)?)
        .map_err(|e| Error::file(path, e.to_string()))?;
    let names_of = |key: &str| {
        info.get(key)
            .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
    };
    Matrix::new(values)
        .with_names(names_of("row_names"), names_of("col_names"))
        .map(Loaded::Dense)
        .map_err(|e| Error::file(path, e.to_string()))
}

fn load_csv(path: &Path, bytes: &[u8]) -> Result<Matrix> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut records = Vec::new();
    for record in reader.records() {
        records.push(record.map_err(|e| {
            Error::parse(
                path,
                e.position().map_or(1, |p| p.line()),
                format!("malformed CSV: {e}"),
            )
        })?);
    }
    if records.is_empty() {
        return Err(Error::file(path, "the file is empty"));
    }
    let numeric = |s: &str| s.trim().parse::<f32>().is_ok();
    let has_header = records[0].iter().any(|s| !numeric(s));
    let col_names: Option<Vec<String>> =
        has_header.then(|| records[0].iter().map(str::to_string).collect());
    let body = &records[has_header as usize..];
    // Row names: pandas' index column (empty header cell), or a non-numeric
    // first column in a file without a header.
    let has_row_names = match &col_names {
        Some(names) => names.first().is_some_and(String::is_empty),
        None => body.iter().any(|r| r.get(0).is_some_and(|s| !numeric(s))),
    };
    let skip = has_row_names as usize;
    let cols = body.first().map_or(0, |r| r.len()).saturating_sub(skip);
    let mut values = Vec::with_capacity(body.len() * cols);
    let mut row_names = Vec::new();
    for (i, record) in body.iter().enumerate() {
        let line = (i + 1 + has_header as usize) as u64;
        if has_row_names {
            row_names.push(record.get(0).unwrap_or_default().to_string());
        }
        for (j, cell) in record.iter().enumerate().skip(skip) {
            let v = cell.trim().parse::<f32>().map_err(|_| {
                Error::parse(
                    path,
                    line,
                    format!("column {}: '{cell}' is not a number", j + 1),
                )
            })?;
            values.push(v);
        }
    }
    let values = Array2::from_shape_vec((body.len(), cols), values)
        .map_err(|e| Error::file(path, e.to_string()))?;
    let col_names = col_names.map(|c| c.into_iter().skip(skip).collect());
    Matrix::new(values)
        .with_names(has_row_names.then_some(row_names), col_names)
        .map_err(|e| Error::file(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn round_trip(ext: &str) -> Matrix {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("m.{ext}"));
        let m = Matrix::new(array![[1.5f32, -2.0], [0.0, 3.25]])
            .with_names(None, Some(vec!["a".into(), "b".into()]))
            .unwrap();
        save_dense(&m, &path).unwrap();
        match load(&path).unwrap() {
            Loaded::Dense(d) => d,
            Loaded::Sparse(_) => panic!("dense expected"),
        }
    }

    #[test]
    fn dense_formats_round_trip() {
        for ext in ["npy", "safetensors", "csv"] {
            let back = round_trip(ext);
            assert_eq!(back.values(), &array![[1.5f32, -2.0], [0.0, 3.25]], "{ext}");
        }
        assert_eq!(round_trip("csv").col_names().unwrap(), ["a", "b"]);
        assert_eq!(round_trip("safetensors").col_names().unwrap(), ["a", "b"]);
    }

    #[test]
    fn sparse_round_trips_through_safetensors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.safetensors");
        let s = Sparse::new(Csr::from_dense(&array![
            [0.0f32, 2.0, 0.0],
            [1.0, 0.0, 3.0]
        ]));
        save_sparse(&s, &path).unwrap();
        match load(&path).unwrap() {
            Loaded::Sparse(back) => assert_eq!(back.csr(), s.csr()),
            Loaded::Dense(_) => panic!("sparse expected"),
        }
    }

    #[test]
    fn bad_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("m.txt");
        let msg = save_dense(&Matrix::new(Array2::zeros((1, 1))), &txt)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown file extension '.txt'"), "{msg}");
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "a,b\n1,2\n3,x\n").unwrap();
        let msg = load(&bad).err().unwrap().to_string();
        assert!(
            msg.contains("bad.csv:3: column 2: 'x' is not a number"),
            "{msg}"
        );
        let trunc = dir.path().join("t.safetensors");
        std::fs::write(&trunc, b"\x10\x00\x00\x00").unwrap();
        assert!(
            load(&trunc)
                .err()
                .unwrap()
                .to_string()
                .contains("not a safetensors file (4 bytes)")
        );
    }
}
