//! Aggregation over seeds and redrawing whole results folders from their CSVs.
//!
//! * `aggregate`: CSV rows to [`Series`](crate::Series), mean ± std over seeds.
//! * `groups`: alignment, document- and image-attention rows to one matrix, document or
//!   caption per run; example-image and generated-image pixels to images.
//! * `summary`: the `summary.md` tables.
//! * `dir`: which figures a results folder gets, and the walk over a tree of them.
//! * `text_to_image`: the figures of a text-to-image folder (samples, word attention).
//! * `glimpses`: a recurrent attention model's test error against its glimpse count.
//! * `glimpse_paths`: where its glimpses looked and what they saw, per run.

mod aggregate;
mod dir;
mod glimpse_paths;
mod glimpses;
mod groups;
mod summary;
mod text_to_image;

pub use aggregate::{aggregate, cost_series, curve_series, series_name};
pub use dir::{redraw_all, redraw_results_dir};
pub use glimpse_paths::glimpse_runs;
pub use glimpses::{ErrorVsGlimpses, error_vs_glimpses};
pub use groups::{
    alignment_matrices, doc_attention_groups, example_images, generated_images,
    image_attention_groups,
};
pub use summary::summary_markdown;
#[cfg(test)]
pub(crate) use text_to_image::samples;

/// Long-format metrics of a results folder (see [`METRICS_HEADER`](crate::METRICS_HEADER)).
pub const METRICS_FILE: &str = "metrics.csv";
/// Attention weights of one example sentence (see [`ALIGNMENT_HEADER`](crate::ALIGNMENT_HEADER)).
pub const ALIGNMENT_FILE: &str = "alignment.csv";
/// Training-loss curves (see [`CURVE_HEADER`](crate::CURVE_HEADER)).
pub const CURVE_FILE: &str = "learning_curve.csv";
/// Measured cost against sequence length (see [`COST_HEADER`](crate::COST_HEADER)).
pub const COST_FILE: &str = "cost.csv";
/// Attention over the document of one example question (see
/// [`DOC_ATTENTION_HEADER`](crate::DOC_ATTENTION_HEADER)).
pub const DOC_ATTENTION_FILE: &str = "document_attention.csv";
/// Pixels of the example test images of a captioner (see
/// [`EXAMPLE_IMAGES_HEADER`](crate::EXAMPLE_IMAGES_HEADER)).
pub const EXAMPLE_IMAGES_FILE: &str = "example_images.csv";
/// Attention over the example images' grids, word by word (see
/// [`IMAGE_ATTENTION_HEADER`](crate::IMAGE_ATTENTION_HEADER)).
pub const IMAGE_ATTENTION_FILE: &str = "image_attention.csv";
/// Pixels of the images generated from the example captions, per (model, seed) (see
/// [`GENERATED_IMAGES_HEADER`](crate::GENERATED_IMAGES_HEADER)).
pub const GENERATED_IMAGES_FILE: &str = "generated_images.csv";
/// The captions the example images were generated from (see
/// [`EXAMPLE_CAPTIONS_HEADER`](crate::EXAMPLE_CAPTIONS_HEADER)).
pub const EXAMPLE_CAPTIONS_FILE: &str = "example_captions.csv";
/// Where each glimpse of a recurrent attention model looked, per scale (see
/// [`GLIMPSE_PATHS_HEADER`](crate::GLIMPSE_PATHS_HEADER)).
pub const GLIMPSE_PATHS_FILE: &str = "glimpse_paths.csv";
/// What each scale of each glimpse returned (see
/// [`GLIMPSE_PATCHES_HEADER`](crate::GLIMPSE_PATCHES_HEADER)).
pub const GLIMPSE_PATCHES_FILE: &str = "glimpse_patches.csv";
/// Wall-clock times per trained model (see [`TIMINGS_HEADER`](crate::TIMINGS_HEADER)).
pub const TIMINGS_FILE: &str = "timings.csv";

/// The table of a results folder, drawn from its `metrics.csv`.
pub const SUMMARY_FILE: &str = "summary.md";

/// Every CSV a results folder may hold that figures are drawn from; a folder with any of
/// them is redrawn.
pub const RESULT_FILES: [&str; 11] = [
    METRICS_FILE,
    ALIGNMENT_FILE,
    CURVE_FILE,
    COST_FILE,
    DOC_ATTENTION_FILE,
    EXAMPLE_IMAGES_FILE,
    IMAGE_ATTENTION_FILE,
    GENERATED_IMAGES_FILE,
    EXAMPLE_CAPTIONS_FILE,
    GLIMPSE_PATHS_FILE,
    GLIMPSE_PATCHES_FILE,
];
