//! THE place that builds a `rhai::Engine`. The REPL, the script runner,
//! `genrelab doc` and the tests all call [`build_engine`], so every one of
//! them sees the same types, modules, module resolution, output and Ctrl-C.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::module_resolvers::{FileModuleResolver, ModuleResolversCollection};
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope};

/// A module as resolvers hand it out (`rhai::Shared` is `Rc` without the `sync` feature).
type SharedModule = rhai::Shared<Module>;

use crate::{api, interrupt, stdlib};

/// Where `print` and `debug` output goes.
#[derive(Clone)]
pub enum Output {
    Stdout,
    /// Collected in memory, for tests and embedding.
    Buffer(Rc<RefCell<String>>),
    /// Only to the record's listener (the Jupyter kernel shows it as the
    /// cell's output).
    Listener,
}

impl Output {
    pub fn buffer() -> (Output, Rc<RefCell<String>>) {
        let buf = Rc::new(RefCell::new(String::new()));
        (Output::Buffer(buf.clone()), buf)
    }

    pub fn write_line(&self, line: &str) {
        crate::record::text(line);
        self.write_raw(line);
    }

    /// `debug` output: stdout in a terminal, stderr in a notebook.
    pub fn write_debug(&self, line: &str) {
        crate::record::stderr(line);
        self.write_raw(line);
    }

    fn write_raw(&self, line: &str) {
        match self {
            Output::Stdout => crate::io_util::print_line(line),
            Output::Buffer(buf) => {
                let mut buf = buf.borrow_mut();
                buf.push_str(line);
                buf.push('\n');
            }
            Output::Listener => {}
        }
    }
}

/// What an engine needs to know about its surroundings.
#[derive(Clone)]
pub struct EngineConfig {
    pub output: Output,
    /// Relative `import "file"` paths resolve against this folder.
    pub script_dir: PathBuf,
    /// The data folder, or why none was found (shown when a script uses `DATA_DIR`).
    pub data_dir: Result<PathBuf, String>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            output: Output::Stdout,
            script_dir: PathBuf::from("."),
            data_dir: find_data_dir(),
        }
    }
}

/// `$GENRELAB_DATA`; else `../shared/data` where it exists (this project's
/// machines: the same tables plus the posters, with the models beside it,
/// which scripts still reach as `DATA_DIR + "/../models"`); else the text
/// tables bundled in the repository's `data/` (found from the working
/// folder, or where this binary was built from).
pub fn find_data_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("GENRELAB_DATA") {
        let dir = PathBuf::from(dir);
        return if dir.is_dir() {
            Ok(dir)
        } else {
            Err(format!(
                "GENRELAB_DATA is set to '{}', which is not a folder",
                dir.display()
            ))
        };
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    [Path::new("../shared/data"), Path::new("data"), built_from.as_path()]
        .into_iter()
        .find(|p| p.join("movies").is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            "DATA_DIR: no data folder found. Set GENRELAB_DATA to the folder holding movies/movies.csv, \
             or run from the genrelab checkout, whose data/ holds the bundled tables (see README: 'Where the data comes from')"
                .to_string()
        })
}

/// Serves `import "std/…"` from the modules compiled into the binary.
#[derive(Default)]
struct StdlibResolver {
    cache: RefCell<HashMap<String, SharedModule>>,
}

impl ModuleResolver for StdlibResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        if let Some(module) = self.cache.borrow().get(path) {
            return Ok(module.clone());
        }
        let Some(text) = stdlib::source(path) else {
            return Err(EvalAltResult::ErrorModuleNotFound(path.into(), pos).into());
        };
        let in_module =
            |err: Box<EvalAltResult>| Box::new(EvalAltResult::ErrorInModule(path.into(), err, pos));
        let mut ast = engine.compile(text).map_err(|e| in_module(e.into()))?;
        ast.set_source(path);
        let module: SharedModule = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(in_module)?
            .into();
        self.cache
            .borrow_mut()
            .insert(path.to_string(), module.clone());
        Ok(module)
    }
}

/// Builds the engine: types and modules, resolvers (stdlib first, then
/// files relative to the script), output, and the Ctrl-C hook.
pub fn build_engine(config: &EngineConfig) -> Engine {
    let mut engine = Engine::new();
    // Rhai's debug-build defaults (32 / 16) reject ordinary nested closures.
    engine.set_max_expr_depths(256, 128);
    api::register_all(&mut engine);

    let mut resolvers = ModuleResolversCollection::new();
    resolvers.push(StdlibResolver::default());
    resolvers.push(FileModuleResolver::new_with_path(&config.script_dir));
    engine.set_module_resolver(resolvers);

    let out = config.output.clone();
    engine.on_print(move |text| out.write_line(text));
    let out = config.output.clone();
    engine.on_debug(move |text, source, pos| {
        let place = match (source, pos.line()) {
            (Some(s), Some(l)) => format!("{s}:{l}: "),
            (None, Some(l)) => format!("{l}: "),
            _ => String::new(),
        };
        out.write_debug(&format!("{place}{text}"));
    });

    // Checked between script operations; Rust primitives poll the same flag.
    engine.on_progress(|_| interrupt::requested().then(|| "interrupted".into()));

    if let Err(why) = &config.data_dir {
        let why = why.clone();
        // `on_var` is marked volatile (not deprecated) by Rhai; it is the one
        // hook that can fail a variable lookup with our own message.
        #[allow(deprecated)]
        engine.on_var(move |name, _, _| {
            if name == "DATA_DIR" {
                Err(EvalAltResult::ErrorRuntime(why.clone().into(), Position::NONE).into())
            } else {
                Ok(None)
            }
        });
    }
    engine
}
