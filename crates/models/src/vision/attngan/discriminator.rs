//! AttnGAN's discriminators, one per stage, and the adversarial losses of both players; see
//! the parent module's docs.

use burn::config::Config;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::activation::log_sigmoid;
use burn::tensor::{Device, Tensor};

use crate::kernels::{conv2d, leaky_relu};

/// The slope of every leaky ReLU of the discriminators, as the reference code.
pub const LEAKY_SLOPE: f64 = 0.2;

/// Configuration of an [`AttnGanDiscriminator`]. The defaults read a 48 × 48 RGB image
/// (stage 2's) down to a 3 × 3 map of 128 channels (48 → 24 → 12 → 6 → 3).
#[derive(Config, Debug)]
pub struct AttnGanDiscriminatorConfig {
    /// Input channels. 3: RGB.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Side of the square images: 24 for stage 1's discriminator, 48 for stage 2's. Must be
    /// `final_side` times a power of two. 48.
    #[config(default = 48)]
    pub canvas: usize,
    /// Channels of the first downsampling convolution; each further one doubles them. 16.
    #[config(default = 16)]
    pub d_base: usize,
    /// Side of the map the heads read. 3.
    #[config(default = 3)]
    pub final_side: usize,
    /// Size of the sentence vector `ē` the conditional head reads: the DAMSM text encoder's
    /// `d_common`. 64.
    #[config(default = 64)]
    pub d_sentence: usize,
}

/// A discriminator of AttnGAN, `D_i(x)` and `D_i(x, ē)` as logits; see the parent module's
/// docs.
#[derive(Module, Debug)]
pub struct AttnGanDiscriminator {
    /// The 4 × 4, stride-2 convolutions (padding 1), each halving the side and followed by a
    /// leaky ReLU.
    pub down: Vec<Conv2d>,
    /// The unconditional head: `[C] -> [1]` over the whole `final_side²` map.
    pub uncond: Conv2d,
    /// The conditional head's join: `[C + d_sentence] -> [C]`, 3 × 3, same padding, then a
    /// leaky ReLU.
    pub cond_join: Conv2d,
    /// The conditional head: `[C] -> [1]` over the whole `final_side²` map.
    pub cond: Conv2d,
}

/// What [`AttnGanDiscriminator::forward`] returns: logits, positive for "real".
#[derive(Clone, Debug)]
pub struct DiscriminatorOutput {
    /// `D_i(x)` before its sigmoid, `[batch]`: is the image real.
    pub unconditional: Tensor<1>,
    /// `D_i(x, ē)` before its sigmoid, `[batch]`: is the image real and does it fit the
    /// sentence.
    pub conditional: Tensor<1>,
}

impl AttnGanDiscriminatorConfig {
    /// The number of downsampling convolutions: `log2(canvas / final_side)`.
    pub fn blocks(&self) -> usize {
        (self.canvas / self.final_side).trailing_zeros() as usize
    }

    /// Channels of the map the heads read: `d_base · 2^(blocks - 1)`.
    pub fn d_top(&self) -> usize {
        self.d_base << (self.blocks() - 1)
    }

    /// Creates the discriminator.
    ///
    /// # Panics
    /// If `canvas` is not `final_side` times a power of two (at least 2).
    pub fn init(&self, device: &Device) -> AttnGanDiscriminator {
        let ratio = self.canvas / self.final_side.max(1);
        assert!(
            self.final_side > 0
                && ratio * self.final_side == self.canvas
                && ratio.is_power_of_two()
                && ratio >= 2,
            "the canvas ({}) must be the final side ({}) times a power of two, at least 2",
            self.canvas,
            self.final_side
        );
        let mut widths = vec![self.in_channels];
        widths.extend((0..self.blocks()).map(|k| self.d_base << k));
        let down = widths
            .windows(2)
            .map(|w| {
                Conv2dConfig::new([w[0], w[1]], [4, 4])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device)
            })
            .collect();
        let top = self.d_top();
        let side = self.final_side;
        AttnGanDiscriminator {
            down,
            uncond: Conv2dConfig::new([top, 1], [side, side]).init(device),
            cond_join: Conv2dConfig::new([top + self.d_sentence, top], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            cond: Conv2dConfig::new([top, 1], [side, side]).init(device),
        }
    }
}

impl AttnGanDiscriminator {
    /// Both logits of a batch of images with their sentences.
    ///
    /// - `images`: `[batch, in_channels, canvas, canvas]`.
    /// - `sentence`: `ē`, `[batch, d_sentence]`.
    /// - returns the unconditional and conditional logits, each `[batch]`.
    pub fn forward(&self, images: Tensor<4>, sentence: Tensor<2>) -> DiscriminatorOutput {
        let features = self.features(images);
        DiscriminatorOutput {
            unconditional: self.unconditional(features.clone()),
            conditional: self.conditional(features, sentence),
        }
    }

    /// The downsampled map both heads read.
    ///
    /// - `images`: `[batch, in_channels, canvas, canvas]`.
    /// - returns `[batch, C, final_side, final_side]`.
    pub fn features(&self, images: Tensor<4>) -> Tensor<4> {
        let mut x = images; // [B, C_0, H, W]
        for conv in &self.down {
            x = leaky_relu(conv2d(conv, x), LEAKY_SLOPE); // [B, C_{k+1}, H_k / 2, W_k / 2]
        }
        x
    }

    /// `D_i(x)`: `[batch, C, s, s]` features -> `[batch]` logits.
    pub fn unconditional(&self, features: Tensor<4>) -> Tensor<1> {
        let batch = features.dims()[0];
        conv2d(&self.uncond, features).reshape([batch]) // [B, 1, 1, 1] -> [B]
    }

    /// `D_i(x, ē)`: `[batch, C, s, s]` features and `[batch, d_sentence]` sentences ->
    /// `[batch]` logits. Pass the sentences of other images (see [`mismatched`]) for the
    /// mismatched pairs.
    pub fn conditional(&self, features: Tensor<4>, sentence: Tensor<2>) -> Tensor<1> {
        let [batch, _, h, w] = features.dims();
        let d = sentence.dims()[1];
        let replicated = sentence.reshape([batch, d, 1, 1]).expand([batch, d, h, w]); // [B, d, s, s]
        let joined = Tensor::cat(vec![features, replicated], 1); // [B, C + d, s, s]
        let x = leaky_relu(conv2d(&self.cond_join, joined), LEAKY_SLOPE); // [B, C, s, s]
        conv2d(&self.cond, x).reshape([batch]) // [B, 1, 1, 1] -> [B]
    }
}

/// The sentences rolled by one, row `i` taking row `(i + 1) mod batch`: with a batch of
/// distinct captions, every image is paired with another image's sentence.
///
/// - `sentence`: `[batch, d]`, batch at least 2.
/// - returns `[batch, d]`.
pub fn mismatched(sentence: Tensor<2>) -> Tensor<2> {
    let batch = sentence.dims()[0];
    assert!(batch >= 2, "mismatched pairs need a batch of at least 2");
    let first = sentence.clone().narrow(0, 0, 1); // [1, d]
    let rest = sentence.narrow(0, 1, batch - 1); // [B - 1, d]
    Tensor::cat(vec![rest, first], 0)
}

/// Binary cross-entropy of logits against one label for the whole batch, averaged over the
/// batch (PyTorch's `BCELoss` on the sigmoid, with its default mean): `-mean log σ(x)` for
/// `real`, `-mean log σ(-x)` otherwise, through `log σ` so that large logits do not overflow.
///
/// - `logits`: `[batch]`.
/// - returns a one-element tensor.
pub fn binary_cross_entropy(logits: Tensor<1>, real: bool) -> Tensor<1> {
    let signed = if real { logits } else { logits.neg() };
    log_sigmoid(signed).mean().neg()
}

/// A discriminator's loss and its five parts, each a one-element tensor averaged over its
/// batch ([`discriminator_loss`]).
#[derive(Clone, Debug)]
pub struct DiscriminatorLoss {
    /// `(real_unconditional + real_conditional) / 2 + (fake_unconditional +
    /// fake_conditional + mismatched) / 3`.
    pub total: Tensor<1>,
    /// `BCE(D(x), real)`.
    pub real_unconditional: Tensor<1>,
    /// `BCE(D(x̂), fake)`.
    pub fake_unconditional: Tensor<1>,
    /// `BCE(D(x, ē), real)`.
    pub real_conditional: Tensor<1>,
    /// `BCE(D(x̂, ē), fake)`.
    pub fake_conditional: Tensor<1>,
    /// `BCE(D(x, ē'), fake)`: real images with other images' sentences.
    pub mismatched: Tensor<1>,
}

/// A discriminator's loss on one stage, with the reference code's weights: the two "real"
/// terms averaged, the three "fake" terms (a generated image, unconditionally and with its
/// sentence, and a real image with a mismatched sentence) averaged,
/// `L_D = (BCE(D(x), 1) + BCE(D(x, ē), 1)) / 2 + (BCE(D(x̂), 0) + BCE(D(x̂, ē), 0) +
/// BCE(D(x, ē'), 0)) / 3`, each BCE averaged over its batch. The paper's eq. 5 weighs its
/// four terms ½ each and has no mismatched term.
///
/// - `real`: logits of real images with their sentences, `[batch]` each.
/// - `fake`: logits of generated images (detached from the generator) with the sentences
///   they were drawn from, `[batch]` each.
/// - `mismatched`: conditional logits of real images with other images' sentences, any
///   length (see [`mismatched`] and [`AttnGanDiscriminator::conditional`]).
pub fn discriminator_loss(
    real: &DiscriminatorOutput,
    fake: &DiscriminatorOutput,
    mismatched: Tensor<1>,
) -> DiscriminatorLoss {
    let real_unconditional = binary_cross_entropy(real.unconditional.clone(), true);
    let real_conditional = binary_cross_entropy(real.conditional.clone(), true);
    let fake_unconditional = binary_cross_entropy(fake.unconditional.clone(), false);
    let fake_conditional = binary_cross_entropy(fake.conditional.clone(), false);
    let mismatched = binary_cross_entropy(mismatched, false);
    let total = (real_unconditional.clone() + real_conditional.clone()).div_scalar(2.0)
        + (fake_unconditional.clone() + fake_conditional.clone() + mismatched.clone())
            .div_scalar(3.0);
    DiscriminatorLoss {
        total,
        real_unconditional,
        fake_unconditional,
        real_conditional,
        fake_conditional,
        mismatched,
    }
}

/// The generator's adversarial loss on one stage, as the reference code:
/// `L_G_i = BCE(D(x̂), 1) + BCE(D(x̂, ē), 1)`, each averaged over the batch (the
/// non-saturating form, `-log D` rather than `log(1 - D)`). The paper's eq. 4 weighs the
/// two terms ½ each: half of this.
///
/// - `fake`: both logits of the generated images with their sentences, `[batch]` each.
/// - returns a one-element tensor.
pub fn generator_adversarial_loss(fake: &DiscriminatorOutput) -> Tensor<1> {
    binary_cross_entropy(fake.unconditional.clone(), true)
        + binary_cross_entropy(fake.conditional.clone(), true)
}
