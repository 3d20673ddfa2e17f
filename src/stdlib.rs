//! Helpers written in Rhai, compiled into the binary and imported as
//! `import "std/table" as table;`.

/// `(import path, source)` of every stdlib module.
pub const MODULES: &[(&str, &str)] = &[
    ("std/table", include_str!("../stdlib/table.rhai")),
    ("std/explore", include_str!("../stdlib/explore.rhai")),
    ("std/eval", include_str!("../stdlib/eval.rhai")),
];

/// The source of stdlib module `path` (`std/table`, `.rhai` optional).
pub fn source(path: &str) -> Option<&'static str> {
    let path = path.strip_suffix(".rhai").unwrap_or(path);
    MODULES.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}
