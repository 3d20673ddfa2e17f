//! The multi-label models scripts hold: a one-vs-rest linear SVM (fitted
//! directly or by grid search) and one-vs-rest multinomial naive Bayes.

use ndarray::Array2;
use rayon::prelude::*;

use crate::data::Labels;
use crate::error::{Error, Result};
use crate::interrupt;
use crate::linear::ovr;
use crate::linear::svm::{self, SvmParams};
use crate::matrix::Csr;
use crate::persist::Saved;
use std::path::Path;

/// A one-vs-rest linear SVM: one weight row and bias per label.
#[derive(Clone, Debug)]
pub struct SvmModel {
    pub params: SvmParams,
    pub names: Vec<String>,
    pub weights: Array2<f64>,
    pub bias: Vec<f64>,
    /// The C each label was fitted with (all `params.c` unless grid-searched).
    pub c: Vec<f64>,
    /// Mean cross-validation score per label and candidate C (grid search only).
    pub cv_scores: Option<Vec<Vec<f64>>>,
    /// Labels whose solver hit `max_iter` before the tolerance.
    pub not_converged: Vec<String>,
}

/// Seed of the dual CD visiting order for label `j` (results do not depend
/// on it beyond the tolerance; fixed so runs repeat exactly).
fn order_seed(j: usize) -> u64 {
    0x5EED_0000 + j as u64
}

impl SvmModel {
    /// Fits every label with its own C (`cs[j]`), labels in parallel.
    pub fn fit_with(
        x: &Csr,
        y: &Labels,
        params: &SvmParams,
        cs: Vec<f64>,
    ) -> Result<(SvmModel, Vec<String>)> {
        ovr::check_rows(x, y)?;
        let constant = ovr::constant_labels(y);
        let rows: Vec<usize> = (0..x.rows()).collect();
        let fits: Vec<Option<svm::Binary>> = (0..y.cols())
            .into_par_iter()
            .map(|j| {
                if constant[j].is_some() || interrupt::requested() {
                    return None;
                }
                let p = SvmParams {
                    c: cs[j],
                    ..params.clone()
                };
                Some(svm::fit_binary(
                    x,
                    &rows,
                    &ovr::column(y, j),
                    &p,
                    order_seed(j),
                ))
            })
            .collect();
        interrupt::check()?;
        let mut weights = Array2::zeros((y.cols(), x.cols()));
        let mut bias = vec![0.0; y.cols()];
        let mut not_converged = Vec::new();
        for (j, fit) in fits.into_iter().enumerate() {
            match (fit, constant[j]) {
                (Some(f), _) => {
                    if !f.converged {
                        not_converged.push(y.names()[j].clone());
                    }
                    weights.row_mut(j).assign(&ndarray::ArrayView1::from(&f.w));
                    bias[j] = f.b;
                }
                // Constant labels: a decision of ±1 everywhere.
                (None, Some(v)) => bias[j] = if v { 1.0 } else { -1.0 },
                (None, None) => unreachable!("every non-constant label is fitted"),
            }
        }
        let warnings = ovr::constant_warnings(y.names(), &constant);
        Ok((
            SvmModel {
                params: params.clone(),
                names: y.names().to_vec(),
                weights,
                bias,
                c: cs,
                cv_scores: None,
                not_converged,
            },
            warnings,
        ))
    }

    pub fn fit(x: &Csr, y: &Labels, params: &SvmParams) -> Result<(SvmModel, Vec<String>)> {
        Self::fit_with(x, y, params, vec![params.c; y.cols()])
    }

    pub fn decision_function(&self, x: &Csr) -> Result<Array2<f32>> {
        ovr::check_cols(x, self.weights.ncols())?;
        Ok(ovr::decision(x, &self.weights, &self.bias))
    }

    /// Labels whose decision value is positive.
    pub fn predict(&self, x: &Csr) -> Result<Labels> {
        let d = self.decision_function(x)?;
        Labels::new(self.names.clone(), d.mapv(|v| u8::from(v > 0.0)))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut saved = Saved::new("svm");
        saved
            .set("params", &self.params)
            .set("names", &self.names)
            .set("c", &self.c)
            .set("cv_scores", &self.cv_scores)
            .set("columns", self.weights.ncols())
            .matrix("weights", &self.weights)
            .vector("bias", &self.bias);
        saved.write(path)
    }

    pub fn load(path: &Path) -> Result<SvmModel> {
        let saved = Saved::read(path, &["svm"])?;
        let names: Vec<String> = saved.get(path, "names")?;
        let columns: usize = saved.get(path, "columns")?;
        Ok(SvmModel {
            params: saved.get(path, "params")?,
            weights: saved.get_matrix(path, "weights", names.len(), columns)?,
            bias: saved.get_vector(path, "bias", names.len())?,
            c: saved.get(path, "c")?,
            cv_scores: saved.get(path, "cv_scores")?,
            not_converged: Vec::new(),
            names,
        })
    }
}

/// One-vs-rest multinomial naive Bayes (`OneVsRestClassifier(MultinomialNB())`).
#[derive(Clone, Debug)]
pub struct NbModel {
    pub alpha: f64,
    pub fit_prior: bool,
    pub names: Vec<String>,
    /// log P(term | label present) and log P(term | label absent), labels × terms.
    pub log_prob_pos: Array2<f64>,
    pub log_prob_neg: Array2<f64>,
    /// log P(present), log P(absent) per label.
    pub log_prior: Vec<[f64; 2]>,
    pub constant: Vec<Option<bool>>,
}

impl NbModel {
    pub fn fit(x: &Csr, y: &Labels, alpha: f64, fit_prior: bool) -> Result<(NbModel, Vec<String>)> {
        ovr::check_rows(x, y)?;
        if alpha.is_nan() || alpha < 0.0 {
            return Err(Error::invalid(format!(
                "nb: alpha must be 0 or more, got {alpha}"
            )));
        }
        if let Some(pos) = x.data().iter().position(|v| *v < 0.0) {
            let row = x.indptr().partition_point(|&p| p <= pos) - 1;
            return Err(Error::invalid(format!(
                "multinomial naive Bayes needs non-negative features (counts or tf-idf); row {row} has {}",
                x.data()[pos]
            )));
        }
        // scikit-learn clips alpha to 1e-10 to keep the logs finite.
        let alpha = alpha.max(1e-10);
        let d = x.cols();
        let mut total = vec![0.0f64; d];
        for (&c, &v) in x.indices().iter().zip(x.data()) {
            total[c as usize] += f64::from(v);
        }
        let constant = ovr::constant_labels(y);
        let n = x.rows() as f64;
        let per_label: Vec<(Vec<f64>, Vec<f64>, [f64; 2])> = (0..y.cols())
            .into_par_iter()
            .map(|j| {
                let positive = ovr::column(y, j);
                let mut pos = vec![0.0f64; d];
                for (i, _) in positive.iter().enumerate().filter(|(_, p)| **p) {
                    let (cols, vals) = x.row(i);
                    for (&c, &v) in cols.iter().zip(vals) {
                        pos[c as usize] += f64::from(v);
                    }
                }
                let log_probs = |counts: &dyn Fn(usize) -> f64| {
                    let smoothed: Vec<f64> = (0..d).map(|t| counts(t) + alpha).collect();
                    let sum: f64 = smoothed.iter().sum();
                    smoothed
                        .iter()
                        .map(|v| v.ln() - sum.ln())
                        .collect::<Vec<f64>>()
                };
                let lp_pos = log_probs(&|t| pos[t]);
                let lp_neg = log_probs(&|t| total[t] - pos[t]);
                let n_pos = positive.iter().filter(|p| **p).count() as f64;
                let prior = if fit_prior {
                    [(n_pos / n).ln(), ((n - n_pos) / n).ln()]
                } else {
                    [0.5f64.ln(), 0.5f64.ln()]
                };
                (lp_pos, lp_neg, prior)
            })
            .collect();
        let mut log_prob_pos = Array2::zeros((y.cols(), d));
        let mut log_prob_neg = Array2::zeros((y.cols(), d));
        let mut log_prior = Vec::with_capacity(y.cols());
        for (j, (p, q, prior)) in per_label.into_iter().enumerate() {
            log_prob_pos
                .row_mut(j)
                .assign(&ndarray::ArrayView1::from(&p));
            log_prob_neg
                .row_mut(j)
                .assign(&ndarray::ArrayView1::from(&q));
            log_prior.push(prior);
        }
        let warnings = ovr::constant_warnings(y.names(), &constant);
        Ok((
            NbModel {
                alpha,
                fit_prior,
                names: y.names().to_vec(),
                log_prob_pos,
                log_prob_neg,
                log_prior,
                constant,
            },
            warnings,
        ))
    }

    /// log P(present | x) − log P(absent | x) per movie and label.
    pub fn log_odds(&self, x: &Csr) -> Result<Array2<f32>> {
        ovr::check_cols(x, self.log_prob_pos.ncols())?;
        let weights = &self.log_prob_pos - &self.log_prob_neg;
        let bias: Vec<f64> = self.log_prior.iter().map(|p| p[0] - p[1]).collect();
        let mut odds = ovr::decision(x, &weights, &bias);
        for (j, c) in self.constant.iter().enumerate() {
            if let Some(v) = c {
                odds.column_mut(j)
                    .fill(if *v { f32::INFINITY } else { f32::NEG_INFINITY });
            }
        }
        Ok(odds)
    }

    /// P(label present | x): the logistic of the log-odds, which is
    /// scikit-learn's exp(jll − logsumexp(jll)) without its overflow.
    pub fn predict_proba(&self, x: &Csr) -> Result<Array2<f32>> {
        Ok(self.log_odds(x)?.mapv(|z| {
            let z = f64::from(z);
            let p = if z >= 0.0 {
                1.0 / (1.0 + (-z).exp())
            } else {
                z.exp() / (1.0 + z.exp())
            };
            p as f32
        }))
    }

    /// Labels with probability above 0.5 (what `OneVsRestClassifier.predict` does).
    pub fn predict(&self, x: &Csr) -> Result<Labels> {
        let odds = self.log_odds(x)?;
        Labels::new(self.names.clone(), odds.mapv(|z| u8::from(z > 0.0)))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let priors =
            Array2::from_shape_fn((self.log_prior.len(), 2), |(j, k)| self.log_prior[j][k]);
        let mut saved = Saved::new("naive_bayes");
        saved
            .set("alpha", self.alpha)
            .set("fit_prior", self.fit_prior)
            .set("names", &self.names)
            .set("constant", &self.constant)
            .set("columns", self.log_prob_pos.ncols())
            .matrix("log_prob_pos", &self.log_prob_pos)
            .matrix("log_prob_neg", &self.log_prob_neg)
            .matrix("log_prior", &priors);
        saved.write(path)
    }

    pub fn load(path: &Path) -> Result<NbModel> {
        let saved = Saved::read(path, &["naive_bayes"])?;
        let names: Vec<String> = saved.get(path, "names")?;
        let (labels, columns) = (names.len(), saved.get::<usize>(path, "columns")?);
        let priors = saved.get_matrix(path, "log_prior", labels, 2)?;
        Ok(NbModel {
            alpha: saved.get(path, "alpha")?,
            fit_prior: saved.get(path, "fit_prior")?,
            constant: saved.get(path, "constant")?,
            log_prob_pos: saved.get_matrix(path, "log_prob_pos", labels, columns)?,
            log_prob_neg: saved.get_matrix(path, "log_prob_neg", labels, columns)?,
            log_prior: priors.rows().into_iter().map(|r| [r[0], r[1]]).collect(),
            names,
        })
    }

    /// The `k` terms with the largest log-odds weight for each label.
    pub fn top_terms(&self, k: usize) -> Vec<Vec<(usize, f64)>> {
        (0..self.names.len())
            .map(|j| {
                let mut scored: Vec<(usize, f64)> = self
                    .log_prob_pos
                    .row(j)
                    .iter()
                    .zip(self.log_prob_neg.row(j))
                    .map(|(p, q)| p - q)
                    .enumerate()
                    .collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                scored.truncate(k);
                scored
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    // X = [[2,1,0],[0,1,3],[1,0,1],[3,0,0]]; Y = [[1,0],[0,1],[1,1],[1,0]]
    // m = OneVsRestClassifier(MultinomialNB()).fit(X, Y)
    // m.predict_proba([[1,1,1],[0,0,2]]) -> [[0.73015712, 0.625], [0.23296355, 0.96153846]]
    // m.predict([[1,1,1],[0,0,2]]) -> [[1, 1], [0, 1]]
    #[test]
    fn matches_multinomial_nb() {
        let x = Csr::from_dense(&array![
            [2.0f32, 1.0, 0.0],
            [0.0, 1.0, 3.0],
            [1.0, 0.0, 1.0],
            [3.0, 0.0, 0.0]
        ]);
        let y = Labels::new(
            vec!["a".into(), "b".into()],
            array![[1u8, 0], [0, 1], [1, 1], [1, 0]],
        )
        .unwrap();
        let (m, warnings) = NbModel::fit(&x, &y, 1.0, true).unwrap();
        assert!(warnings.is_empty());
        let q = Csr::from_dense(&array![[1.0f32, 1.0, 1.0], [0.0, 0.0, 2.0]]);
        let p = m.predict_proba(&q).unwrap();
        let want = [[0.73015712, 0.625], [0.23296355, 0.96153846]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((f64::from(p[[i, j]]) - want[i][j]).abs() < 1e-6, "{p:?}");
            }
        }
        assert_eq!(m.predict(&q).unwrap().values(), &array![[1u8, 1], [0, 1]]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let x = Csr::from_dense(&array![[1.0f32, -1.0]]);
        let y = Labels::new(vec!["a".into()], array![[1u8]]).unwrap();
        let msg = NbModel::fit(&x, &y, 1.0, true).unwrap_err().to_string();
        assert!(msg.contains("non-negative features"), "{msg}");
        let y2 = Labels::new(vec!["a".into()], array![[1u8], [0]]).unwrap();
        let msg = SvmModel::fit(&x, &y2, &SvmParams::linear_svc())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("x has 1 rows but the labels have 2"), "{msg}");
    }

    #[test]
    fn constant_labels_warn_and_predict_constantly() {
        let x = Csr::from_dense(&array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]]);
        let y = Labels::new(
            vec!["a".into(), "never".into()],
            array![[1u8, 0], [0, 0], [1, 0]],
        )
        .unwrap();
        let (m, warnings) = SvmModel::fit(&x, &y, &SvmParams::linear_svc()).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("'never' is absent in every training row"));
        assert_eq!(m.predict(&x).unwrap().counts()[1], 0);
    }
}
