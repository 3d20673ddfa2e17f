//! Linear support vector machines on CSR input, one binary problem at a time.
//!
//! Written here because no crate fits: linfa-svm is dense and builds an
//! n × n kernel (6.7 s and 194 MB per label at 4,000 × 1,000). The solver is
//! LIBLINEAR's dual coordinate descent (Hsieh et al. 2008, with shrinking),
//! which is what scikit-learn's `LinearSVC` runs. Two intercepts:
//!
//! - [`Intercept::Regularized`]: `LinearSVC` — a constant feature
//!   `intercept_scaling` is appended, so the bias is penalised like a weight.
//! - [`Intercept::Free`]: `SVC(kernel="linear")` — the bias is not penalised
//!   (libsvm's problem, with its equality constraint Σ αᵢyᵢ = 0). For a fixed
//!   bias b the rest is a LIBLINEAR problem; f(b) = min_w(...) is convex with
//!   derivative −Σ αᵢyᵢ, so b is found by bisection on that sign, each step a
//!   warm-started dual CD, and finally set from the free support vectors the
//!   way libsvm sets ρ.

use crate::matrix::Csr;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Loss {
    Hinge,
    SquaredHinge,
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Intercept {
    /// `LinearSVC(fit_intercept=True, intercept_scaling=s)`.
    Regularized { scaling: f64 },
    /// `SVC(kernel="linear")`: an unpenalised bias.
    Free,
    /// No bias at all.
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ClassWeight {
    Uniform,
    /// n / (2 · count of the class), on the data being fitted.
    Balanced,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SvmParams {
    pub c: f64,
    pub loss: Loss,
    pub intercept: Intercept,
    pub class_weight: ClassWeight,
    /// Stopping tolerance on the projected-gradient gap (scikit-learn's `tol`).
    pub tol: f64,
    /// Passes over the data per dual CD solve.
    pub max_iter: usize,
}

impl SvmParams {
    /// scikit-learn's `LinearSVC()` defaults.
    pub fn linear_svc() -> SvmParams {
        SvmParams {
            c: 1.0,
            loss: Loss::SquaredHinge,
            intercept: Intercept::Regularized { scaling: 1.0 },
            class_weight: ClassWeight::Uniform,
            tol: 1e-4,
            max_iter: 1000,
        }
    }

    /// scikit-learn's `SVC(kernel="linear")` problem.
    pub fn svc() -> SvmParams {
        SvmParams {
            c: 1.0,
            loss: Loss::Hinge,
            intercept: Intercept::Free,
            class_weight: ClassWeight::Uniform,
            tol: 1e-3,
            max_iter: 1000,
        }
    }
}

/// A fitted binary classifier: decision = w·x + b.
#[derive(Clone, Debug)]
pub struct Binary {
    pub w: Vec<f64>,
    pub b: f64,
    /// Whether every dual CD solve met the tolerance within `max_iter`.
    pub converged: bool,
}

/// The rows of one binary problem: a subset of a CSR matrix with ±1 labels.
struct Problem<'a> {
    x: &'a Csr,
    rows: &'a [usize],
    y: Vec<f64>,
    /// Per-row upper bound of α (C·weight, or ∞ for the squared hinge).
    upper: Vec<f64>,
    /// Per-row diagonal term (0, or 1/(2·C·weight) for the squared hinge).
    diag: Vec<f64>,
    /// Value of the appended constant feature (0 without one).
    bias_feature: f64,
    qd: Vec<f64>,
}

impl<'a> Problem<'a> {
    fn new(x: &'a Csr, rows: &'a [usize], positive: &[bool], params: &SvmParams) -> Problem<'a> {
        let n = rows.len() as f64;
        let n_pos = rows.iter().filter(|&&r| positive[r]).count() as f64;
        let (w_pos, w_neg) = match params.class_weight {
            ClassWeight::Uniform => (1.0, 1.0),
            ClassWeight::Balanced => (n / (2.0 * n_pos.max(1.0)), n / (2.0 * (n - n_pos).max(1.0))),
        };
        let bias_feature = match params.intercept {
            Intercept::Regularized { scaling } => scaling,
            _ => 0.0,
        };
        let mut y = Vec::with_capacity(rows.len());
        let mut upper = Vec::with_capacity(rows.len());
        let mut diag = Vec::with_capacity(rows.len());
        let mut qd = Vec::with_capacity(rows.len());
        for &r in rows {
            let (sign, weight) = if positive[r] {
                (1.0, w_pos)
            } else {
                (-1.0, w_neg)
            };
            let c = params.c * weight;
            let (u, d) = match params.loss {
                Loss::Hinge => (c, 0.0),
                Loss::SquaredHinge => (f64::INFINITY, 0.5 / c),
            };
            let (_, vals) = x.row(r);
            let sq: f64 = vals.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            y.push(sign);
            upper.push(u);
            diag.push(d);
            qd.push(d + sq + bias_feature * bias_feature);
        }
        Problem {
            x,
            rows,
            y,
            upper,
            diag,
            bias_feature,
            qd,
        }
    }

    fn dot(&self, k: usize, w: &[f64]) -> f64 {
        let (cols, vals) = self.x.row(self.rows[k]);
        cols.iter()
            .zip(vals)
            .map(|(&c, &v)| w[c as usize] * f64::from(v))
            .sum()
    }
}

/// splitmix64: a tiny deterministic generator for the visiting order.
struct Order(u64);

impl Order {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// State of a dual coordinate descent: α, w, and the weight of the bias feature.
struct Dual {
    alpha: Vec<f64>,
    w: Vec<f64>,
    w_bias: f64,
}

/// LIBLINEAR's `solve_l2r_l1l2_svc` with a fixed extra `offset` added to every
/// decision value. Returns whether the gap tolerance was met.
fn dual_cd(
    p: &Problem<'_>,
    s: &mut Dual,
    offset: f64,
    eps: f64,
    max_iter: usize,
    order: &mut Order,
) -> bool {
    let l = p.rows.len();
    let mut index: Vec<usize> = (0..l).collect();
    let mut active = l;
    let (mut pg_max_old, mut pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
    for _ in 0..max_iter {
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        for i in 0..active {
            let j = i + order.below(active - i);
            index.swap(i, j);
        }
        let mut s_idx = 0;
        while s_idx < active {
            let i = index[s_idx];
            let yi = p.y[i];
            let g = yi * (p.dot(i, &s.w) + s.w_bias * p.bias_feature + offset) - 1.0
                + s.alpha[i] * p.diag[i];
            let c = p.upper[i];
            let mut pg = 0.0;
            if s.alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s_idx, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else if s.alpha[i] == c {
                if g < pg_min_old {
                    active -= 1;
                    index.swap(s_idx, active);
                    continue;
                } else if g > 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = s.alpha[i];
                s.alpha[i] = (old - g / p.qd[i]).clamp(0.0, c);
                let d = (s.alpha[i] - old) * yi;
                let (cols, vals) = p.x.row(p.rows[i]);
                for (&col, &v) in cols.iter().zip(vals) {
                    s.w[col as usize] += d * f64::from(v);
                }
                s.w_bias += d * p.bias_feature;
            }
            s_idx += 1;
        }
        if pg_max - pg_min <= eps {
            if active == l {
                return true;
            }
            active = l;
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
        pg_min_old = if pg_min >= 0.0 {
            f64::NEG_INFINITY
        } else {
            pg_min
        };
    }
    false
}

/// libsvm's ρ from the dual solution: the mean of yᵢGᵢ over free support
/// vectors, else the middle of the optimal interval. Returns b = −ρ.
fn libsvm_bias(p: &Problem<'_>, s: &Dual) -> f64 {
    let (mut free, mut sum) = (0usize, 0.0);
    for i in 0..p.rows.len() {
        if s.alpha[i] > 0.0 && s.alpha[i] < p.upper[i] {
            free += 1;
            sum += p.y[i] * (p.y[i] * p.dot(i, &s.w) - 1.0);
        }
    }
    if free > 0 {
        -sum / free as f64
    } else {
        degenerate_bias(p, &s.w)
    }
}

/// With no free support vector the optimal b may fill a whole interval
/// (tiny C with balanced weights: every point violates the margin, and any b
/// in between is optimal). libsvm's rule without free support vectors is the
/// middle of the interval its α certify; we take the middle of the optimal
/// interval for the (unique) optimal w. libsvm itself usually ends such a fit
/// with one α a rounding error below its bound, which then sets b at one edge
/// or the other: that choice is floating-point noise and is not reproduced.
fn degenerate_bias(p: &Problem<'_>, w: &[f64]) -> f64 {
    // Term i adds +Cᵢ to the slope of the loss in b at bᵢ = yᵢ − w·xᵢ; the
    // slope starts at −Σ Cᵢ over the positives.
    let mut events: Vec<(f64, f64)> = (0..p.rows.len())
        .map(|i| (p.y[i] - p.dot(i, w), p.upper[i]))
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut slope: f64 = -(0..p.rows.len())
        .filter(|&i| p.y[i] > 0.0)
        .map(|i| p.upper[i])
        .sum::<f64>();
    let (mut start, mut end) = (None, None);
    let mut k = 0;
    while k < events.len() {
        let at = events[k].0;
        while k < events.len() && events[k].0 == at {
            slope += events[k].1;
            k += 1;
        }
        let tiny = 1e-12 * (1.0 + slope.abs());
        if start.is_none() && slope >= -tiny {
            start = Some(at);
        }
        if slope > tiny {
            end = Some(at);
            break;
        }
    }
    match (start, end) {
        (Some(a), Some(b)) => 0.5 * (a + b),
        (Some(a), None) => a,
        _ => 0.0,
    }
}

/// Fits one binary problem on `rows` of `x`; `positive[r]` is row r's label.
pub fn fit_binary(
    x: &Csr,
    rows: &[usize],
    positive: &[bool],
    params: &SvmParams,
    seed: u64,
) -> Binary {
    let p = Problem::new(x, rows, positive, params);
    let mut s = Dual {
        alpha: vec![0.0; rows.len()],
        w: vec![0.0; x.cols()],
        w_bias: 0.0,
    };
    let mut order = Order(seed);
    if params.intercept != Intercept::Free {
        let converged = dual_cd(&p, &mut s, 0.0, params.tol, params.max_iter, &mut order);
        return Binary {
            b: s.w_bias * p.bias_feature,
            w: s.w,
            converged,
        };
    }
    // Free bias: bisection on the sign of Σ αᵢyᵢ (= −f'(b)).
    let mut converged = true;
    // Σαᵢyᵢ, with rounding noise counted as zero: when every α sits at its
    // bound (tiny C, balanced weights) the optimal b is a whole interval and
    // any point of it gives libsvm's midpoint below.
    let mut solve = |b: f64, s: &mut Dual| {
        converged &= dual_cd(&p, s, b, params.tol, params.max_iter, &mut order);
        let balance: f64 = s.alpha.iter().zip(&p.y).map(|(a, y)| a * y).sum();
        let scale: f64 = s.alpha.iter().sum();
        if balance.abs() <= 1e-10 * scale.max(f64::MIN_POSITIVE) {
            0.0
        } else {
            balance
        }
    };
    let balance0 = solve(0.0, &mut s);
    let (mut lo, mut hi);
    if balance0 == 0.0 {
        (lo, hi) = (0.0, 0.0);
    } else {
        // Walk outwards until the sign flips: Σαy > 0 means b must grow.
        let direction = balance0.signum();
        let mut step = 1.0;
        let mut inner = 0.0;
        loop {
            let outer = direction * step;
            let balance = solve(outer, &mut s);
            if balance == 0.0 {
                (lo, hi) = (outer, outer);
                break;
            }
            if balance.signum() != direction || step > 1e6 {
                (lo, hi) = if direction > 0.0 {
                    (inner, outer)
                } else {
                    (outer, inner)
                };
                break;
            }
            inner = outer;
            step *= 2.0;
        }
    }
    for _ in 0..60 {
        if hi - lo <= 1e-7 * (1.0 + lo.abs().max(hi.abs())) {
            break;
        }
        let mid = 0.5 * (lo + hi);
        let balance = solve(mid, &mut s);
        if balance > 0.0 {
            lo = mid;
        } else if balance < 0.0 {
            hi = mid;
        } else {
            (lo, hi) = (mid, mid);
        }
    }
    let _ = solve(0.5 * (lo + hi), &mut s);
    let b = libsvm_bias(&p, &s);
    Binary {
        b,
        w: s.w,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn toy() -> (Csr, Vec<bool>) {
        let x = array![
            [1.0f32, 0.0, 0.5],
            [0.9, 0.1, 0.0],
            [0.0, 1.0, 0.2],
            [0.1, 0.8, 0.0],
            [0.7, 0.0, 0.0],
            [0.0, 0.6, 0.9]
        ];
        (
            Csr::from_dense(&x),
            vec![true, true, false, false, true, false],
        )
    }

    fn fit(params: SvmParams) -> Binary {
        let (x, y) = toy();
        let rows: Vec<usize> = (0..6).collect();
        fit_binary(&x, &rows, &y, &params, 7)
    }

    // from sklearn.svm import LinearSVC, SVC
    // X = [[1,0,.5],[.9,.1,0],[0,1,.2],[.1,.8,0],[.7,0,0],[0,.6,.9]]; y = [1,1,0,0,1,0]
    // LinearSVC(C=1, tol=1e-8, max_iter=100000, dual=True).fit(X, y)
    //   coef_ [[ 0.98601027, -0.91070579, -0.26878792]]  intercept_ [0.00686114]
    // LinearSVC(C=1, loss='hinge', tol=1e-8, max_iter=100000, dual=True).fit(X, y)
    //   coef_ [[ 1.16805349, -1.0860327 , -0.45081723]]  intercept_ [0.05735512]
    // SVC(kernel='linear', C=1, tol=1e-8).fit(X, y)
    //   coef_ [[ 1.15088067, -1.11330727, -0.45283758]]  intercept_ [0.07553814]
    // SVC(kernel='linear', C=10, class_weight='balanced', tol=1e-8).fit(X[:5], y[:5])
    //   coef_ [[ 1.20000002, -1.60000002,  0.        ]]  intercept_ [0.15999997]
    #[test]
    fn matches_liblinear_and_libsvm() {
        let tight = |mut p: SvmParams| {
            p.tol = 1e-8;
            p.max_iter = 100_000;
            p
        };
        let close = |m: &Binary, w: [f64; 3], b: f64| {
            for (got, want) in m.w.iter().zip(w) {
                assert!((got - want).abs() < 1e-4, "w {:?} vs {w:?}", m.w);
            }
            assert!((m.b - b).abs() < 1e-4, "b {} vs {b}", m.b);
        };
        close(
            &fit(tight(SvmParams::linear_svc())),
            [0.98601027, -0.91070579, -0.26878792],
            0.00686114,
        );
        let hinge = SvmParams {
            loss: Loss::Hinge,
            ..SvmParams::linear_svc()
        };
        close(
            &fit(tight(hinge)),
            [1.16805349, -1.0860327, -0.45081723],
            0.05735512,
        );
        close(
            &fit(tight(SvmParams::svc())),
            [1.15088067, -1.11330727, -0.45283758],
            0.07553814,
        );
        let (x, y) = toy();
        let balanced = SvmParams {
            c: 10.0,
            class_weight: ClassWeight::Balanced,
            ..tight(SvmParams::svc())
        };
        let m = fit_binary(&x, &[0, 1, 2, 3, 4], &y, &balanced, 3);
        close(&m, [1.20000002, -1.60000002, 0.0], 0.15999997);
    }
}
