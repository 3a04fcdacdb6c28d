//! The host side of beam search, shared by every decoder that searches: extending the live
//! hypotheses by one word and retiring those that end.

use crate::seq2seq::EOS;

/// A hypothesis: its words (no BOS, no EOS) and its summed log-probability.
pub(crate) type Hypothesis = (Vec<u32>, f32);

/// Extends the `live` hypotheses by one word each, keeping the best `width` of all
/// (hypothesis, word) pairs (ties: the earlier hypothesis, then the lower word id).
///
/// - `log_probs`: `[live.len(), vocab]` row-major, the next word's log-probabilities.
/// - A pair that ends in EOS moves to `finished` with its score divided by its length
///   (EOS counted), so long and short captions compete fairly.
///
/// Returns the hypotheses still live and, for each, the row of `live` it extends (to select
/// the decoder states with).
pub(crate) fn extend_beams(
    live: &[Hypothesis],
    log_probs: &[f32],
    width: usize,
    finished: &mut Vec<Hypothesis>,
) -> (Vec<Hypothesis>, Vec<i64>) {
    let vocab = log_probs.len() / live.len();
    let mut candidates: Vec<(usize, usize, f32)> = Vec::with_capacity(live.len() * vocab);
    for (row, (_, score)) in live.iter().enumerate() {
        for word in 0..vocab {
            candidates.push((row, word, score + log_probs[row * vocab + word]));
        }
    }
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let mut next_live = Vec::with_capacity(width);
    let mut parents = Vec::with_capacity(width);
    for &(row, word, score) in candidates.iter().take(width) {
        let mut words = live[row].0.clone();
        if word as u32 == EOS {
            let len = words.len() as f32 + 1.0;
            finished.push((words, score / len));
        } else {
            words.push(word as u32);
            next_live.push((words, score));
            parents.push(row as i64);
        }
    }
    (next_live, parents)
}
