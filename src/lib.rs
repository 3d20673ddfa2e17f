//! genrelab: a Rhai workbench for multi-modal movie genre classification.
//!
//! The domain modules ([`data`], [`matrix`]) are plain Rust, usable and
//! tested without Rhai; [`api`] binds them as script functions; [`engine`]
//! builds the one engine that the REPL ([`repl`]), the script runner
//! ([`session`]) and `genrelab doc` ([`docs`]) share.

pub mod api;
pub mod cluster;
pub mod data;
pub mod diagnostics;
pub mod docs;
pub mod engine;
pub mod error;
pub mod fusion;
pub mod imdb;
pub mod input;
pub mod interrupt;
pub mod io_util;
pub mod linear;
pub mod matrix;
pub mod metrics;
pub mod nn;
pub mod persist;
pub mod plot;
pub mod progress;
pub mod record;
pub mod repl;
pub mod session;
pub mod stdlib;
pub mod text;
pub mod tmdb;
pub mod vision;

pub use engine::{EngineConfig, Output, build_engine, find_data_dir};
pub use error::{Error, Result};
pub use session::{RunError, ScriptError, Session};
