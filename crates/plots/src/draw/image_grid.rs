//! A grid of images with a caption over each row (like the sample figures of Xu et al.
//! 2018, AttnGAN): one row per caption, one column per source (the real image, then each
//! generator), the column names on top.

use std::path::Path;

use anyhow::bail;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::overlay::byte;
use super::raster::Raster;
use super::text::{draw_centred_title, max_text_width, text_width};
use super::{FONT, plot_err, write_rgb_png};
use crate::ensure_font;

/// Side, in pixels, that the integer scale-up of the largest image aims at (3× for 48
/// pixels).
const CELL_TARGET: usize = 144;
const MARGIN: i32 = 20;
const TITLE_SIZE: i32 = 20;
const HEADER_SIZE: i32 = 16;
/// Height of the column names above the first row, gap included.
const HEADER_H: i32 = HEADER_SIZE + 10;
const CAPTION_SIZE: i32 = 14;
/// Height of one line of a caption.
const CAPTION_LINE_H: i32 = CAPTION_SIZE + 5;
/// Space between a row's caption and its images.
const CAPTION_GAP: i32 = 4;
/// Space between columns, and between one row's images and the next row's caption.
const H_GAP: i32 = 12;
const V_GAP: i32 = 18;
const FRAME: RGBColor = RGBColor(150, 150, 150);
const MISSING_TEXT: RGBColor = RGBColor(150, 150, 150);

/// One image of an [`image_grid`]: `[3, height, width]` values, channel-major (the red
/// plane, then green, then blue), in [0, 1] (clamped; non-finite drawn as 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridImage<'a> {
    pub data: &'a [f32],
    pub height: usize,
    pub width: usize,
}

/// One row of an [`image_grid`]: the caption written above it and one cell per column,
/// `None` for a column without an image for this row.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageGridRow<'a> {
    pub caption: String,
    pub images: Vec<Option<GridImage<'a>>>,
}

/// A grid drawn into memory: `width × height` RGB bytes, row-major, and where each
/// cell's scaled image starts, `[row][column]`.
pub(crate) struct Grid {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) rgb: Vec<u8>,
    /// Top-left pixel of each cell (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) cells: Vec<Vec<(i32, i32)>>,
    /// Screen pixels per image pixel, across and down (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) scale: usize,
}

/// Checks the shapes of an [`image_grid`]'s input.
fn check_grid(column_names: &[String], rows: &[ImageGridRow<'_>]) -> anyhow::Result<()> {
    if column_names.is_empty() || rows.is_empty() {
        bail!(
            "{} columns and {} rows: nothing to draw",
            column_names.len(),
            rows.len()
        );
    }
    for (r, row) in rows.iter().enumerate() {
        if row.images.len() != column_names.len() {
            bail!(
                "row {r} has {} cells for {} columns",
                row.images.len(),
                column_names.len()
            );
        }
        for (c, image) in row.images.iter().enumerate() {
            let Some(GridImage {
                data,
                height,
                width,
            }) = image
            else {
                continue;
            };
            if *height == 0 || *width == 0 {
                bail!("row {r}, column {c}: empty image ({height} × {width})");
            }
            if data.len() != 3 * height * width {
                bail!(
                    "row {r}, column {c}: {} values for a 3 × {height} × {width} image",
                    data.len()
                );
            }
        }
    }
    Ok(())
}

/// `text`'s words (split at whitespace) greedily wrapped into lines at most `width`
/// pixels wide in `font`; a word wider than that gets a line of its own. No lines for a
/// blank text.
fn wrap_words(text: &str, font: &FontDesc<'_>, width: i32) -> anyhow::Result<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if line.is_empty() {
            line.push_str(word);
            continue;
        }
        let longer = format!("{line} {word}");
        if text_width(&longer, font)? <= width {
            line = longer;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    Ok(lines)
}

/// Draws the grid into memory; see [`image_grid`].
pub(crate) fn render_grid(
    title: &str,
    column_names: &[String],
    rows: &[ImageGridRow<'_>],
) -> anyhow::Result<Grid> {
    check_grid(column_names, rows)?;
    ensure_font();

    // Layout, in pixels: every cell as large as the largest scaled image (or column name).
    let images = || rows.iter().flat_map(|r| r.images.iter().flatten());
    let largest = images().map(|i| i.height.max(i.width)).max().unwrap_or(1);
    let scale = (CELL_TARGET / largest).max(1);
    let cell_h = images().map(|i| i.height * scale).max().unwrap_or(scale) as i32;
    let title_font = (FONT, TITLE_SIZE).into_font();
    let header_font = (FONT, HEADER_SIZE).into_font();
    let caption_font = (FONT, CAPTION_SIZE).into_font();
    let missing_font = caption_font.clone().color(&MISSING_TEXT);
    let cell_w = (images().map(|i| i.width * scale).max().unwrap_or(scale) as i32)
        .max(max_text_width(column_names, &header_font)?);
    let cols = column_names.len() as i32;
    let grid_w = cols * (cell_w + H_GAP) - H_GAP;
    let widest_word = rows
        .iter()
        .flat_map(|r| r.caption.split_whitespace())
        .try_fold(0, |w, word| {
            text_width(word, &caption_font).map(|word_w| word_w.max(w))
        })?;
    let width_px =
        (grid_w.max(widest_word) + 2 * MARGIN).max(text_width(title, &title_font)? + 2 * MARGIN);
    let captions = rows
        .iter()
        .map(|r| wrap_words(&r.caption, &caption_font, width_px - 2 * MARGIN))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let header_top = MARGIN + TITLE_SIZE + 14;
    let mut y = header_top + HEADER_H;
    let mut caption_tops = Vec::with_capacity(rows.len());
    let mut cells = Vec::with_capacity(rows.len());
    for lines in &captions {
        caption_tops.push(y);
        y += lines.len() as i32 * CAPTION_LINE_H + CAPTION_GAP;
        cells.push(
            (0..cols)
                .map(|c| (MARGIN + c * (cell_w + H_GAP), y))
                .collect::<Vec<_>>(),
        );
        y += cell_h + V_GAP;
    }
    let height_px = y - V_GAP + MARGIN;

    // Text and frames through plotters, into the buffer.
    let (w, h) = (width_px as u32, height_px as u32);
    let mut rgb = vec![0u8; 3 * w as usize * h as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_centred_title(&root, title, (width_px / 2, MARGIN), &title_font)?;
        for (c, name) in column_names.iter().enumerate() {
            let left = MARGIN + c as i32 * (cell_w + H_GAP);
            draw_centred_title(&root, name, (left + cell_w / 2, header_top), &header_font)?;
        }
        for ((row, lines), (&top, row_cells)) in rows
            .iter()
            .zip(&captions)
            .zip(caption_tops.iter().zip(&cells))
        {
            for (k, line) in lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (MARGIN, top + k as i32 * CAPTION_LINE_H),
                    caption_font
                        .clone()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Top)),
                ))
                .map_err(plot_err)?;
            }
            for (image, &(left, top)) in row.images.iter().zip(row_cells) {
                let (iw, ih) = match image {
                    Some(i) => ((i.width * scale) as i32, (i.height * scale) as i32),
                    None => (cell_w, cell_h),
                };
                root.draw(&Rectangle::new(
                    [(left - 1, top - 1), (left + iw, top + ih)],
                    FRAME.stroke_width(1),
                ))
                .map_err(plot_err)?;
                if image.is_none() {
                    root.draw(&Text::new(
                        "no image".to_string(),
                        (left + cell_w / 2, top + cell_h / 2),
                        missing_font
                            .clone()
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ))
                    .map_err(plot_err)?;
                }
            }
        }
        root.present().map_err(plot_err)?;
    }

    // The images' pixels, written straight into the buffer: each image pixel becomes a
    // `scale × scale` block.
    for (row, row_cells) in rows.iter().zip(&cells) {
        for (image, &(left, top)) in row.images.iter().zip(row_cells) {
            let Some(image) = image else { continue };
            let plane = image.height * image.width;
            Raster::whole(&mut rgb, w as usize, h as usize).blit(
                (left as i64, top as i64),
                scale,
                (image.height, image.width),
                |y, x| {
                    let at = y * image.width + x;
                    [0, 1, 2].map(|ch| byte(image.data[ch * plane + at], 1.0))
                },
            );
        }
    }
    Ok(Grid {
        width: w,
        height: h,
        rgb,
        cells,
        scale,
    })
}

/// Images side by side under their captions (like the sample figures of Xu et al. 2018):
/// one row per [`ImageGridRow`], its caption written above it (wrapped over as many lines
/// as the figure's width needs), then one cell per column, the column names on top of the
/// first row. Every image is scaled up by the same integer factor (`⌊144 / largest
/// side⌋`, at least 1: 3× for 48-pixel images); a cell is as large as the largest scaled
/// image or column name, its image at its top left, framed; a cell without an image says
/// "no image". Text uses the embedded font; the bytes written depend on the input only.
/// Errors on no rows or columns, a row whose cell count is not the column count, an
/// empty image or one whose data is not `3 × height × width` values, writing nothing.
/// Written atomically.
pub fn image_grid(
    path: &Path,
    title: &str,
    column_names: &[String],
    rows: &[ImageGridRow<'_>],
) -> anyhow::Result<()> {
    let grid = render_grid(title, column_names, rows)
        .map_err(|e| anyhow::anyhow!("image grid {}: {e:#}", path.display()))?;
    write_rgb_png(path, grid.width, grid.height, &grid.rgb)
}

#[cfg(test)]
mod tests;
