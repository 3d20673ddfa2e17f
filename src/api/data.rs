//! `data::` — reading movies and other tables, labels, matrices, joining
//! blocks, scaling, writing results, the seed ([`crate::data`],
//! [`crate::matrix`]).

use rhai::plugin::*;

#[export_module]
pub mod data_module {
    use std::path::Path;

    use rhai::{Array, Dynamic, INT, Map, NativeCallContext};

    use crate::api::convert::{
        RhaiResult, features, from_features, located, options, string_lists, strings, to_script,
        value,
    };
    use crate::api::session_rng;
    use crate::data::labels::BinarizerOptions;
    use crate::data::table::{self, CsvOptions};
    use crate::data::{Binarizer, Columns, Movies};
    use crate::error::Error;
    use crate::matrix::scale::{ScalerOptions, StandardScaler};
    use crate::matrix::{Matrix, features as blocks, io};

    /// Reads a movies CSV in the format of `shared/data/README.md`: one row per
    /// movie with the columns `id`, `title`, `genres` (`|`-separated), `overview`,
    /// and optionally `poster` (a path relative to the CSV), `split` and
    /// `release_date`; every other column is kept as is.
    ///
    /// Arguments: `path` — the CSV file.
    ///
    /// Errors: a missing file; an empty file; a missing column (the message lists
    /// the columns present); a malformed row or non-UTF-8 text (file and line);
    /// an empty or duplicate id (both lines).
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(movies.len(), 7128);
    /// assert_eq(movies.split("train").len(), 4276);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn movies(ctx: NativeCallContext, path: &str) -> RhaiResult<Movies> {
        movies_with_options(ctx, path, Map::new())
    }

    /// Reads a movies table whose columns have other names.
    ///
    /// Arguments: `path`; `options` — the column names (below).
    ///
    /// Errors: as `data::movies(path)`, plus a bad option (below).
    ///
    /// ```rhai
    /// let path = data::temp_path("renamed.csv");
    /// data::movies(DATA_DIR + "/movies/movies.csv").sample(3).save(path);
    /// let movies = data::movies(path, #{ genre_sep: "|", split: "split" });
    /// assert_eq(movies.len(), 3);
    /// ```
    #[rhai_fn(name = "movies", return_raw)]
    pub fn movies_with_options(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> RhaiResult<Movies> {
        located(&ctx, || {
            Movies::read_csv(Path::new(path), &self::options::<Columns>(options)?)
        })
    }

    /// Learns a fixed label order from genre lists (scikit-learn's
    /// `MultiLabelBinarizer`: labels sorted by name).
    ///
    /// Arguments: `genre_lists` — an array of arrays of strings, or a `Movies`.
    ///
    /// Errors: an element that is not an array of strings.
    ///
    /// ```rhai
    /// let b = data::binarizer([["Drama", "Crime"], ["Comedy"]]);
    /// assert_eq(b.names(), ["Comedy", "Crime", "Drama"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn binarizer(ctx: NativeCallContext, genre_lists: Array) -> RhaiResult<Binarizer> {
        binarizer_with_options(ctx, genre_lists, Map::new())
    }

    /// Learns a label order with options.
    ///
    /// Arguments: `genre_lists`; `options` (below).
    ///
    /// Errors: a bad option; no label left after `min_count`; a label
    /// twice in `order`.
    ///
    /// ```rhai
    /// let lists = [["Drama"], ["Drama", "War"], ["Comedy"], ["Comedy"]];
    /// let b = data::binarizer(lists, #{ min_count: 2 });
    /// assert_eq(b.names(), ["Comedy", "Drama"]);
    /// ```
    #[rhai_fn(name = "binarizer", return_raw)]
    pub fn binarizer_with_options(
        ctx: NativeCallContext,
        genre_lists: Array,
        options: Map,
    ) -> RhaiResult<Binarizer> {
        located(&ctx, || {
            let o: BinarizerOptions = self::options(options)?;
            let lists = string_lists(&genre_lists, "data::binarizer")?;
            Binarizer::fit(&lists, o.min_count, o.order)
        })
    }

    /// The label order of a movie set's genres.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(data::binarizer(movies).names().len(), 20);
    /// ```
    #[rhai_fn(name = "binarizer", return_raw)]
    pub fn binarizer_of_movies(ctx: NativeCallContext, movies: Movies) -> RhaiResult<Binarizer> {
        located(&ctx, || Binarizer::of_movies(&movies))
    }

    /// Seeds every random choice of the session (splits, samples, and later
    /// model initialisation). The generator is numpy's legacy `RandomState`,
    /// so `data::seed(0)` then `random_split(0.8)` gives the same mask as
    /// `np.random.seed(0); np.random.rand(n) < 0.8`. Scripts start seeded with 0.
    ///
    /// Arguments: `n` — an integer from 0 to 4294967295.
    ///
    /// Errors: a seed outside that range.
    ///
    /// ```rhai
    /// data::seed(7);
    /// let a = data::movies(DATA_DIR + "/movies/movies.csv").sample(3).ids();
    /// data::seed(7);
    /// let b = data::movies(DATA_DIR + "/movies/movies.csv").sample(3).ids();
    /// assert_eq(a, b);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn seed(ctx: NativeCallContext, n: INT) -> RhaiResult<()> {
        located(&ctx, || {
            let seed = u32::try_from(n).map_err(|_| {
                Error::invalid(format!(
                    "data::seed: the seed must be between 0 and 4294967295, got {n}"
                ))
            })?;
            *session_rng(&ctx)?.borrow_mut() = crate::data::NumpyRng::new(seed);
            crate::record::seed(seed);
            Ok(())
        })
    }

    /// Reads any CSV file into an array of maps, one per row, keyed by the
    /// header. Cells that look like integers or floats become numbers and
    /// empty cells become `()`, as pandas would read them.
    ///
    /// Arguments: `path`.
    ///
    /// Errors: a missing or empty file; a malformed row or non-UTF-8 text
    /// (file and line).
    ///
    /// ```rhai
    /// let rows = data::csv(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(rows[0].id, 5);
    /// assert_eq(rows[0].title, "Four Rooms");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn csv(ctx: NativeCallContext, path: &str) -> RhaiResult<Array> {
        csv_with_options(ctx, path, Map::new())
    }

    /// Reads a CSV file with options.
    ///
    /// Arguments: `path`; `options` (below).
    ///
    /// Errors: as `data::csv(path)`, plus a bad option.
    ///
    /// ```rhai
    /// let rows = data::csv(DATA_DIR + "/movies/movies.csv", #{ infer: false });
    /// assert_eq(rows[0].id, "5");
    /// ```
    #[rhai_fn(name = "csv", return_raw)]
    pub fn csv_with_options(ctx: NativeCallContext, path: &str, options: Map) -> RhaiResult<Array> {
        located(&ctx, || {
            let o: CsvOptions = self::options(options)?;
            Ok(to_script(&table::read_records(Path::new(path), &o)?)?.cast())
        })
    }

    /// Reads a JSON file: arrays become arrays, objects maps.
    ///
    /// Arguments: `path`.
    ///
    /// Errors: a missing file; a syntax error (file, line and column).
    ///
    /// ```rhai
    /// let genres = data::json(DATA_DIR + "/genres.json");
    /// assert_eq(genres[0].name, "Action");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn json(ctx: NativeCallContext, path: &str) -> RhaiResult<Dynamic> {
        located(&ctx, || to_script(&table::read_json(Path::new(path))?))
    }

    /// Loads a matrix written by `save` (or by numpy, safetensors, pandas):
    /// `.npy` and `.csv` give a `Matrix`; `.safetensors` gives a `Matrix`, or a
    /// `Sparse` when the file holds CSR arrays.
    ///
    /// Arguments: `path`.
    ///
    /// Errors: an unknown extension; a missing, truncated or non-numeric file.
    ///
    /// ```rhai
    /// let path = data::temp_path("corner.npy");
    /// data::matrix([[1.0, 2.0], [3.0, 4.5]]).save(path);
    /// let m = data::load_matrix(path);
    /// assert_eq(m.shape, [2, 2]);
    /// assert_eq(m.row(1), [3.0, 4.5]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_matrix(ctx: NativeCallContext, path: &str) -> RhaiResult<Dynamic> {
        located(&ctx, || Ok(from_features(io::load(Path::new(path))?)))
    }

    /// Builds a dense `Matrix` from an array of equally long rows of numbers.
    ///
    /// Arguments: `rows`.
    ///
    /// Errors: rows of different lengths; a value that is not a number.
    ///
    /// ```rhai
    /// let m = data::matrix([[1, 2, 3], [4, 5, 6]]);
    /// assert_eq(m.shape, [2, 3]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn matrix(ctx: NativeCallContext, rows: Array) -> RhaiResult<Matrix> {
        located(&ctx, || {
            blocks::from_rows(&rows.iter().map(value).collect::<Vec<_>>())
        })
    }

    /// Joins matrices side by side (`np.hstack`): every `Matrix` → a
    /// `Matrix`, every `Sparse` → a `Sparse`; early fusion of text and
    /// poster features.
    ///
    /// Errors: no blocks; blocks with different row counts (both shapes
    /// named); dense and sparse blocks mixed (densify on purpose with `to_dense()`).
    ///
    /// ```rhai
    /// let x = data::hstack([data::matrix([[1.0], [2.0]]), data::matrix([[3.0, 4.0], [5.0, 6.0]])]);
    /// assert_eq(x.shape, [2, 3]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hstack(ctx: NativeCallContext, blocks: Array) -> RhaiResult<Dynamic> {
        located(&ctx, || {
            let parts = blocks
                .iter()
                .enumerate()
                .map(|(i, b)| features(b, &format!("data::hstack: block {i}")))
                .collect::<crate::Result<Vec<_>>>()?;
            Ok(from_features(self::blocks::hstack(&parts)?))
        })
    }

    /// scikit-learn's `StandardScaler` (options below): `fit` on training
    /// rows, then `transform` any rows with those means and deviations.
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let s = data::standard_scaler(#{}).fit(data::matrix([[1.0, 10.0], [3.0, 10.0]]));
    /// assert_eq(s.transform(data::matrix([[2.0, 12.0]])).row(0), [0.0, 2.0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn standard_scaler(ctx: NativeCallContext, options: Map) -> RhaiResult<StandardScaler> {
        located(&ctx, || {
            Ok(StandardScaler::new(self::options::<ScalerOptions>(
                options,
            )?))
        })
    }

    /// Writes rows (maps) as CSV with a header: one column per name in
    /// `columns`, in that order; floats in full precision, `()` empty,
    /// fields quoted where needed. Atomic (temporary file + rename).
    ///
    /// Arguments: `path`; `rows` — an array of maps; `columns` — the keys to write.
    ///
    /// Errors: a row that is not a map or lacks a column (row and key
    /// named); a cell that is not a number, string, boolean or `()`; the
    /// file cannot be written.
    ///
    /// ```rhai
    /// let p = data::temp_path("rows.csv");
    /// data::write_csv(p, [#{ model: "D1", f1: 0.62 }, #{ model: "B, GloVe", f1: 0.58 }], ["model", "f1"]);
    /// assert_eq(data::csv(p)[1].model, "B, GloVe");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_csv(
        ctx: NativeCallContext,
        path: &str,
        rows: Array,
        columns: Array,
    ) -> RhaiResult<()> {
        located(&ctx, || {
            let columns = strings(&columns, "data::write_csv: columns")?;
            let rows: Vec<_> = rows.iter().map(value).collect();
            table::write_csv(Path::new(path), &rows, &columns)
        })
    }

    /// Writes a value (maps, arrays, strings, numbers, booleans, `()`) as
    /// indented JSON. Atomic (temporary file + rename).
    ///
    /// Errors: a value JSON cannot hold (a `Matrix`, say: use `.to_array()`),
    /// named with where it is (`value.results[2]`); the file cannot be
    /// written. NaN and infinities are written as null, with a warning.
    ///
    /// ```rhai
    /// let p = data::temp_path("result.json");
    /// data::write_json(p, #{ model: "D1", f1: 0.62, interval: [0.61, 0.63] });
    /// assert_eq(data::json(p).interval, [0.61, 0.63]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_json(ctx: NativeCallContext, path: &str, value: Dynamic) -> RhaiResult<()> {
        located(&ctx, || {
            table::write_json(Path::new(path), &self::value(&value))
        })
    }

    /// Creates a folder and any missing parents (like `mkdir -p`); returns its path.
    ///
    /// Errors: it cannot be created (a file is in the way, no permission).
    ///
    /// ```rhai
    /// let dir = data::mkdir(data::temp_path("figures/genres"));
    /// assert(dir.ends_with("genres"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mkdir(ctx: NativeCallContext, path: &str) -> RhaiResult<String> {
        located(&ctx, || {
            std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
            Ok(path.to_string())
        })
    }

    /// Writes `text` to a file (UTF-8), atomically: a temporary file renamed
    /// into place, so a failure never leaves half a file.
    ///
    /// Errors: the folder does not exist or cannot be written.
    ///
    /// ```rhai
    /// let p = data::temp_path("notes.txt");
    /// data::write_text(p, "hello\n");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_text(ctx: NativeCallContext, path: &str, text: &str) -> RhaiResult<()> {
        located(&ctx, || {
            crate::io_util::write_bytes_atomic(Path::new(path), text.as_bytes())
        })
    }

    /// A path for a scratch file in this process's own temporary folder
    /// (created on first use), for examples and throwaway outputs.
    ///
    /// Arguments: `name` — a file name.
    ///
    /// Errors: the temporary folder cannot be created.
    ///
    /// ```rhai
    /// let p = data::temp_path("x.csv");
    /// assert(p.ends_with("x.csv"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn temp_path(ctx: NativeCallContext, name: &str) -> RhaiResult<String> {
        located(&ctx, || crate::io_util::scratch_path(name))
    }
}
