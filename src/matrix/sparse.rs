//! Compressed sparse row (CSR) f32 matrices, the layout of scipy.sparse's
//! `csr_matrix`: `indptr` (rows + 1 offsets), `indices` (column of each
//! stored value, sorted within a row) and `data`.

use std::fmt;
use std::sync::Arc;

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct Csr {
    rows: usize,
    cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    data: Vec<f32>,
}

impl Csr {
    /// Checks the invariants scipy checks (`check_format(full_check=True)`).
    pub fn new(
        rows: usize,
        cols: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        data: Vec<f32>,
    ) -> Result<Csr> {
        let bad = |why: String| Err(Error::invalid(format!("invalid CSR matrix: {why}")));
        if indptr.len() != rows + 1 {
            return bad(format!(
                "indptr has {} entries for {rows} rows",
                indptr.len()
            ));
        }
        if indices.len() != data.len() {
            return bad(format!(
                "{} indices for {} values",
                indices.len(),
                data.len()
            ));
        }
        if indptr[0] != 0 || indptr[rows] != data.len() {
            return bad("indptr must start at 0 and end at the number of values".into());
        }
        for r in 0..rows {
            if indptr[r] > indptr[r + 1] {
                return bad(format!("indptr decreases at row {r}"));
            }
            let row = &indices[indptr[r]..indptr[r + 1]];
            if let Some(&c) = row.iter().find(|&&c| c as usize >= cols) {
                return bad(format!(
                    "column index {c} in row {r} but only {cols} columns"
                ));
            }
            if row.windows(2).any(|w| w[0] >= w[1]) {
                return bad(format!(
                    "column indices of row {r} are not strictly increasing"
                ));
            }
        }
        Ok(Csr {
            rows,
            cols,
            indptr,
            indices,
            data,
        })
    }

    /// The non-zero entries of a dense matrix.
    pub fn from_dense(dense: &Array2<f32>) -> Csr {
        let mut indptr = Vec::with_capacity(dense.nrows() + 1);
        let mut indices = Vec::new();
        let mut data = Vec::new();
        indptr.push(0);
        for row in dense.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    indices.push(j as u32);
                    data.push(v);
                }
            }
            indptr.push(data.len());
        }
        Csr {
            rows: dense.nrows(),
            cols: dense.ncols(),
            indptr,
            indices,
            data,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Column indices and values of row `i` (panics on a bad index: callers check).
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let span = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[span.clone()], &self.data[span])
    }

    /// The value at (i, j), zero where nothing is stored.
    pub fn get(&self, i: usize, j: usize) -> f32 {
        let (cols, vals) = self.row(i);
        cols.binary_search(&(j as u32)).map_or(0.0, |k| vals[k])
    }

    /// Fails on the first stored NaN or infinity, named by row and column
    /// (the sparse side of [`super::check_finite`]).
    pub fn check_finite(&self, what: &str, noun: &str) -> crate::Result<()> {
        let Some(pos) = self.data().iter().position(|v| !v.is_finite()) else {
            return Ok(());
        };
        let row = self.indptr().partition_point(|&p| p <= pos) - 1;
        Err(crate::Error::invalid(format!(
            "{what}: row {row}, column {} is {}; {noun} must be finite numbers",
            self.indices()[pos],
            self.data()[pos]
        )))
    }

    /// Blocks of the same rows side by side (`scipy.sparse.hstack`), without
    /// densifying: each row's entries of block k shift by the columns before it.
    pub fn hstack(blocks: &[&Csr]) -> Result<Csr> {
        let rows = blocks.first().map_or(0, |b| b.rows());
        let cols: usize = blocks.iter().map(|b| b.cols()).sum();
        let nnz: usize = blocks.iter().map(|b| b.nnz()).sum();
        let (mut indptr, mut indices, mut data) = (
            Vec::with_capacity(rows + 1),
            Vec::with_capacity(nnz),
            Vec::with_capacity(nnz),
        );
        indptr.push(0);
        for i in 0..rows {
            let mut offset = 0u32;
            for b in blocks {
                let (idx, val) = b.row(i);
                indices.extend(idx.iter().map(|&j| j + offset));
                data.extend_from_slice(val);
                offset += b.cols() as u32;
            }
            indptr.push(indices.len());
        }
        Csr::new(rows, cols, indptr, indices, data)
    }

    /// `selfᵀ` in CSR (a counting sort of the stored values by column),
    /// so products with the transpose run row by row too.
    pub fn transpose(&self) -> Csr {
        let mut indptr = vec![0usize; self.cols + 1];
        for &j in &self.indices {
            indptr[j as usize + 1] += 1;
        }
        for j in 0..self.cols {
            indptr[j + 1] += indptr[j];
        }
        let mut next = indptr.clone();
        let mut indices = vec![0u32; self.nnz()];
        let mut data = vec![0f32; self.nnz()];
        for i in 0..self.rows {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                let at = &mut next[j as usize];
                indices[*at] = i as u32;
                data[*at] = v;
                *at += 1;
            }
        }
        Csr {
            rows: self.cols,
            cols: self.rows,
            indptr,
            indices,
            data,
        }
    }

    /// `self · b` for a dense f64 `b` (cols × k), rows on every core: each
    /// output row adds the rows of `b` its stored values select, so the
    /// work is the stored values times k, never the zeros.
    pub fn dot_dense(&self, b: ArrayView2<f64>) -> Array2<f64> {
        assert_eq!(b.nrows(), self.cols, "dot_dense: shapes");
        let b = b.as_standard_layout();
        let k = b.ncols();
        let b = b.as_slice().expect("standard layout");
        let mut out = Array2::<f64>::zeros((self.rows, k));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut row)| {
                let row = row.as_slice_mut().expect("a new array is contiguous");
                let (cols, vals) = self.row(i);
                for (&j, &v) in cols.iter().zip(vals) {
                    let (v, src) = (f64::from(v), &b[j as usize * k..(j as usize + 1) * k]);
                    for (o, s) in row.iter_mut().zip(src) {
                        *o += v * s;
                    }
                }
            });
        out
    }

    /// `selfᵀ·self` as a dense f64 matrix (cols × cols), rows on every core:
    /// row `j` adds the rows of `self` that hold column `j` (`transposed` is
    /// `self.transpose()`), so the work is Σ (stored values per row)².
    pub fn gram(&self, transposed: &Csr) -> Array2<f64> {
        let d = self.cols;
        let mut out = Array2::<f64>::zeros((d, d));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(j, mut row)| {
                let row = row.as_slice_mut().expect("a new array is contiguous");
                let (rows, vals) = transposed.row(j);
                for (&i, &v) in rows.iter().zip(vals) {
                    let (cols, xs) = self.row(i as usize);
                    for (&c, &x) in cols.iter().zip(xs) {
                        row[c as usize] += f64::from(v) * f64::from(x);
                    }
                }
            });
        out
    }

    /// Each column's mean and variance (scikit-learn's `mean_variance_axis(x,
    /// axis=0)`): the zeros count, the stored values sum (x - mean)² exactly.
    pub fn column_mean_variance(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.rows.max(1) as f64;
        let mut sum = vec![0f64; self.cols];
        let mut stored = vec![0usize; self.cols];
        for (&j, &v) in self.indices.iter().zip(&self.data) {
            sum[j as usize] += f64::from(v);
            stored[j as usize] += 1;
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut var: Vec<f64> = mean
            .iter()
            .zip(&stored)
            .map(|(m, &c)| (self.rows - c) as f64 * m * m)
            .collect();
        for (&j, &v) in self.indices.iter().zip(&self.data) {
            let d = f64::from(v) - mean[j as usize];
            var[j as usize] += d * d;
        }
        var.iter_mut().for_each(|v| *v /= n);
        (mean, var)
    }

    pub fn to_dense(&self) -> Array2<f32> {
        let mut dense = Array2::zeros((self.rows, self.cols));
        for i in 0..self.rows {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                dense[[i, j as usize]] = v;
            }
        }
        dense
    }
}

/// A shared CSR matrix, as scripts see it.
#[derive(Clone, Debug)]
pub struct Sparse(pub Arc<Csr>);

impl Sparse {
    pub fn new(csr: Csr) -> Sparse {
        Sparse(Arc::new(csr))
    }

    pub fn csr(&self) -> &Csr {
        &self.0
    }
}

impl fmt::Display for Sparse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.csr();
        let cells = (m.rows * m.cols).max(1) as f64;
        write!(
            f,
            "Sparse {} × {} (f32, CSR), {} stored values ({:.2}% dense)",
            m.rows,
            m.cols,
            m.nnz(),
            100.0 * m.nnz() as f64 / cells
        )?;
        super::write_corner(f, m.rows, m.cols, |i, j| m.get(i, j))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    // scipy: csr_matrix([[0,2,0],[1,0,3]]) -> indptr [0,1,3], indices [1,0,2], data [2,1,3]
    #[test]
    fn dense_round_trip_matches_scipy_layout() {
        let dense = array![[0.0f32, 2.0, 0.0], [1.0, 0.0, 3.0]];
        let csr = Csr::from_dense(&dense);
        assert_eq!(csr.indptr(), &[0, 1, 3]);
        assert_eq!(csr.indices(), &[1, 0, 2]);
        assert_eq!(csr.data(), &[2.0, 1.0, 3.0]);
        assert_eq!(csr.to_dense(), dense);
        assert_eq!(csr.get(1, 2), 3.0);
        assert_eq!(csr.get(0, 0), 0.0);
    }

    /// numpy / scikit-learn 1.9.1 on the same matrix:
    /// ```python
    /// x = csr_matrix([[0, 2, 0], [1, 0, 3]], dtype=np.float32)
    /// x.T.toarray(); x @ [[1, 2], [3, 4], [5, 6]]   # [[6, 8], [16, 20]]
    /// mean_variance_axis(x, axis=0)  # ([0.5, 1, 1.5], [0.25, 1, 2.25])
    /// ```
    #[test]
    fn transpose_product_and_column_variance() {
        let dense = array![[0.0f32, 2.0, 0.0], [1.0, 0.0, 3.0]];
        let csr = Csr::from_dense(&dense);
        assert_eq!(csr.transpose().to_dense(), dense.t());
        let b = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        assert_eq!(csr.dot_dense(b.view()), array![[6.0, 8.0], [16.0, 20.0]]);
        assert_eq!(csr.dot_dense(b.t().t()), array![[6.0, 8.0], [16.0, 20.0]]);
        assert_eq!(
            csr.gram(&csr.transpose()),
            array![[1.0, 0.0, 3.0], [0.0, 4.0, 0.0], [3.0, 0.0, 9.0]]
        );
        let (mean, var) = csr.column_mean_variance();
        assert_eq!(mean, vec![0.5, 1.0, 1.5]);
        assert_eq!(var, vec![0.25, 1.0, 2.25]);
    }

    #[test]
    fn invalid_layouts_are_errors() {
        assert!(Csr::new(2, 3, vec![0, 1], vec![0], vec![1.0]).is_err());
        assert!(Csr::new(1, 3, vec![0, 1], vec![5], vec![1.0]).is_err());
        assert!(Csr::new(1, 3, vec![0, 2], vec![2, 1], vec![1.0, 1.0]).is_err());
        assert!(Csr::new(1, 3, vec![0, 2], vec![1, 2], vec![1.0, 1.0]).is_ok());
    }
}
