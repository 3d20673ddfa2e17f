//! The record of a run (`genrelab run … --report FILE.html|.md`, the REPL's
//! `:report`): everything the script printed, in order, with the tables of
//! `std/table` kept as tables, every figure `plot::*` wrote at the point it
//! was written, warnings, and the final error. One self-contained file.
//!
//! The recorder is per thread (scripts run on the main thread; rayon
//! workers never print) and costs nothing when no report was asked for:
//! every hook first checks whether recording is on.
//!
//! The same hooks feed a [`Listener`], if one is set on the thread: the
//! Jupyter kernel shows each line, table, figure and warning as the cell's
//! output the moment it happens.

mod highlight;
pub mod html;
pub mod markdown;

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// One thing that happened, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    /// A printed line.
    Text(String),
    /// A table `std/table` printed: header and cells as shown, and which
    /// columns hold numbers (right-aligned).
    Table(Table),
    /// A figure, read back right after it was written (or, drawn for
    /// display only, as SVG with an empty path).
    Figure {
        path: String,
        bytes: Vec<u8>,
        svg: bool,
    },
    Warning(String),
    /// An error that did not end the record (a failed REPL input).
    Error(String),
}

/// The entries as the page shows them: runs of printed lines joined into
/// one block, every other entry on its own.
pub enum Block<'a> {
    Lines(Vec<&'a str>),
    Other(&'a Entry),
}

pub fn blocks(entries: &[Entry]) -> Vec<Block<'_>> {
    let mut out: Vec<Block> = Vec::new();
    for entry in entries {
        match (entry, out.last_mut()) {
            (Entry::Text(line), Some(Block::Lines(lines))) => lines.push(line),
            (Entry::Text(line), _) => out.push(Block::Lines(vec![line])),
            (other, _) => out.push(Block::Other(other)),
        }
    }
    out
}

/// What the header shows.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The script's path (or "REPL session").
    pub script: String,
    pub args: Vec<String>,
    /// The script's text (the REPL: its inputs), shown highlighted.
    pub source: String,
    pub data_dir: String,
    /// The last `data::seed(n)`, if the script set one.
    pub seed: Option<u32>,
    pub started_unix: u64,
    pub wall_s: f64,
    pub cores: usize,
}

#[derive(Debug)]
struct Recorder {
    entries: Vec<Entry>,
    seed: Option<u32>,
    started: Instant,
    started_unix: u64,
    /// REPL inputs, in order (the session's "source").
    inputs: Vec<String>,
}

/// Who else hears what a script shows, as it shows it.
pub trait Listener {
    /// A line printed with `print`.
    fn text(&self, line: &str);
    /// A line for stderr (`debug`).
    fn stderr(&self, line: &str);
    /// A table, and the text it is printed as.
    fn table(&self, table: &Table, printed: &str);
    /// A figure: PNG bytes and SVG text of the same drawing; `caption` is
    /// its path, or empty when it was drawn for display only.
    fn figure(&self, caption: &str, png: &[u8], svg: &str);
    fn warning(&self, message: &str);
}

/// A table as `std/table` or a metrics report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Which columns hold numbers (right-aligned).
    pub numeric: Vec<bool>,
}

thread_local! {
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
    static LISTENER: RefCell<Option<Rc<dyn Listener>>> = const { RefCell::new(None) };
    /// Text printed right after a table was shown as a table: neither
    /// recorded nor heard a second time as lines.
    static SKIP_TEXT: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn with<T>(f: impl FnOnce(&mut Recorder) -> T) -> Option<T> {
    RECORDER.with(|r| r.borrow_mut().as_mut().map(f))
}

fn listener() -> Option<Rc<dyn Listener>> {
    LISTENER.with(|l| l.borrow().clone())
}

/// Sets (or with `None` removes) this thread's listener.
pub fn listen(listener: Option<Rc<dyn Listener>>) {
    LISTENER.with(|l| *l.borrow_mut() = listener);
}

/// Whether a report or a listener wants tables and figures as such.
pub fn is_collecting() -> bool {
    is_recording() || LISTENER.with(|l| l.borrow().is_some())
}

/// Starts recording on this thread (a fresh record).
pub fn start() {
    RECORDER.with(|r| {
        *r.borrow_mut() = Some(Recorder {
            entries: Vec::new(),
            seed: None,
            started: Instant::now(),
            inputs: Vec::new(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        })
    });
}

pub fn is_recording() -> bool {
    RECORDER.with(|r| r.borrow().is_some())
}

/// A line the script printed.
pub fn text(line: &str) {
    let shown_as_table = SKIP_TEXT.with(|s| {
        let mut s = s.borrow_mut();
        let skip = s.as_deref() == Some(line);
        if skip {
            *s = None;
        }
        skip
    });
    if shown_as_table {
        return;
    }
    with(|r| r.entries.push(Entry::Text(line.to_string())));
    if let Some(l) = listener() {
        l.text(line);
    }
}

/// A line of `debug` output: recorded as text, heard as stderr.
pub fn stderr(line: &str) {
    with(|r| r.entries.push(Entry::Text(line.to_string())));
    if let Some(l) = listener() {
        l.stderr(line);
    }
}

/// A table about to be printed as `printed`.
pub fn table(columns: Vec<String>, rows: Vec<Vec<String>>, numeric: Vec<bool>, printed: &str) {
    if !is_collecting() {
        return;
    }
    let table = Table {
        columns,
        rows,
        numeric,
    };
    if let Some(l) = listener() {
        l.table(&table, printed);
    }
    with(|r| r.entries.push(Entry::Table(table)));
    SKIP_TEXT.with(|s| *s.borrow_mut() = Some(printed.to_string()));
}

/// The two formats a figure can be drawn in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ImageFormat {
    Png,
    Svg,
}

/// A figure: written to `path` already, or (`None`) drawn for display only.
/// `draw` renders it in memory in the format asked for; a report reads a
/// written file back instead, so it shows what was saved.
pub fn figure(
    path: Option<&Path>,
    draw: impl Fn(ImageFormat) -> std::result::Result<Vec<u8>, String>,
) -> Result<()> {
    let failed = |why: String| Error::invalid(format!("cannot draw the figure: {why}"));
    if let Some(l) = listener() {
        let png = draw(ImageFormat::Png).map_err(failed)?;
        let svg = draw(ImageFormat::Svg).map_err(failed)?;
        let caption = path.map(|p| p.display().to_string()).unwrap_or_default();
        l.figure(&caption, &png, &String::from_utf8_lossy(&svg));
    }
    if !is_recording() {
        return Ok(());
    }
    let (caption, bytes, svg) = match path {
        Some(path) => (
            path.display().to_string(),
            // A figure that cannot be read back is shown as its path alone.
            std::fs::read(path).unwrap_or_default(),
            path.extension().is_some_and(|e| e == "svg"),
        ),
        None => (String::new(), draw(ImageFormat::Svg).map_err(failed)?, true),
    };
    with(|r| {
        r.entries.push(Entry::Figure {
            path: caption,
            bytes,
            svg,
        })
    });
    Ok(())
}

/// Prints a warning to stderr and records it.
pub fn warning(message: &str) {
    eprintln!("warning: {message}");
    with(|r| r.entries.push(Entry::Warning(message.to_string())));
    if let Some(l) = listener() {
        l.warning(message);
    }
}

/// A failed REPL input's rendered error.
pub fn error(rendered: &str) {
    with(|r| r.entries.push(Entry::Error(rendered.to_string())));
}

/// One REPL input.
pub fn input(text: &str) {
    with(|r| r.inputs.push(text.trim_end().to_string()));
}

/// The REPL inputs so far, one per line group.
pub fn inputs() -> String {
    with(|r| r.inputs.join("\n")).unwrap_or_default()
}

pub fn seed(n: u32) {
    with(|r| r.seed = Some(n));
}

/// The record so far (recording goes on).
pub fn snapshot() -> Option<(Vec<Entry>, Option<u32>, u64, f64)> {
    RECORDER.with(|r| {
        r.borrow().as_ref().map(|r| {
            (
                r.entries.clone(),
                r.seed,
                r.started_unix,
                r.started.elapsed().as_secs_f64(),
            )
        })
    })
}

/// Writes the report of what was recorded so far to `path` (`.html` or
/// `.md`), atomically; `error` is the run's rendered error, if it failed.
pub fn write(path: &Path, mut info: RunInfo, error: Option<&str>) -> Result<()> {
    let (entries, seed, started, wall) = snapshot().ok_or_else(|| {
        Error::invalid("--report: nothing was recorded (recording was not started)")
    })?;
    info.seed = seed;
    info.started_unix = started;
    info.wall_s = wall;
    info.cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let text = match report_format(path)? {
        Format::Html => html::render(&info, &entries, error),
        Format::Markdown => markdown::render(&info, &entries, error),
    };
    crate::io_util::write_bytes_atomic(path, text.as_bytes())
}

enum Format {
    Html,
    Markdown,
}

fn report_format(path: &Path) -> Result<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => Ok(Format::Html),
        Some("md") => Ok(Format::Markdown),
        _ => Err(Error::invalid(format!(
            "--report {}: the report is written as .html or .md; give a file name ending in one of them",
            path.display()
        ))),
    }
}

/// Checks a report path before the run starts, so a typo does not cost a
/// whole run: the format and the folder.
pub fn check_path(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::invalid(format!(
            "--report {}: that is a folder; give a file inside it, e.g. {}",
            path.display(),
            path.join("report.html").display()
        )));
    }
    report_format(path)?;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(Error::invalid(format!(
            "--report {}: folder '{}' does not exist",
            path.display(),
            folder.display()
        )));
    }
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a Unix time (Howard Hinnant's civil_from_days).
pub fn utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Standard base64 (RFC 4648, padded), for data URIs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The SVG as an element to inline: the XML declaration and doctype
/// dropped, and the namespace declaration too (HTML puts `<svg>` in its
/// namespace itself), so the page names no URL at all.
pub fn svg_element(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.find("<svg") {
        Some(at) => text[at..]
            .trim_end()
            .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_dates_match_python() {
        // base64.b64encode(b"") / b"f" / b"fo" / b"foo" / b"foobar" (RFC 4648 test vectors)
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // datetime.datetime.fromtimestamp(1796207400, datetime.UTC)
        assert_eq!(utc(1_796_207_400), "2026-12-02 10:30:00 UTC");
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn tables_replace_their_printed_text_and_order_is_kept() {
        start();
        text("before");
        table(
            vec!["a".into()],
            vec![vec!["1".into()]],
            vec![true],
            "a\n-\n1",
        );
        text("a\n-\n1");
        text("after");
        let (entries, ..) = snapshot().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0], Entry::Text("before".into()));
        assert!(matches!(entries[1], Entry::Table(_)));
        assert_eq!(entries[2], Entry::Text("after".into()));
        RECORDER.with(|r| *r.borrow_mut() = None);
        text("not recorded");
        assert!(snapshot().is_none());
    }
}
