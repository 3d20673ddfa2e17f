//! Feature rows that may be dense or sparse, and the two ways scripts build
//! matrices out of parts: joining blocks side by side (early fusion) and
//! reading nested arrays of numbers.

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::matrix::{Csr, Matrix, Sparse};
use crate::options::Value;

/// A `Matrix` or a `Sparse`: what models that take either are given.
#[derive(Clone)]
pub enum Features {
    Dense(Matrix),
    Sparse(Sparse),
}

impl Features {
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Features::Dense(m) => (m.rows(), m.cols()),
            Features::Sparse(s) => (s.csr().rows(), s.csr().cols()),
        }
    }

    /// The values as a dense array (a sparse matrix densified).
    pub fn to_dense(&self) -> Array2<f32> {
        match self {
            Features::Dense(m) => m.values().clone(),
            Features::Sparse(s) => s.csr().to_dense(),
        }
    }
}

/// Joins blocks side by side (`np.hstack`): dense blocks into a `Matrix`
/// (rows named as the first block's), sparse ones into a `Sparse`.
pub fn hstack(blocks: &[Features]) -> Result<Features> {
    let Some(first) = blocks.first() else {
        return Err(Error::invalid("data::hstack: no blocks to join"));
    };
    let (rows, first_cols) = first.shape();
    for (i, b) in blocks.iter().enumerate() {
        let (r, c) = b.shape();
        if r != rows {
            return Err(Error::invalid(format!(
                "data::hstack: block 0 is {rows} × {first_cols} but block {i} is {r} × {c}; every block needs the same rows (the same movies)"
            )));
        }
    }
    let dense: Vec<&Matrix> = blocks
        .iter()
        .filter_map(|b| match b {
            Features::Dense(m) => Some(m),
            Features::Sparse(_) => None,
        })
        .collect();
    if dense.is_empty() {
        let csrs: Vec<&Csr> = blocks
            .iter()
            .filter_map(|b| match b {
                Features::Sparse(s) => Some(s.csr()),
                Features::Dense(_) => None,
            })
            .collect();
        return Ok(Features::Sparse(Sparse::new(Csr::hstack(&csrs)?)));
    }
    if dense.len() != blocks.len() {
        return Err(Error::invalid(
            "data::hstack: dense and sparse blocks mixed; call .to_dense() on the sparse ones (or .to_sparse() on the dense ones) first",
        ));
    }
    // Row-major, as every other matrix (ndarray's concatenate along columns
    // gives column-major, which made batch selection and products 2x slower).
    let cols: usize = dense.iter().map(|m| m.cols()).sum();
    let mut joined = Array2::<f32>::zeros((rows, cols));
    let mut at = 0;
    for m in &dense {
        joined
            .slice_mut(ndarray::s![.., at..at + m.cols()])
            .assign(m.values());
        at += m.cols();
    }
    Ok(Features::Dense(Matrix::new(joined).with_names(
        dense[0].row_names().map(<[String]>::to_vec),
        None,
    )?))
}

/// A matrix from rows of numbers (`data::matrix([[1, 2], [3, 4]])`); the
/// error names the first row or value that is not one.
pub fn from_rows(rows: &[Value]) -> Result<Matrix> {
    let width = rows.first().and_then(Value::list).map_or(0, <[Value]>::len);
    let mut values = Vec::with_capacity(rows.len() * width);
    for (i, row) in rows.iter().enumerate() {
        let row = row.list().ok_or_else(|| {
            Error::invalid(format!("data::matrix: row {i} is {row}, expected an array"))
        })?;
        if row.len() != width {
            return Err(Error::invalid(format!(
                "data::matrix: row {i} has {} values, row 0 has {width}",
                row.len()
            )));
        }
        for (j, v) in row.iter().enumerate() {
            let x = v.number().ok_or_else(|| {
                Error::invalid(format!(
                    "data::matrix: value [{i}][{j}] is {v}, expected a number"
                ))
            })?;
            values.push(x as f32);
        }
    }
    let array = Array2::from_shape_vec((rows.len(), width), values)
        .map_err(|e| Error::invalid(format!("data::matrix: {e}")))?;
    Ok(Matrix::new(array))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(rows: &[&[f32]]) -> Features {
        let v: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Features::Dense(Matrix::new(
            Array2::from_shape_vec((rows.len(), rows[0].len()), v).unwrap(),
        ))
    }

    #[test]
    fn hstack_joins_rows_and_names_mismatches() {
        let joined =
            hstack(&[dense(&[&[1.0], &[2.0]]), dense(&[&[3.0, 4.0], &[5.0, 6.0]])]).unwrap();
        let Features::Dense(m) = joined else { panic!() };
        assert_eq!(m.values().row(1).to_vec(), vec![2.0, 5.0, 6.0]);
        let e = hstack(&[dense(&[&[1.0], &[2.0]]), dense(&[&[3.0]])])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("block 0 is 2 × 1 but block 1 is 1 × 1"), "{e}");
        let sparse = Features::Sparse(Sparse::new(Csr::from_dense(&Array2::eye(2))));
        let e = hstack(&[dense(&[&[1.0], &[2.0]]), sparse.clone()])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("dense and sparse blocks mixed"), "{e}");
        assert_eq!(hstack(&[sparse.clone(), sparse]).unwrap().shape(), (2, 4));
        assert!(hstack(&[]).is_err());
    }

    #[test]
    fn rows_of_numbers_become_a_matrix() {
        let row = |v: &[Value]| Value::List(v.to_vec());
        let m = from_rows(&[
            row(&[Value::Int(1), Value::Float(2.5)]),
            row(&[Value::Int(3), Value::Int(4)]),
        ])
        .unwrap();
        assert_eq!(m.values().row(0).to_vec(), vec![1.0, 2.5]);
        let e = from_rows(&[row(&[Value::Int(1)]), row(&[])])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "data::matrix: row 1 has 0 values, row 0 has 1");
        let e = from_rows(&[row(&[Value::Text("x".into())])])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "data::matrix: value [0][0] is \"x\", expected a number");
        let e = from_rows(&[Value::Int(3)]).unwrap_err().to_string();
        assert_eq!(e, "data::matrix: row 0 is 3, expected an array");
    }
}
