//! Translating between Rhai values and Rust ones, with errors that say which
//! argument, element or option was wrong and what it should have been.

use rhai::{Array, Dynamic, INT, ImmutableString};

use crate::error::{Error, Result};

/// The script-level result of every binding.
pub type RhaiResult<T> = std::result::Result<T, Box<rhai::EvalAltResult>>;

/// Runs a binding's body and turns its error into a script error at the
/// call site. Needed for `module::function` calls: Rhai fills in the
/// position of errors from method and global calls, not from qualified ones.
pub fn located<T>(
    ctx: &rhai::NativeCallContext,
    body: impl FnOnce() -> Result<T>,
) -> RhaiResult<T> {
    body().map_err(|e| {
        let mut err: Box<rhai::EvalAltResult> = e.into();
        err.set_position(ctx.call_position());
        err
    })
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

/// Fails on the first NaN or infinity of `values`, naming `what` and the
/// position (numbers from script arrays, the vector side of
/// [`crate::matrix::check_finite`]).
pub fn finite(values: &[f64], what: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::invalid(format!(
            "{what}: element {i} is {}; it must be a finite number",
            values[i]
        ))),
    }
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

/// Integers where every value parses as one (TMDB ids), else strings.
pub fn ids_array(items: &[&str]) -> Array {
    if items.iter().all(|s| s.parse::<INT>().is_ok()) {
        items
            .iter()
            .map(|s| Dynamic::from_int(s.parse().unwrap_or_default()))
            .collect()
    } else {
        string_array(items.iter().copied())
    }
}
