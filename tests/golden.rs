//! Every scripts/*.rhai against tests/golden/NAME.out (its stdout).
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the files.
//! Timings (a decimal number followed by `s`, as `2.31s`) differ from run
//! to run and are masked on both sides, with the spaces before them and
//! the line's trailing spaces (table padding).

mod common;

use std::process::Command;

#[test]
fn every_script_matches_its_golden_output() {
    if common::shared_data("golden scripts").is_none() {
        return;
    }
    let root = common::root();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut scripts: Vec<_> = std::fs::read_dir(root.join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    let mut failures = Vec::new();
    for script in scripts {
        let name = script.file_stem().unwrap().to_string_lossy().into_owned();
        let relative = format!("scripts/{name}.rhai");
        // A script may ask for arguments with a `// test-args:` line; `{tmp}`
        // becomes a fresh temporary folder (for figures and saved models).
        let source = std::fs::read_to_string(&script).unwrap();
        // Scripts that need a service say so and are run by their own test
        // against a local double (fetch_tmdb.rhai: tests/tmdb.rs).
        if source.lines().any(|l| l.starts_with("// golden: no")) {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let extra: Vec<String> = source
            .lines()
            .find_map(|l| l.strip_prefix("// test-args:"))
            .map(|args| {
                args.split_whitespace()
                    .map(|a| a.replace("{tmp}", &tmp.path().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default();
        let out = Command::new(env!("CARGO_BIN_EXE_genrelab"))
            .args(["run", &relative])
            .args(&extra)
            .current_dir(&root)
            // The shared data (with the posters), not the tables bundled in data/.
            .env("GENRELAB_DATA", "../shared/data")
            .output()
            .unwrap();
        let stdout = mask_timings(&String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            failures.push(format!(
                "{relative} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let golden = root.join("tests/golden").join(format!("{name}.out"));
        if update {
            std::fs::write(&golden, &stdout).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if mask_timings(&expected) == stdout => {}
            Ok(expected) => failures.push(format!(
                "{relative}: output differs from {}\n{}",
                golden.display(),
                first_difference(&mask_timings(&expected), &stdout)
            )),
            Err(_) => failures.push(format!(
                "{relative}: no {} (run with UPDATE_GOLDEN=1 to create it)",
                golden.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn first_difference(expected: &str, actual: &str) -> String {
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1);
        }
    }
    format!(
        "lengths differ: expected {} lines, got {}",
        expected.lines().count(),
        actual.lines().count()
    )
}

/// Replaces every timing token (`12.5s`, `0.03s`: digits, a point, digits,
/// then `s` not followed by a letter or digit) and the spaces before it
/// with ` ~s`, and trims trailing spaces.
fn mask_timings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let chars: Vec<char> = body.chars().collect();
        let mut masked = String::new();
        let mut i = 0;
        while i < chars.len() {
            let starts = chars[i].is_ascii_digit()
                && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.'));
            if starts {
                let mut j = i;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                let point = j < chars.len() && chars[j] == '.';
                let mut k = j + 1;
                while point && k < chars.len() && chars[k].is_ascii_digit() {
                    k += 1;
                }
                let is_timing = point
                    && k > j + 1
                    && k < chars.len()
                    && chars[k] == 's'
                    && chars.get(k + 1).is_none_or(|c| !c.is_alphanumeric());
                if is_timing {
                    let kept = masked.trim_end_matches(' ').len();
                    masked.truncate(kept);
                    masked.push_str(" ~s");
                    i = k + 1;
                    continue;
                }
            }
            masked.push(chars[i]);
            i += 1;
        }
        out.push_str(masked.trim_end_matches(' '));
        out.push_str(newline);
    }
    out
}

#[test]
fn timings_are_masked_and_nothing_else() {
    assert_eq!(
        mask_timings("D4  0.581     46.19s\nfit 2.5s, 3.0 s, v1.2s, F1 at 0.5: x  \n"),
        "D4  0.581 ~s\nfit ~s, 3.0 s, v1.2s, F1 at 0.5: x\n"
    );
}
