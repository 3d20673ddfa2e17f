//! `tmdb::` — the TMDB client, endpoints, poster downloads and the dataset job.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};
use serde_json::Value;

use crate::api::convert::Options;
use crate::data::Movies;
use crate::error::{Error, Result};
use crate::tmdb::dataset::DatasetOptions;
use crate::tmdb::{Client, Config, Secret};

/// A client as scripts hold it (shared by every copy).
#[derive(Clone)]
pub struct TmdbHandle(pub Arc<Client>);

pub const CLIENT_KEYS: &[&str] = &[
    "api_key",
    "access_token",
    "base_url",
    "image_base_url",
    "language",
    "rate",
    "cache_dir",
    "timeout",
    "retries",
    "backoff",
];

pub fn client(opts: &Options) -> Result<TmdbHandle> {
    let mut c = Config::default();
    if let Some(k) = opts.string("api_key")? {
        c.api_key = Some(Secret::new(k));
    }
    if let Some(t) = opts.string("access_token")? {
        c.access_token = Some(Secret::new(t));
    }
    if let Some(u) = opts.string("base_url")? {
        c.base_url = u;
    }
    c.image_base_url = opts.string("image_base_url")?;
    c.language = opts.string("language")?;
    if let Some(r) = opts.float("rate")? {
        c.rate = r;
    }
    c.cache_dir = opts.string("cache_dir")?.map(PathBuf::from);
    let seconds = |key: &str| -> Result<Option<Duration>> {
        match opts.float(key)? {
            Some(s) if s >= 0.0 && s.is_finite() => Ok(Some(Duration::from_secs_f64(s))),
            Some(s) => Err(Error::invalid(format!(
                "tmdb::client: option '{key}' must be seconds ≥ 0, got {s}"
            ))),
            None => Ok(None),
        }
    };
    if let Some(t) = seconds("timeout")? {
        c.timeout = t;
    }
    if let Some(b) = seconds("backoff")? {
        c.backoff = b;
    }
    if let Some(r) = opts.count("retries")? {
        c.retries = r as u32;
    }
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

pub fn dataset_options(opts: &Options) -> Result<DatasetOptions> {
    let years = match opts.get("years") {
        None => Vec::new(),
        Some(v) => match v.read_lock::<Array>() {
            Some(a) => a
                .iter()
                .map(|y| {
                    y.as_int().map_err(|_| {
                        Error::invalid("tmdb::build_dataset: 'years' must be integers")
                    })
                })
                .collect::<Result<_>>()?,
            None => {
                return Err(Error::invalid(
                    "tmdb::build_dataset: 'years' must be an array of years",
                ));
            }
        },
    };
    let list = match opts.string("list")?.as_deref() {
        None | Some("popular") => "movie/popular".to_string(),
        Some("top_rated") => "movie/top_rated".to_string(),
        Some(other) => {
            return Err(Error::invalid(format!(
                "tmdb::build_dataset: 'list' must be \"popular\" or \"top_rated\", got \"{other}\""
            )));
        }
    };
    Ok(DatasetOptions {
        list,
        posters: opts.boolean("posters")?.unwrap_or(true),
        imdb_ids: opts.boolean("imdb_ids")?.unwrap_or(false),
        popular_pages: opts.count("popular_pages")?.unwrap_or(50) as u32,
        per_genre_pages: opts.count("per_genre_pages")?.unwrap_or(5) as u32,
        years,
        require_overview: opts.boolean("require_overview")?.unwrap_or(true),
        require_poster: opts.boolean("require_poster")?.unwrap_or(true),
        poster_size: opts.string("poster_size")?.unwrap_or_else(|| "w185".into()),
        out_dir: PathBuf::from(
            opts.string("out_dir")?.ok_or_else(|| {
                Error::invalid("tmdb::build_dataset: option 'out_dir' is required")
            })?,
        ),
        concurrency: opts.count("concurrency")?.unwrap_or(8),
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

    use super::{CLIENT_KEYS, TmdbHandle};
    use crate::api::convert::{Options, RhaiResult, located};

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

    /// A TMDB client with options: `api_key`, `access_token` (instead of the
    /// environment), `base_url` (default `$TMDB_BASE_URL` or
    /// `https://api.themoviedb.org/3`; tests and proxies), `image_base_url`
    /// (default `$TMDB_IMAGE_BASE_URL` or `configuration()`'s),
    /// `language` (e.g. `"en-US"`), `rate` (requests per second across all
    /// threads, default 40), `cache_dir` (responses kept on disk by URL
    /// without credentials: a rerun costs no requests), `timeout` (seconds,
    /// 15), `retries` (4; for 5xx, 429, timeouts, refused connections),
    /// `backoff` (first retry delay in seconds, 0.5, doubling, with jitter).
    /// The key or token never appears in printed values, errors or the cache.
    ///
    /// Errors: no credentials; a non-positive rate; an unknown option.
    ///
    /// ```rhai
    /// let client = tmdb::client(#{ api_key: "not-a-real-key", base_url: "http://127.0.0.1:9", retries: 0, timeout: 1 });
    /// assert(!client.to_string().contains("not-a-real-key"));
    /// try { client.genres(); } catch (e) { assert(e.contains("no response after 1 attempts")); }
    /// ```
    #[rhai_fn(name = "client", return_raw)]
    pub fn client_with(ctx: NativeCallContext, options: Map) -> RhaiResult<TmdbHandle> {
        located(&ctx, || {
            super::client(&Options::new("tmdb::client", options, CLIENT_KEYS)?)
        })
    }

    /// The seed's dataset, as a resumable job: `popular_pages` (50) pages of
    /// popular movies (`list: "top_rated"` for top-rated ones), then `per_genre_pages` (5) `discover` pages per genre
    /// (per year of `years` when given), de-duplicated by id; movies without
    /// an overview (`require_overview`, true) or a poster (`require_poster`,
    /// true; also when its download fails) dropped and counted; posters
    /// (`poster_size`, "w185") downloaded `concurrency` (8) at a time into
    /// `out_dir/posters`; and `out_dir/movies.csv` written in shared/data's
    /// format with a 60/10/30 train/dev/test split stratified on genres, so
    /// every other script runs on it (`posters: false` for a text-only set
    /// like shared/data's tmdb-text; `imdb_ids: true` fills the `imdb_id`
    /// column, one request per movie, for `imdb::compare`). Progress is saved after each page: a
    /// run that was killed or failed, run again, fetches only what is missing.
    /// Returns `movies`, `seen`, `dropped_no_overview`, `dropped_no_poster`,
    /// `poster_failures`, `csv`.
    ///
    /// Errors: no `out_dir`; TMDB errors (after retries); Ctrl-C (progress kept).
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
            let keys = [
                "popular_pages",
                "per_genre_pages",
                "years",
                "require_overview",
                "require_poster",
                "poster_size",
                "out_dir",
                "concurrency",
                "list",
                "posters",
                "imdb_ids",
            ];
            let opts =
                super::dataset_options(&Options::new("tmdb::build_dataset", options, &keys)?)?;
            let bar = std::sync::Mutex::new(crate::progress::Progress::new("tmdb", 0, "step"));
            let summary = crate::tmdb::dataset::build(&client.0, &opts, &|note| {
                bar.lock().unwrap_or_else(|p| p.into_inner()).note(note)
            })?;
            for (id, why) in &summary.poster_failures {
                eprintln!("warning: poster of movie {id} not downloaded: {why}");
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

    /// `GET /search/movie` for a title with options: `year`.
    #[rhai_fn(global, name = "search", return_raw, pure)]
    pub fn search_with(c: &mut TmdbHandle, title: &str, options: Map) -> RhaiResult<Dynamic> {
        let opts = crate::api::convert::Options::new("search", options, &["year"])?;
        let year = opts.count("year")?.map(|y| y as i64);
        Ok(to_dynamic(c.0.search(title, year)?)?)
    }

    /// `GET /find/{imdb_id}?external_source=imdb_id`.
    #[rhai_fn(global, name = "find_imdb", return_raw, pure)]
    pub fn find_imdb(c: &mut TmdbHandle, imdb_id: &str) -> RhaiResult<Dynamic> {
        Ok(to_dynamic(c.0.find_imdb(imdb_id)?)?)
    }

    /// Downloads posters of TMDB results (maps with `id`, `poster_path`) or
    /// of `Movies` (looked up by id) to `dir/<id>.jpg`: options `dir`
    /// (required), `size` ("w185", checked against `configuration()`),
    /// `concurrency` (8, all under the client's rate). Existing files are
    /// skipped; writes are atomic. Returns `downloaded`, `skipped`, `failed`
    /// (id and error of each); failures are also printed.
    #[rhai_fn(global, name = "download_posters", return_raw, pure)]
    pub fn download_posters(c: &mut TmdbHandle, items: Dynamic, options: Map) -> RhaiResult<Map> {
        let opts = crate::api::convert::Options::new(
            "download_posters",
            options,
            &["size", "dir", "concurrency"],
        )?;
        let dir = opts
            .string("dir")?
            .ok_or_else(|| crate::Error::invalid("download_posters: option 'dir' is required"))?;
        let wanted = super::poster_paths(&c.0, &items)?;
        let base =
            c.0.poster_base(opts.string("size")?.as_deref().unwrap_or("w185"))?;
        let bar = std::sync::Mutex::new(crate::progress::Progress::new(
            "posters",
            wanted.len(),
            "img",
        ));
        let d = c.0.download_posters(
            &wanted,
            &base,
            std::path::Path::new(&dir),
            opts.count("concurrency")?.unwrap_or(8),
            &|done, _| {
                bar.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .update(done, "")
            },
        )?;
        for (id, why) in &d.failed {
            eprintln!("warning: poster of movie {id} not downloaded: {why}");
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
