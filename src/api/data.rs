//! `data::` — reading movies and other tables, labels, matrices, the seed.

use std::path::Path;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::convert::string_lists;
use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Schema};
use crate::data::{Binarizer, table};
use crate::error::Result;

pub static BINARIZER: Schema = Schema::new(
    "data::binarizer",
    &[&[
        Opt::new(
            "min_count",
            Kind::Int(Bounds::NON_NEGATIVE),
            D::Int(1),
            "drop labels seen fewer times",
        ),
        Opt::new(
            "order",
            Kind::Texts,
            D::None,
            "label names fixing the order and the label set (default: sorted by name)",
        ),
    ]],
);

fn one_ascii_char(v: &Dynamic) -> bool {
    v.read_lock::<rhai::ImmutableString>()
        .is_some_and(|s| s.len() == 1 && s.is_ascii())
}

pub static CSV: Schema = Schema::new(
    "data::csv",
    &[&[
        Opt::new(
            "delimiter",
            Kind::Value {
                expected: "one ASCII character",
                check: one_ascii_char,
            },
            D::Text(","),
            "the field separator; \"\\t\" for TSV",
        ),
        Opt::new(
            "infer",
            Kind::Bool,
            D::Bool(true),
            "false keeps every cell a string",
        ),
    ]],
);

const COLUMN: Kind = Kind::Value {
    expected: "a non-empty column name",
    check: non_empty_string,
};

fn non_empty_string(v: &Dynamic) -> bool {
    v.read_lock::<rhai::ImmutableString>()
        .is_some_and(|s| !s.is_empty())
}

pub static MOVIES: Schema = Schema::new(
    "data::movies",
    &[&[
        Opt::new("id", COLUMN, D::Text("id"), "column of the movie id"),
        Opt::new("title", COLUMN, D::Text("title"), "column of the title"),
        Opt::new(
            "overview",
            COLUMN,
            D::Text("overview"),
            "column of the plot summary",
        ),
        Opt::new(
            "genres",
            COLUMN,
            D::Text("genres"),
            "column of the genre list",
        ),
        Opt::new(
            "poster",
            COLUMN,
            D::Text("poster"),
            "column of the poster path",
        ),
        Opt::new(
            "split",
            COLUMN,
            D::Text("split"),
            "column of the train/dev/test split",
        ),
        Opt::new(
            "release_date",
            COLUMN,
            D::Text("release_date"),
            "column of the release date",
        ),
        Opt::new(
            "genre_sep",
            COLUMN,
            D::Text("|"),
            "the separator between genres",
        ),
    ]],
);

pub static SCHEMAS: &[&Schema] = &[&BINARIZER, &CSV, &MOVIES];

fn fit_binarizer(genre_lists: &Array, options: Map) -> Result<Binarizer> {
    let opts = BINARIZER.parse(options)?;
    let lists = string_lists(genre_lists, "data::binarizer")?;
    Binarizer::fit(&lists, opts.usize("min_count")?, opts.opt_texts("order")?)
}

/// `data::csv`: rows as maps keyed by the header.
fn read_rows(path: &str, options: Map) -> Result<Array> {
    let opts = CSV.parse(options)?;
    let delimiter = opts.text("delimiter")?.as_bytes()[0];
    let infer = opts.flag("infer")?;
    let table = table::read_csv(Path::new(path), delimiter, infer)?;
    let keys = &table.header;
    Ok(table
        .rows
        .into_iter()
        .map(|row| {
            let map: Map = keys
                .iter()
                .map(|k| k.as_str().into())
                .zip(row.into_iter().map(|cell| match cell {
                    table::Cell::Empty => Dynamic::UNIT,
                    table::Cell::Int(i) => Dynamic::from_int(i),
                    table::Cell::Float(x) => Dynamic::from_float(x),
                    table::Cell::Text(s) => s.into(),
                }))
                .collect();
            Dynamic::from_map(map)
        })
        .collect())
}

#[export_module]
pub mod data_module {
    use std::path::Path;

    use rhai::{Array, Dynamic, INT, Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, number, type_of};
    use crate::api::session_rng;
    use crate::data::{Binarizer, Columns, Movies, table};
    use crate::error::Error;
    use crate::matrix::{Matrix, io};

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
        located(&ctx, || {
            Movies::read_csv(Path::new(path), &Columns::default())
        })
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
            let opts = super::MOVIES.parse(options)?;
            let columns = Columns {
                id: opts.text("id")?,
                title: opts.text("title")?,
                overview: opts.text("overview")?,
                genres: opts.text("genres")?,
                poster: opts.text("poster")?,
                split: opts.text("split")?,
                release_date: opts.text("release_date")?,
                genre_separator: opts.text("genre_sep")?,
            };
            Movies::read_csv(Path::new(path), &columns)
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
        located(&ctx, || super::fit_binarizer(&genre_lists, Map::new()))
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
        located(&ctx, || super::fit_binarizer(&genre_lists, options))
    }

    /// The label order of a movie set's genres.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    /// assert_eq(data::binarizer(movies).names().len(), 20);
    /// ```
    #[rhai_fn(name = "binarizer", return_raw)]
    pub fn binarizer_of_movies(ctx: NativeCallContext, movies: Movies) -> RhaiResult<Binarizer> {
        located(&ctx, || {
            let lists: Vec<Vec<String>> = movies.genres().map(<[String]>::to_vec).collect();
            Binarizer::fit(&lists, 1, None)
        })
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
        located(&ctx, || super::read_rows(path, Map::new()))
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
        located(&ctx, || super::read_rows(path, options))
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
        located(&ctx, || {
            let value = table::read_json(Path::new(path))?;
            rhai::serde::to_dynamic(value).map_err(|e| Error::invalid(format!("data::json: {e}")))
        })
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
        located(&ctx, || {
            Ok(match io::load(Path::new(path))? {
                io::Loaded::Dense(m) => Dynamic::from(m),
                io::Loaded::Sparse(s) => Dynamic::from(s),
            })
        })
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
            let width = rows
                .first()
                .and_then(|r| r.read_lock::<Array>().map(|a| a.len()))
                .unwrap_or(0);
            let mut values = Vec::with_capacity(rows.len() * width);
            for (i, row) in rows.iter().enumerate() {
                let row = row.read_lock::<Array>().ok_or_else(|| {
                    Error::invalid(format!(
                        "data::matrix: row {i} is {}, expected an array",
                        type_of(row)
                    ))
                })?;
                if row.len() != width {
                    return Err(Error::invalid(format!(
                        "data::matrix: row {i} has {} values, row 0 has {width}",
                        row.len()
                    )));
                }
                for (j, v) in row.iter().enumerate() {
                    values.push(number(v, &format!("data::matrix: value [{i}][{j}]"))? as f32);
                }
            }
            let array = ndarray::Array2::from_shape_vec((rows.len(), width), values)
                .map_err(|e| Error::invalid(format!("data::matrix: {e}")))?;
            Ok(Matrix::new(array))
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
            crate::io_util::write_bytes_atomic(std::path::Path::new(path), text.as_bytes())
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
        located(&ctx, || {
            let dir = std::env::temp_dir().join(format!("genrelab-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            Ok(dir.join(name).to_string_lossy().into_owned())
        })
    }
}
