//! `reader`: "Teaching Machines to Read and Comprehend" (Hermann et al. 2015), Table 5 in
//! shape, with the Attention Sum (Kadlec et al. 2016) and Stanford (Chen et al. 2016) readers.
//!
//! Cloze questions over documents with anonymized entities: the two frequency baselines, then
//! six published neural readers (and, on request, the bilinear-score ablation of the Attentive
//! Reader) trained on the same questions with several seeds, scored on validation
//! and test questions, and on test questions per document-length bucket. Tasks: `synthetic`
//! (seeded stories; needs nothing), `bible-cloze` (named-entity cloze questions from the King
//! James Bible, written as `.question` files under `<data>/bible-cloze/` on first use) and
//! `questions:DIR` (DeepMind's CNN/Daily Mail layout: `DIR/{train,validation,test}/*.question`).
//!
//! Writes `metrics.csv` (`valid_accuracy` and `test_accuracy` overall, `test_accuracy` per
//! document-length bucket), `timings.csv`, `document_attention.csv` (every attentive reader on
//! one test document) and the figures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::module::Module;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use datasets::reader::synthetic::StoryConfig;
use datasets::reader::{ClozeConfig, Question, baselines, is_entity_id};
use models::readers::{Reader, ReaderBatch, ReaderConfig, ReaderKind, reader_loss};
use plots::MetricRow;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::training::{OptimizerSettings, Trained, cross_entropy_loss, train_loop};

/// The experiment's name in CSVs and paths.
pub const EXPERIMENT: &str = "reader";

/// Where the questions come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderTask {
    /// Seeded synthetic stories.
    Synthetic,
    /// Named-entity cloze questions from the KJV (run scripts/fetch-data first).
    BibleCloze,
    /// `.question` files in `DIR/{train,validation,test}/`.
    Questions(PathBuf),
}

impl std::str::FromStr for ReaderTask {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "synthetic" => Ok(ReaderTask::Synthetic),
            "bible-cloze" => Ok(ReaderTask::BibleCloze),
            _ => match s.strip_prefix("questions:") {
                Some(dir) if !dir.is_empty() => Ok(ReaderTask::Questions(PathBuf::from(dir))),
                _ => Err(format!(
                    "unknown task '{s}': expected synthetic, bible-cloze or questions:DIR"
                )),
            },
        }
    }
}

impl ReaderTask {
    /// The results folder and CSV `task` name.
    pub fn name(&self) -> String {
        match self {
            ReaderTask::Synthetic => "synthetic".into(),
            ReaderTask::BibleCloze => "bible-cloze".into(),
            ReaderTask::Questions(dir) => {
                format!(
                    "questions-{}",
                    dir.file_name()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default()
                )
            }
        }
    }

    /// The spelling `--task` accepts.
    pub fn arg(&self) -> String {
        match self {
            ReaderTask::Questions(dir) => format!("questions:{}", dir.display()),
            other => other.name(),
        }
    }
}

/// Every setting of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The preset this configuration started from.
    pub preset: String,
    /// synthetic | bible-cloze | questions:DIR
    pub task: String,
    /// One training run per seed and reader.
    pub seeds: Vec<u64>,
    /// The readers compared (the frequency baselines always run).
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
}

impl Config {
    /// A named preset: `quick` (CPU, minutes: synthetic 20,000 stories and 1,000 steps;
    /// bible-cloze every question and 200 steps), `paper` (larger models and data, for a
    /// GPU), `smoke` (seconds).
    pub fn preset(name: &str, task: &ReaderTask) -> anyhow::Result<Config> {
        let base = Config {
            preset: name.to_string(),
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
        };
        Ok(match name {
            // Enough stories that no reader sees one twice (at 3,000 the Attentive Reader
            // memorized the training set); 3% held out is still 600 valid and 600 test.
            // Stories of 2-8 facts (10-60 tokens) and 1,000 steps: Hermann's readers, with
            // their additive score, need 400-650 steps before attention finds the answer's
            // fact even on these (on 4-16 facts they stayed at the baselines for 1,000),
            // and the whole preset must fit in 20 minutes on 2 cores.
            "quick" if matches!(task, ReaderTask::Synthetic) => Config {
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
            "quick" if matches!(task, ReaderTask::BibleCloze) => Config {
                max_questions: usize::MAX,
                steps: 200,
                ..base
            },
            "quick" => base,
            "paper" => Config {
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
            "smoke" => Config {
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
            other => bail!("unknown preset '{other}': expected quick, paper or smoke"),
        })
    }

    /// Checks the values a run cannot work with, naming the field.
    pub fn validate(&self) -> anyhow::Result<()> {
        crate::common::require_positive(&[
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
        if self.seeds.is_empty() {
            bail!("config field 'seeds' must list at least one seed");
        }
        if !(0.0 < self.heldout_fraction && self.heldout_fraction < 0.5) {
            bail!("config field 'heldout_fraction' must be between 0 and 0.5");
        }
        if self.min_sentences == 0 || self.min_sentences > self.max_sentences {
            bail!(
                "config fields 'min_sentences'..'max_sentences' must be a non-empty range from 1"
            );
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            bail!("config field 'learning_rate' must be a positive number");
        }
        Ok(())
    }

    fn optimizer(&self) -> OptimizerSettings {
        OptimizerSettings {
            steps: self.steps,
            learning_rate: self.learning_rate,
            grad_clip: self.grad_clip,
        }
    }
}

/// Train, validation and test questions.
pub struct QuestionSplits {
    /// Training questions.
    pub train: Vec<Question>,
    /// Validation questions.
    pub valid: Vec<Question>,
    /// Test questions.
    pub test: Vec<Question>,
}

/// Loads (or generates) the questions of a task.
pub fn load_questions(
    config: &Config,
    task: &ReaderTask,
    data_dir: &Path,
) -> anyhow::Result<QuestionSplits> {
    let from_dirs = |root: &Path| -> anyhow::Result<QuestionSplits> {
        let read = |split: &str| -> anyhow::Result<Vec<Question>> {
            let dir = root.join(split);
            let set = datasets::reader::read_question_dir(&dir, config.skip_bad)?;
            if !set.skipped.is_empty() {
                eprintln!(
                    "{}: skipped {} malformed files, e.g. {}",
                    dir.display(),
                    set.skipped.len(),
                    set.skipped[0].1
                );
            }
            if set.questions.is_empty() {
                bail!("{}: no .question files", dir.display());
            }
            Ok(set.questions)
        };
        Ok(QuestionSplits {
            train: read("train")?,
            valid: read("validation")?,
            test: read("test")?,
        })
    };
    match task {
        ReaderTask::Questions(dir) => from_dirs(dir),
        ReaderTask::Synthetic => Ok(split_questions(
            datasets::reader::synthetic::generate_stories(&StoryConfig {
                n: config.stories,
                min_sentences: config.min_sentences,
                max_sentences: config.max_sentences,
                entities: config.entities,
                seed: 0,
            }),
            config.heldout_fraction,
        )),
        ReaderTask::BibleCloze => {
            // Written once as .question files, so the same loader serves both corpora.
            let cap = match config.max_questions {
                usize::MAX => "all".to_string(),
                n => n.to_string(),
            };
            let root = data_dir.join(format!("bible-cloze-{}v-{cap}", config.context_verses));
            if !root.join("test").is_dir() {
                let kjv = data_dir.join("sword/kjv");
                if !kjv.is_dir() {
                    bail!("{} not found: run scripts/fetch-data first", kjv.display());
                }
                let questions = datasets::reader::bible_cloze(
                    &kjv,
                    &ClozeConfig {
                        context_verses: config.context_verses,
                        max_examples: config.max_questions,
                        seed: 0,
                    },
                )?;
                let splits = split_questions(questions, config.heldout_fraction);
                for (split, questions) in [
                    ("train", &splits.train),
                    ("validation", &splits.valid),
                    ("test", &splits.test),
                ] {
                    let dir = root.join(split);
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    for (i, q) in questions.iter().enumerate() {
                        datasets::reader::write_question(&dir.join(format!("{i:06}.question")), q)?;
                    }
                }
                eprintln!(
                    "wrote {} cloze questions to {}",
                    splits.train.len() + splits.valid.len() + splits.test.len(),
                    root.display()
                );
            }
            from_dirs(&root)
        }
    }
}

/// A fixed (seed 0) shuffle and cut, the same for every reader and seed.
fn split_questions(mut questions: Vec<Question>, heldout: f64) -> QuestionSplits {
    questions.shuffle(&mut StdRng::seed_from_u64(0));
    let n_held = ((questions.len() as f64) * heldout).round().max(1.0) as usize;
    let test = questions.split_off(questions.len() - n_held);
    let valid = questions.split_off(questions.len() - n_held);
    QuestionSplits {
        train: questions,
        valid,
        test,
    }
}

/// Token ids: `<pad>` 0, `<unk>` 1, then `@entity0..@entity{N-1}`, `@placeholder`, then words
/// by training frequency. Entity k is id `2 + k` and class k.
pub struct ReaderVocab {
    ids: HashMap<String, u32>,
    /// Number of entity classes.
    pub n_entities: usize,
    size: usize,
}

const UNK: u32 = 1;
const FIRST_ENTITY: u32 = 2;

impl ReaderVocab {
    /// Builds the vocabulary from training questions; `n_entities` covers every split.
    pub fn build(splits: &QuestionSplits, max_words: usize) -> ReaderVocab {
        let all = splits.train.iter().chain(&splits.valid).chain(&splits.test);
        let n_entities = all
            .flat_map(|q| q.entities.iter().filter_map(|(id, _)| entity_index(id)))
            .max()
            .map_or(0, |k| k + 1);
        let mut ids = HashMap::new();
        for k in 0..n_entities {
            ids.insert(datasets::reader::entity_id(k), FIRST_ENTITY + k as u32);
        }
        ids.insert(
            datasets::reader::PLACEHOLDER.to_string(),
            FIRST_ENTITY + n_entities as u32,
        );
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for q in &splits.train {
            for t in q.context.iter().chain(&q.query) {
                if !ids.contains_key(t) {
                    *counts.entry(t).or_default() += 1;
                }
            }
        }
        let mut words: Vec<(&str, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (word, _) in words.into_iter().take(max_words) {
            let id = ids.len() as u32 + FIRST_ENTITY;
            ids.insert(word.to_string(), id);
        }
        let size = ids.len() + FIRST_ENTITY as usize;
        ReaderVocab {
            ids,
            n_entities,
            size,
        }
    }

    /// Vocabulary size (specials included).
    pub fn len(&self) -> usize {
        self.size
    }

    /// Whether only the specials are there.
    pub fn is_empty(&self) -> bool {
        self.size == FIRST_ENTITY as usize
    }

    fn id(&self, token: &str) -> u32 {
        self.ids.get(token).copied().unwrap_or(UNK)
    }
}

fn entity_index(token: &str) -> Option<usize> {
    is_entity_id(token)
        .then(|| token[datasets::reader::ENTITY_PREFIX.len()..].parse().ok())
        .flatten()
}

/// One question as ids.
#[derive(Clone, Debug)]
pub struct EncodedQuestion {
    /// Document ids.
    pub doc: Vec<u32>,
    /// Query ids.
    pub query: Vec<u32>,
    /// Answer class.
    pub answer: usize,
}

/// Encodes questions; a question whose answer is not an `@entityN` id is an error.
pub fn encode(vocab: &ReaderVocab, questions: &[Question]) -> anyhow::Result<Vec<EncodedQuestion>> {
    questions
        .iter()
        .map(|q| {
            let answer = entity_index(&q.answer).with_context(|| {
                format!("{}: answer '{}' is not an @entityN id", q.url, q.answer)
            })?;
            Ok(EncodedQuestion {
                doc: q.context.iter().map(|t| vocab.id(t)).collect(),
                query: q.query.iter().map(|t| vocab.id(t)).collect(),
                answer,
            })
        })
        .collect()
}

/// Pads questions into a [`ReaderBatch`] and the answers `[B]`.
pub fn make_reader_batch(
    questions: &[&EncodedQuestion],
    n_entities: usize,
    device: &Device,
) -> (ReaderBatch, Tensor<1, Int>) {
    let b = questions.len();
    let d = questions
        .iter()
        .map(|q| q.doc.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let q_len = questions
        .iter()
        .map(|q| q.query.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let (mut doc, mut doc_mask) = (vec![0i64; b * d], vec![false; b * d]);
    let (mut query, mut query_mask) = (vec![0i64; b * q_len], vec![false; b * q_len]);
    let mut candidates = vec![false; b * n_entities];
    let mut doc_entities = vec![0f32; b * d * n_entities];
    for (row, q) in questions.iter().enumerate() {
        for (i, &id) in q.doc.iter().enumerate() {
            doc[row * d + i] = id as i64;
            doc_mask[row * d + i] = true;
            let k = id.wrapping_sub(FIRST_ENTITY) as usize;
            if id >= FIRST_ENTITY && k < n_entities {
                candidates[row * n_entities + k] = true;
                doc_entities[(row * d + i) * n_entities + k] = 1.0;
            }
        }
        for (i, &id) in q.query.iter().enumerate() {
            query[row * q_len + i] = id as i64;
            query_mask[row * q_len + i] = true;
        }
    }
    let answers: Vec<i64> = questions.iter().map(|q| q.answer as i64).collect();
    let batch = ReaderBatch {
        doc: Tensor::from_data(TensorData::new(doc, [b, d]), device),
        doc_mask: Tensor::<2, Bool>::from_data(TensorData::new(doc_mask, [b, d]), device),
        query: Tensor::from_data(TensorData::new(query, [b, q_len]), device),
        query_mask: Tensor::<2, Bool>::from_data(TensorData::new(query_mask, [b, q_len]), device),
        candidates: Tensor::<2, Bool>::from_data(
            TensorData::new(candidates, [b, n_entities]),
            device,
        ),
        doc_entities: Tensor::from_data(TensorData::new(doc_entities, [b, d, n_entities]), device),
    };
    (
        batch,
        Tensor::from_data(TensorData::new(answers, [b]), device),
    )
}

/// Trains one reader. Batches are drawn in an order fixed by the epoch number alone, so every
/// reader and seed sees the same questions in the same order.
pub fn train_reader(
    config: &Config,
    kind: ReaderKind,
    vocab: &ReaderVocab,
    train: &[EncodedQuestion],
    device: &Device,
    label: &str,
) -> anyhow::Result<Trained<Reader>> {
    let model = ReaderConfig::new(kind, vocab.len(), vocab.n_entities)
        .with_d_embed(config.d_embed)
        .with_d_hidden(config.d_hidden)
        .with_d_attention(config.d_attention)
        .init(device);
    let mut epoch = 0u64;
    let mut queue: Vec<Vec<usize>> = Vec::new();
    let next_batch = || {
        if queue.is_empty() {
            let mut order: Vec<usize> = (0..train.len()).collect();
            order.shuffle(&mut StdRng::seed_from_u64(epoch));
            queue = order
                .chunks(config.batch_size)
                .rev()
                .map(<[usize]>::to_vec)
                .collect();
            epoch += 1;
        }
        let idx = queue.pop().expect("refilled above");
        let questions: Vec<&EncodedQuestion> = idx.iter().map(|&i| &train[i]).collect();
        make_reader_batch(&questions, vocab.n_entities, device)
    };
    train_loop(
        &config.optimizer(),
        model,
        label,
        0,
        next_batch,
        |m: &Reader, (batch, answers)| {
            cross_entropy_loss(reader_loss(m.forward(batch).logits, answers.clone()))
        },
    )
}

/// Predicted entity class per question.
pub fn predict(model: &Reader, questions: &[EncodedQuestion], n_entities: usize) -> Vec<usize> {
    let device = model.device();
    questions
        .chunks(64)
        .flat_map(|chunk| {
            let refs: Vec<&EncodedQuestion> = chunk.iter().collect();
            let (batch, _) = make_reader_batch(&refs, n_entities, &device);
            let best = model.forward(&batch).logits.argmax(1).into_data();
            best.iter::<i64>().map(|k| k as usize).collect::<Vec<_>>()
        })
        .collect()
}

/// Accuracy rows for one model: validation and test overall, test per document-length bucket.
#[allow(clippy::too_many_arguments)]
fn accuracy_rows(
    config: &Config,
    task: &ReaderTask,
    model: &str,
    seed: u64,
    valid: (&[usize], &[usize]),
    test: (&[usize], &[usize]),
    test_doc_lens: &[usize],
) -> Vec<MetricRow> {
    let accuracy = |pred: &[usize], gold: &[usize], idx: &[usize]| {
        100.0 * idx.iter().filter(|&&i| pred[i] == gold[i]).count() as f64 / idx.len().max(1) as f64
    };
    let row = |metric: &str, lo, hi, n, value| MetricRow {
        experiment: EXPERIMENT.into(),
        task: task.name(),
        model: model.into(),
        train_max_len: 0,
        seed,
        len_lo: lo,
        len_hi: hi,
        n,
        metric: metric.into(),
        value,
    };
    let all_valid: Vec<usize> = (0..valid.1.len()).collect();
    let all_test: Vec<usize> = (0..test.1.len()).collect();
    let mut rows = vec![
        row(
            "valid_accuracy",
            0,
            0,
            all_valid.len(),
            accuracy(valid.0, valid.1, &all_valid),
        ),
        row(
            "test_accuracy",
            0,
            0,
            all_test.len(),
            accuracy(test.0, test.1, &all_test),
        ),
    ];
    for ((lo, hi), idx) in metrics::buckets::group_by_bucket(test_doc_lens, config.doc_bucket_width)
    {
        rows.push(row(
            "test_accuracy",
            lo,
            hi,
            idx.len(),
            accuracy(test.0, test.1, &idx),
        ));
    }
    rows
}

/// Runs the comparison and writes its outputs under `out_dir/<task>/`.
pub fn run(
    config: &Config,
    task: &ReaderTask,
    data_dir: &Path,
    out_dir: &Path,
) -> anyhow::Result<PathBuf> {
    config.validate()?;
    let dir = out_dir.join(task.name());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::common::write_config(&dir, config)?;
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
        "{EXPERIMENT} / {}: {} train, {} valid, {} test questions, {} entity classes, vocab {}, mean document {mean_doc:.0} tokens, {} backend",
        task.name(),
        train.len(),
        valid.len(),
        test.len(),
        vocab.n_entities,
        vocab.len(),
        harness::backend_name()
    );
    let gold = |qs: &[EncodedQuestion]| qs.iter().map(|q| q.answer).collect::<Vec<_>>();
    let (valid_gold, test_gold) = (gold(&valid), gold(&test));
    let test_doc_lens: Vec<usize> = test.iter().map(|q| q.doc.len()).collect();

    let mut rows = Vec::new();
    // The frequency baselines need no training and no seed.
    type Baseline = fn(&Question) -> String;
    for (name, baseline) in [
        ("max-frequency", baselines::max_frequency as Baseline),
        ("exclusive-frequency", baselines::exclusive_frequency),
    ] {
        let predict = |qs: &[Question]| {
            qs.iter()
                .map(|q| entity_index(&baseline(q)).unwrap_or(usize::MAX))
                .collect::<Vec<_>>()
        };
        let (pv, pt) = (predict(&splits.valid), predict(&splits.test));
        rows.extend(accuracy_rows(
            config,
            task,
            name,
            0,
            (&pv, &valid_gold),
            (&pt, &test_gold),
            &test_doc_lens,
        ));
    }
    plots::write_metrics_csv(&dir.join(plots::METRICS_FILE), &rows)?;

    let example = test
        .iter()
        .enumerate()
        .filter(|(_, q)| q.doc.len() <= 120)
        .max_by_key(|(_, q)| q.doc.len())
        .map(|(i, _)| i);
    let mut attention_rows = Vec::new();
    let mut timings = vec!["model,seed,steps,train_seconds,ms_per_step".to_string()];
    for &kind in &config.readers {
        for &seed in &config.seeds {
            let name = kind.name();
            let device = harness::device(seed)?;
            let trained = train_reader(
                config,
                kind,
                &vocab,
                &train,
                &device,
                &format!("{name} seed {seed}"),
            )?;
            timings.push(format!(
                "{name},{seed},{},{:.3},{:.2}",
                config.steps,
                trained.seconds,
                1000.0 * trained.seconds / config.steps as f64
            ));
            let model = trained.model.valid();
            let (pv, pt) = (
                predict(&model, &valid, vocab.n_entities),
                predict(&model, &test, vocab.n_entities),
            );
            rows.extend(accuracy_rows(
                config,
                task,
                name,
                seed,
                (&pv, &valid_gold),
                (&pt, &test_gold),
                &test_doc_lens,
            ));
            plots::write_metrics_csv(&dir.join(plots::METRICS_FILE), &rows)?;
            if let (Some(i), true) = (example, seed == config.seeds[0]) {
                let (batch, _) = make_reader_batch(&[&test[i]], vocab.n_entities, &model.device());
                if let Some(weights) = model.forward(&batch).weights {
                    let weights: Vec<f32> = weights.into_data().iter::<f32>().collect();
                    attention_rows.extend(
                        splits.test[i].context.iter().zip(weights).enumerate().map(
                            |(position, (token, weight))| plots::DocAttentionRow {
                                model: name.to_string(),
                                seed,
                                position,
                                token: token.replace(',', "<comma>"),
                                weight: weight as f64,
                            },
                        ),
                    );
                    plots::write_doc_attention_csv(
                        &dir.join(plots::DOC_ATTENTION_FILE),
                        &attention_rows,
                    )?;
                }
            }
        }
    }
    plots::write_atomic(
        &dir.join("timings.csv"),
        (timings.join("\n") + "\n").as_bytes(),
    )?;
    for path in plots::redraw_results_dir(&dir)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(dir)
}
