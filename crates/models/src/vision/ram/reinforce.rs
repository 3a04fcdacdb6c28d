//! Training signal of the recurrent attention model: the Gaussian policy's log-density, the
//! normal draws behind its samples, and the hybrid loss of Mnih et al. 2014 (§3.2, §4.1).

use std::f64::consts::PI;

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

use super::RamOutput;

/// Two independent standard normal draws from two uniform ones, by the Box–Muller transform:
/// `r = sqrt(-2 ln(1 - u_1))`, `θ = 2π u_2`, `(r cos θ, r sin θ)`. `uniform` returns values
/// in `[0, 1)` (so `1 - u_1 > 0` and the logarithm is finite), and is called exactly twice.
pub fn standard_normals(uniform: &mut dyn FnMut() -> f64) -> [f64; 2] {
    let (u1, u2) = (uniform(), uniform());
    let r = (-2.0 * (1.0 - u1).ln()).sqrt();
    let theta = 2.0 * PI * u2;
    [r * theta.cos(), r * theta.sin()]
}

/// `log N(l; μ, σ² I)` of each row: `Σ_d [-(l_d − μ_d)² / 2σ² − ln σ − ½ ln 2π]`.
///
/// - `samples`: `[rows, dims]`, constants (the sampled locations).
/// - `means`: `[rows, dims]`, differentiable.
/// - returns `[rows]`, whose gradient in `μ` is `(l − μ) / σ²`: the score function REINFORCE
///   multiplies by the advantage.
pub fn gaussian_log_density(samples: Tensor<2>, means: Tensor<2>, std: f64) -> Tensor<1> {
    let [rows, dims] = samples.dims();
    assert_eq!(
        means.dims(),
        [rows, dims],
        "gaussian_log_density: means and samples differ in shape"
    );
    let constant = dims as f64 * (-std.ln() - 0.5 * (2.0 * PI).ln());
    (samples.detach() - means)
        .powi_scalar(2)
        .sum_dim(1)
        .mul_scalar(-0.5 / (std * std))
        .add_scalar(constant)
        .reshape([rows])
}

/// The hybrid loss and what to log of it.
#[derive(Clone, Debug)]
pub struct RamLoss {
    /// What to minimize: `cross_entropy + reinforce + baseline_mse`, one element.
    pub objective: Tensor<1>,
    /// `−mean_b log p(y_b | h_N)`, the classification term.
    pub cross_entropy: f64,
    /// `−mean_b Σ_t (R_b − b_{b,t}) log π_{b,t}` with the advantage held constant: the
    /// surrogate whose gradient is the REINFORCE estimate (its value says little).
    pub reinforce: f64,
    /// `mean_{b,t} (b_{b,t} − R_b)²`, the baseline's regression.
    pub baseline_mse: f64,
    /// `mean_b R_b`: the fraction of the batch classified right, the expected reward.
    pub accuracy: f64,
}

/// The hybrid loss of Mnih et al. 2014 (§3.2, §4.1) on one pass:
///
/// - the reward `R_b = 1` when the most probable class of image `b` is its label, else 0,
///   a constant (no gradient flows through it);
/// - the cross-entropy of the classifier, which trains the action, core and glimpse networks
///   ("trained by supervised learning", as the paper puts it);
/// - REINFORCE with the baseline subtracted, `−mean_b Σ_t (R_b − b_{b,t}) log π_{b,t}`, the
///   advantage `R_b − b_{b,t}` detached: its gradient is the estimate of `−∇ E[R]` (Williams
///   1992), with the variance the baseline removes;
/// - the baseline's mean squared error against `R`.
///
/// The three terms are added with weight 1 each (the paper gives no weights).
/// `labels`: `[B]` class ids, on the output's device. For the random policy `log_policy` is
/// zero and the REINFORCE term vanishes: cross-entropy alone trains the model.
pub fn hybrid_loss(output: &RamOutput, labels: Tensor<1, Int>) -> RamLoss {
    let [batch, _] = output.logits.dims();
    let log_probs = log_softmax(output.logits.clone(), 1); // [B, C]
    let cross_entropy = log_probs
        .gather(1, labels.clone().reshape([batch, 1]))
        .mean()
        .neg();
    let reward = output
        .logits
        .clone()
        .detach()
        .argmax(1)
        .reshape([batch])
        .equal(labels)
        .float()
        .reshape([batch, 1]); // [B, 1]
    let advantage = (reward.clone() - output.baselines.clone()).detach(); // [B, N]
    let reinforce = (advantage * output.log_policy.clone())
        .sum_dim(1)
        .mean()
        .neg();
    let baseline_mse = (output.baselines.clone() - reward.clone())
        .powi_scalar(2)
        .mean();
    let scalar = |t: &Tensor<1>| t.clone().into_scalar::<f32>() as f64;
    RamLoss {
        cross_entropy: scalar(&cross_entropy),
        reinforce: scalar(&reinforce),
        baseline_mse: scalar(&baseline_mse),
        accuracy: scalar(&reward.mean()),
        objective: cross_entropy + reinforce + baseline_mse,
    }
}
