//! `svm::` and `nb::` — one-vs-rest linear SVMs (with grid search) and
//! multinomial naive Bayes over sparse text features.

use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Dynamic, Map};

use crate::api::convert::Options;
use crate::data::Labels;
use crate::error::{Error, Result};
use crate::linear::grid::{self, GridParams, Scoring};
use crate::linear::models::{NbModel, SvmModel};
use crate::linear::svm::{ClassWeight, Intercept, Loss, SvmParams};
use crate::matrix::{Matrix, Sparse};

/// What an `Svm` will fit: one C for every label, or a grid per label.
#[derive(Clone, Debug)]
pub enum SvmSpec {
    Fixed(SvmParams),
    Grid(GridParams),
}

/// An SVM as scripts hold it: its recipe and, once fitted, the model.
#[derive(Clone)]
pub struct SvmHandle {
    pub spec: SvmSpec,
    pub model: Option<Arc<SvmModel>>,
}

/// Multinomial naive Bayes as scripts hold it.
#[derive(Clone)]
pub struct NbHandle {
    pub alpha: f64,
    pub fit_prior: bool,
    pub model: Option<Arc<NbModel>>,
}

fn class_weight(opts: &Options) -> Result<ClassWeight> {
    match opts.get("class_weight") {
        None => Ok(ClassWeight::Uniform),
        Some(v) if v.is_unit() => Ok(ClassWeight::Uniform),
        Some(v) if v.clone().into_string().as_deref() == Ok("balanced") => {
            Ok(ClassWeight::Balanced)
        }
        Some(_) => Err(Error::invalid(format!(
            "{}: option 'class_weight' must be \"balanced\" or ()",
            opts.function()
        ))),
    }
}

fn loss(opts: &Options, default: Loss) -> Result<Loss> {
    match opts.string("loss")?.as_deref() {
        None => Ok(default),
        Some("hinge") => Ok(Loss::Hinge),
        Some("squared_hinge") => Ok(Loss::SquaredHinge),
        Some(other) => Err(Error::invalid(format!(
            "{}: option 'loss' must be \"hinge\" or \"squared_hinge\", got \"{other}\"",
            opts.function()
        ))),
    }
}

/// Fills the options both SVM kinds share into `p` (`c` is a list, read
/// elsewhere, in a grid search).
fn common(opts: &Options, mut p: SvmParams) -> Result<SvmParams> {
    let grid = opts.function() == "svm::grid_search";
    if let Some(c) = if grid { None } else { opts.float("c")? } {
        if c.is_nan() || c <= 0.0 {
            return Err(Error::invalid(format!(
                "{}: option 'c' must be positive, got {c}",
                opts.function()
            )));
        }
        p.c = c;
    }
    p.class_weight = class_weight(opts)?;
    if let Some(tol) = opts.float("tol")? {
        p.tol = tol;
    }
    if let Some(n) = opts.count("max_iter")? {
        p.max_iter = n.max(1);
    }
    Ok(p)
}

pub fn linear_params(opts: &Options) -> Result<SvmParams> {
    let mut p = common(opts, SvmParams::linear_svc())?;
    p.loss = loss(opts, Loss::SquaredHinge)?;
    let scaling = opts.float("intercept_scaling")?.unwrap_or(1.0);
    p.intercept = if opts.boolean("fit_intercept")?.unwrap_or(true) {
        Intercept::Regularized { scaling }
    } else {
        Intercept::None
    };
    Ok(p)
}

pub fn svc_params(opts: &Options) -> Result<SvmParams> {
    if let Some(kernel) = opts.string("kernel")?
        && kernel != "linear"
    {
        return Err(Error::invalid(format!(
            "{}: only kernel \"linear\" is supported on sparse text (got \"{kernel}\"); for small dense data with non-linear kernels, linfa-svm is the tool",
            opts.function()
        )));
    }
    common(opts, SvmParams::svc())
}

pub fn grid_params(opts: &Options, shuffle_seed: Option<u32>) -> Result<GridParams> {
    let cs = match opts.get("c") {
        None => vec![0.01, 0.1, 1.0],
        Some(v) => match v.read_lock::<rhai::Array>() {
            Some(a) => crate::api::convert::numbers(&a, "svm::grid_search: option 'c'")?,
            None => {
                return Err(Error::invalid(
                    "svm::grid_search: option 'c' must be an array of numbers, e.g. [0.01, 0.1, 1.0]",
                ));
            }
        },
    };
    let base = match opts.string("model")?.as_deref() {
        None | Some("svc") => svc_params(opts)?,
        Some("linear") => linear_params(opts)?,
        Some(other) => {
            return Err(Error::invalid(format!(
                "svm::grid_search: option 'model' must be \"svc\" or \"linear\", got \"{other}\""
            )));
        }
    };
    Ok(GridParams {
        cs,
        folds: opts.count("folds")?.unwrap_or(5),
        scoring: Scoring::parse(opts.string("scoring")?.as_deref().unwrap_or("f1_micro"))?,
        base: SvmParams { c: 1.0, ..base },
        shuffle: shuffle_seed,
    })
}

fn warn_all(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

impl SvmHandle {
    pub fn fitted(&self) -> Result<&SvmModel> {
        self.model
            .as_deref()
            .ok_or_else(|| Error::invalid("this SVM is not fitted yet; call fit(x, labels) first"))
    }

    pub fn fit(&mut self, x: &Sparse, y: &Labels) -> Result<()> {
        let (model, warnings) = match &self.spec {
            SvmSpec::Fixed(p) => SvmModel::fit(x.csr(), y, p)?,
            SvmSpec::Grid(g) => grid::fit(x.csr(), y, g)?,
        };
        warn_all(&warnings);
        if !model.not_converged.is_empty() {
            eprintln!(
                "warning: the solver reached max_iter before tol for: {} (raise max_iter or tol)",
                model.not_converged.join(", ")
            );
        }
        self.model = Some(Arc::new(model));
        Ok(())
    }
}

impl NbHandle {
    pub fn fitted(&self) -> Result<&NbModel> {
        self.model.as_deref().ok_or_else(|| {
            Error::invalid("this naive Bayes is not fitted yet; call fit(x, labels) first")
        })
    }

    pub fn fit(&mut self, x: &Sparse, y: &Labels) -> Result<()> {
        let (model, warnings) = NbModel::fit(x.csr(), y, self.alpha, self.fit_prior)?;
        warn_all(&warnings);
        self.model = Some(Arc::new(model));
        Ok(())
    }
}

/// Scores as a `Matrix` whose columns are named by the labels.
pub fn scores_matrix(values: ndarray::Array2<f32>, names: &[String]) -> Result<Matrix> {
    Matrix::new(values).with_names(None, Some(names.to_vec()))
}

fn c_map(model: &SvmModel) -> Map {
    model
        .names
        .iter()
        .zip(&model.c)
        .map(|(n, c)| (n.as_str().into(), Dynamic::from_float(*c)))
        .collect()
}

#[export_module]
pub mod svm_module {
    use std::path::Path;
    use std::sync::Arc;

    use rhai::{Map, NativeCallContext};

    use super::{SvmHandle, SvmSpec, grid_params, linear_params, svc_params};
    use crate::api::convert::{Options, RhaiResult, located};
    use crate::api::session_rng;
    use crate::linear::models::SvmModel;

    const LINEAR_KEYS: &[&str] = &[
        "c",
        "loss",
        "class_weight",
        "tol",
        "max_iter",
        "intercept_scaling",
        "fit_intercept",
    ];
    const SVC_KEYS: &[&str] = &["c", "kernel", "class_weight", "tol", "max_iter"];

    /// A one-vs-rest linear SVM with `LinearSVC`'s problem and defaults: C 1,
    /// squared hinge loss, a bias penalised like a weight (`intercept_scaling`
    /// 1), tol 1e-4, max_iter 1000, solved by LIBLINEAR's dual coordinate
    /// descent on the sparse rows, labels in parallel.
    ///
    /// Arguments: `options` — `c`, `loss` (`"squared_hinge"` or `"hinge"`),
    /// `class_weight` (`"balanced"`: n / (2 · class count) per label),
    /// `tol`, `max_iter`, `intercept_scaling`, `fit_intercept`.
    ///
    /// Errors: an unknown option; C not positive; an unknown loss.
    ///
    /// ```rhai
    /// let x = text::count_vectorizer().fit_transform(["gun fight", "love kiss", "gun chase", "kiss wedding"]);
    /// let y = data::binarizer([["Action"], ["Romance"]]).transform([["Action"], ["Romance"], ["Action"], ["Romance"]]);
    /// let model = svm::linear(#{ c: 1.0 }).fit(x, y);
    /// assert_eq(model.predict(x).to_array(), y.to_array());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn linear(ctx: NativeCallContext, options: Map) -> RhaiResult<SvmHandle> {
        located(&ctx, || {
            let opts = Options::new("svm::linear", options, LINEAR_KEYS)?;
            Ok(SvmHandle {
                spec: SvmSpec::Fixed(linear_params(&opts)?),
                model: None,
            })
        })
    }

    /// `SVC(kernel="linear")`'s problem: hinge loss and an unpenalised bias
    /// (libsvm's), tol 1e-3 — what the seed notebook fitted. Solved here by
    /// dual coordinate descent with a bisection on the bias, far faster than
    /// libsvm's kernel SMO on text.
    ///
    /// Arguments: `options` — `c`, `class_weight`, `tol`, `max_iter`, `kernel`
    /// (only `"linear"`).
    ///
    /// Errors: an unknown option; another kernel.
    ///
    /// ```rhai
    /// let s = svm::svc(#{ c: 0.1, class_weight: "balanced" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn svc(ctx: NativeCallContext, options: Map) -> RhaiResult<SvmHandle> {
        located(&ctx, || {
            let opts = Options::new("svm::svc", options, SVC_KEYS)?;
            Ok(SvmHandle {
                spec: SvmSpec::Fixed(svc_params(&opts)?),
                model: None,
            })
        })
    }

    /// The seed's `OneVsRestClassifier(GridSearchCV(SVC(kernel="linear"),
    /// {"C": c}, scoring=..., cv=folds))`: per label, stratified k-fold
    /// cross-validation over C (scikit-learn's `StratifiedKFold` folds), then a
    /// refit on all rows with the best C. All fits run in parallel.
    ///
    /// Arguments: `options` — `c` (candidates, default `[0.01, 0.1, 1.0]`),
    /// `folds` (5), `scoring` (`"f1_micro"` — accuracy on one label —,
    /// `"accuracy"`, `"f1"`, `"f1_macro"`), `model` (`"svc"`, the default, or
    /// `"linear"` for `LinearSVC`), `shuffle` (true: shuffled folds drawn from
    /// the session seed), and the options of that model.
    ///
    /// Errors: an unknown option; folds < 2 or larger than a label's classes.
    ///
    /// ```rhai
    /// let g = svm::grid_search(#{ c: [0.1, 1.0], folds: 2, class_weight: "balanced" });
    /// let x = text::count_vectorizer().fit_transform(["gun fight", "love kiss", "gun chase", "kiss wedding"]);
    /// let y = data::binarizer([["Action"]]).transform([["Action"], [], ["Action"], []]);
    /// g.fit(x, y);
    /// assert_eq(g.best_params().Action, 0.1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn grid_search(ctx: NativeCallContext, options: Map) -> RhaiResult<SvmHandle> {
        located(&ctx, || {
            let keys: Vec<&str> = [
                "folds",
                "scoring",
                "model",
                "shuffle",
                "loss",
                "intercept_scaling",
                "fit_intercept",
            ]
            .iter()
            .chain(SVC_KEYS)
            .copied()
            .collect();
            let opts = Options::new("svm::grid_search", options, &keys)?;
            let seed = if opts.boolean("shuffle")?.unwrap_or(false) {
                Some(session_rng(&ctx)?.borrow_mut().next_u32())
            } else {
                None
            };
            Ok(SvmHandle {
                spec: SvmSpec::Grid(grid_params(&opts, seed)?),
                model: None,
            })
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
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<SvmHandle> {
        located(&ctx, || {
            let model = SvmModel::load(Path::new(path))?;
            Ok(SvmHandle {
                spec: SvmSpec::Fixed(model.params.clone()),
                model: Some(Arc::new(model)),
            })
        })
    }
}

#[export_module]
pub mod nb_module {
    use std::path::Path;
    use std::sync::Arc;

    use rhai::{Map, NativeCallContext};

    use super::NbHandle;
    use crate::api::convert::{Options, RhaiResult, located};
    use crate::linear::models::NbModel;

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
    pub fn multinomial(ctx: NativeCallContext) -> RhaiResult<NbHandle> {
        multinomial_with(ctx, Map::new())
    }

    /// Multinomial naive Bayes with options.
    ///
    /// Arguments: `options` — `alpha` (additive smoothing, default 1.0),
    /// `fit_prior` (false: uniform class priors).
    ///
    /// Errors: an unknown option; a negative alpha.
    ///
    /// ```rhai
    /// let nb = nb::multinomial(#{ alpha: 0.1, fit_prior: false });
    /// ```
    #[rhai_fn(name = "multinomial", return_raw)]
    pub fn multinomial_with(ctx: NativeCallContext, options: Map) -> RhaiResult<NbHandle> {
        located(&ctx, || {
            let opts = Options::new("nb::multinomial", options, &["alpha", "fit_prior"])?;
            let alpha = opts.float("alpha")?.unwrap_or(1.0);
            if alpha.is_nan() || alpha < 0.0 {
                return Err(crate::Error::invalid(format!(
                    "nb::multinomial: alpha must be 0 or more, got {alpha}"
                )));
            }
            Ok(NbHandle {
                alpha,
                fit_prior: opts.boolean("fit_prior")?.unwrap_or(true),
                model: None,
            })
        })
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
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<NbHandle> {
        located(&ctx, || {
            let model = NbModel::load(Path::new(path))?;
            Ok(NbHandle {
                alpha: model.alpha,
                fit_prior: model.fit_prior,
                model: Some(Arc::new(model)),
            })
        })
    }
}

#[export_module]
pub mod svm_methods {
    use std::path::Path;

    use rhai::{Dynamic, Map};

    use super::{SvmHandle, SvmSpec, c_map, scores_matrix};
    use crate::api::convert::RhaiResult;
    use crate::data::Labels;
    use crate::matrix::{Matrix, Sparse};

    /// Fits one binary SVM per label column of `labels` on the rows of `x`
    /// (grid-searching C first for a `grid_search`); returns the fitted model.
    ///
    /// Errors: `x` and `labels` with different numbers of rows. A label
    /// present in every row, or in none, is predicted constantly, with a warning.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn svm_fit(model: &mut SvmHandle, x: Sparse, labels: Labels) -> RhaiResult<SvmHandle> {
        model.fit(&x, &labels)?;
        Ok(model.clone())
    }

    /// w·x + b for each row and label (`Matrix`, columns named by the labels).
    ///
    /// Errors: not fitted; `x` with other columns than at fit time.
    #[rhai_fn(global, name = "decision_function", return_raw, pure)]
    pub fn svm_decision(model: &mut SvmHandle, x: Sparse) -> RhaiResult<Matrix> {
        let m = model.fitted()?;
        Ok(scores_matrix(m.decision_function(x.csr())?, &m.names)?)
    }

    /// The labels with a positive decision value.
    ///
    /// Errors: as `decision_function`.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn svm_predict(model: &mut SvmHandle, x: Sparse) -> RhaiResult<Labels> {
        Ok(model.fitted()?.predict(x.csr())?)
    }

    /// Label -> the C it was fitted with (the grid's choice after a grid search).
    ///
    /// Errors: not fitted.
    #[rhai_fn(global, name = "best_params", return_raw, pure)]
    pub fn svm_best_params(model: &mut SvmHandle) -> RhaiResult<Map> {
        Ok(c_map(model.fitted()?))
    }

    /// Label -> mean cross-validation score of each candidate C, in the
    /// grid's order (`()` for a model that was not grid-searched).
    ///
    /// Errors: not fitted.
    #[rhai_fn(global, name = "cv_results", return_raw, pure)]
    pub fn svm_cv_results(model: &mut SvmHandle) -> RhaiResult<Dynamic> {
        let m = model.fitted()?;
        Ok(match &m.cv_scores {
            None => Dynamic::UNIT,
            Some(scores) => Dynamic::from_map(
                m.names
                    .iter()
                    .zip(scores)
                    .map(|(n, s)| {
                        let arr: rhai::Array = s.iter().map(|v| Dynamic::from_float(*v)).collect();
                        (n.as_str().into(), Dynamic::from_array(arr))
                    })
                    .collect(),
            ),
        })
    }

    /// Writes the fitted SVM (weights, biases, C per label, parameters) to a
    /// `.safetensors` file.
    ///
    /// Errors: not fitted; another extension; the file cannot be written.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn svm_save(model: &mut SvmHandle, path: &str) -> RhaiResult<()> {
        Ok(model.fitted()?.save(Path::new(path))?)
    }

    /// The recipe and, once fitted, labels, features and the C per label.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn svm_describe(model: &mut SvmHandle) -> String {
        let recipe = match &model.spec {
            SvmSpec::Fixed(p) => format!(
                "Svm(c={}, loss={:?}, intercept={:?}, class_weight={:?}, tol={}, max_iter={})",
                p.c, p.loss, p.intercept, p.class_weight, p.tol, p.max_iter
            ),
            SvmSpec::Grid(g) => format!(
                "Svm grid search(c={:?}, folds={}, scoring={:?}, loss={:?}, intercept={:?}, class_weight={:?})",
                g.cs, g.folds, g.scoring, g.base.loss, g.base.intercept, g.base.class_weight
            ),
        };
        match &model.model {
            None => format!("{recipe} — not fitted"),
            Some(m) => format!(
                "{recipe} — fitted: {} labels × {} features",
                m.names.len(),
                m.weights.ncols()
            ),
        }
    }
}

#[export_module]
pub mod nb_methods {
    use std::path::Path;

    use rhai::{Dynamic, INT, Map};

    use super::{NbHandle, scores_matrix};
    use crate::api::convert::{RhaiResult, count, string_array};
    use crate::api::text::VectorizerHandle;
    use crate::data::Labels;
    use crate::error::Error;
    use crate::matrix::{Matrix, Sparse};

    /// Fits naive Bayes on the rows of `x` (counts or tf-idf, non-negative);
    /// returns the fitted model.
    ///
    /// Errors: negative values in `x`; `x` and `labels` with different rows.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn nb_fit(model: &mut NbHandle, x: Sparse, labels: Labels) -> RhaiResult<NbHandle> {
        model.fit(&x, &labels)?;
        Ok(model.clone())
    }

    /// P(label | x) for each row and label, computed without overflow
    /// (`Matrix`, columns named by the labels).
    ///
    /// Errors: not fitted; `x` with other columns than at fit time.
    #[rhai_fn(global, name = "predict_proba", return_raw, pure)]
    pub fn nb_predict_proba(model: &mut NbHandle, x: Sparse) -> RhaiResult<Matrix> {
        let m = model.fitted()?;
        Ok(scores_matrix(m.predict_proba(x.csr())?, &m.names)?)
    }

    /// The labels with probability above 0.5.
    #[rhai_fn(global, name = "predict", return_raw, pure)]
    pub fn nb_predict(model: &mut NbHandle, x: Sparse) -> RhaiResult<Labels> {
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
        model: &mut NbHandle,
        vectorizer: VectorizerHandle,
        k: INT,
    ) -> RhaiResult<Map> {
        let m = model.fitted()?;
        let k = count(k, "top_terms: k")?;
        let vocab = vectorizer
            .0
            .vocabulary
            .as_ref()
            .ok_or_else(|| Error::invalid("top_terms: the vectorizer is not fitted"))?;
        if vocab.len() != m.log_prob_pos.ncols() {
            return Err(Error::invalid(format!(
                "top_terms: the vectorizer has {} terms but the model was fitted on {} columns",
                vocab.len(),
                m.log_prob_pos.ncols()
            ))
            .into());
        }
        Ok(m.names
            .iter()
            .zip(m.top_terms(k))
            .map(|(name, top)| {
                let terms = string_array(top.iter().map(|(t, _)| vocab.terms()[*t].as_str()));
                (name.as_str().into(), Dynamic::from_array(terms))
            })
            .collect())
    }

    /// Writes the fitted model to a `.safetensors` file.
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn nb_save(model: &mut NbHandle, path: &str) -> RhaiResult<()> {
        Ok(model.fitted()?.save(Path::new(path))?)
    }

    /// Its parameters and, once fitted, its size.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn nb_describe(model: &mut NbHandle) -> String {
        let recipe = format!(
            "NaiveBayes(multinomial, alpha={}, fit_prior={})",
            model.alpha, model.fit_prior
        );
        match &model.model {
            None => format!("{recipe} — not fitted"),
            Some(m) => format!(
                "{recipe} — fitted: {} labels × {} features",
                m.names.len(),
                m.log_prob_pos.ncols()
            ),
        }
    }
}
