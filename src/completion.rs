//! Tab completion for the REPL and the Jupyter kernel: modules, their
//! functions, methods by the type of the value before the dot, variables,
//! script functions and keywords.

use crate::docs::{self, FunctionDoc};
use crate::session::Session;

/// One completion: what a menu shows and what replaces the word.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub display: String,
    /// The text that replaces the word (functions get their `(`).
    pub replacement: String,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '.')
}

/// Byte where the word (`data::movies`, `m.shape`) ending at the end of `before` starts.
fn word_start(before: &str) -> usize {
    before
        .char_indices()
        .rev()
        .find(|(_, c)| !is_word_char(*c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// The whole word around byte `pos` of `code` (for help on what the cursor
/// is on), trailing dots and colons left out.
pub fn word_at(code: &str, pos: usize) -> &str {
    let start = word_start(&code[..pos]);
    let end = code[pos..]
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(code.len(), |(i, _)| pos + i);
    code[start..end].trim_end_matches([':', '.'])
}

const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "break", "continue",
    "return", "throw", "try", "catch", "import", "export", "as", "true", "false", "print", "debug",
    "switch",
];

/// What the completer knows, refreshed after every evaluation.
#[derive(Default)]
pub struct Completions {
    modules: Vec<String>,
    /// `data::movies`, ...
    module_functions: Vec<String>,
    globals: Vec<String>,
    /// (receiver type, method)
    methods: Vec<(String, String)>,
    /// (name, type)
    variables: Vec<(String, String)>,
    script_functions: Vec<String>,
}

impl Completions {
    pub fn new(session: &Session, docs: &[FunctionDoc]) -> Completions {
        let mut c = Completions {
            modules: docs::modules(docs),
            module_functions: docs
                .iter()
                .filter(|d| d.module.is_some() && d.receiver.is_none())
                .map(FunctionDoc::qualified_name)
                .collect(),
            globals: docs
                .iter()
                .filter(|d| d.module.is_none())
                .map(|d| d.name.clone())
                .collect(),
            methods: docs::methods_by_type(session.engine()),
            ..Completions::default()
        };
        c.module_functions.dedup();
        c.globals.dedup();
        c.refresh(session);
        c
    }

    /// Reads the session's variables and script functions again (after each evaluation).
    pub fn refresh(&mut self, session: &Session) {
        self.variables = session.variables();
        self.script_functions = session
            .script_functions()
            .into_iter()
            .filter_map(|f| f.split('(').next().map(str::to_string))
            .collect();
    }

    /// The type of variable `name`, as completion keys types.
    pub fn variable_type(&self, name: &str) -> Option<String> {
        self.variables
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, t)| docs::script_type_of(t))
    }

    /// Candidates for the word ending at byte `pos` of `line`, and the byte
    /// where the replaced part starts.
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<Candidate>) {
        let before = &line[..pos];
        let start = word_start(before);
        let word = &before[start..];
        let pair = |display: &str, replacement: String| Candidate {
            display: display.to_string(),
            replacement,
        };
        if word.contains("::") {
            let found = self
                .module_functions
                .iter()
                .filter(|f| f.starts_with(word))
                .map(|f| pair(f, format!("{f}(")))
                .collect();
            return (start, found);
        }
        if let Some(dot) = word.rfind('.') {
            let (receiver, partial) = (&word[..dot], &word[dot + 1..]);
            let receiver_type = self.variable_type(receiver);
            let mut names: Vec<&str> = self
                .methods
                .iter()
                .filter(|(t, _)| receiver_type.as_ref().is_none_or(|rt| rt == t))
                .map(|(_, m)| m.as_str())
                .filter(|m| m.starts_with(partial))
                .collect();
            names.sort_unstable();
            names.dedup();
            let found = names
                .into_iter()
                .map(|m| pair(m, format!("{m}(")))
                .collect();
            return (start + dot + 1, found);
        }
        let mut found: Vec<Candidate> = Vec::new();
        for (name, _) in &self.variables {
            found.push(pair(name, name.clone()));
        }
        for m in &self.modules {
            found.push(pair(&format!("{m}::"), format!("{m}::")));
        }
        for f in self.globals.iter().chain(&self.script_functions) {
            found.push(pair(f, format!("{f}(")));
        }
        for k in KEYWORDS {
            found.push(pair(k, k.to_string()));
        }
        found.retain(|p| p.display.starts_with(word));
        found.sort_by(|a, b| a.display.cmp(&b.display));
        found.dedup_by(|a, b| a.display == b.display);
        (start, found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completions() -> (Session, Completions) {
        let (mut session, _) = Session::capturing(Err("no data".into()));
        let _ = session
            .eval(
                "let m = data::matrix([[1]]); let words = [\"a\"]; let v = text::count_vectorizer();",
                "t",
            )
            .unwrap();
        let docs = docs::collect(session.engine());
        let c = Completions::new(&session, &docs);
        (session, c)
    }

    fn names(found: (usize, Vec<Candidate>)) -> Vec<String> {
        found.1.into_iter().map(|p| p.display).collect()
    }

    #[test]
    fn completes_modules_functions_methods_and_variables() {
        let (_s, c) = completions();
        assert!(names(c.complete("da", 2)).contains(&"data::".to_string()));
        assert!(names(c.complete("data::mov", 9)).contains(&"data::movies".to_string()));
        let methods = names(c.complete("m.sh", 4));
        assert_eq!(methods, vec!["shape"]);
        let on_matrix = names(c.complete("m.", 2));
        assert!(on_matrix.contains(&"to_sparse".to_string()));
        assert!(
            !on_matrix.contains(&"split".to_string()),
            "Movies methods are not offered on a Matrix"
        );
        assert!(names(c.complete("words.pu", 8)).contains(&"push".to_string()));
        assert_eq!(names(c.complete("v.fit_t", 7)), vec!["fit_transform"]);
        assert!(names(c.complete("let y = wo", 10)).contains(&"words".to_string()));
        assert_eq!(c.complete("let y = wo", 10).0, 8);
        assert_eq!(c.variable_type("m").as_deref(), Some("Matrix"));
    }

    #[test]
    fn the_word_at_the_cursor_spans_both_sides() {
        assert_eq!(word_at("let x = data::movies(p)", 15), "data::movies");
        assert_eq!(word_at("m.shape", 7), "m.shape");
        assert_eq!(word_at("m.", 2), "m");
        assert_eq!(word_at("", 0), "");
        assert_eq!(word_at("é + print", 9), "print");
    }
}
