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
//!
//! And the text-image parts of AttnGAN (Xu et al. 2018, "AttnGAN: Fine-Grained Text to Image
//! Generation with Attentional Generative Adversarial Networks", CVPR):
//!
//! ```text
//! tokens [B, T] --DamsmTextEncoder--> words e [B, T, D], sentence ē [B, D]
//! images [B, 3, H, W] --DamsmImageEncoder--> regions v [B, L, D], global v̄ [B, D]
//! (v, e, v̄, ē) --DamsmConfig::matching--> R(Q_i, D_j) [B, B], α [B, T, L], L_DAMSM
//! hidden h [B, N, D̂], words e --WordAttention--> context [B, N, D̂], weights β [B, N, T]
//! sentence ē --ConditioningAugmentation--> ĉ = μ + σ ⊙ ε [B, d_c], and its KL term
//! ```
//!
//! - [`damsm`]: the Deep Attentional Multimodal Similarity Model (§3.3): a bidirectional
//!   LSTM text encoder, an image encoder on [`ImageEncoder`]'s grid, the attention-driven
//!   word-region matching score and the four DAMSM losses.
//! - [`word_attention`]: the generator's attention over words, `F^attn` (§3.1, eq. 2), and
//!   conditioning augmentation `F^ca` (§3.1, from StackGAN).
//! - [`attngan`]: the generator [`AttnGanGenerator`] (two stages, word attention between
//!   them, or the sentence-only ablation) and the discriminators [`AttnGanDiscriminator`]
//!   with their adversarial losses (§3.1-3.2).
//! - [`judge`]: [`SceneJudge`], a CNN that reads each slot of a scene's 3 × 3 grid (class
//!   and colour, or empty), for the semantic accuracy, FID and Inception-score analogue of
//!   generated images.
//!
//! And the recurrent attention model (RAM) of Mnih et al. 2014 ("Recurrent Models of Visual
//! Attention", NIPS), with the whole-image classifiers it is compared against:
//!
//! ```text
//! canvas x, location l_t --GlimpseSensor (host)--> ρ(x, l_t) [B, k·g·g]
//! ρ, l_t --glimpse net--> g_t --core--> h_{t+1} --location net--> l_{t+1} ~ N(μ, σ²)
//! h_N --classifier--> logits [B, C]      (N glimpses; hybrid loss: CE + REINFORCE)
//! ```
//!
//! - [`glimpse`]: [`GlimpseSensor`], the multi-resolution retina `ρ(x, l)`, on host pixels.
//! - [`ram`]: [`Ram`], its glimpse, core, location and baseline networks, learned or random
//!   locations ([`LocationPolicy`]), and [`hybrid_loss`].
//! - [`whole_image`]: [`MlpClassifier`] and [`ConvClassifier`], the paper's fully connected
//!   and convolutional baselines on the whole canvas; all three count their FLOPs per image.

pub mod attngan;
pub mod captioner;
pub mod cnn;
pub mod damsm;
pub mod glimpse;
pub mod judge;
pub mod ram;
pub mod whole_image;
pub mod word_attention;

pub use attngan::{
    AttnGanDiscriminator, AttnGanDiscriminatorConfig, AttnGanGenerator, AttnGanGeneratorConfig,
    DiscriminatorLoss, DiscriminatorOutput, GeneratorConditioning, GeneratorNoise, GeneratorOutput,
    binary_cross_entropy, discriminator_loss, generator_adversarial_loss, mismatched,
};
pub use captioner::{
    Caption, Captioner, CaptionerConfig, CaptionerOutput, ContextKind, attention_entropy,
    doubly_stochastic_penalty,
};
pub use cnn::{EncoderTuning, ImageEncoder, ImageEncoderConfig, multilabel_loss};
pub use damsm::{
    DamsmConfig, DamsmImageEncoder, DamsmImageEncoderConfig, DamsmImageOutput, DamsmLoss,
    DamsmOutput, DamsmTextEncoder, DamsmTextEncoderConfig, DamsmTextOutput, WordScores, damsm_loss,
    sentence_scores, word_scores,
};
pub use glimpse::{GlimpseSensor, GlimpseSensorConfig, GlimpseSquare};
pub use judge::{
    ClassPosteriors, JudgeOutput, SLOT_GRID, SLOTS, SceneJudge, SceneJudgeConfig, SlotTargets,
    judge_loss, target_tensors,
};
pub use ram::{
    LocationPolicy, LocationSampling, Ram, RamConfig, RamLoss, RamOutput, gaussian_log_density,
    hybrid_loss, standard_normals,
};
pub use whole_image::{ConvClassifier, ConvClassifierConfig, MlpClassifier, MlpClassifierConfig};
pub use word_attention::{
    ConditioningAugmentation, ConditioningAugmentationConfig, ConditioningOutput, WordAttention,
    WordAttentionConfig, WordAttentionOutput, kl_divergence,
};
