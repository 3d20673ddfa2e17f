//! Global helpers every script has: assertions (used by the doc examples
//! and by users' own checks) and `help`.

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};

fn failure(message: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(message.into(), Position::NONE))
}

fn debug_text(ctx: &NativeCallContext, value: &Dynamic) -> String {
    ctx.call_native_fn::<String>("to_debug", (value.clone(),))
        .unwrap_or_else(|_| format!("{value:?}"))
}

#[export_module]
pub mod core_functions {
    use rhai::{Dynamic, NativeCallContext};

    use super::{debug_text, failure};

    use crate::api::convert::RhaiResult;
    use crate::docs::{self, HelpText};

    /// Tells the report of this run (`genrelab run … --report FILE`) or the
    /// notebook that the next printed `text` is a table with these
    /// `columns`, `cells` (arrays of strings, as shown) and numeric columns
    /// `right` (bools), so it is shown as a table; elsewhere it does
    /// nothing. `std/table`'s `show` calls it; scripts print tables with
    /// `table::show`.
    ///
    /// Errors: none (cells that are not strings are shown as their text).
    ///
    /// ```rhai
    /// report_table(["genre", "n"], [["Drama", "3"]], [false, true], "genre  n\nDrama  3");
    /// ```
    pub fn report_table(columns: rhai::Array, cells: rhai::Array, right: rhai::Array, text: &str) {
        if !crate::record::is_collecting() {
            return;
        }
        let strings =
            |a: &rhai::Array| -> Vec<String> { a.iter().map(|v| v.to_string()).collect() };
        let rows = cells
            .iter()
            .map(|r| {
                r.read_lock::<rhai::Array>()
                    .map(|r| strings(&r))
                    .unwrap_or_default()
            })
            .collect();
        let numeric = right.iter().map(|v| v.as_bool().unwrap_or(false)).collect();
        crate::record::table(strings(&columns), rows, numeric, text);
    }

    /// Stops the script with an error unless `condition` is true.
    ///
    /// Errors: "assertion failed" when `condition` is false.
    ///
    /// ```rhai
    /// assert(1 + 1 == 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert(condition: bool) -> RhaiResult<()> {
        if condition {
            Ok(())
        } else {
            Err(failure("assertion failed".into()))
        }
    }

    /// Stops the script with `message` unless `condition` is true.
    ///
    /// ```rhai
    /// assert(2 > 1, "two is more than one");
    /// ```
    #[rhai_fn(name = "assert", return_raw)]
    pub fn assert_with_message(condition: bool, message: &str) -> RhaiResult<()> {
        if condition {
            Ok(())
        } else {
            Err(failure(format!("assertion failed: {message}")))
        }
    }

    /// Stops the script unless `left == right`; the error shows both values.
    ///
    /// ```rhai
    /// assert_eq([1, 2].len(), 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert_eq(ctx: NativeCallContext, left: Dynamic, right: Dynamic) -> RhaiResult<()> {
        let equal = ctx
            .call_native_fn::<bool>("==", (left.clone(), right.clone()))
            .unwrap_or(false);
        if equal {
            Ok(())
        } else {
            Err(failure(format!(
                "assertion failed: left == right\n  left:  {}\n  right: {}",
                debug_text(&ctx, &left),
                debug_text(&ctx, &right)
            )))
        }
    }

    /// `x` as text with exactly `digits` decimals (JavaScript's `toFixed`),
    /// for tables and reports that must print the same on every run.
    ///
    /// Errors: `digits` negative or above 17.
    ///
    /// ```rhai
    /// assert_eq(0.47812.to_fixed(3), "0.478");
    /// assert_eq(to_fixed(2, 1), "2.0");
    /// ```
    #[rhai_fn(global, name = "to_fixed", return_raw)]
    pub fn to_fixed(x: rhai::FLOAT, digits: rhai::INT) -> RhaiResult<String> {
        if !(0..=17).contains(&digits) {
            return Err(failure(format!(
                "to_fixed: digits must be between 0 and 17, got {digits}"
            )));
        }
        Ok(format!("{x:.*}", digits as usize))
    }

    /// An integer with `digits` decimals (`2.to_fixed(1)` is `"2.0"`).
    #[rhai_fn(global, name = "to_fixed", return_raw)]
    pub fn int_to_fixed(x: rhai::INT, digits: rhai::INT) -> RhaiResult<String> {
        to_fixed(x as rhai::FLOAT, digits)
    }

    /// The documentation of a function (`"data::movies"`, `"split"`), of a
    /// module (`"data"`), or an index of modules for `"help"`; printed in the
    /// REPL.
    ///
    /// Errors: nothing of that name (the message suggests close names).
    ///
    /// ```rhai
    /// let text = help("data::movies").to_string();
    /// assert(text.contains("data::movies(path"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn help(ctx: NativeCallContext, name: &str) -> RhaiResult<HelpText> {
        Ok(docs::help(&docs::collect(ctx.engine()), name)?)
    }

    /// The text of a help page.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn help_text(text: &mut HelpText) -> String {
        text.0.clone()
    }
}
