//! A small Rhai highlighter for the report's source listing: comments,
//! strings (with `${…}` left plain inside backticks), numbers, keywords and
//! `module::` prefixes, as `<span class="…">` around HTML-escaped text.

const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "do", "until", "break",
    "continue", "return", "throw", "try", "catch", "import", "export", "as", "private", "true",
    "false", "this", "switch",
];

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn span(out: &mut String, class: &str, text: &str) {
    out.push_str(&format!("<span class=\"{class}\">{}</span>", escape(text)));
}

/// The source as highlighted HTML (to go inside `<pre>`).
pub fn rhai(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len() * 2);
    let mut i = 0;
    let take = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            span(&mut out, "c", &take(i, end));
            i = end;
        } else if c == '/' && next == Some('*') {
            let end = (i + 2..chars.len().saturating_sub(1))
                .find(|&k| chars[k] == '*' && chars[k + 1] == '/')
                .map_or(chars.len(), |k| k + 2);
            span(&mut out, "c", &take(i, end));
            i = end;
        } else if c == '"' || c == '`' || c == '\'' {
            let mut end = i + 1;
            while end < chars.len() && chars[end] != c {
                if chars[end] == '\\' {
                    end += 1;
                }
                end += 1;
            }
            let end = (end + 1).min(chars.len());
            span(&mut out, "s", &take(i, end));
            i = end;
        } else if c.is_ascii_digit() {
            let end = (i..chars.len())
                .find(|&k| {
                    !(chars[k].is_ascii_alphanumeric() || chars[k] == '.' || chars[k] == '_')
                })
                .unwrap_or(chars.len());
            span(&mut out, "n", &take(i, end));
            i = end;
        } else if c.is_alphabetic() || c == '_' {
            let end = (i..chars.len())
                .find(|&k| !(chars[k].is_alphanumeric() || chars[k] == '_'))
                .unwrap_or(chars.len());
            let word = take(i, end);
            let module = chars.get(end) == Some(&':') && chars.get(end + 1) == Some(&':');
            if KEYWORDS.contains(&word.as_str()) {
                span(&mut out, "k", &word);
            } else if module {
                span(&mut out, "m", &word);
            } else {
                out.push_str(&escape(&word));
            }
            i = end;
        } else {
            out.push_str(&escape(&c.to_string()));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_cover_the_token_kinds_and_escape_markup() {
        let html =
            super::rhai("let x = data::matrix([[1.5]]); // a <b>\nprint(`n ${x}` + \"q\\\"\");");
        assert_eq!(
            html,
            "<span class=\"k\">let</span> x = <span class=\"m\">data</span>::matrix([[<span class=\"n\">1.5</span>]]); \
             <span class=\"c\">// a &lt;b&gt;</span>\nprint(<span class=\"s\">`n ${x}`</span> + <span class=\"s\">&quot;q\\&quot;&quot;</span>);"
        );
    }
}
