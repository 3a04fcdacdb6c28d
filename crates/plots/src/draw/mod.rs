//! The figure kinds: line plots with ±1 std bands, attention heatmaps (one matrix, or
//! a grid of them sharing one scale), token shading and attention over an image.
//!
//! * `lines`: [`line_plot_with_bands`] and the [`Series`] it draws.
//! * `heatmap`: [`attention_heatmap`] and [`attention_heatmap_grid`].
//! * `shading`: [`token_shading`], a document with each token shaded by its weight.
//! * `overlay`: [`attention_strip`], an image and its attention, word by word.
//! * `text`: token labels, text measurement and titles, shared by all of them.

mod heatmap;
mod lines;
mod overlay;
mod shading;
mod text;

use anyhow::anyhow;

pub use heatmap::{attention_heatmap, attention_heatmap_grid};
pub use lines::{Series, line_plot_with_bands};
pub use overlay::attention_strip;
pub use shading::token_shading;

const FONT: &str = "sans-serif";

fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}
