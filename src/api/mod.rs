//! The Rhai bindings: one file per script module, each a thin translation
//! from script values and option maps to the plain Rust in the domain
//! modules, and from [`crate::Error`] back to script errors.

pub mod convert;
pub mod core;
pub mod data;
pub mod matrix;
pub mod movies;

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Dynamic, Engine, NativeCallContext, exported_module};

use crate::data::{Binarizer, Labels, Movies, NumpyRng};
use crate::docs::HelpText;
use crate::error::Error;
use crate::matrix::{Matrix, Sparse};

/// State one engine's functions share: the session's random generator.
/// It rides on the engine's default tag, so every engine (REPL session,
/// test) has its own.
#[derive(Clone, Default)]
pub struct SessionState {
    rng: Rc<RefCell<NumpyRng>>,
}

/// The session generator of the engine running `ctx`.
pub fn session_rng(ctx: &NativeCallContext) -> Result<Rc<RefCell<NumpyRng>>, Error> {
    ctx.tag()
        .and_then(|tag| tag.read_lock::<SessionState>().map(|s| s.rng.clone()))
        .ok_or_else(|| Error::invalid("internal: this engine was not built by genrelab::engine"))
}

/// Script modules by name, in the order `doc` lists them.
pub const MODULES: &[&str] = &["data"];

/// Registers the custom types, the global helpers and every script module.
pub fn register_all(engine: &mut Engine) {
    engine.set_default_tag(Dynamic::from(SessionState::default()));
    engine
        .register_type_with_name::<Movies>("Movies")
        .register_type_with_name::<Binarizer>("Binarizer")
        .register_type_with_name::<Labels>("Labels")
        .register_type_with_name::<Matrix>("Matrix")
        .register_type_with_name::<Sparse>("Sparse")
        .register_type_with_name::<HelpText>("Help");
    engine.register_global_module(exported_module!(core::core_functions).into());
    // Methods are `global` functions inside their module, so they are callable
    // as `x.method()` and yet listed under that module by `doc`.
    let mut data = exported_module!(data::data_module);
    data.combine_flatten(exported_module!(movies::movies_methods));
    data.combine_flatten(exported_module!(matrix::matrix_methods));
    engine.register_static_module("data", data.into());
}
