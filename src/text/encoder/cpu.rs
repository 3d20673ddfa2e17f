//! The BERT forward on the CPU, for throughput: the weights of the candle
//! model copied into plain arrays, each batch's sequences packed end to end
//! (no padding, no mask: the products run over real tokens only, and each
//! sequence attends within itself), every product on the gemm crate with
//! the bias (and the residual) already in the output, and the element-wise
//! steps fused and vectorised (`kernels`). One call runs on the calling
//! thread's core; the encoder runs one batch per core. Buffers are reused
//! from batch to batch (`Scratch`).
//!
//! Why not candle's own CPU ops: measured on 1,000 overviews (2 cores),
//! the candle forward ran 58 overviews/s, 13 % of its time in libm's scalar
//! `erf`, 7 % in `expf`, 12 % in the kernel zeroing fresh pages for each
//! op's new tensor, and its parallel element-wise ops serialise concurrent
//! callers behind one lock; this forward runs the same numbers (within
//! 1e-6, tests/encoder.rs) several times faster (BENCHMARKS.md).

use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};

use crate::nn::gemm::matmul_into;
use crate::text::encoder::bert::{Activation, Bert};
use crate::text::encoder::kernels;

/// y = x·W + b with W stored (inputs × outputs).
struct Dense {
    w: Array2<f32>,
    b: Vec<f32>,
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct CpuLayer {
    qkv: Dense,
    attention_out: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

pub struct CpuBert {
    words: Array2<f32>,
    positions: Array2<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<CpuLayer>,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    activation: Activation,
    eps: f32,
}

/// Buffers one worker reuses from batch to batch.
#[derive(Default)]
pub struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    context: Vec<f32>,
    attended: Vec<f32>,
    inner: Vec<f32>,
    scores: Vec<f32>,
}

fn matrix(t: &candle_core::Tensor) -> candle_core::Result<Array2<f32>> {
    let (r, c) = t.dims2()?;
    Array2::from_shape_vec((r, c), t.flatten_all()?.to_vec1::<f32>()?)
        .map_err(|e| candle_core::Error::Msg(e.to_string()))
}

fn dense(l: &candle_nn::Linear) -> candle_core::Result<Dense> {
    let b = match l.bias() {
        Some(b) => b.to_vec1::<f32>()?,
        None => vec![0.0; l.weight().dim(0)?],
    };
    // torch keeps (outputs × inputs); the products want (inputs × outputs).
    Ok(Dense {
        w: matrix(l.weight())?.t().as_standard_layout().into_owned(),
        b,
    })
}

fn norm(n: &candle_nn::LayerNorm) -> candle_core::Result<Norm> {
    let gamma = n.weight().to_vec1::<f32>()?;
    let beta = match n.bias() {
        Some(b) => b.to_vec1::<f32>()?,
        None => vec![0.0; gamma.len()],
    };
    Ok(Norm { gamma, beta })
}

/// The elements a `rows` × `cols` window from (`row`, `col`) spans in a
/// buffer whose rows are `stride` apart.
fn window(
    row: usize,
    col: usize,
    rows: usize,
    cols: usize,
    stride: usize,
) -> std::ops::Range<usize> {
    let start = row * stride + col;
    if rows == 0 {
        return start..start;
    }
    start..start + (rows - 1) * stride + cols
}

/// `rows` × `cols` of `data` from (`row`, `col`), rows `stride` apart.
pub(crate) fn view(
    data: &[f32],
    row: usize,
    col: usize,
    rows: usize,
    cols: usize,
    stride: usize,
) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape(
        (rows, cols).strides((stride, 1)),
        &data[window(row, col, rows, cols, stride)],
    )
    .expect("view: the window lies inside the buffer")
}

/// As [`view`], mutable.
pub(crate) fn view_mut(
    data: &mut [f32],
    row: usize,
    col: usize,
    rows: usize,
    cols: usize,
    stride: usize,
) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape(
        (rows, cols).strides((stride, 1)),
        &mut data[window(row, col, rows, cols, stride)],
    )
    .expect("view: the window lies inside the buffer")
}

/// `out` (tokens × outputs) ← x·W + b, plus `residual` when given.
fn apply(layer: &Dense, x: &[f32], tokens: usize, residual: Option<&[f32]>, out: &mut Vec<f32>) {
    let (inputs, outputs) = layer.w.dim();
    out.clear();
    out.resize(tokens * outputs, 0.0);
    match residual {
        Some(r) => {
            for (o, r) in out.chunks_exact_mut(outputs).zip(r.chunks_exact(outputs)) {
                for ((o, r), b) in o.iter_mut().zip(r).zip(&layer.b) {
                    *o = r + b;
                }
            }
        }
        None => {
            for o in out.chunks_exact_mut(outputs) {
                o.copy_from_slice(&layer.b);
            }
        }
    }
    let a = view(x, 0, 0, tokens, inputs, inputs);
    let mut c = view_mut(out, 0, 0, tokens, outputs, outputs);
    matmul_into(&mut c, a, layer.w.view(), true);
}

impl CpuBert {
    pub fn from_candle(bert: &Bert) -> candle_core::Result<CpuBert> {
        let e = &bert.embeddings;
        let layers = bert
            .layers
            .iter()
            .map(|l| {
                Ok(CpuLayer {
                    qkv: dense(&l.qkv)?,
                    attention_out: dense(&l.attention_out)?,
                    attention_norm: norm(&l.attention_norm)?,
                    intermediate: dense(&l.intermediate)?,
                    output: dense(&l.output)?,
                    output_norm: norm(&l.output_norm)?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(CpuBert {
            words: matrix(e.words.embeddings())?,
            positions: matrix(&e.positions)?,
            token_type: e.token_type.flatten_all()?.to_vec1::<f32>()?,
            embedding_norm: norm(&e.norm)?,
            layers,
            heads: bert.heads,
            head_dim: bert.head_dim,
            hidden: bert.hidden_size(),
            activation: bert.activation,
            eps: bert.eps as f32,
        })
    }

    /// The last hidden states of `sequences` (token ids, each at most as
    /// long as the position table, ids inside the vocabulary), packed: the
    /// rows of the first sequence, then the second's, … (tokens × hidden).
    pub fn forward<'s>(&self, sequences: &[&[u32]], scratch: &'s mut Scratch) -> &'s [f32] {
        let h = self.hidden;
        let tokens: usize = sequences.iter().map(|s| s.len()).sum();
        let Scratch {
            x,
            qkv,
            context,
            attended,
            inner,
            scores,
        } = scratch;
        x.clear();
        x.resize(tokens * h, 0.0);
        let mut rows = x.chunks_exact_mut(h);
        for seq in sequences {
            for (p, &id) in seq.iter().enumerate() {
                let (Some(row), Some(word), Some(position)) = (
                    rows.next(),
                    self.words.row(id as usize).to_slice(),
                    self.positions.row(p).to_slice(),
                ) else {
                    continue;
                };
                for (((x, w), p), t) in row.iter_mut().zip(word).zip(position).zip(&self.token_type)
                {
                    *x = w + p + t;
                }
            }
        }
        let en = &self.embedding_norm;
        kernels::layer_norm_rows(x, &en.gamma, &en.beta, self.eps);
        let scale = 1.0 / (self.head_dim as f32).sqrt();
        for layer in &self.layers {
            apply(&layer.qkv, x, tokens, None, qkv);
            context.clear();
            context.resize(tokens * h, 0.0);
            let mut start = 0;
            for seq in sequences {
                self.attend(qkv, start, seq.len(), scale, scores, context);
                start += seq.len();
            }
            apply(&layer.attention_out, context, tokens, Some(x), attended);
            let an = &layer.attention_norm;
            kernels::layer_norm_rows(attended, &an.gamma, &an.beta, self.eps);
            apply(&layer.intermediate, attended, tokens, None, inner);
            match self.activation {
                Activation::Gelu => kernels::gelu(inner),
                Activation::Relu => kernels::relu(inner),
            }
            apply(&layer.output, inner, tokens, Some(attended), x);
            let on = &layer.output_norm;
            kernels::layer_norm_rows(x, &on.gamma, &on.beta, self.eps);
        }
        x
    }

    /// Self-attention of one sequence (`len` tokens from token `start`),
    /// head by head, into its rows of `context`.
    fn attend(
        &self,
        qkv: &[f32],
        start: usize,
        len: usize,
        scale: f32,
        scores: &mut Vec<f32>,
        context: &mut [f32],
    ) {
        let (h, dh) = (self.hidden, self.head_dim);
        scores.resize(len * len, 0.0);
        for head in 0..self.heads {
            let q = view(qkv, start, head * dh, len, dh, 3 * h);
            let k = view(qkv, start, h + head * dh, len, dh, 3 * h);
            let v = view(qkv, start, 2 * h + head * dh, len, dh, 3 * h);
            let mut s = view_mut(scores, 0, 0, len, len, len);
            matmul_into(&mut s, q, k.t(), false);
            kernels::softmax_rows(scores, len, scale);
            let p = view(scores, 0, 0, len, len, len);
            let mut out = view_mut(context, start, head * dh, len, dh, h);
            matmul_into(&mut out, p, v, false);
        }
    }
}
