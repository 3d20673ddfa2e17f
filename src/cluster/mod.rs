//! Genre co-occurrence: the seed's pair counting, normalised forms of it,
//! and spectral co-clustering (Dhillon 2001) as scikit-learn's
//! `SpectralCoclustering` computes it. Written here: no crate offers
//! co-clustering; the small SVD is faer's, k-means is linfa-clustering's.

pub mod genres;

use ndarray::{Array2, Axis};

use crate::error::{Error, Result};
use crate::matrix::linalg;

/// The seed's `list2pairs` counts: for every movie, each unordered pair of
/// its genres in both cells, and each genre with itself on the diagonal.
/// Genres outside `names` are skipped.
pub fn pair_counts<S: AsRef<str>>(lists: &[Vec<S>], names: &[String]) -> Array2<f64> {
    let index: std::collections::HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut counts = Array2::zeros((names.len(), names.len()));
    for list in lists {
        let ids: Vec<usize> = list
            .iter()
            .filter_map(|g| index.get(g.as_ref()).copied())
            .collect();
        for (k, &a) in ids.iter().enumerate() {
            counts[[a, a]] += 1.0;
            for &b in &ids[k + 1..] {
                if a != b {
                    counts[[a, b]] += 1.0;
                    counts[[b, a]] += 1.0;
                }
            }
        }
    }
    counts
}

/// What a normalised co-occurrence cell holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Normalize {
    Count,
    /// P(column genre | row genre) = C[r][c] / C[r][r].
    Conditional,
    /// P(r, c) / (P(r) · P(c)) = C[r][c] · n / (C[r][r] · C[c][c]).
    Lift,
    /// ln(lift); 0 where the pair never occurs.
    Pmi,
}

impl Normalize {
    pub fn parse(name: &str) -> Result<Normalize> {
        Ok(match name {
            "count" => Normalize::Count,
            "conditional" => Normalize::Conditional,
            "lift" => Normalize::Lift,
            "pmi" => Normalize::Pmi,
            other => {
                return Err(Error::invalid(format!(
                    "unknown normalize '{other}'; use count, conditional, lift or pmi"
                )));
            }
        })
    }
}

/// `counts` (from [`pair_counts`] over `n_movies`) in the chosen form.
pub fn normalize(counts: &Array2<f64>, n_movies: usize, how: Normalize) -> Array2<f64> {
    let diag: Vec<f64> = counts.diag().to_vec();
    let n = n_movies as f64;
    Array2::from_shape_fn(counts.raw_dim(), |(r, c)| {
        let v = counts[[r, c]];
        let safe = |num: f64, den: f64| if den == 0.0 { 0.0 } else { num / den };
        match how {
            Normalize::Count => v,
            Normalize::Conditional => safe(v, diag[r]),
            Normalize::Lift => safe(v * n, diag[r] * diag[c]),
            Normalize::Pmi => {
                let lift = safe(v * n, diag[r] * diag[c]);
                if lift > 0.0 { lift.ln() } else { 0.0 }
            }
        }
    })
}

/// Singular vectors `discard+1..=n` (largest first) of `a`: (U, V) with the
/// components as columns, signs as scikit-learn's `svd_flip` sets them.
/// faer's thin SVD (the former Jacobi sweeps on `aᵀa` squared the condition).
pub fn singular_vectors(
    a: &Array2<f64>,
    n: usize,
    discard: usize,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let (u_all, _, vt) = linalg::thin_svd(a.view())?;
    let keep = discard..n.min(u_all.ncols());
    let mut u = Array2::zeros((a.nrows(), keep.len()));
    let mut v = Array2::zeros((a.ncols(), keep.len()));
    for (k, i) in keep.enumerate() {
        let (ui, vi) = (u_all.column(i), vt.row(i));
        // svd_flip(u_based_decision=True): the largest |u| entry is positive.
        let sign = linalg::flip_sign(ui);
        u.column_mut(k).assign(&(&ui * sign));
        v.column_mut(k).assign(&(&vi * sign));
    }
    Ok((u, v))
}

/// The result of co-clustering: a cluster per row and per column.
#[derive(Clone, Debug)]
pub struct CoClustering {
    pub n_clusters: usize,
    pub row_labels: Vec<usize>,
    pub column_labels: Vec<usize>,
}

impl CoClustering {
    /// Row (or column) positions grouped by cluster, in cluster order, keeping
    /// the original order within a cluster.
    pub fn order(labels: &[usize], n_clusters: usize) -> Vec<usize> {
        (0..n_clusters)
            .flat_map(|c| (0..labels.len()).filter(move |&i| labels[i] == c))
            .collect()
    }
}

/// Checks what co-clustering needs of `data`.
fn check(data: &Array2<f64>, k: usize) -> Result<()> {
    let (r, c) = data.dim();
    if r == 0 || c == 0 {
        return Err(Error::invalid("cocluster: the matrix is empty"));
    }
    crate::matrix::check_finite(data.view(), None, "cocluster: matrix", "its values")?;
    if let Some(((i, j), v)) = data.indexed_iter().find(|(_, v)| **v < 0.0) {
        return Err(Error::invalid(format!(
            "cocluster: value [{i}, {j}] is {v}; spectral co-clustering needs non-negative values"
        )));
    }
    if k < 2 || k > r.min(c) {
        return Err(Error::invalid(format!(
            "cocluster: n_clusters must be between 2 and {} for a {r} × {c} matrix, got {k}",
            r.min(c)
        )));
    }
    for (axis, what) in [(Axis(1), "row"), (Axis(0), "column")] {
        if let Some(i) = data.sum_axis(axis).iter().position(|s| *s == 0.0) {
            return Err(Error::invalid(format!(
                "cocluster: {what} {i} is all zeros; drop it first (it has no co-occurrence to cluster on)"
            )));
        }
    }
    Ok(())
}

/// `SpectralCoclustering(n_clusters=k, random_state=seed, n_init=n_init)`:
/// An = R^-1/2 A C^-1/2; its singular vectors 2..=1+⌈log2 k⌉ scaled by
/// R^-1/2 and C^-1/2, stacked, and clustered by k-means. Clusters are
/// numbered in order of first appearance among the rows.
pub fn cocluster(data: &Array2<f64>, k: usize, n_init: usize, seed: u64) -> Result<CoClustering> {
    use linfa::traits::{Fit, Predict};
    use rand::SeedableRng;

    check(data, k)?;
    let row_diag: Vec<f64> = data
        .sum_axis(Axis(1))
        .iter()
        .map(|s| 1.0 / s.sqrt())
        .collect();
    let col_diag: Vec<f64> = data
        .sum_axis(Axis(0))
        .iter()
        .map(|s| 1.0 / s.sqrt())
        .collect();
    let an = Array2::from_shape_fn(data.raw_dim(), |(i, j)| {
        row_diag[i] * data[[i, j]] * col_diag[j]
    });
    let n_sv = 1 + (k as f64).log2().ceil() as usize;
    let (u, v) = singular_vectors(&an, n_sv, 1)?;
    let (rows, cols) = data.dim();
    let mut z = Array2::zeros((rows + cols, u.ncols()));
    for (i, d) in row_diag.iter().enumerate() {
        z.row_mut(i).assign(&(&u.row(i) * *d));
    }
    for (j, d) in col_diag.iter().enumerate() {
        z.row_mut(rows + j).assign(&(&v.row(j) * *d));
    }
    let rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(seed);
    let dataset = linfa::DatasetBase::from(z.clone());
    let model = linfa_clustering::KMeans::params_with_rng(k, rng)
        .n_runs(n_init.max(1))
        .tolerance(1e-4)
        .max_n_iterations(300)
        .fit(&dataset)
        .map_err(|e| Error::invalid(format!("cocluster: k-means failed: {e}")))?;
    let raw: Vec<usize> = model.predict(&z).to_vec();
    // Renumber by first appearance so the output does not depend on k-means' ids.
    let mut renumber = vec![usize::MAX; k];
    let mut next = 0;
    let labels: Vec<usize> = raw
        .iter()
        .map(|&c| {
            if renumber[c] == usize::MAX {
                renumber[c] = next;
                next += 1;
            }
            renumber[c]
        })
        .collect();
    Ok(CoClustering {
        n_clusters: k,
        row_labels: labels[..rows].to_vec(),
        column_labels: labels[rows..].to_vec(),
    })
}

/// `data` with rows and columns permuted by `row_order` / `col_order`.
pub fn reorder(data: &Array2<f64>, row_order: &[usize], col_order: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn((row_order.len(), col_order.len()), |(i, j)| {
        data[[row_order[i], col_order[j]]]
    })
}

/// Adjusted Rand index of two labelings (for tests and comparisons).
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let ka = a.iter().max().map_or(0, |m| m + 1);
    let kb = b.iter().max().map_or(0, |m| m + 1);
    let mut table = Array2::<f64>::zeros((ka, kb));
    for (&x, &y) in a.iter().zip(b) {
        table[[x, y]] += 1.0;
    }
    let comb = |n: f64| n * (n - 1.0) / 2.0;
    let sum_cells: f64 = table.iter().map(|&n| comb(n)).sum();
    let sum_a: f64 = table.sum_axis(Axis(1)).iter().map(|&n| comb(n)).sum();
    let sum_b: f64 = table.sum_axis(Axis(0)).iter().map(|&n| comb(n)).sum();
    let expected = sum_a * sum_b / comb(a.len() as f64);
    let max = 0.5 * (sum_a + sum_b);
    if max == expected {
        1.0
    } else {
        (sum_cells - expected) / (max - expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn pair_counts_follow_list2pairs() {
        let names: Vec<String> = ["Action", "Crime", "Drama"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let lists = vec![
            vec!["Crime", "Action"],
            vec!["Drama"],
            vec!["Action", "Drama", "Crime"],
        ];
        let m = pair_counts(&lists, &names);
        assert_eq!(m, array![[2.0, 2.0, 1.0], [2.0, 2.0, 1.0], [1.0, 1.0, 2.0]]);
        let cond = normalize(&m, 3, Normalize::Conditional);
        assert_eq!(cond[[2, 0]], 0.5);
        let lift = normalize(&m, 3, Normalize::Lift);
        assert!((lift[[0, 1]] - 1.5).abs() < 1e-12);
    }

    #[test]
    fn singular_vectors_pair_and_flip() {
        let a = array![
            [4.0, 1.0, 0.5],
            [1.0, 3.0, 0.2],
            [0.5, 0.2, 1.0],
            [0.1, -2.0, 0.3]
        ];
        let (u, v) = singular_vectors(&a, 3, 1).unwrap();
        assert_eq!((u.dim(), v.dim()), ((4, 2), (3, 2)));
        for k in 0..2 {
            // a·v = σ·u for the same σ, and the largest |u| is positive.
            let av = a.dot(&v.column(k));
            let sigma = av.dot(&u.column(k));
            assert!(
                av.iter()
                    .zip(u.column(k))
                    .all(|(x, y)| (x - sigma * y).abs() < 1e-10)
            );
            let big = u
                .column(k)
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            assert!(big > 0.0);
        }
    }

    // Three planted blocks with noise: co-clustering recovers them exactly.
    #[test]
    fn recovers_planted_blocks() {
        let blocks = [0, 0, 1, 1, 1, 2, 2, 0, 2];
        let data = Array2::from_shape_fn((9, 9), |(i, j)| {
            let base = if blocks[i] == blocks[j] { 50.0 } else { 1.0 };
            base + ((i * 7 + j * 3) % 5) as f64
        });
        let result = cocluster(&data, 3, 10, 0).unwrap();
        assert_eq!(adjusted_rand_index(&result.row_labels, &blocks), 1.0);
        assert_eq!(adjusted_rand_index(&result.column_labels, &blocks), 1.0);
    }

    #[test]
    fn bad_matrices_are_errors() {
        let zero_row = array![[1.0, 2.0], [0.0, 0.0]];
        assert!(
            cocluster(&zero_row, 2, 1, 0)
                .unwrap_err()
                .to_string()
                .contains("row 1 is all zeros")
        );
        let nan = array![[1.0, f64::NAN], [1.0, 1.0]];
        assert!(
            cocluster(&nan, 2, 1, 0)
                .unwrap_err()
                .to_string()
                .contains("must be finite")
        );
        let ok = array![[1.0, 2.0], [2.0, 1.0]];
        assert!(
            cocluster(&ok, 3, 1, 0)
                .unwrap_err()
                .to_string()
                .contains("between 2 and 2")
        );
    }

    // sklearn.metrics.adjusted_rand_score([0,0,1,1],[1,1,0,0]) -> 1.0; ([0,0,1,1],[0,1,0,1]) -> -0.5
    #[test]
    fn ari_matches_sklearn() {
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]) + 0.5).abs() < 1e-12);
    }
}
