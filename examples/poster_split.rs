//! Where MobileNetV2 extraction time goes, split the way the reference
//! reports it: decode + resize + normalise alone (one thread), and
//! inference alone on already decoded inputs (two passes), in batches.
//!   cargo run --release --example poster_split [N [BATCH]]   (256 posters, batch 8)
//! The last line, `step mobilenet_infer RATE img/s`, is what bench/compare reads.
//! Needs ../shared beside the checkout.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use genrelab::error::Result;
use genrelab::vision::backbone::Backbone;
use genrelab::vision::preprocess::{self, Normalize, Resize};
use rayon::prelude::*;

// The allocator and its option as in src/main.rs, so the figures are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // SAFETY: as in src/main.rs (mi_option_purge_delay = -1, before other threads).
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    let number =
        |i: usize, default: usize| match std::env::args().nth(i).map(|s| s.parse::<usize>()) {
            None => Some(default),
            Some(Ok(n)) if n > 0 => Some(n),
            Some(_) => None,
        };
    let (Some(n), Some(batch)) = (number(1, 256), number(2, 8)) else {
        eprintln!("usage: poster_split [N [BATCH]], positive numbers of posters and per batch");
        return ExitCode::from(2);
    };
    match run(n, batch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("poster_split: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(n: usize, batch: usize) -> Result<()> {
    let shared = PathBuf::from("../shared");
    let dir = shared.join("data/movies/posters");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| genrelab::error::Error::io(&dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    paths.truncate(n);
    let n = paths.len();
    let net = Backbone::open(
        "mobilenet_v2",
        &shared.join("models/mobilenet_v2-b0353104.pth"),
        None,
        None,
        None,
    )?;
    let load = |p: &PathBuf| preprocess::load(p, Resize::ShorterSideCrop, Normalize::Torch);
    let t = Instant::now();
    for p in &paths {
        load(p)?;
    }
    let one = n as f64 / t.elapsed().as_secs_f64();
    // Not timed: keeping every input means fresh pages, which the extraction
    // (one unit at a time per core) never pays.
    let inputs: Vec<Vec<f32>> = paths.par_iter().map(load).collect::<Result<_>>()?;
    let t = Instant::now();
    for _ in 0..2 {
        for chunk in inputs.chunks(batch) {
            net.forward(chunk)?;
        }
    }
    let inference = 2.0 * n as f64 / t.elapsed().as_secs_f64();
    println!(
        "{n} posters: decode+resize {one:.0}/s on one thread; inference {inference:.1}/s (batch {batch})"
    );
    println!("step mobilenet_infer {inference} img/s");
    Ok(())
}
