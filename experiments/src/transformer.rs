//! `transformer`: Vaswani et al. 2017 as the answer to attention's cost.
//!
//! RNNsearch fixed the fixed-length bottleneck of RNNencdec, but both still read and write
//! one token after another, so a training step takes time linear in the length *and* cannot
//! be spread over the positions. The Transformer drops the recurrence: every layer attends
//! over all positions at once (quadratic work, but parallel), and only decoding stays
//! sequential. This experiment puts the three side by side:
//!
//! - **Quality**: RNNencdec, RNNsearch and the Transformer trained per training length k
//!   and seed with the shared pipeline ([`translation::train`]), scored per source-length
//!   bucket ([`translation::evaluate`]) into `metrics.csv` (models `RNNencdec`, `RNNsearch`,
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

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, grad_clipping::GradientClippingConfig};
use burn::tensor::{Bool, Device, Int, Tensor};
use datasets::batch::make_batch;
use datasets::synthetic::SyntheticTask;
use datasets::vocab::Vocab;
use models::seq2seq::{Architecture, Seq2Seq, ids_tensor, mask_tensor, sequence_cross_entropy};
use models::transformer::{TransformerSeq2Seq, TransformerSeq2SeqConfig};
use plots::CostRow;
use serde::{Deserialize, Serialize};

use crate::common;
use crate::translation::{
    self, BatchTensors, TaskData, TaskSpec, Timings, cross_entropy_loss, decode_all, evaluate,
    load_data, max_decode_len, seq2seq_model, train,
};

/// The experiment's name in CSVs and paths.
pub const EXPERIMENT: &str = "transformer";

/// The models compared, as named in `metrics.csv`, `timings.csv` and `cost.csv`.
pub const MODELS: [&str; 3] = ["RNNencdec", "RNNsearch", "Transformer"];

/// The `measure` column of `cost.csv` for one training step.
pub const TRAIN_STEP: &str = "train_step";
/// The `measure` column of `cost.csv` for greedy decoding of one sentence.
pub const DECODE_SENTENCE: &str = "decode_sentence";

/// The settings of a run: the shared sequence-to-sequence settings (which size the two RNN
/// models) plus the Transformer's sizes and learning rate and the cost measurement.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Task, data, RNN sizes, training and evaluation, as in seq2seq-length.
    pub base: translation::Config,
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
}

impl Config {
    /// A named preset (`quick`, `paper`, `smoke`).
    ///
    /// - `quick`: seq2seq-length's quick preset with one training length (k = 15, tests to
    ///   20), 3 seeds, 500 steps; a 2-layer Transformer of width 128; cost at 10 to 80
    ///   tokens. About ten minutes on 2 CPU cores.
    /// - `paper`: seq2seq-length's paper preset (k = 30 and 50) and the base Transformer's
    ///   sizes (512, 8 heads, 6 layers, 2048) with a lower rate, since a 6-layer post-norm
    ///   stack without warm-up is fragile; cost to 160 tokens. For a GPU.
    /// - `smoke`: seconds; tiny sizes, one k, cost at 4 and 8 tokens, one timing each.
    pub fn preset(name: &str, task: &TaskSpec) -> anyhow::Result<Config> {
        let mut base = translation::Config::preset(name, task)?;
        Ok(match name {
            "quick" => {
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
                }
            }
            "paper" => Config {
                base,
                d_model: 512,
                n_heads: 8,
                n_layers: 6,
                d_ff: 2048,
                transformer_learning_rate: 2e-4,
                cost_lengths: vec![10, 20, 40, 80, 160],
                cost_repeats: 10,
            },
            _ => {
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
                }
            }
        })
    }

    /// Checks the configuration, naming the field at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.base.validate()?;
        crate::common::require_positive(&[
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
        if !(self.transformer_learning_rate > 0.0 && self.transformer_learning_rate.is_finite()) {
            bail!("config field 'transformer_learning_rate' must be a positive number");
        }
        if self.cost_lengths.contains(&0) {
            bail!("config field 'cost_lengths' must hold lengths of at least 1");
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

/// Which parts of the experiment to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// Train and score the three models (`metrics.csv`, `timings.csv`).
    pub quality: bool,
    /// Measure the cost against length (`cost.csv`).
    pub cost: bool,
}

impl Default for Parts {
    fn default() -> Self {
        Parts {
            quality: true,
            cost: true,
        }
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

/// Runs the whole experiment and writes its outputs under `out_dir/<task>/`.
pub fn run(
    config: &Config,
    task: &TaskSpec,
    data_dir: &Path,
    out_dir: &Path,
) -> anyhow::Result<PathBuf> {
    run_parts(config, task, data_dir, out_dir, Parts::default())
}

/// Runs the chosen parts of the experiment and writes their outputs under
/// `out_dir/<task>/`.
pub fn run_parts(
    config: &Config,
    task: &TaskSpec,
    data_dir: &Path,
    out_dir: &Path,
    parts: Parts,
) -> anyhow::Result<PathBuf> {
    config.validate()?;
    if !parts.quality && !parts.cost {
        bail!("nothing to run: both the quality and the cost part are skipped");
    }
    let dir = out_dir.join(task.name());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    common::write_config(&dir, config)?;
    if parts.quality {
        run_quality(config, task, data_dir, &dir)?;
    }
    if parts.cost && !config.cost_lengths.is_empty() {
        run_cost(config, &dir)?;
    }
    for path in plots::redraw_results_dir(&dir)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(dir)
}

/// What the experiment needs of a sequence-to-sequence model, so training, scoring and
/// timing are written once for all three.
trait Translator: Module {
    /// Teacher-forced logits `[batch, tgt_len, tgt_vocab]`.
    fn logits(
        &self,
        src: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Tensor<3>;
    /// Greedy decoding, one token list per row, EOS removed.
    fn decode(&self, src: Tensor<2, Int>, mask: Tensor<2, Bool>, max_len: usize) -> Vec<Vec<u32>>;
}

impl Translator for Seq2Seq {
    fn logits(
        &self,
        src: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Tensor<3> {
        self.forward(src, mask, tgt_in).logits
    }
    fn decode(&self, src: Tensor<2, Int>, mask: Tensor<2, Bool>, max_len: usize) -> Vec<Vec<u32>> {
        self.greedy(src, mask, max_len).tokens
    }
}

impl Translator for TransformerSeq2Seq {
    fn logits(
        &self,
        src: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Tensor<3> {
        self.forward(src, mask, tgt_in).logits
    }
    fn decode(&self, src: Tensor<2, Int>, mask: Tensor<2, Bool>, max_len: usize) -> Vec<Vec<u32>> {
        self.greedy(src, mask, max_len).tokens
    }
}

/// The mean token cross-entropy of a batch under teacher forcing: one-element tensor.
fn batch_loss<M: Translator>(model: &M, batch: &BatchTensors) -> Tensor<1> {
    sequence_cross_entropy(
        model.logits(batch.src.clone(), batch.mask.clone(), batch.tgt_in.clone()),
        batch.tgt_out.clone(),
    )
}

/// The quality part: every model, training length and seed, trained and scored.
fn run_quality(
    config: &Config,
    task: &TaskSpec,
    data_dir: &Path,
    dir: &Path,
) -> anyhow::Result<()> {
    let base = &config.base;
    let data = load_data(base, task, data_dir)?;
    eprintln!("{EXPERIMENT} / {}: {}", task.name(), data.describe());
    // The Transformer's own rate; everything else of the training loop is shared.
    let transformer_base = translation::Config {
        learning_rate: config.transformer_learning_rate,
        ..base.clone()
    };
    let mut rows = Vec::new();
    let mut timings = Timings::default();
    for (k_index, &k) in base.train_max_lens.iter().enumerate() {
        let train_set = &data.train[k_index];
        for name in MODELS {
            for &seed in &base.seeds {
                let device = harness::device(seed)?;
                let label = format!("{name}-{k} seed {seed}");
                let scored = match name {
                    "Transformer" => {
                        let model = transformer_model(config, &data).init(&device);
                        train_and_decode(
                            &transformer_base,
                            &data,
                            train_set,
                            model,
                            &device,
                            &label,
                        )?
                    }
                    _ => {
                        let architecture = if name == "RNNsearch" {
                            Architecture::RnnSearch
                        } else {
                            Architecture::RnnEncDec
                        };
                        let model = seq2seq_model(base, &data, architecture).init(&device);
                        train_and_decode(base, &data, train_set, model, &device, &label)?
                    }
                };
                rows.extend(evaluate(
                    base,
                    EXPERIMENT,
                    task,
                    &data,
                    &scored.hyps,
                    name,
                    k,
                    seed,
                ));
                timings.push(
                    name,
                    k,
                    seed,
                    base.steps,
                    scored.train_seconds,
                    scored.eval_seconds,
                );
                // Written after every model, so a killed run keeps what it finished.
                plots::write_metrics_csv(&dir.join(plots::METRICS_FILE), &rows)?;
                timings.write(dir)?;
            }
        }
    }
    Ok(())
}

/// A trained model's test-set output and its wall times.
struct Scored {
    hyps: Vec<Vec<u32>>,
    train_seconds: f64,
    eval_seconds: f64,
}

/// Trains `model` with the shared loop and decodes the test set greedily.
fn train_and_decode<M: Translator>(
    config: &translation::Config,
    data: &TaskData,
    train_set: &[(Vec<u32>, Vec<u32>)],
    model: M,
    device: &Device,
    label: &str,
) -> anyhow::Result<Scored> {
    eprintln!("{label}: {} parameters", model.num_params());
    let trained = train(config, train_set, model, device, label, 0, |m, b| {
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
        hyps,
        train_seconds: trained.seconds,
        eval_seconds: eval_start.elapsed().as_secs_f64(),
    })
}

/// The cost part: training-step and decoding time of fresh models against length.
fn run_cost(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let base = &config.base;
    // The reverse task's alphabet on both sides, the same vocabulary at every length.
    let alphabet: Vec<String> = (b'a'..b'z' + 1).map(|c| (c as char).to_string()).collect();
    let vocab = Vocab::build([alphabet.as_slice()], usize::MAX);
    let data = TaskData {
        src_vocab: vocab.clone(),
        tgt_vocab: vocab.clone(),
        train: Vec::new(),
        test: Vec::new(),
        test_refs: Vec::new(),
    };
    let seed = base.seeds[0];
    eprintln!(
        "{EXPERIMENT} / cost: batches of {} reverse sentences, lengths {:?}, median of {} after a warm-up, {} backend (wall clock: not reproducible)",
        base.batch_size,
        config.cost_lengths,
        config.cost_repeats,
        harness::backend_name(),
    );
    let mut rows = Vec::new();
    for &len in &config.cost_lengths {
        let pairs: Vec<(Vec<u32>, Vec<u32>)> = datasets::synthetic::generate(
            SyntheticTask::Reverse,
            base.batch_size,
            len,
            len,
            7_000 + len as u64,
        )
        .iter()
        .map(|p| (vocab.encode(&p.src), vocab.encode(&p.tgt)))
        .collect();
        let mut line = format!("cost L={len}:");
        for name in MODELS {
            // Seeded like the quality part's first seed: initialization does not change
            // the cost, but the run stays deterministic apart from the clock.
            let device = harness::device(seed)?;
            let (train_ms, decode_ms) = match name {
                "Transformer" => {
                    let model = transformer_model(config, &data).init(&device);
                    measure(config, model, &pairs, &device)?
                }
                _ => {
                    let architecture = if name == "RNNsearch" {
                        Architecture::RnnSearch
                    } else {
                        Architecture::RnnEncDec
                    };
                    let model = seq2seq_model(base, &data, architecture).init(&device);
                    measure(config, model, &pairs, &device)?
                }
            };
            for (measure, median_ms) in [(TRAIN_STEP, train_ms), (DECODE_SENTENCE, decode_ms)] {
                rows.push(CostRow {
                    model: name.to_string(),
                    seq_len: len,
                    measure: measure.to_string(),
                    median_ms,
                    repeats: config.cost_repeats,
                });
            }
            line += &format!(" {name} train {train_ms:.1} ms, decode {decode_ms:.2} ms/sentence;");
        }
        eprintln!("{}", line.trim_end_matches(';'));
        plots::write_cost_csv(&dir.join(plots::COST_FILE), &rows)?;
    }
    Ok(())
}

/// Times one model at one length: the median milliseconds of a training step and of greedy
/// decoding per sentence, each over `cost_repeats` runs after one warm-up.
///
/// Decoding runs for `len + 1` steps at most (the reverse output and its EOS), the length
/// a trained model would produce, so the untrained model does not run on to `max_len`.
fn measure<M: Translator>(
    config: &Config,
    mut model: M,
    pairs: &[(Vec<u32>, Vec<u32>)],
    device: &Device,
) -> anyhow::Result<(f64, f64)> {
    let batch = make_batch(pairs);
    let rows = batch.batch_size;
    let tensors = BatchTensors {
        src: ids_tensor(&batch.src, rows, batch.src_max, device),
        mask: mask_tensor(&batch.src_mask(), rows, batch.src_max, device),
        tgt_in: ids_tensor(&batch.tgt_in, rows, batch.tgt_max, device),
        tgt_out: ids_tensor(&batch.tgt_out, rows, batch.tgt_max, device),
    };
    let sync = |device: &Device| {
        device
            .sync()
            .map_err(|e| anyhow::anyhow!("device failed while timing: {e:?}"))
    };
    // Training steps: the optimizer of the shared loop (Adam with norm clipping).
    let mut optimizer = AdamConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(
            config.base.grad_clip as f32,
        )))
        .init();
    let mut train_ms = Vec::with_capacity(config.cost_repeats);
    for repeat in 0..=config.cost_repeats {
        let start = Instant::now();
        let loss = batch_loss(&model, &tensors);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(config.base.learning_rate, model, grads);
        sync(device)?;
        if repeat > 0 {
            train_ms.push(1000.0 * start.elapsed().as_secs_f64());
        }
    }
    // Decoding, without autodiff, the whole batch at once.
    let model = model.valid();
    let plain = device.clone().without_autodiff();
    let src = ids_tensor(&batch.src, rows, batch.src_max, &plain);
    let mask = mask_tensor(&batch.src_mask(), rows, batch.src_max, &plain);
    let steps = batch.tgt_max; // target + EOS
    let mut decode_ms = Vec::with_capacity(config.cost_repeats);
    for repeat in 0..=config.cost_repeats {
        let start = Instant::now();
        let tokens = model.decode(src.clone(), mask.clone(), steps);
        sync(&plain)?;
        debug_assert_eq!(tokens.len(), rows);
        if repeat > 0 {
            decode_ms.push(1000.0 * start.elapsed().as_secs_f64() / rows as f64);
        }
    }
    Ok((median(&mut train_ms), median(&mut decode_ms)))
}

/// The median of a non-empty list (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}
