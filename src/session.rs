//! A persistent evaluation context: one engine, one scope, and the functions
//! and imports defined so far. The REPL feeds it line by line; the runner
//! feeds it one file.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::{AST, Dynamic, Engine, EvalAltResult, Scope};

use crate::diagnostics::{self, Sources};
use crate::engine::{EngineConfig, Output, build_engine};
use crate::interrupt;

/// An error from evaluating some source, with what is needed to show it.
#[derive(Debug)]
pub struct ScriptError {
    pub error: Box<EvalAltResult>,
    pub source_name: String,
    pub source_text: String,
}

impl ScriptError {
    /// `error: file:line:col: message`, the source line and a caret.
    pub fn render(&self) -> String {
        diagnostics::render(
            &self.error,
            &Sources {
                main_name: &self.source_name,
                main_text: &self.source_text,
            },
        )
    }

    pub fn is_interrupt(&self) -> bool {
        matches!(*self.error, EvalAltResult::ErrorTerminated(..))
    }
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

pub struct Session {
    engine: Engine,
    config: EngineConfig,
    args: Vec<String>,
    scope: Scope<'static>,
    /// Script functions defined so far (statements dropped after each run).
    functions: AST,
    /// `import "…" as x;` statements seen so far, replayed before each chunk so
    /// that a module imported on one REPL line is there on the next.
    imports: Vec<String>,
    echo: AST,
}

impl Session {
    pub fn new(config: EngineConfig, args: Vec<String>) -> Session {
        let engine = build_engine(&config);
        let echo = engine
            .compile("to_debug(__echo_value)")
            .expect("the echo expression compiles");
        let mut session = Session {
            engine,
            config,
            args,
            scope: Scope::new(),
            functions: AST::empty(),
            imports: Vec::new(),
            echo,
        };
        session.fill_scope();
        session
    }

    /// A session whose `print` output is collected in the returned buffer.
    pub fn capturing(data_dir: Result<PathBuf, String>) -> (Session, Rc<RefCell<String>>) {
        let (output, buffer) = Output::buffer();
        let config = EngineConfig {
            output,
            data_dir,
            ..EngineConfig::default()
        };
        (Session::new(config, Vec::new()), buffer)
    }

    fn fill_scope(&mut self) {
        if let Ok(dir) = &self.config.data_dir {
            self.scope
                .push_constant("DATA_DIR", dir.to_string_lossy().into_owned());
        }
        let args: rhai::Array = self.args.iter().cloned().map(Dynamic::from).collect();
        self.scope.push_constant("ARGS", args);
    }

    /// The data folder as the report's header shows it.
    pub fn data_dir_text(&self) -> String {
        match &self.config.data_dir {
            Ok(dir) => dir.display().to_string(),
            Err(_) => "(none found)".into(),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Forgets variables, functions and imports (the REPL's `:reset`).
    pub fn reset(&mut self) {
        self.scope.clear();
        self.functions = AST::empty();
        self.imports.clear();
        self.fill_scope();
    }

    /// Evaluates `source` (named `name` in errors) in the session scope and
    /// returns its value. Variables, functions and imports persist.
    pub fn eval(&mut self, source: &str, name: &str) -> Result<Dynamic, ScriptError> {
        interrupt::clear();
        let fail = |error: Box<EvalAltResult>| ScriptError {
            error,
            source_name: name.to_string(),
            source_text: source.to_string(),
        };
        let mut chunk = self
            .engine
            .compile_with_scope(&self.scope, source)
            .map_err(|e| fail(e.into()))?;
        chunk.set_source(name);
        let prelude = if self.imports.is_empty() {
            AST::empty()
        } else {
            self.engine
                .compile(self.imports.join("\n"))
                .map_err(|e| fail(e.into()))?
        };
        let program = prelude.merge(&self.functions).merge(&chunk);
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &program);
        // Functions defined in a chunk that compiled are kept even if it failed later.
        self.functions = program.clone_functions_only();
        let value = result.map_err(fail)?;
        self.imports.extend(import_statements(source));
        Ok(value)
    }

    /// Runs a script file with `ARGS` in scope; imports resolve next to it.
    pub fn run_file(
        path: &Path,
        args: Vec<String>,
        mut config: EngineConfig,
    ) -> Result<(), RunError> {
        let bytes = std::fs::read(path).map_err(|e| {
            RunError::Unreadable(format!("cannot read script '{}': {e}", path.display()))
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            RunError::Unreadable(crate::diagnostics::not_utf8(
                &path.display().to_string(),
                e.as_bytes(),
                e.utf8_error().valid_up_to(),
            ))
        })?;
        config.script_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut session = Session::new(config, args);
        session
            .eval(&text, &path.to_string_lossy())
            .map(|_| ())
            .map_err(RunError::Script)
    }

    /// How a value is echoed in the REPL (`None` for unit).
    pub fn display(&mut self, value: &Dynamic) -> Option<String> {
        if value.is_unit() {
            return None;
        }
        // Text reads best as itself (tables, reports), as `print` shows it.
        if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
            return Some(text.to_string());
        }
        let mark = self.scope.len();
        self.scope.push("__echo_value", value.clone());
        let text = self
            .engine
            .eval_ast_with_scope::<String>(&mut self.scope, &self.echo)
            .unwrap_or_else(|_| format!("{value:?}"));
        self.scope.rewind(mark);
        Some(text)
    }

    /// `(name, type)` of every variable in scope, in definition order.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut seen = std::collections::HashSet::new();
        let mut vars: Vec<(String, String)> = self
            .scope
            .iter_raw()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter(|(name, _, _)| seen.insert(name.to_string()))
            .map(|(name, _, value)| {
                (
                    name.to_string(),
                    self.engine.map_type_name(value.type_name()).to_string(),
                )
            })
            .collect();
        vars.reverse();
        vars
    }

    /// Names of the script functions defined so far.
    pub fn script_functions(&self) -> Vec<String> {
        self.functions
            .iter_functions()
            .map(|f| format!("{}({})", f.name, f.params.join(", ")))
            .collect()
    }
}

/// Why `genrelab run` failed: the file itself (a usage error) or the script.
#[derive(Debug)]
pub enum RunError {
    Unreadable(String),
    Script(ScriptError),
}

/// Top-level `import "path" as name;` statements of a chunk.
fn import_statements(source: &str) -> Vec<String> {
    source
        .split(';')
        .map(str::trim)
        .filter(|s| s.starts_with("import ") && s.contains(" as ") && !s.contains(['{', '}', '\n']))
        .map(|s| format!("{s};"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_import_statements() {
        let found = import_statements("import \"std/table\" as t; let x = 1;\nimport \"a\" as b");
        assert_eq!(
            found,
            vec!["import \"std/table\" as t;", "import \"a\" as b;"]
        );
    }
}
