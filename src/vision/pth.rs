//! PyTorch checkpoints as torchvision publishes them, read in pure Rust:
//! the legacy (pre-1.6, non-zip) `torch.save` format of
//! `mobilenet_v2-b0353104.pth` and `vgg16-397923af.pth` — magic number,
//! protocol, system info, the state-dict pickle, the storage keys, then each
//! storage's element count and raw little-endian data. `checkpoint.rs`
//! adds the zip format of PyTorch ≥ 1.6 and `.safetensors`; `read` below
//! takes any of the three.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::vision::pickle::{self, Value};

/// The magic number torch writes first (0x1950a86a20f9469cfc6c, LONG1 bytes).
const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// The numbers of one tensor, widened for use.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// A named tensor of a checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

impl Tensor {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The values as f32 (integers converted).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            TensorData::F32(v) => v.clone(),
            TensorData::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dtype {
    F32,
    F64,
    F16,
    I64,
    I32,
    U8,
}

impl Dtype {
    fn from_storage(name: &str) -> Option<Dtype> {
        Some(match name {
            "FloatStorage" => Dtype::F32,
            "DoubleStorage" => Dtype::F64,
            "HalfStorage" => Dtype::F16,
            "LongStorage" => Dtype::I64,
            "IntStorage" => Dtype::I32,
            "ByteStorage" => Dtype::U8,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F16 => 2,
            Dtype::U8 => 1,
        }
    }
}

/// One tensor as the pickle describes it, before its storage is read.
pub(crate) struct Pending {
    name: String,
    key: String,
    dtype: Dtype,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

fn describe(path: &Path, name: &str, value: &Value) -> Result<Pending> {
    let bad = |why: String| Error::file(path, format!("tensor '{name}': {why}"));
    let Value::Call(callable, args) = value else {
        return Err(bad("not a tensor rebuild".into()));
    };
    match callable.as_ref() {
        Value::Global(m, f)
            if m == "torch._utils" && (f == "_rebuild_tensor_v2" || f == "_rebuild_tensor") => {}
        Value::Global(m, f) => return Err(bad(format!("refusing to call {m}.{f}"))),
        _ => return Err(bad("not a tensor rebuild".into())),
    }
    let [storage, offset, size, stride, ..] = args.as_slice() else {
        return Err(bad("tensor rebuild with too few arguments".into()));
    };
    // ('storage', torch.FloatStorage, key, location, numel)
    let Value::Persistent(pid) = storage else {
        return Err(bad("no storage reference".into()));
    };
    let fields = pid
        .items()
        .ok_or_else(|| bad("malformed storage reference".into()))?;
    let (Some(Value::Global(_, storage_type)), Some(key)) =
        (fields.get(1), fields.get(2).and_then(Value::as_str))
    else {
        return Err(bad("malformed storage reference".into()));
    };
    let dtype = Dtype::from_storage(storage_type)
        .ok_or_else(|| bad(format!("unsupported storage {storage_type}")))?;
    let ints = |v: &Value, what: &str| -> Result<Vec<usize>> {
        v.items()
            .ok_or_else(|| bad(format!("{what} is not a tuple")))?
            .iter()
            .map(|x| {
                x.as_int()
                    .and_then(|i| usize::try_from(i).ok())
                    .ok_or_else(|| bad(format!("{what} holds a non-integer")))
            })
            .collect()
    };
    Ok(Pending {
        name: name.to_string(),
        key: key.to_string(),
        dtype,
        offset: offset
            .as_int()
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| bad("bad storage offset".into()))?,
        shape: ints(size, "size")?,
        stride: ints(stride, "stride")?,
    })
}

/// Every tensor a state-dict pickle describes (name → rebuild call), in order.
pub(crate) fn state_dict(path: &Path, state: &Value) -> Result<Vec<Pending>> {
    entries_of(state)
        .ok_or_else(|| Error::file(path, "the checkpoint is not a state dict (name -> tensor)"))?
        .iter()
        .map(|(k, v)| {
            let name = k
                .as_str()
                .ok_or_else(|| Error::file(path, "a state-dict key is not a string"))?;
            describe(path, name, v)
        })
        .collect()
}

/// The (name, value) entries of the state dict, unwrapping OrderedDict.
fn entries_of(value: &Value) -> Option<&[(Value, Value)]> {
    match value {
        Value::Dict(d) => Some(d),
        Value::Call(_, args) => args.iter().find_map(entries_of),
        Value::Build(obj, _) => entries_of(obj),
        _ => None,
    }
}

pub(crate) fn half_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exp = u32::from((bits >> 10) & 0x1f);
    let frac = u32::from(bits & 0x3ff);
    let value = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => return if sign != 0 { -1.0 } else { 1.0 } * (f as f32) * 2f32.powi(-24),
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 112) << 23) | (f << 13),
    };
    f32::from_bits(value)
}

/// Reads every tensor of a legacy `torch.save` state dict.
pub fn read_legacy(path: &Path) -> Result<Vec<Tensor>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let in_file = |e: Error| Error::file(path, e.to_string());
    let mut pos = 0;
    match pickle::load(&bytes, &mut pos).map_err(in_file)? {
        Value::Bytes(b) if b == MAGIC => {}
        _ => {
            return Err(Error::file(
                path,
                "not a legacy PyTorch checkpoint (no torch magic number); zip-format .pth and .safetensors are read elsewhere",
            ));
        }
    }
    let _protocol = pickle::load(&bytes, &mut pos).map_err(in_file)?;
    let _sys_info = pickle::load(&bytes, &mut pos).map_err(in_file)?;
    let state = pickle::load(&bytes, &mut pos).map_err(in_file)?;
    let keys = pickle::load(&bytes, &mut pos).map_err(in_file)?;
    let pending = state_dict(path, &state)?;
    // Storages follow in the order of `keys`: element count, then the data.
    let mut storages: HashMap<String, &[u8]> = HashMap::new();
    let dtype_of: HashMap<&str, Dtype> =
        pending.iter().map(|p| (p.key.as_str(), p.dtype)).collect();
    for key in keys
        .items()
        .ok_or_else(|| Error::file(path, "malformed storage key list"))?
    {
        let key = key
            .as_str()
            .ok_or_else(|| Error::file(path, "a storage key is not a string"))?;
        let count_bytes = bytes.get(pos..pos + 8).ok_or_else(|| {
            Error::file(
                path,
                format!("storage '{key}': the file ends early (truncated?)"),
            )
        })?;
        let count = i64::from_le_bytes(count_bytes.try_into().expect("8 bytes")) as usize;
        pos += 8;
        let size = dtype_of.get(key).map_or(4, |d| d.size());
        let len = count.checked_mul(size).filter(|&l| pos + l <= bytes.len()).ok_or_else(|| {
            Error::file(path, format!("storage '{key}' needs {count} elements but the file ends early (truncated?)"))
        })?;
        storages.insert(key.to_string(), &bytes[pos..pos + len]);
        pos += len;
    }
    materialize(path, pending, &storages)
}

pub use crate::vision::checkpoint::{read, read_safetensors, read_zip};

/// Builds each described tensor from its storage bytes (`storages` by key).
pub(crate) fn materialize(
    path: &Path,
    pending: Vec<Pending>,
    storages: &HashMap<String, &[u8]>,
) -> Result<Vec<Tensor>> {
    pending
        .into_iter()
        .map(|p| {
            let storage = *storages.get(&p.key).ok_or_else(|| {
                Error::file(
                    path,
                    format!("tensor '{}': storage '{}' is missing", p.name, p.key),
                )
            })?;
            let count = storage.len() / p.dtype.size();
            let numel: usize = p.shape.iter().product();
            // Row-major strides are the rule; anything else is gathered element by element.
            let mut contiguous_strides = vec![1usize; p.shape.len()];
            for d in (0..p.shape.len().saturating_sub(1)).rev() {
                contiguous_strides[d] = contiguous_strides[d + 1] * p.shape[d + 1];
            }
            let index: Box<dyn Iterator<Item = usize>> =
                if p.stride == contiguous_strides || numel <= 1 {
                    Box::new(p.offset..p.offset + numel)
                } else {
                    let (shape, stride, offset) = (p.shape.clone(), p.stride.clone(), p.offset);
                    Box::new((0..numel).map(move |i| {
                        let (mut rest, mut at) = (i, offset);
                        for d in (0..shape.len()).rev() {
                            at += rest % shape[d] * stride[d];
                            rest /= shape[d];
                        }
                        at
                    }))
                };
            let last = p.offset
                + p.shape
                    .iter()
                    .zip(&p.stride)
                    .map(|(&n, &s)| n.saturating_sub(1) * s)
                    .sum::<usize>();
            if numel > 0 && last >= count {
                return Err(Error::file(
                    path,
                    format!(
                        "tensor '{}' reaches past the end of its storage (truncated?)",
                        p.name
                    ),
                ));
            }
            let size = p.dtype.size();
            let at = |i: usize| &storage[i * size..(i + 1) * size];
            let data = match p.dtype {
                Dtype::F32 => TensorData::F32(
                    index
                        .map(|i| f32::from_le_bytes(at(i).try_into().unwrap()))
                        .collect(),
                ),
                Dtype::F64 => TensorData::F32(
                    index
                        .map(|i| f64::from_le_bytes(at(i).try_into().unwrap()) as f32)
                        .collect(),
                ),
                Dtype::F16 => TensorData::F32(
                    index
                        .map(|i| half_to_f32(u16::from_le_bytes(at(i).try_into().unwrap())))
                        .collect(),
                ),
                Dtype::I64 => TensorData::I64(
                    index
                        .map(|i| i64::from_le_bytes(at(i).try_into().unwrap()))
                        .collect(),
                ),
                Dtype::I32 => TensorData::I64(
                    index
                        .map(|i| i64::from(i32::from_le_bytes(at(i).try_into().unwrap())))
                        .collect(),
                ),
                Dtype::U8 => TensorData::I64(index.map(|i| i64::from(at(i)[0])).collect()),
            };
            Ok(Tensor {
                name: p.name,
                shape: p.shape,
                data,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats() {
        assert_eq!(half_to_f32(0x3c00), 1.0);
        assert_eq!(half_to_f32(0xc000), -2.0);
        assert_eq!(half_to_f32(0x0001), 2f32.powi(-24));
    }
}
