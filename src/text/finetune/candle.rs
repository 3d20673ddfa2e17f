//! Training on candle's tensors: what runs on a GPU (`device: "cuda"`, a
//! build with the `cuda` feature), with candle's autograd for the backward.
//! The same parameters as the CPU trainer (the same layout, so gradients
//! compare value for value: tests/finetune.rs checks both against
//! PyTorch), padded batches with an additive attention mask as
//! `transformers` computes them, and AdamW written out over candle tensors
//! the way [`super::adamw`] does it (candle-nn's keeps its moments private,
//! and a checkpoint needs them). Frozen parameters are constants; frozen
//! layers run every step (no cache on this path).
//!
//! Why not candle-nn's fused `softmax_last_dim` and `layer_norm`: they have
//! no backward; the forms here are built from differentiable ops.

use candle_core::{D, DType, Device, Tensor, Var};

use super::State;
use super::adamw::AdamW;
use super::cpu::Dropout;
use super::kernels::Mask;
use super::params::{self, Params, layer as L};
use crate::error::{Error, Result};
use crate::text::encoder::Pooling;

/// Parameters on a device: trained ones as `Var`s, frozen ones as constants.
pub struct CandleModel {
    pub device: Device,
    tensors: Vec<Tensor>,
    vars: Vec<Option<Var>>,
    m: Vec<Option<Tensor>>,
    v: Vec<Option<Tensor>>,
    step: u64,
}

fn candle_err(e: candle_core::Error) -> Error {
    Error::invalid(format!("Encoder.fine_tune: {e}"))
}

impl CandleModel {
    /// `p` on `device`; `trained[i]` says which parameters get gradients;
    /// AdamW's moments start from `adam`'s (a resumed run's).
    pub fn new(p: &Params, trained: &[bool], device: Device, adam: &AdamW) -> Result<CandleModel> {
        let mut tensors = Vec::new();
        let mut vars = Vec::new();
        let (mut m, mut v) = (Vec::new(), Vec::new());
        for (i, (item, &t)) in p.items.iter().zip(trained).enumerate() {
            let shape = (item.rows, item.cols);
            let tensor = Tensor::from_slice(&item.data, shape, &device).map_err(candle_err)?;
            if t {
                let var = Var::from_tensor(&tensor).map_err(candle_err)?;
                tensors.push(var.as_tensor().clone());
                let moment =
                    |host: Option<&Vec<f32>>| match host.filter(|h| h.len() == item.data.len()) {
                        Some(h) => Tensor::from_slice(h, shape, &device),
                        None => tensor.zeros_like(),
                    };
                m.push(Some(moment(adam.m.get(i)).map_err(candle_err)?));
                v.push(Some(moment(adam.v.get(i)).map_err(candle_err)?));
                vars.push(Some(var));
            } else {
                tensors.push(tensor);
                vars.push(None);
                m.push(None);
                v.push(None);
            }
        }
        Ok(CandleModel {
            device,
            tensors,
            vars,
            m,
            v,
            step: adam.step,
        })
    }

    /// The head's logits of `sequences` without dropout, rows × labels.
    pub fn logits(&self, p: &Params, sequences: &[&[u32]], pooling: Pooling) -> Result<Vec<f32>> {
        self.forward(p, sequences, pooling, Dropout::default(), 0)
            .and_then(|z| z.flatten_all()?.to_vec1::<f32>())
            .map_err(candle_err)
    }

    /// The loss of a padded batch and the gradients of the trained
    /// parameters (in `Params`' order, `None` for frozen ones).
    #[allow(clippy::too_many_arguments)]
    pub fn gradients(
        &self,
        p: &Params,
        sequences: &[&[u32]],
        labels: &[f32],
        pos_weight: &[f32],
        pooling: Pooling,
        dropout: Dropout,
        seed: u64,
    ) -> Result<(f64, Vec<Option<Tensor>>)> {
        let run = || -> candle_core::Result<(f64, Vec<Option<Tensor>>)> {
            let logits = self.forward(p, sequences, pooling, dropout, seed)?;
            let loss = bce(&logits, labels, pos_weight, &self.device)?;
            let grads = loss.backward()?;
            let out = self
                .vars
                .iter()
                .map(|v| v.as_ref().and_then(|v| grads.get(v.as_tensor()).cloned()))
                .collect();
            Ok((f64::from(loss.to_scalar::<f32>()?), out))
        };
        run().map_err(candle_err)
    }

    /// The head's logits (rows × labels) of a padded batch.
    pub fn forward(
        &self,
        p: &Params,
        sequences: &[&[u32]],
        pooling: Pooling,
        dropout: Dropout,
        seed: u64,
    ) -> candle_core::Result<Tensor> {
        let c = &p.config;
        let (h, heads) = (c.hidden_size, c.num_attention_heads);
        let dh = h / heads;
        let eps = c.layer_norm_eps;
        let t = |i: usize| &self.tensors[i];
        let (ids, mask) = crate::text::encoder::bert::batch_tensors(sequences, &self.device)?;
        let (b, s) = ids.dims2()?;
        let words = t(params::WORDS).index_select(&ids.flatten_all()?, 0)?;
        let x = words
            .reshape((b, s, h))?
            .broadcast_add(&t(params::POSITIONS).narrow(0, 0, s)?)?
            .broadcast_add(t(params::TOKEN_TYPE))?;
        let mut x = layer_norm(
            &x,
            t(params::EMBEDDING_NORM_G),
            t(params::EMBEDDING_NORM_B),
            eps,
        )?;
        x = self.dropout(&x, dropout.hidden, seed, 1)?;
        // transformers adds the dtype's lowest value where the mask is 0.
        let bias = ((mask.ones_like()? - &mask)? * f64::from(f32::MIN))?.reshape((b, 1, 1, s))?;
        let scale = 1.0 / (dh as f64).sqrt();
        for l in 0..c.num_hidden_layers {
            let w = |k: usize| t(p.layer(l, k));
            let dense = |x: &Tensor, wk: usize, bk: usize| -> candle_core::Result<Tensor> {
                let (bb, ss, inputs) = x.dims3()?;
                x.reshape((bb * ss, inputs))?
                    .matmul(w(wk))?
                    .broadcast_add(w(bk))?
                    .reshape((bb, ss, ()))
            };
            let qkv = dense(&x, L::QKV_W, L::QKV_B)?.reshape((b, s, 3, heads, dh))?;
            let part = |i: usize| {
                qkv.narrow(2, i, 1)?
                    .squeeze(2)?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let (q, k, v) = (part(0)?, part(1)?, part(2)?);
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax(&scores, D::Minus1)?;
            let probs = self.dropout(&probs, dropout.attention, seed, 16 * (l as u64 + 1) + 1)?;
            let context = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b, s, h))?;
            let a = self.dropout(
                &dense(&context, L::ATTENTION_OUT_W, L::ATTENTION_OUT_B)?,
                dropout.hidden,
                seed,
                16 * (l as u64 + 1) + 2,
            )?;
            let y1 = layer_norm(
                &(a + &x)?,
                w(L::ATTENTION_NORM_G),
                w(L::ATTENTION_NORM_B),
                eps,
            )?;
            let inner = dense(&y1, L::INTERMEDIATE_W, L::INTERMEDIATE_B)?.gelu_erf()?;
            let o = self.dropout(
                &dense(&inner, L::OUTPUT_W, L::OUTPUT_B)?,
                dropout.hidden,
                seed,
                16 * (l as u64 + 1) + 3,
            )?;
            x = layer_norm(&(o + &y1)?, w(L::OUTPUT_NORM_G), w(L::OUTPUT_NORM_B), eps)?;
        }
        let pooled = pooling.pool(&x, &mask)?;
        let pooled = self.dropout(&pooled, dropout.head, seed, u64::MAX)?;
        pooled.matmul(t(p.head_w()))?.broadcast_add(t(p.head_b()))
    }

    /// `x` ⊙ a dropout mask of rate `rate` drawn from (`seed`, `site`).
    fn dropout(&self, x: &Tensor, rate: f32, seed: u64, site: u64) -> candle_core::Result<Tensor> {
        if rate <= 0.0 {
            return Ok(x.clone());
        }
        let mut mask = Mask::default();
        mask.draw(x.elem_count(), rate, seed, site);
        let values: Vec<f32> = mask
            .keep
            .iter()
            .map(|k| f32::from(*k) * mask.scale)
            .collect();
        x * Tensor::from_vec(values, x.shape(), &self.device)?
    }

    /// Clipping and one AdamW step on the device (as [`super::adamw`]);
    /// `lr(i)` is parameter i's rate.
    pub fn update(
        &mut self,
        p: &Params,
        grads: &[Option<Tensor>],
        max_norm: f64,
        weight_decay: f64,
        lr: impl Fn(usize) -> f64,
    ) -> Result<()> {
        let run = |model: &mut CandleModel| -> candle_core::Result<()> {
            let mut squares = 0.0f64;
            for g in grads.iter().flatten() {
                squares += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
            }
            let scale = (max_norm / (squares.sqrt() + 1e-6)).min(1.0);
            model.step += 1;
            let t = model.step as i32;
            let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
            let (bias1, bias2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
            for (i, g) in grads.iter().enumerate() {
                let (Some(g), Some(var)) = (g, &model.vars[i]) else {
                    continue;
                };
                let (Some(m), Some(v)) = (&model.m[i], &model.v[i]) else {
                    continue;
                };
                let g = (g * scale)?;
                let lr = lr(i);
                let decay = if p.items[i].decay {
                    1.0 - lr * weight_decay
                } else {
                    1.0
                };
                let m2 = ((m * b1)? + (&g * (1.0 - b1))?)?;
                let v2 = ((v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
                let denom = ((v2.sqrt()? / bias2.sqrt())? + eps)?;
                let next = ((var.as_tensor() * decay)? - ((&m2 / denom)? * (lr / bias1))?)?;
                var.set(&next)?;
                model.m[i] = Some(m2);
                model.v[i] = Some(v2);
            }
            Ok(())
        };
        run(self).map_err(candle_err)
    }

    /// The device's parameters and AdamW state copied into `state`.
    pub fn download(&self, state: &mut State) -> Result<()> {
        let host = |t: &Tensor| -> Result<Vec<f32>> {
            t.flatten_all()
                .and_then(|t| t.to_dtype(DType::F32))
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(candle_err)
        };
        for (i, item) in state.params.items.iter_mut().enumerate() {
            item.data = host(&self.tensors[i])?;
            if let (Some(m), Some(v)) = (&self.m[i], &self.v[i]) {
                state.adam.m[i] = host(m)?;
                state.adam.v[i] = host(v)?;
            }
        }
        state.adam.step = self.step;
        Ok(())
    }
}

/// Layer norm over the last dimension from differentiable ops.
fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    centred
        .broadcast_div(&(var + eps)?.sqrt()?)?
        .broadcast_mul(gamma)?
        .broadcast_add(beta)
}

/// Mean binary cross-entropy of `logits` with positive weights, in the
/// overflow-free form w·y·softplus(−z) + (1 − y)·softplus(z).
fn bce(
    logits: &Tensor,
    labels: &[f32],
    pos_weight: &[f32],
    device: &Device,
) -> candle_core::Result<Tensor> {
    let y = Tensor::from_slice(labels, logits.shape(), device)?;
    let w = Tensor::from_slice(pos_weight, pos_weight.len(), device)?;
    let softplus = |z: &Tensor| -> candle_core::Result<Tensor> {
        z.relu()? + ((z.abs()?.neg()?.exp()? + 1.0)?.log()?)
    };
    let positive = (y.broadcast_mul(&w)? * softplus(&logits.neg()?)?)?;
    let negative = ((y.ones_like()? - &y)? * softplus(logits)?)?;
    (positive + negative)?.mean_all()
}
