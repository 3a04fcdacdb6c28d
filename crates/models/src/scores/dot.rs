//! Dot alignment, Luong et al. 2015, "Effective Approaches to Attention-based Neural Machine
//! Translation", §3.1: `score(h_t, h̄_s) = h_t^T h̄_s`.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::{AlignmentScore, ScoreConfig, dot_scores, require_equal_sizes};

/// Dot alignment (Luong et al. 2015): `e_i = s^T h_i`. No parameters; the query and key
/// sizes must be equal.
///
/// - prepare: keys `h` `[batch, src_len, d]`, returned as they are.
/// - scores: query `s` `[batch, d]`, keys `[batch, src_len, d]` -> `e` `[batch, src_len]`.
#[derive(Module, Debug)]
pub struct DotScore {
    /// Key size (equal to the query size).
    pub d_key: usize,
}

impl AlignmentScore for DotScore {
    fn init(config: &ScoreConfig, _device: &Device) -> Self {
        DotScore {
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
        dot_scores(query, prepared)
    }
}
