//! What the experiment needs of a sequence-to-sequence model, so training, scoring and
//! timing are written once for RNNencdec, RNNsearch and the Transformer.

use burn::module::Module;
use burn::tensor::{Bool, Int, Tensor};
use models::seq2seq::{Seq2Seq, sequence_cross_entropy};
use models::transformer::TransformerSeq2Seq;

use crate::seq2seq::BatchTensors;

/// What the experiment needs of a sequence-to-sequence model, so training, scoring and
/// timing are written once for all three.
pub trait Translator: Module {
    /// Teacher-forced logits `[batch, tgt_len, tgt_vocab]`.
    fn logits(
        &self,
        src: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Tensor<3>;
    /// Greedy decoding, one token list per row, EOS removed.
    fn decode(&self, src: Tensor<2, Int>, mask: Tensor<2, Bool>, max_len: usize) -> Vec<Vec<u32>>;
}

impl Translator for Seq2Seq {
    fn logits(
        &self,
        src: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Tensor<3> {
        self.forward(src, mask, tgt_in).logits
    }
    fn decode(&self, src: Tensor<2, Int>, mask: Tensor<2, Bool>, max_len: usize) -> Vec<Vec<u32>> {
        self.greedy(src, mask, max_len).tokens
    }
}

impl Translator for TransformerSeq2Seq {
    fn logits(
        &self,
        src: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Tensor<3> {
        self.forward(src, mask, tgt_in).logits
    }
    fn decode(&self, src: Tensor<2, Int>, mask: Tensor<2, Bool>, max_len: usize) -> Vec<Vec<u32>> {
        self.greedy(src, mask, max_len).tokens
    }
}

/// The mean token cross-entropy of a batch under teacher forcing: one-element tensor.
pub fn batch_loss<M: Translator>(model: &M, batch: &BatchTensors) -> Tensor<1> {
    sequence_cross_entropy(
        model.logits(batch.src.clone(), batch.mask.clone(), batch.tgt_in.clone()),
        batch.tgt_out.clone(),
    )
}
