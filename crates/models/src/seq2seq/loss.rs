//! The training loss of a sequence-to-sequence model.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

use super::PAD;

/// Mean cross-entropy over real target positions (PAD positions excluded).
///
/// - `logits`: `[batch, tgt_len, vocab]`; `targets`: `[batch, tgt_len]`.
/// - returns a one-element tensor.
pub fn sequence_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    let [batch, tgt_len, vocab] = logits.dims();
    let log_probs = log_softmax(logits.reshape([batch * tgt_len, vocab]), 1);
    let targets = targets.reshape([batch * tgt_len, 1]);
    let real = targets.clone().not_equal_elem(PAD as i64).float(); // [B*T, 1]
    let picked = log_probs.gather(1, targets); // [B*T, 1]
    let total = (picked * real.clone()).sum().neg();
    total / real.sum()
}
