//! The interactive front end: rustyline over a [`Session`]. History across
//! sessions, tab completion, multi-line input, echo of values, `:` commands,
//! Ctrl-C that stops the running evaluation and keeps the session. When
//! stdin is not a terminal it reads statements from stdin instead.

use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper, Highlighter, Hinter};

use crate::completion::Completions;
use crate::docs::{self, FunctionDoc};
use crate::engine::EngineConfig;
use crate::input::is_incomplete;
use crate::interrupt;
use crate::session::Session;

const COMMANDS: &str =
    ":help [NAME]  :functions [MODULE]  :vars  :reset  :report FILE.html|.md  :quit";

#[derive(Helper, Highlighter, Hinter)]
struct ReplHelper {
    completions: Rc<RefCell<Completions>>,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, found) = self.completions.borrow().complete(line, pos);
        let pairs = found
            .into_iter()
            .map(|c| Pair {
                display: c.display,
                replacement: c.replacement,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if !input.trim_start().starts_with(':') && is_incomplete(input) {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

/// What one REPL input did.
enum Outcome {
    Continue,
    Quit,
    Failed,
}

/// Evaluates one complete input (a statement chunk or a `:` command) and
/// prints what it shows.
fn handle(session: &mut Session, docs: &[FunctionDoc], input: &str, name: &str) -> Outcome {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Outcome::Continue;
    }
    if let Some(command) = trimmed.strip_prefix(':') {
        return command_line(session, docs, command);
    }
    crate::record::input(input);
    match session.eval(input, name) {
        Ok(value) => {
            if let Some(text) = session.display(&value) {
                crate::record::text(&text);
                crate::io_util::print_line(text);
            }
            Outcome::Continue
        }
        Err(err) => {
            let rendered = err.render();
            crate::record::error(&rendered);
            eprintln!("{rendered}");
            Outcome::Failed
        }
    }
}

fn command_line(session: &mut Session, docs: &[FunctionDoc], command: &str) -> Outcome {
    let (verb, arg) = command
        .split_once(char::is_whitespace)
        .map_or((command, ""), |(v, a)| (v, a.trim()));
    match verb {
        "q" | "quit" | "exit" => return Outcome::Quit,
        "h" | "help" => match docs::help(docs, if arg.is_empty() { "help" } else { arg }) {
            Ok(text) => crate::io_util::print_line(text.0),
            Err(e) => {
                eprintln!("{e}");
                return Outcome::Failed;
            }
        },
        "functions" | "fns" => {
            let shown: Vec<&FunctionDoc> = docs
                .iter()
                .filter(|d| arg.is_empty() || d.module.as_deref() == Some(arg))
                .collect();
            if shown.is_empty() {
                eprintln!(
                    "no module '{arg}'; modules: {}",
                    docs::modules(docs).join(", ")
                );
                return Outcome::Failed;
            }
            for d in shown {
                crate::io_util::print_line(format_args!("{:<60} {}", d.signature, d.summary()));
            }
            if arg.is_empty() {
                for f in session.script_functions() {
                    crate::io_util::print_line(format_args!("{f:<60} (defined in this session)"));
                }
            }
        }
        "vars" => {
            for (name, typ) in session.variables() {
                crate::io_util::print_line(format_args!("{name}: {typ}"));
            }
        }
        "report" => {
            if arg.is_empty() {
                eprintln!(":report needs a file name ending in .html or .md");
                return Outcome::Failed;
            }
            let path = std::path::Path::new(arg);
            let info = crate::record::RunInfo {
                script: "REPL session".into(),
                source: crate::record::inputs(),
                data_dir: session.data_dir_text(),
                ..Default::default()
            };
            match crate::record::check_path(path)
                .and_then(|()| crate::record::write(path, info, None))
            {
                Ok(()) => crate::io_util::print_line(format_args!("wrote {arg}")),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Outcome::Failed;
                }
            }
        }
        "reset" => {
            session.reset();
            crate::io_util::print_line("session reset: variables, functions and imports cleared");
        }
        _ => {
            eprintln!("unknown command ':{verb}'; commands: {COMMANDS}");
            return Outcome::Failed;
        }
    }
    Outcome::Continue
}

fn history_path() -> Option<PathBuf> {
    let dir = dirs::data_dir()?.join("genrelab");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history.txt"))
}

/// Runs the REPL (or the piped reader); returns the process exit code.
pub fn run(config: EngineConfig) -> i32 {
    interrupt::install_handler();
    // Kept for `:report`: the session's inputs, output and figures.
    crate::record::start();
    let mut session = Session::new(config, Vec::new());
    let docs = docs::collect(session.engine());
    if std::io::stdin().is_terminal() {
        interactive(&mut session, &docs)
    } else {
        piped(&mut session, &docs)
    }
}

/// Statements from a non-terminal stdin: chunks end where brackets and
/// strings are closed; errors are reported and the rest still runs.
fn piped(session: &mut Session, docs: &[FunctionDoc]) -> i32 {
    let mut failed = false;
    let mut chunk = String::new();
    let mut first_line = 1;
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let Ok(line) = line else {
            eprintln!("error: stdin: line {} is not valid UTF-8", n + 1);
            return 1;
        };
        if chunk.is_empty() {
            first_line = n + 1;
        }
        chunk.push_str(&line);
        chunk.push('\n');
        if is_incomplete(&chunk) && !chunk.trim_start().starts_with(':') {
            continue;
        }
        match handle(session, docs, &chunk, &format!("<stdin:{first_line}>")) {
            Outcome::Quit => break,
            Outcome::Failed => failed = true,
            Outcome::Continue => {}
        }
        chunk.clear();
    }
    if !chunk.trim().is_empty() {
        eprintln!(
            "error: <stdin:{first_line}>: input ended inside an open bracket, string or comment"
        );
        failed = true;
    }
    let _ = std::io::stdout().flush();
    i32::from(failed)
}

fn interactive(session: &mut Session, docs: &[FunctionDoc]) -> i32 {
    let completions = Rc::new(RefCell::new(Completions::new(session, docs)));
    let settings = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .build();
    let mut editor = match Editor::with_config(settings) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return 1;
        }
    };
    editor.set_helper(Some(ReplHelper {
        completions: completions.clone(),
    }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    crate::io_util::print_line(format_args!(
        "genrelab {} — Rhai workbench for movie genres. help(\"help\") or :help; Tab completes; Ctrl-D exits.",
        env!("CARGO_PKG_VERSION")
    ));
    let mut entry = 0;
    loop {
        match editor.readline("genrelab> ") {
            Ok(input) => {
                entry += 1;
                if !input.trim().is_empty() {
                    let _ = editor.add_history_entry(input.as_str());
                    if let Some(path) = &history {
                        let _ = editor.save_history(path);
                    }
                }
                if let Outcome::Quit = handle(session, docs, &input, &format!("<repl:{entry}>")) {
                    break;
                }
                completions.borrow_mut().refresh(session);
            }
            Err(ReadlineError::Interrupted) => {
                crate::io_util::print_line("(Ctrl-C: input cleared; Ctrl-D or :quit exits)")
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        }
    }
    0
}
