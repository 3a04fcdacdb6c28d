//! The figures of a text-to-image results folder, one holding `generated_images.csv`:
//! the samples under their captions, and the generators' word attention over their own
//! images.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::dir::{attention_strip_file, dir_label};
use super::groups::{example_images, generated_images, image_attention_groups};
use super::{
    EXAMPLE_CAPTIONS_FILE, EXAMPLE_IMAGES_FILE, GENERATED_IMAGES_FILE, IMAGE_ATTENTION_FILE,
};
use crate::data::{
    ExampleCaptionRow, ExampleImage, GeneratedImage, GeneratedImageRow, read_example_captions_csv,
    read_example_images_csv, read_generated_images_csv, read_image_attention_csv,
};
use crate::draw::{GridImage, ImageGridRow, image_grid};

/// What `samples.png` shows: the column names, and per row its caption and one image (or
/// none) per column.
pub(crate) struct Samples<'a> {
    pub(crate) column_names: Vec<String>,
    pub(crate) rows: Vec<ImageGridRow<'a>>,
}

/// The samples of a text-to-image folder (see
/// [`redraw_results_dir`](super::redraw_results_dir)): one row per example of
/// `generated`, in the order of `captions` (examples without a caption last, ascending),
/// captioned `example <example>: <caption>`; columns `real` (when `real` has any of these
/// examples) and then each model of `generated_rows` in order of first appearance, at its
/// lowest seed. Errors on an example captioned twice.
pub(crate) fn samples<'a>(
    generated_rows: &[GeneratedImageRow],
    generated: &'a [GeneratedImage],
    captions: &[ExampleCaptionRow],
    real: &'a [ExampleImage],
) -> anyhow::Result<Samples<'a>> {
    let mut captioned = BTreeSet::new();
    if let Some(twice) = captions.iter().find(|c| !captioned.insert(c.example)) {
        bail!("example {} is captioned twice", twice.example);
    }
    let generated_examples: BTreeSet<usize> = generated.iter().map(|g| g.example).collect();
    let examples: Vec<usize> = captions
        .iter()
        .map(|c| c.example)
        .filter(|e| generated_examples.contains(e))
        .chain(
            generated_examples
                .iter()
                .copied()
                .filter(|e| !captioned.contains(e)),
        )
        .collect();

    let real_image = |example: usize| real.iter().find(|i| i.example == example);
    let with_real = examples.iter().any(|&e| real_image(e).is_some());
    let mut models: Vec<(&str, u64)> = Vec::new();
    for r in generated_rows {
        match models.iter_mut().find(|(m, _)| *m == r.model) {
            Some((_, seed)) => *seed = (*seed).min(r.seed),
            None => models.push((&r.model, r.seed)),
        }
    }
    let column_names = with_real
        .then(|| "real".to_string())
        .into_iter()
        .chain(models.iter().map(|(m, _)| m.to_string()))
        .collect();
    let rows = examples
        .iter()
        .map(|&example| {
            let caption = match captions.iter().find(|c| c.example == example) {
                Some(c) => format!("example {example}: {}", c.caption),
                None => format!("example {example}"),
            };
            let real_cell = with_real.then(|| {
                real_image(example).map(|i| GridImage {
                    data: &i.data,
                    height: i.height,
                    width: i.width,
                })
            });
            let model_cells = models.iter().map(|&(model, seed)| {
                generated
                    .iter()
                    .find(|g| g.model == model && g.seed == seed && g.example == example)
                    .map(|g| GridImage {
                        data: &g.data,
                        height: g.height,
                        width: g.width,
                    })
            });
            ImageGridRow {
                caption,
                images: real_cell.into_iter().chain(model_cells).collect(),
            }
        })
        .collect();
    Ok(Samples { column_names, rows })
}

/// `samples.png`, then the word-attention strips of a folder holding
/// `generated_images.csv`; see [`redraw_results_dir`](super::redraw_results_dir).
pub(super) fn draw_text_to_image(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let generated_path = dir.join(GENERATED_IMAGES_FILE);
    let generated_rows = read_generated_images_csv(&generated_path)?;
    let generated = generated_images(&generated_rows)
        .with_context(|| format!("reading {}", generated_path.display()))?;
    let captions_path = dir.join(EXAMPLE_CAPTIONS_FILE);
    let captions = if captions_path.is_file() {
        read_example_captions_csv(&captions_path)?
    } else {
        Vec::new()
    };
    let images_path = dir.join(EXAMPLE_IMAGES_FILE);
    let real = if images_path.is_file() {
        example_images(&read_example_images_csv(&images_path)?)
    } else {
        Vec::new()
    };
    let mut written = Vec::new();

    let shown = samples(&generated_rows, &generated, &captions, &real)
        .with_context(|| format!("reading {}", captions_path.display()))?;
    let out = dir.join("samples.png");
    let title = format!("{}: samples (lowest seed of each model)", dir_label(dir));
    image_grid(&out, &title, &shown.column_names, &shown.rows)
        .with_context(|| format!("drawing {}", out.display()))?;
    written.push(out);

    let image_attention_path = dir.join(IMAGE_ATTENTION_FILE);
    if image_attention_path.is_file() {
        for a in image_attention_groups(&read_image_attention_csv(&image_attention_path)?) {
            let found = generated
                .iter()
                .find(|g| g.model == a.model && g.seed == a.seed && g.example == a.example);
            let Some(image) = found else {
                bail!(
                    "{}: {} seed {} example {} of {} has no image in {}",
                    dir.display(),
                    a.model,
                    a.seed,
                    a.example,
                    IMAGE_ATTENTION_FILE,
                    GENERATED_IMAGES_FILE
                );
            };
            let out = attention_strip_file(
                dir,
                "word-attention",
                "word attention of stage 2",
                &a,
                (&image.data, image.height, image.width),
            )?;
            written.push(out);
        }
    }
    Ok(written)
}
