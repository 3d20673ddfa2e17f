//! Any other table: a CSV or JSON file read into plain values, with the
//! file, line and column of anything malformed.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::options::Value;

/// One CSV cell, typed the way pandas' `read_csv` would guess it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
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
    let bytes = crate::io_util::read_text_file(path)?;
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

/// `[one ASCII character]` for `delimiter`.
fn one_ascii_char(v: &Value) -> std::result::Result<(), String> {
    match v.text() {
        Some(s) if s.len() == 1 && s.is_ascii() => Ok(()),
        _ => Err(String::new()),
    }
}

crate::options! {
    /// `data::csv`: how a CSV file is read.
    pub struct CsvOptions for "data::csv" {
        /// the field separator; "\t" for TSV
        delimiter: String = ",".into() => Custom { expected: "one ASCII character", check: one_ascii_char },
        /// false keeps every cell a string
        infer: bool = true => Bool,
    }
}

/// The rows of a CSV file as column name → cell.
pub fn read_records(path: &Path, o: &CsvOptions) -> Result<Vec<BTreeMap<String, Cell>>> {
    let delimiter = o.delimiter.as_bytes().first().copied().unwrap_or(b',');
    let table = read_csv(path, delimiter, o.infer)?;
    let keys = &table.header;
    Ok(table
        .rows
        .into_iter()
        .map(|row| keys.iter().cloned().zip(row).collect())
        .collect())
}

/// One cell of a table being written, as text; the error names its row
/// and column.
fn cell_text(v: &Value, row: usize, column: &str) -> Result<String> {
    Ok(match v {
        Value::Unit => String::new(),
        Value::Float(f) => f.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Text(s) => s.clone(),
        other => {
            return Err(Error::invalid(format!(
                "data::write_csv: row {row}, column '{column}' is {other}; cells must be numbers, strings, booleans or ()"
            )));
        }
    })
}

/// Writes `rows` (maps) as CSV with these `columns`, atomically.
pub fn write_csv(path: &Path, rows: &[Value], columns: &[String]) -> Result<()> {
    if columns.is_empty() {
        return Err(Error::invalid("data::write_csv: no columns to write"));
    }
    for (j, c) in columns.iter().enumerate() {
        if let Some(first) = columns[..j].iter().position(|d| d == c) {
            return Err(Error::invalid(format!(
                "data::write_csv: column '{c}' is given twice (columns {first} and {j}); \
                 a CSV with a repeated header cannot be read back by data::csv"
            )));
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| Error::invalid(format!("data::write_csv: {e}"));
    out.write_record(columns).map_err(csv_error)?;
    for (i, row) in rows.iter().enumerate() {
        let Value::Map(map) = row else {
            return Err(Error::invalid(format!(
                "data::write_csv: row {i} is {row}, expected a map"
            )));
        };
        let cells = columns
            .iter()
            .map(|c| match map.get(c.as_str()) {
                Some(v) => cell_text(v, i, c),
                None => Err(Error::invalid(format!(
                    "data::write_csv: row {i} has no '{c}' (it has {})",
                    map.keys()
                        .map(|k| format!("'{k}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            })
            .collect::<Result<Vec<_>>>()?;
        out.write_record(&cells).map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::invalid(format!("data::write_csv: {e}")))?;
    crate::io_util::write_bytes_atomic(path, &bytes)
}

/// `v` as JSON. `at` says where `v` is (`value.results[2].f1`) for the
/// messages; NaN and infinities become null (JSON has none) and their
/// places are added to `nulls`.
pub fn to_json(v: &Value, at: &str, nulls: &mut Vec<String>) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    Ok(match v {
        Value::Unit => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(x) => match serde_json::Number::from_f64(*x) {
            Some(n) => J::Number(n),
            None => {
                nulls.push(format!("{at} ({x})"));
                J::Null
            }
        },
        Value::Text(s) => J::String(s.clone()),
        Value::List(items) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| to_json(x, &format!("{at}[{i}]"), nulls))
                .collect::<Result<_>>()?,
        ),
        Value::Map(map) => J::Object(
            map.iter()
                .map(|(k, x)| Ok((k.clone(), to_json(x, &format!("{at}.{k}"), nulls)?)))
                .collect::<Result<_>>()?,
        ),
        other => {
            let hint = match other {
                Value::Matrix(_) | Value::Sparse(_) | Value::Labels(_) => " (its .to_array() is)",
                _ => "",
            };
            return Err(Error::invalid(format!(
                "data::write_json: {at} is {other}, which JSON cannot hold{hint}; \
                 JSON holds maps, arrays, strings, numbers, booleans and ()"
            )));
        }
    })
}

/// Writes `value` as indented JSON, atomically; NaN and infinite numbers
/// are written as null with a warning that says where.
pub fn write_json(path: &Path, value: &Value) -> Result<()> {
    let mut nulls = Vec::new();
    let json = to_json(value, "value", &mut nulls)?;
    if let Some(first) = nulls.first() {
        crate::record::warning(&format!(
            "data::write_json: {} number{} not finite and written as null (JSON has no NaN): {first}{}",
            nulls.len(),
            if nulls.len() == 1 { " is" } else { "s are" },
            if nulls.len() > 1 { ", …" } else { "" }
        ));
    }
    let mut text = serde_json::to_string_pretty(&json)
        .map_err(|e| Error::invalid(format!("data::write_json: {e}")))?;
    text.push('\n');
    crate::io_util::write_bytes_atomic(path, text.as_bytes())
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

    #[test]
    fn written_tables_name_the_bad_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let row = |v: Value| {
            let mut m = BTreeMap::new();
            m.insert("a".to_string(), v);
            Value::Map(m)
        };
        let e = write_csv(
            &path,
            &[row(Value::Int(1)), row(Value::List(vec![]))],
            &["a".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 1, column 'a' is []; cells must be"), "{e}");
        let e = write_csv(&path, &[Value::Int(3)], &["a".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "data::write_csv: row 0 is 3, expected a map");
        let e = write_csv(&path, &[row(Value::Int(1))], &["b".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 0 has no 'b' (it has 'a')"), "{e}");
        write_csv(
            &path,
            &[row(Value::Float(0.5)), row(Value::Unit)],
            &["a".into()],
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\n0.5\n\"\"\n");
        use crate::options::Options;
        let e = CsvOptions::parse([("delimiter".to_string(), Value::Text(";;".into()))].into())
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected one ASCII character"), "{e}");
    }
}
