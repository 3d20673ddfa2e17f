//! The sentence encoder as scripts hold it (`text::encoder`), with its
//! declared options: opening a folder, encoding documents with warnings for
//! empty and cut texts, and semantic search over encoded rows.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

use super::{EncoderOptions, Pooling, SentenceEncoder, Target};
use crate::data::Id;
use crate::error::{Error, Result};
use crate::matrix::Matrix;

crate::choices! {
    /// Where `text::encoder` runs the model.
    pub enum DeviceName { Cpu = "cpu", Cuda = "cuda" }
}

crate::options! {
    /// `text::encoder`: what may differ from the folder's configuration.
    pub struct OpenOptions for "text::encoder" {
        /// tokens per text, [CLS] and [SEP] included; longer texts are cut (a warning counts them), as sentence-transformers does
        max_length: Option<usize> = None => Int(Bounds::at_least(2.0)); shown "the folder's max_seq_length (256 for all-MiniLM-L6-v2)",
        /// texts a core encodes at a time (texts of similar length share a batch)
        batch: usize = 32 => Int(POSITIVE_INT),
        /// scale every embedding to unit length
        normalize: Option<bool> = None => Bool; shown "true when modules.json has a Normalize module",
        /// how token vectors become one vector: their mean, the [CLS] token's, their maximum, or their sum / sqrt(count)
        pooling: Option<Pooling> = None => Choice(Pooling::NAMES); shown "the folder's 1_Pooling/config.json",
        /// cuda runs the model with candle on the first GPU (a build with --features cuda)
        device: DeviceName = DeviceName::Cpu => Choice(DeviceName::NAMES),
    }
}

crate::options! {
    /// `Encoder.encode`: batches and the cache.
    pub struct EncodeOptions for "Encoder.encode" {
        /// texts a core encodes at a time
        batch: Option<usize> = None => Int(POSITIVE_INT); shown "the encoder's (32 unless text::encoder was told otherwise)",
        /// a .safetensors path keeping the embeddings by text; a rerun encodes only new texts, an interrupted run resumes
        cache: Option<String> = None => Text,
    }
}

/// A sentence encoder as scripts hold it.
#[derive(Clone)]
pub struct Encoder {
    pub encoder: Rc<SentenceEncoder>,
    pub batch: usize,
}

/// One hit of a semantic search.
#[derive(Debug, Serialize)]
pub struct Hit {
    pub index: usize,
    /// The row's name (a movie id) when the rows are named.
    pub id: Option<Id>,
    pub similarity: f64,
}

impl Encoder {
    pub fn open(path: &Path, o: &OpenOptions) -> Result<Encoder> {
        let encoder = SentenceEncoder::open(
            path,
            &EncoderOptions {
                max_length: o.max_length,
                pooling: o.pooling,
                normalize: o.normalize,
                target: Some(match o.device {
                    DeviceName::Cuda => Target::Cuda,
                    DeviceName::Cpu => Target::Cpu,
                }),
            },
        )?;
        Ok(Encoder {
            encoder: Rc::new(encoder),
            batch: o.batch,
        })
    }

    /// The embeddings of `texts` (rows named by `names`), with a progress
    /// bar; warnings count the empty texts and those cut at max_length.
    pub fn encode(
        &self,
        texts: &[&str],
        names: Option<Vec<String>>,
        o: &EncodeOptions,
    ) -> Result<Matrix> {
        let batch = o.batch.unwrap_or(self.batch);
        let cache = o.cache.as_ref().map(PathBuf::from);
        let enc = &self.encoder;
        let mut bar = crate::progress::Progress::new(enc.name(), texts.len(), "texts");
        let out = enc.encode(texts, names, batch, cache.as_deref(), |done, _| {
            bar.update(done, "")
        })?;
        let empty = texts.iter().filter(|t| t.trim().is_empty()).count();
        if empty > 0 {
            crate::record::warning(&format!(
                "encode: {empty} of {} texts are empty; each is encoded as \"\" ([CLS] [SEP]), as sentence-transformers does",
                texts.len()
            ));
        }
        if out.truncated > 0 {
            crate::record::warning(&format!(
                "encode: {} of {} texts are longer than max_length {} tokens and were cut, as sentence-transformers does",
                out.truncated,
                texts.len(),
                enc.max_length
            ));
        }
        Ok(out.matrix)
    }

    /// The `k` rows of `x` most similar to `query`'s embedding.
    pub fn most_similar(&self, query: &str, x: &Matrix, k: i64) -> Result<Vec<Hit>> {
        let k = usize::try_from(k).ok().filter(|&k| k > 0).ok_or_else(|| {
            Error::invalid(format!("most_similar: k is {k}, expected at least 1"))
        })?;
        let q = self.encoder.embed_one(query)?;
        let hits = super::most_similar(&q, x.values().view(), k)?;
        let ids = x.row_names().map(Id::all);
        Ok(hits
            .into_iter()
            .map(|(i, s)| Hit {
                index: i,
                id: ids.as_ref().map(|ids| ids[i].clone()),
                similarity: f64::from(s),
            })
            .collect())
    }
}
