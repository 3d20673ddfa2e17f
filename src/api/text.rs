//! `text::` — vectorizers with scikit-learn's names, defaults and results
//! ([`crate::text::vectorizer`]).

use rhai::plugin::*;

#[export_module]
pub mod text_module {
    use std::path::Path;

    use rhai::{Array, Dynamic, Map, NativeCallContext};

    use crate::api::convert::{Documents, RhaiResult, located, options, seeded, string_array};
    use crate::text::svd::{Svd, SvdOptions};
    use crate::text::vectorizer::{CountOptions, TfidfVectorizerOptions};
    use crate::text::{self, TfidfParams, TfidfRef, VectorizerRef};

    /// A count vectorizer with scikit-learn's defaults (`CountVectorizer()`):
    /// lowercase, tokens of two or more word characters, no stop words.
    ///
    /// ```rhai
    /// let v = text::count_vectorizer();
    /// let x = v.fit_transform(["The cat sat.", "The dog sat!"]);
    /// assert_eq(v.vocabulary(), ["cat", "dog", "sat", "the"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn count_vectorizer(ctx: NativeCallContext) -> RhaiResult<VectorizerRef> {
        count_vectorizer_with(ctx, Map::new())
    }

    /// A count vectorizer (`CountVectorizer(...)`).
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option (a fraction outside [0, 1], a bad `ngram_range`,
    /// a `token_pattern` that does not compile or has two capturing groups,
    /// a repeated term in `vocabulary`); `stop_words` or `token_pattern`
    /// with a character analyzer, which would ignore them.
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
    ) -> RhaiResult<VectorizerRef> {
        located(&ctx, || {
            VectorizerRef::count(&self::options::<CountOptions>(options)?)
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
    pub fn tfidf(ctx: NativeCallContext) -> RhaiResult<TfidfRef> {
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
    pub fn tfidf_with(ctx: NativeCallContext, options: Map) -> RhaiResult<TfidfRef> {
        located(&ctx, || {
            Ok(TfidfRef::new(&self::options::<TfidfParams>(options)?))
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
    pub fn tfidf_vectorizer(ctx: NativeCallContext, options: Map) -> RhaiResult<VectorizerRef> {
        located(&ctx, || {
            VectorizerRef::tfidf(&self::options::<TfidfVectorizerOptions>(options)?)
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
            let docs = Documents::of(&docs, "text::remove_chars")?;
            let cleaned = text::tokenize::remove_chars(&docs.refs(), chars);
            Ok(string_array(cleaned.iter().map(String::as_str)))
        })
    }

    /// scikit-learn's `TruncatedSVD` (randomized; options below): `fit` on
    /// training rows (a `Sparse` tf-idf or a `Matrix`), `transform` any rows
    /// onto the components — the reference's D2 features.
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let x = text::tfidf_vectorizer(#{}).fit_transform(["a red cat", "a red dog", "a blue dog", "the cat sat"]);
    /// let svd = text::truncated_svd(#{ n_components: 2, seed: 0 }).fit(x);
    /// assert_eq(svd.transform(x).shape, [4, 2]);
    /// assert(svd.explained_variance_ratio().len() == 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn truncated_svd(ctx: NativeCallContext, options: Map) -> RhaiResult<Svd> {
        located(&ctx, || Ok(Svd::new(seeded::<SvdOptions>(&ctx, options)?)))
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
                text::LoadedText::Vectorizer(v) => Dynamic::from(VectorizerRef((*v).into())),
                text::LoadedText::Tfidf(t) => Dynamic::from(TfidfRef(t.into())),
            })
        })
    }
}

#[export_module]
pub mod text_methods {
    use std::path::Path;

    use rhai::{Array, Dynamic, INT};

    use crate::api::convert::{Documents, RhaiResult, features, float_array, string_array};
    use crate::matrix::{Matrix, Sparse};
    use crate::text::svd::Svd;
    use crate::text::{TfidfRef, VectorizerRef};

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
    pub fn vectorizer_fit(v: &mut VectorizerRef, docs: Dynamic) -> RhaiResult<VectorizerRef> {
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
    pub fn vectorizer_fit_transform(v: &mut VectorizerRef, docs: Dynamic) -> RhaiResult<Sparse> {
        let docs = Documents::of(&docs, "fit_transform")?;
        Ok(Sparse::new(v.fit_transform(&docs.refs())?))
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
    pub fn vectorizer_transform(v: &mut VectorizerRef, docs: Dynamic) -> RhaiResult<Sparse> {
        let docs = Documents::of(&docs, "transform")?;
        Ok(Sparse::new(v.0.transform(&docs.refs())?))
    }

    /// The terms, in column order (`get_feature_names_out()`).
    ///
    /// Errors: not fitted yet.
    #[rhai_fn(global, name = "vocabulary", return_raw, pure)]
    pub fn vectorizer_vocabulary(v: &mut VectorizerRef) -> RhaiResult<Array> {
        Ok(string_array(v.terms()?.iter().map(String::as_str)))
    }

    /// The terms of one document, in order, as they are counted: scikit-learn's
    /// `build_analyzer()(doc)` (lower-casing, accents, the token pattern or
    /// character n-grams, stop words, n-grams). Needs no fitting.
    ///
    /// ```rhai
    /// let v = text::count_vectorizer(#{ ngram_range: [1, 2], strip_accents: "unicode" });
    /// assert_eq(v.analyze("Très bon café"), ["tres", "bon", "cafe", "tres bon", "bon cafe"]);
    /// ```
    #[rhai_fn(global, name = "analyze", pure)]
    pub fn vectorizer_analyze(v: &mut VectorizerRef, doc: &str) -> Array {
        string_array(v.0.analyze(doc).iter().map(String::as_str))
    }

    /// The idf weight of each term, in column order (`TfidfVectorizer.idf_`).
    ///
    /// Errors: a count vectorizer; not fitted yet; made with `use_idf: false`.
    ///
    /// ```rhai
    /// let v = text::tfidf_vectorizer(#{});
    /// v.fit(["a cat", "a dog", "cat dog"]);
    /// assert_eq(v.vocabulary(), ["cat", "dog"]);
    /// // smooth idf: ln((1 + 3) / (1 + 2)) + 1 for both
    /// assert_eq(v.idf().map(|w| (w * 1e6).round() / 1e6), [1.287682, 1.287682]);
    /// ```
    #[rhai_fn(global, name = "idf", return_raw, pure)]
    pub fn vectorizer_idf(v: &mut VectorizerRef) -> RhaiResult<Array> {
        Ok(float_array(v.0.idf()?.iter().copied()))
    }

    /// The number of terms (0 before fitting).
    #[rhai_fn(global, name = "len", get = "len", pure)]
    pub fn vectorizer_len(v: &mut VectorizerRef) -> INT {
        v.0.vocabulary.as_ref().map_or(0, |voc| voc.len() as INT)
    }

    /// Writes the fitted vectorizer (vocabulary, parameters, idf) to a
    /// `.safetensors` file.
    ///
    /// Errors: not fitted; another extension; the file cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn vectorizer_save(v: &mut VectorizerRef, path: &str) -> RhaiResult<()> {
        Ok(v.0.save(Path::new(path))?)
    }

    /// Kind, parameters and vocabulary size.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn vectorizer_describe(v: &mut VectorizerRef) -> String {
        v.to_string()
    }

    /// Learns the idf of each column of a count matrix; returns the fitted weighting.
    ///
    /// ```rhai
    /// let t = text::tfidf();
    /// t.fit(text::count_vectorizer().fit_transform(["a cat", "a dog"]));
    /// assert_eq(t.idf().len(), 2);
    /// ```
    #[rhai_fn(global, name = "fit", pure)]
    pub fn tfidf_fit(t: &mut TfidfRef, counts: Sparse) -> TfidfRef {
        t.fit(counts.csr());
        t.clone()
    }

    /// Fits on `counts` and returns them weighted and normalised.
    #[rhai_fn(global, name = "fit_transform", return_raw)]
    pub fn tfidf_fit_transform(t: &mut TfidfRef, counts: Sparse) -> RhaiResult<Sparse> {
        t.fit(counts.csr());
        Ok(Sparse::new(t.0.transform(counts.csr())?))
    }

    /// Weights and normalises `counts` with the fitted idf.
    ///
    /// Errors: not fitted; a different number of columns than at fit time.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn tfidf_transform(t: &mut TfidfRef, counts: Sparse) -> RhaiResult<Sparse> {
        Ok(Sparse::new(t.0.transform(counts.csr())?))
    }

    /// The idf weight of each column (`idf_`); empty before fitting or without `use_idf`.
    #[rhai_fn(global, name = "idf", pure)]
    pub fn tfidf_idf(t: &mut TfidfRef) -> Array {
        float_array(t.0.idf.iter().flatten().copied())
    }

    /// Writes the fitted weighting to a `.safetensors` file.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn tfidf_save(t: &mut TfidfRef, path: &str) -> RhaiResult<()> {
        Ok(t.0.save(Path::new(path))?)
    }

    /// Its parameters.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn tfidf_describe(t: &mut TfidfRef) -> String {
        t.to_string()
    }

    /// Learns the components from `x` (`Matrix` or `Sparse`; a `Sparse` one
    /// is multiplied sparse, never densified); returns the SVD.
    ///
    /// Errors: n_components not below the smaller side; NaN values; the
    /// small SVD not converging (named as such).
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn svd_fit(svd: &mut Svd, x: Dynamic) -> RhaiResult<Svd> {
        svd.fit(&features(&x, "truncated_svd: fit")?)?;
        Ok(svd.clone())
    }

    /// `x` on the components (`Matrix`, rows × n_components).
    ///
    /// Errors: not fitted; another column count.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn svd_transform(svd: &mut Svd, x: Dynamic) -> RhaiResult<Matrix> {
        Ok(svd.transform(&features(&x, "truncated_svd: transform")?)?)
    }

    /// The variance of each component's projection over the variance of the
    /// data (scikit-learn's `explained_variance_ratio_`).
    ///
    /// Errors: not fitted.
    #[rhai_fn(global, name = "explained_variance_ratio", return_raw, pure)]
    pub fn svd_ratio(svd: &mut Svd) -> RhaiResult<Array> {
        Ok(float_array(svd.explained_variance_ratio()?.iter().copied()))
    }
}
