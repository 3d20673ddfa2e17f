//! The linear models as scripts hold them: a recipe (declared options,
//! checked) and, once fitted, the model. `svm::linear`, `svm::svc`,
//! `svm::grid_search`, `nb::multinomial` and `linear::logistic` build them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use ndarray::Array2;

use crate::data::Labels;
use crate::error::{Error, Result};
use crate::linear::grid::{self, GridParams, Scoring};
use crate::linear::logistic::{Design, LogisticModel, LogisticParams};
use crate::linear::models::{NbModel, SvmModel};
use crate::linear::svm::{ClassWeight, Intercept, Loss, SvmParams};
use crate::matrix::{Features, Matrix, Sparse};
use crate::text::Vocabulary;

crate::choices! {
    /// `class_weight`: only "balanced" has a name; `()` is uniform.
    pub enum Balanced { Balanced = "balanced" }
}

crate::choices! {
    /// The SVM loss a script names.
    pub enum LossName { SquaredHinge = "squared_hinge", Hinge = "hinge" }
}

crate::choices! {
    /// The model a grid search fits.
    pub enum GridModel { Svc = "svc", Linear = "linear" }
}

crate::choices! {
    /// SVM kernels: only the linear one on sparse text.
    pub enum KernelName { Linear = "linear" }
}

crate::options! {
    /// `LinearSVC`'s own options (`svm::linear`, and a grid search of it).
    pub struct LinearOnly for "svm::linear" {
        /// the loss
        loss: LossName = LossName::SquaredHinge => Choice(LossName::NAMES),
        /// the bias feature's value (the bias is penalised like a weight)
        intercept_scaling: f64 = 1.0 => Number(POSITIVE),
        /// false: no bias
        fit_intercept: bool = true => Bool,
    }
}

crate::options! {
    /// `svm::linear`: `LinearSVC(...)`.
    pub struct LinearSvcOptions for "svm::linear" {
        /// inverse regularisation strength
        c: f64 = 1.0 => Number(POSITIVE),
        /// "balanced": n / (2 · class count) per label
        class_weight: Option<Balanced> = None => Either(&[Choice(Balanced::NAMES), Unit]); shown "()",
        /// stopping tolerance
        tol: f64 = 1e-4 => Number(POSITIVE),
        /// passes of the solver at most
        max_iter: usize = 1000 => Int(POSITIVE_INT),
        ..linear: LinearOnly,
    }
}

crate::options! {
    /// `svm::svc`: `SVC(kernel="linear")`.
    pub struct SvcOptions for "svm::svc" {
        /// inverse regularisation strength
        c: f64 = 1.0 => Number(POSITIVE),
        /// "balanced": n / (2 · class count) per label
        class_weight: Option<Balanced> = None => Either(&[Choice(Balanced::NAMES), Unit]); shown "()",
        /// stopping tolerance
        tol: f64 = 1e-3 => Number(POSITIVE),
        /// passes of the solver at most
        max_iter: usize = 1000 => Int(POSITIVE_INT),
        /// only linear on sparse text; for small dense data with non-linear kernels, linfa-svm is the tool
        kernel: KernelName = KernelName::Linear => Choice(KernelName::NAMES),
    }
}

crate::options! {
    /// `svm::grid_search`: the seed's `OneVsRest(GridSearchCV(SVC))`.
    pub struct GridSearchOptions for "svm::grid_search" {
        /// the candidate Cs
        c: Vec<f64> = vec![0.01, 0.1, 1.0] => Numbers(POSITIVE),
        /// stratified folds
        folds: usize = 5 => Int(Bounds::at_least(2.0)),
        /// what picks C (f1_micro on one label is accuracy)
        scoring: Scoring = Scoring::F1Micro => Choice(Scoring::NAMES),
        /// svc: SVC(kernel="linear"); linear: LinearSVC
        model: GridModel = GridModel::Svc => Choice(GridModel::NAMES),
        /// true: shuffled folds drawn from the session seed
        shuffle: bool = false => Bool,
        /// "balanced": n / (2 · class count) per label
        class_weight: Option<Balanced> = None => Either(&[Choice(Balanced::NAMES), Unit]); shown "()",
        /// stopping tolerance
        tol: Option<f64> = None => Number(POSITIVE); shown "the model's (1e-3 svc, 1e-4 linear)",
        /// passes of the solver at most
        max_iter: usize = 1000 => Int(POSITIVE_INT),
        /// only linear on sparse text; for small dense data with non-linear kernels, linfa-svm is the tool
        kernel: KernelName = KernelName::Linear => Choice(KernelName::NAMES),
        ..linear: LinearOnly,
    }
}

crate::options! {
    /// `nb::multinomial`: `MultinomialNB(...)`.
    pub struct MultinomialOptions for "nb::multinomial" {
        /// additive smoothing
        alpha: f64 = 1.0 => Number(NON_NEGATIVE),
        /// false: uniform class priors
        fit_prior: bool = true => Bool,
    }
}

crate::options! {
    /// `linear::logistic`: `LogisticRegression(solver="lbfgs")` one-vs-rest.
    pub struct LogisticOptions for "linear::logistic" {
        /// inverse regularisation strength (L2)
        c: f64 = 1.0 => Number(POSITIVE),
        /// "balanced": each row weighs n / (2 · its class count) in its label's problem
        class_weight: Option<Balanced> = None => Either(&[Choice(Balanced::NAMES), Unit]); shown "()",
        /// L-BFGS iterations at most
        max_iter: usize = 100 => Int(POSITIVE_INT),
        /// stop when every gradient component of the scaled objective is below this
        tol: f64 = 1e-4 => Number(POSITIVE),
        /// an unpenalised bias per label
        fit_intercept: bool = true => Bool,
    }
}

fn class_weight(b: Option<Balanced>) -> ClassWeight {
    b.map_or(ClassWeight::Uniform, |_| ClassWeight::Balanced)
}

impl LinearOnly {
    fn apply(&self, p: &mut SvmParams) {
        p.loss = match self.loss {
            LossName::Hinge => Loss::Hinge,
            LossName::SquaredHinge => Loss::SquaredHinge,
        };
        p.intercept = if self.fit_intercept {
            Intercept::Regularized {
                scaling: self.intercept_scaling,
            }
        } else {
            Intercept::None
        };
    }
}

impl From<&LinearSvcOptions> for SvmParams {
    fn from(o: &LinearSvcOptions) -> SvmParams {
        let mut p = SvmParams {
            c: o.c,
            class_weight: class_weight(o.class_weight),
            tol: o.tol,
            max_iter: o.max_iter,
            ..SvmParams::linear_svc()
        };
        o.linear.apply(&mut p);
        p
    }
}

impl From<&SvcOptions> for SvmParams {
    fn from(o: &SvcOptions) -> SvmParams {
        SvmParams {
            c: o.c,
            class_weight: class_weight(o.class_weight),
            tol: o.tol,
            max_iter: o.max_iter,
            ..SvmParams::svc()
        }
    }
}

impl GridSearchOptions {
    /// The grid; `shuffle_seed` orders the folds when `shuffle` is set.
    pub fn params(&self, shuffle_seed: impl FnOnce() -> Result<u32>) -> Result<GridParams> {
        let mut base = match self.model {
            GridModel::Linear => SvmParams::linear_svc(),
            GridModel::Svc => SvmParams::svc(),
        };
        if self.model == GridModel::Linear {
            self.linear.apply(&mut base);
        }
        base.class_weight = class_weight(self.class_weight);
        base.tol = self.tol.unwrap_or(base.tol);
        base.max_iter = self.max_iter;
        Ok(GridParams {
            cs: self.c.clone(),
            folds: self.folds,
            scoring: self.scoring,
            base,
            shuffle: if self.shuffle {
                Some(shuffle_seed()?)
            } else {
                None
            },
        })
    }
}

/// What an `Svm` fits: one C for every label, or a grid per label.
#[derive(Clone, Debug)]
pub enum SvmSpec {
    Fixed(SvmParams),
    Grid(GridParams),
}

/// A one-vs-rest linear SVM: its recipe and, once fitted, the model.
#[derive(Clone)]
pub struct Svm {
    pub spec: SvmSpec,
    pub model: Option<Arc<SvmModel>>,
}

fn not_fitted(what: &str) -> Error {
    Error::invalid(format!(
        "this {what} is not fitted yet; call fit(x, labels) first"
    ))
}

fn warn_all(warnings: &[String]) {
    for w in warnings {
        crate::record::warning(w);
    }
}

/// Scores as a `Matrix` whose columns are named by the labels.
pub fn scores_matrix(values: Array2<f32>, names: &[String]) -> Result<Matrix> {
    Matrix::new(values).with_names(None, Some(names.to_vec()))
}

impl Svm {
    pub fn new(spec: SvmSpec) -> Svm {
        Svm { spec, model: None }
    }

    pub fn load(path: &Path) -> Result<Svm> {
        let model = SvmModel::load(path)?;
        Ok(Svm {
            spec: SvmSpec::Fixed(model.params.clone()),
            model: Some(Arc::new(model)),
        })
    }

    pub fn fitted(&self) -> Result<&SvmModel> {
        self.model.as_deref().ok_or_else(|| not_fitted("SVM"))
    }

    pub fn fit(&mut self, x: &Sparse, y: &Labels) -> Result<()> {
        let (model, warnings) = match &self.spec {
            SvmSpec::Fixed(p) => SvmModel::fit(x.csr(), y, p)?,
            SvmSpec::Grid(g) => grid::fit(x.csr(), y, g)?,
        };
        warn_all(&warnings);
        if !model.not_converged.is_empty() {
            crate::record::warning(&format!(
                "the solver reached max_iter before tol for: {} (raise max_iter or tol)",
                model.not_converged.join(", ")
            ));
        }
        self.model = Some(Arc::new(model));
        Ok(())
    }

    pub fn decision_function(&self, x: &Sparse) -> Result<Matrix> {
        let m = self.fitted()?;
        scores_matrix(m.decision_function(x.csr())?, &m.names)
    }

    /// Label → the C it was fitted with.
    pub fn best_params(&self) -> Result<BTreeMap<String, f64>> {
        let m = self.fitted()?;
        Ok(m.names.iter().cloned().zip(m.c.iter().copied()).collect())
    }

    /// Label → mean cross-validation score per candidate C (`None` without a grid).
    pub fn cv_results(&self) -> Result<Option<BTreeMap<String, Vec<f64>>>> {
        let m = self.fitted()?;
        Ok(m.cv_scores
            .as_ref()
            .map(|s| m.names.iter().cloned().zip(s.iter().cloned()).collect()))
    }
}

impl fmt::Display for Svm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.spec {
            SvmSpec::Fixed(p) => write!(
                f,
                "Svm(c={}, loss={:?}, intercept={:?}, class_weight={:?}, tol={}, max_iter={})",
                p.c, p.loss, p.intercept, p.class_weight, p.tol, p.max_iter
            )?,
            SvmSpec::Grid(g) => write!(
                f,
                "Svm grid search(c={:?}, folds={}, scoring={:?}, loss={:?}, intercept={:?}, class_weight={:?})",
                g.cs, g.folds, g.scoring, g.base.loss, g.base.intercept, g.base.class_weight
            )?,
        }
        fitted_note(
            f,
            self.model
                .as_ref()
                .map(|m| (m.names.len(), m.weights.ncols())),
        )
    }
}

/// " — fitted: L labels × F features", or " — not fitted".
fn fitted_note(f: &mut fmt::Formatter<'_>, shape: Option<(usize, usize)>) -> fmt::Result {
    match shape {
        None => write!(f, " — not fitted"),
        Some((labels, features)) => write!(f, " — fitted: {labels} labels × {features} features"),
    }
}

/// One-vs-rest multinomial naive Bayes: its parameters and, once fitted, the model.
#[derive(Clone)]
pub struct NaiveBayes {
    pub options: MultinomialOptions,
    pub model: Option<Arc<NbModel>>,
}

impl NaiveBayes {
    pub fn new(options: MultinomialOptions) -> NaiveBayes {
        NaiveBayes {
            options,
            model: None,
        }
    }

    pub fn load(path: &Path) -> Result<NaiveBayes> {
        let model = NbModel::load(path)?;
        Ok(NaiveBayes {
            options: MultinomialOptions {
                alpha: model.alpha,
                fit_prior: model.fit_prior,
            },
            model: Some(Arc::new(model)),
        })
    }

    pub fn fitted(&self) -> Result<&NbModel> {
        self.model
            .as_deref()
            .ok_or_else(|| not_fitted("naive Bayes"))
    }

    pub fn fit(&mut self, x: &Sparse, y: &Labels) -> Result<()> {
        let (model, warnings) =
            NbModel::fit(x.csr(), y, self.options.alpha, self.options.fit_prior)?;
        warn_all(&warnings);
        self.model = Some(Arc::new(model));
        Ok(())
    }

    pub fn predict_proba(&self, x: &Sparse) -> Result<Matrix> {
        let m = self.fitted()?;
        scores_matrix(m.predict_proba(x.csr())?, &m.names)
    }

    /// Label → its `k` most indicative terms of `vocabulary` (the one the
    /// model was fitted on).
    pub fn top_terms(
        &self,
        vocabulary: Option<&Vocabulary>,
        k: usize,
    ) -> Result<BTreeMap<String, Vec<String>>> {
        let m = self.fitted()?;
        let vocab =
            vocabulary.ok_or_else(|| Error::invalid("top_terms: the vectorizer is not fitted"))?;
        if vocab.len() != m.log_prob_pos.ncols() {
            return Err(Error::invalid(format!(
                "top_terms: the vectorizer has {} terms but the model was fitted on {} columns",
                vocab.len(),
                m.log_prob_pos.ncols()
            )));
        }
        Ok(m.names
            .iter()
            .zip(m.top_terms(k))
            .map(|(name, top)| {
                let terms = top.iter().map(|(t, _)| vocab.terms()[*t].clone()).collect();
                (name.clone(), terms)
            })
            .collect())
    }
}

impl fmt::Display for NaiveBayes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NaiveBayes(multinomial, alpha={}, fit_prior={})",
            self.options.alpha, self.options.fit_prior
        )?;
        fitted_note(
            f,
            self.model
                .as_ref()
                .map(|m| (m.names.len(), m.log_prob_pos.ncols())),
        )
    }
}

/// One-vs-rest logistic regression: its parameters and, once fitted, the model.
#[derive(Clone)]
pub struct LogisticRegression {
    pub params: LogisticParams,
    pub model: Option<Arc<LogisticModel>>,
}

impl From<&LogisticOptions> for LogisticParams {
    fn from(o: &LogisticOptions) -> LogisticParams {
        LogisticParams {
            c: o.c,
            balanced: o.class_weight.is_some(),
            max_iter: o.max_iter,
            tol: o.tol,
            fit_intercept: o.fit_intercept,
        }
    }
}

/// The solver's view of dense or sparse rows.
fn design(x: &Features) -> Result<Design<'_>> {
    match x {
        Features::Dense(m) => Design::dense(m.values().view(), "x"),
        Features::Sparse(s) => Ok(Design::Sparse(s.csr())),
    }
}

impl LogisticRegression {
    pub fn new(options: &LogisticOptions) -> LogisticRegression {
        LogisticRegression {
            params: options.into(),
            model: None,
        }
    }

    pub fn load(path: &Path) -> Result<LogisticRegression> {
        let m = LogisticModel::load(path)?;
        Ok(LogisticRegression {
            params: m.params.clone(),
            model: Some(Arc::new(m)),
        })
    }

    pub fn fitted(&self) -> Result<&LogisticModel> {
        self.model
            .as_deref()
            .ok_or_else(|| not_fitted("logistic regression"))
    }

    pub fn fit(&mut self, x: &Features, labels: &Labels) -> Result<()> {
        let m = LogisticModel::fit_design(&design(x)?, labels, &self.params)?;
        warn_all(&super::ovr::constant_warnings(&m.names, &m.constant));
        if !m.not_converged.is_empty() {
            crate::record::warning(&format!(
                "logistic regression reached max_iter before tol for: {} (raise max_iter)",
                m.not_converged.join(", ")
            ));
        }
        self.model = Some(Arc::new(m));
        Ok(())
    }

    pub fn decision_function(&self, x: &Features) -> Result<Matrix> {
        let m = self.fitted()?;
        scores_matrix(m.decision_design(&design(x)?)?, &m.names)
    }

    pub fn predict_proba(&self, x: &Features) -> Result<Matrix> {
        let m = self.fitted()?;
        let d = m.decision_design(&design(x)?)?;
        scores_matrix(LogisticModel::probabilities(d), &m.names)
    }

    pub fn predict(&self, x: &Features) -> Result<Labels> {
        let m = self.fitted()?;
        let d = m.decision_design(&design(x)?)?;
        Labels::new(m.names.clone(), d.mapv(|v| u8::from(v > 0.0)))
    }
}

impl fmt::Display for LogisticRegression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.params;
        let state = match &self.model {
            None => "not fitted".to_string(),
            Some(m) => format!("{} labels × {} features", m.names.len(), m.weights.ncols()),
        };
        write!(
            f,
            "LogisticRegression(C={}, class_weight={}, max_iter={}, tol={}) — {state}",
            p.c,
            if p.balanced { "balanced" } else { "None" },
            p.max_iter,
            p.tol
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{Options, Value};

    #[test]
    fn linear_svc_options_become_liblinear_params() {
        let o = LinearSvcOptions::from_pairs(&[
            ("c", Value::Float(0.5)),
            ("loss", Value::Text("hinge".into())),
            ("fit_intercept", Value::Bool(false)),
            ("class_weight", Value::Text("balanced".into())),
        ])
        .unwrap();
        let p = SvmParams::from(&o);
        assert_eq!(p.c, 0.5);
        assert_eq!(p.loss, Loss::Hinge);
        assert_eq!(p.intercept, Intercept::None);
        assert_eq!(p.class_weight, ClassWeight::Balanced);
        assert_eq!(p.tol, 1e-4);
        assert_eq!(SvmParams::from(&SvcOptions::default()), SvmParams::svc());
    }

    #[test]
    fn a_grid_takes_its_model_defaults_and_draws_a_seed_only_to_shuffle() {
        let g = GridSearchOptions::default()
            .params(|| panic!("no seed without shuffle"))
            .unwrap();
        assert_eq!(g.base.tol, 1e-3);
        assert_eq!(g.shuffle, None);
        let o = GridSearchOptions::from_pairs(&[
            ("model", Value::Text("linear".into())),
            ("shuffle", Value::Bool(true)),
        ])
        .unwrap();
        let g = o.params(|| Ok(7)).unwrap();
        assert_eq!((g.base.tol, g.shuffle), (1e-4, Some(7)));
        assert_eq!(g.base.loss, Loss::SquaredHinge);
    }

    #[test]
    fn unfitted_models_say_so() {
        let svm = Svm::new(SvmSpec::Fixed(SvmParams::svc()));
        assert!(
            svm.fitted()
                .unwrap_err()
                .to_string()
                .contains("not fitted yet")
        );
        let nb = NaiveBayes::new(MultinomialOptions::default());
        assert!(nb.top_terms(None, 3).is_err());
        let lr = LogisticRegression::new(&LogisticOptions::default());
        assert!(
            lr.to_string()
                .starts_with("LogisticRegression(C=1, class_weight=None, max_iter=100")
        );
    }
}
