//! Writing files so that an interrupted or failed write never leaves a
//! half-written file where a good one (or none) was.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

fn temp_path(path: &Path) -> PathBuf {
    // Unique per process and per write, so threads writing beside each other
    // (poster downloads, cache entries) never share a temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}-{n}", std::process::id()));
    path.with_file_name(name)
}

/// `write_atomic` for bytes already in memory.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |out| {
        out.write_all(bytes).map_err(|e| Error::io(path, e))
    })
}

/// Writes `path` through a temporary file in the same folder, renamed into
/// place only when `write` succeeded.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let temp = temp_path(path);
    let file = File::create(&temp).map_err(|e| Error::io(path, e))?;
    let mut out = BufWriter::new(file);
    let result = write(&mut out).and_then(|()| {
        out.flush().map_err(|e| Error::io(path, e))?;
        out.get_ref().sync_all().map_err(|e| Error::io(path, e))
    });
    drop(out);
    match result {
        Ok(()) => std::fs::rename(&temp, path).map_err(|e| Error::io(path, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// The lower-cased extension of `path`, or an error listing the accepted ones.
pub fn extension<'a>(path: &Path, accepted: &[&'a str]) -> Result<&'a str> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    accepted
        .iter()
        .find(|a| **a == ext)
        .copied()
        .ok_or_else(|| {
            let shown = if ext.is_empty() {
                "none".to_string()
            } else {
                format!("'.{ext}'")
            };
            Error::file(
                path,
                format!(
                    "unknown file extension {shown}; use one of: {}",
                    accepted
                        .iter()
                        .map(|a| format!(".{a}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}
