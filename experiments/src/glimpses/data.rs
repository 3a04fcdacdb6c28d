//! The glyph pools of a glimpses run and its fixed test canvases.
//!
//! Training images are placed anew for every batch, from a seed that is a function of the
//! step alone ([`training_canvases`]): across epochs an image lands in new places (the
//! paper's "re-placed every epoch", at batch grain), and every model of the run sees the
//! same canvases at the same step. The test canvases are placed once, from the run's
//! `canvas_seed`.

use std::path::Path;

use anyhow::bail;
use datasets::images::canvas::{self, Canvas, CanvasSpec, place_all};
use datasets::images::{LabelledGlyphs, digits, idx, shapes};

use super::{Config, GlimpseTask};
use crate::experiment::Task;

/// What every cell of a run shares.
pub struct GlimpseData {
    /// The glyphs training canvases are built from (objects and clutter alike).
    pub train: LabelledGlyphs,
    /// The glyphs test canvases are built from (clutter too, so no training glyph is
    /// seen at test time).
    pub test: LabelledGlyphs,
    /// Classes of the task.
    pub n_classes: usize,
    /// Each canvas of the run with its test set, in the order of `canvases` then
    /// `sweep_canvases`.
    pub test_canvases: Vec<(CanvasSpec, Vec<Canvas>)>,
}

impl GlimpseData {
    /// The test canvases of `spec` (one of the run's).
    pub fn test_set(&self, spec: &CanvasSpec) -> &[Canvas] {
        self.test_canvases
            .iter()
            .find(|(s, _)| s == spec)
            .map(|(_, canvases)| canvases.as_slice())
            .expect("a canvas of the run")
    }
}

/// The `count` glyphs of `glyphs` at `indices`.
fn subset(glyphs: &LabelledGlyphs, indices: &[usize]) -> LabelledGlyphs {
    LabelledGlyphs {
        glyphs: indices.iter().map(|&i| glyphs.glyphs[i].clone()).collect(),
        labels: indices.iter().map(|&i| glyphs.labels[i]).collect(),
        class_names: glyphs.class_names.clone(),
    }
}

/// A seeded split of `0..n` into training and `test` test indices, the training part then
/// cut to `train` (0: all).
fn split_indices(
    n: usize,
    test: usize,
    train: usize,
    seed: u64,
) -> anyhow::Result<(Vec<usize>, Vec<usize>)> {
    let (mut train_part, test_part) = canvas::split_indices(n, test, seed)?;
    if train > 0 {
        train_part.truncate(train);
    }
    Ok((train_part, test_part))
}

/// Loads the glyphs of `task`, splits them and places the test canvases; prints one line.
pub fn load(config: &Config, task: &GlimpseTask, data_dir: &Path) -> anyhow::Result<GlimpseData> {
    let need = |dir: &Path| -> anyhow::Result<()> {
        if !dir.is_dir() {
            bail!("{} not found: run scripts/fetch-data first", dir.display());
        }
        Ok(())
    };
    let (train, test) = match task {
        GlimpseTask::Digits | GlimpseTask::Shapes => {
            let pool = if *task == GlimpseTask::Digits {
                let dir = data_dir.join("digits");
                need(&dir)?;
                digits::read_digits(&dir)?
            } else {
                shapes::procedural_glyphs(config.shapes_per_class, config.canvas_seed)
            };
            if config.test_images >= pool.glyphs.len() {
                bail!(
                    "config field 'test_images' ({}) must leave training images: the task has {}",
                    config.test_images,
                    pool.glyphs.len()
                );
            }
            let (train, test) = split_indices(
                pool.glyphs.len(),
                config.test_images,
                config.train_images,
                config.canvas_seed,
            )?;
            (subset(&pool, &train), subset(&pool, &test))
        }
        GlimpseTask::Fashion => {
            let dir = data_dir.join("fashion-mnist");
            need(&dir)?;
            let train = idx::read_fashion_mnist(&dir, idx::Split::Train)?;
            let test = idx::read_fashion_mnist(&dir, idx::Split::Test)?;
            if config.test_images > test.glyphs.len() {
                bail!(
                    "config field 'test_images' ({}) is more than the {} test images",
                    config.test_images,
                    test.glyphs.len()
                );
            }
            let (train_idx, _) = split_indices(
                train.glyphs.len(),
                0,
                config.train_images,
                config.canvas_seed,
            )?;
            let (_, test_idx) =
                split_indices(test.glyphs.len(), config.test_images, 0, config.canvas_seed)?;
            (subset(&train, &train_idx), subset(&test, &test_idx))
        }
    };
    let mut specs = config.parse_canvases("canvases", &config.canvases)?;
    specs.extend(config.parse_canvases("sweep_canvases", &config.sweep_canvases)?);
    if train.glyphs.len() < 2 {
        bail!(
            "config field 'train_images' must leave at least 2 training images (clutter is cut from the others)"
        );
    }
    // A glyph unfit for a canvas fails here, named, rather than in the middle of training
    // (see `training_canvases`).
    canvas::check_glyphs(&train)?;
    let all: Vec<usize> = (0..test.glyphs.len()).collect();
    let test_canvases = specs
        .into_iter()
        .map(|spec| Ok((spec, place_all(&test, &all, &spec, config.canvas_seed)?)))
        .collect::<anyhow::Result<_>>()?;
    println!(
        "{}: {} training and {} test images of {} classes",
        task.arg(),
        train.glyphs.len(),
        test.glyphs.len(),
        train.class_names.len()
    );
    Ok(GlimpseData {
        n_classes: train.class_names.len(),
        train,
        test,
        test_canvases,
    })
}

/// The canvases of training step `step` (1-based) for the images at `indices`: placed from
/// a seed of the run's `canvas_seed` and the step alone. [`load`] has checked every training
/// glyph, so placing cannot fail here.
pub fn training_canvases(
    data: &GlimpseData,
    indices: &[usize],
    spec: &CanvasSpec,
    canvas_seed: u64,
    step: u64,
) -> Vec<Canvas> {
    // Distinct from the test placement's seed for every step.
    let seed = canvas_seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(step.wrapping_add(1));
    place_all(&data.train, indices, spec, seed).expect("every training glyph was checked by load")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_seeded_disjoint_and_cut_to_the_asked_sizes() {
        let (train, test) = split_indices(100, 10, 0, 7).unwrap();
        assert_eq!((train.len(), test.len()), (90, 10));
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(
            split_indices(100, 10, 0, 7).unwrap(),
            (train.clone(), test.clone())
        );
        assert_ne!(split_indices(100, 10, 0, 8).unwrap().1, test);
        let (short, same_test) = split_indices(100, 10, 25, 7).unwrap();
        assert_eq!(
            (short.len(), &short[..], same_test),
            (25, &train[..25], test)
        );
    }
}
