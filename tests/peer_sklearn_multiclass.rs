//! scikit-learn's one-vs-rest with a label that is constant in training
//! (sklearn/tests/test_multiclass.py::test_ovr_always_present, scikit-learn
//! 1.9.1) against linear::logistic, svm and nb: the label is not fitted; it
//! is predicted with probability exactly 1 (always present) or 0 (never).
//!
//! ```python
//! from sklearn.multiclass import OneVsRestClassifier
//! from sklearn.linear_model import LogisticRegression
//! X = [[0, 0]] * 5 + [[1, 1]] * 5; Y = [[0, 1, 1]] * 5 + [[1, 1, 1]] * 5
//! m = OneVsRestClassifier(LogisticRegression()).fit(X, Y)
//! m.predict_proba([[0, 0], [1, 1], [0.25, 0.25], [0.75, 0.75], [3, -1]])
//! # [[0.23553741802329364, 1, 1], [0.7644762609234664, 1, 1], [0.35694864865829923, 1, 1],
//! #  [0.6430687891508203, 1, 1], [0.7644762609234664, 1, 1]]
//! # Y_absent = [[0, 0]] * 5 + [[1, 0]] * 5: column 1 of predict_proba is 0.0 everywhere
//! ```

mod common;

use common::check_script as check;

#[test]
fn a_constant_label_is_predicted_constantly() {
    check(
        r#"
        let x = data::matrix([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0],
                              [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]);
        let b = data::binarizer([["a"], ["b"], ["c"]]);
        let rows = [];
        for i in 0..10 { rows.push(if i < 5 { ["b", "c"] } else { ["a", "b", "c"] }); }
        let y = b.transform(rows);
        let m = linear::logistic(#{}).fit(x, y);
        let x_new = data::matrix([[0.0, 0.0], [1.0, 1.0], [0.25, 0.25], [0.75, 0.75], [3.0, -1.0]]);
        let p = m.predict_proba(x_new).to_array();
        let want = [0.23553741802329364, 0.7644762609234664, 0.35694864865829923, 0.6430687891508203, 0.7644762609234664];
        for i in 0..5 {
            // lbfgs stops at tol 1e-4 in both: the fitted column agrees to ~1e-3.
            assert((p[i][0] - want[i]).abs() < 1e-3, `${p[i][0]} vs ${want[i]}`);
            assert_eq(p[i][1], 1.0);
            assert_eq(p[i][2], 1.0);
        }
        let absent = b.transform(rows.map(|r| r.filter(|g| g != "c")));
        let m = linear::logistic(#{}).fit(x, absent);
        assert_eq(m.predict_proba(x_new).to_array().map(|r| r[2]), [0.0, 0.0, 0.0, 0.0, 0.0]);
        "#,
    );
}
