//! Sentence embeddings from a sentence-transformers folder (all-MiniLM-L6-v2
//! and its kin): the folder's WordPiece tokenizer, its BERT (our CPU forward,
//! `cpu.rs`, or candle's ops, `bert.rs`, on a GPU), its pooling and its
//! normalisation, giving what `SentenceTransformer(folder).encode(texts)`
//! gives (within 1e-6 in tests/encoder.rs). Texts are sorted by length into
//! batches; every core runs its own batches; rows come back in input order
//! and can be kept in a resumable cache keyed by text.

pub mod bert;
pub mod cpu;
pub mod folder;
pub mod handle;
pub(crate) mod kernels;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::{DType, Device};
use ndarray::Array2;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::matrix::row_cache::{RowCache, compute_units};
use crate::text::wordpiece::WordPiece;

pub use bert::{Bert, BertConfig};
use cpu::{CpuBert, Scratch};
pub use folder::{Folder, Pooling};

/// Where the model runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// The CPU forward (`cpu.rs`): packed batches, one per core.
    Cpu,
    /// candle's ops on the CPU: the reference the CPU forward is tested
    /// against, and what runs on a GPU.
    CandleCpu,
    /// candle's ops on the first CUDA GPU (a build with the `cuda` feature).
    Cuda,
}

enum Model {
    Cpu(CpuBert),
    Candle(Bert),
}

/// What `SentenceEncoder::open` may change from the folder's configuration.
#[derive(Clone, Debug, Default)]
pub struct EncoderOptions {
    /// Tokens per text, special tokens included (default: the folder's
    /// `max_seq_length`).
    pub max_length: Option<usize>,
    pub pooling: Option<Pooling>,
    pub normalize: Option<bool>,
    pub target: Option<Target>,
}

pub struct SentenceEncoder {
    pub folder: PathBuf,
    tokenizer: WordPiece,
    model: Model,
    /// Taken by each batch on the candle path.
    candle_lock: Mutex<()>,
    dim: usize,
    layers: usize,
    pub pooling: Pooling,
    pub normalize: bool,
    pub max_length: usize,
    pub target: Target,
    /// Identifies the model files, for caches.
    fingerprint: String,
}

/// The result of an encoding.
pub struct Encoded {
    /// One row per input text, in input order.
    pub matrix: Matrix,
    /// Rows taken from the cache rather than computed.
    pub cached: usize,
    /// Texts cut at `max_length` tokens.
    pub truncated: usize,
}

/// The device of `target`.
fn device(target: Target) -> Result<Device> {
    match target {
        Target::Cpu | Target::CandleCpu => Ok(Device::Cpu),
        Target::Cuda => Device::new_cuda(0).map_err(|e| match e {
            candle_core::Error::NotCompiledWithCudaSupport => Error::invalid(
                "text::encoder: device \"cuda\" needs a genrelab built with the cuda feature (cargo build --release --features cuda)",
            ),
            other => Error::invalid(format!("text::encoder: no CUDA device: {other}")),
        }),
    }
}

/// A stable 128-bit FNV-1a hash, hex: cache keys that do not change between
/// runs, builds or machines (std's hasher promises none of that).
pub fn fnv128(bytes: &[u8]) -> String {
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032x}")
}

impl SentenceEncoder {
    /// The model of a sentence-transformers folder. Errors name the missing
    /// file, the unreadable one, or the missing or mis-shaped tensor.
    pub fn open(path: &Path, options: &EncoderOptions) -> Result<SentenceEncoder> {
        let folder = Folder::read(path)?;
        let device = device(options.target.unwrap_or(Target::Cpu))?;
        let (bert, fingerprint) = folder.load(&device)?;
        SentenceEncoder::assemble(path, folder, bert, fingerprint, options)
    }

    /// The model of `path`'s folder with other weights (`BertModel`'s
    /// names and shapes): a fine-tuned encoder. `fingerprint` identifies
    /// the weights in caches.
    pub fn with_weights(
        path: &Path,
        folder: Folder,
        tensors: &[(String, Vec<usize>, Vec<f32>)],
        fingerprint: String,
        options: &EncoderOptions,
    ) -> Result<SentenceEncoder> {
        let device = device(options.target.unwrap_or(Target::Cpu))?;
        let map = tensors
            .iter()
            .map(|(name, shape, data)| {
                Ok((
                    name.clone(),
                    candle_core::Tensor::from_slice(data, shape.as_slice(), &device)?,
                ))
            })
            .collect::<candle_core::Result<std::collections::HashMap<_, _>>>()
            .map_err(|e| Error::invalid(format!("text::encoder: {e}")))?;
        let vb = candle_nn::VarBuilder::from_tensors(map, DType::F32, &device);
        let bert = Bert::load(vb, &folder.config)
            .map_err(|e| Error::invalid(format!("text::encoder: the tuned weights: {e}")))?;
        SentenceEncoder::assemble(path, folder, bert, fingerprint, options)
    }

    fn assemble(
        path: &Path,
        folder: Folder,
        bert: Bert,
        fingerprint: String,
        options: &EncoderOptions,
    ) -> Result<SentenceEncoder> {
        let max_length = options.max_length.unwrap_or(folder.max_seq_length);
        let limit = folder.config.max_position_embeddings;
        if max_length < 2 || max_length > limit {
            // Say who set it: the script's option, or the folder's config.
            return Err(Error::invalid(match options.max_length {
                Some(_) => format!(
                    "text::encoder: option 'max_length' is {max_length}, outside [2, {limit}] (the model's max_position_embeddings)"
                ),
                None => format!(
                    "text::encoder: {}: the folder's sentence_bert_config.json sets max_seq_length {max_length}, \
                     outside [2, {limit}] (max_position_embeddings in its config.json); give the option max_length to override it",
                    path.display()
                ),
            }));
        }
        let target = options.target.unwrap_or(Target::Cpu);
        let dim = bert.hidden_size();
        let model = match target {
            Target::Cpu => Model::Cpu(
                CpuBert::from_candle(&bert)
                    .map_err(|e| Error::invalid(format!("text::encoder: {e}")))?,
            ),
            _ => Model::Candle(bert),
        };
        Ok(SentenceEncoder {
            fingerprint,
            folder: path.to_path_buf(),
            model,
            candle_lock: Mutex::new(()),
            dim,
            layers: folder.config.num_hidden_layers,
            pooling: options.pooling.unwrap_or(folder.pooling),
            normalize: options.normalize.unwrap_or(folder.normalize),
            tokenizer: folder.tokenizer,
            max_length,
            target,
        })
    }

    /// The width of an embedding.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Identifies the model files (and, for a tuned encoder, its weights).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The model's name: its folder's.
    pub fn name(&self) -> String {
        self.folder
            .file_name()
            .map_or_else(|| "encoder".into(), |n| n.to_string_lossy().into_owned())
    }

    /// What identifies these embeddings in a cache: the model files and
    /// every option that changes the numbers.
    pub fn signature(&self) -> String {
        format!(
            "sentence-encoder/{}/{}/max_length={}/{}/normalize={}",
            self.name(),
            self.fingerprint,
            self.max_length,
            self.pooling.name(),
            self.normalize
        )
    }

    /// The token ids of `text` as the model sees them (`[CLS] … [SEP]`, cut
    /// at `max_length`).
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, self.max_length)
    }

    /// The token ids of `text` cut at `max_length` (for training).
    pub fn token_ids_at(&self, text: &str, max_length: usize) -> Vec<u32> {
        self.tokenizer.encode(text, max_length)
    }

    /// The embedding of one text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        let ids = self.token_ids(text);
        let rows = self.embed(&[&ids], &mut Scratch::default(), self.normalize)?;
        Ok(rows.into_raw_vec_and_offset().0)
    }

    /// The tokens of `text` as the model reads them (`[CLS]`, word pieces,
    /// `[SEP]`).
    pub fn tokens(&self, text: &str) -> Vec<String> {
        self.token_ids(text)
            .into_iter()
            .map(|id| self.tokenizer.token(id).unwrap_or("[UNK]").to_string())
            .collect()
    }

    /// What the model is, for printing.
    pub fn describe(&self) -> String {
        format!(
            "Encoder({}: BERT, {} layers, {} wide; max_length {}, {} pooling{}; {})",
            self.name(),
            self.layers,
            self.dim,
            self.max_length,
            self.pooling.name(),
            if self.normalize { ", normalized" } else { "" },
            match self.target {
                Target::Cpu => "cpu",
                Target::CandleCpu => "cpu, candle",
                Target::Cuda => "cuda",
            }
        )
    }

    /// Embeddings of a batch of token id sequences (rows in their order),
    /// scaled to unit length with `normalize`.
    fn embed(
        &self,
        sequences: &[&[u32]],
        scratch: &mut Scratch,
        normalize: bool,
    ) -> Result<Array2<f32>> {
        let d = self.dim;
        if sequences.is_empty() {
            return Ok(Array2::zeros((0, d)));
        }
        let mut rows = match &self.model {
            Model::Cpu(bert) => {
                let hidden = bert.forward(sequences, scratch);
                let lengths: Vec<usize> = sequences.iter().map(|s| s.len()).collect();
                self.pooling.pool_packed(hidden, &lengths, d)
            }
            Model::Candle(bert) => {
                // candle spreads each op over the cores (or the GPU) itself:
                // one batch at a time.
                let _one_at_a_time = self.candle_lock.lock();
                let run = || -> candle_core::Result<Vec<f32>> {
                    let (ids, mask) = bert::batch_tensors(sequences, bert.device())?;
                    let hidden = bert.forward(&ids, &mask)?;
                    self.pooling
                        .pool(&hidden, &mask)?
                        .to_dtype(DType::F32)?
                        .flatten_all()?
                        .to_vec1::<f32>()
                };
                run().map_err(|e| Error::invalid(format!("text::encoder: {e}")))?
            }
        };
        if normalize {
            for row in rows.chunks_exact_mut(d) {
                // torch.nn.functional.normalize: x / max(‖x‖, 1e-12).
                let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                row.iter_mut().for_each(|v| *v /= norm);
            }
        }
        Array2::from_shape_vec((sequences.len(), d), rows)
            .map_err(|e| Error::invalid(e.to_string()))
    }

    /// Embeddings of `texts` (one row each, in input order, rows named by
    /// `names` when given), `batch` texts at a time. With `cache`, rows are
    /// kept by the hash of their text; a rerun computes only new texts.
    pub fn encode(
        &self,
        texts: &[&str],
        names: Option<Vec<String>>,
        batch: usize,
        cache: Option<&Path>,
        progress: impl FnMut(usize, usize),
    ) -> Result<Encoded> {
        self.encode_rows(texts, names, batch, cache, self.normalize, progress)
    }

    /// [`SentenceEncoder::encode`], unit length or not as `normalize` says
    /// (a classification head reads the pooled vectors as they are).
    pub fn encode_rows(
        &self,
        texts: &[&str],
        names: Option<Vec<String>>,
        batch: usize,
        cache: Option<&Path>,
        normalize: bool,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Encoded> {
        let keys: Vec<String> = texts.par_iter().map(|t| fnv128(t.as_bytes())).collect();
        let signature = format!("{}/rows-normalized={normalize}", self.signature());
        let signature = if normalize == self.normalize {
            self.signature()
        } else {
            signature
        };
        let mut known = RowCache::open(cache, &signature, self.dim())?;
        let tokens: Vec<Vec<u32>> = texts
            .par_iter()
            .map(|t| self.tokenizer.token_ids(t))
            .collect();
        let truncated = tokens
            .iter()
            .filter(|t| t.len() + 2 > self.max_length)
            .count();
        // One computation per distinct text not in the cache.
        let mut todo: Vec<usize> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, key) in keys.iter().enumerate() {
            if !known.contains(key) && seen.insert(key.as_str()) {
                todo.push(i);
            }
        }
        let cached = texts.len() - todo.len();
        let ids: Vec<Vec<u32>> = todo
            .iter()
            .map(|&i| self.tokenizer.wrap(tokens[i].clone(), self.max_length))
            .collect();
        // Longest first: the costly batches start early and the short ones
        // fill the end, and neighbours in length share a batch.
        let mut order: Vec<usize> = (0..todo.len()).collect();
        order.sort_by_key(|&j| std::cmp::Reverse(ids[j].len()));
        let units: Vec<&[usize]> = order.chunks(batch.max(1)).collect();
        // With a unit for every core, each unit's products stay on its core;
        // with fewer, the products spread over the cores instead.
        let serial = units.len() >= rayon::current_num_threads();
        let scratches: Mutex<Vec<Scratch>> = Mutex::new(Vec::new());
        let mut done = cached;
        progress(done, texts.len());
        compute_units(
            &units,
            |unit| {
                let sequences: Vec<&[u32]> = unit.iter().map(|&j| ids[j].as_slice()).collect();
                let mut scratch = scratches
                    .lock()
                    .ok()
                    .and_then(|mut s| s.pop())
                    .unwrap_or_default();
                let rows = if serial {
                    crate::nn::gemm::serial(|| self.embed(&sequences, &mut scratch, normalize))
                } else {
                    self.embed(&sequences, &mut scratch, normalize)
                };
                if let Ok(mut s) = scratches.lock() {
                    s.push(scratch);
                }
                Ok((*unit, rows?))
            },
            &mut known,
            cache,
            |(unit, rows), known| {
                for (&j, row) in unit.iter().zip(rows.rows()) {
                    known.insert(keys[todo[j]].clone(), row.to_vec());
                }
                done += unit.len();
                progress(done, texts.len());
            },
        )?;
        let d = self.dim();
        let mut values = Vec::with_capacity(texts.len() * d);
        for key in &keys {
            let row = known
                .get(key)
                .ok_or_else(|| Error::invalid("text::encoder: internal: a text was not encoded"))?;
            values.extend_from_slice(row);
        }
        let matrix = Matrix::new(
            Array2::from_shape_vec((texts.len(), d), values)
                .map_err(|e| Error::invalid(e.to_string()))?,
        )
        .with_names(names, None)?;
        Ok(Encoded {
            matrix,
            cached,
            truncated,
        })
    }
}

/// The `k` rows of `x` nearest to `query` by cosine similarity, nearest
/// first (ties by row order), as (row, similarity). Rows of zeros have
/// similarity 0.
pub fn most_similar(
    query: &[f32],
    x: ndarray::ArrayView2<f32>,
    k: usize,
) -> Result<Vec<(usize, f32)>> {
    if x.ncols() != query.len() {
        return Err(Error::invalid(format!(
            "most_similar: the matrix has {} columns, the query's embedding {}",
            x.ncols(),
            query.len()
        )));
    }
    crate::matrix::check_finite(x, None, "most_similar: x", "embeddings")?;
    let norm = query.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm == 0.0 {
        return Err(Error::invalid(
            "most_similar: the query's embedding is the zero vector; cosine similarity is undefined",
        ));
    }
    let unit = ndarray::Array1::from_iter(query.iter().map(|v| v / norm));
    Ok(crate::matrix::nearest_rows(
        x,
        &crate::matrix::row_norms(x),
        unit.view(),
        &[],
        k,
    ))
}
