//! Any other table: a CSV or JSON file read into plain values, with the
//! file, line and column of anything malformed.

use std::path::Path;

use crate::error::{Error, Result};

/// One CSV cell, typed the way pandas' `read_csv` would guess it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Int(i64),
    Float(f64),
    Text(String),
}

impl Cell {
    fn infer(text: &str) -> Cell {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            Cell::Empty
        } else if let Ok(i) = trimmed.parse::<i64>() {
            Cell::Int(i)
        } else if let Ok(x) = trimmed.parse::<f64>() {
            Cell::Float(x)
        } else {
            Cell::Text(text.to_string())
        }
    }
}

/// A CSV file's header and rows.
#[derive(Debug)]
pub struct CsvTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A CSV header's column names, checked once for every reader: names are
/// trimmed (`id, title` from a hand-written file matches `title`), and a name
/// that appears twice is an error naming both positions — otherwise one of
/// the two columns would silently win.
pub fn header_names(path: &Path, record: &csv::StringRecord) -> Result<Vec<String>> {
    let names: Vec<String> = record.iter().map(|h| h.trim().to_string()).collect();
    for (j, name) in names.iter().enumerate() {
        if let Some(first) = names[..j].iter().position(|n| n == name) {
            return Err(Error::parse(
                path,
                1,
                format!(
                    "column '{name}' appears twice in the header (columns {} and {}); rename one",
                    first + 1,
                    j + 1
                ),
            ));
        }
    }
    Ok(names)
}

/// Reads `path` with the given delimiter; `infer` turns numeric-looking cells
/// into numbers and empty cells into [`Cell::Empty`], else every cell is text.
pub fn read_csv(path: &Path, delimiter: u8, infer: bool) -> Result<CsvTable> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.is_empty() {
        return Err(Error::file(
            path,
            "the file is empty; expected a header row",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(bytes.as_slice());
    let header = header_names(path, reader.headers().map_err(|e| csv_error(path, &[], e))?)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &header, e))?;
        rows.push(
            record
                .iter()
                .map(|f| {
                    if infer {
                        Cell::infer(f)
                    } else {
                        Cell::Text(f.to_string())
                    }
                })
                .collect(),
        );
    }
    Ok(CsvTable { header, rows })
}

/// A CSV reading error with the file, the line and the column it concerns.
pub fn csv_error(path: &Path, header: &[String], err: csv::Error) -> Error {
    let line = err.position().map_or(1, |p| p.line());
    match err.into_kind() {
        csv::ErrorKind::Io(source) => Error::io(path, source),
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = header.get(err.field()).map_or_else(
                || format!("field {}", err.field() + 1),
                |c| format!("'{c}'"),
            );
            Error::parse(
                path,
                line,
                format!("column {column} is not valid UTF-8 (save the file as UTF-8)"),
            )
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::parse(
            path,
            line,
            format!(
                "malformed row: {len} fields where the header has {expected_len} (check quoting)"
            ),
        ),
        other => Error::parse(path, line, format!("{other:?}")),
    }
}

/// Reads a JSON document; syntax errors name the line and column.
pub fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // Notepad and some exporters start UTF-8 files with a byte-order mark.
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&text);
    let text = std::str::from_utf8(text).map_err(|e| {
        let line = 1 + text[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::parse(path, line as u64, "not valid UTF-8")
    })?;
    serde_json::from_str(text).map_err(|e| {
        Error::parse(
            path,
            e.line() as u64,
            format!("column {}: {}", e.column(), json_reason(&e)),
        )
    })
}

/// serde_json's message without its trailing "at line L column C".
fn json_reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_like_pandas() {
        assert_eq!(Cell::infer("42"), Cell::Int(42));
        assert_eq!(Cell::infer("0.5"), Cell::Float(0.5));
        assert_eq!(Cell::infer(""), Cell::Empty);
        assert_eq!(Cell::infer("tt01"), Cell::Text("tt01".into()));
    }

    #[test]
    fn json_errors_have_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "[\n {\"a\": 1},\n {\"a\": }\n]").unwrap();
        let msg = read_json(&path).unwrap_err().to_string();
        assert!(msg.contains("bad.json:3: column 8"), "{msg}");
    }
}
