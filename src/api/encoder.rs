//! `text::encoder` and the `Encoder` methods: a sentence-transformers model
//! (BERT) turning overviews into sentence embeddings.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Schema};
use crate::data::Movies;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::text::encoder::{EncoderOptions, Pooling, SentenceEncoder, Target};

/// A loaded encoder as scripts hold it (shared, never copied), with the
/// batch size its `encode` uses unless told otherwise.
#[derive(Clone)]
pub struct EncoderHandle {
    pub encoder: Rc<SentenceEncoder>,
    pub batch: usize,
}

const BATCH: Opt = Opt::new(
    "batch",
    Kind::Int(Bounds::POSITIVE_INT),
    D::Int(32),
    "texts a core encodes at a time (texts of similar length share a batch)",
);

pub static ENCODER: Schema = Schema::new(
    "text::encoder",
    &[&[
        Opt::new(
            "max_length",
            Kind::Int(Bounds::at_least(2.0)),
            D::Described("the folder's max_seq_length (256 for all-MiniLM-L6-v2)"),
            "tokens per text, [CLS] and [SEP] included; longer texts are cut (a warning counts them), as sentence-transformers does",
        ),
        BATCH,
        Opt::new(
            "normalize",
            Kind::Bool,
            D::Described("true when modules.json has a Normalize module"),
            "scale every embedding to unit length",
        ),
        Opt::new(
            "pooling",
            Kind::Choice(Pooling::NAMES),
            D::Described("the folder's 1_Pooling/config.json"),
            "how token vectors become one vector: their mean, the [CLS] token's, their maximum, or their sum / sqrt(count)",
        ),
        Opt::new(
            "device",
            Kind::Choice(&["cpu", "cuda"]),
            D::Text("cpu"),
            "cuda runs the model with candle on the first GPU (a build with --features cuda)",
        ),
    ]],
);

pub static ENCODE: Schema = Schema::new(
    "Encoder.encode",
    &[&[
        Opt::new(
            "batch",
            Kind::Int(Bounds::POSITIVE_INT),
            D::Described("the encoder's (32 unless text::encoder was told otherwise)"),
            "texts a core encodes at a time",
        ),
        Opt::new(
            "cache",
            Kind::Text,
            D::None,
            "a .safetensors path keeping the embeddings by text; a rerun encodes only new texts, an interrupted run resumes",
        ),
    ]],
);

pub static SCHEMAS: &[&Schema] = &[&ENCODER, &ENCODE];

fn open(path: &str, options: Map) -> Result<EncoderHandle> {
    let opts = ENCODER.parse(options)?;
    let encoder = SentenceEncoder::open(
        Path::new(path),
        &EncoderOptions {
            max_length: opts.opt_usize("max_length")?,
            pooling: opts
                .opt_text("pooling")?
                .map(|p| Pooling::parse(&p))
                .transpose()?,
            normalize: opts
                .given("normalize")
                .then(|| opts.flag("normalize"))
                .transpose()?,
            target: Some(match opts.text("device")?.as_str() {
                "cuda" => Target::Cuda,
                _ => Target::Cpu,
            }),
        },
    )?;
    Ok(EncoderHandle {
        encoder: Rc::new(encoder),
        batch: opts.usize("batch")?,
    })
}

fn encode(handle: &EncoderHandle, docs: &Dynamic, options: Map) -> Result<Matrix> {
    let opts = ENCODE.parse(options)?;
    let batch = opts.opt_usize("batch")?.unwrap_or(handle.batch);
    let cache = opts.opt_text("cache")?.map(PathBuf::from);
    // A `Movies` means its overviews, rows named by id.
    let texts = crate::api::text::documents(docs, "Encoder.encode")?;
    let names = docs
        .read_lock::<Movies>()
        .map(|m| m.ids().map(str::to_string).collect());
    let refs: Vec<&str> = texts.iter().map(|t| t.as_str()).collect();
    let enc = &handle.encoder;
    let mut bar = crate::progress::Progress::new(enc.name(), refs.len(), "texts");
    let out = enc.encode(&refs, names, batch, cache.as_deref(), |done, _| {
        bar.update(done, "")
    })?;
    let empty = refs.iter().filter(|t| t.trim().is_empty()).count();
    if empty > 0 {
        crate::record::warning(&format!(
            "encode: {empty} of {} texts are empty; each is encoded as \"\" ([CLS] [SEP]), as sentence-transformers does",
            refs.len()
        ));
    }
    if out.truncated > 0 {
        crate::record::warning(&format!(
            "encode: {} of {} texts are longer than max_length {} tokens and were cut, as sentence-transformers does",
            out.truncated,
            refs.len(),
            enc.max_length
        ));
    }
    Ok(out.matrix)
}

fn most_similar(handle: &EncoderHandle, query: &str, x: &Matrix, k: usize) -> Result<Array> {
    let q = handle.encoder.embed_one(query)?;
    let hits = crate::text::encoder::most_similar(&q, x.values().view(), k)?;
    // Ids as `Movies.ids` gives them (integers when every one is).
    let ids = x
        .row_names()
        .map(|n| crate::api::convert::ids_array(&n.iter().map(String::as_str).collect::<Vec<_>>()));
    Ok(hits
        .into_iter()
        .map(|(i, s)| {
            let mut m = Map::new();
            m.insert("index".into(), Dynamic::from_int(i as rhai::INT));
            m.insert(
                "id".into(),
                ids.as_ref().map_or(Dynamic::UNIT, |ids| ids[i].clone()),
            );
            m.insert("similarity".into(), Dynamic::from_float(f64::from(s)));
            Dynamic::from_map(m)
        })
        .collect())
}

fn check_count(k: rhai::INT) -> Result<usize> {
    usize::try_from(k)
        .ok()
        .filter(|&k| k > 0)
        .ok_or_else(|| Error::invalid(format!("most_similar: k is {k}, expected at least 1")))
}

#[export_module]
pub mod encoder_module {
    use rhai::{Map, NativeCallContext};

    use super::EncoderHandle;
    use crate::api::convert::{RhaiResult, located};

    /// A sentence encoder from a sentence-transformers folder
    /// (`config.json`, `model.safetensors`, `tokenizer.json`,
    /// `modules.json`, `sentence_bert_config.json`, `1_Pooling/config.json`),
    /// such as all-MiniLM-L6-v2: BERT on the CPU (or, with `device: "cuda"`,
    /// candle on a GPU), the folder's WordPiece tokenizer, pooling and
    /// normalisation — the numbers `SentenceTransformer(path).encode(texts)`
    /// gives, within 1e-6. Nothing is downloaded.
    ///
    /// Arguments: `path` — the folder.
    ///
    /// Errors: a missing folder or file (named); a module other than
    /// Transformer, Pooling, Normalize; a config.json that is not BERT; a
    /// truncated model.safetensors, or a tensor missing or of the wrong
    /// shape (named); a tokenizer.json that is not BERT WordPiece or not
    /// this model's.
    ///
    /// ```rhai
    /// let enc = text::encoder(DATA_DIR + "/../models/all-MiniLM-L6-v2");
    /// assert_eq(enc.dim(), 384);
    /// assert_eq(enc.tokens("Naïve robots!"), ["[CLS]", "naive", "robots", "!", "[SEP]"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn encoder(ctx: NativeCallContext, path: &str) -> RhaiResult<EncoderHandle> {
        located(&ctx, || super::open(path, Map::new()))
    }

    /// An encoder with options (below).
    ///
    /// Errors: as `text::encoder(path)`, plus a bad option, a `max_length`
    /// beyond the model's positions, or `device: "cuda"` in a build without
    /// the cuda feature.
    ///
    /// ```rhai
    /// let enc = text::encoder(DATA_DIR + "/../models/all-MiniLM-L6-v2", #{ max_length: 8, pooling: "cls", normalize: false });
    /// assert_eq(enc.tokens("one two three four five six seven eight").len(), 8);
    /// ```
    #[rhai_fn(name = "encoder", return_raw)]
    pub fn encoder_with(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> RhaiResult<EncoderHandle> {
        located(&ctx, || super::open(path, options))
    }
}

#[export_module]
pub mod encoder_methods {
    use rhai::{Array, Dynamic, INT, Map};

    use super::EncoderHandle;
    use crate::api::convert::{RhaiResult, string_array};
    use crate::matrix::Matrix;

    /// Sentence embeddings of `docs`, one row per text in input order: a
    /// `Movies` means its overviews (rows named by movie id), else an array
    /// of strings. Texts are sorted by length into batches, each core
    /// encodes its own batches, and a progress bar shows on a terminal. An
    /// empty text gets the embedding of `""` (`[CLS] [SEP]`) and a text
    /// longer than `max_length` tokens is cut, as sentence-transformers
    /// does; a warning counts both.
    ///
    /// Errors: an element that is not a string (its index); Ctrl-C.
    ///
    /// ```rhai
    /// let enc = text::encoder(DATA_DIR + "/../models/all-MiniLM-L6-v2");
    /// let x = enc.encode(["A heist goes wrong.", "Two friends fall in love in Paris."]);
    /// assert_eq(x.shape, [2, 384]);
    /// ```
    #[rhai_fn(global, name = "encode", return_raw, pure)]
    pub fn encode(enc: &mut EncoderHandle, docs: Dynamic) -> RhaiResult<Matrix> {
        Ok(super::encode(enc, &docs, Map::new())?)
    }

    /// `encode` with options (below). With `cache`, a `.safetensors` file
    /// keeps every embedding by the hash of its text, checked against the
    /// model files and options: a rerun encodes only new texts, and an
    /// interrupted run resumes where it stopped.
    ///
    /// Errors: as `encode(docs)`, plus a bad option, or a cache made by
    /// another model or options.
    ///
    /// ```rhai
    /// let enc = text::encoder(DATA_DIR + "/../models/all-MiniLM-L6-v2");
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv").sample(3);
    /// let cache = data::temp_path("overviews.safetensors");
    /// let x = enc.encode(movies, #{ cache: cache, batch: 2 });
    /// assert_eq(x.ids(), movies.ids());
    /// assert_eq(enc.encode(movies, #{ cache: cache }).row(0), x.row(0));
    /// ```
    #[rhai_fn(global, name = "encode", return_raw, pure)]
    pub fn encode_with(enc: &mut EncoderHandle, docs: Dynamic, options: Map) -> RhaiResult<Matrix> {
        Ok(super::encode(enc, &docs, options)?)
    }

    /// The `k` rows of `x` (embeddings from `encode`) whose cosine
    /// similarity to the embedding of `query` is highest, nearest first:
    /// maps with `index` (the row), `id` (its row name, e.g. the movie id,
    /// or `()`) and `similarity`. A small semantic search.
    ///
    /// Errors: `k` below 1; `x` of another width than the embeddings.
    ///
    /// ```rhai
    /// let enc = text::encoder(DATA_DIR + "/../models/all-MiniLM-L6-v2");
    /// let x = enc.encode(["A shark attacks swimmers.", "A comedy about a wedding.", "Robots rebel on Mars."]);
    /// let hits = enc.most_similar("killer fish at the beach", x, 2);
    /// assert_eq(hits[0].index, 0);
    /// assert(hits[0].similarity > hits[1].similarity);
    /// ```
    #[rhai_fn(global, name = "most_similar", return_raw, pure)]
    pub fn most_similar(
        enc: &mut EncoderHandle,
        query: &str,
        x: Matrix,
        k: INT,
    ) -> RhaiResult<Array> {
        Ok(super::most_similar(enc, query, &x, super::check_count(k)?)?)
    }

    /// The tokens of `text` as the model reads them: `[CLS]`, the word
    /// pieces (`##` continues a word), `[SEP]`, cut at `max_length`.
    #[rhai_fn(global, name = "tokens", pure)]
    pub fn tokens(enc: &mut EncoderHandle, text: &str) -> Array {
        string_array(enc.encoder.tokens(text).iter().map(String::as_str))
    }

    /// The width of an embedding (384 for all-MiniLM-L6-v2).
    #[rhai_fn(global, name = "dim", pure)]
    pub fn dim(enc: &mut EncoderHandle) -> INT {
        enc.encoder.dim() as INT
    }

    /// The model, its pooling and where it runs.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(enc: &mut EncoderHandle) -> String {
        enc.encoder.describe()
    }

    /// Tokens per text, `[CLS]` and `[SEP]` included; longer texts are cut.
    #[rhai_fn(global, name = "max_length", pure)]
    pub fn max_length(enc: &mut EncoderHandle) -> INT {
        enc.encoder.max_length as INT
    }
}
