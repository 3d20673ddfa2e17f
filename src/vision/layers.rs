//! Convolutional building blocks on channels-last (NHWC) f32 buffers, with
//! every multiply-add in `gemm` or in loops over contiguous channels (on
//! AVX-512, MobileNetV2's in `vision::kernels`, with the same roundings). In
//! this layout a 1 × 1 convolution over a whole batch is one matrix product
//! and a depthwise convolution vectorises across channels; candle's CPU
//! convolutions (NCHW, one call per group) were ten times slower here.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::nn::gemm::matmul_into;
use crate::vision::kernels::{self, Pointwise};

/// A batch of feature maps, `data[((n·h + y)·w + x)·c + channel]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Maps {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub data: Vec<f32>,
}

impl Maps {
    /// From PyTorch's NCHW layout (what the preprocessing produces per image).
    pub fn from_nchw(data: &[f32], n: usize, c: usize, h: usize, w: usize) -> Maps {
        let mut out = vec![0f32; data.len()];
        out.par_chunks_mut(h * w * c)
            .enumerate()
            .for_each(|(i, image)| {
                let src = &data[i * c * h * w..(i + 1) * c * h * w];
                for (p, pixel) in image.chunks_mut(c).enumerate() {
                    for (ch, v) in pixel.iter_mut().enumerate() {
                        *v = src[ch * h * w + p];
                    }
                }
            });
        Maps {
            n,
            h,
            w,
            c,
            data: out,
        }
    }

    /// Each image's maps flattened in (channel, y, x) order, torchvision's
    /// `torch.flatten` of NCHW, which its classifiers expect.
    pub fn flatten_chw(&self) -> Array2<f32> {
        let per = self.h * self.w * self.c;
        let mut out = Array2::zeros((self.n, per));
        let plane = self.h * self.w;
        out.axis_iter_mut(ndarray::Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut row)| {
                let src = &self.data[i * per..(i + 1) * per];
                for (p, pixel) in src.chunks(self.c).enumerate() {
                    for (ch, v) in pixel.iter().enumerate() {
                        row[ch * plane + p] = *v;
                    }
                }
            });
        out
    }

    /// Each image's maps flattened in (y, x, channel) order: Keras'
    /// `Flatten()` of channels-last maps, the seed's VGG16 features.
    pub fn flatten_hwc(self) -> Array2<f32> {
        let per = self.h * self.w * self.c;
        Array2::from_shape_vec((self.n, per), self.data).expect("sizes agree")
    }

    /// Mean over each image's positions: (n, c).
    pub fn global_average(&self) -> Array2<f32> {
        let plane = (self.h * self.w) as f32;
        let mut out = Array2::zeros((self.n, self.c));
        for (i, mut row) in out.rows_mut().into_iter().enumerate() {
            let image =
                &self.data[i * self.h * self.w * self.c..(i + 1) * self.h * self.w * self.c];
            for pixel in image.chunks(self.c) {
                row.iter_mut().zip(pixel).for_each(|(s, v)| *s += v);
            }
            row.mapv_inplace(|s| s / plane);
        }
        out
    }

    /// Element-wise sum with a map of the same shape (residual connections).
    pub fn plus(mut self, other: &Maps) -> Maps {
        self.data
            .par_chunks_mut(1 << 14)
            .zip(other.data.par_chunks(1 << 14))
            .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| *a += b));
        self
    }

    /// 2 × 2 max pooling with stride 2 (VGG).
    pub fn max_pool2(&self) -> Maps {
        let (oh, ow, c) = (self.h / 2, self.w / 2, self.c);
        let mut out = vec![0f32; self.n * oh * ow * c];
        out.par_chunks_mut(ow * c)
            .enumerate()
            .for_each(|(row, dst)| {
                let (i, oy) = (row / oh, row % oh);
                for ox in 0..ow {
                    let at = |dy: usize, dx: usize| {
                        ((i * self.h + 2 * oy + dy) * self.w + 2 * ox + dx) * c
                    };
                    let o = &mut dst[ox * c..(ox + 1) * c];
                    o.copy_from_slice(&self.data[at(0, 0)..at(0, 0) + c]);
                    for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                        let s = &self.data[at(dy, dx)..at(dy, dx) + c];
                        o.iter_mut().zip(s).for_each(|(o, s)| *o = o.max(*s));
                    }
                }
            });
        Maps {
            n: self.n,
            h: oh,
            w: ow,
            c,
            data: out,
        }
    }
}

/// Consecutive rows `first..` of one image's channels-last maps of height
/// `h` and width `w`: a whole image, or the band a fused block holds.
pub struct Rows<'a> {
    pub data: &'a [f32],
    pub first: usize,
    pub h: usize,
    pub w: usize,
}

impl Rows<'_> {
    fn row(&self, y: usize, c: usize) -> &[f32] {
        let at = (y - self.first) * self.w * c;
        &self.data[at..at + self.w * c]
    }
}

thread_local! {
    static PATCHES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What follows a convolution's bias.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    None,
    Relu,
    Relu6,
}

/// A 2-D convolution (dense or depthwise) with bias and activation.
pub struct Conv2d {
    pub cin: usize,
    pub cout: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub depthwise: bool,
    /// Dense: `[(ky·k + kx)·cin + ci, co]`; depthwise: `[(ky·k + kx)·c + ch]`.
    weight: Vec<f32>,
    bias: Vec<f32>,
    pub activation: Activation,
    /// A dense convolution's weights packed for the AVX-512 kernel
    /// (`vision::kernels`), where this CPU has it.
    packed: Option<Box<Pointwise>>,
    /// Whether a depthwise 3 × 3 runs on the AVX-512 kernel.
    avx512: bool,
}

impl Conv2d {
    /// From PyTorch's OIHW weight (`[cout, cin / groups, k, k]`) with
    /// groups = 1 or groups = cin = cout (depthwise).
    pub fn from_torch(
        weight: &[f32],
        bias: Vec<f32>,
        (cout, cin, kernel): (usize, usize, usize),
        stride: usize,
        depthwise: bool,
        activation: Activation,
    ) -> Conv2d {
        let k2 = kernel * kernel;
        let per_out = if depthwise { k2 } else { cin * k2 };
        debug_assert_eq!(weight.len(), cout * per_out);
        let mut w = vec![0f32; weight.len()];
        for co in 0..cout {
            for ci in 0..if depthwise { 1 } else { cin } {
                for p in 0..k2 {
                    let v = weight[co * per_out + ci * k2 + p];
                    if depthwise {
                        w[p * cout + co] = v;
                    } else {
                        w[(p * cin + ci) * cout + co] = v;
                    }
                }
            }
        }
        // Dense convolutions are one product over im2col patches: the same kernel.
        let packed = (!depthwise && activation != Activation::Relu)
            .then(|| Pointwise::new(&w, &bias, k2 * cin, cout, activation == Activation::Relu6))
            .flatten()
            .map(Box::new);
        Conv2d {
            cin,
            cout,
            kernel,
            stride,
            padding: kernel / 2,
            depthwise,
            weight: w,
            bias,
            activation,
            packed,
            avx512: matches!(Wide::detect(), Wide::Avx512),
        }
    }

    /// A depthwise 3 × 3 convolution (padding 1) of weights already in the
    /// compute layout `[(ky·3 + kx)·c + ch]`, without bias or activation:
    /// training's forward pass on the inference kernels.
    pub fn depthwise_compute(weight: &[f32], c: usize, stride: usize) -> Conv2d {
        Conv2d {
            cin: c,
            cout: c,
            kernel: 3,
            stride,
            padding: 1,
            depthwise: true,
            weight: weight.to_vec(),
            bias: vec![0.0; c],
            activation: Activation::None,
            packed: None,
            avx512: matches!(Wide::detect(), Wide::Avx512),
        }
    }

    pub fn out_size(&self, size: usize) -> usize {
        (size + 2 * self.padding - self.kernel) / self.stride + 1
    }

    pub fn forward(&self, x: &Maps) -> Result<Maps> {
        let (oh, ow) = (self.out_size(x.h), self.out_size(x.w));
        self.forward_into(x, vec![0f32; x.n * oh * ow * self.cout])
    }

    /// The same into `out` (any contents, every value is overwritten), a
    /// buffer the caller reuses.
    pub fn forward_into(&self, x: &Maps, mut out: Vec<f32>) -> Result<Maps> {
        if x.c != self.cin {
            return Err(Error::invalid(format!(
                "convolution expects {} input channels, got {}",
                self.cin, x.c
            )));
        }
        let (oh, ow) = (self.out_size(x.h), self.out_size(x.w));
        debug_assert_eq!(out.len(), x.n * oh * ow * self.cout);
        if self.depthwise {
            self.depthwise_forward(x, ow, &mut out);
        } else {
            self.dense_forward(x, oh, ow, &mut out);
        }
        Ok(Maps {
            n: x.n,
            h: oh,
            w: ow,
            c: self.cout,
            data: out,
        })
    }

    fn dense_forward(&self, x: &Maps, oh: usize, ow: usize, out: &mut [f32]) {
        let k = self.kernel;
        if k == 1 && self.stride == 1 {
            return self.pointwise_skip_into(&x.data, out, None);
        }
        let weight = ArrayView2::from_shape((k * k * self.cin, self.cout), &self.weight)
            .expect("weight shape");
        if self.packed.is_none() {
            self.fill_bias(out);
        }
        // im2col one image at a time: rows are output positions, columns
        // (ky, kx, ci) — memory stays at one image's patches.
        let cols = k * k * self.cin;
        // One patch buffer per thread, reused across layers and calls: VGG16's
        // first layers need 115 MB per image, and fresh pages from the OS
        // (zeroed by the kernel) cost more than filling them. Every element
        // is overwritten below, so stale contents never leak through.
        let mut patches = PATCHES.with(|p| std::mem::take(&mut *p.borrow_mut()));
        patches.resize(oh * ow * cols, 0.0);
        for i in 0..x.n {
            let fill = |(oy, row): (usize, &mut [f32])| {
                let (cin, pad) = (self.cin, self.padding as isize);
                let span = k * cin;
                for ox in 0..ow {
                    let dst = &mut row[ox * cols..(ox + 1) * cols];
                    let ix0 = (ox * self.stride) as isize - pad;
                    for ky in 0..k {
                        let seg = &mut dst[ky * span..(ky + 1) * span];
                        let iy = (oy * self.stride + ky) as isize - pad;
                        if iy < 0 || iy >= x.h as isize {
                            seg.fill(0.0);
                            continue;
                        }
                        let line = (i * x.h + iy as usize) * x.w;
                        if ix0 >= 0 && ix0 + k as isize <= x.w as isize {
                            // The k taps of a row are k neighbouring pixels:
                            // one contiguous copy (most of the patch rows).
                            let at = (line + ix0 as usize) * cin;
                            seg.copy_from_slice(&x.data[at..at + span]);
                            continue;
                        }
                        for (kx, tap) in seg.chunks_mut(cin).enumerate() {
                            let ix = ix0 + kx as isize;
                            if ix < 0 || ix >= x.w as isize {
                                tap.fill(0.0);
                            } else {
                                let at = (line + ix as usize) * cin;
                                tap.copy_from_slice(&x.data[at..at + cin]);
                            }
                        }
                    }
                }
            };
            // Inside a caller that keeps every core busy (one image per
            // core), splitting the rows across the pool only costs.
            if crate::nn::gemm::is_serial() {
                patches.chunks_mut(ow * cols).enumerate().for_each(fill);
            } else {
                patches.par_chunks_mut(ow * cols).enumerate().for_each(fill);
            }
            let image = &mut out[i * oh * ow * self.cout..(i + 1) * oh * ow * self.cout];
            if let Some(packed) = &self.packed {
                packed.run(&patches, image, None);
                continue;
            }
            let input = ArrayView2::from_shape((oh * ow, cols), &patches).expect("patch shape");
            let mut y =
                ArrayViewMut2::from_shape((oh * ow, self.cout), image).expect("output shape");
            matmul_into(&mut y, input, weight, true);
        }
        PATCHES.with(|p| *p.borrow_mut() = patches);
        if self.packed.is_none() {
            self.finish(out);
        }
    }

    fn depthwise_forward(&self, x: &Maps, ow: usize, out: &mut [f32]) {
        let c = self.cout;
        let oh = self.out_size(x.h);
        let per_image = x.h * x.w * c;
        out.par_chunks_mut(ow * c)
            .enumerate()
            .for_each(|(row, dst)| {
                let (i, oy) = (row / oh, row % oh);
                let image = Rows {
                    data: &x.data[i * per_image..(i + 1) * per_image],
                    first: 0,
                    h: x.h,
                    w: x.w,
                };
                self.depthwise_output_row(&image, dst, oy);
            });
    }

    /// Output rows `oy0..` of a depthwise convolution (as many as `out`
    /// holds) from the input rows in `src`, with bias and activation, on the
    /// calling thread: the fused blocks' path, where `out` stays in cache.
    pub fn depthwise_rows_into(&self, src: &Rows, oy0: usize, out: &mut [f32]) {
        let row = self.out_size(src.w) * self.cout;
        for (k, dst) in out.chunks_mut(row).enumerate() {
            self.depthwise_output_row(src, dst, oy0 + k);
        }
    }

    /// `out = activation(bias + input · weight)` for a 1 × 1 convolution of
    /// `input` (pixels × cin) on the calling thread's core.
    pub fn pointwise_into(&self, input: &[f32], out: &mut [f32]) {
        self.pointwise_skip_into(input, out, None);
    }

    /// The same, then `out += skip` (an inverted residual's shortcut).
    pub fn pointwise_skip_into(&self, input: &[f32], out: &mut [f32], skip: Option<&[f32]>) {
        if let Some(packed) = &self.packed {
            return packed.run(input, out, skip);
        }
        self.fill_bias(out);
        crate::nn::gemm::serial(|| self.pointwise_product(input, out));
        self.finish_serial(out);
        if let Some(skip) = skip {
            out.iter_mut().zip(skip).for_each(|(y, s)| *y += s);
        }
    }

    /// `out += input · weight` for a 1 × 1 convolution (`out` holds the
    /// bias), the one product of the batched and the fused paths.
    fn pointwise_product(&self, input: &[f32], out: &mut [f32]) {
        debug_assert!(self.kernel == 1 && self.stride == 1 && !self.depthwise);
        let pixels = input.len() / self.cin;
        let weight =
            ArrayView2::from_shape((self.cin, self.cout), &self.weight).expect("weight shape");
        let input = ArrayView2::from_shape((pixels, self.cin), input).expect("input shape");
        let mut y = ArrayViewMut2::from_shape((pixels, self.cout), out).expect("output shape");
        matmul_into(&mut y, input, weight, true);
    }

    /// The same convolution on the portable path only (no AVX-512 kernel):
    /// what the tests compare the kernels with.
    #[cfg(test)]
    pub(crate) fn portable(mut self) -> Conv2d {
        self.packed = None;
        self.avx512 = false;
        self
    }

    /// Every pixel of `out` set to the bias, where the sums start.
    fn fill_bias(&self, out: &mut [f32]) {
        for px in out.chunks_mut(self.cout) {
            px.copy_from_slice(&self.bias);
        }
    }

    /// One finished output row of a depthwise convolution: bias, sums and
    /// activation.
    fn depthwise_output_row(&self, src: &Rows, dst: &mut [f32], oy: usize) {
        #[cfg(target_arch = "x86_64")]
        if let (true, 3, 1, false) = (
            self.avx512,
            self.kernel,
            self.padding,
            self.activation == Activation::Relu,
        ) {
            let line = |ky: usize| {
                let iy = (oy * self.stride + ky).checked_sub(1)?;
                (iy < src.h).then(|| src.row(iy, self.cout))
            };
            // SAFETY: AVX-512F was detected; `Rows::row` returns whole rows of
            // w · c values, dst is one output row, and weight and bias hold
            // 9 · c and c values.
            return unsafe {
                kernels::depthwise3_row(
                    [line(0), line(1), line(2)],
                    src.w,
                    (self.cout, self.stride),
                    (&self.weight, &self.bias),
                    self.activation == Activation::Relu6,
                    dst,
                )
            };
        }
        self.fill_bias(dst);
        self.depthwise_row_dispatch(src, dst, oy);
        self.finish_serial(dst);
    }

    fn depthwise_row_dispatch(&self, src: &Rows, dst: &mut [f32], oy: usize) {
        match Wide::detect() {
            // SAFETY: `Wide::detect` found these features on this CPU.
            #[cfg(target_arch = "x86_64")]
            Wide::Avx512 => unsafe { self.depthwise_row_avx512(src, dst, oy) },
            #[cfg(target_arch = "x86_64")]
            Wide::Avx2 => unsafe { self.depthwise_row_avx2(src, dst, oy) },
            Wide::Baseline => self.depthwise_row(src, dst, oy),
        }
    }

    /// One output row of a depthwise convolution; the innermost loop runs
    /// over contiguous channels, so it vectorises.
    #[inline(always)]
    fn depthwise_row(&self, src: &Rows, dst: &mut [f32], oy: usize) {
        let (k, c) = (self.kernel, self.cout);
        let ow = dst.len() / c;
        for ky in 0..k {
            let iy = (oy * self.stride + ky) as isize - self.padding as isize;
            if iy < 0 || iy >= src.h as isize {
                continue;
            }
            let line = src.row(iy as usize, c);
            for kx in 0..k {
                let w = &self.weight[(ky * k + kx) * c..(ky * k + kx + 1) * c];
                for ox in 0..ow {
                    let ix = (ox * self.stride + kx) as isize - self.padding as isize;
                    if ix < 0 || ix >= src.w as isize {
                        continue;
                    }
                    let s = &line[ix as usize * c..(ix as usize + 1) * c];
                    for ((o, s), w) in dst[ox * c..(ox + 1) * c].iter_mut().zip(s).zip(w) {
                        *o += s * w;
                    }
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn depthwise_row_avx512(&self, src: &Rows, dst: &mut [f32], oy: usize) {
        self.depthwise_row(src, dst, oy)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn depthwise_row_avx2(&self, src: &Rows, dst: &mut [f32], oy: usize) {
        self.depthwise_row(src, dst, oy)
    }

    fn finish_serial(&self, data: &mut [f32]) {
        match self.activation {
            Activation::None => {}
            Activation::Relu => data.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Relu6 => data.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
        }
    }

    fn finish(&self, data: &mut [f32]) {
        if self.activation != Activation::None {
            data.par_chunks_mut(1 << 14)
                .for_each(|c| self.finish_serial(c));
        }
    }
}

/// The widest vectors this CPU offers. The crate is built for baseline
/// x86-64 (SSE2) so that it runs anywhere; hot loops are compiled again for
/// AVX-512 and AVX2 and chosen at run time.
#[derive(Clone, Copy)]
pub(crate) enum Wide {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Baseline,
}

impl Wide {
    pub(crate) fn detect() -> Wide {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Wide::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Wide::Avx2;
            }
        }
        Wide::Baseline
    }
}

/// `x · weightᵀ + bias` for a PyTorch `Linear` weight `[out, in]`, with ReLU if asked.
pub fn linear(x: ArrayView2<f32>, weight: &Array2<f32>, bias: &[f32], relu: bool) -> Array2<f32> {
    let mut y = Array2::from_shape_fn((x.nrows(), weight.nrows()), |(_, j)| bias[j]);
    matmul_into(&mut y.view_mut(), x, weight.t(), true);
    if relu {
        y.mapv_inplace(|v| v.max(0.0));
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct NCHW convolution, the definition, to check the fast paths.
    fn reference(
        x: &[f32],
        (n, c, h, w): (usize, usize, usize, usize),
        wt: &[f32],
        cout: usize,
        k: usize,
        stride: usize,
        depthwise: bool,
    ) -> Vec<f32> {
        let pad = k / 2;
        let (oh, ow) = (
            (h + 2 * pad - k) / stride + 1,
            (w + 2 * pad - k) / stride + 1,
        );
        let mut out = vec![0f32; n * cout * oh * ow];
        for i in 0..n {
            for co in 0..cout {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut s = 0.0;
                        let inputs: Vec<usize> = if depthwise {
                            vec![co]
                        } else {
                            (0..c).collect()
                        };
                        for (j, ci) in inputs.into_iter().enumerate() {
                            for ky in 0..k {
                                for kx in 0..k {
                                    let (iy, ix) = (
                                        (oy * stride + ky) as isize - pad as isize,
                                        (ox * stride + kx) as isize - pad as isize,
                                    );
                                    if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w
                                    {
                                        let per = if depthwise { k * k } else { c * k * k };
                                        s += x[((i * c + ci) * h + iy as usize) * w + ix as usize]
                                            * wt[co * per + (j * k + ky) * k + kx];
                                    }
                                }
                            }
                        }
                        out[((i * cout + co) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        out
    }

    fn check(c: usize, cout: usize, k: usize, stride: usize, depthwise: bool) {
        let (n, h, w) = (2, 9, 7);
        let x: Vec<f32> = (0..n * c * h * w)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
            .collect();
        let per = if depthwise { k * k } else { c * k * k };
        let wt: Vec<f32> = (0..cout * per)
            .map(|i| ((i * 13 % 29) as f32 - 14.0) / 10.0)
            .collect();
        let conv = Conv2d::from_torch(
            &wt,
            vec![0.0; cout],
            (cout, c, k),
            stride,
            depthwise,
            Activation::None,
        );
        let y = conv.forward(&Maps::from_nchw(&x, n, c, h, w)).unwrap();
        let expected = reference(&x, (n, c, h, w), &wt, cout, k, stride, depthwise);
        let got = y.flatten_chw();
        for (g, e) in got.iter().zip(&expected) {
            assert!(
                (g - e).abs() < 1e-4,
                "k{k} s{stride} dw{depthwise}: {g} vs {e}"
            );
        }
        assert_eq!(got.len(), expected.len());
    }

    #[test]
    fn convolutions_match_the_definition() {
        check(3, 5, 3, 2, false);
        check(4, 6, 3, 1, false);
        check(4, 6, 1, 1, false);
        check(6, 6, 3, 1, true);
        check(6, 6, 3, 2, true);
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104_729) % 1_000_003) as f32 / 1_000_003.0 - 0.5) * 4.0)
            .collect()
    }

    fn same_bits(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits())
    }

    /// The AVX-512 kernels (`kernels.rs`) against the portable path (bias,
    /// gemm or the vectorised loop, activation, skip), bit for bit, on
    /// MobileNetV2's shapes (in gemm's depth blocks: 576 and 960 inputs)
    /// and on ragged ones.
    #[test]
    fn avx512_kernels_equal_the_portable_path_bit_for_bit() {
        if !matches!(Wide::detect(), Wide::Avx512) {
            eprintln!("skipped: this CPU has no AVX-512");
            return;
        }
        let shapes = [(16, 96, 37), (24, 144, 50), (960, 160, 49), (320, 1280, 49)];
        let ragged = [(144, 24, 30), (32, 16, 13), (5, 40, 7), (96, 576, 200)];
        let deep = [(513, 64, 49), (576, 96, 49), (700, 32, 300), (960, 320, 49)];
        let all = shapes.iter().chain(&ragged).chain(&deep);
        for (i, &(cin, cout, pixels)) in all.enumerate() {
            for act in [Activation::None, Activation::Relu6] {
                let (wt, bias) = (values(cin * cout, i), values(cout, i + 1));
                let conv = Conv2d::from_torch(&wt, bias.clone(), (cout, cin, 1), 1, false, act);
                assert!(conv.packed.is_some());
                let portable =
                    Conv2d::from_torch(&wt, bias, (cout, cin, 1), 1, false, act).portable();
                let x = values(pixels * cin, i + 2);
                let skip = values(pixels * cout, i + 3);
                for skip in [None, Some(&skip[..])] {
                    let (mut fast, mut slow) =
                        (vec![0f32; pixels * cout], vec![1f32; pixels * cout]);
                    conv.pointwise_skip_into(&x, &mut fast, skip);
                    portable.pointwise_skip_into(&x, &mut slow, skip);
                    let what = format!(
                        "1x1 {cin}->{cout}, {pixels} px, {act:?}, skip {}",
                        skip.is_some()
                    );
                    assert!(same_bits(&fast, &slow), "{what}");
                }
            }
        }
        let depthwise = [
            (96, 1, 5, 7),
            (32, 2, 5, 20),
            (144, 2, 6, 8),
            (24, 1, 3, 2),
            (40, 2, 1, 1),
            (16, 1, 4, 3),
        ];
        for (c, stride, h, w) in depthwise {
            let conv = |act| {
                Conv2d::from_torch(
                    &values(9 * c, c),
                    values(c, c + 1),
                    (c, c, 3),
                    stride,
                    true,
                    act,
                )
            };
            for act in [Activation::None, Activation::Relu6] {
                let (fast, portable) = (conv(act), conv(act).portable());
                let x = values(h * w * c, c + 2);
                let rows = Rows {
                    data: &x,
                    first: 0,
                    h,
                    w,
                };
                let ow = conv(act).out_size(w);
                for oy in 0..fast.out_size(h) {
                    let (mut a, mut b) = (vec![0f32; ow * c], vec![1f32; ow * c]);
                    fast.depthwise_output_row(&rows, &mut a, oy);
                    portable.depthwise_output_row(&rows, &mut b, oy);
                    assert!(
                        same_bits(&a, &b),
                        "depthwise c {c} stride {stride} {h}x{w} row {oy}"
                    );
                }
            }
        }
        // The stem's shape: a dense 3 × 3, stride 2, over im2col patches.
        let (wt, bias) = (values(32 * 27, 7), values(32, 8));
        let conv = |act| Conv2d::from_torch(&wt, bias.clone(), (32, 3, 3), 2, false, act);
        let x = Maps {
            n: 2,
            h: 15,
            w: 14,
            c: 3,
            data: values(2 * 15 * 14 * 3, 9),
        };
        let (fast, slow) = (conv(Activation::Relu6), conv(Activation::Relu6).portable());
        assert!(same_bits(
            &fast.forward(&x).unwrap().data,
            &slow.forward(&x).unwrap().data
        ));
    }

    #[test]
    fn pooling_flattening_and_linear() {
        let m = Maps {
            n: 1,
            h: 2,
            w: 2,
            c: 2,
            data: vec![1.0, -1.0, 4.0, 0.0, 2.0, 7.0, 3.0, 2.0],
        };
        assert_eq!(m.max_pool2().data, vec![4.0, 7.0]);
        assert_eq!(m.global_average().as_slice().unwrap(), &[2.5, 2.0]);
        assert_eq!(
            m.flatten_chw().as_slice().unwrap(),
            &[1.0, 4.0, 2.0, 3.0, -1.0, 0.0, 7.0, 2.0]
        );
        let w = ndarray::array![[1.0f32, 2.0], [0.0, -1.0]];
        let y = linear(ndarray::array![[1.0f32, 1.0]].view(), &w, &[0.5, 0.0], true);
        assert_eq!(y.as_slice().unwrap(), &[3.5, 0.0]);
    }
}
