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

/// Where a file stops being UTF-8: its line, and the byte within the line.
pub fn not_utf8(name: &str, bytes: &[u8], valid_up_to: usize) -> String {
    let before = &bytes[..valid_up_to];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    format!(
        "{name}:{line}: not UTF-8: byte 0x{:02X} at byte {} of the line (byte {} of the file); save the script as UTF-8",
        bytes[valid_up_to],
        valid_up_to - line_start + 1,
        valid_up_to + 1
    )
}

/// Lines longer than this are shown as a window around the caret.
const WINDOW: usize = 100;

/// `line` cut to a window of about [`WINDOW`] characters around column
/// `col` (1-based), with `…` where text was left out, and the column of the
/// caret within what is shown.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= WINDOW + WINDOW / 2 {
        return (line.to_string(), col);
    }
    let at = col.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(WINDOW / 2);
    let end = (start + WINDOW).min(chars.len());
    let mut shown: String = if start > 0 {
        "…".into()
    } else {
        String::new()
    };
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, at - start + 1 + usize::from(start > 0))
}

/// Where the innermost bracket that is never closed was opened, as (line, column), skipping
/// strings, character literals and comments.
fn unclosed_bracket(text: &str) -> Option<(char, usize, usize)> {
    let mut open: Vec<(char, usize, usize)> = Vec::new();
    let (mut line, mut col) = (1, 0);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        col += 1;
        match c {
            '\n' => {
                line += 1;
                col = 0;
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        col = 0;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                col += 1;
                let mut prev = ' ';
                for c in chars.by_ref() {
                    col += 1;
                    if c == '\n' {
                        line += 1;
                        col = 0;
                    }
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '"' | '`' | '\'' => {
                let mut escaped = false;
                for d in chars.by_ref() {
                    col += 1;
                    if d == '\n' {
                        line += 1;
                        col = 0;
                    }
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == c {
                        break;
                    }
                }
            }
            '{' | '(' | '[' => open.push((c, line, col)),
            '}' | ')' | ']' => {
                open.pop();
            }
            _ => {}
        }
    }
    open.pop()
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
        let (src_line, col) = window(src_line, col);
        let src_line = src_line.as_str();
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
    // A bracket never closed makes the parser fail far from it (often at the
    // end of the file): say where it opened, for any syntax error, and when
    // the parser stopped at the end of the file, point the caret there.
    let unclosed = match current {
        EvalAltResult::ErrorParsing(..) => sources
            .text(&source)
            .and_then(|text| unclosed_bracket(&text).map(|b| (b, text.lines().count()))),
        _ => None,
    };
    let mut pos = current.position();
    if let Some(((_, line, col), lines)) = unclosed
        && pos.line().is_none_or(|l| l > lines)
    {
        pos = rhai::Position::new(line as u16, col as u16);
    }
    let place = locate(sources, &source, pos);
    let (first, rest) = place.split_once('\n').unwrap_or((&place, ""));
    let mut out = format!("error: {first}: {}", message(current));
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(rest);
    }
    for step in trail.iter().rev() {
        out.push_str(&format!("\n  note: {step}"));
    }
    if let Some(((bracket, line, col), _)) = unclosed {
        let shown = if source.is_empty() {
            sources.main_name
        } else {
            &source
        };
        out.push_str(&format!(
            "\n  note: the '{bracket}' opened at {shown}:{line}:{col} is never closed"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str) -> String {
        let err = rhai::Engine::new().compile(text).unwrap_err();
        render(
            &err.into(),
            &Sources {
                main_name: "t.rhai",
                main_text: text,
            },
        )
    }

    #[test]
    fn an_unclosed_bracket_is_named_where_it_opened() {
        let shown = rendered(
            "let a = 1;\nfn f(x) {\n  let s = \"}\"; // }\n  if x { 1 } else { 2 }\n\nprint(a);\n",
        );
        assert!(
            shown.contains("note: the '{' opened at t.rhai:2:9 is never closed"),
            "{shown}"
        );
        let shown = rendered("let a = 1;\nprint(a +\n  2\n");
        assert!(shown.contains("the '(' opened at t.rhai:2:6"), "{shown}");
        // Stopped at the end of the file: the caret goes to the bracket.
        let shown = rendered("let x = 1;\nlet y = [1, 2,\n");
        assert!(shown.starts_with("error: t.rhai:2:9: "), "{shown}");
        assert!(
            shown.contains(" 2 | let y = [1, 2,\n   |         ^"),
            "{shown}"
        );
    }

    #[test]
    fn long_lines_show_a_window_around_the_caret() {
        let text = format!("let a = [{}1 +* 2];\n", "0, ".repeat(20_000));
        let shown = rendered(&text);
        let source_line = shown.lines().nth(1).unwrap();
        assert!(source_line.chars().count() < 130, "{}", source_line.len());
        assert!(
            source_line.contains("…") && source_line.contains("1 +* 2"),
            "{source_line}"
        );
        let caret = shown.lines().nth(2).unwrap();
        let at = caret.chars().count() - 1;
        let marked: String = source_line.chars().skip(at).take(2).collect();
        assert!(
            marked.starts_with('*') || marked.starts_with('+'),
            "caret at {marked:?}\n{shown}"
        );
    }

    #[test]
    fn not_utf8_names_the_line_and_byte() {
        let bytes = b"let a = 1;\nlet b = \"caf\xe9\";\n";
        let e = String::from_utf8(bytes.to_vec()).unwrap_err();
        let e = e.utf8_error();
        assert_eq!(
            not_utf8("t.rhai", bytes, e.valid_up_to()),
            "t.rhai:2: not UTF-8: byte 0xE9 at byte 13 of the line (byte 24 of the file); save the script as UTF-8"
        );
    }

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
