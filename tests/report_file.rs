//! `genrelab run … --report FILE` and the REPL's `:report`: one
//! self-contained file with the header, source, output, tables, figures
//! and the error, in order. The HTML is parsed by roxmltree, a strict XML
//! parser (stricter than an HTML5 parser, which accepts nearly anything).

mod common;

use std::process::Command;

fn genrelab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genrelab"))
}

const SCRIPT: &str = r#"import "std/table" as table;
data::seed(7);
print("first line of output");
table::show([#{ genre: "Drama", movies: 3372 }, #{ genre: "War <&>", movies: 237 }], ["genre", "movies"]);
let dir = ARGS[0];
plot::bar([3, 1], ["a", "b"], #{ path: dir + "/bars.png", title: "png figure" });
plot::bar([3, 1], ["a", "b"], #{ path: dir + "/bars.svg", title: "svg figure" });
print("after the figures");
let b = data::binarizer([["a"], ["b"]]);
print(metrics::report(b.transform([["a"], ["b"]]), b.transform([["a"], []])));
data::movies(dir + "/no_such.csv");
print("never printed");
"#;

fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the report"))
}

#[test]
fn a_failing_script_gives_a_report_with_everything_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("demo.rhai");
    std::fs::write(&script, SCRIPT).unwrap();
    let report = dir.path().join("run.html");
    let out = genrelab()
        .args([
            "run",
            &script.to_string_lossy(),
            &dir.path().to_string_lossy(),
            "--report",
        ])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&report).unwrap();
    // Well-formed (strict XML) and nothing fetched from anywhere.
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("not well-formed: {e}"));
    assert!(!html.contains("http"), "an external reference");
    for node in doc.descendants().filter(|n| n.has_attribute("src")) {
        assert!(
            node.attribute("src").unwrap().starts_with("data:"),
            "{node:?}"
        );
    }
    // The header, then the source, then the run in order, then the error.
    let order = [
        "demo.rhai</h1>",
        "7 (data::seed)",
        "<span class=\"k\">let</span> dir",
        "<pre class=\"out\">first line of output",
        "<table class=\"t\">",
        "<td style=\"text-align: left\">War &lt;&amp;&gt;</td><td class=\"num\">237</td>",
        "src=\"data:image/png;base64,iVBOR",
        "bars.png</figcaption>",
        "<svg",
        "bars.svg</figcaption>",
        "<pre class=\"out\">after the figures",
        "<th class=\"num\">f1-score</th>",
        "<td style=\"text-align: left\">micro avg</td>",
        "<div class=\"error\"><pre>",
    ];
    let places: Vec<usize> = order.iter().map(|n| position(&html, n)).collect();
    assert!(
        places.windows(2).all(|w| w[0] < w[1]),
        "out of order: {places:?}"
    );
    let error = &html[position(&html, "<div class=\"error\">")..];
    assert!(error.contains("no_such.csv"), "{error}");
    assert!(!html.contains("never printed</pre>"));
    // The table is shown once, as a table, not also as its text.
    assert!(
        !html.contains("-----  ------"),
        "the table's text was recorded too"
    );
    // A Markdown report of the same run.
    let md = dir.path().join("run.md");
    let out = genrelab()
        .args(["run", "--report"])
        .arg(&md)
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&md).unwrap();
    for needle in [
        "# ",
        "| genre | movies |",
        "| War <&> | 237 |",
        "![",
        "data:image/svg+xml;base64,",
        "## Error",
    ] {
        position(&text, needle);
    }
}

#[test]
fn bad_report_paths_are_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, "print(\"ran\");").unwrap();
    for (path, wanted) in [
        (dir.path().join("r.pdf"), "written as .html or .md"),
        (dir.path().join("missing/r.html"), "does not exist"),
    ] {
        let out = genrelab()
            .arg("run")
            .arg(&script)
            .arg("--report")
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(wanted), "{err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("ran"));
    }
}

#[test]
fn the_repl_writes_the_session_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("session.html");
    let input = format!(
        "print(\"hello from the repl\");\n40 + 2\nundefined_thing\n:report {}\n",
        report.display()
    );
    let out = common::repl_piped(&input);
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote "));
    let html = std::fs::read_to_string(&report).unwrap();
    roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let places: Vec<usize> = [
        "REPL session</h1>",
        "<span class=\"s\">&quot;hello from the repl&quot;</span>",
        "<pre class=\"out\">hello from the repl",
        "\n42</pre>",
        "<div class=\"error\"><pre>",
    ]
    .iter()
    .map(|n| position(&html, n))
    .collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "{places:?}");
    assert!(html[places[3]..].contains("undefined_thing"));
}
