//! `genres::` — pair counts, normalised co-occurrence, spectral
//! co-clustering and grouped genre counts ([`crate::cluster::genres`]).

use rhai::plugin::*;

#[export_module]
pub mod genres_module {
    use rhai::{Array, Dynamic, Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, arg, located, options, to_map, value};
    use crate::api::session_rng;
    use crate::cluster::genres::{CoClusterRef, CoclusterOptions, GenreLists, PairCountOptions};
    use crate::matrix::Matrix;

    const GENRES: &str = "Labels, Movies or an array of genre lists";

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
        pair_counts_with(ctx, genres, Map::new())
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
        located(&ctx, || {
            let o: PairCountOptions = self::options(options)?;
            arg::<GenreLists>(&genres, "genres::pair_counts", GENRES)?.pair_counts(&o)
        })
    }

    /// Genre -> number of movies that have it.
    ///
    /// ```rhai
    /// assert_eq(genres::frequencies([["Drama"], ["Drama", "War"]]), #{ Drama: 2, War: 1 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn frequencies(ctx: NativeCallContext, genres: Dynamic) -> RhaiResult<Map> {
        located(&ctx, || {
            to_map(&arg::<GenreLists>(&genres, "genres::frequencies", GENRES)?.frequencies())
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
    ) -> RhaiResult<CoClusterRef> {
        located(&ctx, || {
            let mut o: CoclusterOptions = self::options(options)?;
            if o.seed.is_none() {
                o.seed = Some(session_rng(&ctx)?.borrow_mut().derive_seed());
            }
            CoClusterRef::fit(&matrix, &o)
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
    pub fn group_counts(ctx: NativeCallContext, genres: Dynamic, keys: Array) -> RhaiResult<Map> {
        located(&ctx, || {
            let lists = arg::<GenreLists>(&genres, "genres::group_counts", GENRES)?;
            let keys: Vec<_> = keys.iter().map(value).collect();
            to_map(&lists.group_counts(&keys)?)
        })
    }
}

#[export_module]
pub mod cocluster_methods {
    use rhai::{Array, Map};

    use crate::api::convert::{RhaiResult, to_map, to_script};
    use crate::cluster::genres::CoClusterRef;
    use crate::matrix::Matrix;

    /// The cluster of each row (`row_labels_`).
    #[rhai_fn(global, name = "row_labels", return_raw, pure)]
    pub fn row_labels(cc: &mut CoClusterRef) -> RhaiResult<Array> {
        Ok(to_script(&cc.result.row_labels)?.cast())
    }

    /// The cluster of each column (`column_labels_`).
    #[rhai_fn(global, name = "column_labels", return_raw, pure)]
    pub fn column_labels(cc: &mut CoClusterRef) -> RhaiResult<Array> {
        Ok(to_script(&cc.result.column_labels)?.cast())
    }

    /// Row and column positions grouped by cluster: `#{ rows, columns }`.
    #[rhai_fn(global, name = "order", return_raw, pure)]
    pub fn order(cc: &mut CoClusterRef) -> RhaiResult<Map> {
        Ok(to_map(&cc.order())?)
    }

    /// The number of rows in each cluster, in cluster order: the diagonal
    /// blocks of `reorder(matrix)` (for `plot::heatmap`'s `blocks`).
    ///
    /// ```rhai
    /// let m = data::matrix([[9, 8, 0], [8, 9, 1], [0, 1, 9]]);
    /// assert_eq(genres::cocluster(m, #{ n_clusters: 2, seed: 0 }).block_sizes(), [2, 1]);
    /// ```
    #[rhai_fn(global, name = "block_sizes", return_raw, pure)]
    pub fn block_sizes(cc: &mut CoClusterRef) -> RhaiResult<Array> {
        Ok(to_script(&cc.block_sizes())?.cast())
    }

    /// One `#{ rows, columns }` of names per cluster.
    ///
    /// ```rhai
    /// let m = genres::pair_counts([["Crime", "Thriller"], ["Crime", "Thriller"], ["Family", "Animation"], ["Animation", "Family"]]);
    /// let cc = genres::cocluster(m, #{ n_clusters: 2, seed: 1 });
    /// assert_eq(cc.biclusters()[0].rows, ["Animation", "Family"]);
    /// ```
    #[rhai_fn(global, name = "biclusters", return_raw, pure)]
    pub fn biclusters(cc: &mut CoClusterRef) -> RhaiResult<Array> {
        Ok(to_script(&cc.biclusters())?.cast())
    }

    /// `matrix` with rows and columns grouped by cluster (names follow).
    ///
    /// Errors: a matrix of another shape than the one co-clustered.
    #[rhai_fn(global, name = "reorder", return_raw, pure)]
    pub fn reorder_matrix(cc: &mut CoClusterRef, matrix: Matrix) -> RhaiResult<Matrix> {
        Ok(cc.reorder(&matrix)?)
    }

    /// The clusters as lists of names.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn describe(cc: &mut CoClusterRef) -> String {
        cc.to_string()
    }
}
