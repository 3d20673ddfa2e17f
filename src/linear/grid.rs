//! The seed notebook's `OneVsRestClassifier(GridSearchCV(SVC(...), {"C": [...]},
//! scoring=..., cv=k))`: per label, k-fold cross-validation over C with
//! scikit-learn's `StratifiedKFold` folds, then a refit on all rows with the
//! best C. Every (label, C, fold) fit runs in parallel.

use rayon::prelude::*;

use crate::data::{Labels, NumpyRng};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::linear::models::SvmModel;
use crate::linear::ovr;
use crate::linear::svm::{self, SvmParams};
use crate::matrix::Csr;

crate::choices! {
    /// How a fold's predictions are scored (scikit-learn's scorer names):
    /// `f1_micro` on a binary target equals accuracy; `f1` is the positive
    /// class's F1; `f1_macro` the mean F1 of the two classes.
    pub enum Scoring { F1Micro = "f1_micro", Accuracy = "accuracy", F1 = "f1", F1Macro = "f1_macro" }
}

impl Scoring {
    fn score(self, truth: &[bool], predicted: &[bool]) -> f64 {
        let (mut tp, mut fp, mut fn_, mut tn) = (0.0, 0.0, 0.0, 0.0);
        for (&t, &p) in truth.iter().zip(predicted) {
            match (t, p) {
                (true, true) => tp += 1.0,
                (false, true) => fp += 1.0,
                (true, false) => fn_ += 1.0,
                (false, false) => tn += 1.0,
            }
        }
        let f1 = |tp: f64, fp: f64, fn_: f64| {
            if tp + fp + fn_ == 0.0 {
                0.0
            } else {
                2.0 * tp / (2.0 * tp + fp + fn_)
            }
        };
        match self {
            Scoring::F1Micro | Scoring::Accuracy => (tp + tn) / truth.len().max(1) as f64,
            Scoring::F1 => f1(tp, fp, fn_),
            Scoring::F1Macro => 0.5 * (f1(tp, fp, fn_) + f1(tn, fn_, fp)),
        }
    }
}

#[derive(Clone, Debug)]
pub struct GridParams {
    pub cs: Vec<f64>,
    pub folds: usize,
    pub scoring: Scoring,
    pub base: SvmParams,
    /// `Some(seed)`: shuffle within each class before cutting folds
    /// (`StratifiedKFold(shuffle=True)`); `None`: scikit-learn's default order.
    pub shuffle: Option<u32>,
}

/// The test fold of each sample, exactly as `StratifiedKFold(k)._make_test_folds`.
pub fn stratified_folds(y: &[bool], k: usize, shuffle: Option<u32>) -> Result<Vec<usize>> {
    let n_pos = y.iter().filter(|v| **v).count();
    let counts = [y.len() - n_pos, n_pos];
    if k < 2 {
        return Err(Error::invalid(format!("folds must be at least 2, got {k}")));
    }
    if counts.iter().all(|&c| c < k) {
        return Err(Error::invalid(format!(
            "folds={k} cannot be greater than the number of members in each class ({} and {})",
            counts[0], counts[1]
        )));
    }
    // Classes numbered by first appearance, as scikit-learn re-encodes them.
    let first_is_pos = y.first().copied().unwrap_or(false);
    let encode = |v: bool| usize::from(v != first_is_pos);
    let mut sizes = [0usize; 2];
    for &v in y {
        sizes[encode(v)] += 1;
    }
    // y_order = sorted codes; allocation[f][c] = count of c in y_order[f::k].
    let y_order: Vec<usize> = std::iter::repeat_n(0, sizes[0])
        .chain(std::iter::repeat_n(1, sizes[1]))
        .collect();
    let mut allocation = vec![[0usize; 2]; k];
    for (i, &c) in y_order.iter().enumerate() {
        allocation[i % k][c] += 1;
    }
    let mut rng = shuffle.map(NumpyRng::new);
    let mut folds = vec![0usize; y.len()];
    for class in [0usize, 1] {
        let mut for_class: Vec<usize> = (0..k)
            .flat_map(|f| std::iter::repeat_n(f, allocation[f][class]))
            .collect();
        if let Some(rng) = rng.as_mut() {
            rng.shuffle(&mut for_class);
        }
        let mut next = for_class.into_iter();
        for (i, &v) in y.iter().enumerate() {
            if encode(v) == class {
                folds[i] = next.next().expect("allocation covers the class");
            }
        }
    }
    Ok(folds)
}

/// The grid-searched model and, per label, the mean CV score of each C.
pub fn fit(x: &Csr, y: &Labels, params: &GridParams) -> Result<(SvmModel, Vec<String>)> {
    ovr::check_rows(x, y)?;
    if params.cs.is_empty() {
        return Err(Error::invalid("grid_search: 'c' needs at least one value"));
    }
    if let Some(c) = params.cs.iter().find(|c| c.is_nan() || **c <= 0.0) {
        return Err(Error::invalid(format!(
            "grid_search: every C must be positive, got {c}"
        )));
    }
    let constant = ovr::constant_labels(y);
    let labels: Vec<usize> = (0..y.cols()).filter(|&j| constant[j].is_none()).collect();
    let columns: Vec<Vec<bool>> = (0..y.cols()).map(|j| ovr::column(y, j)).collect();
    let folds: Vec<Vec<usize>> = labels
        .iter()
        .map(|&j| stratified_folds(&columns[j], params.folds, params.shuffle))
        .collect::<Result<_>>()
        .map_err(|e| Error::invalid(format!("grid_search: {e}")))?;

    let tasks: Vec<(usize, usize, usize)> = (0..labels.len())
        .flat_map(|l| {
            (0..params.cs.len()).flat_map(move |c| (0..params.folds).map(move |f| (l, c, f)))
        })
        .collect();
    let scores: Vec<f64> = tasks
        .par_iter()
        .map(|&(l, c, f)| {
            if interrupt::requested() {
                return 0.0;
            }
            let j = labels[l];
            let fold = &folds[l];
            let train: Vec<usize> = (0..x.rows()).filter(|&i| fold[i] != f).collect();
            let test: Vec<usize> = (0..x.rows()).filter(|&i| fold[i] == f).collect();
            let p = SvmParams {
                c: params.cs[c],
                ..params.base.clone()
            };
            let model = svm::fit_binary(x, &train, &columns[j], &p, (j * 131 + f) as u64);
            let truth: Vec<bool> = test.iter().map(|&i| columns[j][i]).collect();
            let predicted: Vec<bool> = test
                .iter()
                .map(|&i| {
                    let (cols, vals) = x.row(i);
                    let dot: f64 = cols
                        .iter()
                        .zip(vals)
                        .map(|(&c, &v)| model.w[c as usize] * f64::from(v))
                        .sum();
                    dot + model.b > 0.0
                })
                .collect();
            params.scoring.score(&truth, &predicted)
        })
        .collect();
    interrupt::check()?;

    // Mean over folds; the first C with the best mean wins, as GridSearchCV's rank.
    let mut cv_scores = vec![Vec::new(); y.cols()];
    let mut best_c: Vec<f64> = vec![params.cs[0]; y.cols()];
    for (l, &j) in labels.iter().enumerate() {
        let means: Vec<f64> = (0..params.cs.len())
            .map(|c| {
                let start = (l * params.cs.len() + c) * params.folds;
                scores[start..start + params.folds].iter().sum::<f64>() / params.folds as f64
            })
            .collect();
        let best = means
            .iter()
            .enumerate()
            .fold(0, |b, (i, &m)| if m > means[b] + 1e-12 { i } else { b });
        best_c[j] = params.cs[best];
        cv_scores[j] = means;
    }
    let (mut model, warnings) = SvmModel::fit_with(x, y, &params.base, best_c)?;
    model.cv_scores = Some(cv_scores);
    Ok((model, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    // from sklearn.model_selection import StratifiedKFold
    // y = [0,1,0,0,1,1,0,0,0,1,0]
    // [test for _, test in StratifiedKFold(3).split(np.zeros(11), y)]
    //   -> [0,1,2,3], [4,5,6,7], [8,9,10]
    // StratifiedKFold(3, shuffle=True, random_state=0) -> [2,3,4,7], [5,6,9,10], [0,1,8]
    #[test]
    fn folds_match_stratified_kfold() {
        let y: Vec<bool> = [0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0]
            .iter()
            .map(|&v| v == 1)
            .collect();
        let folds = stratified_folds(&y, 3, None).unwrap();
        let members = |f: usize| (0..11).filter(|&i| folds[i] == f).collect::<Vec<_>>();
        assert_eq!(members(0), vec![0, 1, 2, 3]);
        assert_eq!(members(1), vec![4, 5, 6, 7]);
        assert_eq!(members(2), vec![8, 9, 10]);
        let shuffled = stratified_folds(&y, 3, Some(0)).unwrap();
        let members = |f: usize| (0..11).filter(|&i| shuffled[i] == f).collect::<Vec<_>>();
        assert_eq!(members(0), vec![2, 3, 4, 7]);
        assert_eq!(members(1), vec![5, 6, 9, 10]);
        assert_eq!(members(2), vec![0, 1, 8]);
        assert!(stratified_folds(&y[..2], 3, None).is_err());
    }

    #[test]
    fn scoring_names_and_values() {
        let t = [true, true, false, false];
        let p = [true, false, false, true];
        assert_eq!(Scoring::from_name("f1_micro").unwrap().score(&t, &p), 0.5);
        assert_eq!(Scoring::F1.score(&t, &p), 0.5);
        assert!(Scoring::from_name("auc").is_none());
    }
}
