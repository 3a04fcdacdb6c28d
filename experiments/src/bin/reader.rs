//! Cloze reading comprehension (Hermann et al. 2015, Table 5 in shape): frequency baselines,
//! Deep LSTM, Uniform, Attentive and Impatient Readers, Attention Sum and Stanford readers.

use std::path::PathBuf;

use clap::Parser;
use experiments::common::{exit_on_error, read_config};
use experiments::reader::{Config, ReaderTask, run};
use models::readers::ReaderKind;

/// Trains every reader on the same cloze questions for each seed, scores validation and test
/// accuracy (and test accuracy per document-length bucket) beside the two frequency
/// baselines, and writes config.json, metrics.csv, timings.csv, document_attention.csv,
/// summary.md and the figures to OUT/<task>/.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Task: synthetic (seeded stories), bible-cloze (KJV; run scripts/fetch-data first) or
    /// questions:DIR (DeepMind's layout: DIR/{train,validation,test}/*.question). Default:
    /// synthetic, or the task of --config.
    #[arg(long)]
    task: Option<ReaderTask>,
    /// Settings to start from: quick (CPU, minutes), paper (for a GPU), smoke (seconds).
    #[arg(long, default_value = "quick", value_parser = ["quick", "paper", "smoke"])]
    preset: String,
    /// A JSON configuration (or a config.json written by an earlier run); replaces the preset.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Readers, comma-separated: deep-lstm, uniform, attentive, impatient, attention-sum,
    /// stanford (default: these six), attentive-bilinear (the Attentive Reader with the
    /// Stanford reader's bilinear score: an ablation).
    #[arg(long, value_delimiter = ',')]
    readers: Option<Vec<ReaderKind>>,
    /// Seeds, comma-separated (overrides the configuration).
    #[arg(long, value_delimiter = ',')]
    seeds: Option<Vec<u64>>,
    /// Optimizer steps per reader (overrides the configuration).
    #[arg(long)]
    steps: Option<usize>,
    /// Skip malformed .question files, counting and reporting them, instead of stopping.
    #[arg(long)]
    skip_bad: bool,
    /// Where fetched corpora live (scripts/fetch-data writes data/).
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Results root; outputs go to OUT/<task>/.
    #[arg(long, default_value = "results/reader")]
    out: PathBuf,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    exit_on_error(|| {
        let (mut config, task) = match &args.config {
            Some(path) => {
                let config: Config = read_config(path)?;
                let task = match &args.task {
                    Some(task) => task.clone(),
                    None => config
                        .task
                        .parse()
                        .map_err(|e| anyhow::anyhow!("{}: field 'task': {e}", path.display()))?,
                };
                (config, task)
            }
            None => {
                let task = args.task.clone().unwrap_or(ReaderTask::Synthetic);
                (Config::preset(&args.preset, &task)?, task)
            }
        };
        config.task = task.arg();
        if let Some(readers) = &args.readers {
            config.readers = readers.clone();
        }
        if let Some(seeds) = &args.seeds {
            config.seeds = seeds.clone();
        }
        if let Some(steps) = args.steps {
            config.steps = steps;
        }
        config.skip_bad |= args.skip_bad;
        run(&config, &task, &args.data_dir, &args.out)
    })
}
