//! The record as Markdown: printed text in fenced blocks, tables as pipe
//! tables, figures as data-URI images, the source in a collapsible block.

use super::{Block, Entry, RunInfo, Table, base64, blocks, utc};

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

pub fn render(info: &RunInfo, entries: &[Entry], error: Option<&str>) -> String {
    let mut out = format!("# {}\n\n", info.script);
    let args = if info.args.is_empty() {
        "(none)".to_string()
    } else {
        format!("`{}`", info.args.join(" "))
    };
    out.push_str(&format!("- arguments: {args}\n"));
    out.push_str(&format!("- genrelab {}\n", env!("CARGO_PKG_VERSION")));
    out.push_str(&format!(
        "- seed: {}\n",
        info.seed
            .map_or("0 (the session default)".into(), |s| format!(
                "{s} (data::seed)"
            ))
    ));
    out.push_str(&format!("- data folder: `{}`\n", info.data_dir));
    out.push_str(&format!(
        "- started {}, wall time {:.1} s, {} cores\n",
        utc(info.started_unix),
        info.wall_s,
        info.cores
    ));
    out.push_str(&format!(
        "- result: {}\n\n",
        if error.is_some() {
            "failed (the error is at the end)"
        } else {
            "finished"
        }
    ));
    out.push_str(&format!(
        "<details><summary>Source ({} lines)</summary>\n\n```rhai\n{}\n```\n\n</details>\n\n",
        info.source.lines().count(),
        info.source.trim_end()
    ));
    for block in blocks(entries) {
        let entry = match block {
            Block::Lines(lines) => {
                out.push_str(&format!("```\n{}\n```\n\n", lines.join("\n")));
                continue;
            }
            Block::Other(entry) => entry,
        };
        match entry {
            Entry::Text(_) => {}
            Entry::Table(Table {
                columns,
                rows,
                numeric,
            }) => {
                let header: Vec<String> = columns.iter().map(|c| cell(c)).collect();
                out.push_str(&format!("| {} |\n", header.join(" | ")));
                let rule: Vec<&str> = (0..columns.len())
                    .map(|k| {
                        if numeric.get(k) == Some(&true) {
                            "---:"
                        } else {
                            "---"
                        }
                    })
                    .collect();
                out.push_str(&format!("| {} |\n", rule.join(" | ")));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
                    out.push_str(&format!("| {} |\n", cells.join(" | ")));
                }
                out.push('\n');
            }
            Entry::Figure { path, bytes, svg } => {
                let mime = if *svg { "image/svg+xml" } else { "image/png" };
                out.push_str(&format!(
                    "![{path}](data:{mime};base64,{})\n\n*{path}*\n\n",
                    base64(bytes)
                ));
            }
            Entry::Warning(w) => out.push_str(&format!("> **warning:** {w}\n\n")),
            Entry::Error(e) => out.push_str(&format!("```\n{e}\n```\n\n")),
        }
    }
    if let Some(e) = error {
        out.push_str(&format!("## Error\n\n```\n{e}\n```\n"));
    }
    out
}
