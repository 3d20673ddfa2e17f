//! One safe entry to the `gemm` crate (the kernels candle uses): C = A·B or
//! C += A·B on ndarray views of any strides, so transposed operands are
//! views, never copies. Threads come from rayon's pool.

use gemm::{Parallelism, gemm};
use ndarray::{ArrayView2, ArrayViewMut2};

thread_local! {
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with this thread's matrix products on this thread only (the
/// caller already keeps every core busy with independent work).
pub fn serial<T>(f: impl FnOnce() -> T) -> T {
    let before = SERIAL.with(|s| s.replace(true));
    let out = f();
    SERIAL.with(|s| s.set(before));
    out
}

/// Whether this thread runs inside [`serial`].
pub fn is_serial() -> bool {
    SERIAL.with(|s| s.get())
}

/// `c = a · b` (or `c += a · b` when `accumulate`). Panics only on a shape
/// mismatch, which is a bug in the caller, never bad user input.
pub fn matmul_into(
    c: &mut ArrayViewMut2<f32>,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    accumulate: bool,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul: inner dimensions differ");
    assert_eq!(c.dim(), (m, n), "matmul: output shape");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    // Small products are faster on one thread than split across the pool.
    let parallelism = if m * n * k < 1 << 22 || SERIAL.with(|s| s.get()) {
        Parallelism::None
    } else {
        Parallelism::Rayon(rayon::current_num_threads())
    };
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    // SAFETY: the three views are valid for their shapes and strides (checked
    // above), `c` is borrowed mutably so it cannot alias `a` or `b`, and gemm
    // reads/writes only the m×k, k×n and m×n elements those strides address.
    unsafe {
        gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    // gemm's AVX-512 kernels leave the vector state dirty (see crate::cpu):
    // the code after a product (activations, depthwise convolutions) is ours.
    match parallelism {
        Parallelism::None => crate::cpu::clear_upper_state(),
        _ => crate::cpu::clear_upper_state_everywhere(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn products_with_transposed_views_match_ndarray() {
        let a = Array2::from_shape_fn((37, 19), |(i, j)| ((i * 7 + j * 3) % 11) as f32 - 5.0);
        let b = Array2::from_shape_fn((37, 23), |(i, j)| ((i * 5 + j) % 13) as f32 * 0.5);
        let mut c = Array2::zeros((19, 23));
        matmul_into(&mut c.view_mut(), a.t(), b.view(), false);
        assert_eq!(c, a.t().dot(&b));
        matmul_into(&mut c.view_mut(), a.t(), b.view(), true);
        assert_eq!(c, a.t().dot(&b) * 2.0);
        let big_a = Array2::from_shape_fn((300, 200), |(i, j)| ((i + 2 * j) % 7) as f32);
        let big_b = Array2::from_shape_fn((150, 200), |(i, j)| ((3 * i + j) % 5) as f32);
        let mut big_c = Array2::zeros((300, 150));
        matmul_into(&mut big_c.view_mut(), big_a.view(), big_b.t(), false);
        assert_eq!(big_c, big_a.dot(&big_b.t()));
        let mut tiny = array![[9.0f32]];
        matmul_into(
            &mut tiny.view_mut(),
            Array2::zeros((1, 0)).view(),
            Array2::zeros((0, 1)).view(),
            false,
        );
        assert_eq!(tiny[[0, 0]], 0.0);
    }
}
