//! scikit-learn's `TfidfTransformer`: idf = ln((1 + n) / (1 + df)) + 1
//! (smooth) or ln(n / df) + 1, optional sublinear tf (1 + ln tf), then each
//! row scaled to unit l2 (or l1) norm. Computed in f64, stored as f32.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::Csr;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Norm {
    L1,
    L2,
    None,
}

crate::options! {
    /// `text::tfidf`: `TfidfTransformer(...)`'s parameters, saved with the model.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct TfidfParams for "text::tfidf" {
        /// each row's norm; () for none
        norm: Norm = Norm::L2 => Either(&[Choice(&["l2", "l1"]), Unit]),
        /// weight by inverse document frequency
        use_idf: bool = true => Bool,
        /// add one to document frequencies, as if one document held every term
        smooth_idf: bool = true => Bool,
        /// 1 + ln(tf) instead of tf
        sublinear_tf: bool = false => Bool,
    }
}

/// `norm: "l1" | "l2" | ()`.
impl crate::options::FromValue for Norm {
    fn from_value(v: &crate::options::Value) -> Option<Self> {
        match v {
            crate::options::Value::Unit => Some(Norm::None),
            other => match other.text()? {
                "l1" => Some(Norm::L1),
                "l2" => Some(Norm::L2),
                _ => None,
            },
        }
    }
}

impl crate::options::ShowDefault for Norm {
    fn show_default(&self) -> Option<String> {
        Some(
            match self {
                Norm::L1 => "\"l1\"",
                Norm::L2 => "\"l2\"",
                Norm::None => "()",
            }
            .into(),
        )
    }
}

/// The idf weight of every column of `counts`.
pub fn fit_idf(params: &TfidfParams, counts: &Csr) -> Vec<f64> {
    let mut df = vec![0usize; counts.cols()];
    for &c in counts.indices() {
        df[c as usize] += 1;
    }
    let smooth = if params.smooth_idf { 1.0 } else { 0.0 };
    let n = counts.rows() as f64 + smooth;
    df.iter()
        .map(|&d| (n / (d as f64 + smooth)).ln() + 1.0)
        .collect()
}

/// Weights and normalises `counts`; `idf` is `None` when `use_idf` is off.
pub fn transform(params: &TfidfParams, idf: Option<&[f64]>, counts: &Csr) -> Result<Csr> {
    if let Some(idf) = idf
        && idf.len() != counts.cols()
    {
        return Err(Error::invalid(format!(
            "transform: the matrix has {} columns but the tf-idf was fitted on {}",
            counts.cols(),
            idf.len()
        )));
    }
    let rows: Vec<Vec<f32>> = (0..counts.rows())
        .into_par_iter()
        .map(|i| {
            let (cols, vals) = counts.row(i);
            let mut weighted: Vec<f64> = cols
                .iter()
                .zip(vals)
                .map(|(&c, &v)| {
                    let tf = f64::from(v);
                    let tf = if params.sublinear_tf && tf > 0.0 {
                        1.0 + tf.ln()
                    } else {
                        tf
                    };
                    idf.map_or(tf, |idf| tf * idf[c as usize])
                })
                .collect();
            let norm = match params.norm {
                Norm::L2 => weighted.iter().map(|v| v * v).sum::<f64>().sqrt(),
                Norm::L1 => weighted.iter().map(|v| v.abs()).sum::<f64>(),
                Norm::None => 1.0,
            };
            if norm > 0.0 {
                weighted.iter_mut().for_each(|v| *v /= norm);
            }
            weighted.into_iter().map(|v| v as f32).collect()
        })
        .collect();
    let data: Vec<f32> = rows.into_iter().flatten().collect();
    Csr::new(
        counts.rows(),
        counts.cols(),
        counts.indptr().to_vec(),
        counts.indices().to_vec(),
        data,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::count::tests::DOCS;
    use crate::text::count::{CountParams, DocFreq, fit_transform};

    // t = TfidfVectorizer(min_df=2).fit(DOCS): idf_ all 1.51082562;
    //   t.transform(DOCS).toarray()[1] -> [0, 0.28867513, 0, 0.28867513, 0.28867513, 0.8660254]
    #[test]
    fn matches_tfidf_vectorizer() {
        let params = CountParams {
            min_df: DocFreq::Count(2),
            ..CountParams::default()
        };
        let (_, counts) = fit_transform(&params, &DOCS).unwrap();
        let tf = TfidfParams::default();
        let idf = fit_idf(&tf, &counts);
        assert!(idf.iter().all(|v| (v - 1.51082562).abs() < 1e-8));
        let x = transform(&tf, Some(&idf), &counts).unwrap().to_dense();
        let want = [0.0, 0.28867513, 0.0, 0.28867513, 0.28867513, 0.8660254];
        for (got, want) in x.row(1).iter().zip(want) {
            assert!((*got as f64 - want).abs() < 1e-6);
        }
        assert!(
            x.row(2).iter().all(|v| *v == 0.0),
            "an empty row stays empty"
        );
    }

    // TfidfVectorizer(sublinear_tf=True, smooth_idf=False, norm='l1').fit(DOCS).transform(DOCS)[1]
    //   -> [0, 0, 0, 0.31881418, 0, 0.1336022, 0, 0.1336022, 0.1336022, 0.28037922]
    #[test]
    fn sublinear_unsmoothed_l1() {
        let (_, counts) = fit_transform(&CountParams::default(), &DOCS).unwrap();
        let tf = TfidfParams {
            norm: Norm::L1,
            smooth_idf: false,
            sublinear_tf: true,
            ..TfidfParams::default()
        };
        let idf = fit_idf(&tf, &counts);
        let x = transform(&tf, Some(&idf), &counts).unwrap().to_dense();
        let want = [
            0.0, 0.0, 0.0, 0.31881418, 0.0, 0.1336022, 0.0, 0.1336022, 0.1336022, 0.28037922,
        ];
        for (got, want) in x.row(1).iter().zip(want) {
            assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        }
    }
}
