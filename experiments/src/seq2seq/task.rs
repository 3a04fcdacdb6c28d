//! Where sentence pairs come from: `--task copy | reverse | sort | toy-translation |
//! bible-en-es | tsv:PATH`.

use std::path::PathBuf;

use datasets::synthetic::SyntheticTask;

use crate::experiment::Task;

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
        s.parse::<SyntheticTask>()
            .map(TaskSpec::Synthetic)
            .map_err(|_| format!("unknown task '{s}': expected {}", TaskSpec::CHOICES))
    }
}

impl Task for TaskSpec {
    const CHOICES: &'static str = "copy, reverse, sort, toy-translation (seeded synthetic \
        tasks), bible-en-es (KJV against Reina-Valera; run scripts/fetch-data first) or \
        tsv:PATH (source<TAB>target lines)";

    fn name(&self) -> String {
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

    fn arg(&self) -> String {
        match self {
            TaskSpec::Tsv(path) => format!("tsv:{}", path.display()),
            other => other.name(),
        }
    }
}

impl TaskSpec {
    /// Synthetic data is generated at any length; real text is whatever the corpus holds.
    pub fn is_synthetic(&self) -> bool {
        matches!(self, TaskSpec::Synthetic(_))
    }
}
