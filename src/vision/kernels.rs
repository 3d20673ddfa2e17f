//! MobileNetV2's inference kernels on AVX-512: the 1 × 1 convolution with
//! its bias, ReLU6 and residual add done in the registers, and the 3 × 3
//! depthwise convolution with its weights held in registers.
//!
//! Why not `gemm` for the 1 × 1 products: their inner dimension is 16–96 in
//! most blocks, so gemm's packing of the activations, and the separate
//! passes for bias, activation and residual, took a third of their time
//! (BENCHMARKS.md, issue 25). Here the weights are packed once, when the
//! network is built, into panels of 32 output channels; the activations are
//! read where they lie (channels last: one pixel's inputs are contiguous),
//! and each output is written once.
//!
//! Same arithmetic as the portable path, value for value: every output sums
//! its products in input-channel order with fused multiply-adds from zero,
//! in gemm's depth blocks, adding each block's sum to the bias (as gemm's
//! kernels do), then clamps and adds the skip;
//! the depthwise sum starts at the bias and adds each tap's rounded product
//! in (ky, kx) order, as `Conv2d::depthwise_row` does. The tests compare the
//! two paths bit for bit.

// Elsewhere than x86-64 nothing here is built into a network (`Pointwise::new`
// answers None), and the layers keep their portable path.
#![cfg_attr(
    not(target_arch = "x86_64"),
    allow(dead_code, unreachable_code, unused_imports)
)]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use crate::vision::layers::Wide;

/// Output channels per weight panel (two 16-lane vectors).
const PANEL: usize = 32;
/// Pixels per register tile: 12 × 2 accumulators, two weight vectors.
const TILE: usize = 12;
/// Input channels summed before a partial sum joins the output, as the
/// gemm crate (0.19) blocks its depth, so that layers with more inputs (576
/// and 960 in MobileNetV2) round exactly as they did on gemm: blocks of 512
/// when both m and n are at most 64, else the depth split evenly into
/// blocks of at most 512 (its `kernel_params`; 512 is the floor it puts on
/// the L1-derived size, which on these CPUs is below it).
fn depth_block(pixels: usize, cout: usize, cin: usize) -> usize {
    const MOST: usize = 512;
    if pixels <= 64 && cout <= 64 {
        MOST.min(cin)
    } else {
        cin.div_ceil(cin.div_ceil(MOST).max(1)).max(1)
    }
}

/// A 1 × 1 convolution's weights packed for [`Pointwise::run`].
pub(crate) struct Pointwise {
    cin: usize,
    cout: usize,
    /// Panel p holds `[ci][lane]` for channels `32p..32p + 32`, zero-padded.
    panels: Vec<f32>,
    /// The bias, zero-padded to whole panels.
    bias: Vec<f32>,
    relu6: bool,
}

impl Pointwise {
    /// Packs `weight` (`[ci · cout + co]`) when this CPU has AVX-512;
    /// `None` elsewhere (the caller keeps the gemm path).
    pub(crate) fn new(
        weight: &[f32],
        bias: &[f32],
        cin: usize,
        cout: usize,
        relu6: bool,
    ) -> Option<Pointwise> {
        #[cfg(target_arch = "x86_64")]
        if !matches!(Wide::detect(), Wide::Avx512) {
            return None;
        }
        #[cfg(not(target_arch = "x86_64"))]
        return None;
        let panels = cout.div_ceil(PANEL);
        let mut packed = vec![0f32; panels * cin * PANEL];
        for ci in 0..cin {
            for co in 0..cout {
                let (p, lane) = (co / PANEL, co % PANEL);
                packed[(p * cin + ci) * PANEL + lane] = weight[ci * cout + co];
            }
        }
        let mut padded = bias.to_vec();
        padded.resize(panels * PANEL, 0.0);
        Some(Pointwise {
            cin,
            cout,
            panels: packed,
            bias: padded,
            relu6,
        })
    }

    /// `out = act(input · weight + bias) (+ skip)` for `input` (pixels ×
    /// cin) and `out`, `skip` (pixels × cout), on the calling thread.
    pub(crate) fn run(&self, input: &[f32], out: &mut [f32], skip: Option<&[f32]>) {
        let pixels = input.len() / self.cin;
        assert!(out.len() == pixels * self.cout && input.len() == pixels * self.cin);
        assert!(skip.is_none_or(|s| s.len() == out.len()));
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `new` built this only where AVX-512F is present, and the
        // slices' lengths were checked above against the shapes the kernel
        // reads and writes.
        unsafe {
            self.run_avx512(input, out, skip, pixels)
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn run_avx512(&self, input: &[f32], out: &mut [f32], skip: Option<&[f32]>, pixels: usize) {
        let skip = skip.map_or(std::ptr::null(), |s| s.as_ptr());
        for p in 0..self.cout.div_ceil(PANEL) {
            let width = (self.cout - p * PANEL).min(PANEL);
            let tile = Tile {
                w: self.panels[p * self.cin * PANEL..].as_ptr(),
                bias: self.bias[p * PANEL..].as_ptr(),
                masks: [lanes(width.min(16)), lanes(width.saturating_sub(16))],
                cin: self.cin,
                cout: self.cout,
                depth: depth_block(pixels, self.cout, self.cin),
                relu6: self.relu6,
            };
            let mut px = 0;
            while px < pixels {
                let m = (pixels - px).min(TILE);
                let at = px * self.cout + p * PANEL;
                let skip = if skip.is_null() {
                    skip
                } else {
                    skip.wrapping_add(at)
                };
                // SAFETY: rows px..px + m of input, out and skip exist (the
                // lengths were checked), and the masks keep the panel's
                // loads and stores inside channel cout.
                unsafe {
                    let (x, y) = (input.as_ptr().add(px * self.cin), out.as_mut_ptr().add(at));
                    match m {
                        12 => tile.run::<12>(x, y, skip),
                        11 => tile.run::<11>(x, y, skip),
                        10 => tile.run::<10>(x, y, skip),
                        9 => tile.run::<9>(x, y, skip),
                        8 => tile.run::<8>(x, y, skip),
                        7 => tile.run::<7>(x, y, skip),
                        6 => tile.run::<6>(x, y, skip),
                        5 => tile.run::<5>(x, y, skip),
                        4 => tile.run::<4>(x, y, skip),
                        3 => tile.run::<3>(x, y, skip),
                        2 => tile.run::<2>(x, y, skip),
                        _ => tile.run::<1>(x, y, skip),
                    }
                }
                px += m;
            }
        }
    }
}

/// One panel's operands.
struct Tile {
    w: *const f32,
    bias: *const f32,
    masks: [u16; 2],
    cin: usize,
    cout: usize,
    depth: usize,
    relu6: bool,
}

impl Tile {
    /// M pixels × one panel: the sums in registers, written once.
    ///
    /// # Safety
    /// AVX-512F; `x` holds M rows of `cin`, `y` (and `skip` unless null)
    /// M rows of `cout` from this panel's first channel.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn run<const M: usize>(&self, x: *const f32, y: *mut f32, skip: *const f32) {
        // SAFETY: the caller's contract; every access below is within it.
        unsafe {
            let two = self.masks[1] != 0;
            let (zero, six) = (_mm512_setzero_ps(), _mm512_set1_ps(6.0));
            for start in (0..self.cin).step_by(self.depth) {
                let mut acc = [[zero; 2]; M];
                for ci in start..(start + self.depth).min(self.cin) {
                    let w0 = _mm512_loadu_ps(self.w.add(ci * PANEL));
                    let w1 = _mm512_loadu_ps(self.w.add(ci * PANEL + 16));
                    for (m, acc) in acc.iter_mut().enumerate() {
                        let v = _mm512_set1_ps(*x.add(m * self.cin + ci));
                        acc[0] = _mm512_fmadd_ps(v, w0, acc[0]);
                        if two {
                            acc[1] = _mm512_fmadd_ps(v, w1, acc[1]);
                        }
                    }
                }
                let last = start + self.depth >= self.cin;
                for (m, acc) in acc.iter().enumerate() {
                    for (h, &acc) in acc.iter().enumerate() {
                        let mask = self.masks[h];
                        if mask == 0 {
                            continue;
                        }
                        let at = m * self.cout + 16 * h;
                        // The first block starts from the bias, later ones
                        // from the partial sum stored in `y`.
                        let base = if start == 0 {
                            _mm512_loadu_ps(self.bias.add(16 * h))
                        } else {
                            _mm512_maskz_loadu_ps(mask, y.add(at))
                        };
                        let mut v = _mm512_add_ps(base, acc);
                        if last && self.relu6 {
                            // max(0, v) then min(6, ·) keep NaN and −0 as f32::clamp does.
                            v = _mm512_min_ps(six, _mm512_max_ps(zero, v));
                        }
                        if last && !skip.is_null() {
                            v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, skip.add(at)));
                        }
                        _mm512_mask_storeu_ps(y.add(at), mask, v);
                    }
                }
            }
        }
    }
}

/// The mask of the first `n` (≤ 16) lanes.
fn lanes(n: usize) -> u16 {
    if n >= 16 { u16::MAX } else { (1u16 << n) - 1 }
}

/// One output row of a 3 × 3 depthwise convolution (padding 1, stride 1
/// or 2) with its bias and optional ReLU6, the nine weights of 16 channels
/// in registers while the row is swept. `lines[ky]` is input row
/// `oy·stride + ky − 1`, `None` in the padding; `weight` is
/// `[(ky·3 + kx)·c + ch]`.
///
/// # Safety
/// AVX-512F; every present line holds `w_in · c` values, `dst` holds
/// `ow · c`, `weight` 9 · c and `bias` c.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn depthwise3_row(
    lines: [Option<&[f32]>; 3],
    w_in: usize,
    (c, stride): (usize, usize),
    (weight, bias): (&[f32], &[f32]),
    relu6: bool,
    dst: &mut [f32],
) {
    let ow = dst.len() / c;
    // Output columns 1..inner have all three taps inside the row.
    let inner = if w_in >= 2 {
        ((w_in - 2) / stride + 1).min(ow)
    } else {
        0
    };
    let rows = lines.map(|l| l.map_or(std::ptr::null(), |l| l.as_ptr()));
    for c0 in (0..c).step_by(16) {
        // SAFETY: channels c0.. under the mask lie inside weight, bias, the
        // lines and dst, whose lengths the caller guarantees.
        unsafe {
            let mask = lanes(c - c0);
            let taps = Taps {
                w: std::array::from_fn(|t| {
                    _mm512_maskz_loadu_ps(mask, weight.as_ptr().add(t * c + c0))
                }),
                bias: _mm512_maskz_loadu_ps(mask, bias.as_ptr().add(c0)),
                rows: rows.map(|r| if r.is_null() { r } else { r.add(c0) }),
                mask,
                c,
                stride,
                w_in,
                relu6,
            };
            let out = dst.as_mut_ptr().add(c0);
            // Rows in the padding are left out of the sums (not added as
            // zeros), as the portable loop does; one sweep per case.
            match (rows[0].is_null(), rows[2].is_null()) {
                (false, false) => taps.sweep::<true, true>(out, ow, inner),
                (true, false) => taps.sweep::<false, true>(out, ow, inner),
                (false, true) => taps.sweep::<true, false>(out, ow, inner),
                (true, true) => taps.sweep::<false, false>(out, ow, inner),
            }
        }
    }
}

/// 16 channels' weights and bias, and where their input rows start.
#[cfg(target_arch = "x86_64")]
struct Taps {
    w: [__m512; 9],
    bias: __m512,
    rows: [*const f32; 3],
    mask: u16,
    c: usize,
    stride: usize,
    w_in: usize,
    relu6: bool,
}

#[cfg(target_arch = "x86_64")]
impl Taps {
    /// One row of output columns, 1..inner without bounds checks.
    ///
    /// # Safety
    /// As `depthwise3_row`, with `out` at this channel block of the row;
    /// the rows TOP and BOTTOM say are present are not null.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn sweep<const TOP: bool, const BOTTOM: bool>(
        &self,
        out: *mut f32,
        ow: usize,
        inner: usize,
    ) {
        // SAFETY: the caller's contract.
        unsafe {
            // Four columns at a time inside the row: four independent sums,
            // whose adds overlap (each sum's own order is kept).
            let mut ox = 0;
            while ox < ow {
                if ox >= 1 && ox + 4 <= inner {
                    self.pixels::<4, false, TOP, BOTTOM>(ox, out);
                    ox += 4;
                } else {
                    if ox == 0 || ox >= inner {
                        self.pixels::<1, true, TOP, BOTTOM>(ox, out);
                    } else {
                        self.pixels::<1, false, TOP, BOTTOM>(ox, out);
                    }
                    ox += 1;
                }
            }
        }
    }

    /// Output columns `ox..ox + N`; `CHECKED` skips taps in the padding.
    ///
    /// # Safety
    /// As `sweep`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn pixels<const N: usize, const CHECKED: bool, const TOP: bool, const BOTTOM: bool>(
        &self,
        ox: usize,
        out: *mut f32,
    ) {
        // SAFETY: the caller's contract.
        unsafe {
            let mut acc = [self.bias; N];
            let left = (ox * self.stride) as isize - 1;
            for ky in 0..3 {
                if (ky == 0 && !TOP) || (ky == 2 && !BOTTOM) {
                    continue;
                }
                let row = self.rows[ky];
                for kx in 0..3 {
                    for (n, acc) in acc.iter_mut().enumerate() {
                        let ix = left + (n * self.stride + kx) as isize;
                        if CHECKED && (ix < 0 || ix >= self.w_in as isize) {
                            continue;
                        }
                        let s = _mm512_maskz_loadu_ps(self.mask, row.offset(ix * self.c as isize));
                        *acc = _mm512_add_ps(*acc, _mm512_mul_ps(s, self.w[ky * 3 + kx]));
                    }
                }
            }
            for (n, mut acc) in acc.into_iter().enumerate() {
                if self.relu6 {
                    let (zero, six) = (_mm512_setzero_ps(), _mm512_set1_ps(6.0));
                    acc = _mm512_min_ps(six, _mm512_max_ps(zero, acc));
                }
                _mm512_mask_storeu_ps(out.add((ox + n) * self.c), self.mask, acc);
            }
        }
    }
}
