//! The charts as scripts ask for them (`plot::heatmap`, `plot::bar`,
//! `plot::line`): declared options, the inputs checked and named, sizes
//! fitted to the labels, then drawn by the figures of [`crate::plot`].

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::matrix::{Matrix, check_finite_values};
use crate::options::{FromValue, Value};
use crate::plot::{Bars, Heatmap, Lines, colormap, save};

crate::options! {
    /// `plot::heatmap`.
    pub struct HeatmapOptions for "plot::heatmap" {
        /// the .png or .svg file to write
        path: Option<String> = None => Text; shown "none: shown in a notebook or a --report only",
        /// the title above the plot
        title: String = String::new() => Text,
        /// names of both axes of a square matrix
        labels: Option<Vec<String>> = None => Texts; shown "the matrix's names",
        /// names of the rows
        row_labels: Option<Vec<String>> = None => Texts; shown "the matrix's row names",
        /// names of the columns
        col_labels: Option<Vec<String>> = None => Texts; shown "the matrix's column names",
        /// the colour scale
        colormap: String = "viridis".into() => Choice(crate::plot::COLORMAPS),
        /// print each cell's value
        annotate: bool = false => Bool,
        /// colour by ln(1 + value)
        log_scale: bool = false => Bool,
        /// sizes of diagonal blocks to outline, e.g. cc.block_sizes()
        blocks: Vec<usize> = Vec::new() => Ints(POSITIVE_INT); shown "none",
        /// [width, height] in pixels
        size: Option<[u32; 2]> = None => Tuple(2, Bounds::within(16.0, 16384.0)); shown "fitted to the labels",
    }
}

/// `[[low, high], …]`.
fn pairs(v: &Value) -> std::result::Result<(), String> {
    let ok = v.list().is_some_and(|a| {
        a.iter().all(|p| {
            p.list()
                .is_some_and(|p| p.len() == 2 && p.iter().all(|x| x.number().is_some()))
        })
    });
    if ok { Ok(()) } else { Err(String::new()) }
}

crate::options! {
    /// `plot::bar`.
    pub struct BarOptions for "plot::bar" {
        /// the .png or .svg file to write
        path: Option<String> = None => Text; shown "none: shown in a notebook or a --report only",
        /// the title above the plot
        title: String = String::new() => Text,
        /// [width, height] in pixels
        size: Option<[u32; 2]> = None => Tuple(2, Bounds::within(16.0, 16384.0)); shown "fitted to the labels",
        /// [r, g, b] of the bars
        color: [u8; 3] = [49, 104, 142] => Tuple(3, Bounds::within(0.0, 255.0)),
        /// a whisker per bar from low to high (a bootstrap interval, say)
        intervals: Option<Vec<[f64; 2]>> = None => Custom {
            expected: "an array of [low, high] pairs, one per bar",
            check: pairs,
        },
    }
}

crate::options! {
    /// `plot::line`.
    pub struct LineOptions for "plot::line" {
        /// the .png or .svg file to write
        path: Option<String> = None => Text; shown "none: shown in a notebook or a --report only",
        /// the title above the plot
        title: String = String::new() => Text,
        /// the x axis' label
        x_label: String = String::new() => Text,
        /// the y axis' label
        y_label: String = String::new() => Text,
        /// [width, height] in pixels
        size: Option<[u32; 2]> = None => Tuple(2, Bounds::within(16.0, 16384.0)); shown "fitted to the labels",
    }
}

/// `names`, or "0", "1", … when there are none.
pub fn names_or_numbers(names: Option<&[String]>, n: usize) -> Vec<String> {
    names.map_or_else(
        || (0..n).map(|i| i.to_string()).collect(),
        <[String]>::to_vec,
    )
}

/// Where `function` draws: `path`, or nowhere but the notebook or report
/// listening; with neither the figure would be lost, so that is an error.
fn destination<'a>(path: &'a Option<String>, function: &str) -> Result<Option<&'a Path>> {
    if path.is_none() && !crate::record::is_collecting() {
        return Err(Error::invalid(format!(
            "{function}: option 'path' is missing: give a file name ending in .png or .svg \
             (only a notebook or a run with --report shows a figure without one)"
        )));
    }
    Ok(path.as_deref().map(Path::new))
}

fn size_or(size: Option<[u32; 2]>, default: (u32, u32)) -> (u32, u32) {
    size.map_or(default, |[w, h]| (w, h))
}

/// Draws `matrix` as a heatmap into `o.path`; returns the path.
pub fn heatmap(matrix: &Matrix, o: &HeatmapOptions) -> Result<String> {
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
    let (row_labels, col_labels) = match &o.labels {
        Some(both) => {
            if r != c {
                return Err(Error::invalid(format!(
                    "plot::heatmap: 'labels' names both axes, but the matrix is not square ({r} × {c}); use row_labels and col_labels"
                )));
            }
            (
                check(both.clone(), r, "row")?,
                check(both.clone(), c, "column")?,
            )
        }
        None => (
            check(
                o.row_labels.clone().unwrap_or_else(|| {
                    names_or_numbers(
                        matrix.row_names().or(matrix.col_names().filter(|_| r == c)),
                        r,
                    )
                }),
                r,
                "row",
            )?,
            check(
                o.col_labels
                    .clone()
                    .unwrap_or_else(|| names_or_numbers(matrix.col_names(), c)),
                c,
                "column",
            )?,
        ),
    };
    let values = matrix.values().mapv(f64::from);
    let figure = Heatmap {
        values: &values,
        row_labels,
        col_labels,
        title: o.title.clone(),
        colormap: colormap(&o.colormap)?,
        annotate: o.annotate,
        log_scale: o.log_scale,
        blocks: o.blocks.clone(),
    };
    // Room for the labels plus about 40 × 34 pixels a cell.
    let default = (
        (260 + 40 * c as u32).clamp(400, 2400),
        (220 + 34 * r as u32).clamp(300, 2400),
    );
    save(
        &figure,
        destination(&o.path, "plot::heatmap")?,
        size_or(o.size, default),
    )
}

/// One bar per value, labelled; returns the path.
pub fn bar(values: Vec<f64>, labels: Vec<String>, o: &BarOptions) -> Result<String> {
    check_finite_values(&values, "plot::bar: counts")?;
    if values.is_empty() || values.len() != labels.len() {
        return Err(Error::invalid(format!(
            "plot::bar: {} counts and {} labels; give one label per count (at least one)",
            values.len(),
            labels.len()
        )));
    }
    let intervals = o
        .intervals
        .as_ref()
        .map(|p| intervals(p, values.len()))
        .transpose()?;
    let size = size_or(
        o.size,
        (800, (80 + 28 * values.len() as u32).clamp(300, 2400)),
    );
    let figure = Bars {
        values,
        labels,
        title: o.title.clone(),
        color: (o.color[0], o.color[1], o.color[2]),
        intervals,
    };
    save(&figure, destination(&o.path, "plot::bar")?, size)
}

fn intervals(pairs: &[[f64; 2]], bars: usize) -> Result<Vec<(f64, f64)>> {
    if pairs.len() != bars {
        return Err(Error::invalid(format!(
            "plot::bar: {} intervals for {bars} bars; give one [low, high] per bar",
            pairs.len()
        )));
    }
    pairs
        .iter()
        .enumerate()
        .map(|(i, [low, high])| {
            check_finite_values(&[*low, *high], &format!("plot::bar: interval {i}"))?;
            if low > high {
                return Err(Error::invalid(format!(
                    "plot::bar: interval {i} is [{low}, {high}]; low must not exceed high"
                )));
            }
            Ok((*low, *high))
        })
        .collect()
}

/// One line per series over `xs`; returns the path.
pub fn line(xs: &[f64], series: &BTreeMap<String, Value>, o: &LineOptions) -> Result<String> {
    check_finite_values(xs, "plot::line: x")?;
    if series.is_empty() {
        return Err(Error::invalid("plot::line: no series to draw"));
    }
    let mut lines = Vec::new();
    for (name, ys) in series {
        let what = format!("plot::line: series '{name}'");
        let ys = Vec::<f64>::from_value(ys).ok_or_else(|| {
            Error::invalid(format!("{what} is {ys}, expected an array of numbers"))
        })?;
        check_finite_values(&ys, &what)?;
        if ys.len() != xs.len() {
            return Err(Error::invalid(format!(
                "{what} has {} values for {} x values",
                ys.len(),
                xs.len()
            )));
        }
        lines.push((name.clone(), xs.iter().copied().zip(ys).collect()));
    }
    let figure = Lines {
        series: lines,
        title: o.title.clone(),
        x_label: o.x_label.clone(),
        y_label: o.y_label.clone(),
    };
    save(
        &figure,
        destination(&o.path, "plot::line")?,
        size_or(o.size, (900, 560)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name).to_string_lossy().into_owned();
        (dir, p)
    }

    #[test]
    fn bar_inputs_are_checked_before_drawing() {
        let (_dir, p) = path("b.png");
        let o = BarOptions {
            path: Some(p),
            ..BarOptions::default()
        };
        let e = bar(vec![1.0, 2.0], vec!["a".into()], &o)
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 counts and 1 labels"), "{e}");
        let e = bar(vec![f64::NAN], vec!["a".into()], &o)
            .unwrap_err()
            .to_string();
        assert!(e.contains("plot::bar: counts: element 0 is NaN"), "{e}");
        let bad = BarOptions {
            intervals: Some(vec![[2.0, 1.0]]),
            ..o.clone()
        };
        let e = bar(vec![1.5], vec!["a".into()], &bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("interval 0 is [2, 1]; low must not exceed high"),
            "{e}"
        );
        let few = BarOptions {
            intervals: Some(vec![]),
            ..o.clone()
        };
        assert!(bar(vec![1.5], vec!["a".into()], &few).is_err());
        assert!(bar(vec![1.5], vec!["a".into()], &o).is_ok());
    }

    #[test]
    fn line_series_are_numbers_of_the_x_length() {
        let (_dir, p) = path("l.svg");
        let o = LineOptions {
            path: Some(p),
            ..LineOptions::default()
        };
        let mut series = BTreeMap::new();
        series.insert("f1".to_string(), Value::List(vec![Value::Float(0.5)]));
        let e = line(&[1.0, 2.0], &series, &o).unwrap_err().to_string();
        assert_eq!(e, "plot::line: series 'f1' has 1 values for 2 x values");
        series.insert("f1".to_string(), Value::Text("x".into()));
        let e = line(&[1.0], &series, &o).unwrap_err().to_string();
        assert!(
            e.contains("series 'f1' is \"x\", expected an array of numbers"),
            "{e}"
        );
        assert!(line(&[1.0], &BTreeMap::new(), &o).is_err());
    }

    #[test]
    fn heatmap_labels_must_fit_the_matrix() {
        let (_dir, p) = path("h.png");
        let m = Matrix::new(ndarray::array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let o = HeatmapOptions {
            path: Some(p),
            labels: Some(vec!["a".into(), "b".into()]),
            ..HeatmapOptions::default()
        };
        let e = heatmap(&m, &o).unwrap_err().to_string();
        assert!(e.contains("not square (2 × 3)"), "{e}");
        let o = HeatmapOptions {
            labels: None,
            row_labels: Some(vec!["a".into()]),
            ..o
        };
        let e = heatmap(&m, &o).unwrap_err().to_string();
        assert_eq!(e, "plot::heatmap: 1 row labels for 2 rows");
    }
}
