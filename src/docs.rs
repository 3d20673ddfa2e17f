//! Function reference from the engine's own metadata: `genrelab doc`, the
//! REPL's `help` / `:help`, completion of names, and the test that runs every
//! ```rhai example. One source, so none of them can drift from the others.

use std::collections::BTreeMap;

use rhai::Engine;
use serde::Deserialize;

use crate::error::{Error, Result};

/// One documented script function (one overload).
#[derive(Clone, Debug)]
pub struct FunctionDoc {
    /// `Some("data")` for `data::movies`; `None` for global helpers.
    pub module: Option<String>,
    pub name: String,
    /// The type of the value before the dot, for methods (`Movies`).
    pub receiver: Option<String>,
    /// `data::movies(path: string) -> Movies`.
    pub signature: String,
    /// The doc comment as Markdown.
    pub doc: String,
}

impl FunctionDoc {
    /// `data::movies`, `Movies.split`, `assert`.
    pub fn qualified_name(&self) -> String {
        match (&self.receiver, &self.module) {
            (Some(t), _) => format!("{t}.{}", self.name),
            (None, Some(m)) => format!("{m}::{}", self.name),
            (None, None) => self.name.clone(),
        }
    }

    /// The ```rhai blocks of the doc comment.
    pub fn examples(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        for line in self.doc.lines() {
            let trimmed = line.trim();
            match &mut current {
                None if trimmed == "```rhai" => current = Some(String::new()),
                Some(block) if trimmed == "```" => {
                    out.push(std::mem::take(block));
                    current = None;
                }
                Some(block) => {
                    block.push_str(line);
                    block.push('\n');
                }
                None => {}
            }
        }
        out
    }

    /// The first sentence-ish line, for indexes.
    pub fn summary(&self) -> &str {
        self.doc.lines().next().unwrap_or("").trim()
    }
}

/// The text of a help page, a script value that prints as itself.
#[derive(Clone, Debug)]
pub struct HelpText(pub String);

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    modules: BTreeMap<String, ModuleMetadata>,
    #[serde(default)]
    functions: Vec<FnMetadata>,
}

#[derive(Deserialize)]
struct ModuleMetadata {
    #[serde(default)]
    functions: Vec<FnMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FnMetadata {
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    params: Vec<Param>,
    #[serde(default)]
    return_type: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(Deserialize)]
struct Param {
    name: Option<String>,
    #[serde(rename = "type")]
    typ: Option<String>,
}

/// Rust type text as registered -> the name a script user knows.
fn script_type(rust: &str) -> String {
    let t = rust
        .trim()
        .trim_start_matches("&mut ")
        .trim_start_matches('&')
        .trim();
    let t = t.rsplit("::").next().unwrap_or(t);
    for wrapper in ["RhaiResultOf<", "RhaiResult<", "Result<"] {
        if let Some(inner) = t.strip_prefix(wrapper).and_then(|s| s.strip_suffix('>')) {
            let inner = inner.split(",Box<").next().unwrap_or(inner);
            return script_type(inner);
        }
    }
    match t {
        "str" | "String" | "ImmutableString" => "string",
        "INT" | "i64" => "int",
        "FLOAT" | "f64" => "float",
        "Array" => "array",
        "Map" => "map",
        "Dynamic" => "any",
        "FnPtr" => "function",
        "()" => "",
        "HelpText" => "Help",
        // Script-facing wrappers are registered under their script names.
        "VectorizerRef" => "Vectorizer",
        "TfidfRef" => "Tfidf",
        "WordVectorsRef" => "WordVectors",
        "CoClusterRef" => "CoClustering",
        "BackboneRef" => "Backbone",
        "TmdbRef" => "TmdbClient",
        "BasicsRef" => "ImdbBasics",
        "Svd" => "TruncatedSVD",
        other => other,
    }
    .to_string()
}

fn doc_text(comments: &[String]) -> String {
    comments
        .iter()
        .flat_map(|c| c.lines())
        .map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("///").unwrap_or(line);
            line.strip_prefix(' ').unwrap_or(line)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn to_doc(module: Option<&str>, f: FnMetadata) -> Option<FunctionDoc> {
    // Property getters and indexers repeat a method of the same name.
    if f.name.starts_with("get$") || f.name.starts_with("set$") || f.name.starts_with("index$") {
        return None;
    }
    let params: Vec<(String, String)> = f
        .params
        .iter()
        .map(|p| {
            let typ = script_type(p.typ.as_deref().unwrap_or("Dynamic"));
            // A `()` parameter (`average: ()`) is written as the value it takes.
            let typ = if typ.is_empty() {
                "()".to_string()
            } else {
                typ
            };
            (p.name.clone().unwrap_or_else(|| "_".into()), typ)
        })
        .collect();
    let is_method = f.namespace == "global"
        && module.is_some()
        && params
            .first()
            .is_some_and(|(_, t)| t.chars().next().is_some_and(char::is_uppercase));
    let (receiver, shown) = if is_method {
        (Some(params[0].1.clone()), &params[1..])
    } else {
        (None, &params[..])
    };
    let args: Vec<String> = shown.iter().map(|(n, t)| format!("{n}: {t}")).collect();
    let ret = script_type(&f.return_type);
    let prefix = match (&receiver, module) {
        (Some(t), _) => format!("{t}."),
        (None, Some(m)) if f.namespace != "global" => format!("{m}::"),
        _ => String::new(),
    };
    let arrow = if ret.is_empty() {
        String::new()
    } else {
        format!(" -> {ret}")
    };
    Some(FunctionDoc {
        module: (f.namespace != "global" || is_method)
            .then(|| module.map(str::to_string))
            .flatten(),
        signature: format!("{prefix}{}({}){arrow}", f.name, args.join(", ")),
        name: f.name,
        receiver,
        doc: doc_text(&f.doc_comments),
    })
}

/// Every documented function the engine offers beyond Rhai's standard library.
pub fn collect(engine: &Engine) -> Vec<FunctionDoc> {
    let json = engine
        .gen_fn_metadata_to_json(false)
        .expect("metadata of registered functions serializes");
    let meta: Metadata =
        serde_json::from_str(&json).expect("rhai metadata has the documented shape");
    let mut docs: Vec<FunctionDoc> = meta
        .functions
        .into_iter()
        .filter_map(|f| to_doc(None, f))
        .collect();
    for (name, module) in meta.modules {
        docs.extend(
            module
                .functions
                .into_iter()
                .filter_map(|f| to_doc(Some(&name), f)),
        );
    }
    // `to_string`/`to_debug` are how values print, not something to look up.
    docs.retain(|d| d.name != "to_string" && d.name != "to_debug");
    // The options a function parses are documented from its schema, the one
    // declaration the binding also parses with. The parameter is `options: map`,
    // or `options: any` where `()` or a string may stand for the map.
    for d in &mut docs {
        if takes_options(&d.signature)
            && let Some(schema) = crate::api::schemas().find(|s| s.function == d.qualified_name())
        {
            d.doc = format!("{}\n\n{}\n", d.doc.trim_end(), schema.markdown());
        }
    }
    // Overloads are ordered by signature, so the reference reads the same
    // on every run (the engine lists functions in hash order).
    docs.sort_by(|a, b| {
        (
            &a.module,
            a.receiver.is_some(),
            &a.receiver,
            &a.name,
            &a.signature,
        )
            .cmp(&(
                &b.module,
                b.receiver.is_some(),
                &b.receiver,
                &b.name,
                &b.signature,
            ))
    });
    docs
}

/// Module names in the order they are listed.
pub fn modules(docs: &[FunctionDoc]) -> Vec<String> {
    let mut names: Vec<String> = docs.iter().filter_map(|d| d.module.clone()).collect();
    names.dedup();
    names
}

/// A Markdown reference of every function, or of one module.
pub fn markdown(docs: &[FunctionDoc], module: Option<&str>) -> Result<String> {
    let known = modules(docs);
    if let Some(m) = module
        && !known.iter().any(|k| k == m)
    {
        return Err(Error::invalid(format!(
            "no module '{m}'; modules: {}",
            known.join(", ")
        )));
    }
    let mut out = String::from("# genrelab script reference\n");
    let mut sections: Vec<(Option<String>, Vec<&FunctionDoc>)> = Vec::new();
    for d in docs {
        if module.is_some() && d.module.as_deref() != module {
            continue;
        }
        match sections.last_mut() {
            Some((m, list)) if *m == d.module => list.push(d),
            _ => sections.push((d.module.clone(), vec![d])),
        }
    }
    for (m, list) in sections {
        let title = m.map_or("Global functions".to_string(), |m| {
            format!("Module `{m}::`")
        });
        out.push_str(&format!("\n## {title}\n"));
        for d in list {
            out.push_str(&format!(
                "\n### `{}`\n\n{}\n",
                d.signature,
                d.doc.trim_end()
            ));
        }
    }
    Ok(out)
}

/// The help page for `query`: `data::movies`, `Movies.split`, `split`, `data`, or `help`.
pub fn help(docs: &[FunctionDoc], query: &str) -> Result<HelpText> {
    let query = query.trim().trim_end_matches("()");
    if query.is_empty() || query == "help" {
        let mut text = String::from(
            "help(\"data::movies\") shows a function, help(\"data\") a module; in the REPL also :help NAME, :functions [MODULE], :vars.\nModules:",
        );
        for m in modules(docs) {
            text.push_str(&format!("\n  {m}::"));
        }
        text.push_str("\nGlobal functions: ");
        let globals: Vec<&str> = docs
            .iter()
            .filter(|d| d.module.is_none())
            .map(|d| d.name.as_str())
            .collect();
        text.push_str(&dedup(globals).join(", "));
        return Ok(HelpText(text));
    }
    if modules(docs).iter().any(|m| m == query) {
        let mut text = format!("Module {query}::");
        for d in docs.iter().filter(|d| d.module.as_deref() == Some(query)) {
            text.push_str(&format!("\n  {:<58} {}", d.signature, d.summary()));
        }
        return Ok(HelpText(text));
    }
    let matches: Vec<&FunctionDoc> = docs
        .iter()
        .filter(|d| d.qualified_name() == query || d.name == query)
        .collect();
    if matches.is_empty() {
        let close: Vec<String> = docs
            .iter()
            .map(FunctionDoc::qualified_name)
            .filter(|n| n.contains(query) || edit_distance(n, query) <= 2)
            .collect();
        let hint = if close.is_empty() {
            "help(\"help\") lists the modules".to_string()
        } else {
            format!(
                "did you mean: {}?",
                dedup(close.iter().map(String::as_str).collect()).join(", ")
            )
        };
        return Err(Error::invalid(format!(
            "no function or module named '{query}'; {hint}"
        )));
    }
    let pages: Vec<String> = matches
        .iter()
        .map(|d| format!("{}\n\n{}", d.signature, d.doc.trim_end()))
        .collect();
    Ok(HelpText(pages.join("\n\n----\n\n")))
}

fn dedup(mut names: Vec<&str>) -> Vec<&str> {
    names.sort_unstable();
    names.dedup();
    names
}

pub use crate::options::edit_distance;

/// `(receiver type, method name)` for every function, Rhai's standard
/// library included, that can be called as `value.name(...)`; types are
/// named as [`script_type_of`] names a value's type. For REPL completion.
pub fn methods_by_type(engine: &Engine) -> Vec<(String, String)> {
    let Ok(json) = engine.gen_fn_metadata_to_json(true) else {
        return Vec::new();
    };
    let Ok(meta) = serde_json::from_str::<Metadata>(&json) else {
        return Vec::new();
    };
    let all = meta
        .functions
        .iter()
        .chain(meta.modules.values().flat_map(|m| m.functions.iter()))
        .filter(|f| f.namespace == "global" || f.namespace.is_empty());
    let mut out: Vec<(String, String)> = all
        .filter(|f| f.name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .filter(|f| f.name != "to_string" && f.name != "to_debug")
        .filter_map(|f| {
            let first = f.params.first()?.typ.as_deref()?;
            Some((script_type(first), f.name.clone()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The completion key of a value's type name as the engine reports it.
pub fn script_type_of(engine_type_name: &str) -> String {
    match engine_type_name {
        "i64" | "i32" => "int".into(),
        "f64" | "f32" => "float".into(),
        "char" => "char".into(),
        other => script_type(other),
    }
}

/// Whether a signature has an options parameter (`options: map` or `options: any`).
pub fn takes_options(signature: &str) -> bool {
    signature.contains("options: map") || signature.contains("options: any")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_types_read_as_users_know_them() {
        assert_eq!(script_type("&str"), "string");
        assert_eq!(script_type("&mut Movies"), "Movies");
        assert_eq!(script_type("RhaiResult<Movies>"), "Movies");
        assert_eq!(script_type("Result<Array,Box<EvalAltResult>>"), "array");
        assert_eq!(script_type("RhaiResult<()>"), "");
        assert_eq!(script_type("rhai::INT"), "int");
        assert_eq!(script_type("&mut VectorizerRef"), "Vectorizer");
        assert_eq!(script_type("RhaiResult<CoClusterRef>"), "CoClustering");
    }
}
