//! `tmdb::` — the TMDB client, endpoints, poster downloads and the dataset job.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Parsed, Schema};
use crate::data::Movies;
use crate::error::{Error, Result};
use crate::tmdb::dataset::DatasetOptions;
use crate::tmdb::{Client, Config, Secret};

/// A client as scripts hold it (shared by every copy).
#[derive(Clone)]
pub struct TmdbHandle(pub Arc<Client>);

const SECONDS: Kind = Kind::Number(Bounds::NON_NEGATIVE);
const CONCURRENCY: Opt = Opt::new(
    "concurrency",
    Kind::Int(Bounds::POSITIVE_INT),
    D::Int(8),
    "downloads at a time, all under the client's rate",
);

pub static CLIENT: Schema = Schema::new(
    "tmdb::client",
    &[&[
        Opt::new(
            "api_key",
            Kind::Text,
            D::Described("$TMDB_API_KEY"),
            "the v3 API key; never printed, logged or cached",
        ),
        Opt::new(
            "access_token",
            Kind::Text,
            D::Described("$TMDB_ACCESS_TOKEN"),
            "a v4 read access token instead of the key (sent as Bearer)",
        ),
        Opt::new(
            "base_url",
            Kind::Text,
            D::Described("$TMDB_BASE_URL or https://api.themoviedb.org/3"),
            "for tests and proxies",
        ),
        Opt::new(
            "image_base_url",
            Kind::Text,
            D::Described("$TMDB_IMAGE_BASE_URL or configuration()'s"),
            "where posters come from",
        ),
        Opt::new(
            "language",
            Kind::Text,
            D::None,
            "TMDB's language parameter, e.g. \"en-US\"",
        ),
        Opt::new(
            "rate",
            Kind::Number(Bounds::POSITIVE),
            D::Float(40.0),
            "requests per second across all threads",
        ),
        Opt::new(
            "cache_dir",
            Kind::Text,
            D::None,
            "responses kept on disk by URL without credentials: a rerun costs no requests",
        ),
        Opt::new("timeout", SECONDS, D::Float(15.0), "seconds per request"),
        Opt::new(
            "retries",
            Kind::Int(Bounds::NON_NEGATIVE),
            D::Int(4),
            "for 5xx, 429, timeouts and refused connections",
        ),
        Opt::new(
            "backoff",
            SECONDS,
            D::Float(0.5),
            "first retry delay in seconds, doubling, with jitter",
        ),
    ]],
);

pub static BUILD_DATASET: Schema = Schema::new(
    "tmdb::build_dataset",
    &[&[
        Opt::new(
            "out_dir",
            Kind::Text,
            D::Required,
            "where movies.csv, posters/ and the build state go",
        ),
        Opt::new(
            "list",
            Kind::Choice(&["popular", "top_rated"]),
            D::Text("popular"),
            "the list paged first",
        ),
        Opt::new(
            "popular_pages",
            Kind::Int(Bounds::within(0.0, 500.0)),
            D::Int(50),
            "pages of that list",
        ),
        Opt::new(
            "per_genre_pages",
            Kind::Int(Bounds::within(0.0, 500.0)),
            D::Int(5),
            "discover pages per genre (per year of years)",
        ),
        Opt::new(
            "years",
            Kind::Ints(Bounds::within(1870.0, 2100.0)),
            D::Described("none"),
            "discover per genre and year",
        ),
        Opt::new(
            "require_overview",
            Kind::Bool,
            D::Bool(true),
            "drop (and count) movies without an overview",
        ),
        Opt::new(
            "require_poster",
            Kind::Bool,
            D::Bool(true),
            "drop movies without a poster, also when its download fails",
        ),
        Opt::new(
            "posters",
            Kind::Bool,
            D::Bool(true),
            "false: a text-only set like shared/data's tmdb-text",
        ),
        Opt::new(
            "poster_size",
            Kind::Text,
            D::Text("w185"),
            "TMDB's poster size",
        ),
        Opt::new(
            "imdb_ids",
            Kind::Bool,
            D::Bool(false),
            "fill the imdb_id column (one request per movie), for imdb::compare",
        ),
        CONCURRENCY,
    ]],
);

pub static SEARCH: Schema = Schema::new(
    "TmdbClient.search",
    &[&[Opt::new(
        "year",
        Kind::Int(Bounds::within(1870.0, 2100.0)),
        D::None,
        "the release year",
    )]],
);

pub static DOWNLOAD_POSTERS: Schema = Schema::new(
    "TmdbClient.download_posters",
    &[&[
        Opt::new(
            "dir",
            Kind::Text,
            D::Required,
            "the folder the posters go to, as <id>.jpg",
        ),
        Opt::new(
            "size",
            Kind::Text,
            D::Text("w185"),
            "TMDB's poster size, checked against configuration()",
        ),
        CONCURRENCY,
    ]],
);

pub static SCHEMAS: &[&Schema] = &[&CLIENT, &BUILD_DATASET, &SEARCH, &DOWNLOAD_POSTERS];

pub fn client(opts: &Parsed) -> Result<TmdbHandle> {
    let mut c = Config::default();
    if let Some(k) = opts.opt_text("api_key")? {
        c.api_key = Some(Secret::new(k));
    }
    if let Some(t) = opts.opt_text("access_token")? {
        c.access_token = Some(Secret::new(t));
    }
    if let Some(u) = opts.opt_text("base_url")? {
        c.base_url = u;
    }
    if let Some(u) = opts.opt_text("image_base_url")? {
        c.image_base_url = Some(u);
    }
    if let Some(l) = opts.opt_text("language")? {
        c.language = Some(l);
    }
    c.rate = opts.float("rate")?;
    c.cache_dir = opts.opt_text("cache_dir")?.map(PathBuf::from);
    c.timeout = Duration::from_secs_f64(opts.float("timeout")?);
    c.backoff = Duration::from_secs_f64(opts.float("backoff")?);
    c.retries = opts.usize("retries")?.min(u32::MAX as usize) as u32;
    Ok(TmdbHandle(Arc::new(Client::new(c)?)))
}

pub fn to_dynamic(v: Value) -> Result<Dynamic> {
    rhai::serde::to_dynamic(v).map_err(|e| Error::invalid(format!("tmdb: {e}")))
}

/// A script map of query parameters as TMDB expects them (strings).
pub fn query(map: &Map) -> Result<Vec<(String, String)>> {
    map.iter()
        .map(|(k, v)| {
            let value = if v.is_string() {
                v.clone().into_string().unwrap_or_default()
            } else if v.is_int() || v.is_float() || v.is_bool() {
                v.to_string()
            } else if let Some(a) = v.read_lock::<Array>() {
                a.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                return Err(Error::invalid(format!(
                    "tmdb: parameter '{k}' must be a string, number, bool or array"
                )));
            };
            Ok((k.to_string(), value))
        })
        .collect()
}

/// (id, poster_path) from TMDB results (maps) or from `Movies` (looked up with `movie(id)`).
pub fn poster_paths(client: &Client, items: &Dynamic) -> Result<Vec<(String, String)>> {
    if let Some(movies) = items.read_lock::<Movies>() {
        let mut out = Vec::new();
        for id in movies.ids() {
            let n: i64 = id.parse().map_err(|_| {
                Error::invalid(format!(
                    "download_posters: movie id '{id}' is not a TMDB id"
                ))
            })?;
            if let Some(p) = client.movie(n)?.get("poster_path").and_then(Value::as_str) {
                out.push((id.to_string(), p.to_string()));
            }
        }
        return Ok(out);
    }
    let Some(array) = items.read_lock::<Array>() else {
        return Err(Error::invalid(
            "download_posters: expected Movies or an array of TMDB results (maps with id and poster_path)",
        ));
    };
    Ok(array
        .iter()
        .filter_map(|m| {
            let m = m.read_lock::<Map>()?;
            let id = m.get("id")?.as_int().ok()?;
            let path = m.get("poster_path")?.clone().into_string().ok()?;
            Some((id.to_string(), path))
        })
        .collect())
}

pub fn dataset_options(opts: &Parsed) -> Result<DatasetOptions> {
    let list = match opts.text("list")?.as_str() {
        "top_rated" => "movie/top_rated",
        _ => "movie/popular",
    };
    Ok(DatasetOptions {
        list: list.to_string(),
        posters: opts.flag("posters")?,
        imdb_ids: opts.flag("imdb_ids")?,
        popular_pages: opts.usize("popular_pages")? as u32,
        per_genre_pages: opts.usize("per_genre_pages")? as u32,
        years: if opts.given("years") {
            opts.usizes("years")?
                .into_iter()
                .map(|y| y as i64)
                .collect()
        } else {
            Vec::new()
        },
        require_overview: opts.flag("require_overview")?,
        require_poster: opts.flag("require_poster")?,
        poster_size: opts.text("poster_size")?,
        out_dir: PathBuf::from(opts.text("out_dir")?),
        concurrency: opts.usize("concurrency")?,
    })
}

pub fn downloads_map(d: &crate::tmdb::endpoints::Downloads) -> Map {
    let mut m = Map::new();
    m.insert("downloaded".into(), (d.downloaded as i64).into());
    m.insert("skipped".into(), (d.skipped_existing as i64).into());
    m.insert("failed".into(), failures(&d.failed).into());
    m
}

fn failures(f: &[(String, String)]) -> Array {
    f.iter()
        .map(|(id, why)| {
            let mut m = Map::new();
            m.insert("id".into(), id.clone().into());
            m.insert("error".into(), why.clone().into());
            m.into()
        })
        .collect()
}

pub fn summary_map(s: &crate::tmdb::dataset::Summary) -> Map {
    let mut m = Map::new();
    m.insert("movies".into(), (s.movies as i64).into());
    m.insert("seen".into(), (s.seen as i64).into());
    m.insert(
        "dropped_no_overview".into(),
        (s.dropped_no_overview as i64).into(),
    );
    m.insert(
        "dropped_no_poster".into(),
        (s.dropped_no_poster as i64).into(),
    );
    m.insert(
        "poster_failures".into(),
        failures(&s.poster_failures).into(),
    );
    m.insert("csv".into(), s.csv.to_string_lossy().into_owned().into());
    m
}

#[export_module]
pub mod tmdb_module {
    use rhai::{Map, NativeCallContext};

    use super::TmdbHandle;
    use crate::api::convert::{RhaiResult, located};

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
    pub fn client(ctx: NativeCallContext) -> RhaiResult<TmdbHandle> {
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
    pub fn client_with(ctx: NativeCallContext, options: Map) -> RhaiResult<TmdbHandle> {
        located(&ctx, || super::client(&super::CLIENT.parse(options)?))
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
    pub fn build_dataset(
        ctx: NativeCallContext,
        client: TmdbHandle,
        options: Map,
    ) -> RhaiResult<Map> {
        located(&ctx, || {
            let opts = super::dataset_options(&super::BUILD_DATASET.parse(options)?)?;
            let bar = std::sync::Mutex::new(crate::progress::Progress::new("tmdb", 0, "step"));
            let summary = crate::tmdb::dataset::build(&client.0, &opts, &|note| {
                bar.lock().unwrap_or_else(|p| p.into_inner()).note(note)
            })?;
            for (id, why) in &summary.poster_failures {
                crate::record::warning(&format!("poster of movie {id} not downloaded: {why}"));
            }
            Ok(super::summary_map(&summary))
        })
    }
}

#[export_module]
pub mod tmdb_methods {
    use rhai::{Dynamic, Map};

    use super::{TmdbHandle, to_dynamic};
    use crate::api::convert::RhaiResult;

    /// `GET /configuration`: image base URLs and sizes.
    #[rhai_fn(global, name = "configuration", return_raw, pure)]
    pub fn configuration(c: &mut TmdbHandle) -> RhaiResult<Dynamic> {
        Ok(to_dynamic(c.0.configuration()?)?)
    }

    /// Movie genres as a map name → id.
    #[rhai_fn(global, name = "genres", return_raw, pure)]
    pub fn genres(c: &mut TmdbHandle) -> RhaiResult<Map> {
        Ok(c.0
            .genres()?
            .into_iter()
            .map(|(id, name)| (name.into(), Dynamic::from_int(id)))
            .collect())
    }

    /// One page of popular movies (TMDB's page map: `results`, `total_pages`, …).
    #[rhai_fn(global, name = "popular", return_raw, pure)]
    pub fn popular(c: &mut TmdbHandle, page: i64) -> RhaiResult<Dynamic> {
        Ok(to_dynamic(c.0.page(
            "movie/popular",
            page.clamp(0, u32::MAX as i64) as u32,
            &[],
        )?)?)
    }

    /// One page of top-rated movies.
    #[rhai_fn(global, name = "top_rated", return_raw, pure)]
    pub fn top_rated(c: &mut TmdbHandle, page: i64) -> RhaiResult<Dynamic> {
        Ok(to_dynamic(c.0.page(
            "movie/top_rated",
            page.clamp(0, u32::MAX as i64) as u32,
            &[],
        )?)?)
    }

    /// `GET /discover/movie` with any TMDB parameters (`with_genres`,
    /// `primary_release_year`, `sort_by`, `page`, …).
    #[rhai_fn(global, name = "discover", return_raw, pure)]
    pub fn discover(c: &mut TmdbHandle, params: Map) -> RhaiResult<Dynamic> {
        let q = super::query(&params)?;
        let page = q
            .iter()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        Ok(to_dynamic(c.0.page("discover/movie", page, &q)?)?)
    }

    /// The results of pages `first` to `last` of a list (`"movie/popular"`,
    /// `"discover/movie"`, …) with `params`, stopping at the list's last page
    /// and at TMDB's cap of 500.
    #[rhai_fn(global, name = "pages", return_raw, pure)]
    pub fn pages(
        c: &mut TmdbHandle,
        path: &str,
        first: i64,
        last: i64,
        params: Map,
    ) -> RhaiResult<rhai::Array> {
        let q = super::query(&params)?;
        let results = c.0.pages(
            path,
            first.max(1) as u32,
            last.clamp(0, u32::MAX as i64) as u32,
            &q,
        )?;
        Ok(results
            .into_iter()
            .map(to_dynamic)
            .collect::<crate::error::Result<_>>()?)
    }

    /// `GET /movie/{id}`: details.
    #[rhai_fn(global, name = "movie", return_raw, pure)]
    pub fn movie(c: &mut TmdbHandle, id: i64) -> RhaiResult<Dynamic> {
        Ok(to_dynamic(c.0.movie(id)?)?)
    }

    /// `GET /search/movie` for a title.
    #[rhai_fn(global, name = "search", return_raw, pure)]
    pub fn search(c: &mut TmdbHandle, title: &str) -> RhaiResult<Dynamic> {
        Ok(to_dynamic(c.0.search(title, None)?)?)
    }

    /// `GET /search/movie` for a title with options (below).
    ///
    /// Errors: a bad option; TMDB errors.
    #[rhai_fn(global, name = "search", return_raw, pure)]
    pub fn search_with(c: &mut TmdbHandle, title: &str, options: Map) -> RhaiResult<Dynamic> {
        let opts = super::SEARCH.parse(options)?;
        let year = opts.opt_int("year")?;
        Ok(to_dynamic(c.0.search(title, year)?)?)
    }

    /// `GET /find/{imdb_id}?external_source=imdb_id`.
    #[rhai_fn(global, name = "find_imdb", return_raw, pure)]
    pub fn find_imdb(c: &mut TmdbHandle, imdb_id: &str) -> RhaiResult<Dynamic> {
        Ok(to_dynamic(c.0.find_imdb(imdb_id)?)?)
    }

    /// Downloads posters of TMDB results (maps with `id`, `poster_path`) or
    /// of `Movies` (looked up by id) to `dir/<id>.jpg` (options below).
    /// Existing files are skipped; writes are atomic. Returns `downloaded`, `skipped`, `failed`
    /// (id and error of each); failures are also printed.
    #[rhai_fn(global, name = "download_posters", return_raw, pure)]
    pub fn download_posters(c: &mut TmdbHandle, items: Dynamic, options: Map) -> RhaiResult<Map> {
        let opts = super::DOWNLOAD_POSTERS.parse(options)?;
        let dir = opts.text("dir")?;
        let wanted = super::poster_paths(&c.0, &items)?;
        let base = c.0.poster_base(&opts.text("size")?)?;
        let bar = std::sync::Mutex::new(crate::progress::Progress::new(
            "posters",
            wanted.len(),
            "img",
        ));
        let d = c.0.download_posters(
            &wanted,
            &base,
            std::path::Path::new(&dir),
            opts.usize("concurrency")?,
            &|done, _| {
                bar.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .update(done, "")
            },
        )?;
        for (id, why) in &d.failed {
            crate::record::warning(&format!("poster of movie {id} not downloaded: {why}"));
        }
        Ok(super::downloads_map(&d))
    }

    /// Requests sent and cache hits so far: `#{ requests, cache_hits }`.
    #[rhai_fn(global, get = "stats", pure)]
    pub fn stats(c: &mut TmdbHandle) -> Map {
        let (requests, hits) = c.0.stats();
        let mut m = Map::new();
        m.insert("requests".into(), Dynamic::from_int(requests as i64));
        m.insert("cache_hits".into(), Dynamic::from_int(hits as i64));
        m
    }

    /// The client's settings, credentials masked.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(c: &mut TmdbHandle) -> String {
        let cfg = &c.0.config;
        let auth = if cfg.access_token.is_some() {
            "access token ***"
        } else {
            "api key ***"
        };
        format!(
            "TmdbClient {} ({auth}; {} requests/s; cache {})",
            cfg.base_url,
            cfg.rate,
            cfg.cache_dir
                .as_ref()
                .map_or("off".into(), |d| d.display().to_string())
        )
    }
}
