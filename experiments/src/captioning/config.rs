//! Every setting of a captioning run, and its presets.

use anyhow::bail;
use datasets::scenes::{Colour, SceneConfig, SplitConfig};
use models::vision::{ContextKind, EncoderTuning};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::CaptionTask;
use crate::experiment::{LONG_PRESET, Preset, Task};
use crate::reinforce::ReinforceWeights;
use crate::training::{LearningRateSchedule, OptimizerSettings};
use crate::validate::{
    require_distinct, require_finite_positive, require_non_negative, require_positive,
    require_seeds,
};

/// Every setting of a run. Presets fill it; a JSON file or `--set` overrides it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The preset this configuration started from.
    pub preset: String,
    /// scenes | shapes
    pub task: String,
    /// One captioner per seed and variant.
    pub seeds: Vec<u64>,
    /// The context of the decoder: none (the mean-pooled image at every step: the
    /// fixed-vector bottleneck), soft (attention over the grid), hard (one sampled cell,
    /// REINFORCE).
    #[schemars(with = "Vec<String>")]
    pub variants: Vec<ContextKind>,
    /// Side of the square canvas in pixels (a 3 × 3 grid of slots).
    pub canvas: usize,
    /// Fewest objects in a scene.
    pub min_objects: usize,
    /// Most objects in a scene (at most 9).
    pub max_objects: usize,
    /// The seed of the scenes and of the held-out colour-class pairs (not a model seed:
    /// every model sees the same images).
    pub scene_seed: u64,
    /// Training scenes (five captions each).
    pub train_scenes: usize,
    /// In-distribution test scenes.
    pub test_scenes: usize,
    /// Compositional test scenes: each has a colour-class pair no training scene has.
    pub compositional_scenes: usize,
    /// Colour-class pairs held out of training.
    pub held_out_pairs: usize,
    /// shapes task: glyphs drawn per shape.
    pub glyphs_per_class: usize,
    /// Scene tasks: classes no scene holds, by the name captions use (e.g. `["shirt",
    /// "coat", "pullover", "dress"]`, the garments the encoder confuses at 12-16 pixels).
    /// Empty: every class of the glyph sources.
    #[serde(default)]
    pub exclude_classes: Vec<String>,
    /// karpathy task: the folder the split file's image names are relative to. Images are
    /// resized to `canvas` (shorter side, then centre crop) over a white background.
    #[serde(default)]
    pub images_dir: String,
    /// karpathy task: leave out (and count) missing or undecodable images instead of
    /// stopping at the first.
    #[serde(default)]
    pub skip_bad: bool,
    /// karpathy task: at most this many images per split (0: all), for quick runs.
    #[serde(default)]
    pub max_images_per_split: usize,
    /// karpathy task: the encoder is pretrained to tell which of the training captions'
    /// most frequent content words describe an image; this many of them.
    #[serde(default = "default_presence_words")]
    pub presence_words: usize,
    /// Side G of the annotation grid (L = G² regions attended over).
    pub grid: usize,
    /// Output channels of the encoder's blocks before the last (each halves the side).
    pub encoder_channels: Vec<usize>,
    /// Size D of an annotation vector.
    pub d_annotation: usize,
    /// Seed of the encoder, pretrained once per run and then frozen (Xu et al. froze VGG).
    pub encoder_seed: u64,
    /// Adam steps of the encoder's multi-label pretraining (scenes: which classes, colours
    /// and sizes lie in each grid cell; photographs: which frequent caption words describe
    /// the image).
    pub pretrain_steps: usize,
    /// Adam learning rate of the pretraining.
    pub pretrain_learning_rate: f64,
    /// frozen (the pretrained encoder's annotations are computed once; Xu et al. froze
    /// VGG) | fine-tune (each captioner trains its own copy of the pretrained encoder from
    /// the caption loss, at the captioner's learning rate; several times slower).
    #[schemars(with = "String")]
    pub encoder_tuning: EncoderTuning,
    /// Word embedding size.
    pub d_embed: usize,
    /// LSTM hidden size.
    pub d_hidden: usize,
    /// Attention MLP size.
    pub d_attention: usize,
    /// Optimizer steps per captioner.
    pub steps: usize,
    /// Captions per step (one of a scene's five, drawn per epoch).
    pub batch_size: usize,
    /// Adam learning rate of the captioner.
    pub learning_rate: f64,
    /// constant | cosine (half a cosine from `learning_rate` down to 0 over `steps`).
    #[serde(default)]
    #[schemars(with = "String")]
    pub learning_rate_schedule: LearningRateSchedule,
    /// Gradient norm clip.
    pub grad_clip: f64,
    /// λ of the doubly stochastic penalty λ Σ_i (1 - Σ_t α_ti)² (soft attention).
    pub doubly_stochastic: f64,
    /// Hard attention: the probability that a caption is trained with the expected context
    /// instead of a sampled one (Xu et al. use 0.5).
    pub hard_expected: f64,
    /// Soft and hard attention: append each grid cell's centre (x, y) to its annotation,
    /// so the context says where it looked in two numbers (relation words compare them).
    #[serde(default)]
    pub coordinates: bool,
    /// Hard attention: weight of the REINFORCE term.
    pub reinforce_weight: f64,
    /// Hard attention: weight of the entropy bonus.
    pub entropy_weight: f64,
    /// Hard attention: decay of the reward's moving-average baseline.
    pub baseline_decay: f64,
    /// Longest generated caption, in tokens.
    pub max_caption_len: usize,
    /// Hypotheses kept per step when captioning the test scenes: 1 is greedy decoding;
    /// more is beam search, one image at a time, which returns the finished caption with
    /// the best log-probability per word (its attention weights then come from a
    /// teacher-forced pass over that caption: the same weights its decoding computed).
    #[serde(default = "greedy_decoding")]
    pub beam: usize,
    /// Images captioned at once in evaluation.
    pub eval_batch_size: usize,
    /// A learning-curve point every this many steps.
    pub curve_every: usize,
}

/// Beam width 1: greedy decoding, what configurations written before `beam` existed used.
fn greedy_decoding() -> usize {
    1
}

/// The words of the karpathy task's presence labels, when a configuration file omits them.
fn default_presence_words() -> usize {
    100
}

impl Config {
    /// A preset for a task.
    ///
    /// - `quick`: 48-pixel canvases with 1 to 4 objects, 4,000 training scenes, a 6 × 6
    ///   grid, 3 seeds of each variant; minutes on 2 CPU cores.
    /// - `paper`: larger canvases, more scenes and a larger model, for a GPU. On an H200
    ///   through wgpu a step took 0.6 s: about 3.5 hours a cell (docs/performance.md).
    /// - `smoke`: seconds; checks the pipeline end to end.
    pub fn preset(preset: Preset, task: &CaptionTask) -> Config {
        let base = Config {
            preset: preset.name().to_string(),
            task: task.arg(),
            seeds: vec![1, 2, 3],
            variants: ContextKind::ALL.to_vec(),
            canvas: 48,
            min_objects: 1,
            max_objects: 4,
            scene_seed: 0,
            train_scenes: 4000,
            test_scenes: 500,
            compositional_scenes: 500,
            held_out_pairs: 6,
            glyphs_per_class: 200,
            exclude_classes: Vec::new(),
            images_dir: String::new(),
            skip_bad: false,
            max_images_per_split: 0,
            presence_words: default_presence_words(),
            grid: 6,
            // [32, 64] rather than [16, 32]: the frozen encoder's cost is paid once (its
            // annotations are computed before the decoders train), and the wider one
            // detects 86.9% of the classes present in a test scene against 78.7%.
            encoder_channels: vec![32, 64],
            d_annotation: 64,
            encoder_seed: 0,
            // The cell-level task (see `captioning::encoder`) detects 71% of the classes
            // present in the test scenes after 3,000 steps, 77% after 5,000.
            pretrain_steps: 4000,
            pretrain_learning_rate: 3e-3,
            encoder_tuning: EncoderTuning::Frozen,
            d_embed: 64,
            d_hidden: 128,
            d_attention: 64,
            // At 1,000 steps every decoder's loss was still falling; 2,000 fit the whole
            // run in about 15 minutes.
            steps: 2000,
            batch_size: 32,
            learning_rate: 3e-3,
            learning_rate_schedule: LearningRateSchedule::Constant,
            grad_clip: 5.0,
            doubly_stochastic: 1.0,
            hard_expected: 0.5,
            coordinates: false,
            reinforce_weight: 1.0,
            entropy_weight: 0.01,
            baseline_decay: 0.9,
            max_caption_len: 40,
            beam: 1,
            eval_batch_size: 250,
            curve_every: 50,
        };
        match preset {
            Preset::Quick => base,
            Preset::Paper => Config {
                canvas: 96,
                max_objects: 6,
                train_scenes: 40_000,
                test_scenes: 2_000,
                compositional_scenes: 2_000,
                grid: 12,
                encoder_channels: vec![32, 64],
                d_annotation: 256,
                pretrain_steps: 10_000,
                d_embed: 256,
                d_hidden: 512,
                d_attention: 256,
                steps: 20_000,
                learning_rate: 1e-3,
                max_caption_len: 60,
                beam: 1,
                ..base
            },
            Preset::Smoke => Config {
                seeds: vec![1],
                canvas: 24,
                max_objects: 3,
                train_scenes: 40,
                test_scenes: 12,
                compositional_scenes: 6,
                held_out_pairs: 2,
                glyphs_per_class: 4,
                grid: 3,
                encoder_channels: vec![4, 8],
                d_annotation: 8,
                pretrain_steps: 2,
                d_embed: 8,
                d_hidden: 16,
                d_attention: 8,
                steps: 3,
                batch_size: 8,
                max_caption_len: 12,
                beam: 1,
                eval_batch_size: 8,
                curve_every: 1,
                ..base
            },
        }
    }

    /// The `long` preset, for `scenes` only: the quick preset's model and encoder, trained
    /// on three times the scenes (12,000) for eight times the steps (16,000 of 32
    /// captions, about 25 passes), with the encoder pretrained 6,000 steps. Sized from one
    /// measured run of the quick preset with 8,000 steps (seed 1, none and soft): at four
    /// objects soft attention bound colours right 45.2% of the time against the pooled
    /// vector's 27.4%, sizes 52.4% against 33.9%, where 2,000 steps give gaps of 8 points;
    /// both losses were still falling. On 2 cores a step takes about 14 ms (none), 28 ms
    /// (soft) and 30 ms (hard): 3 seeds × 3 variants × 16,000 steps is about an hour, run
    /// in one process (the encoder is pretrained once per process) or as cells (`--cells`,
    /// then `--merge`; each process pretrains the same encoder again).
    pub fn long(task: &CaptionTask) -> Option<Config> {
        if *task != CaptionTask::Scenes {
            return None;
        }
        Some(Config {
            preset: LONG_PRESET.to_string(),
            train_scenes: 12_000,
            pretrain_steps: 6_000,
            steps: 16_000,
            curve_every: 200,
            ..Config::preset(Preset::Quick, task)
        })
    }

    /// Checks the values a run cannot work with, naming the field.
    pub fn validate(&self) -> anyhow::Result<()> {
        require_positive(&[
            ("canvas", self.canvas),
            ("train_scenes", self.train_scenes),
            ("test_scenes", self.test_scenes),
            ("glyphs_per_class", self.glyphs_per_class),
            ("grid", self.grid),
            ("d_annotation", self.d_annotation),
            ("d_embed", self.d_embed),
            ("d_hidden", self.d_hidden),
            ("d_attention", self.d_attention),
            ("steps", self.steps),
            ("batch_size", self.batch_size),
            ("max_caption_len", self.max_caption_len),
            ("beam", self.beam),
            ("eval_batch_size", self.eval_batch_size),
            ("curve_every", self.curve_every),
            ("presence_words", self.presence_words),
        ])?;
        require_seeds(&self.seeds)?;
        if self.variants.is_empty() {
            bail!("config field 'variants' must list at least one of none, soft, hard");
        }
        require_distinct("variants", &self.variants)?;
        require_finite_positive("learning_rate", self.learning_rate)?;
        require_finite_positive("pretrain_learning_rate", self.pretrain_learning_rate)?;
        if !(0.0..=1.0).contains(&self.hard_expected) {
            bail!("config field 'hard_expected' must be in [0, 1]");
        }
        self.reinforce_weights().validate()?;
        require_non_negative("doubly_stochastic", self.doubly_stochastic)?;
        if self.compositional_scenes > 0 && self.held_out_pairs == 0 {
            bail!("config field 'held_out_pairs' must be at least 1 for compositional scenes");
        }
        self.scene_config()
            .validate()
            .map_err(|e| anyhow::anyhow!("config fields canvas/min_objects/max_objects: {e}"))?;
        let encoder = self.encoder_config(0);
        encoder
            .check()
            .map_err(|e| anyhow::anyhow!("config fields canvas/encoder_channels/grid: {e}"))?;
        Ok(())
    }

    /// How scenes are drawn: the quick preset's glyph sizes, colours and jitter.
    pub fn scene_config(&self) -> SceneConfig {
        SceneConfig {
            canvas: self.canvas,
            min_objects: self.min_objects,
            max_objects: self.max_objects,
            colours: Colour::ALL.to_vec(),
            seed: self.scene_seed,
            ..SceneConfig::quick()
        }
    }

    /// The sizes of the splits (no validation split: nothing is tuned on it).
    pub fn split_config(&self) -> SplitConfig {
        SplitConfig {
            train: self.train_scenes,
            valid: 0,
            test: self.test_scenes,
            compositional: self.compositional_scenes,
            held_out_pairs: self.held_out_pairs,
        }
    }

    /// The image encoder, with a pretraining head of `n_labels` labels (0: none).
    pub fn encoder_config(&self, n_labels: usize) -> models::vision::ImageEncoderConfig {
        models::vision::ImageEncoderConfig::new()
            .with_canvas(self.canvas)
            .with_channels(self.encoder_channels.clone())
            .with_grid(self.grid)
            .with_d_annotation(self.d_annotation)
            .with_n_labels((n_labels > 0).then_some(n_labels))
    }

    /// The weights of the hard-attention loss.
    pub fn reinforce_weights(&self) -> ReinforceWeights {
        ReinforceWeights {
            reinforce: self.reinforce_weight,
            entropy: self.entropy_weight,
            baseline_decay: self.baseline_decay,
        }
    }

    /// The captioner's training settings.
    pub fn optimizer(&self) -> OptimizerSettings {
        OptimizerSettings {
            steps: self.steps,
            learning_rate: self.learning_rate,
            grad_clip: self.grad_clip,
            schedule: self.learning_rate_schedule,
        }
    }
}
