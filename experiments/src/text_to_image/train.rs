//! The GAN's training: one discriminator step and one generator step per batch, as the
//! reference code of AttnGAN (github.com/taoxugit/AttnGAN, `trainer.py`) alternates them.
//!
//! Each step draws the batch's images once from its captions and noise. The discriminators
//! learn to tell real images (with their sentences) from the drawn ones (detached) and from
//! real images with other images' sentences; then the generator, against the updated
//! discriminators, minimizes
//! `L_G = Σ_i L_G_i + kl_weight · KL + λ · L_DAMSM / B`:
//! both stages' adversarial losses, conditioning augmentation's KL term, and the DAMSM loss
//! of the stage-2 images with their captions, averaged over the batch (the reference code's
//! mean), from the frozen training DAMSM. Adam with β1 = 0.5 for both players, no clipping.
//!
//! Like the shared loop ([`crate::training::train_loop`]), it draws each step's noise from
//! the step and keeps checkpoints of both players and their optimizers, so a killed run
//! resumes exactly.

use std::path::Path;

use anyhow::bail;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use datasets::images::RgbImage;
use datasets::scenes::Scene;
use models::vision::{
    AttnGanDiscriminator, AttnGanGenerator, DamsmConfig, DiscriminatorOutput, discriminator_loss,
    generator_adversarial_loss, mismatched,
};
use serde::{Deserialize, Serialize};

use super::Config;
use super::config::Variant;
use super::data::TextToImageData;
use super::pretrain::{Damsm, caption_pairs, tokens_tensor};
use crate::checkpoint::{self, ExactF64, Slot};
use crate::training::{EpochBatches, draw_stream, reseed};

/// The two discriminators, trained by one optimizer (their losses touch disjoint
/// parameters, so one Adam is two).
#[derive(Module, Debug)]
pub struct Discriminators {
    /// Reads stage 1's images (half the canvas).
    pub stage1: AttnGanDiscriminator,
    /// Reads stage 2's images.
    pub stage2: AttnGanDiscriminator,
}

/// One training batch: captions and their real images at both stages' sides.
pub struct GanBatch {
    /// Caption ids `[B, T]`, PAD-padded.
    pub tokens: Tensor<2, Int>,
    /// Real images at half the canvas, `[B, 3, canvas / 2, canvas / 2]` (2 × 2 means).
    pub real1: Tensor<4>,
    /// Real images, `[B, 3, canvas, canvas]`.
    pub real2: Tensor<4>,
}

/// The losses of one step, for progress and curves.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepLosses {
    /// Both discriminators' losses summed.
    pub discriminator: f64,
    /// The generator's whole loss.
    pub generator: f64,
    /// The DAMSM loss of the batch (averaged), whether or not it is in the generator's loss.
    pub damsm: f64,
}

/// What a GAN step needs besides the two players: the frozen training DAMSM on the autodiff
/// device and the loss weights.
pub struct GanObjective {
    /// The training DAMSM, frozen: gradients flow through its image encoder to the images,
    /// and its parameters stay as pretrained.
    pub damsm: Damsm,
    /// γ1, γ2, γ3.
    pub matching: DamsmConfig,
    /// λ (0: no DAMSM term).
    pub damsm_weight: f64,
    /// Weight of the KL term.
    pub kl_weight: f64,
}

/// The two players and their optimizers.
pub struct Players {
    pub generator: AttnGanGenerator,
    pub discriminators: Discriminators,
    generator_optimizer: ModuleOptimizer,
    discriminator_optimizer: ModuleOptimizer,
}

impl Players {
    /// Writes both players and both optimizers into a checkpoint folder.
    fn save(&self, dir: &Path) -> anyhow::Result<()> {
        checkpoint::save_module(dir, "generator", &self.generator)?;
        checkpoint::save_module(dir, "discriminators", &self.discriminators)?;
        checkpoint::save_optimizer(dir, "generator-optimizer", &self.generator_optimizer)?;
        checkpoint::save_optimizer(
            dir,
            "discriminator-optimizer",
            &self.discriminator_optimizer,
        )
    }

    /// Reads them back from a checkpoint folder written by [`Players::save`].
    fn restore(&mut self, dir: &Path) -> anyhow::Result<()> {
        self.generator = checkpoint::load_saved_module(self.generator.clone(), dir, "generator")?;
        self.discriminators =
            checkpoint::load_saved_module(self.discriminators.clone(), dir, "discriminators")?;
        let generator = checkpoint::load_optimizer(dir, "generator-optimizer")?;
        let discriminator = checkpoint::load_optimizer(dir, "discriminator-optimizer")?;
        self.generator_optimizer = self.generator_optimizer.clone().load_record(generator);
        self.discriminator_optimizer = self
            .discriminator_optimizer
            .clone()
            .load_record(discriminator);
        Ok(())
    }

    /// Fresh players for `variant` on `device` (seeded by the caller).
    pub fn new(config: &Config, variant: Variant, device: &Device) -> Players {
        let adam = AdamConfig::new().with_beta_1(config.beta1 as f32);
        Players {
            generator: config.generator(variant).init(device),
            discriminators: Discriminators {
                stage1: config.discriminator(config.canvas / 2).init(device),
                stage2: config.discriminator(config.canvas).init(device),
            },
            generator_optimizer: adam.init(),
            discriminator_optimizer: adam.init(),
        }
    }
}

/// The logits of real images with their sentences, and with mismatched ones (from one
/// pass over the images).
fn real_logits(
    discriminator: &AttnGanDiscriminator,
    images: Tensor<4>,
    sentence: Tensor<2>,
) -> (DiscriminatorOutput, Tensor<1>) {
    let features = discriminator.features(images);
    let wrong = discriminator.conditional(features.clone(), mismatched(sentence.clone()));
    let out = DiscriminatorOutput {
        unconditional: discriminator.unconditional(features.clone()),
        conditional: discriminator.conditional(features, sentence),
    };
    (out, wrong)
}

/// The phases of [`gan_step`], in order: the frozen text encoder, the generator's forward
/// pass, the discriminators' forward passes (real, mismatched and drawn images, both
/// stages), their backward pass, their Adam step, the discriminators read by the generator's
/// step (with the KL term), the DAMSM term, the generator's backward pass (through the
/// discriminators and the DAMSM) and its Adam step.
pub const STEP_PHASES: [&str; 9] = [
    "text_encoder",
    "generator_forward",
    "discriminators_forward",
    "discriminators_backward",
    "discriminators_adam",
    "generator_adversarial",
    "damsm",
    "generator_backward",
    "generator_adam",
];

/// One discriminator step and one generator step on `batch`; the noise comes from the
/// device's generator.
pub fn gan_step(
    config: &Config,
    players: &mut Players,
    objective: &GanObjective,
    batch: &GanBatch,
    device: &Device,
) -> StepLosses {
    gan_step_timed(config, players, objective, batch, device, &mut |_| {})
}

/// [`gan_step`], calling `phase_done(i)` as phase [`STEP_PHASES`]`[i]` ends: on a backend
/// that finishes every operation before returning (flex), a clock read there times each
/// phase (`bench-attngan` does).
pub fn gan_step_timed(
    config: &Config,
    players: &mut Players,
    objective: &GanObjective,
    batch: &GanBatch,
    device: &Device,
    phase_done: &mut dyn FnMut(usize),
) -> StepLosses {
    let size = batch.tokens.dims()[0];
    // The frozen text encoder: no gradient reaches it or flows out of it.
    let text = objective.damsm.text.forward(batch.tokens.clone());
    let (sentence, words, mask): (Tensor<2>, Tensor<3>, Tensor<2, Bool>) = (
        text.sentence.clone().detach(),
        text.words.clone().detach(),
        text.mask.clone(),
    );
    phase_done(0);
    let noise = players.generator.draw_noise(size, device);
    let fake = players
        .generator
        .forward(sentence.clone(), words, mask, noise);
    phase_done(1);

    // Discriminators: real, drawn (detached) and mismatched, at both stages.
    let discriminators = &players.discriminators;
    let mut d_loss = Tensor::<1>::zeros([1], device);
    for (discriminator, real, drawn) in [
        (&discriminators.stage1, &batch.real1, &fake.image0),
        (&discriminators.stage2, &batch.real2, &fake.image1),
    ] {
        let (real_out, wrong) = real_logits(discriminator, real.clone(), sentence.clone());
        let drawn_out = discriminator.forward(drawn.clone().detach(), sentence.clone());
        d_loss = d_loss + discriminator_loss(&real_out, &drawn_out, wrong).total;
    }
    let d_value = d_loss.clone().into_scalar::<f32>() as f64;
    phase_done(2);
    let grads = GradientsParams::from_grads(d_loss.backward(), &players.discriminators);
    phase_done(3);
    players.discriminators = players.discriminator_optimizer.step(
        config.discriminator_learning_rate,
        players.discriminators.clone(),
        grads,
    );
    phase_done(4);

    // Generator, against the updated discriminators, read without their parameters'
    // gradients: untracked weights skip the convolutions' weight gradients.
    let discriminators = &players.discriminators.clone().no_grad();
    let mut g_loss = generator_adversarial_loss(
        &discriminators
            .stage1
            .forward(fake.image0.clone(), sentence.clone()),
    ) + generator_adversarial_loss(
        &discriminators
            .stage2
            .forward(fake.image1.clone(), sentence.clone()),
    );
    g_loss = g_loss + fake.kl().mul_scalar(objective.kl_weight);
    phase_done(5);
    // Without the DAMSM term its value is still reported, from the detached images.
    let drawn = if objective.damsm_weight > 0.0 {
        fake.image1.clone()
    } else {
        fake.image1.clone().detach()
    };
    let damsm = objective
        .matching
        .loss(&objective.damsm.image.forward(drawn), &text)
        .total
        .div_scalar(size as f64);
    let damsm_value = damsm.clone().into_scalar::<f32>() as f64;
    if objective.damsm_weight > 0.0 {
        g_loss = g_loss + damsm.mul_scalar(objective.damsm_weight);
    }
    let g_value = g_loss.clone().into_scalar::<f32>() as f64;
    phase_done(6);
    let grads = GradientsParams::from_grads(g_loss.backward(), &players.generator);
    phase_done(7);
    players.generator = players.generator_optimizer.step(
        config.generator_learning_rate,
        players.generator.clone(),
        grads,
    );
    phase_done(8);
    StepLosses {
        discriminator: d_value,
        generator: g_value,
        damsm: damsm_value,
    }
}

/// An image at half its side, each pixel the mean of a 2 × 2 block, channel-major.
pub fn half_size(image: &RgbImage) -> Vec<f32> {
    let (h, w) = (image.height / 2, image.width / 2);
    let mut out = Vec::with_capacity(3 * h * w);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let sum = image.at(c, 2 * y, 2 * x)
                    + image.at(c, 2 * y, 2 * x + 1)
                    + image.at(c, 2 * y + 1, 2 * x)
                    + image.at(c, 2 * y + 1, 2 * x + 1);
                out.push(sum / 4.0);
            }
        }
    }
    out
}

/// The batch of (scene, caption) pairs `pairs` of `scenes`.
pub fn gan_batch(
    scenes: &[Scene],
    pairs: &[(usize, usize)],
    data: &TextToImageData,
    device: &Device,
) -> GanBatch {
    let refs: Vec<&Scene> = pairs.iter().map(|&(s, _)| &scenes[s]).collect();
    let captions: Vec<&[String]> = pairs
        .iter()
        .map(|&(s, c)| scenes[s].captions[c].as_slice())
        .collect();
    let side = refs[0].image.height / 2;
    let halves: Vec<f32> = refs.iter().flat_map(|s| half_size(&s.image)).collect();
    GanBatch {
        tokens: tokens_tensor(&captions, &data.vocab, device),
        real1: Tensor::from_data(TensorData::new(halves, [refs.len(), 3, side, side]), device),
        real2: crate::vision::images_tensor(&refs, device),
    }
}

/// A trained generator with its record.
pub struct TrainedGan {
    /// The generator after the last step.
    pub generator: AttnGanGenerator,
    /// `(step, discriminator loss, generator loss)` means since the previous point.
    pub curve: Vec<(usize, f64, f64)>,
    /// Training wall time in seconds.
    pub seconds: f64,
}

/// Trains one generator and its discriminators for `config.steps` steps; every variant and
/// seed sees the same captions in the same order. Stops with an error naming `label` (the
/// variant and seed) and the step at a non-finite loss, or when the discriminators' loss,
/// averaged over `collapse_window` steps, falls below `collapse_loss`.
pub fn train_gan(
    config: &Config,
    data: &TextToImageData,
    variant: Variant,
    device: &Device,
    label: &str,
) -> anyhow::Result<TrainedGan> {
    let mut players = Players::new(config, variant, device);
    let objective = GanObjective {
        damsm: data.damsm.clone().train().freeze(),
        matching: config.damsm(),
        damsm_weight: if variant.uses_damsm() {
            config.damsm_weight
        } else {
            0.0
        },
        kl_weight: config.kl_weight,
    };
    let pairs = caption_pairs(&data.train);
    let mut batches = EpochBatches::new(pairs.len(), config.batch_size);
    let mut next_pairs = || {
        let mut idx: Vec<(usize, usize)> = batches.next_batch().iter().map(|&i| pairs[i]).collect();
        if idx.len() < 2 {
            // A last batch of one has no mismatched pair: take the next epoch's instead.
            idx = batches.next_batch().iter().map(|&i| pairs[i]).collect();
        }
        idx
    };
    let slot = Slot::next(label);
    let mut state = GanState {
        step: 0,
        stream: 0,
        seconds: 0.0.into(),
        curve: Vec::new(),
        window: (0.0.into(), 0.0.into(), 0),
        recent_d: Vec::new(),
    };
    if let Some(slot) = &slot
        && let Some((dir, saved)) = slot.load::<GanState>()?
    {
        players.restore(&dir)?;
        state = saved;
        for step in 1..=state.step {
            reseed(Some(device), state.stream, step);
            next_pairs();
        }
        eprintln!(
            "{label}: resumed at step {} of {}",
            state.step, config.steps
        );
    }
    let mut progress = harness::Progress::new(label, config.steps);
    let seconds_before = f64::from(state.seconds);
    let mut curve: Vec<(usize, f64, f64)> = state
        .curve
        .iter()
        .map(|&(s, d, g)| (s, d.into(), g.into()))
        .collect();
    let mut window = (
        f64::from(state.window.0),
        f64::from(state.window.1),
        state.window.2,
    );
    let mut recent_d: Vec<f64> = state.recent_d.iter().map(|&d| d.into()).collect();
    for step in state.step + 1..=config.steps {
        // As in the shared loop: the step's noise comes from the step (from step 2 on).
        reseed(Some(device), state.stream, step);
        let idx = next_pairs();
        let batch = gan_batch(&data.train, &idx, data, device);
        let losses = gan_step(config, &mut players, &objective, &batch, device);
        if !(losses.discriminator.is_finite() && losses.generator.is_finite()) {
            bail!(
                "{label}: loss became non-finite at step {step} (discriminators {}, generator {}); lower the learning rates (now {} and {})",
                losses.discriminator,
                losses.generator,
                config.discriminator_learning_rate,
                config.generator_learning_rate
            );
        }
        recent_d.push(losses.discriminator);
        if recent_d.len() > config.collapse_window {
            recent_d.remove(0);
        }
        let recent = recent_d.iter().sum::<f64>() / recent_d.len() as f64;
        if recent_d.len() == config.collapse_window && recent < config.collapse_loss {
            bail!(
                "{label}: the discriminators won at step {step} (their loss averaged {recent:.2e} over {} steps, below collapse_loss {}): the generator gets no gradient; lower discriminator_learning_rate (now {})",
                config.collapse_window,
                config.collapse_loss,
                config.discriminator_learning_rate
            );
        }
        progress.update(step, losses.generator);
        window = (
            window.0 + losses.discriminator,
            window.1 + losses.generator,
            window.2 + 1,
        );
        if step % config.curve_every == 0 || step == config.steps {
            let n = window.2 as f64;
            curve.push((step, window.0 / n, window.1 / n));
            window = (0.0, 0.0, 0);
        }
        if step == 1 {
            state.stream = draw_stream(device);
        }
        if let Some(slot) = &slot
            && (slot.due(step) || step == config.steps)
        {
            state.step = step;
            state.seconds = (seconds_before + progress.elapsed_secs()).into();
            state.curve = curve
                .iter()
                .map(|&(s, d, g)| (s, d.into(), g.into()))
                .collect();
            state.window = (window.0.into(), window.1.into(), window.2);
            state.recent_d = recent_d.iter().map(|&d| d.into()).collect();
            slot.save(step, config.steps, &state, |dir| players.save(dir))?;
        }
    }
    reseed(Some(device), state.stream, u64::MAX as usize);
    Ok(TrainedGan {
        generator: players.generator,
        curve,
        seconds: seconds_before + progress.elapsed_secs(),
    })
}

/// What the GAN loop keeps in a checkpoint besides the players (see
/// [`crate::checkpoint`]).
#[derive(Serialize, Deserialize)]
struct GanState {
    step: usize,
    stream: u64,
    seconds: ExactF64,
    curve: Vec<(usize, ExactF64, ExactF64)>,
    window: (ExactF64, ExactF64, usize),
    /// The discriminators' recent losses, for the collapse stop.
    recent_d: Vec<ExactF64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_size_averages_two_by_two_blocks_per_channel() {
        // A 2 × 4 image: red 0..8 row-major, green 10 times red, blue constant.
        let red: Vec<f32> = (0..8).map(|v| v as f32).collect();
        let green: Vec<f32> = red.iter().map(|v| 10.0 * v).collect();
        let mut data = red.clone();
        data.extend(&green);
        data.extend([0.5; 8]);
        let image = RgbImage {
            height: 2,
            width: 4,
            data,
        };
        // Blocks: (0, 1, 4, 5) and (2, 3, 6, 7).
        assert_eq!(half_size(&image), vec![2.5, 4.5, 25.0, 45.0, 0.5, 0.5]);
    }
}
