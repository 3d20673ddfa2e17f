//! The record as one self-contained HTML page: styles inline, figures
//! inline (SVG as elements, PNG as data URIs), nothing fetched. The markup
//! is also well-formed XML (tests parse it strictly).

pub use super::highlight::escape;
use super::highlight::rhai;
use super::{Block, Entry, RunInfo, Table, base64, blocks, svg_element, utc};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1d1d1f}\
h1{font-size:1.4em;margin-bottom:.3em}table.info td{padding:.1em 1em .1em 0;vertical-align:top}table.info td:first-child{color:#666}\
pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:.85em;line-height:1.35;margin:.4em 0;white-space:pre-wrap}\
pre.out{background:#f6f8fa;padding:.6em .8em;border-radius:4px}\
pre.src{background:#fbfbfb;border:1px solid #e5e5e5;padding:.6em .8em;counter-reset:line}\
.k{color:#8250df;font-weight:600}.s{color:#0a3069}.c{color:#6e7781;font-style:italic}.n{color:#0550ae}.m{color:#953800}\
table.t{border-collapse:collapse;margin:.6em 0;font-size:.85em;font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace}\
table.t th,table.t td{border-bottom:1px solid #e5e5e5;padding:.2em .7em;text-align:left}table.t td.num,table.t th.num{text-align:right}table.t th{border-bottom:2px solid #999}\
figure{margin:1em 0}figure svg,figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#666;font-size:.8em}\
div.warn{background:#fff8c5;border-left:4px solid #d4a72c;padding:.3em .8em;margin:.4em 0;font-size:.9em}\
div.error{background:#ffebe9;border-left:4px solid #cf222e;padding:.3em .8em;margin:1em 0}summary{cursor:pointer;color:#444}";

fn info_row(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!(
        "<tr><td>{}</td><td>{}</td></tr>\n",
        escape(name),
        escape(value)
    ));
}

pub fn render(info: &RunInfo, entries: &[Entry], error: Option<&str>) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str(&format!(
        "<title>genrelab: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&info.script)
    ));
    out.push_str(&format!(
        "<h1>{}</h1>\n<table class=\"info\">\n",
        escape(&info.script)
    ));
    let args = if info.args.is_empty() {
        "(none)".to_string()
    } else {
        info.args.join(" ")
    };
    info_row(&mut out, "arguments", &args);
    info_row(&mut out, "genrelab", env!("CARGO_PKG_VERSION"));
    info_row(
        &mut out,
        "seed",
        &info.seed.map_or(
            "0 (the session default; the script did not call data::seed)".into(),
            |s| format!("{s} (data::seed)"),
        ),
    );
    info_row(&mut out, "data folder", &info.data_dir);
    info_row(&mut out, "started", &utc(info.started_unix));
    info_row(&mut out, "wall time", &format!("{:.1} s", info.wall_s));
    info_row(&mut out, "cores", &info.cores.to_string());
    let status = match error {
        Some(_) => "failed (the error is at the end)",
        None => "finished",
    };
    info_row(&mut out, "result", status);
    out.push_str("</table>\n");
    out.push_str(&format!(
        "<details><summary>Source ({} lines)</summary>\n<pre class=\"src\">{}</pre>\n</details>\n<main>\n",
        info.source.lines().count(),
        rhai(&info.source)
    ));
    for block in blocks(entries) {
        let entry = match block {
            Block::Lines(lines) => {
                out.push_str(&format!(
                    "<pre class=\"out\">{}</pre>\n",
                    escape(&lines.join("\n"))
                ));
                continue;
            }
            Block::Other(entry) => entry,
        };
        match entry {
            Entry::Text(_) => {}
            Entry::Table(t) => out.push_str(&table(t)),
            Entry::Figure { path, bytes, svg } => {
                out.push_str("<figure>\n");
                if bytes.is_empty() {
                    out.push_str("<p>(the file could not be read back)</p>\n");
                } else if *svg {
                    out.push_str(&svg_element(bytes));
                    out.push('\n');
                } else {
                    out.push_str(&format!(
                        "<img alt=\"{}\" src=\"data:image/png;base64,{}\"/>\n",
                        escape(path),
                        base64(bytes)
                    ));
                }
                out.push_str(&format!(
                    "<figcaption>{}</figcaption>\n</figure>\n",
                    escape(path)
                ));
            }
            Entry::Warning(w) => {
                out.push_str(&format!(
                    "<div class=\"warn\">warning: {}</div>\n",
                    escape(w)
                ));
            }
            Entry::Error(e) => {
                out.push_str(&format!(
                    "<div class=\"error\"><pre>{}</pre></div>\n",
                    escape(e)
                ));
            }
        }
    }
    out.push_str("</main>\n");
    if let Some(e) = error {
        out.push_str(&format!(
            "<div class=\"error\"><pre>{}</pre></div>\n",
            escape(e)
        ));
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// A table as an HTML `<table class="t">` (numbers right-aligned by class).
pub fn table(t: &Table) -> String {
    // Text columns carry their alignment inline: JupyterLab right-aligns
    // every cell of an output table and does not see the report's stylesheet.
    let left = |k: usize| {
        if t.numeric.get(k) == Some(&true) {
            " class=\"num\""
        } else {
            " style=\"text-align: left\""
        }
    };
    let mut out = String::from("<table class=\"t\">\n<tr>");
    for (k, c) in t.columns.iter().enumerate() {
        out.push_str(&format!("<th{}>{}</th>", left(k), escape(c)));
    }
    out.push_str("</tr>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (k, cell) in row.iter().enumerate() {
            out.push_str(&format!("<td{}>{}</td>", left(k), escape(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}
