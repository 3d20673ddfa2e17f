//! Runs every ```rhai example in the script functions' doc comments, each in
//! a fresh session. Examples that use DATA_DIR are skipped, with a message,
//! when ../shared/data is absent.

mod common;

use genrelab::{Session, docs};

#[test]
fn every_documented_example_runs() {
    let data = common::shared_data("doc examples that use DATA_DIR");
    let (probe, _) = Session::capturing(Err("unused".into()));
    let all = docs::collect(probe.engine());
    let mut ran = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    let mut undocumented = Vec::new();
    for doc in &all {
        if doc.doc.trim().is_empty() {
            undocumented.push(doc.signature.clone());
        }
        for example in doc.examples() {
            if example.contains("DATA_DIR") && data.is_none() {
                skipped += 1;
                continue;
            }
            let data_dir = data.clone().ok_or_else(|| "no data".to_string());
            let (mut session, _) = Session::capturing(data_dir);
            let name = format!("example of {}", doc.qualified_name());
            if let Err(err) = session.eval(&example, &name) {
                failures.push(err.render());
            }
            ran += 1;
        }
    }
    eprintln!("doc examples: {ran} ran, {skipped} skipped");
    assert!(
        undocumented.is_empty(),
        "functions without a doc comment:\n{}",
        undocumented.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} failing examples:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        ran + skipped >= 40,
        "expected the examples of every function, found {}",
        ran + skipped
    );
}

#[test]
fn every_module_function_has_an_example() {
    let (probe, _) = Session::capturing(Err("unused".into()));
    let missing: Vec<String> = docs::collect(probe.engine())
        .iter()
        .filter(|d| d.module.is_some() && d.receiver.is_none() && d.examples().is_empty())
        .map(|d| d.signature.clone())
        .collect();
    assert!(
        missing.is_empty(),
        "module functions without a ```rhai example:\n{}",
        missing.join("\n")
    );
}
