//! One declared schema per script function that takes an options map: each
//! option's name, type, default, allowed range or choices and a one-line doc.
//! The same declaration parses the map (unknown keys, types, ranges), gives
//! the bindings their typed values with the declared defaults, and writes the
//! "Options" section of `genrelab doc` / `help()`, so the documented options
//! cannot drift from the parsed ones (nushell's `Signature` is the model).

use rhai::{Array, Dynamic, INT, Map};

use crate::api::convert::type_of;
use crate::error::{Error, Result};

/// One end of a numeric range.
#[derive(Clone, Copy, Debug)]
pub enum End {
    Open,
    /// The value itself is allowed.
    Incl(f64),
    /// Only values beyond it.
    Excl(f64),
}

/// The values a number may take.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub lo: End,
    pub hi: End,
}

impl Bounds {
    pub const ANY: Bounds = Bounds {
        lo: End::Open,
        hi: End::Open,
    };
    /// Counts that may be zero.
    pub const NON_NEGATIVE: Bounds = Bounds::at_least(0.0);
    /// Sizes, epochs, batches: at least one.
    pub const POSITIVE_INT: Bounds = Bounds::at_least(1.0);
    /// Rates, regularisation strengths: above zero.
    pub const POSITIVE: Bounds = Bounds {
        lo: End::Excl(0.0),
        hi: End::Open,
    };
    /// Probabilities and fractions.
    pub const UNIT: Bounds = Bounds::within(0.0, 1.0);

    pub const fn at_least(lo: f64) -> Bounds {
        Bounds {
            lo: End::Incl(lo),
            hi: End::Open,
        }
    }

    pub const fn within(lo: f64, hi: f64) -> Bounds {
        Bounds {
            lo: End::Incl(lo),
            hi: End::Incl(hi),
        }
    }

    fn contains(&self, x: f64) -> bool {
        let lo = match self.lo {
            End::Open => true,
            End::Incl(l) => x >= l,
            End::Excl(l) => x > l,
        };
        let hi = match self.hi {
            End::Open => true,
            End::Incl(h) => x <= h,
            End::Excl(h) => x < h,
        };
        lo && hi && x.is_finite()
    }

    /// " >= 1", " in [0, 1)", "" for any value.
    fn describe(&self) -> String {
        match (self.lo, self.hi) {
            (End::Open, End::Open) => String::new(),
            (End::Incl(l), End::Open) => format!(" >= {l}"),
            (End::Excl(l), End::Open) => format!(" > {l}"),
            (End::Open, End::Incl(h)) => format!(" <= {h}"),
            (End::Open, End::Excl(h)) => format!(" < {h}"),
            (lo, hi) => {
                let (open, l) = match lo {
                    End::Incl(l) => ('[', l),
                    End::Excl(l) => ('(', l),
                    End::Open => unreachable!("handled above"),
                };
                let (close, h) = match hi {
                    End::Incl(h) => (']', h),
                    End::Excl(h) => (')', h),
                    End::Open => unreachable!("handled above"),
                };
                format!(" in {open}{l}, {h}{close}")
            }
        }
    }
}

/// What an option's value may be.
#[derive(Clone, Copy)]
pub enum Kind {
    Bool,
    /// An integer in the bounds.
    Int(Bounds),
    /// An integer or a float in the bounds (finite).
    Number(Bounds),
    /// Any string.
    Text,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// An array of strings.
    Texts,
    /// A non-empty array of integers, each in the bounds.
    Ints(Bounds),
    /// A non-empty array of numbers, each in the bounds.
    Numbers(Bounds),
    /// Exactly this many integers, each in the bounds (`[width, height]`).
    Tuple(usize, Bounds),
    /// `()`: "not set", where that means something (`norm: ()`).
    Unit,
    /// Anything else, checked by a function; `expected` says what passes.
    Value {
        expected: &'static str,
        check: fn(&Dynamic) -> bool,
    },
    /// Any one of these kinds, tried in order.
    Either(&'static [Kind]),
}

impl Kind {
    /// What a value of this kind is, for messages and docs.
    pub fn describe(&self) -> String {
        match self {
            Kind::Bool => "true or false".into(),
            Kind::Int(b) => format!("an integer{}", b.describe()),
            Kind::Number(b) => format!("a number{}", b.describe()),
            Kind::Text => "a string".into(),
            Kind::Choice(choices) => match choices {
                [one] => format!("\"{one}\""),
                _ => format!(
                    "one of {}",
                    choices
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            Kind::Texts => "an array of strings".into(),
            Kind::Ints(b) => format!("a non-empty array of integers{}", b.describe()),
            Kind::Numbers(b) => format!("a non-empty array of numbers{}", b.describe()),
            Kind::Tuple(n, b) => format!("an array of {n} integers{}", b.describe()),
            Kind::Unit => "()".into(),
            Kind::Value { expected, .. } => (*expected).into(),
            Kind::Either(kinds) => kinds
                .iter()
                .map(Kind::describe)
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }

    fn accepts(&self, v: &Dynamic) -> bool {
        let all = |check: &dyn Fn(&Dynamic) -> bool| {
            v.read_lock::<Array>()
                .is_some_and(|a| !a.is_empty() && a.iter().all(check))
        };
        match self {
            Kind::Bool => v.is_bool(),
            Kind::Int(b) => v.as_int().is_ok_and(|i| b.contains(i as f64)),
            Kind::Number(b) => number(v).is_some_and(|x| b.contains(x)),
            Kind::Text => v.is_string(),
            Kind::Choice(choices) => v
                .read_lock::<rhai::ImmutableString>()
                .is_some_and(|s| choices.contains(&s.as_str())),
            Kind::Texts => v
                .read_lock::<Array>()
                .is_some_and(|a| a.iter().all(Dynamic::is_string)),
            Kind::Ints(b) => all(&|x| x.as_int().is_ok_and(|i| b.contains(i as f64))),
            Kind::Numbers(b) => all(&|x| number(x).is_some_and(|x| b.contains(x))),
            Kind::Tuple(n, b) => {
                v.read_lock::<Array>().is_some_and(|a| a.len() == *n)
                    && all(&|x| x.as_int().is_ok_and(|i| b.contains(i as f64)))
            }
            Kind::Unit => v.is_unit(),
            Kind::Value { check, .. } => check(v),
            Kind::Either(kinds) => kinds.iter().any(|k| k.accepts(v)),
        }
    }

    /// The closest choice to a mistyped string, for "did you mean".
    fn suggestion(&self, v: &Dynamic) -> Option<String> {
        let given = v.read_lock::<rhai::ImmutableString>()?;
        let choices: Vec<&str> = match self {
            Kind::Choice(c) => c.to_vec(),
            Kind::Either(kinds) => kinds
                .iter()
                .filter_map(|k| match k {
                    Kind::Choice(c) => Some(c.to_vec()),
                    _ => None,
                })
                .flatten()
                .collect(),
            _ => return None,
        };
        closest(given.as_str(), choices.into_iter())
    }
}

pub fn number(v: &Dynamic) -> Option<f64> {
    v.as_float()
        .ok()
        .or_else(|| v.as_int().ok().map(|i| i as f64))
}

/// The default of an option, as the binding uses it and the docs show it.
#[derive(Clone, Copy)]
pub enum DefaultValue {
    /// Not set unless given (the binding decides what absence means, and the
    /// doc line says so).
    None,
    /// The call fails without it.
    Required,
    Bool(bool),
    Int(INT),
    Float(f64),
    Text(&'static str),
    Ints(&'static [INT]),
    Floats(&'static [f64]),
    /// `()`.
    Unit,
    /// A default that depends on the session or the data, in words
    /// ("the session seed", "the number of cores").
    Described(&'static str),
}

impl DefaultValue {
    fn describe(&self) -> Option<String> {
        Some(match self {
            DefaultValue::None => return None,
            DefaultValue::Required => "none: required".into(),
            DefaultValue::Bool(b) => b.to_string(),
            DefaultValue::Int(i) => i.to_string(),
            DefaultValue::Float(x) => format!("{x:?}"),
            DefaultValue::Text(s) => format!("\"{s}\""),
            DefaultValue::Ints(v) => format!("{v:?}"),
            DefaultValue::Floats(v) => format!("{v:?}"),
            DefaultValue::Unit => "()".into(),
            DefaultValue::Described(s) => (*s).into(),
        })
    }
}

/// One declared option.
#[derive(Clone, Copy)]
pub struct Opt {
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    pub doc: &'static str,
}

impl Opt {
    pub const fn new(
        name: &'static str,
        kind: Kind,
        default: DefaultValue,
        doc: &'static str,
    ) -> Opt {
        Opt {
            name,
            kind,
            default,
            doc,
        }
    }
}

/// `seed`, shared by every function that draws random numbers.
pub const SEED: Opt = Opt::new(
    "seed",
    Kind::Int(Bounds::within(0.0, u32::MAX as f64)),
    DefaultValue::Described("drawn from the session seed"),
    "fixes this call's random choices",
);

/// The options of one script function. `groups` lets functions share
/// declarations (`tfidf_vectorizer` takes `count_vectorizer`'s and `tfidf`'s).
pub struct Schema {
    /// The function as `genrelab doc` names it: `nn::mlp`, `Network.fit`.
    pub function: &'static str,
    pub groups: &'static [&'static [Opt]],
}

impl Schema {
    pub const fn new(function: &'static str, groups: &'static [&'static [Opt]]) -> Schema {
        Schema { function, groups }
    }

    pub fn options(&self) -> impl Iterator<Item = &'static Opt> + '_ {
        self.groups.iter().flat_map(|g| g.iter())
    }

    fn find(&self, name: &str) -> Option<&'static Opt> {
        self.options().find(|o| o.name == name)
    }

    /// Checks `map` against the declaration: every key known, every value of
    /// its kind and in its range. The first problem is the error.
    pub fn parse(&'static self, map: Map) -> Result<Parsed> {
        // Keys in a stable order so the same mistake gives the same message.
        let mut keys: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
        keys.sort_unstable();
        for key in keys {
            let Some(opt) = self.find(key) else {
                return Err(Error::UnknownOption {
                    function: self.function.to_string(),
                    key: key.to_string(),
                    known: self.options().map(|o| o.name.to_string()).collect(),
                    suggestion: closest(key, self.options().map(|o| o.name)),
                });
            };
            let value = &map[key];
            if !opt.kind.accepts(value) {
                let hint = opt
                    .kind
                    .suggestion(value)
                    .map(|s| format!(" (did you mean \"{s}\"?)"))
                    .unwrap_or_default();
                return Err(Error::invalid(format!(
                    "{}: option '{key}' is {}, expected {}{hint}",
                    self.function,
                    shown(value),
                    opt.kind.describe()
                )));
            }
        }
        if let Some(missing) = self
            .options()
            .find(|o| matches!(o.default, DefaultValue::Required) && !map.contains_key(o.name))
        {
            return Err(Error::invalid(format!(
                "{}: option '{}' is required ({})",
                self.function,
                missing.name,
                missing.kind.describe()
            )));
        }
        Ok(Parsed { schema: self, map })
    }

    /// The "Options" section of the function's doc, one line an option.
    pub fn markdown(&self) -> String {
        let mut out = String::from("Options:");
        for o in self.options() {
            let default = o
                .default
                .describe()
                .map(|d| format!("; default {d}"))
                .unwrap_or_default();
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

/// A value as a message shows it: numbers, strings and booleans as
/// themselves, anything else by its type.
fn shown(v: &Dynamic) -> String {
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        let s = s.as_str();
        return if s.chars().count() > 40 {
            format!("\"{}…\"", s.chars().take(40).collect::<String>())
        } else {
            format!("{s:?}")
        };
    }
    if v.is_int() || v.is_float() || v.is_bool() {
        return v.to_string();
    }
    if v.is_unit() {
        return "()".into();
    }
    let t = crate::docs::script_type_of(type_of(v));
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

/// The candidate nearest to `given` when it is a plausible typo (an edit
/// distance of at most a third of its length, at least 1, or a prefix).
pub fn closest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (given.chars().count() / 3).max(1);
    candidates
        .map(|c| (crate::docs::edit_distance(given, c), c))
        .filter(|(d, c)| *d <= limit || (given.len() >= 3 && c.starts_with(given)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// An options map that passed its schema; the getters return the given value
/// or the declared default.
pub struct Parsed {
    schema: &'static Schema,
    map: Map,
}

impl Parsed {
    /// The function, for messages.
    pub fn function(&self) -> &'static str {
        self.schema.function
    }

    fn declared(&self, key: &str) -> Result<&'static Opt> {
        self.schema.find(key).ok_or_else(|| {
            Error::invalid(format!(
                "internal: {} reads option '{key}', which its schema does not declare",
                self.schema.function
            ))
        })
    }

    fn missing_default(&self, key: &str) -> Error {
        Error::invalid(format!(
            "internal: {}: option '{key}' has no default of that type",
            self.schema.function
        ))
    }

    /// The given value, unchecked beyond the schema (for `Kind::Value` and
    /// `Kind::Either` options the binding interprets itself).
    pub fn raw(&self, key: &str) -> Result<Option<&Dynamic>> {
        self.declared(key)?;
        Ok(self.map.get(key))
    }

    /// Whether the script gave `key`.
    pub fn given(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn flag(&self, key: &str) -> Result<bool> {
        let opt = self.declared(key)?;
        match (self.map.get(key), opt.default) {
            (Some(v), _) if v.is_bool() => Ok(v.as_bool().unwrap_or_default()),
            (None, DefaultValue::Bool(b)) => Ok(b),
            _ => Err(self.missing_default(key)),
        }
    }

    pub fn opt_int(&self, key: &str) -> Result<Option<INT>> {
        let opt = self.declared(key)?;
        Ok(match self.map.get(key) {
            Some(v) => v.as_int().ok(),
            None => match opt.default {
                DefaultValue::Int(i) => Some(i),
                _ => None,
            },
        })
    }

    pub fn int(&self, key: &str) -> Result<INT> {
        self.opt_int(key)?.ok_or_else(|| self.missing_default(key))
    }

    /// Integers declared with a lower bound of 0 or more.
    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>> {
        Ok(self.opt_int(key)?.map(|i| i.max(0) as usize))
    }

    pub fn usize(&self, key: &str) -> Result<usize> {
        Ok(self.int(key)?.max(0) as usize)
    }

    /// The `seed` option, or one drawn from the session generator.
    pub fn seed(&self, session: impl FnOnce() -> Result<u64>) -> Result<u64> {
        match self.opt_int("seed")? {
            Some(s) => Ok(s as u64),
            None => session(),
        }
    }

    pub fn opt_float(&self, key: &str) -> Result<Option<f64>> {
        let opt = self.declared(key)?;
        Ok(match self.map.get(key) {
            Some(v) => number(v),
            None => match opt.default {
                DefaultValue::Float(x) => Some(x),
                DefaultValue::Int(i) => Some(i as f64),
                _ => None,
            },
        })
    }

    pub fn float(&self, key: &str) -> Result<f64> {
        self.opt_float(key)?
            .ok_or_else(|| self.missing_default(key))
    }

    pub fn opt_text(&self, key: &str) -> Result<Option<String>> {
        let opt = self.declared(key)?;
        Ok(match self.map.get(key) {
            Some(v) => v.clone().into_string().ok(),
            None => match opt.default {
                DefaultValue::Text(s) => Some(s.to_string()),
                _ => None,
            },
        })
    }

    pub fn text(&self, key: &str) -> Result<String> {
        self.opt_text(key)?.ok_or_else(|| self.missing_default(key))
    }

    pub fn opt_texts(&self, key: &str) -> Result<Option<Vec<String>>> {
        self.declared(key)?;
        Ok(self.map.get(key).and_then(|v| {
            v.read_lock::<Array>().map(|a| {
                a.iter()
                    .filter_map(|s| s.clone().into_string().ok())
                    .collect()
            })
        }))
    }

    pub fn floats(&self, key: &str) -> Result<Vec<f64>> {
        let opt = self.declared(key)?;
        match (self.map.get(key), opt.default) {
            (Some(v), _) => Ok(v
                .read_lock::<Array>()
                .map(|a| a.iter().filter_map(number).collect())
                .unwrap_or_default()),
            (None, DefaultValue::Floats(f)) => Ok(f.to_vec()),
            _ => Err(self.missing_default(key)),
        }
    }

    pub fn usizes(&self, key: &str) -> Result<Vec<usize>> {
        let opt = self.declared(key)?;
        match (self.map.get(key), opt.default) {
            (Some(v), _) => Ok(v
                .read_lock::<Array>()
                .map(|a| {
                    a.iter()
                        .filter_map(|i| i.as_int().ok())
                        .map(|i| i.max(0) as usize)
                        .collect()
                })
                .unwrap_or_default()),
            (None, DefaultValue::Ints(v)) => Ok(v.iter().map(|i| (*i).max(0) as usize).collect()),
            _ => Err(self.missing_default(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: &[Opt] = &[
        Opt::new(
            "batch",
            Kind::Int(Bounds::POSITIVE_INT),
            DefaultValue::Int(8),
            "images per unit",
        ),
        Opt::new(
            "dropout",
            Kind::Number(Bounds {
                lo: End::Incl(0.0),
                hi: End::Excl(1.0),
            }),
            DefaultValue::Float(0.0),
            "drop rate",
        ),
        Opt::new(
            "optimizer",
            Kind::Choice(&["adam", "sgd", "rmsprop"]),
            DefaultValue::Text("adam"),
            "update rule",
        ),
        Opt::new(
            "norm",
            Kind::Either(&[Kind::Choice(&["l2", "l1"]), Kind::Unit]),
            DefaultValue::Text("l2"),
            "row norm",
        ),
        Opt::new(
            "hidden",
            Kind::Ints(Bounds::POSITIVE_INT),
            DefaultValue::Ints(&[100]),
            "layer sizes",
        ),
    ];
    static SCHEMA: Schema = Schema::new("test::f", &[OPTS]);

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    fn err(pairs: &[(&str, Dynamic)]) -> String {
        match SCHEMA.parse(map(pairs)) {
            Ok(_) => panic!(
                "expected an error for {:?}",
                pairs.iter().map(|p| p.0).collect::<Vec<_>>()
            ),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_come_from_the_declaration() {
        let p = SCHEMA.parse(Map::new()).unwrap();
        assert_eq!(p.usize("batch").unwrap(), 8);
        assert_eq!(p.float("dropout").unwrap(), 0.0);
        assert_eq!(p.text("optimizer").unwrap(), "adam");
        assert_eq!(p.usizes("hidden").unwrap(), vec![100]);
        let p = SCHEMA
            .parse(map(&[
                ("batch", Dynamic::from_int(3)),
                ("dropout", Dynamic::from_int(0)),
            ]))
            .unwrap();
        assert_eq!(p.usize("batch").unwrap(), 3);
        assert_eq!(p.float("dropout").unwrap(), 0.0);
        assert!(
            p.flag("batch")
                .unwrap_err()
                .to_string()
                .contains("internal")
        );
        assert!(
            p.raw("nope")
                .unwrap_err()
                .to_string()
                .contains("does not declare")
        );
    }

    #[test]
    fn unknown_keys_name_the_known_ones_and_the_near_miss() {
        let e = err(&[("bach", Dynamic::from_int(3))]);
        assert_eq!(
            e,
            "test::f: unknown option 'bach'; known options: batch, dropout, optimizer, norm, hidden (did you mean 'batch'?)"
        );
        let e = err(&[("zzzzzz", Dynamic::from_int(3))]);
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn out_of_range_values_name_the_option_value_and_range() {
        assert_eq!(
            err(&[("batch", Dynamic::from_int(0))]),
            "test::f: option 'batch' is 0, expected an integer >= 1"
        );
        assert_eq!(
            err(&[("dropout", Dynamic::from_float(1.0))]),
            "test::f: option 'dropout' is 1.0, expected a number in [0, 1)"
        );
        assert_eq!(
            err(&[("dropout", Dynamic::from_float(f64::NAN))]),
            "test::f: option 'dropout' is NaN, expected a number in [0, 1)"
        );
        assert_eq!(
            err(&[("batch", Dynamic::from("8"))]),
            "test::f: option 'batch' is \"8\", expected an integer >= 1"
        );
        assert_eq!(
            err(&[("optimizer", Dynamic::from("adan"))]),
            "test::f: option 'optimizer' is \"adan\", expected one of \"adam\", \"sgd\", \"rmsprop\" (did you mean \"adam\"?)"
        );
        assert_eq!(
            err(&[(
                "hidden",
                Dynamic::from_array(vec![Dynamic::from_int(10), Dynamic::from_int(0)])
            )]),
            "test::f: option 'hidden' is an array, expected a non-empty array of integers >= 1"
        );
        assert!(SCHEMA.parse(map(&[("norm", Dynamic::UNIT)])).is_ok());
        assert_eq!(
            err(&[("norm", Dynamic::from("l3"))]),
            "test::f: option 'norm' is \"l3\", expected one of \"l2\", \"l1\" or () (did you mean \"l2\"?)"
        );
    }

    #[test]
    fn markdown_lists_type_default_and_doc() {
        let md = SCHEMA.markdown();
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
    }
}
