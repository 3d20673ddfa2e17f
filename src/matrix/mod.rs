//! The two numeric types every later module hands out: a dense f32 matrix
//! (optionally with row and column names) and a CSR sparse f32 matrix.

pub mod dense;
pub mod features;
pub mod io;
pub mod linalg;
pub mod row_cache;
pub mod scale;
pub mod sparse;

pub use dense::Matrix;
pub use features::Features;
pub use sparse::{Csr, Sparse};

use std::fmt;

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// The `k` rows of `x` with the highest cosine similarity to `unit` (a
/// query of length 1), highest first, ties to the earlier row, as (row,
/// similarity); rows in `excluded` are left out and rows of norm 0 (their
/// `norms`) have similarity 0. Word neighbours and semantic search share it.
pub fn nearest_rows(
    x: ArrayView2<f32>,
    norms: &[f32],
    unit: ArrayView1<f32>,
    excluded: &[usize],
    k: usize,
) -> Vec<(usize, f32)> {
    let sims: Vec<f32> = x
        .outer_iter()
        .into_par_iter()
        .zip(norms.par_iter())
        .map(|(r, &n)| if n > 0.0 { r.dot(&unit) / n } else { 0.0 })
        .collect();
    let mut order: Vec<usize> = (0..sims.len()).filter(|i| !excluded.contains(i)).collect();
    let take = k.min(order.len());
    let by = |a: &usize, b: &usize| sims[*b].total_cmp(&sims[*a]).then(a.cmp(b));
    if take < order.len() && take > 0 {
        order.select_nth_unstable_by(take - 1, by);
    }
    order.truncate(take);
    order.sort_by(by);
    order.into_iter().map(|i| (i, sims[i])).collect()
}

/// The L2 norm of every row of `x`.
pub fn row_norms(x: ArrayView2<f32>) -> Vec<f32> {
    x.outer_iter()
        .into_par_iter()
        .map(|r| r.dot(&r).sqrt())
        .collect()
}

/// The one check that a matrix entering an algorithm holds only finite
/// numbers. The error names the argument (`what`, e.g.
/// "metrics::tune_thresholds: scores_dev"), the first bad cell by row and
/// column (and the column's name when there is one) and what the values are
/// (`noun`: "scores", "features").
pub fn check_finite<T>(
    values: ArrayView2<T>,
    col_names: Option<&[String]>,
    what: &str,
    noun: &str,
) -> Result<()>
where
    T: Copy + Into<f64>,
{
    let Some(((i, j), v)) = values
        .indexed_iter()
        .map(|(at, v)| (at, (*v).into()))
        .find(|(_, v): &(_, f64)| !v.is_finite())
    else {
        return Ok(());
    };
    let column = col_names
        .and_then(|n| n.get(j))
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let bad = values.iter().filter(|v| !(**v).into().is_finite()).count();
    let more = if bad > 1 {
        format!(" (and {} more)", bad - 1)
    } else {
        String::new()
    };
    Err(Error::invalid(format!(
        "{what}: row {i}, column {j}{column} is {v}{more}; {noun} must be finite numbers"
    )))
}

/// The vector side of [`check_finite`]: fails on the first NaN or
/// infinity of `values`, naming `what` and the position.
pub fn check_finite_values(values: &[f64], what: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::invalid(format!(
            "{what}: element {i} is {}; it must be a finite number",
            values[i]
        ))),
    }
}

/// Writes the top-left corner of a matrix: at most 5 rows and 6 columns,
/// right-aligned, with `…` where there is more.
pub(crate) fn write_corner(
    f: &mut fmt::Formatter<'_>,
    rows: usize,
    cols: usize,
    value: impl Fn(usize, usize) -> f32,
) -> fmt::Result {
    const ROWS: usize = 5;
    const COLS: usize = 6;
    let shown: Vec<Vec<f32>> = (0..rows.min(ROWS))
        .map(|i| (0..cols.min(COLS)).map(|j| value(i, j)).collect())
        .collect();
    // One format for the whole corner: integers if every value is one.
    let integral = shown
        .iter()
        .flatten()
        .all(|v| *v == v.trunc() && v.abs() < 1e7);
    let cells: Vec<Vec<String>> = shown
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| {
                    if integral {
                        format!("{v:.0}")
                    } else {
                        format!("{v:.4}")
                    }
                })
                .collect()
        })
        .collect();
    let width = cells.iter().flatten().map(String::len).max().unwrap_or(1);
    for row in &cells {
        write!(f, "\n  [")?;
        let parts: Vec<String> = row.iter().map(|c| format!("{c:>width$}")).collect();
        write!(f, "{}", parts.join(", "))?;
        if cols > COLS {
            write!(f, ", …")?;
        }
        write!(f, "]")?;
    }
    if rows > ROWS {
        write!(f, "\n  …")?;
    }
    Ok(())
}
