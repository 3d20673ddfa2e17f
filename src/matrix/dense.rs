//! Dense f32 matrices, shared (cheap to clone into and out of scripts).

use std::fmt;
use std::sync::Arc;

use ndarray::{Array2, ArrayView1};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Matrix {
    values: Arc<Array2<f32>>,
    row_names: Option<Arc<[String]>>,
    col_names: Option<Arc<[String]>>,
}

impl Matrix {
    pub fn new(values: Array2<f32>) -> Matrix {
        Matrix {
            values: Arc::new(values),
            row_names: None,
            col_names: None,
        }
    }

    /// Attaches row and/or column names; their counts must match the shape.
    pub fn with_names(
        mut self,
        row_names: Option<Vec<String>>,
        col_names: Option<Vec<String>>,
    ) -> Result<Matrix> {
        let check = |names: &Option<Vec<String>>, n: usize, what: &str| match names {
            Some(v) if v.len() != n => Err(Error::invalid(format!(
                "{} {what} names for a matrix with {n} {what}s",
                v.len()
            ))),
            _ => Ok(()),
        };
        check(&row_names, self.rows(), "row")?;
        check(&col_names, self.cols(), "column")?;
        self.row_names = row_names.map(Into::into);
        self.col_names = col_names.map(Into::into);
        Ok(self)
    }

    pub fn values(&self) -> &Array2<f32> {
        &self.values
    }

    pub fn rows(&self) -> usize {
        self.values.nrows()
    }

    pub fn cols(&self) -> usize {
        self.values.ncols()
    }

    pub fn row_names(&self) -> Option<&[String]> {
        self.row_names.as_deref()
    }

    pub fn col_names(&self) -> Option<&[String]> {
        self.col_names.as_deref()
    }

    /// Fails on the first NaN or infinity (see [`super::check_finite`]).
    pub fn check_finite(&self, what: &str, noun: &str) -> Result<()> {
        super::check_finite(self.values.view(), self.col_names(), what, noun)
    }

    /// Row `i`; an error names the valid range.
    pub fn row(&self, i: usize) -> Result<ArrayView1<'_, f32>> {
        if i >= self.rows() {
            return Err(Error::invalid(format!(
                "row {i} is out of range: the matrix has {} rows",
                self.rows()
            )));
        }
        Ok(self.values.row(i))
    }
}

impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matrix {} × {} (f32)", self.rows(), self.cols())?;
        if let Some(names) = &self.col_names {
            let shown: Vec<&str> = names.iter().take(6).map(String::as_str).collect();
            let more = if names.len() > 6 { ", …" } else { "" };
            write!(f, "\n  columns: {}{more}", shown.join(", "))?;
        }
        super::write_corner(f, self.rows(), self.cols(), |i, j| self.values[[i, j]])
    }
}
