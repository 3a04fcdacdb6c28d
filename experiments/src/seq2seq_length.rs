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

use anyhow::Context;
use burn::module::Module;
use models::seq2seq::{Architecture, Selection, sequence_cross_entropy};

use crate::common;
use crate::translation::{
    Config, TaskSpec, Timings, cross_entropy_loss, decode_alignment, decode_all, evaluate,
    load_data, seq2seq_model, train,
};

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
    let dir = out_dir.join(task.name());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    common::write_config(&dir, config)?;

    let data = load_data(config, task, data_dir)?;
    eprintln!(
        "{EXPERIMENT} / {}: vocab {} -> {}, train {:?} pairs, test {} pairs, {} backend",
        task.name(),
        data.src_vocab.len(),
        data.tgt_vocab.len(),
        data.train.iter().map(Vec::len).collect::<Vec<_>>(),
        data.test.len(),
        harness::backend_name(),
    );

    let mut rows = Vec::new();
    let mut timings = Timings::default();
    let longest_k = config.longest_train_len();
    for (k_index, &k) in config.train_max_lens.iter().enumerate() {
        for architecture in [Architecture::RnnEncDec, Architecture::RnnSearch] {
            for &seed in &config.seeds {
                let name = architecture.name();
                let device = harness::device(seed)?;
                let model = seq2seq_model(config, &data, architecture).init(&device);
                let trained = train(
                    config,
                    &data.train[k_index],
                    model,
                    &device,
                    &format!("{name}-{k} seed {seed}"),
                    0,
                    |m, b| {
                        cross_entropy_loss(sequence_cross_entropy(
                            m.forward(b.src.clone(), b.mask.clone(), b.tgt_in.clone())
                                .logits,
                            b.tgt_out.clone(),
                        ))
                    },
                )?;
                let model = trained.model.valid();
                let eval_start = std::time::Instant::now();
                let eval_device = model.device();
                let hyps = if config.beam > 1 {
                    decode_all(&data.test, &eval_device, 1, |src, mask, max_len| {
                        vec![model.beam_search(src, mask, config.beam, max_len)]
                    })
                } else {
                    decode_all(
                        &data.test,
                        &eval_device,
                        config.eval_batch_size,
                        |src, mask, max_len| model.greedy(src, mask, max_len).tokens,
                    )
                };
                rows.extend(evaluate(
                    config, EXPERIMENT, task, &data, &hyps, name, k, seed,
                ));
                timings.push(
                    name,
                    k,
                    seed,
                    config.steps,
                    trained.seconds,
                    eval_start.elapsed().as_secs_f64(),
                );
                if k == longest_k && seed == config.seeds[0] {
                    if let Some(alignment) =
                        decode_alignment(&data, &model, Selection::Soft, name, k, seed)
                    {
                        plots::write_alignment_csv(&dir.join(plots::ALIGNMENT_FILE), &alignment)?;
                    }
                }
                // Written after every run, so a killed run keeps what it finished.
                plots::write_metrics_csv(&dir.join(plots::METRICS_FILE), &rows)?;
            }
        }
    }
    timings.write(&dir)?;
    for path in plots::redraw_results_dir(&dir)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(dir)
}
