//! The Rhai bindings: one file per script module, each a thin translation
//! from script values and option maps to the plain Rust in the domain
//! modules, and from [`crate::Error`] back to script errors.

pub mod convert;
pub mod core;
pub mod data;
pub mod genres;
pub mod linear;
pub mod matrix;
pub mod metrics;
pub mod movies;
pub mod text;
pub mod vision;

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

/// Registers the custom types, the global helpers and every script module.
pub fn register_all(engine: &mut Engine) {
    engine.set_default_tag(Dynamic::from(SessionState::default()));
    engine
        .register_type_with_name::<Movies>("Movies")
        .register_type_with_name::<Binarizer>("Binarizer")
        .register_type_with_name::<Labels>("Labels")
        .register_type_with_name::<Matrix>("Matrix")
        .register_type_with_name::<Sparse>("Sparse")
        .register_type_with_name::<HelpText>("Help")
        .register_type_with_name::<text::VectorizerHandle>("Vectorizer")
        .register_type_with_name::<text::TfidfHandle>("Tfidf")
        .register_type_with_name::<linear::SvmHandle>("Svm")
        .register_type_with_name::<linear::NbHandle>("NaiveBayes")
        .register_type_with_name::<metrics::Report>("Report")
        .register_type_with_name::<genres::CoClusterHandle>("CoClustering")
        .register_type_with_name::<vision::BackboneHandle>("Backbone");
    engine.register_global_module(exported_module!(core::core_functions).into());
    // Methods are `global` functions inside their module, so they are callable
    // as `x.method()` and yet listed under that module by `doc`.
    let mut data = exported_module!(data::data_module);
    data.combine_flatten(exported_module!(movies::movies_methods));
    data.combine_flatten(exported_module!(matrix::matrix_methods));
    engine.register_static_module("data", data.into());

    let mut text = exported_module!(text::text_module);
    text.combine_flatten(exported_module!(text::text_methods));
    engine.register_static_module("text", text.into());

    let mut svm = exported_module!(linear::svm_module);
    svm.combine_flatten(exported_module!(linear::svm_methods));
    engine.register_static_module("svm", svm.into());

    let mut nb = exported_module!(linear::nb_module);
    nb.combine_flatten(exported_module!(linear::nb_methods));
    engine.register_static_module("nb", nb.into());

    let mut metrics = exported_module!(metrics::metrics_module);
    metrics.combine_flatten(exported_module!(metrics::report_methods));
    engine.register_static_module("metrics", metrics.into());

    let mut genres = exported_module!(genres::genres_module);
    genres.combine_flatten(exported_module!(genres::cocluster_methods));
    engine.register_static_module("genres", genres.into());
    engine.register_static_module("plot", exported_module!(genres::plot_module).into());

    let mut vision = exported_module!(vision::vision_module);
    vision.combine_flatten(exported_module!(vision::vision_methods));
    engine.register_static_module("vision", vision.into());
}
