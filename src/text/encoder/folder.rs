//! A sentence-transformers folder: `modules.json` (Transformer → Pooling →
//! optional Normalize), the transformer's `config.json`, `model.safetensors`,
//! `tokenizer.json` and `sentence_bert_config.json`, and the pooling
//! module's `config.json`. Read and checked here, so that a missing file,
//! an unsupported module or a bad tensor is named before any text is seen.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::matrix::io::check_safetensors_size;
use crate::text::encoder::bert::{Bert, BertConfig};
use crate::text::wordpiece::WordPiece;

/// How token vectors become one sentence vector (sentence-transformers'
/// `Pooling` modes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pooling {
    /// The mean over the text's tokens (padding left out).
    Mean,
    /// The `[CLS]` token's vector.
    Cls,
    /// The element-wise maximum over the text's tokens.
    Max,
    /// The sum over the tokens divided by the square root of their count.
    MeanSqrtLen,
}

crate::choices!(impl Pooling {
    Mean = "mean",
    Cls = "cls",
    Max = "max",
    MeanSqrtLen = "mean_sqrt_len",
});

impl Pooling {
    pub fn parse(name: &str) -> Result<Pooling> {
        Pooling::from_name(name).ok_or_else(|| {
            Error::invalid(format!(
                "unknown pooling '{name}'; use one of {}",
                Pooling::NAMES.join(", ")
            ))
        })
    }

    /// Sentence vectors (b, h) from token vectors (b, s, h) and the mask
    /// (b, s), as sentence-transformers computes them.
    pub fn pool(&self, hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let m = mask.unsqueeze(2)?;
        let counts = || mask.sum_keepdim(1);
        match self {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1),
            Pooling::Mean => hidden
                .broadcast_mul(&m)?
                .sum(1)?
                .broadcast_div(&counts()?.clamp(1e-9, f64::MAX)?),
            Pooling::MeanSqrtLen => hidden
                .broadcast_mul(&m)?
                .sum(1)?
                .broadcast_div(&counts()?.sqrt()?),
            // Padding at -1e9, as sentence-transformers sets it, loses every max.
            Pooling::Max => hidden
                .broadcast_mul(&m)?
                .broadcast_add(&((m - 1.0)? * 1e9)?)?
                .max(1),
        }
    }
}

impl Pooling {
    /// Sentence vectors from packed token vectors (the rows of each
    /// sequence in turn, `lengths` of them, `width` wide): the CPU
    /// forward's counterpart of [`Pooling::pool`].
    pub fn pool_packed(&self, hidden: &[f32], lengths: &[usize], width: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(lengths.len() * width);
        let mut start = 0;
        for &len in lengths {
            let rows = &hidden[start * width..(start + len) * width];
            start += len;
            let mut acc: Vec<f32> = match self {
                Pooling::Cls => rows[..width].to_vec(),
                Pooling::Max => rows
                    .chunks_exact(width)
                    .fold(vec![f32::MIN; width], |mut m, r| {
                        m.iter_mut().zip(r).for_each(|(m, v)| *m = m.max(*v));
                        m
                    }),
                Pooling::Mean | Pooling::MeanSqrtLen => {
                    rows.chunks_exact(width).fold(vec![0.0; width], |mut a, r| {
                        a.iter_mut().zip(r).for_each(|(a, v)| *a += v);
                        a
                    })
                }
            };
            let divisor = match self {
                Pooling::Mean => len.max(1) as f32,
                Pooling::MeanSqrtLen => (len as f32).sqrt(),
                _ => 1.0,
            };
            acc.iter_mut().for_each(|v| *v /= divisor);
            out.extend(acc);
        }
        out
    }
}

/// The checked contents of a sentence-transformers folder.
pub struct Folder {
    pub config: BertConfig,
    pub weights: PathBuf,
    pub tokenizer: WordPiece,
    pub max_seq_length: usize,
    pub pooling: Pooling,
    pub normalize: bool,
    /// The configuration and tokenizer files' contents, for the fingerprint.
    small_files: Vec<u8>,
}

const LAYOUT: &str = "a sentence-transformers folder holds modules.json, config.json, model.safetensors, tokenizer.json, sentence_bert_config.json and 1_Pooling/config.json";

fn need(folder: &Path, file: &Path) -> Result<PathBuf> {
    if file.is_file() {
        Ok(file.to_path_buf())
    } else {
        let name = file.strip_prefix(folder).unwrap_or(file);
        Err(Error::file(
            folder,
            format!("the folder has no {} ({LAYOUT})", name.display()),
        ))
    }
}

fn read_json(path: &Path, small: &mut Vec<u8>) -> Result<Value> {
    let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let value = serde_json::from_slice(&text).map_err(|e| {
        Error::parse(
            path,
            e.line() as u64,
            format!("not JSON (column {}): {e}", e.column()),
        )
    })?;
    small.extend_from_slice(&text);
    Ok(value)
}

impl Folder {
    pub fn read(path: &Path) -> Result<Folder> {
        if !path.is_dir() {
            return Err(Error::file(
                path,
                if path.exists() {
                    format!("not a folder; {LAYOUT}")
                } else if path.ends_with("all-MiniLM-L6-v2") {
                    format!(
                        "no such folder: all-MiniLM-L6-v2 is sentence-transformers' model at \
                         https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0); run \
                         `genrelab fetch all-MiniLM-L6-v2` (into the cache at {}) and write \
                         text::encoder(\"all-MiniLM-L6-v2\"), or download its files into this folder",
                        crate::fetch::cache_dir().display()
                    )
                } else {
                    "no such folder".to_string()
                },
            ));
        }
        let mut small = Vec::new();
        let modules_path = need(path, &path.join("modules.json"))?;
        let modules = read_json(&modules_path, &mut small)?;
        let modules = modules.as_array().ok_or_else(|| {
            Error::file(&modules_path, "expected an array of modules (type, path)")
        })?;
        let mut transformer = None;
        let mut pooling_dir = None;
        let mut normalize = false;
        for (i, m) in modules.iter().enumerate() {
            let kind = m["type"].as_str().unwrap_or("");
            let dir = path.join(m["path"].as_str().unwrap_or(""));
            match kind.rsplit('.').next().unwrap_or("") {
                "Transformer" => transformer = Some(dir),
                "Pooling" => pooling_dir = Some(dir),
                "Normalize" => normalize = true,
                _ => {
                    return Err(Error::file(
                        &modules_path,
                        format!(
                            "module {i} is '{kind}'; supported: Transformer, Pooling, Normalize"
                        ),
                    ));
                }
            }
        }
        let (Some(transformer), Some(pooling_dir)) = (transformer, pooling_dir) else {
            return Err(Error::file(
                &modules_path,
                "expected a Transformer module and a Pooling module",
            ));
        };
        let config_path = need(path, &transformer.join("config.json"))?;
        let config_json = read_json(&config_path, &mut small)?;
        let config: BertConfig = serde_json::from_value(config_json)
            .map_err(|e| Error::file(&config_path, format!("not a BERT config: {e}")))?;
        if let Some(why) = config.unsupported() {
            return Err(Error::file(&config_path, why));
        }
        let weights = transformer.join("model.safetensors");
        if !weights.is_file() && transformer.join("pytorch_model.bin").is_file() {
            return Err(Error::file(
                path,
                "the folder has pytorch_model.bin but no model.safetensors; genrelab reads safetensors (convert with safetensors.torch.save_file)",
            ));
        }
        let weights = need(path, &weights)?;
        let tokenizer_path = need(path, &transformer.join("tokenizer.json"))?;
        let tokenizer_bytes =
            std::fs::read(&tokenizer_path).map_err(|e| Error::io(&tokenizer_path, e))?;
        let tokenizer = WordPiece::from_bytes(&tokenizer_path, &tokenizer_bytes)?;
        if tokenizer.largest_id() >= config.vocab_size {
            return Err(Error::file(
                &tokenizer_path,
                format!(
                    "its vocabulary has ids up to {}, but config.json's vocab_size is {}: not this model's tokenizer",
                    tokenizer.largest_id(),
                    config.vocab_size
                ),
            ));
        }
        small.extend_from_slice(&tokenizer_bytes);
        let st_path = need(path, &transformer.join("sentence_bert_config.json"))?;
        let st = read_json(&st_path, &mut small)?;
        let max_seq_length = st["max_seq_length"]
            .as_u64()
            .map(|n| n as usize)
            .unwrap_or(config.max_position_embeddings);
        let pool_path = need(path, &pooling_dir.join("config.json"))?;
        let pool = read_json(&pool_path, &mut small)?;
        let pooling = pooling_mode(&pool, &pool_path)?;
        if let Some(d) = pool["word_embedding_dimension"].as_u64()
            && d as usize != config.hidden_size
        {
            return Err(Error::file(
                &pool_path,
                format!(
                    "word_embedding_dimension is {d}, but config.json's hidden_size is {}",
                    config.hidden_size
                ),
            ));
        }
        Ok(Folder {
            config,
            weights,
            tokenizer,
            max_seq_length,
            pooling,
            normalize,
            small_files: small,
        })
    }

    /// The BERT on `device`, f32, and a stable fingerprint of the model
    /// files (the weights whole, the configuration and tokenizer files) for
    /// caches. A truncated file, or a tensor that is missing or of another
    /// shape than config.json implies, is named.
    pub fn load(&self, device: &Device) -> Result<(Bert, String)> {
        let bytes = std::fs::read(&self.weights).map_err(|e| Error::io(&self.weights, e))?;
        check_safetensors_size(&self.weights, &bytes)?;
        let mut h = WordHash::default();
        for part in [&self.small_files, &bytes] {
            h.write(part);
        }
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device)
            .map_err(|e| tensor_error(&self.weights, e))?;
        let bert = Bert::load(vb, &self.config).map_err(|e| tensor_error(&self.weights, e))?;
        Ok((bert, h.finish()))
    }
}

fn pooling_mode(pool: &Value, path: &Path) -> Result<Pooling> {
    let modes: Vec<(&str, Pooling)> = [
        ("pooling_mode_mean_tokens", Pooling::Mean),
        ("pooling_mode_cls_token", Pooling::Cls),
        ("pooling_mode_max_tokens", Pooling::Max),
        ("pooling_mode_mean_sqrt_len_tokens", Pooling::MeanSqrtLen),
    ]
    .into_iter()
    .filter(|(key, _)| pool[*key].as_bool() == Some(true))
    .collect();
    let unsupported: Vec<&str> = ["pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"]
        .into_iter()
        .filter(|key| pool[*key].as_bool() == Some(true))
        .collect();
    match (modes.as_slice(), unsupported.as_slice()) {
        ([(_, mode)], []) => Ok(*mode),
        (_, [key, ..]) => Err(Error::file(path, format!("{key} is not supported"))),
        ([], []) => Err(Error::file(path, "no pooling mode is set")),
        (several, []) => Err(Error::file(
            path,
            format!(
                "combines {} pooling modes ({}); genrelab pools one way",
                several.len(),
                several
                    .iter()
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// A candle error while loading weights, said in terms of the file.
fn tensor_error(path: &Path, e: candle_core::Error) -> Error {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => tensor_error(path, *inner),
        candle_core::Error::CannotFindTensor { path: name } => Error::file(
            path,
            format!("no tensor '{name}' (config.json's BERT needs it)"),
        ),
        candle_core::Error::UnexpectedShape { msg, expected, got } => {
            let name = msg.strip_prefix("shape mismatch for ").unwrap_or(&msg);
            Error::file(
                path,
                format!(
                    "tensor '{name}' has shape {:?}, config.json implies {:?}",
                    got.dims(),
                    expected.dims()
                ),
            )
        }
        other => Error::file(path, other.to_string()),
    }
}

/// A stable, fast fingerprint of `parts` (the weights of a tuned model).
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h = WordHash::default();
    for p in parts {
        h.write(p);
    }
    h.finish()
}

/// Two 64-bit multiply-xorshift lanes over 8-byte words: a stable, fast
/// fingerprint (not cryptographic) of ~90 MB of weights in ~10 ms.
struct WordHash {
    a: u64,
    b: u64,
    len: u64,
}

impl Default for WordHash {
    fn default() -> WordHash {
        WordHash {
            a: 0x9E37_79B9_7F4A_7C15,
            b: 0xC2B2_AE3D_27D4_EB4F,
            len: 0,
        }
    }
}

impl WordHash {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.word(u64::from_le_bytes(tail));
        self.len = self.len.wrapping_add(bytes.len() as u64);
        self.word(self.len);
    }

    fn word(&mut self, w: u64) {
        self.a = (self.a ^ w)
            .wrapping_mul(0xFF51_AFD7_ED55_8CCD)
            .rotate_left(29);
        self.b = (self.b.rotate_left(17) ^ w).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    }

    fn finish(&self) -> String {
        format!("{:016x}{:016x}", self.a, self.b)
    }
}
