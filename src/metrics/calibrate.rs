//! Platt scaling: per-label sigmoids fitted on development scores, so that
//! SVM decision values (or any scores) become probabilities that can be
//! averaged with other models' — scikit-learn's `_sigmoid_calibration`.

use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::data::Labels;
use crate::data::labels::check_same_labels;
use crate::error::{Error, Result};
use crate::linear::logistic::lbfgs;
use crate::matrix::Matrix;

/// P = 1 / (1 + exp(a·score + b)) for one label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sigmoid {
    pub a: f64,
    pub b: f64,
}

impl Sigmoid {
    pub fn apply(&self, score: f64) -> f64 {
        let z = self.a * score + self.b;
        if z >= 0.0 {
            (-z).exp() / (1.0 + (-z).exp())
        } else {
            1.0 / (1.0 + z.exp())
        }
    }
}

/// Platt's fit with his smoothed targets ((N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2)),
/// from scikit-learn's starting point.
pub fn fit_sigmoid(scores: ArrayView1<f64>, y: ArrayView1<u8>) -> Sigmoid {
    let positives = y.iter().filter(|&&v| v == 1).count() as f64;
    let negatives = y.len() as f64 - positives;
    let hi = (positives + 1.0) / (positives + 2.0);
    let lo = 1.0 / (negatives + 2.0);
    let t: Array1<f64> = y.mapv(|v| if v == 1 { hi } else { lo });
    let objective = |ab: &Array1<f64>| {
        let (mut value, mut ga, mut gb) = (0.0, 0.0, 0.0);
        for (f, t) in scores.iter().zip(&t) {
            let z = ab[0] * f + ab[1];
            // −[t·log p + (1−t)·log(1−p)] with p = σ(−z).
            let log1pexp = if z > 0.0 {
                z + (-z).exp().ln_1p()
            } else {
                z.exp().ln_1p()
            };
            value += log1pexp - (1.0 - t) * z;
            let q = 1.0 / (1.0 + (-z).exp()); // 1 − p
            ga += (q - (1.0 - t)) * f;
            gb += q - (1.0 - t);
        }
        (value, ndarray::array![ga, gb])
    };
    let start = ndarray::array![0.0, ((negatives + 1.0) / (positives + 1.0)).ln()];
    let (ab, _) = lbfgs(objective, start, 1e-10, 1000);
    Sigmoid { a: ab[0], b: ab[1] }
}

/// One sigmoid per label column of `scores`, fitted against `y`.
pub fn calibrate(
    scores: ArrayView2<f32>,
    y: ArrayView2<u8>,
    names: &[String],
) -> Result<Vec<Sigmoid>> {
    (0..y.ncols())
        .map(|j| {
            let col = y.column(j);
            let positives = col.iter().filter(|&&v| v == 1).count();
            if positives == 0 || positives == col.len() {
                return Err(Error::invalid(format!(
                    "calibrate: label '{}' has only {} on these rows; a sigmoid needs both classes (calibrate on more rows, or leave the label out)",
                    names.get(j).map_or("?", String::as_str),
                    if positives == 0 { "negatives" } else { "positives" }
                )));
            }
            Ok(fit_sigmoid(scores.column(j).mapv(f64::from).view(), col))
        })
        .collect()
}

/// Probabilities of `scores` under per-label sigmoids.
pub fn apply(sigmoids: &[Sigmoid], scores: ArrayView2<f32>) -> Result<Array2<f32>> {
    if scores.ncols() != sigmoids.len() {
        return Err(Error::invalid(format!(
            "calibration: {} score columns for {} calibrated labels",
            scores.ncols(),
            sigmoids.len()
        )));
    }
    let mut out = scores.mapv(f64::from);
    for (mut col, s) in out.columns_mut().into_iter().zip(sigmoids) {
        col.mapv_inplace(|v| s.apply(v));
    }
    Ok(out.mapv(|v| v as f32))
}

crate::options! {
    /// `metrics::calibrate`: the calibration method.
    pub struct CalibrateOptions for "metrics::calibrate" {
        /// Platt's sigmoid per label (scikit-learn's _sigmoid_calibration)
        method: String = "sigmoid".into() => Choice(&["sigmoid"]),
    }
}

/// Per-label sigmoids fitted on development scores, as scripts hold them.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub names: Vec<String>,
    pub sigmoids: Arc<Vec<Sigmoid>>,
}

impl Calibration {
    /// Sigmoids fitted on `scores_dev` against `y_dev`.
    pub fn fit(scores_dev: &Matrix, y_dev: &Labels, _o: &CalibrateOptions) -> Result<Calibration> {
        crate::metrics::check_shapes(
            "calibrate",
            (y_dev.rows(), y_dev.cols()),
            (scores_dev.rows(), scores_dev.cols()),
        )?;
        check_same_labels(
            "calibrate",
            ("y_dev", y_dev.names()),
            ("scores_dev", scores_dev.col_names()),
        )?;
        scores_dev.check_finite("calibrate: scores_dev", "scores")?;
        let sigmoids = calibrate(
            scores_dev.values().view(),
            y_dev.values().view(),
            y_dev.names(),
        )?;
        Ok(Calibration {
            names: y_dev.names().to_vec(),
            sigmoids: Arc::new(sigmoids),
        })
    }

    /// Probabilities of `scores` (columns named by label).
    pub fn transform(&self, scores: &Matrix) -> Result<Matrix> {
        check_same_labels(
            "calibration",
            ("the calibrated labels", &self.names),
            ("scores", scores.col_names()),
        )?;
        scores.check_finite("calibration: scores", "scores")?;
        let p = apply(&self.sigmoids, scores.values().view())?;
        Matrix::new(p).with_names(
            scores.row_names().map(<[String]>::to_vec),
            Some(self.names.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn 1.9.1:
    /// ```python
    /// f = np.array([-2.0, -1.2, -0.3, 0.1, 0.4, 0.9, 1.5, 2.2, -0.8, 0.05])
    /// y = np.array([0, 0, 1, 0, 1, 1, 1, 1, 0, 0])
    /// a, b = _sigmoid_calibration(f, y)   # -1.126378023026987 0.08691102496553821
    /// 1 / (1 + np.exp(a * np.array([-1.0, 0.0, 1.0]) + b))   # [0.22911961 0.47828591 0.73874715]
    /// ```
    #[test]
    fn platt_matches_scikit_learn() {
        let f = ndarray::array![-2.0, -1.2, -0.3, 0.1, 0.4, 0.9, 1.5, 2.2, -0.8, 0.05];
        let y = ndarray::array![0u8, 0, 1, 0, 1, 1, 1, 1, 0, 0];
        let s = fit_sigmoid(f.view(), y.view());
        assert!((s.a + 1.126378023026987).abs() < 1e-6, "{s:?}");
        assert!((s.b - 0.08691102496553821).abs() < 1e-6, "{s:?}");
        for (x, p) in [(-1.0, 0.22911961), (0.0, 0.47828591), (1.0, 0.73874715)] {
            assert!((s.apply(x) - p).abs() < 1e-6);
        }
        let one_class = ndarray::array![[0u8], [0]];
        let e = calibrate(
            ndarray::array![[0.1f32], [0.2]].view(),
            one_class.view(),
            &["War".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("label 'War' has only negatives"), "{e}");
    }

    #[test]
    fn a_calibration_checks_its_scores() {
        let y = Labels::new(vec!["a".into()], ndarray::array![[1u8], [0], [1], [0]]).unwrap();
        let s = Matrix::new(ndarray::array![[1.0f32], [-1.0], [0.5], [0.2]]);
        let c = Calibration::fit(&s, &y, &CalibrateOptions::default()).unwrap();
        let named = Matrix::new(ndarray::array![[1.0f32]])
            .with_names(None, Some(vec!["b".into()]))
            .unwrap();
        assert!(
            c.transform(&named)
                .unwrap_err()
                .to_string()
                .starts_with("calibration:")
        );
        let nan = Matrix::new(ndarray::array![[f32::NAN], [0.0], [0.0], [0.0]]);
        let e = Calibration::fit(&nan, &y, &CalibrateOptions::default()).unwrap_err();
        assert!(e.to_string().contains("calibrate: scores_dev"), "{e}");
        let short = Matrix::new(ndarray::array![[1.0f32]]);
        assert!(Calibration::fit(&short, &y, &CalibrateOptions::default()).is_err());
    }
}
