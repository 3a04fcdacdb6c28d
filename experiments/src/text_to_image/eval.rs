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
//! - `hard_pairwise_accuracy` and `word_hard_pairwise_accuracy`: the hard candidates one
//!   comparison at a time (`metrics::rprecision::pairwise_rate`): the share of near-copies
//!   the true caption outscores, averaged over images; 50 is a scorer that cannot tell.
//!   Hard R-precision asks the truth to beat all of them at once, which even a good scorer
//!   rarely does from two objects on.
//! - `semantic_accuracy`: images in which the judge reads exactly the caption's objects
//!   (classes and colours, nothing else) and every relation the caption states holds
//!   between the slots it reads them in; `object_accuracy`, `colour_accuracy`,
//!   `relation_accuracy`: the per-attribute rates of `datasets::scenes::score`, with the
//!   judge's reading as the scene. Sizes are not judged.
//! - `word_pointing_accuracy` (word attention only): whether the word maps put colour and
//!   class words on their objects. Over the colour and class words of every caption object
//!   the judge reads in the image (that class in that colour, in some slot), the share whose
//!   map (the word's attention over stage 2's sub-regions) peaks inside a slot holding it;
//!   `word_pointing_chance`: the share of sub-regions inside such slots, what a uniformly
//!   random sub-region would score. Judged on the generated image, not the real scene: a
//!   caption fixes where objects stand only relative to one another. Rows only where some
//!   word was judged.
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
use metrics::rprecision::{cosine, pairwise_rate, r_precision_folds};
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
    /// With word attention: where each image's word maps fall ([`word_pointing`]); empty
    /// without.
    pub pointing: Vec<WordPointing>,
}

/// Where one image's word maps fall, over the colour and class words of its caption's
/// objects that the judge reads in it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WordPointing {
    /// Colour and class words whose object (that class in that colour) the judge reads in
    /// some slot of the image.
    pub judged: usize,
    /// Of those, the words whose map peaks inside a slot holding their object.
    pub hits: usize,
    /// Over the judged words, the sum of the shares of sub-regions inside such slots: what
    /// a uniformly random sub-region would hit.
    pub chance: f64,
}

impl WordPointing {
    fn add(&mut self, other: &WordPointing) {
        self.judged += other.judged;
        self.hits += other.hits;
        self.chance += other.chance;
    }
}

/// Where the word maps of one image fall: for each object of `caption` that the judge reads
/// in `slots` (its class in its colour, in one slot or more), the map of its colour word and
/// of each of its class words (`weights[r * len + w]`: word `w`'s attention at sub-region
/// `r`, over a square grid of sub-regions covering the canvas, row-major) is judged by its
/// peak (the first sub-region on ties): a hit when the peak lies inside a slot holding the
/// object (a sub-region lies in the slot that holds its centre). Objects the judge does
/// not read are not judged; a caption that does not parse judges nothing.
///
/// # Panics
/// If `weights` is not `len` words over a square grid of sub-regions, or `len` is shorter
/// than the caption.
pub fn word_pointing(
    caption: &[String],
    slots: &[Option<(usize, usize)>; SLOTS],
    class_names: &[String],
    weights: &[f32],
    len: usize,
) -> WordPointing {
    assert!(
        len > 0 && caption.len() <= len,
        "a caption of {} words with word attention over {len}",
        caption.len()
    );
    let regions = weights.len() / len;
    let side = regions.isqrt();
    assert!(
        regions > 0 && side * side == regions && regions * len == weights.len(),
        "word attention of {} values over {len} words is not a square grid of sub-regions",
        weights.len()
    );
    // The slot holding the sub-region's centre (the whole sub-region when GRID divides side).
    let slot_axis = |i: usize| (2 * i + 1) * GRID / (2 * side);
    let slot_of = |region: usize| slot_axis(region / side) * GRID + slot_axis(region % side);
    let Ok(parsed) = parse_caption(caption, class_names) else {
        return WordPointing::default();
    };
    let mut out = WordPointing::default();
    let spans = crate::vision::class_word_spans(caption, &parsed.objects);
    for (mention, span) in parsed.objects.iter().zip(spans) {
        let (Some(colour), Some(class_index)) = (
            mention.colour,
            class_names.iter().position(|n| *n == mention.class_name),
        ) else {
            continue;
        };
        let colour_index = Colour::ALL.iter().position(|&c| c == colour);
        let read = Some((
            class_index,
            colour_index.expect("every colour is in Colour::ALL"),
        ));
        let holding: Vec<bool> = slots.iter().map(|s| *s == read).collect();
        let inside = (0..regions).filter(|&r| holding[slot_of(r)]).count();
        if inside == 0 {
            continue;
        }
        // "a SIZE COLOUR CLASS": the colour word stands just before the class words.
        let colour_word =
            (span.start > 0 && caption[span.start - 1] == colour.name()).then(|| span.start - 1);
        for word in colour_word.into_iter().chain(span) {
            let peak = (0..regions)
                .max_by(|&a, &b| {
                    weights[a * len + word]
                        .total_cmp(&weights[b * len + word])
                        .then(b.cmp(&a))
                })
                .expect("at least one sub-region");
            out.judged += 1;
            out.hits += usize::from(holding[slot_of(peak)]);
            out.chance += inside as f64 / regions as f64;
        }
    }
    out
}

/// [`word_pointing`] of every test image, from the first captions, the judge's readings
/// and the word attention of each (none without word attention).
pub fn word_pointings(
    data: &TextToImageData,
    slots: &[[Option<(usize, usize)>; SLOTS]],
    attention: &[(Vec<f32>, usize)],
) -> Vec<WordPointing> {
    attention
        .iter()
        .zip(slots)
        .zip(&data.test)
        .map(|(((weights, len), slots), scene)| {
            word_pointing(&scene.captions[0], slots, &data.class_names, weights, *len)
        })
        .collect()
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
        pointing: Vec::new(),
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
        for (name, similarities) in [
            ("hard_pairwise_accuracy", &scores.hard),
            ("word_hard_pairwise_accuracy", &scores.word_hard),
        ] {
            let picked: Vec<Vec<f64>> = members.iter().map(|&i| similarities[i].clone()).collect();
            let rate = pairwise_rate(&picked)
                .map_err(|e| anyhow::anyhow!("{model} seed {seed}: {name}: {e}"))?;
            values.push((name.to_string(), 100.0 * rate));
        }
        let mut totals = ScoreTotals::default();
        for &i in members {
            totals.add(&scores.semantic[i]);
        }
        let mut pointing = WordPointing::default();
        for &i in members.iter().filter(|&&i| i < scores.pointing.len()) {
            pointing.add(&scores.pointing[i]);
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
        values.extend(crate::vision::pointing_values(
            "word_",
            pointing.hits,
            pointing.chance,
            pointing.judged,
        ));
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

    #[test]
    fn word_maps_are_judged_by_their_peak_in_the_slots_holding_their_object() {
        let names: Vec<String> = ["bag", "ankle boot"].map(String::from).to_vec();
        let colour = |c: Colour| Colour::ALL.iter().position(|&x| x == c).unwrap();
        // Words 2 "red", 3 "bag", 8 "blue", 9 "ankle", 10 "boot"; one padding column.
        let caption = words("a small red bag left of a large blue ankle boot");
        let len = caption.len() + 1;
        // 6 × 6 sub-regions, 2 × 2 of them to a slot.
        let mut weights = vec![0.0f32; 36 * len];
        let mut peak =
            |word: usize, row: usize, col: usize| weights[(row * 6 + col) * len + word] = 1.0;
        peak(2, 0, 1); // red: slot 0, the bag's: a hit
        peak(3, 5, 5); // bag: slot 8: a miss
        peak(8, 2, 4); // blue: slot 5, the boot's: a hit
        peak(9, 3, 5); // ankle: slot 5: a hit
        peak(11, 3, 5); // the padding column is never read
        // boot: all zero, so the first sub-region, slot 0 (the bag's): a miss
        let mut slots = [None; SLOTS];
        slots[0] = Some((0, colour(Colour::Red)));
        slots[5] = Some((1, colour(Colour::Blue)));
        let all = word_pointing(&caption, &slots, &names, &weights, len);
        assert_eq!((all.judged, all.hits), (5, 3));
        assert!(
            (all.chance - 5.0 * 4.0 / 36.0).abs() < 1e-12,
            "{}",
            all.chance
        );
        // The boot read green: its three words are not judged.
        slots[5] = Some((1, colour(Colour::Green)));
        let bag = word_pointing(&caption, &slots, &names, &weights, len);
        assert_eq!((bag.judged, bag.hits), (2, 1));
        // A second red bag: both slots hold it, so "bag" peaking in slot 8 hits.
        slots[8] = Some((0, colour(Colour::Red)));
        let two = word_pointing(&caption, &slots, &names, &weights, len);
        assert_eq!((two.judged, two.hits), (2, 2));
        assert!(
            (two.chance - 2.0 * 8.0 / 36.0).abs() < 1e-12,
            "{}",
            two.chance
        );
        // 4 × 4 sub-regions: a sub-region lies in the slot of its centre, so rows and
        // columns 0, 1, 2, 3 fall in slot rows and columns 0, 1, 1, 2.
        let caption = words("a small red bag");
        let mut slots = [None; SLOTS];
        slots[4] = Some((0, colour(Colour::Red)));
        let mut weights = vec![0.0f32; 16 * 4];
        weights[(2 * 4 + 1) * 4 + 2] = 1.0; // red at (2, 1): slot 4, a hit
        weights[(3 * 4 + 1) * 4 + 3] = 1.0; // bag at (3, 1): slot 7, a miss
        let coarse = word_pointing(&caption, &slots, &names, &weights, 4);
        assert_eq!((coarse.judged, coarse.hits), (2, 1));
        assert!(
            (coarse.chance - 2.0 * 4.0 / 16.0).abs() < 1e-12,
            "{}",
            coarse.chance
        );
        // A caption outside the grammar judges nothing.
        let nonsense = words("bag red a");
        assert_eq!(
            word_pointing(&nonsense, &slots, &names, &weights, 4),
            WordPointing::default()
        );
    }
}
