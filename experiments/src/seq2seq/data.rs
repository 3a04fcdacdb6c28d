//! The data of a sequence-to-sequence run: sentence pairs loaded or generated once,
//! vocabularies, batches as tensors, and training on them with the shared loop.

use std::path::Path;

use anyhow::bail;
use burn::module::Module;
use burn::tensor::{Bool, Device, Int, Tensor};
use datasets::Pair;
use datasets::batch::{Batch, batches};
use datasets::vocab::Vocab;
use models::seq2seq::{Architecture, Seq2Seq, Seq2SeqConfig, ids_tensor, mask_tensor};

use super::{Config, TaskSpec};
use crate::experiment::Task;
use crate::training::{StepLoss, StepState, Trained, cross_entropy_loss, train_loop};

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
    /// The longest source sentence of the training and test sets, in tokens.
    pub fn longest_source(&self) -> usize {
        let sets = self.train.iter().flatten().chain(&self.test);
        sets.map(|(src, _)| src.len()).max().unwrap_or(0)
    }

    /// The training set of training length `k` (one of `config.train_max_lens`).
    pub fn train_set(&self, config: &Config, k: usize) -> &[(Vec<u32>, Vec<u32>)] {
        let index = config
            .train_max_lens
            .iter()
            .position(|&len| len == k)
            .expect("k is one of the configured training lengths");
        &self.train[index]
    }

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

/// Loads or generates the data and prints one line describing it for `experiment`.
/// Synthetic data uses a data seed derived from the config, shared by all model seeds, so
/// every model sees the same sentences.
pub fn load_data(
    experiment: &str,
    config: &Config,
    task: &TaskSpec,
    data_dir: &Path,
) -> anyhow::Result<TaskData> {
    let data = read_pairs(config, task, data_dir)?;
    eprintln!("{experiment} / {}: {}", task.name(), data.describe());
    Ok(data)
}

/// Loads or generates the sentence pairs of `task` and encodes them.
fn read_pairs(config: &Config, task: &TaskSpec, data_dir: &Path) -> anyhow::Result<TaskData> {
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
///
/// Position-based scores need the longest source (plus EOS): `test_max_len`, or the
/// longest source in the data when a synthetic task cannot make sentences that short.
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
        .with_max_src_len(config.test_max_len.max(data.longest_source()) + 1)
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
    /// Moves a padded batch onto `device`.
    pub fn new(batch: &Batch, device: &Device) -> BatchTensors {
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
    loss: impl FnMut(&M, &BatchTensors, &mut StepState) -> StepLoss,
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
    train_loop(
        &config.optimizer(),
        model,
        label,
        curve_every,
        next_batch,
        loss,
    )
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
