//! Cases from scikit-learn's own tests, sklearn/preprocessing/tests/
//! test_data.py (scikit-learn 1.9.1), against data::standard_scaler. The
//! expected values were computed by scikit-learn in a throwaway venv:
//!
//! ```python
//! from sklearn.preprocessing import StandardScaler
//! s = StandardScaler(**params).fit(X); print(s.mean_, s.var_, s.scale_, s.transform(X))
//! # the near-constant columns as float32, as genrelab holds matrices:
//! StandardScaler().fit(np.array(col, dtype=np.float32).reshape(-1, 1)).scale_
//! ```

mod common;

fn check(code: &str) {
    common::check_script(&format!("{PRELUDE}\n{code}"));
}

const PRELUDE: &str = r#"
fn close(a, b, tol) {
    if type_of(a) == "array" {
        assert_eq(a.len(), b.len());
        for i in 0..a.len() { close(a[i], b[i], tol); }
    } else if (a - b).abs() > tol * (1.0 + b.abs()) {
        throw `${a} != ${b}`;
    }
}
"#;

// StandardScaler's docstring and 4.1 of the parity notes:
//   X = [[1, -1, 2], [2, 0, 0], [0, 1, -1]]: mean_ [1, 0, 0.3333333333333333],
//   scale_ [0.816496580927726, 0.816496580927726, 1.247219128924647]
//   transform(X)[0] = [0, -1.224744871391589, 1.336306209562122]
//   with_std=False: scale_ None, transform(X)[0] = [0, -1, 1.6666666666666667]
#[test]
fn means_scales_and_transform() {
    check(
        r#"
        let x = data::matrix([[1.0, -1.0, 2.0], [2.0, 0.0, 0.0], [0.0, 1.0, -1.0]]);
        let s = data::standard_scaler(#{}).fit(x);
        close(s.mean, [1.0, 0.0, 0.3333333333333333], 1e-7);
        close(s.scale, [0.816496580927726, 0.816496580927726, 1.247219128924647], 1e-7);
        close(s.transform(x).to_array()[0], [0.0, -1.224744871391589, 1.336306209562122], 1e-6);
        let s = data::standard_scaler(#{ with_std: false }).fit(x);
        assert_eq(s.scale, ());
        close(s.transform(x).to_array()[0], [0.0, -1.0, 1.6666666666666667], 1e-6);
        let s = data::standard_scaler(#{ with_mean: false, with_std: false }).fit(x);
        assert_eq(s.mean, ());
        "#,
    );
}

// test_scaler_2d_arrays (a zero column), test_standard_scaler_1d (np.ones((5, 1)))
// and the near-constant rule (_is_constant_feature: var <= n·eps·var +
// (n·mean·eps)², relative, not absolute), on float32 columns:
//   [1e-16, 0, 0] -> scale_ 4.714045287400355e-17 (not constant; transform [1.4142135, -0.70710677, -0.70710677])
//   [1e-30, 0, 0] -> scale_ 4.714045222858917e-31
//   [3e-20, 1e-20, 2e-20] -> scale_ 8.164965550166338e-21, transform [1.2247448, -1.2247448, 0]
//   [1, 1, 1] and [0, 0, 0] -> scale_ 1, transform 0
#[test]
fn tiny_real_spreads_are_not_constant() {
    check(
        r#"
        let s = data::standard_scaler(#{}).fit(data::matrix([[1e-16, 1e-30, 3e-20, 1.0, 0.0], [0.0, 0.0, 1e-20, 1.0, 0.0], [0.0, 0.0, 2e-20, 1.0, 0.0]]));
        close(s.scale, [4.714045287400355e-17, 4.714045222858917e-31, 8.164965550166338e-21, 1.0, 1.0], 1e-6);
        let t = s.transform(data::matrix([[1e-16, 1e-30, 3e-20, 1.0, 0.0], [0.0, 0.0, 1e-20, 1.0, 0.0], [0.0, 0.0, 2e-20, 1.0, 0.0]])).to_array();
        close(t.map(|r| r[0]), [1.4142135381698608, -0.7071067690849304, -0.7071067690849304], 1e-6);
        close(t.map(|r| r[2]), [1.2247447967529297, -1.2247447967529297, 0.0], 1e-6);
        close(t.map(|r| r[3]), [0.0, 0.0, 0.0], 0.0);
        "#,
    );
}

// test_scaler_without_centering: with_mean=False on a CSR matrix (here the
// counts of three documents) gives the dense result; centring a sparse
// matrix is refused ("Cannot center sparse matrices: pass `with_mean=False`").
//   counts [[2, 1], [0, 1], [1, 2]] (cat, dog): scale_ [0.816496580927726,
//   0.4714045207910317], transform row 0 = [2.4494897427831783, 2.1213203435596424]
#[test]
fn sparse_input_without_centring() {
    check(
        r#"
        let x = text::count_vectorizer().fit_transform(["cat cat dog", "dog", "cat dog dog"]);
        let s = data::standard_scaler(#{ with_mean: false }).fit(x);
        close(s.scale, [0.816496580927726, 0.4714045207910317], 1e-7);
        let t = s.transform(x);
        assert_eq(type_of(t), "Sparse");
        close(t.row(0), [2.4494897427831783, 2.1213203435596424], 1e-6);
        close(t.to_array(), data::standard_scaler(#{ with_mean: false }).fit_transform(x.to_dense()).to_array(), 1e-6);
        "#,
    );
    let e = common::error_of(
        r#"data::standard_scaler(#{}).fit(text::count_vectorizer().fit_transform(["a cat", "a dog"]))"#,
    );
    assert!(
        e.contains("cannot centre a sparse matrix") && e.contains("with_mean: false"),
        "{e}"
    );
}
