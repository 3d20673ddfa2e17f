//! The library's one error type. Every fallible primitive returns [`Error`];
//! the Rhai bindings turn it into a script error at the call site, so the
//! message shown to a user is the `Display` text below plus the script position.

use std::path::{Path, PathBuf};

use rhai::{Dynamic, EvalAltResult, Position};

/// What went wrong, with enough context (file, line, column, key) to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A table file is malformed at a known place.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A file as a whole is unusable (empty, missing column, wrong format).
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    /// An options map has a key the function does not know.
    #[error("{function}: unknown option '{key}'; known options: {}{}", known.join(", "),
        suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    UnknownOption {
        function: String,
        key: String,
        known: Vec<String>,
        /// The known option nearest to `key`, when it looks like a typo.
        suggestion: Option<String>,
    },
    /// An argument or option has a value the function cannot use.
    #[error("{0}")]
    Invalid(String),
    /// The user pressed Ctrl-C while a primitive was running.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A problem on line `line` (1-based) of `path`.
    pub fn parse(path: impl AsRef<Path>, line: u64, message: impl Into<String>) -> Self {
        Error::Parse {
            path: path.as_ref().to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A problem with the file `path` as a whole.
    pub fn file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::File {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// A bad argument; the message says which and what would be right.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}

/// Shorthand used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for Box<EvalAltResult> {
    /// A runtime error without a position: Rhai fills in the position of the
    /// call that returned it, which the diagnostics renderer then points at.
    /// Ctrl-C inside a primitive becomes Rhai's own termination, so it is
    /// reported and handled (exit code 130, the REPL goes on) like Ctrl-C
    /// between statements.
    fn from(err: Error) -> Self {
        if let Error::Interrupted = err {
            return Box::new(EvalAltResult::ErrorTerminated(
                Dynamic::UNIT,
                Position::NONE,
            ));
        }
        Box::new(EvalAltResult::ErrorRuntime(
            Dynamic::from(err.to_string()),
            Position::NONE,
        ))
    }
}
