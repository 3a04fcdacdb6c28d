//! `captioning`: Show, Attend and Tell (Xu et al. 2015) on captioned scenes, the image
//! analogue of Bahdanau et al.'s Figure 2.
//!
//! Scenes of 1 to 4 coloured objects (digits and clothing items from the real image sets,
//! or procedural shapes) are captioned by three decoders that differ only in their context
//! at each word: **none** (the mean-pooled image vector at every step: the fixed-vector
//! bottleneck), **soft** (deterministic attention over the encoder's grid, with the gating
//! scalar and the doubly stochastic penalty) and **hard** (one sampled cell, trained by
//! REINFORCE with a moving-average baseline and an entropy bonus, half the captions with the
//! expected context; the most probable cell at test time). The encoder is pretrained once
//! per run on "which classes, colours and sizes lie in each cell" ([`encoder`]) and frozen,
//! so every decoder reads the same annotations.
//!
//! Scored per number of objects on an in-distribution test set and a compositional one
//! (colour-class pairs never seen in training): BLEU-1..4 against the five references,
//! semantic accuracy from parsing the caption back into facts, and pointing accuracy (see
//! [`eval`]). The cells: variant × seed.
//!
//! Departures from Xu et al.: small synthetic scenes instead of Flickr/COCO photographs; a
//! small CNN pretrained on the scenes instead of VGG on ImageNet; greedy decoding.

pub mod config;
pub mod data;
pub mod encoder;
pub mod eval;
pub mod task;

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use datasets::images::karpathy::KarpathyOptions;
use models::seq2seq::sequence_cross_entropy;
use models::vision::{
    Captioner, CaptionerConfig, ContextKind, EncoderTuning, ImageEncoder, attention_entropy,
};
use plots::TimingRow;
use rand::Rng;

pub use config::Config;
pub use data::{AnnotatedScenes, CaptionData};
pub use task::CaptionTask;

use crate::experiment::{Cell, CellContext, CellRecord, Experiment, Preset, Task};
use crate::reinforce::{ReinforceWeights, hybrid_loss, token_log_likelihoods};
use crate::saved_model::captioner::{CaptionerSave, ImagePreparation, ImageSource, save_captioner};
use crate::training::{EpochBatches, StepLoss, StepState, train_loop};

/// Captioning with no, soft and hard visual attention.
pub struct Captioning;

impl Experiment for Captioning {
    const NAME: &'static str = "captioning";
    const ABOUT: &'static str = "Captions scenes of 1 to 4 coloured objects with three decoders \
        that differ only in their context (none: the pooled image; soft and hard attention; \
        Xu et al. 2015), for each seed, and scores them per number of objects: BLEU-1..4, \
        semantic accuracy, pointing accuracy, on an in-distribution and a compositional test \
        set. Writes config.json, metrics.csv, learning_curve.csv, timings.csv, summary.md and \
        the figures to OUT/<task>/.";
    type Config = Config;
    type Task = CaptionTask;
    type Data = CaptionData;

    fn default_task() -> CaptionTask {
        CaptionTask::Scenes
    }

    fn preset(preset: Preset, task: &CaptionTask) -> Config {
        Config::preset(preset, task)
    }

    fn long_preset(task: &CaptionTask) -> Option<Config> {
        Config::long(task)
    }

    fn task_field(config: &mut Config) -> &mut String {
        &mut config.task
    }

    fn validate(config: &Config) -> anyhow::Result<()> {
        config.validate()
    }

    fn load(config: &Config, task: &CaptionTask, data_dir: &Path) -> anyhow::Result<CaptionData> {
        data::load(config, task, data_dir)
    }

    fn cells(config: &Config) -> Vec<Cell> {
        let names: Vec<&str> = config.variants.iter().map(|v| v.name()).collect();
        Cell::grid(&[0], &names, &config.seeds)
    }

    fn run_cell(
        config: &Config,
        task: &CaptionTask,
        data: &CaptionData,
        cell: &Cell,
        cell_context: &CellContext,
    ) -> anyhow::Result<CellRecord> {
        let context = *config
            .variants
            .iter()
            .find(|v| v.name() == cell.variant)
            .expect("a cell of this experiment");
        let device = harness::device(cell.seed)?;
        let model_config = CaptionerConfig::new(data.vocab.len())
            .with_d_embed(config.d_embed)
            .with_d_hidden(config.d_hidden)
            .with_d_annotation(config.d_annotation)
            .with_d_attention(config.d_attention)
            .with_grid_cells(data.cells)
            .with_context(context)
            .with_doubly_stochastic(config.doubly_stochastic)
            .with_hard_expected(config.hard_expected)
            .with_coordinates(config.coordinates);
        let model = model_config.init(&device);
        let encoder = match config.encoder_tuning {
            EncoderTuning::Frozen => None,
            // The pretrained encoder back on the autodiff device, learning from the captions.
            EncoderTuning::FineTune => Some(data.encoder.clone().train()),
        };
        let model = CaptionModel {
            encoder,
            captioner: model,
        };
        let trained = train_captioner(config, data, model, &device, cell)?;
        let CaptionModel {
            encoder,
            captioner: model,
        } = trained.model.valid();
        let plain = device.clone().without_autodiff();
        let eval_start = std::time::Instant::now();
        let mut metrics = Vec::new();
        let mut image_attention = Vec::new();
        for (split, prefix) in [(&data.test, ""), (&data.compositional, "compositional_")] {
            if split.scenes.is_empty() {
                continue;
            }
            // A fine-tuned encoder annotates the test images anew.
            let reannotated = encoder.as_ref().map(|encoder| AnnotatedScenes {
                annotations: encoder::annotate(
                    encoder,
                    &split.scenes,
                    config.eval_batch_size,
                    &plain,
                ),
                scenes: split.scenes.clone(),
            });
            let split = reannotated.as_ref().unwrap_or(split);
            let generated = eval::generate(&model, data, split, config, &plain);
            metrics.extend(eval::metric_rows(
                config, data, split, &generated, cell, prefix,
            ));
            if prefix.is_empty() && cell.seed == config.seeds[0] {
                image_attention = eval::attention_rows(data, &generated, cell);
            }
        }
        // The example images once, with the run's first cell.
        let example_images = if *cell == Self::cells(config)[0] {
            eval::example_image_rows(data)
        } else {
            Vec::new()
        };
        let eval_seconds = eval_start.elapsed().as_secs_f64();
        let save = saved_captioner(config, task, data, &model_config);
        let encoder = encoder.as_ref().unwrap_or(&data.encoder);
        save_captioner(cell_context, cell, save, encoder, &model)?;
        Ok(CellRecord {
            metrics,
            example_images,
            image_attention,
            curve: cell.curve_rows(&trained.curve),
            timing: Some(TimingRow {
                model: cell.variant.clone(),
                train_max_len: 0,
                seed: cell.seed,
                steps: config.steps,
                train_seconds: trained.seconds,
                ms_per_step: 1000.0 * trained.seconds / config.steps as f64,
                eval_seconds,
            }),
            ..CellRecord::default()
        })
    }
}

/// What a cell saves with `--save-models` besides the modules: the decoder's configuration,
/// the encoder's, the vocabulary and how images were prepared.
fn saved_captioner<'a>(
    config: &Config,
    task: &CaptionTask,
    data: &'a CaptionData,
    model_config: &'a CaptionerConfig,
) -> CaptionerSave<'a> {
    let (source, background) = match task {
        CaptionTask::Karpathy(_) => (
            ImageSource::Photographs,
            KarpathyOptions::default().background,
        ),
        CaptionTask::Scenes | CaptionTask::Shapes => (ImageSource::Scenes, [0.0; 3]),
    };
    CaptionerSave {
        task: task.arg(),
        captioner: model_config,
        encoder: config.encoder_config(0),
        vocab: &data.vocab,
        max_caption_len: config.max_caption_len,
        image: ImagePreparation {
            source,
            size: config.canvas,
            background,
        },
        class_names: &data.class_names,
    }
}

/// What a cell trains: the decoder, and with `encoder_tuning: fine-tune` the encoder too.
#[derive(Module, Debug)]
pub struct CaptionModel {
    /// The pretrained encoder, learning from the caption loss; `None`: frozen, its
    /// annotations precomputed.
    pub encoder: Option<ImageEncoder>,
    /// The decoder.
    pub captioner: Captioner,
}

/// A training batch's image side: precomputed annotations `[B, L, D]`, or the images
/// `[B, 3, H, W]` when the encoder is fine-tuned.
pub enum ImageInput {
    Annotations(Tensor<3>),
    Images(Tensor<4>),
}

/// Trains one captioner with the shared loop. Each epoch visits every (scene, caption) pair
/// once in an order fixed by the epoch number alone, so every variant and seed sees the
/// same captions in the same order; hard attention's coins come from the step's generator
/// ([`StepState`]).
fn train_captioner(
    config: &Config,
    data: &CaptionData,
    model: CaptionModel,
    device: &Device,
    cell: &Cell,
) -> anyhow::Result<crate::training::Trained<CaptionModel>> {
    let train = &data.train;
    let pairs: Vec<(usize, usize)> = (0..train.scenes.len())
        .flat_map(|s| (0..train.scenes[s].captions.len()).map(move |c| (s, c)))
        .collect();
    let mut batches = EpochBatches::new(pairs.len(), config.batch_size);
    let fine_tune = model.encoder.is_some();
    let next_batch = || {
        let batch: Vec<(usize, usize)> = batches.next_batch().iter().map(|&i| pairs[i]).collect();
        let scenes: Vec<usize> = batch.iter().map(|&(s, _)| s).collect();
        let captions: Vec<&[String]> = batch
            .iter()
            .map(|&(s, c)| train.scenes[s].captions[c].as_slice())
            .collect();
        let (tgt_in, tgt_out) = data::caption_tensors(&captions, &data.vocab, device);
        let input = if fine_tune {
            let images: Vec<&datasets::scenes::Scene> =
                scenes.iter().map(|&s| &train.scenes[s]).collect();
            ImageInput::Images(crate::vision::images_tensor(&images, device))
        } else {
            ImageInput::Annotations(train.batch(&scenes, data.cells, data.d_annotation, device))
        };
        (input, tgt_in, tgt_out)
    };
    let weights = config.reinforce_weights();
    train_loop(
        &config.optimizer(),
        model,
        &cell.label(),
        config.curve_every,
        next_batch,
        |model: &CaptionModel, (input, tgt_in, tgt_out), step| {
            let annotations = match (input, &model.encoder) {
                (ImageInput::Annotations(annotations), _) => annotations.clone(),
                (ImageInput::Images(images), Some(encoder)) => encoder.forward(images.clone()),
                (ImageInput::Images(_), None) => unreachable!("images come with an encoder"),
            };
            let batch = (annotations, tgt_in.clone(), tgt_out.clone());
            captioner_loss(&model.captioner, &batch, weights, step)
        },
    )
}

/// The training loss of one batch `(annotations [B, L, D], tgt_in [B, T], tgt_out [B, T])`:
/// cross-entropy (plus the doubly stochastic penalty for soft attention), or for hard
/// attention the hybrid REINFORCE loss, its expected-context coins drawn from `coins`.
pub fn captioner_loss(
    model: &Captioner,
    (annotations, tgt_in, tgt_out): &(Tensor<3>, Tensor<2, Int>, Tensor<2, Int>),
    weights: ReinforceWeights,
    step: &mut StepState,
) -> StepLoss {
    match model.context {
        ContextKind::Hard => {
            let out = model.forward_sampled(annotations.clone(), tgt_in.clone(), &mut || {
                step.rng.random::<f64>()
            });
            let (ll, real) = token_log_likelihoods(out.logits, tgt_out.clone());
            let log_choice = out.sample_log_probs.expect("hard attention samples");
            let attention = out.weights.expect("hard attention has weights");
            hybrid_loss(
                weights,
                ll,
                real,
                log_choice,
                || attention_entropy(attention),
                &mut step.reward_baseline,
            )
        }
        ContextKind::None | ContextKind::Soft => {
            let out = model.forward(annotations.clone(), tgt_in.clone());
            let cross_entropy = sequence_cross_entropy(out.logits, tgt_out.clone());
            let value = cross_entropy.clone().into_scalar::<f32>() as f64;
            let objective = match out.penalty {
                Some(penalty) => cross_entropy + penalty,
                None => cross_entropy,
            };
            StepLoss {
                objective,
                cross_entropy: value,
            }
        }
    }
}
