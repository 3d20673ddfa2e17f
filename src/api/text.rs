//! `text::` — vectorizers with scikit-learn's names, defaults and results.

use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, ImmutableString};

use crate::api::convert::{Options, number, strings, type_of};
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

const COUNT_KEYS: &[&str] = &[
    "min_df",
    "max_df",
    "max_features",
    "ngram_range",
    "binary",
    "lowercase",
    "stop_words",
];
const TFIDF_KEYS: &[&str] = &["norm", "use_idf", "smooth_idf", "sublinear_tf"];

/// An int is a count of documents, a float a fraction, as in scikit-learn.
fn doc_freq(opts: &Options, key: &str, value: Option<&Dynamic>) -> Result<Option<DocFreq>> {
    let Some(v) = value else { return Ok(None) };
    if let Ok(i) = v.as_int() {
        return crate::api::convert::count(i, &format!("option '{key}'"))
            .map(|c| Some(DocFreq::Count(c)));
    }
    let f = number(v, &format!("{}: option '{key}'", opts.function()))?;
    if !(0.0..=1.0).contains(&f) {
        return Err(Error::invalid(format!(
            "{}: option '{key}' as a float is a fraction of documents and must be in [0, 1], got {f}",
            opts.function()
        )));
    }
    Ok(Some(DocFreq::Fraction(f)))
}

fn count_params(opts: &Options) -> Result<CountParams> {
    let mut p = CountParams::default();
    if let Some(v) = doc_freq(opts, "min_df", opts.get("min_df"))? {
        p.min_df = v;
    }
    if let Some(v) = doc_freq(opts, "max_df", opts.get("max_df"))? {
        p.max_df = v;
    }
    p.max_features = opts.count("max_features")?;
    if let Some(range) = opts.get("ngram_range") {
        let bad = || {
            Error::invalid(format!(
                "{}: option 'ngram_range' must be [low, high] with 1 <= low <= high",
                opts.function()
            ))
        };
        let pair = range.read_lock::<Array>().ok_or_else(bad)?;
        let ints: Vec<i64> = pair.iter().filter_map(|v| v.as_int().ok()).collect();
        match ints.as_slice() {
            [lo, hi] if pair.len() == 2 && *lo >= 1 && lo <= hi => {
                p.analyzer.ngram_range = (*lo as usize, *hi as usize)
            }
            _ => return Err(bad()),
        }
    }
    p.binary = opts.boolean("binary")?.unwrap_or(false);
    p.analyzer.lowercase = opts.boolean("lowercase")?.unwrap_or(true);
    if let Some(v) = opts.get("stop_words") {
        p.analyzer.stop_words = if v.is_unit() {
            None
        } else if let Some(list) = v.read_lock::<Array>() {
            Some(strings(&list, "option 'stop_words'")?.into_iter().collect())
        } else if v.clone().into_string().as_deref() == Ok("english") {
            Some(english_stop_words())
        } else {
            return Err(Error::invalid(format!(
                "{}: option 'stop_words' must be \"english\", an array of words or (), got {}",
                opts.function(),
                type_of(v)
            )));
        };
    }
    Ok(p)
}

fn tfidf_params(opts: &Options) -> Result<TfidfParams> {
    let mut p = TfidfParams::default();
    if let Some(v) = opts.get("norm") {
        p.norm = match v.clone().into_string().as_deref() {
            Ok("l2") => Norm::L2,
            Ok("l1") => Norm::L1,
            _ if v.is_unit() => Norm::None,
            _ => {
                return Err(Error::invalid(format!(
                    "{}: option 'norm' must be \"l2\", \"l1\" or ()",
                    opts.function()
                )));
            }
        };
    }
    p.use_idf = opts.boolean("use_idf")?.unwrap_or(true);
    p.smooth_idf = opts.boolean("smooth_idf")?.unwrap_or(true);
    p.sublinear_tf = opts.boolean("sublinear_tf")?.unwrap_or(false);
    Ok(p)
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
        COUNT_KEYS, TFIDF_KEYS, TfidfHandle, VectorizerHandle, count_params, tfidf_params,
    };
    use crate::api::convert::{Options, RhaiResult, located, string_array};
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
    /// Arguments: `options` — `min_df`, `max_df` (an int is a number of
    /// documents, a float a fraction, compared unrounded as scikit-learn
    /// does), `max_features` (most frequent terms; ties keep the earlier
    /// term), `ngram_range` (`[1, 2]` for unigrams and bigrams), `binary`,
    /// `lowercase`, `stop_words` (`"english"` — scikit-learn's 318 words — or
    /// an array).
    ///
    /// Errors: an unknown option; a fraction outside [0, 1]; a bad `ngram_range`.
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
            let opts = Options::new("text::count_vectorizer", options, COUNT_KEYS)?;
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
    /// Arguments: `options` — `norm` (`"l2"`, `"l1"` or `()`), `use_idf`,
    /// `smooth_idf`, `sublinear_tf`.
    ///
    /// Errors: an unknown option or norm.
    ///
    /// ```rhai
    /// let t = text::tfidf(#{ sublinear_tf: true, norm: "l1" });
    /// ```
    #[rhai_fn(name = "tfidf", return_raw)]
    pub fn tfidf_with(ctx: NativeCallContext, options: Map) -> RhaiResult<TfidfHandle> {
        located(&ctx, || {
            let opts = Options::new("text::tfidf", options, TFIDF_KEYS)?;
            Ok(TfidfHandle(std::sync::Arc::new(Tfidf::new(tfidf_params(
                &opts,
            )?))))
        })
    }

    /// Counts and tf-idf in one (`TfidfVectorizer(...)`): every option of
    /// `count_vectorizer` and of `tfidf`.
    ///
    /// Errors: an unknown option.
    ///
    /// ```rhai
    /// let v = text::tfidf_vectorizer(#{ ngram_range: [1, 2], min_df: 1, sublinear_tf: true });
    /// let x = v.fit_transform(["a red cat", "a red dog"]);
    /// assert_eq(x.shape, [2, 5]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tfidf_vectorizer(ctx: NativeCallContext, options: Map) -> RhaiResult<VectorizerHandle> {
        located(&ctx, || {
            let keys: Vec<&str> = COUNT_KEYS.iter().chain(TFIDF_KEYS).copied().collect();
            let opts = Options::new("text::tfidf_vectorizer", options, &keys)?;
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
