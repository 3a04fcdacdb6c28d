//! Attention modules and RNN sequence models on [Burn](https://burn.dev), backend-agnostic:
//! nothing here picks a backend or a device; every constructor takes the `Device` to use.
//!
//! - [`scores`]: the alignment scores: content (cosine), additive, location, general, dot,
//!   scaled dot, behind one [`scores::Score`] module.
//! - [`attention`]: the masked soft attention that turns scores into a context, returning the
//!   weights with it.
//! - [`rnn`]: GRU/LSTM cells with the input projection hoisted out of the time loop, and a
//!   uni- or bidirectional encoder that respects padding.
//! - [`seq2seq`]: RNNencdec (Cho et al. 2014) and RNNsearch (Bahdanau et al. 2015) with
//!   any score, Bahdanau's or Luong's arrangement, soft or hard attention, teacher forcing,
//!   greedy and beam-search decoding.
//! - [`vision`]: Show, Attend and Tell (Xu et al. 2015): a CNN encoder to a grid of annotation
//!   vectors, and an LSTM captioner with a mean-pooled, soft or hard attentive context.

pub mod attention;
mod beam;
pub mod kernels;
pub mod readers;
pub mod rnn;
pub mod scores;
pub mod seq2seq;
pub mod transformer;
pub mod vision;

pub use attention::{AttentionOutput, attend, masked_softmax};
pub use rnn::{CellKind, EncoderOutput, RnnEncoder, RnnEncoderConfig};
pub use scores::{Score, ScoreConfig, ScoreKind};
pub use seq2seq::{
    Architecture, Decoded, Seq2Seq, Seq2SeqConfig, Seq2SeqOutput, sequence_cross_entropy,
};
