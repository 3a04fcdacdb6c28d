//! Token shading: a document as wrapped text, each token on a background shaded by its
//! attention weight.

use std::path::Path;

use anyhow::bail;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text::{display_token, draw_centred_title, text_width};
use super::{FONT, plot_err};
use crate::{ensure_font, with_atomic_path};

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
