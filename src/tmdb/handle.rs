//! The TMDB client as scripts hold it (`tmdb::client`), with the declared
//! options of the client, the dataset job, search and poster downloads, and
//! what each returns as script values.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::dataset::{DatasetOptions, Summary};
use super::endpoints::Downloads;
use super::{Client, Config, Secret};
use crate::error::{Error, Result};
use crate::options::Value;

crate::options! {
    /// `tmdb::client`: credentials, endpoints, rate, cache and retries.
    pub struct ClientOptions for "tmdb::client" {
        /// the v3 API key; never printed, logged or cached
        api_key: Option<String> = None => Text; shown "$TMDB_API_KEY",
        /// a v4 read access token instead of the key (sent as Bearer)
        access_token: Option<String> = None => Text; shown "$TMDB_ACCESS_TOKEN",
        /// for tests and proxies
        base_url: Option<String> = None => Text; shown "$TMDB_BASE_URL or https://api.themoviedb.org/3",
        /// where posters come from
        image_base_url: Option<String> = None => Text; shown "$TMDB_IMAGE_BASE_URL or configuration()'s",
        /// TMDB's language parameter, e.g. "en-US"
        language: Option<String> = None => Text,
        /// requests per second across all threads
        rate: f64 = 40.0 => Number(POSITIVE),
        /// responses kept on disk by URL without credentials: a rerun costs no requests
        cache_dir: Option<String> = None => Text,
        /// seconds per request
        timeout: f64 = 15.0 => Number(NON_NEGATIVE),
        /// for 5xx, 429, timeouts and refused connections
        retries: usize = 4 => Int(NON_NEGATIVE),
        /// first retry delay in seconds, doubling, with jitter
        backoff: f64 = 0.5 => Number(NON_NEGATIVE),
    }
}

crate::choices! {
    /// The list `tmdb::build_dataset` pages first.
    pub enum ListName { Popular = "popular", TopRated = "top_rated" }
}

crate::options! {
    /// `tmdb::build_dataset`: what is collected and where it goes.
    pub struct BuildOptions for "tmdb::build_dataset" {
        /// where movies.csv, posters/ and the build state go
        out_dir: String = String::new() => Text; required,
        /// the list paged first
        list: ListName = ListName::Popular => Choice(ListName::NAMES),
        /// pages of that list
        popular_pages: u32 = 50 => Int(Bounds::within(0.0, 500.0)),
        /// discover pages per genre (per year of years)
        per_genre_pages: u32 = 5 => Int(Bounds::within(0.0, 500.0)),
        /// discover per genre and year
        years: Vec<i64> = Vec::new() => Ints(Bounds::within(1870.0, 2100.0)); shown "none",
        /// drop (and count) movies without an overview
        require_overview: bool = true => Bool,
        /// drop movies without a poster, also when its download fails
        require_poster: bool = true => Bool,
        /// false: a text-only set like shared/data's tmdb-text
        posters: bool = true => Bool,
        /// TMDB's poster size
        poster_size: String = "w185".into() => Text,
        /// fill the imdb_id column (one request per movie), for imdb::compare
        imdb_ids: bool = false => Bool,
        /// downloads at a time, all under the client's rate
        concurrency: usize = 8 => Int(POSITIVE_INT),
    }
}

crate::options! {
    /// `TmdbClient.search`.
    pub struct SearchOptions for "TmdbClient.search" {
        /// the release year
        year: Option<i64> = None => Int(Bounds::within(1870.0, 2100.0)),
    }
}

crate::options! {
    /// `TmdbClient.download_posters`.
    pub struct DownloadOptions for "TmdbClient.download_posters" {
        /// the folder the posters go to, as <id>.jpg
        dir: String = String::new() => Text; required,
        /// TMDB's poster size, checked against configuration()
        size: String = "w185".into() => Text,
        /// downloads at a time, all under the client's rate
        concurrency: usize = 8 => Int(POSITIVE_INT),
    }
}

impl From<&BuildOptions> for DatasetOptions {
    fn from(o: &BuildOptions) -> DatasetOptions {
        DatasetOptions {
            list: match o.list {
                ListName::TopRated => "movie/top_rated",
                ListName::Popular => "movie/popular",
            }
            .to_string(),
            posters: o.posters,
            imdb_ids: o.imdb_ids,
            popular_pages: o.popular_pages,
            per_genre_pages: o.per_genre_pages,
            years: o.years.clone(),
            require_overview: o.require_overview,
            require_poster: o.require_poster,
            poster_size: o.poster_size.clone(),
            out_dir: PathBuf::from(&o.out_dir),
            concurrency: o.concurrency,
        }
    }
}

/// A poster that could not be fetched.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub id: String,
    pub error: String,
}

fn failures(f: &[(String, String)]) -> Vec<Failure> {
    f.iter()
        .map(|(id, why)| {
            crate::record::warning(&format!("poster of movie {id} not downloaded: {why}"));
            Failure {
                id: id.clone(),
                error: why.clone(),
            }
        })
        .collect()
}

/// What `tmdb::build_dataset` did.
#[derive(Debug, Serialize)]
pub struct BuildReport {
    pub movies: usize,
    pub seen: usize,
    pub dropped_no_overview: usize,
    pub dropped_no_poster: usize,
    pub poster_failures: Vec<Failure>,
    pub csv: String,
}

/// What `download_posters` did.
#[derive(Debug, Serialize)]
pub struct DownloadReport {
    pub downloaded: usize,
    pub skipped: usize,
    pub failed: Vec<Failure>,
}

/// Requests made and answered from the cache.
#[derive(Debug, Serialize)]
pub struct Stats {
    pub requests: u64,
    pub cache_hits: u64,
}

/// `genrelab fetch posters`: the posters of `data`'s movies table into
/// `movies/posters/`, where its `poster` column points, through a client
/// made from the environment (`TMDB_API_KEY`): its rate limit, its retries,
/// and its response cache in genrelab's cache folder. Movies whose poster is
/// there already cost no request, so a rerun resumes.
pub fn fetch_posters(data: &Path) -> Result<DownloadReport> {
    let csv = data.join("movies/movies.csv");
    let movies = crate::data::Movies::read_csv(&csv, &crate::data::Columns::default())?;
    let dir = data.join("movies/posters");
    let missing: Vec<bool> = movies
        .ids()
        .map(|id| !dir.join(format!("{id}.jpg")).is_file())
        .collect();
    let wanted = movies.filter_by(&missing);
    let skipped = movies.len() - wanted.len();
    if wanted.is_empty() {
        return Ok(DownloadReport {
            downloaded: 0,
            skipped,
            failed: Vec::new(),
        });
    }
    let client = TmdbRef::new(&ClientOptions {
        cache_dir: Some(
            crate::fetch::cache_dir()
                .join("tmdb")
                .to_string_lossy()
                .into_owned(),
        ),
        ..ClientOptions::default()
    })?;
    let mut report = client.download_posters(
        &Value::Movies(wanted),
        &DownloadOptions {
            dir: dir.to_string_lossy().into_owned(),
            ..DownloadOptions::default()
        },
    )?;
    report.skipped += skipped;
    Ok(report)
}

/// A TMDB client as scripts hold it.
#[derive(Clone)]
pub struct TmdbRef(pub Arc<Client>);

impl TmdbRef {
    pub fn new(o: &ClientOptions) -> Result<TmdbRef> {
        let mut c = Config::default();
        if let Some(k) = &o.api_key {
            c.api_key = Some(Secret::new(k.clone()));
        }
        if let Some(t) = &o.access_token {
            c.access_token = Some(Secret::new(t.clone()));
        }
        if let Some(u) = &o.base_url {
            c.base_url = u.clone();
        }
        if let Some(u) = &o.image_base_url {
            c.image_base_url = Some(u.clone());
        }
        if let Some(l) = &o.language {
            c.language = Some(l.clone());
        }
        c.rate = o.rate;
        c.cache_dir = o.cache_dir.as_ref().map(PathBuf::from);
        c.timeout = Duration::from_secs_f64(o.timeout);
        c.backoff = Duration::from_secs_f64(o.backoff);
        c.retries = o.retries.min(u32::MAX as usize) as u32;
        Ok(TmdbRef(Arc::new(Client::new(c)?)))
    }

    /// Builds a dataset with a progress line; failed posters are warnings.
    pub fn build_dataset(&self, o: &BuildOptions) -> Result<BuildReport> {
        let bar = Mutex::new(crate::progress::Progress::new("tmdb", 0, "step"));
        let s: Summary = super::dataset::build(&self.0, &o.into(), &|note| {
            bar.lock().unwrap_or_else(|p| p.into_inner()).note(note)
        })?;
        Ok(BuildReport {
            movies: s.movies,
            seen: s.seen,
            dropped_no_overview: s.dropped_no_overview,
            dropped_no_poster: s.dropped_no_poster,
            poster_failures: failures(&s.poster_failures),
            csv: s.csv.to_string_lossy().into_owned(),
        })
    }

    /// The posters of `items` (a `Movies`, or TMDB results with `id` and
    /// `poster_path`) into `o.dir`.
    pub fn download_posters(&self, items: &Value, o: &DownloadOptions) -> Result<DownloadReport> {
        let wanted = self.poster_paths(items)?;
        let base = self.0.poster_base(&o.size)?;
        let bar = Mutex::new(crate::progress::Progress::new(
            "posters",
            wanted.len(),
            "img",
        ));
        let d: Downloads = self.0.download_posters(
            &wanted,
            &base,
            Path::new(&o.dir),
            o.concurrency,
            &|done, _| {
                bar.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .update(done, "")
            },
        )?;
        Ok(DownloadReport {
            downloaded: d.downloaded,
            skipped: d.skipped_existing,
            failed: failures(&d.failed),
        })
    }

    fn poster_paths(&self, items: &Value) -> Result<Vec<(String, String)>> {
        match items {
            Value::Movies(movies) => {
                let mut out = Vec::new();
                for id in movies.ids() {
                    let n: i64 = id.parse().map_err(|_| {
                        Error::invalid(format!(
                            "download_posters: movie id '{id}' is not a TMDB id"
                        ))
                    })?;
                    let movie = self.0.movie(n)?;
                    if let Some(p) = movie.get("poster_path").and_then(serde_json::Value::as_str) {
                        out.push((id.to_string(), p.to_string()));
                    }
                }
                Ok(out)
            }
            Value::List(results) => Ok(results
                .iter()
                .filter_map(|m| {
                    let Value::Map(m) = m else { return None };
                    let id = m.get("id")?.int()?;
                    let path = m.get("poster_path")?.text()?;
                    Some((id.to_string(), path.to_string()))
                })
                .collect()),
            _ => Err(Error::invalid(
                "download_posters: expected Movies or an array of TMDB results (maps with id and poster_path)",
            )),
        }
    }

    pub fn stats(&self) -> Stats {
        let (requests, cache_hits) = self.0.stats();
        Stats {
            requests,
            cache_hits,
        }
    }
}

/// Query parameters from a script map: strings, numbers, booleans, or
/// arrays joined by commas.
pub fn query(params: &std::collections::BTreeMap<String, Value>) -> Result<Vec<(String, String)>> {
    params
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::Text(s) => s.clone(),
                Value::Int(_) | Value::Float(_) | Value::Bool(_) => v.to_string(),
                Value::List(items) => items
                    .iter()
                    .map(|x| x.text().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                _ => {
                    return Err(Error::invalid(format!(
                        "tmdb: parameter '{k}' must be a string, number, bool or array"
                    )));
                }
            };
            Ok((k.clone(), text))
        })
        .collect()
}

impl fmt::Display for TmdbRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cfg = &self.0.config;
        let auth = if cfg.access_token.is_some() {
            "access token ***"
        } else {
            "api key ***"
        };
        write!(
            f,
            "TmdbClient {} ({auth}; {} requests/s; cache {})",
            cfg.base_url,
            cfg.rate,
            cfg.cache_dir
                .as_ref()
                .map_or("off".into(), |d| d.display().to_string())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_join_arrays_and_refuse_maps() {
        let mut p = std::collections::BTreeMap::new();
        p.insert(
            "with_genres".to_string(),
            Value::List(vec![Value::Int(18), Value::Int(35)]),
        );
        p.insert("year".to_string(), Value::Int(1999));
        p.insert("language".to_string(), Value::Text("en-US".into()));
        let q = query(&p).unwrap();
        assert!(q.contains(&("with_genres".into(), "18,35".into())));
        assert!(q.contains(&("year".into(), "1999".into())));
        assert!(q.contains(&("language".into(), "en-US".into())));
        p.insert("x".to_string(), Value::Map(Default::default()));
        let e = query(&p).unwrap_err().to_string();
        assert_eq!(
            e,
            "tmdb: parameter 'x' must be a string, number, bool or array"
        );
        let o = DatasetOptions::from(&BuildOptions {
            list: ListName::TopRated,
            ..BuildOptions::default()
        });
        assert_eq!(o.list, "movie/top_rated");
    }
}
