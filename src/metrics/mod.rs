//! Multi-label metrics with `sklearn.metrics`' definitions (`zero_division=0`),
//! the seed notebook's per-movie top-k precision/recall, and per-label
//! decision thresholds tuned on a development set.

pub mod bootstrap;
pub mod calibrate;
pub mod labelled;
pub mod score;

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Average {
    Micro,
    Macro,
    Weighted,
    Samples,
}

crate::choices!(impl Average {
    Micro = "micro",
    Macro = "macro",
    Weighted = "weighted",
    Samples = "samples",
});

impl Average {
    pub fn parse(name: &str) -> Result<Average> {
        Ok(match name {
            "micro" => Average::Micro,
            "macro" => Average::Macro,
            "weighted" => Average::Weighted,
            "samples" => Average::Samples,
            other => {
                return Err(Error::invalid(format!(
                    "unknown average '{other}'; use micro, macro, weighted or samples"
                )));
            }
        })
    }
}

/// True/false positives, false negatives and support of one label.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

impl Tally {
    /// The tallies of several labels added up (micro averaging).
    pub fn sum(tallies: &[Tally]) -> Tally {
        tallies.iter().fold(Tally::default(), |a, t| Tally {
            tp: a.tp + t.tp,
            fp: a.fp + t.fp,
            fn_: a.fn_ + t.fn_,
        })
    }

    pub fn support(&self) -> f64 {
        self.tp + self.fn_
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        ratio(2.0 * self.tp, 2.0 * self.tp + self.fp + self.fn_)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// Fails unless both matrices have the same shape.
pub fn check_shapes(what: &str, a: (usize, usize), b: (usize, usize)) -> Result<()> {
    if a != b {
        return Err(Error::invalid(format!(
            "{what}: y_true is {} × {} but the other argument is {} × {}",
            a.0, a.1, b.0, b.1
        )));
    }
    Ok(())
}

/// Per-label tallies (columns), or per-movie tallies (rows) with `by_row`.
pub fn tallies(y_true: ArrayView2<u8>, y_pred: ArrayView2<u8>, by_row: bool) -> Vec<Tally> {
    let n = if by_row {
        y_true.nrows()
    } else {
        y_true.ncols()
    };
    let mut out = vec![Tally::default(); n];
    for ((i, j), &t) in y_true.indexed_iter() {
        let p = y_pred[[i, j]];
        let tally = &mut out[if by_row { i } else { j }];
        match (t != 0, p != 0) {
            (true, true) => tally.tp += 1.0,
            (false, true) => tally.fp += 1.0,
            (true, false) => tally.fn_ += 1.0,
            (false, false) => {}
        }
    }
    out
}

/// (precision, recall, f1) averaged as scikit-learn's
/// `precision_recall_fscore_support(average=..., zero_division=0)`.
pub fn scores(y_true: ArrayView2<u8>, y_pred: ArrayView2<u8>, average: Average) -> (f64, f64, f64) {
    let mean = |ts: &[Tally], weight: &dyn Fn(&Tally) -> f64| {
        let total: f64 = ts.iter().map(weight).sum();
        let avg = |f: &dyn Fn(&Tally) -> f64| {
            if total == 0.0 {
                0.0
            } else {
                ts.iter().map(|t| f(t) * weight(t)).sum::<f64>() / total
            }
        };
        (avg(&Tally::precision), avg(&Tally::recall), avg(&Tally::f1))
    };
    match average {
        Average::Micro => {
            let sum = Tally::sum(&tallies(y_true, y_pred, false));
            (sum.precision(), sum.recall(), sum.f1())
        }
        Average::Macro => mean(&tallies(y_true, y_pred, false), &|_| 1.0),
        Average::Weighted => mean(&tallies(y_true, y_pred, false), &Tally::support),
        Average::Samples => mean(&tallies(y_true, y_pred, true), &|_| 1.0),
    }
}

/// The fraction of wrong cells.
pub fn hamming_loss(y_true: ArrayView2<u8>, y_pred: ArrayView2<u8>) -> f64 {
    let wrong = y_true
        .iter()
        .zip(y_pred.iter())
        .filter(|(a, b)| a != b)
        .count();
    ratio(wrong as f64, y_true.len() as f64)
}

/// Column order of each row by descending score, ties by column (numpy's
/// `argsort(-scores, kind="stable")`).
fn ranked(scores: ArrayView2<f32>) -> Vec<Vec<usize>> {
    scores
        .rows()
        .into_iter()
        .map(|row| {
            let mut order: Vec<usize> = (0..row.len()).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            order
        })
        .collect()
}

/// The seed's metric: predict each movie's `k` best-scored labels;
/// precision = |pred ∩ true| / k, recall = |pred ∩ true| / |true| (over
/// movies with at least one label counted as 1), both averaged over movies.
pub fn precision_recall_top_k(
    y_true: ArrayView2<u8>,
    scores: ArrayView2<f32>,
    k: usize,
) -> (f64, f64) {
    let n = y_true.nrows().max(1) as f64;
    let (mut p, mut r) = (0.0, 0.0);
    for (i, order) in ranked(scores).into_iter().enumerate() {
        let hits = order
            .iter()
            .take(k)
            .filter(|&&j| y_true[[i, j]] != 0)
            .count() as f64;
        let truth = y_true.row(i).iter().filter(|&&v| v != 0).count().max(1) as f64;
        p += hits / k as f64;
        r += hits / truth;
    }
    (p / n, r / n)
}

/// 1 for each movie's `k` best-scored labels.
pub fn top_k(scores: ArrayView2<f32>, k: usize) -> Array2<u8> {
    let mut out = Array2::zeros(scores.raw_dim());
    for (i, order) in ranked(scores).into_iter().enumerate() {
        for j in order.into_iter().take(k) {
            out[[i, j]] = 1;
        }
    }
    out
}

/// 1 where the score is above the label's threshold.
pub fn apply_thresholds(scores: ArrayView2<f32>, thresholds: &[f64]) -> Array2<u8> {
    let mut out = Array2::zeros(scores.raw_dim());
    for ((i, j), &s) in scores.indexed_iter() {
        out[[i, j]] = u8::from(f64::from(s) > thresholds[j]);
    }
    out
}

/// Candidate thresholds of one score column: below the minimum, midpoints
/// between distinct values (of 200 quantiles when there are more), above the
/// maximum — the reference implementation's `_candidates`.
fn candidates(column: &[f64]) -> Vec<f64> {
    let mut u: Vec<f64> = column.to_vec();
    u.sort_by(f64::total_cmp);
    u.dedup();
    if u.len() > 200 {
        let sorted = {
            let mut s = column.to_vec();
            s.sort_by(f64::total_cmp);
            s
        };
        let last = (sorted.len() - 1) as f64;
        u = (0..200)
            .map(|q| {
                // numpy's default linear interpolation at position q/199·(n−1).
                let pos = last * q as f64 / 199.0;
                let lo = pos.floor() as usize;
                let t = pos - lo as f64;
                let (a, b) = (sorted[lo], sorted[(lo + 1).min(sorted.len() - 1)]);
                if t >= 0.5 {
                    b - (b - a) * (1.0 - t)
                } else {
                    a + (b - a) * t
                }
            })
            .collect();
        u.dedup();
    }
    let mut out = vec![u[0] - 1e-9];
    out.extend(u.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    out.push(u[u.len() - 1] + 1e-9);
    out
}

/// What per-label thresholds maximise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Objective {
    /// Micro-F1 over all labels, by coordinate ascent (3 passes).
    Micro,
    /// Each label's own F1.
    PerLabel,
}

/// Per-label thresholds tuned on (`y`, `scores`), starting from `start`.
pub fn tune_thresholds(
    y: ArrayView2<u8>,
    scores: ArrayView2<f32>,
    start: f64,
    objective: Objective,
) -> Vec<f64> {
    let labels = y.ncols();
    let columns: Vec<Vec<f64>> = (0..labels)
        .map(|j| scores.column(j).iter().map(|&v| f64::from(v)).collect())
        .collect();
    let truth: Vec<Vec<bool>> = (0..labels)
        .map(|j| y.column(j).iter().map(|&v| v != 0).collect())
        .collect();
    let tally_at = |j: usize, t: f64| {
        let mut tally = Tally::default();
        for (s, &yt) in columns[j].iter().zip(&truth[j]) {
            match (yt, *s > t) {
                (true, true) => tally.tp += 1.0,
                (false, true) => tally.fp += 1.0,
                (true, false) => tally.fn_ += 1.0,
                _ => {}
            }
        }
        tally
    };
    let cands: Vec<Vec<f64>> = columns.iter().map(|c| candidates(c)).collect();
    let mut thresholds = vec![start; labels];
    if objective == Objective::PerLabel {
        for j in 0..labels {
            let f1s: Vec<f64> = cands[j].iter().map(|&t| tally_at(j, t).f1()).collect();
            let best = f1s
                .iter()
                .enumerate()
                .fold(0, |b, (i, &f)| if f > f1s[b] { i } else { b });
            thresholds[j] = cands[j][best];
        }
        return thresholds;
    }
    let mut current: Vec<Tally> = (0..labels).map(|j| tally_at(j, start)).collect();
    let micro = |ts: &[Tally]| {
        let (tp, fp, fn_) = ts.iter().fold((0.0, 0.0, 0.0), |a, t| {
            (a.0 + t.tp, a.1 + t.fp, a.2 + t.fn_)
        });
        2.0 * tp / (2.0 * tp + fp + fn_).max(1.0)
    };
    for _ in 0..3 {
        let mut changed = false;
        for j in 0..labels {
            let mut trial = current.clone();
            let mut best = (f64::NEG_INFINITY, 0usize, Tally::default());
            for (i, &t) in cands[j].iter().enumerate() {
                trial[j] = tally_at(j, t);
                let f = micro(&trial);
                if f > best.0 {
                    best = (f, i, trial[j]);
                }
            }
            let candidate = cands[j][best.1];
            if candidate != thresholds[j] && best.0 > micro(&current) + 1e-12 {
                thresholds[j] = candidate;
                current[j] = best.2;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    thresholds
}

/// One row of a classification report.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportRow {
    pub name: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// `classification_report`: one row per label, then micro, macro, weighted
/// and samples averages.
pub fn report(
    y_true: ArrayView2<u8>,
    y_pred: ArrayView2<u8>,
    names: &[String],
) -> (Vec<ReportRow>, Vec<ReportRow>) {
    let per_label: Vec<ReportRow> = tallies(y_true, y_pred, false)
        .iter()
        .zip(names)
        .map(|(t, name)| ReportRow {
            name: name.clone(),
            precision: t.precision(),
            recall: t.recall(),
            f1: t.f1(),
            support: t.support() as usize,
        })
        .collect();
    let total: usize = per_label.iter().map(|r| r.support).sum();
    let averages = [
        ("micro avg", Average::Micro),
        ("macro avg", Average::Macro),
        ("weighted avg", Average::Weighted),
        ("samples avg", Average::Samples),
    ]
    .iter()
    .map(|(name, avg)| {
        let (precision, recall, f1) = scores(y_true, y_pred, *avg);
        ReportRow {
            name: name.to_string(),
            precision,
            recall,
            f1,
            support: total,
        }
    })
    .collect();
    (per_label, averages)
}

/// The text layout of scikit-learn's `classification_report(digits=2)`.
pub fn format_report(rows: &[ReportRow], averages: &[ReportRow], digits: usize) -> String {
    let width = rows
        .iter()
        .chain(averages)
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(digits);
    let mut out = format!(
        "{:>width$}  {:>9} {:>9} {:>9} {:>9}\n\n",
        "", "precision", "recall", "f1-score", "support"
    );
    let line = |r: &ReportRow| {
        format!(
            "{:>width$}  {:>9.digits$} {:>9.digits$} {:>9.digits$} {:>9}\n",
            r.name, r.precision, r.recall, r.f1, r.support
        )
    };
    rows.iter().for_each(|r| out.push_str(&line(r)));
    out.push('\n');
    averages.iter().for_each(|r| out.push_str(&line(r)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    // import numpy as np; from sklearn.metrics import *
    // Y = np.array([[1,0,1],[0,1,0],[1,1,0],[0,0,0]]); P = np.array([[1,0,0],[0,1,1],[1,0,0],[0,0,1]])
    // for a in ['micro','macro','weighted','samples']:
    //     precision_recall_fscore_support(Y, P, average=a, zero_division=0)[:3]
    // micro    (0.6, 0.6, 0.6)
    // macro    (0.6666666666666666, 0.5, 0.5555555555555555)
    // weighted (0.8, 0.6, 0.6666666666666666)
    // samples  (0.625, 0.5, 0.5)
    // hamming_loss(Y, P) -> 0.3333333333333333
    #[test]
    fn averages_match_sklearn() {
        let y = array![[1u8, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]];
        let p = array![[1u8, 0, 0], [0, 1, 1], [1, 0, 0], [0, 0, 1]];
        let close = |got: (f64, f64, f64), want: (f64, f64, f64)| {
            assert!(
                (got.0 - want.0).abs() < 1e-12
                    && (got.1 - want.1).abs() < 1e-12
                    && (got.2 - want.2).abs() < 1e-12,
                "{got:?} vs {want:?}"
            );
        };
        close(scores(y.view(), p.view(), Average::Micro), (0.6, 0.6, 0.6));
        close(
            scores(y.view(), p.view(), Average::Macro),
            (0.6666666666666666, 0.5, 0.5555555555555555),
        );
        close(
            scores(y.view(), p.view(), Average::Weighted),
            (0.8, 0.6, 0.6666666666666666),
        );
        close(
            scores(y.view(), p.view(), Average::Samples),
            (0.625, 0.5, 0.5),
        );
        assert!((hamming_loss(y.view(), p.view()) - 1.0 / 3.0).abs() < 1e-12);
    }

    // print(classification_report(Y, P, target_names=['Action','Drama','War'], zero_division=0))
    #[test]
    fn report_layout_matches_sklearn() {
        let y = array![[1u8, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]];
        let p = array![[1u8, 0, 0], [0, 1, 1], [1, 0, 0], [0, 0, 1]];
        let names: Vec<String> = ["Action", "Drama", "War"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (rows, avgs) = report(y.view(), p.view(), &names);
        let expected = "              precision    recall  f1-score   support

      Action       1.00      1.00      1.00         2
       Drama       1.00      0.50      0.67         2
         War       0.00      0.00      0.00         1

   micro avg       0.60      0.60      0.60         5
   macro avg       0.67      0.50      0.56         5
weighted avg       0.80      0.60      0.67         5
 samples avg       0.62      0.50      0.50         5
";
        assert_eq!(format_report(&rows, &avgs, 2), expected);
    }

    #[test]
    fn top_k_precision_recall_is_the_seeds() {
        let y = array![[1u8, 0, 1], [0, 1, 0]];
        let s = array![[0.9f32, 0.5, 0.1], [0.2, 0.2, 0.3]];
        // Row 0: top-2 {0, 1} hits 1 of 2 true; row 1: top-2 {2, 0} (tie 0/1 -> 0) hits 0.
        let (p, r) = precision_recall_top_k(y.view(), s.view(), 2);
        assert!((p - 0.25).abs() < 1e-12 && (r - 0.25).abs() < 1e-12);
        assert_eq!(top_k(s.view(), 1), array![[1u8, 0, 0], [0, 0, 1]]);
    }

    #[test]
    fn thresholds_improve_micro_f1() {
        let y = array![[1u8, 0], [1, 0], [0, 1], [0, 1], [1, 1]];
        let s = array![
            [0.4f32, 0.1],
            [0.35, 0.2],
            [0.1, 0.45],
            [0.2, 0.6],
            [0.3, 0.7]
        ];
        let thr = tune_thresholds(y.view(), s.view(), 0.5, Objective::Micro);
        let pred = apply_thresholds(s.view(), &thr);
        assert_eq!(pred, y);
    }
}
