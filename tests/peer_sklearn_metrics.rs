//! Cases from scikit-learn's own tests, sklearn/metrics/tests/
//! test_classification.py (scikit-learn 1.9.1), multilabel indicator
//! inputs, against metrics::. The expected values were computed by
//! scikit-learn in a throwaway venv:
//!
//! ```python
//! from sklearn.metrics import (precision_recall_fscore_support, fbeta_score,
//!     jaccard_score, accuracy_score, hamming_loss)
//! precision_recall_fscore_support(y_true, y_pred, average=a, zero_division=z)
//! fbeta_score(y_true, y_pred, beta=b, average=a, zero_division=z)
//! jaccard_score(y_true, y_pred, average=a, zero_division=z)
//! ```

mod common;

fn check(code: &str) {
    common::check_script(&format!("{PRELUDE}\n{code}"));
}

/// Labels from 0/1 rows: columns named "0", "1", ….
const PRELUDE: &str = r#"
fn labels(rows) {
    let names = [];
    for j in 0..rows[0].len() { names.push(`${j}`); }
    let b = data::binarizer(names.map(|n| [n]));
    b.transform(rows.map(|r| { let l = []; for j in 0..r.len() { if r[j] == 1 { l.push(`${j}`); } } l }))
}
fn close(a, b) {
    if type_of(a) == "array" {
        assert_eq(a.len(), b.len());
        for i in 0..a.len() { close(a[i], b[i]); }
    } else if (a - b).abs() > 1e-12 {
        throw `${a} != ${b}`;
    }
}
"#;

// test_precision_recall_f1_score_multilabel_1:
//   y_true = [[1,0,0,0],[0,1,0,0],[0,0,1,1]]; y_pred = [[0,1,0,0],[0,1,0,0],[1,0,1,0]]
//   average=None: precision [0, 0.5, 1, 0], recall [0, 1, 1, 0], f1 [0, 0.6666666666666666, 1, 0],
//     f0.5 [0, 0.5555555555555556, 1, 0], f2 [0, 0.8333333333333334, 1, 0]
//   macro: precision 0.375 (zero_division=1: 0.625), recall 0.5, f1 0.41666666666666663,
//     f0.5 0.3888888888888889, f2 0.45833333333333337; micro 0.5; samples 0.5
#[test]
fn multilabel_1() {
    check(
        r#"
        let t = labels([[1,0,0,0],[0,1,0,0],[0,0,1,1]]);
        let p = labels([[0,1,0,0],[0,1,0,0],[1,0,1,0]]);
        close(metrics::precision(t, p, ()), [0.0, 0.5, 1.0, 0.0]);
        close(metrics::recall(t, p, ()), [0.0, 1.0, 1.0, 0.0]);
        close(metrics::f1(t, p, ()), [0.0, 0.6666666666666666, 1.0, 0.0]);
        close(metrics::fbeta(t, p, #{ beta: 0.5, average: () }), [0.0, 0.5555555555555556, 1.0, 0.0]);
        close(metrics::fbeta(t, p, #{ beta: 2.0, average: () }), [0.0, 0.8333333333333334, 1.0, 0.0]);
        close(metrics::precision(t, p, "macro"), 0.375);
        close(metrics::precision(t, p, #{ average: "macro", zero_division: 1 }), 0.625);
        close(metrics::precision(t, p, #{ average: "weighted", zero_division: 1 }), 0.625);
        close(metrics::f1(t, p, "macro"), 0.41666666666666663);
        close(metrics::fbeta(t, p, #{ beta: 0.5, average: "macro" }), 0.3888888888888889);
        close(metrics::fbeta(t, p, #{ beta: 2.0, average: "macro" }), 0.45833333333333337);
        close(metrics::f1(t, p, "micro"), 0.5);
        close(metrics::f1(t, p, "samples"), 0.5);
        "#,
    );
}

// test_precision_recall_f1_score_multilabel_2 (zero_division=1):
//   y_true = [[1,0,0,0],[0,1,0,0],[0,1,1,0]]; y_pred = [[0,0,0,1],[0,0,0,1],[1,1,0,0]]
//   average=None precision [0, 1, 1, 0], recall [0, 0.5, 0, 1]; macro precision 0.5,
//   recall 0.375; weighted precision 0.75; f1 macro 0.16666666666666666 whatever z;
//   f2 weighted 0.2777777777777778; samples 0.16666666666666666
#[test]
fn multilabel_2_with_zero_division_1() {
    check(
        r#"
        let t = labels([[1,0,0,0],[0,1,0,0],[0,1,1,0]]);
        let p = labels([[0,0,0,1],[0,0,0,1],[1,1,0,0]]);
        let one = |a| #{ average: a, zero_division: 1 };
        close(metrics::precision(t, p, one.call(())), [0.0, 1.0, 1.0, 0.0]);
        close(metrics::recall(t, p, one.call(())), [0.0, 0.5, 0.0, 1.0]);
        close(metrics::precision(t, p, one.call("macro")), 0.5);
        close(metrics::recall(t, p, one.call("macro")), 0.375);
        close(metrics::precision(t, p, one.call("weighted")), 0.75);
        close(metrics::f1(t, p, one.call("macro")), 0.16666666666666666);
        close(metrics::fbeta(t, p, #{ beta: 2.0, average: "weighted", zero_division: 1 }), 0.2777777777777778);
        close(metrics::f1(t, p, one.call("samples")), 0.16666666666666666);
        "#,
    );
}

// test_precision_recall_f1_no_labels: y_true = y_pred = zeros((20, 3)):
// every average gives zero_division (0 -> 0.0, 1 -> 1.0); with "warn" 0.0
// and a warning "F-score is ill-defined and being set to 0.0 …".
#[test]
fn no_labels_give_zero_division() {
    check(
        r#"
        let z = [];
        for i in 0..20 { z.push([0, 0, 0]); }
        let z = labels(z);
        for a in ["micro", "macro", "weighted", "samples"] {
            assert_eq(metrics::f1(z, z, #{ average: a, zero_division: 1 }), 1.0);
            assert_eq(metrics::precision(z, z, #{ average: a, zero_division: 0 }), 0.0);
            assert_eq(metrics::recall(z, z, #{ average: a, zero_division: "warn" }), 0.0);
        }
        assert_eq(metrics::f1(z, z, #{ average: (), zero_division: 1 }), [1.0, 1.0, 1.0]);
        "#,
    );
    let e = common::error_of(
        r#"let b = data::binarizer([["a"]]); metrics::f1(b.transform([["a"]]), b.transform([["a"]]), #{ average: "micro", zero_division: 2 })"#,
    );
    assert!(e.contains("option 'zero_division' is 2"), "{e}");
    let e = common::error_of(
        r#"let b = data::binarizer([["a"]]); metrics::fbeta(b.transform([["a"]]), b.transform([["a"]]), #{ average: "micro" })"#,
    );
    assert!(e.contains("beta"), "{e}");
}

// test_multilabel_jaccard_score, test_jaccard_score_zero_division_set_value,
// test_multilabel_accuracy_score_subset_accuracy, test_multilabel_hamming_loss:
//   y1 = [[0,1,1],[1,0,1]], y2 = [[0,0,1],[1,0,1]]: jaccard None [1, 0, 1], micro 0.75,
//   macro 0.6666666666666666, weighted 0.75, samples 0.75; accuracy 0.5; hamming 1/6
//   B: y_true [[0,1,1],[1,0,1]], y_pred [[1,1,1],[1,0,1]]: micro 0.8, macro 0.8333333333333334,
//   weighted 0.875, samples 0.8333333333333333
//   jaccard([[1,0,1],[0,0,0]], zeros, zero_division=1): None [0, 1, 0], macro 0.3333333333333333, samples 0.5
#[test]
fn jaccard_accuracy_hamming() {
    check(
        r#"
        let y1 = labels([[0,1,1],[1,0,1]]);
        let y2 = labels([[0,0,1],[1,0,1]]);
        close(metrics::jaccard(y1, y2, ()), [1.0, 0.0, 1.0]);
        close(metrics::jaccard(y1, y2, "micro"), 0.75);
        close(metrics::jaccard(y1, y2, "macro"), 0.6666666666666666);
        close(metrics::jaccard(y1, y2, "weighted"), 0.75);
        close(metrics::jaccard(y1, y2, "samples"), 0.75);
        close(metrics::accuracy(y1, y2), 0.5);
        close(metrics::accuracy(y1, y1), 1.0);
        close(metrics::hamming_loss(y1, y2), 0.16666666666666666);
        let p = labels([[1,1,1],[1,0,1]]);
        close(metrics::jaccard(y1, p, "micro"), 0.8);
        close(metrics::jaccard(y1, p, "macro"), 0.8333333333333334);
        close(metrics::jaccard(y1, p, "weighted"), 0.875);
        close(metrics::jaccard(y1, p, "samples"), 0.8333333333333333);
        let t = labels([[1,0,1],[0,0,0]]);
        let z = labels([[0,0,0],[0,0,0]]);
        close(metrics::jaccard(t, z, #{ average: (), zero_division: 1 }), [0.0, 1.0, 0.0]);
        close(metrics::jaccard(t, z, #{ average: "macro", zero_division: 1 }), 0.3333333333333333);
        close(metrics::jaccard(t, z, #{ average: "samples", zero_division: 1 }), 0.5);
        "#,
    );
}
