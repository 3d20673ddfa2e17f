//! text::, nb::, svm:: and metrics:: on the real movies against the
//! scikit-learn reference (shared/bench/python_reference), and their error paths.

mod common;

use genrelab::Session;

fn run(code: &str) -> Option<String> {
    common::eval_with_data("text model test", code)
}

fn numbers(shown: &str) -> Vec<f64> {
    serde_json::from_str(shown).unwrap_or_else(|e| panic!("{shown}: {e}"))
}

const SETUP: &str = r#"
    let movies = data::movies(DATA_DIR + "/movies/movies.csv");
    let train = movies.split("train");
    let test = movies.split("test");
    let genres = data::binarizer(train);
    let y_train = genres.transform(train);
    let y_test = genres.transform(test);
    let counts = text::count_vectorizer(#{ max_df: 0.95, min_df: 0.005 });
    let tfidf = text::tfidf();
    let x_train = tfidf.fit_transform(counts.fit_transform(text::remove_chars(train, ",.")));
    let x_test = tfidf.transform(counts.transform(text::remove_chars(test, ",.")));
"#;

// tests/fixtures/sklearn_vocabulary_train.txt was written by
//   cv = CountVectorizer(max_df=0.95, min_df=0.005)
//   cv.fit([r['overview'].replace(',', '').replace('.', '') for r in train_rows])
//   open(..., 'w').write('\n'.join(cv.get_feature_names_out()) + '\n')
#[test]
fn vocabulary_is_sklearns() {
    let code = format!("{SETUP} counts.vocabulary()");
    let Some(shown) = run(&code) else { return };
    let ours: Vec<String> = serde_json::from_str(&shown).unwrap();
    let theirs: Vec<String> = include_str!("fixtures/sklearn_vocabulary_train.txt")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ours.len(), 1088);
    assert_eq!(ours, theirs);
}

// X = TfidfTransformer().fit_transform(cv.transform(train_texts)); X[0] sorted by column:
//   columns [5, 19, 48, ...], values [0.18710397905388115, 0.1417082531685557, 0.22592995465250057, ...]
//   X.nnz 110292; with C = X.tocoo(): (C.data * ((C.row+1)*1e-3 + (C.col+1)*1e-6)).sum() = 41658.39811202658
#[test]
fn tfidf_values_are_sklearns() {
    let code = format!(
        "{SETUP}
        let weighted = 0.0;
        for i in 0..x_train.rows {{
            let row = x_train.row(i);
            for j in 0..row.len() {{ if row[j] != 0.0 {{ weighted += row[j] * ((i + 1) * 1e-3 + (j + 1) * 1e-6); }} }}
        }}
        let r0 = x_train.row(0);
        [x_train.nnz.to_float(), weighted, r0[5], r0[19], r0[48], r0[1022]]"
    );
    let Some(shown) = run(&code) else { return };
    let got = numbers(&shown);
    let want = [
        110292.0,
        41658.39811202658,
        0.18710397905388115,
        0.1417082531685557,
        0.22592995465250057,
        0.24045118172006913,
    ];
    assert_eq!(got[0], want[0]);
    assert!((got[1] - want[1]).abs() < 1e-3, "{got:?}");
    for k in 2..6 {
        assert!((got[k] - want[k]).abs() < 1e-6, "{got:?}");
    }
}

// shared/bench/python_reference/results.json, model A2 (OneVsRest(MultinomialNB()) on the
// same tf-idf): top3 P 0.4781931464174454, R 0.6045... (0.605), micro-F1 0.34418091560948705,
// macro-F1 0.1110087925033987.
#[test]
fn naive_bayes_reproduces_the_reference() {
    let code = format!(
        "{SETUP}
        let nb = nb::multinomial().fit(x_train, y_train);
        let pr = metrics::precision_recall_top_k(y_test, nb.predict_proba(x_test), 3);
        let p = nb.predict(x_test);
        [pr.precision, pr.recall, metrics::f1(y_test, p, \"micro\"), metrics::f1(y_test, p, \"macro\")]"
    );
    let Some(shown) = run(&code) else { return };
    let got = numbers(&shown);
    let want = [
        0.4781931464174454,
        0.605,
        0.34418091560948705,
        0.1110087925033987,
    ];
    assert!((got[0] - want[0]).abs() < 1e-6, "{got:?}");
    assert!((got[1] - want[1]).abs() < 0.001, "{got:?}");
    assert!((got[2] - want[2]).abs() < 1e-6, "{got:?}");
    assert!((got[3] - want[3]).abs() < 1e-6, "{got:?}");
}

// Model A3x of the reference: TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.95,
// sublinear_tf=True) on train, OvR(LinearSVC(C=0.3)), per-label thresholds tuned on dev by
// coordinate ascent from 0: test micro-F1 0.599.
#[test]
fn linear_svc_with_dev_thresholds_reproduces_the_reference() {
    let code = format!(
        "{SETUP}
        let dev = movies.split(\"dev\");
        let v = text::tfidf_vectorizer(#{{ ngram_range: [1, 2], min_df: 2, max_df: 0.95, sublinear_tf: true }});
        let x = v.fit_transform(text::remove_chars(train, \",.\"));
        let m = svm::linear(#{{ c: 0.3 }}).fit(x, y_train);
        let thr = metrics::tune_thresholds(genres.transform(dev), m.decision_function(v.transform(text::remove_chars(dev, \",.\"))), #{{ start: 0.0 }});
        let s = m.decision_function(v.transform(text::remove_chars(test, \",.\")));
        [metrics::f1(y_test, metrics::apply_thresholds(s, thr), \"micro\")]"
    );
    let Some(shown) = run(&code) else { return };
    let got = numbers(&shown);
    assert!((got[0] - 0.599).abs() < 0.005, "{got:?}");
}

#[test]
fn svm_grid_fits_and_reports_its_choices() {
    let code = format!(
        "{SETUP}
        let g = svm::grid_search(#{{ c: [0.1, 1.0], folds: 3, class_weight: \"balanced\" }}).fit(x_train, y_train);
        let cv = g.cv_results();
        [g.best_params().len().to_float(), cv[\"Drama\"].len().to_float(), metrics::f1(y_test, g.predict(x_test), \"micro\")]"
    );
    let Some(shown) = run(&code) else { return };
    let got = numbers(&shown);
    assert_eq!(&got[..2], &[20.0, 2.0]);
    assert!(got[2] > 0.45 && got[2] < 0.6, "{got:?}");
}

#[test]
fn bad_text_inputs_give_clear_errors() {
    let cases = [
        ("text::count_vectorizer().fit([])", "fit: no documents"),
        (
            "text::count_vectorizer().fit([\"a\", \"!\", \"\"])",
            "empty vocabulary",
        ),
        (
            "text::count_vectorizer(#{ min_df: 2 }).fit([\"red cat\", \"blue dog\"])",
            "no terms remain",
        ),
        (
            "text::count_vectorizer(#{ min_df: 1.5 })",
            "option 'min_df' is 1.5, expected an integer >= 0 or a number in [0, 1]",
        ),
        (
            "text::count_vectorizer(#{ min_dff: 2 })",
            "unknown option 'min_dff'; known options: min_df, max_df",
        ),
        (
            "text::count_vectorizer(#{ ngram_range: [2, 1] })",
            "ngram_range",
        ),
        (
            "text::count_vectorizer().transform([\"a\"])",
            "not fitted yet",
        ),
        (
            "text::count_vectorizer().fit([1, 2])",
            "element 0 is i64, expected a string",
        ),
        (
            "svm::linear(#{ c: -1 })",
            "option 'c' is -1, expected a number > 0",
        ),
        (
            "svm::svc(#{ kernel: \"rbf\" })",
            "option 'kernel' is \"rbf\", expected \"linear\"",
        ),
        (
            "svm::grid_search(#{ scoring: \"auc\" })",
            "option 'scoring' is \"auc\", expected one of \"f1_micro\"",
        ),
        (
            "metrics::f1(data::binarizer([[\"a\"]]).transform([[\"a\"]]), data::binarizer([[\"a\"]]).transform([[\"a\"], []]), \"micro\")",
            "y_true is 1 × 1 but the other argument is 2 × 1",
        ),
        (
            "metrics::f1(data::binarizer([[\"a\"]]).transform([[\"a\"]]), data::binarizer([[\"a\"]]).transform([[\"a\"]]), \"mean\")",
            "unknown average 'mean'",
        ),
    ];
    for (code, expected) in cases {
        let msg = common::error_of(code);
        assert!(
            msg.contains(expected),
            "{code}\n  gave: {msg}\n  expected: {expected}"
        );
        assert!(msg.starts_with("error: t:1:"), "no position: {msg}");
    }
}

#[test]
fn model_fit_errors_name_the_problem() {
    let prelude = r#"
        let v = text::count_vectorizer();
        let x = v.fit_transform(["gun fight", "love kiss", "gun chase"]);
        let b = data::binarizer([["Action"], ["Romance"]]);
    "#;
    let cases = [
        (
            "svm::linear(#{}).fit(x, b.transform([[\"Action\"]]))",
            "x has 3 rows but the labels have 1",
        ),
        (
            "nb::multinomial().fit(x, b.transform([[\"Action\"]]))",
            "x has 3 rows but the labels have 1",
        ),
        (
            "let m = svm::linear(#{}).fit(x, b.transform([[\"Action\"], [], [\"Action\"]])); m.predict(text::count_vectorizer().fit_transform([\"aa bb cc dd ee ff\"]))",
            "x has 6 columns but the model was fitted on 5",
        ),
        ("nb::multinomial().predict(x)", "not fitted yet"),
        (
            "svm::grid_search(#{ folds: 5 }).fit(x, b.transform([[\"Action\"], [], [\"Action\"]]))",
            "folds=5 cannot be greater than the number of members in each class",
        ),
    ];
    for (code, expected) in cases {
        let msg = common::error_of(&format!("{prelude}{code}"));
        assert!(
            msg.contains(expected),
            "{code}\n  gave: {msg}\n  expected: {expected}"
        );
    }
    // A label with no positive example is documented behaviour, not an error:
    // it is predicted absent everywhere (with a warning on stderr).
    let (mut s, _) = Session::capturing(Err("no data".into()));
    let v = s
        .eval(&format!("{prelude} svm::linear(#{{}}).fit(x, b.transform([[\"Action\"], [], [\"Action\"]])).predict(x).counts()"), "t")
        .unwrap();
    assert_eq!(s.display(&v).unwrap(), "#{\"Action\": 2, \"Romance\": 0}");
}
