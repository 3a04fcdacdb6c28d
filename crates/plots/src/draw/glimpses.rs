//! Where a recurrent attention model looked and what it saw (like Mnih et al. 2014,
//! Fig. 3): one row per example, the canvas with every glimpse's squares and the path
//! through their centres, then one column per glimpse of the patches its sensor returned.

use std::path::Path;

use anyhow::bail;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::image_grid::GridImage;
use super::overlay::byte;
use super::raster::Raster;
use super::text::{draw_centred_title, max_text_width, text_width};
use super::{FONT, plot_err, write_rgb_png};
use crate::data::GlimpseStep;
use crate::ensure_font;

/// Side, in pixels, that the integer scale-up of the largest canvas aims at (8× for 28
/// pixels, 4× for 60, 2× for 100).
const CANVAS_TARGET: usize = 240;
/// Side, in pixels, that the integer scale-up of the largest patch aims at (7× for 8).
const PATCH_TARGET: usize = 56;
const MARGIN: i32 = 20;
const TITLE_SIZE: i32 = 20;
const LEGEND_SIZE: i32 = 14;
const CAPTION_SIZE: i32 = 15;
/// Height of an example's caption, gap included.
const CAPTION_H: i32 = CAPTION_SIZE + 8;
const LABEL_SIZE: i32 = 13;
/// Height of the label above the canvas and above each column of patches, gap included.
const LABEL_H: i32 = LABEL_SIZE + 6;
/// Space between columns; twice that between the canvas and the first column.
const H_GAP: i32 = 12;
/// Space between the patches of one column.
const PATCH_GAP: i32 = 6;
/// Space between one example's row and the next one's caption.
const V_GAP: i32 = 22;
/// Width of a square's outline and of the path, in screen pixels.
const STROKE: i64 = 2;
const FRAME: RGBColor = RGBColor(150, 150, 150);

/// The step colours run through these, first glimpse to last: bright on a dark canvas
/// and apart from its white strokes.
const STEP_RAMP: [[f64; 3]; 4] = [
    [66.0, 133.0, 244.0],
    [52.0, 199.0, 89.0],
    [255.0, 193.0, 7.0],
    [234.0, 67.0, 53.0],
];

/// The colour of glimpse `index` of `count` (blue first, then green, amber, red last;
/// linear in between).
pub(crate) fn step_colour(index: usize, count: usize) -> [u8; 3] {
    let t = if count > 1 {
        index.min(count - 1) as f64 / (count - 1) as f64
    } else {
        0.0
    };
    let pos = t * (STEP_RAMP.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STEP_RAMP.len() - 2);
    let f = pos - i as f64;
    [0, 1, 2].map(|c| (STEP_RAMP[i][c] + f * (STEP_RAMP[i + 1][c] - STEP_RAMP[i][c])).round() as u8)
}

/// One example's row of a [`glimpse_figure`]: the caption above it, the canvas
/// (`[3, height, width]`, channel-major, values in [0, 1]) and its glimpses in order.
#[derive(Clone, Debug, PartialEq)]
pub struct GlimpseFigureRow<'a> {
    pub caption: String,
    pub canvas: GridImage<'a>,
    pub steps: &'a [GlimpseStep],
}

/// A glimpse figure drawn into memory: `width × height` RGB bytes, row-major, and where
/// things landed (read by the tests).
pub(crate) struct GlimpsePanels {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) rgb: Vec<u8>,
    /// Top-left pixel of each row's scaled canvas.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) canvases: Vec<(i32, i32)>,
    /// Screen pixels per canvas pixel.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) canvas_scale: usize,
    /// Top-left pixel of each patch, `[row][step][scale]` (empty without patches).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) patches: Vec<Vec<Vec<(i32, i32)>>>,
    /// Screen pixels per patch pixel.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) patch_scale: usize,
}

/// Checks the shapes of a [`glimpse_figure`]'s input.
fn check_rows(rows: &[GlimpseFigureRow<'_>]) -> anyhow::Result<()> {
    if rows.is_empty() {
        bail!("no examples: nothing to draw");
    }
    for (r, row) in rows.iter().enumerate() {
        let GridImage {
            data,
            height,
            width,
        } = row.canvas;
        if height == 0 || width == 0 {
            bail!("row {r}: empty canvas ({height} × {width})");
        }
        if data.len() != 3 * height * width {
            bail!(
                "row {r}: {} values for a 3 × {height} × {width} canvas",
                data.len()
            );
        }
        for s in row.steps {
            if s.patches.len() != s.squares.len() {
                bail!(
                    "row {r}, step {}: {} patches for {} squares",
                    s.step,
                    s.patches.len(),
                    s.squares.len()
                );
            }
            for p in s.patches.iter().flatten() {
                if p.side == 0 || p.values.len() != p.side * p.side {
                    bail!(
                        "row {r}, step {}: {} values for a {} × {} patch",
                        s.step,
                        p.values.len(),
                        p.side,
                        p.side
                    );
                }
            }
        }
    }
    Ok(())
}

/// Draws the figure into memory; see [`glimpse_figure`].
pub(crate) fn render_glimpses(
    title: &str,
    rows: &[GlimpseFigureRow<'_>],
) -> anyhow::Result<GlimpsePanels> {
    check_rows(rows)?;
    ensure_font();

    // Layout, in pixels.
    let all_steps = || rows.iter().flat_map(|r| r.steps.iter());
    let biggest = rows
        .iter()
        .map(|r| r.canvas.height.max(r.canvas.width))
        .max()
        .unwrap_or(1);
    let canvas_scale = (CANVAS_TARGET / biggest).max(1);
    let with_patches = all_steps().any(|s| s.patches.iter().any(Option::is_some));
    let patch_side = all_steps()
        .flat_map(|s| s.patches.iter().flatten().map(|p| p.side))
        .max()
        .unwrap_or(1);
    let patch_scale = (PATCH_TARGET / patch_side).max(1);
    let pp = (patch_side * patch_scale) as i32;
    let steps_max = rows.iter().map(|r| r.steps.len()).max().unwrap_or(0);
    let scales_max = all_steps().map(|s| s.squares.len()).max().unwrap_or(0);
    let columns = if with_patches { steps_max } else { 0 };

    let title_font = (FONT, TITLE_SIZE).into_font();
    let legend_font = (FONT, LEGEND_SIZE).into_font();
    let caption_font = (FONT, CAPTION_SIZE).into_font();
    let label_font = (FONT, LABEL_SIZE).into_font();
    let step_labels: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.steps.iter().map(|s| format!("step {}", s.step)).collect())
        .collect();
    let label_w = step_labels
        .iter()
        .map(|l| max_text_width(l, &label_font))
        .try_fold(0, |w, l| l.map(|l| w.max(l)))?;
    let column_w = pp.max(label_w);
    let canvas_w = rows
        .iter()
        .map(|r| (r.canvas.width * canvas_scale) as i32)
        .max()
        .unwrap_or(0);
    let legend = format!(
        "squares: every scale of each glimpse, coloured by step (blue first, red last); \
         the line joins the centres, \u{25cf} first, \u{25cb} last{}",
        if with_patches {
            format!("; right: each scale's patch, {patch_scale}\u{d7}")
        } else {
            String::new()
        }
    );
    let columns_left = MARGIN + canvas_w + 2 * H_GAP;
    let content_w = if columns > 0 {
        columns_left + columns as i32 * (column_w + H_GAP) - H_GAP + MARGIN
    } else {
        MARGIN + canvas_w + MARGIN
    };
    let legend_y = MARGIN + TITLE_SIZE + 10;
    let first_row = legend_y + LEGEND_SIZE + 18;
    let column_h = if with_patches {
        scales_max as i32 * (pp + PATCH_GAP) - PATCH_GAP
    } else {
        0
    };
    let row_tops: Vec<i32> = rows
        .iter()
        .scan(first_row, |y, r| {
            let top = *y;
            let body = ((r.canvas.height * canvas_scale) as i32).max(column_h);
            *y += CAPTION_H + LABEL_H + body + V_GAP;
            Some(top)
        })
        .collect();
    let last = rows.len() - 1;
    let last_body = ((rows[last].canvas.height * canvas_scale) as i32).max(column_h);
    let height_px = row_tops[last] + CAPTION_H + LABEL_H + last_body + MARGIN;
    let width_px = content_w
        .max(text_width(title, &title_font)? + 2 * MARGIN)
        .max(text_width(&legend, &legend_font)? + 2 * MARGIN);
    let canvases: Vec<(i32, i32)> = row_tops
        .iter()
        .map(|&y| (MARGIN, y + CAPTION_H + LABEL_H))
        .collect();
    let patches: Vec<Vec<Vec<(i32, i32)>>> = rows
        .iter()
        .zip(&canvases)
        .map(|(r, &(_, top))| {
            if !with_patches {
                return Vec::new();
            }
            (0..r.steps.len())
                .map(|k| {
                    let left = columns_left + k as i32 * (column_w + H_GAP) + (column_w - pp) / 2;
                    (0..r.steps[k].squares.len())
                        .map(|i| (left, top + i as i32 * (pp + PATCH_GAP)))
                        .collect()
                })
                .collect()
        })
        .collect();

    // Text and frames through plotters, into the buffer.
    let (w, h) = (width_px as u32, height_px as u32);
    let mut rgb = vec![0u8; 3 * w as usize * h as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_centred_title(&root, title, (width_px / 2, MARGIN), &title_font)?;
        draw_centred_title(&root, &legend, (width_px / 2, legend_y), &legend_font)?;
        let top_left = Pos::new(HPos::Left, VPos::Top);
        for (r, row) in rows.iter().enumerate() {
            let (left, top) = canvases[r];
            root.draw(&Text::new(
                row.caption.clone(),
                (MARGIN, row_tops[r]),
                caption_font.clone().color(&BLACK).pos(top_left),
            ))
            .map_err(plot_err)?;
            root.draw(&Text::new(
                "canvas".to_string(),
                (left, top - LABEL_H + 2),
                label_font
                    .clone()
                    .color(&RGBColor(110, 110, 110))
                    .pos(top_left),
            ))
            .map_err(plot_err)?;
            let (cw, ch) = (
                (row.canvas.width * canvas_scale) as i32,
                (row.canvas.height * canvas_scale) as i32,
            );
            root.draw(&Rectangle::new(
                [(left - 1, top - 1), (left + cw, top + ch)],
                FRAME.stroke_width(1),
            ))
            .map_err(plot_err)?;
            for (k, cells) in patches[r].iter().enumerate() {
                let [red, green, blue] = step_colour(k, steps_max);
                let colour = RGBColor(red, green, blue);
                let Some(&(pl, pt)) = cells.first() else {
                    continue;
                };
                root.draw(&Text::new(
                    step_labels[r][k].clone(),
                    (pl + pp / 2, pt - LABEL_H + 2),
                    label_font
                        .clone()
                        .color(&colour)
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(plot_err)?;
                for &(cl, ct) in cells {
                    root.draw(&Rectangle::new(
                        [(cl - 1, ct - 1), (cl + pp, ct + pp)],
                        colour.stroke_width(1),
                    ))
                    .map_err(plot_err)?;
                }
            }
        }
        root.present().map_err(plot_err)?;
    }

    // Pixels and marks, written straight into the buffer.
    for (r, row) in rows.iter().enumerate() {
        let (left, top) = (canvases[r].0 as i64, canvases[r].1 as i64);
        let GridImage {
            data,
            height,
            width,
        } = row.canvas;
        let plane = height * width;
        let cs = canvas_scale as i64;
        let mut raster = Raster {
            rgb: &mut rgb,
            width: w as usize,
            clip: (
                left,
                top,
                left + width as i64 * cs,
                top + height as i64 * cs,
            ),
        };
        raster.blit((left, top), canvas_scale, (height, width), |y, x| {
            let at = y * width + x;
            [0, 1, 2].map(|c| byte(data[c * plane + at], 1.0))
        });
        // Squares in step order (later glimpses on top), then the path and its ends.
        for (k, s) in row.steps.iter().enumerate() {
            let colour = step_colour(k, steps_max);
            for sq in &s.squares {
                raster.square_outline(
                    (left + sq.left * cs, top + sq.top * cs),
                    sq.side as i64 * cs,
                    STROKE,
                    colour,
                );
            }
        }
        let centre =
            |s: &GlimpseStep| (left as f64 + s.x * cs as f64, top as f64 + s.y * cs as f64);
        let pixel = |(x, y): (f64, f64)| (x.floor() as i64, y.floor() as i64);
        for (k, pair) in row.steps.windows(2).enumerate() {
            let colour = step_colour(k + 1, steps_max);
            raster.line(
                pixel(centre(&pair[0])),
                pixel(centre(&pair[1])),
                STROKE,
                colour,
            );
        }
        if let (Some(first), Some(last)) = (row.steps.first(), row.steps.last()) {
            let n = row.steps.len();
            raster.ring(centre(last), 3.0, 6.0, step_colour(n - 1, steps_max));
            raster.ring(centre(first), -1.0, 4.5, step_colour(0, steps_max));
        }

        raster.clip = (0, 0, w as i64, h as i64);
        for (s, cells) in row.steps.iter().zip(&patches[r]) {
            for (patch, &(pl, pt)) in s.patches.iter().zip(cells) {
                let Some(patch) = patch else { continue };
                let side = patch.side;
                raster.blit((pl as i64, pt as i64), patch_scale, (side, side), |y, x| {
                    [byte(patch.values[y * side + x], 1.0); 3]
                });
            }
        }
    }
    Ok(GlimpsePanels {
        width: w,
        height: h,
        rgb,
        canvases,
        canvas_scale,
        patches,
        patch_scale,
    })
}

/// The glimpses of a recurrent attention model (like Mnih et al. 2014, Fig. 3), one row
/// per [`GlimpseFigureRow`] under its caption: the canvas, scaled up by an integer factor
/// (`⌊240 / largest side⌋`, at least 1), with every scale's square of every glimpse
/// outlined in its step's colour (blue first, green, amber, red last; later glimpses on
/// top; the parts off the canvas are not drawn) and the centres joined by a line, a disc
/// on the first and a ring on the last; then, when any patch is given, one column per
/// glimpse, labelled `step <step>` in its colour, of the patch each scale returned (finest
/// on top; grey, scaled up by one integer factor, `⌊56 / largest side⌋` at least 1,
/// nearest neighbour), framed in the step's colour. Text uses the embedded font; the bytes
/// written depend on the input only. Errors on no rows, an empty canvas or one whose data
/// is not `3 × height × width` values, a step whose patches do not match its squares, or
/// a patch whose values are not `side × side`, writing nothing. Written atomically.
pub fn glimpse_figure(
    path: &Path,
    title: &str,
    rows: &[GlimpseFigureRow<'_>],
) -> anyhow::Result<()> {
    let panels = render_glimpses(title, rows)
        .map_err(|e| anyhow::anyhow!("glimpse figure {}: {e:#}", path.display()))?;
    write_rgb_png(path, panels.width, panels.height, &panels.rgb)
}

#[cfg(test)]
mod tests;
