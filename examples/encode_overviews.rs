//! Sentence-encoder throughput on the shared overviews, for BENCHMARKS.md:
//! every overview of movies/ and tmdb-text/ (16,192), or the first N.
//!   cargo run --release --example encode_overviews [N [BATCH]]
//! Threads: RAYON_NUM_THREADS (default: every core). Needs ../shared.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use genrelab::data::movies::{Columns, Movies};
use genrelab::error::Result;
use genrelab::text::encoder::{EncoderOptions, SentenceEncoder};

// The allocator and its option as in src/main.rs, so the figures are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // SAFETY: as in src/main.rs (mi_option_purge_delay = -1, before other threads).
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    let arg = |i: usize, default: usize| match std::env::args().nth(i).map(|s| s.parse::<usize>()) {
        None => Some(default),
        Some(Ok(n)) if n > 0 => Some(n),
        Some(_) => None,
    };
    let (Some(n), Some(batch)) = (arg(1, usize::MAX), arg(2, 32)) else {
        eprintln!("usage: encode_overviews [N [BATCH]], positive numbers");
        return ExitCode::from(2);
    };
    match run(n, batch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(n: usize, batch: usize) -> Result<()> {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let mut texts = Vec::new();
    for table in ["movies/movies.csv", "tmdb-text/movies.csv"] {
        let movies = Movies::read_csv(&data.join(table), &Columns::default())?;
        texts.extend(movies.overviews().map(str::to_string));
    }
    texts.truncate(n);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = Instant::now();
    let enc = SentenceEncoder::open(
        &data.join("../models/all-MiniLM-L6-v2"),
        &EncoderOptions::default(),
    )?;
    let loaded = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let out = enc.encode(&refs, None, batch, None, |_, _| {})?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "load {loaded:.2} s; {} overviews in {secs:.2} s: {:.1} overviews/s ({} threads, batch {batch}); first value {:.6}",
        out.matrix.rows(),
        out.matrix.rows() as f64 / secs,
        rayon::current_num_threads(),
        out.matrix.values()[[0, 0]]
    );
    // What bench/compare reads.
    println!(
        "step sentence_encoder {} overviews/s",
        out.matrix.rows() as f64 / secs
    );
    Ok(())
}
