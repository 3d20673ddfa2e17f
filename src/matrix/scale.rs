//! scikit-learn's `StandardScaler`: per-column mean and population standard
//! deviation from the rows it is fitted on; a constant column keeps scale 1.

use std::sync::Arc;

use ndarray::{Array2, ArrayView2, Axis};

use crate::error::{Error, Result};
use crate::matrix::Matrix;

#[derive(Clone, Debug, PartialEq)]
pub struct Scaler {
    pub mean: Option<Vec<f64>>,
    pub scale: Option<Vec<f64>>,
}

impl Scaler {
    pub fn fit(x: ArrayView2<f32>, with_mean: bool, with_std: bool) -> Result<Scaler> {
        if x.nrows() == 0 {
            return Err(Error::invalid("standard_scaler: fit on no rows"));
        }
        super::check_finite(x, None, "standard_scaler: fit", "features")?;
        let x = x.mapv(f64::from);
        let mean = x.mean_axis(Axis(0)).unwrap_or_default();
        let scale = x
            .std_axis(Axis(0), 0.0)
            .mapv(|s| if s < 10.0 * f64::EPSILON { 1.0 } else { s });
        Ok(Scaler {
            mean: with_mean.then(|| mean.to_vec()),
            scale: with_std.then(|| scale.to_vec()),
        })
    }

    pub fn columns(&self) -> Option<usize> {
        self.mean.as_ref().or(self.scale.as_ref()).map(Vec::len)
    }

    pub fn transform(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        if let Some(c) = self.columns()
            && c != x.ncols()
        {
            return Err(Error::invalid(format!(
                "standard_scaler: fitted on {c} columns, this matrix has {}",
                x.ncols()
            )));
        }
        let mut out = x.mapv(f64::from);
        for (j, mut col) in out.columns_mut().into_iter().enumerate() {
            let m = self.mean.as_ref().map_or(0.0, |m| m[j]);
            let s = self.scale.as_ref().map_or(1.0, |s| s[j]);
            col.mapv_inplace(|v| (v - m) / s);
        }
        Ok(out.mapv(|v| v as f32))
    }
}

crate::options! {
    /// `data::standard_scaler`: which of the two steps to apply.
    pub struct ScalerOptions for "data::standard_scaler" {
        /// subtract each column's mean
        with_mean: bool = true => Bool,
        /// divide by each column's population standard deviation (1 for a constant column)
        with_std: bool = true => Bool,
    }
}

/// A standard scaler as scripts hold it (fitted or not).
#[derive(Clone)]
pub struct StandardScaler {
    pub options: ScalerOptions,
    pub fitted: Option<Arc<Scaler>>,
}

impl StandardScaler {
    pub fn new(options: ScalerOptions) -> StandardScaler {
        StandardScaler {
            options,
            fitted: None,
        }
    }

    /// Learns each column's mean and deviation from `x`.
    pub fn fit(&mut self, x: &Matrix) -> Result<()> {
        let o = &self.options;
        self.fitted = Some(Arc::new(Scaler::fit(
            x.values().view(),
            o.with_mean,
            o.with_std,
        )?));
        Ok(())
    }

    /// `x` scaled (names kept).
    pub fn transform(&self, x: &Matrix) -> Result<Matrix> {
        let scaler = self
            .fitted
            .as_ref()
            .ok_or_else(|| Error::invalid("standard_scaler: not fitted yet; call fit(x) first"))?;
        Matrix::new(scaler.transform(x.values().view())?).with_names(
            x.row_names().map(<[String]>::to_vec),
            x.col_names().map(<[String]>::to_vec),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn: `StandardScaler().fit(X)` with
    /// X = [[1, 10, 5], [2, 20, 5], [4, 0, 5]]: mean_ [2.3333, 10, 5],
    /// scale_ [1.24721913, 8.16496581, 1], transform([[3, 5, 6]]) =
    /// [[0.53452248, -0.61237244, 1.0]].
    #[test]
    fn matches_scikit_learn() {
        let x = ndarray::array![[1.0f32, 10.0, 5.0], [2.0, 20.0, 5.0], [4.0, 0.0, 5.0]];
        let s = Scaler::fit(x.view(), true, true).unwrap();
        let scale = s.scale.clone().unwrap();
        assert!((scale[0] - 1.24721913).abs() < 1e-7 && scale[2] == 1.0);
        let t = s
            .transform(ndarray::array![[3.0f32, 5.0, 6.0]].view())
            .unwrap();
        for (got, want) in t.iter().zip([0.53452248, -0.61237244, 1.0]) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{t}");
        }
        let e = s
            .transform(ndarray::array![[1.0f32]].view())
            .unwrap_err()
            .to_string();
        assert!(e.contains("fitted on 3 columns, this matrix has 1"), "{e}");
    }

    #[test]
    fn a_scaler_must_be_fitted_first() {
        let x = Matrix::new(ndarray::array![[1.0f32, 10.0], [3.0, 10.0]]);
        let mut s = StandardScaler::new(ScalerOptions::default());
        let e = s.transform(&x).unwrap_err().to_string();
        assert_eq!(e, "standard_scaler: not fitted yet; call fit(x) first");
        s.fit(&x).unwrap();
        assert_eq!(
            s.transform(&x).unwrap().values().row(0).to_vec(),
            vec![-1.0, 0.0]
        );
    }
}
