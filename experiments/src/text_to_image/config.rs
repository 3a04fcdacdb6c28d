//! Every setting of a text-to-image run, and its presets.

use anyhow::bail;
use datasets::scenes::{Colour, SceneConfig, SplitConfig};
use models::vision::{
    AttnGanDiscriminatorConfig, AttnGanGeneratorConfig, DamsmConfig, DamsmImageEncoderConfig,
    DamsmTextEncoderConfig, GeneratorConditioning, ImageEncoderConfig, SceneJudgeConfig,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::TextToImageTask;
use crate::experiment::{LONG_PRESET, Preset, Task};
use crate::validate::{
    require_distinct, require_finite_positive, require_non_negative, require_positive,
    require_seeds,
};

/// What a cell trains: AttnGAN or one of its two ablations, everything else equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Word attention in stage 2 and the DAMSM loss (λ = `damsm_weight`).
    Attngan,
    /// No word attention: stage 2 sees the sentence condition only (StackGAN-like); the
    /// DAMSM loss as `attngan`.
    SentenceOnly,
    /// Word attention, but λ = 0: no DAMSM loss.
    NoDamsm,
}

impl Variant {
    /// The three, in the order of tables and legends.
    pub const ALL: [Variant; 3] = [Variant::Attngan, Variant::SentenceOnly, Variant::NoDamsm];

    /// The name in CSVs and configuration files.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Attngan => "attngan",
            Variant::SentenceOnly => "sentence-only",
            Variant::NoDamsm => "no-damsm",
        }
    }

    /// What stage 2 reads of the caption.
    pub fn conditioning(self) -> GeneratorConditioning {
        match self {
            Variant::Attngan | Variant::NoDamsm => GeneratorConditioning::WordAttention,
            Variant::SentenceOnly => GeneratorConditioning::SentenceOnly,
        }
    }

    /// Whether the generator's loss has the DAMSM term.
    pub fn uses_damsm(self) -> bool {
        self != Variant::NoDamsm
    }
}

/// Every setting of a run. Presets fill it; a JSON file or `--set` overrides it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The preset this configuration started from.
    pub preset: String,
    /// scenes | shapes
    pub task: String,
    /// One generator (and its discriminators) per seed and variant.
    pub seeds: Vec<u64>,
    /// attngan (word attention + DAMSM loss), sentence-only (no word attention),
    /// no-damsm (λ = 0).
    #[schemars(with = "Vec<String>")]
    pub variants: Vec<Variant>,
    /// Side of the square canvas of the scenes and of the stage-2 images (a multiple of 8
    /// and of 3·2^blocks for the encoders); stage 1 draws at half of it.
    pub canvas: usize,
    /// Fewest objects in a scene.
    pub min_objects: usize,
    /// Most objects in a scene (at most 9).
    pub max_objects: usize,
    /// The seed of the scenes (not a model seed: every model sees the same images).
    pub scene_seed: u64,
    /// Training scenes (five captions each).
    pub train_scenes: usize,
    /// Test scenes: each is drawn once from its first caption and scored. Also the sample
    /// size of FID, and of the real scenes FID's floor compares them with.
    pub test_scenes: usize,
    /// shapes task: glyphs drawn per shape.
    pub glyphs_per_class: usize,
    /// Output channels of the DAMSM image encoder's blocks before the last.
    pub encoder_channels: Vec<usize>,
    /// Side G of the DAMSM image encoder's region grid (L = G² regions).
    pub grid: usize,
    /// Channels of the DAMSM image encoder's last block (its region features before W).
    pub d_annotation: usize,
    /// Size D of DAMSM's common space (word, sentence, region and global features).
    pub d_common: usize,
    /// DAMSM word embedding size.
    pub d_embed: usize,
    /// γ1 of the DAMSM matching: how sharply a word attends to regions.
    pub gamma1: f64,
    /// γ2: how much the best-matching words dominate R(Q, D).
    pub gamma2: f64,
    /// γ3: the smoothing of the posteriors over the batch.
    pub gamma3: f64,
    /// Seed of the DAMSM the generators train against (frozen after pretraining).
    pub damsm_seed: u64,
    /// Seed of the second DAMSM, trained alike and used only to score (R-precision), so no
    /// generator is scored by the model it was trained against.
    pub eval_damsm_seed: u64,
    /// Adam steps of each DAMSM's pretraining on the training scenes.
    pub damsm_steps: usize,
    /// Adam learning rate of the DAMSM pretraining.
    pub damsm_learning_rate: f64,
    /// Whether each DAMSM's pretraining adds, for every pair of a batch, its caption with one
    /// attribute of one object changed as a further negative of every image (see
    /// `text_to_image::negatives`). Without them the batch's other captions are the only
    /// negatives, as in the paper.
    #[serde(default)]
    pub damsm_hard_negatives: bool,
    /// Output channels of the judge's blocks (the last is its slot features' width).
    pub judge_channels: Vec<usize>,
    /// Penultimate features per slot of the judge (FID's features, pooled over slots).
    pub judge_features: usize,
    /// Seed of the judge.
    pub judge_seed: u64,
    /// Adam steps of the judge's training on the training scenes.
    pub judge_steps: usize,
    /// Size of the condition ĉ of conditioning augmentation.
    pub d_condition: usize,
    /// Size of the noise z.
    pub d_noise: usize,
    /// Channels C of the generator's hidden maps.
    pub d_hidden: usize,
    /// Residual blocks of stage 2.
    pub residual_blocks: usize,
    /// Channels of the discriminators' first block (doubling per block).
    pub d_discriminator: usize,
    /// Side of the discriminators' last map.
    pub discriminator_final_side: usize,
    /// Generator and discriminator steps (one of each per batch).
    pub steps: usize,
    /// Captions per step (one of a scene's five, a scene once per epoch).
    pub batch_size: usize,
    /// Adam learning rate of the generator.
    pub generator_learning_rate: f64,
    /// Adam learning rate of the discriminators.
    pub discriminator_learning_rate: f64,
    /// Adam β1 of the GAN's optimizers (0.5, as the reference code).
    pub beta1: f64,
    /// λ: weight of the DAMSM loss (averaged over the batch, as the reference code) in the
    /// generator's loss; the no-damsm variant sets it to 0.
    pub damsm_weight: f64,
    /// Weight of conditioning augmentation's KL term in the generator's loss.
    pub kl_weight: f64,
    /// The run stops when the discriminators' loss, averaged over this many steps, falls
    /// below `collapse_loss` (the generator then learns nothing) ...
    pub collapse_window: usize,
    /// ... this value (see `collapse_window`; 0 never stops).
    pub collapse_loss: f64,
    /// Candidate captions per generated image in R-precision (the true one and the rest).
    pub candidates: usize,
    /// Folds of R-precision and of the Inception-score analogue (mean ± std over folds).
    pub folds: usize,
    /// Test examples drawn in the figures (the first of each number of objects, then the
    /// next ones).
    pub examples: usize,
    /// Images generated (and scored) at once in evaluation.
    pub eval_batch_size: usize,
    /// A learning-curve point every this many steps.
    pub curve_every: usize,
}

impl Config {
    /// A preset for a task.
    ///
    /// - `quick`: the captioning scenes (48 pixels, 1 to 4 objects), 3 seeds of each
    ///   variant, both DAMSMs and the judge trained in the run; 48 minutes on one core beside
    ///   another run (not yet timed on 2 quiet cores, whose target is at most 45).
    /// - `paper`: a 96-pixel canvas, wider networks and many more steps, for a GPU. On an
    ///   H200 through wgpu a step took 1.9 s: about two days a cell (docs/performance.md).
    /// - `smoke`: seconds; checks the pipeline end to end.
    pub fn preset(preset: Preset, task: &TextToImageTask) -> Config {
        let base = Config {
            preset: preset.name().to_string(),
            task: task.arg(),
            seeds: vec![1, 2, 3],
            variants: Variant::ALL.to_vec(),
            canvas: 48,
            min_objects: 1,
            max_objects: 4,
            scene_seed: 0,
            train_scenes: 4000,
            test_scenes: 500,
            glyphs_per_class: 200,
            encoder_channels: vec![16, 32],
            grid: 6,
            d_annotation: 64,
            d_common: 64,
            d_embed: 64,
            gamma1: 4.0,
            gamma2: 5.0,
            gamma3: 10.0,
            damsm_seed: 0,
            eval_damsm_seed: 1,
            // The DAMSM's loss per pair falls from 11 (chance, 4 ln 16) to about 2 within
            // 1,000 steps. The evaluation DAMSM ranks the real test images' captions first
            // among 100 random candidates 62.8% of the time after 1,500 steps, 88.2% after
            // 6,000, and 90.4% with hard negatives (which take 14 steps a second on one
            // thread, against 20 without): see docs/results.md.
            damsm_steps: 6000,
            damsm_learning_rate: 2e-3,
            damsm_hard_negatives: true,
            judge_channels: vec![16, 32, 64],
            judge_features: 128,
            judge_seed: 0,
            // 300 steps read 27% of the real test scenes' objects, 1,500 steps 66%.
            judge_steps: 1500,
            d_condition: 32,
            d_noise: 32,
            // The reference code's width for birds is 32 with two residual blocks: 1.2 s a
            // step on 2 cores (see docs/performance.md); 16 with one block takes 0.28 s at
            // batch 16 (0.25-0.4 s on the same machine on different days), which fits 9
            // generators of 700 steps in the 45 minutes.
            d_hidden: 16,
            residual_blocks: 1,
            d_discriminator: 16,
            discriminator_final_side: 3,
            steps: 700,
            batch_size: 16,
            // The reference code's 2e-4 left the DAMSM loss of the drawn images at chance
            // (R-precision 2%) after 900 steps; 1e-3 reached 25% after 600.
            generator_learning_rate: 1e-3,
            discriminator_learning_rate: 1e-3,
            beta1: 0.5,
            damsm_weight: 5.0,
            kl_weight: 1.0,
            collapse_window: 50,
            collapse_loss: 1e-3,
            candidates: 100,
            folds: 10,
            examples: 8,
            eval_batch_size: 100,
            curve_every: 25,
        };
        match preset {
            Preset::Quick => base,
            Preset::Paper => Config {
                canvas: 96,
                train_scenes: 40_000,
                test_scenes: 2_000,
                encoder_channels: vec![32, 64],
                grid: 12,
                d_annotation: 256,
                d_common: 256,
                d_embed: 300,
                damsm_steps: 20_000,
                judge_channels: vec![32, 64, 128, 128, 128],
                judge_features: 256,
                judge_steps: 10_000,
                d_condition: 100,
                d_noise: 100,
                d_hidden: 64,
                residual_blocks: 2,
                d_discriminator: 64,
                batch_size: 32,
                generator_learning_rate: 2e-4,
                discriminator_learning_rate: 2e-4,
                steps: 100_000,
                eval_batch_size: 250,
                curve_every: 500,
                ..base
            },
            Preset::Smoke => Config {
                seeds: vec![1],
                canvas: 24,
                max_objects: 3,
                train_scenes: 40,
                test_scenes: 20,
                glyphs_per_class: 4,
                encoder_channels: vec![4, 8],
                grid: 3,
                d_annotation: 8,
                d_common: 8,
                d_embed: 8,
                damsm_steps: 3,
                judge_channels: vec![4, 8],
                judge_features: 8,
                judge_steps: 3,
                d_condition: 4,
                d_noise: 4,
                d_hidden: 4,
                residual_blocks: 1,
                d_discriminator: 4,
                steps: 3,
                batch_size: 8,
                candidates: 10,
                folds: 2,
                examples: 2,
                eval_batch_size: 10,
                curve_every: 1,
                ..base
            },
        }
    }

    /// The `long` preset (scenes only): the quick preset with each generator trained 3,500
    /// steps in place of 700. Sized from a probe of seed 1 (the quick preset's DAMSMs and
    /// judge): attngan after 3,500 steps against 700 reached R-precision 45.0% against
    /// 21.6, judged colour binding 10.5% against 5.5, whole one-object images 13.8%
    /// against 0.8, FID 3.8 against 22.3. Each cell takes about 19 minutes on one core
    /// (0.32 s a step beside another run), and each process first trains the two DAMSMs
    /// and the judge (about 15 minutes): run the 9 cells as two processes of several
    /// cells each (`--cells 0,2,4,6,8` and `--cells 1,3,5,7`), then `--merge`.
    pub fn long(task: &TextToImageTask) -> Option<Config> {
        if *task != TextToImageTask::Scenes {
            return None;
        }
        Some(Config {
            preset: LONG_PRESET.to_string(),
            steps: 3500,
            curve_every: 100,
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
            ("d_common", self.d_common),
            ("d_embed", self.d_embed),
            ("judge_features", self.judge_features),
            ("d_condition", self.d_condition),
            ("d_noise", self.d_noise),
            ("d_hidden", self.d_hidden),
            ("d_discriminator", self.d_discriminator),
            ("discriminator_final_side", self.discriminator_final_side),
            ("steps", self.steps),
            ("candidates", self.candidates),
            ("folds", self.folds),
            ("eval_batch_size", self.eval_batch_size),
            ("curve_every", self.curve_every),
            ("collapse_window", self.collapse_window),
        ])?;
        require_seeds(&self.seeds)?;
        if self.variants.is_empty() {
            bail!(
                "config field 'variants' must list at least one of attngan, sentence-only, no-damsm"
            );
        }
        require_distinct("variants", &self.variants)?;
        if self.batch_size < 2 {
            bail!(
                "config field 'batch_size' must be at least 2: the DAMSM loss and the mismatched pairs need other captions in the batch"
            );
        }
        if !self.d_common.is_multiple_of(2) {
            bail!(
                "config field 'd_common' must be even: half of it per direction of the text encoder"
            );
        }
        if !self.canvas.is_multiple_of(8) {
            bail!(
                "config field 'canvas' must be a multiple of 8: the generator doubles a map of canvas/8 three times"
            );
        }
        if self.damsm_seed == self.eval_damsm_seed {
            bail!(
                "config fields 'damsm_seed' and 'eval_damsm_seed' must differ: the generators must not be scored by the DAMSM they trained against"
            );
        }
        for (field, value) in [
            ("damsm_learning_rate", self.damsm_learning_rate),
            ("generator_learning_rate", self.generator_learning_rate),
            (
                "discriminator_learning_rate",
                self.discriminator_learning_rate,
            ),
            ("gamma1", self.gamma1),
            ("gamma2", self.gamma2),
            ("gamma3", self.gamma3),
        ] {
            require_finite_positive(field, value)?;
        }
        for (field, value) in [
            ("damsm_weight", self.damsm_weight),
            ("kl_weight", self.kl_weight),
            ("collapse_loss", self.collapse_loss),
        ] {
            require_non_negative(field, value)?;
        }
        if !(0.0..1.0).contains(&self.beta1) {
            bail!("config field 'beta1' must be in [0, 1)");
        }
        if self.candidates < 2 {
            bail!("config field 'candidates' must be at least 2: the true caption and one other");
        }
        if self.test_scenes < self.folds.max(self.candidates) {
            bail!(
                "config field 'test_scenes' ({}) must be at least 'folds' ({}) and 'candidates' ({})",
                self.test_scenes,
                self.folds,
                self.candidates
            );
        }
        self.scene_config()
            .validate()
            .map_err(|e| anyhow::anyhow!("config fields canvas/min_objects/max_objects: {e}"))?;
        self.damsm_image()
            .cnn
            .check()
            .map_err(|e| anyhow::anyhow!("config fields canvas/encoder_channels/grid: {e}"))?;
        self.judge(1)
            .check()
            .map_err(|e| anyhow::anyhow!("config fields canvas/judge_channels: {e}"))?;
        let last = self.discriminator_final_side;
        for side in [self.canvas / 2, self.canvas] {
            let ratio = side / last;
            if ratio * last != side || !ratio.is_power_of_two() || ratio < 2 {
                bail!(
                    "config fields canvas/discriminator_final_side: each stage's side ({side}) must be the final side ({last}) times a power of 2, at least 2"
                );
            }
        }
        Ok(())
    }

    /// How scenes are drawn: the captioning scenes' glyph sizes, colours and jitter.
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

    /// The sizes of the splits: the validation split is the second set of real scenes
    /// FID's floor compares the test scenes with; no compositional split.
    pub fn split_config(&self) -> SplitConfig {
        SplitConfig {
            train: self.train_scenes,
            valid: self.test_scenes,
            test: self.test_scenes,
            compositional: 0,
            held_out_pairs: 0,
        }
    }

    /// The DAMSM text encoder over a vocabulary of `vocab` words.
    pub fn damsm_text(&self, vocab: usize) -> DamsmTextEncoderConfig {
        DamsmTextEncoderConfig::new(vocab)
            .with_d_embed(self.d_embed)
            .with_d_common(self.d_common)
    }

    /// The DAMSM image encoder.
    pub fn damsm_image(&self) -> DamsmImageEncoderConfig {
        DamsmImageEncoderConfig::new()
            .with_cnn(
                ImageEncoderConfig::new()
                    .with_canvas(self.canvas)
                    .with_channels(self.encoder_channels.clone())
                    .with_grid(self.grid)
                    .with_d_annotation(self.d_annotation),
            )
            .with_d_common(self.d_common)
    }

    /// The DAMSM matching's γ1, γ2, γ3.
    pub fn damsm(&self) -> DamsmConfig {
        DamsmConfig::new()
            .with_gamma1(self.gamma1)
            .with_gamma2(self.gamma2)
            .with_gamma3(self.gamma3)
    }

    /// The judge over `n_classes` classes and the six colours.
    pub fn judge(&self, n_classes: usize) -> SceneJudgeConfig {
        SceneJudgeConfig::new(n_classes)
            .with_n_colours(Colour::ALL.len())
            .with_canvas(self.canvas)
            .with_channels(self.judge_channels.clone())
            .with_d_features(self.judge_features)
    }

    /// The generator of a variant.
    pub fn generator(&self, variant: Variant) -> AttnGanGeneratorConfig {
        AttnGanGeneratorConfig::new()
            .with_d_sentence(self.d_common)
            .with_d_word(self.d_common)
            .with_d_condition(self.d_condition)
            .with_d_noise(self.d_noise)
            .with_d_hidden(self.d_hidden)
            .with_canvas(self.canvas)
            .with_residual_blocks(self.residual_blocks)
            .with_conditioning(variant.conditioning())
    }

    /// The discriminator of the stage whose images have side `side`.
    pub fn discriminator(&self, side: usize) -> AttnGanDiscriminatorConfig {
        AttnGanDiscriminatorConfig::new()
            .with_canvas(side)
            .with_d_base(self.d_discriminator)
            .with_final_side(self.discriminator_final_side)
            .with_d_sentence(self.d_common)
    }
}
