//! Image models: the convolutional encoder that turns an image into a grid of annotation
//! vectors, and the attentive caption generator that reads them (Xu et al. 2015, "Show,
//! Attend and Tell: Neural Image Caption Generation with Visual Attention", ICML).
//!
//! Data flows as in the paper's Fig. 1:
//!
//! ```text
//! images [B, 3, H, W] --ImageEncoder--> annotations a [B, L = G·G, D] --Captioner--> logits [B, T, V]
//!                                                                          and weights α [B, T, L]
//! ```
//!
//! - [`cnn`]: [`ImageEncoder`], a few conv + ReLU + max-pool blocks whose last feature map is
//!   the annotation grid, with a multi-label head for pretraining and a switch to freeze it.
//! - [`captioner`]: [`Captioner`], an LSTM decoder with Xu's deep output layer whose context
//!   is the mean annotation ([`ContextKind::None`]), soft attention ([`ContextKind::Soft`]) or
//!   hard, sampled attention ([`ContextKind::Hard`]); teacher forcing, greedy decoding and
//!   beam search.

pub mod captioner;
pub mod cnn;

pub use captioner::{
    Caption, Captioner, CaptionerConfig, CaptionerOutput, ContextKind, attention_entropy,
    doubly_stochastic_penalty,
};
pub use cnn::{EncoderTuning, ImageEncoder, ImageEncoderConfig, multilabel_loss};
