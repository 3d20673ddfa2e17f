//! MobileNetV2 with its batch norms unfolded, as a sequence of
//! convolution + batch norm (+ ReLU6) layers with residual adds, a global
//! average pool, dropout and a linear classifier: the trainable form of
//! torchvision's `mobilenet_v2(num_classes=…)`, parameter by parameter
//! under torchvision's names. Training runs the layers of the last
//! `trainable` of its 19 `features` blocks (and the classifier); the blocks
//! before them are the fixed prefix, run by the folded inference network.

use rand::SeedableRng;

use super::grad::{self, Conv, Norm, NormParams, NormTape};
use crate::error::{Error, Result};
use crate::text::finetune::params::{Param, normal};
use crate::vision::layers::Maps;
use crate::vision::mobilenet::{FEATURES, block_shapes};
use crate::vision::pth::{self, TensorData};
use crate::vision::weights::Weights;

/// torchvision's `features` blocks: the stem, 17 inverted residuals, the head.
pub const BLOCKS: usize = 19;

/// One convolution + batch norm (+ ReLU6), by parameter index.
#[derive(Clone, Debug)]
struct Layer {
    conv: Conv,
    cin: usize,
    cout: usize,
    relu6: bool,
    /// The `features` block it belongs to.
    block: usize,
    weight: usize,
    gamma: usize,
    beta: usize,
    mean: usize,
    var: usize,
    /// For a residual block's projection: the index of the block's first
    /// layer, whose input is added to this layer's output.
    residual_from: Option<usize>,
}

/// The network's parameters and structure.
#[derive(Clone, Debug)]
pub struct Network {
    /// Every tensor, under torchvision's names (convolution weights in the
    /// compute layout), running statistics included (never trained).
    pub params: Vec<Param>,
    /// `num_batches_tracked` of each batch norm, written back on save.
    pub batches_tracked: Vec<(String, i64)>,
    layers: Vec<Layer>,
    pub classes: usize,
}

/// What the backward pass needs of a forward pass.
pub struct Tape {
    /// Per trained layer (from the first trained one): its input and its
    /// batch norm's tape.
    layers: Vec<(Maps, NormTape)>,
    /// The last maps (after the head's ReLU6).
    last: Maps,
    /// The pooled features after dropout, and the dropout's multipliers.
    pooled: Vec<f32>,
    kept: Vec<f32>,
}

impl Network {
    /// The network of a torchvision MobileNetV2 state dict, with a new
    /// classifier of `classes` outputs drawn as torchvision draws it
    /// (N(0, 0.01), zero bias) from `seed`, or the file's own classifier
    /// when it has `classes` outputs and `seed` is `None`.
    pub fn from_tensors(
        tensors: Vec<pth::Tensor>,
        classes: usize,
        seed: Option<u64>,
    ) -> Result<Network> {
        let mut batches_tracked = Vec::new();
        for t in &tensors {
            if t.name.ends_with("num_batches_tracked") {
                let v = match &t.data {
                    TensorData::I64(v) => v.first().copied().unwrap_or(0),
                    other => other_as_i64(other),
                };
                batches_tracked.push((t.name.clone(), v));
            }
        }
        let w = Weights::new("MobileNetV2", tensors);
        let mut net = Network {
            params: Vec::new(),
            batches_tracked,
            layers: Vec::new(),
            classes,
        };
        net.add_layer(
            &w,
            "features.0.0",
            "features.0.1",
            (Conv::Dense { stride: 2 }, 3, 32, true),
            0,
            None,
        )?;
        for b in block_shapes() {
            let first = net.layers.len();
            let mut names = b.names().into_iter();
            let mut layers = Vec::with_capacity(3);
            if b.expands() {
                layers.push(((Conv::Pointwise, b.cin, b.hidden, true), None));
            }
            let dw = (
                Conv::Depthwise { stride: b.stride },
                b.hidden,
                b.hidden,
                true,
            );
            layers.push((dw, None));
            let residual = b.residual().then_some(first);
            layers.push(((Conv::Pointwise, b.hidden, b.cout, false), residual));
            for (shape, residual) in layers {
                let (conv, bn) = names.next().expect("a name per layer");
                net.add_layer(&w, &conv, &bn, shape, b.index, residual)?;
            }
        }
        net.add_layer(
            &w,
            "features.18.0",
            "features.18.1",
            (Conv::Pointwise, 320, FEATURES, true),
            18,
            None,
        )?;
        let own = w.has("classifier.1.weight")
            && w.get("classifier.1.weight", &[classes, FEATURES]).is_ok()
            && seed.is_none();
        let (weight, bias) = if own {
            (
                w.get("classifier.1.weight", &[classes, FEATURES])?,
                w.get("classifier.1.bias", &[classes])?,
            )
        } else {
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed.unwrap_or(0));
            let draws = (0..classes * FEATURES)
                .map(|_| 0.01 * normal(&mut rng))
                .collect();
            (draws, vec![0.0; classes])
        };
        net.push("classifier.1.weight", classes, FEATURES, weight, true);
        net.push("classifier.1.bias", 1, classes, bias, false);
        Ok(net)
    }

    fn push(&mut self, name: &str, rows: usize, cols: usize, data: Vec<f32>, decay: bool) -> usize {
        self.params.push(Param {
            name: name.to_string(),
            rows,
            cols,
            data,
            decay,
        });
        self.params.len() - 1
    }

    fn add_layer(
        &mut self,
        w: &Weights,
        conv_name: &str,
        bn: &str,
        (conv, cin, cout, relu6): (Conv, usize, usize, bool),
        block: usize,
        residual_from: Option<usize>,
    ) -> Result<()> {
        let torch = w.get(&format!("{conv_name}.weight"), &conv.torch_shape(cin, cout))?;
        let weight = grad::to_compute(conv, &torch, cin, cout);
        let rows = weight.len() / cout;
        let weight = self.push(&format!("{conv_name}.weight"), rows, cout, weight, true);
        let mut vector = |suffix: &str, decay: bool| -> Result<usize> {
            let values = w.get(&format!("{bn}.{suffix}"), &[cout])?;
            Ok(self.push(&format!("{bn}.{suffix}"), 1, cout, values, decay))
        };
        let (gamma, beta) = (vector("weight", false)?, vector("bias", false)?);
        let (mean, var) = (
            vector("running_mean", false)?,
            vector("running_var", false)?,
        );
        self.layers.push(Layer {
            conv,
            cin,
            cout,
            relu6,
            block,
            weight,
            gamma,
            beta,
            mean,
            var,
            residual_from,
        });
        Ok(())
    }

    /// The index of the first layer of block `block` (`BLOCKS` for none:
    /// only the classifier trains).
    fn first_layer(&self, block: usize) -> usize {
        self.layers
            .iter()
            .position(|l| l.block >= block)
            .unwrap_or(self.layers.len())
    }

    /// Which parameters train when the last `trainable` blocks do: their
    /// convolutions and batch-norm affines, and the classifier (running
    /// statistics never take a gradient).
    pub fn trained(&self, trainable: usize) -> Vec<bool> {
        let mut out = vec![false; self.params.len()];
        for l in &self.layers[self.first_layer(BLOCKS - trainable.min(BLOCKS))..] {
            for i in [l.weight, l.gamma, l.beta] {
                out[i] = true;
            }
        }
        let n = self.params.len();
        out[n - 2] = true;
        out[n - 1] = true;
        out
    }

    /// Logits of the maps entering block `BLOCKS - trainable`, and the tape
    /// for the backward pass when `tape`. `dropout` is (rate, seed) in
    /// training; `Norm::Batch` moves the running statistics.
    pub fn forward(
        &mut self,
        input: Maps,
        trainable: usize,
        norm: Norm,
        dropout: Option<(f32, u64)>,
        tape: bool,
    ) -> (Vec<f32>, Option<Tape>) {
        let first = self.first_layer(BLOCKS - trainable.min(BLOCKS));
        let mut x = input;
        let mut layers: Vec<(Maps, NormTape)> = Vec::new();
        let mut inputs_kept: Vec<Maps> = Vec::new();
        for k in first..self.layers.len() {
            let l = self.layers[k].clone();
            let mut z = grad::conv_forward(l.conv, &x, &self.params[l.weight].data, l.cout);
            let mut mean = std::mem::take(&mut self.params[l.mean].data);
            let mut var = std::mem::take(&mut self.params[l.var].data);
            let p = NormParams {
                gamma: &self.params[l.gamma].data,
                beta: &self.params[l.beta].data,
                mean: &mut mean,
                var: &mut var,
            };
            let t = grad::norm_forward(&mut z, p, norm, tape);
            self.params[l.mean].data = mean;
            self.params[l.var].data = var;
            if l.relu6 {
                grad::relu6(&mut z);
            }
            if let Some(from) = l.residual_from {
                let skip = if tape {
                    &layers[from - first].0
                } else {
                    &inputs_kept[from - first]
                };
                z = z.plus(skip);
            }
            match t {
                Some(t) => layers.push((x, t)),
                None => inputs_kept.push(x),
            }
            if !tape && l.residual_from.is_some() {
                // The block is done: its inputs are no longer needed.
                inputs_kept.iter_mut().for_each(|m| m.data = Vec::new());
            }
            x = z;
        }
        let n = x.n;
        let pooled = x.global_average().into_raw_vec_and_offset().0;
        let kept: Vec<f32> = match dropout {
            Some((rate, seed)) if rate > 0.0 => (0..pooled.len())
                .map(|i| {
                    let u = crate::text::finetune::kernels::splitmix(
                        seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    );
                    if ((u >> 40) as f32 / (1u64 << 24) as f32) < rate {
                        0.0
                    } else {
                        1.0 / (1.0 - rate)
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        let dropped: Vec<f32> = if kept.is_empty() {
            pooled
        } else {
            pooled.iter().zip(&kept).map(|(p, k)| p * k).collect()
        };
        let np = self.params.len();
        let logits = grad::linear_forward(
            &dropped,
            n,
            &self.params[np - 2].data,
            &self.params[np - 1].data,
        );
        let tape = tape.then_some(Tape {
            layers,
            last: x,
            pooled: dropped,
            kept,
        });
        (logits, tape)
    }

    /// Gradients of the loss whose gradient at the logits is `dlogits`,
    /// written into `grads` (one buffer per parameter; empty for those that
    /// do not train); the input's gradient too when `want_input` (tests).
    pub fn backward(
        &self,
        tape: Tape,
        dlogits: &[f32],
        norm: Norm,
        grads: &mut [Vec<f32>],
        want_input: bool,
    ) -> Option<Maps> {
        let np = self.params.len();
        let (head, rest) = grads.split_at_mut(np - 1);
        let dpooled = grad::linear_backward(
            &tape.pooled,
            dlogits,
            &self.params[np - 2].data,
            &mut head[np - 2],
            &mut rest[0],
        );
        let dpooled: Vec<f32> = if tape.kept.is_empty() {
            dpooled
        } else {
            dpooled.iter().zip(&tape.kept).map(|(d, k)| d * k).collect()
        };
        let last = &tape.last;
        let mut d = grad::average_backward(&dpooled, last.n, last.h, last.w, last.c);
        let first = self.layers.len() - tape.layers.len();
        // Gradients of residual outputs, waiting to join their block's input.
        let mut skips: Vec<(usize, Maps)> = Vec::new();
        for k in (first..self.layers.len()).rev() {
            let l = &self.layers[k];
            if let Some(from) = l.residual_from {
                skips.push((from, d.clone()));
            }
            if l.relu6 {
                let out = tape
                    .layers
                    .get(k + 1 - first)
                    .map_or(last, |(input, _)| input);
                grad::relu6_backward(&mut d, out);
            }
            let (input, norm_tape) = &tape.layers[k - first];
            let [dgamma, dbeta] = pair(grads, l.gamma, l.beta);
            grad::norm_backward(
                &mut d,
                norm_tape,
                &self.params[l.gamma].data,
                norm,
                dgamma,
                dbeta,
            );
            let dx = grad::conv_backward(
                l.conv,
                input,
                &d,
                &self.params[l.weight].data,
                &mut grads[l.weight],
                k > first || want_input,
            );
            let mut dx = dx?;
            if let Some(at) = skips.iter().position(|(from, _)| *from == k) {
                let (_, skip) = skips.swap_remove(at);
                dx = dx.plus(&skip);
            }
            d = dx;
        }
        Some(d)
    }

    /// The state dict in torchvision's names, layouts, dtypes and order.
    pub fn state_dict(&self) -> Vec<(String, Vec<usize>, TensorData)> {
        let conv_of: std::collections::HashMap<usize, &Layer> =
            self.layers.iter().map(|l| (l.weight, l)).collect();
        let mut out = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            out.push(match conv_of.get(&i) {
                Some(l) => (
                    p.name.clone(),
                    l.conv.torch_shape(l.cin, l.cout),
                    TensorData::F32(grad::to_torch(l.conv, &p.data, l.cin, l.cout)),
                ),
                None if p.rows > 1 => (
                    p.name.clone(),
                    vec![p.rows, p.cols],
                    TensorData::F32(p.data.clone()),
                ),
                None => (
                    p.name.clone(),
                    vec![p.cols],
                    TensorData::F32(p.data.clone()),
                ),
            });
            if let Some(bn) = p.name.strip_suffix(".running_var") {
                let name = format!("{bn}.num_batches_tracked");
                let count = self
                    .batches_tracked
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(0, |(_, v)| *v);
                out.push((name, Vec::new(), TensorData::I64(vec![count])));
            }
        }
        out
    }

    /// Counts a training step in every trained batch norm's
    /// `num_batches_tracked` (PyTorch counts only in `train()` mode).
    pub fn count_batch(&mut self, trainable: usize) {
        let first = BLOCKS - trainable.min(BLOCKS);
        for (name, v) in &mut self.batches_tracked {
            let block: usize = name
                .strip_prefix("features.")
                .and_then(|s| s.split('.').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if block >= first {
                *v += 1;
            }
        }
    }
}

#[cfg(test)]
impl Network {
    /// A network of the given layers, each `(conv, cin, cout, relu6,
    /// block, residual_from, torch weight, [gamma, beta, mean, var])`, and a
    /// classifier `[classes, features]` (tests of small blocks).
    #[allow(clippy::type_complexity)]
    pub fn custom(
        layers: Vec<(
            Conv,
            usize,
            usize,
            bool,
            usize,
            Option<usize>,
            Vec<f32>,
            [Vec<f32>; 4],
        )>,
        classifier: (Vec<f32>, Vec<f32>),
    ) -> Network {
        let mut net = Network {
            params: Vec::new(),
            batches_tracked: Vec::new(),
            layers: Vec::new(),
            classes: classifier.1.len(),
        };
        for (k, (conv, cin, cout, relu6, block, residual_from, torch, [g, b, m, v])) in
            layers.into_iter().enumerate()
        {
            let weight = grad::to_compute(conv, &torch, cin, cout);
            let rows = weight.len() / cout;
            let weight = net.push(&format!("{k}.weight"), rows, cout, weight, true);
            let gamma = net.push(&format!("{k}.gamma"), 1, cout, g, false);
            let beta = net.push(&format!("{k}.beta"), 1, cout, b, false);
            let mean = net.push(&format!("{k}.mean"), 1, cout, m, false);
            let var = net.push(&format!("{k}.var"), 1, cout, v, false);
            net.layers.push(Layer {
                conv,
                cin,
                cout,
                relu6,
                block,
                weight,
                gamma,
                beta,
                mean,
                var,
                residual_from,
            });
        }
        let (w, b) = classifier;
        let classes = b.len();
        net.push("classifier.1.weight", classes, w.len() / classes, w, true);
        net.push("classifier.1.bias", 1, classes, b, false);
        net
    }
}

fn other_as_i64(d: &TensorData) -> i64 {
    match d {
        TensorData::F32(v) => v.first().map_or(0, |v| *v as i64),
        TensorData::I64(v) => v.first().copied().unwrap_or(0),
    }
}

/// Two distinct gradient buffers at once.
fn pair(grads: &mut [Vec<f32>], a: usize, b: usize) -> [&mut [f32]; 2] {
    assert!(a < b, "gamma precedes beta");
    let (lo, hi) = grads.split_at_mut(b);
    [&mut lo[a], &mut hi[0]]
}

/// The number of `features` blocks, for messages.
pub fn check_trainable(trainable: usize) -> Result<()> {
    if trainable > BLOCKS {
        return Err(Error::invalid(format!(
            "Backbone.fine_tune: option 'trainable' is {trainable}, but mobilenet_v2 has {BLOCKS} blocks (features.0 to features.18); use 0 (the classifier alone) to {BLOCKS} (the whole network)"
        )));
    }
    Ok(())
}
