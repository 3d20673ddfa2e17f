//! Figures written with plotters: a labelled heatmap with a colour bar,
//! horizontal bar charts and line charts, as PNG or SVG by the file's
//! extension. The DejaVu Sans font is compiled in, so nothing depends on the
//! system's fonts.

pub mod charts;

use std::path::Path;
use std::sync::Once;

use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::io_util::extension;

const FONT: &str = "sans-serif";
static FONT_ONCE: Once = Once::new();

fn register_font() {
    FONT_ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the dejavu crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// Colour maps as anchor colours, interpolated linearly (matplotlib's values).
/// The names [`colormap`] knows.
pub const COLORMAPS: &[&str] = &["viridis", "blues", "magma", "greys"];

pub fn colormap(name: &str) -> Result<&'static [(u8, u8, u8)]> {
    const VIRIDIS: &[(u8, u8, u8)] = &[
        (68, 1, 84),
        (72, 40, 120),
        (62, 74, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (181, 222, 43),
        (253, 231, 37),
    ];
    const BLUES: &[(u8, u8, u8)] = &[
        (247, 251, 255),
        (222, 235, 247),
        (198, 219, 239),
        (158, 202, 225),
        (107, 174, 214),
        (66, 146, 198),
        (33, 113, 181),
        (8, 81, 156),
        (8, 48, 107),
    ];
    const MAGMA: &[(u8, u8, u8)] = &[
        (0, 0, 4),
        (28, 16, 68),
        (79, 18, 123),
        (129, 37, 129),
        (181, 54, 122),
        (229, 80, 100),
        (251, 135, 97),
        (254, 194, 135),
        (252, 253, 191),
    ];
    const GREYS: &[(u8, u8, u8)] = &[(255, 255, 255), (0, 0, 0)];
    match name {
        "viridis" => Ok(VIRIDIS),
        "blues" => Ok(BLUES),
        "magma" => Ok(MAGMA),
        "greys" => Ok(GREYS),
        other => Err(Error::invalid(format!(
            "unknown colormap '{other}'; use viridis, blues, magma or greys"
        ))),
    }
}

fn color_at(map: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (map.len() - 1) as f64;
    let i = (pos.floor() as usize).min(map.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (map[i], map[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Something that can draw itself on any plotters backend.
pub trait Figure {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>;
}

fn drawing_error<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Draws `figure` into `path` (`.png` or `.svg`), through a temporary file
/// renamed into place, so a failed draw leaves no half-written image; then
/// hands it to the report or notebook, if one is listening. Without a path
/// the figure is drawn for the notebook or the report alone (an error
/// elsewhere, where it would be lost). Returns the path, or "" without one.
pub fn save(figure: &impl Figure, path: Option<&Path>, size: (u32, u32)) -> Result<String> {
    register_font();
    if size.0 < 100 || size.1 < 100 || size.0 > 10_000 || size.1 > 10_000 {
        return Err(Error::invalid(format!(
            "figure size {} × {} is out of range (100 to 10000 pixels each way)",
            size.0, size.1
        )));
    }
    let Some(path) = path else {
        if !crate::record::is_collecting() {
            return Err(Error::invalid(
                "no path: give the figure a file name ending in .png or .svg \
                 (only a notebook or a run with --report shows a figure without one)",
            ));
        }
        crate::record::figure(None, |format| render(figure, format, size))?;
        return Ok(String::new());
    };
    let ext = extension(path, &["png", "svg"])?;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(Error::file(
            path,
            format!("cannot write: folder '{}' does not exist", folder.display()),
        ));
    }
    let temp = folder.join(format!(
        ".{}.tmp{}.{ext}",
        path.file_stem().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let drawn = if ext == "png" {
        let area = BitMapBackend::new(&temp, size).into_drawing_area();
        figure
            .draw(&area)
            .and_then(|()| area.present().map_err(drawing_error))
    } else {
        let area = SVGBackend::new(&temp, size).into_drawing_area();
        figure
            .draw(&area)
            .and_then(|()| area.present().map_err(drawing_error))
    };
    if let Err(why) = drawn {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::file(path, format!("cannot draw the figure: {why}")));
    }
    std::fs::rename(&temp, path).map_err(|e| Error::io(path, e))?;
    crate::record::figure(Some(path), |format| render(figure, format, size))?;
    Ok(path.display().to_string())
}

/// The figure as PNG bytes or SVG text, without touching the disk.
pub fn render(
    figure: &impl Figure,
    format: crate::record::ImageFormat,
    size: (u32, u32),
) -> std::result::Result<Vec<u8>, String> {
    match format {
        crate::record::ImageFormat::Svg => {
            let mut text = String::new();
            {
                let area = SVGBackend::with_string(&mut text, size).into_drawing_area();
                figure.draw(&area)?;
                area.present().map_err(drawing_error)?;
            }
            Ok(text.into_bytes())
        }
        crate::record::ImageFormat::Png => {
            let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let area = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                figure.draw(&area)?;
                area.present().map_err(drawing_error)?;
            }
            let image = image::RgbImage::from_raw(size.0, size.1, rgb)
                .ok_or("the pixel buffer does not match the size")?;
            let mut png = std::io::Cursor::new(Vec::new());
            image
                .write_to(&mut png, image::ImageFormat::Png)
                .map_err(|e| e.to_string())?;
            Ok(png.into_inner())
        }
    }
}

fn text_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: f64) -> u32 {
    area.estimate_text_size(text, &TextStyle::from((FONT, size).into_font()))
        .map_or(text.len() as u32 * 7, |(w, _)| w)
}

/// A matrix as coloured cells with every row and column labelled.
pub struct Heatmap<'a> {
    pub values: &'a Array2<f64>,
    pub row_labels: Vec<String>,
    pub col_labels: Vec<String>,
    pub title: String,
    pub colormap: &'static [(u8, u8, u8)],
    pub annotate: bool,
    /// Colour by ln(1 + value), for counts spanning orders of magnitude.
    pub log_scale: bool,
    /// Sizes of consecutive diagonal blocks to outline (co-clusters).
    pub blocks: Vec<usize>,
}

fn format_cell(v: f64) -> String {
    // Whole numbers and large values without decimals, small fractions with two.
    if (v == v.trunc() && v.abs() < 1e6) || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

impl Figure for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        area.fill(&WHITE).map_err(drawing_error)?;
        let (width, height) = area.dim_in_pixel();
        let (rows, cols) = self.values.dim();
        let label_size = 13.0;
        let left = self
            .row_labels
            .iter()
            .map(|l| text_width(area, l, label_size))
            .max()
            .unwrap_or(0)
            + 12;
        let bottom = self
            .col_labels
            .iter()
            .map(|l| text_width(area, l, label_size))
            .max()
            .unwrap_or(0)
            + 12;
        let top = if self.title.is_empty() { 12 } else { 44 };
        let right = 100;
        let grid_w = width.saturating_sub(left + right).max(cols as u32);
        let grid_h = height.saturating_sub(top + bottom).max(rows as u32);
        let cw = grid_w as f64 / cols as f64;
        let ch = grid_h as f64 / rows as f64;
        let shade = |v: f64| {
            if self.log_scale {
                v.max(0.0).ln_1p()
            } else {
                v
            }
        };
        let (lo, hi) = self
            .values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(shade(v)), b.max(shade(v)))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let at = |x: f64, y: f64| {
            (
                left as i32 + x.round() as i32,
                top as i32 + y.round() as i32,
            )
        };
        if !self.title.is_empty() {
            let style =
                TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
            area.draw_text(&self.title, &style, ((width / 2) as i32, 22))
                .map_err(drawing_error)?;
        }
        let cell_font = (ch.min(cw) * 0.35).clamp(7.0, 14.0);
        for i in 0..rows {
            for j in 0..cols {
                let v = self.values[[i, j]];
                let t = (shade(v) - lo) / span;
                let color = color_at(self.colormap, t);
                let rect = Rectangle::new(
                    [
                        at(j as f64 * cw, i as f64 * ch),
                        at((j + 1) as f64 * cw, (i + 1) as f64 * ch),
                    ],
                    color.filled(),
                );
                area.draw(&rect).map_err(drawing_error)?;
                if self.annotate {
                    let luminance = 0.299 * f64::from(color.0)
                        + 0.587 * f64::from(color.1)
                        + 0.114 * f64::from(color.2);
                    let ink = if luminance < 128.0 { WHITE } else { BLACK };
                    let style = TextStyle::from((FONT, cell_font).into_font())
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    area.draw_text(
                        &format_cell(v),
                        &style,
                        at((j as f64 + 0.5) * cw, (i as f64 + 0.5) * ch),
                    )
                    .map_err(drawing_error)?;
                }
            }
        }
        let mut start = 0usize;
        for &size in &self.blocks {
            let end = (start + size).min(rows.min(cols));
            let outline = Rectangle::new(
                [
                    at(start as f64 * cw, start as f64 * ch),
                    at(end as f64 * cw, end as f64 * ch),
                ],
                WHITE.stroke_width(3),
            );
            area.draw(&outline).map_err(drawing_error)?;
            start = end;
        }
        let row_style = TextStyle::from((FONT, label_size).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, label) in self.row_labels.iter().enumerate() {
            let (_, y) = at(0.0, (i as f64 + 0.5) * ch);
            area.draw_text(label, &row_style, (left as i32 - 6, y))
                .map_err(drawing_error)?;
        }
        // Column labels read downwards, starting just below the grid.
        let col_style = TextStyle::from((FONT, label_size).into_font())
            .transform(FontTransform::Rotate90)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (j, label) in self.col_labels.iter().enumerate() {
            let (x, _) = at((j as f64 + 0.5) * cw, 0.0);
            area.draw_text(label, &col_style, (x, (top + grid_h) as i32 + 6))
                .map_err(drawing_error)?;
        }
        // Colour bar with its range.
        let bar_x = (left + grid_w + 24) as i32;
        let steps = 100;
        for k in 0..steps {
            let y0 = top as f64 + grid_h as f64 * (1.0 - (k + 1) as f64 / steps as f64);
            let y1 = top as f64 + grid_h as f64 * (1.0 - k as f64 / steps as f64);
            let color = color_at(self.colormap, (k as f64 + 0.5) / steps as f64);
            area.draw(&Rectangle::new(
                [(bar_x, y0.floor() as i32), (bar_x + 18, y1.ceil() as i32)],
                color.filled(),
            ))
            .map_err(drawing_error)?;
        }
        area.draw(&Rectangle::new(
            [(bar_x, top as i32), (bar_x + 18, (top + grid_h) as i32)],
            BLACK.stroke_width(1),
        ))
        .map_err(drawing_error)?;
        let tick_style =
            TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        let unshade = |s: f64| if self.log_scale { s.exp_m1() } else { s };
        for (frac, value) in [
            (0.0, unshade(lo)),
            (0.5, unshade(lo + span / 2.0)),
            (1.0, unshade(hi)),
        ] {
            let y = top as f64 + grid_h as f64 * (1.0 - frac);
            area.draw_text(
                &format_cell(value),
                &tick_style,
                (bar_x + 24, y.round() as i32),
            )
            .map_err(drawing_error)?;
        }
        Ok(())
    }
}

/// Horizontal bars, one per label, largest first as given.
pub struct Bars {
    pub values: Vec<f64>,
    pub labels: Vec<String>,
    pub title: String,
    pub color: (u8, u8, u8),
    /// Optional (low, high) per bar, drawn as a whisker (a bootstrap interval, say).
    pub intervals: Option<Vec<(f64, f64)>>,
}

impl Figure for Bars {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        area.fill(&WHITE).map_err(drawing_error)?;
        let (width, height) = area.dim_in_pixel();
        let label_size = 13.0;
        let left = self
            .labels
            .iter()
            .map(|l| text_width(area, l, label_size))
            .max()
            .unwrap_or(0)
            + 12;
        let top = if self.title.is_empty() { 12 } else { 44 };
        let right = 80;
        let plot_w = width.saturating_sub(left + right).max(1) as f64;
        let plot_h = height.saturating_sub(top + 12).max(1) as f64;
        let n = self.values.len().max(1) as f64;
        let step = plot_h / n;
        let highs = self.intervals.iter().flatten().map(|i| i.1);
        let max = self
            .values
            .iter()
            .copied()
            .chain(highs)
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        if !self.title.is_empty() {
            let style =
                TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
            area.draw_text(&self.title, &style, ((width / 2) as i32, 22))
                .map_err(drawing_error)?;
        }
        let color = RGBColor(self.color.0, self.color.1, self.color.2);
        let label_style = TextStyle::from((FONT, label_size).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        let value_style =
            TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        for (k, (label, &v)) in self.labels.iter().zip(&self.values).enumerate() {
            let y0 = top as f64 + k as f64 * step + step * 0.15;
            let y1 = top as f64 + (k + 1) as f64 * step - step * 0.15;
            let x1 = left as f64 + plot_w * (v.max(0.0) / max);
            area.draw(&Rectangle::new(
                [(left as i32, y0 as i32), (x1.round() as i32, y1 as i32)],
                color.filled(),
            ))
            .map_err(drawing_error)?;
            let mid = ((y0 + y1) / 2.0) as i32;
            area.draw_text(label, &label_style, (left as i32 - 6, mid))
                .map_err(drawing_error)?;
            let mut text_x = x1.round() as i32;
            if let Some(&(lo, hi)) = self.intervals.as_ref().and_then(|i| i.get(k)) {
                let at = |v: f64| (left as f64 + plot_w * (v.max(0.0) / max)).round() as i32;
                let cap = ((y1 - y0) / 4.0).max(2.0) as i32;
                let whisker = BLACK.stroke_width(2);
                for segment in [
                    [(at(lo), mid), (at(hi), mid)],
                    [(at(lo), mid - cap), (at(lo), mid + cap)],
                    [(at(hi), mid - cap), (at(hi), mid + cap)],
                ] {
                    area.draw(&PathElement::new(segment.to_vec(), whisker))
                        .map_err(drawing_error)?;
                }
                text_x = text_x.max(at(hi));
            }
            area.draw_text(&format_cell(v), &value_style, (text_x + 6, mid))
                .map_err(drawing_error)?;
        }
        Ok(())
    }
}

/// One or more named series over a numeric x axis, with a legend.
pub struct Lines {
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
}

impl Figure for Lines {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        area.fill(&WHITE).map_err(drawing_error)?;
        let points = self.series.iter().flat_map(|(_, p)| p.iter());
        let (x0, x1, y1) = points.fold(
            (f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY),
            |(a, b, c), &(x, y)| (a.min(x), b.max(x), c.max(y)),
        );
        let (x0, x1) = if x0 < x1 {
            (x0, x1)
        } else {
            (x0 - 1.0, x0 + 1.0)
        };
        let y1 = if y1 > 0.0 { y1 * 1.1 } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0.0..y1)
            .map_err(drawing_error)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style((FONT, 12))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(drawing_error)?;
        for (k, (name, points)) in self.series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(drawing_error)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(drawing_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn writes_png_and_svg_and_rejects_bad_paths() {
        let dir = tempfile::tempdir().unwrap();
        let values = array![[3.0, 1.0], [1.0, 2.0]];
        let fig = Heatmap {
            values: &values,
            row_labels: vec!["Drama".into(), "Science Fiction".into()],
            col_labels: vec!["Drama".into(), "Science Fiction".into()],
            title: "pairs".into(),
            colormap: colormap("viridis").unwrap(),
            annotate: true,
            log_scale: true,
            blocks: vec![1, 1],
        };
        let png = save(&fig, Some(&dir.path().join("h.png")), (400, 300)).unwrap();
        assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
        let svg = save(&fig, Some(&dir.path().join("h.svg")), (400, 300)).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("Science Fiction"), "labels are in the SVG");
        let msg = save(&fig, Some(&dir.path().join("h.jpg")), (400, 300))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown file extension '.jpg'"), "{msg}");
        let msg = save(&fig, Some(Path::new("/no/such/dir/h.png")), (400, 300))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("does not exist"), "{msg}");
        assert!(colormap("jet").is_err());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp")
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    /// Hears figures as the Jupyter kernel does.
    #[derive(Default)]
    struct Figures(std::cell::RefCell<Vec<(String, Vec<u8>, String)>>);

    impl crate::record::Listener for Figures {
        fn text(&self, _: &str) {}
        fn stderr(&self, _: &str) {}
        fn table(&self, _: &crate::record::Table, _: &str) {}
        fn figure(&self, caption: &str, png: &[u8], svg: &str) {
            self.0
                .borrow_mut()
                .push((caption.to_string(), png.to_vec(), svg.to_string()));
        }
        fn warning(&self, _: &str) {}
    }

    #[test]
    fn without_a_path_a_figure_goes_to_the_listener_in_both_formats() {
        let values = array![[3.0, 1.0], [1.0, 2.0]];
        let fig = Heatmap {
            values: &values,
            row_labels: vec!["a".into(), "b".into()],
            col_labels: vec!["a".into(), "b".into()],
            title: String::new(),
            colormap: colormap("blues").unwrap(),
            annotate: false,
            log_scale: false,
            blocks: Vec::new(),
        };
        let msg = save(&fig, None, (300, 200)).unwrap_err().to_string();
        assert!(msg.contains("no path"), "{msg}");
        let heard = std::rc::Rc::new(Figures::default());
        crate::record::listen(Some(heard.clone()));
        let shown = save(&fig, None, (300, 200));
        crate::record::listen(None);
        assert_eq!(shown.unwrap(), "");
        let figures = heard.0.borrow();
        assert_eq!(figures.len(), 1);
        let (caption, png, svg) = &figures[0];
        assert_eq!(caption, "");
        assert!(png.starts_with(b"\x89PNG"));
        let decoded = image::load_from_memory(png).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (300, 200));
        assert!(
            svg.contains("<svg") && svg.contains("width=\"300\""),
            "{svg}"
        );
    }
}
