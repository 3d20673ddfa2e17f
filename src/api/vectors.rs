//! `text::word_vectors` and the `WordVectors` methods: pretrained vectors,
//! neighbour queries and mean vectors of documents.

use std::path::Path;
use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, ImmutableString, Map};

use crate::api::convert::type_of;
use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Parsed, Schema};
use crate::api::text::VectorizerHandle;
use crate::data::Movies;
use crate::error::{Error, Result};
use crate::text::vectors::mean::{MeanOptions, Means, OnEmpty, TokenPattern};
use crate::text::vectors::{Format, ReadOptions, UnicodeErrors, WordVectors};

/// Word vectors as scripts hold them (shared, never copied).
#[derive(Clone)]
pub struct WordVectorsHandle(pub Arc<WordVectors>);

pub static WORD_VECTORS: Schema = Schema::new(
    "text::word_vectors",
    &[&[
        Opt::new(
            "format",
            Kind::Choice(&[
                "auto",
                "word2vec_binary",
                "word2vec_text",
                "glove",
                "native",
            ]),
            D::Text("auto"),
            "auto: told from the content (gzip, a COUNT DIM header, binary or text records, genrelab's .safetensors)",
        ),
        Opt::new(
            "limit",
            Kind::Int(Bounds::POSITIVE_INT),
            D::None,
            "read only the first N words (gensim's limit); default all",
        ),
        Opt::new(
            "lowercase",
            Kind::Bool,
            D::Bool(false),
            "lower-case every word; merged words keep the earlier vector",
        ),
        Opt::new(
            "unicode_errors",
            Kind::Choice(&["strict", "replace", "ignore"]),
            D::Text("strict"),
            "a word that is not UTF-8 fails the load (strict), or its bad bytes become U+FFFD or are dropped (gensim's unicode_errors)",
        ),
    ]],
);

fn is_vectorizer(v: &Dynamic) -> bool {
    v.read_lock::<VectorizerHandle>().is_some_and(|h| {
        h.0.vocabulary.is_some() && h.0.tfidf.as_ref().is_some_and(|t| t.idf.is_some())
    })
}

const MEAN_OPTS: &[Opt] = &[
    Opt::new(
        "token_pattern",
        Kind::Choice(TokenPattern::NAMES),
        D::Text("\\w+"),
        "\\w+ is the seed's (every run of word characters); the other is scikit-learn's (two or more)",
    ),
    Opt::new(
        "stop_words",
        Kind::Either(&[Kind::Choice(&["english"]), Kind::Texts, Kind::Unit]),
        D::Text("english"),
        "words left out: scikit-learn's 318 English ones, an array, or () for none",
    ),
    Opt::new(
        "lowercase",
        Kind::Bool,
        D::Bool(true),
        "look words up lower-cased",
    ),
    Opt::new(
        "on_empty",
        Kind::Choice(&["zero", "drop", "error"]),
        D::Text("zero"),
        "a document without a known word becomes a row of zeros, is left out (the rows are named by movie id), or fails the call; a warning counts them",
    ),
    Opt::new(
        "weights",
        Kind::Value {
            expected: "a fitted text::tfidf_vectorizer (with idf)",
            check: is_vectorizer,
        },
        D::None,
        "weight each word by its idf (words outside its vocabulary by the largest idf); default unweighted",
    ),
];

pub static MEAN: Schema = Schema::new("WordVectors.mean", &[MEAN_OPTS]);
pub static KNOWN: Schema = Schema::new("WordVectors.known", &[MEAN_OPTS]);
pub static COVERAGE: Schema = Schema::new("WordVectors.coverage", &[MEAN_OPTS]);

pub static SCHEMAS: &[&Schema] = &[&WORD_VECTORS, &MEAN, &KNOWN, &COVERAGE];

fn load(path: &str, options: Map) -> Result<WordVectorsHandle> {
    let opts = WORD_VECTORS.parse(options)?;
    let read = ReadOptions {
        format: Format::parse(&opts.text("format")?)?,
        limit: opts.opt_usize("limit")?,
        lowercase: opts.flag("lowercase")?,
        unicode_errors: match opts.text("unicode_errors")?.as_str() {
            "replace" => UnicodeErrors::Replace,
            "ignore" => UnicodeErrors::Ignore,
            _ => UnicodeErrors::Strict,
        },
    };
    let (wv, report) = crate::text::vectors::read::read(Path::new(path), &read)?;
    if let Some((word, at)) = report.duplicates.first() {
        eprintln!(
            "warning: {path}: {} words were there already and kept their first vector (the first: '{word}', word {})",
            report.duplicates.len(),
            at + 1
        );
    }
    Ok(WordVectorsHandle(Arc::new(wv)))
}

/// The documents of `docs` (a `Movies`: its overviews) and their names
/// (movie ids; none for plain texts).
fn documents(docs: &Dynamic) -> Result<(Vec<ImmutableString>, Option<Vec<String>>)> {
    let texts = crate::api::text::documents(docs, "WordVectors.mean")?;
    let ids = docs
        .read_lock::<Movies>()
        .map(|m| m.ids().map(str::to_string).collect());
    Ok((texts, ids))
}

fn means(wv: &WordVectors, docs: &[ImmutableString], opts: &Parsed) -> Result<Means> {
    let stop_words = crate::api::text::stop_words(opts)?;
    let mean_opts = MeanOptions {
        pattern: TokenPattern::parse(&opts.text("token_pattern")?)?,
        stop_words,
        lowercase: opts.flag("lowercase")?,
        on_empty: match opts.text("on_empty")?.as_str() {
            "drop" => OnEmpty::Drop,
            "error" => OnEmpty::Error,
            _ => OnEmpty::Zero,
        },
    };
    let refs: Vec<&str> = docs.iter().map(ImmutableString::as_str).collect();
    let vectorizer = opts
        .raw("weights")?
        .and_then(|v| v.read_lock::<VectorizerHandle>().map(|h| h.0.clone()));
    let Some(v) = vectorizer else {
        return crate::text::vectors::mean::mean(wv, &refs, &mean_opts, None);
    };
    let (Some(vocabulary), Some(idf)) = (
        v.vocabulary.as_ref(),
        v.tfidf.as_ref().and_then(|t| t.idf.as_ref()),
    ) else {
        return Err(Error::invalid(
            "mean: option 'weights' needs a fitted tf-idf vectorizer",
        ));
    };
    let largest = idf.iter().copied().fold(0.0, f64::max);
    let weight = |w: &str| Some(vocabulary.get(w).map_or(largest, |j| idf[j as usize]));
    crate::text::vectors::mean::mean(wv, &refs, &mean_opts, Some(&weight))
}

fn warn_empty(m: &Means, n: usize, ids: Option<&[String]>, dropped: bool) {
    if m.empty.is_empty() {
        return;
    }
    let names: Vec<String> = m
        .empty
        .iter()
        .take(5)
        .map(|&i| ids.map_or_else(|| format!("#{i}"), |ids| ids[i].clone()))
        .collect();
    let more = if m.empty.len() > 5 { ", …" } else { "" };
    eprintln!(
        "warning: mean: {} of {n} documents have no word with a vector ({}{more}): {}",
        m.empty.len(),
        names.join(", "),
        if dropped { "left out" } else { "rows of zeros" }
    );
}

#[export_module]
pub mod vectors_module {
    use rhai::{Map, NativeCallContext};

    use super::WordVectorsHandle;
    use crate::api::convert::{RhaiResult, located};

    /// Pretrained word vectors from `path`, in any of the formats users have
    /// on disk, told from the content: word2vec binary (`.bin`, and gzipped
    /// `.bin.gz` as GoogleNews ships it), word2vec text / fastText `.vec`
    /// (a `COUNT DIM` header line), GloVe `.txt` (no header), and the
    /// `.safetensors` that `save` writes (the fastest to load). Streamed: the
    /// file is read once, into one matrix. A word seen twice keeps its first
    /// vector (a warning counts them).
    ///
    /// Errors: a missing, empty or truncated file (with the word and byte
    /// where it ends); a header that lies about the count or dimension; a
    /// line with too few values (line and word); a word that is not UTF-8
    /// (its index); a value that is NaN or infinite; a file that is not word
    /// vectors at all.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert_eq([wv.len(), wv.dim()], [100000, 50]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn word_vectors(ctx: NativeCallContext, path: &str) -> RhaiResult<WordVectorsHandle> {
        located(&ctx, || super::load(path, Map::new()))
    }

    /// Word vectors with options (below).
    ///
    /// Errors: as `text::word_vectors(path)`, plus a bad option.
    ///
    /// ```rhai
    /// let path = data::temp_path("tiny.txt");
    /// data::write_text(path, "the 0.1 0.2\nCat 0.3 0.4\ncat 0.5 0.6\n");
    /// let wv = text::word_vectors(path, #{ lowercase: true, limit: 3 });
    /// assert_eq(wv.words(10), ["the", "cat"]);
    /// assert_eq(wv.get("cat"), [0.30000001192092896, 0.4000000059604645]);
    /// ```
    #[rhai_fn(name = "word_vectors", return_raw)]
    pub fn word_vectors_with(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> RhaiResult<WordVectorsHandle> {
        located(&ctx, || super::load(path, options))
    }
}

fn neighbours(list: Vec<(String, f32)>) -> Array {
    list.into_iter()
        .map(|(w, s)| {
            let mut m = Map::new();
            m.insert("word".into(), w.into());
            m.insert("similarity".into(), Dynamic::from_float(f64::from(s)));
            Dynamic::from_map(m)
        })
        .collect()
}

fn query_vector(v: &Dynamic) -> Result<Vec<f32>> {
    let Some(a) = v.read_lock::<Array>() else {
        return Err(Error::invalid(format!(
            "most_similar: expected a word or an array of numbers, got {}",
            type_of(v)
        )));
    };
    crate::api::convert::numbers(&a, "most_similar: vector")
        .map(|x| x.into_iter().map(|x| x as f32).collect())
}

#[export_module]
pub mod vectors_methods {
    use rhai::{Array, Dynamic, INT, Map};

    use super::{WordVectorsHandle, documents, means, neighbours, query_vector, warn_empty};
    use crate::api::convert::{RhaiResult, count, string_array};
    use crate::matrix::Matrix;

    /// The number of words.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin", #{ limit: 10 });
    /// assert_eq(wv.len(), 10);
    /// ```
    #[rhai_fn(global, name = "len", pure)]
    pub fn len(wv: &mut WordVectorsHandle) -> INT {
        wv.0.len() as INT
    }

    /// The number of values per word.
    #[rhai_fn(global, name = "dim", pure)]
    pub fn dim(wv: &mut WordVectorsHandle) -> INT {
        wv.0.dim() as INT
    }

    /// Whether `word` has a vector (case matters).
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin", #{ limit: 1000 });
    /// assert(wv.contains("the") && !wv.contains("The"));
    /// ```
    #[rhai_fn(global, name = "contains", pure)]
    pub fn contains(wv: &mut WordVectorsHandle, word: &str) -> bool {
        wv.0.contains(word)
    }

    /// The vector of `word` as an array of floats.
    ///
    /// Errors: an unknown word (the message says when its lower-cased form is known).
    #[rhai_fn(global, name = "get", return_raw, pure)]
    pub fn get(wv: &mut WordVectorsHandle, word: &str) -> RhaiResult<Array> {
        Ok(wv
            .0
            .get(word)?
            .iter()
            .map(|v| Dynamic::from_float(f64::from(*v)))
            .collect())
    }

    /// The first `n` words, in file order (the most frequent first in the
    /// usual files).
    ///
    /// Errors: a negative `n`.
    #[rhai_fn(global, name = "words", return_raw, pure)]
    pub fn words(wv: &mut WordVectorsHandle, n: INT) -> RhaiResult<Array> {
        let n = count(n, "words: n")?.min(wv.0.len());
        Ok(string_array(wv.0.words()[..n].iter().map(String::as_str)))
    }

    /// The 10 nearest words to `query`, a word or a vector (see `most_similar(query, n)`).
    ///
    /// Errors: as `most_similar(query, n)`.
    #[rhai_fn(global, name = "most_similar", return_raw, pure)]
    pub fn most_similar(wv: &mut WordVectorsHandle, query: Dynamic) -> RhaiResult<Array> {
        most_similar_n(wv, query, 10)
    }

    /// The `n` words nearest to `query` by cosine similarity, nearest first,
    /// as `#{ word, similarity }` maps: gensim's `most_similar` (the query
    /// word itself left out; a vector is compared as it is).
    ///
    /// Errors: an unknown word; a vector of the wrong length or with NaN;
    /// a negative `n`.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// let near = wv.most_similar("horror", 3);
    /// assert_eq(near.len(), 3);
    /// assert(near[0].similarity >= near[1].similarity);
    /// ```
    #[rhai_fn(global, name = "most_similar", return_raw, pure)]
    pub fn most_similar_n(wv: &mut WordVectorsHandle, query: Dynamic, n: INT) -> RhaiResult<Array> {
        let n = count(n, "most_similar: n")?;
        let found = if let Some(word) = query.read_lock::<rhai::ImmutableString>() {
            wv.0.most_similar(&[word.as_str()], &[], &[], n)?
        } else {
            let v = ndarray::Array1::from(query_vector(&query)?);
            wv.0.most_similar(&[], &[], &[v.view()], n)?
        };
        Ok(neighbours(found))
    }

    /// Cosine similarity of two words.
    ///
    /// Errors: an unknown word.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert(wv.similarity("comedy", "drama") > wv.similarity("comedy", "tractor"));
    /// ```
    #[rhai_fn(global, name = "similarity", return_raw, pure)]
    pub fn similarity(wv: &mut WordVectorsHandle, a: &str, b: &str) -> RhaiResult<f64> {
        Ok(f64::from(wv.0.similarity(a, b)?))
    }

    /// `a` is to `b` as `c` is to …: the `n` words nearest to `b − a + c`
    /// (gensim's `most_similar(positive=[b, c], negative=[a])`, the three
    /// words left out).
    ///
    /// Errors: an unknown word; a negative `n`.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert_eq(wv.analogy("man", "king", "woman", 1)[0].word, "queen");
    /// ```
    #[rhai_fn(global, name = "analogy", return_raw, pure)]
    pub fn analogy(
        wv: &mut WordVectorsHandle,
        a: &str,
        b: &str,
        c: &str,
        n: INT,
    ) -> RhaiResult<Array> {
        let n = count(n, "analogy: n")?;
        Ok(neighbours(wv.0.most_similar(&[b, c], &[a], &[], n)?))
    }

    /// Writes the vectors to a `.safetensors` file (`vectors` f32 words × dim,
    /// `words` UTF-8 lines), which `text::word_vectors` reads back fastest.
    ///
    /// Errors: another extension; the file cannot be written.
    ///
    /// ```rhai
    /// let path = data::temp_path("wv.safetensors");
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin", #{ limit: 100 });
    /// wv.save(path);
    /// assert_eq(text::word_vectors(path).get("the"), wv.get("the"));
    /// ```
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn save(wv: &mut WordVectorsHandle, path: &str) -> RhaiResult<()> {
        Ok(crate::text::vectors::native::save(
            &wv.0,
            std::path::Path::new(path),
        )?)
    }

    /// The mean vector of each document's known words (see `mean(docs, options)`).
    ///
    /// Errors: as `mean(docs, options)`.
    #[rhai_fn(global, name = "mean", return_raw, pure)]
    pub fn mean(wv: &mut WordVectorsHandle, docs: Dynamic) -> RhaiResult<Matrix> {
        mean_with(wv, docs, Map::new())
    }

    /// The mean vector of each document — an array of strings or a `Movies`
    /// (its overviews; rows named by movie id) — in input order: the seed's
    /// tokens (`\w+`, lower-cased, English stop words left out), each looked
    /// up, the found vectors averaged. Parallel over documents.
    ///
    /// Errors: `docs` is neither; a bad option; with `on_empty: "error"`, a
    /// document without a known word (named).
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// let x = wv.mean(["A cop chases a killer.", "The of and"], #{ on_empty: "drop" });
    /// assert_eq(x.shape, [1, 50]);
    /// ```
    #[rhai_fn(global, name = "mean", return_raw, pure)]
    pub fn mean_with(
        wv: &mut WordVectorsHandle,
        docs: Dynamic,
        options: Map,
    ) -> RhaiResult<Matrix> {
        let opts = super::MEAN.parse(options)?;
        let (texts, ids) = documents(&docs)?;
        let m = means(&wv.0, &texts, &opts)?;
        let dropped = opts.text("on_empty")? == "drop";
        warn_empty(&m, texts.len(), ids.as_deref(), dropped);
        let names = ids.map(|ids| m.kept.iter().map(|&i| ids[i].clone()).collect());
        Ok(Matrix::new(m.values).with_names(names, None)?)
    }

    /// The documents that have at least one word with a vector, by the same
    /// rule as `mean` — a `Movies` for a `Movies`, an array for an array — so
    /// that labels can be made for exactly the rows `mean` keeps (the seed
    /// dropped the others).
    ///
    /// Errors: as `mean`.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// assert_eq(wv.known(["A cop chases a killer.", "The of and"], #{}), ["A cop chases a killer."]);
    /// ```
    #[rhai_fn(global, name = "known", return_raw, pure)]
    pub fn known(wv: &mut WordVectorsHandle, docs: Dynamic, options: Map) -> RhaiResult<Dynamic> {
        let opts = super::KNOWN.parse(options)?;
        let (texts, _) = documents(&docs)?;
        let m = means(&wv.0, &texts, &opts)?;
        let mut keep = vec![true; texts.len()];
        for &i in &m.empty {
            keep[i] = false;
        }
        if let Some(movies) = docs.read_lock::<crate::data::Movies>() {
            return Ok(Dynamic::from(movies.filter_by(&keep)));
        }
        Ok(Dynamic::from_array(
            texts
                .into_iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(t, _)| Dynamic::from(t))
                .collect(),
        ))
    }

    /// How well the vectors cover `docs`: `documents`, `empty` (documents
    /// without a known word), `empty_ids` (their movie ids, or positions),
    /// `tokens` (after stop words), `known` (tokens with a vector) and
    /// `coverage` (known / tokens).
    ///
    /// Errors: as `mean`.
    ///
    /// ```rhai
    /// let wv = text::word_vectors(DATA_DIR + "/../models/glove.6B.50d.100k.bin");
    /// let c = wv.coverage(["A cop chases a killer.", "The of and"], #{});
    /// assert_eq([c.documents, c.empty, c.tokens, c.known], [2, 1, 3, 3]);
    /// ```
    #[rhai_fn(global, name = "coverage", return_raw, pure)]
    pub fn coverage(wv: &mut WordVectorsHandle, docs: Dynamic, options: Map) -> RhaiResult<Map> {
        let opts = super::COVERAGE.parse(options)?;
        let (texts, ids) = documents(&docs)?;
        let m = means(&wv.0, &texts, &opts)?;
        let empty_ids: Array = m
            .empty
            .iter()
            .map(|&i| match &ids {
                Some(ids) => Dynamic::from(ids[i].clone()),
                None => Dynamic::from_int(i as INT),
            })
            .collect();
        let mut out = Map::new();
        out.insert("documents".into(), Dynamic::from_int(texts.len() as INT));
        out.insert("empty".into(), Dynamic::from_int(m.empty.len() as INT));
        out.insert("empty_ids".into(), Dynamic::from_array(empty_ids));
        out.insert("tokens".into(), Dynamic::from_int(m.tokens as INT));
        out.insert("known".into(), Dynamic::from_int(m.known as INT));
        out.insert(
            "coverage".into(),
            Dynamic::from_float(m.known as f64 / m.tokens.max(1) as f64),
        );
        Ok(out)
    }

    /// The size of the vectors.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(wv: &mut WordVectorsHandle) -> String {
        let first: Vec<&str> = wv.0.words().iter().take(5).map(String::as_str).collect();
        format!(
            "WordVectors {} words × {} (f32); first: {}",
            wv.0.len(),
            wv.0.dim(),
            first.join(", ")
        )
    }
}
