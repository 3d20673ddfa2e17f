//! genrelab: a Rhai workbench for multi-modal movie genre classification.
//!
//! Four layers, imports running downwards only (docs/architecture.md has
//! the whole note and a binding to copy):
//! - engine and session: [`engine`] builds the one engine that the REPL
//!   ([`repl`]), the script runner ([`session`]) and `genrelab doc`
//!   ([`docs`]) share;
//! - bindings: [`api`], declarations of script functions, each one call
//!   into a domain module through the converters of [`api::convert`];
//! - domain modules ([`data`], [`matrix`], [`text`], [`linear`], [`nn`],
//!   [`metrics`], [`fusion`], …): plain Rust, no Rhai, with their
//!   parameters declared by [`options!`] and their checks unit-tested there;
//! - kernels: the inner loops the domain modules call.

pub mod api;
pub mod cluster;
pub mod completion;
pub mod cpu;
pub mod data;
pub mod diagnostics;
pub mod docs;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod fusion;
pub mod imdb;
pub mod input;
pub mod interrupt;
pub mod io_util;
pub mod kernel;
pub mod linear;
pub mod matrix;
pub mod metrics;
pub mod nn;
pub mod options;
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
