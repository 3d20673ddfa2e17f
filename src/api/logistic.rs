//! `linear::` — scikit-learn's `linear_model`: one-vs-rest L2 logistic
//! regression on dense `Matrix` features (poster CNN features, embeddings,
//! SVD of tf-idf) or sparse tf-idf. Its own module (not `svm::`): it is a
//! different model, with probabilities, and a different solver.

use std::sync::Arc;

use rhai::Map;
use rhai::plugin::*;

use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Schema};
use crate::data::Labels;
use crate::error::{Error, Result};
use crate::linear::logistic::{Design, LogisticModel, LogisticParams};
use crate::matrix::Matrix;
use ndarray::Array2;

/// A logistic regression as scripts hold it: its parameters and, once
/// fitted, the model.
#[derive(Clone)]
pub struct LogisticHandle {
    pub params: LogisticParams,
    pub model: Option<Arc<LogisticModel>>,
}

pub static LOGISTIC: Schema = Schema::new(
    "linear::logistic",
    &[&[
        Opt::new(
            "c",
            Kind::Number(Bounds::POSITIVE),
            D::Float(1.0),
            "inverse regularisation strength (L2)",
        ),
        Opt::new(
            "class_weight",
            Kind::Either(&[Kind::Choice(&["balanced"]), Kind::Unit]),
            D::Unit,
            "\"balanced\": each row weighs n / (2 · its class count) in its label's problem",
        ),
        Opt::new(
            "max_iter",
            Kind::Int(Bounds::POSITIVE_INT),
            D::Int(100),
            "L-BFGS iterations at most",
        ),
        Opt::new(
            "tol",
            Kind::Number(Bounds::POSITIVE),
            D::Float(1e-4),
            "stop when every gradient component of the scaled objective is below this",
        ),
        Opt::new(
            "fit_intercept",
            Kind::Bool,
            D::Bool(true),
            "an unpenalised bias per label",
        ),
    ]],
);

pub static SCHEMAS: &[&Schema] = &[&LOGISTIC];

fn logistic(options: Map) -> Result<LogisticHandle> {
    let opts = LOGISTIC.parse(options)?;
    Ok(LogisticHandle {
        params: LogisticParams {
            c: opts.float("c")?,
            balanced: opts.opt_text("class_weight")?.is_some(),
            max_iter: opts.usize("max_iter")?,
            tol: opts.float("tol")?,
            fit_intercept: opts.flag("fit_intercept")?,
        },
        model: None,
    })
}

impl LogisticHandle {
    fn fitted(&self) -> Result<&LogisticModel> {
        self.model.as_deref().ok_or_else(|| {
            Error::invalid("this logistic regression is not fitted yet; call fit(x, labels) first")
        })
    }

    fn fit(&mut self, x: &Design, labels: &Labels) -> Result<LogisticHandle> {
        let m = LogisticModel::fit_design(x, labels, &self.params)?;
        if !m.not_converged.is_empty() {
            crate::record::warning(&format!(
                "logistic regression reached max_iter before tol for: {} (raise max_iter)",
                m.not_converged.join(", ")
            ));
        }
        self.model = Some(Arc::new(m));
        Ok(self.clone())
    }

    /// Decision values as a `Matrix` with the label names.
    fn decision(&self, x: &Design) -> Result<(Array2<f32>, &[String])> {
        let m = self.fitted()?;
        Ok((m.decision_design(x)?, &m.names))
    }
}

fn dense(x: &Matrix) -> Result<Design<'static>> {
    Design::dense(x.values().view(), "x")
}

#[export_module]
pub mod logistic_module {
    use std::path::Path;
    use std::sync::Arc;

    use rhai::{Map, NativeCallContext};

    use super::LogisticHandle;
    use crate::api::convert::{RhaiResult, located};
    use crate::linear::logistic::LogisticModel;

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
    pub fn logistic(ctx: NativeCallContext, options: Map) -> RhaiResult<LogisticHandle> {
        located(&ctx, || super::logistic(options))
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
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<LogisticHandle> {
        located(&ctx, || {
            let m = LogisticModel::load(Path::new(path))?;
            Ok(LogisticHandle {
                params: m.params.clone(),
                model: Some(Arc::new(m)),
            })
        })
    }
}

#[export_module]
pub mod logistic_methods {
    use super::{Design, LogisticHandle, dense};
    use crate::api::convert::RhaiResult;
    use crate::api::linear::scores_matrix;
    use crate::data::Labels;
    use crate::linear::logistic::LogisticModel;
    use crate::matrix::{Matrix, Sparse};

    /// Fits one binary problem per label column on dense features and
    /// returns the model; labels whose solver reached `max_iter` first are
    /// named in a warning.
    ///
    /// Errors: rows of `x` and `labels` differ; NaN or infinite features.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn fit(
        model: &mut LogisticHandle,
        x: Matrix,
        labels: Labels,
    ) -> RhaiResult<LogisticHandle> {
        Ok(model.fit(&dense(&x)?, &labels)?)
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
        model: &mut LogisticHandle,
        x: Sparse,
        labels: Labels,
    ) -> RhaiResult<LogisticHandle> {
        Ok(model.fit(&Design::Sparse(x.csr()), &labels)?)
    }

    /// w·x + b per row and label (`Matrix`, columns named by label).
    ///
    /// Errors: not fitted; other columns than the fit's; NaN features.
    #[rhai_fn(global, name = "decision_function", return_raw, pure)]
    pub fn decision_function(model: &mut LogisticHandle, x: Matrix) -> RhaiResult<Matrix> {
        let (d, names) = model.decision(&dense(&x)?)?;
        Ok(scores_matrix(d, names)?)
    }

    /// `decision_function` of sparse rows.
    ///
    /// Errors: as `decision_function` of a `Matrix`.
    #[rhai_fn(global, name = "decision_function", return_raw, pure)]
    pub fn decision_function_sparse(model: &mut LogisticHandle, x: Sparse) -> RhaiResult<Matrix> {
        let (d, names) = model.decision(&Design::Sparse(x.csr()))?;
        Ok(scores_matrix(d, names)?)
    }

    /// P(label | x) per row and label (`Matrix`, columns named by label).
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn predict_proba(model: &mut LogisticHandle, x: Matrix) -> RhaiResult<Matrix> {
        let (d, names) = model.decision(&dense(&x)?)?;
        Ok(scores_matrix(LogisticModel::probabilities(d), names)?)
    }

    /// `predict_proba` of sparse rows.
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn predict_proba_sparse(model: &mut LogisticHandle, x: Sparse) -> RhaiResult<Matrix> {
        let (d, names) = model.decision(&Design::Sparse(x.csr()))?;
        Ok(scores_matrix(LogisticModel::probabilities(d), names)?)
    }

    /// The labels with probability above 0.5.
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn predict(model: &mut LogisticHandle, x: Matrix) -> RhaiResult<Labels> {
        let (d, names) = model.decision(&dense(&x)?)?;
        Ok(Labels::new(names.to_vec(), d.mapv(|v| u8::from(v > 0.0)))?)
    }

    /// `predict` of sparse rows.
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn predict_sparse(model: &mut LogisticHandle, x: Sparse) -> RhaiResult<Labels> {
        let (d, names) = model.decision(&Design::Sparse(x.csr()))?;
        Ok(Labels::new(names.to_vec(), d.mapv(|v| u8::from(v > 0.0)))?)
    }

    /// Writes the model to a `.safetensors` model file.
    ///
    /// Errors: not fitted; the path cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn save(model: &mut LogisticHandle, path: &str) -> RhaiResult<()> {
        Ok(model.fitted()?.save(std::path::Path::new(path))?)
    }

    /// The parameters and whether it is fitted.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(model: &mut LogisticHandle) -> String {
        let p = &model.params;
        let state = match &model.model {
            None => "not fitted".to_string(),
            Some(m) => format!("{} labels × {} features", m.names.len(), m.weights.ncols()),
        };
        format!(
            "LogisticRegression(C={}, class_weight={}, max_iter={}, tol={}) — {state}",
            p.c,
            if p.balanced { "balanced" } else { "None" },
            p.max_iter,
            p.tol
        )
    }
}
