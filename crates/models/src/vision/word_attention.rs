//! The two ways AttnGAN's generator reads a caption (Xu et al. 2018, "AttnGAN: Fine-Grained
//! Text to Image Generation with Attentional Generative Adversarial Networks", CVPR, §3.1).
//!
//! - [`WordAttention`], the attention model `F^attn(e, h)` (eq. 2): the word features
//!   `e ∈ R^{D×T}` are brought to the image features' space by a perceptron, `e' = U e`,
//!   and each sub-region `j` of the hidden image features `h ∈ R^{D̂×N}` (the query) gets a
//!   word-context vector `c_j = Σ_i β_{j,i} e'_i`, with
//!   `β_{j,i} = exp(s'_{j,i}) / Σ_k exp(s'_{j,k})` and `s'_{j,i} = h_j^T e'_i`: what the next
//!   stage should draw at `j`, from the words relevant to what is there already. Padded words
//!   take no weight: the softmax runs over each caption's real words only.
//! - [`ConditioningAugmentation`], `F^ca(ē)` (eq. 1, from StackGAN, Zhang et al. 2017,
//!   §3.1): the sentence vector gives a mean `μ(ē)` and a diagonal variance `σ²(ē)`, and
//!   the first stage is conditioned on a sample `ĉ = μ + σ ⊙ ε`, `ε ~ N(0, I)`, with the
//!   regularizer `D_KL(N(μ, σ²) || N(0, I)) = ½ Σ (μ² + σ² - 1 - log σ²)`
//!   ([`kl_divergence`]) keeping the conditioning manifold smooth.
//!
//! Departures from the paper and its reference code (github.com/taoxugit/AttnGAN):
//!
//! - `U` has no bias, as the reference's 1 × 1 convolution; the hidden features come as
//!   `[batch, N, D̂]` rows (a `[batch, D̂, H, W]` map flattened row-major, `N = H·W`), as
//!   [`super::ImageEncoder::forward`] gives its annotations.
//! - The reference code masks padded words with `mask.repeat(N, 1)` over rows laid out
//!   sub-region by sub-region within each caption, which lines the rows up with other
//!   captions' masks as soon as a batch holds captions of different lengths; here each
//!   sub-region is masked with its own caption's padding.
//! - Conditioning augmentation's mean and log-variance come from one plain linear layer
//!   `[d_sentence] -> [2 d_condition]` (first half `μ`, second `log σ²`); the reference code
//!   maps to `[4 d_condition]` and halves that with a gated linear unit (GLU) first.
//! - The KL term is summed over the condition's dimensions and averaged over the batch,
//!   StackGAN's `D_KL` per sample; the reference code averages over both, `1 / d_condition`
//!   of this value.
//! - Sizes are small: `D = 64` (the DAMSM's common space), `D̂ = 32` as the reference's
//!   generator for birds, and a condition of 32 where the reference uses 100.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Distribution, Tensor};

use crate::attention::MASKED_SCORE;
use crate::kernels::{linear, linear_steps};

/// Configuration of a [`WordAttention`].
#[derive(Config, Debug)]
pub struct WordAttentionConfig {
    /// Size `D` of the word features `e`: the DAMSM text encoder's `d_common`. 64.
    #[config(default = 64)]
    pub d_word: usize,
    /// Size `D̂` of the hidden image features `h` (channels of the generator's feature map).
    /// 32: the reference code's generator width for birds.
    #[config(default = 32)]
    pub d_image: usize,
}

/// AttnGAN's attention model `F^attn(e, h)` (§3.1, eq. 2); see the module docs.
#[derive(Module, Debug)]
pub struct WordAttention {
    /// `U`: word feature `[D] -> [D̂]`, no bias.
    pub project: Linear,
}

/// What [`WordAttention::forward`] returns, the context with the weights that made it (as
/// [`crate::attention::AttentionOutput`]).
#[derive(Clone, Debug)]
pub struct WordAttentionOutput {
    /// The word-context vectors `c_j`, `[batch, N, D̂]`: `F^attn(e, h)`, one per sub-region.
    pub context: Tensor<3>,
    /// `β`, `[batch, N, T]`: each sub-region's weights over the words, summing to 1 over the
    /// real words and exactly 0 at padded ones.
    pub weights: Tensor<3>,
}

impl WordAttentionConfig {
    /// Creates the module.
    pub fn init(&self, device: &Device) -> WordAttention {
        WordAttention {
            project: LinearConfig::new(self.d_word, self.d_image)
                .with_bias(false)
                .init(device),
        }
    }
}

impl WordAttention {
    /// The word-context vector of every sub-region.
    ///
    /// - `hidden`: `h`, `[batch, N, D̂]`, one row per sub-region.
    /// - `words`: `e`, `[batch, T, D]`; `mask`: `[batch, T]`, true at real words (at least
    ///   one per caption). Padded words change nothing.
    /// - returns the context `[batch, N, D̂]` and the weights `[batch, N, T]`.
    pub fn forward(
        &self,
        hidden: Tensor<3>,
        words: Tensor<3>,
        mask: Tensor<2, Bool>,
    ) -> WordAttentionOutput {
        let [batch, regions, _] = hidden.dims();
        let len = words.dims()[1];
        assert_eq!(
            mask.dims(),
            [batch, len],
            "word attention: the mask does not match the words"
        );
        let projected = linear_steps(&self.project, words); // e' = U e: [B, T, D̂]
        // s'_{j,i} = h_j^T e'_i: [B, N, D̂] x [B, D̂, T] -> [B, N, T].
        let scores = hidden.matmul(projected.clone().swap_dims(1, 2));
        let padded = mask
            .bool_not()
            .reshape([batch, 1, len])
            .expand([batch, regions, len]); // [B, N, T]
        // β_j: softmax over the caption's real words (eq. 2): [B, N, T].
        let weights = softmax(scores.mask_fill(padded, MASKED_SCORE), 2);
        // c_j = Σ_i β_{j,i} e'_i: [B, N, T] x [B, T, D̂] -> [B, N, D̂].
        let context = weights.clone().matmul(projected);
        WordAttentionOutput { context, weights }
    }
}

/// Configuration of a [`ConditioningAugmentation`].
#[derive(Config, Debug)]
pub struct ConditioningAugmentationConfig {
    /// Size of the sentence vector `ē`: the DAMSM text encoder's `d_common`. 64.
    #[config(default = 64)]
    pub d_sentence: usize,
    /// Size of the condition `ĉ`. 32 (the reference code: 100).
    #[config(default = 32)]
    pub d_condition: usize,
}

/// Conditioning augmentation `F^ca` (AttnGAN §3.1, StackGAN §3.1); see the module docs.
#[derive(Module, Debug)]
pub struct ConditioningAugmentation {
    /// `ē` to `[μ; log σ²]`: `[d_sentence] -> [2 d_condition]`, with bias.
    pub project: Linear,
    /// `d_condition`, where the output splits into `μ` and `log σ²`.
    pub d_condition: usize,
}

/// What [`ConditioningAugmentation`] returns.
#[derive(Clone, Debug)]
pub struct ConditioningOutput {
    /// The sampled condition `ĉ = μ + σ ⊙ ε`, `[batch, d_condition]`.
    pub condition: Tensor<2>,
    /// `μ`, `[batch, d_condition]`.
    pub mean: Tensor<2>,
    /// `log σ²`, `[batch, d_condition]`.
    pub log_var: Tensor<2>,
}

impl ConditioningOutput {
    /// `D_KL(N(μ, σ²) || N(0, I))` of this output; see [`kl_divergence`].
    pub fn kl(&self) -> Tensor<1> {
        kl_divergence(self.mean.clone(), self.log_var.clone())
    }
}

impl ConditioningAugmentationConfig {
    /// Creates the module.
    pub fn init(&self, device: &Device) -> ConditioningAugmentation {
        ConditioningAugmentation {
            project: LinearConfig::new(self.d_sentence, 2 * self.d_condition).init(device),
            d_condition: self.d_condition,
        }
    }
}

impl ConditioningAugmentation {
    /// A condition with `ε ~ N(0, I)` drawn from the device's generator (`device.seed`).
    ///
    /// - `sentence`: `ē`, `[batch, d_sentence]`.
    /// - returns the condition, mean and log-variance, each `[batch, d_condition]`.
    pub fn forward(&self, sentence: Tensor<2>) -> ConditioningOutput {
        let batch = sentence.dims()[0];
        let noise = Tensor::random(
            [batch, self.d_condition],
            Distribution::Normal(0.0, 1.0),
            &sentence.device(),
        );
        self.forward_with_noise(sentence, noise)
    }

    /// A condition with the caller's `ε`.
    ///
    /// - `sentence`: `ē`, `[batch, d_sentence]`.
    /// - `noise`: `ε`, `[batch, d_condition]`.
    /// - returns the condition, mean and log-variance, each `[batch, d_condition]`.
    pub fn forward_with_noise(&self, sentence: Tensor<2>, noise: Tensor<2>) -> ConditioningOutput {
        let both = linear(&self.project, sentence); // [μ; log σ²]: [B, 2 d_c]
        let mean = both.clone().narrow(1, 0, self.d_condition); // μ: [B, d_c]
        let log_var = both.narrow(1, self.d_condition, self.d_condition); // log σ²: [B, d_c]
        let std = log_var.clone().mul_scalar(0.5).exp(); // σ: [B, d_c]
        ConditioningOutput {
            condition: mean.clone() + std * noise, // ĉ = μ + σ ⊙ ε: [B, d_c]
            mean,
            log_var,
        }
    }
}

/// `D_KL(N(μ, σ²) || N(0, I)) = ½ Σ_k (μ_k² + σ_k² - 1 - log σ_k²)` of each row, averaged
/// over the batch (StackGAN §3.1; see the module docs for the reference code's reduction).
///
/// - `mean`: `μ`, `[batch, d]`; `log_var`: `log σ²`, `[batch, d]`.
/// - returns a one-element tensor.
pub fn kl_divergence(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    let batch = mean.dims()[0];
    let terms = mean.clone() * mean + log_var.clone().exp() - log_var.add_scalar(1.0); // [B, d]
    terms.sum().mul_scalar(0.5 / batch as f64)
}
