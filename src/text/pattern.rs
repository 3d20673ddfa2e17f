//! A `token_pattern` as Python's `re` reads it (scikit-learn compiles it with
//! `re.compile`). The Rust engines' `\w` and `\b` follow Unicode's word
//! definition, which takes combining marks, circled letters and the like as
//! word characters; Python does not. So `\w`, `\W`, `\b` and `\B` are
//! rewritten with Python's word class ([`super::word_chars`]) before
//! compiling on fancy-regex (whose look-arounds give `\b`). The two patterns
//! almost everyone uses, `\b\w\w+\b` (scikit-learn's default) and `\b\w+\b`,
//! skip the regex engine for the hand-written tokenizer, which is exact and
//! several times faster.

use super::tokenize::word_runs;
use super::word_chars::WORD_RANGES;

/// scikit-learn's default `token_pattern`.
pub const DEFAULT: &str = r"(?u)\b\w\w+\b";

/// A compiled token pattern. Serialized as its source text.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PythonPattern {
    source: String,
    matcher: Matcher,
}

#[derive(Clone, Debug)]
enum Matcher {
    /// Maximal runs of word characters at least this many long.
    WordRuns(usize),
    /// The rewritten pattern, and whether its one capturing group is the token.
    Regex(Box<fancy_regex::Regex>, bool),
}

impl PythonPattern {
    /// Compiles `source`; the error says what is wrong with it (the caller
    /// names the option).
    pub fn new(source: &str) -> std::result::Result<PythonPattern, String> {
        let bare = source.strip_prefix("(?u)").unwrap_or(source);
        let matcher = match bare {
            r"\b\w\w+\b" => Matcher::WordRuns(2),
            r"\b\w+\b" => Matcher::WordRuns(1),
            _ => {
                let regex = fancy_regex::Regex::new(&rewrite(source))
                    .map_err(|e| format!("it does not compile: {e}"))?;
                let groups = regex.captures_len() - 1;
                if groups > 1 {
                    return Err(format!(
                        "it has {groups} capturing groups: the token is the one group's text, so give at most \
                         one (write (?:…) for the others), as scikit-learn requires"
                    ));
                }
                Matcher::Regex(Box::new(regex), groups == 1)
            }
        };
        Ok(PythonPattern {
            source: source.to_string(),
            matcher,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Calls `emit` with each token of `text`: `re.findall(pattern, text)`.
    pub fn tokens<'t>(&self, text: &'t str, mut emit: impl FnMut(&'t str)) {
        match &self.matcher {
            Matcher::WordRuns(min) => word_runs(text)
                .filter(|t| *min <= 1 || t.chars().nth(min - 1).is_some())
                .for_each(emit),
            Matcher::Regex(regex, group) => {
                for found in regex.captures_iter(text) {
                    // A pattern that fails at run time (backtracking limit)
                    // stops the document there: fancy-regex reports it per match.
                    let Ok(found) = found else { break };
                    let token = if *group {
                        // findall gives "" for a group that did not take part.
                        found.get(1).map_or("", |m| m.as_str())
                    } else {
                        found.get(0).map_or("", |m| m.as_str())
                    };
                    emit(token);
                }
            }
        }
    }
}

impl Default for PythonPattern {
    fn default() -> Self {
        PythonPattern {
            source: DEFAULT.to_string(),
            matcher: Matcher::WordRuns(2),
        }
    }
}

impl PartialEq for PythonPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl TryFrom<String> for PythonPattern {
    type Error = String;
    fn try_from(source: String) -> std::result::Result<Self, String> {
        PythonPattern::new(&source).map_err(|why| format!("token_pattern {source:?}: {why}"))
    }
}

impl From<PythonPattern> for String {
    fn from(p: PythonPattern) -> String {
        p.source
    }
}

/// Python's word class as the members of a character class.
fn word_class_members() -> String {
    let mut out = String::new();
    for &(a, b) in WORD_RANGES {
        out.push_str(&format!("\\x{{{a:X}}}"));
        if b != a {
            out.push_str(&format!("-\\x{{{b:X}}}"));
        }
    }
    out
}

/// `pattern` with `\w`, `\W`, `\b`, `\B` replaced by Python's meaning; every
/// other escape is kept as written.
pub fn rewrite(pattern: &str) -> String {
    let members = word_class_members();
    let w = format!("[{members}]");
    let not_w = format!("[^{members}]");
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    // Depth of character classes we are in (the Rust engines nest them).
    let mut class_depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('w') if class_depth > 0 => out.push_str(&w),
                Some('W') if class_depth > 0 => out.push_str(&not_w),
                Some('w') => out.push_str(&w),
                Some('W') => out.push_str(&not_w),
                Some('b') if class_depth == 0 => {
                    out.push_str(&format!("(?:(?<={w})(?!{w})|(?<!{w})(?={w}))"))
                }
                Some('B') if class_depth == 0 => {
                    out.push_str(&format!("(?:(?<={w})(?={w})|(?<!{w})(?!{w}))"))
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' => {
                class_depth += 1;
                out.push('[');
                // A `]` right after `[` or `[^` is a member, not the end.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(pattern: &str, text: &str) -> Vec<String> {
        let p = PythonPattern::new(pattern).unwrap();
        let mut out = Vec::new();
        p.tokens(text, |t| out.push(t.to_string()));
        out
    }

    // import re
    // re.findall(r"(?u)\b\w+\b", "a bc d_e 1 2x")  -> ['a', 'bc', 'd_e', '1', '2x']
    // re.findall(r"[a-z]+", "Ab cd9ef")            -> ['b', 'cd', 'ef']
    // re.findall(r"(\w+)@", "x@ yz@ w")            -> ['x', 'yz']
    // re.findall(r"\b\w\w+\b", "नमस्ते दुनिया")     -> ['नमस']
    // re.findall(r"\w+", "cafe\u0301")            -> ['cafe']
    // re.findall(r"[\w]+", "Ⓐb")                   -> ['b']
    // re.findall(r"\b\w+\b", "cafe\u0301s")       -> ['cafe', 's']
    // re.findall(r"\w\B\w", "abc d")               -> ['ab']
    // re.findall(r"(a)|b", "ab")                   -> ['a', '']
    #[test]
    fn patterns_find_what_python_finds() {
        assert_eq!(
            tokens(r"(?u)\b\w+\b", "a bc d_e 1 2x"),
            ["a", "bc", "d_e", "1", "2x"]
        );
        assert_eq!(tokens(r"[a-z]+", "Ab cd9ef"), ["b", "cd", "ef"]);
        assert_eq!(tokens(r"(\w+)@", "x@ yz@ w"), ["x", "yz"]);
        assert_eq!(tokens(r"\w+", "cafe\u{301}"), ["cafe"]);
        assert_eq!(tokens(r"[\w]+", "Ⓐb"), ["b"]);
        // \b beside a combining mark: Python sees a boundary after "cafe".
        assert_eq!(tokens(r"\b\w+\b", "cafe\u{301}s"), ["cafe", "s"]);
        assert_eq!(tokens(r"\w\B\w", "abc d"), ["ab"]);
        assert_eq!(tokens(r"\b\w\w+\b", "नमस्ते दुनिया"), ["नमस"]);
        assert_eq!(tokens(r"(a)|b", "ab"), ["a", ""]);
    }

    #[test]
    fn bad_patterns_are_named() {
        let e = PythonPattern::new(r"(\w+)-(\w+)").unwrap_err();
        assert!(e.starts_with("it has 2 capturing groups"), "{e}");
        let e = PythonPattern::new(r"([a-z").unwrap_err();
        assert!(e.starts_with("it does not compile"), "{e}");
    }

    #[test]
    fn the_default_pattern_round_trips_through_serde() {
        let p = PythonPattern::new(r"(?u)\b\w+\b").unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#""(?u)\\b\\w+\\b""#);
        let back: PythonPattern = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }
}
