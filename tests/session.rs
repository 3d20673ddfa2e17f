//! The engine and session: persistence across inputs, multi-line functions,
//! imports, echo, output capture, error positions.

use genrelab::Session;

fn session() -> (Session, std::rc::Rc<std::cell::RefCell<String>>) {
    Session::capturing(Err("no data in this test".into()))
}

#[test]
fn functions_defined_on_one_input_are_callable_on_later_ones() {
    let (mut s, _) = session();
    let _ = s.eval("let x = 40;", "1").unwrap();
    let _ = s.eval("fn f(a) {\n  a + 2\n}", "2").unwrap();
    let v = s.eval("f(x)", "3").unwrap();
    assert_eq!(v.as_int().unwrap(), 42);
    assert_eq!(s.display(&v).as_deref(), Some("42"));
}

#[test]
fn variables_persist_and_reset_clears_them() {
    let (mut s, _) = session();
    let _ = s.eval("let words = [\"a\", \"b\"];", "1").unwrap();
    let _ = s.eval("words.push(\"c\");", "2").unwrap();
    assert_eq!(s.eval("words.len()", "3").unwrap().as_int().unwrap(), 3);
    assert!(
        s.variables()
            .iter()
            .any(|(n, t)| n == "words" && t == "array")
    );
    s.reset();
    let err = s.eval("words", "4").unwrap_err();
    assert!(
        err.render().contains("Variable not found: words"),
        "{}",
        err.render()
    );
    // ARGS survives a reset.
    assert!(s.eval("ARGS", "5").is_ok());
}

#[test]
fn imports_persist_across_inputs() {
    let (mut s, out) = session();
    let _ = s.eval("import \"std/table\" as table;", "1").unwrap();
    let _ = s.eval("table::show([#{ a: 1 }]);", "2").unwrap();
    assert_eq!(out.borrow().as_str(), "a\n-\n1\n");
}

#[test]
fn print_goes_to_the_sink_and_statements_echo_nothing() {
    let (mut s, out) = session();
    let v = s.eval("print(\"hello\"); let y = 1;", "1").unwrap();
    assert_eq!(s.display(&v), None);
    assert_eq!(out.borrow().as_str(), "hello\n");
}

#[test]
fn custom_types_echo_through_their_to_string() {
    let (mut s, _) = session();
    let v = s.eval("data::matrix([[1, 2], [3, 4]])", "1").unwrap();
    let shown = s.display(&v).unwrap();
    assert!(shown.starts_with("Matrix 2 × 2 (f32)"), "{shown}");
}

#[test]
fn errors_from_module_functions_point_at_the_call() {
    let (mut s, _) = session();
    let err = s
        .eval(
            "let a = 1;\nlet m = data::movies(\"/no/such.csv\");",
            "t.rhai",
        )
        .unwrap_err();
    let shown = err.render();
    assert!(
        shown.starts_with("error: t.rhai:2:15: /no/such.csv: No such file"),
        "{shown}"
    );
    assert!(
        shown.contains(" 2 | let m = data::movies(\"/no/such.csv\");"),
        "{shown}"
    );
    assert!(
        shown.lines().nth(2).unwrap().ends_with("              ^"),
        "{shown}"
    );
}

#[test]
fn errors_inside_script_functions_show_the_call_chain() {
    let (mut s, _) = session();
    let err = s
        .eval("fn load() {\n  data::seed(-1)\n}\nload();", "t.rhai")
        .unwrap_err();
    let shown = err.render();
    assert!(
        shown.contains("t.rhai:2:9: data::seed: the seed must be between 0 and 4294967295, got -1"),
        "{shown}"
    );
    assert!(
        shown.contains("note: in call to function 'load' at t.rhai:4:1"),
        "{shown}"
    );
}

#[test]
fn unknown_options_name_the_known_keys() {
    let (mut s, _) = session();
    let err = s
        .eval("data::binarizer([[\"a\"]], #{ min_cnt: 2 })", "t")
        .unwrap_err();
    let shown = err.render();
    assert!(
        shown
            .contains("data::binarizer: unknown option 'min_cnt'; known options: min_count, order"),
        "{shown}"
    );
}

#[test]
fn missing_data_dir_explains_how_to_get_data() {
    let (mut s, _) = session();
    let err = s.eval("let p = DATA_DIR;", "t").unwrap_err();
    assert!(
        err.render().contains("no data in this test"),
        "{}",
        err.render()
    );
}

#[test]
fn seed_makes_random_choices_reproducible() {
    let (mut s, _) = session();
    // The random mask after seed(0) is numpy's: rand(10) < 0.5 -> rows 4, 6, 9.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    let mut text = String::from("id,title,genres,overview\n");
    for i in 0..10 {
        text.push_str(&format!("{i},t{i},Drama,o\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let code = format!(
        "data::seed(0); data::movies(\"{}\").random_split(0.5)[0].ids()",
        csv.display()
    );
    let picked = s.eval(&code, "2").unwrap();
    assert_eq!(s.display(&picked).unwrap(), "[4, 6, 9]");
}
