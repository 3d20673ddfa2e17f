//! AdamW as `torch.optim.AdamW` computes it (decoupled weight decay
//! applied first, bias-corrected moments, ε outside the square root), the
//! linear warm-up-then-decay schedule of Hugging Face's
//! `get_linear_schedule_with_warmup`, and `clip_grad_norm_`. Over the flat
//! parameter buffers of [`super::params::Params`]; parameters without a
//! gradient buffer (frozen ones) are left alone.

use rayon::prelude::*;

use super::params::Param;

/// AdamW's constants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// The moments and the step count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdamW {
    pub config: AdamWConfig,
    /// First and second moments, one buffer per parameter (empty for
    /// frozen ones).
    pub m: Vec<Vec<f32>>,
    pub v: Vec<Vec<f32>>,
    pub step: u64,
}

impl AdamW {
    /// Moments of zero for the parameters with a gradient buffer.
    pub fn new(config: AdamWConfig, grads: &[Vec<f32>]) -> AdamW {
        AdamW {
            config,
            m: grads.iter().map(|g| vec![0.0; g.len()]).collect(),
            v: grads.iter().map(|g| vec![0.0; g.len()]).collect(),
            step: 0,
        }
    }

    /// One update of every trained parameter, parameter `i` with learning
    /// rate `lr(i)`, the gradients multiplied by `grad_scale` (clipping)
    /// as they are read.
    pub fn update(
        &mut self,
        params: &mut [Param],
        grads: &[Vec<f32>],
        grad_scale: f32,
        lr: impl Fn(usize) -> f64 + Sync,
    ) {
        self.step += 1;
        let c = self.config;
        let t = self.step as i32;
        let bias1 = 1.0 - c.beta1.powi(t);
        let bias2 = 1.0 - c.beta2.powi(t);
        let sqrt_bias2 = bias2.sqrt() as f32;
        let (b1, b2, eps) = (c.beta1 as f32, c.beta2 as f32, c.eps as f32);
        // Tensor by tensor, each split over the cores (the word embeddings
        // alone are half the parameters).
        for (i, ((p, g), (m, v))) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
            .enumerate()
        {
            if g.is_empty() {
                continue;
            }
            let lr = lr(i);
            // torch: p ← p·(1 − lr·wd); p ← p − (lr/bias1)·m / (√v/√bias2 + ε).
            let step_size = (lr / bias1) as f32;
            let decay = if p.decay {
                (1.0 - lr * c.weight_decay) as f32
            } else {
                1.0
            };
            p.data
                .par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK))
                .zip(m.par_chunks_mut(CHUNK).zip(v.par_chunks_mut(CHUNK)))
                .for_each(|((w, g), (m, v))| {
                    for (((w, g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                    {
                        let g = g * grad_scale;
                        *w *= decay;
                        *m = b1 * *m + (1.0 - b1) * g;
                        *v = b2 * *v + (1.0 - b2) * g * g;
                        *w -= step_size * *m / (v.sqrt() / sqrt_bias2 + eps);
                    }
                });
        }
    }
}

/// Values per parallel piece of a tensor.
const CHUNK: usize = 1 << 14;

/// The learning rate at `step` (0-based) of `total`: linear from 0 to `lr`
/// over `warmup` steps, then linear down to 0 at `total`.
pub fn scheduled_lr(lr: f64, step: usize, warmup: usize, total: usize) -> f64 {
    if step < warmup {
        return lr * step as f64 / warmup.max(1) as f64;
    }
    let rest = total.saturating_sub(warmup).max(1);
    lr * (total.saturating_sub(step) as f64 / rest as f64).max(0.0)
}

/// Scales the gradients so that their global L2 norm is at most `max_norm`
/// (`torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut [Vec<f32>], max_norm: f64) -> f64 {
    let total = grad_norm(grads);
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        for g in grads.iter_mut() {
            g.par_chunks_mut(CHUNK).for_each(|piece| {
                for v in piece.iter_mut() {
                    *v *= coef as f32;
                }
            });
        }
    }
    total
}

/// The global L2 norm of the gradients. Pieces summed in parallel, then in
/// a fixed order: the same norm on every run.
pub fn grad_norm(grads: &[Vec<f32>]) -> f64 {
    let pieces: Vec<&[f32]> = grads.iter().flat_map(|g| g.chunks(CHUNK)).collect();
    let squares: Vec<f64> = pieces.par_iter().map(|p| f64::from(squares(p))).collect();
    squares.iter().sum::<f64>().sqrt()
}

/// Σ x² of one piece, over 16 lanes (vectorised; each lane sums at most
/// CHUNK/16 terms in f32, the pieces are summed in f64).
fn squares(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().map(|v| v * v).sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// torch.optim.AdamW on p0 = [0.5, -1, 2, 0] with three gradients,
    /// from tests/fixtures/finetune/adamw.json (make_fixtures.py there).
    #[test]
    fn adamw_steps_equal_torch() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/finetune/adamw.json"))
                .unwrap();
        let a = &fixture["adamw"];
        let floats = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        for case in ["constant_lr", "linear_schedule"] {
            let c = &a[case];
            let mut params = vec![Param {
                name: "w".into(),
                rows: 1,
                cols: 4,
                data: floats(&a["p0"]).iter().map(|v| *v as f32).collect(),
                decay: true,
            }];
            let config = AdamWConfig {
                weight_decay: c["weight_decay"].as_f64().unwrap(),
                ..AdamWConfig::default()
            };
            let mut opt = AdamW::new(config, &[vec![0.0; 4]]);
            let lrs = floats(&c["lr"]);
            for (k, g) in a["grads"].as_array().unwrap().iter().enumerate() {
                let g: Vec<f32> = floats(g).iter().map(|v| *v as f32).collect();
                opt.update(&mut params, &[g], 1.0, |_| lrs[k]);
                let want = floats(&c["params_after_step"][k]);
                for (got, want) in params[0].data.iter().zip(&want) {
                    assert!(
                        (f64::from(*got) - want).abs() < 1e-6,
                        "{case} step {k}: {got} vs {want}"
                    );
                }
            }
        }
        let clip = &fixture["clip_grad_norm"];
        let mut grads = vec![vec![3.0f32, 4.0], vec![12.0]];
        let norm = clip_grad_norm(&mut grads, clip["max_norm"].as_f64().unwrap());
        assert!((norm - clip["total_norm"].as_f64().unwrap()).abs() < 1e-9);
        let want = clip["clipped"].as_array().unwrap();
        for (g, w) in grads.iter().zip(want) {
            for (a, b) in g.iter().zip(floats(w)) {
                assert!((f64::from(*a) - b).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn the_schedule_warms_up_then_decays_to_zero() {
        assert_eq!(scheduled_lr(1.0, 0, 10, 110), 0.0);
        assert!((scheduled_lr(1.0, 5, 10, 110) - 0.5).abs() < 1e-12);
        assert!((scheduled_lr(1.0, 10, 10, 110) - 1.0).abs() < 1e-12);
        assert!((scheduled_lr(1.0, 60, 10, 110) - 0.5).abs() < 1e-12);
        assert_eq!(scheduled_lr(1.0, 110, 10, 110), 0.0);
        assert!((scheduled_lr(2.0, 0, 0, 4) - 2.0).abs() < 1e-12);
    }
}
