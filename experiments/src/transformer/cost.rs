//! The cost part: the wall-clock time of one training step and of greedy decoding per
//! sentence, of freshly initialized models, against sequence length (`cost.csv`).

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams, grad_clipping::GradientClippingConfig};
use burn::tensor::Device;
use datasets::batch::make_batch;
use datasets::synthetic::SyntheticTask;
use datasets::vocab::Vocab;
use models::seq2seq::{ids_tensor, mask_tensor};
use plots::CostRow;

use super::translator::{Translator, batch_loss};
use super::{Config, MODELS, TransformerExperiment, rnn_architecture, transformer_model};
use crate::bench_timing::median;
use crate::experiment::{CellRecord, Experiment};
use crate::seq2seq::{BatchTensors, TaskData, seq2seq_model};

/// The `measure` column of `cost.csv` for one training step.
pub const TRAIN_STEP: &str = "train_step";
/// The `measure` column of `cost.csv` for greedy decoding of one sentence.
pub const DECODE_SENTENCE: &str = "decode_sentence";

/// The cost cell of one length: every model timed on random reverse batches of exactly
/// `len` tokens. Seeded with `seed`: initialization does not change the cost, but the run
/// stays deterministic apart from the clock.
pub fn measure_length(config: &Config, len: usize, seed: u64) -> anyhow::Result<CellRecord> {
    let base = &config.base;
    if Some(&len) == config.cost_lengths.first() {
        eprintln!(
            "{} / cost: batches of {} reverse sentences, lengths {:?}, median of {} after a warm-up, {} backend (wall clock: not reproducible)",
            TransformerExperiment::NAME,
            base.batch_size,
            config.cost_lengths,
            config.cost_repeats,
            harness::backend_name(),
        );
    }
    // The reverse task's alphabet on both sides, the same vocabulary at every length.
    let alphabet: Vec<String> = (b'a'..b'z' + 1).map(|c| (c as char).to_string()).collect();
    let vocab = Vocab::build([alphabet.as_slice()], usize::MAX);
    let data = TaskData {
        src_vocab: vocab.clone(),
        tgt_vocab: vocab.clone(),
        train: Vec::new(),
        test: Vec::new(),
        test_refs: Vec::new(),
    };
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = datasets::synthetic::generate(
        SyntheticTask::Reverse,
        base.batch_size,
        len,
        len,
        7_000 + len as u64,
    )
    .iter()
    .map(|p| (vocab.encode(&p.src), vocab.encode(&p.tgt)))
    .collect();
    let mut rows = Vec::new();
    let mut line = format!("cost L={len}:");
    for name in MODELS {
        let device = harness::device(seed)?;
        let (train_ms, decode_ms) = if name == "Transformer" {
            let model = transformer_model(config, &data).init(&device);
            measure(config, model, &pairs, &device)?
        } else {
            let model = seq2seq_model(base, &data, rnn_architecture(name)).init(&device);
            measure(config, model, &pairs, &device)?
        };
        for (measure, median_ms) in [(TRAIN_STEP, train_ms), (DECODE_SENTENCE, decode_ms)] {
            rows.push(CostRow {
                model: name.to_string(),
                seq_len: len,
                measure: measure.to_string(),
                median_ms,
                repeats: config.cost_repeats,
            });
        }
        line += &format!(" {name} train {train_ms:.1} ms, decode {decode_ms:.2} ms/sentence;");
    }
    eprintln!("{}", line.trim_end_matches(';'));
    Ok(CellRecord {
        cost: rows,
        ..CellRecord::default()
    })
}

/// Times one model at one length: the median milliseconds of a training step and of greedy
/// decoding per sentence, each over `cost_repeats` runs after one warm-up.
///
/// Decoding runs for `len + 1` steps at most (the reverse output and its EOS), the length
/// a trained model would produce, so the untrained model does not run on to `max_len`.
fn measure<M: Translator>(
    config: &Config,
    mut model: M,
    pairs: &[(Vec<u32>, Vec<u32>)],
    device: &Device,
) -> anyhow::Result<(f64, f64)> {
    let batch = make_batch(pairs);
    let rows = batch.batch_size;
    let tensors = BatchTensors {
        src: ids_tensor(&batch.src, rows, batch.src_max, device),
        mask: mask_tensor(&batch.src_mask(), rows, batch.src_max, device),
        tgt_in: ids_tensor(&batch.tgt_in, rows, batch.tgt_max, device),
        tgt_out: ids_tensor(&batch.tgt_out, rows, batch.tgt_max, device),
    };
    let sync = |device: &Device| {
        device
            .sync()
            .map_err(|e| anyhow::anyhow!("device failed while timing: {e:?}"))
    };
    // Training steps: the optimizer of the shared loop (Adam with norm clipping).
    let mut optimizer = AdamConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(
            config.base.grad_clip as f32,
        )))
        .init();
    let mut train_ms = Vec::with_capacity(config.cost_repeats);
    for repeat in 0..=config.cost_repeats {
        let start = Instant::now();
        let loss = batch_loss(&model, &tensors);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(config.base.learning_rate, model, grads);
        sync(device)?;
        if repeat > 0 {
            train_ms.push(1000.0 * start.elapsed().as_secs_f64());
        }
    }
    // Decoding, without autodiff, the whole batch at once.
    let model = model.valid();
    let plain = device.clone().without_autodiff();
    let src = ids_tensor(&batch.src, rows, batch.src_max, &plain);
    let mask = mask_tensor(&batch.src_mask(), rows, batch.src_max, &plain);
    let steps = batch.tgt_max; // target + EOS
    let mut decode_ms = Vec::with_capacity(config.cost_repeats);
    for repeat in 0..=config.cost_repeats {
        let start = Instant::now();
        let tokens = model.decode(src.clone(), mask.clone(), steps);
        sync(&plain)?;
        debug_assert_eq!(tokens.len(), rows);
        if repeat > 0 {
            decode_ms.push(1000.0 * start.elapsed().as_secs_f64() / rows as f64);
        }
    }
    Ok((median(train_ms), median(decode_ms)))
}
