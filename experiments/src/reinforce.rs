//! REINFORCE for a stochastic attention choice (Williams 1992, as Xu et al. 2015 §4.1 use
//! it for hard attention), shared by the experiments that sample where to look.
//!
//! The objective is the hybrid loss `CE - λ_r · mean_b[(R_b - b) · Σ_t log p(s_t)] - λ_e ·
//! H`, where the reward `R_b` is sentence b's mean token log-likelihood (so long and short
//! sentences weigh alike), `b` a moving average of the mean reward (the baseline), and `H`
//! the mean entropy of the attention over real steps, a bonus that keeps it from collapsing
//! early (Xu et al., eq. 12).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};
use models::seq2seq::PAD;

use crate::training::StepLoss;
use crate::validate::require_non_negative;

/// The weights of the hybrid loss and the baseline's decay.
#[derive(Clone, Copy, Debug)]
pub struct ReinforceWeights {
    /// λ_r, the weight of the REINFORCE term.
    pub reinforce: f64,
    /// λ_e, the weight of the entropy bonus.
    pub entropy: f64,
    /// The baseline is `b ← decay · b + (1 - decay) · mean reward`.
    pub baseline_decay: f64,
}

impl ReinforceWeights {
    /// Checks the weights, naming the configuration field at fault (`reinforce_weight`,
    /// `entropy_weight`, `baseline_decay`).
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(0.0..1.0).contains(&self.baseline_decay) {
            anyhow::bail!("config field 'baseline_decay' must be in [0, 1)");
        }
        require_non_negative("reinforce_weight", self.reinforce)?;
        require_non_negative("entropy_weight", self.entropy)
    }
}

/// Per-token log-likelihoods `[B, T]` of the targets (0 at padding) and the 0/1 mask of
/// real positions.
pub fn token_log_likelihoods(logits: Tensor<3>, targets: Tensor<2, Int>) -> (Tensor<2>, Tensor<2>) {
    let [batch, len, vocab] = logits.dims();
    let log_probs = log_softmax(logits.reshape([batch * len, vocab]), 1);
    let picked = log_probs
        .gather(1, targets.clone().reshape([batch * len, 1]))
        .reshape([batch, len]);
    let real = targets.not_equal_elem(PAD as i64).float();
    (picked * real.clone(), real)
}

/// The hybrid loss of one batch.
///
/// - `ll`, `real`: from [`token_log_likelihoods`], `[B, T]`.
/// - `log_choice`: `log p(s_t)` of each sampled choice, `[B, T]` (0 where nothing was
///   sampled).
/// - `entropy_steps`: gives the attention's entropy at each step, `[B, T]`; called after
///   the other terms are built.
/// - `baseline`: the moving average, `None` before the first batch; updated here.
pub fn hybrid_loss(
    weights: ReinforceWeights,
    ll: Tensor<2>,
    real: Tensor<2>,
    log_choice: Tensor<2>,
    entropy_steps: impl FnOnce() -> Tensor<2>,
    baseline: &mut Option<f64>,
) -> StepLoss {
    let [batch, _] = ll.dims();
    let tokens = real.clone().sum();
    let cross_entropy = ll.clone().sum().neg() / tokens.clone();

    // Rewards are constants for the gradient: computed on the host from detached values.
    let per_sentence: Vec<f32> = (ll.clone().detach().sum_dim(1) / real.clone().sum_dim(1))
        .into_data()
        .iter::<f32>()
        .collect();
    let mean_reward = per_sentence.iter().map(|&r| r as f64).sum::<f64>() / batch as f64;
    let b_now = baseline.unwrap_or(mean_reward);
    let advantage: Vec<f32> = per_sentence
        .iter()
        .map(|&r| (r as f64 - b_now) as f32)
        .collect();
    *baseline = Some(weights.baseline_decay * b_now + (1.0 - weights.baseline_decay) * mean_reward);
    let advantage = Tensor::<2>::from_data(TensorData::new(advantage, [batch, 1]), &ll.device());

    let log_choice = log_choice * real.clone(); // [B, T]
    let reinforce = (log_choice.sum_dim(1) * advantage).mean().neg();
    let entropy = entropy_steps() * real; // [B, T]
    let entropy = entropy.sum() / tokens;

    let cross_entropy_value = cross_entropy.clone().into_scalar::<f32>() as f64;
    let objective = cross_entropy + reinforce.mul_scalar(weights.reinforce)
        - entropy.mul_scalar(weights.entropy);
    StepLoss {
        objective,
        cross_entropy: cross_entropy_value,
    }
}
