//! The training loop every experiment shares: Adam with gradient-norm clipping, progress,
//! a learning curve, and a clear stop on a non-finite loss.

use anyhow::bail;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, grad_clipping::GradientClippingConfig};
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// What a loss function returns: the tensor to differentiate and the cross-entropy to
/// report (they differ when the loss has extra terms, as REINFORCE does).
pub struct StepLoss {
    /// The objective to minimize.
    pub objective: Tensor<1>,
    /// Mean cross-entropy of the batch, for progress and learning curves.
    pub cross_entropy: f64,
}

/// A trained model with its training record.
pub struct Trained<M> {
    /// The model after the last step.
    pub model: M,
    /// Training wall time in seconds.
    pub seconds: f64,
    /// `(step, mean cross-entropy since the previous point)` every `curve_every` steps.
    pub curve: Vec<(usize, f64)>,
}

impl<M> Trained<M> {
    /// The same record with the model changed by `f` (e.g. into an enum of models).
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Trained<N> {
        Trained {
            model: f(self.model),
            seconds: self.seconds,
            curve: self.curve,
        }
    }
}

/// How long and how fast to train.
#[derive(Clone, Copy, Debug)]
pub struct OptimizerSettings {
    /// Optimizer steps.
    pub steps: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Gradient norm clip.
    pub grad_clip: f64,
}

/// Trains `model` for `settings.steps` Adam steps with gradient-norm clipping, taking each
/// batch from `next_batch` and its objective from `loss`. A learning-curve point is kept every
/// `curve_every` steps (none for 0). A non-finite loss stops training with an error naming the
/// step and what to lower.
pub fn train_loop<M: Module, B>(
    settings: &OptimizerSettings,
    mut model: M,
    label: &str,
    curve_every: usize,
    mut next_batch: impl FnMut() -> B,
    mut loss: impl FnMut(&M, &B) -> StepLoss,
) -> anyhow::Result<Trained<M>> {
    // An infinite clip is no clip: skip the norm computation altogether.
    let clipping = settings
        .grad_clip
        .is_finite()
        .then_some(GradientClippingConfig::Norm(settings.grad_clip as f32));
    let mut optimizer = AdamConfig::new().with_grad_clipping(clipping).init();
    let mut progress = harness::Progress::new(label, settings.steps);
    let mut curve = Vec::new();
    let mut window = (0.0, 0usize);
    for step in 1..=settings.steps {
        let batch = next_batch();
        let StepLoss {
            objective,
            cross_entropy,
        } = loss(&model, &batch);
        if !cross_entropy.is_finite() {
            bail!(
                "{label}: loss became {cross_entropy} at step {step}; lower learning_rate (now {}) or grad_clip (now {})",
                settings.learning_rate,
                settings.grad_clip
            );
        }
        let grads = GradientsParams::from_grads(objective.backward(), &model);
        model = optimizer.step(settings.learning_rate, model, grads);
        progress.update(step, cross_entropy);
        window = (window.0 + cross_entropy, window.1 + 1);
        if curve_every > 0 && (step % curve_every == 0 || step == settings.steps) {
            curve.push((step, window.0 / window.1 as f64));
            window = (0.0, 0);
        }
    }
    Ok(Trained {
        model,
        seconds: progress.elapsed_secs(),
        curve,
    })
}

/// A loss whose objective is the reported cross-entropy itself (reading it back synchronizes
/// the device; on the CPU that costs nothing).
pub fn cross_entropy_loss(objective: Tensor<1>) -> StepLoss {
    let cross_entropy = objective.clone().into_scalar::<f32>() as f64;
    StepLoss {
        objective,
        cross_entropy,
    }
}

/// Batches of the indices `0..n` for a training loop: each epoch is a shuffle by
/// `StdRng::seed_from_u64(epoch)` cut into `batch_size` chunks in order (the last may be
/// short). The order is a function of the epoch number alone, not of the model seed, so
/// every model of a run sees the same examples in the same order.
pub struct EpochBatches {
    n: usize,
    batch_size: usize,
    epoch: u64,
    queue: Vec<Vec<usize>>,
}

impl EpochBatches {
    /// Batches over `n` examples, `batch_size` at a time.
    pub fn new(n: usize, batch_size: usize) -> EpochBatches {
        EpochBatches {
            n,
            batch_size,
            epoch: 0,
            queue: Vec::new(),
        }
    }

    /// The next batch's indices.
    pub fn next_batch(&mut self) -> Vec<usize> {
        if self.queue.is_empty() {
            let mut order: Vec<usize> = (0..self.n).collect();
            order.shuffle(&mut StdRng::seed_from_u64(self.epoch));
            self.queue = order
                .chunks(self.batch_size)
                .rev()
                .map(<[usize]>::to_vec)
                .collect();
            self.epoch += 1;
        }
        self.queue.pop().expect("refilled above")
    }
}
