//! The training loop every experiment shares: Adam with gradient-norm clipping, progress,
//! a learning curve, a clear stop on a non-finite loss or gradient, checkpoints from
//! which a killed run resumes exactly, and, where asked, the choice of the model by a
//! held-out score ([`Selection`]).

use anyhow::bail;
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams, grad_clipping::GradientClippingConfig};
use burn::store::ModuleSnapshot;
use burn::tensor::{Device, Distribution, Int, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, ExactF64, LoopState, Slot};

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
    /// Which step's model [`train_and_select`] returned, and why; `None` from [`train_loop`].
    pub selected: Option<Selected>,
}

/// Model selection during training: the model is scored every `every` steps and after the
/// last, and the loop returns the best-scoring one instead of the last (Hermann et al.
/// chose their readers by validation accuracy; a small training set is memorized long
/// before the last step).
pub struct Selection<'a, M> {
    /// Score the model every this many steps (and after the last).
    pub every: usize,
    /// The score, higher is better: e.g. accuracy on validation data. It must draw no
    /// random numbers, so that selecting changes nothing about training.
    pub score: Box<dyn FnMut(&M) -> f64 + 'a>,
}

/// What a [`Selection`] chose.
#[derive(Clone, Debug, PartialEq)]
pub struct Selected {
    /// The step of the returned model: the first of the best scores.
    pub step: usize,
    /// Its score.
    pub score: f64,
    /// Every check, `(step, score)`, in order.
    pub checks: Vec<(usize, f64)>,
}

impl<M> Trained<M> {
    /// The same record with the model changed by `f` (e.g. into an enum of models).
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Trained<N> {
        Trained {
            model: f(self.model),
            seconds: self.seconds,
            curve: self.curve,
            selected: self.selected,
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
    /// How the learning rate moves over the steps.
    pub schedule: LearningRateSchedule,
}

/// How the learning rate moves over a run's steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LearningRateSchedule {
    /// The same rate at every step.
    #[default]
    Constant,
    /// Half a cosine from the full rate at step 1 down to 0 after the last step
    /// (Loshchilov and Hutter 2017, without restarts): late steps make small moves, so
    /// the model ends near a minimum instead of circling it at the full rate.
    Cosine,
}

impl OptimizerSettings {
    /// The learning rate of step `step` (counted from 1).
    pub fn rate_at(&self, step: usize) -> f64 {
        match self.schedule {
            LearningRateSchedule::Constant => self.learning_rate,
            LearningRateSchedule::Cosine => {
                let progress = (step - 1) as f64 / self.steps as f64;
                self.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

/// What a loss may draw on besides the model and the batch. Both parts are saved with a
/// checkpoint, so a resumed run makes the same draws.
pub struct StepState {
    /// The host generator of this step's draws (sampled locations, coins), seeded by the
    /// loop's stream and the step number.
    pub rng: StdRng,
    /// A moving-average REINFORCE baseline, carried from step to step (`None` before the
    /// first).
    pub reward_baseline: Option<f64>,
}

/// Trains `model` for `settings.steps` Adam steps with gradient-norm clipping, taking each
/// batch from `next_batch` and its objective from `loss`. A learning-curve point is kept every
/// `curve_every` steps (none for 0). A non-finite loss or gradient stops training with an
/// error naming the step and what to lower.
///
/// Every random draw of a step comes from the step alone: the device is reseeded, and
/// [`StepState::rng`] seeded, from the loop's *stream* (one draw from the device after the
/// first step, so it follows the cell's seed; the first step draws from the device as the
/// cell left it, which is where Burn's lazy parameters initialize) and the step number. With the data order
/// replayed, a checkpoint ([`crate::checkpoint`]) therefore holds all a resumed loop needs
/// to continue exactly as the uninterrupted one would have. Inside a checkpoint scope the
/// loop resumes from its slot's latest checkpoint, saves on the scope's schedule and when a
/// signal asks, and stops with [`Interrupted`] after saving when a signal says stop.
pub fn train_loop<M: Module, B>(
    settings: &OptimizerSettings,
    model: M,
    label: &str,
    curve_every: usize,
    next_batch: impl FnMut() -> B,
    loss: impl FnMut(&M, &B, &mut StepState) -> StepLoss,
) -> anyhow::Result<Trained<M>> {
    train_and_select(settings, model, label, curve_every, None, next_batch, loss)
}

/// [`train_loop`], returning the model that `selection` scores best rather than the last
/// one (with `None`, exactly [`train_loop`]). The best model so far and every check are
/// part of each checkpoint (`best.bpk` and `state.json`), so a resumed run selects as the
/// uninterrupted one would.
pub fn train_and_select<M: Module, B>(
    settings: &OptimizerSettings,
    mut model: M,
    label: &str,
    curve_every: usize,
    mut selection: Option<Selection<'_, M>>,
    mut next_batch: impl FnMut() -> B,
    mut loss: impl FnMut(&M, &B, &mut StepState) -> StepLoss,
) -> anyhow::Result<Trained<M>> {
    // An infinite clip is no clip: skip the norm computation altogether.
    let clipping = settings
        .grad_clip
        .is_finite()
        .then_some(GradientClippingConfig::Norm(settings.grad_clip as f32));
    let mut optimizer = AdamConfig::new().with_grad_clipping(clipping).init();
    let device = model.devices().into_iter().next();
    let slot = Slot::next(label);
    let mut state = LoopState {
        step: 0,
        steps: settings.steps,
        stream: 0,
        seconds: 0.0.into(),
        curve: Vec::new(),
        window: (0.0.into(), 0),
        reward_baseline: None,
        checks: Vec::new(),
    };
    // The model of the first best check so far (`first_best(&state.checks)`).
    let mut best: Option<M> = None;
    if let Some(slot) = &slot
        && let Some((dir, saved)) = slot.load::<LoopState>()?
    {
        if saved.steps != state.steps {
            bail!(
                "{label}: the checkpoint was written for {} steps, not {}; start afresh with --fresh",
                saved.steps,
                state.steps
            );
        }
        model = checkpoint::load_saved_module(model, &dir, "model")?;
        optimizer = optimizer.load_record(checkpoint::load_optimizer(&dir, "optimizer")?);
        if !saved.checks.is_empty() {
            best = Some(checkpoint::load_saved_module(model.clone(), &dir, "best")?);
        }
        state = saved;
        // Replays the data order up to the checkpoint (batches only: no model runs).
        for step in 1..=state.step {
            reseed(device.as_ref(), state.stream, step);
            next_batch();
        }
        eprintln!("{label}: resumed at step {} of {}", state.step, state.steps);
    }
    let mut progress = harness::Progress::new(label, settings.steps);
    let seconds_before = f64::from(state.seconds);
    let mut window = (f64::from(state.window.0), state.window.1);
    let mut step_state = StepState {
        rng: StdRng::seed_from_u64(0),
        reward_baseline: state.reward_baseline.map(f64::from),
    };
    for step in state.step + 1..=settings.steps {
        // Step 1 draws from the device as the cell left it: Burn initializes parameters
        // lazily, at their first use, so the initialization happens here.
        step_state.rng = reseed(device.as_ref(), state.stream, step);
        let batch = next_batch();
        let StepLoss {
            objective,
            cross_entropy,
        } = loss(&model, &batch, &mut step_state);
        if !cross_entropy.is_finite() {
            bail!(
                "{label}: loss became {cross_entropy} at step {step}; lower learning_rate (now {}) or grad_clip (now {})",
                settings.learning_rate,
                settings.grad_clip
            );
        }
        let grads = GradientsParams::from_grads(objective.backward(), &model);
        if let Some(name) = non_finite_gradient(&model, &grads) {
            bail!(
                "{label}: the gradient of '{name}' became non-finite at step {step}; lower learning_rate (now {}) or grad_clip (now {})",
                settings.learning_rate,
                settings.grad_clip
            );
        }
        model = optimizer.step(settings.rate_at(step), model, grads);
        if step == 1 {
            state.stream = device.as_ref().map_or(0, draw_stream);
        }
        progress.update(step, cross_entropy);
        window = (window.0 + cross_entropy, window.1 + 1);
        if curve_every > 0 && (step % curve_every == 0 || step == settings.steps) {
            state
                .curve
                .push((step, (window.0 / window.1 as f64).into()));
            window = (0.0, 0);
        }
        if let Some(selection) = &mut selection
            && (step.is_multiple_of(selection.every) || step == settings.steps)
        {
            let score = (selection.score)(&model);
            if first_best(&state.checks).is_none_or(|(_, best)| score > best) {
                best = Some(model.clone());
            }
            state.checks.push((step, score.into()));
        }
        if let Some(slot) = &slot
            && (slot.due(step) || step == settings.steps)
        {
            state.step = step;
            state.seconds = (seconds_before + progress.elapsed_secs()).into();
            state.window = (window.0.into(), window.1);
            state.reward_baseline = step_state.reward_baseline.map(Into::into);
            slot.save(step, settings.steps, &state, |dir| {
                checkpoint::save_module(dir, "model", &model)?;
                if let Some(best) = &best {
                    checkpoint::save_module(dir, "best", best)?;
                }
                checkpoint::save_optimizer(dir, "optimizer", &optimizer)
            })?;
        }
    }
    // The draws after training (sampled evaluation) start from the same state whether the
    // loop ran or was loaded whole from its last checkpoint.
    reseed(device.as_ref(), state.stream, u64::MAX as usize);
    let selected = first_best(&state.checks).map(|(step, score)| Selected {
        step,
        score,
        checks: (state.checks.iter())
            .map(|&(step, score)| (step, score.into()))
            .collect(),
    });
    Ok(Trained {
        model: best.unwrap_or(model),
        seconds: seconds_before + progress.elapsed_secs(),
        curve: state
            .curve
            .into_iter()
            .map(|(step, loss)| (step, loss.into()))
            .collect(),
        selected,
    })
}

/// The first of the best checks, `(step, score)`: a later check replaces it only with a
/// strictly higher score.
fn first_best(checks: &[(usize, ExactF64)]) -> Option<(usize, f64)> {
    checks.iter().fold(None, |best, &(step, score)| {
        let score = f64::from(score);
        match best {
            Some((_, best_score)) if score <= best_score => best,
            _ => Some((step, score)),
        }
    })
}

/// The loop's random stream: one draw from the device's generator, so it follows the seed
/// the cell gave the device and whatever was drawn before (the model's initialization).
pub(crate) fn draw_stream(device: &Device) -> u64 {
    // Three draws of 30 bits (Burn's integers may be 32-bit signed).
    let parts = Tensor::<1, Int>::random([3], Distribution::Uniform(0.0, 2f64.powi(30)), device)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("three integers");
    ((parts[0] as u64) << 34) ^ ((parts[1] as u64) << 17) ^ parts[2] as u64
}

/// Seeds the device's generator for `step` (from step 2 on; see [`train_loop`]) and
/// returns the step's host generator.
pub(crate) fn reseed(device: Option<&Device>, stream: u64, step: usize) -> StdRng {
    let seed = splitmix64(stream ^ splitmix64(step as u64));
    if let Some(device) = device
        && step > 1
    {
        device.seed(seed);
    }
    StdRng::seed_from_u64(splitmix64(seed))
}

/// SplitMix64's finalizer: nearby inputs give unrelated outputs.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The name of a parameter whose gradient holds a NaN or an infinity, if any. One sum per
/// parameter, read back in one transfer; names are looked up only when one is found.
fn non_finite_gradient<M: Module>(model: &M, grads: &GradientsParams) -> Option<String> {
    struct Sums<'a> {
        grads: &'a GradientsParams,
        ids: Vec<ParamId>,
        sums: Vec<Tensor<1>>,
    }
    impl ModuleVisitor for Sums<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(grad) = self.grads.get::<D>(param.id) {
                self.ids.push(param.id);
                self.sums.push(grad.sum());
            }
        }
    }
    let mut sums = Sums {
        grads,
        ids: Vec::new(),
        sums: Vec::new(),
    };
    model.visit(&mut sums);
    if sums.sums.is_empty() {
        return None;
    }
    let values = Tensor::cat(sums.sums, 0)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("gradient sums");
    let bad = sums.ids[values.iter().position(|v| !v.is_finite())?];
    let name = model
        .collect(None, None, false)
        .into_iter()
        .find(|tensor| tensor.param_id == Some(bad.val()))
        .map_or_else(|| format!("parameter {bad}"), |tensor| tensor.name);
    Some(name)
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

#[cfg(test)]
mod tests {
    use burn::module::{Module, Param};
    use burn::tensor::{Tensor, TensorData};
    use rand::Rng;

    use super::*;

    /// One parameter `w`.
    #[derive(Module, Debug)]
    struct Tiny {
        w: Param<Tensor<1>>,
    }

    fn tiny(value: f32) -> Tiny {
        let device = harness::device(0).unwrap();
        Tiny {
            w: Param::from_tensor(Tensor::from_data(
                TensorData::new(vec![value], [1]),
                &device,
            )),
        }
    }

    /// The checkpoint scope is global: the tests that run a loop take turns, so that no
    /// loop takes a slot in another test's scope.
    fn turn() -> std::sync::MutexGuard<'static, ()> {
        static LOOPS: std::sync::Mutex<()> = std::sync::Mutex::new(());
        LOOPS.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn settings(steps: usize) -> OptimizerSettings {
        OptimizerSettings {
            steps,
            learning_rate: 0.1,
            grad_clip: f64::INFINITY,
            schedule: LearningRateSchedule::Constant,
        }
    }

    #[test]
    fn the_cosine_schedule_falls_from_the_full_rate_by_half_a_cosine() {
        let cosine = OptimizerSettings {
            steps: 4,
            learning_rate: 2.0,
            grad_clip: f64::INFINITY,
            schedule: LearningRateSchedule::Cosine,
        };
        // 2 · ½ (1 + cos(π k / 4)) for k = 0..3: 2, 1 + √½, 1, 1 − √½.
        let half = std::f64::consts::FRAC_1_SQRT_2;
        for (step, want) in [(1, 2.0), (2, 1.0 + half), (3, 1.0), (4, 1.0 - half)] {
            assert!((cosine.rate_at(step) - want).abs() < 1e-12, "step {step}");
        }
        let constant = settings(4);
        assert!((1..=4).all(|step| constant.rate_at(step) == 0.1));
    }

    #[test]
    fn a_non_finite_gradient_under_a_finite_loss_stops_naming_the_parameter() {
        let _turn = turn();
        // d/dw (0 · √w) at w = 0 is 0 · ∞ = NaN, while the loss is 0.
        let err = train_loop(
            &settings(3),
            tiny(0.0),
            "tiny",
            0,
            || (),
            |m: &Tiny, _, _| cross_entropy_loss((m.w.val().sqrt() * 0.0).sum()),
        )
        .err()
        .expect("stopped")
        .to_string();
        assert!(
            err.contains("the gradient of 'w' became non-finite at step 1"),
            "{err}"
        );
    }

    #[test]
    fn the_loop_follows_the_gradient_and_keeps_a_curve() {
        let _turn = turn();
        // Loss w²: from w = 1, Adam's first step is -lr·sign(g) exactly.
        let trained = train_loop(&settings(2), tiny(1.0), "tiny", 1, || (), square_loss).unwrap();
        let curve: Vec<usize> = trained.curve.iter().map(|&(s, _)| s).collect();
        assert_eq!(curve, vec![1, 2]);
        assert_eq!(trained.curve[0].1, 1.0);
        assert!(
            (trained.curve[1].1 - 0.81).abs() < 1e-5,
            "{:?}",
            trained.curve
        );
    }

    /// A selection whose scores are `scores`, one per check, in order.
    fn scripted(every: usize, scores: &[f64]) -> Selection<'_, Tiny> {
        let mut next = scores.iter();
        Selection {
            every,
            score: Box::new(move |_| *next.next().expect("a score per check")),
        }
    }

    fn w_of(model: &Tiny) -> f32 {
        model.w.val().into_scalar::<f32>()
    }

    fn square_loss(m: &Tiny, _: &(), _: &mut StepState) -> StepLoss {
        cross_entropy_loss(m.w.val().powi_scalar(2).sum())
    }

    /// The model after `steps` steps of the loss w² from w = 1, without selection.
    fn unselected(steps: usize) -> Tiny {
        train_loop(&settings(steps), tiny(1.0), "tiny", 0, || (), square_loss)
            .unwrap()
            .model
    }

    #[test]
    fn selection_returns_the_first_best_checked_model() {
        let _turn = turn();
        // Checks at steps 2, 4, 5 (the last); the best score, 3.0, first at step 4.
        let trained = train_and_select(
            &settings(5),
            tiny(1.0),
            "tiny",
            0,
            Some(scripted(2, &[1.0, 3.0, 3.0])),
            || (),
            square_loss,
        )
        .unwrap();
        let four_steps = unselected(4);
        let five_steps = unselected(5);
        assert_eq!(w_of(&trained.model), w_of(&four_steps));
        assert_ne!(w_of(&trained.model), w_of(&five_steps));
        assert_eq!(
            trained.selected,
            Some(Selected {
                step: 4,
                score: 3.0,
                checks: vec![(2, 1.0), (4, 3.0), (5, 3.0)],
            })
        );
    }

    #[test]
    fn a_resumed_loop_selects_as_the_uninterrupted_one() {
        let _turn = turn();
        // The checkpoint of step 2 (best so far: step 2) is copied aside at the next check;
        // training resumed from it must return step 2's model, although its last check
        // scores lower, and the same checks.
        let scope = std::env::temp_dir().join("attention-lab-selection-scope");
        let aside = std::env::temp_dir().join("attention-lab-selection-aside");
        for dir in [&scope, &aside] {
            let _ = std::fs::remove_dir_all(dir);
        }
        let scores = [5.0, 1.0, 4.0];
        let mut checks = 0;
        let copying = Selection {
            every: 2,
            score: Box::new(|_: &Tiny| {
                if checks == 1 {
                    copy_dir(&scope, &aside);
                }
                checks += 1;
                scores[checks - 1]
            }),
        };
        let whole = checkpoint::with_scope(&scope, 2, || {
            train_and_select(
                &settings(6),
                tiny(1.0),
                "tiny",
                0,
                Some(copying),
                || (),
                square_loss,
            )
        })
        .unwrap();
        assert_eq!(whole.selected.as_ref().map(|s| s.step), Some(2));
        assert!(
            aside
                .join("1-tiny")
                .join("step-2")
                .join("best.bpk")
                .is_file()
        );
        // Resumed from step 2: the checks of steps 4 and 6 run again.
        let resumed = checkpoint::with_scope(&aside, 2, || {
            train_and_select(
                &settings(6),
                tiny(1.0),
                "tiny",
                0,
                Some(scripted(2, &scores[1..])),
                || (),
                square_loss,
            )
        })
        .unwrap();
        assert_eq!(resumed.selected, whole.selected);
        assert_eq!(w_of(&resumed.model), w_of(&whole.model));
        let two_steps = unselected(2);
        assert_eq!(w_of(&resumed.model), w_of(&two_steps));
        for dir in [&scope, &aside] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Copies the folder tree `from` to `to`.
    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }

    #[test]
    fn each_step_draws_from_its_own_generator_whatever_ran_before() {
        // The host draws of step s are a function of (stream, s) alone.
        let a = reseed(None, 42, 7).random::<u64>();
        let b = reseed(None, 42, 7).random::<u64>();
        let c = reseed(None, 42, 8).random::<u64>();
        let d = reseed(None, 43, 7).random::<u64>();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
