//! What the image experiments share: the glyphs their scenes are drawn from, and scenes as
//! image tensors.

use std::ops::Range;
use std::path::Path;

use anyhow::bail;
use burn::tensor::{Device, Tensor, TensorData};
use datasets::images::{LabelledGlyphs, RgbImage, digits, idx, shapes};
use datasets::scenes::{Mention, Scene};
use plots::ExampleImageRow;

/// Which glyphs a scene task draws its objects from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlyphSet {
    /// Handwritten digits and Fashion-MNIST training images, fetched by
    /// `scripts/fetch-data` into `data/digits` and `data/fashion-mnist`.
    Real,
    /// Six procedural shapes, `per_class` glyphs each: needs no data (smoke runs, tests).
    Procedural { per_class: usize },
}

/// The glyph sources of a scene task; `seed` draws the procedural glyphs.
pub fn glyph_sources(
    set: GlyphSet,
    seed: u64,
    data_dir: &Path,
) -> anyhow::Result<Vec<LabelledGlyphs>> {
    match set {
        GlyphSet::Procedural { per_class } => Ok(vec![shapes::procedural_glyphs(per_class, seed)]),
        GlyphSet::Real => {
            let (digits_dir, fashion_dir) =
                (data_dir.join("digits"), data_dir.join("fashion-mnist"));
            for dir in [&digits_dir, &fashion_dir] {
                if !dir.is_dir() {
                    bail!("{} not found: run scripts/fetch-data first", dir.display());
                }
            }
            Ok(vec![
                digits::read_digits(&digits_dir)?,
                idx::read_fashion_mnist(&fashion_dir, idx::Split::Train)?,
            ])
        }
    }
}

/// The images of `scenes` as a tensor `[B, 3, H, W]` (all of one size).
pub fn images_tensor(scenes: &[&Scene], device: &Device) -> Tensor<4> {
    let RgbImage { height, width, .. } = scenes[0].image;
    let data: Vec<f32> = scenes
        .iter()
        .flat_map(|s| s.image.data.iter().copied())
        .collect();
    Tensor::from_data(
        TensorData::new(data, [scenes.len(), 3, height, width]),
        device,
    )
}

/// Each pixel of `image` as `(y, x, [red, green, blue])`, row by row.
pub fn pixels(image: &RgbImage) -> impl Iterator<Item = (usize, usize, [f64; 3])> + '_ {
    (0..image.height).flat_map(move |y| {
        (0..image.width).map(move |x| {
            let at = |c: usize| f64::from(image.at(c, y, x));
            (y, x, [at(0), at(1), at(2)])
        })
    })
}

/// `example_images.csv` rows of one image, drawn as example `example`.
pub fn example_image_rows(image: &RgbImage, example: usize) -> Vec<ExampleImageRow> {
    pixels(image)
        .map(|(y, x, [red, green, blue])| ExampleImageRow {
            example,
            y,
            x,
            red,
            green,
            blue,
        })
        .collect()
}

/// The first scene with each number of objects, in order of first appearance.
pub fn first_of_each_count(scenes: &[Scene]) -> Vec<usize> {
    let mut seen = Vec::new();
    let mut first = Vec::new();
    for (i, scene) in scenes.iter().enumerate() {
        if !seen.contains(&scene.objects.len()) {
            seen.push(scene.objects.len());
            first.push(i);
        }
    }
    first
}

/// The `<prefix>pointing_accuracy` and `<prefix>pointing_chance` values (0-100) of
/// `judged` attention maps, `hits` of which peaked on their object, `chance` the sum over
/// them of what a uniformly random location would hit; none when nothing was judged.
pub fn pointing_values(
    prefix: &str,
    hits: usize,
    chance: f64,
    judged: usize,
) -> Vec<(String, f64)> {
    if judged == 0 {
        return Vec::new();
    }
    let judged = judged as f64;
    vec![
        (
            format!("{prefix}pointing_accuracy"),
            100.0 * hits as f64 / judged,
        ),
        (format!("{prefix}pointing_chance"), 100.0 * chance / judged),
    ]
}

/// Where the class words of each of a parsed caption's `mentions` stand in its `words`,
/// in caption order: each found at or after the end of the previous one. Stops at the
/// first mention whose class words are not found, so it may return fewer spans than
/// mentions (zip them).
pub fn class_word_spans(words: &[String], mentions: &[Mention]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut cursor = 0;
    for mention in mentions {
        let class: Vec<&str> = mention.class_name.split(' ').collect();
        let Some(start) = (cursor..(words.len() + 1).saturating_sub(class.len()))
            .find(|&p| class.iter().zip(&words[p..]).all(|(c, w)| c == w))
        else {
            break;
        };
        cursor = start + class.len();
        spans.push(start..cursor);
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(class_name: &str) -> Mention {
        Mention {
            size: None,
            colour: None,
            class_name: class_name.to_string(),
        }
    }

    #[test]
    fn class_word_spans_follow_the_caption_and_stop_at_a_missing_class() {
        let words: Vec<String> = "a red bag left of a blue ankle boot , and a bag below it"
            .split(' ')
            .map(String::from)
            .collect();
        let mentions = [mention("bag"), mention("ankle boot"), mention("bag")];
        // The second "bag" is searched for after the boot, not found at word 2 again.
        assert_eq!(
            class_word_spans(&words, &mentions),
            vec![2..3, 7..9, 12..13]
        );
        // A class the caption lacks ends the spans there.
        let lost = [mention("bag"), mention("seven"), mention("ankle boot")];
        assert_eq!(class_word_spans(&words, &lost), vec![2..3]);
        // A class name longer than what is left of the caption is not found.
        assert_eq!(class_word_spans(&words[..8], &mentions), vec![2..3]);
    }
}
