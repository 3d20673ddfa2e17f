//! Early and late fusion of modalities: `data::hstack`,
//! `data::standard_scaler`, `metrics::calibrate` (Platt) and `fusion::late`.

use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::convert::type_of;
use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Parsed, SEED, Schema};
use crate::data::Labels;
use crate::data::labels::check_same_labels;
use crate::error::{Error, Result};
use crate::matrix::scale::Scaler;
use crate::matrix::{Matrix, Sparse};
use crate::metrics::calibrate::Sigmoid;

/// A standard scaler as scripts hold it (fitted or not).
#[derive(Clone)]
pub struct ScalerHandle {
    pub with_mean: bool,
    pub with_std: bool,
    pub fitted: Option<Arc<Scaler>>,
}

/// Per-label sigmoids fitted on development scores.
#[derive(Clone)]
pub struct CalibrationHandle {
    pub names: Vec<String>,
    pub sigmoids: Arc<Vec<Sigmoid>>,
}

pub static STANDARD_SCALER: Schema = Schema::new(
    "data::standard_scaler",
    &[&[
        Opt::new(
            "with_mean",
            Kind::Bool,
            D::Bool(true),
            "subtract each column's mean",
        ),
        Opt::new(
            "with_std",
            Kind::Bool,
            D::Bool(true),
            "divide by each column's population standard deviation (1 for a constant column)",
        ),
    ]],
);

pub static CALIBRATE: Schema = Schema::new(
    "metrics::calibrate",
    &[&[Opt::new(
        "method",
        Kind::Choice(&["sigmoid"]),
        D::Text("sigmoid"),
        "Platt's sigmoid per label (scikit-learn's _sigmoid_calibration)",
    )]],
);

/// `[Labels, [Matrix, …]]`.
fn tune_on(v: &Dynamic) -> bool {
    v.read_lock::<Array>().is_some_and(|a| {
        a.len() == 2
            && a[0].is::<Labels>()
            && a[1]
                .read_lock::<Array>()
                .is_some_and(|m| m.iter().all(|x| x.is::<Matrix>()))
    })
}

/// An array of weight arrays (one per label).
fn nested_weights(v: &Dynamic) -> bool {
    v.read_lock::<Array>().is_some_and(|a| {
        !a.is_empty()
            && a.iter().all(|w| {
                w.read_lock::<Array>()
                    .is_some_and(|w| w.iter().all(|x| x.is_float() || x.is_int()))
            })
    })
}

const STEP: Opt = Opt::new(
    "step",
    Kind::Number(Bounds {
        lo: crate::api::schema::End::Excl(0.0),
        hi: crate::api::schema::End::Incl(0.5),
    }),
    D::Float(0.1),
    "the weight grid's step",
);

const PER_LABEL: Opt = Opt::new(
    "per_label",
    Kind::Bool,
    D::Bool(false),
    "tune one weight vector per label (each label's best dev F1 at its best threshold) instead of one for all",
);

pub static TUNE_WEIGHTS: Schema = Schema::new("fusion::tune_weights", &[&[STEP, PER_LABEL]]);

pub static LATE: Schema = Schema::new(
    "fusion::late",
    &[&[
        Opt::new(
            "weights",
            Kind::Either(&[
                Kind::Numbers(Bounds::UNIT),
                Kind::Value {
                    expected: "an array of weight arrays, one per label",
                    check: nested_weights,
                },
            ]),
            D::Described("equal weights"),
            "one weight per matrix, summing to 1 (or one such array per label, as `fusion::tune_weights(…, #{ per_label: true })` gives)",
        ),
        Opt::new(
            "tune_on",
            Kind::Value {
                expected: "[y_dev Labels, [dev probability Matrix, …]]",
                check: tune_on,
            },
            D::None,
            "pick the weights on dev as `fusion::tune_weights` does",
        ),
        STEP,
        PER_LABEL,
    ]],
);

const BOOTSTRAP_OPTS: &[Opt] = &[
    Opt::new(
        "metric",
        Kind::Choice(crate::metrics::bootstrap::METRICS),
        D::Text("f1_micro"),
        "what is resampled",
    ),
    Opt::new(
        "n",
        Kind::Int(Bounds::within(10.0, 100_000.0)),
        D::Int(1000),
        "resamples",
    ),
];

pub static BOOTSTRAP: Schema = Schema::new("metrics::bootstrap", &[BOOTSTRAP_OPTS, &[SEED]]);
pub static COMPARE: Schema = Schema::new("metrics::compare", &[BOOTSTRAP_OPTS, &[SEED]]);

pub static TRUNCATED_SVD: Schema = Schema::new(
    "text::truncated_svd",
    &[
        &[
            Opt::new(
                "n_components",
                Kind::Int(Bounds::POSITIVE_INT),
                D::Int(2),
                "components kept (below the smaller side of the matrix)",
            ),
            Opt::new(
                "n_iter",
                Kind::Int(Bounds::within(0.0, 100.0)),
                D::Int(5),
                "power iterations",
            ),
        ],
        &[SEED],
    ],
);

pub static SCHEMAS: &[&Schema] = &[
    &STANDARD_SCALER,
    &CALIBRATE,
    &LATE,
    &TUNE_WEIGHTS,
    &BOOTSTRAP,
    &COMPARE,
    &TRUNCATED_SVD,
];

/// A truncated SVD as scripts hold it (its recipe and, once fitted, the components).
#[derive(Clone)]
pub struct SvdHandle {
    pub n_components: usize,
    pub n_iter: usize,
    pub seed: u32,
    pub fitted: Option<Arc<crate::text::svd::TruncatedSvd>>,
}

/// The dense values of a `Matrix` or a `Sparse` (densified: the SVD's
/// products are dense anyway).
fn dense_values(v: &Dynamic, what: &str) -> Result<ndarray::Array2<f32>> {
    if let Some(m) = v.read_lock::<Matrix>() {
        return Ok(m.values().clone());
    }
    if let Some(s) = v.read_lock::<Sparse>() {
        return Ok(s.csr().to_dense());
    }
    Err(Error::invalid(format!(
        "{what}: expected a Matrix or a Sparse, got {}",
        type_of(v)
    )))
}

/// The bootstrap of `predictions` against `y`: (metric on all rows, the
/// metric on each resample), one entry per prediction matrix.
fn bootstrap_of(
    ctx: &NativeCallContext,
    schema: &'static Schema,
    what: &str,
    y: &Labels,
    predictions: &[&Labels],
    options: Map,
) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
    let opts = schema.parse(options)?;
    for p in predictions {
        crate::metrics::check_shapes(what, (y.rows(), y.cols()), (p.rows(), p.cols()))?;
        check_same_labels(
            what,
            ("y_true", y.names()),
            ("a prediction", Some(p.names())),
        )?;
    }
    if y.rows() == 0 {
        return Err(Error::invalid(format!("{what}: no rows to resample")));
    }
    let metric = crate::metrics::bootstrap::metric(&opts.text("metric")?)
        .ok_or_else(|| Error::invalid(format!("{what}: unknown metric")))?;
    let seed =
        opts.seed(|| Ok(crate::api::session_rng(ctx)?.borrow_mut().next_u32() as u64))? as u32;
    let samples = crate::metrics::bootstrap::resamples(y.rows(), opts.usize("n")?, seed);
    let views: Vec<_> = predictions.iter().map(|p| p.values().view()).collect();
    let full = views
        .iter()
        .map(|p| metric(y.values().view(), *p))
        .collect();
    Ok((
        full,
        crate::metrics::bootstrap::distribution(y.values().view(), &views, metric, &samples),
    ))
}

fn interval_map(value: f64, values: &[f64]) -> Map {
    let (mean, low, high) = crate::metrics::bootstrap::summary(values);
    let mut m = Map::new();
    m.insert("value".into(), Dynamic::from_float(value));
    m.insert("mean".into(), Dynamic::from_float(mean));
    m.insert("low".into(), Dynamic::from_float(low));
    m.insert("high".into(), Dynamic::from_float(high));
    m.insert("n".into(), Dynamic::from_int(values.len() as i64));
    m
}

/// The matrices of a script array, named for messages.
fn matrix_list(v: &Array, what: &str) -> Result<Vec<Matrix>> {
    v.iter()
        .enumerate()
        .map(|(i, m)| {
            m.read_lock::<Matrix>().map(|m| m.clone()).ok_or_else(|| {
                Error::invalid(format!(
                    "{what}: element {i} is {}, expected a Matrix",
                    type_of(m)
                ))
            })
        })
        .collect()
}

/// The same labels in every block (named columns only).
fn same_columns(what: &str, blocks: &[Matrix]) -> Result<()> {
    let Some(first) = blocks[0].col_names() else {
        return Ok(());
    };
    for (i, b) in blocks.iter().enumerate().skip(1) {
        check_same_labels(
            what,
            ("matrix 0", first),
            (&format!("matrix {i}"), b.col_names()),
        )?;
    }
    Ok(())
}

/// Weights for late fusion: one vector for every label, or one per label.
#[derive(Clone, Debug, PartialEq)]
enum Weights {
    All(Vec<f64>),
    PerLabel(Vec<Vec<f64>>),
}

impl Weights {
    fn to_dynamic(&self) -> Dynamic {
        let floats = |w: &[f64]| -> Dynamic {
            w.iter()
                .map(|&v| Dynamic::from_float(v))
                .collect::<Array>()
                .into()
        };
        match self {
            Weights::All(w) => floats(w),
            Weights::PerLabel(ws) => ws.iter().map(|w| floats(w)).collect::<Array>().into(),
        }
    }
}

/// The `weights` option, checked against the blocks and labels.
fn given_weights(v: &Dynamic, blocks: usize, labels: usize) -> Result<Weights> {
    let what = "fusion::late";
    let numbers = |w: &Dynamic| -> Vec<f64> {
        w.read_lock::<Array>()
            .map(|a| a.iter().filter_map(crate::api::schema::number).collect())
            .unwrap_or_default()
    };
    if nested_weights(v) {
        let ws: Vec<Vec<f64>> = v
            .read_lock::<Array>()
            .map(|a| a.iter().map(numbers).collect())
            .unwrap_or_default();
        if ws.len() != labels {
            return Err(Error::invalid(format!(
                "{what}: {} per-label weight arrays for {labels} label columns; give one per label",
                ws.len()
            )));
        }
        for (j, w) in ws.iter().enumerate() {
            crate::fusion::check_weights(&format!("{what}: weights of label {j}"), w, blocks)?;
        }
        return Ok(Weights::PerLabel(ws));
    }
    let w = numbers(v);
    crate::fusion::check_weights(what, &w, blocks)?;
    Ok(Weights::All(w))
}

/// Weights tuned on dev: `y_dev` and one dev probability matrix per block.
fn tune(
    what: &str,
    y_dev: &Labels,
    dev: &[Matrix],
    blocks: usize,
    opts: &Parsed,
) -> Result<Weights> {
    if dev.len() != blocks {
        return Err(Error::invalid(format!(
            "{what}: {} dev matrices for {blocks} matrices to fuse",
            dev.len(),
        )));
    }
    let dev_views: Vec<_> = dev.iter().map(|m| m.values().view()).collect();
    crate::fusion::check_blocks(what, &dev_views)?;
    same_columns(what, dev)?;
    crate::metrics::check_shapes(what, (y_dev.rows(), y_dev.cols()), dev_views[0].dim())?;
    check_same_labels(
        what,
        ("y_dev", y_dev.names()),
        ("matrix 0", dev[0].col_names()),
    )?;
    let step = opts.float("step")?;
    Ok(if opts.flag("per_label")? {
        Weights::PerLabel(crate::fusion::tune_label_weights(
            y_dev.values().view(),
            &dev_views,
            step,
        ))
    } else {
        Weights::All(crate::fusion::tune_weights(y_dev.values().view(), &dev_views, step).0)
    })
}

fn tune_weights(y_dev: &Labels, dev: &Array, options: Map) -> Result<Dynamic> {
    let opts = TUNE_WEIGHTS.parse(options)?;
    let what = "fusion::tune_weights";
    let dev = matrix_list(dev, what)?;
    Ok(tune(what, y_dev, &dev, dev.len(), &opts)?.to_dynamic())
}

fn late(blocks: &Array, options: Map) -> Result<Matrix> {
    let opts = LATE.parse(options)?;
    let blocks = matrix_list(blocks, "fusion::late")?;
    let views: Vec<_> = blocks.iter().map(|m| m.values().view()).collect();
    crate::fusion::check_blocks("fusion::late", &views)?;
    same_columns("fusion::late", &blocks)?;
    let labels = views[0].ncols();
    let weights = if let Some(v) = opts.raw("tune_on")? {
        if opts.given("weights") {
            return Err(Error::invalid(
                "fusion::late: give weights or tune_on, not both",
            ));
        }
        let pair = v
            .read_lock::<Array>()
            .map(|a| a.clone())
            .unwrap_or_default();
        let y_dev = pair[0]
            .read_lock::<Labels>()
            .map(|y| y.clone())
            .ok_or_else(|| Error::invalid("fusion::late: tune_on[0] must be Labels"))?;
        let dev = matrix_list(
            &pair[1]
                .read_lock::<Array>()
                .map(|a| a.clone())
                .unwrap_or_default(),
            "fusion::late: tune_on[1]",
        )?;
        tune("fusion::late: tune_on", &y_dev, &dev, blocks.len(), &opts)?
    } else if let Some(v) = opts.raw("weights")? {
        given_weights(v, blocks.len(), labels)?
    } else {
        Weights::All(vec![1.0 / blocks.len() as f64; blocks.len()])
    };
    let fused = match &weights {
        Weights::All(w) => crate::fusion::weighted_mean(&views, w),
        Weights::PerLabel(ws) => crate::fusion::weighted_mean_per_label(&views, ws),
    };
    Matrix::new(fused).with_names(
        blocks[0].row_names().map(<[String]>::to_vec),
        blocks[0].col_names().map(<[String]>::to_vec),
    )
}

fn hstack(blocks: &Array) -> Result<Dynamic> {
    if blocks.is_empty() {
        return Err(Error::invalid("data::hstack: no blocks to join"));
    }
    let rows = |i: usize, v: &Dynamic| -> Result<(usize, usize)> {
        if let Some(m) = v.read_lock::<Matrix>() {
            Ok((m.rows(), m.cols()))
        } else if let Some(s) = v.read_lock::<Sparse>() {
            Ok((s.csr().rows(), s.csr().cols()))
        } else {
            Err(Error::invalid(format!(
                "data::hstack: block {i} is {}, expected a Matrix or a Sparse",
                type_of(v)
            )))
        }
    };
    let first = rows(0, &blocks[0])?;
    for (i, b) in blocks.iter().enumerate() {
        let shape = rows(i, b)?;
        if shape.0 != first.0 {
            return Err(Error::invalid(format!(
                "data::hstack: block 0 is {} × {} but block {i} is {} × {}; every block needs the same rows (the same movies)",
                first.0, first.1, shape.0, shape.1
            )));
        }
    }
    let dense: Vec<Matrix> = blocks
        .iter()
        .filter_map(|b| b.read_lock::<Matrix>().map(|m| m.clone()))
        .collect();
    if dense.len() != blocks.len() {
        if !dense.is_empty() {
            return Err(Error::invalid(
                "data::hstack: dense and sparse blocks mixed; call .to_dense() on the sparse ones (or .to_sparse() on the dense ones) first",
            ));
        }
        let sparse: Vec<Sparse> = blocks
            .iter()
            .filter_map(|b| b.read_lock::<Sparse>().map(|s| s.clone()))
            .collect();
        let csrs: Vec<&crate::matrix::Csr> = sparse.iter().map(|s| s.csr()).collect();
        return Ok(Dynamic::from(Sparse::new(crate::matrix::Csr::hstack(
            &csrs,
        )?)));
    }
    // Row-major, as every other matrix (ndarray's concatenate along columns
    // gives column-major, which made batch selection and products 2x slower).
    let cols: usize = dense.iter().map(|m| m.cols()).sum();
    let mut joined = ndarray::Array2::<f32>::zeros((first.0, cols));
    let mut at = 0;
    for m in &dense {
        joined
            .slice_mut(ndarray::s![.., at..at + m.cols()])
            .assign(m.values());
        at += m.cols();
    }
    Ok(Dynamic::from(Matrix::new(joined).with_names(
        dense[0].row_names().map(<[String]>::to_vec),
        None,
    )?))
}

#[export_module]
pub mod fusion_module {
    use rhai::{Array, Dynamic, Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located};
    use crate::data::Labels;
    use crate::matrix::Matrix;

    /// Late fusion: the weighted mean of probability matrices of the same
    /// movies and labels (text and poster models, say) — equal weights, the
    /// given `weights`, or weights picked on dev with `tune_on` (options below).
    ///
    /// Errors: fewer than two matrices; shapes or labels that differ (both
    /// named); NaN or infinite probabilities; weights that do not sum to 1
    /// or a wrong count of them; a bad option.
    ///
    /// ```rhai
    /// let text = data::matrix([[0.9, 0.2], [0.1, 0.6]]);
    /// let poster = data::matrix([[0.5, 0.4], [0.3, 0.2]]);
    /// assert_eq(fusion::late([text, poster], #{ weights: [0.5, 0.5] }).row(0), [0.699999988079071, 0.30000001192092896]);
    /// // per label: the first genre from the text, the second from the poster
    /// assert_eq(fusion::late([text, poster], #{ weights: [[1.0, 0.0], [0.0, 1.0]] }).row(1), [0.10000000149011612, 0.20000000298023224]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn late(ctx: NativeCallContext, probabilities: Array, options: Map) -> RhaiResult<Matrix> {
        located(&ctx, || super::late(&probabilities, options))
    }

    /// The late-fusion weights that score best on dev, over a grid on the
    /// simplex (multiples of `step`): the fused dev probabilities' micro-F1
    /// with dev-tuned thresholds (the reference's D1w), or with `per_label`
    /// one weight vector per label. Returns the weights (`[w₁, …]`, or one
    /// such array per label) to pass to `fusion::late(…, #{ weights })` for
    /// dev and test alike.
    ///
    /// Arguments: `y_dev`; `dev`, one dev probability matrix per model;
    /// `options` (below).
    ///
    /// Errors: fewer than two matrices; shapes or labels that differ;
    /// NaN or infinite probabilities; a bad option.
    ///
    /// ```rhai
    /// let y = data::binarizer([["A"], ["B"]]).transform([["A"], ["B"], ["A", "B"], []]);
    /// let a = data::matrix([[0.9, 0.5], [0.1, 0.2], [0.8, 0.4], [0.2, 0.9]]);
    /// let b = data::matrix([[0.2, 0.1], [0.9, 0.8], [0.1, 0.7], [0.8, 0.2]]);
    /// assert_eq(fusion::tune_weights(y, [a, b], #{ per_label: true, step: 0.5 }), [[1.0, 0.0], [0.0, 1.0]]);
    /// let w = fusion::tune_weights(y, [a, b], #{});
    /// assert_eq(w.len(), 2);
    /// let fused = fusion::late([a, b], #{ weights: w });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tune_weights(
        ctx: NativeCallContext,
        y_dev: Labels,
        dev: Array,
        options: Map,
    ) -> RhaiResult<Dynamic> {
        located(&ctx, || super::tune_weights(&y_dev, &dev, options))
    }
}

#[export_module]
pub mod fusion_data {
    use rhai::{Array, Dynamic, Map, NativeCallContext};

    use super::ScalerHandle;
    use crate::api::convert::{RhaiResult, located};

    /// Joins matrices side by side (`np.hstack`): every `Matrix` → a
    /// `Matrix`, every `Sparse` → a `Sparse`; early fusion of text and
    /// poster features.
    ///
    /// Errors: no blocks; blocks with different row counts (both shapes
    /// named); dense and sparse blocks mixed (densify on purpose with `to_dense()`).
    ///
    /// ```rhai
    /// let x = data::hstack([data::matrix([[1.0], [2.0]]), data::matrix([[3.0, 4.0], [5.0, 6.0]])]);
    /// assert_eq(x.shape, [2, 3]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hstack(ctx: NativeCallContext, blocks: Array) -> RhaiResult<Dynamic> {
        located(&ctx, || super::hstack(&blocks))
    }

    /// scikit-learn's `StandardScaler` (options below): `fit` on training
    /// rows, then `transform` any rows with those means and deviations.
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let s = data::standard_scaler(#{}).fit(data::matrix([[1.0, 10.0], [3.0, 10.0]]));
    /// assert_eq(s.transform(data::matrix([[2.0, 12.0]])).row(0), [0.0, 2.0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn standard_scaler(ctx: NativeCallContext, options: Map) -> RhaiResult<ScalerHandle> {
        located(&ctx, || {
            let opts = super::STANDARD_SCALER.parse(options)?;
            Ok(ScalerHandle {
                with_mean: opts.flag("with_mean")?,
                with_std: opts.flag("with_std")?,
                fitted: None,
            })
        })
    }
}

#[export_module]
pub mod fusion_methods {
    use std::sync::Arc;

    use super::{CalibrationHandle, ScalerHandle};
    use crate::api::convert::RhaiResult;
    use crate::error::Error;
    use crate::matrix::Matrix;
    use crate::matrix::scale::Scaler;

    /// Learns each column's mean and deviation from `x`; returns the scaler.
    ///
    /// Errors: no rows; NaN or infinite values.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn scaler_fit(s: &mut ScalerHandle, x: Matrix) -> RhaiResult<ScalerHandle> {
        s.fitted = Some(Arc::new(Scaler::fit(
            x.values().view(),
            s.with_mean,
            s.with_std,
        )?));
        Ok(s.clone())
    }

    /// `x` scaled with the fitted means and deviations (names kept).
    ///
    /// Errors: not fitted; another column count than the fit's.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn scaler_transform(s: &mut ScalerHandle, x: Matrix) -> RhaiResult<Matrix> {
        let scaler = s
            .fitted
            .as_ref()
            .ok_or_else(|| Error::invalid("standard_scaler: not fitted yet; call fit(x) first"))?;
        Ok(
            Matrix::new(scaler.transform(x.values().view())?).with_names(
                x.row_names().map(<[String]>::to_vec),
                x.col_names().map(<[String]>::to_vec),
            )?,
        )
    }

    /// `fit(x)` then `transform(x)`.
    ///
    /// Errors: as `fit`.
    #[rhai_fn(global, name = "fit_transform", return_raw)]
    pub fn scaler_fit_transform(s: &mut ScalerHandle, x: Matrix) -> RhaiResult<Matrix> {
        scaler_fit(s, x.clone())?;
        scaler_transform(s, x)
    }

    /// Probabilities of `scores` under the fitted sigmoids (columns named
    /// by label).
    ///
    /// Errors: another column count; other labels; NaN scores.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn calibration_transform(c: &mut CalibrationHandle, scores: Matrix) -> RhaiResult<Matrix> {
        super::check_same_labels(
            "calibration",
            ("the calibrated labels", &c.names),
            ("scores", scores.col_names()),
        )?;
        scores.check_finite("calibration: scores", "scores")?;
        let p = crate::metrics::calibrate::apply(&c.sigmoids, scores.values().view())?;
        Ok(Matrix::new(p).with_names(
            scores.row_names().map(<[String]>::to_vec),
            Some(c.names.clone()),
        )?)
    }
}

#[export_module]
pub mod fusion_metrics {
    use std::sync::Arc;

    use rhai::{Map, NativeCallContext};

    use super::CalibrationHandle;
    use crate::api::convert::{RhaiResult, located};
    use crate::data::Labels;
    use crate::matrix::Matrix;

    /// Per-label Platt sigmoids fitted on development scores (SVM decision
    /// values, say) against `y_dev`; `transform(scores)` turns scores into
    /// probabilities that can be averaged with other models'.
    ///
    /// Errors: shapes or labels that differ; NaN scores; a label with one
    /// class only on these rows (named); a bad option.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"]]).transform([["a"], [], ["a"], [], ["a"], []]);
    /// let cal = metrics::calibrate(data::matrix([[2.0], [-1.0], [0.5], [0.2], [1.5], [-2.0]]), y, #{});
    /// let p = cal.transform(data::matrix([[3.0], [-3.0]]));
    /// assert(p.row(0)[0] > 0.5 && p.row(1)[0] < 0.5);
    /// ```
    #[rhai_fn(name = "calibrate", return_raw)]
    pub fn calibrate(
        ctx: NativeCallContext,
        scores_dev: Matrix,
        y_dev: Labels,
        options: Map,
    ) -> RhaiResult<CalibrationHandle> {
        located(&ctx, || {
            super::CALIBRATE.parse(options)?;
            crate::metrics::check_shapes(
                "calibrate",
                (y_dev.rows(), y_dev.cols()),
                (scores_dev.rows(), scores_dev.cols()),
            )?;
            super::check_same_labels(
                "calibrate",
                ("y_dev", y_dev.names()),
                ("scores_dev", scores_dev.col_names()),
            )?;
            scores_dev.check_finite("calibrate: scores_dev", "scores")?;
            let sigmoids = crate::metrics::calibrate::calibrate(
                scores_dev.values().view(),
                y_dev.values().view(),
                y_dev.names(),
            )?;
            Ok(CalibrationHandle {
                names: y_dev.names().to_vec(),
                sigmoids: Arc::new(sigmoids),
            })
        })
    }

    /// The bootstrap over movies of a metric of `predicted` (options below):
    /// `#{ value, mean, low, high, n }` — the metric on all movies, the mean
    /// of the resamples and their 95 % interval.
    ///
    /// Errors: shapes or labels that differ; no rows; a bad option.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let y = b.transform([["a"], ["b"], ["a", "b"], [], ["a"], ["b"]]);
    /// let p = b.transform([["a"], ["b"], ["a"], ["b"], ["a"], ["b"]]);
    /// let r = metrics::bootstrap(y, p, #{ n: 200, seed: 1 });
    /// assert(r.low <= r.value && r.value <= r.high);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn bootstrap(
        ctx: NativeCallContext,
        y_true: Labels,
        predicted: Labels,
        options: Map,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            let (full, dist) = super::bootstrap_of(
                &ctx,
                &super::BOOTSTRAP,
                "bootstrap",
                &y_true,
                &[&predicted],
                options,
            )?;
            let values: Vec<f64> = dist.iter().map(|r| r[0]).collect();
            Ok(super::interval_map(full[0], &values))
        })
    }

    /// The paired bootstrap of `a` against `b` on the same movies (options
    /// below): `#{ value, mean, low, high, n, p_value }` of metric(a) −
    /// metric(b); `p_value` is two-sided, for "no difference".
    ///
    /// Errors: as `bootstrap`.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let y = b.transform([["a"], ["b"], ["a", "b"], [], ["a"], ["b"]]);
    /// let good = b.transform([["a"], ["b"], ["a", "b"], [], ["a"], ["b"]]);
    /// let bad = b.transform([["b"], ["a"], [], ["a", "b"], ["b"], ["a"]]);
    /// let c = metrics::compare(y, good, bad, #{ n: 200, seed: 1 });
    /// assert(c.value == 1.0 && c.p_value < 0.05);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn compare(
        ctx: NativeCallContext,
        y_true: Labels,
        a: Labels,
        b: Labels,
        options: Map,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            let (full, dist) = super::bootstrap_of(
                &ctx,
                &super::COMPARE,
                "compare",
                &y_true,
                &[&a, &b],
                options,
            )?;
            let d: Vec<f64> = dist.iter().map(|r| r[0] - r[1]).collect();
            let mut m = super::interval_map(full[0] - full[1], &d);
            m.insert(
                "p_value".into(),
                rhai::Dynamic::from_float(crate::metrics::bootstrap::p_value(&d)),
            );
            Ok(m)
        })
    }
}

#[export_module]
pub mod fusion_text {
    use std::sync::Arc;

    use rhai::{Array, Dynamic, Map, NativeCallContext};

    use super::SvdHandle;
    use crate::api::convert::{RhaiResult, located};
    use crate::error::Error;
    use crate::matrix::Matrix;

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
    pub fn truncated_svd(ctx: NativeCallContext, options: Map) -> RhaiResult<SvdHandle> {
        located(&ctx, || {
            let opts = super::TRUNCATED_SVD.parse(options)?;
            let seed =
                opts.seed(|| Ok(crate::api::session_rng(&ctx)?.borrow_mut().next_u32() as u64))?;
            Ok(SvdHandle {
                n_components: opts.usize("n_components")?,
                n_iter: opts.usize("n_iter")?,
                seed: seed as u32,
                fitted: None,
            })
        })
    }

    /// Learns the components from `x` (`Matrix` or `Sparse`); returns the SVD.
    ///
    /// Errors: n_components not below the smaller side; NaN values.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn svd_fit(svd: &mut SvdHandle, x: Dynamic) -> RhaiResult<SvdHandle> {
        let values = super::dense_values(&x, "truncated_svd: fit")?;
        svd.fitted = Some(Arc::new(crate::text::svd::fit(
            values.view(),
            svd.n_components,
            svd.n_iter,
            svd.seed,
        )?));
        Ok(svd.clone())
    }

    /// `x` on the components (`Matrix`, rows × n_components).
    ///
    /// Errors: not fitted; another column count.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn svd_transform(svd: &mut SvdHandle, x: Dynamic) -> RhaiResult<Matrix> {
        let fitted = svd
            .fitted
            .as_ref()
            .ok_or_else(|| Error::invalid("truncated_svd: not fitted yet; call fit(x) first"))?;
        let values = super::dense_values(&x, "truncated_svd: transform")?;
        Ok(Matrix::new(fitted.transform(values.view())?))
    }

    /// The variance of each component's projection over the variance of the
    /// data (scikit-learn's `explained_variance_ratio_`).
    ///
    /// Errors: not fitted.
    #[rhai_fn(global, name = "explained_variance_ratio", return_raw, pure)]
    pub fn svd_ratio(svd: &mut SvdHandle) -> RhaiResult<Array> {
        let fitted = svd
            .fitted
            .as_ref()
            .ok_or_else(|| Error::invalid("truncated_svd: not fitted yet; call fit(x) first"))?;
        Ok(fitted
            .explained_variance_ratio
            .iter()
            .map(|v| Dynamic::from_float(*v))
            .collect())
    }
}
