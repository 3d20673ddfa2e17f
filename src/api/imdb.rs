//! `imdb::` — IMDb's title.basics and the TMDB/IMDb genre comparison.

use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::schema::{DefaultValue as D, Kind, Opt, Schema};
use crate::data::Movies;
use crate::error::{Error, Result};
use crate::imdb::{self, Basics};

pub static BASICS: Schema = Schema::new(
    "imdb::basics",
    &[&[Opt::new(
        "title_type",
        Kind::Text,
        D::None,
        "keep one titleType (\"movie\", \"tvSeries\", …); default: every title",
    )]],
);

pub static SCHEMAS: &[&Schema] = &[&BASICS];

/// title.basics as scripts hold it (shared, never copied).
#[derive(Clone)]
pub struct BasicsHandle(pub Arc<Basics>);

fn imdb_ids(movies: &Movies) -> Result<Vec<&str>> {
    movies.column_named("imdb_id").ok_or_else(|| {
        Error::invalid(
            "imdb: these movies have no 'imdb_id' column (shared/data's movies.csv has one)",
        )
    })
}

fn comparison_map(c: &imdb::Comparison) -> Map {
    let per: Array = c
        .per_genre
        .iter()
        .map(|g| {
            let mut m = Map::new();
            m.insert("genre".into(), g.genre.clone().into());
            m.insert("tmdb".into(), (g.tmdb as i64).into());
            m.insert("imdb".into(), (g.imdb as i64).into());
            m.insert("both".into(), (g.both as i64).into());
            let union = g.tmdb + g.imdb - g.both;
            m.insert(
                "agreement".into(),
                Dynamic::from_float(if union == 0 {
                    1.0
                } else {
                    g.both as f64 / union as f64
                }),
            );
            m.into()
        })
        .collect();
    let mut m = Map::new();
    m.insert("matched".into(), (c.matched as i64).into());
    m.insert("unmatched".into(), (c.unmatched as i64).into());
    m.insert("identical".into(), (c.identical as i64).into());
    m.insert("mean_jaccard".into(), Dynamic::from_float(c.mean_jaccard));
    m.insert("per_genre".into(), per.into());
    m.insert(
        "imdb_only".into(),
        c.imdb_only
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from_int(*v as i64)))
            .collect::<Map>()
            .into(),
    );
    m
}

#[export_module]
pub mod imdb_module {
    use std::path::Path;
    use std::sync::Arc;

    use rhai::{Map, NativeCallContext};

    use super::BasicsHandle;
    use crate::api::convert::{RhaiResult, located};
    use crate::data::Movies;

    /// IMDb's official `title.basics.tsv.gz` (or the unpacked `.tsv`), from
    /// https://datasets.imdbws.com/, read as a stream (gzip detected from the
    /// bytes), all title types.
    ///
    /// Errors: a missing file; a file without title.basics' columns; a
    /// malformed line (named by number); a truncated gzip.
    ///
    /// ```rhai
    /// let path = data::temp_path("basics.tsv");
    /// data::write_text(path, "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\ntt0133093\tmovie\tThe Matrix\tThe Matrix\t0\t1999\t\\N\t136\tAction,Sci-Fi\n");
    /// assert_eq(imdb::basics(path).len(), 1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn basics(ctx: NativeCallContext, path: &str) -> RhaiResult<BasicsHandle> {
        basics_with(ctx, path, Map::new())
    }

    /// title.basics keeping one `title_type` (`"movie"`, `"tvSeries"`, …).
    ///
    /// Errors: as `imdb::basics(path)`, plus a bad option.
    ///
    /// ```rhai
    /// let path = data::temp_path("basics2.tsv");
    /// data::write_text(path, "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\ntt1\tshort\tA\tA\t0\t1894\t\\N\t1\tShort\ntt2\tmovie\tB\tB\t0\t1999\t\\N\t90\tDrama\n");
    /// assert_eq(imdb::basics(path, #{ title_type: "movie" }).len(), 1);
    /// ```
    #[rhai_fn(name = "basics", return_raw)]
    pub fn basics_with(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> RhaiResult<BasicsHandle> {
        located(&ctx, || {
            let opts = super::BASICS.parse(options)?;
            let kind = opts.opt_text("title_type")?;
            Ok(BasicsHandle(Arc::new(crate::imdb::read_basics(
                Path::new(path),
                kind.as_deref(),
            )?)))
        })
    }

    /// IMDb's genres for each movie, by TMDB id (`()` for a movie whose
    /// `imdb_id` is empty or not in `basics`), as IMDb names them.
    ///
    /// Errors: movies without an `imdb_id` column.
    ///
    /// ```rhai
    /// let movies = data::movies(DATA_DIR + "/movies/movies.csv").sample(3);
    /// let path = data::temp_path("basics3.tsv");
    /// data::write_text(path, "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\n");
    /// let g = imdb::attach_genres(movies, imdb::basics(path));
    /// assert_eq(g.len(), 3);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn attach_genres(
        ctx: NativeCallContext,
        movies: Movies,
        basics: BasicsHandle,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            let ids = super::imdb_ids(&movies)?;
            Ok(movies
                .ids()
                .zip(ids)
                .map(|(id, tt)| {
                    let genres = basics.0.get(tt).map_or(Dynamic::UNIT, |t| {
                        crate::api::convert::string_array(t.genres.iter().map(String::as_str))
                            .into()
                    });
                    (id.into(), genres)
                })
                .collect())
        })
    }

    /// The report's TMDB-vs-IMDb comparison: IMDb genres mapped to TMDB's
    /// names (Sci-Fi → Science Fiction, Musical → Music; Biography, Sport, …
    /// have no TMDB counterpart and are counted in `imdb_only`), then per
    /// movie the two sets compared. Returns `matched`, `unmatched`,
    /// `identical` (equal sets), `mean_jaccard`, `per_genre` (`genre`,
    /// `tmdb`, `imdb`, `both`, `agreement` = both / either) and `imdb_only`.
    ///
    /// Errors: movies without an `imdb_id` column.
    ///
    /// ```rhai
    /// let path = data::temp_path("basics4.tsv");
    /// data::write_text(path, "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\n");
    /// let c = imdb::compare(data::movies(DATA_DIR + "/movies/movies.csv").sample(5), imdb::basics(path));
    /// assert_eq(c.unmatched, 5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn compare(
        ctx: NativeCallContext,
        movies: Movies,
        basics: BasicsHandle,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            let ids = super::imdb_ids(&movies)?;
            let genres: Vec<&[String]> = movies.genres().collect();
            let c = crate::imdb::compare(ids.into_iter().zip(genres), &basics.0);
            Ok(super::comparison_map(&c))
        })
    }
}

#[export_module]
pub mod imdb_methods {
    use super::BasicsHandle;

    /// Number of titles read.
    #[rhai_fn(global, name = "len", get = "len", pure)]
    pub fn len(b: &mut BasicsHandle) -> i64 {
        b.0.len() as i64
    }

    /// A short description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(b: &mut BasicsHandle) -> String {
        format!("ImdbBasics ({} titles)", b.0.len())
    }
}
