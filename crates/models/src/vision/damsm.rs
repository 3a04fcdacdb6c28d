//! The Deep Attentional Multimodal Similarity Model (DAMSM) of Xu et al. 2018, "AttnGAN:
//! Fine-Grained Text to Image Generation with Attentional Generative Adversarial Networks"
//! (CVPR), §3.3: a text encoder and an image encoder map a caption's words and an image's
//! sub-regions into one common space of size `D`, and an attention-driven matching score says
//! how well an image fits a caption, word by word. The DAMSM loss trains both encoders from
//! whole image-caption pairs alone; AttnGAN then adds it, with the encoders fixed, to its
//! generator's loss (eq. 3).
//!
//! ```text
//! tokens [B, T] --DamsmTextEncoder--> words e [B, T, D], sentence ē [B, D]
//! images [B, 3, H, W] --DamsmImageEncoder--> regions v [B, L, D], global v̄ [B, D]
//! (v, e) --word_scores--> R(Q_i, D_j) [B, B], α [B, B, T, L]
//! (v̄, ē) --sentence_scores--> cos(v̄_i, ē_j) [B, B]
//! both --damsm_loss--> L_1^w + L_2^w + L_1^s + L_2^s (eq. 14)
//! ```
//!
//! - **Text encoder**: a bidirectional LSTM; a word's feature `e_i` is its two directions'
//!   hidden states concatenated, the sentence vector `ē` the last hidden states of the two
//!   directions concatenated. Here the padding-aware [`crate::rnn::RnnEncoder`] with LSTM
//!   cells, whose summary is exactly that: the forward state at each caption's last real word
//!   and the backward state at its first.
//! - **Image encoder**: local features `f` (one per sub-region) and a global feature `f̄`,
//!   projected to the common space, `v = W f` and `v̄ = W̄ f̄` (eq. 6).
//! - **Matching** ([`word_scores`]), for image `Q` and caption `D` (the paper's names): the
//!   word-region similarities `s = e^T v` (eq. 7), normalized over the words,
//!   `s̄_ij = exp(s_ij) / Σ_k exp(s_kj)` (eq. 8); each word's attention over the regions,
//!   `α_ij = exp(γ1 s̄_ij) / Σ_k exp(γ1 s̄_ik)`, and its region-context vector
//!   `c_i = Σ_j α_ij v_j` (eq. 9); the word's relevance `R(c_i, e_i) = cos(c_i, e_i)` and the
//!   pair's score `R(Q, D) = log(Σ_i exp(γ2 R(c_i, e_i)))^(1/γ2)` (eq. 10), which tends to
//!   the best word's relevance as `γ2 → ∞`. Padded words take part in no sum: not in
//!   eq. 8's `Σ_k`, not in eq. 10's `Σ_i`; their weights and relevances are returned as 0.
//! - **Loss** ([`damsm_loss`]), over a batch of `M` matching pairs `(Q_i, D_i)`: the posterior
//!   of the caption given the image `P(D_i | Q_i) = exp(γ3 R(Q_i, D_i)) / Σ_j exp(γ3 R(Q_i, D_j))`
//!   (eq. 11), `L_1^w = -Σ_i log P(D_i | Q_i)` (eq. 12), and symmetrically
//!   `L_2^w = -Σ_i log P(Q_i | D_i)` with `P(Q_i | D_i) = exp(γ3 R(Q_i, D_i)) /
//!   Σ_j exp(γ3 R(Q_j, D_i))` (eq. 13); `L_1^s` and `L_2^s` are the same with
//!   `R(Q, D) = cos(v̄, ē)` ([`sentence_scores`]); `L_DAMSM = L_1^w + L_2^w + L_1^s + L_2^s`
//!   (eq. 14). Every other caption (image) of the batch is a negative; captions that match no
//!   image of the batch may be added as further negatives of `L_1` alone.
//!
//! Departures from the paper and from its reference code (github.com/taoxugit/AttnGAN):
//!
//! - The image encoder is the small [`ImageEncoder`] of this crate, trained on our own
//!   images, in place of Inception-v3 pretrained on ImageNet: the regions are its `G × G`
//!   annotation grid (36 cells by default), where the paper takes the 17 × 17 × 768 map of
//!   Inception's `mixed_6e` layer. The global feature `f̄` is the mean of those same
//!   annotations, through its own linear layer `W̄`: Inception's `f̄` is also a mean pool (its
//!   last average-pooling layer, 2048-dimensional), but of a deeper map than the regions',
//!   and the small encoder has no deeper map. The reference code freezes Inception and trains
//!   only `W` and `W̄`; here the CNN trains unless frozen with
//!   [`DamsmImageEncoder::with_tuning`].
//! - `W` has no bias (the reference's 1 × 1 convolution), `W̄` has one (its linear layer).
//! - Sizes are small: `D = 64` and word embeddings of 64, where the paper uses `D = 256` and
//!   the reference code embeddings of 300.
//! - `R(Q, D)` keeps the paper's power `1/γ2` (eq. 10). The reference code leaves it out
//!   (its `R` is `γ2` times this one), so its `γ3 = 10` weighs the word-level scores like
//!   `γ3 = γ2 · 10 = 50` here; the sentence-level scores are the same in both.
//! - The losses are summed over the batch, as eqs. 12 and 13 write them; the reference code
//!   averages them (PyTorch's `CrossEntropyLoss`), `1/M` of these.
//! - The reference code also removes from the negatives the other captions of images of the
//!   same class (CUB's bird species); the paper does not, nor does this code.
//! - The paper's negatives are the batch's other pairs alone; [`damsm_loss`] also takes
//!   extra captions as negatives of `L_1` (the text-to-image experiment's hard negatives).
//! - The cosines floor each norm at `1e-6` (the reference floors the product of the norms
//!   at `1e-8`): a zero vector has cosine 0 with everything, and a finite gradient.
//! - `Σ_i` in eq. 10 runs over every real word of the caption, as in the reference code,
//!   which cuts each caption to its length where this code masks.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::cnn::{EncoderTuning, ImageEncoder, ImageEncoderConfig};
use crate::attention::MASKED_SCORE;
use crate::kernels::{
    floored_norm, linear, linear_steps, matmul, word_attention_weights, word_relevance,
};
use crate::rnn::{CellKind, RnnEncoder, RnnEncoderConfig};
use crate::seq2seq::PAD;

/// Configuration of a [`DamsmTextEncoder`].
#[derive(Config, Debug)]
pub struct DamsmTextEncoderConfig {
    /// Vocabulary size (PAD included).
    pub vocab: usize,
    /// Word embedding size. 64 (the reference code: 300).
    #[config(default = 64)]
    pub d_embed: usize,
    /// Size `D` of the common space: a word feature is both directions' hidden states
    /// concatenated, so each direction has `D / 2` units; must be even. 64 (the paper: 256).
    #[config(default = 64)]
    pub d_common: usize,
    /// Dropout on the word embeddings, in training only. 0.0: the paper mentions none (the
    /// reference code drops 0.5).
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// The DAMSM text encoder: word embeddings and a padding-aware bidirectional LSTM; see the
/// module docs.
#[derive(Module, Debug)]
pub struct DamsmTextEncoder {
    /// The embedding and the two LSTM directions (an [`RnnEncoder`] with LSTM cells).
    pub encoder: RnnEncoder,
    /// Dropout on the embeddings.
    pub dropout: Dropout,
}

/// What the text encoder returns.
#[derive(Clone, Debug)]
pub struct DamsmTextOutput {
    /// Word features `e`, `[batch, T, D]`: forward and backward states concatenated. Rows at
    /// padded positions hold no information; every reader masks them.
    pub words: Tensor<3>,
    /// Sentence vector `ē`, `[batch, D]`: the forward state at each caption's last real word,
    /// concatenated with the backward state at its first (the last state of each direction).
    pub sentence: Tensor<2>,
    /// `[batch, T]`, true at real words.
    pub mask: Tensor<2, Bool>,
}

impl DamsmTextEncoderConfig {
    /// The recurrent encoder this one wraps: bidirectional, LSTM cells, `D / 2` units per
    /// direction.
    pub fn rnn(&self) -> RnnEncoderConfig {
        RnnEncoderConfig::new(self.vocab)
            .with_d_embed(self.d_embed)
            .with_d_hidden(self.d_common / 2)
            .with_cell(CellKind::Lstm)
            .with_bidirectional(true)
    }

    /// Creates the encoder.
    ///
    /// # Panics
    /// If `d_common` is odd.
    pub fn init(&self, device: &Device) -> DamsmTextEncoder {
        assert!(
            self.d_common.is_multiple_of(2),
            "d_common ({}) must be even: half of it per direction",
            self.d_common
        );
        DamsmTextEncoder {
            encoder: self.rnn().init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl DamsmTextEncoder {
    /// Encodes a batch of captions.
    ///
    /// - `tokens`: `[batch, T]` word ids, PAD after each caption's end (a suffix of each row;
    ///   every caption needs at least one real word).
    /// - returns words `[batch, T, D]`, sentence `[batch, D]` and the mask `[batch, T]`.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> DamsmTextOutput {
        let mask = tokens.clone().not_equal_elem(PAD as i64); // [B, T]
        let embedded = self.dropout.forward(self.encoder.embedding.forward(tokens)); // [B, T, E]
        let out = self.encoder.rnn.forward(embedded, mask);
        DamsmTextOutput {
            words: out.annotations, // [B, T, D]
            sentence: out.summary,  // [B, D]
            mask: out.mask,
        }
    }
}

/// Configuration of a [`DamsmImageEncoder`].
#[derive(Config, Debug)]
pub struct DamsmImageEncoderConfig {
    /// The CNN whose annotation grid gives the regions. Its defaults: a 48 × 48 canvas to a
    /// 6 × 6 grid of 64-dimensional annotations.
    #[config(default = "ImageEncoderConfig::new()")]
    pub cnn: ImageEncoderConfig,
    /// Size `D` of the common space: the text encoder's `d_common`. 64.
    #[config(default = 64)]
    pub d_common: usize,
}

/// The DAMSM image encoder: a CNN's annotation grid and its mean, each projected to the
/// common space; see the module docs.
#[derive(Module, Debug)]
pub struct DamsmImageEncoder {
    /// The CNN: images to annotations `f` `[batch, L, d_annotation]`.
    pub cnn: ImageEncoder,
    /// `W`: annotation `[d_annotation] -> [D]`, no bias (eq. 6).
    pub regions: Linear,
    /// `W̄`: mean annotation `[d_annotation] -> [D]`, with bias (eq. 6).
    pub global: Linear,
}

/// What the image encoder returns.
#[derive(Clone, Debug)]
pub struct DamsmImageOutput {
    /// Region features `v`, `[batch, L, D]`, cell `i` at grid row `i / G`, column `i % G`.
    pub regions: Tensor<3>,
    /// Global feature `v̄`, `[batch, D]`.
    pub global: Tensor<2>,
}

impl DamsmImageEncoderConfig {
    /// Creates the encoder.
    ///
    /// # Panics
    /// If the CNN's sizes do not chain ([`ImageEncoderConfig::check`]).
    pub fn init(&self, device: &Device) -> DamsmImageEncoder {
        let d_annotation = self.cnn.d_annotation;
        DamsmImageEncoder {
            cnn: self.cnn.init(device),
            regions: LinearConfig::new(d_annotation, self.d_common)
                .with_bias(false)
                .init(device),
            global: LinearConfig::new(d_annotation, self.d_common).init(device),
        }
    }
}

impl DamsmImageEncoder {
    /// Encodes a batch of images.
    ///
    /// - `images`: `[batch, in_channels, canvas, canvas]`.
    /// - returns regions `[batch, G·G, D]` and global `[batch, D]`.
    pub fn forward(&self, images: Tensor<4>) -> DamsmImageOutput {
        // The project's own convolution: the generator's step runs this encoder on every
        // drawn image, forward and back to the pixels, where Burn's took a tenth of the step.
        self.project(self.cnn.forward_with(images, crate::kernels::conv2d))
    }

    /// The projections alone, for annotations computed elsewhere (a frozen CNN's, say).
    ///
    /// - `annotations`: `[batch, L, d_annotation]`, as [`ImageEncoder::forward`] returns them.
    /// - returns regions `[batch, L, D]` and global `[batch, D]`.
    pub fn project(&self, annotations: Tensor<3>) -> DamsmImageOutput {
        let [batch, _, d] = annotations.dims();
        let mean = annotations.clone().mean_dim(1).reshape([batch, d]); // f̄: [B, d_annotation]
        DamsmImageOutput {
            regions: linear_steps(&self.regions, annotations), // v = W f: [B, L, D]
            global: linear(&self.global, mean),                // v̄ = W̄ f̄: [B, D]
        }
    }

    /// The encoder with its CNN frozen (as the reference code freezes Inception-v3) or
    /// trainable; the projections `W` and `W̄` always train. See [`EncoderTuning`].
    pub fn with_tuning(self, tuning: EncoderTuning) -> Self {
        DamsmImageEncoder {
            cnn: self.cnn.with_tuning(tuning),
            ..self
        }
    }
}

/// The word-level matching of every image with every caption ([`word_scores`]).
#[derive(Clone, Debug)]
pub struct WordScores {
    /// `R(Q_i, D_j)` (eq. 10), `[images, captions]`: image `i`'s row, caption `j`'s column.
    pub scores: Tensor<2>,
    /// `R(c_t, e_t)`, `[images, captions, T]`: the relevance of each word of caption `j` to
    /// image `i`; 0 at padded words.
    pub relevance: Tensor<3>,
    /// `α`, `[images, captions, T, L]`: each word's attention over the regions of the image
    /// (eq. 9), summing to 1 over `L` at real words; all 0 at padded words.
    pub weights: Tensor<4>,
}

/// The attention-driven matching scores of every image with every caption (eqs. 7-10).
///
/// - `regions`: `v`, `[images, L, D]`.
/// - `words`: `e`, `[captions, T, D]`; `mask`: `[captions, T]`, true at real words (at
///   least one per caption). Padded words change nothing.
/// - `gamma1`: `γ1`, the sharpness of a word's attention over the regions; `gamma2`: `γ2`,
///   how much the best-matching words dominate the score.
/// - returns the scores `[images, captions]`, the relevances `[images, captions, T]` and the
///   weights `[images, captions, T, L]`.
pub fn word_scores(
    regions: Tensor<3>,
    words: Tensor<3>,
    mask: Tensor<2, Bool>,
    gamma1: f64,
    gamma2: f64,
) -> WordScores {
    let [images, cells, d] = regions.dims();
    let [captions, len, d_words] = words.dims();
    assert_eq!(
        d, d_words,
        "word_scores: regions of size {d}, words of size {d_words}"
    );
    assert_eq!(
        mask.dims(),
        [captions, len],
        "word_scores: the mask does not match the words"
    );
    // s = e^T v (eq. 7) for every pair, one product:
    // [C·T, D] x [D, I·L] -> [C, T, I, L] -> [I, C, T, L].
    let similarities = matmul(
        words.clone().reshape([captions * len, d]),
        regions.clone().reshape([images * cells, d]).transpose(),
    )
    .reshape([captions, len, images, cells]);
    // s̄: softmax over the caption's real words, for each region (eq. 8); α: softmax of
    // γ1 s̄ over the regions, for each word (eq. 9), 0 at padded words: [I, C, T, L].
    let weights = word_attention_weights(similarities, mask.clone(), gamma1);
    // c_t = Σ_j α_tj v_j (eq. 9): [I, C·T, L] x [I, L, D] -> [I, C, T, D].
    let context = weights
        .clone()
        .reshape([images, captions * len, cells])
        .matmul(regions)
        .reshape([images, captions, len, d]);
    // R(c_t, e_t) = cos(c_t, e_t): [I, C, T, D] against [C, T, D] -> [I, C, T].
    let relevance = word_relevance(context, words);
    let padded = mask
        .bool_not()
        .reshape([1, captions, len])
        .expand([images, captions, len]); // [I, C, T]
    let relevance = relevance.mask_fill(padded.clone(), 0.0);
    // R(Q, D) = (1/γ2) log Σ_t exp(γ2 R(c_t, e_t)) over real words (eq. 10), as a
    // log-sum-exp shifted by its largest term: [I, C, T] -> [I, C].
    let scaled = relevance
        .clone()
        .mul_scalar(gamma2)
        .mask_fill(padded, MASKED_SCORE); // [I, C, T]
    let top = scaled.clone().max_dim(2).detach(); // [I, C, 1]
    let scores = ((scaled - top.clone()).exp().sum_dim(2).log() + top)
        .div_scalar(gamma2)
        .reshape([images, captions]);
    WordScores {
        scores,
        relevance,
        weights,
    }
}

/// The sentence-level scores: `cos(v̄_i, ē_j)` of every image with every caption (the
/// redefined `R(Q, D)` of L_1^s and L_2^s, §3.3).
///
/// - `global`: `v̄`, `[images, D]`; `sentence`: `ē`, `[captions, D]`.
/// - returns `[images, captions]`.
pub fn sentence_scores(global: Tensor<2>, sentence: Tensor<2>) -> Tensor<2> {
    let dot = matmul(global.clone(), sentence.clone().transpose()); // [I, C]
    let norms = matmul(
        floored_norm(global, 1),
        floored_norm(sentence, 1).transpose(),
    ); // [I, 1] x [1, C]
    dot / norms
}

/// The four DAMSM losses (eqs. 12-14), each summed over the batch; one element each.
#[derive(Clone, Debug)]
pub struct DamsmLoss {
    /// `L_DAMSM = L_1^w + L_2^w + L_1^s + L_2^s` (eq. 14).
    pub total: Tensor<1>,
    /// `L_1^w = -Σ_i log P(D_i | Q_i)`: each image picks its caption, word-level scores
    /// (eq. 12).
    pub word_1: Tensor<1>,
    /// `L_2^w = -Σ_i log P(Q_i | D_i)`: each caption picks its image, word-level scores
    /// (eq. 13).
    pub word_2: Tensor<1>,
    /// `L_1^s`: as `L_1^w` with the sentence-level scores.
    pub sentence_1: Tensor<1>,
    /// `L_2^s`: as `L_2^w` with the sentence-level scores.
    pub sentence_2: Tensor<1>,
}

/// The DAMSM loss of a batch of matching pairs: image `i` goes with caption `i`, every other
/// caption (image) of the batch is a negative. Captions past the batch's `B` are extra
/// negatives that belong to no image (captions one attribute off the truth, say): they
/// enter `L_1` (each image picks its caption among all of them) and not `L_2` (each of the
/// `B` captions picks its image among the `B` images).
///
/// - `word`: `R(Q_i, D_j)` from [`word_scores`], `[B, C]` with `C ≥ B`, images in rows.
/// - `sentence`: `cos(v̄_i, ē_j)` from [`sentence_scores`], `[B, C]`, images in rows.
/// - `gamma3`: `γ3`, the smoothing factor of the posteriors (eq. 11).
pub fn damsm_loss(word: Tensor<2>, sentence: Tensor<2>, gamma3: f64) -> DamsmLoss {
    let (word_1, word_2) = matching_losses(word, gamma3);
    let (sentence_1, sentence_2) = matching_losses(sentence, gamma3);
    DamsmLoss {
        total: word_1.clone() + word_2.clone() + sentence_1.clone() + sentence_2.clone(),
        word_1,
        word_2,
        sentence_1,
        sentence_2,
    }
}

/// `-Σ_i log P(D_i | Q_i)` and `-Σ_i log P(Q_i | D_i)` from scores `[B, C]` with images in
/// rows, caption `i < B` matching image `i` (eqs. 11-13).
fn matching_losses(scores: Tensor<2>, gamma3: f64) -> (Tensor<1>, Tensor<1>) {
    let [images, captions] = scores.dims();
    assert!(
        captions >= images,
        "the DAMSM loss needs one caption per image, got {images} images and {captions} captions"
    );
    let logits = scores.mul_scalar(gamma3); // γ3 R(Q_i, D_j): [B, C]
    let matched = Tensor::<2>::eye(images, &logits.device()); // [B, B]
    // Each image's row over all the captions: log P(D_j | Q_i), [B, C]; the matched pairs
    // are the diagonal of its first B columns.
    let images_first =
        (log_softmax(logits.clone(), 1).narrow(1, 0, images) * matched.clone()).sum();
    // Each matched caption's column over the images: log P(Q_j | D_i), [B, B].
    let captions_first = (log_softmax(logits.narrow(1, 0, images), 0) * matched).sum();
    (images_first.neg(), captions_first.neg())
}

/// Configuration of the DAMSM matching: the three smoothing factors, at the values of the
/// reference code for CUB birds.
#[derive(Config, Debug)]
pub struct DamsmConfig {
    /// `γ1`: how sharply a word attends to its most similar regions (eq. 9). 4.0.
    #[config(default = 4.0)]
    pub gamma1: f64,
    /// `γ2`: how much the best-matching words dominate `R(Q, D)` (eq. 10). 5.0.
    #[config(default = 5.0)]
    pub gamma2: f64,
    /// `γ3`: the smoothing factor of the posteriors over the batch (eq. 11). 10.0.
    #[config(default = 10.0)]
    pub gamma3: f64,
}

/// Everything the DAMSM computes for a batch of matching pairs ([`DamsmConfig::matching`]).
#[derive(Clone, Debug)]
pub struct DamsmOutput {
    /// The loss and its four parts.
    pub loss: DamsmLoss,
    /// `R(Q_i, D_j)`, `[batch, batch]`, images in rows.
    pub word_scores: Tensor<2>,
    /// `cos(v̄_i, ē_j)`, `[batch, batch]`, images in rows.
    pub sentence_scores: Tensor<2>,
    /// `α` of each caption over its own image, `[batch, T, L]`, for plotting; all 0 at
    /// padded words.
    pub weights: Tensor<3>,
}

impl DamsmConfig {
    /// The word-level scores with this configuration's `γ1` and `γ2`; see [`word_scores`].
    pub fn word_scores(
        &self,
        regions: Tensor<3>,
        words: Tensor<3>,
        mask: Tensor<2, Bool>,
    ) -> WordScores {
        word_scores(regions, words, mask, self.gamma1, self.gamma2)
    }

    /// The loss alone of a batch of matching pairs, image `i` with caption `i` (what
    /// [`Self::matching`] returns as `loss`, without the attention maps it also builds).
    ///
    /// - `image`: regions `[batch, L, D]` and global `[batch, D]`.
    /// - `text`: words `[C, T, D]`, sentence `[C, D]` and mask `[C, T]`, `C ≥ batch`: the
    ///   captions past the batch's are extra negatives (see [`damsm_loss`]).
    pub fn loss(&self, image: &DamsmImageOutput, text: &DamsmTextOutput) -> DamsmLoss {
        let word = self.word_scores(image.regions.clone(), text.words.clone(), text.mask.clone());
        let sentence = sentence_scores(image.global.clone(), text.sentence.clone());
        damsm_loss(word.scores, sentence, self.gamma3)
    }

    /// Scores and loss of a batch of matching pairs, image `i` with caption `i`.
    ///
    /// - `image`: regions `[batch, L, D]` and global `[batch, D]`.
    /// - `text`: words `[batch, T, D]`, sentence `[batch, D]` and mask `[batch, T]`.
    pub fn matching(&self, image: &DamsmImageOutput, text: &DamsmTextOutput) -> DamsmOutput {
        let word = self.word_scores(image.regions.clone(), text.words.clone(), text.mask.clone());
        let sentence = sentence_scores(image.global.clone(), text.sentence.clone()); // [B, B]
        let [batch, _, len, cells] = word.weights.dims();
        // The matched pairs' maps, the diagonal of [B, B, T, L]: [B, T, L].
        let matched = Tensor::<2>::eye(batch, &sentence.device()).reshape([batch, batch, 1, 1]);
        let weights = (word.weights * matched)
            .sum_dim(1)
            .reshape([batch, len, cells]);
        DamsmOutput {
            loss: damsm_loss(word.scores.clone(), sentence.clone(), self.gamma3),
            word_scores: word.scores,
            sentence_scores: sentence,
            weights,
        }
    }
}
