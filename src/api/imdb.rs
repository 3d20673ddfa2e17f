//! `imdb::` — IMDb's title.basics and the TMDB/IMDb genre comparison
//! ([`crate::imdb`]).

use rhai::plugin::*;

#[export_module]
pub mod imdb_module {
    use std::path::Path;

    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options, to_map};
    use crate::data::Movies;
    use crate::imdb::{BasicsOptions, BasicsRef};

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
    pub fn basics(ctx: NativeCallContext, path: &str) -> RhaiResult<BasicsRef> {
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
    pub fn basics_with(ctx: NativeCallContext, path: &str, options: Map) -> RhaiResult<BasicsRef> {
        located(&ctx, || {
            BasicsRef::read(Path::new(path), &self::options::<BasicsOptions>(options)?)
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
        basics: BasicsRef,
    ) -> RhaiResult<Map> {
        located(&ctx, || to_map(&basics.genres_of(&movies)?))
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
    pub fn compare(ctx: NativeCallContext, movies: Movies, basics: BasicsRef) -> RhaiResult<Map> {
        located(&ctx, || to_map(&basics.compare(&movies)?))
    }
}

#[export_module]
pub mod imdb_methods {
    use crate::imdb::BasicsRef;

    /// Number of titles read.
    #[rhai_fn(global, name = "len", get = "len", pure)]
    pub fn len(b: &mut BasicsRef) -> i64 {
        b.0.len() as i64
    }

    /// A short description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(b: &mut BasicsRef) -> String {
        format!("ImdbBasics ({} titles)", b.0.len())
    }
}
