//! Compressed sparse row (CSR) f32 matrices, the layout of scipy.sparse's
//! `csr_matrix`: `indptr` (rows + 1 offsets), `indices` (column of each
//! stored value, sorted within a row) and `data`.

use std::fmt;
use std::sync::Arc;

use ndarray::Array2;

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

    #[test]
    fn invalid_layouts_are_errors() {
        assert!(Csr::new(2, 3, vec![0, 1], vec![0], vec![1.0]).is_err());
        assert!(Csr::new(1, 3, vec![0, 1], vec![5], vec![1.0]).is_err());
        assert!(Csr::new(1, 3, vec![0, 2], vec![2, 1], vec![1.0, 1.0]).is_err());
        assert!(Csr::new(1, 3, vec![0, 2], vec![1, 2], vec![1.0, 1.0]).is_ok());
    }
}
