//! Additive (concat) alignment, Bahdanau et al. 2015, "Neural Machine Translation by Jointly
//! Learning to Align and Translate", eq. (6) and Appendix A.1.2:
//! `e_ti = v^T tanh(W s_{t-1} + U h_i)`.
//!
//! `U h_i` does not depend on the step: it is computed once per sentence. The energy itself
//! runs through the fused kernel [`crate::kernels::additive_energy`].

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use super::{AlignmentScore, ScoreConfig, linear_layer};
use crate::kernels::{additive_energy, linear, linear_steps};

/// Additive alignment (Bahdanau et al. 2015, eq. (6)): `e_i = v^T tanh(W s + U h_i)`.
///
/// - prepare: keys `h` `[batch, src_len, d_key]` -> `U h` `[batch, src_len, d_attention]`.
/// - scores: query `s` `[batch, d_query]`, `U h` `[batch, src_len, d_attention]` -> `e`
///   `[batch, src_len]`.
#[derive(Module, Debug)]
pub struct AdditiveScore {
    /// `W`: query projection `[d_query, d_attention]`, no bias.
    pub query_proj: Linear,
    /// `U`: key projection `[d_key, d_attention]`, no bias (a bias here would duplicate one
    /// on `W s`; the paper has none).
    pub key_proj: Linear,
    /// `v`: `[d_attention, 1]`, no bias (a constant shift does not change a softmax).
    pub v: Linear,
}

impl AdditiveScore {
    /// `U h`: keys `[batch, src_len, d_key]` -> `[batch, src_len, d_attention]`.
    pub fn project_keys(&self, keys: Tensor<3>) -> Tensor<3> {
        linear_steps(&self.key_proj, keys)
    }

    /// `[batch, d_query]` against `U h` `[batch, src_len, d_attention]` -> `[batch, src_len]`.
    pub fn scores(&self, query: Tensor<2>, projected_keys: &Tensor<3>) -> Tensor<2> {
        let d_attention = projected_keys.dims()[2];
        let q = linear(&self.query_proj, query); // [B, A]
        let v = self.v.weight.val().reshape([d_attention]); // [A, 1] -> [A]
        additive_energy(projected_keys.clone(), q, v) // [B, S]
    }
}

impl AlignmentScore for AdditiveScore {
    fn init(config: &ScoreConfig, device: &Device) -> Self {
        AdditiveScore {
            query_proj: linear_layer(config.d_query, config.d_attention, false, device),
            key_proj: linear_layer(config.d_key, config.d_attention, false, device),
            v: linear_layer(config.d_attention, 1, false, device),
        }
    }

    /// [`AdditiveScore::project_keys`].
    fn prepare(&self, keys: Tensor<3>) -> Tensor<3> {
        self.project_keys(keys)
    }

    /// [`AdditiveScore::scores`].
    fn scores(&self, query: Tensor<2>, prepared: &Tensor<3>) -> Tensor<2> {
        AdditiveScore::scores(self, query, prepared)
    }
}
