//! The figure kinds: line plots with ±1 std bands, attention heatmaps (one matrix, or
//! a grid of them sharing one scale), token shading, attention over an image, a grid
//! of images under their captions and glimpse paths over canvases.
//!
//! * `lines`: [`line_plot_with_bands`] and the [`Series`] it draws.
//! * `heatmap`: [`attention_heatmap`] and [`attention_heatmap_grid`].
//! * `shading`: [`token_shading`], a document with each token shaded by its weight.
//! * `overlay`: [`attention_strip`], an image and its attention, word by word.
//! * `image_grid`: [`image_grid`], real and generated images under their captions.
//! * `glimpses`: [`glimpse_figure`], where a recurrent attention model looked on its
//!   canvases and what its sensor returned.
//! * `raster`: squares, lines and markers written straight into a pixel buffer.
//! * `text`: token labels, text measurement and titles, shared by all of them.

mod glimpses;
mod heatmap;
mod image_grid;
mod lines;
mod overlay;
mod raster;
mod shading;
mod text;

use std::path::Path;

use anyhow::anyhow;
use plotters::prelude::*;

use crate::with_atomic_path;

pub use glimpses::{GlimpseFigureRow, glimpse_figure};
pub use heatmap::{attention_heatmap, attention_heatmap_grid};
pub use image_grid::{GridImage, ImageGridRow, image_grid};
pub use lines::{Baseline, Series, line_plot_with_bands, line_plot_with_baselines};
pub use overlay::attention_strip;
pub use shading::token_shading;

const FONT: &str = "sans-serif";

fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// Writes `width × height` RGB bytes (row-major) to `path` as a PNG, atomically: the
/// figures whose pixels are drawn straight into a buffer end here.
fn write_rgb_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> anyhow::Result<()> {
    with_atomic_path(path, |tmp| {
        let mut backend = BitMapBackend::new(tmp, (width, height));
        backend
            .blit_bitmap((0, 0), (width, height), rgb)
            .map_err(plot_err)?;
        backend.present().map_err(plot_err)?;
        Ok(())
    })
}
