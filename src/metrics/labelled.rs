//! The metrics as scripts call them: on `Labels` (truth, predictions) and
//! named `Matrix` scores, checked first — same shape, same labels in the
//! same order, finite scores — so a mistake is named before any number is
//! computed.

use std::collections::BTreeMap;

use ndarray::Array2;
use serde::Serialize;

use super::score::{self, Measure, ZeroDivision};
use super::{Average, Objective, ReportRow};
use crate::data::Labels;
use crate::data::labels::check_same_labels;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::options::{FromValue, ShowDefault, Value};

/// Truth against predictions: same shape, same labels.
pub fn check_labels(what: &str, y_true: &Labels, y_pred: &Labels) -> Result<()> {
    super::check_shapes(what, shape(y_true), shape(y_pred))?;
    check_same_labels(
        what,
        ("y_true", y_true.names()),
        ("y_pred", Some(y_pred.names())),
    )
}

/// Truth against scores: same shape, same labels (when the scores' columns
/// are named), finite scores; `arg` names the scores.
pub fn check_scores(what: &str, y: &Labels, scores: &Matrix, arg: &str) -> Result<()> {
    super::check_shapes(what, shape(y), (scores.rows(), scores.cols()))?;
    check_same_labels(what, ("the labels", y.names()), (arg, scores.col_names()))?;
    scores.check_finite(&format!("{what}: {arg}"), "scores")
}

fn shape(y: &Labels) -> (usize, usize) {
    (y.rows(), y.cols())
}

/// Scores turned into 0/1 labels, named by the score columns.
fn score_labels(m: &Matrix, values: Array2<u8>) -> Result<Labels> {
    let names = m
        .col_names()
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| (0..m.cols()).map(|j| j.to_string()).collect());
    Labels::new(names, values)
}

/// The seed's per-movie precision and recall of the `k` best-scored labels.
#[derive(Debug, Serialize)]
pub struct TopK {
    pub precision: f64,
    pub recall: f64,
}

pub fn precision_recall_top_k(y: &Labels, scores: &Matrix, k: usize) -> Result<TopK> {
    check_scores("precision_recall_top_k", y, scores, "scores")?;
    if k == 0 {
        return Err(Error::invalid(
            "precision_recall_top_k: k must be at least 1",
        ));
    }
    let (precision, recall) =
        super::precision_recall_top_k(y.values().view(), scores.values().view(), k);
    Ok(TopK { precision, recall })
}

/// Precision, recall and F1 averaged as `average` names.
pub fn averaged(
    what: &str,
    y_true: &Labels,
    y_pred: &Labels,
    average: &str,
) -> Result<(f64, f64, f64)> {
    check_labels(what, y_true, y_pred)?;
    let avg = Average::parse(average)?;
    Ok(super::scores(
        y_true.values().view(),
        y_pred.values().view(),
        avg,
    ))
}

/// `zero_division`: "warn", 0, 1 or "nan" (scikit-learn's `np.nan`).
fn zero_division_number(v: &Value) -> std::result::Result<(), String> {
    match v.number() {
        Some(x) if x == 0.0 || x == 1.0 => Ok(()),
        _ => Err(String::new()),
    }
}

impl FromValue for ZeroDivision {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) if s == "warn" => Some(ZeroDivision::Warn),
            Value::Text(s) if s == "nan" => Some(ZeroDivision::Value(f64::NAN)),
            _ => v
                .number()
                .filter(|x| *x == 0.0 || *x == 1.0)
                .map(ZeroDivision::Value),
        }
    }
}

impl ShowDefault for ZeroDivision {
    fn show_default(&self) -> Option<String> {
        Some(match self {
            ZeroDivision::Warn => "\"warn\"".into(),
            ZeroDivision::Value(v) if v.is_nan() => "\"nan\"".into(),
            ZeroDivision::Value(v) => format!("{v}"),
        })
    }
}

/// What a scoring function's options give: the measure, the averaging and
/// `zero_division`.
pub trait ScoreOptions: crate::options::Options {
    fn measure(&self) -> Measure;
    fn average(&self) -> Option<Average>;
    fn zero_division(&self) -> ZeroDivision;
}

/// The options of one scoring function: the same two for each, declared
/// once here and named after the function in messages.
macro_rules! score_options {
    ($($name:ident for $function:literal, $measure:expr $(, { $($beta:tt)* })?;)*) => {$(
        crate::options! {
            /// The averaging and the value of an undefined ratio.
            pub struct $name for $function {
                $($($beta)*)?
                /// "micro", "macro", "weighted", "samples", or () for one value per label
                average: Option<Average> = None => Either(&[Choice(Average::NAMES), Unit]); required,
                /// the value of a ratio with nothing to divide by: 0, 1, "nan" (left out of averages), or "warn" (0 and a warning, scikit-learn's default)
                zero_division: ZeroDivision = ZeroDivision::Value(0.0) => Either(&[
                    Choice(&["warn", "nan"]),
                    Custom { expected: "0 or 1", check: zero_division_number },
                ]),
            }
        }

        impl ScoreOptions for $name {
            fn measure(&self) -> Measure {
                let measure: fn(&Self) -> Measure = $measure;
                measure(self)
            }
            fn average(&self) -> Option<Average> {
                self.average
            }
            fn zero_division(&self) -> ZeroDivision {
                self.zero_division
            }
        }
    )*};
}

score_options! {
    PrecisionOptions for "metrics::precision", |_| Measure::Precision;
    RecallOptions for "metrics::recall", |_| Measure::Recall;
    F1Options for "metrics::f1", |_| Measure::FBeta(1.0);
    JaccardOptions for "metrics::jaccard", |_| Measure::Jaccard;
    FbetaOptions for "metrics::fbeta", |o| Measure::FBeta(o.beta), {
        /// the weight of recall against precision (2 favours recall, 0.5 precision)
        beta: f64 = 1.0 => Number(POSITIVE); required,
    };
}

/// `score` with a function's parsed options.
pub fn score_with<T: ScoreOptions>(y_true: &Labels, y_pred: &Labels, o: &T) -> Result<Score> {
    let what = T::FUNCTION.trim_start_matches("metrics::");
    score(
        what,
        y_true,
        y_pred,
        o.measure(),
        o.average(),
        o.zero_division(),
    )
}

/// A score: one number, or one per label (`average: ()`).
#[derive(Clone, Debug, PartialEq)]
pub enum Score {
    One(f64),
    PerLabel(Vec<f64>),
}

/// `what` measured on truth against predictions, averaged or per label;
/// with `zero_division: "warn"` an undefined ratio is reported as a warning.
pub fn score(
    what: &str,
    y_true: &Labels,
    y_pred: &Labels,
    measure: Measure,
    average: Option<Average>,
    zero: ZeroDivision,
) -> Result<Score> {
    check_labels(what, y_true, y_pred)?;
    let (t, p) = (y_true.values().view(), y_pred.values().view());
    let (score, warning) = match average {
        Some(a) => {
            let (v, w) = score::averaged(t, p, measure, a, zero);
            (Score::One(v), w)
        }
        None => {
            let (v, w) = score::per_label(t, p, measure, zero);
            (Score::PerLabel(v), w)
        }
    };
    if let Some(w) = warning {
        crate::record::warning(&format!("{what}: {w}"));
    }
    Ok(score)
}

/// Subset accuracy: the share of movies whose labels are all right.
pub fn accuracy(y_true: &Labels, y_pred: &Labels) -> Result<f64> {
    check_labels("accuracy", y_true, y_pred)?;
    Ok(score::subset_accuracy(
        y_true.values().view(),
        y_pred.values().view(),
    ))
}

pub fn hamming_loss(y_true: &Labels, y_pred: &Labels) -> Result<f64> {
    check_labels("hamming_loss", y_true, y_pred)?;
    Ok(super::hamming_loss(
        y_true.values().view(),
        y_pred.values().view(),
    ))
}

/// A classification report: prints as scikit-learn's text, reads as a map.
#[derive(Clone, Debug)]
pub struct Report {
    pub rows: Vec<ReportRow>,
    pub averages: Vec<ReportRow>,
}

/// One row as `output_dict=True` gives it.
#[derive(Debug, Serialize)]
pub struct ReportEntry {
    pub precision: f64,
    pub recall: f64,
    #[serde(rename = "f1-score")]
    pub f1: f64,
    pub support: usize,
}

impl Report {
    /// The report of `y_pred` against `y_true`, rows named by `names` (the
    /// labels' own names when `None`).
    pub fn new(y_true: &Labels, y_pred: &Labels, names: Option<Vec<String>>) -> Result<Report> {
        check_labels("report", y_true, y_pred)?;
        let names = names.unwrap_or_else(|| y_true.names().to_vec());
        if names.len() != y_true.cols() {
            return Err(Error::invalid(format!(
                "report: {} names for {} labels",
                names.len(),
                y_true.cols()
            )));
        }
        let (rows, averages) =
            super::report(y_true.values().view(), y_pred.values().view(), &names);
        Ok(Report { rows, averages })
    }

    fn all(&self) -> impl Iterator<Item = &ReportRow> {
        self.rows.iter().chain(&self.averages)
    }

    pub fn text(&self) -> String {
        super::format_report(&self.rows, &self.averages, 2)
    }

    /// The table a run report shows: columns, cells, which columns are numeric.
    pub fn table(&self) -> (Vec<String>, Vec<Vec<String>>, Vec<bool>) {
        let columns = ["", "precision", "recall", "f1-score", "support"]
            .map(String::from)
            .to_vec();
        let rows = self
            .all()
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
        (columns, rows, vec![false, true, true, true, true])
    }

    /// Label or average name → its row.
    pub fn entries(&self) -> BTreeMap<String, ReportEntry> {
        self.all().map(|r| (r.name.clone(), entry(r))).collect()
    }

    /// One row by label or average name.
    pub fn get(&self, name: &str) -> Result<ReportEntry> {
        self.all()
            .find(|row| row.name == name)
            .map(entry)
            .ok_or_else(|| {
                let names: Vec<&str> = self.all().map(|row| row.name.as_str()).collect();
                Error::invalid(format!(
                    "report has no row '{name}'; rows: {}",
                    names.join(", ")
                ))
            })
    }
}

fn entry(r: &ReportRow) -> ReportEntry {
    ReportEntry {
        precision: r.precision,
        recall: r.recall,
        f1: r.f1,
        support: r.support,
    }
}

/// Each movie's `k` best-scored labels.
pub fn top_k(scores: &Matrix, k: usize) -> Result<Labels> {
    scores.check_finite("top_k: scores", "scores")?;
    score_labels(scores, super::top_k(scores.values().view(), k))
}

/// 1 where a score is above `t`.
pub fn threshold(scores: &Matrix, t: f64) -> Result<Labels> {
    scores.check_finite("threshold: scores", "scores")?;
    if !t.is_finite() {
        return Err(Error::invalid(format!(
            "threshold: t is {t}; it must be a finite number"
        )));
    }
    score_labels(
        scores,
        super::apply_thresholds(scores.values().view(), &vec![t; scores.cols()]),
    )
}

/// 1 where a score is above its label's threshold.
pub fn apply_thresholds(scores: &Matrix, thresholds: &[f64]) -> Result<Labels> {
    scores.check_finite("apply_thresholds: scores", "scores")?;
    if let Some(i) = thresholds.iter().position(|t| !t.is_finite()) {
        return Err(Error::invalid(format!(
            "apply_thresholds: thresholds: element {i} is {}; it must be a finite number",
            thresholds[i]
        )));
    }
    if thresholds.len() != scores.cols() {
        return Err(Error::invalid(format!(
            "apply_thresholds: {} thresholds for {} score columns",
            thresholds.len(),
            scores.cols()
        )));
    }
    score_labels(
        scores,
        super::apply_thresholds(scores.values().view(), thresholds),
    )
}

crate::choices!(impl Objective { Micro = "micro", PerLabel = "per_label" });

crate::options! {
    /// `metrics::tune_thresholds`: where the search starts and what it maximises.
    pub struct TuneOptions for "metrics::tune_thresholds" {
        /// every threshold's first value; 0.0 for SVM decision values
        start: f64 = 0.5 => Number(ANY),
        /// micro: coordinate ascent on micro-F1; per_label: each label's own F1
        objective: Objective = Objective::Micro => Choice(Objective::NAMES),
    }
}

/// Per-label thresholds tuned on dev scores.
pub fn tune_thresholds(y_dev: &Labels, scores_dev: &Matrix, o: &TuneOptions) -> Result<Vec<f64>> {
    check_scores("tune_thresholds", y_dev, scores_dev, "scores_dev")?;
    Ok(super::tune_thresholds(
        y_dev.values().view(),
        scores_dev.values().view(),
        o.start,
        o.objective,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn labels(names: &[&str], v: Array2<u8>) -> Labels {
        Labels::new(names.iter().map(|s| s.to_string()).collect(), v).unwrap()
    }

    #[test]
    fn mismatched_inputs_are_named_before_any_number() {
        let y = labels(&["a", "b"], array![[1, 0], [0, 1]]);
        let swapped = labels(&["b", "a"], array![[1, 0], [0, 1]]);
        let e = check_labels("f1", &y, &swapped).unwrap_err().to_string();
        assert!(e.contains("the same labels in another order"), "{e}");
        let short = labels(&["a", "b"], array![[1, 0]]);
        assert!(averaged("f1", &y, &short, "micro").is_err());
        assert!(
            averaged("f1", &y, &y, "mean")
                .unwrap_err()
                .to_string()
                .contains("unknown average")
        );
        let nan = Matrix::new(array![[0.1, f32::NAN], [0.2, 0.3]]);
        let e = check_scores("top", &y, &nan, "scores")
            .unwrap_err()
            .to_string();
        assert!(e.contains("top: scores: row 0, column 1"), "{e}");
        let s = Matrix::new(array![[0.1, 0.9], [0.8, 0.2]]);
        assert!(precision_recall_top_k(&y, &s, 0).is_err());
        assert!(threshold(&s, f64::NAN).is_err());
        let e = apply_thresholds(&s, &[0.5]).unwrap_err().to_string();
        assert_eq!(e, "apply_thresholds: 1 thresholds for 2 score columns");
        let e = apply_thresholds(&s, &[0.5, f64::INFINITY])
            .unwrap_err()
            .to_string();
        assert!(e.contains("element 1 is inf"), "{e}");
    }

    #[test]
    fn reports_read_by_row_name() {
        let y = labels(&["a", "b"], array![[1, 0], [0, 1]]);
        let p = labels(&["a", "b"], array![[1, 0], [1, 0]]);
        let r = Report::new(&y, &p, None).unwrap();
        assert_eq!(r.get("a").unwrap().recall, 1.0);
        assert_eq!(r.get("micro avg").unwrap().support, 2);
        assert!(
            r.get("c")
                .unwrap_err()
                .to_string()
                .contains("rows: a, b, micro avg")
        );
        assert!(Report::new(&y, &p, Some(vec!["x".into()])).is_err());
        assert_eq!(r.entries().len(), 6);
    }
}
