//! `reader`: "Teaching Machines to Read and Comprehend" (Hermann et al. 2015), Table 5 in
//! shape, with the Attention Sum (Kadlec et al. 2016) and Stanford (Chen et al. 2016) readers.
//!
//! Cloze questions over documents with anonymized entities: the two frequency baselines, then
//! six published neural readers (and, on request, the bilinear-score ablation of the Attentive
//! Reader) trained on the same questions with several seeds, scored on validation
//! and test questions, and on test questions per document-length bucket. Tasks: `synthetic`
//! (seeded stories; needs nothing), `bible-cloze` (named-entity cloze questions from the King
//! James Bible, written as `.question` files under `<data>/bible-cloze-*/` on first use) and
//! `questions:DIR` (DeepMind's CNN/Daily Mail layout: `DIR/{training,validation,test}/`).
//!
//! The cells: first the frequency baselines (no training, seed 0), then reader × seed.
//! Writes `metrics.csv` (`valid_accuracy` and `test_accuracy` overall, `test_accuracy` per
//! document-length bucket), `timings.csv`, `document_attention.csv` (every attentive reader on
//! one test document) and the figures.
//!
//! Files: [`task`], [`config`], [`questions`] (loading and splits), [`data`] (vocabulary
//! and batches), [`eval`] (predictions and accuracy rows); this file trains the cells.

pub mod config;
pub mod data;
pub mod eval;
pub mod questions;
pub mod task;

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use datasets::reader::{Question, baselines};
use models::readers::{Reader, ReaderConfig, ReaderKind, reader_loss};
use plots::{CurveRow, DocAttentionRow, MetricRow, TimingRow, VALIDATION_ERROR_SUFFIX};

pub use config::Config;
pub use data::{EncodedQuestion, ReaderVocab, encode, entity_index, make_reader_batch};
pub use questions::{QuestionSplits, load_questions};
pub use task::ReaderTask;

use crate::experiment::{Cell, CellContext, CellRecord, Experiment, Preset, Task};
use crate::saved_model::reader::save_reader;
use crate::training::{EpochBatches, Selection, Trained, cross_entropy_loss, train_and_select};
use eval::{Predictions, accuracy_rows, predict};

/// The variant name of the cell that scores the two frequency baselines.
const BASELINES: &str = "frequency-baselines";

/// Documents longer than this are not drawn in `document_attention.csv`.
const MAX_DRAWN_DOCUMENT: usize = 120;

/// What every cell shares: the questions, their vocabulary and encodings.
pub struct ReaderData {
    /// The questions as read.
    pub splits: QuestionSplits,
    /// The vocabulary built from the training questions.
    pub vocab: ReaderVocab,
    /// Encoded training questions.
    pub train: Vec<EncodedQuestion>,
    /// Encoded validation questions.
    pub valid: Vec<EncodedQuestion>,
    /// Encoded test questions.
    pub test: Vec<EncodedQuestion>,
    /// The test question whose attention is drawn: the longest document of at most
    /// [`MAX_DRAWN_DOCUMENT`] tokens.
    pub example: Option<usize>,
}

/// The cloze readers against the frequency baselines.
pub struct ReaderExperiment;

impl Experiment for ReaderExperiment {
    const NAME: &'static str = "reader";
    const ABOUT: &'static str = "Trains every reader on the same cloze questions for each seed, \
        scores validation and test accuracy (and test accuracy per document-length bucket) \
        beside the two frequency baselines, and writes config.json, metrics.csv, timings.csv, \
        document_attention.csv, summary.md and the figures to OUT/<task>/.\n\nExpect on the \
        quick preset (synthetic): the attentive readers far above the baselines, the Uniform \
        and Deep LSTM readers near them.";
    type Config = Config;
    type Task = ReaderTask;
    type Data = ReaderData;

    fn default_task() -> ReaderTask {
        ReaderTask::Synthetic
    }

    fn preset(preset: Preset, task: &ReaderTask) -> Config {
        Config::preset(preset, task)
    }

    fn long_preset(task: &ReaderTask) -> Option<Config> {
        Config::long(task)
    }

    fn task_field(config: &mut Config) -> &mut String {
        &mut config.task
    }

    fn validate(config: &Config) -> anyhow::Result<()> {
        config.validate()
    }

    fn load(config: &Config, task: &ReaderTask, data_dir: &Path) -> anyhow::Result<ReaderData> {
        let splits = load_questions(config, task, data_dir)?;
        let vocab = ReaderVocab::build(&splits, config.vocab_size);
        let (train, valid, test) = (
            encode(&vocab, &splits.train)?,
            encode(&vocab, &splits.valid)?,
            encode(&vocab, &splits.test)?,
        );
        let mean_doc =
            test.iter().map(|q| q.doc.len()).sum::<usize>() as f64 / test.len().max(1) as f64;
        eprintln!(
            "{} / {}: {} train, {} valid, {} test questions, {} entity classes, vocab {}, mean document {mean_doc:.0} tokens, {} backend",
            Self::NAME,
            task.name(),
            train.len(),
            valid.len(),
            test.len(),
            vocab.n_entities,
            vocab.len(),
            harness::backend_name()
        );
        let example = test
            .iter()
            .enumerate()
            .filter(|(_, q)| q.doc.len() <= MAX_DRAWN_DOCUMENT)
            .max_by_key(|(_, q)| q.doc.len())
            .map(|(i, _)| i);
        Ok(ReaderData {
            splits,
            vocab,
            train,
            valid,
            test,
            example,
        })
    }

    fn cells(config: &Config) -> Vec<Cell> {
        let names: Vec<&str> = config.readers.iter().map(|kind| kind.name()).collect();
        let mut cells = vec![Cell::new(BASELINES, 0, 0)];
        cells.extend(Cell::grid(&[0], &names, &config.seeds));
        cells
    }

    fn run_cell(
        config: &Config,
        task: &ReaderTask,
        data: &ReaderData,
        cell: &Cell,
        context: &CellContext,
    ) -> anyhow::Result<CellRecord> {
        if cell.variant == BASELINES {
            return Ok(baseline_record(config, task, data));
        }
        let kind = *config
            .readers
            .iter()
            .find(|kind| kind.name() == cell.variant)
            .expect("a cell of this experiment");
        let device = harness::device(cell.seed)?;
        let model_config = reader_config(config, kind, &data.vocab);
        let trained = train_reader(config, &model_config, data, &device, &cell.label())?;
        let model = trained.model.valid();
        let eval_start = Instant::now();
        let n_entities = data.vocab.n_entities;
        let predictions = Predictions {
            valid: predict(&model, &data.valid, n_entities),
            test: predict(&model, &data.test, n_entities),
        };
        let mut metrics = accuracy_rows(config, task, data, &cell.variant, cell.seed, &predictions);
        let mut curve = cell.curve_rows(&trained.curve);
        if let Some(selected) = &trained.selected {
            metrics.push(selected_step_row(
                task,
                cell,
                data.valid.len(),
                selected.step,
            ));
            curve.extend(validation_curve_rows(cell, &selected.checks));
        }
        let eval_seconds = eval_start.elapsed().as_secs_f64();
        let doc_attention = match data.example {
            Some(i) if cell.seed == config.seeds[0] => document_attention(&model, data, i, cell),
            _ => Vec::new(),
        };
        let (task, vocab) = (task.arg(), &data.vocab);
        save_reader(context, &task, cell, &model_config, vocab, &model)?;
        Ok(CellRecord {
            metrics,
            doc_attention,
            curve,
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

/// The two frequency baselines' rows: they need no training and no seed (seed 0).
fn baseline_record(config: &Config, task: &ReaderTask, data: &ReaderData) -> CellRecord {
    type Baseline = fn(&Question) -> String;
    let mut metrics = Vec::new();
    for (name, baseline) in [
        ("max-frequency", baselines::max_frequency as Baseline),
        ("exclusive-frequency", baselines::exclusive_frequency),
    ] {
        let predict = |qs: &[Question]| {
            qs.iter()
                .map(|q| entity_index(&baseline(q)).unwrap_or(usize::MAX))
                .collect::<Vec<_>>()
        };
        let predictions = Predictions {
            valid: predict(&data.splits.valid),
            test: predict(&data.splits.test),
        };
        metrics.extend(accuracy_rows(config, task, data, name, 0, &predictions));
    }
    CellRecord {
        metrics,
        ..CellRecord::default()
    }
}

/// The `selected_step` row of `metrics.csv`: the step whose reader validation accuracy
/// chose (`n`: the validation questions it was chosen on).
fn selected_step_row(task: &ReaderTask, cell: &Cell, n_valid: usize, step: usize) -> MetricRow {
    MetricRow {
        experiment: ReaderExperiment::NAME.into(),
        task: task.name(),
        model: cell.variant.clone(),
        train_max_len: 0,
        seed: cell.seed,
        len_lo: 0,
        len_hi: 0,
        n: n_valid,
        metric: "selected_step".into(),
        value: step as f64,
    }
}

/// Model selection's checks as `learning_curve.csv` rows of the model
/// `<reader> validation error`: the validation error rate (0 to 1, on the scale of the
/// training cross-entropy beside it) at each checked step.
fn validation_curve_rows(cell: &Cell, checks: &[(usize, f64)]) -> Vec<CurveRow> {
    let as_error: Vec<(usize, f64)> = (checks.iter())
        .map(|&(step, accuracy)| (step, 1.0 - accuracy / 100.0))
        .collect();
    let validation = Cell::new(
        format!("{}{VALIDATION_ERROR_SUFFIX}", cell.variant),
        cell.train_max_len,
        cell.seed,
    );
    validation.curve_rows(&as_error)
}

/// A reader's attention over the words of test document `i`.
fn document_attention(
    model: &Reader,
    data: &ReaderData,
    i: usize,
    cell: &Cell,
) -> Vec<DocAttentionRow> {
    let (batch, _) = make_reader_batch(&[&data.test[i]], data.vocab.n_entities, &model.device());
    let Some(weights) = model.forward(&batch).weights else {
        return Vec::new();
    };
    let weights: Vec<f32> = weights.into_data().iter::<f32>().collect();
    data.splits.test[i]
        .context
        .iter()
        .zip(weights)
        .enumerate()
        .map(|(position, (token, weight))| DocAttentionRow {
            model: cell.variant.clone(),
            seed: cell.seed,
            position,
            token: token.clone(),
            weight: weight as f64,
        })
        .collect()
}

/// The module configuration of reader `kind` on `vocab`, sized by `config`.
pub fn reader_config(config: &Config, kind: ReaderKind, vocab: &ReaderVocab) -> ReaderConfig {
    ReaderConfig::new(kind, vocab.len(), vocab.n_entities)
        .with_d_embed(config.d_embed)
        .with_d_hidden(config.d_hidden)
        .with_d_attention(config.d_attention)
}

/// Trains one reader. Batches are drawn in an order fixed by the epoch number alone, so every
/// reader and seed sees the same questions in the same order.
fn train_reader(
    config: &Config,
    model_config: &ReaderConfig,
    data: &ReaderData,
    device: &Device,
    label: &str,
) -> anyhow::Result<Trained<Reader>> {
    let (vocab, train) = (&data.vocab, &data.train);
    let model = model_config.init(device);
    let mut batches = EpochBatches::new(train.len(), config.batch_size);
    let next_batch = || {
        let idx = batches.next_batch();
        let questions: Vec<&EncodedQuestion> = idx.iter().map(|&i| &train[i]).collect();
        make_reader_batch(&questions, vocab.n_entities, device)
    };
    let selection = (config.select_every > 0).then(|| Selection {
        every: config.select_every,
        score: Box::new(|m: &Reader| {
            let predicted = predict(&m.valid(), &data.valid, vocab.n_entities);
            let right = (predicted.iter().zip(&data.valid))
                .filter(|(p, q)| **p == q.answer)
                .count();
            100.0 * right as f64 / data.valid.len().max(1) as f64
        }),
    });
    train_and_select(
        &config.optimizer(),
        model,
        label,
        config.curve_every,
        selection,
        next_batch,
        |m: &Reader, (batch, answers), _| {
            cross_entropy_loss(reader_loss(m.forward(batch).logits, answers.clone()))
        },
    )
}
