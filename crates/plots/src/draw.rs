//! The figure kinds: line plots with ±1 std bands, and attention heatmaps (one
//! matrix, or a grid of them sharing one scale).

use std::ops::Range;
use std::path::Path;

use anyhow::{anyhow, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::data::Alignment;
use crate::{ensure_font, with_atomic_path};

/// A curve: `(x, mean, std)` points, drawn in the given order (sort by x first).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64, f64)>,
}

/// Size of every line plot, in pixels.
const LINE_PLOT_SIZE: (u32, u32) = (900, 600);
const FONT: &str = "sans-serif";

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

fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

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
/// single point is drawn as a marker with a ±1 std error bar. Written atomically.
pub fn line_plot_with_bands(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    y_range: Range<f64>,
    series: &[Series],
) -> anyhow::Result<()> {
    if !(y_range.start.is_finite() && y_range.end.is_finite() && y_range.start < y_range.end) {
        bail!("line plot {}: bad y range {y_range:?}", path.display());
    }
    ensure_font();
    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(tmp, LINE_PLOT_SIZE).into_drawing_area();
        draw_lines(&root, title, x_label, y_label, y_range, series)?;
        root.present().map_err(plot_err)?;
        Ok(())
    })
}

fn finite_points(s: &Series) -> Vec<(f64, f64, f64)> {
    s.points
        .iter()
        .copied()
        .filter(|(x, m, sd)| x.is_finite() && m.is_finite() && sd.is_finite())
        .collect()
}

fn draw_lines(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    y_range: Range<f64>,
    series: &[Series],
) -> anyhow::Result<()> {
    root.fill(&WHITE).map_err(plot_err)?;
    let curves: Vec<Vec<(f64, f64, f64)>> = series.iter().map(finite_points).collect();

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
        .x_labels(12)
        .y_labels(11)
        .x_label_formatter(&|x| fmt_tick(*x))
        .y_label_formatter(&|y| fmt_tick(*y))
        .draw()
        .map_err(plot_err)?;

    // Bands first, so every line is drawn on top of every band.
    for (i, pts) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
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
        let color = PALETTE[i % PALETTE.len()];
        let line = pts.iter().map(|&(x, m, _)| (x, clamp_y(m)));
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(2)).point_size(3))
            .map_err(plot_err)?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
            });
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

    if !series.is_empty() {
        let plot_px = chart.plotting_area().dim_in_pixel();
        let position = pick_legend_corner(series, &curves, &x_range, &y_range, plot_px);
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

/// Chooses the corner whose legend box would cover the fewest curve samples
/// (means and band edges), preferring upper right, lower left, lower right, upper left.
fn pick_legend_corner(
    series: &[Series],
    curves: &[Vec<(f64, f64, f64)>],
    x_range: &Range<f64>,
    y_range: &Range<f64>,
    plot_px: (u32, u32),
) -> SeriesLabelPosition {
    let (pw, ph) = (plot_px.0.max(1) as f64, plot_px.1.max(1) as f64);
    let longest = series
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0) as f64;
    // Rough legend box in pixels (15 px font: ~9 px per char, ~22 px per entry) + margin.
    let (lw, lh) = (longest * 9.0 + 60.0, series.len() as f64 * 22.0 + 30.0);
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

/// Shortens a very long token label for display.
fn display_token(t: &str) -> String {
    const MAX: usize = 24;
    let t = if t.is_empty() { "\u{2423}" } else { t };
    if t.chars().count() > MAX {
        let mut s: String = t.chars().take(MAX - 1).collect();
        s.push('\u{2026}');
        s
    } else {
        t.to_string()
    }
}

/// Checks that `weights` is a non-empty `[tgt][src]` matrix; `what` prefixes errors.
fn check_matrix(
    what: &str,
    src_tokens: &[String],
    tgt_tokens: &[String],
    weights: &[Vec<f32>],
) -> anyhow::Result<()> {
    let (ns, nt) = (src_tokens.len(), tgt_tokens.len());
    if ns == 0 || nt == 0 {
        bail!("{what}: need at least one source and one target token (got {ns} and {nt})");
    }
    if weights.len() != nt {
        bail!(
            "{what}: {} weight rows for {nt} target tokens",
            weights.len()
        );
    }
    if let Some((i, row)) = weights.iter().enumerate().find(|(_, r)| r.len() != ns) {
        bail!(
            "{what}: weight row {i} has {} entries for {ns} source tokens",
            row.len()
        );
    }
    Ok(())
}

fn text_width(s: &str, font: &FontDesc<'_>) -> anyhow::Result<i32> {
    Ok(font.box_size(s).map_err(plot_err)?.0 as i32)
}

/// Widest of `labels` in `font`, in pixels (0 for none).
fn max_text_width(labels: &[String], font: &FontDesc<'_>) -> anyhow::Result<i32> {
    let mut w = 0;
    for s in labels {
        w = w.max(text_width(s, font)?);
    }
    Ok(w)
}

/// Grey level of a weight: white = 0, black = 1; values are clamped to [0, 1] and
/// non-finite ones drawn as 0.
fn gray(w: f64) -> RGBColor {
    let w = if w.is_finite() {
        w.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let g = (255.0 * (1.0 - w)).round() as u8;
    RGBColor(g, g, g)
}

/// Where and how big one attention matrix is drawn.
struct MatrixLayout<'a> {
    /// Top-left pixel of the first cell.
    left: i32,
    top: i32,
    cell: i32,
    /// Space between the labels and the matrix.
    gap: i32,
    label_font: &'a FontDesc<'a>,
    label_size: i32,
}

/// Draws the cells, a thin frame, the target labels (right-aligned, left of the
/// rows) and the source labels (vertical, above the columns) of one matrix.
fn draw_matrix(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    at: &MatrixLayout<'_>,
    src_labels: &[String],
    tgt_labels: &[String],
    weights: &[Vec<f32>],
) -> anyhow::Result<()> {
    let (left, top, cell, gap) = (at.left, at.top, at.cell, at.gap);
    for (i, row) in weights.iter().enumerate() {
        for (j, &w) in row.iter().enumerate() {
            let (x, y) = (left + cell * j as i32, top + cell * i as i32);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                gray(w as f64).filled(),
            ))
            .map_err(plot_err)?;
        }
    }
    let (grid_w, grid_h) = (
        cell * src_labels.len() as i32,
        cell * tgt_labels.len() as i32,
    );
    root.draw(&Rectangle::new(
        [(left - 1, top - 1), (left + grid_w, top + grid_h)],
        RGBColor(120, 120, 120).stroke_width(1),
    ))
    .map_err(plot_err)?;

    // The ab_glyph renderer puts the baseline at size/2 below the anchor, so a
    // "centred" label sits a little high: shift it by a quarter of the size.
    let nudge = at.label_size / 4;
    let row_style = at
        .label_font
        .clone()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (i, s) in tgt_labels.iter().enumerate() {
        let y = top + cell * i as i32 + cell / 2 + nudge;
        root.draw(&Text::new(s.clone(), (left - gap, y), row_style.clone()))
            .map_err(plot_err)?;
    }
    let col_style = at
        .label_font
        .clone()
        .transform(FontTransform::Rotate270)
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (j, s) in src_labels.iter().enumerate() {
        let x = left + cell * j as i32 + cell / 2 + nudge;
        root.draw(&Text::new(s.clone(), (x, top - gap), col_style.clone()))
            .map_err(plot_err)?;
    }
    Ok(())
}

/// Width of the colour bar and of the gap on its left, in pixels.
const BAR_W: i32 = 14;
const BAR_GAP: i32 = 24;

/// Pixels the colour bar needs right of `bar_x` (bar, ticks and tick labels).
fn colour_bar_extent(tick_font: &FontDesc<'_>) -> anyhow::Result<i32> {
    Ok(BAR_W + 8 + text_width("0.75", tick_font)?)
}

/// Grayscale colour bar at (`bar_x`, `top`), `bar_h` tall: black (1) at the top,
/// white (0) at the bottom, ticks at 0, 0.5 and 1.
fn draw_colour_bar(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    bar_x: i32,
    top: i32,
    bar_h: i32,
    tick_font: &FontDesc<'_>,
) -> anyhow::Result<()> {
    for py in 0..bar_h {
        let w = 1.0 - py as f64 / (bar_h - 1).max(1) as f64;
        root.draw(&PathElement::new(
            vec![(bar_x, top + py), (bar_x + BAR_W, top + py)],
            gray(w),
        ))
        .map_err(plot_err)?;
    }
    root.draw(&Rectangle::new(
        [(bar_x - 1, top - 1), (bar_x + BAR_W, top + bar_h)],
        RGBColor(120, 120, 120).stroke_width(1),
    ))
    .map_err(plot_err)?;
    let tick_style = tick_font
        .clone()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (v, label) in [(1.0, "1.0"), (0.5, "0.5"), (0.0, "0.0")] {
        let y = top + ((1.0 - v) * (bar_h - 1) as f64).round() as i32;
        root.draw(&PathElement::new(
            vec![(bar_x + BAR_W, y), (bar_x + BAR_W + 4, y)],
            RGBColor(90, 90, 90),
        ))
        .map_err(plot_err)?;
        root.draw(&Text::new(
            label.to_string(),
            (bar_x + BAR_W + 7, y + 13 / 4),
            tick_style.clone(),
        ))
        .map_err(plot_err)?;
    }
    Ok(())
}

/// Draws `text` centred horizontally on `x`, its top at `y`.
fn draw_centred_title(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    text: &str,
    (x, y): (i32, i32),
    font: &FontDesc<'_>,
) -> anyhow::Result<()> {
    root.draw(&Text::new(
        text.to_string(),
        (x, y),
        font.clone()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(plot_err)?;
    Ok(())
}

/// Heatmap of attention weights: rows = target tokens (top to bottom), columns =
/// source tokens (left to right), grayscale with white = 0 and black = 1 (like
/// Bahdanau et al. 2015, Fig. 3). Target tokens label the rows on the left; source
/// tokens label the columns at the top, written vertically so that long sentences
/// stay readable. A grayscale colour bar sits on the right. The image size follows
/// the token counts. `weights` is `[tgt][src]`; values are clamped to [0, 1].
pub fn attention_heatmap(
    path: &Path,
    title: &str,
    src_tokens: &[String],
    tgt_tokens: &[String],
    weights: &[Vec<f32>],
) -> anyhow::Result<()> {
    check_matrix(
        &format!("heatmap {}", path.display()),
        src_tokens,
        tgt_tokens,
        weights,
    )?;
    let (ns, nt) = (src_tokens.len(), tgt_tokens.len());
    ensure_font();

    // Layout, in pixels.
    let cell: i32 = (720 / ns.max(nt) as i32).clamp(12, 34);
    let label_size: i32 = ((cell as f64 * 0.72).round() as i32).clamp(11, 17);
    let title_size = 20;
    let label_font = (FONT, label_size).into_font();
    let src_labels: Vec<String> = src_tokens.iter().map(|t| display_token(t)).collect();
    let tgt_labels: Vec<String> = tgt_tokens.iter().map(|t| display_token(t)).collect();
    let src_w = max_text_width(&src_labels, &label_font)?;
    let tgt_w = max_text_width(&tgt_labels, &label_font)?;
    let title_font = (FONT, title_size).into_font();
    let title_w = text_width(title, &title_font)?;

    let margin = 20;
    let gap = 8; // between labels and the matrix
    let (grid_w, grid_h) = (cell * ns as i32, cell * nt as i32);
    let left = margin + tgt_w + gap;
    let top = margin + title_size + 16 + src_w + gap;
    let bar_x = left + grid_w + BAR_GAP;
    let bar_h = grid_h.clamp(60, 320);
    let tick_font = (FONT, 13).into_font();
    let width = (bar_x + colour_bar_extent(&tick_font)? + margin).max(title_w + 2 * margin);
    let height = top + grid_h.max(bar_h) + margin;

    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(tmp, (width as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_centred_title(&root, title, (width / 2, margin), &title_font)?;
        let at = MatrixLayout {
            left,
            top,
            cell,
            gap,
            label_font: &label_font,
            label_size,
        };
        draw_matrix(&root, &at, &src_labels, &tgt_labels, weights)?;
        draw_colour_bar(&root, bar_x, top, bar_h, &tick_font)?;
        root.present().map_err(plot_err)?;
        Ok(())
    })
}

/// Most panels side by side in [`attention_heatmap_grid`].
const GRID_COLUMNS: usize = 3;

/// Several attention heatmaps (typically every model and seed on the same sentence)
/// in one figure: a grid of at most 3 columns, filled row by row in the order given,
/// each panel titled `<model>-<train_max_len> (seed <seed>)` and drawn like
/// [`attention_heatmap`] (source tokens vertical above the columns, target tokens
/// left of the rows). All panels share one cell size and one grayscale scale
/// (white = 0, black = 1, values clamped), shown by a single colour bar on the right.
/// Panels may differ in their token counts (each model decodes its own target).
/// Errors on an empty `panels` or a malformed matrix (naming the panel). Written atomically.
pub fn attention_heatmap_grid(
    path: &Path,
    title: &str,
    panels: &[Alignment],
) -> anyhow::Result<()> {
    if panels.is_empty() {
        bail!("heatmap grid {}: no panels", path.display());
    }
    let panel_titles: Vec<String> = panels
        .iter()
        .map(|a| format!("{}-{} (seed {})", a.model, a.train_max_len, a.seed))
        .collect();
    for (i, (a, t)) in panels.iter().zip(&panel_titles).enumerate() {
        check_matrix(
            &format!("heatmap grid {}: panel {i} ({t})", path.display()),
            &a.src_tokens,
            &a.tgt_tokens,
            &a.weights,
        )?;
    }
    ensure_font();

    // One cell size, label area and slot size for every panel, so the grid lines up.
    let max_ns = panels.iter().map(|a| a.src_tokens.len()).max().unwrap_or(1);
    let max_nt = panels.iter().map(|a| a.tgt_tokens.len()).max().unwrap_or(1);
    let cell: i32 = (480 / max_ns.max(max_nt) as i32).clamp(12, 28);
    let label_size: i32 = ((cell as f64 * 0.72).round() as i32).clamp(11, 16);
    let label_font = (FONT, label_size).into_font();
    let labels = |toks: &[String]| toks.iter().map(|t| display_token(t)).collect::<Vec<_>>();
    let src_labels: Vec<Vec<String>> = panels.iter().map(|a| labels(&a.src_tokens)).collect();
    let tgt_labels: Vec<Vec<String>> = panels.iter().map(|a| labels(&a.tgt_tokens)).collect();
    let mut src_w = 0;
    let mut tgt_w = 0;
    for (s, t) in src_labels.iter().zip(&tgt_labels) {
        src_w = src_w.max(max_text_width(s, &label_font)?);
        tgt_w = tgt_w.max(max_text_width(t, &label_font)?);
    }
    let panel_title_size = 17;
    let panel_title_font = (FONT, panel_title_size).into_font();
    let panel_title_w = max_text_width(&panel_titles, &panel_title_font)?;
    let title_size = 22;
    let title_font = (FONT, title_size).into_font();
    let title_w = text_width(title, &title_font)?;

    let margin = 20;
    let gap = 8; // between labels and the matrix
    let (h_gap, v_gap) = (40, 30); // between panels
    let content_w = (tgt_w + gap + cell * max_ns as i32).max(panel_title_w);
    let head_h = panel_title_size + 12 + src_w + gap; // panel title + source labels
    let slot_w = content_w + h_gap;
    let slot_h = head_h + cell * max_nt as i32 + v_gap;
    let cols = panels.len().min(GRID_COLUMNS);
    let rows = panels.len().div_ceil(cols);
    let grid_top = margin + title_size + 20;

    let bar_x = margin + cols as i32 * slot_w - h_gap + BAR_GAP;
    let bar_top = grid_top + head_h;
    let bar_h = (cell * max_nt as i32).clamp(60, 320);
    let tick_font = (FONT, 13).into_font();
    let width = (bar_x + colour_bar_extent(&tick_font)? + margin).max(title_w + 2 * margin);
    let height = (grid_top + rows as i32 * slot_h - v_gap + margin).max(bar_top + bar_h + margin);

    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(tmp, (width as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_centred_title(&root, title, (width / 2, margin), &title_font)?;
        for (k, a) in panels.iter().enumerate() {
            let (r, c) = ((k / cols) as i32, (k % cols) as i32);
            let (sx, sy) = (margin + c * slot_w, grid_top + r * slot_h);
            let left = sx + tgt_w + gap;
            // Centred over this panel's matrix, kept inside the slot.
            let half = text_width(&panel_titles[k], &panel_title_font)? / 2;
            let centre = (left + cell * a.src_tokens.len() as i32 / 2)
                .min(sx + content_w - half)
                .max(sx + half);
            draw_centred_title(&root, &panel_titles[k], (centre, sy), &panel_title_font)?;
            let at = MatrixLayout {
                left,
                top: sy + head_h,
                cell,
                gap,
                label_font: &label_font,
                label_size,
            };
            draw_matrix(&root, &at, &src_labels[k], &tgt_labels[k], &a.weights)?;
        }
        draw_colour_bar(&root, bar_x, bar_top, bar_h, &tick_font)?;
        root.present().map_err(plot_err)?;
        Ok(())
    })
}

/// Width of a [`token_shading`] figure, in pixels (about 110 characters of text a line).
const SHADING_WIDTH: i32 = 1100;
/// Background of the most attended token(s) in [`token_shading`]; white is weight 0.
const SHADE_MAX: RGBColor = RGBColor(205, 25, 25);
/// Text colour of `@entity` tokens on light backgrounds.
const ENTITY_COLOUR: RGBColor = RGBColor(20, 60, 170);

/// Background of a token whose weight is `rel` times the largest one: white at 0
/// to [`SHADE_MAX`] at 1 (clamped; non-finite drawn as 0).
fn shade(rel: f64) -> RGBColor {
    let t = if rel.is_finite() {
        rel.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mix = |c: u8| (255.0 + (c as f64 - 255.0) * t).round() as u8;
    RGBColor(mix(SHADE_MAX.0), mix(SHADE_MAX.1), mix(SHADE_MAX.2))
}

/// Draws `text` left-aligned with its vertical centre at `y`; `bold` draws it twice,
/// one pixel apart (the embedded font has no bold face).
fn draw_token_text(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    text: &str,
    (x, y): (i32, i32),
    font: &FontDesc<'_>,
    colour: RGBColor,
    bold: bool,
) -> anyhow::Result<()> {
    let style = font
        .clone()
        .color(&colour)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for dx in 0..=i32::from(bold) {
        root.draw(&Text::new(text.to_string(), (x + dx, y), style.clone()))
            .map_err(plot_err)?;
    }
    Ok(())
}

/// A document as wrapped text (like Hermann et al. 2015, Fig. 3), each token on a
/// background shaded by its attention weight: white for 0 up to a strong red for the
/// largest weight of the document. Weights are divided by that maximum, so a flat
/// distribution is still visible; the legend says so and gives the maximum next to
/// the uniform weight 1 / (number of tokens), to tell a flat distribution apart. Tokens
/// starting with `@entity` are drawn in bold blue (bold white on dark shades). The
/// figure is 1100 px wide (about 110 characters a line) and as tall as the text needs.
/// `tokens` and `weights` must be non-empty and of equal length; negative and
/// non-finite weights are drawn as 0. Written atomically.
pub fn token_shading(
    path: &Path,
    title: &str,
    tokens: &[String],
    weights: &[f32],
) -> anyhow::Result<()> {
    if tokens.is_empty() {
        bail!("token shading {}: no tokens", path.display());
    }
    if tokens.len() != weights.len() {
        bail!(
            "token shading {}: {} weights for {} tokens",
            path.display(),
            weights.len(),
            tokens.len()
        );
    }
    ensure_font();
    let max_w = weights
        .iter()
        .map(|&w| w as f64)
        .filter(|w| w.is_finite())
        .fold(0.0f64, f64::max);
    let rel = |w: f32| {
        if max_w > 0.0 { w as f64 / max_w } else { 0.0 }
    };

    // Layout, in pixels.
    let margin = 24;
    let title_size = 20;
    let title_font = (FONT, title_size).into_font();
    let legend_size = 14;
    let legend_font = (FONT, legend_size).into_font();
    let text_size = 15;
    let text_font = (FONT, text_size).into_font();
    let (pad, gap, line_h) = (3, 3, 25); // padding inside a box, space between boxes
    let width = SHADING_WIDTH.max(text_width(title, &title_font)? + 2 * margin);
    let right = width - margin;
    let legend_y = margin + title_size + 22; // vertical centre of the legend line
    let body_top = legend_y + legend_size + 16;

    // Wrap: (label, x, line, box width) per token.
    let labels: Vec<String> = tokens.iter().map(|t| display_token(t)).collect();
    let mut placed = Vec::with_capacity(labels.len());
    let (mut x, mut line) = (margin, 0i32);
    for (label, tok) in labels.iter().zip(tokens) {
        let bold = i32::from(tok.starts_with("@entity"));
        let w = text_width(label, &text_font)? + bold + 2 * pad;
        if x > margin && x + w > right {
            (x, line) = (margin, line + 1);
        }
        placed.push((x, line, w));
        x += w + gap;
    }
    let height = body_top + (line + 1) * line_h + margin;

    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(tmp, (width as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_centred_title(&root, title, (width / 2, margin), &title_font)?;

        // Legend: "shade ∝ weight / max weight:  0 [ramp] max = …   @entity: bold blue".
        let nudge = legend_size / 4;
        let mut lx = margin;
        let legend_text = |s: &str, lx: &mut i32, colour: RGBColor, bold: bool| {
            draw_token_text(
                &root,
                s,
                (*lx, legend_y + nudge),
                &legend_font,
                colour,
                bold,
            )?;
            *lx += text_width(s, &legend_font)? + i32::from(bold);
            anyhow::Ok(())
        };
        let grey = RGBColor(70, 70, 70);
        legend_text(
            "shade \u{221d} weight / max weight:   0 ",
            &mut lx,
            grey,
            false,
        )?;
        let (ramp_w, ramp_h) = (160, 14);
        for px in 0..ramp_w {
            let c = shade(px as f64 / (ramp_w - 1) as f64);
            root.draw(&PathElement::new(
                vec![
                    (lx + px, legend_y - ramp_h / 2),
                    (lx + px, legend_y + ramp_h / 2),
                ],
                c,
            ))
            .map_err(plot_err)?;
        }
        root.draw(&Rectangle::new(
            [
                (lx - 1, legend_y - ramp_h / 2 - 1),
                (lx + ramp_w, legend_y + ramp_h / 2 + 1),
            ],
            RGBColor(150, 150, 150).stroke_width(1),
        ))
        .map_err(plot_err)?;
        lx += ramp_w + 6;
        legend_text(
            &format!("{max_w:.4} (max weight)      "),
            &mut lx,
            grey,
            false,
        )?;
        legend_text("@entity", &mut lx, ENTITY_COLOUR, true)?;
        legend_text(
            &format!(
                " tokens in bold      {} tokens (uniform weight {:.4})",
                tokens.len(),
                1.0 / tokens.len() as f64
            ),
            &mut lx,
            grey,
            false,
        )?;

        // Body: one shaded box per token, then its text.
        let text_nudge = text_size / 4;
        for (((label, tok), &w), &(x, line, bw)) in
            labels.iter().zip(tokens).zip(weights).zip(&placed)
        {
            let r = rel(w);
            let top = body_top + line * line_h;
            let bg = shade(r);
            if bg != WHITE {
                root.draw(&Rectangle::new(
                    [(x, top + 1), (x + bw, top + line_h - 2)],
                    bg.filled(),
                ))
                .map_err(plot_err)?;
            }
            let entity = tok.starts_with("@entity");
            let colour = match (r > 0.6, entity) {
                (true, _) => WHITE,
                (false, true) => ENTITY_COLOUR,
                (false, false) => BLACK,
            };
            let cy = top + line_h / 2 - 1 + text_nudge;
            draw_token_text(&root, label, (x + pad, cy), &text_font, colour, entity)?;
        }
        root.present().map_err(plot_err)?;
        Ok(())
    })
}
