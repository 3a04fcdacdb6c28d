//! The recurrent attention model (RAM) of Mnih, Heess, Graves & Kavukcuoglu 2014, "Recurrent
//! Models of Visual Attention" (NIPS): a recurrent network that never sees the whole image,
//! only `N` glimpses `ρ(x, l_t)` ([`super::glimpse`]) at locations it chooses itself, and
//! classifies the image from what it has gathered. Its cost depends on `N` and the glimpse
//! size, not on the size of the image.
//!
//! The networks are the paper's (§4, "Glimpse network", "Core network", "Location network"),
//! for a location `l_t ∈ [-1, 1]²` and the core state `h_t`:
//!
//! ```text
//! glimpse   h_g = ReLU(Linear(ρ(x, l_t)))   h_l = ReLU(Linear(l_t))
//!           g_t = ReLU(Linear(h_g) + Linear(h_l))
//! core      h_{t+1} = ReLU(Linear(h_t) + Linear(g_t)),  h_0 = 0
//! location  μ_t = tanh(Linear(h_t)),  l_t ~ N(μ_t, σ² I), clamped to [-1, 1]²
//! baseline  b_t = Linear(h_t)
//! action    logits = Linear(h_N)
//! ```
//!
//! (the paper counts the glimpse taken at `l_{t-1}` into `h_t`; here `l_t` is chosen from
//! `h_t` and read into `h_{t+1}`, the same recurrence indexed from 0). The classification is
//! made once, after the last glimpse, and the reward is `R = 1` when it is right, 0 otherwise
//! (§4.1). Training is the paper's hybrid loss ([`hybrid_loss`], §3.2 and §4.1): cross-entropy
//! for the action, core and glimpse networks; REINFORCE (Williams 1992) with a learned
//! baseline for the location network; the baseline regressed onto `R`.
//!
//! [`LocationPolicy::Random`] is the paper's "random glimpses" baseline: every location
//! uniform on `[-1, 1]²`, everything else the same, trained by cross-entropy alone.
//!
//! Choices the paper leaves open or where this departs from it:
//!
//! - **First location.** `l_0` is drawn like every other from the location network, read on
//!   `h_0 = 0` (so `μ_0 = tanh(bias)`, a learned start, plus noise). The paper does not say
//!   where the first glimpse goes; popular reimplementations draw it uniformly at random,
//!   which would make the first glimpse of the learned policy no better than the random
//!   baseline's.
//! - **`tanh` on the mean.** The paper's location network is `Linear(h)`; the `tanh` keeps
//!   `μ_t` on the canvas, as reimplementations do (Léonard's Torch `rnn` package, Zakka's
//!   PyTorch code).
//! - **Detached inputs, by default.** The location network and the baseline read
//!   `h_t.detach()`: REINFORCE and the baseline's regression train only their own layer,
//!   and the glimpse and core networks learn from the cross-entropy alone. This is what
//!   widely used reimplementations do (Zakka's PyTorch `RecurrentAttention`). In the paper
//!   the REINFORCE gradient flows back into the core and glimpse networks too (it trains
//!   "the whole network"), which adds a noisy signal to them but lets the state learn to
//!   carry what the next location needs: [`Ram::with_policy_gradient_to_core`] turns that
//!   on (the location network then reads `h_t` itself; the baseline still reads it
//!   detached, so its regression stays its own). It is a training choice, not part of the
//!   network: a saved model does not record it, and a test-time pass is the same either way.
//! - **σ.** The paper fixes the policy's variance without giving it. Reimplementations use
//!   standard deviations from 0.05 (Zakka) through 0.11 (Léonard) to 0.22 (Zhong Wen's
//!   TensorFlow RAM), in the same `[-1, 1]` units; the default 0.17 sits between the last
//!   two: on a 60-pixel canvas one σ is 5 pixels, less than a finest 8-pixel patch.
//! - **Clamping.** A sample outside `[-1, 1]` is clamped before the glimpse; its log-density
//!   is that of the unclamped sample under `N(μ_t, σ²)` (the common choice: the gradient of
//!   `log π` in `μ` stays `(l − μ) / σ²`, where the clamped distribution's point masses on the
//!   border would need their own, saturating, term).
//! - **The core starts at the identity.** The core's recurrent weights are initialized to
//!   the identity matrix (Le, Jaitly & Hinton 2015, "A Simple Way to Initialize Recurrent
//!   Networks of Rectified Linear Units": the IRNN), so a glimpse's features pass to the last
//!   step unchanged until training says otherwise. The paper does not give its
//!   initialization. Measured on translated 60 × 60 digits (6 glimpses, 1,000 Adam steps of
//!   64): 61% test error with Burn's default uniform initialization, whose small recurrent
//!   weights let early glimpses fade, and 33% with the identity.
//! - **Biases.** `Linear(h_g) + Linear(h_l)` and `Linear(h_t) + Linear(g_t)` are two layers
//!   each in the paper; here only the first of each pair has a bias, since two biases summed
//!   are one parameter.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::glimpse::{GlimpseSensor, GlimpseSensorConfig};
use crate::kernels::linear;

mod reinforce;
pub use reinforce::{RamLoss, gaussian_log_density, hybrid_loss, standard_normals};

/// Where the glimpses go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocationPolicy {
    /// The location network's Gaussian policy, trained by REINFORCE.
    Learned,
    /// Uniform on `[-1, 1]²` at every step: the paper's "random glimpses" baseline.
    Random,
}

impl LocationPolicy {
    /// The name used in CSVs, legends and config files.
    pub fn name(self) -> &'static str {
        match self {
            LocationPolicy::Learned => "learned",
            LocationPolicy::Random => "random",
        }
    }
}

/// How a pass picks its locations. Every random draw comes from the closure of
/// [`LocationSampling::Stochastic`], a source of values in `[0, 1)` the caller owns (pass a seeded generator, `&mut || rng.random()`), in
/// a fixed order: per step, per image in row order, two draws (x then y). A pass is
/// therefore a deterministic function of the model, the images and that stream.
pub enum LocationSampling<'a> {
    /// Draw every location: `l_t = clamp(μ_t + σ ε)`, `ε` from two uniforms by Box–Muller
    /// ([`standard_normals`]) for [`LocationPolicy::Learned`]; `l_t = 2u − 1` for
    /// [`LocationPolicy::Random`]. Training, and the paper's test (one sampled trajectory).
    Stochastic(&'a mut dyn FnMut() -> f64),
    /// The policy's mean `μ_t`, no noise (learned policy only: the random policy has no
    /// location of its own to take, and a pass with it panics).
    Mean,
}

/// Configuration of a [`Ram`]. The defaults are the paper's sizes (§4).
#[derive(Config, Debug)]
pub struct RamConfig {
    /// Side of the square greyscale canvas, in pixels (28, 60 and 100 in the paper).
    pub canvas: usize,
    /// Side `g` of a glimpse patch; even. 8.
    #[config(default = 8)]
    pub patch: usize,
    /// Number of scales `k` of a glimpse. 3.
    #[config(default = 3)]
    pub scales: usize,
    /// Size of `h_g`, the "what" of a glimpse. 128, as the paper.
    #[config(default = 128)]
    pub d_what: usize,
    /// Size of `h_l`, the "where" of a glimpse. 128, as the paper.
    #[config(default = 128)]
    pub d_where: usize,
    /// Size of the glimpse vector `g_t`. 256, as the paper.
    #[config(default = 256)]
    pub d_glimpse: usize,
    /// Size of the core state `h_t` (rectifier units). 256, as the paper.
    #[config(default = 256)]
    pub d_hidden: usize,
    /// Number of classes. 10.
    #[config(default = 10)]
    pub n_classes: usize,
    /// Number of glimpses `N`. 6.
    #[config(default = 6)]
    pub glimpses: usize,
    /// Standard deviation `σ` of the location policy on each axis, in the `[-1, 1]` units of
    /// a location (see the module docs). 0.17.
    #[config(default = 0.17)]
    pub location_std: f64,
    /// Learned or random locations.
    #[config(default = "LocationPolicy::Learned")]
    pub policy: LocationPolicy,
}

/// The recurrent attention model; see the module docs.
#[derive(Module, Debug)]
pub struct Ram {
    /// `ρ [k·g·g] -> h_g [d_what]`.
    pub glimpse_pixels: Linear,
    /// `l [2] -> h_l [d_where]`.
    pub glimpse_location: Linear,
    /// `h_g -> g [d_glimpse]`, with the bias of `g_t`.
    pub glimpse_what: Linear,
    /// `h_l -> g [d_glimpse]`, no bias.
    pub glimpse_where: Linear,
    /// `h_t -> h_{t+1} [d_hidden]`, no bias; starts at the identity.
    pub core_hidden: Linear,
    /// `g_t -> h_{t+1} [d_hidden]`, with the bias of `h_{t+1}`.
    pub core_glimpse: Linear,
    /// `h_t -> μ_t [2]` (then `tanh`).
    pub locator: Linear,
    /// `h_t -> b_t [1]`.
    pub baseline: Linear,
    /// `h_N -> logits [n_classes]`.
    pub classifier: Linear,
    /// The glimpse sensor `ρ`.
    #[module(skip)]
    pub sensor: GlimpseSensor,
    /// Learned or random locations.
    #[module(skip)]
    pub policy: LocationPolicy,
    /// Side of the canvas, checked against every pass's images.
    pub canvas: usize,
    /// `N`.
    pub glimpses: usize,
    /// `σ`.
    pub location_std: f64,
    /// Whether the location network reads `h_t` undetached
    /// ([`Ram::with_policy_gradient_to_core`]); false from [`RamConfig::init`].
    #[module(skip)]
    pub policy_gradient_to_core: bool,
}

/// What a pass returns.
#[derive(Clone, Debug)]
pub struct RamOutput {
    /// `[B, n_classes]` unnormalized class scores, from `h_N`.
    pub logits: Tensor<2>,
    /// `[B, N]` `log π(l_t | h_t)`: the log-density of each step's sample (before clamping)
    /// under `N(μ_t, σ² I)`, summed over x and y, differentiable in the location network's
    /// parameters. Zeros for [`LocationPolicy::Random`]; for [`LocationSampling::Mean`], the
    /// density's peak (a constant, gradient zero).
    pub log_policy: Tensor<2>,
    /// `[B, N]` the baseline `b_t` read at the state each location was chosen from.
    pub baselines: Tensor<2>,
    /// Per image, per step, the location `(x, y)` the glimpse was taken at (after clamping).
    pub locations: Vec<Vec<[f32; 2]>>,
}

impl RamConfig {
    /// The sensor this configuration describes.
    pub fn sensor(&self) -> GlimpseSensorConfig {
        GlimpseSensorConfig::new()
            .with_patch(self.patch)
            .with_scales(self.scales)
    }

    /// Whether the configuration is usable.
    pub fn check(&self) -> Result<(), String> {
        self.sensor().check()?;
        if self.canvas == 0 || self.glimpses == 0 || self.n_classes == 0 {
            return Err("canvas, glimpses and n_classes must be positive".into());
        }
        if self.location_std.is_nan() || self.location_std <= 0.0 {
            return Err(format!(
                "location_std must be positive, not {}",
                self.location_std
            ));
        }
        Ok(())
    }

    /// Creates the model.
    ///
    /// # Panics
    /// If [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> Ram {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
        let sensor = self.sensor().init();
        let layer = |d_in, d_out, bias| LinearConfig::new(d_in, d_out).with_bias(bias).init(device);
        Ram {
            glimpse_pixels: layer(sensor.len(), self.d_what, true),
            glimpse_location: layer(2, self.d_where, true),
            glimpse_what: layer(self.d_what, self.d_glimpse, true),
            glimpse_where: layer(self.d_where, self.d_glimpse, false),
            core_hidden: {
                let mut recurrent = layer(self.d_hidden, self.d_hidden, false);
                // The IRNN initialization (see the module docs).
                recurrent.weight = Param::from_tensor(Tensor::eye(self.d_hidden, device));
                recurrent
            },
            core_glimpse: layer(self.d_glimpse, self.d_hidden, true),
            locator: layer(self.d_hidden, 2, true),
            baseline: layer(self.d_hidden, 1, true),
            classifier: layer(self.d_hidden, self.n_classes, true),
            sensor,
            policy: self.policy,
            canvas: self.canvas,
            glimpses: self.glimpses,
            location_std: self.location_std,
            policy_gradient_to_core: false,
        }
    }

    /// Floating-point operations to classify one image: 2 per multiply-accumulate of every
    /// linear layer run (biases and activations not counted), and 1 per canvas pixel the
    /// sensor averages, off-canvas ones included ([`GlimpseSensor::pixels_read`]). Per
    /// glimpse: the sensor, the glimpse network, the core step and (learned policy) the
    /// location network; then the classifier once. The baseline is left out: it serves
    /// training only. Independent of the canvas side, the paper's point.
    pub fn flops_per_image(&self) -> u64 {
        let (k, g) = (self.scales as u64, self.patch as u64);
        let (what, place) = (self.d_what as u64, self.d_where as u64);
        let (glimpse, hidden) = (self.d_glimpse as u64, self.d_hidden as u64);
        let locator = match self.policy {
            LocationPolicy::Learned => hidden * 2,
            LocationPolicy::Random => 0,
        };
        let macs = k * g * g * what
            + 2 * place
            + what * glimpse
            + place * glimpse
            + hidden * hidden
            + glimpse * hidden
            + locator;
        let step = self.sensor().init().pixels_read() + 2 * macs;
        self.glimpses as u64 * step + 2 * hidden * self.n_classes as u64
    }
}

/// Where one step's locations come from, inside a pass.
enum Choice<'a, 'b> {
    Sample(LocationSampling<'a>),
    Given(&'b [Vec<[f32; 2]>]),
}

impl Ram {
    /// The same model, with REINFORCE's gradient flowing from the location network into the
    /// core and glimpse networks (`true`, the paper's way) or not (`false`, the default);
    /// see the module docs.
    pub fn with_policy_gradient_to_core(mut self, on: bool) -> Self {
        self.policy_gradient_to_core = on;
        self
    }

    /// A pass that picks its own locations (see [`LocationSampling`]).
    ///
    /// - `images`: `batch` greyscale canvases of `canvas × canvas` pixels, row-major,
    ///   concatenated.
    /// - `device`: where the tensors of the pass live (the model's device).
    ///
    /// # Panics
    /// If `images` holds another number of pixels, or for [`LocationSampling::Mean`] with
    /// [`LocationPolicy::Random`].
    pub fn forward(
        &self,
        images: &[f32],
        batch: usize,
        sampling: LocationSampling<'_>,
        device: &Device,
    ) -> RamOutput {
        self.run(images, batch, Choice::Sample(sampling), device)
    }

    /// A pass with the glimpses taken at given locations, `locations[b][t]` for image `b`
    /// and step `t` (`N` each): replaying or scoring a trajectory. `log_policy` is the
    /// density of those locations under the model's policy (zeros for the random policy),
    /// and the locations are used as they are (not clamped).
    pub fn forward_at(
        &self,
        images: &[f32],
        locations: &[Vec<[f32; 2]>],
        device: &Device,
    ) -> RamOutput {
        assert!(
            locations.iter().all(|l| l.len() == self.glimpses),
            "forward_at: every image needs {} locations",
            self.glimpses
        );
        self.run(images, locations.len(), Choice::Given(locations), device)
    }

    fn run(&self, images: &[f32], batch: usize, mut choice: Choice, device: &Device) -> RamOutput {
        assert_eq!(
            images.len(),
            batch * self.canvas * self.canvas,
            "Ram: {} values are not {batch} canvases of {} × {}",
            images.len(),
            self.canvas,
            self.canvas
        );
        if matches!(choice, Choice::Sample(LocationSampling::Mean)) {
            assert_eq!(
                self.policy,
                LocationPolicy::Learned,
                "the random policy has no mean location: sample it"
            );
        }
        let d_hidden = self.core_hidden.weight.dims()[0];
        let mut h = Tensor::<2>::zeros([batch, d_hidden], device);
        let mut locations = vec![Vec::with_capacity(self.glimpses); batch];
        let (mut log_policy, mut baselines) = (Vec::new(), Vec::new());
        for t in 0..self.glimpses {
            let state = h.clone().detach();
            baselines.push(linear(&self.baseline, state.clone())); // [B, 1]
            let policy_state = if self.policy_gradient_to_core {
                h.clone()
            } else {
                state
            };
            let (used, log_pi) = self.locate(t, policy_state, &mut choice);
            log_policy.push(log_pi.unsqueeze_dim::<2>(1)); // [B, 1]
            let glimpse = self.glimpse(images, &used, device); // [B, d_glimpse]
            h = relu(linear(&self.core_hidden, h) + linear(&self.core_glimpse, glimpse));
            for (trail, l) in locations.iter_mut().zip(used) {
                trail.push(l);
            }
        }
        RamOutput {
            logits: linear(&self.classifier, h),
            log_policy: Tensor::cat(log_policy, 1),
            baselines: Tensor::cat(baselines, 1),
            locations,
        }
    }

    /// Step `t`'s locations, one per image, as the glimpse will use them, and their
    /// log-density `[B]`, from the state `h_t` `[B, d_hidden]` (detached unless the policy
    /// gradient goes to the core).
    fn locate(
        &self,
        t: usize,
        state: Tensor<2>,
        choice: &mut Choice,
    ) -> (Vec<[f32; 2]>, Tensor<1>) {
        let (batch, device) = (state.dims()[0], state.device());
        if self.policy == LocationPolicy::Random {
            let drawn = match choice {
                Choice::Sample(LocationSampling::Stochastic(uniform)) => (0..batch)
                    .map(|_| [0, 1].map(|_| (2.0 * uniform() - 1.0) as f32))
                    .collect(),
                Choice::Given(given) => given.iter().map(|l| l[t]).collect(),
                Choice::Sample(LocationSampling::Mean) => unreachable!("checked by run"),
            };
            return (drawn, Tensor::zeros([batch], &device));
        }
        let mean = tanh(linear(&self.locator, state)); // [B, 2]
        let mu = host_pairs(mean.clone());
        let (drawn, used) = match choice {
            Choice::Sample(LocationSampling::Stochastic(uniform)) => {
                let drawn: Vec<[f32; 2]> = mu
                    .iter()
                    .map(|m| {
                        let e = standard_normals(&mut **uniform);
                        [0, 1].map(|i| (f64::from(m[i]) + self.location_std * e[i]) as f32)
                    })
                    .collect();
                let used = drawn
                    .iter()
                    .map(|l| l.map(|v| v.clamp(-1.0, 1.0)))
                    .collect();
                (drawn, used)
            }
            Choice::Sample(LocationSampling::Mean) => (mu.clone(), mu),
            Choice::Given(given) => {
                let given: Vec<[f32; 2]> = given.iter().map(|l| l[t]).collect();
                (given.clone(), given)
            }
        };
        // The unclamped draw's density (see the module docs).
        let log_pi = gaussian_log_density(pairs_tensor(&drawn, &device), mean, self.location_std);
        (used, log_pi)
    }

    /// The glimpse network `g_t` at one location per image: `[B, d_glimpse]`.
    fn glimpse(&self, images: &[f32], locations: &[[f32; 2]], device: &Device) -> Tensor<2> {
        let batch = locations.len();
        let pixels = self.sensor.extract(images, self.canvas, locations);
        let rho = Tensor::from_data(TensorData::new(pixels, [batch, self.sensor.len()]), device);
        let what = relu(linear(&self.glimpse_pixels, rho)); // [B, d_what]
        let place = relu(linear(
            &self.glimpse_location,
            pairs_tensor(locations, device),
        )); // [B, d_where]
        relu(linear(&self.glimpse_what, what) + linear(&self.glimpse_where, place))
    }
}

/// `[B, 2]` on the host, row by row.
fn host_pairs(t: Tensor<2>) -> Vec<[f32; 2]> {
    let v: Vec<f32> = t.into_data().iter::<f32>().collect();
    v.chunks_exact(2).map(|p| [p[0], p[1]]).collect()
}

/// `[B, 2]` from host pairs.
fn pairs_tensor(pairs: &[[f32; 2]], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = pairs.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [pairs.len(), 2]), device)
}
