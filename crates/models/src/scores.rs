//! The family of alignment scores: one number per (query, source position) pair, turned into
//! weights by [`crate::attention::attend`].
//!
//! | kind | score `e_i` | paper |
//! |---|---|---|
//! | content | `β(s) · cos(W_k s, h_i)`, `β(s) = softplus(w_β·s + b_β)` | Graves et al. 2014 (NTM content addressing) |
//! | additive | `v^T tanh(W s + U h_i)` | Bahdanau et al. 2015 |
//! | location | `(W_a s)_i`, independent of the keys | Luong et al. 2015 |
//! | general | `s^T W_a h_i` | Luong et al. 2015 |
//! | dot | `s^T h_i` | Luong et al. 2015 |
//! | scaled dot | `s^T h_i / sqrt(d)` | Vaswani et al. 2017 |
//!
//! Every score splits its work in two: [`Score::prepare`] does what depends only on the
//! source (once per sentence: `U h` for additive, unit-length keys for content), and
//! [`Score::scores`] does what depends on the query (once per decoder step).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::kernels::{additive_energy, linear, linear_steps};

/// Which alignment score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreKind {
    /// Cosine similarity with a learned sharpening (Graves et al. 2014).
    Content,
    /// `v^T tanh(W s + U h)` (Bahdanau et al. 2015).
    Additive,
    /// `softmax(W_a s)`, position only (Luong et al. 2015).
    Location,
    /// `s^T W_a h` (Luong et al. 2015).
    General,
    /// `s^T h` (Luong et al. 2015).
    Dot,
    /// `s^T h / sqrt(d)` (Vaswani et al. 2017).
    ScaledDot,
}

impl ScoreKind {
    /// All six, in the order of the table above.
    pub const ALL: [ScoreKind; 6] = [
        ScoreKind::Content,
        ScoreKind::Additive,
        ScoreKind::Location,
        ScoreKind::General,
        ScoreKind::Dot,
        ScoreKind::ScaledDot,
    ];

    /// The name used in CSVs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ScoreKind::Content => "content",
            ScoreKind::Additive => "additive",
            ScoreKind::Location => "location",
            ScoreKind::General => "general",
            ScoreKind::Dot => "dot",
            ScoreKind::ScaledDot => "scaled-dot",
        }
    }
}

impl std::str::FromStr for ScoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScoreKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ScoreKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown score '{s}': expected one of {}", names.join(", "))
            })
    }
}

/// Configuration of a [`Score`].
#[derive(Config, Debug)]
pub struct ScoreConfig {
    /// Which score.
    pub kind: ScoreKind,
    /// Size of the query (the decoder state).
    pub d_query: usize,
    /// Size of a key (an encoder annotation).
    pub d_key: usize,
    /// Hidden size of the additive score's alignment model (n' in Bahdanau et al.).
    #[config(default = 128)]
    pub d_attention: usize,
    /// Longest source (tokens, EOS included) the location score can address: its weights
    /// have one row per position, the limitation Luong et al. point out.
    #[config(default = 64)]
    pub max_src_len: usize,
}

impl ScoreConfig {
    /// Checks that the sizes fit the score: dot products need `d_query == d_key`.
    pub fn check(&self) -> Result<(), String> {
        let needs_equal = matches!(self.kind, ScoreKind::Dot | ScoreKind::ScaledDot);
        if needs_equal && self.d_query != self.d_key {
            return Err(format!(
                "the {} score needs the query size ({}) to equal the key size ({})",
                self.kind.name(),
                self.d_query,
                self.d_key
            ));
        }
        Ok(())
    }

    /// Creates the score module.
    ///
    /// # Panics
    /// If [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> Score {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
        let linear = |i, o, bias: bool| LinearConfig::new(i, o).with_bias(bias).init(device);
        match self.kind {
            ScoreKind::Content => Score::Content(ContentScore {
                key_proj: linear(self.d_query, self.d_key, false),
                strength: linear(self.d_query, 1, true),
            }),
            ScoreKind::Additive => Score::Additive(AdditiveScore {
                query_proj: linear(self.d_query, self.d_attention, false),
                key_proj: linear(self.d_key, self.d_attention, false),
                v: linear(self.d_attention, 1, false),
            }),
            ScoreKind::Location => Score::Location(LocationScore {
                position_proj: linear(self.d_query, self.max_src_len, true),
            }),
            ScoreKind::General => Score::General(GeneralScore {
                bilinear: linear(self.d_query, self.d_key, false),
            }),
            ScoreKind::Dot => Score::Dot(DotScore { d_key: self.d_key }),
            ScoreKind::ScaledDot => Score::ScaledDot(ScaledDotScore { d_key: self.d_key }),
        }
    }
}

/// An alignment score; see the module docs for the formulas.
#[derive(Module, Debug)]
pub enum Score {
    /// Cosine similarity with a learned sharpening.
    Content(ContentScore),
    /// Bahdanau's additive score.
    Additive(AdditiveScore),
    /// Luong's location score.
    Location(LocationScore),
    /// Luong's general (bilinear) score.
    General(GeneralScore),
    /// Luong's dot score.
    Dot(DotScore),
    /// Vaswani's scaled dot score.
    ScaledDot(ScaledDotScore),
}

/// Content-based addressing (Graves et al. 2014, §3.3.1): the query emits a key `k = W_k s`
/// and a strength `β = softplus(w_β·s + b_β) ≥ 0`; `e_i = β cos(k, h_i)`. Cosine alone lies in
/// [-1, 1], too flat for a sharp softmax; β learns how sharp to be.
#[derive(Module, Debug)]
pub struct ContentScore {
    /// `W_k`: `[d_query, d_key]`.
    pub key_proj: Linear,
    /// `w_β, b_β`: `[d_query, 1]`.
    pub strength: Linear,
}

/// Additive (concat) alignment, Bahdanau et al. 2015, eq. (6) and Appendix A.1.2:
/// `e_ti = v^T tanh(W s_{t-1} + U h_i)`.
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

/// Location-based alignment (Luong et al. 2015, §3.1): `a_t = softmax(W_a s_t)`, scores
/// from the query alone, one output per source position.
#[derive(Module, Debug)]
pub struct LocationScore {
    /// `W_a`: `[d_query, max_src_len]`, with bias.
    pub position_proj: Linear,
}

/// General (bilinear) alignment (Luong et al. 2015): `e_i = s^T W_a h_i`, computed as
/// `(s W_a) · h_i` so the product with `W_a` happens once per step, not once per position.
#[derive(Module, Debug)]
pub struct GeneralScore {
    /// `W_a`: `[d_query, d_key]`.
    pub bilinear: Linear,
}

/// Dot alignment (Luong et al. 2015): `e_i = s^T h_i`. No parameters.
#[derive(Module, Debug)]
pub struct DotScore {
    /// Key size (equal to the query size).
    pub d_key: usize,
}

/// Scaled dot alignment (Vaswani et al. 2017): `e_i = s^T h_i / sqrt(d)`, which keeps the
/// scores' variance near 1 however large `d` is, so the softmax does not saturate.
#[derive(Module, Debug)]
pub struct ScaledDotScore {
    /// Key size `d` (equal to the query size).
    pub d_key: usize,
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

/// `Σ_d q_d k_id`: `[B, D]` against `[B, S, D]` -> `[B, S]`. An elementwise product and a sum:
/// for one query per row that is cheaper than a batched `[1, D] x [D, S]` product.
pub fn dot_scores(query: Tensor<2>, keys: &Tensor<3>) -> Tensor<2> {
    let [batch, src_len, _] = keys.dims();
    (keys.clone() * query.unsqueeze_dim::<3>(1)) // [B, S, D]
        .sum_dim(2) // [B, S, 1]
        .reshape([batch, src_len])
}

/// Rows scaled to unit length along the last dimension (ε keeps a zero row finite).
fn unit_rows<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let norm = (x.clone() * x.clone())
        .sum_dim(D - 1)
        .add_scalar(1e-8)
        .sqrt();
    x / norm
}

impl Score {
    /// The kind of this score.
    pub fn kind(&self) -> ScoreKind {
        match self {
            Score::Content(_) => ScoreKind::Content,
            Score::Additive(_) => ScoreKind::Additive,
            Score::Location(_) => ScoreKind::Location,
            Score::General(_) => ScoreKind::General,
            Score::Dot(_) => ScoreKind::Dot,
            Score::ScaledDot(_) => ScoreKind::ScaledDot,
        }
    }

    /// Once per sentence: keys `[batch, src_len, d_key]` -> what [`Self::scores`] reads
    /// (`U h` for additive, unit-length keys for content, the keys themselves otherwise).
    pub fn prepare(&self, keys: Tensor<3>) -> Tensor<3> {
        match self {
            Score::Additive(s) => s.project_keys(keys),
            Score::Content(_) => unit_rows(keys),
            Score::Location(_) | Score::General(_) | Score::Dot(_) | Score::ScaledDot(_) => keys,
        }
    }

    /// Once per step: the query `[batch, d_query]` against the prepared keys
    /// `[batch, src_len, _]` -> scores `[batch, src_len]` (not yet masked).
    pub fn scores(&self, query: Tensor<2>, prepared: &Tensor<3>) -> Tensor<2> {
        match self {
            Score::Additive(s) => s.scores(query, prepared),
            Score::Content(s) => {
                let key = unit_rows(linear(&s.key_proj, query.clone())); // [B, Dk]
                let beta = softplus(linear(&s.strength, query), 1.0); // [B, 1]
                dot_scores(key, prepared) * beta
            }
            Score::Location(s) => {
                let src_len = prepared.dims()[1];
                let max = s.position_proj.weight.dims()[1];
                assert!(
                    src_len <= max,
                    "the location score addresses at most {max} positions, got a source of {src_len}"
                );
                linear(&s.position_proj, query).narrow(1, 0, src_len)
            }
            Score::General(s) => dot_scores(linear(&s.bilinear, query), prepared),
            Score::Dot(_) => dot_scores(query, prepared),
            Score::ScaledDot(s) => dot_scores(query, prepared).div_scalar((s.d_key as f64).sqrt()),
        }
    }
}
