//! scikit-learn's `TruncatedSVD` (randomized, Halko et al. 2011 as
//! `randomized_svd`): a Gaussian test matrix with 10 extra columns, `n_iter`
//! power iterations normalised by LU, a QR, the exact SVD of the small
//! projected matrix (faer). Same singular values and explained variance as
//! scikit-learn at convergence and the same sign convention; components may
//! differ where the random test matrix (which numpy draws differently) has
//! not converged.

use ndarray::Array2;
use rayon::prelude::*;

use crate::data::NumpyRng;
use crate::error::{Error, Result};
use crate::matrix::{Csr, Features, Matrix, linalg};

#[derive(Clone, Debug)]
pub struct TruncatedSvd {
    /// n_components × features.
    pub components: Array2<f64>,
    pub singular_values: Vec<f64>,
    pub explained_variance: Vec<f64>,
    pub explained_variance_ratio: Vec<f64>,
}

/// Up to this many features the Gram route's d × d products cost less
/// than the sparse products they replace (1,088 for the report's tf-idf).
const GRAM_MAX_FEATURES: usize = 2048;

/// The matrix being factored, as the two products the fit needs: a sparse
/// one is multiplied sparse (a tf-idf row holds ~30 of ~1,500 columns), a
/// dense one on faer's multithreaded kernel.
enum Operand<'a> {
    Dense(Array2<f64>),
    Sparse { x: &'a Csr, xt: Csr },
}

impl Operand<'_> {
    fn dim(&self) -> (usize, usize) {
        match self {
            Operand::Dense(x) => x.dim(),
            Operand::Sparse { x, .. } => (x.rows(), x.cols()),
        }
    }

    /// `x · b`
    fn dot(&self, b: &Array2<f64>) -> Array2<f64> {
        match self {
            Operand::Dense(x) => linalg::matmul(x.view(), b.view()),
            Operand::Sparse { x, .. } => x.dot_dense(b.view()),
        }
    }

    /// `xᵀ · b`
    fn t_dot(&self, b: &Array2<f64>) -> Array2<f64> {
        match self {
            Operand::Dense(x) => linalg::matmul(x.t(), b.view()),
            Operand::Sparse { xt, .. } => xt.dot_dense(b.view()),
        }
    }

    /// `Xᵀ·X` where that is the cheaper route: a sparse matrix with at most
    /// `GRAM_MAX_FEATURES` columns (its Gram matrix stays small and dense).
    fn gram(&self) -> Option<Array2<f64>> {
        match self {
            Operand::Sparse { x, xt } if x.cols() <= GRAM_MAX_FEATURES && x.cols() <= x.rows() => {
                Some(x.gram(xt))
            }
            _ => None,
        }
    }

    /// The sum of the columns' variances.
    fn total_variance(&self) -> f64 {
        match self {
            Operand::Dense(x) => column_variances(x).iter().sum(),
            Operand::Sparse { x, .. } => x.column_mean_variance().1.iter().sum(),
        }
    }
}

/// The top `k` components of `x` (rows × features), as scikit-learn's
/// `randomized_svd` finds them: `n_iter` power iterations normalised by LU,
/// a QR of the last product, the exact SVD of the small projection, signs
/// by `svd_flip(u_based_decision=False)`.
pub fn fit(x: &Features, k: usize, n_iter: usize, seed: u32) -> Result<TruncatedSvd> {
    let (n, d) = x.shape();
    if k == 0 || k >= d.min(n) {
        return Err(Error::invalid(format!(
            "truncated_svd: n_components must be from 1 to {} for a {n} × {d} matrix, got {k}",
            d.min(n).saturating_sub(1)
        )));
    }
    let operand = match x {
        Features::Dense(m) => {
            crate::matrix::check_finite(m.values().view(), None, "truncated_svd: x", "features")?;
            Operand::Dense(m.values().mapv(f64::from))
        }
        Features::Sparse(s) => {
            s.csr().check_finite("truncated_svd: x", "features")?;
            Operand::Sparse {
                x: s.csr(),
                xt: s.csr().transpose(),
            }
        }
    };
    // On a worker thread: the main thread's sequential parts (the random
    // draws) otherwise compete with rayon's idle workers for the cores.
    rayon::scope(|_| fit_operand(&operand, k, n_iter, seed))
}

fn fit_operand(x: &Operand, k: usize, n_iter: usize, seed: u32) -> Result<TruncatedSvd> {
    let (n, d) = x.dim();
    let p = (k + 10).min(d.min(n));
    let omega = gaussian(d, p, seed);
    // Bᵀ (d × p) for an orthonormal Q spanning the range found: B = Qᵀ·X.
    let bt = x
        .gram()
        .and_then(|g| gram_basis(&g, &omega, n_iter))
        .unwrap_or_else(|| direct_basis(x, omega, n_iter));
    // B = Û·S·Wᵀ, so Bᵀ = W·S·Ûᵀ: the components are the left vectors of Bᵀ.
    let (w, singular, _) = linalg::thin_svd(bt.view())?;
    let mut components = Array2::<f64>::zeros((k, d));
    for i in 0..k {
        let col = w.column(i);
        // svd_flip(u_based_decision=False): each component's largest |entry| positive.
        let sign = linalg::flip_sign(col);
        components.row_mut(i).assign(&col.mapv(|x| x * sign));
    }
    let ev = column_variances(&x.dot(&components.t().as_standard_layout().to_owned()));
    let total = x.total_variance();
    Ok(TruncatedSvd {
        explained_variance_ratio: ev.iter().map(|v| v / total).collect(),
        explained_variance: ev,
        singular_values: singular[..k].to_vec(),
        components,
    })
}

/// A rows × cols matrix of standard normal draws: Box-Muller on numpy's
/// uniform stream, the uniforms drawn in order, the transform on every core.
fn gaussian(rows: usize, cols: usize, seed: u32) -> Array2<f64> {
    let mut rng = NumpyRng::new(seed);
    let uniforms: Vec<(f64, f64)> = (0..rows * cols)
        .map(|_| (1.0 - rng.random_sample(), rng.random_sample()))
        .collect();
    let values = uniforms
        .par_iter()
        .map(|&(u1, u2)| (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos())
        .collect();
    Array2::from_shape_vec((rows, cols), values).expect("rows × cols values")
}

/// scikit-learn's range finder as written: `n_iter` times `q ← lu(X·q)`,
/// `q ← lu(Xᵀ·q)`, then `Q = qr(X·q)`; returns `Bᵀ = Xᵀ·Q`.
fn direct_basis(x: &Operand, mut q: Array2<f64>, n_iter: usize) -> Array2<f64> {
    for _ in 0..n_iter {
        q = linalg::lu_permuted_l(x.dot(&q).view());
        q = linalg::lu_permuted_l(x.t_dot(&q).view());
    }
    let q = linalg::qr_q(x.dot(&q).view());
    x.t_dot(&q)
}

/// The same subspace through the Gram matrix `G = Xᵀ·X` (features ×
/// features), for a sparse `X` with few columns: each iteration is one
/// dense product `G·q` instead of two sparse ones and an LU of an n × p
/// matrix. With `V = qr(q)`, `Q = X·V·R⁻¹` where `RᵀR = Vᵀ·G·V`, so
/// `Bᵀ = Xᵀ·Q = G·V·R⁻¹` needs no n × p matrix at all. `None` when
/// `Vᵀ·G·V` is too ill-conditioned for its Cholesky factor (the caller
/// then takes the direct route).
fn gram_basis(g: &Array2<f64>, q: &Array2<f64>, n_iter: usize) -> Option<Array2<f64>> {
    let mut q = q.clone();
    for _ in 0..n_iter {
        q = linalg::lu_permuted_l(linalg::matmul(g.view(), q.view()).view());
    }
    let v = linalg::qr_q(q.view());
    let gv = linalg::matmul(g.view(), v.view());
    let s = linalg::matmul(v.t(), gv.view());
    linalg::times_inverse_cholesky_t(s.view(), gv)
}

/// Each column's population variance (numpy's `var(axis=0)`), two passes.
fn column_variances(m: &Array2<f64>) -> Vec<f64> {
    let n = m.nrows().max(1) as f64;
    let mut mean = vec![0.0; m.ncols()];
    for row in m.rows() {
        mean.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    mean.iter_mut().for_each(|s| *s /= n);
    let mut var = vec![0.0; m.ncols()];
    for row in m.rows() {
        for ((s, v), mu) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v - mu) * (v - mu);
        }
    }
    var.iter_mut().for_each(|s| *s /= n);
    var
}

impl TruncatedSvd {
    /// `x` projected on the components (rows × n_components); a sparse `x`
    /// is multiplied sparse.
    pub fn transform(&self, x: &Features) -> Result<Array2<f32>> {
        if x.shape().1 != self.components.ncols() {
            return Err(Error::invalid(format!(
                "truncated_svd: fitted on {} columns, this matrix has {}",
                self.components.ncols(),
                x.shape().1
            )));
        }
        let c = self.components.t().to_owned();
        let projected = match x {
            Features::Dense(m) => linalg::matmul(m.values().mapv(f64::from).view(), c.view()),
            Features::Sparse(s) => s.csr().dot_dense(c.view()),
        };
        Ok(projected.mapv(|v| v as f32))
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

    /// Learns the components from `x`.
    pub fn fit(&mut self, x: &Features) -> Result<()> {
        let o = &self.options;
        let seed = o.seed.unwrap_or(0) as u32;
        self.fitted = Some(std::sync::Arc::new(fit(x, o.n_components, o.n_iter, seed)?));
        Ok(())
    }

    /// `x` on the components.
    pub fn transform(&self, x: &Features) -> Result<Matrix> {
        Ok(Matrix::new(self.model()?.transform(x)?))
    }

    /// scikit-learn's `explained_variance_ratio_`.
    pub fn explained_variance_ratio(&self) -> Result<&[f64]> {
        Ok(&self.model()?.explained_variance_ratio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < tol, "{got:?} vs {want:?}");
        }
    }

    /// scikit-learn 1.9.1:
    /// ```python
    /// X = np.array([[((i * 7 + j * 3) % 11) + 0.5 * j + (i % 3) * 0.25 for j in range(6)] for i in range(20)])
    /// svd = TruncatedSVD(n_components=3, n_iter=7, random_state=0).fit(X)
    /// svd.singular_values_          # [71.83055440512328, 20.415892218391935, 19.500728350993928]
    /// svd.explained_variance_       # [3.0175508090759755, 20.840417510698778, 18.942243250915503]
    /// svd.explained_variance_ratio_ # [0.05043409670399257, 0.3483181224073628, 0.31659282257446486]
    /// svd.components_[0]            # [0.3231845082922882, 0.37494441427211256, 0.37132902750706076,
    ///                               #  0.4186072655594732, 0.44669385501547815, 0.4922557975777493]
    /// svd.components_[1]            # [0.5585983194382836, -0.23325415098666374, -0.40532524515089224,
    ///                               #  0.32050743782337837, 0.3625540147691232, -0.4848725944887669]
    /// # the same matrix with every entry whose flat position is not a multiple of 4 zeroed, as CSR:
    /// Xs = csr_matrix(np.where((np.arange(120).reshape(20, 6) % 4) == 0, X, 0))
    /// s2 = TruncatedSVD(n_components=3, n_iter=7, random_state=0).fit(Xs)
    /// s2.singular_values_           # [28.900870824753383, 20.445048300260872, 7.623297552301037]
    /// s2.explained_variance_        # [24.064015485450387, 12.634375, 2.8956720145496044]
    /// s2.explained_variance_ratio_  # [0.6077682855971241, 0.31909771825005323, 0.07313399615282226]
    /// s2.components_[0]             # [0.6043276302837588, 0, 0, 0, 0.7967359131328373, 0]
    /// ```
    #[test]
    fn matches_scikit_learn() {
        let x = Array2::from_shape_fn((20, 6), |(i, j)| {
            (((i * 7 + j * 3) % 11) as f64 + 0.5 * j as f64 + (i % 3) as f64 * 0.25) as f32
        });
        let dense = Features::Dense(Matrix::new(x.clone()));
        let svd = fit(&dense, 3, 7, 0).unwrap();
        close(
            &svd.singular_values,
            &[71.83055440512328, 20.415892218391935, 19.500728350993928],
            1e-4,
        );
        close(
            &svd.explained_variance,
            &[3.0175508090759755, 20.840417510698778, 18.942243250915503],
            1e-4,
        );
        close(
            &svd.explained_variance_ratio,
            &[0.05043409670399257, 0.3483181224073628, 0.31659282257446486],
            1e-5,
        );
        close(
            svd.components.row(0).as_slice().unwrap(),
            &[
                0.3231845082922882,
                0.37494441427211256,
                0.37132902750706076,
                0.4186072655594732,
                0.44669385501547815,
                0.4922557975777493,
            ],
            1e-5,
        );
        close(
            svd.components.row(1).as_slice().unwrap(),
            &[
                0.5585983194382836,
                -0.23325415098666374,
                -0.40532524515089224,
                0.32050743782337837,
                0.3625540147691232,
                -0.4848725944887669,
            ],
            1e-4,
        );
        assert_eq!(svd.transform(&dense).unwrap().dim(), (20, 3));
        let e = fit(&dense, 6, 5, 0).unwrap_err().to_string();
        assert!(e.contains("n_components must be from 1 to 5"), "{e}");

        let masked =
            Array2::from_shape_fn(
                (20, 6),
                |(i, j)| if (i * 6 + j) % 4 == 0 { x[[i, j]] } else { 0.0 },
            );
        let sparse = Features::Sparse(crate::matrix::Sparse::new(Csr::from_dense(&masked)));
        let s2 = fit(&sparse, 3, 7, 0).unwrap();
        close(
            &s2.singular_values,
            &[28.900870824753383, 20.445048300260872, 7.623297552301037],
            1e-4,
        );
        close(
            &s2.explained_variance,
            &[24.064015485450387, 12.634375, 2.8956720145496044],
            1e-4,
        );
        close(
            &s2.explained_variance_ratio,
            &[0.6077682855971241, 0.31909771825005323, 0.07313399615282226],
            1e-5,
        );
        close(
            s2.components.row(0).as_slice().unwrap(),
            &[0.6043276302837588, 0.0, 0.0, 0.0, 0.7967359131328373, 0.0],
            1e-5,
        );
        // Sparse and dense inputs project alike.
        let dense_masked = Features::Dense(Matrix::new(masked));
        let (a, b) = (
            s2.transform(&sparse).unwrap(),
            s2.transform(&dense_masked).unwrap(),
        );
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-4));
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
