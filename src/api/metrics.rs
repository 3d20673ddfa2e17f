//! `metrics::` — scikit-learn's multi-label metrics and the seed's top-k
//! precision/recall, over `Labels` (truth, predictions) and `Matrix` (scores).

use rhai::plugin::*;

use rhai::{FLOAT, NativeCallContext};

use crate::api::convert::{RhaiResult, located};
use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Schema};
use crate::data::Labels;
use crate::data::labels::check_same_labels;
use crate::matrix::Matrix;
use crate::metrics::{self, Average, ReportRow, check_shapes};

pub static TUNE_THRESHOLDS: Schema = Schema::new(
    "metrics::tune_thresholds",
    &[&[
        Opt::new(
            "start",
            Kind::Number(Bounds::ANY),
            D::Float(0.5),
            "every threshold's first value; 0.0 for SVM decision values",
        ),
        Opt::new(
            "objective",
            Kind::Choice(&["micro", "per_label"]),
            D::Text("micro"),
            "micro: coordinate ascent on micro-F1; per_label: each label's own F1",
        ),
    ]],
);

pub static SCHEMAS: &[&Schema] = &[&TUNE_THRESHOLDS];

fn shape_of_labels(y: &Labels) -> (usize, usize) {
    (y.rows(), y.cols())
}

/// Truth against predictions: same shape, same labels.
fn check_labels(what: &str, y_true: &Labels, y_pred: &Labels) -> crate::Result<()> {
    check_shapes(what, shape_of_labels(y_true), shape_of_labels(y_pred))?;
    check_same_labels(
        what,
        ("y_true", y_true.names()),
        ("y_pred", Some(y_pred.names())),
    )
}

/// Truth against scores: same shape, same labels (when the scores' columns
/// are named), finite scores.
fn check_scores(what: &str, y: &Labels, scores: &Matrix, arg: &str) -> crate::Result<()> {
    check_shapes(what, shape_of_labels(y), (scores.rows(), scores.cols()))?;
    check_same_labels(what, ("the labels", y.names()), (arg, scores.col_names()))?;
    scores.check_finite(&format!("{what}: {arg}"), "scores")
}

/// Scores turned into 0/1 labels, named by the score columns.
fn score_labels(m: &Matrix, values: ndarray::Array2<u8>) -> crate::Result<Labels> {
    let names = m
        .col_names()
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| (0..m.cols()).map(|j| j.to_string()).collect());
    Labels::new(names, values)
}

fn averaged(
    ctx: &NativeCallContext,
    what: &'static str,
    y_true: &Labels,
    y_pred: &Labels,
    average: &str,
    pick: fn((f64, f64, f64)) -> f64,
) -> RhaiResult<FLOAT> {
    located(ctx, || {
        check_labels(what, y_true, y_pred)?;
        let avg = Average::parse(average)?;
        Ok(pick(metrics::scores(
            y_true.values().view(),
            y_pred.values().view(),
            avg,
        )))
    })
}

/// A classification report: prints as scikit-learn's text, reads as a map.
#[derive(Clone, Debug)]
pub struct Report {
    pub rows: Vec<ReportRow>,
    pub averages: Vec<ReportRow>,
}

fn row_map(r: &ReportRow) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("precision".into(), rhai::Dynamic::from_float(r.precision));
    m.insert("recall".into(), rhai::Dynamic::from_float(r.recall));
    m.insert("f1-score".into(), rhai::Dynamic::from_float(r.f1));
    m.insert(
        "support".into(),
        rhai::Dynamic::from_int(r.support as rhai::INT),
    );
    m
}

#[export_module]
pub mod metrics_module {
    use rhai::{Array, Dynamic, FLOAT, INT, Map, NativeCallContext};

    use super::{Report, averaged, score_labels};
    use crate::api::convert::{RhaiResult, count, finite, located, numbers, strings};
    use crate::data::Labels;
    use crate::error::Error;
    use crate::matrix::Matrix;
    use crate::metrics::{self, Objective};

    /// The seed's per-movie metric: predict each movie's `k` best-scored
    /// labels; precision = hits / k, recall = hits / its number of labels;
    /// both averaged over movies. Returns `#{ precision, recall }`.
    ///
    /// Errors: `y_true` and `scores` of different shapes; `k` of 0.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"], ["c"]]).transform([["a", "c"], ["b"]]);
    /// let s = data::matrix([[0.9, 0.5, 0.1], [0.2, 0.2, 0.3]]);
    /// let pr = metrics::precision_recall_top_k(y, s, 2);
    /// assert_eq(pr.precision, 0.25);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn precision_recall_top_k(
        ctx: NativeCallContext,
        y_true: Labels,
        scores: Matrix,
        k: INT,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            super::check_scores("precision_recall_top_k", &y_true, &scores, "scores")?;
            let k = count(k, "precision_recall_top_k: k")?;
            if k == 0 {
                return Err(Error::invalid(
                    "precision_recall_top_k: k must be at least 1",
                ));
            }
            let (p, r) =
                metrics::precision_recall_top_k(y_true.values().view(), scores.values().view(), k);
            let mut out = Map::new();
            out.insert("precision".into(), Dynamic::from_float(p));
            out.insert("recall".into(), Dynamic::from_float(r));
            Ok(out)
        })
    }

    /// F1 score (`f1_score(y_true, y_pred, average=..., zero_division=0)`).
    ///
    /// Arguments: `average` — `"micro"`, `"macro"`, `"weighted"` or `"samples"`.
    ///
    /// Errors: shapes differ; an unknown average.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"], ["c"]]);
    /// let y = b.transform([["a", "c"], ["b"], ["a", "b"], []]);
    /// let p = b.transform([["a"], ["b", "c"], ["a"], ["c"]]);
    /// assert_eq(metrics::f1(y, p, "micro"), 0.6);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn f1(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        average: &str,
    ) -> RhaiResult<FLOAT> {
        averaged(&ctx, "f1", &y_true, &y_pred, average, |s| s.2)
    }

    /// Precision (`precision_score(..., average=..., zero_division=0)`).
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"], ["c"]]);
    /// let y = b.transform([["a", "c"], ["b"], ["a", "b"], []]);
    /// let p = b.transform([["a"], ["b", "c"], ["a"], ["c"]]);
    /// assert_eq(metrics::precision(y, p, "weighted"), 0.8);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn precision(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        average: &str,
    ) -> RhaiResult<FLOAT> {
        averaged(&ctx, "precision", &y_true, &y_pred, average, |s| s.0)
    }

    /// Recall (`recall_score(..., average=..., zero_division=0)`).
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"], ["c"]]);
    /// let y = b.transform([["a", "c"], ["b"], ["a", "b"], []]);
    /// let p = b.transform([["a"], ["b", "c"], ["a"], ["c"]]);
    /// assert_eq(metrics::recall(y, p, "samples"), 0.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn recall(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        average: &str,
    ) -> RhaiResult<FLOAT> {
        averaged(&ctx, "recall", &y_true, &y_pred, average, |s| s.1)
    }

    /// The fraction of label cells predicted wrongly (`hamming_loss`).
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// assert_eq(metrics::hamming_loss(b.transform([["a"]]), b.transform([["b"]])), 1.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hamming_loss(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
    ) -> RhaiResult<FLOAT> {
        located(&ctx, || {
            super::check_labels("hamming_loss", &y_true, &y_pred)?;
            Ok(metrics::hamming_loss(
                y_true.values().view(),
                y_pred.values().view(),
            ))
        })
    }

    /// scikit-learn's `classification_report`: precision, recall, F1 and
    /// support per label, then micro, macro, weighted and samples averages.
    /// Prints as scikit-learn's table; `report["Drama"]` and `report.to_map()`
    /// give the numbers.
    ///
    /// Errors: shapes differ.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let r = metrics::report(b.transform([["a"], ["b"]]), b.transform([["a"], ["a"]]));
    /// assert_eq(r["a"].recall, 1.0);
    /// assert_eq(r["micro avg"].support, 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn report(ctx: NativeCallContext, y_true: Labels, y_pred: Labels) -> RhaiResult<Report> {
        located(&ctx, || {
            super::check_labels("report", &y_true, &y_pred)?;
            let (rows, averages) = metrics::report(
                y_true.values().view(),
                y_pred.values().view(),
                y_true.names(),
            );
            Ok(Report { rows, averages })
        })
    }

    /// The report with other label names (scikit-learn's `target_names`).
    ///
    /// Errors: shapes differ; a name count other than the number of labels.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let r = metrics::report(b.transform([["a"]]), b.transform([["a"]]), ["Action", "Drama"]);
    /// assert_eq(r["Action"].precision, 1.0);
    /// ```
    #[rhai_fn(name = "report", return_raw)]
    pub fn report_named(
        ctx: NativeCallContext,
        y_true: Labels,
        y_pred: Labels,
        names: Array,
    ) -> RhaiResult<Report> {
        located(&ctx, || {
            super::check_labels("report", &y_true, &y_pred)?;
            let names = strings(&names, "report: names")?;
            if names.len() != y_true.cols() {
                return Err(Error::invalid(format!(
                    "report: {} names for {} labels",
                    names.len(),
                    y_true.cols()
                )));
            }
            let (rows, averages) =
                metrics::report(y_true.values().view(), y_pred.values().view(), &names);
            Ok(Report { rows, averages })
        })
    }

    /// Each movie's `k` best-scored labels as `Labels` (ties go to the earlier label).
    ///
    /// ```rhai
    /// let top = metrics::top_k(data::matrix([[0.1, 0.7, 0.3]]), 2);
    /// assert_eq(top.to_array(), [[0, 1, 1]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn top_k(ctx: NativeCallContext, scores: Matrix, k: INT) -> RhaiResult<Labels> {
        located(&ctx, || {
            let k = count(k, "top_k: k")?;
            scores.check_finite("top_k: scores", "scores")?;
            score_labels(&scores, metrics::top_k(scores.values().view(), k))
        })
    }

    /// 1 where a score is above `t`.
    ///
    /// ```rhai
    /// assert_eq(metrics::threshold(data::matrix([[0.2, 0.6]]), 0.5).to_array(), [[0, 1]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn threshold(ctx: NativeCallContext, scores: Matrix, t: FLOAT) -> RhaiResult<Labels> {
        located(&ctx, || {
            scores.check_finite("threshold: scores", "scores")?;
            if !t.is_finite() {
                return Err(Error::invalid(format!(
                    "threshold: t is {t}; it must be a finite number"
                )));
            }
            score_labels(
                &scores,
                metrics::apply_thresholds(scores.values().view(), &vec![t; scores.cols()]),
            )
        })
    }

    /// Per-label thresholds tuned on development data: coordinate ascent on
    /// micro-F1 from 0.5 (three passes over the labels), the reference
    /// implementation's `tune_thresholds_micro`.
    ///
    /// Errors: shapes differ.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// let y = b.transform([["a"], ["a"], ["b"], ["b"]]);
    /// let s = data::matrix([[0.4, 0.1], [0.35, 0.2], [0.1, 0.45], [0.2, 0.6]]);
    /// let t = metrics::tune_thresholds(y, s);
    /// assert_eq(metrics::apply_thresholds(s, t).to_array(), y.to_array());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tune_thresholds(
        ctx: NativeCallContext,
        y_dev: Labels,
        scores_dev: Matrix,
    ) -> RhaiResult<Array> {
        tune_thresholds_with(ctx, y_dev, scores_dev, Map::new())
    }

    /// Tuned thresholds with options (below).
    ///
    /// Errors: shapes differ; a bad option.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"]]).transform([["a"], [], ["a"]]);
    /// let t = metrics::tune_thresholds(y, data::matrix([[0.3], [-0.2], [0.1]]), #{ start: 0.0, objective: "per_label" });
    /// assert(t[0] < 0.1 && t[0] > -0.2);
    /// ```
    #[rhai_fn(name = "tune_thresholds", return_raw)]
    pub fn tune_thresholds_with(
        ctx: NativeCallContext,
        y_dev: Labels,
        scores_dev: Matrix,
        options: Map,
    ) -> RhaiResult<Array> {
        located(&ctx, || {
            let opts = super::TUNE_THRESHOLDS.parse(options)?;
            super::check_scores("tune_thresholds", &y_dev, &scores_dev, "scores_dev")?;
            let objective = match opts.text("objective")?.as_str() {
                "per_label" => Objective::PerLabel,
                _ => Objective::Micro,
            };
            let start = opts.float("start")?;
            let t = metrics::tune_thresholds(
                y_dev.values().view(),
                scores_dev.values().view(),
                start,
                objective,
            );
            Ok(t.into_iter().map(Dynamic::from_float).collect())
        })
    }

    /// 1 where a score is above its label's threshold.
    ///
    /// Errors: a threshold count other than the number of score columns.
    ///
    /// ```rhai
    /// let p = metrics::apply_thresholds(data::matrix([[0.2, 0.6]]), [0.1, 0.7]);
    /// assert_eq(p.to_array(), [[1, 0]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn apply_thresholds(
        ctx: NativeCallContext,
        scores: Matrix,
        thresholds: Array,
    ) -> RhaiResult<Labels> {
        located(&ctx, || {
            let t = numbers(&thresholds, "apply_thresholds: thresholds")?;
            scores.check_finite("apply_thresholds: scores", "scores")?;
            finite(&t, "apply_thresholds: thresholds")?;
            if t.len() != scores.cols() {
                return Err(Error::invalid(format!(
                    "apply_thresholds: {} thresholds for {} score columns",
                    t.len(),
                    scores.cols()
                )));
            }
            score_labels(
                &scores,
                metrics::apply_thresholds(scores.values().view(), &t),
            )
        })
    }
}

#[export_module]
pub mod report_methods {
    use rhai::{Dynamic, Map};

    use super::{Report, row_map};
    use crate::api::convert::RhaiResult;
    use crate::error::Error;

    /// The report as scikit-learn's `classification_report` text.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn report_text(r: &mut Report) -> String {
        crate::metrics::format_report(&r.rows, &r.averages, 2)
    }

    /// What `print(report)` prints: the `classification_report` text; a
    /// report of the run (`genrelab run … --report`) keeps it as a table.
    ///
    /// ```rhai
    /// let b = data::binarizer([["a"], ["b"]]);
    /// print(metrics::report(b.transform([["a"], ["b"]]), b.transform([["a"], []])));
    /// ```
    #[rhai_fn(global, name = "print", pure)]
    pub fn report_print(r: &mut Report) -> String {
        let text = crate::metrics::format_report(&r.rows, &r.averages, 2);
        if crate::record::is_recording() {
            let columns = ["", "precision", "recall", "f1-score", "support"]
                .map(String::from)
                .to_vec();
            let rows = r
                .rows
                .iter()
                .chain(&r.averages)
                .map(|row| {
                    vec![
                        row.name.clone(),
                        format!("{:.2}", row.precision),
                        format!("{:.2}", row.recall),
                        format!("{:.2}", row.f1),
                        row.support.to_string(),
                    ]
                })
                .collect();
            crate::record::table(columns, rows, vec![false, true, true, true, true], &text);
        }
        text
    }

    /// The report as `output_dict=True` gives it: label or average name ->
    /// `#{ precision, recall, "f1-score", support }`.
    #[rhai_fn(global, name = "to_map", pure)]
    pub fn report_to_map(r: &mut Report) -> Map {
        r.rows
            .iter()
            .chain(&r.averages)
            .map(|row| (row.name.as_str().into(), Dynamic::from_map(row_map(row))))
            .collect()
    }

    /// One row of the report by label or average name.
    ///
    /// Errors: no such row (the message lists them).
    #[rhai_fn(global, index_get, return_raw, pure)]
    pub fn report_get(r: &mut Report, name: &str) -> RhaiResult<Map> {
        r.rows
            .iter()
            .chain(&r.averages)
            .find(|row| row.name == name)
            .map(row_map)
            .ok_or_else(|| {
                let names: Vec<&str> = r
                    .rows
                    .iter()
                    .chain(&r.averages)
                    .map(|row| row.name.as_str())
                    .collect();
                Error::invalid(format!(
                    "report has no row '{name}'; rows: {}",
                    names.join(", ")
                ))
                .into()
            })
    }
}
