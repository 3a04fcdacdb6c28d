//! Alignment scores and the masked soft attention that turns scores into a context vector.
//!
//! Split in two on purpose: a *score* module maps a query and the keys to one number per
//! source position; [`attend`] (masked softmax, then the weighted sum of the values) is the
//! same for every score. Adding a score function therefore never touches masking.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{softmax, tanh};
use burn::tensor::{Bool, Device, Tensor};

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

/// Configuration of an [`AdditiveScore`].
#[derive(Config, Debug)]
pub struct AdditiveScoreConfig {
    /// Size of the query (the decoder state).
    pub d_query: usize,
    /// Size of a key (an encoder annotation).
    pub d_key: usize,
    /// Size of the hidden layer of the alignment model (n' in Bahdanau et al.).
    pub d_attention: usize,
}

/// Additive (concat) alignment, Bahdanau et al. 2015, eq. (6) and Appendix A.1.2:
/// `e_ti = v^T tanh(W s_{t-1} + U h_i)`.
///
/// `U h_i` does not depend on the decoder step, so it is computed once per sequence by
/// [`AdditiveScore::project_keys`] and reused at every step.
#[derive(Module, Debug)]
pub struct AdditiveScore {
    /// `W`: query projection `[d_query, d_attention]`, no bias.
    pub query_proj: Linear,
    /// `U`: key projection `[d_key, d_attention]`, no bias (one bias on `W s` would be
    /// redundant with it; there is none in the paper either).
    pub key_proj: Linear,
    /// `v`: `[d_attention, 1]`, no bias (a constant shift does not change a softmax).
    pub v: Linear,
}

impl AdditiveScoreConfig {
    /// Creates the module.
    pub fn init(&self, device: &Device) -> AdditiveScore {
        let no_bias = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        AdditiveScore {
            query_proj: no_bias(self.d_query, self.d_attention),
            key_proj: no_bias(self.d_key, self.d_attention),
            v: no_bias(self.d_attention, 1),
        }
    }
}

impl AdditiveScore {
    /// `U h`: keys `[batch, src_len, d_key]` -> `[batch, src_len, d_attention]`.
    pub fn project_keys(&self, keys: Tensor<3>) -> Tensor<3> {
        self.key_proj.forward(keys)
    }

    /// Scores of one query against all positions.
    ///
    /// - `query`: `[batch, d_query]`.
    /// - `projected_keys`: `[batch, src_len, d_attention]` from [`Self::project_keys`].
    /// - returns `[batch, src_len]`.
    pub fn scores(&self, query: Tensor<2>, projected_keys: &Tensor<3>) -> Tensor<2> {
        let [batch, src_len, _] = projected_keys.dims();
        let q = self.query_proj.forward(query).unsqueeze_dim::<3>(1); // [B, 1, A]
        let hidden = tanh(projected_keys.clone() + q); // [B, S, A]
        self.v.forward(hidden).reshape([batch, src_len]) // [B, S, 1] -> [B, S]
    }
}
