//! The Rhai bindings: one file per script module, each a thin translation
//! from script values and option maps to the plain Rust in the domain
//! modules, and from [`crate::Error`] back to script errors.

pub mod classifier;
pub mod convert;
pub mod core;
pub mod data;
pub mod encoder;
pub mod fetch;
pub mod fusion;
pub mod genres;
pub mod imdb;
pub mod labels;
pub mod linear;
pub mod logistic;
pub mod matrix;
pub mod metrics;
pub mod movies;
pub mod nn;
pub mod plot;
pub mod poster_classifier;
pub mod scores;
pub mod text;
pub mod tmdb;
pub mod vectors;
pub mod vision;

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Dynamic, Engine, Module, NativeCallContext, exported_module};

use crate::data::{Binarizer, Labels, Movies, NumpyRng};
use crate::docs::HelpText;
use crate::error::Error;
use crate::matrix::{Matrix, Sparse};
use crate::options::Schema;

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

/// The declared options of every script function that takes an options map.
pub fn schemas() -> impl Iterator<Item = &'static Schema> {
    use crate::options::Options;
    [
        crate::data::Columns::schema(),
        crate::data::labels::BinarizerOptions::schema(),
        crate::data::table::CsvOptions::schema(),
        crate::fetch::FetchOptions::schema(),
        crate::matrix::scale::ScalerOptions::schema(),
        crate::text::vectorizer::CountOptions::schema(),
        crate::text::TfidfParams::schema(),
        crate::text::vectorizer::TfidfVectorizerOptions::schema(),
        crate::text::svd::SvdOptions::schema(),
        crate::text::vectors::ReadOptions::schema(),
        crate::text::vectors::mean::WordMeanOptions::schema(),
        crate::text::vectors::mean::KnownOptions::schema(),
        crate::text::vectors::mean::CoverageOptions::schema(),
        crate::text::vectors::analogies::SimilarOptions::schema(),
        crate::text::vectors::analogies::AnalogyOptions::schema(),
        crate::text::encoder::handle::OpenOptions::schema(),
        crate::text::encoder::handle::EncodeOptions::schema(),
        crate::linear::estimators::LinearSvcOptions::schema(),
        crate::linear::estimators::SvcOptions::schema(),
        crate::linear::estimators::GridSearchOptions::schema(),
        crate::linear::estimators::MultinomialOptions::schema(),
        crate::linear::estimators::LogisticOptions::schema(),
        crate::nn::network::MlpOptions::schema(),
        crate::nn::network::TrainOptions::schema(),
        crate::nn::network::GmuOptions::schema(),
        crate::fusion::late::LateOptions::schema(),
        crate::fusion::late::TuneWeightsOptions::schema(),
        crate::metrics::labelled::TuneOptions::schema(),
        crate::metrics::labelled::PrecisionOptions::schema(),
        crate::metrics::labelled::RecallOptions::schema(),
        crate::metrics::labelled::F1Options::schema(),
        crate::metrics::labelled::FbetaOptions::schema(),
        crate::metrics::labelled::JaccardOptions::schema(),
        crate::metrics::calibrate::CalibrateOptions::schema(),
        crate::metrics::bootstrap::BootstrapOptions::schema(),
        crate::metrics::bootstrap::CompareOptions::schema(),
        crate::cluster::genres::PairCountOptions::schema(),
        crate::cluster::genres::CoclusterOptions::schema(),
        crate::plot::charts::HeatmapOptions::schema(),
        crate::plot::charts::BarOptions::schema(),
        crate::plot::charts::LineOptions::schema(),
        crate::vision::handle::BackboneOptions::schema(),
        crate::vision::handle::ExtractOptions::schema(),
        crate::tmdb::handle::ClientOptions::schema(),
        crate::tmdb::handle::BuildOptions::schema(),
        crate::tmdb::handle::SearchOptions::schema(),
        crate::tmdb::handle::DownloadOptions::schema(),
        crate::imdb::BasicsOptions::schema(),
        crate::text::finetune::FineTuneOptions::schema(),
        crate::vision::finetune::PosterFineTuneOptions::schema(),
    ]
    .into_iter()
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
        .register_type_with_name::<crate::text::VectorizerRef>("Vectorizer")
        .register_type_with_name::<crate::text::TfidfRef>("Tfidf")
        .register_type_with_name::<crate::text::vectors::WordVectorsRef>("WordVectors")
        .register_type_with_name::<crate::text::encoder::handle::Encoder>("Encoder")
        .register_type_with_name::<crate::linear::estimators::Svm>("Svm")
        .register_type_with_name::<crate::linear::estimators::NaiveBayes>("NaiveBayes")
        .register_type_with_name::<crate::metrics::labelled::Report>("Report")
        .register_type_with_name::<crate::cluster::genres::CoClusterRef>("CoClustering")
        .register_type_with_name::<crate::vision::handle::BackboneRef>("Backbone")
        .register_type_with_name::<crate::nn::network::Network>("Network")
        .register_type_with_name::<crate::linear::estimators::LogisticRegression>(
            "LogisticRegression",
        )
        .register_type_with_name::<crate::matrix::scale::StandardScaler>("StandardScaler")
        .register_type_with_name::<crate::metrics::calibrate::Calibration>("Calibration")
        .register_type_with_name::<crate::text::svd::Svd>("TruncatedSVD")
        .register_type_with_name::<crate::tmdb::handle::TmdbRef>("TmdbClient")
        .register_type_with_name::<crate::imdb::BasicsRef>("ImdbBasics")
        .register_type_with_name::<crate::text::finetune::TextClassifier>("TextClassifier")
        .register_type_with_name::<crate::vision::finetune::ImageClassifier>("ImageClassifier");
    engine.register_global_module(exported_module!(core::core_functions).into());
    // Methods are `global` functions inside their module, so they are callable
    // as `x.method()` and yet listed under that module by `doc`.
    let modules = [
        (
            "data",
            vec![
                exported_module!(data::data_module),
                exported_module!(fetch::fetch_module),
                exported_module!(movies::movies_methods),
                exported_module!(matrix::matrix_methods),
                exported_module!(labels::labels_methods),
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
                exported_module!(classifier::classifier_module),
                exported_module!(classifier::classifier_methods),
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
                exported_module!(nn::gmu_module),
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
                exported_module!(scores::scores_module),
                exported_module!(metrics::report_methods),
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
                exported_module!(poster_classifier::poster_classifier_module),
                exported_module!(poster_classifier::poster_classifier_methods),
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
