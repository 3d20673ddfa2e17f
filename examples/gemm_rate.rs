//! GFLOP/s of the gemm crate: first the machine's f32 peak as gemm reaches
//! it (a large square product on one core, then on every core: the
//! yardstick of BENCHMARKS.md's per-layer MobileNetV2 table), then the
//! shapes of a MiniLM training step's weight gradients (batch of ~2,240
//! tokens), computed two ways:
//! `cargo run --release --example gemm_rate`.
use std::time::Instant;

use genrelab::nn::gemm::matmul_into;
use ndarray::Array2;

fn rate(f: &mut dyn FnMut(), flops: f64) -> f64 {
    f();
    let reps = 20;
    let t0 = Instant::now();
    for _ in 0..reps {
        f();
    }
    flops / (t0.elapsed().as_secs_f64() / reps as f64) / 1e9
}

fn main() {
    let n = 1536;
    let a = Array2::<f32>::from_elem((n, n), 0.5);
    let b = Array2::<f32>::from_elem((n, n), 0.25);
    let mut c = Array2::<f32>::zeros((n, n));
    let flops = 2.0 * (n * n * n) as f64;
    let one = genrelab::nn::gemm::serial(|| {
        rate(
            &mut || matmul_into(&mut c.view_mut(), a.view(), b.view(), false),
            flops,
        )
    });
    let all = rate(
        &mut || matmul_into(&mut c.view_mut(), a.view(), b.view(), false),
        flops,
    );
    println!(
        "peak probe, f32 {n}x{n}x{n}: one core {one:.0} GFLOP/s, {} cores {all:.0} GFLOP/s",
        rayon::current_num_threads()
    );
    let t = 2240;
    for (inputs, outputs) in [(384, 1152), (384, 384), (384, 1536), (1536, 384)] {
        let x = Array2::<f32>::from_elem((t, inputs), 0.5);
        let dy = Array2::<f32>::from_elem((t, outputs), 0.25);
        let mut dw = Array2::<f32>::zeros((inputs, outputs));
        let flops = 2.0 * (t * inputs * outputs) as f64;
        let a = rate(
            &mut || matmul_into(&mut dw.view_mut(), x.t(), dy.view(), false),
            flops,
        );
        let b = rate(
            &mut || matmul_into(&mut dw.view_mut().reversed_axes(), dy.t(), x.view(), false),
            flops,
        );
        println!(
            "dW {inputs}x{outputs} over {t} tokens: xT·dy {a:.0} GFLOP/s, (dyT·x)T {b:.0} GFLOP/s"
        );
    }
}
