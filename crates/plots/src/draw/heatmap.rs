//! Attention heatmaps: one `[tgt][src]` matrix per figure, or a grid of them sharing
//! one cell size and one grayscale scale, each with a colour bar.

use std::path::Path;

use anyhow::bail;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text::{display_token, draw_centred_title, max_text_width, text_width};
use super::{FONT, plot_err};
use crate::data::Alignment;
use crate::{ensure_font, with_atomic_path};

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
