//! Files fetched on first use into a cache, checked by hash: what
//! torchvision (`~/.cache/torch`, the hash prefix in the file name) and
//! hf-hub (`~/.cache/huggingface`) do for their users. A download goes to
//! `FILE.part` (resumed with an HTTP Range request after a cut), is hashed as
//! it streams, and is renamed into place only when the hash agrees, so the
//! cache never holds a partial or wrong file. A lock file keeps two
//! processes from downloading the same file at once: the second waits for
//! the first. `GENRELAB_OFFLINE=1` forbids the network and says what is
//! missing.

pub mod known;
pub mod zip;

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// `$GENRELAB_CACHE`, else the platform's cache folder + `genrelab`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("GENRELAB_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("genrelab"),
    }
}

/// Whether `GENRELAB_OFFLINE` forbids the network.
pub fn offline() -> bool {
    std::env::var("GENRELAB_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// How a downloaded file is checked.
#[derive(Clone, Copy, Debug)]
pub enum Check<'a> {
    /// The whole sha256, in hex.
    Sha256(&'a str),
    /// The first hex digits of the sha256 (torchvision's file names).
    Sha256Prefix(&'a str),
    /// Nothing to check against (small files of a pinned revision).
    Unchecked,
}

impl Check<'_> {
    fn verify(self, got: &str, url: &str) -> std::result::Result<(), String> {
        let ok = match self {
            Check::Sha256(want) => got.eq_ignore_ascii_case(want),
            Check::Sha256Prefix(want) => got.starts_with(&want.to_ascii_lowercase()),
            Check::Unchecked => true,
        };
        if ok {
            return Ok(());
        }
        let want = match self {
            Check::Sha256(w) | Check::Sha256Prefix(w) => w,
            Check::Unchecked => "",
        };
        Err(format!(
            "the download of {url} has sha256 {got}, expected {want}…; the file was removed (a damaged \
             transfer or a changed file on the server)"
        ))
    }
}

/// One file to fetch: where from, where in the cache, how to check it, and
/// what to tell a user who is offline (`name`: the thing `genrelab fetch` takes).
#[derive(Clone, Debug)]
pub struct Remote<'a> {
    pub url: String,
    pub dest: PathBuf,
    pub check: Check<'a>,
    pub name: &'a str,
}

/// The cached file, downloaded first if it is not there.
pub fn fetch(r: &Remote) -> Result<PathBuf> {
    if r.dest.is_file() {
        return Ok(r.dest.clone());
    }
    if offline() {
        return Err(Error::invalid(format!(
            "{} is not in the cache ({}), and GENRELAB_OFFLINE forbids downloading it from {}; \
             run `genrelab fetch {}` where the network is allowed, or copy the file there",
            r.name,
            r.dest.display(),
            r.url,
            r.name
        )));
    }
    let folder = r.dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    let _lock = Lock::take(&r.dest)?;
    // Another process may have finished it while we waited for the lock.
    if r.dest.is_file() {
        return Ok(r.dest.clone());
    }
    download(r)?;
    Ok(r.dest.clone())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// A lock file next to the destination, removed when dropped. A lock older
/// than [`STALE`] is left over from a killed process and is taken over.
struct Lock(PathBuf);

const STALE: Duration = Duration::from_secs(600);

impl Lock {
    fn take(dest: &Path) -> Result<Lock> {
        let path = with_suffix(dest, ".lock");
        let started = Instant::now();
        let mut told = false;
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Lock(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok());
                    if age.is_some_and(|a| a > STALE) {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if dest.is_file() {
                        // The other process finished; no lock needed to read.
                        return Ok(Lock(PathBuf::new()));
                    }
                    if !told && started.elapsed() > Duration::from_secs(2) {
                        eprintln!(
                            "waiting for another genrelab downloading {}",
                            dest.display()
                        );
                        told = true;
                    }
                    crate::interrupt::check()?;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// The sha256 of what `file` already holds (a `.part` being resumed).
fn hash_existing(
    file: &mut std::fs::File,
    ctx: &mut ring::digest::Context,
) -> std::io::Result<u64> {
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        ctx.update(&buf[..n]);
        total += n as u64;
    }
}

fn download(r: &Remote) -> Result<()> {
    let part = with_suffix(&r.dest, ".part");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&part)
        .map_err(|e| Error::io(&part, e))?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut have = hash_existing(&mut file, &mut ctx).map_err(|e| Error::io(&part, e))?;
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("genrelab/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        // No limit on the whole transfer (the blocking client's default is
        // 30 s, less than a large model takes on a slow line).
        .timeout(None)
        .build()
        .map_err(|e| Error::invalid(format!("cannot start an HTTP client: {e}")))?;
    let mut request = client.get(&r.url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let failed = |why: String| Error::invalid(format!("fetching {}: {why}", r.url));
    let mut response = request.send().map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    if status == reqwest::StatusCode::PARTIAL_CONTENT {
        // The server resumes where the part file ends.
    } else if status.is_success() {
        // The whole file again (no Range support): start over.
        file.set_len(0).map_err(|e| Error::io(&part, e))?;
        ctx = ring::digest::Context::new(&ring::digest::SHA256);
        have = 0;
    } else if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE && have > 0 {
        // The part file is already whole (cut after the last byte).
    } else {
        return Err(failed(format!(
            "the server answered HTTP {}{}",
            status.as_u16(),
            status
                .canonical_reason()
                .map(|r| format!(" {r}"))
                .unwrap_or_default()
        )));
    }
    let total = response.content_length().map(|n| n + have);
    let mut bar =
        crate::progress::Progress::new(r.name.to_string(), total.unwrap_or(0) as usize, "B");
    let mut buf = vec![0u8; 1 << 16];
    if status != reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        loop {
            let n = match response.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    return Err(failed(format!(
                        "the connection broke after {have} bytes ({e}); run again to resume from there"
                    )));
                }
            };
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).map_err(|e| Error::io(&part, e))?;
            ctx.update(&buf[..n]);
            have += n as u64;
            bar.update(have as usize, "");
            if crate::interrupt::requested() {
                return Err(Error::Interrupted);
            }
        }
    }
    file.sync_all().map_err(|e| Error::io(&part, e))?;
    drop(file);
    if let Some(t) = total.filter(|t| have < *t) {
        return Err(failed(format!(
            "the connection ended after {have} of {t} bytes; run again to resume"
        )));
    }
    let digest: String = ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Err(why) = r.check.verify(&digest, &r.url) {
        let _ = std::fs::remove_file(&part);
        return Err(Error::file(&r.dest, why));
    }
    std::fs::rename(&part, &r.dest).map_err(|e| Error::io(&r.dest, e))
}

/// What the cache holds: each file's path below the cache and its size.
pub fn list() -> Result<Vec<(String, u64)>> {
    let root = cache_dir();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(meta) = entry.metadata() {
                let shown = path.strip_prefix(&root).unwrap_or(&path);
                out.push((shown.display().to_string(), meta.len()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A sha256 in hex: 64 hex digits.
fn sha256_hex(v: &crate::options::Value) -> std::result::Result<(), String> {
    match v.text() {
        Some(s) if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) => Ok(()),
        Some(s) => Err(format!(
            "; it has {} characters, a sha256 has 64 hex digits",
            s.len()
        )),
        None => Err(String::new()),
    }
}

/// A file name without folders.
fn plain_name(v: &crate::options::Value) -> std::result::Result<(), String> {
    match v.text() {
        Some(s) if !s.is_empty() && !s.contains(['/', '\\']) && s != "." && s != ".." => Ok(()),
        Some(_) => Err("; give a file name without folders".into()),
        None => Err(String::new()),
    }
}

crate::options! {
    /// `data::fetch`: how the downloaded file is checked and named.
    pub struct FetchOptions for "data::fetch" {
        /// the file's sha256 in hex: a download that differs is removed and refused
        sha256: Option<String> = None => Custom { expected: "a sha256 in hex", check: sha256_hex }; shown "()",
        /// its name in the cache's downloads/ folder (default: the URL's last part)
        file: Option<String> = None => Custom { expected: "a file name", check: plain_name }; shown "()",
    }
}

/// `url` fetched into the cache's `downloads/` folder (once).
pub fn fetch_url(url: &str, o: &FetchOptions) -> Result<PathBuf> {
    let file = match &o.file {
        Some(f) => f.clone(),
        None => url
            .split(['?', '#'])
            .next()
            .and_then(|u| u.rsplit('/').next())
            .filter(|f| !f.is_empty() && f.contains('.'))
            .map(str::to_string)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "data::fetch: cannot tell a file name from {url:?}; give the option 'file'"
                ))
            })?,
    };
    fetch(&Remote {
        url: url.to_string(),
        dest: cache_dir().join("downloads").join(&file),
        check: o.sha256.as_deref().map_or(Check::Unchecked, Check::Sha256),
        name: &file,
    })
}
