//! Genre analysis as scripts call it (`genres::`): genre lists from
//! `Labels`, `Movies` or arrays, pair counts, frequencies, counts by group
//! (a year, say) and spectral co-clustering with names kept.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use ndarray::Array2;
use serde::Serialize;

use super::{CoClustering, Normalize, reorder};
use crate::data::{Binarizer, Labels, Movies};
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use crate::options::{FromValue, Value};
use crate::plot::charts::names_or_numbers;

crate::choices!(impl Normalize { Count = "count", Conditional = "conditional", Lift = "lift", Pmi = "pmi" });

crate::options! {
    /// `genres::pair_counts`: counts or a normalisation of them.
    pub struct PairCountOptions for "genres::pair_counts" {
        /// conditional: row r, column c is P(c | r); lift: P(r, c) / (P(r)·P(c)); pmi: ln lift, 0 where a pair never occurs
        normalize: Normalize = Normalize::Count => Choice(Normalize::NAMES),
    }
}

crate::choices! {
    /// Accepted for scikit-learn's scripts; the SVD here is always exact.
    pub enum SvdMethod { Randomized = "randomized", Arpack = "arpack", Exact = "exact" }
}

crate::options! {
    /// `genres::cocluster`: scikit-learn's `SpectralCoclustering(...)`.
    pub struct CoclusterOptions for "genres::cocluster" {
        /// co-clusters (at most the smaller side of the matrix)
        n_clusters: usize = 3 => Int(Bounds::at_least(2.0)),
        /// k-means restarts; the best inertia wins
        n_init: usize = 10 => Int(POSITIVE_INT),
        /// accepted for scikit-learn's scripts; the SVD here is always exact
        svd_method: SvdMethod = SvdMethod::Randomized => Choice(SvdMethod::NAMES),
        /// fixes this call's random choices
        seed: Option<u64> = None => Int(SEED_RANGE); shown "drawn from the session seed",
    }
}

/// Genre lists with their label names: from `Labels` (its names), a
/// `Movies` or arrays of genre names (names sorted).
pub struct GenreLists {
    pub lists: Vec<Vec<String>>,
    pub names: Vec<String>,
}

impl FromValue for GenreLists {
    fn from_value(v: &Value) -> Option<Self> {
        let lists: Vec<Vec<String>> = match v {
            Value::Labels(labels) => {
                return Some(GenreLists::of_labels(labels));
            }
            Value::Movies(m) => m.genres().map(<[String]>::to_vec).collect(),
            other => Vec::<Vec<String>>::from_value(other)?,
        };
        let names = Binarizer::fit(&lists, 1, None).ok()?.names().to_vec();
        Some(GenreLists { lists, names })
    }
}

impl GenreLists {
    fn of_labels(labels: &Labels) -> GenreLists {
        let lists = (0..labels.rows())
            .map(|i| {
                labels
                    .row_names(i)
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        GenreLists {
            lists,
            names: labels.names().to_vec(),
        }
    }

    pub fn of_movies(movies: &Movies) -> Result<GenreLists> {
        let lists: Vec<Vec<String>> = movies.genres().map(<[String]>::to_vec).collect();
        let names = Binarizer::fit(&lists, 1, None)?.names().to_vec();
        Ok(GenreLists { lists, names })
    }

    /// Pair counts (genre × genre), normalised as asked, named both ways.
    pub fn pair_counts(&self, o: &PairCountOptions) -> Result<Matrix> {
        let counts = super::pair_counts(&self.lists, &self.names);
        let values = super::normalize(&counts, self.lists.len(), o.normalize);
        named(values, self.names.clone(), self.names.clone())
    }

    /// Genre → the movies that have it.
    pub fn frequencies(&self) -> BTreeMap<String, i64> {
        let counts = super::pair_counts(&self.lists, &self.names);
        self.names
            .iter()
            .cloned()
            .zip(counts.diag().iter().map(|c| *c as i64))
            .collect()
    }

    /// Genre counts per group of movies (`keys`: one per movie, `()` to
    /// skip it).
    pub fn group_counts(&self, keys: &[Value]) -> Result<GroupCounts> {
        if keys.len() != self.lists.len() {
            return Err(Error::invalid(format!(
                "genres::group_counts: {} keys for {} movies; give one key per movie",
                keys.len(),
                self.lists.len()
            )));
        }
        // Groups sorted numerically when they are numbers, else as text.
        let mut groups: Vec<GroupKey> = Vec::new();
        for k in keys.iter().filter_map(GroupKey::of) {
            if !groups.iter().any(|g| g.text() == k.text()) {
                groups.push(k);
            }
        }
        groups.sort_by(|a, b| match (a, b) {
            (GroupKey::Int(x), GroupKey::Int(y)) => x.cmp(y),
            _ => a.text().cmp(&b.text()),
        });
        let position: HashMap<String, usize> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.text(), i))
            .collect();
        let index: HashMap<&str, usize> = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut totals = vec![0i64; groups.len()];
        let mut counts = vec![vec![0i64; groups.len()]; self.names.len()];
        let mut skipped = 0;
        for (list, key) in self.lists.iter().zip(keys) {
            let Some(g) = GroupKey::of(key).and_then(|k| position.get(&k.text()).copied()) else {
                skipped += 1;
                continue;
            };
            totals[g] += 1;
            for genre in list {
                if let Some(&j) = index.get(genre.as_str()) {
                    counts[j][g] += 1;
                }
            }
        }
        let share = self
            .names
            .iter()
            .zip(&counts)
            .map(|(name, row)| {
                let shares = row
                    .iter()
                    .zip(&totals)
                    .map(|(&c, &t)| if t == 0 { 0.0 } else { c as f64 / t as f64 })
                    .collect();
                (name.clone(), shares)
            })
            .collect();
        Ok(GroupCounts {
            groups,
            movies: totals,
            counts: self.names.iter().cloned().zip(counts).collect(),
            share,
            skipped,
        })
    }
}

/// A group's key as the script gave it.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum GroupKey {
    Int(i64),
    Float(f64),
    Text(String),
}

impl GroupKey {
    /// `None` for `()` (the movie is skipped).
    fn of(v: &Value) -> Option<GroupKey> {
        Some(match v {
            Value::Unit => return None,
            Value::Int(i) => GroupKey::Int(*i),
            Value::Float(x) => GroupKey::Float(*x),
            Value::Text(s) => GroupKey::Text(s.clone()),
            other => GroupKey::Text(other.to_string()),
        })
    }

    fn text(&self) -> String {
        match self {
            GroupKey::Int(i) => i.to_string(),
            GroupKey::Float(x) => crate::options::float_text(*x),
            GroupKey::Text(s) => s.clone(),
        }
    }
}

/// Genre counts per group.
#[derive(Debug, Serialize)]
pub struct GroupCounts {
    pub groups: Vec<GroupKey>,
    /// Movies per group.
    pub movies: Vec<i64>,
    /// Genre → its count in each group.
    pub counts: BTreeMap<String, Vec<i64>>,
    /// Genre → its share of each group's movies.
    pub share: BTreeMap<String, Vec<f64>>,
    /// Movies without a key.
    pub skipped: i64,
}

fn named(values: Array2<f64>, rows: Vec<String>, cols: Vec<String>) -> Result<Matrix> {
    Matrix::new(values.mapv(|v| v as f32)).with_names(Some(rows), Some(cols))
}

/// A co-clustering with the names of what was clustered.
#[derive(Clone, Debug)]
pub struct CoClusterRef {
    pub result: CoClustering,
    pub row_names: Vec<String>,
    pub col_names: Vec<String>,
}

/// One bicluster: the names of its rows and columns.
#[derive(Debug, Serialize)]
pub struct Bicluster {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
}

/// Rows and columns grouped by cluster.
#[derive(Debug, Serialize)]
pub struct Order {
    pub rows: Vec<usize>,
    pub columns: Vec<usize>,
}

impl CoClusterRef {
    /// Spectral co-clustering of `matrix` (`o.seed` filled in).
    pub fn fit(matrix: &Matrix, o: &CoclusterOptions) -> Result<CoClusterRef> {
        let values = matrix.values().mapv(f64::from);
        let result = super::cocluster(&values, o.n_clusters, o.n_init, o.seed.unwrap_or(0))?;
        Ok(CoClusterRef {
            result,
            row_names: names_or_numbers(
                matrix
                    .row_names()
                    .or(matrix.col_names())
                    .filter(|n| n.len() == matrix.rows()),
                matrix.rows(),
            ),
            col_names: names_or_numbers(matrix.col_names(), matrix.cols()),
        })
    }

    pub fn order(&self) -> Order {
        let k = self.result.n_clusters;
        Order {
            rows: CoClustering::order(&self.result.row_labels, k),
            columns: CoClustering::order(&self.result.column_labels, k),
        }
    }

    /// Rows per cluster.
    pub fn block_sizes(&self) -> Vec<usize> {
        (0..self.result.n_clusters)
            .map(|c| self.result.row_labels.iter().filter(|&&l| l == c).count())
            .collect()
    }

    pub fn biclusters(&self) -> Vec<Bicluster> {
        let pick = |labels: &[usize], names: &[String], c: usize| {
            labels
                .iter()
                .zip(names)
                .filter(|(l, _)| **l == c)
                .map(|(_, n)| n.clone())
                .collect()
        };
        (0..self.result.n_clusters)
            .map(|c| Bicluster {
                rows: pick(&self.result.row_labels, &self.row_names, c),
                columns: pick(&self.result.column_labels, &self.col_names, c),
            })
            .collect()
    }

    /// `matrix` with rows and columns grouped by cluster (names follow).
    pub fn reorder(&self, matrix: &Matrix) -> Result<Matrix> {
        let (r, c) = (
            self.result.row_labels.len(),
            self.result.column_labels.len(),
        );
        if (matrix.rows(), matrix.cols()) != (r, c) {
            return Err(Error::invalid(format!(
                "reorder: the matrix is {} × {} but the co-clustering is of a {r} × {c} matrix",
                matrix.rows(),
                matrix.cols()
            )));
        }
        let Order { rows, columns } = self.order();
        let values = reorder(&matrix.values().mapv(f64::from), &rows, &columns);
        let row_names = rows.iter().map(|&i| self.row_names[i].clone()).collect();
        let col_names = columns.iter().map(|&j| self.col_names[j].clone()).collect();
        named(values, row_names, col_names)
    }
}

impl fmt::Display for CoClusterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CoClustering: {} clusters of a {} × {} matrix",
            self.result.n_clusters,
            self.row_names.len(),
            self.col_names.len()
        )?;
        for (c, b) in self.biclusters().iter().enumerate() {
            write!(f, "\n  {c}: {}", b.rows.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(v: &[&[&str]]) -> Value {
        Value::List(
            v.iter()
                .map(|l| Value::List(l.iter().map(|s| Value::Text(s.to_string())).collect()))
                .collect(),
        )
    }

    #[test]
    fn group_counts_sort_numeric_keys_and_skip_units() {
        let g = GenreLists::from_value(&lists(&[&["A"], &["A", "B"], &["B"], &["A"]])).unwrap();
        let keys = [
            Value::Int(2001),
            Value::Int(1999),
            Value::Unit,
            Value::Int(2001),
        ];
        let c = g.group_counts(&keys).unwrap();
        assert!(matches!(
            c.groups[..],
            [GroupKey::Int(1999), GroupKey::Int(2001)]
        ));
        assert_eq!(c.movies, vec![1, 2]);
        assert_eq!(c.counts["A"], vec![1, 2]);
        assert_eq!(c.share["B"], vec![1.0, 0.0]);
        assert_eq!(c.skipped, 1);
        let e = g.group_counts(&keys[..2]).unwrap_err().to_string();
        assert!(e.contains("2 keys for 4 movies"), "{e}");
    }

    #[test]
    fn reorder_needs_the_clustered_shape() {
        let cc = CoClusterRef {
            result: CoClustering {
                n_clusters: 2,
                row_labels: vec![1, 0],
                column_labels: vec![0, 1],
            },
            row_names: vec!["a".into(), "b".into()],
            col_names: vec!["x".into(), "y".into()],
        };
        let m = Matrix::new(ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]);
        let r = cc.reorder(&m).unwrap();
        assert_eq!(r.row_names().unwrap(), ["b", "a"]);
        assert_eq!(cc.block_sizes(), vec![1, 1]);
        let wrong = Matrix::new(ndarray::array![[1.0f32, 2.0]]);
        assert!(cc.reorder(&wrong).is_err());
        assert_eq!(
            cc.to_string(),
            "CoClustering: 2 clusters of a 2 × 2 matrix\n  0: b\n  1: a"
        );
    }
}
