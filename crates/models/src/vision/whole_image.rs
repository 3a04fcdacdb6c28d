//! The whole-image baselines of Mnih et al. 2014, "Recurrent Models of Visual Attention"
//! (NIPS), §4.1: classifiers that read every pixel of the canvas, against which the
//! recurrent attention model ([`super::Ram`]) is compared, with everything else (data,
//! optimizer, budget) left to the experiment to keep equal.
//!
//! - [`MlpClassifier`]: "FC, 2 layers": two fully connected hidden layers of rectifier units
//!   (64 or 256 each in the paper's tables), then the softmax layer.
//! - [`ConvClassifier`]: "Convolutional, 2 layers": one convolutional layer of 8 filters of
//!   10 × 10 pixels with stride 5, then a fully connected layer of 256 rectifier units, then
//!   the softmax layer, rectifiers after both hidden layers. These sizes are our reading of
//!   §4.1 and were not re-checked against the paper's text for this code; every one of them
//!   is a field of [`ConvClassifierConfig`]. No padding: the filters tile a 28-pixel canvas
//!   4 × 4 times, a 60-pixel one 11 × 11 and a 100-pixel one 19 × 19.
//!
//! Both return logits; the softmax lives in the loss.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::kernels::linear;

/// Configuration of an [`MlpClassifier`].
#[derive(Config, Debug)]
pub struct MlpClassifierConfig {
    /// Side of the square greyscale canvas, in pixels.
    pub canvas: usize,
    /// Units in each of the two hidden layers: 64 or 256 in the paper. 256.
    #[config(default = 256)]
    pub hidden: usize,
    /// Number of classes. 10.
    #[config(default = 10)]
    pub n_classes: usize,
}

/// Two hidden rectifier layers on the flattened canvas, then the output layer.
#[derive(Module, Debug)]
pub struct MlpClassifier {
    /// `[canvas²] -> [hidden]`.
    pub hidden1: Linear,
    /// `[hidden] -> [hidden]`.
    pub hidden2: Linear,
    /// `[hidden] -> [n_classes]`.
    pub output: Linear,
}

impl MlpClassifierConfig {
    /// Creates the classifier.
    pub fn init(&self, device: &Device) -> MlpClassifier {
        let pixels = self.canvas * self.canvas;
        MlpClassifier {
            hidden1: LinearConfig::new(pixels, self.hidden).init(device),
            hidden2: LinearConfig::new(self.hidden, self.hidden).init(device),
            output: LinearConfig::new(self.hidden, self.n_classes).init(device),
        }
    }

    /// Floating-point operations per image: 2 per multiply-accumulate of the three layers,
    /// `2 (canvas² · hidden + hidden² + hidden · n_classes)` (biases and rectifiers not
    /// counted), quadratic in the canvas side.
    pub fn flops_per_image(&self) -> u64 {
        let (pixels, hidden) = ((self.canvas * self.canvas) as u64, self.hidden as u64);
        2 * (pixels * hidden + hidden * hidden + hidden * self.n_classes as u64)
    }
}

impl MlpClassifier {
    /// - `images`: `[B, canvas²]`, each canvas row-major.
    /// - returns `[B, n_classes]` logits.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        let h = relu(linear(&self.hidden1, images)); // [B, hidden]
        let h = relu(linear(&self.hidden2, h)); // [B, hidden]
        linear(&self.output, h)
    }
}

/// Configuration of a [`ConvClassifier`]; the defaults are the paper's network as read in
/// the module docs.
#[derive(Config, Debug)]
pub struct ConvClassifierConfig {
    /// Side of the square greyscale canvas, in pixels; at least `kernel`.
    pub canvas: usize,
    /// Convolutional filters. 8.
    #[config(default = 8)]
    pub filters: usize,
    /// Side of a filter. 10.
    #[config(default = 10)]
    pub kernel: usize,
    /// Stride of the convolution. 5.
    #[config(default = 5)]
    pub stride: usize,
    /// Units of the fully connected hidden layer. 256.
    #[config(default = 256)]
    pub hidden: usize,
    /// Number of classes. 10.
    #[config(default = 10)]
    pub n_classes: usize,
}

/// A convolution and a fully connected layer, both rectified, then the output layer.
#[derive(Module, Debug)]
pub struct ConvClassifier {
    /// `filters` filters of `kernel × kernel`, stride `stride`, no padding.
    pub conv: Conv2d,
    /// `[filters · side_out²] -> [hidden]`.
    pub hidden: Linear,
    /// `[hidden] -> [n_classes]`.
    pub output: Linear,
}

impl ConvClassifierConfig {
    /// Side of the convolution's output map, `(canvas − kernel) / stride + 1` (rounded
    /// down: the last pixels a filter would not cover whole are left out).
    pub fn feature_side(&self) -> usize {
        (self.canvas - self.kernel) / self.stride + 1
    }

    /// Whether the sizes chain.
    pub fn check(&self) -> Result<(), String> {
        if self.stride == 0 || self.kernel == 0 || self.canvas < self.kernel {
            return Err(format!(
                "the canvas ({}) must hold one {} × {} filter, with a positive stride ({})",
                self.canvas, self.kernel, self.kernel, self.stride
            ));
        }
        Ok(())
    }

    /// Creates the classifier.
    ///
    /// # Panics
    /// If [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> ConvClassifier {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
        let side = self.feature_side();
        ConvClassifier {
            conv: Conv2dConfig::new([1, self.filters], [self.kernel, self.kernel])
                .with_stride([self.stride, self.stride])
                .init(device),
            hidden: LinearConfig::new(self.filters * side * side, self.hidden).init(device),
            output: LinearConfig::new(self.hidden, self.n_classes).init(device),
        }
    }

    /// Floating-point operations per image: 2 per multiply-accumulate,
    /// `2 (side_out² · filters · kernel² + filters · side_out² · hidden + hidden · n_classes)`
    /// (biases and rectifiers not counted); grows with the canvas.
    pub fn flops_per_image(&self) -> u64 {
        let cells = (self.feature_side() * self.feature_side()) as u64;
        let (filters, kernel) = (self.filters as u64, self.kernel as u64);
        let hidden = self.hidden as u64;
        2 * (cells * filters * kernel * kernel
            + filters * cells * hidden
            + hidden * self.n_classes as u64)
    }
}

impl ConvClassifier {
    /// - `images`: `[B, 1, canvas, canvas]`.
    /// - returns `[B, n_classes]` logits.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let maps = relu(self.conv.forward(images)); // [B, filters, side_out, side_out]
        let [batch, filters, rows, cols] = maps.dims();
        let h = relu(linear(
            &self.hidden,
            maps.reshape([batch, filters * rows * cols]),
        )); // [B, hidden]
        linear(&self.output, h)
    }
}
