//! The Transformer encoder-decoder (Vaswani et al. 2017, "Attention Is All You Need"): no
//! recurrence, every position attends to every other in one step, so a layer costs
//! `O(n²·d)` but runs all positions in parallel, where an RNN needs `n` sequential steps.
//!
//! Built from Burn's [`TransformerEncoder`] and [`TransformerDecoder`] (post-norm residual
//! blocks, as in the paper), with:
//!
//! - token embeddings scaled by `√d_model` plus fixed sinusoidal positions (§3.4, §3.5);
//! - a source padding mask in the encoder's self-attention and the decoder's
//!   cross-attention, and a causal mask in the decoder's self-attention (§3.2.3);
//! - a linear readout to the target vocabulary (§3.4).
//!
//! It speaks the same interface as [`Seq2Seq`](crate::seq2seq::Seq2Seq): [`Seq2SeqOutput`]
//! from teacher forcing and [`Decoded`] from greedy decoding, masks true at real tokens,
//! BOS/EOS/PAD from [`crate::seq2seq`], so the experiment pipeline trains and scores both.
//!
//! Departures from the paper (for small synthetic tasks on a CPU; none changes what a
//! Transformer is):
//!
//! - sizes: `d_model` 128, 4 heads, 2 layers, `d_ff` 256, no dropout by default, against the
//!   base model's 512, 8, 6, 2048 and 0.1;
//! - separate source and target embeddings and readout, no weight tying (§3.4 ties them;
//!   our source and target vocabularies differ);
//! - embeddings drawn from `N(0, 1/d_model)`, so that after the `√d_model` scale they have
//!   unit variance, like the sinusoids they are added to (Burn's default `N(0, 1)` would
//!   drown the positions);
//! - no label smoothing and no warm-up schedule: those belong to training, which the
//!   experiments run with plain Adam (see `experiments::transformer`).
//! - The teacher-forced [`Seq2SeqOutput::weights`] is `None`: Burn's decoder does not
//!   return its cross-attention weights.

use burn::config::Config;
use burn::module::Module;
use burn::nn::activation::ActivationConfig;
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{
    TransformerDecoder, TransformerDecoderConfig, TransformerDecoderInput, TransformerEncoder,
    TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig,
    PositionalEncoding, PositionalEncodingConfig,
};
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::seq2seq::{BOS, Decoded, Seq2SeqOutput, all_finished, tokens_until_eos};

/// Configuration of a [`TransformerSeq2Seq`].
#[derive(Config, Debug)]
pub struct TransformerSeq2SeqConfig {
    /// Source vocabulary size.
    pub src_vocab: usize,
    /// Target vocabulary size.
    pub tgt_vocab: usize,
    /// Width of every embedding, attention output and residual stream (paper: 512).
    #[config(default = 128)]
    pub d_model: usize,
    /// Attention heads per layer; each works in `d_model / n_heads` dimensions (paper: 8).
    #[config(default = 4)]
    pub n_heads: usize,
    /// Encoder layers, and as many decoder layers (paper: 6).
    #[config(default = 2)]
    pub n_layers: usize,
    /// Inner size of the position-wise feed-forward network (paper: 2048).
    #[config(default = 256)]
    pub d_ff: usize,
    /// Dropout on embeddings, attention weights and sub-layer outputs (paper: 0.1).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Longest sequence (source or target, EOS/BOS included) the positions cover.
    #[config(default = 512)]
    pub max_len: usize,
}

impl TransformerSeq2SeqConfig {
    /// Checks that the sizes make a Transformer: `d_model` split evenly among the heads and
    /// even (the sinusoids come in sine/cosine pairs), everything else positive.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("src_vocab", self.src_vocab),
            ("tgt_vocab", self.tgt_vocab),
            ("d_model", self.d_model),
            ("n_heads", self.n_heads),
            ("n_layers", self.n_layers),
            ("d_ff", self.d_ff),
            ("max_len", self.max_len),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return Err(format!(
                "d_model ({}) must be divisible by n_heads ({})",
                self.d_model, self.n_heads
            ));
        }
        if !self.d_model.is_multiple_of(2) {
            return Err(format!(
                "d_model ({}) must be even for the sinusoidal positions",
                self.d_model
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout ({}) must be in [0, 1)", self.dropout));
        }
        Ok(())
    }

    /// Creates the model.
    ///
    /// # Panics
    /// If [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> TransformerSeq2Seq {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
        // N(0, 1/d_model): unit variance after the √d_model scale (see the module docs).
        let embedding_init = Initializer::Normal {
            mean: 0.0,
            std: (self.d_model as f64).powf(-0.5),
        };
        let embedding = |vocab| {
            EmbeddingConfig::new(vocab, self.d_model)
                .with_initializer(embedding_init.clone())
                .init(device)
        };
        TransformerSeq2Seq {
            src_embedding: embedding(self.src_vocab),
            tgt_embedding: embedding(self.tgt_vocab),
            positions: PositionalEncodingConfig::new(self.d_model)
                .with_max_sequence_size(self.max_len)
                .with_max_timescale(10_000.max(self.max_len))
                .init(device),
            embedding_dropout: DropoutConfig::new(self.dropout).init(),
            // ReLU in the feed-forward network as in §3.3 (Burn's default is GELU);
            // post-norm (`norm_first = false`) as in §3.1.
            encoder: TransformerEncoderConfig::new(
                self.d_model,
                self.d_ff,
                self.n_heads,
                self.n_layers,
            )
            .with_dropout(self.dropout)
            .with_activation(ActivationConfig::Relu)
            .init(device),
            decoder: TransformerDecoderConfig::new(
                self.d_model,
                self.d_ff,
                self.n_heads,
                self.n_layers,
            )
            .with_dropout(self.dropout)
            .with_activation(ActivationConfig::Relu)
            .init(device),
            readout: LinearConfig::new(self.d_model, self.tgt_vocab).init(device),
            d_model: self.d_model,
        }
    }
}

/// A Transformer encoder-decoder; see the module docs.
#[derive(Module, Debug)]
pub struct TransformerSeq2Seq {
    /// Source token embedding `[src_vocab, d_model]`.
    pub src_embedding: Embedding,
    /// Target token embedding `[tgt_vocab, d_model]`.
    pub tgt_embedding: Embedding,
    /// Fixed sinusoids `[1, max_len, d_model]` added to the scaled embeddings.
    pub positions: PositionalEncoding,
    /// Dropout on the sum of embedding and position (§5.4).
    pub embedding_dropout: Dropout,
    /// Self-attention over the source.
    pub encoder: TransformerEncoder,
    /// Causal self-attention over the target prefix, then cross-attention to the encoder.
    pub decoder: TransformerDecoder,
    /// `d_model -> tgt_vocab` logits.
    pub readout: Linear,
    /// Width of the model, for the `√d_model` embedding scale.
    pub d_model: usize,
}

impl TransformerSeq2Seq {
    /// The device the parameters live on (plain, without autodiff, after `valid()`).
    pub fn device(&self) -> Device {
        self.tgt_embedding.weight.val().device()
    }

    /// Longest sequence the positional encoding covers.
    pub fn max_len(&self) -> usize {
        self.positions.sinusoids.dims()[1]
    }

    /// Teacher-forced pass.
    ///
    /// - `src`: `[batch, src_len]`; `src_mask`: `[batch, src_len]`, true at real tokens.
    /// - `tgt_in`: `[batch, tgt_len]`, BOS followed by the target (shifted right).
    /// - returns logits `[batch, tgt_len, tgt_vocab]`; position `t` sees `tgt_in[..=t]` only.
    ///
    /// # Panics
    /// If `src_len` or `tgt_len` exceeds the configured `max_len`.
    pub fn forward(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Seq2SeqOutput {
        let [batch, tgt_len] = tgt_in.dims();
        // Burn's padding masks are true at PAD, ours at real tokens.
        let src_padding = src_mask.bool_not(); // [B, S]
        let memory = self.encode(src, src_padding.clone()); // [B, S, D]
        let target = self.embed(&self.tgt_embedding, tgt_in); // [B, T, D]
        // True above the diagonal: position t may not look at t+1...
        let causal = generate_autoregressive_mask(batch, tgt_len, &target.device()); // [B, T, T]
        let input = TransformerDecoderInput::new(target, memory)
            .target_mask_attn(causal)
            .memory_mask_pad(src_padding);
        let hidden = self.decoder.forward(input); // [B, T, D]
        Seq2SeqOutput {
            logits: self.readout.forward(hidden), // [B, T, V]
            weights: None,
            sample_log_probs: None,
        }
    }

    /// Greedy decoding: at each step the most probable word, fed back as the next input.
    ///
    /// Uses Burn's autoregressive cache, so each step projects only the newest position
    /// (keys and values of the earlier ones, and of the source, are kept). Burn's cache
    /// still scores every prefix position at every step (its attention returns all `t`
    /// queries), so `n` steps cost `O(n³)` attention work, not the `O(n²)` of a cache
    /// that scores the newest query alone; the result is the same.
    ///
    /// - `src`, `src_mask`: `[batch, src_len]`, the mask true at real tokens.
    /// - `max_len`: at most this many target tokens per row (EOS included); capped at the
    ///   configured `max_len` of the positions.
    /// - returns the tokens of each row without EOS; `weights` is `None`.
    pub fn greedy(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        max_len: usize,
    ) -> Decoded {
        let device = src.device();
        let [batch, _] = src.dims();
        let max_len = max_len.min(self.max_len());
        let src_padding = src_mask.bool_not(); // [B, S], true at PAD
        let memory = self.encode(src, src_padding.clone()); // [B, S, D]
        let mut cache = self.decoder.new_autoregressive_cache();
        let mut tokens = Tensor::<1, Int>::full([batch], BOS as i64, &device);
        // The embedded decoder input so far; the cache reads only its last position.
        let mut prefix: Option<Tensor<3>> = None; // [B, t, D]
        let mut produced: Vec<Tensor<1, Int>> = Vec::with_capacity(max_len);
        for t in 0..max_len {
            let embedded = self.embed_at(tokens, t); // [B, 1, D]
            let target = match prefix.take() {
                Some(previous) => Tensor::cat(vec![previous, embedded], 1),
                None => embedded,
            }; // [B, t+1, D]
            prefix = Some(target.clone());
            let causal = generate_autoregressive_mask(batch, t + 1, &device); // [B, t+1, t+1]
            let input = TransformerDecoderInput::new(target, memory.clone())
                .target_mask_attn(causal)
                .memory_mask_pad(src_padding.clone());
            let hidden = self
                .decoder
                .forward_autoregressive_inference(input, &mut cache); // [B, t+1, D]
            let last = hidden.narrow(1, t, 1).reshape([batch, self.d_model]); // [B, D]
            tokens = self.readout.forward(last).argmax(1).reshape([batch]); // [B]
            produced.push(tokens.clone());
            // Stop early once every row has emitted EOS; reading back costs a sync, so
            // check only every few steps (as Seq2Seq::greedy does).
            if t % 4 == 3 && all_finished(&produced) {
                break;
            }
        }
        Decoded {
            tokens: tokens_until_eos(produced, batch),
            weights: None,
        }
    }

    /// Runs the encoder.
    ///
    /// - `src`: `[batch, src_len]`; `src_padding`: `[batch, src_len]`, true at PAD.
    /// - returns the memory `[batch, src_len, d_model]`.
    fn encode(&self, src: Tensor<2, Int>, src_padding: Tensor<2, Bool>) -> Tensor<3> {
        let embedded = self.embed(&self.src_embedding, src); // [B, S, D]
        self.encoder
            .forward(TransformerEncoderInput::new(embedded).mask_pad(src_padding))
    }

    /// `√d_model · E x + PE`, then dropout: `[batch, len]` ids -> `[batch, len, d_model]`.
    fn embed(&self, embedding: &Embedding, ids: Tensor<2, Int>) -> Tensor<3> {
        let scaled = embedding.forward(ids) * (self.d_model as f64).sqrt(); // [B, L, D]
        self.embedding_dropout
            .forward(self.positions.forward(scaled))
    }

    /// Embeds one target token per row at `position`: `[batch]` ids -> `[batch, 1, d_model]`.
    fn embed_at(&self, ids: Tensor<1, Int>, position: usize) -> Tensor<3> {
        let [batch] = ids.dims();
        let scaled =
            self.tgt_embedding.forward(ids.reshape([batch, 1])) * (self.d_model as f64).sqrt(); // [B, 1, D]
        let sinusoid = self.positions.sinusoids.clone().narrow(1, position, 1); // [1, 1, D]
        self.embedding_dropout.forward(scaled + sinusoid)
    }
}
