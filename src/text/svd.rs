//! scikit-learn's `TruncatedSVD` (randomized, Halko et al. 2011 as
//! `randomized_svd`): a Gaussian test matrix with 10 extra columns, `n_iter`
//! power iterations (each re-orthonormalised), the exact SVD of the small
//! projected matrix (Jacobi eigenvalues of B·Bᵀ). Same singular values and
//! explained variance as scikit-learn at convergence; components may differ
//! in sign (and in the random test matrix, which numpy draws differently).

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::data::NumpyRng;
use crate::error::{Error, Result};
use crate::matrix::{Features, Matrix};

#[derive(Clone, Debug)]
pub struct TruncatedSvd {
    /// n_components × features.
    pub components: Array2<f64>,
    pub singular_values: Vec<f64>,
    pub explained_variance: Vec<f64>,
    pub explained_variance_ratio: Vec<f64>,
}

/// Orthonormal columns spanning those of `a`: Cholesky QR twice
/// (CholeskyQR2: two products and a small Cholesky factor each, instead of
/// column-by-column Gram-Schmidt), falling back to Gram-Schmidt when the
/// columns are nearly dependent.
fn orthonormal(a: &Array2<f64>) -> Array2<f64> {
    match cholesky_qr(a).and_then(|q| cholesky_qr(&q)) {
        Some(q) => q,
        None => gram_schmidt(a),
    }
}

/// `a · R⁻¹` where `Rᵀ R = aᵀ a`; `None` when aᵀa is not positive definite.
fn cholesky_qr(a: &Array2<f64>) -> Option<Array2<f64>> {
    let g = a.t().dot(a);
    let p = g.nrows();
    let mut r = Array2::<f64>::zeros((p, p));
    for j in 0..p {
        let mut d = g[[j, j]];
        for k in 0..j {
            d -= r[[k, j]] * r[[k, j]];
        }
        if d <= 1e-10 * g[[j, j]].max(1e-300) {
            return None;
        }
        let d = d.sqrt();
        r[[j, j]] = d;
        for i in j + 1..p {
            let mut v = g[[j, i]];
            for k in 0..j {
                v -= r[[k, j]] * r[[k, i]];
            }
            r[[j, i]] = v / d;
        }
    }
    // Inverse of the upper-triangular R, then one product.
    let mut inv = Array2::<f64>::zeros((p, p));
    for j in 0..p {
        inv[[j, j]] = 1.0 / r[[j, j]];
        for i in (0..j).rev() {
            let mut v = 0.0;
            for k in i + 1..=j {
                v += r[[i, k]] * inv[[k, j]];
            }
            inv[[i, j]] = -v / r[[i, i]];
        }
    }
    Some(a.dot(&inv))
}

/// Modified Gram-Schmidt, twice; columns that vanish are dropped.
fn gram_schmidt(a: &Array2<f64>) -> Array2<f64> {
    let mut q = a.clone();
    let mut keep = Vec::new();
    for j in 0..q.ncols() {
        for _ in 0..2 {
            for &k in &keep {
                let (qk, mut qj) = (q.column(k).to_owned(), q.column_mut(j));
                let r = qk.dot(&qj);
                qj.scaled_add(-r, &qk);
            }
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt();
        if norm > 1e-12 {
            q.column_mut(j).mapv_inplace(|v| v / norm);
            keep.push(j);
        }
    }
    q.select(Axis(1), &keep)
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix, largest
/// first (co-clustering's Jacobi solver, sorted).
fn symmetric_eigen(a: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let (values, vectors) = crate::cluster::symmetric_eigen(a);
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
    (
        order.iter().map(|&i| values[i]).collect(),
        vectors.select(Axis(1), &order),
    )
}

/// The top `k` components of `x` (rows × features).
pub fn fit(x: ArrayView2<f32>, k: usize, n_iter: usize, seed: u32) -> Result<TruncatedSvd> {
    let (n, d) = x.dim();
    if k == 0 || k >= d.min(n) {
        return Err(Error::invalid(format!(
            "truncated_svd: n_components must be from 1 to {} for a {n} × {d} matrix, got {k}",
            d.min(n).saturating_sub(1)
        )));
    }
    crate::matrix::check_finite(x, None, "truncated_svd: x", "features")?;
    let x = x.mapv(f64::from);
    let p = (k + 10).min(d.min(n));
    let mut rng = NumpyRng::new(seed);
    // Standard normal draws (Box-Muller on numpy's uniform stream).
    let omega = Array2::from_shape_fn((d, p), |_| {
        let (u1, u2) = (1.0 - rng.random_sample(), rng.random_sample());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    });
    let mut q = orthonormal(&x.dot(&omega));
    for _ in 0..n_iter {
        let z = orthonormal(&x.t().dot(&q));
        q = orthonormal(&x.dot(&z));
    }
    let b = q.t().dot(&x); // p × d
    let (eig, u) = symmetric_eigen(b.dot(&b.t()));
    let singular: Vec<f64> = eig.iter().take(k).map(|e| e.max(0.0).sqrt()).collect();
    let mut components = Array2::<f64>::zeros((k, d));
    for (i, sv) in singular.iter().enumerate() {
        let row = u.column(i).dot(&b) / sv.max(1e-300);
        components.row_mut(i).assign(&row);
    }
    let projected = x.dot(&components.t());
    let variance = |m: &Array2<f64>| -> Array1<f64> { m.var_axis(Axis(0), 0.0) };
    let ev = variance(&projected);
    let total: f64 = variance(&x).sum();
    Ok(TruncatedSvd {
        explained_variance_ratio: ev.iter().map(|v| v / total).collect(),
        explained_variance: ev.to_vec(),
        singular_values: singular,
        components,
    })
}

impl TruncatedSvd {
    /// `x` projected on the components (rows × n_components).
    pub fn transform(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        if x.ncols() != self.components.ncols() {
            return Err(Error::invalid(format!(
                "truncated_svd: fitted on {} columns, this matrix has {}",
                self.components.ncols(),
                x.ncols()
            )));
        }
        Ok(x.mapv(f64::from)
            .dot(&self.components.t())
            .mapv(|v| v as f32))
    }
}

crate::options! {
    /// `text::truncated_svd`: `TruncatedSVD(...)`.
    pub struct SvdOptions for "text::truncated_svd" {
        /// components kept (below the smaller side of the matrix)
        n_components: usize = 2 => Int(POSITIVE_INT),
        /// power iterations
        n_iter: usize = 5 => Int(Bounds::within(0.0, 100.0)),
        /// fixes this call's random choices
        seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
    }
}

/// A truncated SVD as scripts hold it: its recipe and, once fitted, the components.
#[derive(Clone)]
pub struct Svd {
    pub options: SvdOptions,
    pub fitted: Option<std::sync::Arc<TruncatedSvd>>,
}

impl Svd {
    pub fn new(options: SvdOptions) -> Svd {
        Svd {
            options,
            fitted: None,
        }
    }

    fn model(&self) -> Result<&TruncatedSvd> {
        self.fitted
            .as_deref()
            .ok_or_else(|| Error::invalid("truncated_svd: not fitted yet; call fit(x) first"))
    }

    /// Learns the components from `x` (a sparse one is densified: the
    /// products are dense anyway).
    pub fn fit(&mut self, x: &Features) -> Result<()> {
        let o = &self.options;
        let seed = o.seed.unwrap_or(0) as u32;
        self.fitted = Some(std::sync::Arc::new(fit(
            x.to_dense().view(),
            o.n_components,
            o.n_iter,
            seed,
        )?));
        Ok(())
    }

    /// `x` on the components.
    pub fn transform(&self, x: &Features) -> Result<Matrix> {
        Ok(Matrix::new(self.model()?.transform(x.to_dense().view())?))
    }

    /// scikit-learn's `explained_variance_ratio_`.
    pub fn explained_variance_ratio(&self) -> Result<&[f64]> {
        Ok(&self.model()?.explained_variance_ratio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn 1.9.1:
    /// ```python
    /// X = np.array([[((i * 7 + j * 3) % 11) + 0.5 * j + (i % 3) * 0.25 for j in range(6)] for i in range(20)])
    /// svd = TruncatedSVD(n_components=3, n_iter=7, random_state=0).fit(X)
    /// svd.singular_values_          # [71.83055440512328, 20.415892218391935, 19.500728350993928]
    /// svd.explained_variance_       # [3.0175508090759755, 20.840417510698778, 18.942243250915503]
    /// svd.explained_variance_ratio_ # [0.05043409670399257, 0.3483181224073628, 0.31659282257446486]
    /// ```
    #[test]
    fn matches_scikit_learn() {
        let x = Array2::from_shape_fn((20, 6), |(i, j)| {
            (((i * 7 + j * 3) % 11) as f64 + 0.5 * j as f64 + (i % 3) as f64 * 0.25) as f32
        });
        let svd = fit(x.view(), 3, 7, 0).unwrap();
        let want_s = [71.83055440512328, 20.415892218391935, 19.500728350993928];
        let want_ev = [3.0175508090759755, 20.840417510698778, 18.942243250915503];
        let want_r = [0.05043409670399257, 0.3483181224073628, 0.31659282257446486];
        for i in 0..3 {
            assert!(
                (svd.singular_values[i] - want_s[i]).abs() < 1e-4,
                "{:?}",
                svd.singular_values
            );
            assert!(
                (svd.explained_variance[i] - want_ev[i]).abs() < 1e-4,
                "{:?}",
                svd.explained_variance
            );
            assert!((svd.explained_variance_ratio[i] - want_r[i]).abs() < 1e-5);
        }
        assert_eq!(svd.transform(x.view()).unwrap().dim(), (20, 3));
        let e = fit(x.view(), 6, 5, 0).unwrap_err().to_string();
        assert!(e.contains("n_components must be from 1 to 5"), "{e}");
    }

    #[test]
    fn an_unfitted_svd_says_so() {
        let svd = Svd::new(SvdOptions::default());
        let x = Features::Dense(Matrix::new(Array2::zeros((3, 3))));
        let e = svd.transform(&x).err().unwrap().to_string();
        assert_eq!(e, "truncated_svd: not fitted yet; call fit(x) first");
        assert!(svd.explained_variance_ratio().is_err());
    }
}
