//! `svm::` and `nb::` — one-vs-rest linear SVMs (with grid search) and
//! multinomial naive Bayes over sparse text features
//! ([`crate::linear::estimators`]).

use rhai::plugin::*;

#[export_module]
pub mod svm_module {
    use std::path::Path;

    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options, session_seed};
    use crate::linear::estimators::{
        GridSearchOptions, LinearSvcOptions, SvcOptions, Svm, SvmSpec,
    };

    /// A one-vs-rest linear SVM with `LinearSVC`'s problem and defaults: C 1,
    /// squared hinge loss, a bias penalised like a weight (`intercept_scaling`
    /// 1), tol 1e-4, max_iter 1000, solved by LIBLINEAR's dual coordinate
    /// descent on the sparse rows, labels in parallel.
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let x = text::count_vectorizer().fit_transform(["gun fight", "love kiss", "gun chase", "kiss wedding"]);
    /// let y = data::binarizer([["Action"], ["Romance"]]).transform([["Action"], ["Romance"], ["Action"], ["Romance"]]);
    /// let model = svm::linear(#{ c: 1.0 }).fit(x, y);
    /// assert_eq(model.predict(x).to_array(), y.to_array());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn linear(ctx: NativeCallContext, options: Map) -> RhaiResult<Svm> {
        located(&ctx, || {
            let o: LinearSvcOptions = self::options(options)?;
            Ok(Svm::new(SvmSpec::Fixed((&o).into())))
        })
    }

    /// `SVC(kernel="linear")`'s problem: hinge loss and an unpenalised bias
    /// (libsvm's), tol 1e-3 — what the seed notebook fitted. Solved here by
    /// dual coordinate descent with a bisection on the bias, far faster than
    /// libsvm's kernel SMO on text.
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let s = svm::svc(#{ c: 0.1, class_weight: "balanced" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn svc(ctx: NativeCallContext, options: Map) -> RhaiResult<Svm> {
        located(&ctx, || {
            let o: SvcOptions = self::options(options)?;
            Ok(Svm::new(SvmSpec::Fixed((&o).into())))
        })
    }

    /// The seed's `OneVsRestClassifier(GridSearchCV(SVC(kernel="linear"),
    /// {"C": c}, scoring=..., cv=folds))`: per label, stratified k-fold
    /// cross-validation over C (scikit-learn's `StratifiedKFold` folds), then a
    /// refit on all rows with the best C. All fits run in parallel.
    ///
    /// Arguments: `options` (below): the search's and those of its model.
    ///
    /// Errors: a bad option; folds larger than a label's classes.
    ///
    /// ```rhai
    /// let g = svm::grid_search(#{ c: [0.1, 1.0], folds: 2, class_weight: "balanced" });
    /// let x = text::count_vectorizer().fit_transform(["gun fight", "love kiss", "gun chase", "kiss wedding"]);
    /// let y = data::binarizer([["Action"]]).transform([["Action"], [], ["Action"], []]);
    /// g.fit(x, y);
    /// assert_eq(g.best_params().Action, 0.1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn grid_search(ctx: NativeCallContext, options: Map) -> RhaiResult<Svm> {
        located(&ctx, || {
            let o: GridSearchOptions = self::options(options)?;
            let grid = o.params(|| Ok(session_seed(&ctx)? as u32))?;
            Ok(Svm::new(SvmSpec::Grid(grid)))
        })
    }

    /// Loads an SVM saved with `save`.
    ///
    /// Errors: not a genrelab model file, or not an SVM.
    ///
    /// ```rhai
    /// let x = text::count_vectorizer().fit_transform(["gun", "kiss"]);
    /// let y = data::binarizer([["Action"]]).transform([["Action"], []]);
    /// let path = data::temp_path("svm.safetensors");
    /// svm::linear(#{}).fit(x, y).save(path);
    /// assert_eq(svm::load(path).predict(x).to_array(), [[1], [0]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<Svm> {
        located(&ctx, || Svm::load(Path::new(path)))
    }
}

#[export_module]
pub mod nb_module {
    use std::path::Path;

    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options};
    use crate::linear::estimators::NaiveBayes;

    /// One-vs-rest multinomial naive Bayes (`OneVsRestClassifier(MultinomialNB())`)
    /// with alpha 1 and fitted priors.
    ///
    /// ```rhai
    /// let x = text::count_vectorizer().fit_transform(["gun fight", "love kiss", "gun chase"]);
    /// let y = data::binarizer([["Action"]]).transform([["Action"], [], ["Action"]]);
    /// let nb = nb::multinomial().fit(x, y);
    /// assert(nb.predict_proba(x).row(0)[0] > 0.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn multinomial(ctx: NativeCallContext) -> RhaiResult<NaiveBayes> {
        multinomial_with(ctx, Map::new())
    }

    /// Multinomial naive Bayes with options.
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let nb = nb::multinomial(#{ alpha: 0.1, fit_prior: false });
    /// ```
    #[rhai_fn(name = "multinomial", return_raw)]
    pub fn multinomial_with(ctx: NativeCallContext, options: Map) -> RhaiResult<NaiveBayes> {
        located(&ctx, || Ok(NaiveBayes::new(self::options(options)?)))
    }

    /// Loads a naive Bayes model saved with `save`.
    ///
    /// Errors: not a genrelab model file, or not naive Bayes.
    ///
    /// ```rhai
    /// let x = text::count_vectorizer().fit_transform(["gun", "kiss"]);
    /// let y = data::binarizer([["Action"]]).transform([["Action"], []]);
    /// let path = data::temp_path("nb.safetensors");
    /// nb::multinomial().fit(x, y).save(path);
    /// assert_eq(nb::load(path).predict(x).to_array(), [[1], [0]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<NaiveBayes> {
        located(&ctx, || NaiveBayes::load(Path::new(path)))
    }
}

#[export_module]
pub mod svm_methods {
    use std::path::Path;

    use rhai::{Dynamic, Map};

    use crate::api::convert::{RhaiResult, to_map, to_script};
    use crate::data::Labels;
    use crate::linear::estimators::Svm;
    use crate::matrix::{Matrix, Sparse};

    /// Fits one binary SVM per label column of `labels` on the rows of `x`
    /// (grid-searching C first for a `grid_search`); returns the fitted model.
    ///
    /// Errors: `x` and `labels` with different numbers of rows. A label
    /// present in every row, or in none, is predicted constantly, with a warning.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn svm_fit(model: &mut Svm, x: Sparse, labels: Labels) -> RhaiResult<Svm> {
        model.fit(&x, &labels)?;
        Ok(model.clone())
    }

    /// w·x + b for each row and label (`Matrix`, columns named by the labels).
    ///
    /// Errors: not fitted; `x` with other columns than at fit time.
    #[rhai_fn(global, name = "decision_function", return_raw, pure)]
    pub fn svm_decision(model: &mut Svm, x: Sparse) -> RhaiResult<Matrix> {
        Ok(model.decision_function(&x)?)
    }

    /// The labels with a positive decision value.
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn svm_predict(model: &mut Svm, x: Sparse) -> RhaiResult<Labels> {
        Ok(model.fitted()?.predict(x.csr())?)
    }

    /// Label -> the C it was fitted with (the grid's choice after a grid search).
    ///
    /// Errors: not fitted.
    #[rhai_fn(global, name = "best_params", return_raw, pure)]
    pub fn svm_best_params(model: &mut Svm) -> RhaiResult<Map> {
        Ok(to_map(&model.best_params()?)?)
    }

    /// Label -> mean cross-validation score of each candidate C, in the
    /// grid's order (`()` for a model that was not grid-searched).
    ///
    /// Errors: not fitted.
    #[rhai_fn(global, name = "cv_results", return_raw, pure)]
    pub fn svm_cv_results(model: &mut Svm) -> RhaiResult<Dynamic> {
        Ok(to_script(&model.cv_results()?)?)
    }

    /// Writes the fitted SVM (weights, biases, C per label, parameters) to a
    /// `.safetensors` file.
    ///
    /// Errors: not fitted; another extension; the file cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn svm_save(model: &mut Svm, path: &str) -> RhaiResult<()> {
        Ok(model.fitted()?.save(Path::new(path))?)
    }

    /// The recipe and, once fitted, labels, features and the C per label.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn svm_describe(model: &mut Svm) -> String {
        model.to_string()
    }
}

#[export_module]
pub mod nb_methods {
    use std::path::Path;

    use rhai::{INT, Map};

    use crate::api::convert::{RhaiResult, count, to_map};
    use crate::data::Labels;
    use crate::linear::estimators::NaiveBayes;
    use crate::matrix::{Matrix, Sparse};
    use crate::text::VectorizerRef;

    /// Fits naive Bayes on the rows of `x` (counts or tf-idf, non-negative);
    /// returns the fitted model.
    ///
    /// Errors: negative values in `x`; `x` and `labels` with different rows.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn nb_fit(model: &mut NaiveBayes, x: Sparse, labels: Labels) -> RhaiResult<NaiveBayes> {
        model.fit(&x, &labels)?;
        Ok(model.clone())
    }

    /// P(label | x) for each row and label, computed without overflow
    /// (`Matrix`, columns named by the labels).
    ///
    /// Errors: not fitted; `x` with other columns than at fit time.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn nb_predict_proba(model: &mut NaiveBayes, x: Sparse) -> RhaiResult<Matrix> {
        Ok(model.predict_proba(&x)?)
    }

    /// The labels with probability above 0.5.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn nb_predict(model: &mut NaiveBayes, x: Sparse) -> RhaiResult<Labels> {
        Ok(model.fitted()?.predict(x.csr())?)
    }

    /// Label -> its `k` most indicative terms: the largest
    /// log P(term | label) − log P(term | not label).
    ///
    /// Errors: not fitted; a vectorizer with another vocabulary size.
    ///
    /// ```rhai
    /// let v = text::count_vectorizer();
    /// let x = v.fit_transform(["gun fight", "love kiss", "gun chase"]);
    /// let y = data::binarizer([["Action"]]).transform([["Action"], [], ["Action"]]);
    /// let nb = nb::multinomial().fit(x, y);
    /// assert_eq(nb.top_terms(v, 1).Action, ["gun"]);
    /// ```
    #[rhai_fn(global, name = "top_terms", return_raw, pure)]
    pub fn nb_top_terms(
        model: &mut NaiveBayes,
        vectorizer: VectorizerRef,
        k: INT,
    ) -> RhaiResult<Map> {
        let k = count(k, "top_terms: k")?;
        Ok(to_map(
            &model.top_terms(vectorizer.0.vocabulary.as_ref(), k)?,
        )?)
    }

    /// Writes the fitted model to a `.safetensors` file.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn nb_save(model: &mut NaiveBayes, path: &str) -> RhaiResult<()> {
        Ok(model.fitted()?.save(Path::new(path))?)
    }

    /// Its parameters and, once fitted, its size.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn nb_describe(model: &mut NaiveBayes) -> String {
        model.to_string()
    }
}
