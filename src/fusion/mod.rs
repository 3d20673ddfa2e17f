//! Combining modalities. Late fusion: a weighted mean of the probability
//! matrices of several models (text, poster), with weights given or picked on
//! development data over a grid on the simplex (the reference's D1w), one
//! weight vector for all labels or one per label. Early fusion is
//! `data::hstack` + a scaler + any model; the gated unit is `nn::gmu`.

pub mod late;

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::metrics::{self, Average, Objective};

/// Checks that `blocks` can be averaged: at least two, one shape, finite.
pub fn check_blocks(what: &str, blocks: &[ArrayView2<f32>]) -> Result<()> {
    if blocks.len() < 2 {
        return Err(Error::invalid(format!(
            "{what}: give at least two probability matrices, got {}",
            blocks.len()
        )));
    }
    let shape = blocks[0].dim();
    for (i, b) in blocks.iter().enumerate() {
        if b.dim() != shape {
            return Err(Error::invalid(format!(
                "{what}: matrix 0 is {} × {} but matrix {i} is {} × {}; fuse the same movies and labels",
                shape.0,
                shape.1,
                b.nrows(),
                b.ncols()
            )));
        }
        crate::matrix::check_finite(*b, None, &format!("{what}: matrix {i}"), "probabilities")?;
        if let Some(((r, c), v)) = b.indexed_iter().find(|(_, v)| !(0.0..=1.0).contains(*v)) {
            return Err(Error::invalid(format!(
                "{what}: matrix {i} holds {v} at row {r}, column {c}, and fusion averages probabilities in [0, 1]; \
                 give predict_proba's output, or calibrate decision values first (metrics::calibrate)"
            )));
        }
    }
    Ok(())
}

/// Checks weights: one per block, none negative, summing to 1.
pub fn check_weights(what: &str, weights: &[f64], blocks: usize) -> Result<()> {
    if weights.len() != blocks {
        return Err(Error::invalid(format!(
            "{what}: {} weights for {blocks} matrices; give one weight per matrix",
            weights.len()
        )));
    }
    if let Some(w) = weights.iter().find(|w| !w.is_finite() || **w < 0.0) {
        return Err(Error::invalid(format!(
            "{what}: weight {w} is negative or not a number"
        )));
    }
    let sum: f64 = weights.iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return Err(Error::invalid(format!(
            "{what}: the weights sum to {sum}; they must sum to 1"
        )));
    }
    Ok(())
}

/// Σ wₖ·Pₖ.
pub fn weighted_mean(blocks: &[ArrayView2<f32>], weights: &[f64]) -> Array2<f32> {
    let mut out = Array2::<f64>::zeros(blocks[0].raw_dim());
    for (b, w) in blocks.iter().zip(weights) {
        out.zip_mut_with(b, |o, v| *o += w * f64::from(*v));
    }
    out.mapv(|v| v as f32)
}

/// Every weight vector on the simplex with entries that are multiples of
/// `step` (e.g. 0.1: 11 vectors for two blocks, 66 for three).
pub fn simplex_grid(blocks: usize, step: f64) -> Vec<Vec<f64>> {
    let parts = (1.0 / step).round() as usize;
    let mut out = Vec::new();
    fn fill(
        prefix: &mut Vec<usize>,
        left: usize,
        slots: usize,
        parts: usize,
        out: &mut Vec<Vec<f64>>,
    ) {
        if slots == 1 {
            prefix.push(left);
            out.push(prefix.iter().map(|&k| k as f64 / parts as f64).collect());
            prefix.pop();
            return;
        }
        for k in (0..=left).rev() {
            prefix.push(k);
            fill(prefix, left - k, slots - 1, parts, out);
            prefix.pop();
        }
    }
    fill(&mut Vec::new(), parts, blocks, parts, &mut out);
    out
}

/// The grid weights whose fused dev probabilities score best: micro-F1 with
/// per-label thresholds tuned on dev (ties keep the earlier, text-heavier
/// weights). Returns the weights and their dev score.
pub fn tune_weights(y_dev: ArrayView2<u8>, dev: &[ArrayView2<f32>], step: f64) -> (Vec<f64>, f64) {
    let mut best = (Vec::new(), f64::NEG_INFINITY);
    for w in simplex_grid(dev.len(), step) {
        let fused = weighted_mean(dev, &w);
        let t = metrics::tune_thresholds(y_dev, fused.view(), 0.5, Objective::Micro);
        let predicted = metrics::apply_thresholds(fused.view(), &t);
        let f1 = metrics::scores(y_dev, predicted.view(), Average::Micro).2;
        if f1 > best.1 {
            best = (w, f1);
        }
    }
    best
}

/// Σ wₖ·Pₖ with one weight vector per label column (`weights[j]` for column j).
pub fn weighted_mean_per_label(blocks: &[ArrayView2<f32>], weights: &[Vec<f64>]) -> Array2<f32> {
    let mut out = Array2::<f64>::zeros(blocks[0].raw_dim());
    for (k, b) in blocks.iter().enumerate() {
        for (j, (mut o, col)) in out.columns_mut().into_iter().zip(b.columns()).enumerate() {
            let w = weights[j][k];
            o.zip_mut_with(&col, |o, v| *o += w * f64::from(*v));
        }
    }
    out.mapv(|v| v as f32)
}

/// The best F1 one label reaches over every threshold of its scores (a
/// sweep down the sorted scores; tied scores move together).
fn best_f1(scores: &[f64], truth: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = truth.iter().filter(|&&t| t).count() as f64;
    let (mut tp, mut fp, mut best) = (0.0, 0.0, 0.0f64);
    for (i, &r) in order.iter().enumerate() {
        if truth[r] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order.get(i + 1).is_none_or(|&n| scores[n] != scores[r]);
        if last_of_tie && tp > 0.0 {
            best = best.max(2.0 * tp / (2.0 * tp + fp + (positives - tp)));
        }
    }
    best
}

/// One weight vector per label: for each label, the grid point whose fused
/// dev scores give that label's best F1 at its best threshold (ties keep the
/// earlier grid point). Labels without a positive on dev keep equal weights.
pub fn tune_label_weights(
    y_dev: ArrayView2<u8>,
    dev: &[ArrayView2<f32>],
    step: f64,
) -> Vec<Vec<f64>> {
    let grid = simplex_grid(dev.len(), step);
    (0..y_dev.ncols())
        .map(|j| {
            let truth: Vec<bool> = y_dev.column(j).iter().map(|&v| v != 0).collect();
            if !truth.contains(&true) {
                return vec![1.0 / dev.len() as f64; dev.len()];
            }
            let mut best = (grid[0].clone(), f64::NEG_INFINITY);
            for w in &grid {
                let fused: Vec<f64> = (0..y_dev.nrows())
                    .map(|i| {
                        dev.iter()
                            .zip(w)
                            .map(|(b, w)| w * f64::from(b[[i, j]]))
                            .sum()
                    })
                    .collect();
                let f1 = best_f1(&fused, &truth);
                if f1 > best.1 {
                    best = (w.clone(), f1);
                }
            }
            best.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_covers_the_simplex() {
        let g = simplex_grid(2, 0.1);
        assert_eq!(g.len(), 11);
        assert_eq!(g[0], vec![1.0, 0.0]);
        assert_eq!(simplex_grid(3, 0.1).len(), 66);
        assert!(
            simplex_grid(3, 0.25)
                .iter()
                .all(|w| (w.iter().sum::<f64>() - 1.0).abs() < 1e-12)
        );
    }

    #[test]
    fn tuning_prefers_the_informative_model() {
        let y = ndarray::array![[1u8, 0], [0, 1], [1, 0], [0, 1]];
        let good = ndarray::array![[0.9f32, 0.1], [0.2, 0.8], [0.7, 0.3], [0.1, 0.6]];
        let noise = ndarray::array![[0.1f32, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.1]];
        let (w, f1) = tune_weights(y.view(), &[noise.view(), good.view()], 0.1);
        assert_eq!(f1, 1.0);
        assert!(w[1] > w[0], "{w:?}");
        let fused = weighted_mean(&[good.view(), noise.view()], &[0.5, 0.5]);
        assert!((fused[[0, 0]] - 0.5).abs() < 1e-6);
        let e = check_weights("late", &[0.7, 0.7], 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("the weights sum to 1.4"), "{e}");
        let e = check_weights("late", &[1.0], 2).unwrap_err().to_string();
        assert!(e.contains("1 weights for 2 matrices"), "{e}");
        let small = ndarray::array![[0.5f32]];
        let scores = ndarray::array![[0.2f32, 1.7], [0.4, 0.5], [0.1, 0.1], [0.3, 0.3]];
        let e = check_blocks("late", &[good.view(), scores.view()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("matrix 1 holds 1.7 at row 0, column 1") && e.contains("metrics::calibrate"),
            "{e}"
        );
        let e = check_blocks("late", &[good.view(), small.view()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("matrix 0 is 4 × 2 but matrix 1 is 1 × 1"), "{e}");
    }

    #[test]
    fn per_label_weights_follow_the_model_that_knows_each_label() {
        // Label 0 is known by model a, label 1 by model b.
        let y = ndarray::array![[1u8, 0], [0, 1], [1, 1], [0, 0]];
        let a = ndarray::array![[0.9f32, 0.5], [0.1, 0.2], [0.8, 0.4], [0.2, 0.9]];
        let b = ndarray::array![[0.2f32, 0.1], [0.9, 0.8], [0.1, 0.7], [0.8, 0.2]];
        let w = tune_label_weights(y.view(), &[a.view(), b.view()], 0.5);
        assert_eq!(w, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        let fused = weighted_mean_per_label(&[a.view(), b.view()], &w);
        assert_eq!(fused.column(0), a.column(0));
        assert_eq!(fused.column(1), b.column(1));
        // sklearn.metrics.f1_score at the best threshold of [0.9, 0.1, 0.8, 0.2]
        // against [1, 0, 1, 0] is 1.0; of [0.5, 0.2, 0.4, 0.9] against [0, 1, 1, 0]:
        // threshold 0.2 (predict 0.4, 0.5, 0.9 -> tp 1, fp 2, fn 1) 0.4, or all
        // positive 2·2/(2·2+2) = 0.667.
        assert_eq!(
            best_f1(&[0.9, 0.1, 0.8, 0.2], &[true, false, true, false]),
            1.0
        );
        let f = best_f1(&[0.5, 0.2, 0.4, 0.9], &[false, true, true, false]);
        assert!((f - 2.0 / 3.0).abs() < 1e-12, "{f}");
    }
}
