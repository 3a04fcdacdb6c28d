//! Decoding: a whole test set in length-sorted chunks, and the attention of one sentence
//! (the rows of `alignment.csv`).

use burn::tensor::{Bool, Device, Int, Tensor};
use datasets::batch::make_batch;
use models::seq2seq::{Selection, Seq2Seq, ids_tensor, mask_tensor};
use plots::AlignmentRow;

use super::TaskData;
use crate::experiment::Cell;

/// Decodes every pair's source in length-sorted chunks of `chunk` sentences (1 for beam
/// search) with `decode(src [B, S], mask [B, S], max_len)`.
pub fn decode_all(
    pairs: &[(Vec<u32>, Vec<u32>)],
    device: &Device,
    chunk: usize,
    decode: impl Fn(Tensor<2, Int>, Tensor<2, Bool>, usize) -> Vec<Vec<u32>>,
) -> Vec<Vec<u32>> {
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&i| pairs[i].0.len());
    let mut hyps = vec![Vec::new(); pairs.len()];
    for idx in order.chunks(chunk.max(1)) {
        let examples: Vec<_> = idx.iter().map(|&i| pairs[i].clone()).collect();
        let batch = make_batch(&examples);
        let b = batch.batch_size;
        let src = ids_tensor(&batch.src, b, batch.src_max, device);
        let mask = mask_tensor(&batch.src_mask(), b, batch.src_max, device);
        for (&i, tokens) in idx
            .iter()
            .zip(decode(src, mask, max_decode_len(batch.src_max)))
        {
            hyps[i] = tokens;
        }
    }
    hyps
}

/// Room for outputs longer than the source (translation), bounded so a model that never
/// says EOS cannot run away.
pub fn max_decode_len(src_len: usize) -> usize {
    2 * src_len + 10
}

/// The attention of `model` on one test sentence, as rows of `alignment.csv`: the longest
/// sentence within the training range `k`, so the output is meaningful (Bahdanau et al.,
/// Fig. 3, show such sentences); every model of a run gets the same one. `None` for a model
/// without attention or a test set without such a sentence.
pub fn decode_alignment(
    data: &TaskData,
    model: &Seq2Seq,
    selection: Selection,
    cell: &Cell,
) -> Option<Vec<AlignmentRow>> {
    let (name, k, seed) = (cell.variant.as_str(), cell.train_max_len, cell.seed);
    let (src, _) = data
        .test
        .iter()
        .filter(|(src, _)| src.len() <= k)
        .max_by_key(|(src, _)| src.len())?;
    let device = model.device();
    let len = src.len() + 1; // with EOS
    let ids: Vec<u32> = src.iter().copied().chain([datasets::vocab::EOS]).collect();
    let decoded = model.greedy_with(
        ids_tensor(&ids, 1, len, &device),
        mask_tensor(&vec![true; len], 1, len, &device),
        max_decode_len(len),
        selection,
    );
    let weights: Vec<f32> = decoded.weights?.into_data().iter::<f32>().collect();
    Some(alignment_rows(
        data,
        name,
        k,
        seed,
        src,
        &decoded.tokens[0],
        &weights,
    ))
}

/// Rows of `alignment.csv` for one decoded sentence.
///
/// - `src`: the source ids (without EOS); `output`: the produced ids (without EOS).
/// - `weights`: `[steps, src_len]` row-major, `src_len` = source + EOS.
fn alignment_rows(
    data: &TaskData,
    model: &str,
    k: usize,
    seed: u64,
    src: &[u32],
    output: &[u32],
    weights: &[f32],
) -> Vec<AlignmentRow> {
    // Rows: the produced words and the final EOS; columns: the source and its EOS.
    let mut tgt_tokens: Vec<String> = output
        .iter()
        .map(|&id| data.tgt_vocab.token(id).to_string())
        .collect();
    tgt_tokens.push(data.tgt_vocab.token(datasets::vocab::EOS).to_string());
    let mut src_tokens: Vec<String> = src
        .iter()
        .map(|&id| data.src_vocab.token(id).to_string())
        .collect();
    src_tokens.push(data.src_vocab.token(datasets::vocab::EOS).to_string());
    let src_len = src_tokens.len();
    let steps = weights.len() / src_len;
    let mut rows = Vec::new();
    for (t, tgt_token) in tgt_tokens.iter().enumerate().take(steps) {
        for (s, src_token) in src_tokens.iter().enumerate() {
            rows.push(AlignmentRow {
                model: model.to_string(),
                train_max_len: k,
                seed,
                tgt_pos: t,
                tgt_token: tgt_token.clone(),
                src_pos: s,
                src_token: src_token.clone(),
                weight: weights[t * src_len + s] as f64,
            });
        }
    }
    rows
}
