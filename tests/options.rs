//! The declared options schemas: every function that takes an options map
//! parses it with one schema, and `genrelab doc` shows that same schema, so
//! the documented options cannot drift from the parsed ones. Bad options are
//! refused with the option, the value and what is allowed.

mod common;

use std::collections::BTreeSet;

use genrelab::{Session, docs};

#[test]
fn every_function_with_options_has_exactly_one_schema_and_the_docs_show_it() {
    let (probe, _) = Session::capturing(Err("unused".into()));
    let all = docs::collect(probe.engine());
    let with_options: BTreeSet<String> = all
        .iter()
        .filter(|d| docs::takes_options(&d.signature))
        .map(|d| d.qualified_name())
        .collect();
    let declared: Vec<&str> = genrelab::api::schemas().map(|s| s.function).collect();
    let unique: BTreeSet<&str> = declared.iter().copied().collect();
    assert_eq!(
        unique.len(),
        declared.len(),
        "a schema declared twice: {declared:?}"
    );
    let declared: BTreeSet<String> = unique.iter().map(|s| s.to_string()).collect();
    let undeclared: Vec<&String> = with_options.difference(&declared).collect();
    let unused: Vec<&String> = declared.difference(&with_options).collect();
    assert!(
        undeclared.is_empty(),
        "functions taking options without a schema: {undeclared:?}"
    );
    assert!(
        unused.is_empty(),
        "schemas no documented function uses: {unused:?}"
    );
    for d in all.iter().filter(|d| docs::takes_options(&d.signature)) {
        assert!(
            d.doc.contains("\nOptions:\n- `"),
            "{} does not list its options:\n{}",
            d.signature,
            d.doc
        );
    }
}

#[test]
fn doc_lists_each_option_with_type_default_and_range() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .args(["doc", "nn"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for line in [
        "- `hidden` — a non-empty array of integers >= 1; default [100].",
        "- `dropout` — a number in [0, 1); default 0.0.",
        "- `epochs` — an integer >= 1; default 100.",
        "- `optimizer` — one of \"adam\", \"rmsprop\", \"sgd\"; default \"adam\".",
        "- `seed` — an integer in [0, 4294967295]; default drawn from the session seed.",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

fn expect_error(code: &str, wanted: &[&str]) {
    let e = common::error_of(code);
    for w in wanted {
        assert!(e.contains(w), "expected {w:?} in:\n{e}");
    }
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn unknown_options_list_the_known_ones_and_suggest_the_near_miss() {
    expect_error(
        "nn::mlp(#{ hiden: [10] })",
        &[
            "nn::mlp: unknown option 'hiden'; known options: hidden, activation",
            "(did you mean 'hidden'?)",
            "t:1:",
        ],
    );
    expect_error(
        "text::count_vectorizer(#{ stopwords: \"english\" })",
        &["did you mean 'stop_words'?"],
    );
    expect_error("svm::linear(#{ xyzzy: 1 })", &["unknown option 'xyzzy'"]);
}

#[test]
fn counts_and_sizes_out_of_range_name_the_option_the_value_and_the_range() {
    let m = "data::matrix([[9, 8, 0, 1], [8, 9, 1, 0], [0, 1, 9, 8], [1, 0, 8, 9]])";
    expect_error(
        &format!("genres::cocluster({m}, #{{ n_init: 0 }})"),
        &["genres::cocluster: option 'n_init' is 0, expected an integer >= 1"],
    );
    expect_error(
        &format!("genres::cocluster({m}, #{{ n_clusters: -3 }})"),
        &["option 'n_clusters' is -3, expected an integer >= 2"],
    );
    expect_error(
        &format!("plot::heatmap({m}, #{{ path: data::temp_path(\"x.png\"), size: [0, 300] }})"),
        &[
            "plot::heatmap: option 'size' is [0, 300], expected an array of 2 integers in [16, 16384]; element 0 is 0",
        ],
    );
    expect_error(
        "plot::bar([1], [\"a\"], #{ path: data::temp_path(\"b.png\"), color: [0, 0, 300] })",
        &[
            "option 'color' is [0, 0, 300], expected an array of 3 integers in [0, 255]; element 2 is 300",
        ],
    );
    expect_error(
        "plot::bar([1], [\"a\"], #{ title: \"no path\" })",
        &[
            "plot::bar: option 'path' is missing: give a file name ending in .png or .svg (only a notebook or a run with --report shows a figure without one)",
        ],
    );
    expect_error(
        "nn::mlp(#{}).fit(data::matrix([[1.0]]), data::binarizer([[\"a\"]]).transform([[\"a\"]]), #{ batch_size: 0 })",
        &["Network.fit: option 'batch_size' is 0, expected an integer >= 1"],
    );
    expect_error(
        "nn::mlp(#{}).fit(data::matrix([[1.0]]), data::binarizer([[\"a\"]]).transform([[\"a\"]]), #{ lr: -1 })",
        &["option 'lr' is -1, expected a number > 0"],
    );
    expect_error(
        "svm::grid_search(#{ folds: 1 })",
        &["option 'folds' is 1, expected an integer >= 2"],
    );
    expect_error(
        "svm::grid_search(#{ c: [] })",
        &["option 'c' is [], expected a non-empty array of numbers > 0; it is empty"],
    );
    expect_error(
        "text::count_vectorizer(#{ min_df: 1.5 })",
        &["option 'min_df' is 1.5, expected an integer >= 0 or a number in [0, 1]"],
    );
    expect_error(
        "text::count_vectorizer(#{ ngram_range: [2, 1] })",
        &["option 'ngram_range' is [2, 1], expected [low, high] with 1 <= low <= high"],
    );
}

#[test]
fn wrong_types_and_choices_say_what_was_given_and_what_is_allowed() {
    expect_error(
        "nn::mlp(#{ activation: \"rleu\" })",
        &[
            "option 'activation' is \"rleu\", expected one of \"relu\", \"tanh\" (did you mean \"relu\"?)",
        ],
    );
    expect_error(
        "text::tfidf(#{ norm: 2 })",
        &["text::tfidf: option 'norm' is 2, expected one of \"l2\", \"l1\" or ()"],
    );
    expect_error(
        "data::csv(\"x.csv\", #{ delimiter: \";;\" })",
        &["data::csv: option 'delimiter' is \";;\", expected one ASCII character"],
    );
    expect_error(
        "svm::linear(#{ c: \"1\" })",
        &["svm::linear: option 'c' is \"1\", expected a number > 0"],
    );
    expect_error(
        "nn::mlp(#{ seed: -1 })",
        &["option 'seed' is -1, expected an integer in [0, 4294967295]"],
    );
}
