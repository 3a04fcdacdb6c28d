//! Scoring images drawn from the test captions (or the real test images, the ceiling), per
//! number of objects (the `len_lo`/`len_hi` of `metrics.csv`; 0/0 is all scenes):
//!
//! - `r_precision`: R-precision (R = 1) with random candidates, mean over `folds` folds of
//!   the bucket's images, and `r_precision_fold_std` its standard deviation over the folds
//!   (DM-GAN's protocol, see `metrics::rprecision`), by the evaluation DAMSM's global image
//!   and sentence vectors; `hard_r_precision` (and `_fold_std`) the same with candidates
//!   that differ from the truth in one attribute (see [`super::candidates`]).
//! - `word_r_precision` and `word_hard_r_precision` (and `_fold_std`): the same two with
//!   the evaluation DAMSM's word-level matching score `R(Q, D)` (AttnGAN's eq. 10: every word
//!   attends over the image's regions) in place of the global cosine. A changed word in the
//!   middle of a caption barely moves the sentence vector; here it has its own term.
//! - `semantic_accuracy`: images in which the judge reads exactly the caption's objects
//!   (classes and colours, nothing else) and every relation the caption states holds
//!   between the slots it reads them in; `object_accuracy`, `colour_accuracy`,
//!   `relation_accuracy`: the per-attribute rates of `datasets::scenes::score`, with the
//!   judge's reading as the scene. Sizes are not judged.
//! - `fid` (all scenes only): the Fréchet distance between the judge's features of these
//!   images and of the real test images, always the same number of each; for the real
//!   images, between the test scenes and a second set of real scenes, the floor.
//! - `inception_score` (all scenes only, and `_fold_std`): the Inception-score analogue on
//!   the judge's class posteriors of every slot it reads as occupied.
//!
//! Rates on a 0-100 scale.

use std::collections::BTreeMap;

use burn::tensor::Tensor;
use datasets::scenes::{
    CaptionScore, Colour, GRID, Mention, PixelBox, SceneObject, ScoreTotals, Size, Slot,
    parse_caption, score,
};
use metrics::rprecision::{cosine, r_precision_folds};
use models::vision::{SLOTS, SceneJudge};
use plots::MetricRow;

use super::data::{TextToImageData, rows};
use super::pretrain::tokens_tensor;
use super::{Config, TextToImage};
use crate::experiment::Experiment;

/// What the judge reads in a batch of images.
#[derive(Default)]
pub struct JudgeReadings {
    /// Penultimate features pooled over the slots, one row per image (FID).
    pub features: Vec<Vec<f64>>,
    /// Class posteriors of every slot read as occupied (the Inception-score analogue).
    pub posteriors: Vec<Vec<f64>>,
    /// Each image's slots: the class and colour read there, or `None` for empty.
    pub slots: Vec<[Option<(usize, usize)>; SLOTS]>,
}

/// The judge's reading of images given in chunks.
pub fn read_images(judge: &SceneJudge, images: Vec<Tensor<4>>) -> JudgeReadings {
    let mut readings = JudgeReadings::default();
    for chunk in images {
        let out = judge.forward(chunk);
        let [batch, _, outputs] = out.class_logits.dims();
        let n_classes = outputs - 1;
        readings.features.extend(rows(out.image_features()));
        let posteriors = out.class_posteriors();
        let occupied: Vec<f32> = posteriors.occupied.into_data().iter::<f32>().collect();
        let objects: Vec<f32> = posteriors.objects.into_data().iter::<f32>().collect();
        for (slot, &p) in occupied.iter().enumerate() {
            if p > 0.5 {
                let row = &objects[slot * n_classes..(slot + 1) * n_classes];
                readings
                    .posteriors
                    .push(row.iter().map(|&x| f64::from(x)).collect());
            }
        }
        let classes: Vec<i64> = out.predicted_classes().into_data().iter::<i64>().collect();
        // The best colour other than "empty": a slot read as occupied has some colour.
        let [_, _, colour_outputs] = out.colour_logits.dims();
        let colours: Vec<i64> = out
            .colour_logits
            .narrow(2, 0, colour_outputs - 1)
            .argmax(2)
            .reshape([batch, SLOTS])
            .into_data()
            .iter::<i64>()
            .collect();
        for image in 0..batch {
            let mut slots = [None; SLOTS];
            for (slot, read) in slots.iter_mut().enumerate() {
                let class = classes[image * SLOTS + slot] as usize;
                if class < n_classes {
                    *read = Some((class, colours[image * SLOTS + slot] as usize));
                }
            }
            readings.slots.push(slots);
        }
    }
    readings
}

/// Everything measured on one set of images drawn from the test scenes' first captions, in
/// test-scene order.
#[derive(Default)]
pub struct ImageScores {
    /// Each image's similarities to its random candidates, the true caption first.
    pub random: Vec<Vec<f64>>,
    /// Each image's similarities to its hard candidates, the canonical caption first.
    pub hard: Vec<Vec<f64>>,
    /// `random`'s candidates, by the word-level score.
    pub word_random: Vec<Vec<f64>>,
    /// `hard`'s candidates, by the word-level score.
    pub word_hard: Vec<Vec<f64>>,
    /// The judge's reading.
    pub readings: JudgeReadings,
    /// Each image's caption scored against the judge's reading.
    pub semantic: Vec<CaptionScore>,
}

/// The objects the judge reads in one image, as scene objects (sizes unknown: all small).
fn read_objects(
    slots: &[Option<(usize, usize)>; SLOTS],
    class_names: &[String],
) -> Vec<SceneObject> {
    slots
        .iter()
        .enumerate()
        .filter_map(|(slot, read)| {
            read.map(|(class, colour)| SceneObject {
                class,
                class_name: class_names[class].clone(),
                colour: Colour::ALL[colour],
                size: Size::Small,
                slot: Slot {
                    row: slot / GRID,
                    col: slot % GRID,
                },
                bbox: PixelBox {
                    x0: 0,
                    y0: 0,
                    x1: 0,
                    y1: 0,
                },
            })
        })
        .collect()
}

/// A caption scored against the judge's reading of an image: the objects it reads are the
/// scene, and sizes count as right (the judge reads none).
///
/// # Panics
/// If the caption is not a sentence of the scenes' grammar over `class_names`.
pub fn judged_caption(
    caption: &[String],
    slots: &[Option<(usize, usize)>; SLOTS],
    class_names: &[String],
) -> CaptionScore {
    let mut parsed = parse_caption(caption, class_names).expect("a reference caption parses");
    for Mention { size, .. } in &mut parsed.objects {
        *size = Some(Size::Small);
    }
    score(&parsed, &read_objects(slots, class_names))
}

/// Scores images drawn from the test scenes' first captions, given in chunks in test-scene
/// order.
pub fn score_images(data: &TextToImageData, images: Vec<Tensor<4>>) -> ImageScores {
    let mut global = Vec::new();
    let mut regions = Vec::new(); // one [1, L, D] per image
    for chunk in &images {
        let encoded = data.eval_damsm.image.forward(chunk.clone());
        global.extend(rows(encoded.global));
        let batch = encoded.regions.dims()[0];
        regions.extend((0..batch).map(|k| encoded.regions.clone().narrow(0, k, 1)));
    }
    let readings = read_images(&data.judge, images);
    let candidates = &data.candidates;
    // Image i's random candidates: its own first caption, then the other scenes'.
    let random_scenes = |i: usize| std::iter::once(i).chain(candidates.random[i].iter().copied());
    let random = global
        .iter()
        .enumerate()
        .map(|(i, g)| {
            random_scenes(i)
                .map(|j| cosine(g, &candidates.first_captions[j]))
                .collect()
        })
        .collect();
    let hard = global
        .iter()
        .zip(&candidates.hard)
        .map(|(g, hard)| hard.iter().map(|s| cosine(g, s)).collect())
        .collect();
    let word_random = regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let captions: Vec<&[String]> = random_scenes(i)
                .map(|j| data.test[j].captions[0].as_slice())
                .collect();
            word_level_scores(data, r.clone(), &captions)
        })
        .collect();
    let word_hard = regions
        .iter()
        .zip(&candidates.hard_captions)
        .map(|(r, hard)| {
            let captions: Vec<&[String]> = hard.iter().map(Vec::as_slice).collect();
            word_level_scores(data, r.clone(), &captions)
        })
        .collect();
    let semantic = data
        .test
        .iter()
        .zip(&readings.slots)
        .map(|(scene, slots)| judged_caption(&scene.captions[0], slots, &data.class_names))
        .collect();
    ImageScores {
        random,
        hard,
        word_random,
        word_hard,
        readings,
        semantic,
    }
}

/// The evaluation DAMSM's word-level score `R(Q, D)` of one image's regions (`[1, L, D]`)
/// with each of `captions`, encoded in one batch (padding changes no caption's score).
fn word_level_scores(
    data: &TextToImageData,
    regions: Tensor<3>,
    captions: &[&[String]],
) -> Vec<f64> {
    let text = data
        .eval_damsm
        .text
        .forward(tokens_tensor(captions, &data.vocab, &data.device));
    let scores = data
        .matching
        .word_scores(regions, text.words, text.mask)
        .scores; // [1, C]
    scores.into_data().iter::<f32>().map(f64::from).collect()
}

/// `metrics.csv` rows of one set of scores, `model` and `seed` naming them; `fid_against`
/// the judge's features the images' FID compares with.
pub fn metric_rows(
    config: &Config,
    data: &TextToImageData,
    scores: &ImageScores,
    fid_against: &[Vec<f64>],
    model: &str,
    seed: u64,
) -> anyhow::Result<Vec<MetricRow>> {
    let mut buckets: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, scene) in data.test.iter().enumerate() {
        buckets.entry(0).or_default().push(i);
        buckets.entry(scene.objects.len()).or_default().push(i);
    }
    let mut out = Vec::new();
    for (&objects, members) in &buckets {
        let n = members.len();
        let folds = config.folds.min(n);
        let mut values: Vec<(String, f64)> = Vec::new();
        for (name, similarities) in [
            ("r_precision", &scores.random),
            ("hard_r_precision", &scores.hard),
            ("word_r_precision", &scores.word_random),
            ("word_hard_r_precision", &scores.word_hard),
        ] {
            let picked: Vec<Vec<f64>> = members.iter().map(|&i| similarities[i].clone()).collect();
            let fold = r_precision_folds(&picked, folds)
                .map_err(|e| anyhow::anyhow!("{model} seed {seed}: {name}: {e}"))?;
            values.push((name.to_string(), 100.0 * fold.mean));
            values.push((format!("{name}_fold_std"), 100.0 * fold.std));
        }
        let mut totals = ScoreTotals::default();
        for &i in members {
            totals.add(&scores.semantic[i]);
        }
        values.extend(
            [
                ("semantic_accuracy", 100.0 * totals.caption_rate()),
                ("object_accuracy", 100.0 * totals.object_rate()),
                ("colour_accuracy", 100.0 * totals.colour_rate()),
                ("relation_accuracy", 100.0 * totals.relation_rate()),
            ]
            .map(|(name, value)| (name.to_string(), value)),
        );
        if objects == 0 {
            let fid = metrics::fid::frechet_distance(&scores.readings.features, fid_against)
                .map_err(|e| anyhow::anyhow!("{model} seed {seed}: FID: {e}"))?;
            values.push(("fid".to_string(), fid));
            let posteriors = &scores.readings.posteriors;
            if posteriors.len() >= config.folds {
                let is = metrics::inception::inception_score_folds(posteriors, config.folds)
                    .map_err(|e| anyhow::anyhow!("{model} seed {seed}: Inception score: {e}"))?;
                values.push(("inception_score".to_string(), is.mean));
                values.push(("inception_score_fold_std".to_string(), is.std));
            }
        }
        for (metric, value) in values {
            out.push(MetricRow {
                experiment: TextToImage::NAME.to_string(),
                task: config.task.clone(),
                model: model.to_string(),
                train_max_len: 0,
                seed,
                len_lo: objects,
                len_hi: objects,
                n,
                metric,
                value,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(caption: &str) -> Vec<String> {
        caption.split(' ').map(String::from).collect()
    }

    #[test]
    fn an_image_is_right_when_the_judge_reads_the_caption_in_it() {
        let names: Vec<String> = ["bag", "seven"].map(String::from).to_vec();
        let red = Colour::ALL.iter().position(|&c| c == Colour::Red).unwrap();
        let blue = Colour::ALL.iter().position(|&c| c == Colour::Blue).unwrap();
        let caption = words("a small red bag left of a large blue seven");
        // Slots row-major: the bag in the middle row's left, the seven anywhere right of it.
        let mut slots = [None; SLOTS];
        slots[3] = Some((0, red));
        slots[5] = Some((1, blue));
        assert!(judged_caption(&caption, &slots, &names).all_right());
        // The seven read green: the colour is wrong, the objects and relation are right.
        let green = Colour::ALL
            .iter()
            .position(|&c| c == Colour::Green)
            .unwrap();
        slots[5] = Some((1, green));
        let wrong_colour = judged_caption(&caption, &slots, &names);
        assert!(!wrong_colour.all_right());
        assert_eq!((wrong_colour.matched, wrong_colour.colours_right), (2, 1));
        assert_eq!(wrong_colour.relations_right, 1);
        // Drawn the other way round: the relation is wrong.
        slots[3] = Some((1, blue));
        slots[5] = Some((0, red));
        let swapped = judged_caption(&caption, &slots, &names);
        assert_eq!((swapped.matched, swapped.colours_right), (2, 2));
        assert_eq!(swapped.relations_right, 0);
        // An object the caption does not name makes the image wrong.
        slots[3] = Some((0, red));
        slots[5] = Some((1, blue));
        slots[8] = Some((0, blue));
        assert!(!judged_caption(&caption, &slots, &names).all_right());
        // Nothing drawn: nothing matched.
        assert_eq!(judged_caption(&caption, &[None; SLOTS], &names).matched, 0);
    }
}
