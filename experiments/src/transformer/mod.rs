//! `transformer`: Vaswani et al. 2017 as the answer to attention's cost.
//!
//! RNNsearch fixed the fixed-length bottleneck of RNNencdec, but both still read and write
//! one token after another, so a training step takes time linear in the length *and* cannot
//! be spread over the positions. The Transformer drops the recurrence: every layer attends
//! over all positions at once (quadratic work, but parallel), and only decoding stays
//! sequential. This experiment puts the three side by side:
//!
//! - **Quality**: RNNencdec, RNNsearch and the Transformer trained per training length k
//!   and seed with the shared pipeline ([`seq2seq::train`]), scored per source-length
//!   bucket ([`seq2seq::eval::evaluate`]) into `metrics.csv` (models `RNNencdec`, `RNNsearch`,
//!   `Transformer`), with `timings.csv` for training and evaluation wall time.
//! - **Cost**: for each length L of `cost_lengths`, on random reverse batches of
//!   `batch_size` sentences of exactly L tokens, the median wall-clock milliseconds over
//!   `cost_repeats` timings (after one warm-up) of one training step (forward, backward,
//!   Adam step) and of greedy decoding per sentence (one batch's decoding divided by the
//!   batch size), for freshly initialized models of the configured sizes. Written to
//!   `cost.csv` (measures `train_step` and `decode_sentence`) and drawn as
//!   `cost-train_step.png` and `cost-decode_sentence.png`. The cost part always uses the
//!   reverse alphabet, whatever `--task`: it depends on lengths and sizes only.
//!
//! `metrics.csv` is reproducible byte for byte on the same backend and build; `timings.csv`
//! and `cost.csv` are wall-clock measurements and are **not**: they change with the machine,
//! its load and the backend, and only their shape across lengths carries over.
//!
//! The Transformer trains with its own Adam learning rate (`transformer_learning_rate`,
//! 1e-3 on the quick preset) and no warm-up: the paper's schedule (§5.3) would spend most
//! of a 500-step budget warming up. On quick reverse (k = 15, seed 1, 500 steps) 1e-3, 2e-3
//! and 3e-3 reached 46, 44 and 54% exact match (95-97% on 1-5 tokens): within seed noise
//! of each other and still learning, so the safest rate for a post-norm stack without
//! warm-up is kept. Gradient clipping and batches are the shared ones.
//!
//! Decoding cost caveat: the Transformer decodes with Burn's autoregressive cache, which
//! keeps the projections of earlier positions but re-scores the whole prefix at every step
//! (self- and cross-attention for all `t` queries), so decoding `n` tokens costs `O(n³)`
//! attention work rather than the `O(n²)` of a cache that scores only the newest query.
//! `decode_sentence` therefore overstates the Transformer's decoding cost at long lengths.

//! The cells: first the quality cells (training length × model × seed), then one cost
//! cell per length of `cost_lengths` (its `train_max_len` is the length).

mod cost;
mod translator;

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use burn::tensor::Device;
use models::seq2seq::{Architecture, Selection};
use models::transformer::TransformerSeq2SeqConfig;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::experiment::{Cell, CellContext, CellRecord, Experiment, Preset};
use crate::saved_model::seq2seq::{Seq2SeqSave, save_seq2seq, save_transformer};
use crate::seq2seq::decode::{decode_all, max_decode_len};
use crate::seq2seq::eval::{evaluate, timing_row};
use crate::seq2seq::{self, TaskData, TaskSpec, load_data, seq2seq_model, train};
use crate::training::cross_entropy_loss;
use crate::validate::{require_distinct, require_finite_positive, require_positive};
use translator::{Translator, batch_loss};

pub use cost::{DECODE_SENTENCE, TRAIN_STEP};

/// The models compared, as named in `metrics.csv`, `timings.csv` and `cost.csv`.
pub const MODELS: [&str; 3] = ["RNNencdec", "RNNsearch", "Transformer"];

/// The variant name of the cost cells.
const COST: &str = "cost";

/// The settings of a run: the shared sequence-to-sequence settings (which size the two RNN
/// models) plus the Transformer's sizes and learning rate and the cost measurement.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Task, data, RNN sizes, training and evaluation, as in seq2seq-length.
    pub base: seq2seq::Config,
    /// Transformer width (paper: 512).
    pub d_model: usize,
    /// Transformer attention heads; must divide `d_model` (paper: 8).
    pub n_heads: usize,
    /// Transformer encoder layers, and as many decoder layers (paper: 6).
    pub n_layers: usize,
    /// Transformer feed-forward inner size (paper: 2048).
    pub d_ff: usize,
    /// Adam learning rate of the Transformer (the RNNs use `base.learning_rate`): constant,
    /// no warm-up.
    pub transformer_learning_rate: f64,
    /// Sequence lengths at which the cost is measured; empty: no cost measurement.
    pub cost_lengths: Vec<usize>,
    /// Timings per (model, length, measure), after one warm-up; the median is reported.
    pub cost_repeats: usize,
    /// Skip training and scoring (no metrics.csv): measure the cost only.
    #[serde(default)]
    pub skip_quality: bool,
}

impl Config {
    /// A preset.
    ///
    /// - `quick`: seq2seq-length's quick preset with one training length (k = 15, tests to
    ///   20), 3 seeds, 500 steps; a 2-layer Transformer of width 128; cost at 10 to 80
    ///   tokens. About ten minutes on 2 CPU cores.
    /// - `paper`: seq2seq-length's paper preset (k = 30 and 50) and the base Transformer's
    ///   sizes (512, 8 heads, 6 layers, 2048) with a lower rate, since a 6-layer post-norm
    ///   stack without warm-up is fragile; cost to 160 tokens. For a GPU.
    /// - `smoke`: seconds; tiny sizes, one k, cost at 4 and 8 tokens, one timing each.
    pub fn preset(preset: Preset, task: &TaskSpec) -> Config {
        let mut base = seq2seq::Config::preset(preset, task);
        match preset {
            Preset::Quick => {
                base.train_max_lens = vec![15];
                base.test_max_len = 20;
                base.seeds = vec![1, 2, 3];
                base.steps = 500;
                Config {
                    base,
                    d_model: 128,
                    n_heads: 4,
                    n_layers: 2,
                    d_ff: 256,
                    transformer_learning_rate: 1e-3,
                    cost_lengths: vec![10, 20, 40, 80],
                    cost_repeats: 5,
                    skip_quality: false,
                }
            }
            Preset::Paper => Config {
                base,
                d_model: 512,
                n_heads: 8,
                n_layers: 6,
                d_ff: 2048,
                transformer_learning_rate: 2e-4,
                cost_lengths: vec![10, 20, 40, 80, 160],
                cost_repeats: 10,
                skip_quality: false,
            },
            Preset::Smoke => {
                base.train_max_lens.truncate(1);
                Config {
                    base,
                    d_model: 8,
                    n_heads: 2,
                    n_layers: 1,
                    d_ff: 16,
                    transformer_learning_rate: 1e-3,
                    cost_lengths: vec![4, 8],
                    cost_repeats: 1,
                    skip_quality: false,
                }
            }
        }
    }

    /// Checks the configuration, naming the field at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.base.validate()?;
        require_positive(&[
            ("d_model", self.d_model),
            ("n_heads", self.n_heads),
            ("n_layers", self.n_layers),
            ("d_ff", self.d_ff),
            ("cost_repeats", self.cost_repeats),
        ])?;
        if !self.d_model.is_multiple_of(self.n_heads) {
            bail!(
                "config field 'd_model' ({}) must be divisible by 'n_heads' ({})",
                self.d_model,
                self.n_heads
            );
        }
        if !self.d_model.is_multiple_of(2) {
            bail!(
                "config field 'd_model' ({}) must be even (sinusoidal positions come in pairs)",
                self.d_model
            );
        }
        require_finite_positive("transformer_learning_rate", self.transformer_learning_rate)?;
        require_distinct("cost_lengths", &self.cost_lengths)?;
        if self.cost_lengths.contains(&0) {
            bail!("config field 'cost_lengths' must hold lengths of at least 1");
        }
        if self.skip_quality && self.cost_lengths.is_empty() {
            bail!("nothing to run: 'skip_quality' is set and 'cost_lengths' is empty");
        }
        Ok(())
    }

    /// The longest sequence any part of the run feeds a model: test sentences, cost
    /// lengths, and the decoding room beyond them.
    fn longest_sequence(&self) -> usize {
        let longest_src = self
            .cost_lengths
            .iter()
            .copied()
            .chain([self.base.test_max_len])
            .max()
            .unwrap_or(1);
        // Source + EOS, decoded with room to spare; real-text targets reach 2 × the source.
        max_decode_len(longest_src + 1).max(2 * longest_src + 2)
    }
}

/// The Transformer sized by `config` for `data`'s vocabularies, its positions long enough
/// for every sequence of the run.
pub fn transformer_model(config: &Config, data: &TaskData) -> TransformerSeq2SeqConfig {
    TransformerSeq2SeqConfig::new(data.src_vocab.len(), data.tgt_vocab.len())
        .with_d_model(config.d_model)
        .with_n_heads(config.n_heads)
        .with_n_layers(config.n_layers)
        .with_d_ff(config.d_ff)
        .with_max_len(config.longest_sequence().max(512))
}

/// The RNN architecture of a model name of [`MODELS`] (the Transformer has none).
fn rnn_architecture(name: &str) -> Architecture {
    if name == "RNNsearch" {
        Architecture::RnnSearch
    } else {
        Architecture::RnnEncDec
    }
}

/// Recurrent attention against self-attention: quality and cost.
pub struct TransformerExperiment;

impl Experiment for TransformerExperiment {
    const NAME: &'static str = "transformer";
    const ABOUT: &'static str = "Trains RNNencdec, RNNsearch and a Transformer (Vaswani et al. \
        2017) for each training length k and seed and scores them per source-length bucket \
        (metrics.csv, timings.csv); then times one training step and greedy decoding per \
        sentence of each model on random reverse batches of each length in cost_lengths \
        (cost.csv: median wall-clock ms, not reproducible). Writes config.json, the CSVs, \
        summary.md and the figures to OUT/<task>/.\n\nExpect on the quick preset (reverse): \
        RNNsearch and the Transformer far above RNNencdec on long sentences; a training step \
        that grows with length for the RNNs and stays nearly flat for the Transformer on these \
        lengths; decoding sequential for all three.";
    type Config = Config;
    type Task = TaskSpec;
    /// `None` when the quality part is skipped.
    type Data = Option<TaskData>;

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

    fn load(config: &Config, task: &TaskSpec, data_dir: &Path) -> anyhow::Result<Option<TaskData>> {
        if config.skip_quality {
            return Ok(None);
        }
        load_data(Self::NAME, &config.base, task, data_dir).map(Some)
    }

    fn cells(config: &Config) -> Vec<Cell> {
        let base = &config.base;
        let mut cells = Vec::new();
        if !config.skip_quality {
            cells = Cell::grid(&base.train_max_lens, &MODELS, &base.seeds);
        }
        for &len in &config.cost_lengths {
            cells.push(Cell::new(COST, len, base.seeds[0]));
        }
        cells
    }

    fn run_cell(
        config: &Config,
        task: &TaskSpec,
        data: &Option<TaskData>,
        cell: &Cell,
        context: &CellContext,
    ) -> anyhow::Result<CellRecord> {
        if cell.variant == COST {
            return cost::measure_length(config, cell.train_max_len, cell.seed);
        }
        let data = data
            .as_ref()
            .expect("loaded unless the quality part is skipped");
        let base = &config.base;
        let device = harness::device(cell.seed)?;
        let train_set = data.train_set(base, cell.train_max_len);
        let label = cell.label();
        let scored = if cell.variant == "Transformer" {
            // The Transformer's own rate; everything else of the training loop is shared.
            let transformer_base = seq2seq::Config {
                learning_rate: config.transformer_learning_rate,
                ..base.clone()
            };
            let model_config = transformer_model(config, data);
            let model = model_config.init(&device);
            let scored =
                train_and_decode(&transformer_base, data, train_set, model, &device, &label)?;
            save_transformer(context, cell, task, data, &model_config, &scored.model)?;
            scored.times()
        } else {
            let model_config = seq2seq_model(base, data, rnn_architecture(&cell.variant));
            let model = model_config.init(&device);
            let scored = train_and_decode(base, data, train_set, model, &device, &label)?;
            let save =
                Seq2SeqSave::new(Self::NAME, task, base, data, &model_config, Selection::Soft);
            save_seq2seq(context, cell, save, &scored.model)?;
            scored.times()
        };
        let (name, k, seed) = (cell.variant.as_str(), cell.train_max_len, cell.seed);
        Ok(CellRecord {
            metrics: evaluate(base, Self::NAME, task, data, &scored.hyps, name, k, seed),
            timing: Some(timing_row(
                cell,
                base.steps,
                scored.train_seconds,
                scored.eval_seconds,
            )),
            ..CellRecord::default()
        })
    }
}

/// A trained model, its test-set output and its wall times.
struct Scored<M> {
    model: M,
    hyps: Vec<Vec<u32>>,
    train_seconds: f64,
    eval_seconds: f64,
}

impl<M> Scored<M> {
    /// The output and times, the model dropped (once it is saved).
    fn times(self) -> Scored<()> {
        Scored {
            model: (),
            hyps: self.hyps,
            train_seconds: self.train_seconds,
            eval_seconds: self.eval_seconds,
        }
    }
}

/// Trains `model` with the shared loop and decodes the test set greedily.
fn train_and_decode<M: Translator>(
    config: &seq2seq::Config,
    data: &TaskData,
    train_set: &[(Vec<u32>, Vec<u32>)],
    model: M,
    device: &Device,
    label: &str,
) -> anyhow::Result<Scored<M>> {
    eprintln!("{label}: {} parameters", model.num_params());
    let trained = train(config, train_set, model, device, label, 0, |m, b, _| {
        cross_entropy_loss(batch_loss(m, b))
    })?;
    let model = trained.model.valid();
    let eval_start = Instant::now();
    let hyps = decode_all(
        &data.test,
        &device.clone().without_autodiff(),
        config.eval_batch_size,
        |src, mask, max_len| model.decode(src, mask, max_len),
    );
    Ok(Scored {
        model,
        hyps,
        train_seconds: trained.seconds,
        eval_seconds: eval_start.elapsed().as_secs_f64(),
    })
}
