//! Content-based addressing, Graves et al. 2014, "Neural Turing Machines", §3.3.1.
//!
//! The query emits a key `k = W_k s` and a strength `β = softplus(w_β·s + b_β) ≥ 0`;
//! `e_i = β cos(k, h_i)`. Cosine alone lies in [-1, 1], too flat for a sharp softmax; β
//! learns how sharp to be.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor};

use super::{AlignmentScore, ScoreConfig, dot_scores, linear_layer};
use crate::kernels::linear;

/// Content-based addressing (Graves et al. 2014, §3.3.1):
/// `e_i = β(s) cos(W_k s, h_i)`, `β(s) = softplus(w_β·s + b_β)`.
///
/// - prepare: keys `h` `[batch, src_len, d_key]` -> `h_i / |h_i|` `[batch, src_len, d_key]`.
/// - scores: query `s` `[batch, d_query]`, prepared keys `[batch, src_len, d_key]` -> `e`
///   `[batch, src_len]`.
#[derive(Module, Debug)]
pub struct ContentScore {
    /// `W_k`: `[d_query, d_key]`.
    pub key_proj: Linear,
    /// `w_β, b_β`: `[d_query, 1]`.
    pub strength: Linear,
}

impl AlignmentScore for ContentScore {
    fn init(config: &ScoreConfig, device: &Device) -> Self {
        ContentScore {
            key_proj: linear_layer(config.d_query, config.d_key, false, device),
            strength: linear_layer(config.d_query, 1, true, device),
        }
    }

    /// Unit-length keys, once per sentence.
    fn prepare(&self, keys: Tensor<3>) -> Tensor<3> {
        unit_rows(keys)
    }

    fn scores(&self, query: Tensor<2>, prepared: &Tensor<3>) -> Tensor<2> {
        let key = unit_rows(linear(&self.key_proj, query.clone())); // [B, Dk]
        let beta = softplus(linear(&self.strength, query), 1.0); // [B, 1]
        dot_scores(key, prepared) * beta
    }
}

/// Rows scaled to unit length along the last dimension (ε keeps a zero row finite).
fn unit_rows<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let norm = (x.clone() * x.clone())
        .sum_dim(D - 1)
        .add_scalar(1e-8)
        .sqrt();
    x / norm
}
