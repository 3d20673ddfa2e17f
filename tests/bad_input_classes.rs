//! The bad-input classes of issue 23, each across the places it occurs:
//! malformed word-vector rows and formats, scores that are not
//! probabilities, a loader given another kind of genrelab file, writers
//! that would write what cannot be read back, a report path that is a
//! folder, a bracket never closed.

mod common;

use std::path::Path;
use std::process::Command;

use common::{error_of, write};

fn expect(code: &str, wanted: &[&str]) {
    let e = error_of(code);
    for w in wanted {
        assert!(e.contains(w), "{code}\nexpected {w:?} in:\n{e}");
    }
    assert!(!e.contains("panicked"), "{e}");
}

fn vectors(path: &Path, format: &str) -> String {
    let options = if format.is_empty() {
        String::new()
    } else {
        format!(", #{{ format: \"{format}\" }}")
    };
    format!(
        "text::word_vectors({:?}{options})",
        path.display().to_string()
    )
}

#[test]
fn malformed_text_vector_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // One value too many: an error, not a word with a space in it.
    let w2v = write(
        dir.path(),
        "extra.vec",
        "2 3\na 1 2 3 4\nb 4 5 6\n".as_bytes(),
    );
    expect(
        &vectors(&w2v, ""),
        &["extra.vec:2", "'a' has 4 values, expected 3"],
    );
    let glove = write(dir.path(), "extra.txt", "a 1 2 3\nb 4 5 6 7\n".as_bytes());
    expect(
        &vectors(&glove, ""),
        &["extra.txt:2", "'b' has 4 values, expected 3"],
    );
    // A word with a space (some GloVe files have them) is still a word.
    let spaced = write(
        dir.path(),
        "spaced.txt",
        "a 1 2 3\n. . . 4 5 6\n".as_bytes(),
    );
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let v = s
        .eval(&format!("{}.get(\". . .\")", vectors(&spaced, "")), "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(s.display(&v).unwrap(), "[4.0, 5.0, 6.0]");
    // A header read as a word when a format is forced.
    expect(
        &vectors(&w2v, "glove"),
        &[
            "extra.vec:1",
            "word2vec header (2 words of 3 dimensions)",
            "format: \"word2vec_text\"",
        ],
    );
    let short = write(dir.path(), "short.vec", "2 3\nа 1 2\nb 4 5 6\n".as_bytes());
    expect(
        &vectors(&short, ""),
        &["short.vec:2", "'а' has 2 values, expected 3"],
    );
    // Text that is neither a record nor binary: refuse and name the option.
    let words = write(
        dir.path(),
        "words.vec",
        "2 3\nthe cat sat on\nb 4 5 6\n".as_bytes(),
    );
    expect(
        &vectors(&words, ""),
        &[
            "words.vec:2",
            "cannot tell whether",
            "format: \"word2vec_text\"",
            "format: \"word2vec_binary\"",
        ],
    );
    // A text file forced to binary names the line, not a garbage word.
    let multibyte = write(
        dir.path(),
        "mb.vec",
        "2 3\nхозяйка 0.5 -1.25 2\nв 4 5 6\n".as_bytes(),
    );
    expect(
        &vectors(&multibyte, "word2vec_binary"),
        &["mb.vec:2", "line 2 is text", "format: \"word2vec_text\""],
    );
    // Double spaces in a text file with multi-byte words read as text.
    let doubled = write(
        dir.path(),
        "double.vec",
        "2 3\nа  1 2 3\nb 4 5 6\n".as_bytes(),
    );
    let v = s
        .eval(&format!("{}.get(\"а\")", vectors(&doubled, "")), "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(s.display(&v).unwrap(), "[1.0, 2.0, 3.0]");
}

#[test]
fn nan_in_native_vectors_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let txt = write(dir.path(), "v.txt", "a 1 2 3\nb 4 5 0.125\n".as_bytes());
    let native = dir.path().join("v.safetensors");
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let _ = s
        .eval(
            &format!(
                "{}.save({:?})",
                vectors(&txt, ""),
                native.display().to_string()
            ),
            "t",
        )
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let mut bytes = std::fs::read(&native).unwrap();
    let at = bytes
        .windows(4)
        .position(|w| w == 0.125f32.to_le_bytes())
        .unwrap();
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&native, bytes).unwrap();
    expect(&vectors(&native, ""), &["word 2 ('b')", "value 3 is NaN"]);
}

#[test]
fn late_fusion_refuses_scores_that_are_not_probabilities() {
    expect(
        "fusion::late([data::matrix([[0.2, 0.9]]), data::matrix([[-1.5, 0.3]])], #{})",
        &[
            "fusion::late",
            "matrix 1 holds -1.5 at row 0, column 0",
            "metrics::calibrate",
        ],
    );
}

#[test]
fn a_loader_given_another_genrelab_file_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let nb = dir.path().join("nb.safetensors");
    let wv_txt = write(dir.path(), "v.txt", "a 1 2\nb 3 4\n".as_bytes());
    let wv = dir.path().join("wv.safetensors");
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let _ = s
        .eval(
            &format!(
                "let x = text::count_vectorizer().fit_transform([\"a cat\", \"a dog\"]);
             let y = data::binarizer([[\"a\"], [\"b\"]]).transform([[\"a\"], [\"b\"]]);
             nb::multinomial().fit(x, y).save({:?});
             {}.save({:?});",
                nb.display().to_string(),
                vectors(&wv_txt, ""),
                wv.display().to_string()
            ),
            "t",
        )
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let nb_s = nb.display().to_string();
    let wv_s = wv.display().to_string();
    expect(
        &format!("svm::load({nb_s:?})"),
        &["this is a genrelab 'naive_bayes' model (read it with nb::load)"],
    );
    expect(
        &format!("text::word_vectors({nb_s:?})"),
        &["this is a genrelab 'naive_bayes' model"],
    );
    expect(
        &format!("svm::load({wv_s:?})"),
        &["this is genrelab word vectors (read them with text::word_vectors)"],
    );
    expect(
        &format!("data::load_matrix({nb_s:?})"),
        &["this is a genrelab 'naive_bayes' model"],
    );
}

#[test]
fn writers_refuse_what_cannot_be_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv").display().to_string();
    expect(
        &format!("data::write_csv({csv:?}, [#{{ f1: 0.5 }}], [\"f1\", \"model\", \"f1\"])"),
        &["column 'f1' is given twice (columns 0 and 2)", "data::csv"],
    );
    assert!(!Path::new(&csv).exists());
    let json = dir.path().join("r.json").display().to_string();
    let e = error_of(&format!(
        "data::write_json({json:?}, #{{ results: [#{{ x: data::matrix([[1.0]]) }}] }})"
    ));
    assert!(
        e.contains("value.results[0].x is a Matrix") && e.contains(".to_array()"),
        "{e}"
    );
    assert!(!e.contains("genrelab::") && !e.contains("::Matrix"), "{e}");
    // NaN becomes null, with a warning that says where.
    let script = write(
        dir.path(),
        "nan.rhai",
        format!("data::write_json({json:?}, #{{ f1: [0.5, parse_float(\"NaN\")] }});").as_bytes(),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .arg("run")
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 number is not finite and written as null")
            && stderr.contains("value.f1[1]"),
        "{stderr}"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written["f1"][1], serde_json::Value::Null);
}

#[test]
fn a_report_path_that_is_a_folder_exits_2_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("out.html");
    std::fs::create_dir(&folder).unwrap();
    let marker = dir.path().join("ran.txt");
    let script = write(
        dir.path(),
        "s.rhai",
        format!(
            "data::write_text({:?}, \"ran\");",
            marker.display().to_string()
        )
        .as_bytes(),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .arg("run")
        .arg(&script)
        .arg("--report")
        .arg(&folder)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("that is a folder"), "{stderr}");
    assert!(!marker.exists(), "the script must not run");
}

#[test]
fn a_bracket_left_open_at_the_end_points_at_the_bracket() {
    let dir = tempfile::tempdir().unwrap();
    for (text, line, col) in [
        ("let x = 1;\nlet y = [1, 2,\n", 2, 9),
        ("let x = 1;\nfn f(a) {\n  a + 1\n", 2, 9),
        ("let s = #{ a: 1,\n  b: (2 + 3\n", 2, 6),
    ] {
        let script = write(dir.path(), "open.rhai", text.as_bytes());
        let out = Command::new(env!("CARGO_BIN_EXE_genrelab"))
            .arg("run")
            .arg(&script)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("open.rhai:{line}:{col}")),
            "{text:?} should point at {line}:{col}:\n{stderr}"
        );
        assert!(stderr.contains('^'), "{stderr}");
    }
}
