//! AttnGAN's generator: `F_0` (stage 1, the low-resolution image from the sentence and the
//! noise) and `F_1` (stage 2, the image at twice the side, conditioned on the words through
//! [`WordAttention`]); see the parent module's docs.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::sigmoid;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Bool, Device, Distribution, Tensor};
use serde::{Deserialize, Serialize};

use crate::kernels::{conv2d, glu, layer_norm, linear};
use crate::vision::word_attention::{
    ConditioningAugmentation, ConditioningAugmentationConfig, WordAttention, WordAttentionConfig,
    kl_divergence,
};

/// What stage 2 reads of the caption at each sub-region of `h_0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneratorConditioning {
    /// AttnGAN: the word-context vector `F^attn(e, h_0)` of each sub-region (§3.1).
    WordAttention,
    /// The ablation without attention: the sentence condition `ĉ` broadcast over every
    /// sub-region, as StackGAN's stage II.
    SentenceOnly,
}

impl GeneratorConditioning {
    /// The two variants, in the order of tables and legends.
    pub const ALL: [GeneratorConditioning; 2] = [
        GeneratorConditioning::WordAttention,
        GeneratorConditioning::SentenceOnly,
    ];

    /// The name used in CSVs, legends and config files.
    pub fn name(self) -> &'static str {
        match self {
            GeneratorConditioning::WordAttention => "word-attention",
            GeneratorConditioning::SentenceOnly => "sentence-only",
        }
    }
}

/// Configuration of an [`AttnGanGenerator`]. The defaults give a 24 × 24 image from stage 1
/// and a 48 × 48 one from stage 2, from a 6 × 6 map of `4C = 128` channels.
#[derive(Config, Debug)]
pub struct AttnGanGeneratorConfig {
    /// Size of the sentence vector `ē`: the DAMSM text encoder's `d_common`. 64.
    #[config(default = 64)]
    pub d_sentence: usize,
    /// Size `D` of the word features `e`: the DAMSM text encoder's `d_common`. 64.
    #[config(default = 64)]
    pub d_word: usize,
    /// Size of the condition `ĉ` of conditioning augmentation. 32 (the reference code: 100).
    #[config(default = 32)]
    pub d_condition: usize,
    /// Size of the noise `z`. 32 (the reference code: 100).
    #[config(default = 32)]
    pub d_noise: usize,
    /// Channels `C = D̂` of the hidden features `h_0` and `h_1`; the 6 × 6 map has `4C`,
    /// the 12 × 12 one `2C`. 32: the reference code's width for birds.
    #[config(default = 32)]
    pub d_hidden: usize,
    /// Side of the stage-2 image, a multiple of 8; stage 1 draws at half of it, from a map of
    /// an eighth of it. 48.
    #[config(default = 48)]
    pub canvas: usize,
    /// Residual blocks of stage 2, after the join. 2, as the reference code.
    #[config(default = 2)]
    pub residual_blocks: usize,
    /// Word attention (AttnGAN) or the sentence condition broadcast (the ablation).
    #[config(default = "GeneratorConditioning::WordAttention")]
    pub conditioning: GeneratorConditioning,
}

/// Nearest-neighbour 2× upsampling, a 3 × 3 convolution to twice the output channels, a
/// layer normalization and a GLU that halves them again (the reference code's `upBlock`).
#[derive(Module, Debug)]
pub struct UpBlock {
    /// `[c_in] -> [2 c_out]`, 3 × 3, same padding.
    pub conv: Conv2d,
    /// Over all channels and pixels of each image (`GroupNorm` with one group).
    pub norm: GroupNorm,
}

/// `x + conv(GLU(norm(conv(x))))` with a normalization after the second convolution too
/// (the reference code's `ResBlock`).
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// `[c] -> [2c]`, 3 × 3, same padding.
    pub conv1: Conv2d,
    /// After `conv1`.
    pub norm1: GroupNorm,
    /// `[c] -> [c]`, 3 × 3, same padding.
    pub conv2: Conv2d,
    /// After `conv2`.
    pub norm2: GroupNorm,
}

/// AttnGAN's generator, two stages; see the parent module's docs.
#[derive(Module, Debug)]
pub struct AttnGanGenerator {
    /// `F^ca`: `ē` to `ĉ`, and `μ`, `log σ²` for the KL term.
    pub ca: ConditioningAugmentation,
    /// Stage 1: `[ĉ; z] -> [2 · 4C · s · s]`, then a GLU, to the `s × s` map (`s` = canvas / 8).
    pub fc: Linear,
    /// Stage 1: `4C -> 2C -> C` channels, side `s -> 2s -> 4s`.
    pub up0: Vec<UpBlock>,
    /// Stage 1's image head: `[C] -> [3]`, 3 × 3, then a sigmoid.
    pub image0: Conv2d,
    /// Stage 2's `F^attn`; `None` for [`GeneratorConditioning::SentenceOnly`].
    pub attention: Option<WordAttention>,
    /// Stage 2, on the join `[h_0; context]` (`C + C` or `C + d_condition` channels).
    pub residual: Vec<ResidualBlock>,
    /// Stage 2: the join to `C` channels, side `4s -> 8s`.
    pub up1: UpBlock,
    /// Stage 2's image head: `[C] -> [3]`, 3 × 3, then a sigmoid.
    pub image1: Conv2d,
    /// Size of `z`.
    pub d_noise: usize,
    /// Side `s` of the first map.
    pub base_side: usize,
    /// What stage 2 is conditioned on.
    #[module(skip)]
    pub conditioning: GeneratorConditioning,
}

/// The generator's random inputs, drawn by the caller so that a run can be replayed
/// ([`AttnGanGenerator::draw_noise`]).
#[derive(Clone, Debug)]
pub struct GeneratorNoise {
    /// `z ~ N(0, I)`, `[batch, d_noise]`.
    pub z: Tensor<2>,
    /// `ε ~ N(0, I)` of conditioning augmentation, `[batch, d_condition]`.
    pub epsilon: Tensor<2>,
}

/// What [`AttnGanGenerator::forward`] returns.
#[derive(Clone, Debug)]
pub struct GeneratorOutput {
    /// Stage 1's image `x_0`, `[batch, 3, canvas / 2, canvas / 2]`, values in (0, 1).
    pub image0: Tensor<4>,
    /// Stage 2's image `x_1`, `[batch, 3, canvas, canvas]`, values in (0, 1).
    pub image1: Tensor<4>,
    /// Stage 1's hidden features `h_0`, `[batch, C, canvas / 2, canvas / 2]`.
    pub hidden0: Tensor<4>,
    /// Stage 2's hidden features `h_1`, `[batch, C, canvas, canvas]`.
    pub hidden1: Tensor<4>,
    /// Stage 2's attention `β`, `[batch, N, T]` with `N = (canvas / 2)²` sub-regions of `h_0`
    /// (row-major), summing to 1 over the real words, 0 at padded ones; `None` for
    /// [`GeneratorConditioning::SentenceOnly`].
    pub weights: Option<Tensor<3>>,
    /// Conditioning augmentation's `μ`, `[batch, d_condition]`.
    pub mean: Tensor<2>,
    /// Conditioning augmentation's `log σ²`, `[batch, d_condition]`.
    pub log_var: Tensor<2>,
}

impl GeneratorOutput {
    /// The KL term of conditioning augmentation, see [`kl_divergence`]: a
    /// one-element tensor.
    pub fn kl(&self) -> Tensor<1> {
        kl_divergence(self.mean.clone(), self.log_var.clone())
    }
}

/// A 3 × 3 convolution with same padding.
fn conv3x3(c_in: usize, c_out: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [3, 3])
        .with_padding(PaddingConfig2d::Same)
        .init(device)
}

/// Layer normalization of `[batch, c, h, w]` maps: one group over all channels and pixels.
fn init_layer_norm(channels: usize, device: &Device) -> GroupNorm {
    GroupNormConfig::new(1, channels).init(device)
}

fn up_block(c_in: usize, c_out: usize, device: &Device) -> UpBlock {
    UpBlock {
        conv: conv3x3(c_in, 2 * c_out, device),
        norm: init_layer_norm(2 * c_out, device),
    }
}

impl AttnGanGeneratorConfig {
    /// Size of the map stage 2 joins to `h_0`: `C` (word contexts) or `d_condition`.
    pub fn d_context(&self) -> usize {
        match self.conditioning {
            GeneratorConditioning::WordAttention => self.d_hidden,
            GeneratorConditioning::SentenceOnly => self.d_condition,
        }
    }

    /// Creates the generator.
    ///
    /// # Panics
    /// If `canvas` is not a positive multiple of 8.
    pub fn init(&self, device: &Device) -> AttnGanGenerator {
        assert!(
            self.canvas > 0 && self.canvas.is_multiple_of(8),
            "the canvas ({}) must be a positive multiple of 8: three doublings from the first map",
            self.canvas
        );
        let c = self.d_hidden;
        let base_side = self.canvas / 8;
        let joined = c + self.d_context();
        AttnGanGenerator {
            ca: ConditioningAugmentationConfig::new()
                .with_d_sentence(self.d_sentence)
                .with_d_condition(self.d_condition)
                .init(device),
            fc: LinearConfig::new(
                self.d_condition + self.d_noise,
                2 * 4 * c * base_side * base_side,
            )
            .init(device),
            up0: vec![up_block(4 * c, 2 * c, device), up_block(2 * c, c, device)],
            image0: conv3x3(c, 3, device),
            attention: (self.conditioning == GeneratorConditioning::WordAttention).then(|| {
                WordAttentionConfig::new()
                    .with_d_word(self.d_word)
                    .with_d_image(c)
                    .init(device)
            }),
            residual: (0..self.residual_blocks)
                .map(|_| ResidualBlock {
                    conv1: conv3x3(joined, 2 * joined, device),
                    norm1: init_layer_norm(2 * joined, device),
                    conv2: conv3x3(joined, joined, device),
                    norm2: init_layer_norm(joined, device),
                })
                .collect(),
            up1: up_block(joined, c, device),
            image1: conv3x3(c, 3, device),
            d_noise: self.d_noise,
            base_side,
            conditioning: self.conditioning,
        }
    }
}

impl UpBlock {
    /// `[batch, c_in, h, w]` -> `[batch, c_out, 2h, 2w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let options =
            InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * h, 2 * w]);
        let x = interpolate(x, options); // [B, c_in, 2h, 2w]
        let x = layer_norm(&self.norm, conv2d(&self.conv, x)); // [B, 2 c_out, 2h, 2w]
        glu(x, 1) // [B, c_out, 2h, 2w]
    }
}

impl ResidualBlock {
    /// `[batch, c, h, w]` -> `[batch, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = glu(layer_norm(&self.norm1, conv2d(&self.conv1, x.clone())), 1); // [B, c, h, w]
        x + layer_norm(&self.norm2, conv2d(&self.conv2, y)) // [B, c, h, w]
    }
}

impl AttnGanGenerator {
    /// What stage 2 is conditioned on.
    pub fn conditioning(&self) -> GeneratorConditioning {
        self.conditioning
    }

    /// Fresh `z` and `ε`, standard normal, from the device's generator (`device.seed`).
    pub fn draw_noise(&self, batch: usize, device: &Device) -> GeneratorNoise {
        let normal = Distribution::Normal(0.0, 1.0);
        GeneratorNoise {
            z: Tensor::random([batch, self.d_noise], normal, device),
            epsilon: Tensor::random([batch, self.ca.d_condition], normal, device),
        }
    }

    /// Both stages' images from a caption and the noise.
    ///
    /// - `sentence`: `ē`, `[batch, d_sentence]`.
    /// - `words`: `e`, `[batch, T, d_word]`; `mask`: `[batch, T]`, true at real words (at
    ///   least one per caption). Padded words change nothing; the sentence-only variant
    ///   reads neither.
    /// - `noise`: `z` `[batch, d_noise]` and `ε` `[batch, d_condition]`.
    /// - returns the images `[batch, 3, canvas / 2, canvas / 2]` and `[batch, 3, canvas,
    ///   canvas]`, the hidden maps, the attention `[batch, (canvas / 2)², T]` (word attention
    ///   only) and `μ`, `log σ²` `[batch, d_condition]`.
    pub fn forward(
        &self,
        sentence: Tensor<2>,
        words: Tensor<3>,
        mask: Tensor<2, Bool>,
        noise: GeneratorNoise,
    ) -> GeneratorOutput {
        let batch = sentence.dims()[0];
        let s = self.base_side;
        let ca = self.ca.forward_with_noise(sentence, noise.epsilon); // ĉ: [B, d_c]
        // F_0: [ĉ; z] -> [B, 2 · 4C · s²] -> GLU -> [B, 4C, s, s].
        let x = linear(
            &self.fc,
            Tensor::cat(vec![ca.condition.clone(), noise.z], 1),
        );
        let x = glu(x, 1); // [B, 4C · s²]
        let channels = x.dims()[1] / (s * s);
        let mut x = x.reshape([batch, channels, s, s]); // [B, 4C, s, s]
        for block in &self.up0 {
            x = block.forward(x); // [B, 2C, 2s, 2s], then [B, C, 4s, 4s]
        }
        let hidden0 = x; // h_0: [B, C, 4s, 4s]
        let image0 = sigmoid(conv2d(&self.image0, hidden0.clone())); // x_0: [B, 3, 4s, 4s]

        // F_1: h_0 joined with what each sub-region reads of the caption.
        let [_, c, side, _] = hidden0.dims();
        let (context, weights) = match &self.attention {
            Some(attention) => {
                // Sub-regions as rows: [B, C, N] -> [B, N, C], N = (4s)².
                let rows = hidden0
                    .clone()
                    .reshape([batch, c, side * side])
                    .swap_dims(1, 2);
                let out = attention.forward(rows, words, mask); // context [B, N, C], β [B, N, T]
                let context = out.context.swap_dims(1, 2).reshape([batch, c, side, side]); // [B, C, 4s, 4s]
                (context, Some(out.weights))
            }
            None => {
                let d = ca.condition.dims()[1];
                let broadcast = ca
                    .condition
                    .clone()
                    .reshape([batch, d, 1, 1])
                    .expand([batch, d, side, side]); // ĉ everywhere: [B, d_c, 4s, 4s]
                (broadcast, None)
            }
        };
        let mut x = Tensor::cat(vec![hidden0.clone(), context], 1); // [B, C + C', 4s, 4s]
        for block in &self.residual {
            x = block.forward(x); // [B, C + C', 4s, 4s]
        }
        let hidden1 = self.up1.forward(x); // h_1: [B, C, 8s, 8s]
        let image1 = sigmoid(conv2d(&self.image1, hidden1.clone())); // x_1: [B, 3, 8s, 8s]
        GeneratorOutput {
            image0,
            image1,
            hidden0,
            hidden1,
            weights,
            mean: ca.mean,
            log_var: ca.log_var,
        }
    }
}
