//! Every shared setting of a sequence-to-sequence run, and its presets.

use anyhow::bail;
use models::rnn::CellKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::TaskSpec;
use crate::experiment::{LONG_PRESET, Preset, Task};
use crate::validate::{require_distinct, require_finite_positive, require_positive, require_seeds};

/// Every shared setting of a run. Presets fill it; a JSON file or `--set` overrides it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The preset this configuration started from.
    pub preset: String,
    /// copy | reverse | sort | toy-translation | bible-en-es | tsv:PATH
    pub task: String,
    /// One full training run per seed, per model, per training length.
    pub seeds: Vec<u64>,
    /// The k of RNNencdec-k / RNNsearch-k: training sentences have at most k source tokens.
    pub train_max_lens: Vec<usize>,
    /// Shortest source sentence used anywhere.
    pub min_len: usize,
    /// Longest test source sentence: beyond the longest k, to see what happens past it.
    pub test_max_len: usize,
    /// Synthetic tasks: training pairs generated per k. Real text: ignored (the corpus decides).
    pub train_size: usize,
    /// Test sentences (synthetic: generated; real text: at most this many from the test split).
    pub test_size: usize,
    /// Real text: fraction of the corpus held out for testing.
    pub test_fraction: f64,
    /// Real text: vocabulary size per language, specials included; rarer words become UNK.
    pub vocab_size: usize,
    /// Optimizer steps per training run.
    pub steps: usize,
    /// Sentence pairs per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Gradient norm clip (Bahdanau et al. used 1.0).
    pub grad_clip: f64,
    /// Embedding size.
    pub d_embed: usize,
    /// Encoder hidden size per direction.
    pub d_encoder: usize,
    /// Decoder hidden size.
    pub d_decoder: usize,
    /// Alignment-model hidden size.
    pub d_attention: usize,
    /// gru | lstm
    #[schemars(with = "String")]
    pub cell: CellKind,
    /// Width of the source-length buckets of the per-length metrics.
    pub bucket_width: usize,
    /// 0 or 1: greedy decoding; more: beam search with that width (slower).
    pub beam: usize,
    /// Sentences decoded at once in greedy evaluation.
    pub eval_batch_size: usize,
}

impl Config {
    /// A preset for a task.
    ///
    /// - `quick` (default): CPU-sized, minutes per task on 2 cores, and already shows the gap.
    /// - `paper`: the lengths of Bahdanau et al. (k = 30 and 50, tests to 60 words), model
    ///   sizes closer to theirs; meant for a GPU (`--features cuda` or `wgpu`).
    /// - `smoke`: seconds; checks the pipeline end to end (CI), shows nothing.
    pub fn preset(preset: Preset, task: &TaskSpec) -> Config {
        let synthetic = task.is_synthetic();
        let base = Config {
            preset: preset.name().to_string(),
            task: task.arg(),
            seeds: vec![1, 2, 3],
            train_max_lens: vec![10, 20],
            min_len: 1,
            test_max_len: 25,
            train_size: 20_000,
            test_size: 500,
            test_fraction: 0.05,
            vocab_size: 2_000,
            steps: 500,
            batch_size: 64,
            learning_rate: 3e-3,
            grad_clip: 1.0,
            d_embed: 64,
            d_encoder: 128,
            d_decoder: 256,
            d_attention: 128,
            cell: CellKind::Gru,
            bucket_width: 5,
            beam: 0,
            eval_batch_size: 250,
        };
        match preset {
            Preset::Quick if synthetic => base,
            // Real text: a smaller model, vocabulary and batch, so twelve trainings fit in the
            // budget; far too little training for good translations (see the README).
            Preset::Quick => Config {
                train_max_lens: vec![15, 30],
                test_max_len: 40,
                test_size: 600,
                vocab_size: 1_000,
                steps: 500,
                batch_size: 32,
                d_encoder: 64,
                d_decoder: 128,
                d_attention: 64,
                ..base
            },
            Preset::Paper => Config {
                train_max_lens: vec![30, 50],
                test_max_len: 60,
                train_size: 200_000,
                test_size: 3_000,
                vocab_size: 16_000,
                steps: 20_000,
                batch_size: 80,
                learning_rate: 1e-3,
                d_embed: 256,
                d_encoder: 512,
                d_decoder: 512,
                d_attention: 512,
                bucket_width: 10,
                beam: if synthetic { 0 } else { 5 },
                ..base
            },
            Preset::Smoke => Config {
                seeds: vec![1],
                train_max_lens: vec![4, 6],
                test_max_len: 8,
                train_size: 200,
                test_size: 40,
                vocab_size: 200,
                steps: 3,
                batch_size: 8,
                d_embed: 8,
                d_encoder: 8,
                d_decoder: 16,
                d_attention: 8,
                bucket_width: 2,
                eval_batch_size: 20,
                ..base
            },
        }
    }

    /// The `long` preset, for real text only (`bible-en-es`, `tsv:`): Bahdanau et al.'s
    /// training lengths (k = 30 and 50, tests to 60 words, buckets of 10 as in their
    /// Figure 2) at a size the CPU trains in hours. The sizes are the ones measured on
    /// bible-en-es before this preset existed (one seed, k = 30, 2 cores, 54 minutes for
    /// both models): vocabulary 4,000, embeddings 128, encoder 128 per direction, decoder
    /// 256, attention 128, batch 64, Adam 1e-3 for 3,000 steps, greedy decoding; RNNencdec
    /// reached 7.1 BLEU and RNNsearch 17.5, the paper's gap (13.93 against 21.50). 3 seeds
    /// × 2 lengths × 2 models = 12 cells of about half an hour (k = 30) to an hour (k = 50)
    /// each on 2 cores: run them as cells (`--cells`, then `--merge`; docs/cluster.md).
    pub fn long(task: &TaskSpec) -> Option<Config> {
        if task.is_synthetic() {
            return None;
        }
        Some(Config {
            preset: LONG_PRESET.to_string(),
            train_max_lens: vec![30, 50],
            test_max_len: 60,
            test_size: 1_500,
            vocab_size: 4_000,
            steps: 3_000,
            batch_size: 64,
            learning_rate: 1e-3,
            d_embed: 128,
            d_encoder: 128,
            d_decoder: 256,
            d_attention: 128,
            bucket_width: 10,
            beam: 0,
            ..Config::preset(Preset::Quick, task)
        })
    }

    /// Checks the values a run cannot work with, naming the field.
    pub fn validate(&self) -> anyhow::Result<()> {
        require_positive(&[
            ("steps", self.steps),
            ("batch_size", self.batch_size),
            ("min_len", self.min_len),
            ("test_max_len", self.test_max_len),
            ("test_size", self.test_size),
            ("d_embed", self.d_embed),
            ("d_encoder", self.d_encoder),
            ("d_decoder", self.d_decoder),
            ("d_attention", self.d_attention),
            ("bucket_width", self.bucket_width),
            ("eval_batch_size", self.eval_batch_size),
        ])?;
        require_seeds(&self.seeds)?;
        if self.train_max_lens.is_empty() {
            bail!("config field 'train_max_lens' must list at least one length");
        }
        if let Some(&k) = self.train_max_lens.iter().find(|&&k| k < self.min_len) {
            bail!(
                "config field 'train_max_lens' has {k}, below min_len {}",
                self.min_len
            );
        }
        // The models are sized for sources up to test_max_len (position-based scores).
        if let Some(&k) = self.train_max_lens.iter().find(|&&k| k > self.test_max_len) {
            bail!(
                "config field 'train_max_lens' has {k}, above test_max_len {}",
                self.test_max_len
            );
        }
        require_distinct("train_max_lens", &self.train_max_lens)?;
        require_finite_positive("learning_rate", self.learning_rate)?;
        if !(0.0 < self.test_fraction && self.test_fraction < 1.0) {
            bail!("config field 'test_fraction' must be between 0 and 1");
        }
        if self.vocab_size < 5 {
            bail!("config field 'vocab_size' must be at least 5 (4 special tokens and a word)");
        }
        Ok(())
    }

    /// The largest k.
    pub fn longest_train_len(&self) -> usize {
        *self
            .train_max_lens
            .iter()
            .max()
            .expect("validated: non-empty")
    }

    /// The training settings of the shared loop.
    pub fn optimizer(&self) -> crate::training::OptimizerSettings {
        crate::training::OptimizerSettings {
            steps: self.steps,
            learning_rate: self.learning_rate,
            grad_clip: self.grad_clip,
            schedule: crate::training::LearningRateSchedule::Constant,
        }
    }
}
