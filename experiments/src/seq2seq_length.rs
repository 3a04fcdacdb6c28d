//! `seq2seq-length`: Bahdanau et al. 2015, Figure 2, in shape.
//!
//! RNNencdec-k (Cho et al. 2014, one fixed context vector) and RNNsearch-k (additive
//! attention) are trained on sentences of at most k source tokens, for two values of k and
//! several seeds, then scored per source-length bucket on a test set that reaches beyond
//! the longest training length. The plain model falls as sentences grow; the attentive one
//! stays nearly flat.
//!
//! Outputs, in `<out>/<task>/`: `config.json` (the full configuration, seed list, git
//! revision, backend), `metrics.csv` (long format, reproducible byte for byte on the same
//! backend and build), `timings.csv` (wall-clock, not reproducible, so kept apart),
//! `alignment.csv` (attention weights of one long test sentence) and the figures redrawn
//! from those CSVs.

use std::path::{Path, PathBuf};

use models::seq2seq::{Architecture, Selection};

use crate::translation::{Config, Recorder, TaskSpec, seq2seq_model, teacher_forced_loss, train};

/// The experiment's name in CSVs and paths.
pub const EXPERIMENT: &str = "seq2seq-length";

/// Runs the whole experiment and writes its outputs under `out_dir/<task>/`.
pub fn run(
    config: &Config,
    task: &TaskSpec,
    data_dir: &Path,
    out_dir: &Path,
) -> anyhow::Result<PathBuf> {
    config.validate()?;
    let mut recorder = Recorder::start(EXPERIMENT, config, config, task, data_dir, out_dir)?;
    let longest_k = config.longest_train_len();
    for (k_index, &k) in config.train_max_lens.iter().enumerate() {
        for architecture in [Architecture::RnnEncDec, Architecture::RnnSearch] {
            for &seed in &config.seeds {
                let name = architecture.name();
                let device = harness::device(seed)?;
                let model = seq2seq_model(config, &recorder.data, architecture).init(&device);
                let label = format!("{name}-{k} seed {seed}");
                let trained = train(
                    config,
                    &recorder.data.train[k_index],
                    model,
                    &device,
                    &label,
                    0,
                    teacher_forced_loss,
                )?;
                let model =
                    recorder.score_seq2seq(config, name, k, seed, &trained, Selection::Soft)?;
                if k == longest_k && seed == config.seeds[0] {
                    recorder.add_alignment(&model, Selection::Soft, name, k, seed)?;
                }
            }
        }
    }
    recorder.finish()
}
