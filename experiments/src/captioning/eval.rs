//! Scoring generated captions per number of objects (the `len_lo`/`len_hi` of
//! `metrics.csv`; 0/0 is all scenes):
//!
//! - `bleu1` .. `bleu4`: corpus BLEU against the five references (sacreBLEU's, with
//!   several references).
//! - `semantic_accuracy`: captions whose parsed facts are all right (every object named
//!   with its colour and size, every relation true); `object_accuracy`, `colour_accuracy`,
//!   `size_accuracy`, `relation_accuracy`: the per-attribute rates (see
//!   `datasets::scenes::score`).
//! - `ahead_relation_accuracy`, `behind_relation_accuracy`: of the stated relations whose two
//!   objects are both named right, the share that hold, for those stated *ahead* of the
//!   object they relate to ("a red square **left of** a blue ring": the first relation,
//!   written before the decoder has named its next object) and for those stated *behind*
//!   it (", and a green bag **below** it"); `relation_word_chance`: what a uniformly random
//!   relation word would score on the same relations. They tell planning apart from
//!   reading: relation words need both objects, and `relation_accuracy` mixes object
//!   naming in. Rows only where such relations were stated.
//! - `pointing_accuracy` (attention only): for each generated object phrase bound to a
//!   scene object (same class, and the same colour when the caption says one), whether the
//!   grid cell most attended over the phrase's words overlaps the object's ink box; `pointing_chance`: the
//!   share of cells that overlap it, what a uniformly random cell would score.
//!
//! All on a 0-100 scale. The compositional split's rows carry the prefix `compositional_`.

use std::collections::BTreeMap;

use burn::tensor::{Device, Tensor};
use datasets::scenes::{Scene, ScoreTotals, parse_caption, score_caption};
use models::vision::Captioner;
use plots::{ExampleImageRow, ImageAttentionRow, MetricRow};

use super::data::{AnnotatedScenes, CaptionData, caption_id_tensors};
use super::{Captioning, Config};
use crate::experiment::{Cell, Experiment};

/// One generated caption and, with attention, its weights `[steps, L]` row-major.
pub struct Generated {
    /// The caption's words (no `</s>`).
    pub words: Vec<String>,
    /// The attention at each generated word, `L` values per word.
    pub weights: Option<Vec<f32>>,
}

/// Captions every scene of `split`, in chunks: greedily, or with beam search of width
/// `config.beam` when it is above 1.
pub fn generate(
    model: &Captioner,
    data: &CaptionData,
    split: &AnnotatedScenes,
    config: &Config,
    device: &Device,
) -> Vec<Generated> {
    let mut out = Vec::with_capacity(split.scenes.len());
    let all: Vec<usize> = (0..split.scenes.len()).collect();
    for idx in all.chunks(config.eval_batch_size) {
        let annotations = split.batch(idx, data.cells, data.d_annotation, device);
        let (tokens, weights) = if config.beam > 1 {
            beam_captions(model, annotations, config.beam, config.max_caption_len)
        } else {
            let caption = model.greedy(annotations, config.max_caption_len);
            (caption.tokens, caption.weights)
        };
        let weights: Option<(Vec<f32>, usize)> = weights.map(|w| {
            let steps = w.dims()[1];
            (w.into_data().iter::<f32>().collect(), steps)
        });
        for (row, tokens) in tokens.iter().enumerate() {
            let words = data.vocab.decode(tokens);
            let weights = weights.as_ref().map(|(w, steps)| {
                let per_row = steps * data.cells;
                let take = words.len().min(*steps) * data.cells;
                w[row * per_row..row * per_row + take].to_vec()
            });
            out.push(Generated { words, weights });
        }
    }
    out
}

/// Beam search of `width` over each image of `annotations` `[B, L, D]`, with the chosen
/// captions' attention weights from [`forced_weights`].
fn beam_captions(
    model: &Captioner,
    annotations: Tensor<3>,
    width: usize,
    max_len: usize,
) -> (Vec<Vec<u32>>, Option<Tensor<3>>) {
    let batch = annotations.dims()[0];
    let tokens: Vec<Vec<u32>> = (0..batch)
        .map(|b| {
            let one = annotations.clone().narrow(0, b, 1);
            model.beam_search(one, width, max_len)
        })
        .collect();
    let weights = forced_weights(model, annotations, &tokens);
    (tokens, weights)
}

/// The attention weights `[B, T, L]` of a deterministic teacher-forced pass over `captions`
/// (one per image of `annotations`, padded to the longest): row `b`'s first `len_b` steps
/// are the weights decoding computed at its words.
fn forced_weights(
    model: &Captioner,
    annotations: Tensor<3>,
    captions: &[Vec<u32>],
) -> Option<Tensor<3>> {
    let (tgt_in, _) = caption_id_tensors(captions, &annotations.device());
    model.forward(annotations, tgt_in).weights
}

/// The running sums of one bucket.
#[derive(Default)]
struct Bucket {
    hyps: Vec<String>,
    refs: Vec<Vec<String>>,
    semantic: ScoreTotals,
    pointed: usize,
    pointing_hits: usize,
    chance: f64,
}

/// The rows of one split (`prefix` "" or "compositional_") for one cell.
pub fn metric_rows(
    config: &Config,
    data: &CaptionData,
    split: &AnnotatedScenes,
    generated: &[Generated],
    cell: &Cell,
    prefix: &str,
) -> Vec<MetricRow> {
    let mut buckets: BTreeMap<usize, Bucket> = BTreeMap::new();
    for (scene, caption) in split.scenes.iter().zip(generated) {
        // Scored once; scenes with facts also count in their number-of-objects bucket.
        let hyp = caption.words.join(" ");
        let refs: Vec<String> = scene.captions.iter().map(|c| c.join(" ")).collect();
        let (keys, semantic, pointed): (&[usize], _, _) = if data.has_facts {
            let semantic = score_caption(&caption.words, &data.class_names, &scene.objects);
            let pointed = match &caption.weights {
                Some(weights) => pointings(config, data, scene, &caption.words, weights),
                None => Vec::new(),
            };
            (&[0, scene.objects.len()], Some(semantic), pointed)
        } else {
            (&[0], None, Vec::new())
        };
        for &key in keys {
            let bucket = buckets.entry(key).or_default();
            bucket.hyps.push(hyp.clone());
            bucket.refs.push(refs.clone());
            if let Some(semantic) = &semantic {
                bucket.semantic.add(semantic);
            }
            for &(hit, chance) in &pointed {
                bucket.pointed += 1;
                bucket.pointing_hits += usize::from(hit);
                bucket.chance += chance;
            }
        }
    }
    let mut rows = Vec::new();
    for (objects, bucket) in &buckets {
        let n = bucket.hyps.len();
        let mut values: Vec<(String, f64)> = Vec::new();
        let bleu = metrics::bleu::corpus_bleu_1_to_4(&bucket.hyps, &bucket.refs);
        for (order, score) in bleu.iter().enumerate() {
            values.push((format!("bleu{}", order + 1), score.score));
        }
        let totals = &bucket.semantic;
        if data.has_facts {
            values.extend([
                (
                    "semantic_accuracy".to_string(),
                    100.0 * totals.caption_rate(),
                ),
                ("object_accuracy".to_string(), 100.0 * totals.object_rate()),
                ("colour_accuracy".to_string(), 100.0 * totals.colour_rate()),
                ("size_accuracy".to_string(), 100.0 * totals.size_rate()),
                (
                    "relation_accuracy".to_string(),
                    100.0 * totals.relation_rate(),
                ),
            ]);
            // Only where some relation could be judged: a rate of nothing is no number.
            if totals.ahead_judged > 0 {
                values.push((
                    "ahead_relation_accuracy".to_string(),
                    100.0 * totals.ahead_relation_rate(),
                ));
            }
            if totals.relations_judged > totals.ahead_judged {
                values.push((
                    "behind_relation_accuracy".to_string(),
                    100.0 * totals.behind_relation_rate(),
                ));
            }
            if totals.relations_judged > 0 {
                values.push((
                    "relation_word_chance".to_string(),
                    100.0 * totals.relation_chance(),
                ));
            }
        }
        values.extend(crate::vision::pointing_values(
            "",
            bucket.pointing_hits,
            bucket.chance,
            bucket.pointed,
        ));
        for (metric, value) in values {
            rows.push(MetricRow {
                experiment: Captioning::NAME.to_string(),
                task: config.task.clone(),
                model: cell.variant.clone(),
                train_max_len: 0,
                seed: cell.seed,
                len_lo: *objects,
                len_hi: *objects,
                n,
                metric: format!("{prefix}{metric}"),
                value,
            });
        }
    }
    rows
}

/// For each object phrase of `words` ("a large red dress") that names an object of `scene`:
/// whether the cell most attended over the phrase's words (their weights summed) overlaps
/// the object's ink box, and the share of cells that do.
///
/// Over the phrase, not at the class word alone: the decoder may read an object once, at
/// its first attribute word, and say the rest from its state (the context enters the LSTM),
/// moving its attention on before the class word; Xu et al.'s figures show attention word
/// by word for the same reason.
fn pointings(
    config: &Config,
    data: &CaptionData,
    scene: &Scene,
    words: &[String],
    weights: &[f32],
) -> Vec<(bool, f64)> {
    let Ok(parsed) = parse_caption(words, &data.class_names) else {
        return Vec::new();
    };
    let (grid, cells) = (config.grid, data.cells);
    let cell_side = config.canvas / grid;
    let mut out = Vec::new();
    let mut previous_end = 0;
    let spans = crate::vision::class_word_spans(words, &parsed.objects);
    for (mention, span) in parsed.objects.iter().zip(spans) {
        let step = span.end - 1;
        // "a", then the size and colour words when the caption says them.
        let attributes =
            1 + usize::from(mention.size.is_some()) + usize::from(mention.colour.is_some());
        let first = span.start.saturating_sub(attributes).max(previous_end);
        previous_end = span.end;
        let object = scene
            .objects
            .iter()
            .filter(|o| o.class_name == mention.class_name)
            .find(|o| mention.colour.is_none_or(|c| c == o.colour))
            .or_else(|| {
                scene
                    .objects
                    .iter()
                    .find(|o| o.class_name == mention.class_name)
            });
        let (Some(object), true) = (object, (step + 1) * cells <= weights.len()) else {
            continue;
        };
        let overlaps = |index: usize| {
            let (r, c) = (index / grid, index % grid);
            let (x0, y0) = (c * cell_side, r * cell_side);
            let b = &object.bbox;
            x0 < b.x1 && b.x0 < x0 + cell_side && y0 < b.y1 && b.y0 < y0 + cell_side
        };
        let mut over_phrase = vec![0.0f32; cells];
        for t in first..=step {
            for (sum, w) in over_phrase
                .iter_mut()
                .zip(&weights[t * cells..(t + 1) * cells])
            {
                *sum += w;
            }
        }
        let best = (0..cells)
            .max_by(|&a, &b| over_phrase[a].total_cmp(&over_phrase[b]).then(b.cmp(&a)))
            .expect("at least one cell");
        let chance = (0..cells).filter(|&i| overlaps(i)).count() as f64 / cells as f64;
        out.push((overlaps(best), chance));
    }
    out
}

/// The test scenes whose attention is drawn: the first with each number of objects.
pub fn example_scenes(data: &CaptionData) -> Vec<usize> {
    let mut examples = crate::vision::first_of_each_count(&data.test.scenes);
    examples.truncate(4);
    examples
}

/// The pixels of the example scenes, for `example_images.csv`.
pub fn example_image_rows(data: &CaptionData) -> Vec<ExampleImageRow> {
    example_scenes(data)
        .into_iter()
        .flat_map(|example| {
            crate::vision::example_image_rows(&data.test.scenes[example].image, example)
        })
        .collect()
}

/// A cell's attention over the grid at every word of its captions of the example scenes,
/// for `image_attention.csv` (none without attention).
pub fn attention_rows(
    data: &CaptionData,
    generated: &[Generated],
    cell: &Cell,
) -> Vec<ImageAttentionRow> {
    let mut rows = Vec::new();
    for example in example_scenes(data) {
        let caption = &generated[example];
        let Some(weights) = &caption.weights else {
            continue;
        };
        for (step, word) in caption.words.iter().enumerate() {
            let Some(at_step) = weights.get(step * data.cells..(step + 1) * data.cells) else {
                break;
            };
            for (index, &weight) in at_step.iter().enumerate() {
                rows.push(ImageAttentionRow {
                    model: cell.variant.clone(),
                    seed: cell.seed,
                    example,
                    step,
                    word: word.clone(),
                    cell: index,
                    weight: weight as f64,
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;
    use models::vision::{CaptionerConfig, ContextKind};

    use super::*;

    /// A beam of one gives greedy decoding's words, and the teacher-forced pass gives its
    /// attention weights over each caption's own steps, whatever the padding: the captions
    /// are cut to lengths 1 to 6 so that every row but the longest is padded.
    #[test]
    fn a_beam_of_one_and_the_forced_pass_give_greedy_decoding_back() {
        for context in [ContextKind::Soft, ContextKind::Hard] {
            let device = Device::flex();
            device.seed(5);
            let model = CaptionerConfig::new(8)
                .with_d_embed(6)
                .with_d_hidden(5)
                .with_d_annotation(4)
                .with_d_attention(3)
                .with_grid_cells(4)
                .with_context(context)
                .init(&device);
            let annotations =
                Tensor::<3>::random([6, 4, 4], Distribution::Normal(0.0, 2.0), &device);
            let greedy = model.greedy(annotations.clone(), 7);
            let (tokens, _) = beam_captions(&model, annotations.clone(), 1, 7);
            assert_eq!(tokens, greedy.tokens, "{context:?}");
            let cut: Vec<Vec<u32>> = greedy
                .tokens
                .iter()
                .enumerate()
                .map(|(row, words)| words[..(row + 1).min(words.len())].to_vec())
                .collect();
            let forced = forced_weights(&model, annotations, &cut).unwrap();
            let want = greedy.weights.unwrap();
            for (row, words) in cut.iter().enumerate() {
                let steps = |w: &Tensor<3>| -> Vec<f32> {
                    let w = w.clone().narrow(0, row, 1).narrow(1, 0, words.len());
                    w.into_data().iter::<f32>().collect()
                };
                let (want, got) = (steps(&want), steps(&forced));
                assert!(
                    want.iter().zip(&got).all(|(x, y)| (x - y).abs() < 1e-5),
                    "{context:?}, row {row}: {want:?} against {got:?}"
                );
            }
        }
    }
}
