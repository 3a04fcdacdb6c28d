//! The questions of a run: read from `.question` files in DeepMind's layout, generated
//! as synthetic stories, or made from the KJV (and cached as `.question` files), then split
//! into training, validation and test questions.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use datasets::reader::synthetic::StoryConfig;
use datasets::reader::{ClozeConfig, Question};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{Config, ReaderTask};

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
    match task {
        ReaderTask::Questions(dir) => read_layout(dir, config.skip_bad),
        ReaderTask::Synthetic => split_questions(
            datasets::reader::synthetic::generate_stories(&StoryConfig {
                n: config.stories,
                min_sentences: config.min_sentences,
                max_sentences: config.max_sentences,
                entities: config.entities,
                seed: 0,
            }),
            config.heldout_fraction,
            "stories",
        ),
        ReaderTask::BibleCloze => {
            // Written once as .question files, so the same loader serves both corpora. The
            // folder is named for every setting that shapes it, and written under a
            // temporary name first, so a killed run never leaves a partial one behind.
            let cap = match config.max_questions {
                usize::MAX => "all".to_string(),
                n => n.to_string(),
            };
            let root = data_dir.join(format!(
                "bible-cloze-{}v-{cap}-heldout{}",
                config.context_verses, config.heldout_fraction
            ));
            if !root.is_dir() {
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
                let splits = split_questions(questions, config.heldout_fraction, "max_questions")?;
                let partial = PathBuf::from(format!("{}.partial", root.display()));
                if partial.exists() {
                    std::fs::remove_dir_all(&partial)
                        .with_context(|| format!("cannot remove {}", partial.display()))?;
                }
                for (split, questions) in [
                    ("train", &splits.train),
                    ("validation", &splits.valid),
                    ("test", &splits.test),
                ] {
                    let dir = partial.join(split);
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    for (i, q) in questions.iter().enumerate() {
                        datasets::reader::write_question(&dir.join(format!("{i:06}.question")), q)?;
                    }
                }
                std::fs::rename(&partial, &root).with_context(|| {
                    format!("cannot rename {} to {}", partial.display(), root.display())
                })?;
                eprintln!(
                    "wrote {} cloze questions to {}",
                    splits.train.len() + splits.valid.len() + splits.test.len(),
                    root.display()
                );
            }
            read_layout(&root, config.skip_bad)
        }
    }
}

/// The training folder of a question directory: DeepMind's `training/`, or `train/`.
fn training_dir(root: &Path) -> anyhow::Result<PathBuf> {
    for name in ["training", "train"] {
        if root.join(name).is_dir() {
            return Ok(root.join(name));
        }
    }
    if !root.exists() {
        bail!("{}: no such directory", root.display());
    }
    if !root.is_dir() {
        bail!(
            "{}: not a directory (questions:DIR takes a folder)",
            root.display()
        );
    }
    bail!(
        "{}: no training/ (or train/) folder; expected DeepMind's layout: training/, validation/ and test/, each of .question files",
        root.display()
    )
}

/// Reads `.question` files from `root/{training,validation,test}` (or `root/train`),
/// skipping (and reporting) malformed files when `skip_bad`.
fn read_layout(root: &Path, skip_bad: bool) -> anyhow::Result<QuestionSplits> {
    let read = |dir: PathBuf| -> anyhow::Result<Vec<Question>> {
        if !dir.is_dir() {
            bail!("{}: no such directory", dir.display());
        }
        let set = datasets::reader::read_question_dir(&dir, skip_bad)?;
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
        train: read(training_dir(root)?)?,
        valid: read(root.join("validation"))?,
        test: read(root.join("test"))?,
    })
}

/// A fixed (seed 0) shuffle and cut, the same for every reader and seed: `heldout` of the
/// questions (at least one) each for validation and test, the rest for training. Too few
/// questions for three non-empty splits is an error naming `size_field`, the configuration
/// field that sets their number.
fn split_questions(
    mut questions: Vec<Question>,
    heldout: f64,
    size_field: &str,
) -> anyhow::Result<QuestionSplits> {
    let n = questions.len();
    let n_held = ((n as f64) * heldout).round().max(1.0) as usize;
    if n < 2 * n_held + 1 {
        bail!(
            "config field '{size_field}' gives {n} questions: too few for training, validation and test ({n_held} each held out at heldout_fraction {heldout}); at least {} are needed",
            2 * n_held + 1
        );
    }
    questions.shuffle(&mut StdRng::seed_from_u64(0));
    let test = questions.split_off(n - n_held);
    let valid = questions.split_off(n - 2 * n_held);
    Ok(QuestionSplits {
        train: questions,
        valid,
        test,
    })
}
