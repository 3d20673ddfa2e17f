//! Methods of `Matrix`, `Sparse`, `Labels` and `Binarizer`.

use rhai::plugin::*;

use crate::data::{Binarizer, Labels};

pub(crate) fn transform_warning<S: AsRef<str>, L: AsRef<[S]>>(
    b: &Binarizer,
    lists: &[L],
) -> Labels {
    let lists: Vec<Vec<&str>> = lists
        .iter()
        .map(|l| l.as_ref().iter().map(AsRef::as_ref).collect())
        .collect();
    let (labels, unknown) = b.transform(&lists);
    if !unknown.is_empty() {
        let parts: Vec<String> = unknown.iter().map(|(l, n)| format!("{l} ({n})")).collect();
        eprintln!(
            "warning: transform ignored labels the binarizer was not fitted on: {}",
            parts.join(", ")
        );
    }
    labels
}

#[export_module]
pub mod matrix_methods {
    use std::path::Path;

    use rhai::{Array, Dynamic, INT, Map};

    use crate::api::convert::{RhaiResult, index, string_array, string_lists};
    use crate::data::{Binarizer, Labels, Movies};
    use crate::error::Error;
    use crate::matrix::{Matrix, Sparse, io};

    /// Largest matrix `to_array()` converts (a script array of this many
    /// values already takes ~400 MB).
    const MAX_ARRAY_CELLS: usize = 1 << 24;

    fn shape_of(rows: usize, cols: usize) -> Array {
        vec![
            Dynamic::from_int(rows as INT),
            Dynamic::from_int(cols as INT),
        ]
    }

    fn float_row(values: impl Iterator<Item = f32>) -> Array {
        values
            .map(|v| Dynamic::from_float(v as rhai::FLOAT))
            .collect()
    }

    fn check_array_size(rows: usize, cols: usize) -> RhaiResult<()> {
        if rows.saturating_mul(cols) > MAX_ARRAY_CELLS {
            return Err(Error::invalid(format!(
                "to_array: a {rows} × {cols} matrix is too large for a script array; use row(i) or save(path)"
            ))
            .into());
        }
        Ok(())
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
        m.row_names().map_or(Dynamic::UNIT, |n| {
            Dynamic::from_array(crate::api::convert::ids_array(
                &n.iter().map(String::as_str).collect::<Vec<_>>(),
            ))
        })
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

    /// The label names, in column order.
    ///
    /// ```rhai
    /// assert_eq(data::binarizer([["b", "a"]]).names(), ["a", "b"]);
    /// ```
    #[rhai_fn(global, name = "names", pure)]
    pub fn binarizer_names(b: &mut Binarizer) -> Array {
        string_array(b.names().iter().map(String::as_str))
    }

    /// The indicator matrix of genre lists. Labels the binarizer does not know
    /// are ignored, as scikit-learn does, with a warning that counts them.
    ///
    /// Arguments: `genre_lists` — an array of arrays of strings, or a `Movies`.
    ///
    /// Errors: an element that is not an array of strings.
    ///
    /// ```rhai
    /// let b = data::binarizer([["Drama", "Crime"], ["Comedy"]]);
    /// let y = b.transform([["Crime"], ["Drama", "Comedy"]]);
    /// assert_eq(y.to_array(), [[0, 1, 0], [1, 0, 1]]);
    /// ```
    #[rhai_fn(global, name = "transform", return_raw, pure)]
    pub fn binarizer_transform(b: &mut Binarizer, genre_lists: Array) -> RhaiResult<Labels> {
        let lists = string_lists(&genre_lists, "transform")?;
        Ok(super::transform_warning(b, &lists))
    }

    /// The indicator matrix of a movie set's genres.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// let train = movies.split("train");
    /// let y = data::binarizer(train).transform(train);
    /// assert_eq(y.shape, [4276, 20]);
    /// ```
    #[rhai_fn(global, name = "transform", pure)]
    pub fn binarizer_transform_movies(b: &mut Binarizer, movies: Movies) -> Labels {
        let lists: Vec<&[String]> = movies.genres().collect();
        super::transform_warning(b, &lists)
    }

    /// The number and names of the labels.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn binarizer_describe(b: &mut Binarizer) -> String {
        b.to_string()
    }

    /// `[movies, labels]`.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"]]).transform([["a"], ["a", "b"], []]);
    /// assert_eq(y.shape, [3, 2]);
    /// ```
    #[rhai_fn(global, name = "shape", get = "shape", pure)]
    pub fn labels_shape(y: &mut Labels) -> Array {
        shape_of(y.rows(), y.cols())
    }

    /// The number of movies (rows).
    #[rhai_fn(global, name = "rows", get = "rows", pure)]
    pub fn labels_rows(y: &mut Labels) -> INT {
        y.rows() as INT
    }

    /// The number of movies (rows), as for arrays.
    ///
    /// ```rhai
    /// assert_eq(data::binarizer([["a"]]).transform([["a"], []]).len(), 2);
    /// ```
    #[rhai_fn(global, name = "len", get = "len", pure)]
    pub fn labels_len(y: &mut Labels) -> INT {
        y.rows() as INT
    }

    /// The number of labels (columns).
    #[rhai_fn(global, name = "cols", get = "cols", pure)]
    pub fn labels_cols(y: &mut Labels) -> INT {
        y.cols() as INT
    }

    /// The label names, in column order.
    #[rhai_fn(global, name = "names", pure)]
    pub fn labels_names(y: &mut Labels) -> Array {
        string_array(y.names().iter().map(String::as_str))
    }

    /// Label name -> number of movies that have it.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"]]).transform([["a"], ["a", "b"]]);
    /// assert_eq(y.counts(), #{ a: 2, b: 1 });
    /// ```
    #[rhai_fn(global, name = "counts", pure)]
    pub fn labels_counts(y: &mut Labels) -> Map {
        y.names()
            .iter()
            .zip(y.counts())
            .map(|(n, c)| (n.as_str().into(), Dynamic::from_int(c as INT)))
            .collect()
    }

    /// The number of labels of each movie.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"]]).transform([["a"], ["a", "b"], []]);
    /// assert_eq(y.per_row(), [1, 2, 0]);
    /// ```
    #[rhai_fn(global, name = "per_row", pure)]
    pub fn labels_per_row(y: &mut Labels) -> Array {
        y.cardinality()
            .into_iter()
            .map(|c| Dynamic::from_int(c as INT))
            .collect()
    }

    /// Row `i` as an array of 0/1 integers.
    ///
    /// Errors: `i` out of range.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"]]).transform([["b"]]);
    /// assert_eq(y.row(0), [0, 1]);
    /// ```
    #[rhai_fn(global, name = "row", return_raw, pure)]
    pub fn labels_row(y: &mut Labels, i: INT) -> RhaiResult<Array> {
        let i = index(i, y.rows(), "row")?;
        Ok(y.values()
            .row(i)
            .iter()
            .map(|&v| Dynamic::from_int(v as INT))
            .collect())
    }

    /// The label names set on row `i`.
    ///
    /// Errors: `i` out of range.
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"]]).transform([["b", "a"]]);
    /// assert_eq(y.row_names(0), ["a", "b"]);
    /// ```
    #[rhai_fn(global, name = "row_names", return_raw, pure)]
    pub fn labels_row_names(y: &mut Labels, i: INT) -> RhaiResult<Array> {
        let i = index(i, y.rows(), "row_names")?;
        Ok(string_array(y.row_names(i)))
    }

    /// The indicator matrix as an array of rows of 0/1 integers.
    ///
    /// Errors: more than 16,777,216 cells.
    #[rhai_fn(global, name = "to_array", return_raw, pure)]
    pub fn labels_to_array(y: &mut Labels) -> RhaiResult<Array> {
        check_array_size(y.rows(), y.cols())?;
        Ok(y.values()
            .rows()
            .into_iter()
            .map(|r| Dynamic::from_array(r.iter().map(|&v| Dynamic::from_int(v as INT)).collect()))
            .collect())
    }

    /// The indicator matrix as a float `Matrix` with the label names as
    /// column names (to save it, or to feed it where numbers are expected).
    ///
    /// ```rhai
    /// let y = data::binarizer([["a"], ["b"]]).transform([["b"]]);
    /// assert_eq(y.to_matrix().names(), ["a", "b"]);
    /// ```
    #[rhai_fn(global, name = "to_matrix", return_raw, pure)]
    pub fn labels_to_matrix(y: &mut Labels) -> RhaiResult<Matrix> {
        Ok(Matrix::new(y.values().mapv(f32::from)).with_names(None, Some(y.names().to_vec()))?)
    }

    /// Shape and the count of each label.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn labels_describe(y: &mut Labels) -> String {
        y.to_string()
    }
}
