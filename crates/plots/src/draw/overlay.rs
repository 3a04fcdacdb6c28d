//! Attention over an image, word by word (like Xu et al. 2015, Fig. 3): the image, then
//! one panel per generated word showing where the model looked when it wrote that word.

use std::path::Path;

use anyhow::bail;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::raster::Raster;
use super::text::{display_token, draw_centred_title, max_text_width, text_width};
use super::{FONT, plot_err, write_rgb_png};
use crate::ensure_font;

/// Side, in pixels, that the integer scale-up of a panel aims at (4× for 48 pixels).
const PANEL_TARGET: usize = 192;
/// Most panels on one row of an [`attention_strip`]: the image and seven words.
const STRIP_COLUMNS: usize = 8;
/// Brightness of the cells without attention; the most attended cell of each word keeps
/// the image's own colours.
pub(crate) const DIM: f64 = 0.25;
const MARGIN: i32 = 20;
const TITLE_SIZE: i32 = 20;
const LEGEND_SIZE: i32 = 14;
const LABEL_SIZE: i32 = 16;
/// Height of the word above a panel, gap included.
const LABEL_H: i32 = LABEL_SIZE + 8;
/// Space between panels, across and down.
const H_GAP: i32 = 16;
const V_GAP: i32 = 20;
const FRAME: RGBColor = RGBColor(150, 150, 150);

/// A strip drawn into memory: `width × height` RGB bytes, row-major, and where each
/// panel's scaled image starts (the plain image first, then one panel per word).
pub(crate) struct Strip {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) rgb: Vec<u8>,
    /// Top-left pixel of each panel's image (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) panels: Vec<(i32, i32)>,
    /// Screen pixels per image pixel, across and down (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) scale: usize,
}

/// The side G of a grid of `cells` cells, when `cells` is a non-zero square.
fn grid_side(cells: usize) -> Option<usize> {
    let g = cells.isqrt();
    (g > 0 && g * g == cells).then_some(g)
}

/// A channel value in [0, 1] (clamped; non-finite drawn as 0) times `brightness`, as a byte.
pub(super) fn byte(v: f32, brightness: f64) -> u8 {
    let v = if v.is_finite() {
        (v as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (255.0 * v * brightness).round() as u8
}

/// The brightness of every image pixel for one word, row-major: `DIM + (1 − DIM) · α /
/// max α`, α the weight of the grid cell the pixel falls in (nearest-neighbour
/// upsampling: row `⌊y·G/H⌋`, column `⌊x·G/W⌋`). Negative and non-finite weights count
/// as 0; without any positive weight every pixel is dimmed.
fn brightness(weights: &[f32], grid: usize, height: usize, width: usize) -> Vec<f64> {
    let clean = |w: f32| {
        if w.is_finite() {
            w.max(0.0) as f64
        } else {
            0.0
        }
    };
    let max = weights.iter().map(|&w| clean(w)).fold(0.0, f64::max);
    let mut out = Vec::with_capacity(height * width);
    for y in 0..height {
        for x in 0..width {
            let cell = (y * grid / height) * grid + x * grid / width;
            let rel = if max > 0.0 {
                clean(weights[cell]) / max
            } else {
                0.0
            };
            out.push(DIM + (1.0 - DIM) * rel);
        }
    }
    out
}

/// Checks the shapes of an [`attention_strip`]'s input; returns G.
fn check_strip(
    what: &str,
    image: &[f32],
    (height, width): (usize, usize),
    words: &[String],
    weights: &[Vec<f32>],
) -> anyhow::Result<usize> {
    if height == 0 || width == 0 {
        bail!("{what}: empty image ({height} × {width})");
    }
    if image.len() != 3 * height * width {
        bail!(
            "{what}: {} values for a 3 × {height} × {width} image",
            image.len()
        );
    }
    if weights.len() != words.len() {
        bail!(
            "{what}: {} attention grids for {} words",
            weights.len(),
            words.len()
        );
    }
    let Some(first) = weights.first() else {
        return Ok(1);
    };
    let Some(grid) = grid_side(first.len()) else {
        bail!(
            "{what}: word 0 has {} weights, not the cells of a square grid",
            first.len()
        );
    };
    if let Some((i, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| w.len() != first.len())
    {
        bail!(
            "{what}: word {i} has {} weights, word 0 has {}",
            w.len(),
            first.len()
        );
    }
    if grid > height || grid > width {
        bail!("{what}: a {grid} × {grid} grid over a {height} × {width} image");
    }
    Ok(grid)
}

/// Draws the strip into memory; see [`attention_strip`].
pub(crate) fn render_strip(
    image: &[f32],
    height: usize,
    width: usize,
    words: &[String],
    weights: &[Vec<f32>],
    title: &str,
) -> anyhow::Result<Strip> {
    let grid = check_strip("attention strip", image, (height, width), words, weights)?;
    ensure_font();

    // Layout, in pixels.
    let scale = (PANEL_TARGET / height.max(width)).max(1);
    let (pw, ph) = ((width * scale) as i32, (height * scale) as i32);
    let title_font = (FONT, TITLE_SIZE).into_font();
    let legend_font = (FONT, LEGEND_SIZE).into_font();
    let label_font = (FONT, LABEL_SIZE).into_font();
    let labels: Vec<String> = std::iter::once("image".to_string())
        .chain(words.iter().map(|w| display_token(w)))
        .collect();
    let legend = format!(
        "{grid} \u{d7} {grid} grid upsampled (nearest); \
         brightness = {DIM} + {} \u{b7} \u{3b1} / max \u{3b1} per word",
        1.0 - DIM
    );
    let content_w = pw.max(max_text_width(&labels, &label_font)?);
    let (slot_w, slot_h) = (content_w + H_GAP, LABEL_H + ph + V_GAP);
    let cols = labels.len().min(STRIP_COLUMNS) as i32;
    let rows = labels.len().div_ceil(STRIP_COLUMNS) as i32;
    let legend_y = MARGIN + TITLE_SIZE + 10;
    let grid_top = legend_y + LEGEND_SIZE + 16;
    let width_px = (2 * MARGIN + cols * slot_w - H_GAP)
        .max(text_width(title, &title_font)? + 2 * MARGIN)
        .max(text_width(&legend, &legend_font)? + 2 * MARGIN);
    let height_px = grid_top + rows * slot_h - V_GAP + MARGIN;
    let panels: Vec<(i32, i32)> = (0..labels.len() as i32)
        .map(|k| {
            let (sx, sy) = (MARGIN + (k % cols) * slot_w, grid_top + (k / cols) * slot_h);
            (sx + (content_w - pw) / 2, sy + LABEL_H)
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
        for (k, (label, &(left, top))) in labels.iter().zip(&panels).enumerate() {
            let font = if k == 0 {
                label_font.clone().color(&RGBColor(110, 110, 110))
            } else {
                label_font.clone().color(&BLACK)
            };
            root.draw(&Text::new(
                label.clone(),
                (left + pw / 2, top - LABEL_H + 2),
                font.pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(plot_err)?;
            root.draw(&Rectangle::new(
                [(left - 1, top - 1), (left + pw, top + ph)],
                FRAME.stroke_width(1),
            ))
            .map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }

    // The panels' pixels, written straight into the buffer: each image pixel becomes a
    // `scale × scale` block.
    let plane = height * width;
    let full = vec![1.0; plane];
    for (k, &(left, top)) in panels.iter().enumerate() {
        let shade = match k {
            0 => full.clone(),
            _ => brightness(&weights[k - 1], grid, height, width),
        };
        Raster::whole(&mut rgb, w as usize, h as usize).blit(
            (left as i64, top as i64),
            scale,
            (height, width),
            |y, x| {
                let at = y * width + x;
                [0, 1, 2].map(|ch| byte(image[ch * plane + at], shade[at]))
            },
        );
    }
    Ok(Strip {
        width: w,
        height: h,
        rgb,
        panels,
        scale,
    })
}

/// The attention of an image captioner, word by word (like Xu et al. 2015, Fig. 3): the
/// image first, then one panel per generated word, titled with the word: the image
/// dimmed, lit where the model looked. `image` is `[3, height, width]`, channel-major
/// (the red plane, then green, then blue, as `datasets::images::RgbImage` stores it),
/// values in [0, 1] (clamped; non-finite drawn as 0). `weights` holds one row-major
/// G × G grid per word (`cell = row * G + col`), the same G for every word and at most
/// the image's size; its upsampling is nearest-neighbour (each image pixel takes the
/// weight of the cell it falls in; no blur, so the grid stays visible), and a pixel's
/// brightness is `0.25 + 0.75 · α / max α` of that word (α clamped at 0). Panels are
/// scaled up by an integer factor (`⌊192 / max(height, width)⌋`, at least 1: 4× for a
/// 48-pixel image) and laid out up to 8 a row (the image and seven words), wrapping
/// to further rows. Text uses the embedded font; the bytes written depend on the input
/// only. Errors on an empty image, mismatched lengths or a non-square grid, writing
/// nothing. Written atomically.
pub fn attention_strip(
    path: &Path,
    image: &[f32],
    height: usize,
    width: usize,
    words: &[String],
    weights: &[Vec<f32>],
    title: &str,
) -> anyhow::Result<()> {
    let strip = render_strip(image, height, width, words, weights, title)
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))?;
    write_rgb_png(path, strip.width, strip.height, &strip.rgb)
}

#[cfg(test)]
mod tests;
