//! scikit-learn's `StandardScaler`: per-column mean and population standard
//! deviation from the rows it is fitted on, dense or sparse (sparse only
//! without centring, which would fill it); a column indistinguishable from a
//! constant keeps scale 1, by scikit-learn's bound.

use std::sync::Arc;

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::matrix::{Csr, Matrix};

/// The mean and the variance (ddof 0) of a column of `n` values: `values`
/// holds the stored ones, and the other `n - values.len()` are zeros (a
/// sparse column). scikit-learn's corrected two-pass algorithm
/// (`_incremental_mean_and_var`): the correction term cancels most of the
/// rounding of the first pass.
pub fn mean_var(n: usize, values: &[f64]) -> (f64, f64) {
    let nf = n as f64;
    let zeros = (n - values.len()) as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let (mut squares, mut correction) = (zeros * mean * mean, -zeros * mean);
    for &v in values {
        let t = v - mean;
        squares += t * t;
        correction += t;
    }
    (mean, (squares - correction * correction / nf) / nf)
}

/// scikit-learn's `_is_constant_feature`: a variance within the rounding
/// error of the two-pass algorithm (relative to the mean and the row count)
/// is a constant column, whatever its absolute size.
pub fn is_constant(var: f64, mean: f64, n: usize) -> bool {
    let n = n as f64;
    let eps = f64::EPSILON;
    var <= n * eps * var + (n * mean * eps).powi(2)
}

/// The standard deviation to divide by: 1 for a constant column.
pub fn scale_of(var: f64, mean: f64, n: usize) -> f64 {
    if is_constant(var, mean, n) {
        1.0
    } else {
        var.sqrt()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scaler {
    /// `mean_`: computed whenever a step is on (scikit-learn stores it even
    /// without centring); subtracted only with `center`.
    pub mean: Option<Vec<f64>>,
    pub center: bool,
    /// `var_` and `scale_`, with `with_std`.
    pub var: Option<Vec<f64>>,
    pub scale: Option<Vec<f64>>,
    pub columns: usize,
}

impl Scaler {
    fn from_columns(n: usize, columns: Vec<Vec<f64>>, with_mean: bool, with_std: bool) -> Scaler {
        let moments: Vec<(f64, f64)> = columns.iter().map(|c| mean_var(n, c)).collect();
        let scale = moments.iter().map(|&(m, v)| scale_of(v, m, n)).collect();
        Scaler {
            mean: (with_mean || with_std).then(|| moments.iter().map(|m| m.0).collect()),
            center: with_mean,
            var: with_std.then(|| moments.iter().map(|m| m.1).collect()),
            scale: with_std.then_some(scale),
            columns: columns.len(),
        }
    }

    pub fn fit(x: ArrayView2<f32>, with_mean: bool, with_std: bool) -> Result<Scaler> {
        if x.nrows() == 0 {
            return Err(Error::invalid("standard_scaler: fit on no rows"));
        }
        super::check_finite(x, None, "standard_scaler: fit", "features")?;
        let columns = x
            .columns()
            .into_iter()
            .map(|c| c.iter().map(|&v| f64::from(v)).collect())
            .collect();
        Ok(Scaler::from_columns(
            x.nrows(),
            columns,
            with_mean,
            with_std,
        ))
    }

    /// Fits on a sparse matrix: its implicit zeros count as rows' values.
    pub fn fit_sparse(x: &Csr, with_mean: bool, with_std: bool) -> Result<Scaler> {
        if with_mean {
            return Err(Error::invalid(
                "standard_scaler: cannot centre a sparse matrix (every zero would become non-zero); \
                 give with_mean: false, as scikit-learn asks",
            ));
        }
        if x.rows() == 0 {
            return Err(Error::invalid("standard_scaler: fit on no rows"));
        }
        let mut columns = vec![Vec::new(); x.cols()];
        for r in 0..x.rows() {
            let (from, to) = (x.indptr()[r], x.indptr()[r + 1]);
            for (&c, &v) in x.indices()[from..to].iter().zip(&x.data()[from..to]) {
                if !v.is_finite() {
                    return Err(Error::invalid(format!(
                        "standard_scaler: fit: the features hold {v} at row {r}, column {c}"
                    )));
                }
                columns[c as usize].push(f64::from(v));
            }
        }
        Ok(Scaler::from_columns(x.rows(), columns, with_mean, with_std))
    }

    pub fn columns(&self) -> Option<usize> {
        (self.mean.is_some() || self.scale.is_some()).then_some(self.columns)
    }

    fn check_columns(&self, cols: usize) -> Result<()> {
        match self.columns() {
            Some(c) if c != cols => Err(Error::invalid(format!(
                "standard_scaler: fitted on {c} columns, this matrix has {cols}"
            ))),
            _ => Ok(()),
        }
    }

    pub fn transform(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.check_columns(x.ncols())?;
        let mut out = x.mapv(f64::from);
        for (j, mut col) in out.columns_mut().into_iter().enumerate() {
            let m = match (&self.mean, self.center) {
                (Some(m), true) => m[j],
                _ => 0.0,
            };
            let s = self.scale.as_ref().map_or(1.0, |s| s[j]);
            col.mapv_inplace(|v| (v - m) / s);
        }
        Ok(out.mapv(|v| v as f32))
    }

    /// A sparse matrix divided by the scales (its zeros stay zeros).
    pub fn transform_sparse(&self, x: &Csr) -> Result<Csr> {
        self.check_columns(x.cols())?;
        if self.center {
            return Err(Error::invalid(
                "standard_scaler: this scaler centres (with_mean: true), which a sparse matrix cannot take; \
                 fit one with with_mean: false",
            ));
        }
        let data = match &self.scale {
            Some(scale) => x
                .indices()
                .iter()
                .zip(x.data())
                .map(|(&c, &v)| (f64::from(v) / scale[c as usize]) as f32)
                .collect(),
            None => x.data().to_vec(),
        };
        Csr::new(
            x.rows(),
            x.cols(),
            x.indptr().to_vec(),
            x.indices().to_vec(),
            data,
        )
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

    /// Learns each column's deviation from a sparse `x` (`with_mean: false` only).
    pub fn fit_sparse(&mut self, x: &Csr) -> Result<()> {
        let o = &self.options;
        self.fitted = Some(Arc::new(Scaler::fit_sparse(x, o.with_mean, o.with_std)?));
        Ok(())
    }

    /// The fitted scaler, or the error saying it is not.
    pub fn fitted(&self) -> Result<&Scaler> {
        self.fitted
            .as_deref()
            .ok_or_else(|| Error::invalid("standard_scaler: not fitted yet; call fit(x) first"))
    }

    /// A sparse `x` scaled.
    pub fn transform_sparse(&self, x: &Csr) -> Result<Csr> {
        self.fitted()?.transform_sparse(x)
    }

    /// `x` scaled (names kept).
    pub fn transform(&self, x: &Matrix) -> Result<Matrix> {
        let scaler = self.fitted()?;
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
