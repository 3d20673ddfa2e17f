//! MobileNetV2's layers for training, forward and backward, on channels-last
//! batches (`Maps`): 1 × 1 convolutions (one matrix product over every pixel
//! of the batch), the depthwise 3 × 3 convolution (loops over contiguous
//! channels, one image per task), the stem's dense 3 × 3 convolution
//! (im2col), batch norm with frozen or batch statistics, ReLU6, global
//! average pooling and the linear classifier. Written on the project's own
//! layout rather than candle: candle's CPU convolutions are NCHW and one
//! call per group, ten times slower here (see `vision::layers`).
//!
//! Weights are in the compute layout of `vision::layers::Conv2d`:
//! pointwise `[ci][co]`, depthwise `[ky·3 + kx][c]`, dense
//! `[(ky·3 + kx)·cin + ci][co]`; [`to_compute`] and [`to_torch`] convert
//! from and to PyTorch's OIHW.

use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use crate::nn::gemm::matmul_into;
use crate::vision::layers::Maps;

/// A convolution without bias (each is followed by a batch norm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    /// 1 × 1, stride 1.
    Pointwise,
    /// 3 × 3 per channel, padding 1.
    Depthwise { stride: usize },
    /// 3 × 3 over every input channel, padding 1 (the stem).
    Dense { stride: usize },
}

impl Conv {
    pub fn stride(self) -> usize {
        match self {
            Conv::Pointwise => 1,
            Conv::Depthwise { stride } | Conv::Dense { stride } => stride,
        }
    }

    /// Output size of an input side (padding 1 for 3 × 3).
    pub fn out_size(self, size: usize) -> usize {
        match self {
            Conv::Pointwise => size,
            _ => (size + 2 - 3) / self.stride() + 1,
        }
    }

    /// PyTorch's weight shape `[cout, cin / groups, k, k]`.
    pub fn torch_shape(self, cin: usize, cout: usize) -> Vec<usize> {
        match self {
            Conv::Pointwise => vec![cout, cin, 1, 1],
            Conv::Depthwise { .. } => vec![cout, 1, 3, 3],
            Conv::Dense { .. } => vec![cout, cin, 3, 3],
        }
    }
}

/// PyTorch's OIHW weight in the compute layout.
pub fn to_compute(conv: Conv, torch: &[f32], cin: usize, cout: usize) -> Vec<f32> {
    let mut out = vec![0f32; torch.len()];
    for_each_weight(conv, cin, cout, |t, c| out[c] = torch[t]);
    out
}

/// The compute layout back to PyTorch's OIHW.
pub fn to_torch(conv: Conv, compute: &[f32], cin: usize, cout: usize) -> Vec<f32> {
    let mut out = vec![0f32; compute.len()];
    for_each_weight(conv, cin, cout, |t, c| out[t] = compute[c]);
    out
}

/// Calls `f(torch index, compute index)` for every weight.
fn for_each_weight(conv: Conv, cin: usize, cout: usize, mut f: impl FnMut(usize, usize)) {
    match conv {
        Conv::Pointwise => {
            (0..cout).for_each(|co| (0..cin).for_each(|ci| f(co * cin + ci, ci * cout + co)))
        }
        Conv::Depthwise { .. } => {
            (0..cout).for_each(|c| (0..9).for_each(|p| f(c * 9 + p, p * cout + c)))
        }
        Conv::Dense { .. } => (0..cout).for_each(|co| {
            (0..cin).for_each(|ci| {
                (0..9).for_each(|p| f((co * cin + ci) * 9 + p, (p * cin + ci) * cout + co))
            })
        }),
    }
}

fn maps_like(x: &Maps, h: usize, w: usize, c: usize) -> Maps {
    Maps {
        n: x.n,
        h,
        w,
        c,
        data: vec![0f32; x.n * h * w * c],
    }
}

/// `z = conv(x, weight)`.
pub fn conv_forward(conv: Conv, x: &Maps, weight: &[f32], cout: usize) -> Maps {
    let (oh, ow) = (conv.out_size(x.h), conv.out_size(x.w));
    let mut z = maps_like(x, oh, ow, cout);
    match conv {
        Conv::Pointwise => {
            let pixels = x.n * x.h * x.w;
            let a = ArrayView2::from_shape((pixels, x.c), &x.data).expect("input shape");
            let b = ArrayView2::from_shape((x.c, cout), weight).expect("weight shape");
            let mut c = ArrayViewMut2::from_shape((pixels, cout), &mut z.data).expect("output");
            matmul_into(&mut c, a, b, false);
        }
        Conv::Depthwise { stride } => {
            // The inference kernel (vectorised for this CPU), with no bias:
            // the same sums in the same order.
            let conv = crate::vision::layers::Conv2d::depthwise_compute(weight, cout, stride);
            return conv.forward(x).expect("channels agree");
        }
        Conv::Dense { stride } => {
            let per = oh * ow * cout;
            z.data.par_chunks_mut(per).enumerate().for_each(|(i, out)| {
                let patches = im2col(x, i, oh, ow, stride);
                let a = ArrayView2::from_shape((oh * ow, 9 * x.c), &patches).expect("patches");
                let b = ArrayView2::from_shape((9 * x.c, cout), weight).expect("weight");
                let mut c = ArrayViewMut2::from_shape((oh * ow, cout), out).expect("output");
                crate::nn::gemm::serial(|| matmul_into(&mut c, a, b, false));
            });
        }
    }
    z
}

/// The in-bounds taps of output row `oy` of image `i` for a 3 × 3 kernel
/// with padding 1: (ky, kx, output column, offset of the input pixel).
fn taps(
    x: &Maps,
    i: usize,
    oy: usize,
    ow: usize,
    stride: usize,
) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
    (0..3).flat_map(move |ky| {
        let iy = (oy * stride + ky) as isize - 1;
        let row_ok = iy >= 0 && (iy as usize) < x.h;
        (0..3).flat_map(move |kx| {
            (0..ow).filter_map(move |ox| {
                let ix = (ox * stride + kx) as isize - 1;
                (row_ok && ix >= 0 && (ix as usize) < x.w).then(|| {
                    (
                        ky,
                        kx,
                        ox,
                        ((i * x.h + iy as usize) * x.w + ix as usize) * x.c,
                    )
                })
            })
        })
    })
}

/// Image `i`'s 3 × 3 patches: a row per output pixel, columns (ky, kx, ci).
fn im2col(x: &Maps, i: usize, oh: usize, ow: usize, stride: usize) -> Vec<f32> {
    let cols = 9 * x.c;
    let mut patches = vec![0f32; oh * ow * cols];
    for oy in 0..oh {
        for (ky, kx, ox, src) in taps(x, i, oy, ow, stride) {
            let at = (oy * ow + ox) * cols + (ky * 3 + kx) * x.c;
            patches[at..at + x.c].copy_from_slice(&x.data[src..src + x.c]);
        }
    }
    patches
}

/// Gradients of `z = conv(x, weight)`: `dweight` is written whole; the
/// input's gradient is returned when asked for (the stem's input is the
/// image, which needs none).
pub fn conv_backward(
    conv: Conv,
    x: &Maps,
    dz: &Maps,
    weight: &[f32],
    dweight: &mut [f32],
    want_dx: bool,
) -> Option<Maps> {
    let cout = dz.c;
    match conv {
        Conv::Pointwise => {
            let pixels = x.n * x.h * x.w;
            let xs = ArrayView2::from_shape((pixels, x.c), &x.data).expect("input");
            let dzs = ArrayView2::from_shape((pixels, cout), &dz.data).expect("gradient");
            let mut dw = ArrayViewMut2::from_shape((x.c, cout), dweight).expect("weight");
            matmul_into(&mut dw, xs.t(), dzs, false);
            want_dx.then(|| {
                let mut dx = maps_like(x, x.h, x.w, x.c);
                let w = ArrayView2::from_shape((x.c, cout), weight).expect("weight");
                let mut d = ArrayViewMut2::from_shape((pixels, x.c), &mut dx.data).expect("dx");
                matmul_into(&mut d, dzs, w.t(), false);
                dx
            })
        }
        Conv::Depthwise { stride } => {
            let c = cout;
            let (oh, ow) = (dz.h, dz.w);
            // Per image: its share of the weight gradient, and its input
            // gradient (images never share input pixels).
            let mut dx = want_dx.then(|| maps_like(x, x.h, x.w, c));
            let per_in = x.h * x.w * c;
            let parts: Vec<Vec<f32>> = match dx.as_mut() {
                Some(dx) => dx
                    .data
                    .par_chunks_mut(per_in)
                    .enumerate()
                    .map(|(i, dxi)| {
                        depthwise_image_backward(x, dz, weight, i, oh, ow, stride, Some(dxi))
                    })
                    .collect(),
                None => (0..x.n)
                    .into_par_iter()
                    .map(|i| depthwise_image_backward(x, dz, weight, i, oh, ow, stride, None))
                    .collect(),
            };
            dweight.fill(0.0);
            for part in parts {
                dweight.iter_mut().zip(&part).for_each(|(d, p)| *d += p);
            }
            dx
        }
        Conv::Dense { stride } => {
            let (oh, ow) = (dz.h, dz.w);
            let cols = 9 * x.c;
            let parts: Vec<Vec<f32>> = (0..x.n)
                .into_par_iter()
                .map(|i| {
                    let patches = im2col(x, i, oh, ow, stride);
                    let a = ArrayView2::from_shape((oh * ow, cols), &patches).expect("patches");
                    let per = oh * ow * cout;
                    let g =
                        ArrayView2::from_shape((oh * ow, cout), &dz.data[i * per..(i + 1) * per])
                            .expect("gradient");
                    let mut part = vec![0f32; cols * cout];
                    let mut d = ArrayViewMut2::from_shape((cols, cout), &mut part).expect("dw");
                    crate::nn::gemm::serial(|| matmul_into(&mut d, a.t(), g, false));
                    part
                })
                .collect();
            dweight.fill(0.0);
            for part in parts {
                dweight.iter_mut().zip(&part).for_each(|(d, p)| *d += p);
            }
            // The stem's input is the image: no gradient is ever needed.
            debug_assert!(!want_dx, "the dense convolution is the stem's");
            None
        }
    }
}

/// One image of the depthwise backward: returns its weight gradient and
/// writes its input gradient into `dx` when given. Compiled again for
/// AVX-512 and AVX2 (the crate targets baseline x86-64), as the forward.
#[allow(clippy::too_many_arguments)]
fn depthwise_image_backward(
    x: &Maps,
    dz: &Maps,
    weight: &[f32],
    i: usize,
    oh: usize,
    ow: usize,
    stride: usize,
    dx: Option<&mut [f32]>,
) -> Vec<f32> {
    use crate::vision::layers::Wide;
    match Wide::detect() {
        // SAFETY: `Wide::detect` found these features on this CPU.
        #[cfg(target_arch = "x86_64")]
        Wide::Avx512 => unsafe {
            depthwise_backward_avx512(x, dz, weight, i, (oh, ow, stride), dx)
        },
        #[cfg(target_arch = "x86_64")]
        Wide::Avx2 => unsafe { depthwise_backward_avx2(x, dz, weight, i, (oh, ow, stride), dx) },
        Wide::Baseline => depthwise_backward(x, dz, weight, i, (oh, ow, stride), dx),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn depthwise_backward_avx512(
    x: &Maps,
    dz: &Maps,
    w: &[f32],
    i: usize,
    shape: (usize, usize, usize),
    dx: Option<&mut [f32]>,
) -> Vec<f32> {
    depthwise_backward(x, dz, w, i, shape, dx)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn depthwise_backward_avx2(
    x: &Maps,
    dz: &Maps,
    w: &[f32],
    i: usize,
    shape: (usize, usize, usize),
    dx: Option<&mut [f32]>,
) -> Vec<f32> {
    depthwise_backward(x, dz, w, i, shape, dx)
}

#[inline(always)]
fn depthwise_backward(
    x: &Maps,
    dz: &Maps,
    weight: &[f32],
    i: usize,
    (oh, ow, stride): (usize, usize, usize),
    mut dx: Option<&mut [f32]>,
) -> Vec<f32> {
    let c = dz.c;
    let mut dw = vec![0f32; 9 * c];
    let image = &x.data[i * x.h * x.w * c..(i + 1) * x.h * x.w * c];
    for oy in 0..oh {
        let grad_row = &dz.data[(i * oh + oy) * ow * c..(i * oh + oy + 1) * ow * c];
        for ky in 0..3 {
            let iy = (oy * stride + ky) as isize - 1;
            if iy < 0 || iy as usize >= x.h {
                continue;
            }
            let line = iy as usize * x.w * c;
            for kx in 0..3 {
                let tap = (ky * 3 + kx) * c;
                let (d, w) = (&mut dw[tap..tap + c], &weight[tap..tap + c]);
                for ox in 0..ow {
                    let ix = (ox * stride + kx) as isize - 1;
                    if ix < 0 || ix as usize >= x.w {
                        continue;
                    }
                    let at = line + ix as usize * c;
                    let g = &grad_row[ox * c..(ox + 1) * c];
                    for ((d, g), s) in d.iter_mut().zip(g).zip(&image[at..at + c]) {
                        *d += g * s;
                    }
                    if let Some(dx) = dx.as_deref_mut() {
                        for ((d, g), w) in dx[at..at + c].iter_mut().zip(g).zip(w) {
                            *d += g * w;
                        }
                    }
                }
            }
        }
    }
    dw
}

/// Whether batch norm normalises with the running statistics (frozen, as
/// in `eval()`) or with the batch's own (PyTorch's `train()`), which then
/// also move the running statistics (momentum 0.1, unbiased variance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    Frozen,
    Batch,
}

pub const BN_EPS: f32 = 1e-5;
const BN_MOMENTUM: f32 = 0.1;

/// What a batch norm's backward needs: the normalised input and each
/// channel's 1 / σ.
pub struct NormTape {
    pub xhat: Vec<f32>,
    pub inv_std: Vec<f32>,
}

/// The batch norm's parameters and running statistics.
pub struct NormParams<'a> {
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub mean: &'a mut [f32],
    pub var: &'a mut [f32],
}

/// `z ← γ·(z − μ)/σ + β` in place, per channel (the last axis).
pub fn norm_forward(z: &mut Maps, p: NormParams, mode: Norm, keep: bool) -> Option<NormTape> {
    let c = z.c;
    let (mean, inv_std): (Vec<f32>, Vec<f32>) = match mode {
        Norm::Frozen => (
            p.mean.to_vec(),
            p.var.iter().map(|v| 1.0 / (v + BN_EPS).sqrt()).collect(),
        ),
        Norm::Batch => {
            let m = (z.data.len() / c) as f64;
            let (sum, sq) =
                channel_sums(&z.data, c, |v| (f64::from(v), f64::from(v) * f64::from(v)));
            let mean: Vec<f64> = sum.iter().map(|s| s / m).collect();
            let var: Vec<f64> = sq
                .iter()
                .zip(&mean)
                .map(|(s, mu)| (s / m - mu * mu).max(0.0))
                .collect();
            for ch in 0..c {
                let unbiased = var[ch] * m / (m - 1.0).max(1.0);
                p.mean[ch] = (1.0 - BN_MOMENTUM) * p.mean[ch] + BN_MOMENTUM * mean[ch] as f32;
                p.var[ch] = (1.0 - BN_MOMENTUM) * p.var[ch] + BN_MOMENTUM * unbiased as f32;
            }
            (
                mean.iter().map(|v| *v as f32).collect(),
                var.iter()
                    .map(|v| (1.0 / (v + f64::from(BN_EPS)).sqrt()) as f32)
                    .collect(),
            )
        }
    };
    // Branch-free loops over contiguous channels, so that they vectorise.
    let normalise = |px: &mut [f32], xp: &mut [f32]| {
        for (((x, v), m), s) in xp.iter_mut().zip(px.iter()).zip(&mean).zip(&inv_std) {
            *x = (v - m) * s;
        }
        for (((v, x), g), b) in px.iter_mut().zip(xp.iter()).zip(p.gamma).zip(p.beta) {
            *v = g * x + b;
        }
    };
    let chunk = c * 256;
    let mut xhat = vec![0f32; if keep { z.data.len() } else { 0 }];
    if keep {
        z.data
            .par_chunks_mut(chunk)
            .zip(xhat.par_chunks_mut(chunk))
            .for_each(|(zs, xs)| {
                for (px, xp) in zs.chunks_exact_mut(c).zip(xs.chunks_exact_mut(c)) {
                    normalise(px, xp);
                }
            });
    } else {
        z.data.par_chunks_mut(chunk).for_each(|zs| {
            let mut xp = vec![0f32; c];
            for px in zs.chunks_exact_mut(c) {
                normalise(px, &mut xp);
            }
        });
    }
    keep.then_some(NormTape { xhat, inv_std })
}

/// Per channel, the sums of `f(value)`'s two parts over every pixel.
fn channel_sums(
    data: &[f32],
    c: usize,
    f: impl Fn(f32) -> (f64, f64) + Sync,
) -> (Vec<f64>, Vec<f64>) {
    data.par_chunks(c * 256)
        .map(|part| {
            let (mut a, mut b) = (vec![0f64; c], vec![0f64; c]);
            for px in part.chunks(c) {
                for ch in 0..c {
                    let (u, v) = f(px[ch]);
                    a[ch] += u;
                    b[ch] += v;
                }
            }
            (a, b)
        })
        .reduce(
            || (vec![0f64; c], vec![0f64; c]),
            |(mut a, mut b), (u, v)| {
                a.iter_mut().zip(&u).for_each(|(a, u)| *a += u);
                b.iter_mut().zip(&v).for_each(|(b, v)| *b += v);
                (a, b)
            },
        )
}

/// Gradients of the batch norm: `du` (the output's gradient) becomes the
/// input's in place; `dgamma` and `dbeta` are written whole.
pub fn norm_backward(
    du: &mut Maps,
    tape: &NormTape,
    gamma: &[f32],
    mode: Norm,
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let c = du.c;
    let m = (du.data.len() / c) as f32;
    // Σ du·x̂ and Σ du per channel: f32 sums over 256 pixels (vectorised),
    // added up in f64.
    let (sum_dx, sum_d) = {
        let parts: Vec<(Vec<f32>, Vec<f32>)> = du
            .data
            .par_chunks(c * 256)
            .zip(tape.xhat.par_chunks(c * 256))
            .map(|(d, x)| {
                let (mut a, mut b) = (vec![0f32; c], vec![0f32; c]);
                for (dp, xp) in d.chunks_exact(c).zip(x.chunks_exact(c)) {
                    for (((a, b), d), x) in a.iter_mut().zip(b.iter_mut()).zip(dp).zip(xp) {
                        *a += d * x;
                        *b += d;
                    }
                }
                (a, b)
            })
            .collect();
        let (mut a, mut b) = (vec![0f64; c], vec![0f64; c]);
        for (u, v) in parts {
            a.iter_mut().zip(&u).for_each(|(a, u)| *a += f64::from(*u));
            b.iter_mut().zip(&v).for_each(|(b, v)| *b += f64::from(*v));
        }
        (a, b)
    };
    for ch in 0..c {
        dgamma[ch] = sum_dx[ch] as f32;
        dbeta[ch] = sum_d[ch] as f32;
    }
    let scale: Vec<f32> = (0..c).map(|ch| gamma[ch] * tape.inv_std[ch]).collect();
    let (mean_d, mean_dx): (Vec<f32>, Vec<f32>) = match mode {
        Norm::Frozen => (vec![0.0; c], vec![0.0; c]),
        Norm::Batch => (
            sum_d.iter().map(|s| (*s / f64::from(m)) as f32).collect(),
            sum_dx.iter().map(|s| (*s / f64::from(m)) as f32).collect(),
        ),
    };
    du.data
        .par_chunks_mut(c * 256)
        .zip(tape.xhat.par_chunks(c * 256))
        .for_each(|(d, x)| {
            for (dp, xp) in d.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
                for ((((d, x), s), md), mx) in
                    dp.iter_mut().zip(xp).zip(&scale).zip(&mean_d).zip(&mean_dx)
                {
                    *d = s * (*d - md - x * mx);
                }
            }
        });
}

/// ReLU6 in place.
pub fn relu6(z: &mut Maps) {
    z.data
        .par_chunks_mut(1 << 14)
        .for_each(|c| c.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)));
}

/// ReLU6's backward from its output `y`: the gradient passes where
/// 0 < y < 6 (PyTorch's hardtanh backward), in place.
pub fn relu6_backward(dy: &mut Maps, y: &Maps) {
    dy.data
        .par_chunks_mut(1 << 14)
        .zip(y.data.par_chunks(1 << 14))
        .for_each(|(d, y)| {
            d.iter_mut().zip(y).for_each(|(d, y)| {
                if *y <= 0.0 || *y >= 6.0 {
                    *d = 0.0
                }
            })
        });
}

/// The gradient of a global average pool: each position gets its image's
/// channel gradient divided by the positions.
pub fn average_backward(dpooled: &[f32], n: usize, h: usize, w: usize, c: usize) -> Maps {
    let mut d = Maps {
        n,
        h,
        w,
        c,
        data: vec![0f32; n * h * w * c],
    };
    let plane = (h * w) as f32;
    d.data
        .par_chunks_mut(h * w * c)
        .enumerate()
        .for_each(|(i, image)| {
            let g = &dpooled[i * c..(i + 1) * c];
            for px in image.chunks_mut(c) {
                px.iter_mut().zip(g).for_each(|(p, g)| *p = g / plane);
            }
        });
    d
}

/// `x · wᵀ + b` for a PyTorch `Linear` weight `w` (`[out, in]`), rows of `x`.
pub fn linear_forward(x: &[f32], rows: usize, w: &[f32], b: &[f32]) -> Vec<f32> {
    let (outs, ins) = (b.len(), w.len() / b.len().max(1));
    let mut y: Vec<f32> = (0..rows).flat_map(|_| b.iter().copied()).collect();
    let xs = ArrayView2::from_shape((rows, ins), x).expect("input");
    let ws = ArrayView2::from_shape((outs, ins), w).expect("weight");
    let mut ys = ArrayViewMut2::from_shape((rows, outs), &mut y).expect("output");
    matmul_into(&mut ys, xs, ws.t(), true);
    y
}

/// Gradients of the linear layer: `dw`, `db` written whole; returns `dx`.
pub fn linear_backward(
    x: &[f32],
    dy: &[f32],
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
) -> Vec<f32> {
    let outs = db.len();
    let ins = w.len() / outs.max(1);
    let rows = dy.len() / outs.max(1);
    let xs = ArrayView2::from_shape((rows, ins), x).expect("input");
    let dys = ArrayView2::from_shape((rows, outs), dy).expect("gradient");
    let mut dws = ArrayViewMut2::from_shape((outs, ins), dw).expect("weight");
    matmul_into(&mut dws, dys.t(), xs, false);
    db.fill(0.0);
    for row in dy.chunks(outs) {
        db.iter_mut().zip(row).for_each(|(d, g)| *d += g);
    }
    let mut dx = vec![0f32; rows * ins];
    let ws = ArrayView2::from_shape((outs, ins), w).expect("weight");
    let mut dxs = ArrayViewMut2::from_shape((rows, ins), &mut dx).expect("dx");
    matmul_into(&mut dxs, dys, ws, false);
    dx
}

/// Binary cross-entropy with logits, averaged over every element (PyTorch's
/// `binary_cross_entropy_with_logits`), and its gradient at the logits.
pub fn bce_with_logits(logits: &[f32], labels: &[f32]) -> (f64, Vec<f32>) {
    let count = logits.len().max(1) as f64;
    let mut loss = 0.0;
    let grad = logits
        .iter()
        .zip(labels)
        .map(|(&z, &y)| {
            let (zd, yd) = (f64::from(z), f64::from(y));
            loss += zd.max(0.0) - zd * yd + (-zd.abs()).exp().ln_1p();
            ((1.0 / (1.0 + (-zd).exp()) - yd) / count) as f32
        })
        .collect();
    (loss / count, grad)
}
