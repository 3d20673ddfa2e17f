//! Writing files so that an interrupted or failed write never leaves a
//! half-written file where a good one (or none) was; writing to standard
//! output and error so that a reader that has gone ends the process quietly.

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
/// The bytes of a text file, gunzipped when it is gzip: `x.gz` itself, or
/// `x.gz` when `x` does not exist (the tables bundled in `data/` are
/// gzipped, and scripts name them without `.gz`). Errors name `path`.
pub fn read_text_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let gz = {
        let mut name = path.as_os_str().to_os_string();
        name.push(".gz");
        std::path::PathBuf::from(name)
    };
    let (source, bytes) = match std::fs::read(path) {
        Ok(bytes) => (path, bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && gz.is_file() => (
            gz.as_path(),
            std::fs::read(&gz).map_err(|e| Error::io(&gz, e))?,
        ),
        Err(e) => return Err(Error::io(path, e)),
    };
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut text)
        .map_err(|e| Error::file(source, format!("cannot decompress: {e}")))?;
    Ok(text)
}

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

/// Writes `text` and a line end to standard output. When the reader has gone
/// (`genrelab run script | head -1`), the process ends quietly with status 0,
/// as Unix tools do, instead of failing every later write. Every writer to
/// stdout goes through here.
pub fn print_line(text: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        exit_on_broken_pipe(&e);
    }
}

/// `print_line` without the line end.
pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        exit_on_broken_pipe(&e);
    }
}

fn exit_on_broken_pipe(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
}

/// Makes a closed stderr (`2>&1 | head`) end the process quietly too: the
/// standard library's `eprintln!` panics with "failed printing to stderr"
/// when its reader has gone; that panic, and only that one, becomes a quiet
/// exit with the status a shell gives a process ended by SIGPIPE (141), since
/// whatever it was reporting (a warning, the final error) could not be said.
/// Installed once by `main`.
pub fn quiet_broken_pipes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// A path named `name` in this process's own temporary folder (made if
/// needed), for examples and scratch files.
pub fn scratch_path(name: &str) -> Result<String> {
    let dir = std::env::temp_dir().join(format!("genrelab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir.join(name).to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_files_are_read_gunzipped_with_or_without_gz_in_the_name() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("t.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"id,title\n1,A\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert_eq!(read_text_file(&gz).unwrap(), b"id,title\n1,A\n");
        assert_eq!(
            read_text_file(&dir.path().join("t.csv")).unwrap(),
            b"id,title\n1,A\n"
        );
        std::fs::write(dir.path().join("plain.csv"), b"x\n").unwrap();
        assert_eq!(
            read_text_file(&dir.path().join("plain.csv")).unwrap(),
            b"x\n"
        );
        let e = read_text_file(&dir.path().join("none.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.csv"), "{e}");
        std::fs::write(dir.path().join("bad.csv.gz"), [0x1f, 0x8b, 0, 1]).unwrap();
        let e = read_text_file(&dir.path().join("bad.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bad.csv.gz") && e.contains("cannot decompress"),
            "{e}"
        );
    }
}
