//! `plot::` — heatmaps, bar and line charts as PNG or SVG.

use std::path::Path;

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map};

use crate::api::convert::{finite, numbers};
use crate::api::genres::{names_or_numbers, to_f64};
use crate::api::schema::{Bounds, DefaultValue as D, Kind, Opt, Parsed, Schema};
use crate::error::{Error, Result};
use crate::matrix::Matrix;

const PATH: Opt = Opt::new(
    "path",
    Kind::Text,
    D::Required,
    "the .png or .svg file to write",
);
const TITLE: Opt = Opt::new("title", Kind::Text, D::Text(""), "the title above the plot");
const SIZE: Opt = Opt::new(
    "size",
    Kind::Tuple(2, Bounds::within(16.0, 16384.0)),
    D::Described("fitted to the labels"),
    "[width, height] in pixels",
);

pub static HEATMAP: Schema = Schema::new(
    "plot::heatmap",
    &[&[
        PATH,
        TITLE,
        Opt::new(
            "labels",
            Kind::Texts,
            D::Described("the matrix's names"),
            "names of both axes of a square matrix",
        ),
        Opt::new(
            "row_labels",
            Kind::Texts,
            D::Described("the matrix's row names"),
            "names of the rows",
        ),
        Opt::new(
            "col_labels",
            Kind::Texts,
            D::Described("the matrix's column names"),
            "names of the columns",
        ),
        Opt::new(
            "colormap",
            Kind::Choice(crate::plot::COLORMAPS),
            D::Text("viridis"),
            "the colour scale",
        ),
        Opt::new(
            "annotate",
            Kind::Bool,
            D::Bool(false),
            "print each cell's value",
        ),
        Opt::new(
            "log_scale",
            Kind::Bool,
            D::Bool(false),
            "colour by ln(1 + value)",
        ),
        Opt::new(
            "blocks",
            Kind::Ints(Bounds::POSITIVE_INT),
            D::Described("none"),
            "sizes of diagonal blocks to outline, e.g. cc.block_sizes()",
        ),
        SIZE,
    ]],
);

pub static BAR: Schema = Schema::new(
    "plot::bar",
    &[&[
        PATH,
        TITLE,
        SIZE,
        Opt::new(
            "color",
            Kind::Tuple(3, Bounds::within(0.0, 255.0)),
            D::Ints(&[49, 104, 142]),
            "[r, g, b] of the bars",
        ),
        Opt::new(
            "intervals",
            Kind::Value {
                expected: "an array of [low, high] pairs, one per bar",
                check: pairs,
            },
            D::None,
            "a whisker per bar from low to high (a bootstrap interval, say)",
        ),
    ]],
);

fn pairs(v: &Dynamic) -> bool {
    v.read_lock::<Array>().is_some_and(|a| {
        a.iter().all(|p| {
            p.read_lock::<Array>()
                .is_some_and(|p| p.len() == 2 && p.iter().all(|x| x.is_float() || x.is_int()))
        })
    })
}

pub static LINE: Schema = Schema::new(
    "plot::line",
    &[&[
        PATH,
        TITLE,
        Opt::new("x_label", Kind::Text, D::Text(""), "the x axis' label"),
        Opt::new("y_label", Kind::Text, D::Text(""), "the y axis' label"),
        SIZE,
    ]],
);

pub static SCHEMAS: &[&Schema] = &[&HEATMAP, &BAR, &LINE];

/// The `intervals` option: one finite `[low, high]` with low <= high per bar.
fn intervals(v: &Dynamic, bars: usize) -> Result<Vec<(f64, f64)>> {
    let pairs: Vec<Vec<f64>> = v
        .read_lock::<Array>()
        .map(|a| {
            a.iter()
                .map(|p| {
                    numbers(
                        &p.read_lock::<Array>()
                            .map(|p| p.clone())
                            .unwrap_or_default(),
                        "",
                    )
                    .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    if pairs.len() != bars {
        return Err(Error::invalid(format!(
            "plot::bar: {} intervals for {bars} bars; give one [low, high] per bar",
            pairs.len()
        )));
    }
    pairs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            finite(p, &format!("plot::bar: interval {i}"))?;
            if p[0] > p[1] {
                return Err(Error::invalid(format!(
                    "plot::bar: interval {i} is [{}, {}]; low must not exceed high",
                    p[0], p[1]
                )));
            }
            Ok((p[0], p[1]))
        })
        .collect()
}

fn size_option(opts: &Parsed, default: (u32, u32)) -> Result<(u32, u32)> {
    Ok(match opts.usizes("size").ok().as_deref() {
        Some([w, h]) => (*w as u32, *h as u32),
        _ => default,
    })
}

fn heatmap_of(matrix: &Matrix, options: Map) -> Result<String> {
    let opts = HEATMAP.parse(options)?;
    let (r, c) = (matrix.rows(), matrix.cols());
    matrix.check_finite("plot::heatmap: matrix", "a heatmap's values")?;
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
    let (row_labels, col_labels) = match opts.opt_texts("labels")? {
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
                opts.opt_texts("row_labels")?.unwrap_or_else(|| {
                    names_or_numbers(
                        matrix.row_names().or(matrix.col_names().filter(|_| r == c)),
                        r,
                    )
                }),
                r,
                "row",
            )?,
            check(
                opts.opt_texts("col_labels")?
                    .unwrap_or_else(|| names_or_numbers(matrix.col_names(), c)),
                c,
                "column",
            )?,
        ),
    };
    let path = opts.text("path")?;
    let values = to_f64(matrix);
    let figure = crate::plot::Heatmap {
        values: &values,
        row_labels,
        col_labels,
        title: opts.text("title")?,
        colormap: crate::plot::colormap(&opts.text("colormap")?)?,
        annotate: opts.flag("annotate")?,
        log_scale: opts.flag("log_scale")?,
        blocks: if opts.given("blocks") {
            opts.usizes("blocks")?
        } else {
            Vec::new()
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

    use super::{heatmap_of, size_option};
    use crate::api::convert::{RhaiResult, finite, located, numbers, strings};
    use crate::error::Error;
    use crate::matrix::Matrix;

    /// A heatmap of `matrix` with every row and column labelled (column
    /// labels rotated), a colour bar and, with `annotate`, each cell's value.
    /// PNG or SVG by the extension of `path`. Returns the path.
    ///
    /// Arguments: `matrix`; `options` (below).
    ///
    /// Errors: a bad option (no path, say); an extension other than
    /// .png/.svg; a folder that does not exist; label counts that do not
    /// match; `labels` on a non-square matrix; NaN or infinite values.
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
    /// Arguments: `counts` — numbers; `labels` — one per count; `options` (below).
    ///
    /// Errors: counts and labels of different lengths; no counts; a bad option or path.
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
            let opts = super::BAR.parse(options)?;
            let values = numbers(&counts, "plot::bar: counts")?;
            finite(&values, "plot::bar: counts")?;
            let labels = strings(&labels, "plot::bar: labels")?;
            if values.is_empty() || values.len() != labels.len() {
                return Err(Error::invalid(format!(
                    "plot::bar: {} counts and {} labels; give one label per count (at least one)",
                    values.len(),
                    labels.len()
                )));
            }
            let color = match opts.usizes("color")?.as_slice() {
                [r, g, b] => (*r as u8, *g as u8, *b as u8),
                _ => (49, 104, 142),
            };
            let path = opts.text("path")?;
            let size = size_option(
                &opts,
                (800, (80 + 28 * values.len() as u32).clamp(300, 2400)),
            )?;
            let intervals = match opts.raw("intervals")? {
                Some(v) => Some(super::intervals(v, values.len())?),
                None => None,
            };
            let figure = crate::plot::Bars {
                values,
                labels,
                title: opts.text("title")?,
                color,
                intervals,
            };
            crate::plot::save(&figure, std::path::Path::new(&path), size)?;
            Ok(path)
        })
    }

    /// Lines over a numeric x axis: `series` maps a name to its y values, one
    /// per `x`. Returns the path.
    ///
    /// Arguments: `x` — numbers; `series` — name -> array of numbers;
    /// `options` (below).
    ///
    /// Errors: a series of another length than `x`; no series; a bad option or path.
    ///
    /// ```rhai
    /// let path = plot::line([1990, 2000, 2010], #{ Drama: [0.5, 0.45, 0.4], War: [0.05, 0.03, 0.02] },
    ///                       #{ path: data::temp_path("share.svg"), y_label: "share of movies" });
    /// assert(path.ends_with("share.svg"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn line(ctx: NativeCallContext, x: Array, series: Map, options: Map) -> RhaiResult<String> {
        located(&ctx, || {
            let opts = super::LINE.parse(options)?;
            let xs = numbers(&x, "plot::line: x")?;
            finite(&xs, "plot::line: x")?;
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
                finite(&ys, &format!("plot::line: series '{name}'"))?;
                if ys.len() != xs.len() {
                    return Err(Error::invalid(format!(
                        "plot::line: series '{name}' has {} values for {} x values",
                        ys.len(),
                        xs.len()
                    )));
                }
                lines.push((name.to_string(), xs.iter().copied().zip(ys).collect()));
            }
            let path = opts.text("path")?;
            let size = size_option(&opts, (900, 560))?;
            let figure = crate::plot::Lines {
                series: lines,
                title: opts.text("title")?,
                x_label: opts.text("x_label")?,
                y_label: opts.text("y_label")?,
            };
            crate::plot::save(&figure, std::path::Path::new(&path), size)?;
            Ok(path)
        })
    }
}
