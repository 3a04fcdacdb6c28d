//! The masked soft attention that turns alignment scores into a context vector.
//!
//! Split from the scores ([`crate::scores`]) on purpose: a score maps a query and the keys to
//! one number per source position; [`attend`] (masked softmax, then the weighted sum of the
//! values) is the same for every score, so adding a score never touches masking.

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Int, Tensor};

use crate::kernels::linear;

/// The value given to masked scores before the softmax. `exp(-1e9 - max)` underflows to
/// exactly 0.0 in f32, so padded positions get weight exactly zero, while staying finite
/// (an all-`-inf` row would turn into NaN on some backends).
pub const MASKED_SCORE: f32 = -1.0e9;

/// What an attention step returns: the context and the weights that made it, so plots and
/// tests can read the alignment (as `burn::nn::attention::MhaOutput` does).
#[derive(Clone, Debug)]
pub struct AttentionOutput {
    /// `[batch, d_value]`, the expected annotation under the weights.
    pub context: Tensor<2>,
    /// `[batch, src_len]`, non-negative, each row sums to 1, exactly 0 at padding.
    pub weights: Tensor<2>,
}

/// Softmax over source positions with padded positions removed.
///
/// - `scores`: `[batch, src_len]`.
/// - `mask`: `[batch, src_len]`, true at real tokens; every row needs at least one.
/// - returns `[batch, src_len]` weights.
pub fn masked_softmax(scores: Tensor<2>, mask: Tensor<2, Bool>) -> Tensor<2> {
    softmax(scores.mask_fill(mask.bool_not(), MASKED_SCORE), 1)
}

/// Soft attention: weights from the masked softmax of `scores`, context = Σ_i α_i v_i.
///
/// - `scores`: `[batch, src_len]`; `mask`: `[batch, src_len]`, true at real tokens.
/// - `values`: `[batch, src_len, d_value]`.
///
/// The weighted sum is an elementwise product and a sum over positions rather than a
/// batched `[1, S] x [S, D]` product: for one query per row that is the cheaper form.
pub fn attend(scores: Tensor<2>, mask: Tensor<2, Bool>, values: &Tensor<3>) -> AttentionOutput {
    let [batch, _, d_value] = values.dims();
    let weights = masked_softmax(scores, mask); // [B, S]
    let context = (weights.clone().unsqueeze_dim::<3>(2) * values.clone()) // [B, S, D]
        .sum_dim(1) // [B, 1, D]
        .reshape([batch, d_value]);
    AttentionOutput { context, weights }
}

/// Hard attention's sampler (Xu et al. 2015): one source position per row, drawn with
/// probability equal to its weight. Not differentiable: the weights are detached, and the
/// caller trains through `log α_i` of the drawn position instead (REINFORCE).
///
/// - `weights`: `[batch, src_len]`, rows summing to 1.
/// - returns `[batch, 1]` positions.
pub fn sample_positions(weights: Tensor<2>) -> Tensor<2, Int> {
    weights.detach().categorical(1)
}

/// Luong et al. 2015, §3.2, local-p: the decoder predicts an aligned position
/// `p_t = S · sigmoid(v_p^T tanh(W_p h_t))` (S: the sentence's real length) and the global
/// weights are multiplied by a Gaussian centred there, `exp(-(s - p_t)^2 / (2σ^2))` with
/// `σ = D / 2` for a half-window `D`. As in the paper the result is not renormalized, so the
/// weights sum to at most 1. Departure: the Gaussian is applied over the whole sentence
/// rather than cut at `[p_t - D, p_t + D]`; beyond 2σ it is below 0.14 anyway.
#[derive(burn::module::Module, Debug)]
pub struct PredictiveAlignment {
    /// `W_p`: `[d_query, d_query]`, no bias.
    pub w_p: burn::nn::Linear,
    /// `v_p`: `[d_query, 1]`, no bias.
    pub v_p: burn::nn::Linear,
    /// The half-window `D`.
    pub half_window: usize,
}

impl PredictiveAlignment {
    /// Creates the module for queries of size `d_query`.
    pub fn new(d_query: usize, half_window: usize, device: &burn::tensor::Device) -> Self {
        let linear = |o| {
            burn::nn::LinearConfig::new(d_query, o)
                .with_bias(false)
                .init(device)
        };
        PredictiveAlignment {
            w_p: linear(d_query),
            v_p: linear(1),
            half_window,
        }
    }

    /// The predicted positions `p_t`: query `[batch, d_query]`, mask `[batch, src_len]` ->
    /// `[batch, 1]`, each in `[0, S]`.
    pub fn position(&self, query: Tensor<2>, mask: Tensor<2, Bool>) -> Tensor<2> {
        let real_len = mask.float().sum_dim(1); // [B, 1]
        burn::tensor::activation::sigmoid(linear(
            &self.v_p,
            burn::tensor::activation::tanh(linear(&self.w_p, query)),
        )) * real_len
    }

    /// Local attention: global weights from `scores` times the Gaussian around `p_t`, and the
    /// context they make. Shapes as in [`attend`]; `query` is `[batch, d_query]`.
    pub fn attend(
        &self,
        scores: Tensor<2>,
        query: Tensor<2>,
        mask: Tensor<2, Bool>,
        values: &Tensor<3>,
    ) -> AttentionOutput {
        let [batch, src_len, d_value] = values.dims();
        let p = self.position(query, mask.clone()); // [B, 1]
        let positions = Tensor::<1, Int>::arange(0..src_len as i64, &values.device())
            .float()
            .unsqueeze_dim::<2>(0); // [1, S]
        let sigma = self.half_window as f64 / 2.0;
        let distance = positions - p; // [B, S]
        let gauss = (distance.clone() * distance)
            .div_scalar(-2.0 * sigma * sigma)
            .exp();
        let weights = masked_softmax(scores, mask) * gauss; // [B, S]
        let context = (weights.clone().unsqueeze_dim::<3>(2) * values.clone())
            .sum_dim(1)
            .reshape([batch, d_value]);
        AttentionOutput { context, weights }
    }
}
