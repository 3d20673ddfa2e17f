//! The vector registers' upper halves after AVX-512 kernels.
//!
//! faer's and gemm's AVX-512 kernels return with the upper halves of the
//! vector registers dirty. Until a `vzeroupper`, every legacy-SSE
//! instruction on that thread (our code is compiled for baseline x86-64,
//! and glibc's `log` and `cos` wrappers use it) pays a merge penalty:
//! measured 10x slower normal draws in the truncated SVD after one fit.
//! Callers of those kernels clear the state when they return.

/// Clears the upper halves on this thread.
#[inline]
pub fn clear_upper_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: vzeroupper only zeroes bits 128 and up of the vector
        // registers, which hold no live value across this point (the ABI
        // treats them as clobbered by any call).
        unsafe { std::arch::asm!("vzeroupper") };
    }
}

/// Clears them on this thread and on every rayon worker (after a product
/// that ran on the pool).
pub fn clear_upper_state_everywhere() {
    rayon::broadcast(|_| clear_upper_state());
    clear_upper_state();
}
