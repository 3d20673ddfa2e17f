//! `text::` — vectorizers with scikit-learn's names, defaults and results.

use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, ImmutableString};

use crate::api::convert::type_of;
use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Parsed, Schema};
use crate::data::Movies;
use crate::error::{Error, Result};
use crate::text::tokenize::english_stop_words;
use crate::text::{CountParams, DocFreq, Norm, Tfidf, TfidfParams, Vectorizer};

/// A vectorizer as scripts hold it (cheap to copy).
#[derive(Clone)]
pub struct VectorizerHandle(pub Arc<Vectorizer>);

/// A tf-idf weighting as scripts hold it.
#[derive(Clone)]
pub struct TfidfHandle(pub Arc<Tfidf>);

/// An int is a count of documents, a float a fraction, as in scikit-learn.
const DOC_FREQ: Kind = Kind::Either(&[Kind::Int(Bounds::NON_NEGATIVE), Kind::Number(Bounds::UNIT)]);

fn ngram_pair(v: &Dynamic) -> bool {
    v.read_lock::<Array>().is_some_and(|a| {
        let ints: Vec<i64> = a.iter().filter_map(|x| x.as_int().ok()).collect();
        matches!(ints.as_slice(), [lo, hi] if a.len() == 2 && *lo >= 1 && lo <= hi)
    })
}

const COUNT_OPTS: &[Opt] = &[
    Opt::new(
        "min_df",
        DOC_FREQ,
        D::Int(1),
        "drop terms in fewer documents (an int counts documents, a float is a fraction, compared unrounded as scikit-learn does)",
    ),
    Opt::new(
        "max_df",
        DOC_FREQ,
        D::Float(1.0),
        "drop terms in more documents (int or fraction, as min_df)",
    ),
    Opt::new(
        "max_features",
        Kind::Int(Bounds::POSITIVE_INT),
        D::None,
        "keep the most frequent terms (ties keep the earlier term); default all",
    ),
    Opt::new(
        "ngram_range",
        Kind::Value {
            expected: "[low, high] with 1 <= low <= high",
            check: ngram_pair,
        },
        D::Ints(&[1, 1]),
        "[1, 2] for unigrams and bigrams",
    ),
    Opt::new(
        "binary",
        Kind::Bool,
        D::Bool(false),
        "1 for every present term instead of its count",
    ),
    Opt::new(
        "lowercase",
        Kind::Bool,
        D::Bool(true),
        "lower-case before tokenizing",
    ),
    Opt::new(
        "stop_words",
        Kind::Either(&[Kind::Choice(&["english"]), Kind::Texts, Kind::Unit]),
        D::Unit,
        "\"english\" (scikit-learn's 318 words) or an array of words to drop",
    ),
];

const TFIDF_OPTS: &[Opt] = &[
    Opt::new(
        "norm",
        Kind::Either(&[Kind::Choice(&["l2", "l1"]), Kind::Unit]),
        D::Text("l2"),
        "each row's norm; () for none",
    ),
    Opt::new(
        "use_idf",
        Kind::Bool,
        D::Bool(true),
        "weight by inverse document frequency",
    ),
    Opt::new(
        "smooth_idf",
        Kind::Bool,
        D::Bool(true),
        "add one to document frequencies, as if one document held every term",
    ),
    Opt::new(
        "sublinear_tf",
        Kind::Bool,
        D::Bool(false),
        "1 + ln(tf) instead of tf",
    ),
];

pub static COUNT_VECTORIZER: Schema = Schema::new("text::count_vectorizer", &[COUNT_OPTS]);
pub static TFIDF: Schema = Schema::new("text::tfidf", &[TFIDF_OPTS]);
pub static TFIDF_VECTORIZER: Schema =
    Schema::new("text::tfidf_vectorizer", &[COUNT_OPTS, TFIDF_OPTS]);

pub static SCHEMAS: &[&Schema] = &[&COUNT_VECTORIZER, &TFIDF, &TFIDF_VECTORIZER];

fn doc_freq(opts: &Parsed, key: &str) -> Result<DocFreq> {
    Ok(match opts.raw(key)? {
        Some(v) if v.is_int() => DocFreq::Count(v.as_int().unwrap_or_default().max(0) as usize),
        Some(_) => DocFreq::Fraction(opts.float(key)?),
        None => match opts.opt_int(key)? {
            Some(i) => DocFreq::Count(i.max(0) as usize),
            None => DocFreq::Fraction(opts.float(key)?),
        },
    })
}

fn count_params(opts: &Parsed) -> Result<CountParams> {
    let mut p = CountParams {
        min_df: doc_freq(opts, "min_df")?,
        max_df: doc_freq(opts, "max_df")?,
        max_features: opts.opt_usize("max_features")?,
        binary: opts.flag("binary")?,
        ..CountParams::default()
    };
    if let [lo, hi] = opts.usizes("ngram_range")?.as_slice() {
        p.analyzer.ngram_range = (*lo, *hi);
    }
    p.analyzer.lowercase = opts.flag("lowercase")?;
    p.analyzer.stop_words = stop_words(opts)?;
    Ok(p)
}

/// The `stop_words` option (`"english"`, an array of words, or `()`) as a
/// set; its declared default decides what absence means.
pub fn stop_words(opts: &Parsed) -> Result<Option<ahash::AHashSet<String>>> {
    Ok(match opts.raw("stop_words")? {
        Some(v) if v.is_unit() => None,
        Some(v) if v.is_array() => Some(
            opts.opt_texts("stop_words")?
                .unwrap_or_default()
                .into_iter()
                .collect(),
        ),
        Some(_) => Some(english_stop_words()),
        None => opts.opt_text("stop_words")?.map(|_| english_stop_words()),
    })
}

fn tfidf_params(opts: &Parsed) -> Result<TfidfParams> {
    Ok(TfidfParams {
        norm: match opts.raw("norm")? {
            Some(v) if v.is_unit() => Norm::None,
            _ => match opts.text("norm")?.as_str() {
                "l1" => Norm::L1,
                _ => Norm::L2,
            },
        },
        use_idf: opts.flag("use_idf")?,
        smooth_idf: opts.flag("smooth_idf")?,
        sublinear_tf: opts.flag("sublinear_tf")?,
    })
}

/// Documents from an array of strings or a `Movies` (its overviews). Script
/// strings are shared, so this copies pointers, not text.
pub fn documents(value: &Dynamic, what: &str) -> Result<Vec<ImmutableString>> {
    if let Some(movies) = value.read_lock::<Movies>() {
        return Ok(movies.overviews().map(ImmutableString::from).collect());
    }
    let Some(array) = value.read_lock::<Array>() else {
        return Err(Error::invalid(format!(
            "{what}: expected an array of strings or a Movies, got {}",
            type_of(value)
        )));
    };
    array
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.clone().into_immutable_string().map_err(|t| {
                Error::invalid(format!("{what}: element {i} is {t}, expected a string"))
            })
        })
        .collect()
}

fn as_refs(docs: &[ImmutableString]) -> Vec<&str> {
    docs.iter().map(ImmutableString::as_str).collect()
}

#[export_module]
pub mod text_module {
    use std::path::Path;

    use rhai::{Array, Dynamic, Map, NativeCallContext};

    use super::{
        COUNT_VECTORIZER, TFIDF, TFIDF_VECTORIZER, TfidfHandle, VectorizerHandle, count_params,
        tfidf_params,
    };
    use crate::api::convert::{RhaiResult, located, string_array};
    use crate::text::{self, Tfidf, Vectorizer};

    /// A count vectorizer with scikit-learn's defaults (`CountVectorizer()`):
    /// lowercase, tokens of two or more word characters, no stop words.
    ///
    /// ```rhai
    /// let v = text::count_vectorizer();
    /// let x = v.fit_transform(["The cat sat.", "The dog sat!"]);
    /// assert_eq(v.vocabulary(), ["cat", "dog", "sat", "the"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn count_vectorizer(ctx: NativeCallContext) -> RhaiResult<VectorizerHandle> {
        count_vectorizer_with(ctx, Map::new())
    }

    /// A count vectorizer (`CountVectorizer(...)`).
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option (a fraction outside [0, 1], a bad `ngram_range`).
    ///
    /// ```rhai
    /// let v = text::count_vectorizer(#{ stop_words: "english", ngram_range: [1, 2] });
    /// v.fit(["The cat sat on the mat"]);
    /// assert_eq(v.vocabulary(), ["cat", "cat sat", "mat", "sat", "sat mat"]);
    /// ```
    #[rhai_fn(name = "count_vectorizer", return_raw)]
    pub fn count_vectorizer_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> RhaiResult<VectorizerHandle> {
        located(&ctx, || {
            let opts = COUNT_VECTORIZER.parse(options)?;
            Ok(VectorizerHandle(std::sync::Arc::new(Vectorizer::new(
                count_params(&opts)?,
                None,
            ))))
        })
    }

    /// A tf-idf weighting with scikit-learn's defaults (`TfidfTransformer()`:
    /// l2 norm, smooth idf).
    ///
    /// ```rhai
    /// let counts = text::count_vectorizer().fit_transform(["a cat", "a dog", "cat dog"]);
    /// let x = text::tfidf().fit_transform(counts);
    /// assert_eq(x.shape, [3, 2]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tfidf(ctx: NativeCallContext) -> RhaiResult<TfidfHandle> {
        tfidf_with(ctx, Map::new())
    }

    /// A tf-idf weighting (`TfidfTransformer(...)`).
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let t = text::tfidf(#{ sublinear_tf: true, norm: "l1" });
    /// ```
    #[rhai_fn(name = "tfidf", return_raw)]
    pub fn tfidf_with(ctx: NativeCallContext, options: Map) -> RhaiResult<TfidfHandle> {
        located(&ctx, || {
            let opts = TFIDF.parse(options)?;
            Ok(TfidfHandle(std::sync::Arc::new(Tfidf::new(tfidf_params(
                &opts,
            )?))))
        })
    }

    /// Counts and tf-idf in one (`TfidfVectorizer(...)`): every option of
    /// `count_vectorizer` and of `tfidf` (below).
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let v = text::tfidf_vectorizer(#{ ngram_range: [1, 2], min_df: 1, sublinear_tf: true });
    /// let x = v.fit_transform(["a red cat", "a red dog"]);
    /// assert_eq(x.shape, [2, 5]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tfidf_vectorizer(ctx: NativeCallContext, options: Map) -> RhaiResult<VectorizerHandle> {
        located(&ctx, || {
            let opts = TFIDF_VECTORIZER.parse(options)?;
            let v = Vectorizer::new(count_params(&opts)?, Some(tfidf_params(&opts)?));
            Ok(VectorizerHandle(std::sync::Arc::new(v)))
        })
    }

    /// The seed notebook's cleaning: every character of `chars` removed from
    /// every document (it stripped `","` and `"."` before counting).
    ///
    /// Arguments: `docs` — an array of strings or a `Movies` (its overviews);
    /// `chars` — the characters to remove.
    ///
    /// Errors: `docs` is neither.
    ///
    /// ```rhai
    /// assert_eq(text::remove_chars(["U.S. films, old."], ",."), ["US films old"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove_chars(ctx: NativeCallContext, docs: Dynamic, chars: &str) -> RhaiResult<Array> {
        located(&ctx, || {
            let docs = super::documents(&docs, "text::remove_chars")?;
            let cleaned: Vec<String> = docs
                .iter()
                .map(|d| d.chars().filter(|c| !chars.contains(*c)).collect())
                .collect();
            Ok(string_array(cleaned.iter().map(String::as_str)))
        })
    }

    /// Loads a vectorizer or tf-idf saved with `save`.
    ///
    /// Errors: not a genrelab model file, or a model of another kind.
    ///
    /// ```rhai
    /// let path = data::temp_path("v.safetensors");
    /// let v = text::count_vectorizer();
    /// v.fit(["red cat", "blue dog"]);
    /// v.save(path);
    /// assert_eq(text::load(path).vocabulary(), ["blue", "cat", "dog", "red"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<Dynamic> {
        located(&ctx, || {
            Ok(match text::load(Path::new(path))? {
                text::LoadedText::Vectorizer(v) => {
                    Dynamic::from(VectorizerHandle(std::sync::Arc::new(*v)))
                }
                text::LoadedText::Tfidf(t) => Dynamic::from(TfidfHandle(std::sync::Arc::new(t))),
            })
        })
    }
}

#[export_module]
pub mod text_methods {
    use std::path::Path;
    use std::sync::Arc;

    use rhai::{Array, Dynamic, INT};

    use super::{TfidfHandle, VectorizerHandle, as_refs, documents};
    use crate::api::convert::{RhaiResult, string_array};
    use crate::error::Error;
    use crate::matrix::Sparse;

    /// Learns the vocabulary (and idf) from `docs` — an array of strings or a
    /// `Movies` (its overviews) — and returns the fitted vectorizer.
    ///
    /// Errors: no documents; an empty vocabulary (only stop words or
    /// one-letter tokens); every term pruned by `min_df` / `max_df`.
    ///
    /// ```rhai
    /// let v = text::count_vectorizer(#{ min_df: 2 });
    /// v.fit(["red cat", "red dog", "blue cat"]);
    /// assert_eq(v.vocabulary(), ["cat", "red"]);
    /// ```
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn vectorizer_fit(v: &mut VectorizerHandle, docs: Dynamic) -> RhaiResult<VectorizerHandle> {
        vectorizer_fit_transform(v, docs)?;
        Ok(v.clone())
    }

    /// Fits on `docs` and returns their matrix (`Sparse`, one row per document).
    ///
    /// Errors: as `fit`.
    ///
    /// ```rhai
    /// let x = text::count_vectorizer().fit_transform(["red cat", "red red dog"]);
    /// assert_eq(x.row(1), [0.0, 1.0, 2.0]);
    /// ```
    #[rhai_fn(global, name = "fit_transform", return_raw)]
    pub fn vectorizer_fit_transform(v: &mut VectorizerHandle, docs: Dynamic) -> RhaiResult<Sparse> {
        let docs = documents(&docs, "fit_transform")?;
        let mut fitted = (*v.0).clone();
        let x = fitted.fit_transform(&as_refs(&docs))?;
        v.0 = Arc::new(fitted);
        Ok(Sparse::new(x))
    }

    /// The matrix of `docs` with the fitted vocabulary; unknown words are ignored.
    ///
    /// Errors: not fitted yet; `docs` not an array of strings or a `Movies`.
    ///
    /// ```rhai
    /// let v = text::count_vectorizer();
    /// v.fit(["red cat"]);
    /// assert_eq(v.transform(["a red fox"]).row(0), [0.0, 1.0]);
    /// ```
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn vectorizer_transform(v: &mut VectorizerHandle, docs: Dynamic) -> RhaiResult<Sparse> {
        let docs = documents(&docs, "transform")?;
        Ok(Sparse::new(v.0.transform(&as_refs(&docs))?))
    }

    /// The terms, in column order (`get_feature_names_out()`).
    ///
    /// Errors: not fitted yet.
    #[rhai_fn(global, name = "vocabulary", return_raw, pure)]
    pub fn vectorizer_vocabulary(v: &mut VectorizerHandle) -> RhaiResult<Array> {
        let vocab =
            v.0.vocabulary
                .as_ref()
                .ok_or_else(|| Error::invalid("vocabulary: not fitted yet"))?;
        Ok(string_array(vocab.terms().iter().map(String::as_str)))
    }

    /// The number of terms (0 before fitting).
    #[rhai_fn(global, name = "len", get = "len", pure)]
    pub fn vectorizer_len(v: &mut VectorizerHandle) -> INT {
        v.0.vocabulary.as_ref().map_or(0, |voc| voc.len() as INT)
    }

    /// Writes the fitted vectorizer (vocabulary, parameters, idf) to a
    /// `.safetensors` file.
    ///
    /// Errors: not fitted; another extension; the file cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn vectorizer_save(v: &mut VectorizerHandle, path: &str) -> RhaiResult<()> {
        Ok(v.0.save(Path::new(path))?)
    }

    /// Kind, parameters and vocabulary size.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn vectorizer_describe(v: &mut VectorizerHandle) -> String {
        let v = &v.0;
        let kind = if v.tfidf.is_some() {
            "TfidfVectorizer"
        } else {
            "CountVectorizer"
        };
        let p = &v.params;
        let fitted = v
            .vocabulary
            .as_ref()
            .map_or("not fitted".to_string(), |voc| {
                format!("{} terms", voc.len())
            });
        format!(
            "{kind}(min_df={:?}, max_df={:?}, max_features={:?}, ngram_range={:?}, binary={}, stop_words={}) — {fitted}",
            p.min_df,
            p.max_df,
            p.max_features,
            p.analyzer.ngram_range,
            p.binary,
            p.analyzer
                .stop_words
                .as_ref()
                .map_or("none".to_string(), |s| format!("{} words", s.len()))
        )
    }

    /// Learns the idf of each column of a count matrix; returns the fitted weighting.
    ///
    /// ```rhai
    /// let t = text::tfidf();
    /// t.fit(text::count_vectorizer().fit_transform(["a cat", "a dog"]));
    /// assert_eq(t.idf().len(), 2);
    /// ```
    #[rhai_fn(global, name = "fit", pure)]
    pub fn tfidf_fit(t: &mut TfidfHandle, counts: Sparse) -> TfidfHandle {
        let mut fitted = (*t.0).clone();
        fitted.fit(counts.csr());
        t.0 = Arc::new(fitted);
        t.clone()
    }

    /// Fits on `counts` and returns them weighted and normalised.
    #[rhai_fn(global, name = "fit_transform", return_raw)]
    pub fn tfidf_fit_transform(t: &mut TfidfHandle, counts: Sparse) -> RhaiResult<Sparse> {
        tfidf_fit(t, counts.clone());
        Ok(Sparse::new(t.0.transform(counts.csr())?))
    }

    /// Weights and normalises `counts` with the fitted idf.
    ///
    /// Errors: not fitted; a different number of columns than at fit time.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn tfidf_transform(t: &mut TfidfHandle, counts: Sparse) -> RhaiResult<Sparse> {
        Ok(Sparse::new(t.0.transform(counts.csr())?))
    }

    /// The idf weight of each column (`idf_`); empty before fitting or without `use_idf`.
    #[rhai_fn(global, name = "idf", pure)]
    pub fn tfidf_idf(t: &mut TfidfHandle) -> Array {
        t.0.idf
            .iter()
            .flatten()
            .map(|&v| Dynamic::from_float(v))
            .collect()
    }

    /// Writes the fitted weighting to a `.safetensors` file.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn tfidf_save(t: &mut TfidfHandle, path: &str) -> RhaiResult<()> {
        Ok(t.0.save(Path::new(path))?)
    }

    /// Its parameters.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn tfidf_describe(t: &mut TfidfHandle) -> String {
        let p = &t.0.params;
        format!(
            "TfidfTransformer(norm={:?}, use_idf={}, smooth_idf={}, sublinear_tf={}){}",
            p.norm,
            p.use_idf,
            p.smooth_idf,
            p.sublinear_tf,
            if t.0.fitted { "" } else { " — not fitted" }
        )
    }
}
