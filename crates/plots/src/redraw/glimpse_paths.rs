//! Where a recurrent attention model looked and what it saw: `glimpse_paths.csv` and
//! `glimpse_patches.csv` grouped per (model, glimpses, seed), example and step, and drawn
//! over the canvases of `example_images.csv`, one figure per group.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::dir::sanitize;
use super::groups::example_images;
use super::{EXAMPLE_IMAGES_FILE, GLIMPSE_PATCHES_FILE, GLIMPSE_PATHS_FILE};
use crate::data::{
    GlimpseExample, GlimpsePatchRow, GlimpsePathRow, GlimpseRun, GlimpseStep, GreyPatch,
    ScaleSquare, read_example_images_csv, read_glimpse_patches_csv, read_glimpse_paths_csv,
};
use crate::draw::{GlimpseFigureRow, GridImage, glimpse_figure};

/// (model, glimpses, seed, example, step, scale): one scale of one glimpse.
type ScaleKey<'a> = (&'a str, usize, u64, usize, usize, usize);

/// The patches of `rows`, one per (model, glimpses, seed, example, step, scale), each
/// `max(y, x) + 1` wide. Every pixel of that square must be given exactly once: the sensor
/// returns whole patches, so a repeated or missing pixel (or a non-square patch) means a
/// broken file, and is an error naming the patch and the pixel.
fn patches(rows: &[GlimpsePatchRow]) -> anyhow::Result<BTreeMap<ScaleKey<'_>, GreyPatch>> {
    let mut groups: BTreeMap<ScaleKey<'_>, Vec<&GlimpsePatchRow>> = BTreeMap::new();
    for r in rows {
        let key = (
            r.model.as_str(),
            r.train_max_len,
            r.seed,
            r.example,
            r.step,
            r.scale,
        );
        groups.entry(key).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(key, pixels)| {
            let (model, glimpses, seed, example, step, scale) = key;
            let name = || {
                format!(
                    "the patch of {model} ({glimpses} glimpses) seed {seed} example {example} \
                     step {step} scale {scale}"
                )
            };
            let height = pixels.iter().map(|p| p.y + 1).max().unwrap_or(0);
            let width = pixels.iter().map(|p| p.x + 1).max().unwrap_or(0);
            if height != width {
                bail!(
                    "{}: {height} rows and {width} columns, not a square",
                    name()
                );
            }
            let side = height;
            let mut given = vec![false; side * side];
            let mut values = vec![0.0f32; side * side];
            for p in &pixels {
                let at = p.y * side + p.x;
                if std::mem::replace(&mut given[at], true) {
                    bail!("{}: pixel (y {}, x {}) is given twice", name(), p.y, p.x);
                }
                values[at] = p.value as f32;
            }
            if let Some(at) = given.iter().position(|&g| !g) {
                bail!(
                    "{}: pixel (y {}, x {}) of its {side} \u{d7} {side} is missing",
                    name(),
                    at / side,
                    at % side
                );
            }
            Ok((key, GreyPatch { side, values }))
        })
        .collect()
}

/// Groups `glimpse_paths.csv` rows by (model, train_max_len, seed) (sorted by that key),
/// each with its examples in order, their steps in order (steps need not be contiguous)
/// and each step's squares by scale, finest first; a step's centre, and an example's
/// label and prediction, are those of its first row. Each square gets the patch of the
/// same (model, train_max_len, seed, example, step, scale) in `patch_rows`, or `None`.
/// Errors (naming the glimpse) on a scale given twice, on a patch that is not a complete
/// square (see the module's `patches`), and on a patch without a row in `path_rows`.
pub fn glimpse_runs(
    path_rows: &[GlimpsePathRow],
    patch_rows: &[GlimpsePatchRow],
) -> anyhow::Result<Vec<GlimpseRun>> {
    let mut patches = patches(patch_rows)?;
    type Steps<'a> = BTreeMap<usize, Vec<&'a GlimpsePathRow>>;
    let mut runs: BTreeMap<(&str, usize, u64), BTreeMap<usize, Steps<'_>>> = BTreeMap::new();
    for r in path_rows {
        runs.entry((r.model.as_str(), r.train_max_len, r.seed))
            .or_default()
            .entry(r.example)
            .or_default()
            .entry(r.step)
            .or_default()
            .push(r);
    }
    let mut out = Vec::with_capacity(runs.len());
    for ((model, train_max_len, seed), examples) in runs {
        let mut shown = Vec::with_capacity(examples.len());
        for (example, steps) in examples {
            let first = steps.values().next().and_then(|s| s.first());
            let (label, predicted) = first.map_or((0, 0), |r| (r.label, r.predicted));
            let mut glimpses = Vec::with_capacity(steps.len());
            for (step, mut scales) in steps {
                scales.sort_by_key(|r| r.scale);
                if let Some(w) = scales.windows(2).find(|w| w[0].scale == w[1].scale) {
                    bail!(
                        "{model} ({train_max_len} glimpses) seed {seed} example {example} step \
                         {step}: scale {} is given twice",
                        w[0].scale
                    );
                }
                glimpses.push(GlimpseStep {
                    step,
                    x: scales[0].x,
                    y: scales[0].y,
                    squares: scales
                        .iter()
                        .map(|r| ScaleSquare {
                            scale: r.scale,
                            left: r.left,
                            top: r.top,
                            side: r.side,
                        })
                        .collect(),
                    patches: scales
                        .iter()
                        .map(|r| {
                            patches.remove(&(model, train_max_len, seed, example, step, r.scale))
                        })
                        .collect(),
                });
            }
            shown.push(GlimpseExample {
                example,
                label,
                predicted,
                steps: glimpses,
            });
        }
        out.push(GlimpseRun {
            model: model.to_string(),
            train_max_len,
            seed,
            examples: shown,
        });
    }
    if let Some((model, glimpses, seed, example, step, scale)) = patches.into_keys().next() {
        bail!(
            "the patch of {model} ({glimpses} glimpses) seed {seed} example {example} step \
             {step} scale {scale} has no row in {GLIMPSE_PATHS_FILE}"
        );
    }
    Ok(out)
}

/// `glimpses-<model>-<glimpses>-seed<seed>.png` per (model, train_max_len, seed) group of
/// `dir`'s `glimpse_paths.csv` (with `glimpse_patches.csv` when there is one), over the
/// canvases of its `example_images.csv`; see
/// [`redraw_results_dir`](super::redraw_results_dir). Returns the files written.
pub(super) fn draw_glimpse_paths(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let paths_path = dir.join(GLIMPSE_PATHS_FILE);
    let patches_path = dir.join(GLIMPSE_PATCHES_FILE);
    let images_path = dir.join(EXAMPLE_IMAGES_FILE);
    let path_rows = read_glimpse_paths_csv(&paths_path)?;
    let patch_rows = if patches_path.is_file() {
        read_glimpse_patches_csv(&patches_path)?
    } else {
        Vec::new()
    };
    let runs = glimpse_runs(&path_rows, &patch_rows).with_context(|| {
        if patches_path.is_file() {
            format!(
                "reading {} and {}",
                paths_path.display(),
                patches_path.display()
            )
        } else {
            format!("reading {}", paths_path.display())
        }
    })?;
    if !images_path.is_file() {
        bail!(
            "{}: {GLIMPSE_PATHS_FILE} needs the canvases of {EXAMPLE_IMAGES_FILE}, which is missing",
            dir.display()
        );
    }
    let canvases = example_images(&read_example_images_csv(&images_path)?);
    let mut written = Vec::with_capacity(runs.len());
    for run in &runs {
        let mut rows = Vec::with_capacity(run.examples.len());
        for e in &run.examples {
            let Some(canvas) = canvases.iter().find(|c| c.example == e.example) else {
                bail!(
                    "{}: example {} of {GLIMPSE_PATHS_FILE} ({} with {} glimpses, seed {}) is \
                     not in {EXAMPLE_IMAGES_FILE}",
                    dir.display(),
                    e.example,
                    run.model,
                    run.train_max_len,
                    run.seed
                );
            };
            let verdict = if e.predicted == e.label {
                "right"
            } else {
                "wrong"
            };
            rows.push(GlimpseFigureRow {
                caption: format!(
                    "example {}: label {}, predicted {} ({verdict})",
                    e.example, e.label, e.predicted
                ),
                canvas: GridImage {
                    data: &canvas.data,
                    height: canvas.height,
                    width: canvas.width,
                },
                steps: &e.steps,
            });
        }
        let out = dir.join(format!(
            "glimpses-{}-{}-seed{}.png",
            sanitize(&run.model),
            run.train_max_len,
            run.seed
        ));
        let title = format!(
            "{}, {} glimpses (seed {}): where it looked and what it saw",
            run.model, run.train_max_len, run.seed
        );
        glimpse_figure(&out, &title, &rows)
            .with_context(|| format!("drawing {}", out.display()))?;
        written.push(out);
    }
    Ok(written)
}
