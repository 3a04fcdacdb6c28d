//! RNN encoder-decoders: the fixed-context RNNencdec (Cho et al. 2014) and the attentive
//! RNNsearch (Bahdanau et al. 2015), sharing one encoder, one decoder cell and one step
//! function, so the two differ in exactly one place: where the context comes from.
//!
//! The attentive decoder takes any alignment [`Score`] and either arrangement:
//! [`Arrangement::Bahdanau`] attends with the previous state `s_{t-1}` before the RNN step and
//! feeds the context to the RNN and the readout; [`Arrangement::Luong`] attends with the new
//! state `s_t` after the step, combines `h̃_t = tanh(W_c [c_t; s_t])`, reads out from `h̃_t`,
//! and feeds `h̃_t` into the next step's input ("input feeding", Luong et al. 2015, §3.3).
//! The context is soft (the expectation under the weights) or hard (one sampled position,
//! Xu et al. 2015), chosen per call by [`Selection`].
//!
//! Departures from the papers (all for speed on small data, none changes the comparison):
//! a single-layer readout instead of the maxout deep output; embeddings of 64 and hidden
//! sizes of 128/256 instead of 620/1000; both models use the same bidirectional encoder
//! (Bahdanau's RNNencdec reads in one direction only), so the *only* difference left is
//! the attention.
//!
//! - `decoder_step`: the per-sentence memory, the decoder state and the one `step` function.
//! - `forward`: teacher forcing.
//! - `decode`: greedy decoding and beam search.
//! - `loss`: [`sequence_cross_entropy`].
//! - `input`: [`ids_tensor`] and [`mask_tensor`], id and mask tensors from plain slices.

mod decode;
mod decoder_step;
mod forward;
mod input;
mod loss;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::attention::PredictiveAlignment;
use crate::rnn::{Cell, CellConfig, CellKind, RnnEncoder, RnnEncoderConfig};
use crate::scores::{Score, ScoreConfig, ScoreKind};

pub(crate) use decode::{all_finished, tokens_until_eos};
pub use input::{ids_tensor, mask_tensor};
pub use loss::sequence_cross_entropy;

/// Beginning-of-sentence id fed as the first decoder input (matches `datasets::vocab::BOS`).
pub const BOS: u32 = 1;
/// End-of-sentence id (matches `datasets::vocab::EOS`).
pub const EOS: u32 = 2;
/// Padding id (matches `datasets::vocab::PAD`).
pub const PAD: u32 = 0;

/// Which encoder-decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Architecture {
    /// Cho et al. 2014: the encoder's final states, one fixed vector, initialize the decoder
    /// and are fed at every step and to the readout.
    RnnEncDec,
    /// Bahdanau et al. 2015: a fresh context at every step from additive attention over all
    /// annotations.
    RnnSearch,
}

impl Architecture {
    /// The paper's name, used in CSVs and legends.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::RnnEncDec => "RNNencdec",
            Architecture::RnnSearch => "RNNsearch",
        }
    }
}

/// Where attention sits relative to the decoder's RNN step (RNNsearch only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrangement {
    /// Attend with `s_{t-1}`, before the step (Bahdanau et al. 2015).
    Bahdanau,
    /// Attend with `s_t`, after the step, with input feeding (Luong et al. 2015).
    Luong,
}

/// How a context is made from the attention weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// The expectation `Σ_i α_i h_i` (deterministic, differentiable).
    Soft,
    /// One position sampled from `α` per row, `h_i` itself (Xu et al. 2015, training).
    Sample,
    /// The most probable position (Xu et al. 2015, test time).
    Argmax,
}

/// Configuration of a [`Seq2Seq`] model.
#[derive(Config, Debug)]
pub struct Seq2SeqConfig {
    /// RNNencdec or RNNsearch.
    pub architecture: Architecture,
    /// Source vocabulary size.
    pub src_vocab: usize,
    /// Target vocabulary size.
    pub tgt_vocab: usize,
    /// Embedding size (source and target). 64: enough for vocabularies of a few thousand.
    #[config(default = 64)]
    pub d_embed: usize,
    /// Encoder hidden size per direction.
    #[config(default = 128)]
    pub d_encoder: usize,
    /// Decoder hidden size.
    #[config(default = 256)]
    pub d_decoder: usize,
    /// Hidden size of the additive alignment model (RNNsearch only).
    #[config(default = 256)]
    pub d_attention: usize,
    /// The alignment score (RNNsearch only).
    #[config(default = "ScoreKind::Additive")]
    pub score: ScoreKind,
    /// Where attention sits relative to the RNN step (RNNsearch only).
    #[config(default = "Arrangement::Bahdanau")]
    pub arrangement: Arrangement,
    /// Longest source (EOS included) the location score can address.
    #[config(default = 64)]
    pub max_src_len: usize,
    /// Luong's local-p attention with this half-window D (Luong arrangement only; 0: global
    /// attention over the whole sentence).
    #[config(default = 0)]
    pub local_window: usize,
    /// GRU or LSTM, encoder and decoder alike.
    #[config(default = "CellKind::Gru")]
    pub cell: CellKind,
    /// Bidirectional encoder.
    #[config(default = true)]
    pub bidirectional: bool,
}

/// An RNN encoder-decoder; see the module docs.
#[derive(Module, Debug)]
pub struct Seq2Seq {
    /// Source embedding and recurrent reader(s).
    pub encoder: RnnEncoder,
    /// Target embedding.
    pub tgt_embedding: Embedding,
    /// `s_0 = tanh(W_init c)`, from the encoder summary.
    pub init_state: Linear,
    /// Previous-word embedding to decoder gates (bias here), run once over all steps in
    /// teacher forcing.
    pub embed_gates: Linear,
    /// Context to decoder gates (no bias); with the Luong arrangement, `h̃_{t-1}` to gates.
    pub context_gates: Linear,
    /// The decoder's recurrent cell.
    pub cell: Cell,
    /// The alignment score; `None` for RNNencdec, whose context is the fixed summary.
    pub attention: Option<Score>,
    /// Luong's `W_c`: `[c_t; s_t] -> h̃_t`; `None` in the Bahdanau arrangement.
    pub combine: Option<Linear>,
    /// Bahdanau: `[s_t; E y_{t-1}; c_t] -> logits`; Luong: `h̃_t -> logits`.
    pub readout: Linear,
    /// Luong's local-p position predictor; `None` for global attention.
    pub local: Option<PredictiveAlignment>,
}

/// Teacher-forced output.
#[derive(Clone, Debug)]
pub struct Seq2SeqOutput {
    /// `[batch, tgt_len, tgt_vocab]` unnormalized scores.
    pub logits: Tensor<3>,
    /// `[batch, tgt_len, src_len]` attention weights (RNNsearch only).
    pub weights: Option<Tensor<3>>,
    /// `[batch, tgt_len]` log-probability of the sampled position at each step
    /// ([`Selection::Sample`] only), for REINFORCE.
    pub sample_log_probs: Option<Tensor<2>>,
}

/// What decoding returns.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// One token sequence per row, EOS and everything after it removed.
    pub tokens: Vec<Vec<u32>>,
    /// `[batch, steps, src_len]` attention weights of every step (RNNsearch only).
    pub weights: Option<Tensor<3>>,
}

impl Seq2SeqConfig {
    /// Creates the model.
    pub fn init(&self, device: &Device) -> Seq2Seq {
        let encoder_config = RnnEncoderConfig::new(self.src_vocab)
            .with_d_embed(self.d_embed)
            .with_d_hidden(self.d_encoder)
            .with_cell(self.cell)
            .with_bidirectional(self.bidirectional);
        let d_ann = encoder_config.d_annotation();
        let cell = CellConfig::new(self.cell, self.d_decoder);
        let luong =
            self.architecture == Architecture::RnnSearch && self.arrangement == Arrangement::Luong;
        // What feeds the gates besides the word: the context (Bahdanau, RNNencdec) or h̃_{t-1}.
        let d_feed = if luong { self.d_decoder } else { d_ann };
        let d_readout = if luong {
            self.d_decoder
        } else {
            self.d_decoder + self.d_embed + d_ann
        };
        Seq2Seq {
            encoder: encoder_config.init(device),
            tgt_embedding: EmbeddingConfig::new(self.tgt_vocab, self.d_embed).init(device),
            init_state: LinearConfig::new(d_ann, self.d_decoder).init(device),
            embed_gates: cell.init_input_gates(self.d_embed, device),
            context_gates: LinearConfig::new(d_feed, self.cell.gates() * self.d_decoder)
                .with_bias(false)
                .init(device),
            cell: cell.init(device),
            attention: match self.architecture {
                Architecture::RnnEncDec => None,
                Architecture::RnnSearch => Some(
                    ScoreConfig::new(self.score, self.d_decoder, d_ann)
                        .with_d_attention(self.d_attention)
                        .with_max_src_len(self.max_src_len)
                        .init(device),
                ),
            },
            combine: luong.then(|| {
                LinearConfig::new(d_ann + self.d_decoder, self.d_decoder)
                    .with_bias(false)
                    .init(device)
            }),
            readout: LinearConfig::new(d_readout, self.tgt_vocab).init(device),
            // Last, so adding it leaves the random draws of every other parameter unchanged.
            local: (luong && self.local_window > 0)
                .then(|| PredictiveAlignment::new(self.d_decoder, self.local_window, device)),
        }
    }
}

impl Seq2Seq {
    /// RNNencdec or RNNsearch.
    pub fn architecture(&self) -> Architecture {
        match self.attention {
            None => Architecture::RnnEncDec,
            Some(_) => Architecture::RnnSearch,
        }
    }

    /// The device the parameters live on (plain, without autodiff, after `valid()`).
    pub fn device(&self) -> Device {
        self.tgt_embedding.weight.val().device()
    }
}
