//! Combining modalities. Late fusion: a weighted mean of the probability
//! matrices of several models (text, poster), with weights given or picked on
//! development data over a grid on the simplex (the reference's D1w). Early
//! fusion is `data::hstack` + a scaler + any model.

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
        let e = check_blocks("late", &[good.view(), small.view()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("matrix 0 is 4 × 2 but matrix 1 is 1 × 1"), "{e}");
    }
}
