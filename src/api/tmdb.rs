//! `tmdb::` — the TMDB client, endpoints, poster downloads and the dataset
//! job ([`crate::tmdb::handle`]).

use rhai::plugin::*;

#[export_module]
pub mod tmdb_module {
    use rhai::{Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, options, to_map};
    use crate::tmdb::handle::{BuildOptions, ClientOptions, TmdbRef};

    /// A TMDB client with the credentials of the environment:
    /// `TMDB_ACCESS_TOKEN` (a v4 read access token, sent as a Bearer header)
    /// or `TMDB_API_KEY` (a v3 key, sent as `api_key`).
    ///
    /// Errors: neither variable is set.
    ///
    /// ```rhai
    /// try {
    ///     let client = tmdb::client();          // with TMDB_API_KEY or TMDB_ACCESS_TOKEN set
    /// } catch (e) {
    ///     assert(e.contains("set TMDB_API_KEY"));
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn client(ctx: NativeCallContext) -> RhaiResult<TmdbRef> {
        client_with(ctx, Map::new())
    }

    /// A TMDB client with options (below). The key or token never appears in
    /// printed values, errors or the cache.
    ///
    /// Errors: no credentials; a bad option.
    ///
    /// ```rhai
    /// let client = tmdb::client(#{ api_key: "not-a-real-key", base_url: "http://127.0.0.1:9", retries: 0, timeout: 1 });
    /// assert(!client.to_string().contains("not-a-real-key"));
    /// try { client.genres(); } catch (e) { assert(e.contains("no response after 1 attempts")); }
    /// ```
    #[rhai_fn(name = "client", return_raw)]
    pub fn client_with(ctx: NativeCallContext, options: Map) -> RhaiResult<TmdbRef> {
        located(&ctx, || {
            TmdbRef::new(&self::options::<ClientOptions>(options)?)
        })
    }

    /// The seed's dataset, as a resumable job: `popular_pages` pages of
    /// popular (or top-rated) movies, then `per_genre_pages` `discover` pages
    /// per genre (per year of `years` when given), de-duplicated by id;
    /// movies without an overview or a poster dropped and counted; posters
    /// downloaded into `out_dir/posters`; and `out_dir/movies.csv` written in
    /// shared/data's format with a 60/10/30 train/dev/test split stratified
    /// on genres, so every other script runs on it. Progress is saved after
    /// each page: a run that was killed or failed, run again, fetches only
    /// what is missing.
    /// Returns `movies`, `seen`, `dropped_no_overview`, `dropped_no_poster`,
    /// `poster_failures`, `csv`.
    ///
    /// Errors: a bad option (no `out_dir`, say); TMDB errors (after retries);
    /// Ctrl-C (progress kept).
    ///
    /// ```rhai
    /// let client = tmdb::client(#{ api_key: "k", base_url: "http://127.0.0.1:9", retries: 0, timeout: 1 });
    /// try {
    ///     tmdb::build_dataset(client, #{ out_dir: data::temp_path("dataset"), popular_pages: 1 });
    /// } catch (e) {
    ///     assert(e.contains("genre/movie/list"));
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn build_dataset(ctx: NativeCallContext, client: TmdbRef, options: Map) -> RhaiResult<Map> {
        located(&ctx, || {
            let o: BuildOptions = self::options(options)?;
            to_map(&client.build_dataset(&o)?)
        })
    }
}

fn page(p: i64) -> u32 {
    p.clamp(0, u32::MAX as i64) as u32
}

fn params(map: &rhai::Map) -> crate::Result<Vec<(String, String)>> {
    use crate::api::convert::value;
    crate::tmdb::handle::query(&map.iter().map(|(k, v)| (k.to_string(), value(v))).collect())
}

#[export_module]
pub mod tmdb_methods {
    use rhai::{Array, Dynamic, Map};

    use crate::api::convert::{RhaiResult, options, to_map, to_script, value};
    use crate::tmdb::handle::{DownloadOptions, SearchOptions, TmdbRef};

    /// `GET /configuration`: image base URLs and sizes.
    #[rhai_fn(global, name = "configuration", return_raw, pure)]
    pub fn configuration(c: &mut TmdbRef) -> RhaiResult<Dynamic> {
        Ok(to_script(&c.0.configuration()?)?)
    }

    /// Movie genres as a map name → id.
    #[rhai_fn(global, name = "genres", return_raw, pure)]
    pub fn genres(c: &mut TmdbRef) -> RhaiResult<Map> {
        Ok(c.0
            .genres()?
            .into_iter()
            .map(|(id, name)| (name.into(), Dynamic::from_int(id)))
            .collect())
    }

    /// One page of popular movies (TMDB's page map: `results`, `total_pages`, …).
    #[rhai_fn(global, name = "popular", return_raw, pure)]
    pub fn popular(c: &mut TmdbRef, page: i64) -> RhaiResult<Dynamic> {
        Ok(to_script(&c.0.page(
            "movie/popular",
            super::page(page),
            &[],
        )?)?)
    }

    /// One page of top-rated movies.
    #[rhai_fn(global, name = "top_rated", return_raw, pure)]
    pub fn top_rated(c: &mut TmdbRef, page: i64) -> RhaiResult<Dynamic> {
        Ok(to_script(&c.0.page(
            "movie/top_rated",
            super::page(page),
            &[],
        )?)?)
    }

    /// `GET /discover/movie` with any TMDB parameters (`with_genres`,
    /// `primary_release_year`, `sort_by`, `page`, …).
    #[rhai_fn(global, name = "discover", return_raw, pure)]
    pub fn discover(c: &mut TmdbRef, params: Map) -> RhaiResult<Dynamic> {
        let q = super::params(&params)?;
        let page = q
            .iter()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        Ok(to_script(&c.0.page("discover/movie", page, &q)?)?)
    }

    /// The results of pages `first` to `last` of a list (`"movie/popular"`,
    /// `"discover/movie"`, …) with `params`, stopping at the list's last page
    /// and at TMDB's cap of 500.
    #[rhai_fn(global, name = "pages", return_raw, pure)]
    pub fn pages(
        c: &mut TmdbRef,
        path: &str,
        first: i64,
        last: i64,
        params: Map,
    ) -> RhaiResult<Array> {
        let q = super::params(&params)?;
        let results =
            c.0.pages(path, first.max(1) as u32, super::page(last), &q)?;
        Ok(to_script(&results)?.cast())
    }

    /// `GET /movie/{id}`: details.
    #[rhai_fn(global, name = "movie", return_raw, pure)]
    pub fn movie(c: &mut TmdbRef, id: i64) -> RhaiResult<Dynamic> {
        Ok(to_script(&c.0.movie(id)?)?)
    }

    /// `GET /search/movie` for a title.
    #[rhai_fn(global, name = "search", return_raw, pure)]
    pub fn search(c: &mut TmdbRef, title: &str) -> RhaiResult<Dynamic> {
        search_with(c, title, Map::new())
    }

    /// `GET /search/movie` for a title with options (below).
    ///
    /// Errors: a bad option; TMDB errors.
    #[rhai_fn(global, name = "search", return_raw, pure)]
    pub fn search_with(c: &mut TmdbRef, title: &str, options: Map) -> RhaiResult<Dynamic> {
        let o: SearchOptions = self::options(options)?;
        Ok(to_script(&c.0.search(title, o.year)?)?)
    }

    /// `GET /find/{imdb_id}?external_source=imdb_id`.
    #[rhai_fn(global, name = "find_imdb", return_raw, pure)]
    pub fn find_imdb(c: &mut TmdbRef, imdb_id: &str) -> RhaiResult<Dynamic> {
        Ok(to_script(&c.0.find_imdb(imdb_id)?)?)
    }

    /// Downloads posters of TMDB results (maps with `id`, `poster_path`) or
    /// of `Movies` (looked up by id) to `dir/<id>.jpg` (options below).
    /// Existing files are skipped; writes are atomic. Returns `downloaded`, `skipped`, `failed`
    /// (id and error of each); failures are also printed.
    #[rhai_fn(global, name = "download_posters", return_raw, pure)]
    pub fn download_posters(c: &mut TmdbRef, items: Dynamic, options: Map) -> RhaiResult<Map> {
        let o: DownloadOptions = self::options(options)?;
        Ok(to_map(&c.download_posters(&value(&items), &o)?)?)
    }

    /// Requests sent and cache hits so far: `#{ requests, cache_hits }`.
    #[rhai_fn(global, get = "stats", return_raw, pure)]
    pub fn stats(c: &mut TmdbRef) -> RhaiResult<Map> {
        Ok(to_map(&c.stats())?)
    }

    /// The client's settings, credentials masked.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(c: &mut TmdbRef) -> String {
        c.to_string()
    }
}
