//! Bad input handled as classes, at the shared mechanism: non-finite
//! numbers, label sets that do not match, duplicate or spaced CSV header
//! names, byte-order marks, truncated files. Each test asserts what was
//! wrong, where, and what would be right.

mod common;

use common::error_of;

fn expect(code: &str, wanted: &[&str]) {
    let e = error_of(code);
    for w in wanted {
        assert!(e.contains(w), "{code}\nexpected {w:?} in:\n{e}");
    }
    assert!(!e.contains("panicked"), "{e}");
}

const Y: &str =
    "let b = data::binarizer([[\"a\"], [\"b\"]]); let y = b.transform([[\"a\"], [\"b\"]]);";
const NAN: &str = "parse_float(\"NaN\")";

#[test]
fn non_finite_scores_are_refused_by_every_metric() {
    let scores = format!("data::matrix([[0.9, 0.1], [0.2, {NAN}]])");
    for (call, what) in [
        (
            format!("metrics::precision_recall_top_k(y, {scores}, 1)"),
            "precision_recall_top_k: scores",
        ),
        (
            format!("metrics::tune_thresholds(y, {scores})"),
            "tune_thresholds: scores_dev",
        ),
        (
            format!("metrics::tune_thresholds(y, {scores}, #{{ start: 0.0 }})"),
            "tune_thresholds: scores_dev",
        ),
        (
            format!("metrics::apply_thresholds({scores}, [0.5, 0.5])"),
            "apply_thresholds: scores",
        ),
        (format!("metrics::top_k({scores}, 1)"), "top_k: scores"),
        (
            format!("metrics::threshold({scores}, 0.5)"),
            "threshold: scores",
        ),
    ] {
        expect(
            &format!("{Y} {call}"),
            &[&format!(
                "{what}: row 1, column 1 is NaN; scores must be finite numbers"
            )],
        );
    }
    let inf = "data::matrix([[1.0, 2.0], [parse_float(\"inf\"), 0.0]])";
    expect(
        &format!("{Y} metrics::top_k({inf}, 1)"),
        &["row 1, column 0 is inf"],
    );
    expect(
        &format!("{Y} metrics::apply_thresholds(data::matrix([[0.1, 0.2]]), [0.5, {NAN}])"),
        &["apply_thresholds: thresholds: element 1 is NaN; it must be a finite number"],
    );
    expect(
        &format!("metrics::threshold(data::matrix([[0.1]]), {NAN})"),
        &["threshold: t is NaN"],
    );
}

#[test]
fn non_finite_features_are_refused_by_models_and_plots() {
    let x = format!("data::matrix([[1.0, 0.0], [0.0, {NAN}]])");
    expect(
        &format!("{Y} svm::linear(#{{}}).fit({x}.to_sparse(), y)"),
        &["fit: x: row 1, column 1 is NaN; features must be finite numbers"],
    );
    expect(
        &format!("{Y} nb::multinomial().fit({x}.to_sparse(), y)"),
        &["row 1, column 1 is NaN"],
    );
    expect(
        &format!("{Y} nn::mlp(#{{}}).fit({x}, y)"),
        &["row 1, column 1 is NaN; features must be finite numbers"],
    );
    expect(
        &format!("plot::bar([1, {NAN}], [\"a\", \"b\"], #{{ path: data::temp_path(\"b.png\") }})"),
        &["plot::bar: counts: element 1 is NaN"],
    );
    expect(
        &format!(
            "plot::line([1, 2], #{{ s: [1, {NAN}] }}, #{{ path: data::temp_path(\"l.png\") }})"
        ),
        &["plot::line: series 's': element 1 is NaN"],
    );
}

#[test]
fn label_sets_that_differ_are_named() {
    let two = "let y = data::binarizer([[\"a\"], [\"b\"]]).transform([[\"a\"], [\"b\"]]);\
               let p = data::binarizer([[\"a\"], [\"c\"]]).transform([[\"a\"], [\"c\"]]);";
    expect(
        &format!("{two} metrics::f1(y, p, \"micro\")"),
        &["f1: y_true and y_pred have other labels: only in y_true: b; only in y_pred: c"],
    );
    let order = "let y = data::binarizer([[\"a\"], [\"b\"]]).transform([[\"a\"], [\"b\"]]);\
                 let p = data::binarizer([[\"b\"], [\"a\"]], #{ order: [\"b\", \"a\"] }).transform([[\"a\"], [\"b\"]]);";
    expect(
        &format!("{order} metrics::report(y, p)"),
        &["the same labels in another order (column 0 is 'a' in y_true, 'b' in y_pred)"],
    );
    // Scores whose columns are named by other labels.
    let Some(data) = common::shared_data("label names of scores") else {
        return;
    };
    let code = format!(
        "let m = data::movies(\"{}/movies/movies.csv\").sample(40);\
         let x = text::count_vectorizer().fit_transform(m);\
         let b = data::binarizer(m);\
         let nb = nb::multinomial().fit(x, b.transform(m));\
         let names = b.names(); names.reverse();\
         let y = data::binarizer(m.genres(), #{{ order: names }}).transform(m);\
         metrics::precision_recall_top_k(y, nb.predict_proba(x), 3)",
        data.display()
    );
    let (mut s, _) = genrelab::Session::capturing(Ok(data.clone()));
    let e = s.eval(&code, "t").unwrap_err().render();
    assert!(
        e.contains("precision_recall_top_k: the labels and scores have other labels: the same labels in another order"),
        "{e}"
    );
}

#[test]
fn csv_headers_with_duplicates_or_spaces() {
    let dir = tempfile::tempdir().unwrap();
    let dup = common::write(
        dir.path(),
        "dup.csv",
        b"id,title,overview,genres,title\n1,A,x,Drama,B\n",
    );
    let msg = "dup.csv:1: column 'title' appears twice in the header (columns 2 and 5); rename one";
    expect(&format!("data::movies(\"{}\")", dup.display()), &[msg]);
    expect(&format!("data::csv(\"{}\")", dup.display()), &[msg]);
    let spaced = common::write(
        dir.path(),
        "spaced.csv",
        b"id, title , overview,genres\n1,Heat,Cops,Crime|Drama\n",
    );
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let v = s
        .eval(
            &format!("data::movies(\"{}\").titles()", spaced.display()),
            "t",
        )
        .unwrap();
    assert_eq!(s.display(&v).unwrap(), "[\"Heat\"]");
    let v = s
        .eval(
            &format!("data::csv(\"{}\")[0].title", spaced.display()),
            "t",
        )
        .unwrap();
    assert_eq!(s.display(&v).unwrap(), "Heat");
    let missing = common::write(dir.path(), "m.csv", b"id,name\n1,x\n");
    expect(
        &format!("data::movies(\"{}\")", missing.display()),
        &["missing column 'title'; columns present: 'id', 'name'"],
    );
}

#[test]
fn a_json_file_with_a_byte_order_mark_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(dir.path(), "bom.json", b"\xef\xbb\xbf{\"28\": \"Action\"}");
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let v = s
        .eval(&format!("data::json(\"{}\")[\"28\"]", path.display()), "t")
        .unwrap();
    assert_eq!(s.display(&v).unwrap(), "Action");
}

#[test]
fn truncated_files_are_called_truncated_with_their_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let _ = s
        .eval(
            &format!(
                "data::matrix([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).save(\"{d}/m.safetensors\");\
             data::matrix([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).save(\"{d}/m.npy\");\
             let x = text::count_vectorizer().fit_transform([\"gun\", \"kiss\"]);\
             let y = data::binarizer([[\"A\"]]).transform([[\"A\"], []]);\
             nb::multinomial().fit(x, y).save(\"{d}/nb.safetensors\");"
            ),
            "t",
        )
        .unwrap();
    for (name, load) in [
        ("m.safetensors", "data::load_matrix"),
        ("m.npy", "data::load_matrix"),
        ("nb.safetensors", "nb::load"),
    ] {
        let path = dir.path().join(name);
        let bytes = std::fs::read(&path).unwrap();
        let cut = bytes.len() - 5;
        std::fs::write(&path, &bytes[..cut]).unwrap();
        expect(
            &format!("{load}(\"{}\")", path.display()),
            &[&format!(
                "{name}: truncated: {cut} bytes, but its header promises {}",
                bytes.len()
            )],
        );
        std::fs::write(&path, &bytes[..6]).unwrap();
        let e = error_of(&format!("{load}(\"{}\")", path.display()));
        assert!(
            e.contains("truncated")
                || e.contains("not a safetensors file")
                || e.contains("not a .npy file"),
            "{name}: {e}"
        );
    }
    let text = common::write(dir.path(), "notes.npy", b"just some text, not numpy");
    expect(
        &format!("data::load_matrix(\"{}\")", text.display()),
        &["notes.npy: not a .npy file (25 bytes)"],
    );
}
