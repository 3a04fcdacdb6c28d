//! Scoring: exact match, token accuracy and BLEU per source-length bucket (the rows of
//! `metrics.csv`), and the whole record of one trained cell.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Bool, Device, Int, Tensor};
use models::seq2seq::{Selection, Seq2Seq};
use plots::{MetricRow, TimingRow};

use super::decode::decode_all;
use super::{Config, TaskData, TaskSpec};
use crate::experiment::{Cell, CellRecord, Task};
use crate::training::Trained;

/// Scores hypotheses against the test set per source-length bucket and overall
/// (`len_lo = len_hi = 0`): exact match, token accuracy and BLEU, all on a 0-100 scale.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    config: &Config,
    experiment: &str,
    task: &TaskSpec,
    data: &TaskData,
    hyps: &[Vec<u32>],
    model: &str,
    k: usize,
    seed: u64,
) -> Vec<MetricRow> {
    // Reference words outside the vocabulary get an id no model can produce.
    let refs: Vec<Vec<u32>> = (data.test.iter().zip(&data.test_refs))
        .map(|((_, tgt), words)| {
            tgt.iter()
                .zip(words)
                .map(|(&id, word)| {
                    if data.tgt_vocab.token(id) == word {
                        id
                    } else {
                        u32::MAX
                    }
                })
                .collect()
        })
        .collect();
    let src_lens: Vec<usize> = data.test.iter().map(|(src, _)| src.len()).collect();
    let hyp_text: Vec<String> = hyps
        .iter()
        .map(|h| data.tgt_vocab.decode(h).join(" "))
        .collect();
    let ref_text: Vec<String> = data.test_refs.iter().map(|r| r.join(" ")).collect();

    let mut groups = vec![((0, 0), (0..refs.len()).collect::<Vec<_>>())];
    groups.extend(metrics::buckets::group_by_bucket(
        &src_lens,
        config.bucket_width,
    ));
    let mut rows = Vec::new();
    for ((lo, hi), idx) in groups {
        let pick = |v: &[Vec<u32>]| idx.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
        let h_text: Vec<&str> = idx.iter().map(|&i| hyp_text[i].as_str()).collect();
        let r_text: Vec<&str> = idx.iter().map(|&i| ref_text[i].as_str()).collect();
        let (h, r) = (pick(hyps), pick(&refs));
        let values = [
            (
                "exact_match",
                100.0 * metrics::accuracy::exact_match(&h, &r),
            ),
            (
                "token_accuracy",
                100.0 * metrics::accuracy::token_accuracy(&h, &r),
            ),
            ("bleu", metrics::bleu::corpus_bleu(&h_text, &r_text).score),
        ];
        for (metric, value) in values {
            rows.push(MetricRow {
                experiment: experiment.to_string(),
                task: task.name(),
                model: model.to_string(),
                train_max_len: k,
                seed,
                len_lo: lo,
                len_hi: hi,
                n: idx.len(),
                metric: metric.to_string(),
                value,
            });
        }
    }
    rows
}

/// The record of one trained cell: the test set decoded with `decode` (in chunks of `chunk`
/// sentences) and scored, the learning curve, and the timing.
#[allow(clippy::too_many_arguments)]
pub fn score_cell<M>(
    config: &Config,
    experiment: &str,
    task: &TaskSpec,
    data: &TaskData,
    cell: &Cell,
    trained: &Trained<M>,
    device: &Device,
    chunk: usize,
    decode: impl Fn(Tensor<2, Int>, Tensor<2, Bool>, usize) -> Vec<Vec<u32>>,
) -> CellRecord {
    let (name, k, seed) = (cell.variant.as_str(), cell.train_max_len, cell.seed);
    let start = Instant::now();
    let hyps = decode_all(&data.test, device, chunk, decode);
    let metrics = evaluate(config, experiment, task, data, &hyps, name, k, seed);
    CellRecord {
        metrics,
        curve: cell.curve_rows(&trained.curve),
        timing: Some(timing_row(
            cell,
            config.steps,
            trained.seconds,
            start.elapsed().as_secs_f64(),
        )),
        ..CellRecord::default()
    }
}

/// Scores an RNN encoder-decoder: greedy decoding with `selection`, or beam search when
/// `config.beam > 1`. Returns the record and the model without autodiff, for its alignment.
pub fn score_seq2seq(
    config: &Config,
    experiment: &str,
    task: &TaskSpec,
    data: &TaskData,
    cell: &Cell,
    trained: &Trained<Seq2Seq>,
    selection: Selection,
) -> (CellRecord, Seq2Seq) {
    let model = trained.model.valid();
    let device = model.device();
    let record = if config.beam > 1 {
        score_cell(
            config,
            experiment,
            task,
            data,
            cell,
            trained,
            &device,
            1,
            |src, mask, max_len| vec![model.beam_search(src, mask, config.beam, max_len)],
        )
    } else {
        score_cell(
            config,
            experiment,
            task,
            data,
            cell,
            trained,
            &device,
            config.eval_batch_size,
            |src, mask, max_len| model.greedy_with(src, mask, max_len, selection).tokens,
        )
    };
    (record, model)
}

/// A cell's line of `timings.csv`.
pub fn timing_row(cell: &Cell, steps: usize, train_seconds: f64, eval_seconds: f64) -> TimingRow {
    TimingRow {
        model: cell.variant.clone(),
        train_max_len: cell.train_max_len,
        seed: cell.seed,
        steps,
        train_seconds,
        ms_per_step: 1000.0 * train_seconds / steps.max(1) as f64,
        eval_seconds,
    }
}
