//! `nn::` through scripts: the errors users meet, with their positions, and
//! that a failed call loses nothing already trained.

mod common;

use common::error_of;

const DATA: &str = r#"
let x = data::matrix([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]]);
let y = data::binarizer([["A"], ["B"]]).transform([["B"], ["A"], ["B"], ["A"]]);
"#;

#[test]
fn mismatched_rows_and_columns_are_named_at_the_call() {
    let e = error_of(&format!(
        "{DATA}let net = nn::mlp(#{{ hidden: [4] }});\nnet.fit(data::matrix([[1.0, 2.0]]), y);"
    ));
    assert!(e.contains("fit: 1 feature rows but 4 label rows"), "{e}");
    assert!(e.contains("t:5:5"), "{e}");
    let e = error_of(&format!(
        "{DATA}let net = nn::mlp(#{{ hidden: [4] }}).fit(x, y, #{{ epochs: 1 }});\nnet.predict_proba(data::matrix([[1.0, 2.0, 3.0]]))"
    ));
    assert!(
        e.contains("predict_proba: the network takes 2 input columns (the width of the matrix it was fitted on), the matrix has 3"),
        "{e}"
    );
}

#[test]
fn nan_features_name_row_and_column() {
    let e = error_of(&format!(
        "{DATA}let bad = data::matrix([[0.0, 1.0], [1.0, 0.0 / 0.0], [0.1, 0.9], [0.9, 0.2]]);\nnn::mlp(#{{}}).fit(bad, y)"
    ));
    assert!(
        e.contains("fit: row 1, column 1 is NaN; features must be finite numbers"),
        "{e}"
    );
}

#[test]
fn bad_options_and_unfitted_networks() {
    let e = error_of("nn::mlp(#{ hidden: [1024, 0] })");
    assert!(
        e.contains(
            "option 'hidden' is [1024, 0], expected a non-empty array of integers >= 1; element 1 is 0"
        ),
        "{e}"
    );
    let e = error_of("nn::mlp(#{ dropout: 1.0 })");
    assert!(
        e.contains("option 'dropout' is 1.0, expected a number in [0, 1)"),
        "{e}"
    );
    let e = error_of("nn::mlp(#{ layers: 3 })");
    assert!(e.contains("nn::mlp: unknown option 'layers'"), "{e}");
    let e = error_of(&format!(
        "{DATA}nn::mlp(#{{}}).fit(x, y, #{{ optimizer: \"adagrad\" }})"
    ));
    assert!(
        e.contains(
            "option 'optimizer' is \"adagrad\", expected one of \"adam\", \"rmsprop\", \"sgd\""
        ),
        "{e}"
    );
    let e = error_of(&format!(
        "{DATA}nn::mlp(#{{}}).fit(x, y, #{{ validation: [x] }})"
    ));
    assert!(
        e.contains("option 'validation' is [a Matrix], expected [features Matrix, Labels]"),
        "{e}"
    );
    let e = error_of(&format!("{DATA}nn::mlp(#{{}}).predict(x)"));
    assert!(
        e.contains("this network is not fitted yet; call fit(x, labels) first"),
        "{e}"
    );
    let e = error_of("nn::load(\"no/such/model.safetensors\")");
    assert!(e.contains("no/such/model.safetensors"), "{e}");
}

#[test]
fn a_diverging_fit_keeps_the_network_and_says_why() {
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let _ = s.eval(DATA, "t").unwrap();
    let _ = s
        .eval(
            "let net = nn::mlp(#{ hidden: [8], seed: 1 }); net.fit(x, y, #{ epochs: 3 });",
            "t",
        )
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let e = s
        .eval(
            "let big = data::matrix([[1e30, 1e30], [-1e30, 1e30], [1e30, -1e30], [0.0, 1e30]]);
             net.fit(big, y, #{ epochs: 5, lr: 1e30, optimizer: \"sgd\" })",
            "t",
        )
        .map(|_| ())
        .unwrap_err()
        .render();
    assert!(e.contains("the training loss became"), "{e}");
    assert!(e.contains("lower lr"), "{e}");
    let v = s
        .eval("net.predict_proba(x).rows", "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(s.display(&v).unwrap(), "4");
}
