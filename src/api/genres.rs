//! `genres::` — pair counts, normalised co-occurrence, spectral
//! co-clustering and grouped genre counts.

use ndarray::Array2;
use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::convert::{string_lists, type_of};
use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, SEED, Schema};
use crate::cluster::CoClustering;
use crate::data::{Binarizer, Labels, Movies};
use crate::error::{Error, Result};
use crate::matrix::Matrix;

/// A co-clustering with the names of the rows and columns it was fitted on.
#[derive(Clone, Debug)]
pub struct CoClusterHandle {
    pub result: CoClustering,
    pub row_names: Vec<String>,
    pub col_names: Vec<String>,
}

/// Genre lists and label names from `Labels`, `Movies` or an array of arrays.
fn genre_input(value: &Dynamic, what: &str) -> Result<(Vec<Vec<String>>, Vec<String>)> {
    if let Some(labels) = value.read_lock::<Labels>() {
        let lists = (0..labels.rows())
            .map(|i| {
                labels
                    .row_names(i)
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        return Ok((lists, labels.names().to_vec()));
    }
    let lists: Vec<Vec<String>> = if let Some(movies) = value.read_lock::<Movies>() {
        movies.genres().map(<[String]>::to_vec).collect()
    } else if let Some(array) = value.read_lock::<Array>() {
        string_lists(&array, what)?
    } else {
        return Err(Error::invalid(format!(
            "{what}: expected Labels, Movies or an array of genre lists, got {}",
            type_of(value)
        )));
    };
    let names = Binarizer::fit(&lists, 1, None)?.names().to_vec();
    Ok((lists, names))
}

pub(crate) fn to_f64(m: &Matrix) -> Array2<f64> {
    m.values().mapv(f64::from)
}

fn named(values: Array2<f64>, rows: Vec<String>, cols: Vec<String>) -> Result<Matrix> {
    Matrix::new(values.mapv(|v| v as f32)).with_names(Some(rows), Some(cols))
}

pub(crate) fn names_or_numbers(names: Option<&[String]>, n: usize) -> Vec<String> {
    names.map_or_else(
        || (0..n).map(|i| i.to_string()).collect(),
        <[String]>::to_vec,
    )
}

pub static PAIR_COUNTS: Schema = Schema::new(
    "genres::pair_counts",
    &[&[Opt::new(
        "normalize",
        Kind::Choice(&["count", "conditional", "lift", "pmi"]),
        D::Text("count"),
        "conditional: row r, column c is P(c | r); lift: P(r, c) / (P(r)·P(c)); pmi: ln lift, 0 where a pair never occurs",
    )]],
);

pub static COCLUSTER: Schema = Schema::new(
    "genres::cocluster",
    &[
        &[
            Opt::new(
                "n_clusters",
                Kind::Int(Bounds::at_least(2.0)),
                D::Int(3),
                "co-clusters (at most the smaller side of the matrix)",
            ),
            Opt::new(
                "n_init",
                Kind::Int(Bounds::POSITIVE_INT),
                D::Int(10),
                "k-means restarts; the best inertia wins",
            ),
            Opt::new(
                "svd_method",
                Kind::Choice(&["randomized", "arpack", "exact"]),
                D::Text("randomized"),
                "accepted for scikit-learn's scripts; the SVD here is always exact",
            ),
        ],
        &[SEED],
    ],
);

pub static SCHEMAS: &[&Schema] = &[&PAIR_COUNTS, &COCLUSTER];

fn pair_matrix(input: &Dynamic, options: Map) -> Result<Matrix> {
    let opts = PAIR_COUNTS.parse(options)?;
    let how = crate::cluster::Normalize::parse(&opts.text("normalize")?)?;
    let (lists, names) = genre_input(input, "genres::pair_counts")?;
    let counts = crate::cluster::pair_counts(&lists, &names);
    let values = crate::cluster::normalize(&counts, lists.len(), how);
    named(values, names.clone(), names)
}

#[export_module]
pub mod genres_module {
    use rhai::{Dynamic, INT, Map, NativeCallContext};

    use super::{CoClusterHandle, genre_input, names_or_numbers, pair_matrix, to_f64};
    use crate::api::convert::{RhaiResult, located};
    use crate::api::session_rng;
    use crate::matrix::Matrix;

    /// The seed's genre × genre co-occurrence counts: for every movie each
    /// unordered pair of its genres counted in both cells, and each genre
    /// with itself on the diagonal (so the diagonal is the genre's count).
    /// Rows and columns carry the genre names (the order of `Labels`, else sorted).
    ///
    /// Arguments: `genres` — `Labels`, `Movies` or an array of genre lists.
    ///
    /// Errors: anything else.
    ///
    /// ```rhai
    /// let m = genres::pair_counts([["Crime", "Action"], ["Drama"], ["Action", "Drama"]]);
    /// assert_eq(m.names(), ["Action", "Crime", "Drama"]);
    /// assert_eq(m.row(0), [2.0, 1.0, 1.0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pair_counts(ctx: NativeCallContext, genres: Dynamic) -> RhaiResult<Matrix> {
        located(&ctx, || pair_matrix(&genres, Map::new()))
    }

    /// Co-occurrence in another form (`normalize`, below).
    ///
    /// Errors: a bad option.
    ///
    /// ```rhai
    /// let m = genres::pair_counts([["Crime", "Action"], ["Action"]], #{ normalize: "conditional" });
    /// assert_eq(m.row(1), [1.0, 1.0]);     // every Crime movie is an Action movie
    /// ```
    #[rhai_fn(name = "pair_counts", return_raw)]
    pub fn pair_counts_with(
        ctx: NativeCallContext,
        genres: Dynamic,
        options: Map,
    ) -> RhaiResult<Matrix> {
        located(&ctx, || pair_matrix(&genres, options))
    }

    /// Genre -> number of movies that have it.
    ///
    /// ```rhai
    /// assert_eq(genres::frequencies([["Drama"], ["Drama", "War"]]), #{ Drama: 2, War: 1 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn frequencies(ctx: NativeCallContext, genres: Dynamic) -> RhaiResult<Map> {
        located(&ctx, || {
            let (lists, names) = genre_input(&genres, "genres::frequencies")?;
            let counts = crate::cluster::pair_counts(&lists, &names);
            Ok(names
                .iter()
                .zip(counts.diag())
                .map(|(n, c)| (n.as_str().into(), Dynamic::from_int(*c as INT)))
                .collect())
        })
    }

    /// Spectral co-clustering (Dhillon 2001), scikit-learn's
    /// `SpectralCoclustering`: An = R^-1/2 A C^-1/2, singular vectors
    /// 2..=1+⌈log2 k⌉ scaled and stacked, k-means (linfa-clustering, seeded,
    /// `n_init` restarts). The SVD is exact (what scikit-learn's `randomized`
    /// and `arpack` approximate); clusters are numbered by first appearance.
    ///
    /// Arguments: `matrix`; `options` (below).
    ///
    /// Errors: n_clusters above the smaller side; an all-zero row or column;
    /// a negative, NaN or infinite value; a bad option.
    ///
    /// ```rhai
    /// let m = data::matrix([[9, 8, 0, 1], [8, 9, 1, 0], [0, 1, 9, 8], [1, 0, 8, 9]]);
    /// let cc = genres::cocluster(m, #{ n_clusters: 2, seed: 0 });
    /// assert_eq(cc.row_labels(), [0, 0, 1, 1]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cocluster(
        ctx: NativeCallContext,
        matrix: Matrix,
        options: Map,
    ) -> RhaiResult<CoClusterHandle> {
        located(&ctx, || {
            let opts = super::COCLUSTER.parse(options)?;
            let k = opts.usize("n_clusters")?;
            let seed = opts.seed(|| Ok(session_rng(&ctx)?.borrow_mut().derive_seed()))?;
            let result =
                crate::cluster::cocluster(&to_f64(&matrix), k, opts.usize("n_init")?, seed)?;
            Ok(CoClusterHandle {
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
        })
    }

    /// Genre counts per group: `keys` holds one group per movie (a year, a
    /// month, a decade; `()` leaves the movie out). Returns `#{ groups,
    /// movies, counts, share, skipped }`: the sorted groups, movies per group,
    /// genre -> count per group, genre -> share of the group's movies, and
    /// how many movies had no group.
    ///
    /// Errors: `keys` of another length than the movies.
    ///
    /// ```rhai
    /// let g = genres::group_counts([["Drama"], ["Drama", "War"], ["War"]], [1990, 1990, ()]);
    /// assert_eq(g.groups, [1990]);
    /// assert_eq(g.share.War, [0.5]);
    /// assert_eq(g.skipped, 1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn group_counts(
        ctx: NativeCallContext,
        genres: Dynamic,
        keys: rhai::Array,
    ) -> RhaiResult<Map> {
        located(&ctx, || super::group_counts_of(&genres, &keys))
    }
}

fn group_counts_of(genres: &Dynamic, keys: &Array) -> Result<Map> {
    let (lists, names) = genre_input(genres, "genres::group_counts")?;
    if keys.len() != lists.len() {
        return Err(Error::invalid(format!(
            "genres::group_counts: {} keys for {} movies; give one key per movie",
            keys.len(),
            lists.len()
        )));
    }
    let key_text = |k: &Dynamic| {
        if k.is_unit() {
            None
        } else {
            Some(k.to_string())
        }
    };
    // Groups sorted numerically when they are numbers, else as text.
    let mut groups: Vec<Dynamic> = Vec::new();
    for k in keys.iter().filter(|k| !k.is_unit()) {
        if !groups.iter().any(|g| g.to_string() == k.to_string()) {
            groups.push(k.clone());
        }
    }
    groups.sort_by(|a, b| match (a.as_int(), b.as_int()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    });
    let position: std::collections::HashMap<String, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.to_string(), i))
        .collect();
    let mut totals = vec![0i64; groups.len()];
    let mut counts = vec![vec![0i64; groups.len()]; names.len()];
    let index: std::collections::HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut skipped = 0;
    for (list, key) in lists.iter().zip(keys) {
        let Some(g) = key_text(key).and_then(|k| position.get(&k).copied()) else {
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
    let mut out = Map::new();
    let ints = |v: &[i64]| -> Dynamic {
        Dynamic::from_array(v.iter().map(|&x| Dynamic::from_int(x)).collect())
    };
    out.insert("groups".into(), Dynamic::from_array(groups));
    out.insert("movies".into(), ints(&totals));
    let mut count_map = Map::new();
    let mut share_map = Map::new();
    for (name, row) in names.iter().zip(&counts) {
        count_map.insert(name.as_str().into(), ints(row));
        let shares: Array = row
            .iter()
            .zip(&totals)
            .map(|(&c, &t)| Dynamic::from_float(if t == 0 { 0.0 } else { c as f64 / t as f64 }))
            .collect();
        share_map.insert(name.as_str().into(), Dynamic::from_array(shares));
    }
    out.insert("counts".into(), Dynamic::from_map(count_map));
    out.insert("share".into(), Dynamic::from_map(share_map));
    out.insert("skipped".into(), Dynamic::from_int(skipped));
    Ok(out)
}

fn ints(v: &[usize]) -> Array {
    v.iter()
        .map(|&x| Dynamic::from_int(x as rhai::INT))
        .collect()
}

#[export_module]
pub mod cocluster_methods {
    use rhai::{Array, Dynamic, Map};

    use super::{CoClusterHandle, ints, named, to_f64};
    use crate::api::convert::{RhaiResult, string_array};
    use crate::cluster::{CoClustering, reorder};
    use crate::error::Error;
    use crate::matrix::Matrix;

    /// The cluster of each row (`row_labels_`).
    #[rhai_fn(global, name = "row_labels", pure)]
    pub fn row_labels(cc: &mut CoClusterHandle) -> Array {
        ints(&cc.result.row_labels)
    }

    /// The cluster of each column (`column_labels_`).
    #[rhai_fn(global, name = "column_labels", pure)]
    pub fn column_labels(cc: &mut CoClusterHandle) -> Array {
        ints(&cc.result.column_labels)
    }

    /// Row and column positions grouped by cluster: `#{ rows, columns }`.
    #[rhai_fn(global, name = "order", pure)]
    pub fn order(cc: &mut CoClusterHandle) -> Map {
        let k = cc.result.n_clusters;
        let mut m = Map::new();
        m.insert(
            "rows".into(),
            Dynamic::from_array(ints(&CoClustering::order(&cc.result.row_labels, k))),
        );
        m.insert(
            "columns".into(),
            Dynamic::from_array(ints(&CoClustering::order(&cc.result.column_labels, k))),
        );
        m
    }

    /// The number of rows in each cluster, in cluster order: the diagonal
    /// blocks of `reorder(matrix)` (for `plot::heatmap`'s `blocks`).
    ///
    /// ```rhai
    /// let m = data::matrix([[9, 8, 0], [8, 9, 1], [0, 1, 9]]);
    /// assert_eq(genres::cocluster(m, #{ n_clusters: 2, seed: 0 }).block_sizes(), [2, 1]);
    /// ```
    #[rhai_fn(global, name = "block_sizes", pure)]
    pub fn block_sizes(cc: &mut CoClusterHandle) -> Array {
        (0..cc.result.n_clusters)
            .map(|c| {
                Dynamic::from_int(
                    cc.result.row_labels.iter().filter(|&&l| l == c).count() as rhai::INT
                )
            })
            .collect()
    }

    /// One `#{ rows, columns }` of names per cluster.
    ///
    /// ```rhai
    /// let m = genres::pair_counts([["Crime", "Thriller"], ["Crime", "Thriller"], ["Family", "Animation"], ["Animation", "Family"]]);
    /// let cc = genres::cocluster(m, #{ n_clusters: 2, seed: 1 });
    /// assert_eq(cc.biclusters()[0].rows, ["Animation", "Family"]);
    /// ```
    #[rhai_fn(global, name = "biclusters", pure)]
    pub fn biclusters(cc: &mut CoClusterHandle) -> Array {
        (0..cc.result.n_clusters)
            .map(|c| {
                let pick = |labels: &[usize], names: &[String]| {
                    string_array(
                        labels
                            .iter()
                            .zip(names)
                            .filter(|(l, _)| **l == c)
                            .map(|(_, n)| n.as_str()),
                    )
                };
                let mut m = Map::new();
                m.insert(
                    "rows".into(),
                    Dynamic::from_array(pick(&cc.result.row_labels, &cc.row_names)),
                );
                m.insert(
                    "columns".into(),
                    Dynamic::from_array(pick(&cc.result.column_labels, &cc.col_names)),
                );
                Dynamic::from_map(m)
            })
            .collect()
    }

    /// `matrix` with rows and columns grouped by cluster (names follow).
    ///
    /// Errors: a matrix of another shape than the one co-clustered.
    #[rhai_fn(global, name = "reorder", return_raw, pure)]
    pub fn reorder_matrix(cc: &mut CoClusterHandle, matrix: Matrix) -> RhaiResult<Matrix> {
        let (r, c) = (cc.result.row_labels.len(), cc.result.column_labels.len());
        if (matrix.rows(), matrix.cols()) != (r, c) {
            return Err(Error::invalid(format!(
                "reorder: the matrix is {} × {} but the co-clustering is of a {r} × {c} matrix",
                matrix.rows(),
                matrix.cols()
            ))
            .into());
        }
        let k = cc.result.n_clusters;
        let rows = CoClustering::order(&cc.result.row_labels, k);
        let cols = CoClustering::order(&cc.result.column_labels, k);
        let values = reorder(&to_f64(&matrix), &rows, &cols);
        let row_names = rows.iter().map(|&i| cc.row_names[i].clone()).collect();
        let col_names = cols.iter().map(|&j| cc.col_names[j].clone()).collect();
        Ok(named(values, row_names, col_names)?)
    }

    /// The clusters as lists of names.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(cc: &mut CoClusterHandle) -> String {
        let mut out = format!(
            "CoClustering: {} clusters of a {} × {} matrix",
            cc.result.n_clusters,
            cc.row_names.len(),
            cc.col_names.len()
        );
        for c in 0..cc.result.n_clusters {
            let rows: Vec<&str> = cc
                .result
                .row_labels
                .iter()
                .zip(&cc.row_names)
                .filter(|(l, _)| **l == c)
                .map(|(_, n)| n.as_str())
                .collect();
            out.push_str(&format!("\n  {c}: {}", rows.join(", ")));
        }
        out
    }
}
