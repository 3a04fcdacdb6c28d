//! The decoder's one step, shared by teacher forcing, greedy decoding and beam search:
//! the per-sentence memory it reads, the state it carries, and where the context comes
//! from (the fixed summary, or attention before or after the RNN step).

use burn::tensor::activation::tanh;
use burn::tensor::{Bool, Int, Tensor};

use super::{Selection, Seq2Seq};
use crate::attention::{AttentionOutput, attend, masked_softmax, sample_positions};
use crate::kernels::linear;
use crate::rnn::{EncoderOutput, RecurrentState};

/// Per-sequence tensors the decoder reuses at every step.
pub(super) struct DecoderMemory {
    annotations: Tensor<3>,
    mask: Tensor<2, Bool>,
    /// The keys as the score reads them (`U h` for additive).
    prepared_keys: Option<Tensor<3>>,
    /// The fixed context `c` and its gate contribution, for RNNencdec.
    summary: Tensor<2>,
    summary_gates: Tensor<2>,
}

impl DecoderMemory {
    pub(super) fn select_rows(&self, index: Tensor<1, Int>) -> DecoderMemory {
        DecoderMemory {
            annotations: self.annotations.clone().select(0, index.clone()),
            mask: self.mask.clone().select(0, index.clone()),
            prepared_keys: self
                .prepared_keys
                .clone()
                .map(|k| k.select(0, index.clone())),
            summary: self.summary.clone().select(0, index.clone()),
            summary_gates: self.summary_gates.clone().select(0, index),
        }
    }
}

/// The decoder's state between steps.
#[derive(Clone, Debug)]
pub(super) struct DecoderState {
    rnn: RecurrentState,
    /// Luong's attentional vector `h̃_{t-1}` `[batch, d_decoder]`, fed to the next step.
    attentional: Option<Tensor<2>>,
}

impl DecoderState {
    pub(super) fn select_rows(self, index: Tensor<1, Int>) -> DecoderState {
        DecoderState {
            rnn: self.rnn.select_rows(index.clone()),
            attentional: self.attentional.map(|a| a.select(0, index)),
        }
    }
}

/// One decoder step's output.
pub(super) struct StepOutput {
    pub(super) state: DecoderState,
    /// The readout's input: Bahdanau `[batch, d_decoder + d_embed + d_annotation]`,
    /// Luong `[batch, d_decoder]`.
    pub(super) readout_input: Tensor<2>,
    /// `[batch, src_len]` (RNNsearch only).
    pub(super) weights: Option<Tensor<2>>,
    /// `[batch]`, log α of the sampled position ([`Selection::Sample`] only).
    pub(super) sample_log_prob: Option<Tensor<1>>,
}

impl Seq2Seq {
    /// Encodes and builds the initial decoder state `s_0 = tanh(W_init c)`.
    pub(super) fn start(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
    ) -> (DecoderMemory, DecoderState) {
        let EncoderOutput {
            annotations,
            summary,
            mask,
        } = self.encoder.forward(src, src_mask);
        let rnn = self
            .cell
            .state_from_hidden(tanh(linear(&self.init_state, summary.clone())));
        // Luong's h̃_0: no attention has happened yet.
        let attentional = self.combine.as_ref().map(|_| rnn.h.zeros_like());
        let state = DecoderState { rnn, attentional };
        let memory = DecoderMemory {
            prepared_keys: self
                .attention
                .as_ref()
                .map(|score| score.prepare(annotations.clone())),
            summary_gates: linear(&self.context_gates, summary.clone()),
            annotations,
            mask,
            summary,
        };
        (memory, state)
    }

    /// One decoder step from `s_{t-1}` and the previous word.
    ///
    /// - `embed_t`: `[batch, d_embed]`, `E y_{t-1}`; `gates_t`: its gate projection.
    pub(super) fn step(
        &self,
        memory: &DecoderMemory,
        embed_t: Tensor<2>,
        gates_t: Tensor<2>,
        state: DecoderState,
        selection: Selection,
    ) -> StepOutput {
        let (score, keys) = match (&self.attention, &memory.prepared_keys) {
            (Some(score), Some(keys)) => (score, keys),
            _ => {
                // RNNencdec: the fixed summary is the context at every step.
                let rnn = self
                    .cell
                    .step(gates_t + memory.summary_gates.clone(), state.rnn);
                let readout_input =
                    Tensor::cat(vec![rnn.h.clone(), embed_t, memory.summary.clone()], 1);
                return StepOutput {
                    state: DecoderState {
                        rnn,
                        attentional: None,
                    },
                    readout_input,
                    weights: None,
                    sample_log_prob: None,
                };
            }
        };
        match (&self.combine, state.attentional) {
            (Some(combine), Some(previous)) => {
                // Luong: step first (input feeding h̃_{t-1}), then align with s_t.
                let rnn = self
                    .cell
                    .step(gates_t + linear(&self.context_gates, previous), state.rnn);
                let scores = score.scores(rnn.h.clone(), keys);
                // Local-p attention is soft by construction; it ignores `selection`.
                let (out, sample_log_prob) = match &self.local {
                    Some(local) => {
                        let mask = memory.mask.clone();
                        (
                            local.attend(scores, rnn.h.clone(), mask, &memory.annotations),
                            None,
                        )
                    }
                    None => self.select(scores, memory, selection),
                };
                let attentional = tanh(linear(
                    combine,
                    Tensor::cat(vec![out.context, rnn.h.clone()], 1),
                ));
                StepOutput {
                    state: DecoderState {
                        rnn,
                        attentional: Some(attentional.clone()),
                    },
                    readout_input: attentional,
                    weights: Some(out.weights),
                    sample_log_prob,
                }
            }
            _ => {
                // Bahdanau: align with the *previous* state s_{t-1}, before the RNN step.
                let (out, sample_log_prob) =
                    self.select(score.scores(state.rnn.h.clone(), keys), memory, selection);
                let context_gates = linear(&self.context_gates, out.context.clone());
                let rnn = self.cell.step(gates_t + context_gates, state.rnn);
                let readout_input = Tensor::cat(vec![rnn.h.clone(), embed_t, out.context], 1);
                StepOutput {
                    state: DecoderState {
                        rnn,
                        attentional: None,
                    },
                    readout_input,
                    weights: Some(out.weights),
                    sample_log_prob,
                }
            }
        }
    }

    /// Turns scores into a context: soft, or one sampled or most probable position.
    /// Returns the context with the weights α, and for [`Selection::Sample`] `log α_i` of the
    /// sampled position `[batch]` (the REINFORCE term's log-probability).
    fn select(
        &self,
        scores: Tensor<2>,
        memory: &DecoderMemory,
        selection: Selection,
    ) -> (AttentionOutput, Option<Tensor<1>>) {
        if selection == Selection::Soft {
            return (
                attend(scores, memory.mask.clone(), &memory.annotations),
                None,
            );
        }
        let [batch, _, d_value] = memory.annotations.dims();
        let weights = masked_softmax(scores, memory.mask.clone()); // [B, S]
        let position = match selection {
            // Sampling is not differentiable: draw from detached weights.
            Selection::Sample => sample_positions(weights.clone()), // [B, 1]
            _ => weights.clone().argmax(1),                         // [B, 1]
        };
        let index = position
            .clone()
            .reshape([batch, 1, 1])
            .expand([batch, 1, d_value]);
        let context = memory
            .annotations
            .clone()
            .gather(1, index)
            .reshape([batch, d_value]);
        let log_prob = (selection == Selection::Sample).then(|| {
            weights
                .clone()
                .gather(1, position)
                .clamp_min(1e-12)
                .log()
                .reshape([batch])
        });
        (AttentionOutput { context, weights }, log_prob)
    }

    /// Logits of one step from its readout input: `[batch, R] -> [batch, V]`.
    pub(super) fn step_logits(&self, readout_input: Tensor<2>) -> Tensor<2> {
        linear(&self.readout, readout_input)
    }

    /// Embeds one token per row: `[batch]` ids -> (`[batch, E]`, `[batch, G*H]`).
    pub(super) fn embed_step(&self, tokens: Tensor<1, Int>) -> (Tensor<2>, Tensor<2>) {
        let [batch] = tokens.dims();
        let embed = self
            .tgt_embedding
            .forward(tokens.reshape([batch, 1]))
            .reshape([batch, self.tgt_embedding.weight.dims()[1]]);
        let gates = linear(&self.embed_gates, embed.clone());
        (embed, gates)
    }
}
