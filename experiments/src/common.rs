//! Plumbing every experiment shares: configuration files and the `config.json` record.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Writes `dir/config.json`: the configuration exactly as run, plus the git revision and
/// backend (so a result can be traced to the code that made it).
pub fn write_config<C: Serialize>(dir: &Path, config: &C) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Record<'a, C> {
        config: &'a C,
        run: harness::RunInfo,
    }
    let record = Record {
        config,
        run: harness::RunInfo::collect(),
    };
    let json = serde_json::to_string_pretty(&record)? + "\n";
    plots::write_atomic(&dir.join("config.json"), json.as_bytes())
}

/// Reads a configuration from a JSON file: either the bare configuration or a
/// `config.json` written by a run (its `config` field), so a result can be re-run from it.
pub fn read_config<C: DeserializeOwned>(path: &Path) -> anyhow::Result<C> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let inner = match value.get("config") {
        Some(inner) if value.get("run").is_some() => inner.clone(),
        _ => value,
    };
    serde_json::from_value(inner).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The options every sequence-to-sequence experiment binary takes (flattened into each
/// binary's own options with `#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Task: copy, reverse, sort, toy-translation, bible-en-es (run scripts/fetch-data
    /// first) or tsv:PATH (source<TAB>target lines). Default: the experiment's, or the task
    /// of --config.
    #[arg(long)]
    pub task: Option<crate::translation::TaskSpec>,
    /// Settings to start from: quick (CPU, minutes), paper (the paper's lengths, for a GPU),
    /// smoke (seconds, checks the pipeline only).
    #[arg(long, default_value = "quick", value_parser = ["quick", "paper", "smoke"])]
    pub preset: String,
    /// A JSON configuration (all fields, or a config.json written by an earlier run);
    /// replaces the preset.
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
    /// Seeds, comma-separated (overrides the configuration).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// Training lengths k, comma-separated (overrides the configuration).
    #[arg(long, value_delimiter = ',')]
    pub train_max_lens: Option<Vec<usize>>,
    /// Optimizer steps per model (overrides the configuration).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Where fetched corpora live (scripts/fetch-data writes data/).
    #[arg(long, default_value = "data")]
    pub data_dir: std::path::PathBuf,
    /// Results root; outputs go to OUT/<task>/. Default: results/<experiment>.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

impl RunArgs {
    /// The configuration and task these options ask for: from `--config` (whose task holds
    /// unless `--task` is given) or from the preset for `--task` (else `default_task`), with
    /// the overriding flags applied to the shared settings `base(&mut C)` exposes.
    pub fn resolve<C: DeserializeOwned>(
        &self,
        default_task: crate::translation::TaskSpec,
        preset: impl Fn(&str, &crate::translation::TaskSpec) -> anyhow::Result<C>,
        base: impl Fn(&mut C) -> &mut crate::translation::Config,
    ) -> anyhow::Result<(C, crate::translation::TaskSpec)> {
        let (mut config, task) = match &self.config {
            Some(path) => {
                let mut config = read_config::<C>(path)?;
                let task = match &self.task {
                    Some(task) => task.clone(),
                    None => base(&mut config)
                        .task
                        .parse()
                        .map_err(|e| anyhow::anyhow!("{}: field 'task': {e}", path.display()))?,
                };
                (config, task)
            }
            None => {
                let task = self.task.clone().unwrap_or(default_task);
                (preset(&self.preset, &task)?, task)
            }
        };
        let shared = base(&mut config);
        shared.task = task.arg();
        if let Some(seeds) = &self.seeds {
            shared.seeds = seeds.clone();
        }
        if let Some(lens) = &self.train_max_lens {
            shared.train_max_lens = lens.clone();
        }
        if let Some(steps) = self.steps {
            shared.steps = steps;
        }
        Ok((config, task))
    }

    /// `--out`, or `results/<experiment>`.
    pub fn out_dir(&self, experiment: &str) -> std::path::PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| std::path::Path::new("results").join(experiment))
    }
}

/// Runs an experiment binary's body on every core (see [`harness::in_thread_pool`]),
/// printing where the results went, or an error as one line on stderr and exiting non-zero.
pub fn exit_on_error(
    body: impl FnOnce() -> anyhow::Result<std::path::PathBuf> + Send,
) -> std::process::ExitCode {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    bench_main(threads, || {
        let dir = body()?;
        eprintln!("results in {}", dir.display());
        Ok(())
    })
}

/// Runs a benchmark's body on `threads` threads (its `--threads`), printing an error as one
/// line on stderr and exiting non-zero.
pub fn bench_main(
    threads: usize,
    body: impl FnOnce() -> anyhow::Result<()> + Send,
) -> std::process::ExitCode {
    match harness::in_thread_pool(threads, body).and_then(|result| result) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Fails with "config field 'NAME' must be at least 1" for the first zero among `fields`.
pub fn require_positive(fields: &[(&str, usize)]) -> anyhow::Result<()> {
    match fields.iter().find(|(_, value)| *value == 0) {
        Some((field, _)) => anyhow::bail!("config field '{field}' must be at least 1"),
        None => Ok(()),
    }
}
