//! The convolution of `kernels::conv2d` (im2col and matrix products on flex) against Burn's
//! `Conv2d::forward`: values and the gradients of input, weight and bias, for the layers the
//! models use (3 × 3 same padding, 4 × 4 stride 2, a kernel as large as its input), odd
//! sizes, a strided input, and an input that needs no gradient.

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Distribution, Tensor};
use models::kernels::conv2d;

mod common;
use common::{assert_close, seed_device, values};

/// A layer on the autodiff device with its weight and bias drawn from the seeded generator.
fn layer(config: Conv2dConfig, device: &Device) -> Conv2d {
    let layer = config.init(device);
    let normal = Distribution::Normal(0.0, 0.5);
    Conv2d {
        weight: Param::from_tensor(Tensor::random(layer.weight.dims(), normal, device)),
        bias: layer
            .bias
            .as_ref()
            .map(|b| Param::from_tensor(Tensor::random(b.dims(), normal, device))),
        ..layer
    }
}

/// Values and gradients (x, weight, bias) of `forward` on `x`, weighted by a fixed random
/// tensor so each output gets its own upstream gradient.
type Run = (Vec<f32>, Option<Vec<f32>>, Vec<f32>, Option<Vec<f32>>);

fn run(
    conv: &Conv2d,
    x: &Tensor<4>,
    track_x: bool,
    weighting: &Tensor<4>,
    forward: impl Fn(&Conv2d, Tensor<4>) -> Tensor<4>,
) -> Run {
    let x = if track_x {
        x.clone().detach().require_grad()
    } else {
        x.clone().detach()
    };
    let conv = Conv2d {
        weight: Param::from_tensor(conv.weight.val().detach().require_grad()),
        bias: conv
            .bias
            .as_ref()
            .map(|b| Param::from_tensor(b.val().detach().require_grad())),
        ..conv.clone()
    };
    let y = forward(&conv, x.clone());
    let grads = (y.clone() * weighting.clone()).sum().backward();
    (
        values(y),
        track_x.then(|| values(x.grad(&grads).unwrap())),
        values(conv.weight.val().grad(&grads).unwrap()),
        conv.bias
            .as_ref()
            .map(|b| values(b.val().grad(&grads).unwrap())),
    )
}

fn compare(config: Conv2dConfig, input: [usize; 4], strided: bool, track_x: bool) {
    let device = Device::flex().autodiff();
    let _guard = seed_device(&device, 7);
    let conv = layer(config.clone(), &device);
    let normal = Distribution::Normal(0.0, 1.0);
    let x = if strided {
        // The same shape read through a permutation: not contiguous.
        let [b, c, h, w] = input;
        Tensor::<4>::random([b, w, h, c], normal, &device).permute([0, 3, 2, 1])
    } else {
        Tensor::<4>::random(input, normal, &device)
    };
    let out_dims = conv.forward(x.clone()).dims();
    let weighting = Tensor::<4>::random(out_dims, normal, &device);
    let ours = run(&conv, &x, track_x, &weighting, conv2d);
    let burns = run(&conv, &x, track_x, &weighting, |c, x| c.forward(x));
    let what = format!("{config:?} on {input:?}");
    // Sums of up to a few thousand products of unit-sized values, in another order.
    let tol = 1e-4;
    assert_close(&ours.0, &burns.0, tol, &format!("y {what}"));
    assert_eq!(ours.1.is_some(), track_x);
    if let (Some(a), Some(b)) = (&ours.1, &burns.1) {
        assert_close(a, b, tol, &format!("d x {what}"));
    }
    assert_close(&ours.2, &burns.2, 1e-3, &format!("d weight {what}"));
    match (&ours.3, &burns.3) {
        (Some(a), Some(b)) => assert_close(a, b, 1e-3, &format!("d bias {what}")),
        (None, None) => {}
        _ => panic!("bias present on one side only: {what}"),
    }
}

#[test]
fn same_padding_3x3_matches_burn() {
    let config = Conv2dConfig::new([5, 7], [3, 3]).with_padding(PaddingConfig2d::Same);
    compare(config, [3, 5, 9, 11], false, true);
}

#[test]
fn large_images_unfolded_one_at_a_time_match_burn() {
    // 576 output pixels an image: one product per image (see kernels::conv).
    let config = Conv2dConfig::new([3, 4], [3, 3]).with_padding(PaddingConfig2d::Same);
    compare(config, [3, 3, 24, 24], false, true);
}

#[test]
fn stride_2_with_explicit_padding_matches_burn() {
    let config = Conv2dConfig::new([3, 4], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1));
    compare(config, [2, 3, 12, 12], false, true);
    // An odd side: the last column of windows does not fit and is dropped, as Burn does.
    let config = Conv2dConfig::new([2, 3], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1));
    compare(config, [2, 2, 9, 7], false, true);
}

#[test]
fn a_kernel_as_large_as_its_input_matches_burn() {
    // The discriminators' logits: one output pixel per image.
    compare(Conv2dConfig::new([6, 1], [3, 3]), [4, 6, 3, 3], false, true);
}

#[test]
fn no_bias_asymmetric_padding_and_strided_input_match_burn() {
    let config = Conv2dConfig::new([3, 2], [2, 3])
        .with_bias(false)
        .with_padding(PaddingConfig2d::Explicit(0, 2, 1, 0));
    compare(config, [2, 3, 5, 6], true, true);
}

#[test]
fn an_input_that_needs_no_gradient_trains_the_weights_alone() {
    // Real images entering a discriminator.
    let config = Conv2dConfig::new([3, 4], [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1));
    compare(config, [2, 3, 8, 8], false, false);
}
