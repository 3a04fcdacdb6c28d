//! General (bilinear) alignment, Luong et al. 2015, "Effective Approaches to Attention-based
//! Neural Machine Translation", §3.1: `score(h_t, h̄_s) = h_t^T W_a h̄_s`.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use super::{AlignmentScore, ScoreConfig, dot_scores, linear_layer};
use crate::kernels::linear;

/// General (bilinear) alignment (Luong et al. 2015): `e_i = s^T W_a h_i`, computed as
/// `(s W_a) · h_i` so the product with `W_a` happens once per step, not once per position.
///
/// - prepare: keys `h` `[batch, src_len, d_key]`, returned as they are.
/// - scores: query `s` `[batch, d_query]`, keys `[batch, src_len, d_key]` -> `e`
///   `[batch, src_len]`.
#[derive(Module, Debug)]
pub struct GeneralScore {
    /// `W_a`: `[d_query, d_key]`.
    pub bilinear: Linear,
}

impl AlignmentScore for GeneralScore {
    fn init(config: &ScoreConfig, device: &Device) -> Self {
        GeneralScore {
            bilinear: linear_layer(config.d_query, config.d_key, false, device),
        }
    }

    fn prepare(&self, keys: Tensor<3>) -> Tensor<3> {
        keys
    }

    fn scores(&self, query: Tensor<2>, prepared: &Tensor<3>) -> Tensor<2> {
        dot_scores(linear(&self.bilinear, query), prepared)
    }
}
