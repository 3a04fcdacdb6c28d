//! The CSV formats of a results folder, one serde row struct each: long-format
//! metrics ([`MetricRow`]), attention alignments ([`AlignmentRow`]), learning curves
//! ([`CurveRow`]), measured cost against sequence length ([`CostRow`]), attention over
//! a document ([`DocAttentionRow`]), training times ([`TimingRow`], and the reading
//! experiments' older [`ReaderTimingRow`]), the pixels of example test images
//! ([`ExampleImageRow`]), the attention over an image's grid per word
//! ([`ImageAttentionRow`]), the pixels of generated images ([`GeneratedImageRow`]) and
//! the captions images were generated from ([`ExampleCaptionRow`]); and, in their own
//! file `glimpses`, where a recurrent attention model's glimpses looked
//! ([`GlimpsePathRow`]) and what its sensor returned ([`GlimpsePatchRow`]).
//!
//! Every file is one header line, then one line per row, `\n`-terminated, fields
//! separated by commas and never quoted. Floats are written with a fixed number of
//! decimals per column (given on each field), so a file is reproducible byte for byte.
//! Text fields such as `model` or `metric` must be non-empty and free of commas and
//! line breaks (writing refuses them). Tokens and captions can be any text: a "," in
//! them is written as `<comma>` and a line break as a space. The csv crate could quote such a
//! token instead, but the committed results store `<comma>`, so the escape is kept:
//! the writers reproduce those files exactly and the readers read them as they are.
//!
//! Reading checks the header and the field count of every line; errors name the
//! file, the 1-based line and the field, e.g.
//! `results/x/metrics.csv:7: field 'value': invalid float literal "abc"`.

mod fields;
mod glimpses;
mod io;

use std::path::Path;

use serde::{Deserialize, Serialize};

use fields::{fixed_decimals, text, token};
use io::{read_rows, write_rows};

pub use glimpses::{
    GLIMPSE_PATCHES_HEADER, GLIMPSE_PATHS_HEADER, GlimpseExample, GlimpsePatchRow, GlimpsePathRow,
    GlimpseRun, GlimpseStep, GreyPatch, ScaleSquare, read_glimpse_patches_csv,
    read_glimpse_paths_csv, write_glimpse_patches_csv, write_glimpse_paths_csv,
};

/// Header of every `metrics.csv`.
pub const METRICS_HEADER: &str =
    "experiment,task,model,train_max_len,seed,len_lo,len_hi,n,metric,value";

/// Header of every `alignment.csv`.
pub const ALIGNMENT_HEADER: &str =
    "model,train_max_len,seed,tgt_pos,tgt_token,src_pos,src_token,weight";

/// Header of every `learning_curve.csv`.
pub const CURVE_HEADER: &str = "model,train_max_len,seed,step,loss";

/// Header of every `cost.csv`.
pub const COST_HEADER: &str = "model,seq_len,measure,median_ms,repeats";

/// Header of every `document_attention.csv`.
pub const DOC_ATTENTION_HEADER: &str = "model,seed,position,token,weight";

/// Header of every `example_images.csv`.
pub const EXAMPLE_IMAGES_HEADER: &str = "example,y,x,red,green,blue";

/// Header of every `image_attention.csv`.
pub const IMAGE_ATTENTION_HEADER: &str = "model,seed,example,step,word,cell,weight";

/// Header of every `generated_images.csv`.
pub const GENERATED_IMAGES_HEADER: &str = "model,seed,example,y,x,red,green,blue";

/// Header of every `example_captions.csv`.
pub const EXAMPLE_CAPTIONS_HEADER: &str = "example,caption";

/// Header of the `timings.csv` of the sequence-to-sequence experiments.
pub const TIMINGS_HEADER: &str =
    "model,train_max_len,seed,steps,train_seconds,ms_per_step,eval_seconds";

/// Header of the `timings.csv` of the committed reading-comprehension results.
pub const READER_TIMINGS_HEADER: &str = "model,seed,steps,train_seconds,ms_per_step";

/// One long-format row of `metrics.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    #[serde(with = "text")]
    pub experiment: String,
    #[serde(with = "text")]
    pub task: String,
    #[serde(with = "text")]
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    /// Inclusive source-length bucket; `len_lo == len_hi == 0` means "all lengths".
    pub len_lo: usize,
    pub len_hi: usize,
    /// Number of test sentences in the bucket.
    pub n: usize,
    #[serde(with = "text")]
    pub metric: String,
    /// On a 0–100 scale; written with 4 decimals.
    #[serde(serialize_with = "fixed_decimals::<4, _>")]
    pub value: f64,
}

impl MetricRow {
    /// True for the "all lengths" rows (`len_lo == 0 && len_hi == 0`).
    pub fn is_overall(&self) -> bool {
        self.len_lo == 0 && self.len_hi == 0
    }
}

/// One cell of an attention matrix of one example sentence (`alignment.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlignmentRow {
    #[serde(with = "text")]
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    pub tgt_pos: usize,
    /// The token as text (a "," here is stored as `<comma>` in the file).
    #[serde(with = "token")]
    pub tgt_token: String,
    pub src_pos: usize,
    #[serde(with = "token")]
    pub src_token: String,
    /// Written with 6 decimals.
    #[serde(serialize_with = "fixed_decimals::<6, _>")]
    pub weight: f64,
}

/// The attention matrix of one (model, train_max_len, seed) group of `alignment.csv`
/// (built by [`alignment_matrices`](crate::alignment_matrices)).
#[derive(Clone, Debug, PartialEq)]
pub struct Alignment {
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    /// Source tokens in position order.
    pub src_tokens: Vec<String>,
    /// Target tokens in position order.
    pub tgt_tokens: Vec<String>,
    /// `[tgt][src]`; cells missing from the file are 0.
    pub weights: Vec<Vec<f32>>,
}

/// The ending of a `learning_curve.csv` model name whose rows are validation error rates
/// (0 to 1) at checked steps, not training losses: `attentive validation error`.
pub const VALIDATION_ERROR_SUFFIX: &str = " validation error";

/// One point of a training-loss curve (`learning_curve.csv`), or of a validation-error
/// curve (a model named with [`VALIDATION_ERROR_SUFFIX`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurveRow {
    #[serde(with = "text")]
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    /// Training step (number of updates done) at which the row was logged.
    pub step: usize,
    /// Training loss averaged over the steps since the previous row (a validation error
    /// rate at this step for a validation-error model); written with 6 decimals.
    #[serde(serialize_with = "fixed_decimals::<6, _>")]
    pub loss: f64,
}

/// One timing of `cost.csv`: the median wall-clock time of one measure at one length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostRow {
    #[serde(with = "text")]
    pub model: String,
    /// Sequence length the timing was taken at.
    pub seq_len: usize,
    /// What was timed, e.g. `train_step` or `decode_sentence`.
    #[serde(with = "text")]
    pub measure: String,
    /// Median wall-clock milliseconds over `repeats` timings; written with 3 decimals.
    #[serde(serialize_with = "fixed_decimals::<3, _>")]
    pub median_ms: f64,
    pub repeats: usize,
}

/// The attention weight on one document token of one example question
/// (`document_attention.csv`; the same example for every model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocAttentionRow {
    #[serde(with = "text")]
    pub model: String,
    pub seed: u64,
    /// Position of the token in the document (0-based in practice; only the order matters).
    pub position: usize,
    /// The token as text (a "," here is stored as `<comma>` in the file).
    #[serde(with = "token")]
    pub token: String,
    /// Written with 6 decimals.
    #[serde(serialize_with = "fixed_decimals::<6, _>")]
    pub weight: f64,
}

/// The attention over the document of one (model, seed) group of
/// `document_attention.csv` (built by [`doc_attention_groups`](crate::doc_attention_groups)).
#[derive(Clone, Debug, PartialEq)]
pub struct DocAttention {
    pub model: String,
    pub seed: u64,
    /// Document tokens in position order.
    pub tokens: Vec<String>,
    /// One weight per token.
    pub weights: Vec<f32>,
}

/// One pixel of an example test image (`example_images.csv`; rows in (example, y, x)
/// order, the same images for every model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleImageRow {
    /// Index of the example among the drawn test images.
    pub example: usize,
    /// Row, from the top.
    pub y: usize,
    /// Column, from the left.
    pub x: usize,
    /// Channel values in [0, 1]; written with 4 decimals.
    #[serde(serialize_with = "fixed_decimals::<4, _>")]
    pub red: f64,
    #[serde(serialize_with = "fixed_decimals::<4, _>")]
    pub green: f64,
    #[serde(serialize_with = "fixed_decimals::<4, _>")]
    pub blue: f64,
}

/// One example image of `example_images.csv` (built by
/// [`example_images`](crate::example_images)).
#[derive(Clone, Debug, PartialEq)]
pub struct ExampleImage {
    pub example: usize,
    pub height: usize,
    pub width: usize,
    /// `3 * height * width` values, channel-major: the red plane, then green, then blue
    /// (as `datasets::images::RgbImage` stores them); pixels missing from the file are 0.
    pub data: Vec<f32>,
}

/// The attention weight on one cell of an image's grid when one word of its caption was
/// generated (`image_attention.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageAttentionRow {
    #[serde(with = "text")]
    pub model: String,
    pub seed: u64,
    /// Index of the example image (see [`ExampleImageRow::example`]).
    pub example: usize,
    /// Decoding step, from 0: the position of `word` in the generated caption.
    pub step: usize,
    /// The generated word (a "," here is stored as `<comma>` in the file).
    #[serde(with = "token")]
    pub word: String,
    /// Grid cell, `row * G + col` on the G × G grid of annotations.
    pub cell: usize,
    /// Written with 6 decimals.
    #[serde(serialize_with = "fixed_decimals::<6, _>")]
    pub weight: f64,
}

/// The attention of one (model, seed, example) group of `image_attention.csv`, word by
/// word (built by [`image_attention_groups`](crate::image_attention_groups)).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageAttention {
    pub model: String,
    pub seed: u64,
    pub example: usize,
    /// Generated words in step order.
    pub words: Vec<String>,
    /// Side G of the grid: the smallest with `G * G` above every cell index of the group.
    pub grid: usize,
    /// One row-major G × G grid of weights per word; cells missing from the file are 0.
    pub weights: Vec<Vec<f32>>,
}

/// One pixel of an image generated from the caption of a test example
/// (`generated_images.csv`; rows in (model, seed, example, y, x) order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeneratedImageRow {
    #[serde(with = "text")]
    pub model: String,
    pub seed: u64,
    /// Index of the test example whose caption the image was generated from (see
    /// [`ExampleCaptionRow::example`]).
    pub example: usize,
    /// Row, from the top.
    pub y: usize,
    /// Column, from the left.
    pub x: usize,
    /// Channel values in [0, 1]; written with 4 decimals.
    #[serde(serialize_with = "fixed_decimals::<4, _>")]
    pub red: f64,
    #[serde(serialize_with = "fixed_decimals::<4, _>")]
    pub green: f64,
    #[serde(serialize_with = "fixed_decimals::<4, _>")]
    pub blue: f64,
}

/// The image one (model, seed) generated for one example, from `generated_images.csv`
/// (built by [`generated_images`](crate::generated_images)).
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedImage {
    pub model: String,
    pub seed: u64,
    pub example: usize,
    pub height: usize,
    pub width: usize,
    /// `3 * height * width` values, channel-major: the red plane, then green, then blue
    /// (as `datasets::images::RgbImage` stores them).
    pub data: Vec<f32>,
}

/// The caption of one test example, the one its images were generated from
/// (`example_captions.csv`; one row per example).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleCaptionRow {
    /// Index of the test example (see [`GeneratedImageRow::example`]).
    pub example: usize,
    /// The caption's words joined by single spaces. Written like a token: each "," as
    /// `<comma>` (a line break as a space), read back verbatim with `<comma>` turned
    /// back into ",", so spaces and commas survive the round trip.
    #[serde(with = "token")]
    pub caption: String,
}

/// Wall-clock times of one trained model, as the sequence-to-sequence experiments
/// write them to `timings.csv` (header [`TIMINGS_HEADER`]). Not reproducible, hence
/// kept apart from `metrics.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimingRow {
    #[serde(with = "text")]
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    /// Training steps done.
    pub steps: usize,
    /// Seconds of training; written with 3 decimals.
    #[serde(serialize_with = "fixed_decimals::<3, _>")]
    pub train_seconds: f64,
    /// Milliseconds per training step (`1000 * train_seconds / steps`); written with 2 decimals.
    #[serde(serialize_with = "fixed_decimals::<2, _>")]
    pub ms_per_step: f64,
    /// Seconds of evaluation on the test set; written with 3 decimals.
    #[serde(serialize_with = "fixed_decimals::<3, _>")]
    pub eval_seconds: f64,
}

/// Training time of one trained reader in the reading experiments' format before they
/// moved to the shared recorder (header [`READER_TIMINGS_HEADER`]: no `train_max_len`,
/// no `eval_seconds`). Kept so that the committed `results/reader*` files still read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReaderTimingRow {
    #[serde(with = "text")]
    pub model: String,
    pub seed: u64,
    /// Training steps done.
    pub steps: usize,
    /// Seconds of training; written with 3 decimals.
    #[serde(serialize_with = "fixed_decimals::<3, _>")]
    pub train_seconds: f64,
    /// Milliseconds per training step (`1000 * train_seconds / steps`); written with 2 decimals.
    #[serde(serialize_with = "fixed_decimals::<2, _>")]
    pub ms_per_step: f64,
}

/// Reads a `metrics.csv`; errors name the file, the 1-based line and the bad field.
pub fn read_metrics_csv(path: &Path) -> anyhow::Result<Vec<MetricRow>> {
    read_rows(path, METRICS_HEADER)
}

/// Writes a `metrics.csv` atomically (temporary file, then rename). Text fields must
/// be non-empty and free of commas and line breaks.
pub fn write_metrics_csv(path: &Path, rows: &[MetricRow]) -> anyhow::Result<()> {
    write_rows(path, METRICS_HEADER, rows)
}

/// Reads an `alignment.csv`; `<comma>` in tokens is turned back into ",".
pub fn read_alignment_csv(path: &Path) -> anyhow::Result<Vec<AlignmentRow>> {
    read_rows(path, ALIGNMENT_HEADER)
}

/// Writes an `alignment.csv` atomically; commas in tokens are stored as `<comma>`.
/// `model` must be non-empty and free of commas and line breaks.
pub fn write_alignment_csv(path: &Path, rows: &[AlignmentRow]) -> anyhow::Result<()> {
    write_rows(path, ALIGNMENT_HEADER, rows)
}

/// Reads a `learning_curve.csv`.
pub fn read_curve_csv(path: &Path) -> anyhow::Result<Vec<CurveRow>> {
    read_rows(path, CURVE_HEADER)
}

/// Writes a `learning_curve.csv` atomically. `model` must be non-empty and free of
/// commas and line breaks.
pub fn write_curve_csv(path: &Path, rows: &[CurveRow]) -> anyhow::Result<()> {
    write_rows(path, CURVE_HEADER, rows)
}

/// Reads a `cost.csv`.
pub fn read_cost_csv(path: &Path) -> anyhow::Result<Vec<CostRow>> {
    read_rows(path, COST_HEADER)
}

/// Writes a `cost.csv` atomically. `model` and `measure` must be non-empty and free of
/// commas and line breaks.
pub fn write_cost_csv(path: &Path, rows: &[CostRow]) -> anyhow::Result<()> {
    write_rows(path, COST_HEADER, rows)
}

/// Reads a `document_attention.csv`; `<comma>` in tokens is turned back into ",".
pub fn read_doc_attention_csv(path: &Path) -> anyhow::Result<Vec<DocAttentionRow>> {
    read_rows(path, DOC_ATTENTION_HEADER)
}

/// Writes a `document_attention.csv` atomically; commas in tokens are stored as
/// `<comma>`. `model` must be non-empty and free of commas and line breaks.
pub fn write_doc_attention_csv(path: &Path, rows: &[DocAttentionRow]) -> anyhow::Result<()> {
    write_rows(path, DOC_ATTENTION_HEADER, rows)
}

/// Reads a sequence-to-sequence `timings.csv` (header [`TIMINGS_HEADER`]).
pub fn read_timings_csv(path: &Path) -> anyhow::Result<Vec<TimingRow>> {
    read_rows(path, TIMINGS_HEADER)
}

/// Writes a sequence-to-sequence `timings.csv` atomically. `model` must be non-empty
/// and free of commas and line breaks.
pub fn write_timings_csv(path: &Path, rows: &[TimingRow]) -> anyhow::Result<()> {
    write_rows(path, TIMINGS_HEADER, rows)
}

/// Reads a `timings.csv` in the older reading-experiment format
/// (header [`READER_TIMINGS_HEADER`]).
pub fn read_reader_timings_csv(path: &Path) -> anyhow::Result<Vec<ReaderTimingRow>> {
    read_rows(path, READER_TIMINGS_HEADER)
}

/// Writes a `timings.csv` in the older reading-experiment format atomically.
pub fn write_reader_timings_csv(path: &Path, rows: &[ReaderTimingRow]) -> anyhow::Result<()> {
    write_rows(path, READER_TIMINGS_HEADER, rows)
}

/// Reads an `example_images.csv`.
pub fn read_example_images_csv(path: &Path) -> anyhow::Result<Vec<ExampleImageRow>> {
    read_rows(path, EXAMPLE_IMAGES_HEADER)
}

/// Writes an `example_images.csv` atomically.
pub fn write_example_images_csv(path: &Path, rows: &[ExampleImageRow]) -> anyhow::Result<()> {
    write_rows(path, EXAMPLE_IMAGES_HEADER, rows)
}

/// Reads an `image_attention.csv`; `<comma>` in words is turned back into ",".
pub fn read_image_attention_csv(path: &Path) -> anyhow::Result<Vec<ImageAttentionRow>> {
    read_rows(path, IMAGE_ATTENTION_HEADER)
}

/// Writes an `image_attention.csv` atomically; commas in words are stored as
/// `<comma>`. `model` must be non-empty and free of commas and line breaks.
pub fn write_image_attention_csv(path: &Path, rows: &[ImageAttentionRow]) -> anyhow::Result<()> {
    write_rows(path, IMAGE_ATTENTION_HEADER, rows)
}

/// Reads a `generated_images.csv`.
pub fn read_generated_images_csv(path: &Path) -> anyhow::Result<Vec<GeneratedImageRow>> {
    read_rows(path, GENERATED_IMAGES_HEADER)
}

/// Writes a `generated_images.csv` atomically. `model` must be non-empty and free of
/// commas and line breaks.
pub fn write_generated_images_csv(path: &Path, rows: &[GeneratedImageRow]) -> anyhow::Result<()> {
    write_rows(path, GENERATED_IMAGES_HEADER, rows)
}

/// Reads an `example_captions.csv`; `<comma>` in captions is turned back into ",".
pub fn read_example_captions_csv(path: &Path) -> anyhow::Result<Vec<ExampleCaptionRow>> {
    read_rows(path, EXAMPLE_CAPTIONS_HEADER)
}

/// Writes an `example_captions.csv` atomically; commas in captions are stored as
/// `<comma>`.
pub fn write_example_captions_csv(path: &Path, rows: &[ExampleCaptionRow]) -> anyhow::Result<()> {
    write_rows(path, EXAMPLE_CAPTIONS_HEADER, rows)
}

/// One row as the writers write it, without the line break (for the tests).
#[cfg(test)]
macro_rules! impl_to_csv_line {
    ($($row:ty),*) => {$(
        impl $row {
            pub(crate) fn to_csv_line(&self) -> String {
                io::csv_line(self).unwrap()
            }
        }
    )*};
}

#[cfg(test)]
impl_to_csv_line!(MetricRow, DocAttentionRow);

#[cfg(test)]
mod tests;
