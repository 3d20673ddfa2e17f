//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/data` beside the checkout, or `None` with a message saying the
/// test is skipped (CI always has it).
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/data");
    if dir.join("movies/movies.csv").is_file() {
        Some(dir.canonicalize().unwrap_or(dir))
    } else {
        eprintln!("SKIPPED {test}: ../shared/data is absent (CI has it)");
        None
    }
}

/// Writes `text` to `name` in `dir` and returns the path.
pub fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
