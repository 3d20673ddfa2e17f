//! Optimisers, each a per-parameter update written out in full so tests can
//! replay it in numpy. Update rules:
//! - `sgd`: PyTorch's momentum form `b = μ·b + g; p −= lr·b`.
//! - `rmsprop`: Keras' (the seed's) `a = ρ·a + (1−ρ)·g²; p −= lr·g / (√a + ε)`,
//!   ρ = 0.9, ε = 1e-7. candle-nn has no RMSprop.
//! - `adam`: PyTorch's `p −= lr·m̂ / (√v̂ + ε)`, β = (0.9, 0.999), ε = 1e-8.
//!
//! `decay` is Keras' legacy schedule `lr / (1 + decay·t)` (t = updates so far);
//! `weight_decay` adds `wd·w` to the gradient of weights (not biases).

use ndarray::{ArrayViewMutD, ArrayViewD, ArrayD, IxDyn};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    Sgd { momentum: f32 },
    RmsProp { rho: f32, epsilon: f32 },
    Adam { beta1: f32, beta2: f32, epsilon: f32 },
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
    /// First and second moment buffers (the second is unused by sgd/rmsprop).
    first: Vec<ArrayD<f32>>,
    second: Vec<ArrayD<f32>>,
}

impl Optimizer {
    pub fn new(kind: OptimizerKind, lr: f32, decay: f32, weight_decay: f32, shapes: &[Vec<usize>]) -> Optimizer {
        let zeros = || shapes.iter().map(|s| ArrayD::zeros(IxDyn(s))).collect();
        Optimizer {
            kind,
            lr,
            decay,
            weight_decay,
            steps: 0,
            first: zeros(),
            second: if matches!(kind, OptimizerKind::Adam { .. }) {
                zeros()
            } else {
                Vec::new()
            },
        }
    }

    /// Applies one update. `params[i]` pairs with `grads[i]`; `decayed[i]`
    /// says whether weight decay applies (weights yes, biases no).
    pub fn step(&mut self, params: Vec<ArrayViewMutD<f32>>, grads: Vec<ArrayViewD<f32>>, decayed: &[bool]) {
        self.steps += 1;
        let t = self.steps as f64;
        let lr = (self.lr as f64 / (1.0 + self.decay as f64 * (t - 1.0))) as f32;
        for (i, (mut p, g)) in params.into_iter().zip(grads).enumerate() {
            let wd = if decayed[i] { self.weight_decay } else { 0.0 };
            let grad = |p: f32, g: f32| g + wd * p;
            match self.kind {
                OptimizerKind::Sgd { momentum } => {
                    if momentum == 0.0 {
                        p.zip_mut_with(&g, |p, &g| *p -= lr * grad(*p, g));
                    } else {
                        let b = &mut self.first[i];
                        ndarray::Zip::from(&mut p).and(&g).and(b).for_each(|p, &g, b| {
                            *b = momentum * *b + grad(*p, g);
                            *p -= lr * *b;
                        });
                    }
                }
                OptimizerKind::RmsProp { rho, epsilon } => {
                    let a = &mut self.first[i];
                    ndarray::Zip::from(&mut p).and(&g).and(a).for_each(|p, &g, a| {
                        let g = grad(*p, g);
                        *a = rho * *a + (1.0 - rho) * g * g;
                        *p -= lr * g / (a.sqrt() + epsilon);
                    });
                }
                OptimizerKind::Adam { beta1, beta2, epsilon } => {
                    let c1 = (1.0 - (beta1 as f64).powf(t)) as f32;
                    let c2 = (1.0 - (beta2 as f64).powf(t)) as f32;
                    let (m, v) = (&mut self.first[i], &mut self.second[i]);
                    ndarray::Zip::from(&mut p).and(&g).and(m).and(v).for_each(|p, &g, m, v| {
                        let g = grad(*p, g);
                        *m = beta1 * *m + (1.0 - beta1) * g;
                        *v = beta2 * *v + (1.0 - beta2) * g * g;
                        *p -= lr * (*m / c1) / ((*v / c2).sqrt() + epsilon);
                    });
                }
            }
        }
    }
}
