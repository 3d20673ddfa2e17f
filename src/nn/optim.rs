//! Optimisers, each a per-parameter update written out in full so tests can
//! replay it in numpy. Update rules:
//! - `sgd`: PyTorch's momentum form `b = μ·b + g; p −= lr·b`.
//! - `rmsprop`: Keras' (the seed's) `a = ρ·a + (1−ρ)·g²; p −= lr·g / (√a + ε)`,
//!   ρ = 0.9, ε = 1e-7. candle-nn has no RMSprop.
//! - `adam`: PyTorch's `p −= lr·m̂ / (√v̂ + ε)`, β = (0.9, 0.999), ε = 1e-8.
//!
//! `decay` is Keras' legacy schedule `lr / (1 + decay·t)` (t = updates so far);
//! `weight_decay` adds `wd·w` to the gradient of weights (not biases).

use ndarray::{ArrayD, IxDyn};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    Sgd {
        momentum: f32,
    },
    RmsProp {
        rho: f32,
        epsilon: f32,
    },
    Adam {
        beta1: f32,
        beta2: f32,
        epsilon: f32,
    },
}

impl OptimizerKind {
    /// The optimiser called `name`, with `momentum` (sgd) or `rho` (rmsprop) when given.
    pub fn parse(name: &str, momentum: Option<f32>, rho: Option<f32>) -> Result<OptimizerKind> {
        match name {
            "sgd" => Ok(OptimizerKind::Sgd {
                momentum: momentum.unwrap_or(0.0),
            }),
            "rmsprop" => Ok(OptimizerKind::RmsProp {
                rho: rho.unwrap_or(0.9),
                epsilon: 1e-7,
            }),
            "adam" => Ok(OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
            }),
            other => Err(Error::invalid(format!(
                "fit: optimizer must be \"adam\", \"rmsprop\" or \"sgd\", got \"{other}\""
            ))),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OptimizerKind::Sgd { .. } => "sgd",
            OptimizerKind::RmsProp { .. } => "rmsprop",
            OptimizerKind::Adam { .. } => "adam",
        }
    }
}

/// An optimiser with its state for one list of parameters.
pub struct Optimizer {
    kind: OptimizerKind,
    lr: f32,
    decay: f32,
    weight_decay: f32,
    steps: u64,
    /// First and second moment buffers. sgd and rmsprop never read the
    /// second; it is allocated anyway so every step runs one code path
    /// without per-step scratch buffers.
    first: Vec<ArrayD<f32>>,
    second: Vec<ArrayD<f32>>,
}

impl Optimizer {
    pub fn new(
        kind: OptimizerKind,
        lr: f32,
        decay: f32,
        weight_decay: f32,
        shapes: &[Vec<usize>],
    ) -> Optimizer {
        let zeros = || shapes.iter().map(|s| ArrayD::zeros(IxDyn(s))).collect();
        Optimizer {
            kind,
            lr,
            decay,
            weight_decay,
            steps: 0,
            first: zeros(),
            second: zeros(),
        }
    }

    /// Applies one update. `params[i]` pairs with `grads[i]`; `decayed[i]`
    /// says whether weight decay applies (weights yes, biases no). Large
    /// tensors are updated in parallel chunks: elementwise, so the result
    /// does not depend on the split.
    pub fn step(&mut self, params: Vec<&mut [f32]>, grads: Vec<&[f32]>, decayed: &[bool]) {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 15;
        self.steps += 1;
        let t = self.steps as f64;
        let lr = (self.lr as f64 / (1.0 + self.decay as f64 * (t - 1.0))) as f32;
        let kind = self.kind;
        let (c1, c2) = match kind {
            OptimizerKind::Adam { beta1, beta2, .. } => (
                // Reciprocals of the bias corrections 1 − βᵗ.
                (1.0 / (1.0 - (beta1 as f64).powf(t))) as f32,
                (1.0 / (1.0 - (beta2 as f64).powf(t))) as f32,
            ),
            _ => (1.0, 1.0),
        };
        for (i, (p, g)) in params.into_iter().zip(grads).enumerate() {
            let wd = if decayed[i] { self.weight_decay } else { 0.0 };
            let first = self.first[i]
                .as_slice_mut()
                .expect("optimizer state is contiguous");
            let second = self.second[i]
                .as_slice_mut()
                .expect("optimizer state is contiguous");
            p.par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK))
                .zip(
                    first
                        .par_chunks_mut(CHUNK)
                        .zip(second.par_chunks_mut(CHUNK)),
                )
                .for_each(|((p, g), (m, v))| update(kind, lr, wd, c1, c2, p, g, m, v));
        }
    }
}

/// One optimiser rule over matching slices of parameters, gradients and
/// state (`v` is only read by Adam).
#[allow(clippy::too_many_arguments)]
fn update(
    kind: OptimizerKind,
    lr: f32,
    wd: f32,
    c1: f32,
    c2: f32,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    match kind {
        OptimizerKind::Sgd { momentum } => {
            for ((p, &g), b) in p.iter_mut().zip(g).zip(m) {
                let g = g + wd * *p;
                *b = momentum * *b + g;
                *p -= lr * *b;
            }
        }
        OptimizerKind::RmsProp { rho, epsilon } => {
            for ((p, &g), a) in p.iter_mut().zip(g).zip(m) {
                let g = g + wd * *p;
                *a = rho * *a + (1.0 - rho) * g * g;
                *p -= lr * g / (a.sqrt() + epsilon);
            }
        }
        OptimizerKind::Adam {
            beta1,
            beta2,
            epsilon,
        } => {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                let g = g + wd * *p;
                *m = beta1 * *m + (1.0 - beta1) * g;
                *v = beta2 * *v + (1.0 - beta2) * g * g;
                *p -= lr * (*m * c1) / ((*v * c2).sqrt() + epsilon);
            }
        }
    }
}
