//! How sure a headline number is: the bootstrap over movies. Each resample
//! draws as many movies as there are, with replacement (numpy's
//! `RandomState(seed).randint(0, n, n)`, one call per resample, so numpy
//! reproduces the same resamples), and scores the metric on them; the 95 %
//! interval is numpy's linear-interpolated 2.5th and 97.5th percentiles.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use serde::Serialize;

use super::{Average, scores};
use crate::data::labels::check_same_labels;
use crate::data::{Labels, NumpyRng};
use crate::error::{Error, Result};

/// A metric of (truth, prediction) label matrices.
pub type Metric = fn(ArrayView2<u8>, ArrayView2<u8>) -> f64;

/// The metrics a bootstrap can take, by scikit-learn's scoring names.
pub const METRICS: &[&str] = &[
    "f1_micro",
    "f1_macro",
    "f1_weighted",
    "f1_samples",
    "precision_micro",
    "recall_micro",
];

pub fn metric(name: &str) -> Option<Metric> {
    Some(match name {
        "f1_micro" => |t, p| scores(t, p, Average::Micro).2,
        "f1_macro" => |t, p| scores(t, p, Average::Macro).2,
        "f1_weighted" => |t, p| scores(t, p, Average::Weighted).2,
        "f1_samples" => |t, p| scores(t, p, Average::Samples).2,
        "precision_micro" => |t, p| scores(t, p, Average::Micro).0,
        "recall_micro" => |t, p| scores(t, p, Average::Micro).1,
        _ => return None,
    })
}

/// `n` resamples of `rows` row indices.
pub fn resamples(rows: usize, n: usize, seed: u32) -> Vec<Vec<usize>> {
    let mut rng = NumpyRng::new(seed);
    (0..n)
        .map(|_| {
            (0..rows)
                .map(|_| rng.random_interval(rows.saturating_sub(1) as u64) as usize)
                .collect()
        })
        .collect()
}

fn rows_of(m: ArrayView2<u8>, idx: &[usize]) -> Array2<u8> {
    m.select(Axis(0), idx)
}

/// The metric on each resample, for each prediction matrix.
pub fn distribution(
    y: ArrayView2<u8>,
    predictions: &[ArrayView2<u8>],
    metric: Metric,
    samples: &[Vec<usize>],
) -> Vec<Vec<f64>> {
    samples
        .par_iter()
        .map(|idx| {
            let t = rows_of(y, idx);
            predictions
                .iter()
                .map(|p| metric(t.view(), rows_of(*p, idx).view()))
                .collect()
        })
        .collect()
}

/// numpy's `percentile(values, q)` (linear interpolation).
pub fn percentile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Mean and 95 % interval of `values`.
pub fn summary(values: &[f64]) -> (f64, f64, f64) {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    (mean, percentile(values, 2.5), percentile(values, 97.5))
}

/// The two-sided p-value of "the paired difference is 0": twice the smaller
/// share of resamples on either side of 0, at most 1.
pub fn p_value(differences: &[f64]) -> f64 {
    let n = differences.len().max(1) as f64;
    let below = differences.iter().filter(|d| **d <= 0.0).count() as f64 / n;
    let above = differences.iter().filter(|d| **d >= 0.0).count() as f64 / n;
    (2.0 * below.min(above)).min(1.0)
}

crate::options! {
    /// `metrics::bootstrap`: what is resampled, how often, from which seed.
    pub struct BootstrapOptions for "metrics::bootstrap" {
        /// what is resampled
        metric: String = "f1_micro".into() => Choice(METRICS),
        /// resamples
        n: usize = 1000 => Int(Bounds::within(10.0, 100_000.0)),
        /// fixes this call's random choices
        seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
    }
}

crate::options! {
    /// `metrics::compare`: the paired bootstrap's options.
    pub struct CompareOptions for "metrics::compare" {
        ..bootstrap: BootstrapOptions,
    }
}

/// A bootstrap's result as scripts read it.
#[derive(Debug, Serialize)]
pub struct Interval {
    /// The metric on all movies (for `compare`, the difference a − b).
    pub value: f64,
    /// The mean of the resamples and their 95 % interval.
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub n: usize,
    /// `compare`'s two-sided p-value for "no difference".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
}

impl Interval {
    fn of(value: f64, values: &[f64]) -> Interval {
        let (mean, low, high) = summary(values);
        Interval {
            value,
            mean,
            low,
            high,
            n: values.len(),
            p_value: None,
        }
    }
}

/// The metric on all rows and on each resample, one entry per prediction.
fn resampled(
    what: &str,
    y: &Labels,
    predictions: &[&Labels],
    o: &BootstrapOptions,
) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
    for p in predictions {
        super::check_shapes(what, (y.rows(), y.cols()), (p.rows(), p.cols()))?;
        check_same_labels(
            what,
            ("y_true", y.names()),
            ("a prediction", Some(p.names())),
        )?;
    }
    if y.rows() == 0 {
        return Err(Error::invalid(format!("{what}: no rows to resample")));
    }
    let metric =
        metric(&o.metric).ok_or_else(|| Error::invalid(format!("{what}: unknown metric")))?;
    let samples = resamples(y.rows(), o.n, o.seed.unwrap_or(0) as u32);
    let views: Vec<_> = predictions.iter().map(|p| p.values().view()).collect();
    let full = views
        .iter()
        .map(|p| metric(y.values().view(), *p))
        .collect();
    Ok((
        full,
        distribution(y.values().view(), &views, metric, &samples),
    ))
}

/// The bootstrap over movies of a metric of `predicted`.
pub fn bootstrap(y: &Labels, predicted: &Labels, o: &BootstrapOptions) -> Result<Interval> {
    let (full, dist) = resampled("bootstrap", y, &[predicted], o)?;
    let values: Vec<f64> = dist.iter().map(|r| r[0]).collect();
    Ok(Interval::of(full[0], &values))
}

/// The paired bootstrap of metric(a) − metric(b) on the same movies.
pub fn compare(y: &Labels, a: &Labels, b: &Labels, o: &CompareOptions) -> Result<Interval> {
    let (full, dist) = resampled("compare", y, &[a, b], &o.bootstrap)?;
    let d: Vec<f64> = dist.iter().map(|r| r[0] - r[1]).collect();
    Ok(Interval {
        p_value: Some(p_value(&d)),
        ..Interval::of(full[0] - full[1], &d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy 2.4.6 / scikit-learn 1.9.1:
    /// ```python
    /// y = np.array([[1,0],[0,1],[1,1],[0,0],[1,0],[0,1],[1,0],[0,1]])
    /// a = np.array([[1,0],[0,1],[1,0],[0,0],[0,0],[0,1],[1,1],[0,1]])
    /// b = np.array([[0,0],[0,1],[1,1],[1,0],[1,0],[0,0],[1,0],[1,1]])
    /// rs = np.random.RandomState(7)
    /// idx = [rs.randint(0, 8, 8) for _ in range(200)]
    /// fa = [f1_score(y[i], a[i], average="micro", zero_division=0) for i in idx]
    /// fb = [f1_score(y[i], b[i], average="micro", zero_division=0) for i in idx]
    /// d = np.array(fa) - np.array(fb)
    /// idx[0]                                   # [7 4 1 6 3 3 7 7]
    /// np.mean(fa), np.percentile(fa, [2.5, 97.5])   # 0.8030727012066022 [0.6666666666666666 0.9426470588235297]
    /// np.mean(d), np.percentile(d, [2.5, 97.5]), 2 * min((d <= 0).mean(), (d >= 0).mean())
    /// # 0.07407513982853868 [-0.2033816425120773 0.5386363636363637] 0.82
    /// ```
    #[test]
    fn matches_numpy() {
        let y = ndarray::array![
            [1u8, 0],
            [0, 1],
            [1, 1],
            [0, 0],
            [1, 0],
            [0, 1],
            [1, 0],
            [0, 1]
        ];
        let a = ndarray::array![
            [1u8, 0],
            [0, 1],
            [1, 0],
            [0, 0],
            [0, 0],
            [0, 1],
            [1, 1],
            [0, 1]
        ];
        let b = ndarray::array![
            [0u8, 0],
            [0, 1],
            [1, 1],
            [1, 0],
            [1, 0],
            [0, 0],
            [1, 0],
            [1, 1]
        ];
        let samples = resamples(8, 200, 7);
        assert_eq!(samples[0], NUMPY_FIRST);
        let f1 = metric("f1_micro").unwrap();
        let dist = distribution(y.view(), &[a.view(), b.view()], f1, &samples);
        let fa: Vec<f64> = dist.iter().map(|r| r[0]).collect();
        let d: Vec<f64> = dist.iter().map(|r| r[0] - r[1]).collect();
        let (mean, lo, hi) = summary(&fa);
        let (dm, dlo, dhi) = summary(&d);
        for (got, want) in [
            (mean, NUMPY[0]),
            (lo, NUMPY[1]),
            (hi, NUMPY[2]),
            (dm, NUMPY[3]),
            (dlo, NUMPY[4]),
            (dhi, NUMPY[5]),
            (p_value(&d), NUMPY[6]),
        ] {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
    }

    const NUMPY_FIRST: [usize; 8] = [7, 4, 1, 6, 3, 3, 7, 7];
    const NUMPY: [f64; 7] = [
        0.8030727012066022,
        0.6666666666666666,
        0.9426470588235297,
        0.07407513982853868,
        -0.2033816425120773,
        0.5386363636363637,
        0.82,
    ];

    #[test]
    fn the_bootstrap_names_mismatched_or_empty_inputs() {
        let y = Labels::new(vec!["a".into()], ndarray::array![[1u8], [0]]).unwrap();
        let other = Labels::new(vec!["b".into()], ndarray::array![[1u8], [0]]).unwrap();
        let o = BootstrapOptions {
            n: 20,
            seed: Some(1),
            ..BootstrapOptions::default()
        };
        assert!(
            bootstrap(&y, &other, &o)
                .unwrap_err()
                .to_string()
                .starts_with("bootstrap:")
        );
        let empty = Labels::new(vec!["a".into()], Array2::zeros((0, 1))).unwrap();
        let e = bootstrap(&empty, &empty, &o).unwrap_err().to_string();
        assert_eq!(e, "bootstrap: no rows to resample");
        let same = compare(&y, &y, &y, &CompareOptions { bootstrap: o }).unwrap();
        assert_eq!((same.value, same.p_value), (0.0, Some(1.0)));
    }
}
