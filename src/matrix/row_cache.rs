//! Rows computed by a slow extractor (a CNN over posters, a transformer over
//! overviews), kept by key in one `.safetensors` file so that a rerun
//! computes only what is missing and an interrupted run resumes where it
//! stopped; and the driver that computes the missing rows on every core and
//! writes them to the cache as they come.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use ndarray::Array2;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::interrupt;
use crate::matrix::{Matrix, io};

/// Units of work between two writes of the cache.
const CACHE_EVERY: usize = 16;

/// Rows by key, all of one width, made by one extractor (its `signature`:
/// what made them, stored with them and checked on reading).
pub struct RowCache {
    signature: String,
    width: usize,
    rows: HashMap<String, Vec<f32>>,
}

impl RowCache {
    pub fn new(signature: impl Into<String>, width: usize) -> RowCache {
        RowCache {
            signature: signature.into(),
            width,
            rows: HashMap::new(),
        }
    }

    /// The cache at `path` when it exists (it must hold this signature's
    /// rows), else an empty one.
    pub fn open(path: Option<&Path>, signature: &str, width: usize) -> Result<RowCache> {
        let mut cache = RowCache::new(signature, width);
        let Some(path) = path.filter(|p| p.exists()) else {
            return Ok(cache);
        };
        let (loaded, meta) = io::load_with_meta(path)?;
        let io::Loaded::Dense(m) = loaded else {
            return Err(Error::file(path, "not a feature cache (sparse matrix)"));
        };
        let found = meta.get("extractor").cloned().unwrap_or_default();
        if found != signature {
            return Err(Error::file(
                path,
                format!(
                    "this cache holds '{found}' outputs, not '{signature}'; use another cache file"
                ),
            ));
        }
        if m.cols() != width && m.rows() > 0 {
            return Err(Error::file(
                path,
                format!(
                    "the cache's rows have {} values, expected {width}",
                    m.cols()
                ),
            ));
        }
        let names = m
            .row_names()
            .ok_or_else(|| Error::file(path, "the cache has no row keys"))?;
        cache.rows = names
            .iter()
            .cloned()
            .zip(m.values().rows().into_iter().map(|r| r.to_vec()))
            .collect();
        Ok(cache)
    }

    pub fn get(&self, key: &str) -> Option<&[f32]> {
        self.rows.get(key).map(Vec::as_slice)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.rows.contains_key(key)
    }

    pub fn insert(&mut self, key: String, row: Vec<f32>) {
        self.rows.insert(key, row);
    }

    /// Writes every row, sorted by key (atomically: a reader never sees half a file).
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut keys: Vec<&String> = self.rows.keys().collect();
        keys.sort();
        let values: Vec<f32> = keys
            .iter()
            .flat_map(|k| self.rows[*k].iter().copied())
            .collect();
        let m = Matrix::new(
            Array2::from_shape_vec((keys.len(), self.width), values)
                .map_err(|e| Error::invalid(e.to_string()))?,
        )
        .with_names(Some(keys.into_iter().cloned().collect()), None)?;
        io::save_dense_with_meta(
            &m,
            path,
            HashMap::from([("extractor".to_string(), self.signature.clone())]),
        )
    }

    /// The matrix of `keys`' rows in that order, rows named by `names`. A
    /// key without a row is left out (`zero_missing: false`) or becomes a
    /// row of zeros.
    pub fn matrix(&self, keys: &[&str], names: &[String], zero_missing: bool) -> Result<Matrix> {
        let mut kept = Vec::with_capacity(keys.len());
        let mut values = Vec::with_capacity(keys.len() * self.width);
        for (key, name) in keys.iter().zip(names) {
            match self.get(key) {
                Some(row) => values.extend_from_slice(row),
                None if zero_missing => values.extend(std::iter::repeat_n(0.0, self.width)),
                None => continue,
            }
            kept.push(name.clone());
        }
        Matrix::new(
            Array2::from_shape_vec((kept.len(), self.width), values)
                .map_err(|e| Error::invalid(e.to_string()))?,
        )
        .with_names(Some(kept), None)
    }
}

/// Runs `work` on every unit, spread over rayon's threads, and hands each
/// result to `receive` on the calling thread as it comes, writing `cache` to
/// `path` every few units and on the way out — whatever stopped the run (an
/// error, Ctrl-C), what was computed is kept. `receive` stores the result in
/// the cache and returns how many items it finished (for the progress bar).
pub fn compute_units<U: Sync, R: Send>(
    units: &[U],
    work: impl Fn(&U) -> Result<R> + Sync,
    cache: &mut RowCache,
    path: Option<&Path>,
    mut receive: impl FnMut(R, &mut RowCache),
) -> Result<()> {
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<R>();
    std::thread::scope(|scope| {
        let workers = scope.spawn(|| {
            units
                .par_iter()
                .try_for_each_with(sender, |sender, unit| -> Result<()> {
                    if stop.load(Ordering::Relaxed) {
                        return Err(Error::Interrupted);
                    }
                    interrupt::check()?;
                    // A closed receiver means the caller is leaving; say nothing.
                    let _ = sender.send(work(unit)?);
                    Ok(())
                })
        });
        let mut unsaved = 0;
        let mut received = || -> Result<()> {
            for result in receiver.iter() {
                receive(result, cache);
                unsaved += 1;
                if let Some(path) = path
                    && unsaved >= CACHE_EVERY
                {
                    cache.write(path)?;
                    unsaved = 0;
                }
            }
            Ok(())
        };
        let received = received();
        stop.store(true, Ordering::Relaxed);
        let worked = workers
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("a feature extraction thread panicked")));
        let saved = match path {
            Some(path) if unsaved > 0 => cache.write(path),
            _ => Ok(()),
        };
        received.and(worked).and(saved)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_a_round_trip_and_a_foreign_signature_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let mut cache = RowCache::new("net/a", 2);
        cache.insert("b".into(), vec![3.0, 4.0]);
        cache.insert("a".into(), vec![1.0, 2.0]);
        cache.write(&path).unwrap();
        let back = RowCache::open(Some(&path), "net/a", 2).unwrap();
        assert_eq!(back.get("a"), Some(&[1.0, 2.0][..]));
        let m = back
            .matrix(
                &["b", "x", "a"],
                &["B".into(), "X".into(), "A".into()],
                false,
            )
            .unwrap();
        assert_eq!(m.row_names().unwrap(), ["B", "A"]);
        let m = back.matrix(&["x"], &["X".into()], true).unwrap();
        assert_eq!(m.values().row(0).to_vec(), vec![0.0, 0.0]);
        let e = RowCache::open(Some(&path), "net/b", 2)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("holds 'net/a' outputs, not 'net/b'"), "{e}");
        let e = RowCache::open(Some(&path), "net/a", 3)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("have 2 values, expected 3"), "{e}");
    }

    #[test]
    fn what_was_computed_before_an_error_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let mut cache = RowCache::new("sig", 1);
        let units: Vec<usize> = (0..40).collect();
        let out = compute_units(
            &units,
            |&u| {
                if u == 39 {
                    // Late, so that the other units are done by then.
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    Err(Error::invalid("unit 39 failed"))
                } else {
                    Ok(u)
                }
            },
            &mut cache,
            Some(&path),
            |u, c| c.insert(u.to_string(), vec![u as f32]),
        );
        assert!(out.unwrap_err().to_string().contains("unit 39"));
        let back = RowCache::open(Some(&path), "sig", 1).unwrap();
        assert!(back.contains("0") && !back.contains("39"));
    }
}
