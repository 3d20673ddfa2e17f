//! `genrelab` (REPL), `genrelab run FILE [ARGS…]`, `genrelab doc [MODULE]`.
//! Exit codes: 0 success, 1 script error, 2 usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use genrelab::{EngineConfig, RunError, Session, docs, interrupt, repl};

// See Cargo.toml: large tensors churn through glibc's mmap path otherwise.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (mimalloc.h, v3 as built by default; the
/// same index in v2): -1 keeps freed pages
/// mapped. Each network layer frees and reallocates tensors of tens of MB;
/// purging them made the kernel zero fresh pages for every layer (a fifth
/// of extraction time). The process keeps its peak memory instead.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[derive(Parser)]
#[command(
    name = "genrelab",
    version,
    about = "A Rhai workbench for multi-modal movie genre classification",
    long_about = "With no command, starts the REPL (or reads statements from stdin when it is not a terminal)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a script; ARGS are in scope as the array `ARGS`.
    Run {
        file: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print the Markdown reference of every script function (or one module's).
    Doc { module: Option<String> },
}

fn main() -> ExitCode {
    // SAFETY: sets a process-wide allocator option before any other thread
    // exists; mimalloc documents options as settable at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    genrelab::io_util::quiet_broken_pipes();
    let cli = Cli::parse();
    let config = EngineConfig::default();
    match cli.command {
        None => ExitCode::from(repl::run(config) as u8),
        Some(Command::Run { file, args }) => {
            interrupt::install_handler();
            match Session::run_file(&file, args, config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(RunError::Unreadable(why)) => {
                    eprintln!("error: {why}");
                    ExitCode::from(2)
                }
                Err(RunError::Script(err)) => {
                    eprintln!("{}", err.render());
                    ExitCode::from(if err.is_interrupt() { 130 } else { 1 })
                }
            }
        }
        Some(Command::Doc { module }) => {
            let session = Session::new(config, Vec::new());
            let all = docs::collect(session.engine());
            match docs::markdown(&all, module.as_deref()) {
                Ok(text) => {
                    genrelab::io_util::print_text(&text);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
