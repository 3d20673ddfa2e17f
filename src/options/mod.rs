//! Options as declared data, without Rhai. Each domain module declares its
//! parameter structs with [`crate::options!`]: per field its type, default,
//! kind (with bounds or choices) and a one-line doc. From that one
//! declaration come the struct and its `Default`, the parsing of a script's
//! options map (unknown keys with "did you mean", types, ranges, required
//! keys), the typed values, and the "Options" section of `genrelab doc`, so
//! documented and parsed options cannot drift (nushell's `Signature`, linfa's
//! params structs). Checks that span fields live in the struct's own
//! `check()`, next to the algorithm that needs them.

mod kind;
mod macros;
mod value;

use std::collections::BTreeMap;

pub use kind::{Bounds, End, Kind};
pub use value::{FromValue, ShowDefault, Value, float_text};

use crate::error::{Error, Result};

/// Everything a declaration's `kind` expression may name, in scope inside
/// [`crate::options!`]: the kinds, and the common bounds.
pub mod kinds {
    pub use super::kind::Kind::*;
    pub use super::kind::{
        ANY, Bounds, End, NON_NEGATIVE, POSITIVE, POSITIVE_INT, RATE, SEED_RANGE, UNIT,
    };
}

/// What `genrelab doc` says of a default.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    /// Not set unless given (the doc line says what absence means).
    Unset,
    /// The call fails without it.
    Required,
    /// The default, as a script would write it, or in words ("the session seed").
    Default(String),
}

/// One declared option.
#[derive(Clone)]
pub struct Opt {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Shown,
    pub doc: String,
}

/// The options of one script function.
pub struct Schema {
    /// The function as `genrelab doc` names it: `nn::mlp`, `Network.fit`.
    pub function: &'static str,
    pub options: Vec<Opt>,
}

/// A parameter struct declared with [`crate::options!`].
pub trait Options: Sized + Default {
    /// The script function these options belong to.
    const FUNCTION: &'static str;
    /// Every option, flattened groups first, in declaration order.
    fn declared() -> Vec<Opt>;
    /// The typed values of options that passed [`Schema::check`].
    fn from_values(values: &Values) -> Result<Self>;
    /// The declaration as one schema, built once.
    fn schema() -> &'static Schema;

    /// The `seed` option, for the binding to fill from the session
    /// generator when the script did not give one; `None` without one.
    fn seed_slot(&mut self) -> Option<&mut Option<u64>> {
        None
    }

    /// Checks a script's options (name → value) and reads them typed.
    fn parse(given: BTreeMap<String, Value>) -> Result<Self> {
        Self::from_values(&Self::schema().check(given)?)
    }

    /// [`Options::parse`] of name–value pairs, for Rust callers and tests.
    fn from_pairs(pairs: &[(&str, Value)]) -> Result<Self> {
        Self::parse(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
}

impl Schema {
    pub fn new(function: &'static str, options: Vec<Opt>) -> Schema {
        Schema { function, options }
    }

    fn find(&self, name: &str) -> Option<&Opt> {
        self.options.iter().find(|o| o.name == name)
    }

    /// Checks `given` against the declaration: every key known, every value
    /// of its kind and in its range, every required key present. The first
    /// problem, by key order, is the error.
    pub fn check(&self, given: BTreeMap<String, Value>) -> Result<Values> {
        for (key, value) in &given {
            let Some(opt) = self.find(key) else {
                return Err(Error::UnknownOption {
                    function: self.function.to_string(),
                    key: key.clone(),
                    known: self.options.iter().map(|o| o.name.to_string()).collect(),
                    suggestion: closest(key, self.options.iter().map(|o| o.name)),
                });
            };
            if let Err(detail) = opt.kind.check(value) {
                let hint = opt
                    .kind
                    .suggestion(value)
                    .map(|s| format!(" (did you mean \"{s}\"?)"))
                    .unwrap_or_default();
                return Err(Error::invalid(format!(
                    "{}: option '{key}' is {value}, expected {}{detail}{hint}",
                    self.function,
                    opt.kind.describe()
                )));
            }
        }
        if let Some(missing) = self
            .options
            .iter()
            .find(|o| o.default == Shown::Required && !given.contains_key(o.name))
        {
            return Err(Error::invalid(format!(
                "{}: option '{}' is required ({})",
                self.function,
                missing.name,
                missing.kind.describe()
            )));
        }
        Ok(Values {
            function: self.function,
            given,
        })
    }

    /// The "Options" section of the function's doc, one line an option.
    pub fn markdown(&self) -> String {
        let mut out = String::from("Options:");
        for o in &self.options {
            let default = match &o.default {
                Shown::Unset => String::new(),
                Shown::Required => "; default none: required".into(),
                Shown::Default(d) => format!("; default {d}"),
            };
            out.push_str(&format!(
                "\n- `{}` — {}{default}. {}",
                o.name,
                o.kind.describe(),
                o.doc
            ));
        }
        out
    }
}

/// Options that passed their schema.
pub struct Values {
    function: &'static str,
    given: BTreeMap<String, Value>,
}

impl Values {
    /// The given value of `key` read as `T`, or `default`.
    pub fn get<T: FromValue>(&self, key: &str, default: T) -> Result<T> {
        match self.given.get(key) {
            None => Ok(default),
            Some(v) => T::from_value(v).ok_or_else(|| {
                Error::invalid(format!(
                    "internal: {}: option '{key}' passed its check but is not a {}",
                    self.function,
                    std::any::type_name::<T>()
                ))
            }),
        }
    }

    /// Whether the script gave `key`.
    pub fn given(&self, key: &str) -> bool {
        self.given.contains_key(key)
    }
}

/// Joins a field's doc-comment lines into the one-line doc `genrelab doc` shows.
pub fn join_doc(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The candidate nearest to `given` when it is a plausible typo (an edit
/// distance of at most a third of its length, at least 1, or a prefix).
pub fn closest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (given.chars().count() / 3).max(1);
    candidates
        .map(|c| (edit_distance(given, c), c))
        .filter(|(d, c)| *d <= limit || (given.len() >= 3 && c.starts_with(given)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// Edits (insertions, deletions, substitutions, and swaps of neighbours:
/// "rleu" is one edit from "relu") that turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j - 1] + cost)
                .min(d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::choices! {
        /// The update rule of the test options.
        pub enum Rule { Adam = "adam", Sgd = "sgd", Rmsprop = "rmsprop" }
    }

    crate::options! {
        /// Options of a test function.
        pub struct Inner for "test::inner" {
            /// images per unit
            batch: usize = 8 => Int(POSITIVE_INT),
        }
    }

    crate::options! {
        /// Options of a test function.
        pub struct TestOptions for "test::f" {
            /// drop rate
            dropout: f64 = 0.0 => Number(RATE),
            /// update rule
            optimizer: Rule = Rule::Adam => Choice(Rule::NAMES),
            /// row norm
            norm: Option<String> = Some("l2".into()) => Either(&[Choice(&["l2", "l1"]), Unit]),
            /// layer sizes
            hidden: Vec<usize> = vec![100] => Ints(POSITIVE_INT),
            /// fixes this call's random choices
            seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
            /// the widths
            inputs: [usize; 2] = [0, 0] => Tuple(2, POSITIVE_INT); required,
            ..inner: Inner,
        }
    }

    fn parse(pairs: &[(&str, Value)]) -> Result<TestOptions> {
        let mut given: BTreeMap<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        given
            .entry("inputs".into())
            .or_insert(Value::List(vec![Value::Int(2), Value::Int(3)]));
        TestOptions::parse(given)
    }

    fn err(pairs: &[(&str, Value)]) -> String {
        match parse(pairs) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_come_from_the_declaration() {
        let p = parse(&[]).unwrap();
        assert_eq!(p.inner.batch, 8);
        assert_eq!(p.dropout, 0.0);
        assert_eq!(p.optimizer, Rule::Adam);
        assert_eq!(p.hidden, vec![100]);
        assert_eq!(p.norm.as_deref(), Some("l2"));
        assert_eq!(p.seed, None);
        assert_eq!(p.inputs, [2, 3]);
        let p = parse(&[
            ("batch", Value::Int(3)),
            ("dropout", Value::Int(0)),
            ("norm", Value::Unit),
            ("optimizer", Value::Text("sgd".into())),
        ])
        .unwrap();
        assert_eq!(p.inner.batch, 3);
        let mut p = p;
        *p.seed_slot().unwrap() = Some(7);
        assert_eq!(p.seed, Some(7));
        assert!(Inner::default().seed_slot().is_none());
        assert_eq!(p.norm, None);
        assert_eq!(p.optimizer, Rule::Sgd);
    }

    #[test]
    fn unknown_keys_name_the_known_ones_and_the_near_miss() {
        assert_eq!(
            err(&[("bach", Value::Int(3))]),
            "test::f: unknown option 'bach'; known options: dropout, optimizer, norm, hidden, seed, inputs, batch (did you mean 'batch'?)"
        );
        assert!(!err(&[("zzzzzz", Value::Int(3))]).contains("did you mean"));
    }

    #[test]
    fn out_of_range_values_name_the_option_value_and_range() {
        assert_eq!(
            err(&[("batch", Value::Int(0))]),
            "test::f: option 'batch' is 0, expected an integer >= 1"
        );
        assert_eq!(
            err(&[("dropout", Value::Float(1.0))]),
            "test::f: option 'dropout' is 1.0, expected a number in [0, 1)"
        );
        assert_eq!(
            err(&[("dropout", Value::Float(f64::NAN))]),
            "test::f: option 'dropout' is NaN, expected a number in [0, 1)"
        );
        assert_eq!(
            err(&[("batch", Value::Text("8".into()))]),
            "test::f: option 'batch' is \"8\", expected an integer >= 1"
        );
        assert_eq!(
            err(&[("optimizer", Value::Text("adan".into()))]),
            "test::f: option 'optimizer' is \"adan\", expected one of \"adam\", \"sgd\", \"rmsprop\" (did you mean \"adam\"?)"
        );
        assert_eq!(
            err(&[("hidden", Value::List(vec![Value::Int(10), Value::Int(0)]))]),
            "test::f: option 'hidden' is [10, 0], expected a non-empty array of integers >= 1; element 1 is 0"
        );
        assert_eq!(
            err(&[("norm", Value::Text("l3".into()))]),
            "test::f: option 'norm' is \"l3\", expected one of \"l2\", \"l1\" or () (did you mean \"l2\"?)"
        );
    }

    #[test]
    fn required_options_must_be_given() {
        let e = TestOptions::parse(BTreeMap::new()).unwrap_err().to_string();
        assert_eq!(
            e,
            "test::f: option 'inputs' is required (an array of 2 integers >= 1)"
        );
    }

    #[test]
    fn markdown_lists_type_default_and_doc() {
        let md = TestOptions::schema().markdown();
        assert!(
            md.contains("- `batch` — an integer >= 1; default 8. images per unit"),
            "{md}"
        );
        assert!(
            md.contains(
                "- `hidden` — a non-empty array of integers >= 1; default [100]. layer sizes"
            ),
            "{md}"
        );
        assert!(md.contains("; default \"adam\". update rule"), "{md}");
        assert!(md.contains("; default \"l2\". row norm"), "{md}");
        assert!(
            md.contains("; default drawn from the session seed. fixes"),
            "{md}"
        );
        assert!(md.contains("; default none: required. the widths"), "{md}");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("movies", "movie"), 1);
        assert_eq!(edit_distance("split", "splits"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("rleu", "relu"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
