//! Training one model of a glimpses run with the shared loop: RAM by its hybrid loss
//! (cross-entropy + REINFORCE on the locations + the baseline's regression), the
//! whole-image networks and RAM with random glimpses by cross-entropy.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use datasets::images::canvas::{Canvas, CanvasSpec};
use models::vision::{
    ConvClassifier, ConvClassifierConfig, LocationPolicy, LocationSampling, MlpClassifier,
    MlpClassifierConfig, Ram, RamConfig, hybrid_loss as ram_hybrid_loss,
};
use rand::Rng;

use super::data::training_canvases;
use super::variants::Classifier;
use super::{Config, GlimpseData};
use crate::experiment::Cell;
use crate::training::{EpochBatches, StepLoss, Trained, cross_entropy_loss, train_loop};

/// A trained model, ready to score (no autodiff).
pub enum TrainedModel {
    /// RAM, learned or random policy (boxed: it is by far the largest).
    Ram(Box<Ram>),
    /// A fully connected network on the whole canvas.
    Mlp(MlpClassifier),
    /// The convolutional network on the whole canvas.
    Cnn(ConvClassifier),
}

/// What training a cell gives back.
pub struct TrainedCell {
    /// The model after the last step.
    pub model: TrainedModel,
    /// Training wall time, seconds.
    pub seconds: f64,
    /// `(step, mean cross-entropy)` every `curve_every` steps.
    pub curve: Vec<(usize, f64)>,
    /// The device the model was trained on, without autodiff (for scoring).
    pub device: Device,
}

/// RAM's configuration for `canvas` from the run's settings.
pub fn ram_config(
    config: &Config,
    canvas: &CanvasSpec,
    n_classes: usize,
    glimpses: usize,
    policy: LocationPolicy,
) -> RamConfig {
    RamConfig::new(canvas.side)
        .with_n_classes(n_classes)
        .with_patch(config.patch)
        .with_scales(config.scales)
        .with_d_what(config.d_what)
        .with_d_where(config.d_where)
        .with_d_glimpse(config.d_glimpse)
        .with_d_hidden(config.d_hidden)
        .with_glimpses(glimpses)
        .with_location_std(config.location_std)
        .with_policy(policy)
}

/// The fully connected network `FC-<hidden>` for `canvas`.
pub fn mlp_config(canvas: &CanvasSpec, hidden: usize, n_classes: usize) -> MlpClassifierConfig {
    MlpClassifierConfig::new(canvas.side)
        .with_hidden(hidden)
        .with_n_classes(n_classes)
}

/// The convolutional network for `canvas`.
pub fn cnn_config(canvas: &CanvasSpec, n_classes: usize) -> ConvClassifierConfig {
    ConvClassifierConfig::new(canvas.side).with_n_classes(n_classes)
}

/// The pixels `[B, side²]` (row-major canvases, concatenated) and labels of `canvases`.
pub fn pixels_and_labels(canvases: &[Canvas]) -> (Vec<f32>, Vec<i64>) {
    let pixels = canvases
        .iter()
        .flat_map(|c| c.pixels.iter().copied())
        .collect();
    let labels = canvases.iter().map(|c| i64::from(c.label)).collect();
    (pixels, labels)
}

/// Trains `model` on `canvas` for the run's steps. Every model sees the same canvases in
/// the same order (see [`training_canvases`]); RAM's location noise comes from the step's
/// generator ([`crate::training::StepState`]).
pub fn train(
    config: &Config,
    data: &GlimpseData,
    canvas: &CanvasSpec,
    model: Classifier,
    cell: &Cell,
) -> anyhow::Result<TrainedCell> {
    let device = harness::device(cell.seed)?;
    let side = canvas.side;
    let mut batches = EpochBatches::new(data.train.glyphs.len(), config.batch_size);
    let mut step = 0u64;
    let next_batch = || {
        step += 1;
        let indices = batches.next_batch();
        let canvases = training_canvases(data, &indices, canvas, config.canvas_seed, step);
        pixels_and_labels(&canvases)
    };
    let labels_tensor = |labels: &[i64], device: &Device| {
        Tensor::<1, Int>::from_data(TensorData::new(labels.to_vec(), [labels.len()]), device)
    };
    let images_tensor = |pixels: &[f32], batch: usize, device: &Device| {
        Tensor::<2>::from_data(
            TensorData::new(pixels.to_vec(), [batch, side * side]),
            device,
        )
    };
    let settings = config.optimizer();
    let label = cell.label();
    // The record of a cell; scoring runs on its device without autodiff.
    let finish = |trained: Trained<TrainedModel>| TrainedCell {
        model: trained.model,
        seconds: trained.seconds,
        curve: trained.curve,
        device: device.clone().without_autodiff(),
    };
    let cell_ram = |policy| {
        ram_config(config, canvas, data.n_classes, model.glimpses(), policy)
            .init(&device)
            .with_policy_gradient_to_core(config.policy_gradient_to_core)
    };
    Ok(match model {
        Classifier::Ram { .. } | Classifier::RandomRam { .. } => {
            let policy = model.policy().expect("a RAM has a policy");
            let trained = train_loop(
                &settings,
                cell_ram(policy),
                &label,
                config.curve_every,
                next_batch,
                |ram: &Ram, (pixels, labels), step| {
                    let mut uniform = || step.rng.random::<f64>();
                    let sampling = LocationSampling::Stochastic(&mut uniform);
                    let output = ram.forward(pixels, labels.len(), sampling, &device);
                    let loss = ram_hybrid_loss(&output, labels_tensor(labels, &device));
                    StepLoss {
                        objective: loss.objective,
                        cross_entropy: loss.cross_entropy,
                    }
                },
            )?;
            finish(trained.map(|model| TrainedModel::Ram(Box::new(model.valid()))))
        }
        Classifier::Mlp { hidden } => {
            let mlp = mlp_config(canvas, hidden, data.n_classes).init(&device);
            let trained = train_loop(
                &settings,
                mlp,
                &label,
                config.curve_every,
                next_batch,
                |mlp: &MlpClassifier, (pixels, labels), _| {
                    let logits = mlp.forward(images_tensor(pixels, labels.len(), &device));
                    cross_entropy_loss(classification_loss(logits, labels_tensor(labels, &device)))
                },
            )?;
            finish(trained.map(|model| TrainedModel::Mlp(model.valid())))
        }
        Classifier::Cnn => {
            let cnn = cnn_config(canvas, data.n_classes).init(&device);
            let trained = train_loop(
                &settings,
                cnn,
                &label,
                config.curve_every,
                next_batch,
                |cnn: &ConvClassifier, (pixels, labels), _| {
                    let images = images_tensor(pixels, labels.len(), &device).reshape([
                        labels.len(),
                        1,
                        side,
                        side,
                    ]);
                    let logits = cnn.forward(images);
                    cross_entropy_loss(classification_loss(logits, labels_tensor(labels, &device)))
                },
            )?;
            finish(trained.map(|model| TrainedModel::Cnn(model.valid())))
        }
    })
}

/// Mean cross-entropy of `logits [B, C]` against `labels [B]`.
fn classification_loss(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let log_probs = burn::tensor::activation::log_softmax(logits, 1);
    log_probs.gather(1, labels.reshape([batch, 1])).mean().neg()
}
