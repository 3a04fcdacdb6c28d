//! Soft (deterministic) versus hard (stochastic, REINFORCE) attention, Xu et al. 2015.

use clap::Parser;
use datasets::synthetic::SyntheticTask;
use experiments::common::{RunArgs, exit_on_error};
use experiments::soft_vs_hard::{Config, EXPERIMENT, run};
use experiments::translation::TaskSpec;

/// Trains RNNsearch with soft attention and with hard attention (one sampled position per
/// step, trained by REINFORCE with a moving-average baseline and an entropy bonus), scores
/// them per source-length bucket, and writes config.json, metrics.csv, learning_curve.csv,
/// timings.csv, alignment.csv, summary.md and the figures to OUT/<task>/.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Weight of the entropy bonus (overrides the configuration).
    #[arg(long)]
    entropy_weight: Option<f64>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    exit_on_error(|| {
        let default_task = TaskSpec::Synthetic(SyntheticTask::Reverse);
        let (mut config, task) =
            args.run
                .resolve(default_task, Config::preset, |c: &mut Config| &mut c.base)?;
        if let Some(w) = args.entropy_weight {
            config.entropy_weight = w;
        }
        run(
            &config,
            &task,
            &args.run.data_dir,
            &args.run.out_dir(EXPERIMENT),
        )
    })
}
