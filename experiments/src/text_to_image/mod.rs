//! `text-to-image`: AttnGAN (Xu et al. 2018) on captioned scenes, with its two ablations.
//!
//! Scenes of 1 to 4 coloured objects (digits and clothing items from the real image sets,
//! or procedural shapes), the captioning experiment's, are drawn from their captions by a
//! two-stage generator (24 then 48 pixels in the quick preset). Three variants differ in
//! one thing each: **attngan** (stage 2's sub-regions attend over the caption's words, and
//! the DAMSM loss is in the generator's loss), **sentence-only** (stage 2 sees the sentence
//! condition only, StackGAN-like) and **no-damsm** (λ = 0). Everything they share is trained
//! once per run and frozen ([`pretrain`]): the DAMSM they learn from, a second DAMSM from
//! another seed that scores them (R-precision), and a judge that reads every slot's class
//! and colour (semantic accuracy, FID, an Inception-score analogue); see [`eval`].
//! The cells: variant × seed. The first cell also records the real test images' scores
//! (model `real`: every metric's ceiling, and FID's floor) and the pretraining curves.
//!
//! Departures from Xu et al.: small synthetic scenes instead of birds and COCO; two stages
//! (24 and 48 pixels) instead of three (64 to 256); small networks trained here instead of
//! Inception-v3 (the DAMSM image encoder, FID's and IS's networks); the judge's semantic
//! accuracy in place of human ranking.

pub mod candidates;
pub mod config;
pub mod data;
pub mod eval;
pub mod negatives;
pub mod pretrain;
pub mod task;
pub mod train;

use std::path::Path;

use anyhow::Context;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use datasets::images::RgbImage;
use datasets::scenes::Scene;
use models::vision::{AttnGanGenerator, DamsmTextEncoder, GeneratorNoise, GeneratorOutput};
use plots::{CurveRow, ExampleCaptionRow, GeneratedImageRow, ImageAttentionRow, TimingRow};

pub use config::{Config, Variant};
pub use data::TextToImageData;
pub use task::TextToImageTask;

use crate::experiment::{Cell, CellContext, CellRecord, Experiment, Preset, Task};
use crate::saved_model::generator::{GeneratorSave, save_generator};
use eval::{metric_rows, score_images, word_pointings};
use pretrain::tokens_tensor;
use train::TrainedGan;

/// AttnGAN and its two ablations.
pub struct TextToImage;

impl Experiment for TextToImage {
    const NAME: &'static str = "text-to-image";
    const ABOUT: &'static str = "Draws scenes of 1 to 4 coloured objects from their captions \
        with AttnGAN (Xu et al. 2018) and two ablations (sentence-only: no word attention; \
        no-damsm: no DAMSM loss), for each seed, and scores them per number of objects: \
        R-precision (random and one-attribute-off candidates, by a separately trained DAMSM, \
        and the pairwise rate against the latter), semantic accuracy read by a judge network, \
        where each word's attention map peaks, FID on the judge's features, an \
        Inception-score analogue; the real test images give the ceiling. Writes config.json, \
        metrics.csv, learning_curve.csv, the sample images, the word attention, timings.csv, \
        summary.md and the figures to OUT/<task>/.";
    type Config = Config;
    type Task = TextToImageTask;
    type Data = TextToImageData;

    fn default_task() -> TextToImageTask {
        TextToImageTask::Scenes
    }

    fn preset(preset: Preset, task: &TextToImageTask) -> Config {
        Config::preset(preset, task)
    }

    fn long_preset(task: &TextToImageTask) -> Option<Config> {
        Config::long(task)
    }

    fn task_field(config: &mut Config) -> &mut String {
        &mut config.task
    }

    fn validate(config: &Config) -> anyhow::Result<()> {
        config.validate()
    }

    fn load(
        config: &Config,
        task: &TextToImageTask,
        data_dir: &Path,
    ) -> anyhow::Result<TextToImageData> {
        data::load(config, task, data_dir)
    }

    fn cells(config: &Config) -> Vec<Cell> {
        let names: Vec<&str> = config.variants.iter().map(|v| v.name()).collect();
        Cell::grid(&[0], &names, &config.seeds)
    }

    fn run_cell(
        config: &Config,
        task: &TextToImageTask,
        data: &TextToImageData,
        cell: &Cell,
        context: &CellContext,
    ) -> anyhow::Result<CellRecord> {
        let (variant, trained, device) = train_cell(config, data, cell)?;
        let plain = device.without_autodiff();
        let eval_start = std::time::Instant::now();
        let generator = trained.generator.valid();
        let drawn = draw_test_images(config, data, &generator, &plain);
        let mut scores = score_images(data, drawn.images);
        scores.pointing = word_pointings(data, &scores.readings.slots, &drawn.attention);
        let mut record = CellRecord {
            metrics: metric_rows(
                config,
                data,
                &scores,
                &data.real.readings.features,
                &cell.variant,
                cell.seed,
            )?,
            ..CellRecord::default()
        };
        let examples = example_scenes(&data.test, config.examples);
        if cell.seed == config.seeds[0] {
            record.generated_images = examples
                .iter()
                .flat_map(|&e| generated_rows(&drawn.examples, e, &cell.variant, cell.seed))
                .collect();
            record.image_attention = attention_rows(data, &drawn.attention, &examples, cell);
        }
        for &(step, discriminator, generator) in &trained.curve {
            for (player, loss) in [("generator", generator), ("discriminators", discriminator)] {
                record.curve.push(CurveRow {
                    model: format!("{} {player}", cell.variant),
                    train_max_len: 0,
                    seed: cell.seed,
                    step,
                    loss,
                });
            }
        }
        // What does not depend on a generator, once, with the run's first cell.
        if *cell == Self::cells(config)[0] {
            let mut real = metric_rows(
                config,
                data,
                &data.real,
                &data.reference_features,
                "real",
                0,
            )?;
            real.append(&mut record.metrics);
            record.metrics = real;
            let mut curve = data.pretrain_curves.clone();
            curve.append(&mut record.curve);
            record.curve = curve;
            record.example_images = examples
                .iter()
                .flat_map(|&e| crate::vision::example_image_rows(&data.test[e].image, e))
                .collect();
            record.example_captions = examples
                .iter()
                .map(|&e| ExampleCaptionRow {
                    example: e,
                    caption: data.test[e].captions[0].join(" "),
                })
                .collect();
        }
        record.timing = Some(TimingRow {
            model: cell.variant.clone(),
            train_max_len: 0,
            seed: cell.seed,
            steps: config.steps,
            train_seconds: trained.seconds,
            ms_per_step: 1000.0 * trained.seconds / config.steps as f64,
            eval_seconds: eval_start.elapsed().as_secs_f64(),
        });
        // After scoring: saving draws no random numbers and changes no result.
        let save = GeneratorSave {
            task: task.arg(),
            variant,
            text: config.damsm_text(data.vocab.len()),
            generator: config.generator(variant),
            vocab: &data.vocab,
        };
        save_generator(context, cell, save, &data.damsm.text, &generator)?;
        Ok(record)
    }
}

/// Trains the generator of `cell` (its variant and seed) against the run's frozen DAMSM, on
/// the device `harness::device` seeds with the cell's seed; returns the variant, the trained
/// generator and that device, whose generator then draws the test images' noise. The same
/// configuration, data and cell give the same generator to the bit, so tests can train a
/// cell's generator again and compare it with what the cell saved.
pub fn train_cell(
    config: &Config,
    data: &TextToImageData,
    cell: &Cell,
) -> anyhow::Result<(Variant, TrainedGan, Device)> {
    let variant = *config
        .variants
        .iter()
        .find(|v| v.name() == cell.variant)
        .with_context(|| {
            format!(
                "cell {}: variant '{}' is not in config field 'variants'",
                cell.label(),
                cell.variant
            )
        })?;
    let device = harness::device(cell.seed)?;
    let trained = train::train_gan(config, data, variant, &device, &cell.label())?;
    Ok((variant, trained, device))
}

/// Draws images from caption ids `[B, T]` (PAD-padded, as [`tokens_tensor`] makes them): the
/// frozen DAMSM text encoder the generator was trained against reads the captions, then
/// `noise` is called with the batch size for `z` and `ε`, then the generator draws both
/// stages. The one drawing path of the experiment's test images and of a saved generator
/// (the `draw` command), so the two agree to the bit on the same ids and noise.
pub fn draw_captions(
    text: &DamsmTextEncoder,
    generator: &AttnGanGenerator,
    tokens: Tensor<2, Int>,
    noise: impl FnOnce(usize) -> GeneratorNoise,
) -> GeneratorOutput {
    let batch = tokens.dims()[0];
    let text = text.forward(tokens);
    let noise = noise(batch);
    generator.forward(text.sentence, text.words, text.mask, noise)
}

/// The stage-2 images of a generator's output, one per row of the batch.
pub fn stage2_images(out: &GeneratorOutput) -> Vec<RgbImage> {
    let [batch, _, height, width] = out.image1.dims();
    let pixels: Vec<f32> = out.image1.clone().into_data().iter::<f32>().collect();
    pixels
        .chunks(3 * height * width)
        .take(batch)
        .map(|data| RgbImage {
            height,
            width,
            data: data.to_vec(),
        })
        .collect()
}

/// What a generator drew from the test captions.
struct DrawnTestImages {
    /// Stage-2 images in chunks, in test-scene order.
    images: Vec<Tensor<4>>,
    /// For each test scene: its stage-2 image, only for the example scenes (others `None`).
    examples: Vec<Option<RgbImage>>,
    /// For each test scene, with word attention: its weights `[(canvas / 2)², T]`
    /// row-major, and `T` (the padded caption length of its chunk). Empty without word
    /// attention.
    attention: Vec<(Vec<f32>, usize)>,
}

/// Draws every test scene from its first caption with fresh noise from the device's
/// generator, in chunks.
fn draw_test_images(
    config: &Config,
    data: &TextToImageData,
    generator: &AttnGanGenerator,
    device: &Device,
) -> DrawnTestImages {
    let wanted = example_scenes(&data.test, config.examples);
    let mut images = Vec::new();
    let mut examples: Vec<Option<RgbImage>> = Vec::new();
    let mut attention = Vec::new();
    let indices: Vec<usize> = (0..data.test.len()).collect();
    for chunk in indices.chunks(config.eval_batch_size) {
        let captions: Vec<&[String]> = chunk
            .iter()
            .map(|&i| data.test[i].captions[0].as_slice())
            .collect();
        let out = draw_captions(
            &data.damsm.text,
            generator,
            tokens_tensor(&captions, &data.vocab, device),
            |batch| generator.draw_noise(batch, device),
        );
        let mut drawn = stage2_images(&out).into_iter();
        let weights = out.weights.map(|w| {
            let [_, n, t] = w.dims();
            (w.into_data().iter::<f32>().collect::<Vec<f32>>(), n, t)
        });
        for (row, &i) in chunk.iter().enumerate() {
            let image = drawn.next().expect("one image per caption");
            examples.push(wanted.contains(&i).then_some(image));
            if let Some((w, n, t)) = &weights {
                attention.push((w[row * n * t..(row + 1) * n * t].to_vec(), *t));
            }
        }
        images.push(out.image1);
    }
    DrawnTestImages {
        images,
        examples,
        attention,
    }
}

/// The test scenes drawn in the figures: the first with each number of objects, then the
/// next ones in order, `count` in all.
pub fn example_scenes(test: &[Scene], count: usize) -> Vec<usize> {
    let mut examples = crate::vision::first_of_each_count(test);
    let rest: Vec<usize> = (0..test.len()).filter(|i| !examples.contains(i)).collect();
    examples.extend(rest);
    examples.truncate(count);
    examples
}

/// The example scenes whose word attention is recorded: one per number of objects.
const ATTENTION_EXAMPLES: usize = 4;

/// `image_attention.csv` rows: each caption word's attention over stage 2's sub-regions, for
/// the first [`ATTENTION_EXAMPLES`] examples (none without word attention).
fn attention_rows(
    data: &TextToImageData,
    attention: &[(Vec<f32>, usize)],
    examples: &[usize],
    cell: &Cell,
) -> Vec<ImageAttentionRow> {
    let mut rows = Vec::new();
    for &example in examples.iter().take(ATTENTION_EXAMPLES) {
        let Some((weights, len)) = attention.get(example) else {
            continue;
        };
        let words = &data.test[example].captions[0];
        let regions = weights.len() / len;
        for (step, word) in words.iter().enumerate() {
            for region in 0..regions {
                rows.push(ImageAttentionRow {
                    model: cell.variant.clone(),
                    seed: cell.seed,
                    example,
                    step,
                    word: word.clone(),
                    cell: region,
                    weight: f64::from(weights[region * len + step]),
                });
            }
        }
    }
    rows
}

/// `generated_images.csv` rows of one example's drawing.
fn generated_rows(
    drawn: &[Option<RgbImage>],
    example: usize,
    model: &str,
    seed: u64,
) -> Vec<GeneratedImageRow> {
    let Some(image) = &drawn[example] else {
        return Vec::new();
    };
    crate::vision::pixels(image)
        .map(|(y, x, [red, green, blue])| GeneratedImageRow {
            model: model.to_string(),
            seed,
            example,
            y,
            x,
            red,
            green,
            blue,
        })
        .collect()
}
