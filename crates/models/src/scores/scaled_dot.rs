//! Scaled dot alignment, Vaswani et al. 2017, "Attention Is All You Need", §3.2.1:
//! `softmax(Q K^T / sqrt(d_k))`, here for one query per row.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::{AlignmentScore, ScoreConfig, dot_scores, require_equal_sizes};

/// Scaled dot alignment (Vaswani et al. 2017): `e_i = s^T h_i / sqrt(d)`, which keeps the
/// scores' variance near 1 however large `d` is, so the softmax does not saturate. No
/// parameters; the query and key sizes must be equal.
///
/// - prepare: keys `h` `[batch, src_len, d]`, returned as they are.
/// - scores: query `s` `[batch, d]`, keys `[batch, src_len, d]` -> `e` `[batch, src_len]`.
#[derive(Module, Debug)]
pub struct ScaledDotScore {
    /// Key size `d` (equal to the query size).
    pub d_key: usize,
}

impl AlignmentScore for ScaledDotScore {
    fn init(config: &ScoreConfig, _device: &Device) -> Self {
        ScaledDotScore {
            d_key: config.d_key,
        }
    }

    fn check(config: &ScoreConfig) -> Result<(), String> {
        require_equal_sizes(config)
    }

    fn prepare(&self, keys: Tensor<3>) -> Tensor<3> {
        keys
    }

    fn scores(&self, query: Tensor<2>, prepared: &Tensor<3>) -> Tensor<2> {
        dot_scores(query, prepared).div_scalar((self.d_key as f64).sqrt())
    }
}
