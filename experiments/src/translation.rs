//! The shared pipeline of the sequence-to-sequence experiments (seq2seq-length,
//! score-functions, soft-vs-hard): the task, its data and vocabularies, the configuration
//! and its presets, the training loop, decoding and scoring per source-length bucket.
//!
//! An experiment module keeps only what makes it different: which models it trains and
//! what it writes besides `metrics.csv`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::module::Module;
use burn::tensor::{Bool, Device, Int, Tensor};
use datasets::Pair;
use datasets::batch::{Batch, batches, make_batch};
use datasets::synthetic::SyntheticTask;
use datasets::vocab::Vocab;
use models::rnn::CellKind;
use models::seq2seq::{Architecture, Selection, Seq2Seq, Seq2SeqConfig, ids_tensor, mask_tensor};
use plots::{AlignmentRow, MetricRow};
use serde::{Deserialize, Serialize};

use crate::training::{OptimizerSettings, train_loop};
pub use crate::training::{StepLoss, Trained, cross_entropy_loss};

/// Where sentence pairs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskSpec {
    /// A seeded synthetic task (copy, reverse, sort, toy-translation).
    Synthetic(SyntheticTask),
    /// English-Spanish Bible verses from the SWORD modules fetched by `scripts/fetch-data`.
    BibleEnEs,
    /// `source<TAB>target` lines from a file.
    Tsv(PathBuf),
}

impl std::str::FromStr for TaskSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("tsv:") {
            if path.is_empty() {
                return Err("tsv: needs a path, as in tsv:data/pairs.tsv".into());
            }
            return Ok(TaskSpec::Tsv(PathBuf::from(path)));
        }
        if s == "bible-en-es" {
            return Ok(TaskSpec::BibleEnEs);
        }
        s.parse::<SyntheticTask>().map(TaskSpec::Synthetic).map_err(|_| {
            format!(
                "unknown task '{s}': expected copy, reverse, sort, toy-translation, bible-en-es or tsv:PATH"
            )
        })
    }
}

impl TaskSpec {
    /// The name used for the results folder and the CSV `task` column.
    pub fn name(&self) -> String {
        match self {
            TaskSpec::Synthetic(task) => task.name().to_string(),
            TaskSpec::BibleEnEs => "bible-en-es".to_string(),
            TaskSpec::Tsv(path) => format!(
                "tsv-{}",
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
        }
    }

    /// The spelling `--task` accepts, as recorded in `config.json`.
    pub fn arg(&self) -> String {
        match self {
            TaskSpec::Tsv(path) => format!("tsv:{}", path.display()),
            other => other.name(),
        }
    }

    /// Synthetic data is generated at any length; real text is whatever the corpus holds.
    fn is_synthetic(&self) -> bool {
        matches!(self, TaskSpec::Synthetic(_))
    }
}

/// Every setting of a run. Presets fill it; a JSON file or flags override it.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    pub cell: CellKind,
    /// Width of the source-length buckets of the per-length metrics.
    pub bucket_width: usize,
    /// 0 or 1: greedy decoding; more: beam search with that width (slower).
    pub beam: usize,
    /// Sentences decoded at once in greedy evaluation.
    pub eval_batch_size: usize,
}

/// Names of the presets, for `--help` and errors.
pub const PRESETS: &[&str] = &["quick", "paper", "smoke"];

impl Config {
    /// A named preset for a task.
    ///
    /// - `quick` (default): CPU-sized, minutes per task on 2 cores, and already shows the gap.
    /// - `paper`: the lengths of Bahdanau et al. (k = 30 and 50, tests to 60 words), model
    ///   sizes closer to theirs; meant for a GPU (`--features cuda` or `wgpu`).
    /// - `smoke`: seconds; checks the pipeline end to end (CI), shows nothing.
    pub fn preset(name: &str, task: &TaskSpec) -> anyhow::Result<Config> {
        let synthetic = task.is_synthetic();
        let base = Config {
            preset: name.to_string(),
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
        Ok(match name {
            "quick" if synthetic => base,
            // Real text: a smaller model, vocabulary and batch, so twelve trainings fit in the
            // budget; far too little training for good translations (see the README).
            "quick" => Config {
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
            "paper" => Config {
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
            "smoke" => Config {
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
            other => bail!(
                "unknown preset '{other}': expected one of {}",
                PRESETS.join(", ")
            ),
        })
    }

    /// Checks the values a run cannot work with, naming the field.
    pub fn validate(&self) -> anyhow::Result<()> {
        crate::common::require_positive(&[
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
        if self.seeds.is_empty() {
            bail!("config field 'seeds' must list at least one seed");
        }
        if self.train_max_lens.is_empty() {
            bail!("config field 'train_max_lens' must list at least one length");
        }
        if let Some(&k) = self.train_max_lens.iter().find(|&&k| k < self.min_len) {
            bail!(
                "config field 'train_max_lens' has {k}, below min_len {}",
                self.min_len
            );
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            bail!("config field 'learning_rate' must be a positive number");
        }
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
}

/// Sentence pairs encoded with the task's vocabularies.
pub struct TaskData {
    /// Source vocabulary.
    pub src_vocab: Vocab,
    /// Target vocabulary.
    pub tgt_vocab: Vocab,
    /// One training set per k, in the order of `train_max_lens`.
    pub train: Vec<Vec<(Vec<u32>, Vec<u32>)>>,
    /// The test set, the same for every model.
    pub test: Vec<(Vec<u32>, Vec<u32>)>,
    /// The test targets as written, before the vocabulary cap: scores are computed against
    /// these, so an `<unk>` in the output never matches a rare reference word.
    pub test_refs: Vec<Vec<String>>,
}

impl TaskData {
    /// One line for the log: vocabulary and set sizes, and the backend.
    pub fn describe(&self) -> String {
        format!(
            "vocab {} -> {}, train {:?} pairs, test {} pairs, {} backend",
            self.src_vocab.len(),
            self.tgt_vocab.len(),
            self.train.iter().map(Vec::len).collect::<Vec<_>>(),
            self.test.len(),
            harness::backend_name(),
        )
    }
}

/// Loads or generates the data. Synthetic data uses a data seed derived from the config,
/// shared by all model seeds, so every model sees the same sentences.
pub fn load_data(config: &Config, task: &TaskSpec, data_dir: &Path) -> anyhow::Result<TaskData> {
    let (train_pairs, test_pairs): (Vec<Vec<Pair>>, Vec<Pair>) = match task {
        TaskSpec::Synthetic(kind) => {
            let train = config
                .train_max_lens
                .iter()
                .map(|&k| {
                    datasets::synthetic::generate(
                        *kind,
                        config.train_size,
                        config.min_len,
                        k,
                        1000 + k as u64,
                    )
                })
                .collect();
            let test = datasets::synthetic::generate(
                *kind,
                config.test_size,
                config.min_len,
                config.test_max_len,
                999,
            );
            (train, test)
        }
        TaskSpec::BibleEnEs | TaskSpec::Tsv(_) => {
            let pairs = match task {
                TaskSpec::Tsv(path) => datasets::tsv::read_tsv(path)?,
                _ => {
                    let (en, es) = (data_dir.join("sword/kjv"), data_dir.join("sword/sparv"));
                    for dir in [&en, &es] {
                        if !dir.is_dir() {
                            bail!("{} not found: run scripts/fetch-data first", dir.display());
                        }
                    }
                    datasets::sword::bible_pairs(&en, &es)?
                }
            };
            // Sentences too long for the longest test bucket are dropped everywhere.
            let in_range = |p: &Pair| {
                (config.min_len..=config.test_max_len).contains(&p.src.len())
                    && (1..=2 * config.test_max_len).contains(&p.tgt.len())
            };
            let pairs: Vec<Pair> = pairs.into_iter().filter(in_range).collect();
            if pairs.len() < 10 {
                bail!(
                    "only {} sentence pairs have a source length in {}..={}",
                    pairs.len(),
                    config.min_len,
                    config.test_max_len
                );
            }
            // The split seed is fixed, not a model seed: every run sees the same test set.
            let splits = datasets::split::split(pairs, 0.0, config.test_fraction, 0);
            let train = config
                .train_max_lens
                .iter()
                .map(|&k| {
                    // Bahdanau et al.: RNNsearch-30 is trained on pairs of at most 30 words
                    // on both sides.
                    splits
                        .train
                        .iter()
                        .filter(|p| p.src.len() <= k && p.tgt.len() <= k)
                        .cloned()
                        .collect()
                })
                .collect();
            let test = splits.test.into_iter().take(config.test_size).collect();
            (train, test)
        }
    };
    let vocab_cap = if task.is_synthetic() {
        usize::MAX
    } else {
        config.vocab_size
    };
    let all_train = || train_pairs.iter().flatten();
    let src_vocab = Vocab::build(all_train().map(|p| p.src.as_slice()), vocab_cap);
    let tgt_vocab = Vocab::build(all_train().map(|p| p.tgt.as_slice()), vocab_cap);
    for (set, k) in train_pairs.iter().zip(&config.train_max_lens) {
        if set.is_empty() {
            bail!("no training pairs with at most {k} tokens on each side");
        }
    }
    let encode = |p: &Pair| (src_vocab.encode(&p.src), tgt_vocab.encode(&p.tgt));
    Ok(TaskData {
        train: train_pairs
            .iter()
            .map(|set| set.iter().map(encode).collect())
            .collect(),
        test: test_pairs.iter().map(encode).collect(),
        test_refs: test_pairs.iter().map(|p| p.tgt.clone()).collect(),
        src_vocab,
        tgt_vocab,
    })
}

/// Creates RNNencdec or RNNsearch (additive score, Bahdanau arrangement) sized by `config`.
/// Experiments that vary the score or arrangement adjust the returned configuration.
pub fn seq2seq_model(
    config: &Config,
    data: &TaskData,
    architecture: Architecture,
) -> Seq2SeqConfig {
    Seq2SeqConfig::new(architecture, data.src_vocab.len(), data.tgt_vocab.len())
        .with_d_embed(config.d_embed)
        .with_d_encoder(config.d_encoder)
        .with_d_decoder(config.d_decoder)
        .with_d_attention(config.d_attention)
        .with_cell(config.cell)
        .with_max_src_len(config.test_max_len + 1)
}

/// One batch as tensors: source ids and mask `[B, S]`, decoder input and target `[B, T]`.
pub struct BatchTensors {
    /// Source ids `[B, S]`.
    pub src: Tensor<2, Int>,
    /// True at real source tokens `[B, S]`.
    pub mask: Tensor<2, Bool>,
    /// BOS + target `[B, T]`.
    pub tgt_in: Tensor<2, Int>,
    /// Target + EOS `[B, T]`, PAD-padded.
    pub tgt_out: Tensor<2, Int>,
}

impl BatchTensors {
    fn new(batch: &Batch, device: &Device) -> BatchTensors {
        let b = batch.batch_size;
        BatchTensors {
            src: ids_tensor(&batch.src, b, batch.src_max, device),
            mask: mask_tensor(&batch.src_mask(), b, batch.src_max, device),
            tgt_in: ids_tensor(&batch.tgt_in, b, batch.tgt_max, device),
            tgt_out: ids_tensor(&batch.tgt_out, b, batch.tgt_max, device),
        }
    }
}

/// Trains a sequence-to-sequence `model` on `train_set` for `config.steps` steps; see
/// [`crate::training::train_loop`].
///
/// The batch order is a function of the epoch number alone (not of the model seed), so every
/// model of one k sees the same batches in the same order.
pub fn train<M: Module>(
    config: &Config,
    train_set: &[(Vec<u32>, Vec<u32>)],
    model: M,
    device: &Device,
    label: &str,
    curve_every: usize,
    loss: impl FnMut(&M, &BatchTensors) -> StepLoss,
) -> anyhow::Result<Trained<M>> {
    let mut epoch = 0u64;
    let mut queue: Vec<Batch> = Vec::new();
    let next_batch = || {
        if queue.is_empty() {
            queue = batches(train_set, config.batch_size, epoch, true);
            queue.reverse();
            epoch += 1;
        }
        BatchTensors::new(&queue.pop().expect("refilled above"), device)
    };
    let optimizer = OptimizerSettings {
        steps: config.steps,
        learning_rate: config.learning_rate,
        grad_clip: config.grad_clip,
    };
    train_loop(&optimizer, model, label, curve_every, next_batch, loss)
}

/// Decodes every pair's source in length-sorted chunks of `chunk` sentences (1 for beam
/// search) with `decode(src [B, S], mask [B, S], max_len)`.
pub fn decode_all(
    pairs: &[(Vec<u32>, Vec<u32>)],
    device: &Device,
    chunk: usize,
    decode: impl Fn(Tensor<2, Int>, Tensor<2, Bool>, usize) -> Vec<Vec<u32>>,
) -> Vec<Vec<u32>> {
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&i| pairs[i].0.len());
    let mut hyps = vec![Vec::new(); pairs.len()];
    for idx in order.chunks(chunk.max(1)) {
        let examples: Vec<_> = idx.iter().map(|&i| pairs[i].clone()).collect();
        let batch = make_batch(&examples);
        let b = batch.batch_size;
        let src = ids_tensor(&batch.src, b, batch.src_max, device);
        let mask = mask_tensor(&batch.src_mask(), b, batch.src_max, device);
        for (&i, tokens) in idx
            .iter()
            .zip(decode(src, mask, max_decode_len(batch.src_max)))
        {
            hyps[i] = tokens;
        }
    }
    hyps
}

/// Room for outputs longer than the source (translation), bounded so a model that never
/// says EOS cannot run away.
pub fn max_decode_len(src_len: usize) -> usize {
    2 * src_len + 10
}

/// Scores hypotheses against the test set per source-length bucket and overall
/// (`len_lo = len_hi = 0`): exact match, token accuracy and BLEU, all on a 0-100 scale.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    config: &Config,
    experiment: &str,
    task: &TaskSpec,
    data: &TaskData,
    hyps: &[Vec<u32>],
    model: &str,
    k: usize,
    seed: u64,
) -> Vec<MetricRow> {
    // Reference words outside the vocabulary get an id no model can produce.
    let refs: Vec<Vec<u32>> = (data.test.iter().zip(&data.test_refs))
        .map(|((_, tgt), words)| {
            tgt.iter()
                .zip(words)
                .map(|(&id, word)| {
                    if data.tgt_vocab.token(id) == word {
                        id
                    } else {
                        u32::MAX
                    }
                })
                .collect()
        })
        .collect();
    let src_lens: Vec<usize> = data.test.iter().map(|(src, _)| src.len()).collect();
    let hyp_text: Vec<String> = hyps
        .iter()
        .map(|h| data.tgt_vocab.decode(h).join(" "))
        .collect();
    let ref_text: Vec<String> = data.test_refs.iter().map(|r| r.join(" ")).collect();

    let mut groups = vec![((0, 0), (0..refs.len()).collect::<Vec<_>>())];
    groups.extend(metrics::buckets::group_by_bucket(
        &src_lens,
        config.bucket_width,
    ));
    let mut rows = Vec::new();
    for ((lo, hi), idx) in groups {
        let pick = |v: &[Vec<u32>]| idx.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
        let h_text: Vec<&str> = idx.iter().map(|&i| hyp_text[i].as_str()).collect();
        let r_text: Vec<&str> = idx.iter().map(|&i| ref_text[i].as_str()).collect();
        let (h, r) = (pick(hyps), pick(&refs));
        let values = [
            (
                "exact_match",
                100.0 * metrics::accuracy::exact_match(&h, &r),
            ),
            (
                "token_accuracy",
                100.0 * metrics::accuracy::token_accuracy(&h, &r),
            ),
            ("bleu", metrics::bleu::corpus_bleu(&h_text, &r_text).score),
        ];
        for (metric, value) in values {
            rows.push(MetricRow {
                experiment: experiment.to_string(),
                task: task.name(),
                model: model.to_string(),
                train_max_len: k,
                seed,
                len_lo: lo,
                len_hi: hi,
                n: idx.len(),
                metric: metric.to_string(),
                value,
            });
        }
    }
    rows
}

/// The attention of `model` on one test sentence, as rows of `alignment.csv`: the longest
/// sentence within the training range `k`, so the output is meaningful (Bahdanau et al.,
/// Fig. 3, show such sentences); every model of a run gets the same one. `None` for a model
/// without attention or a test set without such a sentence.
pub fn decode_alignment(
    data: &TaskData,
    model: &Seq2Seq,
    selection: Selection,
    name: &str,
    k: usize,
    seed: u64,
) -> Option<Vec<AlignmentRow>> {
    let (src, _) = data
        .test
        .iter()
        .filter(|(src, _)| src.len() <= k)
        .max_by_key(|(src, _)| src.len())?;
    let device = model.device();
    let len = src.len() + 1; // with EOS
    let ids: Vec<u32> = src.iter().copied().chain([datasets::vocab::EOS]).collect();
    let decoded = model.greedy_with(
        ids_tensor(&ids, 1, len, &device),
        mask_tensor(&vec![true; len], 1, len, &device),
        max_decode_len(len),
        selection,
    );
    let weights: Vec<f32> = decoded.weights?.into_data().iter::<f32>().collect();
    Some(alignment_rows(
        data,
        name,
        k,
        seed,
        src,
        &decoded.tokens[0],
        &weights,
    ))
}

/// Rows of `alignment.csv` for one decoded sentence.
///
/// - `src`: the source ids (without EOS); `output`: the produced ids (without EOS).
/// - `weights`: `[steps, src_len]` row-major, `src_len` = source + EOS.
fn alignment_rows(
    data: &TaskData,
    model: &str,
    k: usize,
    seed: u64,
    src: &[u32],
    output: &[u32],
    weights: &[f32],
) -> Vec<AlignmentRow> {
    // Rows: the produced words and the final EOS; columns: the source and its EOS.
    let mut tgt_tokens: Vec<String> = output
        .iter()
        .map(|&id| data.tgt_vocab.token(id).to_string())
        .collect();
    tgt_tokens.push(data.tgt_vocab.token(datasets::vocab::EOS).to_string());
    let mut src_tokens: Vec<String> = src
        .iter()
        .map(|&id| data.src_vocab.token(id).to_string())
        .collect();
    src_tokens.push(data.src_vocab.token(datasets::vocab::EOS).to_string());
    let src_len = src_tokens.len();
    let steps = weights.len() / src_len;
    let mut rows = Vec::new();
    for (t, tgt_token) in tgt_tokens.iter().enumerate().take(steps) {
        for (s, src_token) in src_tokens.iter().enumerate() {
            rows.push(AlignmentRow {
                model: model.to_string(),
                train_max_len: k,
                seed,
                tgt_pos: t,
                tgt_token: tgt_token.clone(),
                src_pos: s,
                src_token: src_token.clone(),
                weight: weights[t * src_len + s] as f64,
            });
        }
    }
    rows
}

/// `timings.csv`: wall-clock per trained model. Not reproducible, hence not in metrics.csv.
pub struct Timings {
    lines: Vec<String>,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            lines: vec![
                "model,train_max_len,seed,steps,train_seconds,ms_per_step,eval_seconds".to_string(),
            ],
        }
    }
}

impl Timings {
    /// Records one model.
    pub fn push(
        &mut self,
        model: &str,
        k: usize,
        seed: u64,
        steps: usize,
        train_seconds: f64,
        eval_seconds: f64,
    ) {
        self.lines.push(format!(
            "{model},{k},{seed},{steps},{train_seconds:.3},{:.2},{eval_seconds:.3}",
            1000.0 * train_seconds / steps.max(1) as f64
        ));
    }

    /// Writes `dir/timings.csv` atomically.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        plots::write_atomic(
            &dir.join("timings.csv"),
            (self.lines.join("\n") + "\n").as_bytes(),
        )
    }
}

/// The bookkeeping every sequence-to-sequence experiment does around its models: the results
/// folder and `config.json`, the data, and after each trained model its test scores, timing
/// and alignment, rewritten to disk at once so a killed run keeps what it finished.
pub struct Recorder {
    experiment: &'static str,
    task: TaskSpec,
    dir: PathBuf,
    /// The task's data, loaded once for every model.
    pub data: TaskData,
    rows: Vec<MetricRow>,
    alignments: Vec<AlignmentRow>,
    curves: Vec<plots::CurveRow>,
    timings: Timings,
}

impl Recorder {
    /// Creates `out_dir/<task>/`, writes `config.json` (the experiment's whole
    /// configuration `full`), loads the data for the shared settings `base`.
    pub fn start<C: Serialize>(
        experiment: &'static str,
        full: &C,
        base: &Config,
        task: &TaskSpec,
        data_dir: &Path,
        out_dir: &Path,
    ) -> anyhow::Result<Recorder> {
        let dir = out_dir.join(task.name());
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        crate::common::write_config(&dir, full)?;
        let data = load_data(base, task, data_dir)?;
        eprintln!("{experiment} / {}: {}", task.name(), data.describe());
        Ok(Recorder {
            experiment,
            task: task.clone(),
            dir,
            data,
            rows: Vec::new(),
            alignments: Vec::new(),
            curves: Vec::new(),
            timings: Timings::default(),
        })
    }

    /// Decodes the test set with `decode` (in chunks of `chunk` sentences), scores it, and
    /// records the scores, the timings and the learning curve of one trained model.
    #[allow(clippy::too_many_arguments)]
    pub fn score<M>(
        &mut self,
        config: &Config,
        name: &str,
        k: usize,
        seed: u64,
        trained: &Trained<M>,
        device: &Device,
        chunk: usize,
        decode: impl Fn(Tensor<2, Int>, Tensor<2, Bool>, usize) -> Vec<Vec<u32>>,
    ) -> anyhow::Result<()> {
        let start = std::time::Instant::now();
        let hyps = decode_all(&self.data.test, device, chunk, decode);
        self.rows.extend(evaluate(
            config,
            self.experiment,
            &self.task,
            &self.data,
            &hyps,
            name,
            k,
            seed,
        ));
        self.timings.push(
            name,
            k,
            seed,
            config.steps,
            trained.seconds,
            start.elapsed().as_secs_f64(),
        );
        self.curves
            .extend(trained.curve.iter().map(|&(step, loss)| plots::CurveRow {
                model: name.to_string(),
                train_max_len: k,
                seed,
                step,
                loss,
            }));
        plots::write_metrics_csv(&self.dir.join(plots::METRICS_FILE), &self.rows)?;
        if !self.curves.is_empty() {
            plots::write_curve_csv(&self.dir.join(plots::CURVE_FILE), &self.curves)?;
        }
        Ok(())
    }

    /// Scores an RNN encoder-decoder: greedy decoding with `selection`, or beam search when
    /// `config.beam > 1`.
    pub fn score_seq2seq(
        &mut self,
        config: &Config,
        name: &str,
        k: usize,
        seed: u64,
        trained: &Trained<Seq2Seq>,
        selection: Selection,
    ) -> anyhow::Result<Seq2Seq> {
        let model = trained.model.valid();
        let device = model.device();
        if config.beam > 1 {
            self.score(
                config,
                name,
                k,
                seed,
                trained,
                &device,
                1,
                |src, mask, max_len| vec![model.beam_search(src, mask, config.beam, max_len)],
            )?;
        } else {
            self.score(
                config,
                name,
                k,
                seed,
                trained,
                &device,
                config.eval_batch_size,
                |src, mask, max_len| model.greedy_with(src, mask, max_len, selection).tokens,
            )?;
        }
        Ok(model)
    }

    /// Adds one model's attention on the alignment sentence to `alignment.csv`.
    pub fn add_alignment(
        &mut self,
        model: &Seq2Seq,
        selection: Selection,
        name: &str,
        k: usize,
        seed: u64,
    ) -> anyhow::Result<()> {
        if let Some(rows) = decode_alignment(&self.data, model, selection, name, k, seed) {
            self.alignments.extend(rows);
            plots::write_alignment_csv(&self.dir.join(plots::ALIGNMENT_FILE), &self.alignments)?;
        }
        Ok(())
    }

    /// Writes `timings.csv`, redraws every figure from the CSVs, returns the folder.
    pub fn finish(self) -> anyhow::Result<PathBuf> {
        self.timings.write(&self.dir)?;
        for path in plots::redraw_results_dir(&self.dir)? {
            eprintln!("wrote {}", path.display());
        }
        Ok(self.dir)
    }
}

/// The loss of plain training: mean token cross-entropy with teacher forcing.
pub fn teacher_forced_loss(model: &Seq2Seq, batch: &BatchTensors) -> StepLoss {
    let logits = model
        .forward(batch.src.clone(), batch.mask.clone(), batch.tgt_in.clone())
        .logits;
    cross_entropy_loss(models::seq2seq::sequence_cross_entropy(
        logits,
        batch.tgt_out.clone(),
    ))
}
