//! Methods of `Labels` and `Binarizer`.

use rhai::plugin::*;

#[export_module]
pub mod labels_methods {
    use rhai::{Array, Dynamic, INT, Map};

    use crate::api::convert::{RhaiResult, index, string_array, string_lists};
    use crate::api::matrix::{check_array_size, shape_of};
    use crate::data::{Binarizer, Labels, Movies};
    use crate::matrix::Matrix;

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
        Ok(b.transform_warning(&string_lists(&genre_lists, "transform")?))
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
        b.transform_warning(&movies.genres().collect::<Vec<_>>())
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
