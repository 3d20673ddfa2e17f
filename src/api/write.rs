//! `data::write_csv` / `data::write_json` — results tables out of a script,
//! for a spreadsheet, pandas or another tool. Both write atomically.

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::convert::type_of;
use crate::error::{Error, Result};

/// One CSV cell: strings as they are, floats in full precision (so a reader
/// gets the numbers back exactly), `()` empty.
fn cell(v: &Dynamic, row: usize, column: &str) -> Result<String> {
    if v.is_unit() {
        Ok(String::new())
    } else if let Ok(f) = v.as_float() {
        Ok(f.to_string())
    } else if let Ok(i) = v.as_int() {
        Ok(i.to_string())
    } else if let Ok(b) = v.as_bool() {
        Ok(b.to_string())
    } else if v.is_string() {
        Ok(v.clone().into_string().unwrap_or_default())
    } else {
        Err(Error::invalid(format!(
            "data::write_csv: row {row}, column '{column}' is {}; cells must be numbers, strings, booleans or ()",
            type_of(v)
        )))
    }
}

pub fn write_csv(path: &str, rows: &Array, columns: &[String]) -> Result<()> {
    if columns.is_empty() {
        return Err(Error::invalid("data::write_csv: no columns to write"));
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| Error::invalid(format!("data::write_csv: {e}"));
    out.write_record(columns).map_err(csv_error)?;
    for (i, row) in rows.iter().enumerate() {
        let map = row.read_lock::<Map>().ok_or_else(|| {
            Error::invalid(format!(
                "data::write_csv: row {i} is {}, expected a map",
                type_of(row)
            ))
        })?;
        let cells = columns
            .iter()
            .map(|c| match map.get(c.as_str()) {
                Some(v) => cell(v, i, c),
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
    crate::io_util::write_bytes_atomic(std::path::Path::new(path), &bytes)
}

pub fn write_json(path: &str, value: &Dynamic) -> Result<()> {
    let json: serde_json::Value = rhai::serde::from_dynamic(value).map_err(|e| {
        Error::invalid(format!(
            "data::write_json: {e}; JSON holds maps, arrays, strings, numbers, booleans and ()"
        ))
    })?;
    let mut text = serde_json::to_string_pretty(&json)
        .map_err(|e| Error::invalid(format!("data::write_json: {e}")))?;
    text.push('\n');
    crate::io_util::write_bytes_atomic(std::path::Path::new(path), text.as_bytes())
}

#[export_module]
pub mod write_module {
    use rhai::{Array, Dynamic, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, strings};

    /// Writes rows (maps) as CSV with a header: one column per name in
    /// `columns`, in that order; floats in full precision, `()` empty,
    /// fields quoted where needed. Atomic (temporary file + rename).
    ///
    /// Arguments: `path`; `rows` — an array of maps; `columns` — the keys to write.
    ///
    /// Errors: a row that is not a map or lacks a column (row and key
    /// named); a cell that is not a number, string, boolean or `()`; the
    /// file cannot be written.
    ///
    /// ```rhai
    /// let p = data::temp_path("rows.csv");
    /// data::write_csv(p, [#{ model: "D1", f1: 0.62 }, #{ model: "B, GloVe", f1: 0.58 }], ["model", "f1"]);
    /// assert_eq(data::csv(p)[1].model, "B, GloVe");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_csv(
        ctx: NativeCallContext,
        path: &str,
        rows: Array,
        columns: Array,
    ) -> RhaiResult<()> {
        located(&ctx, || {
            let columns = strings(&columns, "data::write_csv: columns")?;
            super::write_csv(path, &rows, &columns)
        })
    }

    /// Writes a value (maps, arrays, strings, numbers, booleans, `()`) as
    /// indented JSON. Atomic (temporary file + rename).
    ///
    /// Errors: a value JSON cannot hold (a `Matrix`, say: use `.to_array()`);
    /// the file cannot be written.
    ///
    /// ```rhai
    /// let p = data::temp_path("result.json");
    /// data::write_json(p, #{ model: "D1", f1: 0.62, interval: [0.61, 0.63] });
    /// assert_eq(data::json(p).interval, [0.61, 0.63]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_json(ctx: NativeCallContext, path: &str, value: Dynamic) -> RhaiResult<()> {
        located(&ctx, || super::write_json(path, &value))
    }
}
