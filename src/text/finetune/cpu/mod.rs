//! BERT training on the CPU: the forward of `text::encoder::cpu` (each
//! batch's sequences packed end to end, no padding; every product on the
//! gemm crate) keeping what the backward needs, and the backward written
//! out by hand, op by op, into one gradient buffer per parameter. Checked
//! against PyTorch autograd (tests/finetune.rs) and candle's autograd.
//!
//! Why by hand: candle's CPU backward runs its element-wise ops scalar and
//! on one core, allocates a fresh zeroed tensor for each gradient edge, and
//! its fused softmax and layer norm have no backward at all (the
//! differentiable forms are several ops each); BENCHMARKS.md has the
//! figures.

use rayon::prelude::*;

mod backward;

use super::profile;

use super::kernels::{Mask, bias_gelu_forward, layer_norm_forward};
use super::params::{self, Params, layer as L};
use crate::nn::gemm::matmul_into;
use crate::text::encoder::Pooling;
pub(crate) use crate::text::encoder::cpu::{view, view_mut};
use crate::text::encoder::kernels::softmax_rows;

/// Dropout rates: inside the BERT (its config's), on attention
/// probabilities, and before the head.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dropout {
    pub hidden: f32,
    pub attention: f32,
    pub head: f32,
}

/// What stays fixed: the embeddings (and with them the lowest `layers`
/// transformer layers). Frozen layers run as at inference (no dropout), so
/// their outputs can be computed once and reused.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Freeze {
    pub embeddings: bool,
    pub layers: usize,
}

/// Where a batch starts: token ids (the embeddings run), or the hidden
/// states after the frozen layers (packed, tokens × hidden).
pub enum Input<'a> {
    Tokens(&'a [&'a [u32]]),
    Hidden {
        states: &'a [f32],
        lengths: &'a [usize],
    },
}

/// What the forward keeps of one layer for the backward.
#[derive(Default)]
struct LayerCache {
    qkv: Vec<f32>,
    /// Softmax probabilities per sequence and head, before dropout.
    probs: Vec<f32>,
    probs_mask: Mask,
    context: Vec<f32>,
    attention_mask: Mask,
    xhat1: Vec<f32>,
    rstd1: Vec<f32>,
    y1: Vec<f32>,
    /// GELU′ at the intermediate layer's outputs.
    inner: Vec<f32>,
    gelu: Vec<f32>,
    output_mask: Mask,
    xhat2: Vec<f32>,
    rstd2: Vec<f32>,
}

/// One trainer's buffers, reused from batch to batch.
#[derive(Default)]
pub struct Trainer {
    layers: Vec<LayerCache>,
    /// Layer inputs: `xs[l]` is layer l's input, `xs[L]` the last output.
    xs: Vec<Vec<f32>>,
    embedding_xhat: Vec<f32>,
    embedding_rstd: Vec<f32>,
    embedding_mask: Mask,
    ids: Vec<u32>,
    positions: Vec<usize>,
    lengths: Vec<usize>,
    pooled: Vec<f32>,
    head_mask: Mask,
    logits: Vec<f32>,
    // Backward scratch.
    d: Vec<f32>,
    d2: Vec<f32>,
    d_inner: Vec<f32>,
    d_qkv: Vec<f32>,
    d_context: Vec<f32>,
}

/// `buf` resized to `n` values, keeping (not zeroing) what it holds: the
/// caller overwrites every value, so only new space costs a write.
fn resize_for_overwrite(buf: &mut Vec<f32>, n: usize) {
    if buf.len() >= n {
        buf.truncate(n);
    } else {
        buf.resize(n, 0.0);
    }
}

/// `out` ← x·W (x: tokens × inputs, W: inputs × outputs); the bias is added
/// by the caller, fused into the step that reads `out` next.
fn dense(x: &[f32], tokens: usize, w: &params::Param, out: &mut Vec<f32>) {
    profile::timed("dense forward", || {
        let (inputs, outputs) = (w.rows, w.cols);
        resize_for_overwrite(out, tokens * outputs);
        let a = view(x, 0, 0, tokens, inputs, inputs);
        let wv = view(&w.data, 0, 0, inputs, outputs, outputs);
        matmul_into(
            &mut view_mut(out, 0, 0, tokens, outputs, outputs),
            a,
            wv,
            false,
        );
    })
}

/// Each row of `x` (rows of `b.len()`) += b.
fn add_bias(x: &mut [f32], b: &[f32]) {
    let w = b.len();
    x.par_chunks_mut(w * ROWS).for_each(|rows| {
        for row in rows.chunks_exact_mut(w) {
            for (v, b) in row.iter_mut().zip(b) {
                *v += b;
            }
        }
    });
}

/// Row blocks for the element-wise steps: enough to share the cores.
const ROWS: usize = 32;

fn norm_forward(
    x: &mut [f32],
    xhat: &mut Vec<f32>,
    rstd: &mut Vec<f32>,
    g: &[f32],
    b: &[f32],
    eps: f32,
) {
    profile::timed("layer norm forward", || {
        let h = g.len();
        xhat.resize(x.len(), 0.0);
        rstd.resize(x.len() / h, 0.0);
        x.par_chunks_mut(h * ROWS)
            .zip(xhat.par_chunks_mut(h * ROWS))
            .zip(rstd.par_chunks_mut(ROWS))
            .for_each(|((x, xh), r)| layer_norm_forward(x, xh, r, g, b, eps));
    })
}

/// Site numbers of the dropout masks of one step (each mask its own).
fn site(layer: usize, which: u64) -> u64 {
    (layer as u64 + 1) * 16 + which
}

impl Trainer {
    /// Forward and backward of one batch: the mean binary cross-entropy of
    /// the head's logits against `labels` (rows × labels, 0/1), with
    /// `pos_weight` per label, is returned, and its gradients are added to
    /// `grads` (one buffer per parameter, empty for frozen ones). `seed`
    /// draws this step's dropout masks.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        p: &Params,
        input: Input,
        labels: &[f32],
        pos_weight: &[f32],
        pooling: Pooling,
        dropout: Dropout,
        freeze: Freeze,
        seed: u64,
        grads: &mut [Vec<f32>],
    ) -> f64 {
        let loss = self.forward(
            p,
            input,
            pooling,
            dropout,
            freeze,
            seed,
            Some((labels, pos_weight)),
        );
        self.backward(p, pooling, freeze, grads, labels, pos_weight);
        loss
    }

    /// The hidden states after the embeddings and the lowest `layers`
    /// layers, run as at inference (no dropout), packed.
    pub fn prefix(&mut self, p: &Params, sequences: &[&[u32]], layers: usize) -> &[f32] {
        let all = p.config.num_hidden_layers;
        self.xs.resize_with(all + 1, Vec::new);
        self.layers.resize_with(all, LayerCache::default);
        self.embed(p, sequences, 0.0, 0);
        for l in 0..layers {
            self.layer_forward(p, l, Dropout::default(), 0);
        }
        &self.xs[layers]
    }

    /// The pooled sentence vectors (rows × hidden) and logits (rows ×
    /// labels) of the last forward.
    pub fn outputs(&self) -> (&[f32], &[f32]) {
        (&self.pooled, &self.logits)
    }

    /// The forward; with `target`, the loss. Returns 0 without a target.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &mut self,
        p: &Params,
        input: Input,
        pooling: Pooling,
        dropout: Dropout,
        freeze: Freeze,
        seed: u64,
        target: Option<(&[f32], &[f32])>,
    ) -> f64 {
        let layers = p.config.num_hidden_layers;
        self.xs.resize_with(layers + 1, Vec::new);
        self.layers.resize_with(layers, LayerCache::default);
        let first = match input {
            Input::Tokens(sequences) => {
                self.embed(
                    p,
                    sequences,
                    if freeze.embeddings {
                        0.0
                    } else {
                        dropout.hidden
                    },
                    seed,
                );
                0
            }
            Input::Hidden { states, lengths } => {
                self.lengths.clear();
                self.lengths.extend_from_slice(lengths);
                self.xs[freeze.layers].clear();
                self.xs[freeze.layers].extend_from_slice(states);
                freeze.layers
            }
        };
        for l in first..layers {
            let d = if l < freeze.layers {
                Dropout::default()
            } else {
                dropout
            };
            self.layer_forward(p, l, d, seed);
        }
        self.head_forward(p, pooling, dropout.head, seed);
        let Some((labels, pos_weight)) = target else {
            return 0.0;
        };
        let n = self.logits.len().max(1) as f64;
        let classes = pos_weight.len();
        self.logits
            .iter()
            .zip(labels)
            .enumerate()
            .map(|(k, (&z, &y))| {
                let z = f64::from(z);
                let (y, w) = (f64::from(y), f64::from(pos_weight[k % classes]));
                // −[w·y·ln σ(z) + (1 − y)·ln(1 − σ(z))], overflow-free.
                w * y * softplus(-z) + (1.0 - y) * softplus(z)
            })
            .sum::<f64>()
            / n
    }

    fn embed(&mut self, p: &Params, sequences: &[&[u32]], rate: f32, seed: u64) {
        profile::timed("embedding forward", || {
            let h = p.config.hidden_size;
            self.lengths.clear();
            self.lengths.extend(sequences.iter().map(|s| s.len()));
            self.ids.clear();
            self.positions.clear();
            for s in sequences {
                self.ids.extend_from_slice(s);
                self.positions.extend(0..s.len());
            }
            let tokens = self.ids.len();
            let (words, positions, token_type) = (
                p.get(params::WORDS),
                p.get(params::POSITIONS),
                p.get(params::TOKEN_TYPE),
            );
            let x = &mut self.xs[0];
            x.clear();
            x.resize(tokens * h, 0.0);
            x.par_chunks_mut(h)
                .zip(self.ids.par_iter().zip(self.positions.par_iter()))
                .for_each(|(row, (&id, &pos))| {
                    let w = &words[id as usize * h..(id as usize + 1) * h];
                    let q = &positions[pos * h..(pos + 1) * h];
                    for (((x, w), q), t) in row.iter_mut().zip(w).zip(q).zip(token_type) {
                        *x = w + q + t;
                    }
                });
            norm_forward(
                x,
                &mut self.embedding_xhat,
                &mut self.embedding_rstd,
                p.get(params::EMBEDDING_NORM_G),
                p.get(params::EMBEDDING_NORM_B),
                p.config.layer_norm_eps as f32,
            );
            self.embedding_mask.draw(tokens * h, rate, seed, site(0, 0));
            self.embedding_mask.apply(x, 0);
        })
    }

    /// Sequence starts (in tokens) and their lengths.
    fn spans(&self) -> Vec<(usize, usize)> {
        let mut start = 0;
        self.lengths
            .iter()
            .map(|&len| {
                let s = start;
                start += len;
                (s, len)
            })
            .collect()
    }

    fn layer_forward(&mut self, p: &Params, l: usize, dropout: Dropout, seed: u64) {
        let c = &p.config;
        let (h, heads) = (c.hidden_size, c.num_attention_heads);
        let dh = h / heads;
        let eps = c.layer_norm_eps as f32;
        let spans = self.spans();
        let (before, after) = self.xs.split_at_mut(l + 1);
        let x = &before[l];
        let tokens = x.len() / h;
        let cache = &mut self.layers[l];
        let w = |k: usize| &p.items[p.layer(l, k)];
        dense(x, tokens, w(L::QKV_W), &mut cache.qkv);
        add_bias(&mut cache.qkv, p.get(p.layer(l, L::QKV_B)));
        // Attention, sequence by sequence (in parallel), head by head.
        let prob_len: usize = spans.iter().map(|(_, n)| heads * n * n).sum();
        resize_for_overwrite(&mut cache.probs, prob_len);
        cache
            .probs_mask
            .draw(prob_len, dropout.attention, seed, site(l, 1));
        let probs_mask = &cache.probs_mask;
        resize_for_overwrite(&mut cache.context, tokens * h);
        let scale = 1.0 / (dh as f32).sqrt();
        profile::timed("attention forward", || {
            let qkv = &cache.qkv;
            let mut probs = split_by(&mut cache.probs, spans.iter().map(|(_, n)| heads * n * n));
            let mut contexts = split_by(&mut cache.context, spans.iter().map(|(_, n)| n * h));
            let offsets = offsets(spans.iter().map(|(_, n)| heads * n * n));
            probs
                .par_iter_mut()
                .zip(contexts.par_iter_mut())
                .zip(offsets.par_iter())
                .zip(spans.par_iter())
                .for_each(|(((probs, context), &offset), &(start, n))| {
                    let mut dropped = vec![0.0f32; n * n];
                    for head in 0..heads {
                        let q = view(qkv, start, head * dh, n, dh, 3 * h);
                        let k = view(qkv, start, h + head * dh, n, dh, 3 * h);
                        let v = view(qkv, start, 2 * h + head * dh, n, dh, 3 * h);
                        let pr = &mut probs[head * n * n..(head + 1) * n * n];
                        crate::nn::gemm::serial(|| {
                            matmul_into(&mut view_mut(pr, 0, 0, n, n, n), q, k.t(), false)
                        });
                        softmax_rows(pr, n, scale);
                        dropped.copy_from_slice(pr);
                        probs_mask.apply(&mut dropped, offset + head * n * n);
                        let mut out = view_mut(context, 0, head * dh, n, dh, h);
                        crate::nn::gemm::serial(|| {
                            matmul_into(&mut out, view(&dropped, 0, 0, n, n, n), v, false)
                        });
                    }
                });
        });
        // a = context·Wo + bo; y1 = LN(dropout(a) + x).
        let y1 = &mut cache.y1;
        dense(&cache.context, tokens, w(L::ATTENTION_OUT_W), y1);
        cache
            .attention_mask
            .draw(tokens * h, dropout.hidden, seed, site(l, 2));
        add_masked(
            y1,
            p.get(p.layer(l, L::ATTENTION_OUT_B)),
            &cache.attention_mask,
            x,
        );
        norm_forward(
            y1,
            &mut cache.xhat1,
            &mut cache.rstd1,
            p.get(p.layer(l, L::ATTENTION_NORM_G)),
            p.get(p.layer(l, L::ATTENTION_NORM_B)),
            eps,
        );
        // i = y1·Wi + bi; g = GELU(i); y2 = LN(dropout(g·Wo + bo) + y1).
        dense(y1, tokens, w(L::INTERMEDIATE_W), &mut cache.inner);
        resize_for_overwrite(&mut cache.gelu, cache.inner.len());
        let width = w(L::INTERMEDIATE_W).cols;
        let bias = p.get(p.layer(l, L::INTERMEDIATE_B));
        profile::timed("gelu forward", || {
            cache
                .inner
                .par_chunks_mut(width * ROWS)
                .zip(cache.gelu.par_chunks_mut(width * ROWS))
                .for_each(|(i, g)| bias_gelu_forward(i, bias, g))
        });
        let out = &mut after[0];
        dense(&cache.gelu, tokens, w(L::OUTPUT_W), out);
        cache
            .output_mask
            .draw(tokens * h, dropout.hidden, seed, site(l, 3));
        add_masked(out, p.get(p.layer(l, L::OUTPUT_B)), &cache.output_mask, y1);
        norm_forward(
            out,
            &mut cache.xhat2,
            &mut cache.rstd2,
            p.get(p.layer(l, L::OUTPUT_NORM_G)),
            p.get(p.layer(l, L::OUTPUT_NORM_B)),
            eps,
        );
    }

    fn head_forward(&mut self, p: &Params, pooling: Pooling, rate: f32, seed: u64) {
        let h = p.config.hidden_size;
        let last = &self.xs[p.config.num_hidden_layers];
        self.pooled = pooling.pool_packed(last, &self.lengths, h);
        let rows = self.lengths.len();
        self.head_mask.draw(rows * h, rate, seed, u64::MAX);
        let mut dropped = self.pooled.clone();
        self.head_mask.apply(&mut dropped, 0);
        let hw = &p.items[p.head_w()];
        dense(&dropped, rows, hw, &mut self.logits);
        add_bias(&mut self.logits, p.get(p.head_b()));
    }
}

/// `out` ← (out + b) ⊙ mask + residual, row by row (rows of `b.len()`).
fn add_masked(out: &mut [f32], b: &[f32], mask: &Mask, residual: &[f32]) {
    profile::timed("residual add", || {
        let w = b.len();
        let scale = if mask.active { mask.scale } else { 1.0 };
        out.par_chunks_mut(w * ROWS)
            .zip(residual.par_chunks(w * ROWS))
            .enumerate()
            .for_each(|(c, (o, r))| {
                for (k, (o, r)) in o.chunks_exact_mut(w).zip(r.chunks_exact(w)).enumerate() {
                    let start = (c * ROWS + k) * w;
                    let keep = if mask.active {
                        &mask.keep[start..start + w]
                    } else {
                        &[][..]
                    };
                    if mask.active {
                        for (((o, m), r), b) in o.iter_mut().zip(keep).zip(r).zip(b) {
                            *o = (*o + b) * (f32::from(*m) * scale) + r;
                        }
                    } else {
                        for ((o, r), b) in o.iter_mut().zip(r).zip(b) {
                            *o += b + r;
                        }
                    }
                }
            });
    })
}

/// Where each of consecutive pieces of the given lengths starts.
fn offsets(lengths: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut at = 0;
    lengths
        .map(|n| {
            let start = at;
            at += n;
            start
        })
        .collect()
}

fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// `data` cut into consecutive pieces of the given lengths.
fn split_by(data: &mut [f32], lengths: impl Iterator<Item = usize>) -> Vec<&mut [f32]> {
    let mut rest = data;
    let mut out = Vec::new();
    for n in lengths {
        let (piece, tail) = rest.split_at_mut(n);
        out.push(piece);
        rest = tail;
    }
    out
}

fn split_ref(data: &[f32], lengths: impl Iterator<Item = usize>) -> Vec<&[f32]> {
    let mut rest = data;
    let mut out = Vec::new();
    for n in lengths {
        let (piece, tail) = rest.split_at(n);
        out.push(piece);
        rest = tail;
    }
    out
}
