//! AttnGAN's fused kernels (the convolutions' bias, the GLU, the leaky ReLU, the layer norm,
//! the DAMSM's max-pool,
//! word-attention weights and relevance cosines) against Burn's own layers or their
//! `*_composite` twins: values and every input's gradient, to rounding or bit for bit as
//! each kernel promises, and a check that the fused path ran.

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use models::kernels::{glu, leaky_relu};

mod common;
use common::{assert_close, bits, values};

/// `glu` agrees with Burn's to rounding, forward and backward: split along the channels of
/// a generator's map, along the features of a batch of vectors, along the first dimension,
/// and on a transposed (strided) input. The output gradient holds zeros of both signs: where
/// it is a zero, the input's gradient is `+0.0` in both, as Burn's summed slice gradients
/// turn a `-0.0` into `0.0`.
#[test]
fn glu_matches_burns_own() {
    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 3.0);
    let check = |x: Tensor<4>, dim: usize, case: &str| {
        let x = x.detach().require_grad();
        let mut halved = x.dims();
        halved[dim] /= 2;
        let weighting = Tensor::<4>::random(halved, normal, &ad);
        // Every third weight 0.0, every fifth -0.0.
        let signs: Vec<f32> = (0..weighting.shape().num_elements())
            .map(|i| match (i % 3, i % 5) {
                (0, _) => 0.0,
                (_, 0) => -0.0,
                _ => 1.0,
            })
            .collect();
        let weighting = weighting * Tensor::<1>::from_floats(signs.as_slice(), &ad).reshape(halved);
        let run = |f: &dyn Fn(Tensor<4>) -> Tensor<4>| {
            let y = f(x.clone());
            let grads = (y.clone() * weighting.clone()).sum().backward();
            (bits(values(y)), bits(values(x.grad(&grads).unwrap())))
        };
        let ours = run(&|x| glu(x, dim));
        let burns = run(&|x| burn::tensor::activation::glu(x, dim));
        // Within 2e-6 of the largest value: the exp's 2.5e-7 moves σ by about an ulp, and
        // `1 - σ` cancels near σ = 1, so `d b` can differ by an ulp of `g · a`, not of itself.
        for (part, (ours, burns)) in [("y", (&ours.0, &burns.0)), ("d x", (&ours.1, &burns.1))] {
            let floats = |bits: &[u32]| bits.iter().map(|&b| f32::from_bits(b)).collect::<Vec<_>>();
            let scale = floats(burns).iter().fold(1.0f32, |m, v| m.max(v.abs()));
            assert_close(
                &floats(ours),
                &floats(burns),
                2e-6 * scale,
                &format!("{part}, {case}"),
            );
        }
        let zeros = |bits: &[u32]| bits.iter().map(|&b| b == 0).collect::<Vec<_>>();
        assert_eq!(zeros(&ours.1), zeros(&burns.1), "+0.0 gradients, {case}");
        ours != burns
    };
    let differ = [
        check(
            Tensor::<4>::random([3, 8, 5, 6], normal, &ad),
            1,
            "channels of [3, 8, 5, 6]",
        ),
        check(
            Tensor::<4>::random([4, 1, 1, 10], normal, &ad),
            3,
            "features of [4, 1, 1, 10]",
        ),
        check(
            Tensor::<4>::random([6, 2, 3, 3], normal, &ad),
            0,
            "first dimension of [6, 2, 3, 3]",
        ),
        check(
            Tensor::<4>::random([3, 5, 6, 4], normal, &ad).swap_dims(1, 3),
            1,
            "channels of a transposed [3, 4, 6, 5]",
        ),
    ];
    // Over all cases, so that a case where every value happens to round alike cannot fail
    // it: with glibc's expf in its place the fused path would give Burn's bits everywhere.
    assert!(
        differ.contains(&true),
        "the fused path ran (its exp differs in the last bits)"
    );
}

/// `leaky_relu` gives the bits of Burn's, forward and backward, on a contiguous and a
/// transposed input with exact zeros among its values, and output gradients of both signs
/// of zero.
#[test]
fn leaky_relu_gives_the_bits_of_burns_own() {
    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 2.0);
    let signs = |n: usize, seed: usize| -> Vec<f32> {
        (0..n)
            .map(|i| match ((i + seed) % 4, (i + seed) % 7) {
                (0, _) => 0.0,
                (_, 0) => -0.0,
                _ => 1.0,
            })
            .collect()
    };
    let inputs = [
        ("contiguous", Tensor::<3>::random([4, 6, 5], normal, &ad)),
        (
            "transposed",
            Tensor::<3>::random([4, 5, 6], normal, &ad).swap_dims(1, 2),
        ),
    ];
    for (layout, x) in inputs {
        let x = (x * Tensor::<1>::from_floats(signs(120, 1).as_slice(), &ad).reshape([4, 6, 5]))
            .detach()
            .require_grad();
        let weighting = Tensor::<3>::random([4, 6, 5], normal, &ad)
            * Tensor::<1>::from_floats(signs(120, 2).as_slice(), &ad).reshape([4, 6, 5]);
        let run = |f: &dyn Fn(Tensor<3>) -> Tensor<3>| {
            let y = f(x.clone());
            let grads = (y.clone() * weighting.clone()).sum().backward();
            (bits(values(y)), bits(values(x.grad(&grads).unwrap())))
        };
        for slope in [0.2, -0.5] {
            let ours = run(&|x| leaky_relu(x, slope));
            let burns = run(&|x| burn::tensor::activation::leaky_relu(x, slope));
            assert_eq!(ours.0, burns.0, "y, {layout}, slope {slope}");
            assert_eq!(ours.1, burns.1, "d x, {layout}, slope {slope}");
        }
    }
}

/// A convolution's bias added by `conv2d` gives the bits of Burn's broadcast add, forward
/// and in the gradients of the map and the bias; and with the bias untracked (the
/// discriminators read by the generator's step) the map's gradient still flows.
#[test]
fn the_convolutions_bias_gives_the_bits_of_burns_add() {
    use burn::module::{Module, Param};
    use burn::nn::conv::Conv2dConfig;
    use models::kernels::conv2d;

    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 2.0);
    let mut layer = Conv2dConfig::new([3, 5], [3, 3]).init(&ad);
    layer.bias = Some(Param::from_tensor(Tensor::<1>::random([5], normal, &ad)));
    let x = Tensor::<4>::random([4, 3, 7, 6], normal, &ad).require_grad();
    let weighting = Tensor::<4>::random([4, 5, 5, 4], normal, &ad);
    let bias = layer.bias.as_ref().unwrap().val();
    let run = |forward: &dyn Fn() -> Tensor<4>| {
        let y = forward();
        let grads = (y.clone() * weighting.clone()).sum().backward();
        (
            bits(values(y)),
            bits(values(x.grad(&grads).unwrap())),
            bits(values(bias.grad(&grads).unwrap())),
        )
    };
    let ours = run(&|| conv2d(&layer, x.clone()));
    let mut unbiased = layer.clone();
    unbiased.bias = None;
    let burns = run(&|| conv2d(&unbiased, x.clone()) + bias.clone().reshape([1, 5, 1, 1]));
    assert_eq!(ours.0, burns.0, "y");
    assert_eq!(ours.1, burns.1, "d x");
    assert_eq!(ours.2, burns.2, "d bias");

    let frozen = layer.clone().no_grad();
    let y = conv2d(&frozen, x.clone());
    let grads = (y * weighting).sum().backward();
    assert_eq!(
        bits(values(x.grad(&grads).unwrap())),
        ours.1,
        "d x, bias untracked"
    );
}

/// `max_pool2d` gives the bits of Burn's `MaxPool2d`, forward and backward: 2 × 2 and 3 × 3
/// windows over maps whose sides they do not all divide, on a contiguous and a transposed
/// input whose ReLU zeros and rounded values tie within windows, with a NaN in one window
/// and output gradients of both signs of zero; and a pool Burn's way (overlapping
/// windows) takes Burn's own path.
#[test]
fn max_pool_gives_the_bits_of_burns_own() {
    use burn::nn::pool::MaxPool2dConfig;
    use models::kernels::max_pool2d;

    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 2.0);
    let dims = [2, 3, 9, 8];
    // Values on a grid of halves, half of them ReLU zeros: many ties.
    let tied = |x: Tensor<4>| x.mul_scalar(2.0).round().div_scalar(2.0).clamp_min(0.0);
    let mut with_nan = values(tied(Tensor::<4>::random(dims, normal, &ad)));
    with_nan[21] = f32::NAN;
    let inputs = [
        (
            "contiguous",
            Tensor::<1>::from_floats(with_nan.as_slice(), &ad).reshape(dims),
        ),
        (
            "transposed",
            tied(Tensor::<4>::random([2, 3, 8, 9], normal, &ad)).swap_dims(2, 3),
        ),
    ];
    for (layout, x) in inputs {
        let x = x.detach().require_grad();
        for k in [2, 3] {
            let layer = MaxPool2dConfig::new([k, k]).init();
            let out = [2, 3, 9 / k, 8 / k];
            let signs: Vec<f32> = (0..out.iter().product())
                .map(|i: usize| [1.0, 0.0, -0.0, -2.5][i % 4])
                .collect();
            let weighting = Tensor::<1>::from_floats(signs.as_slice(), &ad).reshape(out);
            let run = |f: &dyn Fn(Tensor<4>) -> Tensor<4>| {
                let y = f(x.clone());
                let grads = (y.clone() * weighting.clone()).sum().backward();
                (bits(values(y)), bits(values(x.grad(&grads).unwrap())))
            };
            let ours = run(&|x| max_pool2d(&layer, x));
            let burns = run(&|x| layer.forward(x));
            assert_eq!(ours.0, burns.0, "y, {layout}, {k} × {k}");
            assert_eq!(ours.1, burns.1, "d x, {layout}, {k} × {k}");
        }
    }
    let overlapping = MaxPool2dConfig::new([3, 3]).with_strides([1, 1]).init();
    let x = Tensor::<4>::random(dims, normal, &ad);
    assert_eq!(
        values(max_pool2d(&overlapping, x.clone())),
        values(overlapping.forward(x)),
        "overlapping windows: Burn's path"
    );
}

/// `layer_norm` agrees with Burn's `GroupNorm` (one group) to rounding, forward and in the
/// gradients of the input, γ and β, on a generator-sized map with γ and β away from their
/// initial ones; and a layer Burn's way (ε other than the default) takes Burn's own path.
#[test]
fn layer_norm_matches_burns_group_norm() {
    use burn::module::Param;
    use burn::nn::GroupNormConfig;
    use models::kernels::layer_norm;

    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.5, 2.0);
    let mut layer = GroupNormConfig::new(1, 6).init(&ad);
    layer.gamma = Some(Param::from_tensor(Tensor::<1>::random([6], normal, &ad)));
    layer.beta = Some(Param::from_tensor(Tensor::<1>::random([6], normal, &ad)));
    let x = Tensor::<4>::random([3, 6, 5, 7], normal, &ad).require_grad();
    let weighting = Tensor::<4>::random([3, 6, 5, 7], normal, &ad);
    let run = |f: &dyn Fn(Tensor<4>) -> Tensor<4>| {
        let y = f(x.clone());
        let grads = (y.clone() * weighting.clone()).sum().backward();
        let gamma = layer.gamma.as_ref().unwrap().val().grad(&grads).unwrap();
        let beta = layer.beta.as_ref().unwrap().val().grad(&grads).unwrap();
        (
            values(y),
            values(x.grad(&grads).unwrap()),
            values(gamma),
            values(beta),
        )
    };
    let ours = run(&|x| layer_norm(&layer, x));
    let burns = run(&|x| layer.forward(x));
    assert_close(&ours.0, &burns.0, 1e-5, "y");
    assert_close(&ours.1, &burns.1, 1e-4, "d x");
    assert_close(&ours.2, &burns.2, 1e-4, "d gamma");
    assert_close(&ours.3, &burns.3, 1e-4, "d beta");
    assert_ne!(
        ours.0, burns.0,
        "the fused path ran (its sums differ in the last bits)"
    );

    let mut other = GroupNormConfig::new(1, 6).with_epsilon(1e-3).init(&ad);
    other.gamma = layer.gamma.clone();
    other.beta = layer.beta.clone();
    assert_eq!(
        values(layer_norm(&other, x.clone())),
        values(other.forward(x)),
        "another ε: Burn's path"
    );
}

/// `word_attention_weights` agrees with its composite twin (Burn's softmaxes and masks) to
/// rounding, forward and in the similarities' gradient, with padded words in some captions.
#[test]
fn word_attention_weights_match_the_composite() {
    use burn::tensor::Bool;
    use models::kernels::{word_attention_weights, word_attention_weights_composite};

    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 2.0);
    let (captions, words, images, regions) = (3, 5, 4, 6);
    let s = Tensor::<4>::random([captions, words, images, regions], normal, &ad).require_grad();
    // Caption 1 has 3 real words, caption 2 one.
    let real: Vec<bool> = (0..captions * words)
        .map(|j| j % words < [words, 3, 1][j / words])
        .collect();
    let real = Tensor::<2, Bool>::from_data(TensorData::new(real, [captions, words]), &ad);
    let weighting = Tensor::<4>::random([images, captions, words, regions], normal, &ad);
    let run = |f: &dyn Fn(Tensor<4>, Tensor<2, Bool>, f64) -> Tensor<4>| {
        let alpha = f(s.clone(), real.clone(), 5.0);
        let grads = (alpha.clone() * weighting.clone()).sum().backward();
        (values(alpha), values(s.grad(&grads).unwrap()))
    };
    let ours = run(&word_attention_weights);
    let composite = run(&word_attention_weights_composite);
    assert_close(&ours.0, &composite.0, 1e-6, "α");
    assert_close(&ours.1, &composite.1, 1e-5, "d s");
    assert_ne!(ours.1, composite.1, "the fused path ran");
}

/// `word_relevance` agrees with its composite twin (Burn's products, sums and norms) to
/// rounding, forward and in both inputs' gradients, with an all-zero context row (a padded
/// word's) held at the norm's floor.
#[test]
fn word_relevance_matches_the_composite() {
    use models::kernels::{word_relevance, word_relevance_composite};

    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.0);
    let (images, captions, words, d) = (3, 4, 5, 10);
    let keep: Vec<f32> = (0..images * captions * words * d)
        .map(|j| if j / d == 7 { 0.0 } else { 1.0 })
        .collect();
    let context = (Tensor::<4>::random([images, captions, words, d], normal, &ad)
        * Tensor::<1>::from_floats(keep.as_slice(), &ad).reshape([images, captions, words, d]))
    .detach()
    .require_grad();
    let embedded = Tensor::<3>::random([captions, words, d], normal, &ad).require_grad();
    let weighting = Tensor::<3>::random([images, captions, words], normal, &ad);
    let run = |f: &dyn Fn(Tensor<4>, Tensor<3>) -> Tensor<3>| {
        let r = f(context.clone(), embedded.clone());
        let grads = (r.clone() * weighting.clone()).sum().backward();
        (
            values(r),
            values(context.grad(&grads).unwrap()),
            values(embedded.grad(&grads).unwrap()),
        )
    };
    let ours = run(&word_relevance);
    let composite = run(&word_relevance_composite);
    assert_eq!(ours.0[7], 0.0, "the zero row's cosine");
    assert_close(&ours.0, &composite.0, 1e-6, "R");
    // The zero row's gradient is g b / floor: large, so compared relative to its size.
    let scale = |v: &[f32]| v.iter().fold(1.0f32, |m, x| m.max(x.abs()));
    assert_close(
        &ours.1,
        &composite.1,
        1e-5 * scale(&composite.1),
        "d context",
    );
    assert_close(&ours.2, &composite.2, 1e-5, "d words");
    assert_ne!(ours.2, composite.2, "the fused path ran");
}
