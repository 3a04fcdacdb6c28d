//! Where the cloze questions come from: `--task synthetic | bible-cloze | questions:DIR`.

use std::path::PathBuf;

use crate::experiment::Task;

/// Where the questions come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderTask {
    /// Seeded synthetic stories.
    Synthetic,
    /// Named-entity cloze questions from the KJV (run scripts/fetch-data first).
    BibleCloze,
    /// `.question` files in DeepMind's layout, `DIR/{training,validation,test}/` (or
    /// `DIR/train/`).
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
                    "unknown task '{s}': expected {}",
                    ReaderTask::CHOICES
                )),
            },
        }
    }
}

impl Task for ReaderTask {
    const CHOICES: &'static str = "synthetic (seeded stories), bible-cloze (named-entity cloze \
        questions from the KJV; run scripts/fetch-data first) or questions:DIR (DeepMind's \
        CNN/Daily Mail layout: DIR/training, DIR/validation, DIR/test, each of .question \
        files; DIR/train is accepted too)";

    fn name(&self) -> String {
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

    fn arg(&self) -> String {
        match self {
            ReaderTask::Questions(dir) => format!("questions:{}", dir.display()),
            other => other.name(),
        }
    }
}
