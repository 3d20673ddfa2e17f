//! The `genrelab` binary: exit codes, rendered errors, piped stdin, `doc`.

mod common;

use std::process::{Command, Output, Stdio};

fn genrelab(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genrelab"));
    cmd.args(args).current_dir(common::root());
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn piped(input: &str) -> Output {
    common::repl_piped(input)
}

#[test]
fn piped_statements_persist_and_echo() {
    let out = piped("let x = 40;\nfn f(a) { a + 2 }\nf(x)\n");
    assert_eq!(text(&out.stdout), "42\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn piped_multi_line_input_waits_for_the_closing_brace() {
    let out = piped("fn g(a) {\n  a * 2\n}\ng(21)\n:functions\n");
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("42\n"), "{stdout}");
    assert!(stdout.contains("g(a)"), "{stdout}");
}

#[test]
fn piped_errors_are_reported_and_the_rest_still_runs() {
    let out = piped("let a = nope;\n1 + 1\n");
    assert_eq!(text(&out.stdout), "2\n");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: <stdin:1>:1:9: Variable not found: nope"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn script_errors_print_position_source_line_and_caret_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let script = common::write(
        dir.path(),
        "bad.rhai",
        b"let ok = 1;\nlet m = data::movies(\"missing.csv\");\n",
    );
    let out = genrelab(&["run", script.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "error: {}:2:15: missing.csv: No such file or directory (os error 2)",
            script.display()
        )
    );
    assert_eq!(lines[1], " 2 | let m = data::movies(\"missing.csv\");");
    assert_eq!(lines[2], "   |               ^");
}

#[test]
fn syntax_errors_exit_1_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let script = common::write(dir.path(), "syntax.rhai", b"let x = (1 + ;\n");
    let out = genrelab(&["run", script.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("syntax.rhai:1:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = genrelab(&["run", "/no/such/script.rhai"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read script '/no/such/script.rhai'"));
    assert_eq!(
        genrelab(&["frobnicate"]).output().unwrap().status.code(),
        Some(2)
    );
    assert_eq!(genrelab(&["run"]).output().unwrap().status.code(), Some(2));
    let out = genrelab(&["doc", "nosuchmodule"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no module 'nosuchmodule'; modules: data"));
}

#[test]
fn args_are_in_scope_and_imports_resolve_next_to_the_script() {
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "helper.rhai", b"fn twice(x) { x + x }\n");
    let script = common::write(
        dir.path(),
        "main.rhai",
        b"import \"helper\" as h;\nprint(h::twice(ARGS[0]) + ARGS.len());\n",
    );
    let out = genrelab(&["run", script.to_str().unwrap(), "ab", "--flag"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "abab2\n", "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn missing_data_folder_says_how_to_get_data() {
    let dir = tempfile::tempdir().unwrap();
    let script = common::write(dir.path(), "d.rhai", b"print(DATA_DIR);\n");
    let out = genrelab(&["run", script.to_str().unwrap()])
        .env("GENRELAB_DATA", "/nonexistent-genrelab-data")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "GENRELAB_DATA is set to '/nonexistent-genrelab-data', which is not a folder"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("d.rhai:1:7"), "{stderr}");
}

#[test]
fn doc_prints_a_markdown_reference() {
    let out = genrelab(&["doc", "data"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let md = text(&out.stdout);
    assert!(
        md.contains("### `data::movies(path: string) -> Movies`"),
        "{md}"
    );
    assert!(
        md.contains("### `Movies.split(name: string) -> Movies`"),
        "{md}"
    );
    assert!(md.contains("```rhai"));
}

#[test]
fn bad_movie_files_exit_1_with_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::write(
        dir.path(),
        "m.csv",
        b"id,title,genres,overview\n1,a,Drama,o\n1,b,War,o\n",
    );
    let script = common::write(
        dir.path(),
        "load.rhai",
        format!("data::movies(\"{}\");\n", csv.display()).as_bytes(),
    );
    let out = genrelab(&["run", script.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("load.rhai:1:7: "), "{stderr}");
    assert!(
        stderr.contains("m.csv:3: duplicate id 1 in column 'id' (first seen on line 2)"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Reads the first line of `args`' stdout, closes the pipe and waits: what
/// `genrelab … | head -1` does.
fn first_line_then_close(args: &[&str]) -> (String, std::process::ExitStatus, String) {
    use std::io::{BufRead, Read};
    let mut child = genrelab(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (line, child.wait().unwrap(), err)
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // 200,000 lines: far more than a pipe holds, so writes after `head` has
    // gone do fail.
    let script = common::write(
        dir.path(),
        "many.rhai",
        b"for i in 0..200000 { print(`line ${i}`); }\n",
    );
    let (line, status, err) = first_line_then_close(&["run", script.to_str().unwrap()]);
    assert_eq!(line, "line 0\n");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "stderr: {err}");
    let (line, status, err) = first_line_then_close(&["doc"]);
    assert_eq!(line, "# genrelab script reference\n");
    assert!(status.success() && !err.contains("panicked"), "{err}");
    if common::shared_data("explore | head -1").is_some() {
        let (line, status, err) = first_line_then_close(&["run", "scripts/explore.rhai"]);
        assert!(!line.is_empty());
        assert!(status.success() && !err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_closed_stderr_ends_quietly_with_the_sigpipe_status() {
    let dir = tempfile::tempdir().unwrap();
    let script = common::write(dir.path(), "fails.rhai", b"let x = 1;\nx.nope();\n");
    let mut child = genrelab(&["run", script.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(141));
}

#[test]
fn script_errors_point_at_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let open = common::write(
        dir.path(),
        "open.rhai",
        b"let a = 1;\nfn f(x) {\n  x + 1\n\nprint(a);\n",
    );
    let out = genrelab(&["run", open.to_str().unwrap()]).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("note: the '{' opened at") && err.contains("open.rhai:2:9 is never closed"),
        "{err}"
    );
    let latin1 = common::write(
        dir.path(),
        "latin1.rhai",
        b"let a = 1;\nprint(\"caf\xe9\");\n",
    );
    let out = genrelab(&["run", latin1.to_str().unwrap()])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("latin1.rhai:2: not UTF-8: byte 0xE9 at byte 11 of the line"),
        "{err}"
    );
    let mut long = b"let x = [".to_vec();
    long.extend(b"1, ".repeat(20_000));
    long.extend(b"nope()];\n");
    let long = common::write(dir.path(), "long.rhai", &long);
    let out = genrelab(&["run", long.to_str().unwrap()]).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.len() < 1000, "{} bytes of error", err.len());
    assert!(err.contains("nope"), "{err}");
}

/// A fresh clone: nothing beside it, no GENRELAB_DATA. The README's main
/// command reads the text tables bundled (gzipped) in data/.
#[test]
fn a_fresh_clone_runs_explore_on_the_bundled_tables() {
    let clone = tempfile::tempdir().unwrap();
    let root = common::root();
    for table in [
        "movies/movies.csv.gz",
        "tmdb-text/movies.csv.gz",
        "genres.json",
    ] {
        let to = clone.path().join("data").join(table);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join("data").join(table), to).unwrap();
    }
    std::fs::create_dir(clone.path().join("scripts")).unwrap();
    std::fs::copy(
        root.join("scripts/explore.rhai"),
        clone.path().join("scripts/explore.rhai"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .args(["run", "scripts/explore.rhai"])
        .current_dir(clone.path())
        .env_remove("GENRELAB_DATA")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("7128 movies\n"),
        "{}",
        text(&out.stdout)
    );
}

/// The bundled tables are the shared ones, byte for byte (CI has both).
#[test]
fn the_bundled_tables_are_the_shared_data() {
    let Some(shared) = common::shared_data("bundled tables") else {
        return;
    };
    let root = common::root();
    for table in ["movies/movies.csv", "tmdb-text/movies.csv"] {
        let bundled = genrelab::io_util::read_text_file(&root.join("data").join(table)).unwrap();
        assert!(
            bundled == std::fs::read(shared.join(table)).unwrap(),
            "data/{table}.gz differs from ../shared/data/{table}: regenerate it with gzip -9"
        );
    }
    assert_eq!(
        std::fs::read(root.join("data/genres.json")).unwrap(),
        std::fs::read(shared.join("genres.json")).unwrap()
    );
}
