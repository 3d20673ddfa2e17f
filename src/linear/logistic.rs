//! One-vs-rest L2 logistic regression on dense or sparse features, scikit-learn's
//! `OneVsRestClassifier(LogisticRegression(C=…, solver="lbfgs"))`: per label,
//! minimise ½‖w‖² + C Σᵢ sᵢ·log(1 + exp(−ỹᵢ(w·xᵢ + b))) with the intercept
//! unpenalised, by L-BFGS (memory 10, backtracking line search), labels in
//! parallel. `class_weight: "balanced"` weighs each row n / (2 · its class count).

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Labels;
use crate::error::{Error, Result};
use crate::matrix::sparse::Csr;
use crate::persist::Saved;

/// The feature rows the solver sees: dense (converted once to f64) or a
/// sparse tf-idf matrix used as it is, so text never needs densifying.
pub enum Design<'a> {
    Dense(Array2<f64>),
    Sparse(&'a Csr),
}

impl Design<'_> {
    pub fn rows(&self) -> usize {
        match self {
            Design::Dense(x) => x.nrows(),
            Design::Sparse(x) => x.rows(),
        }
    }

    pub fn cols(&self) -> usize {
        match self {
            Design::Dense(x) => x.ncols(),
            Design::Sparse(x) => x.cols(),
        }
    }

    /// X · w.
    fn dot(&self, w: ArrayView1<f64>) -> Array1<f64> {
        match self {
            Design::Dense(x) => x.dot(&w),
            Design::Sparse(x) => (0..x.rows())
                .map(|i| {
                    let (idx, val) = x.row(i);
                    idx.iter()
                        .zip(val)
                        .map(|(&j, &v)| f64::from(v) * w[j as usize])
                        .sum()
                })
                .collect(),
        }
    }

    /// Xᵀ · r.
    fn t_dot(&self, r: &Array1<f64>) -> Array1<f64> {
        match self {
            Design::Dense(x) => x.t().dot(r),
            Design::Sparse(x) => {
                let mut out = Array1::zeros(x.cols());
                for (i, &ri) in r.iter().enumerate() {
                    let (idx, val) = x.row(i);
                    for (&j, &v) in idx.iter().zip(val) {
                        out[j as usize] += f64::from(v) * ri;
                    }
                }
                out
            }
        }
    }

    /// Dense rows, checked for NaN and infinity (the sparse ones are
    /// checked where they are used).
    /// Stored column-major: both products the solver needs (X·w as a sum of
    /// columns, Xᵀ·r as column dots) then run over contiguous memory;
    /// row-major made Xᵀ·r take ndarray's strided path, 5x slower.
    pub fn dense(x: ArrayView2<f32>, what: &str) -> Result<Design<'static>> {
        use ndarray::ShapeBuilder;
        crate::matrix::check_finite(x, None, what, "features")?;
        let mut columns = Array2::<f64>::zeros(x.dim().f());
        columns.zip_mut_with(&x, |c, &v| *c = f64::from(v));
        Ok(Design::Dense(columns))
    }

    fn check_finite(&self, what: &str) -> Result<()> {
        match self {
            Design::Dense(_) => Ok(()),
            Design::Sparse(x) => x.check_finite(what, "features"),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LogisticParams {
    pub c: f64,
    pub balanced: bool,
    pub max_iter: usize,
    /// Stop when every gradient component is at most this (scikit-learn's `tol`,
    /// on its objective scaled by 1 / (C · Σ weights)).
    pub tol: f64,
    pub fit_intercept: bool,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            c: 1.0,
            balanced: false,
            max_iter: 100,
            tol: 1e-4,
            fit_intercept: true,
        }
    }
}

/// A fitted one-vs-rest logistic regression.
#[derive(Clone, Debug)]
pub struct LogisticModel {
    pub params: LogisticParams,
    pub names: Vec<String>,
    /// labels × features.
    pub weights: Array2<f64>,
    pub bias: Vec<f64>,
    /// Labels whose solver reached `max_iter` first.
    pub not_converged: Vec<String>,
    /// `Some(v)` for a label that was `v` in every training row: not fitted,
    /// predicted `v` with probability 1 (scikit-learn's `_ConstantPredictor`).
    pub constant: Vec<Option<bool>>,
}

/// Minimises `f` from `x0` by L-BFGS; `f` returns the value and the
/// gradient. Returns the minimiser and whether `max |grad| <= tol` was reached.
pub fn lbfgs(
    mut f: impl FnMut(&Array1<f64>) -> (f64, Array1<f64>),
    x0: Array1<f64>,
    tol: f64,
    max_iter: usize,
) -> (Array1<f64>, bool) {
    const MEMORY: usize = 10;
    let mut x = x0;
    let (mut fx, mut g) = f(&x);
    let mut s_hist: Vec<Array1<f64>> = Vec::new();
    let mut y_hist: Vec<Array1<f64>> = Vec::new();
    for _ in 0..max_iter {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) <= tol {
            return (x, true);
        }
        // Two-loop recursion: d = −H·g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / y.dot(s);
            let a = rho * s.dot(&q);
            q.scaled_add(-a, y);
            alphas.push((a, rho));
        }
        if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            q *= s.dot(y) / y.dot(y);
        } else {
            // First step: a unit-length move along the gradient.
            let norm = g.dot(&g).sqrt();
            if norm > 0.0 {
                q /= norm.max(1.0);
            }
        }
        for ((s, y), (a, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let b = rho * y.dot(&q);
            q.scaled_add(a - b, s);
        }
        let d = -q;
        let slope = g.dot(&d);
        if slope >= 0.0 {
            // Not a descent direction (curvature lost): restart from the gradient.
            s_hist.clear();
            y_hist.clear();
            continue;
        }
        // Backtracking (Armijo) line search.
        let mut step = 1.0;
        let (mut x_new, mut f_new, mut g_new);
        loop {
            x_new = &x + &(&d * step);
            (f_new, g_new) = f(&x_new);
            if f_new <= fx + 1e-4 * step * slope || step < 1e-12 {
                break;
            }
            step *= 0.5;
        }
        let s = &x_new - &x;
        let y = &g_new - &g;
        if s.dot(&y) > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        let improvement = fx - f_new;
        x = x_new;
        fx = f_new;
        g = g_new;
        if improvement.abs() <= f64::EPSILON * fx.abs().max(1.0) && step < 1e-12 {
            break;
        }
    }
    let converged = g.iter().fold(0.0f64, |m, v| m.max(v.abs())) <= tol;
    (x, converged)
}

/// The weights (then the bias, with an intercept) of one binary problem.
fn fit_binary(x: &Design, y: ArrayView1<u8>, p: &LogisticParams) -> (Array1<f64>, f64, bool) {
    let (n, d) = (x.rows(), x.cols());
    let positives = y.iter().filter(|&&v| v == 1).count();
    let (w_pos, w_neg) = if p.balanced {
        (
            n as f64 / (2.0 * positives.max(1) as f64),
            n as f64 / (2.0 * (n - positives).max(1) as f64),
        )
    } else {
        (1.0, 1.0)
    };
    let weights: Array1<f64> = y.mapv(|v| if v == 1 { w_pos } else { w_neg });
    let targets: Array1<f64> = y.mapv(f64::from);
    // scikit-learn's scaling: the loss averaged over the weights, the
    // penalty 1 / (C · Σ weights); same minimiser, and `tol` means the same.
    let total: f64 = weights.sum();
    let l2 = 1.0 / (p.c * total);
    let k = d + usize::from(p.fit_intercept);
    let objective = |theta: &Array1<f64>| {
        let w = theta.slice(ndarray::s![..d]);
        let b = if p.fit_intercept { theta[d] } else { 0.0 };
        let z = x.dot(w) + b;
        let mut value = 0.0;
        let mut residual = Array1::<f64>::zeros(n);
        for i in 0..n {
            let zi = z[i];
            // log(1 + e^z) − y·z, computed without overflow.
            let log1pexp = if zi > 0.0 {
                zi + (-zi).exp().ln_1p()
            } else {
                zi.exp().ln_1p()
            };
            value += weights[i] * (log1pexp - targets[i] * zi);
            let prob = if zi >= 0.0 {
                1.0 / (1.0 + (-zi).exp())
            } else {
                zi.exp() / (1.0 + zi.exp())
            };
            residual[i] = weights[i] * (prob - targets[i]);
        }
        value /= total;
        residual /= total;
        value += 0.5 * l2 * w.dot(&w);
        let mut grad = Array1::<f64>::zeros(k);
        let gw = x.t_dot(&residual) + &(&w * l2);
        grad.slice_mut(ndarray::s![..d]).assign(&gw);
        if p.fit_intercept {
            grad[d] = residual.sum();
        }
        (value, grad)
    };
    let (theta, converged) = lbfgs(objective, Array1::zeros(k), p.tol, p.max_iter);
    let b = if p.fit_intercept { theta[d] } else { 0.0 };
    (theta.slice(ndarray::s![..d]).to_owned(), b, converged)
}

impl LogisticModel {
    pub fn fit(x: ArrayView2<f32>, y: &Labels, params: &LogisticParams) -> Result<LogisticModel> {
        Self::fit_design(&Design::dense(x, "fit: x")?, y, params)
    }

    /// `fit` on dense or sparse rows.
    pub fn fit_design(x: &Design, y: &Labels, params: &LogisticParams) -> Result<LogisticModel> {
        if x.rows() != y.rows() {
            return Err(Error::invalid(format!(
                "fit: x has {} rows but the labels have {}; they must describe the same movies",
                x.rows(),
                y.rows()
            )));
        }
        if x.rows() == 0 {
            return Err(Error::invalid("fit: no training rows"));
        }
        x.check_finite("fit: x")?;
        let constant = super::ovr::constant_labels(y);
        let fits: Vec<(Array1<f64>, f64, bool)> = (0..y.cols())
            .into_par_iter()
            .map(|j| match constant[j] {
                Some(_) => (Array1::zeros(x.cols()), 0.0, true),
                None => fit_binary(x, y.values().column(j), params),
            })
            .collect();
        let mut weights = Array2::zeros((y.cols(), x.cols()));
        let mut bias = Vec::with_capacity(y.cols());
        let mut not_converged = Vec::new();
        for (j, (w, b, ok)) in fits.into_iter().enumerate() {
            weights.row_mut(j).assign(&w);
            bias.push(b);
            if !ok {
                not_converged.push(y.names()[j].clone());
            }
        }
        Ok(LogisticModel {
            params: params.clone(),
            names: y.names().to_vec(),
            weights,
            bias,
            not_converged,
            constant,
        })
    }

    /// w·x + b per row and label.
    pub fn decision_function(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.decision_design(&Design::dense(x, "x")?)
    }

    /// `decision_function` on dense or sparse rows.
    pub fn decision_design(&self, x: &Design) -> Result<Array2<f32>> {
        if x.cols() != self.weights.ncols() {
            return Err(Error::invalid(format!(
                "x has {} columns but the model was fitted on {}",
                x.cols(),
                self.weights.ncols()
            )));
        }
        x.check_finite("x")?;
        let z = match x {
            Design::Dense(x) => x.dot(&self.weights.t()),
            Design::Sparse(_) => {
                let columns: Vec<Array1<f64>> = self
                    .weights
                    .outer_iter()
                    .into_par_iter()
                    .map(|w| x.dot(w))
                    .collect();
                let mut z = Array2::zeros((x.rows(), self.weights.nrows()));
                for (j, c) in columns.iter().enumerate() {
                    z.column_mut(j).assign(c);
                }
                z
            }
        };
        let bias = Array1::from(self.bias.clone());
        let mut z = (z + &bias.insert_axis(Axis(0))).mapv(|v| v as f32);
        for (j, c) in self.constant.iter().enumerate() {
            if let Some(v) = c {
                z.column_mut(j)
                    .fill(if *v { f32::INFINITY } else { f32::NEG_INFINITY });
            }
        }
        Ok(z)
    }

    /// P(label | x): the logistic of the decision value.
    pub fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        Ok(Self::probabilities(self.decision_function(x)?))
    }

    /// The logistic of decision values.
    pub fn probabilities(decision: Array2<f32>) -> Array2<f32> {
        decision.mapv(|z| {
            let z = f64::from(z);
            (if z >= 0.0 {
                1.0 / (1.0 + (-z).exp())
            } else {
                z.exp() / (1.0 + z.exp())
            }) as f32
        })
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut saved = Saved::new("logistic");
        saved
            .set("params", &self.params)
            .set("names", &self.names)
            .set("columns", self.weights.ncols())
            .set("constant", &self.constant)
            .matrix("weights", &self.weights)
            .vector("bias", &self.bias);
        saved.write(path)
    }

    pub fn load(path: &Path) -> Result<LogisticModel> {
        let saved = Saved::read(path, &["logistic"])?;
        let names: Vec<String> = saved.get(path, "names")?;
        let columns: usize = saved.get(path, "columns")?;
        Ok(LogisticModel {
            params: saved.get(path, "params")?,
            weights: saved.get_matrix(path, "weights", names.len(), columns)?,
            bias: saved.get_vector(path, "bias", names.len())?,
            not_converged: Vec::new(),
            // Files written before constant labels were kept have none.
            constant: if saved.has("constant") {
                saved.get(path, "constant")?
            } else {
                vec![None; names.len()]
            },
            names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn 1.9.1:
    /// ```python
    /// X = np.array([[0.5, 1.0, -1.0], [1.5, -0.5, 0.0], [-1.0, 2.0, 0.5], [0.0, 0.0, 1.0],
    ///               [2.0, 1.0, -0.5], [-0.5, -1.5, 1.5], [1.0, 0.5, 0.5], [-2.0, 1.0, -1.0]])
    /// Y = np.array([[1, 0], [1, 1], [0, 0], [0, 1], [1, 0], [0, 1], [1, 1], [0, 0]])
    /// for c, cw in [(1.0, None), (0.5, "balanced")]:
    ///     for j in range(2):
    ///         m = LogisticRegression(C=c, class_weight=cw, tol=1e-10, max_iter=10000).fit(X, Y[:, j])
    ///         print(c, cw, j, m.coef_[0], m.intercept_[0])
    /// # 1.0 None 0 [1.2610311, 0.09604714, -0.60586839] -0.16024802
    /// # 1.0 None 1 [0.26095621, -1.02595314, 0.87343667] 0.36698757
    /// # 0.5 balanced 0 [0.91206773, 0.06672083, -0.41057208] -0.13010708
    /// # 0.5 balanced 1 [0.21408223, -0.724644, 0.60069303] 0.23022409
    /// ```
    #[test]
    fn coefficients_match_scikit_learn() {
        let x = ndarray::array![
            [0.5f32, 1.0, -1.0],
            [1.5, -0.5, 0.0],
            [-1.0, 2.0, 0.5],
            [0.0, 0.0, 1.0],
            [2.0, 1.0, -0.5],
            [-0.5, -1.5, 1.5],
            [1.0, 0.5, 0.5],
            [-2.0, 1.0, -1.0]
        ];
        let y = Labels::new(
            vec!["a".into(), "b".into()],
            ndarray::array![
                [1u8, 0],
                [1, 1],
                [0, 0],
                [0, 1],
                [1, 0],
                [0, 1],
                [1, 1],
                [0, 0]
            ],
        )
        .unwrap();
        let expected = [
            (
                1.0,
                false,
                [
                    [1.2610311, 0.09604714, -0.60586839, -0.16024802],
                    [0.26095621, -1.02595314, 0.87343667, 0.36698757],
                ],
            ),
            (
                0.5,
                true,
                [
                    [0.91206773, 0.06672083, -0.41057208, -0.13010708],
                    [0.21408223, -0.724644, 0.60069303, 0.23022409],
                ],
            ),
        ];
        for (c, balanced, want) in expected {
            let p = LogisticParams {
                c,
                balanced,
                tol: 1e-10,
                max_iter: 10_000,
                ..LogisticParams::default()
            };
            let m = LogisticModel::fit(x.view(), &y, &p).unwrap();
            assert!(m.not_converged.is_empty());
            for (j, row) in want.iter().enumerate() {
                for (k, want) in row[..3].iter().enumerate() {
                    let got = m.weights[[j, k]];
                    assert!(
                        (got - want).abs() < 1e-6,
                        "C {c} label {j} w{k}: {got} vs {want}"
                    );
                }
                assert!(
                    (m.bias[j] - row[3]).abs() < 1e-6,
                    "C {c} label {j} bias: {}",
                    m.bias[j]
                );
            }
        }
    }

    /// The same problem as sparse rows (scikit-learn fits CSR input with the
    /// same solver, so the coefficients above hold): equal to the dense fit.
    #[test]
    fn sparse_rows_fit_as_dense_ones() {
        let x = ndarray::array![
            [0.5f32, 0.0, -1.0],
            [0.0, -0.5, 0.0],
            [-1.0, 2.0, 0.0],
            [0.0, 0.0, 1.0],
            [2.0, 0.0, -0.5]
        ];
        let y = Labels::new(
            vec!["a".into(), "b".into()],
            ndarray::array![[1u8, 0], [1, 1], [0, 0], [0, 1], [1, 0]],
        )
        .unwrap();
        let p = LogisticParams {
            tol: 1e-10,
            max_iter: 10_000,
            ..LogisticParams::default()
        };
        let dense = LogisticModel::fit(x.view(), &y, &p).unwrap();
        let csr = Csr::from_dense(&x);
        let sparse = LogisticModel::fit_design(&Design::Sparse(&csr), &y, &p).unwrap();
        for (a, b) in dense.weights.iter().zip(sparse.weights.iter()) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        let d = dense.decision_function(x.view()).unwrap();
        let s = sparse.decision_design(&Design::Sparse(&csr)).unwrap();
        for (a, b) in d.iter().zip(s.iter()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        let mut bad = x.clone();
        bad[[2, 1]] = f32::NAN;
        let err = LogisticModel::fit_design(&Design::Sparse(&Csr::from_dense(&bad)), &y, &p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 2, column 1 is NaN"), "{err}");
    }

    #[test]
    fn lbfgs_minimises_a_quadratic() {
        let (x, ok) = lbfgs(
            |v| {
                let g = ndarray::array![2.0 * (v[0] - 3.0), 20.0 * (v[1] + 1.0)];
                ((v[0] - 3.0).powi(2) + 10.0 * (v[1] + 1.0).powi(2), g)
            },
            Array1::zeros(2),
            1e-10,
            100,
        );
        assert!(
            ok && (x[0] - 3.0).abs() < 1e-8 && (x[1] + 1.0).abs() < 1e-8,
            "{x}"
        );
    }
}
