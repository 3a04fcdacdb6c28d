//! The judge of the text-to-image experiment (AttnGAN, Xu et al. 2018): a CNN trained on
//! real scenes that reads every slot of the 3 × 3 grid a scene is laid out on, telling for
//! each slot which class stands there and in which colour, or that it is empty. It is not
//! part of AttnGAN; it stands in for the pretrained networks its evaluation borrows, and
//! serves three metrics of generated images:
//!
//! - **semantic accuracy**: whether every fact of the caption is realised, the judge's
//!   reading of each slot ([`JudgeOutput::predicted_classes`],
//!   [`JudgeOutput::predicted_colours`]) against the scene's facts;
//! - **FID** (Heusel et al. 2017) on its penultimate features, pooled over the slots
//!   ([`JudgeOutput::image_features`]), in place of Inception-v3's pool features;
//! - an **Inception-score analogue** (Salimans et al. 2016) on its class posteriors
//!   ([`JudgeOutput::class_posteriors`]), in place of Inception-v3's ImageNet posteriors.
//!
//! ```text
//! images [B, 3, H, W] --ImageEncoder (grid 3)--> slots [B, 9, C] --W_f, ReLU--> features [B, 9, F]
//! features --W_class--> class logits [B, 9, n_classes + 1]
//! features --W_colour--> colour logits [B, 9, n_colours + 1]
//! ```
//!
//! - **Trunk**: [`ImageEncoder`] with a 3 × 3 grid: conv 3 × 3 ("same" padding) + ReLU +
//!   2 × 2 max-pool blocks, then a max-pool of the last map down to the 3 × 3 slots (48 →
//!   24 → 12 → 6 → 3 with the defaults: each slot's 16 × 16 pixels are 2 × 2 cells of the
//!   6 × 6 map, pooled into one vector). Max rather than average pooling: a slot's object
//!   covers part of it, shifted by the scene's jitter, and the strongest response is the
//!   same wherever in the slot the object stands, where a mean is diluted by the background
//!   around it and changes with the shift. Slot `i` is row `i / 3`, column `i % 3`
//!   (row-major), as in the scenes' facts.
//! - **Per-slot layers**: one linear layer `W_f` to `F` features and a ReLU (the penultimate
//!   features), then two linear heads, all shared by the nine slots: an object is read the
//!   same wherever it stands, and each slot's layers learn from every slot's objects.
//! - **Targets**: class ids `0..n_classes` and colour ids `0..n_colours` name the object;
//!   the last id of each head (`n_classes`, `n_colours`) is "empty" ([`SlotTargets`]).
//! - **Loss** ([`judge_loss`]): cross-entropy of each head, averaged over the `B · 9` slots,
//!   the two averages summed.
//!
//! Departures from the networks the metrics were defined on: Inception-v3 classifies one
//! object per image into 1000 ImageNet classes; the judge reads nine slots into the scenes'
//! few classes and colours, is small (three blocks, about 24 k convolution weights with the
//! defaults) and is trained on this project's scenes, so the numbers it yields compare runs
//! scored by the same judge and nothing published.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, relu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::cnn::{ImageEncoder, ImageEncoderConfig};
use crate::kernels::linear_steps;

/// Side of the slot grid the judge reads: scenes have `3 × 3` slots.
pub const SLOT_GRID: usize = 3;

/// The number of slots, `SLOT_GRID²`.
pub const SLOTS: usize = SLOT_GRID * SLOT_GRID;

/// Configuration of a [`SceneJudge`]. The defaults take a 48 × 48 canvas through three blocks
/// (48 → 24 → 12 → 6) to 3 × 3 slots of 64 channels, and 128 features per slot.
#[derive(Config, Debug)]
pub struct SceneJudgeConfig {
    /// Number of object classes; the class head has one more output, "empty".
    pub n_classes: usize,
    /// Number of colours; the colour head has one more output, "empty". 6: the scenes'
    /// colours.
    #[config(default = 6)]
    pub n_colours: usize,
    /// Input channels. 3: RGB.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Side of the square input images, in pixels. Must be a multiple of
    /// `3 · 2^channels.len()`, so that the last map splits evenly into the slots. 48: the
    /// scenes' quick canvas.
    #[config(default = 48)]
    pub canvas: usize,
    /// Output channels of every convolution block, the last one the width `C` of a slot's
    /// vector; each block halves the side. `[16, 32, 64]`.
    #[config(default = "vec![16, 32, 64]")]
    pub channels: Vec<usize>,
    /// Size `F` of a slot's penultimate features, the ones FID is computed on. 128.
    #[config(default = 128)]
    pub d_features: usize,
}

/// The judge network; see the module docs.
#[derive(Module, Debug)]
pub struct SceneJudge {
    /// The convolution blocks and the pool to the slots: images to `[batch, 9, C]`.
    pub trunk: ImageEncoder,
    /// `W_f`: slot vector `[C] -> [F]`, followed by a ReLU.
    pub features: Linear,
    /// `W_class`: features `[F] -> [n_classes + 1]`.
    pub class_head: Linear,
    /// `W_colour`: features `[F] -> [n_colours + 1]`.
    pub colour_head: Linear,
}

/// What the judge returns for a batch of images.
#[derive(Clone, Debug)]
pub struct JudgeOutput {
    /// Penultimate features, `[batch, 9, F]`, after the ReLU; slot `i` at row `i / 3`,
    /// column `i % 3`.
    pub features: Tensor<3>,
    /// Class logits, `[batch, 9, n_classes + 1]`; the last one is "empty".
    pub class_logits: Tensor<3>,
    /// Colour logits, `[batch, 9, n_colours + 1]`; the last one is "empty".
    pub colour_logits: Tensor<3>,
}

/// The judge's class posteriors, split into "is there an object" and "which class is it"
/// ([`JudgeOutput::class_posteriors`]).
#[derive(Clone, Debug)]
pub struct ClassPosteriors {
    /// `p(class | slot occupied)`, `[batch, 9, n_classes]`: the class softmax without its
    /// "empty" output, renormalized; each row sums to 1.
    pub objects: Tensor<3>,
    /// `p(occupied) = 1 - p(empty)`, `[batch, 9]`.
    pub occupied: Tensor<2>,
}

/// The target ids of one image's nine slots; the last id of each head
/// ([`SceneJudgeConfig::empty_class`], [`SceneJudgeConfig::empty_colour`]) marks an empty
/// slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotTargets {
    /// Class id of each slot, `0..=n_classes`.
    pub classes: [usize; SLOTS],
    /// Colour id of each slot, `0..=n_colours`.
    pub colours: [usize; SLOTS],
}

impl SceneJudgeConfig {
    /// The class id of an empty slot: `n_classes`, the class head's last output.
    pub fn empty_class(&self) -> usize {
        self.n_classes
    }

    /// The colour id of an empty slot: `n_colours`, the colour head's last output.
    pub fn empty_colour(&self) -> usize {
        self.n_colours
    }

    /// The trunk: an [`ImageEncoder`] whose blocks are `channels` and whose grid is the
    /// 3 × 3 slots.
    pub fn encoder(&self) -> ImageEncoderConfig {
        let (last, first) = self
            .channels
            .split_last()
            .map_or((0, &[][..]), |(last, first)| (*last, first));
        ImageEncoderConfig::new()
            .with_in_channels(self.in_channels)
            .with_canvas(self.canvas)
            .with_channels(first.to_vec())
            .with_grid(SLOT_GRID)
            .with_d_annotation(last)
    }

    /// Whether the sizes chain: at least one block and one class, and a canvas that halves
    /// once per block and then splits into the 3 × 3 slots.
    pub fn check(&self) -> Result<(), String> {
        if self.channels.is_empty() {
            return Err("the judge needs at least one convolution block".into());
        }
        if self.n_classes == 0 || self.n_colours == 0 {
            return Err(format!(
                "the judge needs at least one class and one colour (got {} and {})",
                self.n_classes, self.n_colours
            ));
        }
        self.encoder().check()
    }

    /// Creates the judge.
    ///
    /// # Panics
    /// If [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> SceneJudge {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
        let width = *self.channels.last().expect("checked: at least one block");
        SceneJudge {
            trunk: self.encoder().init(device),
            features: LinearConfig::new(width, self.d_features).init(device),
            class_head: LinearConfig::new(self.d_features, self.n_classes + 1).init(device),
            colour_head: LinearConfig::new(self.d_features, self.n_colours + 1).init(device),
        }
    }

    /// The targets of one image from its objects, each a `(slot, class, colour)` triple:
    /// slot `row * 3 + col`, class id `< n_classes`, colour id `< n_colours` (the index of
    /// the colour in the scenes' colour list). Slots without an object are empty.
    ///
    /// # Panics
    /// If an id is out of range or two objects share a slot.
    pub fn slot_targets(&self, objects: &[(usize, usize, usize)]) -> SlotTargets {
        let mut targets = SlotTargets {
            classes: [self.empty_class(); SLOTS],
            colours: [self.empty_colour(); SLOTS],
        };
        for &(slot, class, colour) in objects {
            assert!(slot < SLOTS, "slot {slot} is outside the {SLOTS} slots");
            assert!(
                class < self.n_classes,
                "class {class} is outside the {} classes",
                self.n_classes
            );
            assert!(
                colour < self.n_colours,
                "colour {colour} is outside the {} colours",
                self.n_colours
            );
            assert_eq!(
                targets.classes[slot],
                self.empty_class(),
                "two objects in slot {slot}"
            );
            targets.classes[slot] = class;
            targets.colours[slot] = colour;
        }
        targets
    }
}

/// The class and colour targets of a batch as id tensors, `[batch, 9]` each, in the order of
/// `targets`.
pub fn target_tensors(
    targets: &[SlotTargets],
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let ids = |pick: fn(&SlotTargets) -> [usize; SLOTS]| {
        let data: Vec<i64> = targets
            .iter()
            .flat_map(|t| pick(t).map(|id| id as i64))
            .collect();
        Tensor::<2, Int>::from_data(TensorData::new(data, [targets.len(), SLOTS]), device)
    };
    (ids(|t| t.classes), ids(|t| t.colours))
}

impl SceneJudge {
    /// Reads every slot of a batch of images.
    ///
    /// - `images`: `[batch, in_channels, canvas, canvas]`.
    /// - returns features `[batch, 9, F]`, class logits `[batch, 9, n_classes + 1]` and
    ///   colour logits `[batch, 9, n_colours + 1]`, slot `i` at row `i / 3`, column `i % 3`.
    pub fn forward(&self, images: Tensor<4>) -> JudgeOutput {
        let slots = self.trunk.forward(images); // [B, 9, C]
        let features = relu(linear_steps(&self.features, slots)); // [B, 9, F]
        JudgeOutput {
            class_logits: linear_steps(&self.class_head, features.clone()), // [B, 9, n_classes + 1]
            colour_logits: linear_steps(&self.colour_head, features.clone()), // [B, 9, n_colours + 1]
            features,
        }
    }
}

impl JudgeOutput {
    /// The class id each slot is read as (the argmax; `n_classes` for empty).
    ///
    /// - returns `[batch, 9]`.
    pub fn predicted_classes(&self) -> Tensor<2, Int> {
        let [batch, slots, _] = self.class_logits.dims();
        self.class_logits.clone().argmax(2).reshape([batch, slots])
    }

    /// The colour id each slot is read as (the argmax; `n_colours` for empty).
    ///
    /// - returns `[batch, 9]`.
    pub fn predicted_colours(&self) -> Tensor<2, Int> {
        let [batch, slots, _] = self.colour_logits.dims();
        self.colour_logits.clone().argmax(2).reshape([batch, slots])
    }

    /// Image-level features for FID: the mean of the nine slots' penultimate features.
    ///
    /// The mean, `[batch, F]`, rather than the nine slots side by side, `[batch, 9·F]`, as
    /// Inception's pool features are the mean of its last map: FID fits a Gaussian to these
    /// vectors, and a covariance of `9·F = 1152` dimensions (with the defaults) needs more
    /// than 1152 images to be of full rank, and its eigendecompositions cost `9³` times as much, where
    /// `F = 128` fits the few hundred images of an evaluation. What the mean gives up, where
    /// each object stands, is what the semantic accuracy measures.
    ///
    /// - returns `[batch, F]`.
    pub fn image_features(&self) -> Tensor<2> {
        let [batch, _, d] = self.features.dims();
        self.features.clone().mean_dim(1).reshape([batch, d])
    }

    /// Class posteriors for the Inception-score analogue, one per slot: `p(occupied) =
    /// 1 - p(empty)` and `p(class | occupied)`, the softmax of the class logits without
    /// "empty" (equal to the full softmax's class part divided by `p(occupied)`).
    ///
    /// The score is meant to run on objects, not images: one sample per slot the judge reads
    /// as occupied (`p(occupied) > 0.5`), its row of `objects`. Inception scores images of
    /// one object each, confident when the object is recognizable and diverse when the
    /// objects are; a scene holds several objects, and an image-level posterior (their
    /// mixture) would be unconfident for any scene with two classes, however sharp each
    /// object. Keeping "empty" among the classes would instead let empty slots (nearly
    /// three quarters of a quick-preset scene's) dominate the marginal.
    ///
    /// - returns objects `[batch, 9, n_classes]` (rows summing to 1) and occupied
    ///   `[batch, 9]`.
    pub fn class_posteriors(&self) -> ClassPosteriors {
        let [batch, slots, outputs] = self.class_logits.dims();
        let n_classes = outputs - 1;
        let empty = softmax(self.class_logits.clone(), 2)
            .narrow(2, n_classes, 1)
            .reshape([batch, slots]); // [B, 9]
        ClassPosteriors {
            objects: softmax(self.class_logits.clone().narrow(2, 0, n_classes), 2), // [B, 9, n_classes]
            occupied: empty.neg().add_scalar(1.0),
        }
    }
}

/// The judge's training loss: the cross-entropy of the class head plus that of the colour
/// head, each the mean over the `batch · 9` slots (empty slots count as any other: reading a
/// slot as empty is a fact to get right).
///
/// - `output`: the judge's output for the batch.
/// - `class_targets`: `[batch, 9]` ids in `0..=n_classes`; `colour_targets`: `[batch, 9]`
///   ids in `0..=n_colours` (the last id of each: empty).
/// - returns a one-element tensor.
pub fn judge_loss(
    output: &JudgeOutput,
    class_targets: Tensor<2, Int>,
    colour_targets: Tensor<2, Int>,
) -> Tensor<1> {
    slot_cross_entropy(output.class_logits.clone(), class_targets)
        + slot_cross_entropy(output.colour_logits.clone(), colour_targets)
}

/// `-mean log softmax(logits)[target]` over every slot: `[B, S, K]` logits, `[B, S]` targets.
fn slot_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    let [batch, slots, _] = logits.dims();
    assert_eq!(
        targets.dims(),
        [batch, slots],
        "judge_loss: targets do not match the logits"
    );
    let picked = log_softmax(logits, 2).gather(2, targets.unsqueeze_dim::<3>(2)); // [B, S, 1]
    picked.mean().neg()
}
