//! `linear::` — scikit-learn's `linear_model`: one-vs-rest L2 logistic
//! regression on dense `Matrix` features (poster CNN features, embeddings,
//! SVD of tf-idf) or sparse tf-idf. Its own module (not `svm::`): it is a
//! different model, with probabilities, and a different solver.

use rhai::plugin::*;

#[export_module]
pub mod logistic_module {
    use std::path::Path;

    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options};
    use crate::linear::estimators::{LogisticOptions, LogisticRegression};

    /// One-vs-rest L2 logistic regression, scikit-learn's
    /// `OneVsRestClassifier(LogisticRegression(solver="lbfgs"))`: per label,
    /// ½‖w‖² + C Σ log-loss, the intercept unpenalised, solved by L-BFGS;
    /// labels in parallel. Same coefficients as scikit-learn at convergence.
    ///
    /// Arguments: `options` (below).
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let x = data::matrix([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]]);
    /// let y = data::binarizer([["A"], ["B"]]).transform([["B"], ["A"], ["B"], ["A"]]);
    /// let model = linear::logistic(#{ c: 10.0 }).fit(x, y);
    /// assert_eq(model.predict(x).to_array(), y.to_array());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn logistic(ctx: NativeCallContext, options: Map) -> RhaiResult<LogisticRegression> {
        located(&ctx, || {
            let o: LogisticOptions = self::options(options)?;
            Ok(LogisticRegression::new(&o))
        })
    }

    /// Loads a logistic regression saved with `save`.
    ///
    /// Errors: not a genrelab model file, or not a logistic regression.
    ///
    /// ```rhai
    /// let x = data::matrix([[0.0], [1.0]]);
    /// let y = data::binarizer([["A"]]).transform([[], ["A"]]);
    /// let path = data::temp_path("lr.safetensors");
    /// linear::logistic(#{ c: 100.0 }).fit(x, y).save(path);
    /// assert_eq(linear::load(path).predict(x).to_array(), [[0], [1]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<LogisticRegression> {
        located(&ctx, || LogisticRegression::load(Path::new(path)))
    }
}

#[export_module]
pub mod logistic_methods {
    use crate::api::convert::RhaiResult;
    use crate::data::Labels;
    use crate::linear::estimators::LogisticRegression;
    use crate::matrix::{Features, Matrix, Sparse};

    /// Fits one binary problem per label column on dense features and
    /// returns the model; labels whose solver reached `max_iter` first are
    /// named in a warning.
    ///
    /// Errors: rows of `x` and `labels` differ; NaN or infinite features.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn fit(
        model: &mut LogisticRegression,
        x: Matrix,
        labels: Labels,
    ) -> RhaiResult<LogisticRegression> {
        model.fit(&Features::Dense(x), &labels)?;
        Ok(model.clone())
    }

    /// `fit` on sparse rows (tf-idf), used as they are: the solver's
    /// products skip the zeros, nothing is densified.
    ///
    /// Errors: as `fit` on a `Matrix`.
    ///
    /// ```rhai
    /// let x = data::matrix([[0.0, 1.0], [1.0, 0.0], [0.0, 0.9], [0.8, 0.0]]);
    /// let y = data::binarizer([["A"], ["B"]]).transform([["B"], ["A"], ["B"], ["A"]]);
    /// let sparse = linear::logistic(#{ c: 10.0 }).fit(x.to_sparse(), y);
    /// let dense = linear::logistic(#{ c: 10.0 }).fit(x, y);
    /// assert_eq(sparse.predict(x.to_sparse()).to_array(), dense.predict(x).to_array());
    /// ```
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn fit_sparse(
        model: &mut LogisticRegression,
        x: Sparse,
        labels: Labels,
    ) -> RhaiResult<LogisticRegression> {
        model.fit(&Features::Sparse(x), &labels)?;
        Ok(model.clone())
    }

    /// w·x + b per row and label (`Matrix`, columns named by label).
    ///
    /// Errors: not fitted; other columns than the fit's; NaN features.
    #[rhai_fn(global, name = "decision_function", return_raw, pure)]
    pub fn decision_function(model: &mut LogisticRegression, x: Matrix) -> RhaiResult<Matrix> {
        Ok(model.decision_function(&Features::Dense(x))?)
    }

    /// `decision_function` of sparse rows.
    ///
    /// Errors: as `decision_function` of a `Matrix`.
    #[rhai_fn(global, name = "decision_function", return_raw, pure)]
    pub fn decision_function_sparse(
        model: &mut LogisticRegression,
        x: Sparse,
    ) -> RhaiResult<Matrix> {
        Ok(model.decision_function(&Features::Sparse(x))?)
    }

    /// P(label | x) per row and label (`Matrix`, columns named by label).
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn predict_proba(model: &mut LogisticRegression, x: Matrix) -> RhaiResult<Matrix> {
        Ok(model.predict_proba(&Features::Dense(x))?)
    }

    /// `predict_proba` of sparse rows.
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn predict_proba_sparse(model: &mut LogisticRegression, x: Sparse) -> RhaiResult<Matrix> {
        Ok(model.predict_proba(&Features::Sparse(x))?)
    }

    /// The labels with probability above 0.5.
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn predict(model: &mut LogisticRegression, x: Matrix) -> RhaiResult<Labels> {
        Ok(model.predict(&Features::Dense(x))?)
    }

    /// `predict` of sparse rows.
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn predict_sparse(model: &mut LogisticRegression, x: Sparse) -> RhaiResult<Labels> {
        Ok(model.predict(&Features::Sparse(x))?)
    }

    /// Writes the model to a `.safetensors` model file.
    ///
    /// Errors: not fitted; the path cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn save(model: &mut LogisticRegression, path: &str) -> RhaiResult<()> {
        Ok(model.fitted()?.save(std::path::Path::new(path))?)
    }

    /// The parameters and whether it is fitted.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(model: &mut LogisticRegression) -> String {
        model.to_string()
    }
}
