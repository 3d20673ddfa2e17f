//! Where MobileNetV2 extraction time goes: decode+resize alone (all cores),
//! inference alone on decoded inputs, as the reference reports them.
//!   cargo run --release --example poster_split [N]
use std::path::PathBuf;
use std::time::Instant;

use genrelab::vision::backbone::Backbone;
use genrelab::vision::preprocess::{self, Normalize, Resize};
use rayon::prelude::*;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // SAFETY: as in src/main.rs (mi_option_purge_delay = -1, before other threads).
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(256);
    let shared = PathBuf::from("../shared");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(shared.join("data/movies/posters"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths.truncate(n);
    let net = Backbone::open(
        "mobilenet_v2",
        &shared.join("models/mobilenet_v2-b0353104.pth"),
        None,
        None,
        None,
    )
    .unwrap();
    let t = Instant::now();
    for p in &paths {
        preprocess::load(p, Resize::ShorterSideCrop, Normalize::Torch).unwrap();
    }
    println!(
        "decode+resize on one thread: {:.0}/s",
        n as f64 / t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let inputs: Vec<Vec<f32>> = paths
        .par_iter()
        .map(|p| preprocess::load(p, Resize::ShorterSideCrop, Normalize::Torch).unwrap())
        .collect();
    let d = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..2 {
        for chunk in inputs.chunks(8) {
            net.forward(chunk).unwrap();
        }
    }
    let f = t.elapsed().as_secs_f64();
    println!(
        "{n} posters: decode+resize {:.0}/s (all cores), inference {:.1}/s (batch 8)",
        n as f64 / d,
        2.0 * n as f64 / f
    );
}
