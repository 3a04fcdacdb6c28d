//! The formats of a recurrent attention model's glimpses (Mnih et al. 2014): where each
//! glimpse looked ([`GlimpsePathRow`], `glimpse_paths.csv`) and what its sensor returned
//! ([`GlimpsePatchRow`], `glimpse_patches.csv`); and those rows grouped per run, example
//! and step ([`GlimpseRun`]), ready to draw. The canvases the glimpses were taken on are
//! the grey images of `example_images.csv` ([`ExampleImageRow`](super::ExampleImageRow),
//! red = green = blue).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fields::{fixed_decimals, text};
use super::io::{read_rows, write_rows};

/// Header of every `glimpse_paths.csv`.
pub const GLIMPSE_PATHS_HEADER: &str =
    "model,train_max_len,seed,example,step,x,y,scale,left,top,side,label,predicted";

/// Header of every `glimpse_patches.csv`.
pub const GLIMPSE_PATCHES_HEADER: &str = "model,train_max_len,seed,example,step,scale,y,x,value";

/// One scale of one glimpse of an example (`glimpse_paths.csv`; one row per (model,
/// train_max_len, seed, example, step, scale)): where the glimpse was centred and the
/// square of canvas pixels that scale read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlimpsePathRow {
    #[serde(with = "text")]
    pub model: String,
    /// The number of glimpses the model takes per image (the experiments' `train_max_len`
    /// column, as in `metrics.csv`).
    pub train_max_len: usize,
    pub seed: u64,
    /// Index of the canvas in `example_images.csv` (see
    /// [`ExampleImageRow::example`](super::ExampleImageRow::example)).
    pub example: usize,
    /// Glimpse number, from 0.
    pub step: usize,
    /// Centre of the glimpse in canvas pixels (pixel `p` covers `[p, p + 1)`), column then
    /// row; the same on every scale's row of a step. Written with 2 decimals.
    #[serde(serialize_with = "fixed_decimals::<2, _>")]
    pub x: f64,
    #[serde(serialize_with = "fixed_decimals::<2, _>")]
    pub y: f64,
    /// Scale, from 0 (the finest, the smallest square).
    pub scale: usize,
    /// The square this scale read: columns `left..left + side`, rows `top..top + side`;
    /// it may stick out of the canvas (negative `left`/`top`, or past the far side).
    pub left: i64,
    pub top: i64,
    pub side: usize,
    /// The example's true class, and the class the model predicted after its last
    /// glimpse: the same on every row of an example, written on each so that one file
    /// says which paths ended in a mistake.
    pub label: usize,
    pub predicted: usize,
}

/// One pixel of the patch one scale of one glimpse returned, after the sensor brought it
/// down to `g × g` (`glimpse_patches.csv`; one row per (model, train_max_len, seed,
/// example, step, scale, y, x)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlimpsePatchRow {
    #[serde(with = "text")]
    pub model: String,
    /// The number of glimpses (see [`GlimpsePathRow::train_max_len`]).
    pub train_max_len: usize,
    pub seed: u64,
    pub example: usize,
    pub step: usize,
    pub scale: usize,
    /// Row and column in the `g × g` patch.
    pub y: usize,
    pub x: usize,
    /// Grey value in [0, 1]; written with 4 decimals.
    #[serde(serialize_with = "fixed_decimals::<4, _>")]
    pub value: f64,
}

/// One scale's square of a glimpse, in canvas pixels (see [`GlimpsePathRow::left`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleSquare {
    pub scale: usize,
    pub left: i64,
    pub top: i64,
    pub side: usize,
}

/// A square grey patch: `side × side` values, row-major, in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct GreyPatch {
    pub side: usize,
    pub values: Vec<f32>,
}

/// One glimpse of an example: its centre, its squares (finest first) and, for each
/// square, the patch the sensor returned (`None` when `glimpse_patches.csv` lacks it).
#[derive(Clone, Debug, PartialEq)]
pub struct GlimpseStep {
    pub step: usize,
    /// Centre in canvas pixels, column then row.
    pub x: f64,
    pub y: f64,
    pub squares: Vec<ScaleSquare>,
    /// `patches[i]` is what `squares[i]` returned.
    pub patches: Vec<Option<GreyPatch>>,
}

/// The glimpses of one example, in step order, with its true and predicted class.
#[derive(Clone, Debug, PartialEq)]
pub struct GlimpseExample {
    pub example: usize,
    pub label: usize,
    pub predicted: usize,
    pub steps: Vec<GlimpseStep>,
}

/// The glimpses of one (model, train_max_len, seed) group of `glimpse_paths.csv`, one
/// [`GlimpseExample`] per example in example order (built by
/// [`glimpse_runs`](crate::glimpse_runs)).
#[derive(Clone, Debug, PartialEq)]
pub struct GlimpseRun {
    pub model: String,
    /// The number of glimpses per image.
    pub train_max_len: usize,
    pub seed: u64,
    pub examples: Vec<GlimpseExample>,
}

/// Reads a `glimpse_paths.csv`; errors name the file, the 1-based line and the bad field.
pub fn read_glimpse_paths_csv(path: &Path) -> anyhow::Result<Vec<GlimpsePathRow>> {
    read_rows(path, GLIMPSE_PATHS_HEADER)
}

/// Writes a `glimpse_paths.csv` atomically. `model` must be non-empty and free of commas
/// and line breaks.
pub fn write_glimpse_paths_csv(path: &Path, rows: &[GlimpsePathRow]) -> anyhow::Result<()> {
    write_rows(path, GLIMPSE_PATHS_HEADER, rows)
}

/// Reads a `glimpse_patches.csv`; errors name the file, the 1-based line and the bad field.
pub fn read_glimpse_patches_csv(path: &Path) -> anyhow::Result<Vec<GlimpsePatchRow>> {
    read_rows(path, GLIMPSE_PATCHES_HEADER)
}

/// Writes a `glimpse_patches.csv` atomically. `model` must be non-empty and free of
/// commas and line breaks.
pub fn write_glimpse_patches_csv(path: &Path, rows: &[GlimpsePatchRow]) -> anyhow::Result<()> {
    write_rows(path, GLIMPSE_PATCHES_HEADER, rows)
}
