//! Every setting of a reader run, and its presets.

use anyhow::bail;
use models::readers::ReaderKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ReaderTask;
use crate::experiment::{LONG_PRESET, Preset, Task};
use crate::training::{LearningRateSchedule, OptimizerSettings};
use crate::validate::{require_distinct, require_finite_positive, require_positive, require_seeds};

/// Every setting of a run.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The preset this configuration started from.
    pub preset: String,
    /// synthetic | bible-cloze | questions:DIR
    pub task: String,
    /// One training run per seed and reader.
    pub seeds: Vec<u64>,
    /// The readers compared (the frequency baselines always run): deep-lstm, uniform,
    /// attentive, impatient, attention-sum, stanford, and attentive-bilinear (the Attentive
    /// Reader with the Stanford reader's bilinear score: an ablation).
    #[schemars(with = "Vec<String>")]
    pub readers: Vec<ReaderKind>,
    /// Synthetic: number of stories (split into train/valid/test).
    pub stories: usize,
    /// Synthetic: sentences per story, at least.
    pub min_sentences: usize,
    /// Synthetic: sentences per story, at most.
    pub max_sentences: usize,
    /// Synthetic: distinct entities per story pool.
    pub entities: usize,
    /// Bible cloze: verses of context before the query verse.
    pub context_verses: usize,
    /// Bible cloze: at most this many questions (a seeded sample).
    pub max_questions: usize,
    /// Synthetic and Bible: fraction of questions held out for validation, and for test.
    pub heldout_fraction: f64,
    /// Words kept in the vocabulary (entity ids always are); rarer ones become `<unk>`.
    pub vocab_size: usize,
    /// `.question` directories: skip malformed files (counted and reported) instead of
    /// stopping at the first.
    pub skip_bad: bool,
    /// Optimizer steps per reader.
    pub steps: usize,
    /// Questions per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Gradient norm clip.
    pub grad_clip: f64,
    /// Embedding size.
    pub d_embed: usize,
    /// Recurrent hidden size per direction.
    pub d_hidden: usize,
    /// Attention / joint-embedding size.
    pub d_attention: usize,
    /// Width of the document-length buckets, in tokens.
    pub doc_bucket_width: usize,
    /// Record the mean training cross-entropy every this many steps (`learning_curve.csv`);
    /// 0 (or absent): no curve.
    // Left out of config.json when 0, so the runs that record no curve keep the
    // config.json they were committed with.
    // The schema states the default that serialization leaves out, so `--set` and
    // `--help` know the field (`overrides::with_omitted_defaults`).
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(extend("default" = 0))]
    pub curve_every: usize,
    /// Score validation accuracy every this many steps and keep the best reader, not the
    /// last one (Hermann et al.'s model selection); the checks go to `learning_curve.csv`
    /// as `<reader> validation error` and the chosen step to `metrics.csv` as
    /// `selected_step`. 0 (or absent): the last step's reader.
    // Left out of config.json when 0, as `curve_every` is.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(extend("default" = 0))]
    pub select_every: usize,
}

/// Whether a step interval is 0, which asks for nothing: such a field is left out of
/// config.json.
fn is_zero(every: &usize) -> bool {
    *every == 0
}

impl Config {
    /// A preset: `quick` (CPU, minutes: synthetic 20,000 stories and 1,000 steps;
    /// bible-cloze every question and 200 steps), `paper` (larger models and data, for a
    /// GPU), `smoke` (seconds).
    pub fn preset(preset: Preset, task: &ReaderTask) -> Config {
        let base = Config {
            preset: preset.name().to_string(),
            task: task.arg(),
            seeds: vec![1, 2, 3],
            readers: ReaderKind::PUBLISHED.to_vec(),
            stories: 3000,
            min_sentences: 4,
            max_sentences: 16,
            entities: 12,
            context_verses: 5,
            max_questions: 3000,
            heldout_fraction: 0.1,
            vocab_size: 5000,
            skip_bad: false,
            steps: 300,
            batch_size: 32,
            learning_rate: 3e-3,
            grad_clip: 5.0,
            d_embed: 48,
            d_hidden: 48,
            d_attention: 48,
            doc_bucket_width: if matches!(task, ReaderTask::Synthetic) {
                25
            } else {
                50
            },
            curve_every: 0,
            select_every: 0,
        };
        match preset {
            // Enough stories that no reader sees one twice (at 3,000 the Attentive Reader
            // memorized the training set); 3% held out is still 600 valid and 600 test.
            // Stories of 2-8 facts (10-60 tokens) and 1,000 steps: Hermann's readers, with
            // their additive score, need 400-650 steps before attention finds the answer's
            // fact even on these (on 4-16 facts they stayed at the baselines for 1,000),
            // and the whole preset must fit in 20 minutes on 2 cores.
            Preset::Quick if matches!(task, ReaderTask::Synthetic) => Config {
                stories: 20_000,
                min_sentences: 2,
                max_sentences: 8,
                heldout_fraction: 0.03,
                steps: 1000,
                ..base
            },
            // Every Bible question (about 8,100), 200 steps of 32: one pass over the 6,464
            // training questions. The 163-token documents make a step 3-4 times a synthetic
            // one (the Deep LSTM reader reads ~190 tokens in two layers, 0.25 s per step on
            // 2 cores), so this takes about 14 minutes.
            Preset::Quick if matches!(task, ReaderTask::BibleCloze) => Config {
                max_questions: usize::MAX,
                steps: 200,
                ..base
            },
            Preset::Quick => base,
            Preset::Paper => Config {
                stories: 50_000,
                max_sentences: 40,
                context_verses: 10,
                max_questions: usize::MAX,
                vocab_size: 20_000,
                steps: 20_000,
                d_embed: 128,
                d_hidden: 128,
                d_attention: 128,
                learning_rate: 1e-3,
                ..base
            },
            Preset::Smoke => Config {
                seeds: vec![1],
                stories: 60,
                max_sentences: 6,
                max_questions: 60,
                heldout_fraction: 0.2,
                steps: 2,
                batch_size: 8,
                d_embed: 8,
                d_hidden: 8,
                d_attention: 8,
                ..base
            },
        }
    }

    /// The `long` preset, for the Bible cloze only: about ten passes over its 6,464 training
    /// questions instead of the quick preset's one, with wider readers (64) and Adam at 1e-3,
    /// which suits a run of thousands of steps better than the quick preset's 3e-3; the
    /// training loss every 100 steps shows where each reader stands. Each reader is the one
    /// of the step with the best validation accuracy, checked every 100 steps: a first run
    /// without this choice kept the last step's, after the training loss had fallen to 0.18
    /// and validation accuracy with it (the Attentive Reader memorized the 6,464 training
    /// questions; docs/long-runs.md). The quick preset's
    /// timings (0.11-0.41 s a step on 2 cores, 1.3 s for one step of all six readers) put
    /// 3 seeds × 6 readers × 2,000 steps at about 3 hours on 2 cores: run them as cells
    /// (`--cells`, then `--merge`; docs/cluster.md).
    pub fn long(task: &ReaderTask) -> Option<Config> {
        if !matches!(task, ReaderTask::BibleCloze) {
            return None;
        }
        Some(Config {
            preset: LONG_PRESET.to_string(),
            steps: 2_000,
            learning_rate: 1e-3,
            d_embed: 64,
            d_hidden: 64,
            d_attention: 64,
            curve_every: 100,
            select_every: 100,
            ..Config::preset(Preset::Quick, task)
        })
    }

    /// Checks the values a run cannot work with, naming the field.
    pub fn validate(&self) -> anyhow::Result<()> {
        require_positive(&[
            ("steps", self.steps),
            ("batch_size", self.batch_size),
            ("d_embed", self.d_embed),
            ("d_hidden", self.d_hidden),
            ("d_attention", self.d_attention),
            ("doc_bucket_width", self.doc_bucket_width),
            ("stories", self.stories),
            ("context_verses", self.context_verses),
            ("max_questions", self.max_questions),
        ])?;
        require_seeds(&self.seeds)?;
        require_distinct("readers", &self.readers)?;
        if !(0.0 < self.heldout_fraction && self.heldout_fraction < 0.5) {
            bail!("config field 'heldout_fraction' must be between 0 and 0.5");
        }
        if self.min_sentences == 0 || self.min_sentences > self.max_sentences {
            bail!(
                "config fields 'min_sentences'..'max_sentences' must be a non-empty range from 1"
            );
        }
        require_finite_positive("learning_rate", self.learning_rate)?;
        Ok(())
    }

    /// The training settings of the shared loop.
    pub fn optimizer(&self) -> OptimizerSettings {
        OptimizerSettings {
            steps: self.steps,
            learning_rate: self.learning_rate,
            grad_clip: self.grad_clip,
            schedule: LearningRateSchedule::Constant,
        }
    }
}
