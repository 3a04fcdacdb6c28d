//! The convolutional encoder of Xu et al. 2015 (§3.1.1, "Encoder: Convolutional Features"):
//! an image becomes `L` annotation vectors `a = {a_1, ..., a_L}`, `a_i ∈ R^D`, one per cell of
//! a `G × G` grid, taken from a convolutional feature map *before* any fully connected layer,
//! so that each vector describes one part of the image and the decoder can attend to it.
//!
//! Each block is a 3 × 3 convolution ("same" padding), a ReLU and a 2 × 2 max-pool that halves
//! the side; the last block has `D` channels and its map is the annotation grid (an extra
//! max-pool brings it down to `G × G` when asked for a coarser grid). Cell `i` is row
//! `i / G`, column `i % G` (row-major).
//!
//! Departures from the paper, all of scale: Xu et al. take the 14 × 14 × 512 map of the
//! fourth convolutional layer of VGG (Simonyan & Zisserman 2014) pretrained on ImageNet,
//! without fine-tuning; here a small network is trained on our own images, first on a
//! multi-label task in place of ImageNet classification: "which labels are present" in the
//! whole image ([`ImageEncoder::label_logits`]) or in each cell
//! ([`ImageEncoder::cell_label_logits`]), with [`multilabel_loss`]; then frozen or
//! fine-tuned ([`EncoderTuning`]).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{log_sigmoid, relu};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::kernels::{linear, linear_steps, max_pool2d};

/// Configuration of an [`ImageEncoder`]. The defaults take a 48 × 48 canvas to a 6 × 6 grid
/// of 64-dimensional annotations (three blocks: 48 → 24 → 12 → 6).
#[derive(Config, Debug)]
pub struct ImageEncoderConfig {
    /// Input channels. 3: RGB.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Side of the square input images, in pixels. 48: room for a few 16-pixel objects.
    #[config(default = 48)]
    pub canvas: usize,
    /// Output channels of every block before the last (whose width is `d_annotation`); each
    /// block halves the side. `[16, 32]`: with the last block, three halvings.
    #[config(default = "vec![16, 32]")]
    pub channels: Vec<usize>,
    /// Side `G` of the annotation grid, `L = G²` annotations. Must divide the side left after
    /// the blocks (`canvas / 2^(channels.len() + 1)`); a smaller `G` max-pools that map once
    /// more. 6: 36 cells of 8 × 8 pixels, an object spanning a few of them.
    #[config(default = 6)]
    pub grid: usize,
    /// Size `D` of an annotation vector: the last block's channels. 64.
    #[config(default = 64)]
    pub d_annotation: usize,
    /// Number of labels of the multi-label pretraining head (classes and colours); `None`:
    /// no head.
    #[config(default = "None")]
    pub n_labels: Option<usize>,
}

/// Whether the encoder learns while the captioner trains.
///
/// Freezing uses Burn's [`Module::freeze`] (parameters stop requiring gradients) rather than
/// `.detach()` on the annotations: a frozen module builds no autodiff graph at all in its
/// forward pass (a detached output still records every convolution before the cut), the
/// optimizer receives no gradient for its parameters and leaves them and its own state
/// alone, and the choice lives with the module instead of at every call site, where one
/// forgotten `.detach()` would quietly fine-tune.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncoderTuning {
    /// No gradients: the pretrained features are kept (Xu et al. 2015 do not fine-tune VGG).
    Frozen,
    /// The encoder trains with the captioner, from the caption loss.
    FineTune,
}

/// A CNN whose last feature map is a grid of annotation vectors; see the module docs.
#[derive(Module, Debug)]
pub struct ImageEncoder {
    /// One 3 × 3 convolution per block, `channels` then `d_annotation` output channels.
    pub convs: Vec<Conv2d>,
    /// The 2 × 2, stride 2 max-pool after each block.
    pub pool: MaxPool2d,
    /// The extra max-pool to a `G × G` grid; `None` when the blocks already end there.
    pub grid_pool: Option<MaxPool2d>,
    /// The multi-label head `[D] -> [n_labels]` on the max-pooled annotations; `None` without one.
    pub head: Option<Linear>,
}

impl ImageEncoderConfig {
    /// The number of annotation vectors `L = G²`.
    pub fn cells(&self) -> usize {
        self.grid * self.grid
    }

    /// Whether the sizes chain: the canvas halves once per block, and the grid divides what
    /// is left.
    pub fn check(&self) -> Result<(), String> {
        let blocks = self.channels.len() + 1;
        let shrink = 1usize << blocks;
        if self.canvas == 0 || !self.canvas.is_multiple_of(shrink) {
            return Err(format!(
                "the canvas ({}) must be a positive multiple of 2^{blocks} = {shrink} for \
                 {blocks} blocks of 2 × 2 max-pooling",
                self.canvas
            ));
        }
        let side = self.canvas / shrink;
        if self.grid == 0 || !side.is_multiple_of(self.grid) {
            return Err(format!(
                "the grid ({}) must divide the side left after {blocks} blocks ({side})",
                self.grid
            ));
        }
        Ok(())
    }

    /// Creates the encoder.
    ///
    /// # Panics
    /// If [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> ImageEncoder {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
        let mut widths = vec![self.in_channels];
        widths.extend(&self.channels);
        widths.push(self.d_annotation);
        let convs = widths
            .windows(2)
            .map(|w| {
                Conv2dConfig::new([w[0], w[1]], [3, 3])
                    .with_padding(PaddingConfig2d::Same)
                    .init(device)
            })
            .collect();
        let side = self.canvas >> (self.channels.len() + 1);
        let grid_kernel = side / self.grid;
        ImageEncoder {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            grid_pool: (grid_kernel > 1)
                .then(|| MaxPool2dConfig::new([grid_kernel, grid_kernel]).init()),
            head: self
                .n_labels
                .map(|n| LinearConfig::new(self.d_annotation, n).init(device)),
        }
    }
}

impl ImageEncoder {
    /// The annotation vectors of a batch of images.
    ///
    /// - `images`: `[batch, in_channels, canvas, canvas]`.
    /// - returns `[batch, G·G, D]`, cell `i` at grid row `i / G`, column `i % G`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<3> {
        self.forward_with(images, |conv, x| conv.forward(x))
    }

    /// [`Self::forward`] with each convolution layer run by `convolve` (say,
    /// [`crate::kernels::conv2d`]: the same function, computed in another order, so to
    /// rounding the same values but not the same bits).
    pub fn forward_with(
        &self,
        images: Tensor<4>,
        convolve: impl Fn(&Conv2d, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<3> {
        let mut x = images; // [B, C_0, H, W]
        for conv in &self.convs {
            // [B, C_k, H_k, W_k] -> [B, C_{k+1}, H_k, W_k] -> [B, C_{k+1}, H_k / 2, W_k / 2]
            x = max_pool2d(&self.pool, relu(convolve(conv, x)));
        }
        if let Some(pool) = &self.grid_pool {
            x = max_pool2d(pool, x); // [B, D, G, G]
        }
        let [batch, d, rows, cols] = x.dims();
        x.reshape([batch, d, rows * cols]) // [B, D, L]
            .swap_dims(1, 2) // [B, L, D]
    }

    /// The multi-label head's logits, from the annotations max-pooled over the grid: "is
    /// there a red object anywhere" is a question about the strongest region, which a mean
    /// over mostly empty background dilutes.
    ///
    /// - `annotations`: `[batch, L, D]`, as [`Self::forward`] returns them.
    /// - returns `[batch, n_labels]` logits, one independent yes/no per label.
    ///
    /// # Panics
    /// If the encoder was built without a head (`n_labels: None`).
    pub fn label_logits(&self, annotations: Tensor<3>) -> Tensor<2> {
        let head = self
            .head
            .as_ref()
            .expect("label_logits needs an encoder built with n_labels");
        let [batch, _, d] = annotations.dims();
        let strongest = annotations.max_dim(1).reshape([batch, d]); // [B, D]
        linear(head, strongest) // [B, n_labels]
    }

    /// The head's logits at every cell: "which labels lie in this region", the localized
    /// form of [`Self::label_logits`] for images whose objects have known boxes. The same
    /// linear head reads each annotation on its own.
    ///
    /// - `annotations`: `[batch, L, D]`, as [`Self::forward`] returns them.
    /// - returns `[batch, L, n_labels]` logits.
    ///
    /// # Panics
    /// If the encoder was built without a head (`n_labels: None`).
    pub fn cell_label_logits(&self, annotations: Tensor<3>) -> Tensor<3> {
        let head = self
            .head
            .as_ref()
            .expect("cell_label_logits needs an encoder built with n_labels");
        linear_steps(head, annotations) // [B, L, n_labels]
    }

    /// The encoder frozen ([`EncoderTuning::Frozen`], Burn's `freeze`) or trainable
    /// ([`EncoderTuning::FineTune`], `unfreeze`); see [`EncoderTuning`] for why freezing
    /// rather than detaching.
    pub fn with_tuning(self, tuning: EncoderTuning) -> Self {
        match tuning {
            EncoderTuning::Frozen => self.freeze(),
            EncoderTuning::FineTune => self.unfreeze(),
        }
    }
}

/// Binary cross-entropy of independent labels, from logits, averaged over every (row, label):
/// `-mean[w y log σ(x) + (1 - y) log σ(-x)]`, computed with `log σ` so that large logits do not
/// overflow. `w` (`positive_weight`, PyTorch's `pos_weight`) weighs the present labels: when
/// few labels are present (a cell of a scene is mostly empty), `w` near negatives / positives
/// keeps "nothing anywhere" from being the first thing learned. 1.0: plain cross-entropy.
///
/// - `logits`: `[batch, n_labels]`.
/// - `targets`: `[batch, n_labels]`, 1.0 where the label is present, else 0.0 (values in
///   between act as soft labels).
/// - returns a one-element tensor.
pub fn multilabel_loss(logits: Tensor<2>, targets: Tensor<2>, positive_weight: f64) -> Tensor<1> {
    let present = log_sigmoid(logits.clone()) * targets.clone().mul_scalar(positive_weight); // [B, N]
    let absent = log_sigmoid(logits.neg()) * targets.neg().add_scalar(1.0); // [B, N]
    (present + absent).mean().neg()
}
