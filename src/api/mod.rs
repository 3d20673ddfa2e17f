//! The Rhai bindings: one file per script module, each a thin translation
//! from script values and option maps to the plain Rust in the domain
//! modules, and from [`crate::Error`] back to script errors.

pub mod convert;
pub mod core;
pub mod data;
pub mod encoder;
pub mod fusion;
pub mod genres;
pub mod gmu;
pub mod imdb;
pub mod linear;
pub mod logistic;
pub mod matrix;
pub mod metrics;
pub mod movies;
pub mod nn;
pub mod plot;
pub mod schema;
pub mod text;
pub mod tmdb;
pub mod vectors;
pub mod vision;
pub mod write;

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Dynamic, Engine, Module, NativeCallContext, exported_module};

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

/// The options schema of every script function that takes an options map.
pub fn schemas() -> impl Iterator<Item = &'static schema::Schema> {
    [
        data::SCHEMAS,
        encoder::SCHEMAS,
        fusion::SCHEMAS,
        gmu::SCHEMAS,
        logistic::SCHEMAS,
        genres::SCHEMAS,
        imdb::SCHEMAS,
        linear::SCHEMAS,
        metrics::SCHEMAS,
        nn::SCHEMAS,
        plot::SCHEMAS,
        text::SCHEMAS,
        tmdb::SCHEMAS,
        vectors::SCHEMAS,
        vision::SCHEMAS,
    ]
    .into_iter()
    .flatten()
    .copied()
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
        .register_type_with_name::<vectors::WordVectorsHandle>("WordVectors")
        .register_type_with_name::<encoder::EncoderHandle>("Encoder")
        .register_type_with_name::<linear::SvmHandle>("Svm")
        .register_type_with_name::<linear::NbHandle>("NaiveBayes")
        .register_type_with_name::<metrics::Report>("Report")
        .register_type_with_name::<genres::CoClusterHandle>("CoClustering")
        .register_type_with_name::<vision::BackboneHandle>("Backbone")
        .register_type_with_name::<nn::NetworkHandle>("Network")
        .register_type_with_name::<logistic::LogisticHandle>("LogisticRegression")
        .register_type_with_name::<fusion::ScalerHandle>("StandardScaler")
        .register_type_with_name::<fusion::CalibrationHandle>("Calibration")
        .register_type_with_name::<fusion::SvdHandle>("TruncatedSVD")
        .register_type_with_name::<tmdb::TmdbHandle>("TmdbClient")
        .register_type_with_name::<imdb::BasicsHandle>("ImdbBasics");
    engine.register_global_module(exported_module!(core::core_functions).into());
    // Methods are `global` functions inside their module, so they are callable
    // as `x.method()` and yet listed under that module by `doc`.
    let modules = [
        (
            "data",
            vec![
                exported_module!(data::data_module),
                exported_module!(movies::movies_methods),
                exported_module!(matrix::matrix_methods),
                exported_module!(fusion::fusion_data),
                exported_module!(fusion::fusion_methods),
                exported_module!(write::write_module),
            ],
        ),
        (
            "text",
            vec![
                exported_module!(text::text_module),
                exported_module!(text::text_methods),
                exported_module!(vectors::vectors_module),
                exported_module!(vectors::vectors_methods),
                exported_module!(encoder::encoder_module),
                exported_module!(encoder::encoder_methods),
                exported_module!(fusion::fusion_text),
            ],
        ),
        (
            "svm",
            vec![
                exported_module!(linear::svm_module),
                exported_module!(linear::svm_methods),
            ],
        ),
        (
            "linear",
            vec![
                exported_module!(logistic::logistic_module),
                exported_module!(logistic::logistic_methods),
            ],
        ),
        (
            "fusion",
            vec![
                exported_module!(fusion::fusion_module),
                exported_module!(gmu::gmu_module),
            ],
        ),
        (
            "nb",
            vec![
                exported_module!(linear::nb_module),
                exported_module!(linear::nb_methods),
            ],
        ),
        (
            "metrics",
            vec![
                exported_module!(metrics::metrics_module),
                exported_module!(metrics::report_methods),
                exported_module!(fusion::fusion_metrics),
            ],
        ),
        (
            "genres",
            vec![
                exported_module!(genres::genres_module),
                exported_module!(genres::cocluster_methods),
            ],
        ),
        ("plot", vec![exported_module!(plot::plot_module)]),
        (
            "vision",
            vec![
                exported_module!(vision::vision_module),
                exported_module!(vision::vision_methods),
            ],
        ),
        (
            "nn",
            vec![
                exported_module!(nn::nn_module),
                exported_module!(nn::nn_methods),
            ],
        ),
        (
            "tmdb",
            vec![
                exported_module!(tmdb::tmdb_module),
                exported_module!(tmdb::tmdb_methods),
            ],
        ),
        (
            "imdb",
            vec![
                exported_module!(imdb::imdb_module),
                exported_module!(imdb::imdb_methods),
            ],
        ),
    ];
    for (name, parts) in modules {
        let mut module = Module::new();
        for part in parts {
            module.combine_flatten(part);
        }
        engine.register_static_module(name, module.into());
    }
}
