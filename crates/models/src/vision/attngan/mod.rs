//! The generator and discriminators of AttnGAN (Xu et al. 2018, "AttnGAN: Fine-Grained Text
//! to Image Generation with Attentional Generative Adversarial Networks", CVPR, §3.1-3.2),
//! small, with two stages.
//!
//! ```text
//! ē --F^ca--> ĉ;  [ĉ; z] --F_0--> h_0 [B, C, 24, 24] --G_0--> x_0 [B, 3, 24, 24]
//! (e, h_0) --F^attn--> word contexts [B, C, 24, 24], β [B, 576, T]
//! [h_0; contexts] --F_1--> h_1 [B, C, 48, 48] --G_1--> x_1 [B, 3, 48, 48]
//! x_i, ē --D_i--> D_i(x_i), D_i(x_i, ē) (logits)
//! ```
//!
//! - **Generator** ([`AttnGanGenerator`], §3.1): `h_0 = F_0(z, F^ca(ē))`,
//!   `h_1 = F_1(h_0, F^attn(e, h_0))`, `x_i = G_i(h_i)`. `F_0` is a linear layer from
//!   `[ĉ; z]` to a 6 × 6 map halved by a gated linear unit (GLU) and two upsampling blocks
//!   (nearest-neighbour 2×, 3 × 3 convolution, normalization, GLU); `F_1` concatenates
//!   `h_0` with each sub-region's word-context vector on the channels, runs residual blocks
//!   and one upsampling block; each `G_i` is a 3 × 3 convolution to RGB. The sentence-only
//!   variant ([`GeneratorConditioning::SentenceOnly`]) joins `ĉ` replicated over every
//!   sub-region instead of the word contexts (StackGAN's stage II): what the ablation of
//!   attention leaves.
//! - **Discriminators** ([`AttnGanDiscriminator`], §3.2), one per stage: 4 × 4, stride-2
//!   convolutions with leaky ReLUs (slope 0.2) down to a 3 × 3 map, read by an unconditional
//!   head `D_i(x)` and by a conditional head `D_i(x, ē)` that first joins the sentence
//!   vector, replicated spatially, to the map (a 3 × 3 convolution and a leaky ReLU).
//! - **Losses** ([`discriminator_loss`], [`generator_adversarial_loss`]), from logits through
//!   `log σ`, as the reference code weighs them (see each function). The generator's full
//!   objective adds `λ L_DAMSM` ([`super::damsm_loss`]) and conditioning augmentation's KL
//!   term ([`GeneratorOutput::kl`]), which live with those parts.
//!
//! Departures from the paper and its reference code (github.com/taoxugit/AttnGAN):
//!
//! - Two stages, 24 × 24 then 48 × 48 (the paper: three, 64, 128 and 256), from a 6 × 6
//!   first map (the reference: 4 × 4, four doublings to 64) of `4C` channels (the reference:
//!   `16C`), `C = 32` as the reference for birds; `z` and `ĉ` of 32 (the reference: 100).
//!   Attention is applied once, between the two stages.
//! - Normalization: the reference code's batch normalization couples the images of a batch
//!   and behaves differently in training and evaluation (running statistics), so that an
//!   image would depend on its batch-mates and a replayed noise would not replay the image;
//!   here each convolution of the generator is followed by a layer normalization over all
//!   channels and pixels of each image (`GroupNorm` with one group, learned per-channel
//!   scale and shift), the same in training and evaluation. Not instance normalization:
//!   that would subtract, channel by channel, the spatially constant `ĉ` that the
//!   sentence-only variant joins. The linear layer of `F_0` has none (the reference: a 1-D
//!   batch normalization), nor have the discriminators (the reference: after every
//!   convolution but the first).
//! - Convolutions keep their biases (the reference drops them before its batch norms).
//! - The image heads end in a sigmoid, not a tanh: the images are in [0, 1].
//! - Both random inputs, `z` and conditioning augmentation's `ε`, come from the caller
//!   ([`GeneratorNoise`], [`AttnGanGenerator::draw_noise`]), so that a run replays exactly.
//! - The discriminators' heads read the 3 × 3 map with one 3 × 3 convolution each (the
//!   reference: a 4 × 4 convolution of stride 4 on a 4 × 4 map) and return logits, not
//!   probabilities.
//! - The mismatched pairs of the discriminator's loss pair image `i` with sentence
//!   `(i + 1) mod B` ([`mismatched`]), the whole batch; the reference pairs image `i` with
//!   sentence `i + 1` and drops the last image.
//! - The padded words of stage 2's attention are masked per caption (see
//!   [`super::word_attention`]).

mod discriminator;
mod generator;

pub use discriminator::{
    AttnGanDiscriminator, AttnGanDiscriminatorConfig, DiscriminatorLoss, DiscriminatorOutput,
    LEAKY_SLOPE, binary_cross_entropy, discriminator_loss, generator_adversarial_loss, mismatched,
};
pub use generator::{
    AttnGanGenerator, AttnGanGeneratorConfig, GeneratorConditioning, GeneratorNoise,
    GeneratorOutput, ResidualBlock, UpBlock,
};
