//! Text shared by every figure kind: token labels, text measurement and centred titles.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plot_err;

/// Shortens a very long token label for display.
pub(super) fn display_token(t: &str) -> String {
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

pub(super) fn text_width(s: &str, font: &FontDesc<'_>) -> anyhow::Result<i32> {
    Ok(font.box_size(s).map_err(plot_err)?.0 as i32)
}

/// Widest of `labels` in `font`, in pixels (0 for none).
pub(super) fn max_text_width(labels: &[String], font: &FontDesc<'_>) -> anyhow::Result<i32> {
    let mut w = 0;
    for s in labels {
        w = w.max(text_width(s, font)?);
    }
    Ok(w)
}

/// Draws `text` centred horizontally on `x`, its top at `y`.
pub(super) fn draw_centred_title(
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
