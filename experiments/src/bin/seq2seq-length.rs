//! Plain encoder-decoder versus attention as sentences grow (Bahdanau et al. 2015, Fig. 2).
//!
//! Expect on the default quick preset (reverse): on the longest bucket inside the training
//! range RNNsearch stays near 100% exact match while RNNencdec falls far below it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use experiments::common::read_config;
use experiments::seq2seq_length::{Config, TaskSpec, run};
use models::rnn::CellKind;

/// Trains RNNencdec-k and RNNsearch-k for each training length k and seed, scores them per
/// source-length bucket, and writes config.json, metrics.csv, timings.csv, alignment.csv and
/// the figures to OUT/<task>/.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Task: copy, reverse, sort, toy-translation, bible-en-es (run scripts/fetch-data
    /// first) or tsv:PATH (source<TAB>target lines). Default: reverse, or the task of
    /// --config.
    #[arg(long)]
    task: Option<TaskSpec>,
    /// Settings to start from: quick (CPU, minutes), paper (Bahdanau's lengths, for a GPU),
    /// smoke (seconds, checks the pipeline only).
    #[arg(long, default_value = "quick", value_parser = ["quick", "paper", "smoke"])]
    preset: String,
    /// A JSON configuration (all fields, or a config.json written by an earlier run);
    /// replaces the preset.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seeds, comma-separated (overrides the configuration).
    #[arg(long, value_delimiter = ',')]
    seeds: Option<Vec<u64>>,
    /// Training lengths k, comma-separated (overrides the configuration).
    #[arg(long, value_delimiter = ',')]
    train_max_lens: Option<Vec<usize>>,
    /// Optimizer steps per model (overrides the configuration).
    #[arg(long)]
    steps: Option<usize>,
    /// Recurrent unit of encoder and decoder: gru or lstm (overrides the configuration).
    #[arg(long, value_parser = ["gru", "lstm"])]
    cell: Option<String>,
    /// Beam width for evaluation; 0 or 1 decodes greedily (overrides the configuration).
    #[arg(long)]
    beam: Option<usize>,
    /// Where fetched corpora live (scripts/fetch-data writes data/).
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Results root; outputs go to OUT/<task>/.
    #[arg(long, default_value = "results/seq2seq-length")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match try_main(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main(args: Args) -> anyhow::Result<()> {
    let (mut config, task) = match (&args.config, args.task) {
        (Some(path), task) => {
            let config = read_config::<Config>(path)?;
            let task = match task {
                Some(task) => task,
                None => config
                    .task
                    .parse()
                    .map_err(|e| anyhow::anyhow!("{}: field 'task': {e}", path.display()))?,
            };
            (config, task)
        }
        (None, task) => {
            let task = task.unwrap_or(TaskSpec::Synthetic(
                datasets::synthetic::SyntheticTask::Reverse,
            ));
            (Config::preset(&args.preset, &task)?, task)
        }
    };
    config.task = task.arg();
    if let Some(seeds) = args.seeds {
        config.seeds = seeds;
    }
    if let Some(lens) = args.train_max_lens {
        config.train_max_lens = lens;
    }
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    if let Some(cell) = args.cell {
        config.cell = if cell == "lstm" {
            CellKind::Lstm
        } else {
            CellKind::Gru
        };
    }
    if let Some(beam) = args.beam {
        config.beam = beam;
    }
    let dir = run(&config, &task, &args.data_dir, &args.out)?;
    eprintln!("results in {}", dir.display());
    Ok(())
}
