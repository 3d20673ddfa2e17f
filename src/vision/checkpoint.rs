//! The newer checkpoint formats: PyTorch's zip `torch.save` (≥ 1.6) and
//! `.safetensors`, plus `read`, which tells the three formats apart.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::vision::pickle;
use crate::vision::pth::{Tensor, TensorData, half_to_f32, materialize, read_legacy, state_dict};

/// Reads a checkpoint in any of the formats torchvision and Hugging Face
/// publish: legacy `torch.save`, the zip format of PyTorch ≥ 1.6, or
/// `.safetensors` — told apart by their first bytes.
pub fn read(path: &Path) -> Result<Vec<Tensor>> {
    let mut head = [0u8; 10];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        f.read(&mut head).map_err(|e| Error::io(path, e))?
    };
    if n >= 4 && head[..4] == *b"PK\x03\x04" {
        read_zip(path)
    } else if n >= 9 && head[8] == b'{' {
        read_safetensors(path)
    } else if n >= 2 && head[0] == 0x80 {
        read_legacy(path)
    } else {
        Err(Error::file(
            path,
            "not a PyTorch checkpoint (legacy or zip) or a safetensors file",
        ))
    }
}

/// The zip format: `<archive>/data.pkl` (the state-dict pickle) and one
/// stored (uncompressed) entry per storage, `<archive>/data/<key>`.
pub fn read_zip(path: &Path) -> Result<Vec<Tensor>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let entries =
        zip_entries(&bytes).map_err(|why| Error::file(path, format!("zip checkpoint: {why}")))?;
    let (pickle_name, pickle_bytes) = entries
        .iter()
        .find(|(name, _)| name.ends_with("/data.pkl") || name == "data.pkl")
        .ok_or_else(|| {
            Error::file(
                path,
                "zip checkpoint without data.pkl (not a torch.save file?)",
            )
        })?;
    let prefix = &pickle_name[..pickle_name.len() - "data.pkl".len()];
    let mut pos = 0;
    let state =
        pickle::load(pickle_bytes, &mut pos).map_err(|e| Error::file(path, e.to_string()))?;
    let pending = state_dict(path, &state)?;
    let storages: HashMap<String, &[u8]> = entries
        .iter()
        .filter_map(|(name, data)| {
            Some((
                name.strip_prefix(prefix)?
                    .strip_prefix("data/")?
                    .to_string(),
                *data,
            ))
        })
        .collect();
    materialize(path, pending, &storages)
}

/// (name, data) of every entry of a zip archive whose entries are stored
/// uncompressed, as `torch.save` writes them, read from the central directory.
fn zip_entries(bytes: &[u8]) -> std::result::Result<Vec<(String, &[u8])>, String> {
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let truncated = || "the file ends early (truncated?)".to_string();
    // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
    let search_from = bytes.len().saturating_sub(65_557);
    let eocd = (search_from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(truncated)?;
    let count = u16_at(eocd + 10).ok_or_else(truncated)?;
    let mut at = u32_at(eocd + 16).ok_or_else(truncated)?;
    if at == 0xffff_ffff {
        return Err("zip64 archives (over 4 GiB) are not supported".into());
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(at) != Some(0x0201_4b50) {
            return Err("malformed central directory".into());
        }
        let method = u16_at(at + 10).ok_or_else(truncated)?;
        let size = u32_at(at + 20).ok_or_else(truncated)?;
        let (name_len, extra_len, comment_len) = (
            u16_at(at + 28).ok_or_else(truncated)?,
            u16_at(at + 30).ok_or_else(truncated)?,
            u16_at(at + 32).ok_or_else(truncated)?,
        );
        let local = u32_at(at + 42).ok_or_else(truncated)?;
        let name = String::from_utf8_lossy(
            bytes
                .get(at + 46..at + 46 + name_len)
                .ok_or_else(truncated)?,
        )
        .into_owned();
        if method != 0 {
            return Err(format!(
                "entry '{name}' is compressed; torch.save stores entries uncompressed"
            ));
        }
        if u32_at(local) != Some(0x0403_4b50) {
            return Err(format!("entry '{name}': malformed local header"));
        }
        let start = local
            + 30
            + u16_at(local + 26).ok_or_else(truncated)?
            + u16_at(local + 28).ok_or_else(truncated)?;
        let data = bytes
            .get(start..start + size)
            .ok_or_else(|| format!("entry '{name}': the file ends early (truncated?)"))?;
        out.push((name, data));
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// Every tensor of a `.safetensors` file (f32, f16, bf16, f64, integer dtypes).
pub fn read_safetensors(path: &Path) -> Result<Vec<Tensor>> {
    use safetensors::{Dtype as St, SafeTensors};
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    crate::matrix::io::check_safetensors_size(path, &bytes)?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::file(path, format!("not a readable safetensors file: {e}")))?;
    let mut names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let t = st
                .tensor(&name)
                .map_err(|e| Error::file(path, e.to_string()))?;
            let raw = t.data();
            let data = match t.dtype() {
                St::F32 => TensorData::F32(
                    raw.chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                        .collect(),
                ),
                St::F64 => TensorData::F32(
                    raw.chunks_exact(8)
                        .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
                        .collect(),
                ),
                St::F16 => TensorData::F32(
                    raw.chunks_exact(2)
                        .map(|b| half_to_f32(u16::from_le_bytes([b[0], b[1]])))
                        .collect(),
                ),
                St::BF16 => TensorData::F32(
                    raw.chunks_exact(2)
                        .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
                        .collect(),
                ),
                St::I64 => TensorData::I64(
                    raw.chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                        .collect(),
                ),
                St::I32 => TensorData::I64(
                    raw.chunks_exact(4)
                        .map(|b| i64::from(i32::from_le_bytes(b.try_into().unwrap())))
                        .collect(),
                ),
                St::U8 => TensorData::I64(raw.iter().map(|&b| i64::from(b)).collect()),
                other => {
                    return Err(Error::file(
                        path,
                        format!("tensor '{name}': unsupported dtype {other:?}"),
                    ));
                }
            };
            Ok(Tensor {
                name,
                shape: t.shape().to_vec(),
                data,
            })
        })
        .collect()
}
