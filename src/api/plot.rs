//! `plot::` — heatmaps, bar and line charts as PNG or SVG.

use std::path::Path;

use rhai::plugin::*;
use rhai::{Array, Map};

use crate::api::convert::Options;
use crate::api::genres::{names_or_numbers, to_f64};
use crate::error::{Error, Result};
use crate::matrix::Matrix;

fn size_option(opts: &Options, default: (u32, u32)) -> Result<(u32, u32)> {
    match opts.get("size") {
        None => Ok(default),
        Some(v) => {
            let bad = || {
                Error::invalid(format!(
                    "{}: option 'size' must be [width, height] in pixels",
                    opts.function()
                ))
            };
            let pair = v.read_lock::<Array>().ok_or_else(bad)?;
            let ints: Vec<i64> = pair.iter().filter_map(|x| x.as_int().ok()).collect();
            match ints.as_slice() {
                [w, h] if pair.len() == 2 && *w > 0 && *h > 0 => Ok((*w as u32, *h as u32)),
                _ => Err(bad()),
            }
        }
    }
}

fn path_option(opts: &Options) -> Result<String> {
    opts.string("path")?.ok_or_else(|| {
        Error::invalid(format!(
            "{}: option 'path' is required (a .png or .svg file)",
            opts.function()
        ))
    })
}

fn heatmap_of(matrix: &Matrix, options: Map) -> Result<String> {
    let opts = Options::new(
        "plot::heatmap",
        options,
        &[
            "labels",
            "row_labels",
            "col_labels",
            "title",
            "path",
            "colormap",
            "annotate",
            "size",
            "log_scale",
            "blocks",
        ],
    )?;
    let (r, c) = (matrix.rows(), matrix.cols());
    if let Some(((i, j), v)) = matrix.values().indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "plot::heatmap: value [{i}, {j}] is {v}; a heatmap needs finite values"
        )));
    }
    let check = |names: Vec<String>, n: usize, what: &str| {
        if names.len() == n {
            Ok(names)
        } else {
            Err(Error::invalid(format!(
                "plot::heatmap: {} {what} labels for {n} {what}s",
                names.len()
            )))
        }
    };
    let (row_labels, col_labels) = match opts.strings("labels")? {
        Some(both) => {
            if r != c {
                return Err(Error::invalid(format!(
                    "plot::heatmap: 'labels' names both axes, but the matrix is not square ({r} × {c}); use row_labels and col_labels"
                )));
            }
            (check(both.clone(), r, "row")?, check(both, c, "column")?)
        }
        None => (
            check(
                opts.strings("row_labels")?.unwrap_or_else(|| {
                    names_or_numbers(
                        matrix.row_names().or(matrix.col_names().filter(|_| r == c)),
                        r,
                    )
                }),
                r,
                "row",
            )?,
            check(
                opts.strings("col_labels")?
                    .unwrap_or_else(|| names_or_numbers(matrix.col_names(), c)),
                c,
                "column",
            )?,
        ),
    };
    let path = path_option(&opts)?;
    let values = to_f64(matrix);
    let figure = crate::plot::Heatmap {
        values: &values,
        row_labels,
        col_labels,
        title: opts.string("title")?.unwrap_or_default(),
        colormap: crate::plot::colormap(opts.string("colormap")?.as_deref().unwrap_or("viridis"))?,
        annotate: opts.boolean("annotate")?.unwrap_or(false),
        log_scale: opts.boolean("log_scale")?.unwrap_or(false),
        blocks: match opts.get("blocks") {
            None => Vec::new(),
            Some(v) => v
                .read_lock::<Array>()
                .map(|a| crate::api::convert::numbers(&a, "plot::heatmap: option 'blocks'"))
                .transpose()?
                .ok_or_else(|| {
                    Error::invalid("plot::heatmap: option 'blocks' must be an array of block sizes")
                })?
                .into_iter()
                .map(|b| b.max(0.0) as usize)
                .collect(),
        },
    };
    // Room for the labels plus about 40 × 34 pixels a cell.
    let default = (
        (260 + 40 * c as u32).clamp(400, 2400),
        (220 + 34 * r as u32).clamp(300, 2400),
    );
    let size = size_option(&opts, default)?;
    crate::plot::save(&figure, Path::new(&path), size)?;
    Ok(path)
}

#[export_module]
pub mod plot_module {
    use rhai::{Array, Map, NativeCallContext};

    use super::{heatmap_of, path_option, size_option};
    use crate::api::convert::{Options, RhaiResult, located, numbers, strings};
    use crate::error::Error;
    use crate::matrix::Matrix;

    /// A heatmap of `matrix` with every row and column labelled (column
    /// labels rotated), a colour bar and, with `annotate`, each cell's value.
    /// PNG or SVG by the extension of `path`. Returns the path.
    ///
    /// Arguments: `options` — `path` (required), `title`, `labels` (both axes
    /// of a square matrix; default the matrix's names), `row_labels`,
    /// `col_labels`, `colormap` (`"viridis"`, `"blues"`, `"magma"`,
    /// `"greys"`), `annotate`, `log_scale` (colour by ln(1 + value)), `blocks`
    /// (sizes of diagonal blocks to outline, e.g. `cc.block_sizes()`), `size`
    /// (`[width, height]` in pixels).
    ///
    /// Errors: no path; an extension other than .png/.svg; a folder that does
    /// not exist; label counts that do not match; `labels` on a non-square
    /// matrix; NaN or infinite values; an unknown colormap or option.
    ///
    /// ```rhai
    /// let m = genres::pair_counts([["Crime", "Action"], ["Drama"], ["Action", "Drama"]]);
    /// let path = plot::heatmap(m, #{ path: data::temp_path("pairs.svg"), title: "Genre pairs", annotate: true });
    /// assert(path.ends_with("pairs.svg"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn heatmap(ctx: NativeCallContext, matrix: Matrix, options: Map) -> RhaiResult<String> {
        located(&ctx, || heatmap_of(&matrix, options))
    }

    /// Horizontal bars, one per label, in the order given. Returns the path.
    ///
    /// Arguments: `counts` — numbers; `labels` — one per count; `options` —
    /// `path` (required), `title`, `size`, `color` (`[r, g, b]`).
    ///
    /// Errors: counts and labels of different lengths; no counts; a bad path.
    ///
    /// ```rhai
    /// let path = plot::bar([3372, 2767, 1790], ["Drama", "Comedy", "Thriller"], #{ path: data::temp_path("bars.png") });
    /// assert(path.ends_with("bars.png"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn bar(
        ctx: NativeCallContext,
        counts: Array,
        labels: Array,
        options: Map,
    ) -> RhaiResult<String> {
        located(&ctx, || {
            let opts = Options::new("plot::bar", options, &["path", "title", "size", "color"])?;
            let values = numbers(&counts, "plot::bar: counts")?;
            let labels = strings(&labels, "plot::bar: labels")?;
            if values.is_empty() || values.len() != labels.len() {
                return Err(Error::invalid(format!(
                    "plot::bar: {} counts and {} labels; give one label per count (at least one)",
                    values.len(),
                    labels.len()
                )));
            }
            let color = match opts.get("color") {
                None => (49, 104, 142),
                Some(v) => {
                    let rgb = v
                        .read_lock::<Array>()
                        .map(|a| numbers(&a, "plot::bar: option 'color'"))
                        .transpose()?
                        .unwrap_or_default();
                    match rgb.as_slice() {
                        [r, g, b] => (*r as u8, *g as u8, *b as u8),
                        _ => {
                            return Err(Error::invalid(
                                "plot::bar: option 'color' must be [r, g, b]",
                            ));
                        }
                    }
                }
            };
            let path = path_option(&opts)?;
            let size = size_option(
                &opts,
                (800, (80 + 28 * values.len() as u32).clamp(300, 2400)),
            )?;
            let figure = crate::plot::Bars {
                values,
                labels,
                title: opts.string("title")?.unwrap_or_default(),
                color,
            };
            crate::plot::save(&figure, std::path::Path::new(&path), size)?;
            Ok(path)
        })
    }

    /// Lines over a numeric x axis: `series` maps a name to its y values, one
    /// per `x`. Returns the path.
    ///
    /// Arguments: `x` — numbers; `series` — name -> array of numbers;
    /// `options` — `path` (required), `title`, `x_label`, `y_label`, `size`.
    ///
    /// Errors: a series of another length than `x`; no series; a bad path.
    ///
    /// ```rhai
    /// let path = plot::line([1990, 2000, 2010], #{ Drama: [0.5, 0.45, 0.4], War: [0.05, 0.03, 0.02] },
    ///                       #{ path: data::temp_path("share.svg"), y_label: "share of movies" });
    /// assert(path.ends_with("share.svg"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn line(ctx: NativeCallContext, x: Array, series: Map, options: Map) -> RhaiResult<String> {
        located(&ctx, || {
            let opts = Options::new(
                "plot::line",
                options,
                &["path", "title", "x_label", "y_label", "size"],
            )?;
            let xs = numbers(&x, "plot::line: x")?;
            if series.is_empty() {
                return Err(Error::invalid("plot::line: no series to draw"));
            }
            let mut lines = Vec::new();
            for (name, ys) in &series {
                let ys = ys
                    .read_lock::<Array>()
                    .map(|a| numbers(&a, &format!("plot::line: series '{name}'")))
                    .transpose()?
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "plot::line: series '{name}' must be an array of numbers"
                        ))
                    })?;
                if ys.len() != xs.len() {
                    return Err(Error::invalid(format!(
                        "plot::line: series '{name}' has {} values for {} x values",
                        ys.len(),
                        xs.len()
                    )));
                }
                lines.push((name.to_string(), xs.iter().copied().zip(ys).collect()));
            }
            let path = path_option(&opts)?;
            let size = size_option(&opts, (900, 560))?;
            let figure = crate::plot::Lines {
                series: lines,
                title: opts.string("title")?.unwrap_or_default(),
                x_label: opts.string("x_label")?.unwrap_or_default(),
                y_label: opts.string("y_label")?.unwrap_or_default(),
            };
            crate::plot::save(&figure, std::path::Path::new(&path), size)?;
            Ok(path)
        })
    }
}
