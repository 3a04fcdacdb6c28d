//! plots: line plots with ±1 std bands and attention heatmaps, drawn from the
//! CSV files the experiments write into each results folder.
//!
//! The CSV formats (plain comma-separated, one header line, no quoting; read and
//! written through serde row structs, see the `data` module):
//!
//! * [`METRICS_FILE`] (`metrics.csv`), header [`METRICS_HEADER`]: the long-format
//!   metrics table, one [`MetricRow`] per (model, train_max_len, seed, length
//!   bucket, metric); [`read_metrics_csv`] / [`write_metrics_csv`].
//! * [`ALIGNMENT_FILE`] (`alignment.csv`), header [`ALIGNMENT_HEADER`]: attention
//!   weights of one example sentence per (model, train_max_len, seed), one
//!   [`AlignmentRow`] per cell; [`read_alignment_csv`] / [`write_alignment_csv`].
//! * [`CURVE_FILE`] (`learning_curve.csv`), header [`CURVE_HEADER`]: training loss,
//!   one [`CurveRow`] per logged step (averaged over the steps since the previous
//!   row), and validation error rates under models named with
//!   [`VALIDATION_ERROR_SUFFIX`]; [`read_curve_csv`] / [`write_curve_csv`].
//! * [`COST_FILE`] (`cost.csv`), header [`COST_HEADER`]: median wall-clock
//!   milliseconds of a measure (e.g. `train_step`, `decode_sentence`) per (model,
//!   sequence length), one [`CostRow`] each; [`read_cost_csv`] / [`write_cost_csv`].
//! * [`DOC_ATTENTION_FILE`] (`document_attention.csv`), header [`DOC_ATTENTION_HEADER`]:
//!   attention weights over the document tokens of one example question per (model,
//!   seed), one [`DocAttentionRow`] per token; [`read_doc_attention_csv`] /
//!   [`write_doc_attention_csv`].
//! * [`TIMINGS_FILE`] (`timings.csv`), header [`TIMINGS_HEADER`]: wall-clock training
//!   and evaluation time per trained sequence-to-sequence model, one [`TimingRow`]
//!   each; [`read_timings_csv`] / [`write_timings_csv`]. The committed reader results
//!   hold an older variant, header [`READER_TIMINGS_HEADER`], one [`ReaderTimingRow`]
//!   each; [`read_reader_timings_csv`] / [`write_reader_timings_csv`].
//! * [`EXAMPLE_IMAGES_FILE`] (`example_images.csv`), header [`EXAMPLE_IMAGES_HEADER`]:
//!   the pixels of a captioner's example test images, one [`ExampleImageRow`] per
//!   (example, y, x); [`read_example_images_csv`] / [`write_example_images_csv`].
//! * [`IMAGE_ATTENTION_FILE`] (`image_attention.csv`), header [`IMAGE_ATTENTION_HEADER`]:
//!   the attention over each example image's grid per (model, seed) and generated word
//!   (for a text-to-image generator: over its generated image's grid per caption word),
//!   one [`ImageAttentionRow`] per grid cell; [`read_image_attention_csv`] /
//!   [`write_image_attention_csv`].
//! * [`GENERATED_IMAGES_FILE`] (`generated_images.csv`), header
//!   [`GENERATED_IMAGES_HEADER`]: the pixels of the images each (model, seed) of a
//!   text-to-image experiment generated from the example captions, one
//!   [`GeneratedImageRow`] per (model, seed, example, y, x); [`read_generated_images_csv`]
//!   / [`write_generated_images_csv`].
//! * [`EXAMPLE_CAPTIONS_FILE`] (`example_captions.csv`), header
//!   [`EXAMPLE_CAPTIONS_HEADER`]: the caption each example's images were generated from,
//!   one [`ExampleCaptionRow`] per example (a "," stored as `<comma>`);
//!   [`read_example_captions_csv`] / [`write_example_captions_csv`].
//! * [`GLIMPSE_PATHS_FILE`] (`glimpse_paths.csv`), header [`GLIMPSE_PATHS_HEADER`]: where
//!   each glimpse of a recurrent attention model looked on an example canvas (the canvases
//!   are the grey images of `example_images.csv`), one [`GlimpsePathRow`] per (model,
//!   glimpses, seed, example, step, scale), with the example's label and prediction;
//!   [`read_glimpse_paths_csv`] / [`write_glimpse_paths_csv`].
//! * [`GLIMPSE_PATCHES_FILE`] (`glimpse_patches.csv`), header [`GLIMPSE_PATCHES_HEADER`]:
//!   what the sensor returned for each scale of each glimpse, one [`GlimpsePatchRow`] per
//!   pixel of the `g × g` patch; [`read_glimpse_patches_csv`] /
//!   [`write_glimpse_patches_csv`].
//!
//! Drawing:
//!
//! * [`aggregate`], [`curve_series`], [`cost_series`]: CSV rows to [`Series`]
//!   (mean ± std over seeds where there are seeds), named by [`series_name`];
//!   [`error_vs_glimpses`]: test error against the glimpse count, with [`Baseline`]s.
//! * [`alignment_matrices`], [`doc_attention_groups`], [`image_attention_groups`],
//!   [`example_images`], [`generated_images`], [`glimpse_runs`]: CSV rows to one
//!   figure's data each.
//! * [`line_plot_with_bands`], [`line_plot_with_baselines`], [`attention_heatmap`],
//!   [`attention_heatmap_grid`], [`token_shading`], [`attention_strip`], [`image_grid`],
//!   [`glimpse_figure`]: the figure kinds.
//! * [`redraw_results_dir`], [`redraw_all`]: redraw every figure from the CSVs alone.
//!
//! Every file is written atomically (temporary file in the same folder, then
//! `rename`), so a killed run never leaves a truncated PNG or CSV behind.
//!
//! Text is rendered with an embedded DejaVu Sans (see `assets/DejaVuSans-LICENSE`),
//! so no fontconfig or system fonts are needed.

mod data;
mod draw;
mod redraw;

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::Context;

pub use data::{
    ALIGNMENT_HEADER, Alignment, AlignmentRow, COST_HEADER, CURVE_HEADER, CostRow, CurveRow,
    DOC_ATTENTION_HEADER, DocAttention, DocAttentionRow, EXAMPLE_CAPTIONS_HEADER,
    EXAMPLE_IMAGES_HEADER, ExampleCaptionRow, ExampleImage, ExampleImageRow,
    GENERATED_IMAGES_HEADER, GLIMPSE_PATCHES_HEADER, GLIMPSE_PATHS_HEADER, GeneratedImage,
    GeneratedImageRow, GlimpseExample, GlimpsePatchRow, GlimpsePathRow, GlimpseRun, GlimpseStep,
    GreyPatch, IMAGE_ATTENTION_HEADER, ImageAttention, ImageAttentionRow, METRICS_HEADER,
    MetricRow, READER_TIMINGS_HEADER, ReaderTimingRow, ScaleSquare, TIMINGS_HEADER, TimingRow,
    VALIDATION_ERROR_SUFFIX, read_alignment_csv, read_cost_csv, read_curve_csv,
    read_doc_attention_csv, read_example_captions_csv, read_example_images_csv,
    read_generated_images_csv, read_glimpse_patches_csv, read_glimpse_paths_csv,
    read_image_attention_csv, read_metrics_csv, read_reader_timings_csv, read_timings_csv,
    write_alignment_csv, write_cost_csv, write_curve_csv, write_doc_attention_csv,
    write_example_captions_csv, write_example_images_csv, write_generated_images_csv,
    write_glimpse_patches_csv, write_glimpse_paths_csv, write_image_attention_csv,
    write_metrics_csv, write_reader_timings_csv, write_timings_csv,
};
pub use draw::{
    Baseline, GlimpseFigureRow, GridImage, ImageGridRow, Series, attention_heatmap,
    attention_heatmap_grid, attention_strip, glimpse_figure, image_grid, line_plot_with_bands,
    line_plot_with_baselines, token_shading,
};
pub use redraw::{
    ALIGNMENT_FILE, COST_FILE, CURVE_FILE, DOC_ATTENTION_FILE, EXAMPLE_CAPTIONS_FILE,
    EXAMPLE_IMAGES_FILE, ErrorVsGlimpses, GENERATED_IMAGES_FILE, GLIMPSE_PATCHES_FILE,
    GLIMPSE_PATHS_FILE, IMAGE_ATTENTION_FILE, METRICS_FILE, RESULT_FILES, SUMMARY_FILE,
    TIMINGS_FILE, aggregate, alignment_matrices, cost_series, curve_series, doc_attention_groups,
    error_vs_glimpses, example_images, generated_images, glimpse_runs, image_attention_groups,
    redraw_all, redraw_results_dir, series_name, summary_markdown,
};

/// DejaVu Sans, registered as plotters' `"sans-serif"` family.
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static FONT_INIT: Once = Once::new();

/// Registers the embedded font with plotters (idempotent; called by every drawing function).
pub fn ensure_font() {
    FONT_INIT.call_once(|| {
        // The embedded file is a valid TrueType font; a failure here would be a build defect.
        if plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            DEJAVU_SANS,
        )
        .is_err()
        {
            eprintln!("plots: warning: could not register the embedded DejaVu Sans font");
        }
    });
}

/// `<dir>/<name>.<pid>.tmp.<ext>` next to `path` (the extension is kept last so
/// plotters still picks the encoder from it).
fn tmp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_string());
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tmp".to_string());
    path.with_file_name(format!("{name}.{}.tmp.{ext}", std::process::id()))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then `rename`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    with_atomic_path(path, |tmp| {
        std::fs::write(tmp, bytes).with_context(|| format!("writing {}", tmp.display()))
    })
}

/// Runs `write` on a temporary path next to `path`, then renames it onto `path`.
/// On failure the temporary file is removed and `path` is left untouched.
pub fn with_atomic_path<F>(path: &Path, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&Path) -> anyhow::Result<()>,
{
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating folder {}", parent.display()))?;
    }
    let tmp = tmp_path_for(path);
    let result = write(&tmp).and_then(|()| {
        std::fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod alignment_tests;
#[cfg(test)]
mod curve_cost_tests;
#[cfg(test)]
mod doc_attention_tests;
#[cfg(test)]
mod glimpse_tests;
#[cfg(test)]
mod image_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod text_to_image_tests;
