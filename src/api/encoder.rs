//! `text::encoder` and the `Encoder` methods: a sentence-transformers model
//! (BERT) turning overviews into sentence embeddings
//! ([`crate::text::encoder::handle`]).

use rhai::plugin::*;

#[export_module]
pub mod encoder_module {
    use std::path::Path;

    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options};
    use crate::text::encoder::handle::{Encoder, OpenOptions};

    /// A sentence encoder from a sentence-transformers folder
    /// (`config.json`, `model.safetensors`, `tokenizer.json`,
    /// `modules.json`, `sentence_bert_config.json`, `1_Pooling/config.json`),
    /// such as all-MiniLM-L6-v2: BERT on the CPU (or, with `device: "cuda"`,
    /// candle on a GPU), the folder's WordPiece tokenizer, pooling and
    /// normalisation — the numbers `SentenceTransformer(path).encode(texts)`
    /// gives, within 1e-6. Nothing is downloaded.
    ///
    /// Arguments: `path` — the folder, or a model of the Hugging Face hub by
    /// name (`"all-MiniLM-L6-v2"`, `"org/name"`, `"org/name@REVISION"`), fetched on first use into
    /// `$GENRELAB_CACHE` (`genrelab fetch NAME` does it ahead of time;
    /// `GENRELAB_OFFLINE=1` forbids the network).
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
    pub fn encoder(ctx: NativeCallContext, path: &str) -> RhaiResult<Encoder> {
        encoder_with(ctx, path, Map::new())
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
    pub fn encoder_with(ctx: NativeCallContext, path: &str, options: Map) -> RhaiResult<Encoder> {
        located(&ctx, || {
            let o = self::options::<OpenOptions>(options)?;
            if crate::fetch::known::is_hub_name(path) {
                // A hub name: its files from the cache, fetched on first use.
                return Encoder::open(&crate::fetch::known::hub_model(path)?, &o);
            }
            Encoder::open(Path::new(path), &o)
        })
    }
}

#[export_module]
pub mod encoder_methods {
    use rhai::{Array, Dynamic, INT, Map};

    use crate::api::convert::{Documents, RhaiResult, options, string_array, to_script};
    use crate::matrix::Matrix;
    use crate::text::encoder::handle::{EncodeOptions, Encoder};

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
    pub fn encode(enc: &mut Encoder, docs: Dynamic) -> RhaiResult<Matrix> {
        encode_with(enc, docs, Map::new())
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
    pub fn encode_with(enc: &mut Encoder, docs: Dynamic, options: Map) -> RhaiResult<Matrix> {
        let o: EncodeOptions = self::options(options)?;
        // A `Movies` means its overviews, rows named by id.
        let docs = Documents::of(&docs, "Encoder.encode")?;
        Ok(enc.encode(&docs.refs(), docs.ids.clone(), &o)?)
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
    pub fn most_similar(enc: &mut Encoder, query: &str, x: Matrix, k: INT) -> RhaiResult<Array> {
        Ok(to_script(&enc.most_similar(query, &x, k)?)?.cast())
    }

    /// The tokens of `text` as the model reads them: `[CLS]`, the word
    /// pieces (`##` continues a word), `[SEP]`, cut at `max_length`.
    #[rhai_fn(global, name = "tokens", pure)]
    pub fn tokens(enc: &mut Encoder, text: &str) -> Array {
        string_array(enc.encoder.tokens(text).iter().map(String::as_str))
    }

    /// The width of an embedding (384 for all-MiniLM-L6-v2).
    #[rhai_fn(global, name = "dim", pure)]
    pub fn dim(enc: &mut Encoder) -> INT {
        enc.encoder.dim() as INT
    }

    /// The model, its pooling and where it runs.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(enc: &mut Encoder) -> String {
        enc.encoder.describe()
    }

    /// Tokens per text, `[CLS]` and `[SEP]` included; longer texts are cut.
    #[rhai_fn(global, name = "max_length", pure)]
    pub fn max_length(enc: &mut Encoder) -> INT {
        enc.encoder.max_length as INT
    }
}
