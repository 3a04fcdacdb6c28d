//! Line plots: mean against x with a shaded ±1 std band per [`Series`], optionally
//! constant references drawn across the whole plot ([`Baseline`]), a legend placed in the
//! emptiest corner, axis labels and a title.

use std::ops::Range;
use std::path::Path;

use anyhow::bail;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{FONT, plot_err};
use crate::{ensure_font, with_atomic_path};

/// A curve: `(x, mean, std)` points, drawn in the given order (sort by x first).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64, f64)>,
}

/// A constant reference drawn across the whole x range of a plot: a dashed line at `mean`
/// with a lighter ±1 `std` band (e.g. the test error of a model that has no x, drawn
/// against the curves of the models that do).
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub name: String,
    pub mean: f64,
    pub std: f64,
}

/// Size of every line plot, in pixels.
const LINE_PLOT_SIZE: (u32, u32) = (900, 600);

/// Tableau 10: distinct, colour-blind friendly, good on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Tick label: integers without decimals, others with as few as needed.
fn fmt_tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v.round())
    } else if (v * 10.0 - (v * 10.0).round()).abs() < 1e-9 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Line plot of mean against x with a shaded ±1 std band per series, a legend,
/// axis labels and a title; `y_range` fixes the y axis (e.g. `0.0..100.0`).
/// Bands are clipped to `y_range`. Non-finite points are skipped. A series with a
/// single point is drawn as a marker with a ±1 std error bar. Colours cycle through
/// ten; from the eleventh series on, lines are dashed so that no two look alike.
/// Written atomically.
pub fn line_plot_with_bands(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    y_range: Range<f64>,
    series: &[Series],
) -> anyhow::Result<()> {
    line_plot_with_baselines(path, title, x_label, y_label, y_range, series, &[])
}

/// [`line_plot_with_bands`], plus one dashed horizontal line per [`Baseline`] across the
/// whole x range, with a lighter ±1 std band, coloured after the series and named in the
/// legend after them. A baseline with a non-finite mean is skipped (a non-finite std
/// draws no band). Written atomically.
pub fn line_plot_with_baselines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    y_range: Range<f64>,
    series: &[Series],
    baselines: &[Baseline],
) -> anyhow::Result<()> {
    if !(y_range.start.is_finite() && y_range.end.is_finite() && y_range.start < y_range.end) {
        bail!("line plot {}: bad y range {y_range:?}", path.display());
    }
    ensure_font();
    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(tmp, LINE_PLOT_SIZE).into_drawing_area();
        draw_lines(&root, title, (x_label, y_label), y_range, series, baselines)?;
        root.present().map_err(plot_err)?;
        Ok(())
    })
}

/// The plot drawn into memory, `LINE_PLOT_SIZE` RGB bytes row-major (for the tests).
#[cfg(test)]
pub(crate) fn render_lines(
    y_range: Range<f64>,
    series: &[Series],
    baselines: &[Baseline],
) -> anyhow::Result<Vec<u8>> {
    ensure_font();
    let (w, h) = LINE_PLOT_SIZE;
    let mut rgb = vec![0u8; 3 * (w * h) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, LINE_PLOT_SIZE).into_drawing_area();
        draw_lines(&root, "t", ("x", "y"), y_range, series, baselines)?;
        root.present().map_err(plot_err)?;
    }
    Ok(rgb)
}

fn finite_points(s: &Series) -> Vec<(f64, f64, f64)> {
    s.points
        .iter()
        .copied()
        .filter(|(x, m, sd)| x.is_finite() && m.is_finite() && sd.is_finite())
        .collect()
}

/// The colour of the `i`-th line (series first, then baselines), and whether it is
/// dashed: past the palette, lines are dashed so the repeated colours stay apart.
fn line_style(i: usize) -> (RGBColor, bool) {
    (PALETTE[i % PALETTE.len()], i >= PALETTE.len())
}

/// Dash length and gap of dashed lines, in pixels.
const DASH: (u32, u32) = (9, 6);

fn draw_lines(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    title: &str,
    (x_label, y_label): (&str, &str),
    y_range: Range<f64>,
    series: &[Series],
    baselines: &[Baseline],
) -> anyhow::Result<()> {
    root.fill(&WHITE).map_err(plot_err)?;
    let curves: Vec<Vec<(f64, f64, f64)>> = series.iter().map(finite_points).collect();
    let levels: Vec<&Baseline> = baselines.iter().filter(|b| b.mean.is_finite()).collect();

    let (mut x0, mut x1) = curves
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
    if !(x0.is_finite() && x1.is_finite()) {
        (x0, x1) = (0.0, 1.0);
    }
    let span = x1 - x0;
    let pad = if span > 0.0 { span * 0.03 } else { 1.0 };
    let x_range = (x0 - pad)..(x1 + pad);
    let (y_lo, y_hi) = (y_range.start, y_range.end);
    let clamp_y = |v: f64| v.clamp(y_lo, y_hi);

    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 24).into_font())
        .margin(18)
        .x_label_area_size(56)
        .y_label_area_size(72)
        .build_cartesian_2d(x_range.clone(), y_range.clone())
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .axis_desc_style((FONT, 19))
        .label_style((FONT, 15))
        .bold_line_style(RGBColor(218, 218, 218))
        .light_line_style(WHITE)
        .axis_style(RGBColor(90, 90, 90))
        // One x for every point (e.g. one canvas size): ticks at x − 1, x and x + 1, not
        // at fractions between them.
        .x_labels(if span > 0.0 { 12 } else { 3 })
        .y_labels(11)
        .x_label_formatter(&|x| fmt_tick(*x))
        .y_label_formatter(&|y| fmt_tick(*y))
        .draw()
        .map_err(plot_err)?;

    // Bands first, so every line is drawn on top of every band.
    for (j, b) in levels.iter().enumerate() {
        let (color, _) = line_style(series.len() + j);
        if b.std.is_finite() && b.std > 0.0 {
            let corners = [
                (x_range.start, clamp_y(b.mean - b.std)),
                (x_range.end, clamp_y(b.mean + b.std)),
            ];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    corners,
                    color.mix(0.10).filled(),
                )))
                .map_err(plot_err)?;
        }
    }
    for (i, pts) in curves.iter().enumerate() {
        let (color, _) = line_style(i);
        if pts.len() >= 2 {
            let mut poly: Vec<(f64, f64)> =
                pts.iter().map(|&(x, m, s)| (x, clamp_y(m + s))).collect();
            poly.extend(pts.iter().rev().map(|&(x, m, s)| (x, clamp_y(m - s))));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    color.mix(0.16).filled(),
                )))
                .map_err(plot_err)?;
        }
    }
    for (i, (pts, s)) in curves.iter().zip(series).enumerate() {
        let (color, dashed) = line_style(i);
        let line: Vec<(f64, f64)> = pts.iter().map(|&(x, m, _)| (x, clamp_y(m))).collect();
        let drawn = if dashed {
            chart
                .draw_series(DashedLineSeries::new(
                    line.clone(),
                    DASH.0,
                    DASH.1,
                    color.stroke_width(2),
                ))
                .map_err(plot_err)?;
            chart.draw_series(line.iter().map(|&p| Circle::new(p, 3, color.filled())))
        } else {
            chart.draw_series(LineSeries::new(line, color.stroke_width(2)).point_size(3))
        };
        let entry = drawn.map_err(plot_err)?.label(s.name.as_str());
        if dashed {
            entry.legend(move |(x, y)| dashed_legend_line((x, y), color));
        } else {
            entry.legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
            });
        }
        if pts.len() == 1 {
            // A lone point gets a ±1 std error bar (no band can be drawn).
            let (x, m, sd) = pts[0];
            let (lo, hi) = (clamp_y(m - sd), clamp_y(m + sd));
            let cap = (x_range.end - x_range.start) * 0.006;
            let bar = [
                vec![(x, lo), (x, hi)],
                vec![(x - cap, lo), (x + cap, lo)],
                vec![(x - cap, hi), (x + cap, hi)],
            ];
            chart
                .draw_series(
                    bar.into_iter()
                        .map(|p| PathElement::new(p, color.stroke_width(2))),
                )
                .map_err(plot_err)?;
        }
    }

    for (j, b) in levels.iter().enumerate() {
        let (color, _) = line_style(series.len() + j);
        let m = clamp_y(b.mean);
        chart
            .draw_series(DashedLineSeries::new(
                [(x_range.start, m), (x_range.end, m)],
                DASH.0,
                DASH.1,
                color.stroke_width(2),
            ))
            .map_err(plot_err)?
            .label(b.name.as_str())
            .legend(move |(x, y)| dashed_legend_line((x, y), color));
    }

    if !(series.is_empty() && levels.is_empty()) {
        // The baselines' lines and band edges count as curves spanning the plot.
        let mut names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        names.extend(levels.iter().map(|b| b.name.as_str()));
        let mut all_curves = curves.clone();
        all_curves.extend(levels.iter().map(|b| {
            let sd = if b.std.is_finite() { b.std } else { 0.0 };
            vec![(x_range.start, b.mean, sd), (x_range.end, b.mean, sd)]
        }));
        let plot_px = chart.plotting_area().dim_in_pixel();
        let position = pick_legend_corner(&names, &all_curves, &x_range, &y_range, plot_px);
        chart
            .configure_series_labels()
            .position(position)
            .margin(12)
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.92))
            .border_style(RGBColor(150, 150, 150))
            .draw()
            .map_err(plot_err)?;
    }
    Ok(())
}

/// A dashed legend entry, for the dashed lines.
fn dashed_legend_line(
    (x, y): (i32, i32),
    color: RGBColor,
) -> DashedPathElement<std::vec::IntoIter<(i32, i32)>, u32> {
    DashedPathElement::new(vec![(x, y), (x + 22, y)], 5, 3, color.stroke_width(3))
}

/// Chooses the corner whose legend box (one entry per name) would cover the fewest
/// curve samples (means and band edges), preferring upper right, lower left, lower
/// right, upper left.
fn pick_legend_corner(
    names: &[&str],
    curves: &[Vec<(f64, f64, f64)>],
    x_range: &Range<f64>,
    y_range: &Range<f64>,
    plot_px: (u32, u32),
) -> SeriesLabelPosition {
    let (pw, ph) = (plot_px.0.max(1) as f64, plot_px.1.max(1) as f64);
    let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(0) as f64;
    // Rough legend box in pixels (15 px font: ~9 px per char, ~22 px per entry) + margin.
    let (lw, lh) = (longest * 9.0 + 60.0, names.len() as f64 * 22.0 + 30.0);
    let (fw, fh) = ((lw / pw).min(1.0), (lh / ph).min(1.0));
    let nx = |x: f64| (x - x_range.start) / (x_range.end - x_range.start);
    let ny = |y: f64| (y - y_range.start) / (y_range.end - y_range.start);

    let mut samples: Vec<(f64, f64)> = Vec::new();
    for pts in curves {
        for k in 0..3 {
            let sign = [0.0, 1.0, -1.0][k];
            let line: Vec<(f64, f64)> = pts
                .iter()
                .map(|&(x, m, s)| (nx(x), ny(m + sign * s)))
                .collect();
            if line.len() == 1 {
                samples.push(line[0]);
            }
            for w in line.windows(2) {
                for t in 0..=16 {
                    let t = t as f64 / 16.0;
                    samples.push((
                        w[0].0 + (w[1].0 - w[0].0) * t,
                        w[0].1 + (w[1].1 - w[0].1) * t,
                    ));
                }
            }
        }
    }
    let corners = [
        (
            SeriesLabelPosition::UpperRight,
            1.0 - fw,
            1.0,
            1.0 - fh,
            1.0,
        ),
        (SeriesLabelPosition::LowerLeft, 0.0, fw, 0.0, fh),
        (SeriesLabelPosition::LowerRight, 1.0 - fw, 1.0, 0.0, fh),
        (SeriesLabelPosition::UpperLeft, 0.0, fw, 1.0 - fh, 1.0),
    ];
    let mut best = (usize::MAX, 0usize);
    for (i, &(_, xa, xb, ya, yb)) in corners.iter().enumerate() {
        let count = samples
            .iter()
            .filter(|&&(x, y)| x >= xa && x <= xb && y >= ya && y <= yb)
            .count();
        if count < best.0 {
            best = (count, i);
        }
    }
    match best.1 {
        0 => SeriesLabelPosition::UpperRight,
        1 => SeriesLabelPosition::LowerLeft,
        2 => SeriesLabelPosition::LowerRight,
        _ => SeriesLabelPosition::UpperLeft,
    }
}

#[cfg(test)]
mod tests;
