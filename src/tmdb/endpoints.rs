//! TMDB endpoints as typed calls, page walking, and poster downloads.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::Client;
use crate::error::{Error, Result};

/// TMDB serves at most this many pages of any list.
pub const PAGE_CAP: u32 = 500;

/// What a poster download did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Downloads {
    pub downloaded: usize,
    pub skipped_existing: usize,
    /// (movie id, why) for each poster that could not be fetched.
    pub failed: Vec<(String, String)>,
}

fn params(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

impl Client {
    pub fn configuration(&self) -> Result<Value> {
        self.get_json("configuration", &[])
    }

    /// TMDB's movie genres, id → name.
    pub fn genres(&self) -> Result<Vec<(i64, String)>> {
        let v = self.get_json("genre/movie/list", &[])?;
        v.get("genres")
            .and_then(Value::as_array)
            .map(|gs| {
                gs.iter()
                    .filter_map(|g| {
                        Some((g.get("id")?.as_i64()?, g.get("name")?.as_str()?.to_string()))
                    })
                    .collect()
            })
            .ok_or_else(|| {
                Error::invalid("TMDB genre/movie/list: no 'genres' list in the response")
            })
    }

    /// One page of a list endpoint (`movie/popular`, `discover/movie`, …).
    pub fn page(&self, path: &str, page: u32, extra: &[(String, String)]) -> Result<Value> {
        if !(1..=PAGE_CAP).contains(&page) {
            return Err(Error::invalid(format!(
                "TMDB {path}: page must be 1 to {PAGE_CAP}, got {page}"
            )));
        }
        let mut p = extra.to_vec();
        p.retain(|(k, _)| k != "page");
        p.push(("page".into(), page.to_string()));
        self.get_json(path, &p)
    }

    /// The results of pages `first..=last` of a list, stopping early at the
    /// list's `total_pages` and at TMDB's cap of 500.
    pub fn pages(
        &self,
        path: &str,
        first: u32,
        last: u32,
        extra: &[(String, String)],
    ) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut page = first.max(1);
        let mut last = last.min(PAGE_CAP);
        while page <= last {
            let v = self.page(path, page, extra)?;
            if let Some(total) = v.get("total_pages").and_then(Value::as_u64) {
                last = last.min(total as u32);
            }
            out.extend(
                v.get("results")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
            page += 1;
        }
        Ok(out)
    }

    pub fn movie(&self, id: i64) -> Result<Value> {
        self.get_json(&format!("movie/{id}"), &[])
    }

    pub fn search(&self, title: &str, year: Option<i64>) -> Result<Value> {
        let mut p = params(&[("query", title.to_string())]);
        if let Some(y) = year {
            p.push(("year".into(), y.to_string()));
        }
        self.get_json("search/movie", &p)
    }

    pub fn find_imdb(&self, imdb_id: &str) -> Result<Value> {
        if !imdb_id.starts_with("tt")
            || imdb_id.len() < 3
            || !imdb_id[2..].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Error::invalid(format!(
                "tmdb find_imdb: '{imdb_id}' is not an IMDb title id (tt followed by digits)"
            )));
        }
        self.get_json(
            &format!("find/{imdb_id}"),
            &params(&[("external_source", "imdb_id".to_string())]),
        )
    }

    /// The image base URL and a checked size (`w185`, …) from `configuration()`,
    /// unless the client was given an image base URL.
    pub fn poster_base(&self, size: &str) -> Result<String> {
        let config = self.configuration()?;
        let images = config.get("images");
        let sizes: Vec<&str> = images
            .and_then(|i| i.get("poster_sizes"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !sizes.is_empty() && !sizes.contains(&size) {
            return Err(Error::invalid(format!(
                "TMDB poster size '{size}' is not offered; sizes: {}",
                sizes.join(", ")
            )));
        }
        let base = match &self.config.image_base_url {
            Some(b) => b.clone(),
            None => images
                .and_then(|i| i.get("secure_base_url"))
                .and_then(Value::as_str)
                .unwrap_or("https://image.tmdb.org/t/p/")
                .to_string(),
        };
        Ok(format!("{}/{size}", base.trim_end_matches('/')))
    }

    /// Downloads `(id, poster_path)` posters as `dir/<id>.jpg`, `concurrency`
    /// at a time (all under the client's rate limit). Existing files are
    /// skipped; each file is written to a temporary name and renamed, so a
    /// killed run leaves no half images. Failures are collected, not fatal.
    pub fn download_posters(
        &self,
        posters: &[(String, String)],
        base: &str,
        dir: &Path,
        concurrency: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Downloads> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // A run killed mid-write leaves its temporary file (never a poster
        // under its final name); clear those before starting again.
        for entry in std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .flatten()
        {
            if entry.file_name().to_string_lossy().contains(".jpg.tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let result = Mutex::new(Downloads::default());
        let interrupted = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..concurrency.clamp(1, 64) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((id, path)) = posters.get(i) else {
                            break;
                        };
                        if crate::interrupt::requested() {
                            interrupted.store(true, Ordering::Relaxed);
                            break;
                        }
                        let file: PathBuf = dir.join(format!("{id}.jpg"));
                        let outcome = if file.is_file() {
                            Ok(false)
                        } else {
                            let url = format!("{base}/{}", path.trim_start_matches('/'));
                            self.get_bytes(&url)
                                .and_then(|bytes| crate::io_util::write_bytes_atomic(&file, &bytes))
                                .map(|()| true)
                        };
                        let mut r = result.lock().unwrap_or_else(|p| p.into_inner());
                        match outcome {
                            Ok(true) => r.downloaded += 1,
                            Ok(false) => r.skipped_existing += 1,
                            Err(e) => r.failed.push((id.clone(), e.to_string())),
                        }
                        drop(r);
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, posters.len());
                    }
                });
            }
        });
        if interrupted.into_inner() {
            return Err(Error::Interrupted);
        }
        Ok(result.into_inner().unwrap_or_else(|p| p.into_inner()))
    }
}
