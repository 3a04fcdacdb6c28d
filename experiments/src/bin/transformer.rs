//! RNNencdec, RNNsearch and the Transformer (Vaswani et al. 2017): quality per source length,
//! and the cost of a training step and of decoding against sequence length.
//!
//! Expect on the default quick preset (reverse): RNNsearch and the Transformer far above
//! RNNencdec on long sentences; a training step that grows with length for the RNNs and
//! stays nearly flat for the Transformer on these lengths; decoding sequential for all three.

use clap::Parser;
use datasets::synthetic::SyntheticTask;
use experiments::common::{RunArgs, exit_on_error};
use experiments::transformer::{Config, EXPERIMENT, Parts, run_parts};
use experiments::translation::TaskSpec;

/// Trains RNNencdec, RNNsearch and a Transformer (Vaswani et al. 2017) for each training
/// length k and seed and scores them per source-length bucket (metrics.csv, timings.csv);
/// then times one training step and greedy decoding per sentence of each model on random
/// reverse batches of each length in cost_lengths (cost.csv: median wall-clock ms, not
/// reproducible). Writes config.json, the CSVs, summary.md and the figures to OUT/<task>/.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Skip the cost measurement (no cost.csv).
    #[arg(long)]
    skip_cost: bool,
    /// Skip training and scoring (no metrics.csv); measure the cost only.
    #[arg(long, conflicts_with = "skip_cost")]
    skip_quality: bool,
    /// Lengths at which to measure the cost, comma-separated (overrides the configuration).
    #[arg(long, value_delimiter = ',')]
    cost_lengths: Option<Vec<usize>>,
    /// Adam learning rate of the Transformer (overrides the configuration).
    #[arg(long)]
    transformer_learning_rate: Option<f64>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    exit_on_error(|| {
        let default_task = TaskSpec::Synthetic(SyntheticTask::Reverse);
        let (mut config, task) =
            args.run
                .resolve(default_task, Config::preset, |c: &mut Config| &mut c.base)?;
        if let Some(lengths) = &args.cost_lengths {
            config.cost_lengths = lengths.clone();
        }
        if let Some(rate) = args.transformer_learning_rate {
            config.transformer_learning_rate = rate;
        }
        let parts = Parts {
            quality: !args.skip_quality,
            cost: !args.skip_cost,
        };
        run_parts(
            &config,
            &task,
            &args.run.data_dir,
            &args.run.out_dir(EXPERIMENT),
            parts,
        )
    })
}
