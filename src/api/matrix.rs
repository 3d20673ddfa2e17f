//! Methods of `Matrix`, `Sparse` and `StandardScaler`.

use rhai::plugin::*;
use rhai::{Array, Dynamic, INT};

use crate::api::convert::RhaiResult;
use crate::error::Error;

const MAX_ARRAY_CELLS: usize = 1 << 24;

/// `[rows, cols]`.
pub fn shape_of(rows: usize, cols: usize) -> Array {
    vec![
        Dynamic::from_int(rows as INT),
        Dynamic::from_int(cols as INT),
    ]
}

/// Script arrays of more cells than this are refused (`to_array`).
pub fn check_array_size(rows: usize, cols: usize) -> RhaiResult<()> {
    if rows.saturating_mul(cols) > MAX_ARRAY_CELLS {
        return Err(Error::invalid(format!(
            "to_array: a {rows} × {cols} matrix is too large for a script array; use row(i) or save(path)"
        ))
        .into());
    }
    Ok(())
}

#[export_module]
pub mod matrix_methods {
    use std::path::Path;

    use rhai::{Array, Dynamic, INT};

    use crate::api::convert::{
        RhaiResult, float_array, ids_array, index, optional_floats, string_array,
    };
    use crate::matrix::scale::StandardScaler;
    use crate::matrix::{Matrix, Sparse, io};

    use super::{check_array_size, shape_of};

    fn float_row(values: impl Iterator<Item = f32>) -> Array {
        float_array(values.map(f64::from))
    }

    /// `[rows, cols]`.
    ///
    /// ```rhai
    /// let m = data::matrix([[1, 2, 3], [4, 5, 6]]);
    /// assert_eq(m.shape, [2, 3]);
    /// assert_eq(m.shape(), [2, 3]);
    /// ```
    #[rhai_fn(global, name = "shape", get = "shape", pure)]
    pub fn matrix_shape(m: &mut Matrix) -> Array {
        shape_of(m.rows(), m.cols())
    }

    /// The number of rows.
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[1, 2, 3], [4, 5, 6]]).rows, 2);
    /// ```
    #[rhai_fn(global, name = "rows", get = "rows", pure)]
    pub fn matrix_rows(m: &mut Matrix) -> INT {
        m.rows() as INT
    }

    /// The number of columns.
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[1, 2, 3], [4, 5, 6]]).cols, 3);
    /// ```
    #[rhai_fn(global, name = "cols", get = "cols", pure)]
    pub fn matrix_cols(m: &mut Matrix) -> INT {
        m.cols() as INT
    }

    /// Row `i` as an array of floats (negative `i` counts from the end).
    ///
    /// Errors: `i` out of range.
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[1, 2], [3, 4]]).row(-1), [3.0, 4.0]);
    /// ```
    #[rhai_fn(global, name = "row", return_raw, pure)]
    pub fn matrix_row(m: &mut Matrix, i: INT) -> RhaiResult<Array> {
        let i = index(i, m.rows(), "row")?;
        Ok(float_row(m.row(i)?.iter().copied()))
    }

    /// The whole matrix as an array of rows of floats.
    ///
    /// Errors: more than 16,777,216 values (use `row(i)` or `save`).
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[1, 2]]).to_array(), [[1.0, 2.0]]);
    /// ```
    #[rhai_fn(global, name = "to_array", return_raw, pure)]
    pub fn matrix_to_array(m: &mut Matrix) -> RhaiResult<Array> {
        check_array_size(m.rows(), m.cols())?;
        Ok(m.values()
            .rows()
            .into_iter()
            .map(|r| Dynamic::from_array(float_row(r.iter().copied())))
            .collect())
    }

    /// Writes the matrix; the format follows the extension: `.safetensors`
    /// (tensor `data`, names in the metadata), `.npy` or `.csv` (a header row
    /// when the columns have names). Written atomically.
    ///
    /// Arguments: `path`.
    ///
    /// Errors: an unknown extension; the file cannot be written.
    ///
    /// ```rhai
    /// let path = data::temp_path("m.safetensors");
    /// data::matrix([[1, 2], [3, 4]]).save(path);
    /// assert_eq(data::load_matrix(path).to_array(), [[1.0, 2.0], [3.0, 4.0]]);
    /// ```
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn matrix_save(m: &mut Matrix, path: &str) -> RhaiResult<()> {
        Ok(io::save_dense(m, Path::new(path))?)
    }

    /// Column names, or `()` when the columns have none.
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[1]]).names(), ());
    /// ```
    #[rhai_fn(global, name = "names", pure)]
    pub fn matrix_names(m: &mut Matrix) -> Dynamic {
        m.col_names().map_or(Dynamic::UNIT, |n| {
            Dynamic::from_array(string_array(n.iter().map(String::as_str)))
        })
    }

    /// Row names — the movie ids of rows made from a `Movies` (features,
    /// embeddings), as `Movies.ids` gives them: integers when every one is
    /// — or `()` when the rows have none.
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[1]]).ids(), ());
    /// ```
    #[rhai_fn(global, name = "ids", pure)]
    pub fn matrix_ids(m: &mut Matrix) -> Dynamic {
        m.row_names()
            .map_or(Dynamic::UNIT, |n| Dynamic::from_array(ids_array(n)))
    }

    /// Shape and the top-left corner.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn matrix_describe(m: &mut Matrix) -> String {
        m.to_string()
    }

    /// `[rows, cols]`.
    ///
    /// ```rhai
    /// let s = data::matrix([[0, 1], [0, 0]]).to_sparse();
    /// assert_eq(s.shape, [2, 2]);
    /// ```
    #[rhai_fn(global, name = "shape", get = "shape", pure)]
    pub fn sparse_shape(s: &mut Sparse) -> Array {
        shape_of(s.csr().rows(), s.csr().cols())
    }

    /// The number of rows.
    #[rhai_fn(global, name = "rows", get = "rows", pure)]
    pub fn sparse_rows(s: &mut Sparse) -> INT {
        s.csr().rows() as INT
    }

    /// The number of columns.
    #[rhai_fn(global, name = "cols", get = "cols", pure)]
    pub fn sparse_cols(s: &mut Sparse) -> INT {
        s.csr().cols() as INT
    }

    /// The number of stored (non-zero) values.
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[0, 1], [2, 0]]).to_sparse().nnz, 2);
    /// ```
    #[rhai_fn(global, name = "nnz", get = "nnz", pure)]
    pub fn sparse_nnz(s: &mut Sparse) -> INT {
        s.csr().nnz() as INT
    }

    /// Row `i`, densified, as an array of floats.
    ///
    /// Errors: `i` out of range.
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[0, 1], [2, 0]]).to_sparse().row(1), [2.0, 0.0]);
    /// ```
    #[rhai_fn(global, name = "row", return_raw, pure)]
    pub fn sparse_row(s: &mut Sparse, i: INT) -> RhaiResult<Array> {
        let csr = s.csr();
        let i = index(i, csr.rows(), "row")?;
        Ok(float_row((0..csr.cols()).map(|j| csr.get(i, j))))
    }

    /// The whole matrix, densified, as an array of rows.
    ///
    /// Errors: more than 16,777,216 cells.
    ///
    /// ```rhai
    /// assert_eq(data::matrix([[0, 1]]).to_sparse().to_array(), [[0.0, 1.0]]);
    /// ```
    #[rhai_fn(global, name = "to_array", return_raw, pure)]
    pub fn sparse_to_array(s: &mut Sparse) -> RhaiResult<Array> {
        let csr = s.csr();
        check_array_size(csr.rows(), csr.cols())?;
        Ok((0..csr.rows())
            .map(|i| Dynamic::from_array(float_row((0..csr.cols()).map(|j| csr.get(i, j)))))
            .collect())
    }

    /// The dense `Matrix` with the same values.
    ///
    /// ```rhai
    /// let m = data::matrix([[0, 1]]);
    /// assert_eq(m.to_sparse().to_dense().to_array(), m.to_array());
    /// ```
    #[rhai_fn(global, name = "to_dense", pure)]
    pub fn sparse_to_dense(s: &mut Sparse) -> Matrix {
        Matrix::new(s.csr().to_dense())
    }

    /// The non-zero values of a dense matrix as a CSR `Sparse`.
    #[rhai_fn(global, name = "to_sparse", pure)]
    pub fn matrix_to_sparse(m: &mut Matrix) -> Sparse {
        Sparse::new(crate::matrix::Csr::from_dense(m.values()))
    }

    /// Writes the matrix: `.safetensors` keeps it sparse (tensors `data`,
    /// `indices`, `indptr` and `shape` metadata, scipy's CSR layout); `.npy` and
    /// `.csv` write it densely.
    ///
    /// Errors: an unknown extension; a dense copy over 2^28 cells; the file
    /// cannot be written.
    ///
    /// ```rhai
    /// let path = data::temp_path("s.safetensors");
    /// data::matrix([[0, 1], [2, 0]]).to_sparse().save(path);
    /// assert_eq(data::load_matrix(path).nnz, 2);
    /// ```
    #[rhai_fn(global, name = "save", return_raw, pure)]
    pub fn sparse_save(s: &mut Sparse, path: &str) -> RhaiResult<()> {
        Ok(io::save_sparse(s, Path::new(path))?)
    }

    /// Shape, density and the top-left corner.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn sparse_describe(s: &mut Sparse) -> String {
        s.to_string()
    }

    /// Learns each column's mean and deviation from `x`; returns the scaler.
    ///
    /// Errors: no rows; NaN or infinite values.
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn scaler_fit(s: &mut StandardScaler, x: Matrix) -> RhaiResult<StandardScaler> {
        s.fit(&x)?;
        Ok(s.clone())
    }

    /// Learns each column's deviation from a sparse `x` (its zeros count);
    /// only without centring, as in scikit-learn.
    ///
    /// Errors: the scaler has `with_mean: true`; no rows; NaN or infinite values.
    ///
    /// ```rhai
    /// let x = text::count_vectorizer().fit_transform(["a cat cat", "a dog", "cat dog dog"]);
    /// let s = data::standard_scaler(#{ with_mean: false }).fit(x);
    /// assert_eq(s.transform(x).shape, [3, 2]);
    /// assert_eq(s.mean.len(), 2);
    /// ```
    #[rhai_fn(global, name = "fit", return_raw)]
    pub fn scaler_fit_sparse(s: &mut StandardScaler, x: Sparse) -> RhaiResult<StandardScaler> {
        s.fit_sparse(x.csr())?;
        Ok(s.clone())
    }

    /// `x` scaled with the fitted means and deviations (names kept).
    ///
    /// Errors: not fitted; another column count than the fit's.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn scaler_transform(s: &mut StandardScaler, x: Matrix) -> RhaiResult<Matrix> {
        Ok(s.transform(&x)?)
    }

    /// A sparse `x` divided by the fitted deviations; its zeros stay zeros.
    ///
    /// Errors: not fitted; a centring scaler; another column count than the fit's.
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn scaler_transform_sparse(s: &mut StandardScaler, x: Sparse) -> RhaiResult<Sparse> {
        Ok(Sparse::new(s.transform_sparse(x.csr())?))
    }

    /// `fit(x)` then `transform(x)`, sparse in and out.
    ///
    /// Errors: as `fit`.
    #[rhai_fn(global, name = "fit_transform", return_raw)]
    pub fn scaler_fit_transform_sparse(s: &mut StandardScaler, x: Sparse) -> RhaiResult<Sparse> {
        s.fit_sparse(x.csr())?;
        Ok(Sparse::new(s.transform_sparse(x.csr())?))
    }

    /// Each column's mean (`mean_`), or `()` when the scaler neither centres
    /// nor scales.
    ///
    /// Errors: not fitted.
    ///
    /// ```rhai
    /// let s = data::standard_scaler(#{}).fit(data::matrix([[1.0, 5.0], [3.0, 5.0]]));
    /// assert_eq(s.mean, [2.0, 5.0]);
    /// assert_eq(s.scale, [1.0, 1.0]);   // a constant column keeps scale 1
    /// ```
    #[rhai_fn(global, get = "mean", return_raw, pure)]
    pub fn scaler_mean(s: &mut StandardScaler) -> RhaiResult<Dynamic> {
        Ok(optional_floats(s.fitted()?.mean.as_deref()))
    }

    /// Each column's divisor (`scale_`: the population standard deviation, 1
    /// for a constant column), or `()` with `with_std: false`.
    ///
    /// Errors: not fitted.
    #[rhai_fn(global, get = "scale", return_raw, pure)]
    pub fn scaler_scale(s: &mut StandardScaler) -> RhaiResult<Dynamic> {
        Ok(optional_floats(s.fitted()?.scale.as_deref()))
    }

    /// `fit(x)` then `transform(x)`.
    ///
    /// Errors: as `fit`.
    #[rhai_fn(global, name = "fit_transform", return_raw)]
    pub fn scaler_fit_transform(s: &mut StandardScaler, x: Matrix) -> RhaiResult<Matrix> {
        s.fit(&x)?;
        Ok(s.transform(&x)?)
    }
}
