//! Redrawing a results folder: which figures each CSV gets, their file names, titles
//! and y ranges; and the walk that redraws every results folder under a root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::aggregate::{aggregate, cost_series, curve_series};
use super::glimpse_paths::draw_glimpse_paths;
use super::glimpses::{GLIMPSES_EXPERIMENT, draw_error_vs_glimpses};
use super::groups::{
    alignment_matrices, doc_attention_groups, example_images, image_attention_groups,
};
use super::summary::{length_label, summary_markdown, y_label_for};
use super::text_to_image::draw_text_to_image;
use super::{
    ALIGNMENT_FILE, COST_FILE, CURVE_FILE, DOC_ATTENTION_FILE, EXAMPLE_IMAGES_FILE,
    GENERATED_IMAGES_FILE, GLIMPSE_PATHS_FILE, IMAGE_ATTENTION_FILE, METRICS_FILE, RESULT_FILES,
    SUMMARY_FILE,
};
use crate::data::{
    ImageAttention, MetricRow, read_alignment_csv, read_cost_csv, read_curve_csv,
    read_doc_attention_csv, read_example_images_csv, read_image_attention_csv, read_metrics_csv,
};
use crate::draw::{
    Series, attention_heatmap, attention_heatmap_grid, attention_strip, line_plot_with_bands,
    token_shading,
};

/// Keeps a file-name component to `[A-Za-z0-9._-]`.
pub(super) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// 0..100 when every mean ± std fits in it (the usual case), otherwise a padded
/// range (starting at 0 for non-negative data).
fn y_range_for(series: &[Series]) -> std::ops::Range<f64> {
    let (lo, hi) = series.iter().flat_map(|s| s.points.iter()).fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(lo, hi), &(_, m, s)| (lo.min(m - s), hi.max(m + s)),
    );
    if !(lo.is_finite() && hi.is_finite()) || (lo >= 0.0 && hi <= 100.0) {
        return 0.0..100.0;
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    let start = if lo >= 0.0 { 0.0 } else { lo - pad };
    start..(hi + pad)
}

/// The y range of a metric's figure: fitted to the data for a cost in millions of
/// FLOPs (`*_mflops`, on no fixed scale: a 0–100 axis would flatten the cheap models
/// against 0), else [`y_range_for`].
fn metric_y_range(metric: &str, series: &[Series]) -> std::ops::Range<f64> {
    if metric.ends_with("_mflops") {
        fitted_y_range(series)
    } else {
        y_range_for(series)
    }
}

/// A y range fitted to the data: from 0 (or a little below the lowest mean − std
/// when that is negative) to 5% above the highest mean + std; `0..1` without data.
pub(super) fn fitted_y_range(series: &[Series]) -> std::ops::Range<f64> {
    let (lo, hi) = series.iter().flat_map(|s| s.points.iter()).fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(lo, hi), &(_, m, s)| {
            if m.is_finite() && s.is_finite() {
                (lo.min(m - s), hi.max(m + s))
            } else {
                (lo, hi)
            }
        },
    );
    if !(lo.is_finite() && hi.is_finite()) {
        return 0.0..1.0;
    }
    let span = hi - lo.min(0.0);
    let pad = if span > 0.0 { span * 0.05 } else { 1.0 };
    let start = if lo >= 0.0 { 0.0 } else { lo - pad };
    if start == 0.0 && hi <= 0.0 {
        return 0.0..1.0; // all zero
    }
    start..(hi + pad)
}

/// The folder's own name for figure titles (resolved for paths like `.`; the path
/// itself when it has no name).
pub(super) fn dir_label(dir: &Path) -> String {
    let named = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    named(dir)
        .or_else(|| dir.canonicalize().ok().as_deref().and_then(named))
        .unwrap_or_else(|| dir.display().to_string())
}

/// What a learning curve's rows measure, for its title and axis: training loss, and
/// validation error where rows of a validation-error model are among them.
fn curve_measure(rows: &[crate::CurveRow]) -> &'static str {
    if (rows.iter()).any(|r| r.model.ends_with(crate::VALIDATION_ERROR_SUFFIX)) {
        "training loss and validation error"
    } else {
        "training loss"
    }
}

/// Redraws every figure of one results folder (holding any of the [`RESULT_FILES`]:
/// `metrics.csv`, `alignment.csv`, `learning_curve.csv`, `cost.csv`,
/// `document_attention.csv`, `example_images.csv`, `image_attention.csv`,
/// `generated_images.csv`, `example_captions.csv`, `glimpse_paths.csv` and
/// `glimpse_patches.csv`) from the CSVs alone, and returns the files written, in this
/// order:
///
/// * for `metrics.csv`: `summary.md` (see [`summary_markdown`]), and for each metric
///   `<metric>.png`, mean ± std over seeds against the bucket midpoint ("source length";
///   the canvas side for the `glimpses` experiment), one series per (model,
///   train_max_len), titled `<experiment> / <task>: <metric>` (see [`aggregate`]); the y
///   axis runs 0–100 when the data fit, except for `*_mflops` metrics, fitted to theirs.
///   If the file holds several (experiment, task) pairs, each gets
///   `<experiment>-<task>-<metric>.png`. Metrics with only "all lengths" rows get no
///   figure. Then, for the rows of experiment `glimpses`, for each `<kind>_error` metric
///   and canvas side (`len_lo == len_hi`) where some model has two or more glimpse counts
///   (`train_max_len`): `error_vs_glimpses-<kind>-<side>.png` (prefixed like the metric
///   figures when there are several pairs), the test error against the number of
///   glimpses, mean ± std over seeds, one series per model with glimpses and a dashed
///   baseline per model without (`train_max_len == 0`) (see
///   [`error_vs_glimpses`](crate::error_vs_glimpses)), titled `<experiment> / <task>:
///   <kind> <side>×<side>, error against glimpses`.
/// * for `alignment.csv`: `alignment.png` when it holds one (model, train_max_len,
///   seed) group, else `alignment-<model>-<train_max_len>-seed<seed>.png` per group
///   and `alignment-grid.png` with all of them side by side ([`attention_heatmap_grid`]).
/// * for `learning_curve.csv`: `learning_curve.png`, training loss against step,
///   mean ± std over seeds, one series per (model, train_max_len) (see
///   [`curve_series`]), titled `<folder name>: training loss`, or `<folder name>:
///   training loss and validation error` when validation-error rows are among them.
/// * for each measure in `cost.csv`: `cost-<measure>.png`, median milliseconds
///   against sequence length, one line per model (see [`cost_series`]).
/// * for each (model, seed) group of `document_attention.csv`:
///   `document_attention-<model>-seed<seed>.png`, the document with each token shaded
///   by its weight ([`token_shading`]), titled
///   `<model> (seed <seed>): attention over the document`.
/// * for a captioner's folder (`example_images.csv` and `image_attention.csv`, no
///   `generated_images.csv`), for each (model, seed, example) group of
///   `image_attention.csv` (in that order):
///   `attention-<model>-seed<seed>-example<example>.png`, the example image and one
///   panel per generated word ([`attention_strip`]), titled
///   `<model> (seed <seed>), example <example>: attention per word`. An example missing
///   from `example_images.csv` is an error.
/// * for a text-to-image folder (`generated_images.csv`):
///   * `samples.png` ([`image_grid`](crate::image_grid)): one row per example of
///     `generated_images.csv`, in the order of `example_captions.csv` (examples it lacks
///     last, ascending), captioned `example <example>: <caption>` (just
///     `example <example>` without a caption); columns: `real`, the image of
///     `example_images.csv`, when that file holds any of these examples, then one per
///     model in order of first appearance in `generated_images.csv`, each at its lowest
///     seed. A missing image leaves its cell saying "no image"; an image with a missing or
///     repeated pixel (see [`generated_images`](crate::generated_images)) and an example
///     captioned twice are errors.
///   * with `image_attention.csv`, for each (model, seed, example) group of it (in that
///     order): `word-attention-<model>-seed<seed>-example<example>.png`, the generated
///     image of that (model, seed, example) and one panel per caption word
///     ([`attention_strip`]), titled
///     `<model> (seed <seed>), example <example>: word attention of stage 2`. A group
///     without its image in `generated_images.csv` is an error. The captioner's
///     `attention-*.png` strips are not drawn in such a folder.
/// * for `glimpse_paths.csv` (with `glimpse_patches.csv` when present), for each (model,
///   train_max_len, seed) group (see [`glimpse_runs`](crate::glimpse_runs)), in that
///   order: `glimpses-<model>-<train_max_len>-seed<seed>.png`, one row per example
///   captioned `example <example>: label <label>, predicted <predicted> (right|wrong)`:
///   its canvas from `example_images.csv` with each glimpse's squares and the path
///   through their centres, then each glimpse's patches
///   ([`glimpse_figure`](crate::glimpse_figure)), titled `<model>, <train_max_len>
///   glimpses (seed <seed>): where it looked and what it saw`. A missing
///   `example_images.csv`, an example missing from it, and a broken patch are errors.
///   `glimpse_patches.csv` alone draws nothing.
pub fn redraw_results_dir(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let metrics_path = dir.join(METRICS_FILE);
    let alignment_path = dir.join(ALIGNMENT_FILE);
    let curve_path = dir.join(CURVE_FILE);
    let cost_path = dir.join(COST_FILE);
    let doc_path = dir.join(DOC_ATTENTION_FILE);
    if !RESULT_FILES.iter().any(|f| dir.join(f).is_file()) {
        bail!(
            "{}: none of {} in this folder",
            dir.display(),
            RESULT_FILES.join(", ")
        );
    }
    let mut written = Vec::new();

    if metrics_path.is_file() {
        let rows = read_metrics_csv(&metrics_path)?;
        let mut by_task: BTreeMap<(&str, &str), Vec<MetricRow>> = BTreeMap::new();
        for r in &rows {
            by_task
                .entry((r.experiment.as_str(), r.task.as_str()))
                .or_default()
                .push(r.clone());
        }
        let summary = dir.join(SUMMARY_FILE);
        crate::write_atomic(&summary, summary_markdown(&rows).as_bytes())?;
        written.push(summary);
        let several = by_task.len() > 1;
        for ((experiment, task), group) in &by_task {
            let mut metrics: Vec<&str> = group.iter().map(|r| r.metric.as_str()).collect();
            metrics.sort_unstable();
            metrics.dedup();
            for metric in metrics {
                let series = aggregate(group, metric);
                if series.iter().all(|s| s.points.is_empty()) {
                    continue;
                }
                let name = if several {
                    format!(
                        "{}-{}-{}.png",
                        sanitize(experiment),
                        sanitize(task),
                        sanitize(metric)
                    )
                } else {
                    format!("{}.png", sanitize(metric))
                };
                let out = dir.join(name);
                line_plot_with_bands(
                    &out,
                    &format!("{experiment} / {task}: {metric}"),
                    length_label(experiment),
                    &y_label_for(metric),
                    metric_y_range(metric, &series),
                    &series,
                )
                .with_context(|| format!("drawing {}", out.display()))?;
                written.push(out);
            }
            if *experiment == GLIMPSES_EXPERIMENT {
                written.extend(draw_error_vs_glimpses(
                    dir,
                    (experiment, task),
                    group,
                    several,
                )?);
            }
        }
    }

    if alignment_path.is_file() {
        let rows = read_alignment_csv(&alignment_path)?;
        let matrices = alignment_matrices(&rows);
        let several = matrices.len() > 1;
        for a in &matrices {
            let out = if several {
                dir.join(format!(
                    "alignment-{}-{}-seed{}.png",
                    sanitize(&a.model),
                    a.train_max_len,
                    a.seed
                ))
            } else {
                dir.join("alignment.png")
            };
            let title = format!(
                "{}-{} (seed {}): alignment",
                a.model, a.train_max_len, a.seed
            );
            attention_heatmap(&out, &title, &a.src_tokens, &a.tgt_tokens, &a.weights)
                .with_context(|| format!("drawing {}", out.display()))?;
            written.push(out);
        }
        if several {
            let out = dir.join("alignment-grid.png");
            let title = format!("{}: alignment", dir_label(dir));
            attention_heatmap_grid(&out, &title, &matrices)
                .with_context(|| format!("drawing {}", out.display()))?;
            written.push(out);
        }
    }

    if curve_path.is_file() {
        let rows = read_curve_csv(&curve_path)?;
        let what = curve_measure(&rows);
        let series = curve_series(&rows);
        let out = dir.join("learning_curve.png");
        line_plot_with_bands(
            &out,
            &format!("{}: {what}", dir_label(dir)),
            "step",
            what,
            fitted_y_range(&series),
            &series,
        )
        .with_context(|| format!("drawing {}", out.display()))?;
        written.push(out);
    }

    if cost_path.is_file() {
        let rows = read_cost_csv(&cost_path)?;
        let mut measures: Vec<&str> = rows.iter().map(|r| r.measure.as_str()).collect();
        measures.sort_unstable();
        measures.dedup();
        for measure in measures {
            let series = cost_series(&rows, measure);
            let out = dir.join(format!("cost-{}.png", sanitize(measure)));
            line_plot_with_bands(
                &out,
                &format!("cost: {measure} (ms, median)"),
                "sequence length",
                &format!("ms per {}", measure.replace('_', " ")),
                fitted_y_range(&series),
                &series,
            )
            .with_context(|| format!("drawing {}", out.display()))?;
            written.push(out);
        }
    }

    if doc_path.is_file() {
        for d in doc_attention_groups(&read_doc_attention_csv(&doc_path)?) {
            let out = dir.join(format!(
                "document_attention-{}-seed{}.png",
                sanitize(&d.model),
                d.seed
            ));
            let title = format!("{} (seed {}): attention over the document", d.model, d.seed);
            token_shading(&out, &title, &d.tokens, &d.weights)
                .with_context(|| format!("drawing {}", out.display()))?;
            written.push(out);
        }
    }

    let images_path = dir.join(EXAMPLE_IMAGES_FILE);
    let image_attention_path = dir.join(IMAGE_ATTENTION_FILE);
    let generated_path = dir.join(GENERATED_IMAGES_FILE);
    if generated_path.is_file() {
        written.extend(draw_text_to_image(dir)?);
    } else if images_path.is_file() && image_attention_path.is_file() {
        let images = example_images(&read_example_images_csv(&images_path)?);
        for a in image_attention_groups(&read_image_attention_csv(&image_attention_path)?) {
            let Some(image) = images.iter().find(|i| i.example == a.example) else {
                bail!(
                    "{}: example {} of {} ({} seed {}) is not in {}",
                    dir.display(),
                    a.example,
                    IMAGE_ATTENTION_FILE,
                    a.model,
                    a.seed,
                    EXAMPLE_IMAGES_FILE
                );
            };
            let out = attention_strip_file(
                dir,
                "attention",
                "attention per word",
                &a,
                (&image.data, image.height, image.width),
            )?;
            written.push(out);
        }
    }

    if dir.join(GLIMPSE_PATHS_FILE).is_file() {
        written.extend(draw_glimpse_paths(dir)?);
    }
    Ok(written)
}

/// Draws `attention`'s per-word strip over an image `(data [3, h, w], h, w)` into
/// `dir/<prefix>-<model>-seed<seed>-example<example>.png`, titled
/// `<model> (seed <seed>), example <example>: <what>`; returns the path.
pub(crate) fn attention_strip_file(
    dir: &Path,
    prefix: &str,
    what: &str,
    attention: &ImageAttention,
    (data, height, width): (&[f32], usize, usize),
) -> anyhow::Result<PathBuf> {
    let a = attention;
    let out = dir.join(format!(
        "{prefix}-{}-seed{}-example{}.png",
        sanitize(&a.model),
        a.seed,
        a.example
    ));
    let title = format!(
        "{} (seed {}), example {}: {what}",
        a.model, a.seed, a.example
    );
    attention_strip(&out, data, height, width, &a.words, &a.weights, &title)
        .with_context(|| format!("drawing {}", out.display()))?;
    Ok(out)
}

/// Walks `root` recursively (sorted, not following symbolic links, skipping hidden
/// folders) and calls [`redraw_results_dir`] on every folder that contains any of the
/// [`RESULT_FILES`]; returns all files written. Stops at the first error.
pub fn redraw_all(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !root.is_dir() {
        bail!("{}: not a folder", root.display());
    }
    let mut dirs = Vec::new();
    collect_result_dirs(root, &mut dirs)?;
    let mut written = Vec::new();
    for d in dirs {
        written.extend(redraw_results_dir(&d)?);
    }
    Ok(written)
}

/// The folder of a run's checkpoints and unmerged cell parts, never read for figures.
const CHECKPOINTS_DIR: &str = "checkpoints";

fn collect_result_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if RESULT_FILES.iter().any(|f| dir.join(f).is_file()) {
        out.push(dir.to_path_buf());
    }
    let mut subdirs = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("listing folder {}", dir.display()))?
    {
        let entry = entry.with_context(|| format!("listing folder {}", dir.display()))?;
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let name = entry.file_name().to_string_lossy().into_owned();
        // A run's `checkpoints/` holds unfinished state and the parts of cells not yet
        // merged (a long run's finished cells are committed there): each part is one
        // cell's rows, not a result, and may lack the files its figures need.
        let hidden = name.starts_with('.');
        if is_dir && !hidden && name != CHECKPOINTS_DIR {
            subdirs.push(entry.path());
        }
    }
    subdirs.sort();
    for d in subdirs {
        collect_result_dirs(&d, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CurveRow;

    /// A run whose cells are not merged yet has only `checkpoints/cells/<i>/` parts; a
    /// glimpse-path part without its `example_images.csv` would be an error if read.
    #[test]
    fn cell_parts_under_checkpoints_are_not_results() {
        let tmp = crate::test_support::scratch("results");
        let root = tmp.path();
        let part = root.join("glimpses-long/digits/checkpoints/cells/3");
        std::fs::create_dir_all(&part).unwrap();
        std::fs::write(
            part.join(GLIMPSE_PATHS_FILE),
            "model,glimpses,seed,example,step,scale,x0,y0,side\n",
        )
        .unwrap();
        let mut dirs = Vec::new();
        collect_result_dirs(root, &mut dirs).unwrap();
        assert!(dirs.is_empty(), "{dirs:?}");
        // The same folder outside checkpoints/ is a results folder.
        let results = root.join("glimpses/digits");
        std::fs::create_dir_all(&results).unwrap();
        std::fs::copy(
            part.join(GLIMPSE_PATHS_FILE),
            results.join(GLIMPSE_PATHS_FILE),
        )
        .unwrap();
        collect_result_dirs(root, &mut dirs).unwrap();
        assert_eq!(dirs, vec![results]);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_curve_with_validation_rows_says_so() {
        let row = |model: &str| CurveRow {
            model: model.into(),
            train_max_len: 0,
            seed: 1,
            step: 100,
            loss: 0.5,
        };
        assert_eq!(curve_measure(&[row("attentive")]), "training loss");
        assert_eq!(
            curve_measure(&[row("attentive"), row("attentive validation error")]),
            "training loss and validation error"
        );
    }
}
