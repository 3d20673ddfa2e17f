//! Fusion pieces from scripts: logistic regression against scikit-learn,
//! the scaler, hstack, Platt calibration and late fusion, and their errors.

mod common;

use common::error_of;

fn eval(code: &str) -> String {
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let v = s
        .eval(code, "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    s.display(&v).unwrap_or_default()
}

const XY: &str = "let x = data::matrix([[0.5, 1.0, -1.0], [1.5, -0.5, 0.0], [-1.0, 2.0, 0.5], [0.0, 0.0, 1.0],\
    [2.0, 1.0, -0.5], [-0.5, -1.5, 1.5], [1.0, 0.5, 0.5], [-2.0, 1.0, -1.0]]);\
    let y = data::binarizer([[\"a\"], [\"b\"]]).transform([[\"a\"], [\"a\", \"b\"], [], [\"b\"], [\"a\"], [\"b\"], [\"a\", \"b\"], []]);";

/// scikit-learn 1.9.1 (see src/linear/logistic.rs for the snippet):
/// `LogisticRegression(C=1.0, tol=1e-10).fit(X, Y[:, 0])` has coef
/// [1.2610311, 0.09604714, -0.60586839], intercept -0.16024802, so
/// decision_function(X[:1]) = 0.5·1.2610311 + 0.09604714 + 0.60586839 − 0.16024802.
#[test]
fn logistic_regression_from_a_script_matches_scikit_learn() {
    let got: f64 = eval(&format!(
        "{XY} let m = linear::logistic(#{{ tol: 1e-10, max_iter: 10000 }}).fit(x, y); m.decision_function(x).row(0)[0]"
    ))
    .parse()
    .unwrap();
    let want = 0.5 * 1.2610311 + 0.09604714 + 0.60586839 - 0.16024802;
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    let shown = eval(&format!(
        "{XY} linear::logistic(#{{ c: 0.5, class_weight: \"balanced\" }}).fit(x, y).to_string()"
    ));
    assert!(
        shown.contains("C=0.5, class_weight=balanced") && shown.contains("2 labels × 3 features"),
        "{shown}"
    );
}

#[test]
fn bad_fusion_inputs_are_named() {
    let p = "let a = data::matrix([[0.9, 0.1], [0.2, 0.8]]); let b = data::matrix([[0.5, 0.5], [0.4, 0.6]]);";
    for (code, wanted) in [
        (format!("{p} fusion::late([a, b], #{{ weights: [0.7, 0.7] }})"), "fusion::late: the weights sum to 1.4; they must sum to 1"),
        (format!("{p} fusion::late([a, b], #{{ weights: [1.0] }})"), "1 weights for 2 matrices"),
        (format!("{p} fusion::late([a], #{{}})"), "give at least two probability matrices, got 1"),
        (
            format!("{p} fusion::late([a, data::matrix([[0.1, 0.2]])], #{{}})"),
            "matrix 0 is 2 × 2 but matrix 1 is 1 × 2",
        ),
        (
            format!("{p} fusion::late([a, data::matrix([[0.1, 0.2], [0.3, parse_float(\"NaN\")]])], #{{}})"),
            "fusion::late: matrix 1: row 1, column 1 is NaN; probabilities must be finite numbers",
        ),
        (
            "data::hstack([data::matrix([[1.0], [2.0]]), data::matrix([[1.0]])])".to_string(),
            "block 0 is 2 × 1 but block 1 is 1 × 1",
        ),
        (
            "data::hstack([data::matrix([[1.0]]), data::matrix([[1.0]]).to_sparse()])".to_string(),
            "dense and sparse blocks mixed",
        ),
        (
            "data::standard_scaler(#{}).fit(data::matrix([[1.0, 2.0]])).transform(data::matrix([[1.0]]))".to_string(),
            "fitted on 2 columns, this matrix has 1",
        ),
        (
            "let y = data::binarizer([[\"a\"], [\"War\"]]).transform([[\"a\"], []]);\
             metrics::calibrate(data::matrix([[0.1, 0.2], [0.3, 0.4]]), y, #{})"
                .to_string(),
            "label 'War' has only negatives",
        ),
        (
            "let m = linear::logistic(#{}).fit(data::matrix([[0.0], [1.0]]), data::binarizer([[\"a\"]]).transform([[], [\"a\"]]));\
             m.predict_proba(data::matrix([[1.0, 2.0]]))"
                .to_string(),
            "x has 2 columns but the model was fitted on 1",
        ),
    ] {
        let e = error_of(&code);
        assert!(e.contains(wanted), "{code}\nexpected {wanted:?} in\n{e}");
    }
}

#[test]
fn tuned_late_fusion_weighs_the_better_model() {
    let code = "let y = data::binarizer([[\"a\"], [\"b\"]]).transform([[\"a\"], [\"b\"], [\"a\"], [\"b\"]]);\
        let good = data::matrix([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.1, 0.6]]);\
        let noise = data::matrix([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.1]]);\
        let fused = fusion::late([noise, good], #{ tune_on: [y, [noise, good]] });\
        metrics::f1(y, metrics::top_k(fused, 1), \"micro\")";
    assert_eq!(eval(code), "1.0");
}

#[test]
fn bad_inputs_to_the_new_fusion_pieces_are_named() {
    let p = "let a = data::matrix([[0.9, 0.1], [0.2, 0.8]]); let b = data::matrix([[0.5, 0.5], [0.4, 0.6]]);\
             let y = data::binarizer([[\"a\"], [\"b\"]]).transform([[\"a\"], [\"b\"]]);";
    for (code, wanted) in [
        (
            format!("{p} fusion::late([a, b], #{{ weights: [[1.0, 0.0]] }})"),
            "1 per-label weight arrays for 2 label columns",
        ),
        (
            format!("{p} fusion::late([a, b], #{{ weights: [[1.0, 0.0], [0.3, 0.3]] }})"),
            "weights of label 1: the weights sum to 0.6",
        ),
        (
            format!("{p} fusion::tune_weights(y, [a], #{{}})"),
            "give at least two probability matrices, got 1",
        ),
        (
            format!("{p} fusion::tune_weights(y, [a, data::matrix([[0.1, 0.2]])], #{{}})"),
            "matrix 0 is 2 × 2 but matrix 1 is 1 × 2",
        ),
        (
            format!("{p} fusion::gmu(#{{ hidden: 4 }})"),
            "option 'inputs' is required",
        ),
        (
            format!("{p} fusion::gmu(#{{ inputs: [2, 0] }})"),
            "'inputs'",
        ),
        (
            format!("{p} fusion::gmu(#{{ inputs: [1, 2] }}).fit(a, y, #{{ epochs: 1 }})"),
            "the network takes 3 input columns (fusion::gmu's option 'inputs' is [1, 2]: text then image columns), the matrix has 2",
        ),
        (
            format!("{p} fusion::gmu(#{{ inputs: [1, 1] }}).predict(a)"),
            "this network is not fitted yet",
        ),
        (
            "data::write_csv(data::temp_path(\"r.csv\"), [#{ a: 1 }, #{ b: 2 }], [\"a\"])".to_string(),
            "row 1 has no 'a' (it has 'b')",
        ),
        (
            "data::write_csv(data::temp_path(\"r.csv\"), [#{ a: data::matrix([[1.0]]) }], [\"a\"])".to_string(),
            "row 0, column 'a' is a Matrix; cells must be numbers",
        ),
        (
            "data::write_json(data::temp_path(\"r.json\"), #{ m: data::matrix([[1.0]]) })".to_string(),
            "data::write_json:",
        ),
        (
            "plot::bar([1.0, 2.0], [\"a\", \"b\"], #{ path: data::temp_path(\"b.png\"), intervals: [[0.5, 1.5]] })".to_string(),
            "1 intervals for 2 bars",
        ),
        (
            "plot::bar([1.0], [\"a\"], #{ path: data::temp_path(\"b.png\"), intervals: [[1.5, 0.5]] })".to_string(),
            "interval 0 is [1.5, 0.5]; low must not exceed high",
        ),
    ] {
        let e = error_of(&code);
        assert!(e.contains(wanted), "{code}\nexpected {wanted:?} in\n{e}");
    }
}

/// A GMU trained from a script saves, loads back by kind and predicts the
/// same; sparse blocks join without densifying and keep every value.
#[test]
fn a_gmu_round_trips_and_sparse_blocks_join() {
    let code = "data::seed(0);\
        let x = data::matrix([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.9, 0.1, 0.1], [0.1, 0.8, 0.9]]);\
        let y = data::binarizer([[\"A\"], [\"B\"]]).transform([[\"A\"], [\"B\"], [\"A\"], [\"B\"]]);\
        let net = fusion::gmu(#{ inputs: [2, 1], hidden: 3, standardize: true }).fit(x, y, #{ epochs: 20 });\
        let p = data::temp_path(\"gmu.safetensors\"); net.save(p);\
        let back = nn::load(p);\
        assert_eq(back.predict_proba(x).to_array(), net.predict_proba(x).to_array());\
        let s = data::hstack([x.to_sparse(), data::matrix([[0.0], [2.0], [0.0], [3.0]]).to_sparse()]);\
        [s.shape(), s.nnz(), s.row(3), back.to_string()]";
    let got = eval(code);
    assert!(
        got.contains(
            "[4, 4], 11, [0.10000000149011612, 0.800000011920929, 0.8999999761581421, 3.0]"
        ),
        "{got}"
    );
    assert!(got.contains("Gmu [2 text, 1 image] → 3 gated → 2"), "{got}");
}
