//! Renders a script error the same way everywhere (runner and REPL):
//!
//! ```text
//! error: scripts/x.rhai:3:9: missing column 'overview'; columns present: id, title
//!   3 | let m = data::movies("x.csv");
//!     |         ^
//! ```
//!
//! Errors raised inside a function or an imported module are shown where
//! they happened, followed by the chain of calls that led there.

use rhai::{EvalAltResult, Position};

use crate::stdlib;

/// Source text by name: the main chunk, stdlib modules, or files on disk.
pub struct Sources<'a> {
    pub main_name: &'a str,
    pub main_text: &'a str,
}

impl Sources<'_> {
    fn text(&self, name: &str) -> Option<String> {
        if name.is_empty() || name == self.main_name {
            Some(self.main_text.to_string())
        } else if let Some(text) = stdlib::source(name) {
            Some(text.to_string())
        } else {
            std::fs::read_to_string(name).ok()
        }
    }
}

/// The message of one error level, without Rhai's position suffix.
fn message(err: &EvalAltResult) -> String {
    match err {
        EvalAltResult::ErrorRuntime(value, _) => match value.clone().into_string() {
            Ok(s) => s,
            Err(_) => format!("{value}"),
        },
        EvalAltResult::ErrorTerminated(..) => "interrupted (Ctrl-C)".to_string(),
        other => {
            let text = other.to_string();
            let pos = other.position();
            let suffix = format!(" ({pos})");
            match text.strip_suffix(&suffix) {
                Some(plain) if !pos.is_none() => plain.to_string(),
                _ => text,
            }
        }
    }
}

/// One located line: `name:line:col`, the source line and a caret.
fn locate(sources: &Sources<'_>, name: &str, pos: Position) -> String {
    let shown = if name.is_empty() {
        sources.main_name
    } else {
        name
    };
    let (Some(line), col) = (pos.line(), pos.position().unwrap_or(1)) else {
        return shown.to_string();
    };
    let mut out = format!("{shown}:{line}:{col}");
    if let Some(text) = sources.text(name)
        && let Some(src_line) = text.lines().nth(line - 1)
    {
        let gutter = line.to_string();
        // Keep tabs so the caret lines up with what the terminal shows.
        let pad: String = src_line
            .chars()
            .take(col.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        out.push_str(&format!(
            "\n {gutter} | {src_line}\n {} | {pad}^",
            " ".repeat(gutter.len())
        ));
    }
    out
}

/// The full report for `err`, which came from running `sources.main_name`.
pub fn render(err: &EvalAltResult, sources: &Sources<'_>) -> String {
    let mut trail: Vec<String> = Vec::new();
    let mut current = err;
    let mut source = String::new();
    // Walk down to the error that actually happened, noting each call on the way.
    loop {
        match current {
            EvalAltResult::ErrorInFunctionCall(name, fn_source, inner, pos) => {
                trail.push(format!(
                    "in call to function '{name}' at {}",
                    locate(sources, &source, *pos)
                        .lines()
                        .next()
                        .unwrap_or_default()
                ));
                source = fn_source.clone();
                current = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                trail.push(format!(
                    "in module '{path}' imported at {}",
                    locate(sources, &source, *pos)
                        .lines()
                        .next()
                        .unwrap_or_default()
                ));
                source = path.clone();
                current = inner;
            }
            _ => break,
        }
    }
    let place = locate(sources, &source, current.position());
    let (first, rest) = place.split_once('\n').unwrap_or((&place, ""));
    let mut out = format!("error: {first}: {}", message(current));
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(rest);
    }
    for step in trail.iter().rev() {
        out.push_str(&format!("\n  note: {step}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_the_column() {
        let text = "let a = 1;\nlet b = a +* 2;\n";
        let err = rhai::Engine::new().compile(text).unwrap_err();
        let shown = render(
            &err.into(),
            &Sources {
                main_name: "t.rhai",
                main_text: text,
            },
        );
        assert!(shown.starts_with("error: t.rhai:2:"), "{shown}");
        assert!(shown.contains(" 2 | let b = a +* 2;"), "{shown}");
        assert!(
            shown.lines().nth(2).unwrap().trim_end().ends_with('^'),
            "{shown}"
        );
    }
}
