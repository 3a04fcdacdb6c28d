//! The six alignment scores side by side: content (Graves 2014), additive (Bahdanau 2015),
//! location, general, dot (Luong 2015), scaled dot (Vaswani 2017).

use clap::Parser;
use datasets::synthetic::SyntheticTask;
use experiments::common::{RunArgs, exit_on_error};
use experiments::score_functions::{Config, EXPERIMENT, run};
use experiments::translation::TaskSpec;
use models::scores::ScoreKind;
use models::seq2seq::Arrangement;

/// Trains one attentive encoder-decoder per alignment score (same task, lengths, seeds and
/// everything else), scores them per source-length bucket, and writes config.json,
/// metrics.csv, timings.csv (ms per training step per score), alignment.csv (one sentence
/// under every score), summary.md and the figures to OUT/<task>/.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Scores to compare, comma-separated: content, additive, location, general, dot,
    /// scaled-dot (default: all six).
    #[arg(long, value_delimiter = ',')]
    scores: Option<Vec<ScoreKind>>,
    /// Decoder arrangement: luong (attend after the RNN step, input feeding; default) or
    /// bahdanau (attend before it).
    #[arg(long, value_parser = ["luong", "bahdanau"])]
    arrangement: Option<String>,
    /// Luong's local-p attention with this half-window D (Luong arrangement; default 0:
    /// global attention).
    #[arg(long)]
    local_window: Option<usize>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    exit_on_error(|| {
        let default_task = TaskSpec::Synthetic(SyntheticTask::ToyTranslation);
        let (mut config, task) =
            args.run
                .resolve(default_task, Config::preset, |c: &mut Config| &mut c.base)?;
        if let Some(scores) = &args.scores {
            config.scores = scores.clone();
        }
        if let Some(arrangement) = &args.arrangement {
            config.arrangement = if arrangement == "bahdanau" {
                Arrangement::Bahdanau
            } else {
                Arrangement::Luong
            };
        }
        if let Some(half_window) = args.local_window {
            config.local_window = half_window;
        }
        run(
            &config,
            &task,
            &args.run.data_dir,
            &args.run.out_dir(EXPERIMENT),
        )
    })
}
