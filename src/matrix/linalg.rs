//! Dense linear algebra on `ndarray` matrices, done by faer: the small
//! factorisations of the truncated SVD and co-clustering (LU, thin QR, thin
//! SVD) and f64 products on both cores. One place converts
//! between the two crates' layouts.

use faer::MatRef;
use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::error::{Error, Result};

/// After faer's kernels (see `crate::cpu`).
fn settle_vector_state() {
    crate::cpu::clear_upper_state_everywhere();
}

/// A faer view of a row-major `ndarray` view (no copy when contiguous).
fn view<'a>(a: &ArrayView2<'a, f64>) -> MatRef<'a, f64> {
    let (r, c) = a.dim();
    let s = a.strides();
    // SAFETY: the pointer and strides describe exactly the elements of `a`,
    // which outlives the returned view.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), r, c, s[0], s[1]) }
}

fn to_ndarray(m: MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// `a · b`, on every core.
pub fn matmul(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((a.nrows(), b.ncols()));
    {
        let (r, c) = out.dim();
        let dst = faer::MatMut::from_row_major_slice_mut(
            out.as_slice_mut().expect("a new array is contiguous"),
            r,
            c,
        );
        faer::linalg::matmul::matmul(
            dst,
            faer::Accum::Replace,
            view(&a),
            view(&b),
            1.0,
            faer::get_global_parallelism(),
        );
    }
    settle_vector_state();
    out
}

/// `Pᵀ·L` of the partial-pivoting LU `P·a = L·U` (scipy's
/// `lu(a, permute_l=True)[0]`): the columns of `a` re-expressed on a
/// well-conditioned basis, as scikit-learn's power iterations normalise.
pub fn lu_permuted_l(a: ArrayView2<f64>) -> Array2<f64> {
    let lu = view(&a).partial_piv_lu();
    let (l, perm) = (lu.L(), lu.P());
    let (forward, _) = perm.arrays();
    let mut out = Array2::<f64>::zeros((l.nrows(), l.ncols()));
    for (i, &row) in forward.iter().enumerate() {
        for j in 0..l.ncols() {
            out[[row, j]] = l[(i, j)];
        }
    }
    settle_vector_state();
    out
}

/// The thin `Q` of `a = Q·R` (orthonormal columns spanning `a`'s).
pub fn qr_q(a: ArrayView2<f64>) -> Array2<f64> {
    let q = to_ndarray(view(&a).qr().compute_thin_Q().as_ref());
    settle_vector_state();
    q
}

/// `m·L⁻ᵀ` where `L·Lᵀ = s` (Cholesky), for `m` rows × `s.nrows()`; `None`
/// when `s` is not positive definite or so ill-conditioned (diagonal of `L`
/// spread by more than 10⁴, a condition number near 10⁸) that the result
/// would lose more than half its digits.
pub fn times_inverse_cholesky_t(s: ArrayView2<f64>, mut m: Array2<f64>) -> Option<Array2<f64>> {
    let llt = view(&s).llt(faer::Side::Lower);
    settle_vector_state();
    let llt = llt.ok()?;
    let l = llt.L();
    let diag: Vec<f64> = (0..l.nrows()).map(|i| l[(i, i)]).collect();
    let (lo, hi) = diag
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if !(lo > 0.0 && lo >= 1e-4 * hi) {
        return None;
    }
    let (rows, cols) = m.dim();
    let m_t = m.as_slice_mut().expect("m is a standard-layout array");
    // mᵀ is column-major over m's row-major buffer: solve L·Z = mᵀ in place,
    // leaving Zᵀ = m·L⁻ᵀ in m.
    let rhs = faer::MatMut::from_column_major_slice_mut(m_t, cols, rows);
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(
        l,
        rhs,
        faer::get_global_parallelism(),
    );
    settle_vector_state();
    Some(m)
}

/// The sign (±1) that makes the entry of largest magnitude of `v` positive:
/// scikit-learn's `svd_flip` convention for a singular vector.
pub fn flip_sign(v: ArrayView1<f64>) -> f64 {
    let pivot = v
        .iter()
        .copied()
        .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
    if pivot < 0.0 { -1.0 } else { 1.0 }
}

/// The thin SVD `a = U·diag(s)·Vᵀ`, singular values largest first.
pub fn thin_svd(a: ArrayView2<f64>) -> Result<(Array2<f64>, Vec<f64>, Array2<f64>)> {
    let svd = view(&a)
        .thin_svd()
        .map_err(|e| Error::invalid(format!("SVD did not converge: {e:?}")))?;
    let s = svd.S().column_vector();
    let s: Vec<f64> = (0..s.nrows()).map(|i| s[i]).collect();
    let out = (to_ndarray(svd.U()), s, to_ndarray(svd.V().transpose()));
    settle_vector_state();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn close(a: &Array2<f64>, b: &Array2<f64>, tol: f64) -> bool {
        a.dim() == b.dim() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < tol)
    }

    /// scipy 1.16: `scipy.linalg.lu(A, permute_l=True)` on
    /// `A = [[1, 2], [3, 4], [5, 6]]` gives
    /// `PL = [[0.2, 1.0], [0.6, 0.5], [1.0, 0.0]]`, `U = [[5, 6], [0, 0.8]]`.
    #[test]
    fn lu_permute_l_matches_scipy() {
        let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let pl = lu_permuted_l(a.view());
        let want = array![[0.2, 1.0], [0.6, 0.5], [1.0, 0.0]];
        assert!(close(&pl, &want, 1e-12), "{pl}");
    }

    #[test]
    fn factorisations_reconstruct() {
        let a = Array2::from_shape_fn((7, 4), |(i, j)| {
            ((i * 5 + j * 3) % 7) as f64 + 0.1 * j as f64
        });
        let q = qr_q(a.view());
        assert!(close(&q.t().dot(&q), &Array2::eye(4), 1e-12));
        assert!(close(&q.dot(&q.t().dot(&a)), &a, 1e-10));
        let (u, s, vt) = thin_svd(a.view()).unwrap();
        assert!(s.windows(2).all(|w| w[0] >= w[1]));
        let us = &u * &ndarray::Array1::from(s.clone());
        assert!(close(&us.dot(&vt), &a, 1e-10));
        let g = a.t().dot(&a);
        // With L·Lᵀ = aᵀa = Rᵀ·R (R = Lᵀ), a·R⁻¹ has orthonormal columns.
        let q2 = times_inverse_cholesky_t(g.view(), a.clone()).unwrap();
        assert!(close(&q2.t().dot(&q2), &Array2::eye(4), 1e-10));
        let singular = array![[1.0, 1.0], [1.0, 1.0]];
        assert!(times_inverse_cholesky_t(singular.view(), Array2::eye(2)).is_none());
        assert!(close(&matmul(a.view(), g.view()), &a.dot(&g), 1e-10));
        assert!(close(&matmul(a.t(), a.view()), &g, 1e-10));
    }
}
