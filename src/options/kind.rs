//! What an option's value may be: its kind and numeric bounds. The same
//! declaration checks a value and describes it in messages and docs.

use super::Value;

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
/// Drop rates and momenta: [0, 1).
pub const RATE: Bounds = Bounds {
    lo: End::Incl(0.0),
    hi: End::Excl(1.0),
};
/// Seeds: what numpy's and PyTorch's generators take.
pub const SEED_RANGE: Bounds = Bounds::within(0.0, u32::MAX as f64);

impl Bounds {
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

    pub fn contains(&self, x: f64) -> bool {
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
    pub fn describe(&self) -> String {
        let edge = |e: End, incl: char, excl: char| match e {
            End::Incl(v) => Some((incl, v)),
            End::Excl(v) => Some((excl, v)),
            End::Open => None,
        };
        match (edge(self.lo, '[', '('), edge(self.hi, ']', ')')) {
            (None, None) => String::new(),
            (Some(('[', l)), None) => format!(" >= {l}"),
            (Some((_, l)), None) => format!(" > {l}"),
            (None, Some((']', h))) => format!(" <= {h}"),
            (None, Some((_, h))) => format!(" < {h}"),
            (Some((open, l)), Some((close, h))) => format!(" in {open}{l}, {h}{close}"),
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
    /// A non-empty string; `what` names it ("column name", "separator").
    Name(&'static str),
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
    /// Anything else, checked by a function that says what is wrong;
    /// `expected` says what passes.
    Custom {
        expected: &'static str,
        check: fn(&Value) -> Result<(), String>,
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
            Kind::Name(what) => format!("a non-empty {what}"),
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
            Kind::Custom { expected, .. } => (*expected).into(),
            Kind::Either(kinds) => kinds
                .iter()
                .map(Kind::describe)
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }

    /// `Ok` when `v` is of this kind; otherwise what is wrong beyond the
    /// kind itself ("element 1 is 0"), or an empty string.
    pub fn check(&self, v: &Value) -> Result<(), String> {
        let fail = || Err(String::new());
        let int_in = |b: &Bounds, x: &Value| x.int().is_some_and(|i| b.contains(i as f64));
        let number_in = |b: &Bounds, x: &Value| x.number().is_some_and(|x| b.contains(x));
        match self {
            Kind::Bool if matches!(v, Value::Bool(_)) => Ok(()),
            Kind::Int(b) if int_in(b, v) => Ok(()),
            Kind::Number(b) if number_in(b, v) => Ok(()),
            Kind::Text if v.text().is_some() => Ok(()),
            Kind::Name(_) if v.text().is_some_and(|s| !s.is_empty()) => Ok(()),
            Kind::Choice(choices) if v.text().is_some_and(|s| choices.contains(&s)) => Ok(()),
            Kind::Texts => elements(v, false, |x| x.text().is_some()),
            Kind::Ints(b) => elements(v, true, |x| int_in(b, x)),
            Kind::Numbers(b) => elements(v, true, |x| number_in(b, x)),
            Kind::Tuple(n, b) => match v.list() {
                Some(items) if items.len() != *n => {
                    Err(format!("; it has {} elements", items.len()))
                }
                _ => elements(v, true, |x| int_in(b, x)),
            },
            Kind::Unit if matches!(v, Value::Unit) => Ok(()),
            Kind::Custom { check, .. } => check(v),
            Kind::Either(kinds) => {
                let mut detail = String::new();
                for k in *kinds {
                    match k.check(v) {
                        Ok(()) => return Ok(()),
                        Err(d) if detail.is_empty() => detail = d,
                        Err(_) => {}
                    }
                }
                Err(detail)
            }
            _ => fail(),
        }
    }

    /// The closest choice to a mistyped string, for "did you mean".
    pub fn suggestion(&self, v: &Value) -> Option<String> {
        let given = v.text()?;
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
        super::closest(given, choices.into_iter())
    }
}

/// An array whose every element passes `ok` (and, with `non_empty`, has
/// one); the error names the first element that does not.
fn elements(v: &Value, non_empty: bool, ok: impl Fn(&Value) -> bool) -> Result<(), String> {
    let Some(items) = v.list() else {
        return Err(String::new());
    };
    if non_empty && items.is_empty() {
        return Err("; it is empty".into());
    }
    match items.iter().position(|x| !ok(x)) {
        None => Ok(()),
        Some(i) => Err(format!("; element {i} is {}", items[i])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i64]) -> Value {
        Value::List(v.iter().map(|i| Value::Int(*i)).collect())
    }

    #[test]
    fn bounds_describe_and_contain() {
        assert_eq!(POSITIVE_INT.describe(), " >= 1");
        assert_eq!(RATE.describe(), " in [0, 1)");
        assert_eq!(POSITIVE.describe(), " > 0");
        assert_eq!(ANY.describe(), "");
        assert!(!UNIT.contains(f64::NAN));
        assert!(RATE.contains(0.0) && !RATE.contains(1.0));
    }

    #[test]
    fn array_kinds_name_the_bad_element() {
        let k = Kind::Ints(POSITIVE_INT);
        assert_eq!(k.check(&ints(&[10, 0])), Err("; element 1 is 0".into()));
        assert_eq!(k.check(&ints(&[])), Err("; it is empty".into()));
        assert!(k.check(&ints(&[3])).is_ok());
        let t = Kind::Tuple(2, POSITIVE_INT);
        assert_eq!(t.check(&ints(&[1])), Err("; it has 1 elements".into()));
        let texts = Kind::Texts;
        assert_eq!(
            texts.check(&Value::List(vec![Value::Text("a".into()), Value::Int(3)])),
            Err("; element 1 is 3".into())
        );
    }

    #[test]
    fn either_tries_each_kind() {
        let k = Kind::Either(&[Kind::Choice(&["l2", "l1"]), Kind::Unit]);
        assert!(k.check(&Value::Unit).is_ok());
        assert!(k.check(&Value::Text("l1".into())).is_ok());
        assert!(k.check(&Value::Text("l3".into())).is_err());
        assert_eq!(
            k.suggestion(&Value::Text("l3".into())).as_deref(),
            Some("l2")
        );
        assert_eq!(k.describe(), "one of \"l2\", \"l1\" or ()");
    }
}
