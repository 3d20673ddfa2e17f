//! The seed's dataset recipe as a resumable job: popular pages, then
//! `discover` pages per genre (and year), de-duplicated by id, movies without
//! overview or poster dropped and counted, posters downloaded, and the
//! movies CSV of shared/data/README.md written with a stratified split.
//! Progress is saved after every page (`build_state.json`), so a killed run,
//! re-run, fetches only what is missing and duplicates nothing.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Client;
use crate::data::NumpyRng;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct DatasetOptions {
    /// The first list walked: `movie/popular` (the seed's) or `movie/top_rated`.
    pub list: String,
    pub popular_pages: u32,
    pub per_genre_pages: u32,
    pub years: Vec<i64>,
    pub require_overview: bool,
    pub require_poster: bool,
    pub poster_size: String,
    /// Download posters (false: a text-only dataset, empty `poster` column).
    pub posters: bool,
    /// Look up each kept movie's IMDb id (`/movie/{id}/external_ids`, one
    /// request per movie, remembered across runs) for the `imdb_id` column.
    pub imdb_ids: bool,
    pub out_dir: PathBuf,
    pub concurrency: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: i64,
    pub title: String,
    pub release_date: String,
    pub genre_ids: Vec<i64>,
    pub overview: String,
    pub poster_path: Option<String>,
}

/// A list to walk: (endpoint path, query parameters, pages wanted).
type List = (String, Vec<(String, String)>, u32);

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Pages already merged, as "path?params&page=n".
    done: HashSet<String>,
    /// Lists found shorter than asked (no more pages to fetch).
    exhausted: HashSet<String>,
    /// Every movie seen, by id (first sighting kept).
    movies: BTreeMap<i64, (u64, Record)>,
    seen: u64,
    /// Posters the image server answered 404 for: not asked again on a rerun.
    #[serde(default)]
    missing_posters: BTreeMap<i64, String>,
    /// IMDb ids looked up so far ("" where TMDB has none).
    #[serde(default)]
    imdb: BTreeMap<i64, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub movies: usize,
    pub seen: usize,
    pub dropped_no_overview: usize,
    pub dropped_no_poster: usize,
    pub poster_failures: Vec<(String, String)>,
    pub csv: PathBuf,
}

fn record(v: &Value) -> Option<Record> {
    Some(Record {
        id: v.get("id")?.as_i64()?,
        title: v
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        release_date: v
            .get("release_date")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        genre_ids: v
            .get("genre_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default(),
        overview: v
            .get("overview")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .replace(['\n', '\r'], " ")
            .trim()
            .to_string(),
        poster_path: v
            .get("poster_path")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

fn load_state(path: &Path) -> Result<State> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::file(
                path,
                format!("unreadable build state ({e}); delete it to start over"),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes the build state atomically, so a kill never leaves it half written.
fn save_state(path: &Path, state: &State) -> Result<()> {
    let json = serde_json::to_vec(state).map_err(|e| Error::invalid(e.to_string()))?;
    crate::io_util::write_bytes_atomic(path, &json)
}

/// Builds (or finishes building) the dataset in `opts.out_dir`.
pub fn build(
    client: &Client,
    opts: &DatasetOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Summary> {
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| Error::io(&opts.out_dir, e))?;
    let state_path = opts.out_dir.join("build_state.json");
    let mut state = load_state(&state_path)?;
    let genres: BTreeMap<i64, String> = client.genres()?.into_iter().collect();

    // Every list to walk: (path, params, pages).
    let mut lists: Vec<List> = vec![(opts.list.clone(), Vec::new(), opts.popular_pages)];
    let years: Vec<Option<i64>> = if opts.years.is_empty() {
        vec![None]
    } else {
        opts.years.iter().map(|y| Some(*y)).collect()
    };
    for id in genres.keys() {
        for year in &years {
            let mut p = vec![
                ("with_genres".to_string(), id.to_string()),
                ("sort_by".to_string(), "popularity.desc".to_string()),
            ];
            if let Some(y) = year {
                p.push(("primary_release_year".into(), y.to_string()));
            }
            lists.push(("discover/movie".into(), p, opts.per_genre_pages));
        }
    }
    for (path, params, pages) in &lists {
        let list_key = format!(
            "{path}?{}",
            params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        );
        for page in 1..=(*pages).min(super::endpoints::PAGE_CAP) {
            let key = format!("{list_key}&page={page}");
            if state.done.contains(&key) || state.exhausted.contains(&list_key) {
                continue;
            }
            let v = client.page(path, page, params)?;
            for r in v
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(record)
            {
                let order = state.seen;
                state.movies.entry(r.id).or_insert_with(|| (order, r));
                state.seen += 1;
            }
            state.done.insert(key);
            if v.get("total_pages")
                .and_then(Value::as_u64)
                .is_some_and(|t| t <= u64::from(page))
            {
                state.exhausted.insert(list_key.clone());
            }
            save_state(&state_path, &state)?;
            progress(&format!(
                "{} movies from {} pages",
                state.movies.len(),
                state.done.len()
            ));
        }
    }

    let mut movies: Vec<&(u64, Record)> = state.movies.values().collect();
    movies.sort_by_key(|(order, _)| *order);
    let mut summary = Summary {
        seen: movies.len(),
        ..Summary::default()
    };
    let mut kept: Vec<&Record> = Vec::new();
    for (_, r) in movies {
        if opts.require_overview && r.overview.is_empty() {
            summary.dropped_no_overview += 1;
        } else if opts.posters && opts.require_poster && r.poster_path.is_none() {
            summary.dropped_no_poster += 1;
        } else {
            kept.push(r);
        }
    }
    let poster_dir = opts.out_dir.join("posters");
    let wanted: Vec<(String, String)> = kept
        .iter()
        .filter(|r| !state.missing_posters.contains_key(&r.id))
        .filter_map(|r| Some((r.id.to_string(), r.poster_path.clone()?)))
        .collect();
    let mut transient: Vec<(String, String)> = Vec::new();
    if opts.posters && !wanted.is_empty() {
        let base = client.poster_base(&opts.poster_size)?;
        let downloads = client.download_posters(
            &wanted,
            &base,
            &poster_dir,
            opts.concurrency,
            &|done, total| progress(&format!("posters {done}/{total}")),
        )?;
        // A 404 is TMDB saying the file is gone: remembered, not asked again.
        // Other failures (timeouts, 5xx after retries) are retried next run.
        for (id, why) in downloads.failed {
            match id.parse::<i64>() {
                Ok(n) if why.contains("HTTP 404") => {
                    state.missing_posters.insert(n, why);
                }
                _ => transient.push((id, why)),
            }
        }
        save_state(&state_path, &state)?;
    }
    if opts.posters {
        summary.poster_failures = kept
            .iter()
            .filter_map(|r| Some((r.id.to_string(), state.missing_posters.get(&r.id)?.clone())))
            .chain(transient)
            .collect();
    }
    if opts.posters && opts.require_poster {
        let failed: HashSet<&str> = summary
            .poster_failures
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        let before = kept.len();
        kept.retain(|r| !failed.contains(r.id.to_string().as_str()));
        summary.dropped_no_poster += before - kept.len();
    }
    if opts.imdb_ids {
        for (n, r) in kept.iter().enumerate() {
            if state.imdb.contains_key(&r.id) {
                continue;
            }
            let ids = client.get_json(&format!("movie/{}/external_ids", r.id), &[])?;
            let tt = ids
                .get("imdb_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            state.imdb.insert(r.id, tt);
            if n % 50 == 49 || n + 1 == kept.len() {
                save_state(&state_path, &state)?;
                progress(&format!("IMDb ids {}/{}", n + 1, kept.len()));
            }
        }
    }
    summary.movies = kept.len();
    summary.csv = opts.out_dir.join("movies.csv");
    write_csv(&summary.csv, &kept, &genres, &poster_dir, &state.imdb)?;
    Ok(summary)
}

/// Writes the movies in shared/data's format, split 60/10/30 by iterative
/// stratification on the genres (seed 2014, as the shared data's rule).
fn write_csv(
    path: &Path,
    movies: &[&Record],
    genres: &BTreeMap<i64, String>,
    poster_dir: &Path,
    imdb: &BTreeMap<i64, String>,
) -> Result<()> {
    let index: BTreeMap<i64, usize> = genres.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let labels: Vec<Vec<usize>> = movies
        .iter()
        .map(|r| {
            r.genre_ids
                .iter()
                .filter_map(|g| index.get(g).copied())
                .collect()
        })
        .collect();
    let mut rng = NumpyRng::new(2014);
    let assignment = crate::data::split::iterative_stratification(
        &labels,
        genres.len(),
        &[0.6, 0.1, 0.3],
        &mut rng,
    )?;
    const SPLITS: [&str; 3] = ["train", "dev", "test"];
    crate::io_util::write_atomic(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        let fail = |e: csv::Error| Error::invalid(format!("{}: {e}", path.display()));
        w.write_record([
            "id",
            "imdb_id",
            "title",
            "release_date",
            "genres",
            "genre_ids",
            "overview",
            "poster",
            "split",
        ])
        .map_err(fail)?;
        for (r, split) in movies.iter().zip(&assignment) {
            let names: Vec<&str> = r
                .genre_ids
                .iter()
                .filter_map(|g| genres.get(g).map(String::as_str))
                .collect();
            let ids: Vec<String> = r.genre_ids.iter().map(i64::to_string).collect();
            let poster = if poster_dir.join(format!("{}.jpg", r.id)).is_file() {
                format!("posters/{}.jpg", r.id)
            } else {
                String::new()
            };
            w.write_record([
                r.id.to_string().as_str(),
                imdb.get(&r.id).map_or("", String::as_str),
                &r.title,
                &r.release_date,
                &names.join("|"),
                &ids.join("|"),
                &r.overview,
                &poster,
                SPLITS[*split],
            ])
            .map_err(fail)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}
