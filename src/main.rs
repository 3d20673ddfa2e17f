//! `genrelab` (REPL), `genrelab run FILE [ARGS…]`, `genrelab doc [MODULE]`,
//! `genrelab kernel FILE` (Jupyter), `genrelab kernel install`.
//! Exit codes: 0 success, 1 script error, 2 usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use genrelab::{EngineConfig, RunError, Session, docs, interrupt, record, repl};

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
    /// Run a script; ARGS are in scope as the array `ARGS`. `--report
    /// FILE.html` (or `.md`, before or after the arguments) writes a
    /// self-contained record of the run: header, source, output, tables,
    /// figures, warnings and the error, if any.
    Run {
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        file: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print the Markdown reference of every script function (or one module's).
    Doc { module: Option<String> },
    /// Fetch models into the cache ahead of use (mobilenet_v2, vgg16,
    /// all-MiniLM-L6-v2, a hub model as org/name, glove.6B.50d), or `posters`
    /// (the data folder's posters from TMDB, with TMDB_API_KEY); without
    /// names, list what the cache holds.
    Fetch { names: Vec<String> },
    /// Run as a Jupyter kernel (Jupyter starts it with its connection file),
    /// or `kernel install` the kernelspec so Jupyter lists genrelab.
    #[command(args_conflicts_with_subcommands = true)]
    Kernel {
        #[command(subcommand)]
        action: Option<KernelAction>,
        /// The connection file Jupyter writes for the kernel.
        connection_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KernelAction {
    /// Write the kernelspec (kernel.json with this binary's path, logos);
    /// --user is the default.
    Install {
        /// Into the user's Jupyter data folder (~/.local/share/jupyter).
        #[arg(long, group = "destination")]
        user: bool,
        /// Into the active Python environment ($VIRTUAL_ENV or $CONDA_PREFIX).
        #[arg(long, group = "destination")]
        sys_prefix: bool,
        /// Into DIR/share/jupyter.
        #[arg(long, group = "destination", value_name = "DIR")]
        prefix: Option<PathBuf>,
        /// The kernel's name in Jupyter.
        #[arg(long, default_value = "genrelab")]
        name: String,
    },
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
        Some(Command::Run { report, file, args }) => {
            interrupt::install_handler();
            let (args, trailing) = take_report(args);
            let report = match (report, trailing) {
                (Some(_), Some(_)) => {
                    eprintln!("error: --report is given twice");
                    return ExitCode::from(2);
                }
                (a, b) => a.or(b),
            };
            if let Some(path) = &report {
                if let Err(e) = record::check_path(path) {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
                record::start();
            }
            let data_dir = match &config.data_dir {
                Ok(d) => d.display().to_string(),
                Err(_) => "(none found)".into(),
            };
            let result = Session::run_file(&file, args.clone(), config);
            let (code, error) = match &result {
                Ok(()) => (ExitCode::SUCCESS, None),
                Err(RunError::Unreadable(why)) => {
                    eprintln!("error: {why}");
                    (ExitCode::from(2), Some(format!("error: {why}")))
                }
                Err(RunError::Script(err)) => {
                    let rendered = err.render();
                    eprintln!("{rendered}");
                    let code = if err.is_interrupt() { 130 } else { 1 };
                    (ExitCode::from(code), Some(rendered))
                }
            };
            if let Some(path) = report {
                let info = record::RunInfo {
                    script: file.display().to_string(),
                    args,
                    source: std::fs::read(&file)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                    data_dir,
                    ..Default::default()
                };
                match record::write(&path, info, error.as_deref()) {
                    Ok(()) => eprintln!("report: {}", path.display()),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(1);
                    }
                }
            }
            code
        }
        Some(Command::Kernel {
            action: None,
            connection_file: Some(file),
        }) => ExitCode::from(genrelab::kernel::run(&file) as u8),
        Some(Command::Kernel {
            action: None,
            connection_file: None,
        }) => {
            eprintln!(
                "error: genrelab kernel needs the connection file Jupyter passes (genrelab kernel FILE), \
                 or `genrelab kernel install` to register the kernel with Jupyter"
            );
            ExitCode::from(2)
        }
        Some(Command::Kernel {
            action:
                Some(KernelAction::Install {
                    user: _,
                    sys_prefix,
                    prefix,
                    name,
                }),
            ..
        }) => install_kernel(sys_prefix, prefix, &name),
        Some(Command::Fetch { names }) => fetch(&names),
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

/// `genrelab fetch [NAME…]`: fetch each name (exit 1 on the first failure),
/// or list the cache.
fn fetch(names: &[String]) -> ExitCode {
    use genrelab::fetch;
    let cache = fetch::cache_dir();
    if names.is_empty() {
        println!("cache: {} (GENRELAB_CACHE to move it)", cache.display());
        match fetch::list() {
            Ok(files) if files.is_empty() => println!("(empty)"),
            Ok(files) => {
                for (file, size) in files {
                    println!("{:>10.1} MB  {file}", size as f64 / 1e6);
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
        return ExitCode::SUCCESS;
    }
    for name in names {
        if name == "posters" {
            let report = genrelab::find_data_dir()
                .map_err(genrelab::Error::invalid)
                .and_then(|data| genrelab::tmdb::handle::fetch_posters(&data));
            match report {
                Ok(r) => {
                    println!(
                        "posters: {} downloaded, {} there already, {} failed",
                        r.downloaded,
                        r.skipped,
                        r.failed.len()
                    );
                    for f in r.failed.iter().take(5) {
                        eprintln!("warning: poster of movie {}: {}", f.id, f.error);
                    }
                }
                Err(e) => {
                    eprintln!("error: posters: {e}");
                    return ExitCode::from(1);
                }
            }
            continue;
        }
        match fetch::known::fetch_named(name) {
            Ok(path) => println!("{name}: {}", path.display()),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

/// `--report FILE` / `--report=FILE` among the script's arguments (the
/// trailing arguments swallow options after the script name): removed from
/// them and returned.
fn take_report(args: Vec<String>) -> (Vec<String>, Option<PathBuf>) {
    let mut kept = Vec::with_capacity(args.len());
    let mut report = None;
    let mut iter = args.into_iter();
    while let Some(a) = iter.next() {
        if a == "--report" {
            // A missing file name is refused by the format check.
            report = Some(iter.next().map(PathBuf::from).unwrap_or_default());
        } else if let Some(p) = a.strip_prefix("--report=") {
            report = Some(PathBuf::from(p));
        } else {
            kept.push(a);
        }
    }
    (kept, report)
}

/// `genrelab kernel install`: the kernelspec for this binary.
fn install_kernel(sys_prefix: bool, prefix: Option<PathBuf>, name: &str) -> ExitCode {
    use genrelab::kernel::install::{Destination, data_dir, install};
    let destination = match (sys_prefix, prefix) {
        (_, Some(dir)) => Destination::Prefix(dir),
        (true, None) => Destination::SysPrefix,
        (false, None) => Destination::User,
    };
    let program = match std::env::current_exe().and_then(std::fs::canonicalize) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find this program's own path: {e}");
            return ExitCode::from(1);
        }
    };
    let data = genrelab::find_data_dir()
        .ok()
        .and_then(|d| std::fs::canonicalize(d).ok());
    let installed = data_dir(&destination, |k| std::env::var(k).ok())
        .and_then(|dir| install(&dir, name, &program, data.as_deref()));
    match installed {
        Ok(folder) => {
            println!("installed kernelspec '{name}' in {}", folder.display());
            match data {
                Some(d) => println!("notebooks will read DATA_DIR = {}", d.display()),
                None => println!(
                    "no data folder found now; notebooks look for GENRELAB_DATA, then the tables bundled in data/"
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if matches!(e, genrelab::Error::Invalid(_)) {
                2
            } else {
                1
            })
        }
    }
}
