//! scikit-learn's precision, recall, F-beta and Jaccard on multi-label 0/1
//! indicators: per label (`average=None`) or averaged, with its
//! `zero_division` (the value of a ratio whose denominator is 0, or "warn":
//! 0 with scikit-learn's `UndefinedMetricWarning` text).

use ndarray::ArrayView2;

use super::{Average, Tally, tallies};

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Measure {
    Precision,
    Recall,
    /// F-beta: F1 is `FBeta(1.0)`.
    FBeta(f64),
    Jaccard,
}

/// scikit-learn's `zero_division`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ZeroDivision {
    /// 0, with a warning naming what was ill-defined.
    Warn,
    /// 0.0, 1.0 or NaN.
    Value(f64),
}

impl ZeroDivision {
    pub fn value(self) -> f64 {
        match self {
            ZeroDivision::Warn => 0.0,
            ZeroDivision::Value(v) => v,
        }
    }
}

impl Measure {
    /// (numerator, denominator) of one tally. F-beta is
    /// `(1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp)`, undefined only when
    /// there is no true and no predicted sample (scikit-learn ≥ 1.3).
    fn parts(self, t: &Tally) -> (f64, f64) {
        match self {
            Measure::Precision => (t.tp, t.tp + t.fp),
            Measure::Recall => (t.tp, t.tp + t.fn_),
            Measure::FBeta(beta) => {
                let b2 = beta * beta;
                ((1.0 + b2) * t.tp, (1.0 + b2) * t.tp + b2 * t.fn_ + t.fp)
            }
            Measure::Jaccard => (t.tp, t.tp + t.fp + t.fn_),
        }
    }

    /// scikit-learn's warning for an undefined value: `unit` is "labels",
    /// "samples" or "" (micro).
    fn warning(self, unit: &str) -> String {
        let (name, missing, samples_missing) = match self {
            Measure::Precision => ("Precision", "no predicted samples", "no predicted labels"),
            Measure::Recall => ("Recall", "no true samples", "no true labels"),
            Measure::FBeta(_) => (
                "F-score",
                "no true nor predicted samples",
                "no true nor predicted labels",
            ),
            Measure::Jaccard => (
                "Jaccard",
                "no true or predicted samples",
                "no true or predicted labels",
            ),
        };
        let place = match unit {
            "labels" => format!("in labels with {missing}"),
            "samples" => format!("in samples with {samples_missing}"),
            _ => format!("due to {missing}"),
        };
        format!(
            "{name} is ill-defined and being set to 0.0 {place}. Use `zero_division` parameter to control this behavior."
        )
    }

    /// The value of one tally, and whether it was undefined.
    fn of(self, t: &Tally, zero: ZeroDivision) -> (f64, bool) {
        let (num, den) = self.parts(t);
        if den == 0.0 {
            (zero.value(), true)
        } else {
            (num / den, false)
        }
    }
}

/// The values and the warning (with "warn") of a set of tallies.
fn each(
    tallies: &[Tally],
    m: Measure,
    zero: ZeroDivision,
    unit: &str,
) -> (Vec<f64>, Option<String>) {
    let mut undefined = false;
    let values = tallies
        .iter()
        .map(|t| {
            let (v, u) = m.of(t, zero);
            undefined |= u;
            v
        })
        .collect();
    let warning = (undefined && zero == ZeroDivision::Warn).then(|| m.warning(unit));
    (values, warning)
}

/// One value per label (`average=None`).
pub fn per_label(
    y_true: ArrayView2<u8>,
    y_pred: ArrayView2<u8>,
    m: Measure,
    zero: ZeroDivision,
) -> (Vec<f64>, Option<String>) {
    each(&tallies(y_true, y_pred, false), m, zero, "labels")
}

/// scikit-learn's `_nanaverage`: the (weighted) mean of the values that are
/// not NaN; NaN when none is left.
fn nan_average(values: &[f64], weights: Option<&[f64]>) -> f64 {
    let (mut sum, mut total) = (0.0, 0.0);
    for (k, &v) in values.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        let w = weights.map_or(1.0, |w| w[k]);
        sum += v * w;
        total += w;
    }
    if total == 0.0 { f64::NAN } else { sum / total }
}

/// The value averaged as `average` says.
pub fn averaged(
    y_true: ArrayView2<u8>,
    y_pred: ArrayView2<u8>,
    m: Measure,
    average: Average,
    zero: ZeroDivision,
) -> (f64, Option<String>) {
    match average {
        Average::Micro => {
            let sum = Tally::sum(&tallies(y_true, y_pred, false));
            let (values, warning) = each(&[sum], m, zero, "");
            (values[0], warning)
        }
        Average::Macro => {
            let (values, warning) = per_label(y_true, y_pred, m, zero);
            (nan_average(&values, None), warning)
        }
        Average::Samples => {
            let (values, warning) = each(&tallies(y_true, y_pred, true), m, zero, "samples");
            (nan_average(&values, None), warning)
        }
        Average::Weighted => {
            let labels = tallies(y_true, y_pred, false);
            let (values, warning) = each(&labels, m, zero, "labels");
            let support: Vec<f64> = labels.iter().map(Tally::support).collect();
            if support.iter().sum::<f64>() > 0.0 {
                return (nan_average(&values, Some(&support)), warning);
            }
            // No true sample at all. jaccard_score drops the weights; the
            // others give zero_division where the ratio has no denominator
            // (recall always; precision and F when nothing is predicted
            // either) and 0 otherwise.
            let predicted = labels.iter().any(|t| t.tp + t.fp > 0.0);
            let value = match m {
                Measure::Jaccard => nan_average(&values, None),
                Measure::Recall => zero.value(),
                _ if !predicted => zero.value(),
                _ => 0.0,
            };
            (value, warning)
        }
    }
}

/// Subset accuracy: the share of rows whose every label is right.
pub fn subset_accuracy(y_true: ArrayView2<u8>, y_pred: ArrayView2<u8>) -> f64 {
    let rows = y_true.nrows();
    if rows == 0 {
        return 0.0;
    }
    let right = y_true
        .outer_iter()
        .zip(y_pred.outer_iter())
        .filter(|(t, p)| t.iter().zip(p.iter()).all(|(a, b)| (*a != 0) == (*b != 0)))
        .count();
    right as f64 / rows as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    // Reference values: scikit-learn 1.9.1, test_classification.py's
    // test_precision_recall_f1_score_with_an_empty_prediction data:
    //   y_true = [[0,1,0,0],[1,0,0,0],[0,1,1,0]]; y_pred = [[0,0,0,0],[0,0,0,1],[0,1,1,0]]
    //   precision_recall_fscore_support(y_true, y_pred, average=a, zero_division=z)
    //   fbeta_score(..., beta=2, average=a, zero_division=z)
    //   z=1:  None precision [1, 1, 1, 0], recall [0, 0.5, 1, 1]; macro precision 0.75,
    //         recall 0.625, f1 0.41666666666666663; weighted precision 1.0; samples precision
    //         0.6666666666666666; micro f2 0.5263157894736842
    //   z=nan: None precision [nan, 1, 1, 0]; macro precision = nanmean = 0.6666666666666666
    fn empty_prediction() -> (Array2<u8>, Array2<u8>) {
        (
            array![[0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0]],
            array![[0, 0, 0, 0], [0, 0, 0, 1], [0, 1, 1, 0]],
        )
    }

    #[test]
    fn zero_division_is_scikit_learns() {
        let (t, p) = empty_prediction();
        let one = ZeroDivision::Value(1.0);
        let (prec, w) = per_label(t.view(), p.view(), Measure::Precision, one);
        assert_eq!((prec, w), (vec![1.0, 1.0, 1.0, 0.0], None));
        let (rec, _) = per_label(t.view(), p.view(), Measure::Recall, one);
        assert_eq!(rec, vec![0.0, 0.5, 1.0, 1.0]);
        let avg = |m, a, z| averaged(t.view(), p.view(), m, a, z).0;
        assert_eq!(avg(Measure::Precision, Average::Macro, one), 0.75);
        assert_eq!(avg(Measure::Recall, Average::Macro, one), 0.625);
        assert_eq!(
            avg(Measure::FBeta(1.0), Average::Macro, one),
            0.41666666666666663
        );
        assert_eq!(avg(Measure::Precision, Average::Weighted, one), 1.0);
        assert_eq!(
            avg(Measure::Precision, Average::Samples, one),
            0.6666666666666666
        );
        let f2 = avg(Measure::FBeta(2.0), Average::Micro, one);
        assert!((f2 - 0.5263157894736842).abs() < 1e-15);
        let nan = ZeroDivision::Value(f64::NAN);
        assert_eq!(
            avg(Measure::Precision, Average::Macro, nan),
            0.6666666666666666
        );
        let (_, warning) = averaged(
            t.view(),
            p.view(),
            Measure::Precision,
            Average::Samples,
            ZeroDivision::Warn,
        );
        assert_eq!(
            warning.as_deref(),
            Some(
                "Precision is ill-defined and being set to 0.0 in samples with no predicted labels. \
                 Use `zero_division` parameter to control this behavior."
            )
        );
    }

    // y_true = y_pred = np.zeros((20, 3)) (test_precision_recall_f1_no_labels):
    // every average gives zero_division (0, 1 or nan).
    #[test]
    fn no_labels_at_all_give_zero_division_everywhere() {
        let z = Array2::<u8>::zeros((20, 3));
        for value in [0.0, 1.0] {
            for a in [
                Average::Micro,
                Average::Macro,
                Average::Weighted,
                Average::Samples,
            ] {
                for m in [Measure::Precision, Measure::Recall, Measure::FBeta(2.0)] {
                    let got = averaged(z.view(), z.view(), m, a, ZeroDivision::Value(value)).0;
                    assert_eq!(got, value, "{m:?} {a:?}");
                }
            }
        }
        let got = averaged(
            z.view(),
            z.view(),
            Measure::Recall,
            Average::Weighted,
            ZeroDivision::Value(f64::NAN),
        );
        assert!(got.0.is_nan());
    }

    // test_multilabel_jaccard_score / zero_division_set_value:
    //   jaccard_score([[1,0,1],[0,0,0]], zeros, zero_division=1, average=a):
    //   None [0, 1, 0], micro 0, macro 0.3333333333333333, weighted 0, samples 0.5
    //   [B] y_true=[[0,1,1],[1,0,1]] y_pred=[[1,1,1],[1,0,1]]: micro 0.8, weighted 0.875,
    //   samples 0.8333333333333333; accuracy_score([[0,1,1],[1,0,1]], [[0,0,1],[1,0,1]]) = 0.5
    #[test]
    fn jaccard_and_subset_accuracy_match() {
        let t = array![[1u8, 0, 1], [0, 0, 0]];
        let p = Array2::<u8>::zeros((2, 3));
        let one = ZeroDivision::Value(1.0);
        assert_eq!(
            per_label(t.view(), p.view(), Measure::Jaccard, one).0,
            vec![0.0, 1.0, 0.0]
        );
        let avg = |t: &Array2<u8>, p: &Array2<u8>, a, z| {
            averaged(t.view(), p.view(), Measure::Jaccard, a, z).0
        };
        assert_eq!(avg(&t, &p, Average::Micro, one), 0.0);
        assert_eq!(avg(&t, &p, Average::Macro, one), 1.0 / 3.0);
        assert_eq!(avg(&t, &p, Average::Weighted, one), 0.0);
        assert_eq!(avg(&t, &p, Average::Samples, one), 0.5);
        let (bt, bp) = (
            array![[0u8, 1, 1], [1, 0, 1]],
            array![[1u8, 1, 1], [1, 0, 1]],
        );
        let zero = ZeroDivision::Value(0.0);
        assert_eq!(avg(&bt, &bp, Average::Micro, zero), 0.8);
        assert_eq!(avg(&bt, &bp, Average::Weighted, zero), 0.875);
        assert!((avg(&bt, &bp, Average::Samples, zero) - 0.8333333333333333).abs() < 1e-15);
        let y2 = array![[0u8, 0, 1], [1, 0, 1]];
        assert_eq!(subset_accuracy(bt.view(), y2.view()), 0.5);
    }
}
