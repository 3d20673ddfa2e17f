//! `plot::` — heatmaps, bar and line charts as PNG or SVG
//! ([`crate::plot::charts`]).

use rhai::plugin::*;

#[export_module]
pub mod plot_module {
    use rhai::{Array, Map, NativeCallContext};

    use crate::api::convert::{RhaiResult, located, numbers, options, strings, value};
    use crate::matrix::Matrix;
    use crate::plot::charts::{self, BarOptions, HeatmapOptions, LineOptions};

    /// A heatmap of `matrix` with every row and column labelled (column
    /// labels rotated), a colour bar and, with `annotate`, each cell's value.
    /// PNG or SVG by the extension of `path`; in a notebook (the Jupyter
    /// kernel) the figure is shown inline, with or without a path. Returns
    /// the path ("" when there is none).
    ///
    /// Arguments: `matrix`; `options` (below).
    ///
    /// Errors: no path outside a notebook or a `--report` run; an extension
    /// other than .png/.svg; a folder that does not exist; label counts that
    /// do not match; `labels` on a non-square matrix; NaN or infinite values.
    ///
    /// ```rhai
    /// let m = genres::pair_counts([["Crime", "Action"], ["Drama"], ["Action", "Drama"]]);
    /// let path = plot::heatmap(m, #{ path: data::temp_path("pairs.svg"), title: "Genre pairs", annotate: true });
    /// assert(path.ends_with("pairs.svg"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn heatmap(ctx: NativeCallContext, matrix: Matrix, options: Map) -> RhaiResult<String> {
        located(&ctx, || {
            charts::heatmap(&matrix, &self::options::<HeatmapOptions>(options)?)
        })
    }

    /// Horizontal bars, one per label, in the order given. Returns the path
    /// ("" without one: shown in a notebook or a `--report` only).
    ///
    /// Arguments: `counts` — numbers; `labels` — one per count; `options` (below).
    ///
    /// Errors: counts and labels of different lengths; no counts; a bad
    /// option or path; no path outside a notebook or a `--report` run.
    ///
    /// ```rhai
    /// let path = plot::bar([3372, 2767, 1790], ["Drama", "Comedy", "Thriller"], #{ path: data::temp_path("bars.png") });
    /// assert(path.ends_with("bars.png"));
    /// // with a bootstrap interval per bar
    /// plot::bar([0.62, 0.58], ["fusion", "text"], #{ path: data::temp_path("f1.svg"),
    ///           intervals: [[0.61, 0.63], [0.57, 0.59]] });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn bar(
        ctx: NativeCallContext,
        counts: Array,
        labels: Array,
        options: Map,
    ) -> RhaiResult<String> {
        located(&ctx, || {
            let o: BarOptions = self::options(options)?;
            let values = numbers(&counts, "plot::bar: counts")?;
            charts::bar(values, strings(&labels, "plot::bar: labels")?, &o)
        })
    }

    /// Lines over a numeric x axis: `series` maps a name to its y values, one
    /// per `x`. Returns the path ("" without one: shown in a notebook or a
    /// `--report` only).
    ///
    /// Arguments: `x` — numbers; `series` — name -> array of numbers;
    /// `options` (below).
    ///
    /// Errors: a series of another length than `x`; no series; a bad option
    /// or path; no path outside a notebook or a `--report` run.
    ///
    /// ```rhai
    /// let path = plot::line([1990, 2000, 2010], #{ Drama: [0.5, 0.45, 0.4], War: [0.05, 0.03, 0.02] },
    ///                       #{ path: data::temp_path("share.svg"), y_label: "share of movies" });
    /// assert(path.ends_with("share.svg"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn line(ctx: NativeCallContext, x: Array, series: Map, options: Map) -> RhaiResult<String> {
        located(&ctx, || {
            let o: LineOptions = self::options(options)?;
            let series = series
                .iter()
                .map(|(k, v)| (k.to_string(), value(v)))
                .collect();
            charts::line(&numbers(&x, "plot::line: x")?, &series, &o)
        })
    }
}
