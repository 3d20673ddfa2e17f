//! The element-wise steps of BERT training, forward and backward, written
//! as the encoder's inference kernels are (`text::encoder::kernels`):
//! branch-free, vectorisable, compiled for AVX2 + FMA when the CPU has
//! them. Each works on rows of one width; the callers split the rows over
//! the cores.

use crate::text::encoder::kernels::{LANES, dispatch, exp, one_plus_erf, sum};

/// Σ a·b over `LANES` partial sums.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for ((s, x), y) in acc.iter_mut().zip(x).zip(y) {
            *s = x.mul_add(*y, *s);
        }
    }
    let rest: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + rest
}

dispatch! {
    /// Layer norm of each row of `x` (rows of `gamma.len()`), keeping what
    /// the backward needs: `xhat` ← (x − mean)/σ, `rstd` ← 1/σ per row, and
    /// `x` ← xhat·gamma + beta. σ² is the biased variance plus `eps`, as in
    /// PyTorch.
    pub fn layer_norm_forward(
        x: &mut [f32],
        xhat: &mut [f32],
        rstd: &mut [f32],
        gamma: &[f32],
        beta: &[f32],
        eps: f32
    ) {
        let width = gamma.len();
        let n = width as f32;
        for ((row, hat), r) in x
            .chunks_exact_mut(width)
            .zip(xhat.chunks_exact_mut(width))
            .zip(rstd.iter_mut())
        {
            let mean = sum(row) / n;
            for (h, v) in hat.iter_mut().zip(row.iter()) {
                *h = v - mean;
            }
            let inv = 1.0 / (dot(hat, hat) / n + eps).sqrt();
            *r = inv;
            for ((h, v), (g, b)) in hat.iter_mut().zip(row.iter_mut()).zip(gamma.iter().zip(beta)) {
                *h *= inv;
                *v = h.mul_add(*g, *b);
            }
        }
    }
}

dispatch! {
    /// The layer norm's backward for rows of `gamma.len()`: `dx` ← the
    /// gradient at its input, from `dy` at its output and what the forward
    /// kept; `dgamma`, `dbeta` += this block's share.
    pub fn layer_norm_backward(
        dy: &[f32],
        xhat: &[f32],
        rstd: &[f32],
        gamma: &[f32],
        dx: &mut [f32],
        dgamma: &mut [f32],
        dbeta: &mut [f32]
    ) {
        let width = gamma.len();
        let n = width as f32;
        let mut g = vec![0.0f32; width];
        for (((d, hat), r), out) in dy
            .chunks_exact(width)
            .zip(xhat.chunks_exact(width))
            .zip(rstd)
            .zip(dx.chunks_exact_mut(width))
        {
            for (((gi, di), ga), db) in g.iter_mut().zip(d).zip(gamma).zip(dbeta.iter_mut()) {
                *gi = di * ga;
                *db += di;
            }
            for ((dg, di), h) in dgamma.iter_mut().zip(d).zip(hat) {
                *dg = di.mul_add(*h, *dg);
            }
            let mean_g = sum(&g) / n;
            let mean_gh = dot(&g, hat) / n;
            for ((o, gi), h) in out.iter_mut().zip(&g).zip(hat) {
                *o = r * (gi - mean_g - h * mean_gh);
            }
        }
    }
}

dispatch! {
    /// `x` += the bias (rows of `b.len()`), then `out` ← GELU(x) = x·Φ(x)
    /// and `x` ← GELU′(x) = Φ(x) + x·φ(x), what the backward multiplies by.
    pub fn bias_gelu_forward(x: &mut [f32], b: &[f32], out: &mut [f32]) {
        const INV_SQRT_2PI: f32 = 0.398_942_3;
        for (row, orow) in x.chunks_exact_mut(b.len()).zip(out.chunks_exact_mut(b.len())) {
            for ((v, b), o) in row.iter_mut().zip(b).zip(orow.iter_mut()) {
                let z = *v + b;
                let cdf = 0.5 * one_plus_erf(z * std::f32::consts::FRAC_1_SQRT_2);
                *o = z * cdf;
                *v = z.mul_add(INV_SQRT_2PI * exp(-0.5 * z * z), cdf);
            }
        }
    }
}

dispatch! {
    /// `d` ← d·GELU′(x), from the derivative the forward kept.
    pub fn gelu_backward(derivative: &[f32], d: &mut [f32]) {
        for (g, k) in d.iter_mut().zip(derivative) {
            *g *= k;
        }
    }
}

dispatch! {
    /// The softmax's backward, row by row (rows of `width`): `dp` (the
    /// gradient at the probabilities `p`) ← p ⊙ (dp − Σ dp ⊙ p) · `scale`,
    /// the gradient at the scaled scores' input.
    pub fn softmax_backward(p: &[f32], dp: &mut [f32], width: usize, scale: f32) {
        for (pr, dr) in p.chunks_exact(width).zip(dp.chunks_exact_mut(width)) {
            let s = dot(pr, dr);
            for (d, q) in dr.iter_mut().zip(pr) {
                *d = q * (*d - s) * scale;
            }
        }
    }
}

/// A dropout mask: for each value, kept (1) or dropped (0), and the scale
/// of the kept ones, 1/(1 − p). Inactive (p = 0): nothing is dropped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mask {
    pub keep: Vec<u8>,
    pub scale: f32,
    pub active: bool,
}

impl Mask {
    /// The mask of `n` values of one site of one step: each dropped with
    /// probability `p`. Counter-based (each value a hash of the seed, the
    /// site and its index), so masks are the same whatever the threads and
    /// the order in which sites are drawn.
    pub fn draw(&mut self, n: usize, p: f32, seed: u64, site: u64) {
        super::profile::timed("dropout masks", || self.fill(n, p, seed, site))
    }

    fn fill(&mut self, n: usize, p: f32, seed: u64, site: u64) {
        use rayon::prelude::*;
        self.active = p > 0.0;
        self.scale = 1.0 / (1.0 - p);
        if !self.active {
            return;
        }
        if self.keep.len() > n {
            self.keep.truncate(n);
        } else {
            self.keep.resize(n, 0);
        }
        // Eight values per hash, 8 bits each: dropped below p·256… too
        // coarse for p = 0.1; four values of 16 bits: dropped below p·2^16.
        let threshold = (f64::from(p) * 65_536.0).round() as u64;
        let base = splitmix(seed ^ splitmix(site));
        const CHUNK: usize = 8192;
        self.keep
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, out)| {
                let first = (c * CHUNK / 4) as u64;
                for (k, quad) in out.chunks_mut(4).enumerate() {
                    let r = splitmix(base.wrapping_add(first + k as u64));
                    for (j, v) in quad.iter_mut().enumerate() {
                        *v = u8::from((r >> (16 * j)) & 0xffff >= threshold);
                    }
                }
            });
    }

    /// `x` ← x ⊙ mask for the mask's values from `offset`.
    pub fn apply(&self, x: &mut [f32], offset: usize) {
        if self.active {
            scale_kept(x, &self.keep[offset..offset + x.len()], self.scale);
        }
    }
}

dispatch! {
    /// `x` ← x · keep · scale.
    pub fn scale_kept(x: &mut [f32], keep: &[u8], scale: f32) {
        for (v, k) in x.iter_mut().zip(keep) {
            *v *= f32::from(*k) * scale;
        }
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `f` against an analytic gradient.
    fn numeric(f: &dyn Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
        (0..x.len())
            .map(|i| {
                let h = 1e-4;
                let mut a = x.to_vec();
                let mut b = x.to_vec();
                a[i] += h;
                b[i] -= h;
                (f(&a) - f(&b)) / (2.0 * h)
            })
            .collect()
    }

    #[test]
    fn layer_norm_backward_matches_differences() {
        let x = [0.3f32, -1.2, 2.0, 0.7, -0.1, 0.4, 1.1, -0.6];
        let gamma = [1.1f32, 0.9, 1.3, 0.8];
        let beta = [0.1f32, -0.2, 0.0, 0.3];
        let w = [0.5f64, -1.0, 2.0, 0.25, 1.5, -0.5, 0.75, 1.0];
        // loss = Σ w ⊙ layer_norm(x), in f64.
        let loss = |x: &[f64]| -> f64 {
            x.chunks(4)
                .enumerate()
                .map(|(r, row)| {
                    let m = row.iter().sum::<f64>() / 4.0;
                    let v = row.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / 4.0;
                    row.iter()
                        .enumerate()
                        .map(|(j, a)| {
                            w[r * 4 + j]
                                * ((a - m) / (v + 1e-12).sqrt() * f64::from(gamma[j])
                                    + f64::from(beta[j]))
                        })
                        .sum::<f64>()
                })
                .sum()
        };
        let x64: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
        let want = numeric(&loss, &x64);
        let mut y = x.to_vec();
        let (mut xhat, mut rstd) = (vec![0.0; 8], vec![0.0; 2]);
        layer_norm_forward(&mut y, &mut xhat, &mut rstd, &gamma, &beta, 1e-12);
        let dy: Vec<f32> = w.iter().map(|v| *v as f32).collect();
        let (mut dx, mut dg, mut db) = (vec![0.0; 8], vec![0.0; 4], vec![0.0; 4]);
        layer_norm_backward(&dy, &xhat, &rstd, &gamma, &mut dx, &mut dg, &mut db);
        for (a, b) in dx.iter().zip(&want) {
            assert!((f64::from(*a) - b).abs() < 1e-3, "{dx:?} vs {want:?}");
        }
        // dβ sums dy over rows: w[0] + w[4].
        assert!((db[0] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn gelu_and_softmax_backward_match_differences() {
        let x = [-3.0f64, -0.7, 0.0, 0.4, 2.5];
        let gelu = |v: f64| 0.5 * v * (1.0 + libm_erf(v / 2f64.sqrt()));
        let mut d = vec![1.0f32; 5];
        let mut x32: Vec<f32> = x.iter().map(|v| *v as f32).collect();
        let mut out = vec![0.0f32; 5];
        bias_gelu_forward(&mut x32, &[0.0], &mut out);
        for (o, v) in out.iter().zip(&x) {
            assert!((f64::from(*o) - gelu(*v)).abs() < 1e-6);
        }
        gelu_backward(&x32, &mut d);
        for (i, v) in x.iter().enumerate() {
            let want = (gelu(v + 1e-5) - gelu(v - 1e-5)) / 2e-5;
            assert!(
                (f64::from(d[i]) - want).abs() < 1e-5,
                "{i}: {} {want}",
                d[i]
            );
        }
        // loss = Σ w ⊙ softmax(2 s)
        let s = [0.2f64, -0.5, 1.0];
        let w = [1.0f64, -2.0, 0.5];
        let soft = |s: &[f64]| -> Vec<f64> {
            let e: Vec<f64> = s.iter().map(|v| (2.0 * v).exp()).collect();
            let t: f64 = e.iter().sum();
            e.iter().map(|v| v / t).collect()
        };
        let loss = |s: &[f64]| soft(s).iter().zip(&w).map(|(p, w)| p * w).sum::<f64>();
        let want = numeric(&loss, &s);
        let p: Vec<f32> = soft(&s).iter().map(|v| *v as f32).collect();
        let mut dp: Vec<f32> = w.iter().map(|v| *v as f32).collect();
        softmax_backward(&p, &mut dp, 3, 2.0);
        for (a, b) in dp.iter().zip(&want) {
            assert!((f64::from(*a) - b).abs() < 1e-5);
        }
    }

    /// erf by its series (|x| small) — only for the test's reference.
    fn libm_erf(x: f64) -> f64 {
        let mut sum = 0.0;
        let mut term = x;
        let mut n = 0.0;
        while term.abs() > 1e-17 || n < 5.0 {
            sum += term / (2.0 * n + 1.0);
            n += 1.0;
            term *= -x * x / n;
            if n > 200.0 {
                break;
            }
        }
        2.0 / std::f64::consts::PI.sqrt() * sum
    }

    #[test]
    fn dropout_masks_are_reproducible_and_about_p() {
        let (mut a, mut b) = (Mask::default(), Mask::default());
        a.draw(10_000, 0.1, 7, 3);
        b.draw(10_000, 0.1, 7, 3);
        assert_eq!(a, b);
        let dropped = a.keep.iter().filter(|v| **v == 0).count();
        assert!((900..1100).contains(&dropped), "{dropped}");
        let mut x = vec![1.0f32; 10_000];
        a.apply(&mut x, 0);
        assert!(x.iter().all(|v| *v == 0.0 || (*v - 1.0 / 0.9).abs() < 1e-6));
        b.draw(10_000, 0.1, 7, 4);
        assert_ne!(a, b);
        b.draw(10, 0.0, 7, 4);
        let mut y = vec![2.0f32; 10];
        b.apply(&mut y, 0);
        assert_eq!(y, vec![2.0; 10]);
    }
}
