//! `soft-vs-hard`: deterministic soft attention against stochastic hard attention, Xu et al.
//! 2015 ("Show, Attend and Tell", §4).
//!
//! Soft attention feeds the decoder the expectation `Σ_i α_i h_i` and is trained by
//! backpropagation. Hard attention feeds one annotation `h_i`, `i ~ Categorical(α)`; the
//! choice is not differentiable, so the alignment model is trained by REINFORCE: the
//! per-sentence log-likelihood is the reward, a moving average of it the baseline, and an
//! entropy bonus keeps the distribution from collapsing early (Xu et al., eq. 12). The rest
//! of the network gets ordinary gradients through the chosen annotation. At test time hard
//! attention takes the most probable position.
//!
//! Departure from Xu et al.: no 50% mixing with the soft expectation during training; the
//! comparison is between the two pure forms.
//!
//! Writes `metrics.csv` (degradation per length bucket, every seed, so the spread across
//! seeds shows), `learning_curve.csv` (training cross-entropy against step), `timings.csv`,
//! `alignment.csv` (both models on one sentence) and the figures.

use std::path::Path;

use anyhow::bail;
use models::seq2seq::{Architecture, Selection, Seq2Seq};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::experiment::{Cell, CellContext, CellRecord, Experiment, Preset};
use crate::reinforce::{ReinforceWeights, hybrid_loss, token_log_likelihoods};
use crate::saved_model::seq2seq::{Seq2SeqSave, save_seq2seq};
use crate::seq2seq::decode::decode_alignment;
use crate::seq2seq::eval::score_seq2seq;
use crate::seq2seq::{
    self, BatchTensors, TaskData, TaskSpec, load_data, seq2seq_model, teacher_forced_loss, train,
};
use crate::training::StepLoss;

/// The settings of a run: the shared sequence-to-sequence settings plus REINFORCE's.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Task, data, model sizes, training and evaluation, as in seq2seq-length.
    pub base: seq2seq::Config,
    /// Weight of the REINFORCE term for the alignment model (λ_r).
    pub reinforce_weight: f64,
    /// Weight of the entropy bonus (λ_e in Xu et al.).
    pub entropy_weight: f64,
    /// The baseline is `b ← decay · b + (1 - decay) · mean reward` (Xu et al. use 0.9).
    pub baseline_decay: f64,
    /// A point of the learning curve every this many steps (mean cross-entropy over them).
    pub curve_every: usize,
}

impl Config {
    /// A preset: seq2seq-length's with one training length and five seeds, because the
    /// spread across seeds is half of what this experiment is about.
    pub fn preset(preset: Preset, task: &TaskSpec) -> Config {
        let mut base = seq2seq::Config::preset(preset, task);
        match preset {
            Preset::Quick => {
                base.train_max_lens = vec![15];
                base.test_max_len = 20;
                base.seeds = vec![1, 2, 3, 4, 5];
                base.steps = 500;
                base.test_size = 400;
            }
            Preset::Paper => base.train_max_lens = vec![50],
            Preset::Smoke => base.train_max_lens.truncate(1),
        }
        Config {
            base,
            reinforce_weight: 1.0,
            entropy_weight: 0.01,
            baseline_decay: 0.9,
            curve_every: if preset == Preset::Smoke { 1 } else { 25 },
        }
    }

    /// Checks the configuration, naming the field at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.base.validate()?;
        self.reinforce_weights().validate()?;
        if self.curve_every == 0 {
            bail!("config field 'curve_every' must be at least 1");
        }
        Ok(())
    }

    /// The weights of the hard-attention loss.
    fn reinforce_weights(&self) -> ReinforceWeights {
        ReinforceWeights {
            reinforce: self.reinforce_weight,
            entropy: self.entropy_weight,
            baseline_decay: self.baseline_decay,
        }
    }
}

/// The two models compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attention {
    Soft,
    Hard,
}

impl Attention {
    const BOTH: [Attention; 2] = [Attention::Soft, Attention::Hard];

    fn name(self) -> &'static str {
        match self {
            Attention::Soft => "soft",
            Attention::Hard => "hard",
        }
    }

    /// How contexts are made at test time.
    fn test_selection(self) -> Selection {
        match self {
            Attention::Soft => Selection::Soft,
            Attention::Hard => Selection::Argmax,
        }
    }
}

/// Soft against hard attention.
pub struct SoftVsHard;

impl Experiment for SoftVsHard {
    const NAME: &'static str = "soft-vs-hard";
    const ABOUT: &'static str = "Trains RNNsearch with soft attention and with hard attention (one \
        sampled position per step, trained by REINFORCE with a moving-average baseline and an \
        entropy bonus; Xu et al. 2015), scores them per source-length bucket, and writes \
        config.json, metrics.csv, learning_curve.csv, timings.csv, alignment.csv, summary.md \
        and the figures to OUT/<task>/.\n\nExpect on the quick preset (reverse): soft above \
        hard on average, with hard's spread across seeds the larger.";
    type Config = Config;
    type Task = TaskSpec;
    type Data = TaskData;

    fn default_task() -> TaskSpec {
        TaskSpec::Synthetic(datasets::synthetic::SyntheticTask::Reverse)
    }

    fn preset(preset: Preset, task: &TaskSpec) -> Config {
        Config::preset(preset, task)
    }

    fn task_field(config: &mut Config) -> &mut String {
        &mut config.base.task
    }

    fn validate(config: &Config) -> anyhow::Result<()> {
        config.validate()
    }

    fn load(config: &Config, task: &TaskSpec, data_dir: &Path) -> anyhow::Result<TaskData> {
        load_data(Self::NAME, &config.base, task, data_dir)
    }

    fn cells(config: &Config) -> Vec<Cell> {
        let names = Attention::BOTH.map(Attention::name);
        Cell::grid(&config.base.train_max_lens, &names, &config.base.seeds)
    }

    fn run_cell(
        config: &Config,
        task: &TaskSpec,
        data: &TaskData,
        cell: &Cell,
        context: &CellContext,
    ) -> anyhow::Result<CellRecord> {
        let base = &config.base;
        let attention = Attention::BOTH
            .into_iter()
            .find(|a| a.name() == cell.variant)
            .expect("a cell of this experiment");
        let device = harness::device(cell.seed)?;
        let model_config = seq2seq_model(base, data, Architecture::RnnSearch);
        let model = model_config.init(&device);
        let trained = train(
            base,
            data.train_set(base, cell.train_max_len),
            model,
            &device,
            &cell.label(),
            config.curve_every,
            |m, b, step| match attention {
                Attention::Soft => teacher_forced_loss(m, b),
                Attention::Hard => hard_loss(config, m, b, &mut step.reward_baseline),
            },
        )?;
        let selection = attention.test_selection();
        let (mut record, model) =
            score_seq2seq(base, Self::NAME, task, data, cell, &trained, selection);
        if cell.seed == base.seeds[0] && cell.train_max_len == base.train_max_lens[0] {
            record.alignment = decode_alignment(data, &model, selection, cell).unwrap_or_default();
        }
        let save = Seq2SeqSave::new(Self::NAME, task, base, data, &model_config, selection);
        save_seq2seq(context, cell, save, &model)?;
        Ok(record)
    }
}

/// Cross-entropy through the sampled contexts, plus REINFORCE for the alignment model (see
/// [`crate::reinforce`]).
fn hard_loss(
    config: &Config,
    model: &Seq2Seq,
    b: &BatchTensors,
    baseline: &mut Option<f64>,
) -> StepLoss {
    let out = model.forward_with(
        b.src.clone(),
        b.mask.clone(),
        b.tgt_in.clone(),
        Selection::Sample,
    );
    let (ll, real) = token_log_likelihoods(out.logits, b.tgt_out.clone()); // [B, T]
    let log_choice = out
        .sample_log_probs
        .expect("Selection::Sample returns log α of the choice"); // [B, T]
    let weights = out.weights.expect("RNNsearch returns its weights"); // [B, T, S]
    let entropy_steps = || {
        (weights.clone() * weights.clamp_min(1e-12).log())
            .sum_dim(2)
            .squeeze_dim::<2>(2)
            .neg()
    };
    hybrid_loss(
        config.reinforce_weights(),
        ll,
        real,
        log_choice,
        entropy_steps,
        baseline,
    )
}
