//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/data` beside the checkout, or `None` with a message saying the
/// test is skipped (CI always has it).
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/data");
    if dir.join("movies/movies.csv").is_file() {
        Some(dir.canonicalize().unwrap_or(dir))
    } else {
        eprintln!("SKIPPED {test}: ../shared/data is absent (CI has it)");
        None
    }
}

/// Writes `text` to `name` in `dir` and returns the path.
pub fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Evaluates `code` in a session with the shared data and returns how the
/// REPL would show its value; `None` (test skipped) without the data.
pub fn eval_with_data(test: &str, code: &str) -> Option<String> {
    let data = shared_data(test)?;
    let (mut s, _) = genrelab::Session::capturing(Ok(data));
    let v = s
        .eval(code, "test")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    s.display(&v)
}

/// Runs `code` (Rhai with its own assertions) in a session without data;
/// panics with the rendered error.
pub fn check_script(code: &str) {
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    if let Err(e) = s.eval(code, "peer") {
        panic!("{}", e.render());
    }
}

/// The rendered error of `code` (named `t`), which must fail.
pub fn error_of(code: &str) -> String {
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    s.eval(code, "t").map(|_| ()).unwrap_err().render()
}

/// Runs the REPL binary on piped `input` (no data folder), with its output.
#[allow(dead_code)]
pub fn repl_piped(input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .current_dir(root())
        .env("GENRELAB_DATA", "/nonexistent-genrelab-data")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
