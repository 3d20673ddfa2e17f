//! How a cell's value is shown in a notebook: its text, as the REPL echoes
//! it, and for tabular values (Movies, Matrix, Labels, a metrics report, an
//! array of maps as `std/table` prints it) an HTML table too. Help pages
//! also come as Markdown.

use rhai::{Array, Dynamic, Map};
use serde_json::{Value, json};

use crate::data::{Labels, Movies};
use crate::docs::HelpText;
use crate::matrix::Matrix;
use crate::metrics::labelled::Report;
use crate::record::Table;
use crate::record::html::{self, escape};
use crate::session::Session;

/// Rows shown in an HTML preview; the caption says how many there are.
const ROWS: usize = 10;
/// Columns of a matrix shown.
const COLS: usize = 12;

/// The MIME bundle of `value`: `None` for unit and for the empty string
/// (what a plot without a path returns: its figure is already shown).
pub fn bundle(session: &mut Session, value: &Dynamic) -> Option<serde_json::Map<String, Value>> {
    let text = session.display(value)?;
    if text.is_empty() {
        return None;
    }
    let mut data = serde_json::Map::new();
    if let Some(help) = value.read_lock::<HelpText>() {
        data.insert("text/markdown".into(), json!(help_markdown(&help.0)));
    }
    if let Some(page) = html_of(value) {
        data.insert("text/html".into(), json!(page));
    }
    data.insert("text/plain".into(), json!(text));
    Some(data)
}

/// A help page (signature, blank line, Markdown doc) with the signature as code.
pub fn help_markdown(page: &str) -> String {
    page.split("\n\n----\n\n")
        .map(|one| match one.split_once("\n\n") {
            Some((signature, doc)) => format!("```rhai\n{signature}\n```\n\n{doc}"),
            None => format!("```rhai\n{one}\n```"),
        })
        .collect::<Vec<_>>()
        .join("\n\n---\n\n")
}

fn html_of(value: &Dynamic) -> Option<String> {
    if let Some(m) = value.read_lock::<Movies>() {
        return Some(movies(&m));
    }
    if let Some(m) = value.read_lock::<Matrix>() {
        return Some(matrix(&m));
    }
    if let Some(y) = value.read_lock::<Labels>() {
        return Some(labels(&y));
    }
    if let Some(r) = value.read_lock::<Report>() {
        let (columns, rows, numeric) = r.table();
        return Some(html::table(&Table {
            columns,
            rows,
            numeric,
        }));
    }
    if let Some(rows) = value.read_lock::<Array>() {
        return records(&rows);
    }
    None
}

/// A caption line, the table, and "… N more rows" when cut.
fn page(caption: &str, table: &Table, more_rows: usize) -> String {
    let mut out = format!("<p>{}</p>\n{}", escape(caption), html::table(table));
    if more_rows > 0 {
        out.push_str(&format!("<p>… {more_rows} more rows</p>\n"));
    }
    out
}

fn movies(m: &Movies) -> String {
    let n = m.len().min(ROWS);
    let years: Vec<String> = m.release_dates().map_or_else(
        || vec![String::new(); n],
        |d| d.take(n).map(|s| s.chars().take(4).collect()).collect(),
    );
    let rows = m
        .ids()
        .zip(m.titles())
        .zip(m.genres())
        .zip(years)
        .take(n)
        .map(|(((id, title), genres), year)| {
            vec![id.to_string(), title.to_string(), year, genres.join(", ")]
        })
        .collect();
    let mut caption = format!("Movies: {} rows", m.len());
    if let Ok(splits) = m.split_counts()
        && !splits.is_empty()
    {
        let parts: Vec<String> = splits.iter().map(|(s, k)| format!("{s} {k}")).collect();
        caption.push_str(&format!(" ({})", parts.join(", ")));
    }
    let table = Table {
        columns: ["id", "title", "year", "genres"].map(String::from).to_vec(),
        rows,
        numeric: vec![true, false, true, false],
    };
    page(&caption, &table, m.len() - n)
}

fn matrix(m: &Matrix) -> String {
    let (rows, cols) = (m.rows().min(ROWS), m.cols().min(COLS));
    let values = m.values();
    let integral = (0..rows)
        .flat_map(|i| (0..cols).map(move |j| values[[i, j]]))
        .all(|v| v == v.trunc() && v.abs() < 1e7);
    let mut columns = vec![String::new()];
    columns.extend((0..cols).map(|j| {
        m.col_names()
            .map_or_else(|| j.to_string(), |names| names[j].clone())
    }));
    if m.cols() > cols {
        columns.push("…".into());
    }
    let body = (0..rows)
        .map(|i| {
            let mut row = vec![
                m.row_names()
                    .map_or_else(|| i.to_string(), |n| n[i].clone()),
            ];
            row.extend((0..cols).map(|j| {
                let v = values[[i, j]];
                if integral {
                    format!("{v:.0}")
                } else {
                    format!("{v:.4}")
                }
            }));
            if m.cols() > cols {
                row.push("…".into());
            }
            row
        })
        .collect();
    let mut numeric = vec![true; columns.len()];
    numeric[0] = false;
    let table = Table {
        columns,
        rows: body,
        numeric,
    };
    let caption = format!("Matrix {} × {} (f32)", m.rows(), m.cols());
    page(&caption, &table, m.rows() - rows)
}

fn labels(y: &Labels) -> String {
    let n = y.rows();
    let rows = y
        .names()
        .iter()
        .zip(y.counts())
        .map(|(name, count)| {
            let share = if n == 0 {
                0.0
            } else {
                100.0 * count as f64 / n as f64
            };
            vec![name.clone(), count.to_string(), format!("{share:.1}%")]
        })
        .collect();
    let table = Table {
        columns: ["label", "count", "share"].map(String::from).to_vec(),
        rows,
        numeric: vec![false, true, true],
    };
    page(
        &format!("Labels: {} rows × {} labels", n, y.cols()),
        &table,
        0,
    )
}

/// An array of maps with the same keys (what `std/table` shows), as a table
/// with the first map's key order; anything else has no HTML.
fn records(rows: &Array) -> Option<String> {
    let first = rows.first()?.read_lock::<Map>()?.clone();
    let columns: Vec<String> = first.keys().map(|k| k.to_string()).collect();
    let mut cells = Vec::with_capacity(rows.len().min(ROWS * 10));
    for row in rows.iter().take(ROWS * 10) {
        let map = row.read_lock::<Map>()?;
        if map.len() != columns.len() || !columns.iter().all(|c| map.contains_key(c.as_str())) {
            return None;
        }
        cells.push(columns.iter().map(|c| cell(&map[c.as_str()])).collect());
    }
    let numeric = columns
        .iter()
        .map(|c| first[c.as_str()].is_int() || first[c.as_str()].is_float())
        .collect();
    let table = Table {
        columns,
        rows: cells,
        numeric,
    };
    let shown = table.rows.len();
    Some(page(
        &format!("{} rows", rows.len()),
        &table,
        rows.len() - shown,
    ))
}

/// As `std/table` formats a cell: floats with 3 decimals, `()` empty.
fn cell(v: &Dynamic) -> String {
    if let Ok(f) = v.as_float() {
        format!("{f:.3}")
    } else if v.is_unit() {
        String::new()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(code: &str) -> serde_json::Map<String, Value> {
        let (mut session, _) = Session::capturing(Err("no data".into()));
        let value = session.eval(code, "t").unwrap();
        bundle(&mut session, &value).expect("a value to show")
    }

    #[test]
    fn tabular_values_come_with_an_html_table() {
        let m = shown("data::matrix([[1, 2], [3, 4]])");
        assert_eq!(
            m["text/plain"].as_str().unwrap().lines().next(),
            Some("Matrix 2 × 2 (f32)")
        );
        let html = m["text/html"].as_str().unwrap();
        assert!(html.contains("<p>Matrix 2 × 2 (f32)</p>"), "{html}");
        assert!(html.contains("<td class=\"num\">4</td>"), "{html}");

        let y = shown(
            "data::binarizer([[\"a\"], [\"b\", \"a\"]]).transform([[\"a\"], [\"b\", \"a\"]])",
        );
        let html = y["text/html"].as_str().unwrap();
        assert!(
            html.contains("<td style=\"text-align: left\">a</td><td class=\"num\">2</td><td class=\"num\">100.0%</td>"),
            "{html}"
        );

        let t = shown("[#{ genre: \"Drama\", f1: 0.5 }, #{ genre: \"War\", f1: 0.25 }]");
        let html = t["text/html"].as_str().unwrap();
        assert!(
            html.contains("<th style=\"text-align: left\">genre</th><th class=\"num\">f1</th>")
                || html
                    .contains("<th class=\"num\">f1</th><th style=\"text-align: left\">genre</th>"),
            "{html}"
        );
        assert!(html.contains("0.250"), "{html}");

        let r = shown(
            "let b = data::binarizer([[\"a\"], [\"b\"]]); metrics::report(b.transform([[\"a\"], [\"b\"]]), b.transform([[\"a\"], []]))",
        );
        assert!(
            r["text/html"]
                .as_str()
                .unwrap()
                .contains("<th class=\"num\">precision</th>")
        );
    }

    #[test]
    fn plain_values_are_text_only_and_unit_is_nothing() {
        let n = shown("1 + 2 + 3");
        assert_eq!(n.len(), 1);
        assert_eq!(n["text/plain"], "6");
        let mixed = shown("[1, #{ a: 1 }]");
        assert!(!mixed.contains_key("text/html"));
        let (mut session, _) = Session::capturing(Err("no data".into()));
        assert!(bundle(&mut session, &Dynamic::UNIT).is_none());
        assert!(bundle(&mut session, &Dynamic::from("")).is_none());
    }

    #[test]
    fn help_pages_are_markdown_with_the_signature_as_code() {
        let h = shown("help(\"data::matrix\")");
        let md = h["text/markdown"].as_str().unwrap();
        assert!(md.starts_with("```rhai\ndata::matrix("), "{md}");
        assert!(md.contains("```rhai\n"), "the example stays a code block");
    }
}
