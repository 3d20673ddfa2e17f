//! A script value as an option or argument sees it, without Rhai: the
//! bindings convert once at the boundary, and the domain modules read typed
//! Rust values out of it through [`FromValue`].

use std::fmt;

use crate::data::{Labels, Movies};
use crate::matrix::{Matrix, Sparse};
use crate::text::Vectorizer;

/// One script value.
#[derive(Clone, Debug)]
pub enum Value {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Value>),
    Map(std::collections::BTreeMap<String, Value>),
    Matrix(Matrix),
    Sparse(Sparse),
    Labels(Labels),
    Movies(Movies),
    Vectorizer(std::sync::Arc<Vectorizer>),
    /// Any other script value, by its script type name ("map", "Network").
    Other(String),
}

impl Value {
    /// An integer or a float, as f64.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(x) => Some(*x),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The script type's name, as `genrelab doc` writes it.
    pub fn type_name(&self) -> &str {
        match self {
            Value::Unit => "()",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Text(_) => "string",
            Value::List(_) => "array",
            Value::Map(_) => "map",
            Value::Matrix(_) => "Matrix",
            Value::Sparse(_) => "Sparse",
            Value::Labels(_) => "Labels",
            Value::Movies(_) => "Movies",
            Value::Vectorizer(_) => "Vectorizer",
            Value::Other(name) => name,
        }
    }
}

/// A float as Rhai prints it (`1.0`, `0.001`, `1e-15`, `NaN`), so messages
/// show what the script wrote.
pub fn float_text(x: f64) -> String {
    let abs = x.abs();
    if abs == 0.0 {
        "0.0".into()
    } else if !(1e-13..=1e13).contains(&abs) {
        format!("{x:e}")
    } else if abs.fract() == 0.0 {
        format!("{x}.0")
    } else {
        format!("{x}")
    }
}

/// Values as messages show them: numbers, strings and booleans as
/// themselves, short arrays in full (long ones cut), anything else by its
/// type ("a Matrix").
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unit => f.write_str("()"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&float_text(*x)),
            Value::Text(s) if s.chars().count() > 40 => {
                write!(f, "\"{}…\"", s.chars().take(40).collect::<String>())
            }
            Value::Text(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                const SHOWN: usize = 8;
                let mut parts: Vec<String> =
                    items.iter().take(SHOWN).map(|v| v.to_string()).collect();
                if items.len() > SHOWN {
                    parts.push(format!("… {} more", items.len() - SHOWN));
                }
                write!(f, "[{}]", parts.join(", "))
            }
            other => {
                let t = other.type_name();
                let article = if t.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
                    "an"
                } else {
                    "a"
                };
                write!(f, "{article} {t}")
            }
        }
    }
}

/// A Rust value read from a script value that passed its declared kind.
/// `None` means the value is not of this type (an internal error once the
/// kind was checked; an argument error for positional arguments).
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        v.int()
    }
}

macro_rules! unsigned_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Option<Self> {
                v.int().and_then(|i| <$t>::try_from(i).ok())
            }
        }
    )*};
}
unsigned_from_value!(usize, u64, u32, u8);

impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        v.number()
    }
}

impl FromValue for f32 {
    fn from_value(v: &Value) -> Option<Self> {
        v.number().map(|x| x as f32)
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        v.text().map(str::to_string)
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: &Value) -> Option<Self> {
        v.list()?.iter().map(T::from_value).collect()
    }
}

impl<T: FromValue, const N: usize> FromValue for [T; N] {
    fn from_value(v: &Value) -> Option<Self> {
        Vec::<T>::from_value(v)?.try_into().ok()
    }
}

/// `()` is "not set".
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Unit => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl FromValue for Matrix {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Matrix(m) => Some(m.clone()),
            _ => None,
        }
    }
}

impl FromValue for Labels {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Labels(l) => Some(l.clone()),
            _ => None,
        }
    }
}

impl FromValue for Movies {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Movies(m) => Some(m.clone()),
            _ => None,
        }
    }
}

impl<A: FromValue, B: FromValue> FromValue for (A, B) {
    fn from_value(v: &Value) -> Option<Self> {
        match v.list()? {
            [a, b] => Some((A::from_value(a)?, B::from_value(b)?)),
            _ => None,
        }
    }
}

/// How a default shows in `genrelab doc`: `8`, `0.001`, `"adam"`, `[100]`;
/// `None` for "not set unless given".
pub trait ShowDefault {
    fn show_default(&self) -> Option<String>;
}

macro_rules! show_display {
    ($($t:ty),*) => {$(
        impl ShowDefault for $t {
            fn show_default(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}
show_display!(bool, i64, usize, u64, u32, u8);

impl ShowDefault for f64 {
    fn show_default(&self) -> Option<String> {
        Some(format!("{self:?}"))
    }
}

impl ShowDefault for f32 {
    fn show_default(&self) -> Option<String> {
        Some(format!("{:?}", *self as f64))
    }
}

impl ShowDefault for String {
    fn show_default(&self) -> Option<String> {
        Some(format!("\"{self}\""))
    }
}

impl<T: std::fmt::Debug> ShowDefault for Vec<T> {
    fn show_default(&self) -> Option<String> {
        Some(format!("{self:?}"))
    }
}

impl<T: std::fmt::Debug, const N: usize> ShowDefault for [T; N] {
    fn show_default(&self) -> Option<String> {
        Some(format!("{self:?}"))
    }
}

impl<A: std::fmt::Debug, B: std::fmt::Debug> ShowDefault for (A, B) {
    fn show_default(&self) -> Option<String> {
        Some(format!("[{:?}, {:?}]", self.0, self.1))
    }
}

impl<T: ShowDefault> ShowDefault for Option<T> {
    fn show_default(&self) -> Option<String> {
        self.as_ref().and_then(ShowDefault::show_default)
    }
}

/// Values with no default to show (script objects given as options).
macro_rules! show_nothing {
    ($($t:ty),*) => {$(
        impl ShowDefault for $t {
            fn show_default(&self) -> Option<String> {
                None
            }
        }
    )*};
}
show_nothing!(Matrix, Labels, Movies);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_as_the_script_wrote_them() {
        assert_eq!(Value::Float(1.0).to_string(), "1.0");
        assert_eq!(Value::Float(0.001).to_string(), "0.001");
        assert_eq!(Value::Float(f64::NAN).to_string(), "NaN");
        assert_eq!(Value::Float(1e-20).to_string(), "1e-20");
        assert_eq!(Value::Text("l3".into()).to_string(), "\"l3\"");
        assert_eq!(
            Value::List(vec![Value::Int(10), Value::Int(0)]).to_string(),
            "[10, 0]"
        );
        let long = Value::List((0..10).map(Value::Int).collect());
        assert_eq!(long.to_string(), "[0, 1, 2, 3, 4, 5, 6, 7, … 2 more]");
        assert_eq!(Value::Other("map".into()).to_string(), "a map");
        assert_eq!(Value::Other("Encoder".into()).to_string(), "an Encoder");
    }

    #[test]
    fn typed_reads_refuse_other_types() {
        assert_eq!(usize::from_value(&Value::Int(3)), Some(3));
        assert_eq!(usize::from_value(&Value::Int(-1)), None);
        assert_eq!(f64::from_value(&Value::Int(2)), Some(2.0));
        assert_eq!(Option::<String>::from_value(&Value::Unit), Some(None));
        assert_eq!(
            <(usize, usize)>::from_value(&Value::List(vec![Value::Int(1), Value::Int(2)])),
            Some((1, 2))
        );
        assert_eq!(
            <[u32; 2]>::from_value(&Value::List(vec![Value::Int(1)])),
            None
        );
    }
}
