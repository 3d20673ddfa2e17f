//! Multi-label targets: scikit-learn's `MultiLabelBinarizer` (label order
//! fixed at fit time, sorted by name unless given) and the indicator matrix
//! it produces.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use ndarray::Array2;

use crate::error::{Error, Result};

/// A fitted label order.
#[derive(Clone, Debug)]
pub struct Binarizer {
    names: Arc<[String]>,
    index: Arc<HashMap<String, usize>>,
}

/// An n × L 0/1 indicator matrix with its label names.
#[derive(Clone, Debug)]
pub struct Labels {
    names: Arc<[String]>,
    values: Arc<Array2<u8>>,
}

/// What [`Binarizer::transform`] could not place: label -> occurrences.
pub type Unknown = BTreeMap<String, usize>;

crate::options! {
    /// `data::binarizer`: which labels, in which order.
    pub struct BinarizerOptions for "data::binarizer" {
        /// drop labels seen fewer times
        min_count: usize = 1 => Int(NON_NEGATIVE),
        /// label names fixing the order and the label set (default: sorted by name)
        order: Option<Vec<String>> = None => Texts,
    }
}

impl Binarizer {
    /// `transform`, with a warning that counts the labels this binarizer
    /// was not fitted on (they are left out).
    pub fn transform_warning<S: AsRef<str>, L: AsRef<[S]>>(&self, lists: &[L]) -> Labels {
        let lists: Vec<Vec<&str>> = lists
            .iter()
            .map(|l| l.as_ref().iter().map(AsRef::as_ref).collect())
            .collect();
        let (labels, unknown) = self.transform(&lists);
        if !unknown.is_empty() {
            let parts: Vec<String> = unknown.iter().map(|(l, n)| format!("{l} ({n})")).collect();
            eprintln!(
                "warning: transform ignored labels the binarizer was not fitted on: {}",
                parts.join(", ")
            );
        }
        labels
    }

    /// The labels of `movies`' genres, sorted by name.
    pub fn of_movies(movies: &crate::data::Movies) -> Result<Binarizer> {
        let lists: Vec<Vec<String>> = movies.genres().map(<[String]>::to_vec).collect();
        Binarizer::fit(&lists, 1, None)
    }

    /// Learns the label set of `lists`. Labels seen fewer than `min_count`
    /// times are left out. `order`, when given, fixes the label order (and
    /// set) instead of sorting names as scikit-learn does.
    pub fn fit<S: AsRef<str>>(
        lists: &[Vec<S>],
        min_count: usize,
        order: Option<Vec<String>>,
    ) -> Result<Binarizer> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for list in lists {
            for label in list {
                *counts.entry(label.as_ref()).or_default() += 1;
            }
        }
        let names: Vec<String> = match order {
            Some(order) => {
                let mut seen = HashMap::new();
                for (i, name) in order.iter().enumerate() {
                    if let Some(first) = seen.insert(name.as_str(), i) {
                        return Err(Error::invalid(format!(
                            "binarizer: label '{name}' appears twice in 'order' (positions {first} and {i})"
                        )));
                    }
                }
                order
                    .into_iter()
                    .filter(|n| counts.get(n.as_str()).copied().unwrap_or(0) >= min_count)
                    .collect()
            }
            None => counts
                .into_iter()
                .filter(|(_, c)| *c >= min_count)
                .map(|(n, _)| n.to_string())
                .collect(),
        };
        if names.is_empty() {
            return Err(Error::invalid(format!(
                "binarizer: no label is left (min_count {min_count}, {} lists)",
                lists.len()
            )));
        }
        Ok(Binarizer::from_names(names))
    }

    pub fn from_names(names: Vec<String>) -> Binarizer {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Binarizer {
            names: names.into(),
            index: Arc::new(index),
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The indicator matrix of `lists`; labels outside the fitted set are
    /// ignored (as scikit-learn does) and returned so callers can warn.
    pub fn transform<S: AsRef<str>>(&self, lists: &[Vec<S>]) -> (Labels, Unknown) {
        let mut values = Array2::<u8>::zeros((lists.len(), self.names.len()));
        let mut unknown = Unknown::new();
        for (i, list) in lists.iter().enumerate() {
            for label in list {
                match self.index.get(label.as_ref()) {
                    Some(&j) => values[[i, j]] = 1,
                    None => *unknown.entry(label.as_ref().to_string()).or_default() += 1,
                }
            }
        }
        (
            Labels {
                names: self.names.clone(),
                values: Arc::new(values),
            },
            unknown,
        )
    }
}

impl Labels {
    pub fn new(names: Vec<String>, values: Array2<u8>) -> Result<Labels> {
        if names.len() != values.ncols() {
            return Err(Error::invalid(format!(
                "labels: {} names for {} columns",
                names.len(),
                values.ncols()
            )));
        }
        Ok(Labels {
            names: names.into(),
            values: Arc::new(values),
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn values(&self) -> &Array2<u8> {
        &self.values
    }

    pub fn rows(&self) -> usize {
        self.values.nrows()
    }

    pub fn cols(&self) -> usize {
        self.values.ncols()
    }

    /// Movies per label, in label order.
    pub fn counts(&self) -> Vec<usize> {
        self.values
            .columns()
            .into_iter()
            .map(|c| c.iter().map(|&v| v as usize).sum())
            .collect()
    }

    /// Labels per movie.
    pub fn cardinality(&self) -> Vec<usize> {
        self.values
            .rows()
            .into_iter()
            .map(|r| r.iter().map(|&v| v as usize).sum())
            .collect()
    }

    /// Names of the labels set on row `i`.
    pub fn row_names(&self, i: usize) -> Vec<&str> {
        self.values
            .row(i)
            .iter()
            .zip(self.names.iter())
            .filter(|(v, _)| **v != 0)
            .map(|(_, n)| n.as_str())
            .collect()
    }
}

impl fmt::Display for Binarizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Binarizer: {} labels [{}]",
            self.names.len(),
            self.names.join(", ")
        )
    }
}

impl fmt::Display for Labels {
    /// Shape, then one line per label with its count and share.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.rows();
        write!(f, "Labels: {} rows × {} labels", n, self.cols())?;
        let width = self
            .names
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0);
        for (name, count) in self.names.iter().zip(self.counts()) {
            let share = if n == 0 {
                0.0
            } else {
                100.0 * count as f64 / n as f64
            };
            let pad = width - name.chars().count();
            write!(f, "\n  {name}{} {count:>6}  {share:5.1}%", " ".repeat(pad))?;
        }
        Ok(())
    }
}

/// Names of columns that had none (`"0"`, `"1"`, …), as an unnamed score
/// matrix's labels get: they match any label set of the same width.
fn positional(names: &[String]) -> bool {
    names.iter().enumerate().all(|(i, n)| *n == i.to_string())
}

/// Refuses to compare two label sets column by column when their names
/// differ (two binarizers, another label order): the message names the
/// labels only one side has, or the first column where the orders part.
/// `a` and `b` name the two arguments ("y_true", "scores").
pub fn check_same_labels(
    what: &str,
    a: (&str, &[String]),
    b: (&str, Option<&[String]>),
) -> crate::Result<()> {
    let (a_name, a_labels) = a;
    let (b_name, Some(b_labels)) = b else {
        return Ok(());
    };
    if a_labels == b_labels || positional(a_labels) || positional(b_labels) {
        return Ok(());
    }
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter().filter(|n| !y.contains(n)).cloned().collect()
    };
    let (only_a, only_b) = (only(a_labels, b_labels), only(b_labels, a_labels));
    let detail = if only_a.is_empty() && only_b.is_empty() {
        let j = a_labels
            .iter()
            .zip(b_labels)
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        format!(
            "the same labels in another order (column {j} is '{}' in {a_name}, '{}' in {b_name}); make both with one binarizer",
            a_labels[j], b_labels[j]
        )
    } else {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        format!(
            "only in {a_name}: {}; only in {b_name}: {}",
            list(&only_a),
            list(&only_b)
        )
    };
    Err(crate::Error::invalid(format!(
        "{what}: {a_name} and {b_name} have other labels: {detail}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    // scikit-learn: MultiLabelBinarizer().fit([["b","a"],["c"],["a"]]) -> classes_ ['a','b','c'];
    //   transform([["a","c"],["d"]]) -> [[1,0,1],[0,0,0]] with a warning about 'd'
    #[test]
    fn matches_multilabel_binarizer() {
        let fitted = Binarizer::fit(&[vec!["b", "a"], vec!["c"], vec!["a"]], 1, None).unwrap();
        assert_eq!(fitted.names(), ["a", "b", "c"]);
        let (labels, unknown) = fitted.transform(&[vec!["a", "c"], vec!["d"]]);
        assert_eq!(labels.values().as_slice().unwrap(), &[1, 0, 1, 0, 0, 0]);
        assert_eq!(unknown.get("d"), Some(&1));
        assert_eq!(labels.counts(), vec![1, 0, 1]);
        assert_eq!(labels.row_names(0), vec!["a", "c"]);
    }

    #[test]
    fn min_count_and_order() {
        let lists = [vec!["x", "y"], vec!["x"], vec!["z", "x"]];
        let fitted = Binarizer::fit(&lists, 2, None).unwrap();
        assert_eq!(fitted.names(), ["x"]);
        let ordered =
            Binarizer::fit(&lists, 1, Some(vec!["z".into(), "x".into(), "y".into()])).unwrap();
        assert_eq!(ordered.names(), ["z", "x", "y"]);
        assert!(Binarizer::fit(&lists, 9, None).is_err());
    }
}
