//! The backward of the CPU trainer (`cpu/mod.rs`), op by op in reverse:
//! the head and the pooling, each layer's layer norms, feed-forward,
//! attention (sequence by sequence) and residuals, then the embeddings
//! (rows scattered in order, so sums are the same on every run). Dense
//! weights' gradients are written whole; biases, layer norms and embedding
//! rows sum into theirs.

use rayon::prelude::*;

use super::super::kernels::{gelu_backward, layer_norm_backward, softmax_backward};
use super::super::params::{self, Params, layer as L};
use super::super::profile;
use super::{
    Freeze, ROWS, Trainer, offsets, resize_for_overwrite, split_by, split_ref, view, view_mut,
};
use crate::nn::gemm::matmul_into;
use crate::text::encoder::Pooling;

impl Trainer {
    pub(super) fn backward(
        &mut self,
        p: &Params,
        pooling: Pooling,
        freeze: Freeze,
        grads: &mut [Vec<f32>],
        labels: &[f32],
        pos_weight: &[f32],
    ) {
        let c = &p.config;
        let h = c.hidden_size;
        let layers = c.num_hidden_layers;
        let rows = self.lengths.len();
        let classes = pos_weight.len();
        // d loss / d logits = (σ(z)·(w·y + 1 − y) − w·y) / (rows · labels).
        let n = (rows * classes).max(1) as f32;
        let dz: Vec<f32> = self
            .logits
            .iter()
            .zip(labels)
            .enumerate()
            .map(|(k, (&z, &y))| {
                let w = pos_weight[k % classes];
                (sigmoid(z) * (w * y + 1.0 - y) - w * y) / n
            })
            .collect();
        let mut dropped = self.pooled.clone();
        self.head_mask.apply(&mut dropped, 0);
        let (hw, hb) = (p.head_w(), p.head_b());
        let (gw, gb) = two_mut(grads, hw, hb);
        let mut d_pooled = Vec::new();
        dense_backward(
            &dropped,
            &dz,
            rows,
            &p.items[hw],
            (gw, gb),
            Some((&mut d_pooled, false)),
        );
        self.head_mask.apply(&mut d_pooled, 0);
        // Into the last hidden states through the pooling.
        let last = &self.xs[layers];
        self.d = pooling_backward(pooling, last, &self.lengths, h, &d_pooled);
        let bottom = freeze.layers;
        for l in (bottom..layers).rev() {
            let need_dx = l > bottom || !freeze.embeddings;
            self.layer_backward(p, l, grads, need_dx);
        }
        if !freeze.embeddings && bottom == 0 {
            self.embedding_backward(p, grads);
        }
    }

    /// Gradient at layer `l`'s output in `self.d` → its parameters'
    /// gradients, and (with `need_dx`) the gradient at its input in `self.d`.
    fn layer_backward(&mut self, p: &Params, l: usize, grads: &mut [Vec<f32>], need_dx: bool) {
        let c = &p.config;
        let (h, heads) = (c.hidden_size, c.num_attention_heads);
        let dh = h / heads;
        let x = &self.xs[l];
        let tokens = x.len() / h;
        let spans = self.spans();
        let cache = &self.layers[l];
        let ix = |k: usize| p.layer(l, k);
        // y2 = LN2(r2): dr2.
        let mut dr2 = std::mem::take(&mut self.d2);
        {
            let (gg, gb) = two_mut(grads, ix(L::OUTPUT_NORM_G), ix(L::OUTPUT_NORM_B));
            norm_backward(
                &self.d,
                &cache.xhat2,
                &cache.rstd2,
                p.get(ix(L::OUTPUT_NORM_G)),
                &mut dr2,
                (gg, gb),
            );
        }
        // r2 = dropout(o) + y1: dy1 = dr2 (kept in self.d), do = dr2 ⊙ mask.
        std::mem::swap(&mut self.d, &mut dr2);
        let mut d_out = dr2;
        d_out.copy_from_slice(&self.d);
        cache.output_mask.apply(&mut d_out, 0);
        // o = g·Wo + bo.
        {
            let (gw, gb) = two_mut(grads, ix(L::OUTPUT_W), ix(L::OUTPUT_B));
            dense_backward(
                &cache.gelu,
                &d_out,
                tokens,
                &p.items[ix(L::OUTPUT_W)],
                (gw, gb),
                Some((&mut self.d_inner, false)),
            );
        }
        let width = p.items[ix(L::INTERMEDIATE_W)].cols;
        profile::timed("gelu backward", || {
            cache
                .inner
                .par_chunks(width * ROWS)
                .zip(self.d_inner.par_chunks_mut(width * ROWS))
                .for_each(|(i, d)| gelu_backward(i, d))
        });
        // i = y1·Wi + bi: dy1 += di·Wiᵀ.
        {
            let (gw, gb) = two_mut(grads, ix(L::INTERMEDIATE_W), ix(L::INTERMEDIATE_B));
            dense_backward(
                &cache.y1,
                &self.d_inner,
                tokens,
                &p.items[ix(L::INTERMEDIATE_W)],
                (gw, gb),
                Some((&mut self.d, true)),
            );
        }
        // y1 = LN1(r1): dr1.
        let mut dr1 = d_out;
        {
            let (gg, gb) = two_mut(grads, ix(L::ATTENTION_NORM_G), ix(L::ATTENTION_NORM_B));
            norm_backward(
                &self.d,
                &cache.xhat1,
                &cache.rstd1,
                p.get(ix(L::ATTENTION_NORM_G)),
                &mut dr1,
                (gg, gb),
            );
        }
        // r1 = dropout(a) + x: dx = dr1, da = dr1 ⊙ mask.
        std::mem::swap(&mut self.d, &mut dr1);
        let mut d_a = dr1;
        d_a.copy_from_slice(&self.d);
        cache.attention_mask.apply(&mut d_a, 0);
        {
            let (gw, gb) = two_mut(grads, ix(L::ATTENTION_OUT_W), ix(L::ATTENTION_OUT_B));
            dense_backward(
                &cache.context,
                &d_a,
                tokens,
                &p.items[ix(L::ATTENTION_OUT_W)],
                (gw, gb),
                Some((&mut self.d_context, false)),
            );
        }
        self.d2 = d_a;
        // Attention, sequence by sequence.
        self.d_qkv.clear();
        self.d_qkv.resize(tokens * 3 * h, 0.0);
        let scale = 1.0 / (dh as f32).sqrt();
        profile::timed("attention backward", || {
            let qkv = &cache.qkv;
            let d_context = &self.d_context;
            let mut d_qkv = split_by(&mut self.d_qkv, spans.iter().map(|(_, n)| n * 3 * h));
            let probs = split_ref(&cache.probs, spans.iter().map(|(_, n)| heads * n * n));
            let offsets = offsets(spans.iter().map(|(_, n)| heads * n * n));
            let probs_mask = &cache.probs_mask;
            d_qkv
                .par_iter_mut()
                .zip(probs.par_iter().zip(offsets.par_iter()))
                .zip(spans.par_iter())
                .for_each(|((dq, (probs, &offset)), &(start, n))| {
                    let (mut dp, mut dropped) = (vec![0.0f32; n * n], vec![0.0f32; n * n]);
                    for head in 0..heads {
                        let pr = &probs[head * n * n..(head + 1) * n * n];
                        let at = offset + head * n * n;
                        let q = view(qkv, start, head * dh, n, dh, 3 * h);
                        let k = view(qkv, start, h + head * dh, n, dh, 3 * h);
                        let v = view(qkv, start, 2 * h + head * dh, n, dh, 3 * h);
                        let dctx = view(d_context, start, head * dh, n, dh, h);
                        crate::nn::gemm::serial(|| {
                            // context = P̃·V: dP̃ = dctx·Vᵀ, dV = P̃ᵀ·dctx.
                            dropped.copy_from_slice(pr);
                            probs_mask.apply(&mut dropped, at);
                            let pd = view(&dropped, 0, 0, n, n, n);
                            matmul_into(
                                &mut view_mut(dq, 0, 2 * h + head * dh, n, dh, 3 * h),
                                pd.t(),
                                dctx,
                                false,
                            );
                            matmul_into(&mut view_mut(&mut dp, 0, 0, n, n, n), dctx, v.t(), false);
                            probs_mask.apply(&mut dp, at);
                            softmax_backward(pr, &mut dp, n, scale);
                            // S = Q·Kᵀ: dQ = dS·K, dK = dSᵀ·Q.
                            let ds = view(&dp, 0, 0, n, n, n);
                            matmul_into(
                                &mut view_mut(dq, 0, head * dh, n, dh, 3 * h),
                                ds,
                                k,
                                false,
                            );
                            matmul_into(
                                &mut view_mut(dq, 0, h + head * dh, n, dh, 3 * h),
                                ds.t(),
                                q,
                                false,
                            );
                        });
                    }
                });
        });
        // qkv = x·Wqkv + b: dx += dqkv·Wqkvᵀ (dx = dr1 is in self.d).
        let (gw, gb) = two_mut(grads, ix(L::QKV_W), ix(L::QKV_B));
        let dx = need_dx.then_some((&mut self.d, true));
        dense_backward(x, &self.d_qkv, tokens, &p.items[ix(L::QKV_W)], (gw, gb), dx);
    }

    fn embedding_backward(&mut self, p: &Params, grads: &mut [Vec<f32>]) {
        profile::timed("embedding backward", || {
            let h = p.config.hidden_size;
            self.embedding_mask.apply(&mut self.d, 0);
            let mut dx = std::mem::take(&mut self.d2);
            {
                let (gg, gb) = two_mut(grads, params::EMBEDDING_NORM_G, params::EMBEDDING_NORM_B);
                norm_backward(
                    &self.d,
                    &self.embedding_xhat,
                    &self.embedding_rstd,
                    p.get(params::EMBEDDING_NORM_G),
                    &mut dx,
                    (gg, gb),
                );
            }
            // x = word[id] + position[p] + type₀: scatter the rows (in order, so
            // the sums are the same on every run).
            for (t, row) in dx.chunks_exact(h).enumerate() {
                let id = self.ids[t] as usize;
                let pos = self.positions[t];
                for (g, v) in grads[params::WORDS][id * h..(id + 1) * h]
                    .iter_mut()
                    .zip(row)
                {
                    *g += v;
                }
                for (g, v) in grads[params::POSITIONS][pos * h..(pos + 1) * h]
                    .iter_mut()
                    .zip(row)
                {
                    *g += v;
                }
            }
            column_sums(&dx, h, &mut grads[params::TOKEN_TYPE]);
            self.d2 = dx;
        })
    }
}

/// The backward of `y = x·W + b` for `dy` (tokens × outputs): dW ← xᵀ·dy,
/// db += Σ dy, and, when `dx` is given, dx (+)= dy·Wᵀ.
fn dense_backward(
    x: &[f32],
    dy: &[f32],
    tokens: usize,
    w: &params::Param,
    grads: (&mut [f32], &mut [f32]),
    dx: Option<(&mut Vec<f32>, bool)>,
) {
    profile::timed("dense backward", || {
        let (inputs, outputs) = (w.rows, w.cols);
        let (dw, db) = grads;
        let xv = view(x, 0, 0, tokens, inputs, inputs);
        let dyv = view(dy, 0, 0, tokens, outputs, outputs);
        // Each weight gets one product per step: written, not accumulated.
        profile::timed("dW", || {
            matmul_into(
                &mut view_mut(dw, 0, 0, inputs, outputs, outputs),
                xv.t(),
                dyv,
                false,
            )
        });
        profile::timed("db", || column_sums(dy, outputs, db));
        if let Some((dx, accumulate)) = dx {
            if !accumulate {
                resize_for_overwrite(dx, tokens * inputs);
            }
            let wv = view(&w.data, 0, 0, inputs, outputs, outputs);
            profile::timed(if accumulate { "dx acc" } else { "dx" }, || {
                matmul_into(
                    &mut view_mut(dx, 0, 0, tokens, inputs, inputs),
                    dyv,
                    wv.t(),
                    accumulate,
                )
            });
        }
    })
}

/// `out` += the sum of the rows of `m` (rows of `width`), in a fixed order
/// (blocks of rows summed in parallel, then the blocks in turn).
fn column_sums(m: &[f32], width: usize, out: &mut [f32]) {
    const BLOCK: usize = 256;
    let partial: Vec<Vec<f32>> = m
        .par_chunks(width * BLOCK)
        .map(|block| {
            let mut acc = vec![0.0f32; width];
            for row in block.chunks_exact(width) {
                for (a, v) in acc.iter_mut().zip(row) {
                    *a += v;
                }
            }
            acc
        })
        .collect();
    for p in partial {
        for (o, v) in out.iter_mut().zip(p) {
            *o += v;
        }
    }
}

/// Layer norm backward over all rows: `dx` ← …, and its parameters'
/// gradients accumulated (block partials summed in a fixed order).
fn norm_backward(
    dy: &[f32],
    xhat: &[f32],
    rstd: &[f32],
    gamma: &[f32],
    dx: &mut Vec<f32>,
    grads: (&mut [f32], &mut [f32]),
) {
    profile::timed("layer norm backward", || {
        let h = gamma.len();
        dx.resize(dy.len(), 0.0);
        let partial: Vec<(Vec<f32>, Vec<f32>)> = dy
            .par_chunks(h * ROWS)
            .zip(xhat.par_chunks(h * ROWS))
            .zip(rstd.par_chunks(ROWS))
            .zip(dx.par_chunks_mut(h * ROWS))
            .map(|(((d, xh), r), out)| {
                let (mut dg, mut db) = (vec![0.0f32; h], vec![0.0f32; h]);
                layer_norm_backward(d, xh, r, gamma, out, &mut dg, &mut db);
                (dg, db)
            })
            .collect();
        let (dg, db) = grads;
        for (pg, pb) in partial {
            for (o, v) in dg.iter_mut().zip(pg) {
                *o += v;
            }
            for (o, v) in db.iter_mut().zip(pb) {
                *o += v;
            }
        }
    })
}

/// The gradient at the packed hidden states from the one at the pooled rows.
fn pooling_backward(
    pooling: Pooling,
    hidden: &[f32],
    lengths: &[usize],
    h: usize,
    d_pooled: &[f32],
) -> Vec<f32> {
    profile::timed("pooling backward", || {
        let mut d = vec![0.0f32; hidden.len()];
        let mut start = 0;
        for (b, &len) in lengths.iter().enumerate() {
            let dp = &d_pooled[b * h..(b + 1) * h];
            let rows = &mut d[start * h..(start + len) * h];
            match pooling {
                Pooling::Mean | Pooling::MeanSqrtLen => {
                    let divisor = if pooling == Pooling::Mean {
                        len as f32
                    } else {
                        (len as f32).sqrt()
                    };
                    for row in rows.chunks_exact_mut(h) {
                        for (r, g) in row.iter_mut().zip(dp) {
                            *r = g / divisor;
                        }
                    }
                }
                Pooling::Cls => rows[..h].copy_from_slice(dp),
                Pooling::Max => {
                    // The gradient goes to the first token holding each maximum.
                    let seq = &hidden[start * h..(start + len) * h];
                    for j in 0..h {
                        let best = (0..len)
                            .max_by(|&a, &b| {
                                seq[a * h + j].total_cmp(&seq[b * h + j]).then(b.cmp(&a))
                            })
                            .unwrap_or(0);
                        rows[best * h + j] = dp[j];
                    }
                }
            }
            start += len;
        }
        d
    })
}

fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Two distinct elements of `v`, mutably.
fn two_mut(v: &mut [Vec<f32>], a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
    assert!(a < b, "two_mut: indices in order");
    let (lo, hi) = v.split_at_mut(b);
    (&mut lo[a], &mut hi[0])
}
