//! Teacher forcing: the decoder fed the reference target, one `step` per target word,
//! with one embedding product before the time loop and one readout product after it.

use burn::tensor::{Bool, Int, Tensor};

use super::{Selection, Seq2Seq, Seq2SeqOutput};
use crate::kernels::linear_steps;
use crate::rnn::split_steps;

impl Seq2Seq {
    /// Teacher-forced pass.
    ///
    /// - `src`: `[batch, src_len]`; `src_mask`: `[batch, src_len]`, true at real tokens.
    /// - `tgt_in`: `[batch, tgt_len]`, BOS followed by the target (shifted right).
    pub fn forward(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Seq2SeqOutput {
        self.forward_with(src, src_mask, tgt_in, Selection::Soft)
    }

    /// Teacher-forced pass with soft or hard attention; see [`Self::forward`].
    pub fn forward_with(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
        selection: Selection,
    ) -> Seq2SeqOutput {
        let tgt_len = tgt_in.dims()[1];
        let (memory, mut state) = self.start(src, src_mask);
        let embedded = self.tgt_embedding.forward(tgt_in); // [B, T, E]
        // One product for all steps, then both split into T steps (see `split_steps`).
        let gates = split_steps(linear_steps(&self.embed_gates, embedded.clone())); // T x [B, G*H]
        let embedded = split_steps(embedded); // T x [B, E]

        let mut readouts = Vec::with_capacity(tgt_len);
        let mut weights = Vec::with_capacity(tgt_len);
        let mut sample_log_probs = Vec::new();
        for (embed_t, gates_t) in embedded.into_iter().zip(gates) {
            let out = self.step(&memory, embed_t, gates_t, state, selection);
            state = out.state;
            readouts.push(out.readout_input);
            weights.extend(out.weights);
            sample_log_probs.extend(out.sample_log_prob);
        }
        // One readout product over all steps: [B, T, R] -> [B, T, V].
        let logits = linear_steps(&self.readout, Tensor::stack::<3>(readouts, 1));
        Seq2SeqOutput {
            logits,
            weights: (!weights.is_empty()).then(|| Tensor::stack(weights, 1)),
            sample_log_probs: (!sample_log_probs.is_empty())
                .then(|| Tensor::stack(sample_log_probs, 1)),
        }
    }
}
