//! One-vs-rest over the label columns: shared checks, constant labels, and
//! the decision values of a linear model (X·Wᵀ + b) on CSR input.

use ndarray::Array2;
use rayon::prelude::*;

use crate::data::Labels;
use crate::error::{Error, Result};
use crate::matrix::Csr;

/// Fails unless `x` and `y` describe the same movies.
pub fn check_rows(x: &Csr, y: &Labels) -> Result<()> {
    if x.rows() != y.rows() {
        return Err(Error::invalid(format!(
            "fit: x has {} rows but the labels have {}; they must describe the same movies",
            x.rows(),
            y.rows()
        )));
    }
    if x.rows() == 0 {
        return Err(Error::invalid("fit: no training rows"));
    }
    x.check_finite("fit: x", "features")
}

/// Fails unless `x` has the columns the model was fitted on.
pub fn check_cols(x: &Csr, expected: usize) -> Result<()> {
    if x.cols() != expected {
        return Err(Error::invalid(format!(
            "x has {} columns but the model was fitted on {expected}; transform it with the same vectorizer",
            x.cols()
        )));
    }
    x.check_finite("x", "features")
}

/// For each label: `Some(v)` when every training row has value `v` (a label
/// with no positive, or no negative, example), `None` otherwise.
pub fn constant_labels(y: &Labels) -> Vec<Option<bool>> {
    y.counts()
        .into_iter()
        .map(|positives| {
            if positives == 0 {
                Some(false)
            } else if positives == y.rows() {
                Some(true)
            } else {
                None
            }
        })
        .collect()
}

/// The warning scikit-learn's `OneVsRestClassifier` gives for constant labels.
pub fn constant_warnings(names: &[String], constant: &[Option<bool>]) -> Vec<String> {
    names
        .iter()
        .zip(constant)
        .filter_map(|(name, c)| {
            c.map(|v| {
                format!(
                    "label '{name}' is {} in every training row; it is predicted {} for every movie",
                    if v { "present" } else { "absent" },
                    if v { "present" } else { "absent" }
                )
            })
        })
        .collect()
}

/// Column `j` of `y` as booleans.
pub fn column(y: &Labels, j: usize) -> Vec<bool> {
    y.values().column(j).iter().map(|&v| v != 0).collect()
}

/// X·Wᵀ + b for every row of `x` (n × labels), rows in parallel.
pub fn decision(x: &Csr, weights: &Array2<f64>, bias: &[f64]) -> Array2<f32> {
    let labels = weights.nrows();
    let values: Vec<f32> = (0..x.rows())
        .into_par_iter()
        .flat_map_iter(|i| {
            let (cols, vals) = x.row(i);
            (0..labels).map(move |j| {
                let w = weights.row(j);
                let dot: f64 = cols
                    .iter()
                    .zip(vals)
                    .map(|(&c, &v)| w[c as usize] * f64::from(v))
                    .sum();
                (dot + bias[j]) as f32
            })
        })
        .collect();
    Array2::from_shape_vec((x.rows(), labels), values).expect("n × labels values")
}
