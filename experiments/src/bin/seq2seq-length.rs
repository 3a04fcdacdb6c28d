//! Plain encoder-decoder versus attention as sentences grow (Bahdanau et al. 2015, Fig. 2).
//!
//! Expect on the default quick preset (reverse): on the longest bucket inside the training
//! range RNNsearch stays far above RNNencdec, while on the shortest both are near 100%.

use clap::Parser;
use datasets::synthetic::SyntheticTask;
use experiments::common::{RunArgs, exit_on_error};
use experiments::seq2seq_length::{EXPERIMENT, run};
use experiments::translation::{Config, TaskSpec};
use models::rnn::CellKind;

/// Trains RNNencdec-k and RNNsearch-k (Bahdanau et al. 2015, Fig. 2) for each training length
/// k and seed, scores them per source-length bucket, and writes config.json, metrics.csv,
/// timings.csv, alignment.csv, summary.md and the figures to OUT/<task>/.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Recurrent unit of encoder and decoder: gru or lstm (overrides the configuration).
    #[arg(long, value_parser = ["gru", "lstm"])]
    cell: Option<String>,
    /// Beam width for evaluation; 0 or 1 decodes greedily (overrides the configuration).
    #[arg(long)]
    beam: Option<usize>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    exit_on_error(|| {
        let default_task = TaskSpec::Synthetic(SyntheticTask::Reverse);
        let (mut config, task) =
            args.run
                .resolve(default_task, Config::preset, |c: &mut Config| c)?;
        if let Some(cell) = &args.cell {
            config.cell = if cell == "lstm" {
                CellKind::Lstm
            } else {
                CellKind::Gru
            };
        }
        if let Some(beam) = args.beam {
            config.beam = beam;
        }
        run(
            &config,
            &task,
            &args.run.data_dir,
            &args.run.out_dir(EXPERIMENT),
        )
    })
}
