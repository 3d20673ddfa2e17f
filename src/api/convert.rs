//! The one set of converters between script values and Rust values: options
//! maps into a domain module's declared options, script values into
//! [`Value`], documents (`Movies` or strings), features (`Matrix` or
//! `Sparse`), lists of matrices, and results back through serde. Every
//! binding goes through these, so the same mistake gives the same message.

use rhai::{Array, Dynamic, INT, ImmutableString, Map, NativeCallContext};
use serde::Serialize;

use crate::data::{Labels, Movies};
use crate::error::{Error, Result};
use crate::matrix::{Features, Matrix, Sparse};
use crate::options::{FromValue, Options, Value};

/// The script-level result of every binding.
pub type RhaiResult<T> = std::result::Result<T, Box<rhai::EvalAltResult>>;

/// Runs a binding's body and turns its error into a script error at the
/// call site. Needed for `module::function` calls: Rhai fills in the
/// position of errors from method and global calls, not from qualified ones.
pub fn located<T>(ctx: &NativeCallContext, body: impl FnOnce() -> Result<T>) -> RhaiResult<T> {
    body().map_err(|e| {
        let mut err: Box<rhai::EvalAltResult> = e.into();
        err.set_position(ctx.call_position());
        err
    })
}

/// A script's options map, checked against `T`'s declaration and read typed.
pub fn options<T: Options>(map: Map) -> Result<T> {
    T::parse(
        map.into_iter()
            .map(|(k, v)| (k.to_string(), value(&v)))
            .collect(),
    )
}

/// As [`options`], with `seed` drawn from the session generator when the
/// script did not give one.
pub fn seeded<T: Options>(ctx: &NativeCallContext, map: Map) -> Result<T> {
    let mut opts: T = options(map)?;
    if let Some(slot) = opts.seed_slot()
        && slot.is_none()
    {
        *slot = Some(session_seed(ctx)?);
    }
    Ok(opts)
}

/// A seed drawn from the session generator (`data::seed`).
pub fn session_seed(ctx: &NativeCallContext) -> Result<u64> {
    Ok(crate::api::session_rng(ctx)?.borrow_mut().next_u32() as u64)
}

/// A script value as the domain modules read it.
pub fn value(v: &Dynamic) -> Value {
    if v.is_unit() {
        return Value::Unit;
    }
    if let Ok(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if let Ok(i) = v.as_int() {
        return Value::Int(i);
    }
    if let Ok(x) = v.as_float() {
        return Value::Float(x);
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return Value::Text(s.to_string());
    }
    if let Some(a) = v.read_lock::<Array>() {
        return Value::List(a.iter().map(value).collect());
    }
    if let Some(m) = v.read_lock::<Map>() {
        return Value::Map(m.iter().map(|(k, v)| (k.to_string(), value(v))).collect());
    }
    macro_rules! objects {
        ($($t:ty => $variant:ident),*) => {$(
            if let Some(x) = v.read_lock::<$t>() {
                return Value::$variant((*x).clone());
            }
        )*};
    }
    objects!(Matrix => Matrix, Sparse => Sparse, Labels => Labels, Movies => Movies);
    if let Some(h) = v.read_lock::<crate::text::VectorizerRef>() {
        return Value::Vectorizer(h.0.clone());
    }
    Value::Other(crate::docs::script_type_of(type_of(v)))
}

/// A positional argument read as `T`; `expected` says what passes.
pub fn arg<T: FromValue>(v: &Dynamic, what: &str, expected: &str) -> Result<T> {
    let v = value(v);
    T::from_value(&v).ok_or_else(|| Error::invalid(format!("{what}: expected {expected}, got {v}")))
}

/// A domain result as a script value (maps, arrays, numbers, strings).
pub fn to_script<T: Serialize>(v: &T) -> Result<Dynamic> {
    rhai::serde::to_dynamic(v).map_err(|e| Error::invalid(format!("internal: {e}")))
}

/// As [`to_script`], for results that are maps.
pub fn to_map<T: Serialize>(v: &T) -> Result<Map> {
    to_script(v)?
        .try_cast::<Map>()
        .ok_or_else(|| Error::invalid("internal: a result that should be a map is not"))
}

/// Documents from an array of strings or a `Movies` (its overviews, and its
/// ids to name result rows). Script strings are shared, so this copies
/// pointers, not text.
pub struct Documents {
    texts: Vec<ImmutableString>,
    pub ids: Option<Vec<String>>,
    pub movies: Option<Movies>,
}

impl Documents {
    pub fn of(value: &Dynamic, what: &str) -> Result<Documents> {
        if let Some(movies) = value.read_lock::<Movies>() {
            return Ok(Documents {
                texts: movies.overviews().map(ImmutableString::from).collect(),
                ids: Some(movies.ids().map(str::to_string).collect()),
                movies: Some(movies.clone()),
            });
        }
        let Some(array) = value.read_lock::<Array>() else {
            return Err(Error::invalid(format!(
                "{what}: expected an array of strings or a Movies, got {}",
                type_of(value)
            )));
        };
        let texts = array
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.clone().into_immutable_string().map_err(|t| {
                    Error::invalid(format!("{what}: element {i} is {t}, expected a string"))
                })
            })
            .collect::<Result<_>>()?;
        Ok(Documents {
            texts,
            ids: None,
            movies: None,
        })
    }

    pub fn refs(&self) -> Vec<&str> {
        self.texts.iter().map(ImmutableString::as_str).collect()
    }

    /// The documents that `keep` marks: a `Movies` stays one.
    pub fn kept(&self, keep: &[bool]) -> Dynamic {
        if let Some(movies) = &self.movies {
            return Dynamic::from(movies.filter_by(keep));
        }
        self.texts
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(t, _)| Dynamic::from(t.clone()))
            .collect::<Array>()
            .into()
    }
}

/// A `Matrix` or a `Sparse`.
pub fn features(v: &Dynamic, what: &str) -> Result<Features> {
    if let Some(m) = v.read_lock::<Matrix>() {
        return Ok(Features::Dense(m.clone()));
    }
    if let Some(s) = v.read_lock::<Sparse>() {
        return Ok(Features::Sparse(s.clone()));
    }
    Err(Error::invalid(format!(
        "{what}: expected a Matrix or a Sparse, got {}",
        type_of(v)
    )))
}

/// Dense or sparse features back as a script value.
pub fn from_features(f: Features) -> Dynamic {
    match f {
        Features::Dense(m) => Dynamic::from(m),
        Features::Sparse(s) => Dynamic::from(s),
    }
}

/// The matrices of a script array, named for messages.
pub fn matrices(v: &Array, what: &str) -> Result<Vec<Matrix>> {
    v.iter()
        .enumerate()
        .map(|(i, m)| {
            m.read_lock::<Matrix>().map(|m| m.clone()).ok_or_else(|| {
                Error::invalid(format!(
                    "{what}: element {i} is {}, expected a Matrix",
                    type_of(m)
                ))
            })
        })
        .collect()
}

/// Rhai's name for the type of `value` ("string", "i64", "array", ...).
pub fn type_of(value: &Dynamic) -> &'static str {
    match value.type_name() {
        "alloc::string::String" | "rhai::ImmutableString" | "string" => "string",
        other => other.rsplit("::").next().unwrap_or(other),
    }
}

/// An array of strings; `what` names the argument in the error.
pub fn strings(array: &Array, what: &str) -> Result<Vec<String>> {
    array
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.clone().into_string().map_err(|t| {
                Error::invalid(format!("{what}: element {i} is {t}, expected a string"))
            })
        })
        .collect()
}

/// An array of arrays of strings (genre lists).
pub fn string_lists(array: &Array, what: &str) -> Result<Vec<Vec<String>>> {
    array
        .iter()
        .enumerate()
        .map(|(i, v)| match v.read_lock::<Array>() {
            Some(inner) => strings(&inner, &format!("{what}[{i}]")),
            None => Err(Error::invalid(format!(
                "{what}: element {i} is {}, expected an array of strings",
                type_of(v)
            ))),
        })
        .collect()
}

/// A number (integer or float) as f64.
pub fn number(value: &Dynamic, what: &str) -> Result<f64> {
    if let Ok(x) = value.as_float() {
        Ok(x)
    } else if let Ok(i) = value.as_int() {
        Ok(i as f64)
    } else {
        Err(Error::invalid(format!(
            "{what} is {}, expected a number",
            type_of(value)
        )))
    }
}

/// An array of numbers as f64.
pub fn numbers(array: &Array, what: &str) -> Result<Vec<f64>> {
    array
        .iter()
        .enumerate()
        .map(|(i, v)| number(v, &format!("{what}: element {i}")))
        .collect()
}

/// A non-negative count.
pub fn count(value: INT, what: &str) -> Result<usize> {
    usize::try_from(value)
        .map_err(|_| Error::invalid(format!("{what} must be 0 or more, got {value}")))
}

/// A position in a sequence of `len`; negative counts from the end, as
/// Rhai's arrays do.
pub fn index(i: INT, len: usize, what: &str) -> Result<usize> {
    let resolved = if i < 0 { len as INT + i } else { i };
    if resolved < 0 || resolved >= len as INT {
        return Err(Error::invalid(format!(
            "{what} index {i} is out of range for {len} items"
        )));
    }
    Ok(resolved as usize)
}

pub fn string_array<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    items
        .into_iter()
        .map(|s| Dynamic::from(ImmutableString::from(s)))
        .collect()
}

/// Numbers as a script array, or `()` for none (scikit-learn's `None`).
pub fn optional_floats(items: Option<&[f64]>) -> Dynamic {
    items.map_or(Dynamic::UNIT, |v| {
        Dynamic::from_array(float_array(v.iter().copied()))
    })
}

pub fn float_array(items: impl IntoIterator<Item = f64>) -> Array {
    items.into_iter().map(Dynamic::from_float).collect()
}

/// Integers where every value parses as one (TMDB ids), else strings.
pub fn ids_array<S: AsRef<str>>(items: &[S]) -> Array {
    if items.iter().all(|s| s.as_ref().parse::<INT>().is_ok()) {
        items
            .iter()
            .map(|s| Dynamic::from_int(s.as_ref().parse().unwrap_or_default()))
            .collect()
    } else {
        string_array(items.iter().map(AsRef::as_ref))
    }
}

/// One movie as a script map: id (an integer when it is one), text fields,
/// genre list, poster path or `()`.
pub fn record_map(movies: &Movies, i: usize) -> Map {
    use crate::data::movies::Field;
    movies
        .record(i)
        .into_iter()
        .map(|(name, field)| {
            let value = match field {
                Field::Id(t) => t
                    .parse::<INT>()
                    .map_or_else(|_| Dynamic::from(t.to_string()), Dynamic::from_int),
                Field::Text(t) => t.to_string().into(),
                Field::List(l) => Dynamic::from_array(string_array(l.iter().map(String::as_str))),
                Field::Path(p) => {
                    p.map_or(Dynamic::UNIT, |p| p.to_string_lossy().into_owned().into())
                }
            };
            (name.into(), value)
        })
        .collect()
}
