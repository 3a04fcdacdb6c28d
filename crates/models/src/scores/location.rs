//! Location-based alignment, Luong et al. 2015, "Effective Approaches to Attention-based
//! Neural Machine Translation", §3.1: `a_t = softmax(W_a h_t)`, scores from the query alone,
//! one output per source position.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use super::{AlignmentScore, ScoreConfig, linear_layer};
use crate::kernels::linear;

/// Location-based alignment (Luong et al. 2015, §3.1): `e_i = (W_a s)_i`, the keys' values
/// unused (only their number, `src_len`, which must not exceed `max_src_len`).
///
/// - prepare: keys `[batch, src_len, d_key]`, returned as they are.
/// - scores: query `s` `[batch, d_query]`, keys `[batch, src_len, d_key]` -> `e`
///   `[batch, src_len]`, the first `src_len` of `W_a s + b` `[batch, max_src_len]`.
///
/// # Panics
/// In `scores`, if `src_len > max_src_len`.
#[derive(Module, Debug)]
pub struct LocationScore {
    /// `W_a`: `[d_query, max_src_len]`, with bias.
    pub position_proj: Linear,
}

impl AlignmentScore for LocationScore {
    fn init(config: &ScoreConfig, device: &Device) -> Self {
        LocationScore {
            position_proj: linear_layer(config.d_query, config.max_src_len, true, device),
        }
    }

    fn prepare(&self, keys: Tensor<3>) -> Tensor<3> {
        keys
    }

    fn scores(&self, query: Tensor<2>, prepared: &Tensor<3>) -> Tensor<2> {
        let src_len = prepared.dims()[1];
        let max = self.position_proj.weight.dims()[1];
        assert!(
            src_len <= max,
            "the location score addresses at most {max} positions, got a source of {src_len}"
        );
        linear(&self.position_proj, query).narrow(1, 0, src_len)
    }
}
