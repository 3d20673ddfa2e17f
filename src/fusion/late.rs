//! Late fusion as scripts call it (`fusion::late`, `fusion::tune_weights`):
//! probability matrices of the same movies and labels, checked, then
//! averaged with equal, given or dev-tuned weights.

use crate::data::Labels;
use crate::data::labels::check_same_labels;
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::options::{FromValue, ShowDefault, Value};

/// Weights for late fusion: one vector for every label, or one per label.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Weights {
    All(Vec<f64>),
    PerLabel(Vec<Vec<f64>>),
}

impl FromValue for Weights {
    fn from_value(v: &Value) -> Option<Self> {
        match v.list()?.first() {
            Some(Value::List(_)) => Vec::<Vec<f64>>::from_value(v).map(Weights::PerLabel),
            _ => Vec::<f64>::from_value(v).map(Weights::All),
        }
    }
}

impl ShowDefault for Weights {
    fn show_default(&self) -> Option<String> {
        None
    }
}

/// An array of weight arrays (one per label).
fn nested_weights(v: &Value) -> std::result::Result<(), String> {
    let ok = v.list().is_some_and(|a| {
        !a.is_empty()
            && a.iter().all(|w| {
                w.list()
                    .is_some_and(|w| w.iter().all(|x| x.number().is_some()))
            })
    });
    if ok { Ok(()) } else { Err(String::new()) }
}

/// `[Labels, [Matrix, …]]`.
fn tune_on(v: &Value) -> std::result::Result<(), String> {
    match v.list() {
        Some([Value::Labels(_), Value::List(m)])
            if m.iter().all(|x| matches!(x, Value::Matrix(_))) =>
        {
            Ok(())
        }
        _ => Err(String::new()),
    }
}

crate::options! {
    /// `fusion::tune_weights`: the grid and what it tunes.
    pub struct TuneWeightsOptions for "fusion::tune_weights" {
        /// the weight grid's step
        step: f64 = 0.1 => Number(Bounds { lo: End::Excl(0.0), hi: End::Incl(0.5) }),
        /// tune one weight vector per label (each label's best dev F1 at its best threshold) instead of one for all
        per_label: bool = false => Bool,
    }
}

crate::options! {
    /// `fusion::late`: given or tuned weights.
    pub struct LateOptions for "fusion::late" {
        /// one weight per matrix, summing to 1 (or one such array per label, as `fusion::tune_weights(…, #{ per_label: true })` gives)
        weights: Option<Weights> = None => Either(&[
            Numbers(UNIT),
            Custom { expected: "an array of weight arrays, one per label", check: nested_weights },
        ]); shown "equal weights",
        /// pick the weights on dev as `fusion::tune_weights` does
        tune_on: Option<(Labels, Vec<Matrix>)> = None => Custom {
            expected: "[y_dev Labels, [dev probability Matrix, …]]",
            check: tune_on,
        },
        ..tune: TuneWeightsOptions,
    }
}

/// The same labels in every block (named columns only).
fn same_columns(what: &str, blocks: &[Matrix]) -> Result<()> {
    let Some(first) = blocks.first().and_then(Matrix::col_names) else {
        return Ok(());
    };
    for (i, b) in blocks.iter().enumerate().skip(1) {
        check_same_labels(
            what,
            ("matrix 0", first),
            (&format!("matrix {i}"), b.col_names()),
        )?;
    }
    Ok(())
}

/// Blocks that can be fused: at least two, one shape, finite, same labels.
fn check(what: &str, blocks: &[Matrix]) -> Result<()> {
    let views: Vec<_> = blocks.iter().map(|m| m.values().view()).collect();
    super::check_blocks(what, &views)?;
    same_columns(what, blocks)
}

/// `given` checked against the blocks and labels.
fn checked(given: &Weights, blocks: usize, labels: usize) -> Result<Weights> {
    let what = "fusion::late";
    if let Weights::PerLabel(ws) = given {
        if ws.len() != labels {
            return Err(Error::invalid(format!(
                "{what}: {} per-label weight arrays for {labels} label columns; give one per label",
                ws.len()
            )));
        }
        for (j, w) in ws.iter().enumerate() {
            super::check_weights(&format!("{what}: weights of label {j}"), w, blocks)?;
        }
    }
    if let Weights::All(w) = given {
        super::check_weights(what, w, blocks)?;
    }
    Ok(given.clone())
}

/// Weights tuned on dev: `y_dev` and one dev probability matrix per block.
pub fn tune(
    what: &str,
    y_dev: &Labels,
    dev: &[Matrix],
    blocks: usize,
    o: &TuneWeightsOptions,
) -> Result<Weights> {
    if dev.len() != blocks {
        return Err(Error::invalid(format!(
            "{what}: {} dev matrices for {blocks} matrices to fuse",
            dev.len(),
        )));
    }
    check(what, dev)?;
    let views: Vec<_> = dev.iter().map(|m| m.values().view()).collect();
    crate::metrics::check_shapes(what, (y_dev.rows(), y_dev.cols()), views[0].dim())?;
    check_same_labels(
        what,
        ("y_dev", y_dev.names()),
        ("matrix 0", dev[0].col_names()),
    )?;
    Ok(if o.per_label {
        Weights::PerLabel(super::tune_label_weights(
            y_dev.values().view(),
            &views,
            o.step,
        ))
    } else {
        Weights::All(super::tune_weights(y_dev.values().view(), &views, o.step).0)
    })
}

/// The weighted mean of `blocks` (rows and labels named as the first's).
pub fn late(blocks: &[Matrix], o: &LateOptions) -> Result<Matrix> {
    check("fusion::late", blocks)?;
    let labels = blocks[0].cols();
    let weights = match (&o.tune_on, &o.weights) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "fusion::late: give weights or tune_on, not both",
            ));
        }
        (Some((y_dev, dev)), None) => {
            tune("fusion::late: tune_on", y_dev, dev, blocks.len(), &o.tune)?
        }
        (None, Some(w)) => checked(w, blocks.len(), labels)?,
        (None, None) => Weights::All(vec![1.0 / blocks.len() as f64; blocks.len()]),
    };
    let views: Vec<_> = blocks.iter().map(|m| m.values().view()).collect();
    let fused = match &weights {
        Weights::All(w) => super::weighted_mean(&views, w),
        Weights::PerLabel(ws) => super::weighted_mean_per_label(&views, ws),
    };
    Matrix::new(fused).with_names(
        blocks[0].row_names().map(<[String]>::to_vec),
        blocks[0].col_names().map(<[String]>::to_vec),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn weights_read_flat_or_per_label() {
        let flat = Value::List(vec![Value::Float(0.5), Value::Int(0)]);
        assert_eq!(
            Weights::from_value(&flat),
            Some(Weights::All(vec![0.5, 0.0]))
        );
        let nested = Value::List(vec![flat.clone(), flat]);
        assert!(matches!(Weights::from_value(&nested), Some(Weights::PerLabel(w)) if w.len() == 2));
    }

    #[test]
    fn late_fusion_checks_what_it_is_given() {
        let a = Matrix::new(array![[0.9f32, 0.2], [0.1, 0.6]]);
        let b = Matrix::new(array![[0.5f32, 0.4], [0.3, 0.2]]);
        let half = LateOptions {
            weights: Some(Weights::All(vec![0.5, 0.5])),
            ..LateOptions::default()
        };
        let fused = late(&[a.clone(), b.clone()], &half).unwrap();
        assert!((fused.values()[[0, 0]] - 0.7).abs() < 1e-6);
        let bad_sum = LateOptions {
            weights: Some(Weights::All(vec![0.5, 0.6])),
            ..LateOptions::default()
        };
        let e = late(&[a.clone(), b.clone()], &bad_sum)
            .unwrap_err()
            .to_string();
        assert!(e.contains("sum to 1.1"), "{e}");
        let per_label = LateOptions {
            weights: Some(Weights::PerLabel(vec![vec![1.0, 0.0]])),
            ..LateOptions::default()
        };
        let e = late(&[a.clone(), b.clone()], &per_label)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("1 per-label weight arrays for 2 label columns"),
            "{e}"
        );
        let e = late(std::slice::from_ref(&a), &LateOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least two"), "{e}");
        let y = Labels::new(vec!["x".into(), "y".into()], array![[1u8, 0], [0, 1]]).unwrap();
        let both = LateOptions {
            tune_on: Some((y.clone(), vec![a.clone(), b.clone()])),
            weights: Some(Weights::All(vec![0.5, 0.5])),
            ..LateOptions::default()
        };
        assert!(
            late(&[a.clone(), b.clone()], &both)
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
        let e = tune(
            "t",
            &y,
            std::slice::from_ref(&a),
            2,
            &TuneWeightsOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "t: 1 dev matrices for 2 matrices to fuse");
    }
}
