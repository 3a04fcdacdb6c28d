//! Fused kernels for the hot spots of recurrent attention models on the CPU.
//!
//! Profiled on the reference workload (GRU encoder-decoder, batch 64, flex backend), a
//! training step spent its time in long chains of small elementwise operations, each with an
//! allocation, and in glibc's scalar `tanhf` (which runs through `expm1f`, ~15 ns per value):
//!
//! - Bahdanau's score `e_bs = Σ_a v_a tanh(q_ba + k_bsa)` is, at every decoder step, an
//!   elementwise `tanh` over a `[batch, src_len, d_attention]` block (64 × 21 × 256 = 344k
//!   values) followed by a product with `v`; Burn's autodiff recomputes that `tanh` in the
//!   backward pass and adds four more full-size elementwise ops. This alone was 46% of a step.
//! - A GRU or LSTM step is a dozen elementwise ops forward and twice that backward, on
//!   `[batch, hidden]` blocks, 63 times per step of the reference workload.
//!
//! Each function here does the same arithmetic in one pass forward and one pass backward,
//! with a rational `tanh` (max error 4e-7, [`cpu::tanh_approx`]) that the compiler
//! vectorizes. They are Burn backend extensions: the flex backend runs the fused loops of
//! [`cpu`], and every other backend (ndarray, wgpu, cuda) runs the `*_composite` version, the
//! same function written with Burn's tensor operations, which the tests also compare the
//! kernels against.

pub mod activations;
pub mod bias;
#[cfg(feature = "flex")]
pub mod conv;
pub mod cpu;
#[cfg(feature = "flex")]
mod direct;
#[cfg(feature = "flex")]
mod flex;
pub mod norm;
mod output;
pub mod pool;
#[cfg(feature = "flex")]
mod product;
#[cfg(feature = "flex")]
mod scratch;
#[cfg(feature = "flex")]
mod small_maps;
#[cfg(test)]
pub(crate) mod test_support;
pub mod word_attention;

use burn::nn::GroupNorm;
use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::Bool;
use burn::tensor::Tensor;
use burn::tensor::activation::{sigmoid, softmax, tanh};

use crate::attention::MASKED_SCORE;

/// Whether the fused kernel can take this tensor (flex backend, f32). Only compiled with
/// the `flex` feature: without it every call site runs the composite twin.
#[cfg(feature = "flex")]
fn fused<const D: usize>(tensor_on: &Tensor<D>) -> bool {
    flex::runs_on_flex(tensor_on)
}

/// `e_bs = Σ_a v_a tanh(k_bsa + q_ba)`: the additive (Bahdanau) energy.
///
/// - `projected_keys`: `U h`, `[batch, src_len, d_attention]`.
/// - `projected_query`: `W s`, `[batch, d_attention]`.
/// - `v`: `[d_attention]`.
/// - returns `[batch, src_len]`.
///
/// Differentiable in all three inputs.
pub fn additive_energy(
    projected_keys: Tensor<3>,
    projected_query: Tensor<2>,
    v: Tensor<1>,
) -> Tensor<2> {
    let [batch, _, d_attention] = projected_keys.dims();
    assert_eq!(
        projected_query.dims(),
        [batch, d_attention],
        "additive_energy: query shape does not match the keys"
    );
    assert_eq!(
        v.dims(),
        [d_attention],
        "additive_energy: v shape does not match"
    );
    #[cfg(feature = "flex")]
    if fused(&projected_query) {
        return flex::additive_energy(projected_keys, projected_query, v);
    }
    additive_energy_composite(projected_keys, projected_query, v)
}

/// [`additive_energy`] composed from Burn's tensor operations: runs on every backend.
pub fn additive_energy_composite(
    projected_keys: Tensor<3>,
    projected_query: Tensor<2>,
    v: Tensor<1>,
) -> Tensor<2> {
    let [batch, src_len, d_attention] = projected_keys.dims();
    let hidden = tanh(projected_keys + projected_query.unsqueeze_dim::<3>(1)); // [B, S, A]
    hidden
        .reshape([batch * src_len, d_attention])
        .matmul(v.reshape([d_attention, 1])) // [B*S, 1]
        .reshape([batch, src_len])
}

/// `x · w`, one 2-D product: `x` `[rows, d_in]`, `w` `[d_in, d_out]` -> `[rows, d_out]`.
///
/// The same values as `x.matmul(w)`, forward and backward, bit for bit. On flex it is
/// faster for the small products of a recurrent step (`[64, 256] · [256, 768]`, say): flex
/// runs every product under 192^3 multiply-adds on one thread and fills and copies each
/// output buffer twice, where this hands the product to gemm on all the pool's threads and
/// allocates the output once (measured on the reference workload: a tenth of a training
/// step).
///
/// Differentiable in both inputs.
pub fn matmul(x: Tensor<2>, w: Tensor<2>) -> Tensor<2> {
    assert_eq!(
        x.dims()[1],
        w.dims()[0],
        "matmul: x {:?} and w {:?} do not chain",
        x.dims(),
        w.dims()
    );
    #[cfg(feature = "flex")]
    if fused(&x) {
        return flex::matmul(x, w);
    }
    x.matmul(w)
}

/// Burn's `glu(x, dim)`: the first half of `x` along `dim` times the sigmoid of the second.
///
/// - `x`: `[..., 2n, ...]`, even along `dim`.
/// - returns `[..., n, ...]`.
///
/// On flex, the loops of [`activations`] in one parallel pass forward and one backward,
/// equal to Burn's to rounding (a vectorized `exp`); elsewhere Burn's `glu`.
pub fn glu<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    let dims = x.dims();
    assert!(
        dim < D && dims[dim].is_multiple_of(2),
        "glu: dimension {dim} of {dims:?} must exist and be even"
    );
    #[cfg(feature = "flex")]
    if fused(&x) {
        // Rows `[a | b]`: everything before `dim` counts rows, the rest is a row.
        let rows: usize = dims[..dim].iter().product();
        let width: usize = dims[dim..].iter().product();
        let mut halved = dims;
        halved[dim] /= 2;
        return flex::glu_rows(x.reshape([rows, width])).reshape(halved);
    }
    burn::tensor::activation::glu(x, dim)
}

/// Burn's `leaky_relu(x, slope)`: `x` where `x ≥ 0`, `slope · x` below; any shape.
///
/// On flex, the loops of [`activations`] in one parallel pass forward and one backward,
/// with the bits of Burn's; elsewhere Burn's `leaky_relu`.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if fused(&x) {
        return flex::leaky_relu(x, slope as f32);
    }
    burn::tensor::activation::leaky_relu(x, slope)
}

/// `GroupNorm::forward` for a layer norm of images (one group, with γ and β): `x` `[batch,
/// c, h, w]` -> the same shape, each image normalized over all its values.
///
/// On flex, with Burn's default ε, the loops of [`norm`] (one parallel pass forward and one
/// backward); elsewhere, and for other layers, `layer.forward(x)`. The values agree with
/// Burn's to rounding (the sums run in another order, in `f64`), not bit for bit.
pub fn layer_norm(layer: &GroupNorm, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fused(&x)
        && layer.num_groups == 1
        && layer.epsilon == norm::EPSILON
        && let (Some(gamma), Some(beta)) = (&layer.gamma, &layer.beta)
    {
        let [batch, channels, h, w] = x.dims();
        let flat = x.reshape([batch, channels, h * w]);
        return flex::layer_norm_images(flat, gamma.val(), beta.val())
            .reshape([batch, channels, h, w]);
    }
    layer.forward(x)
}

/// `layer.forward(x)` for a max-pool: the same values and gradients, bit for bit. On flex a
/// pool over non-overlapping square windows (stride = kernel, no padding, no dilation,
/// floor mode) runs [`pool`]'s loops; every other pool, and every other backend, runs
/// Burn's.
///
/// - `x`: `[batch, channels, h, w]`.
/// - returns `[batch, channels, h / k, w / k]` (whole windows).
///
/// Differentiable in `x`.
pub fn max_pool2d(layer: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fused(&x)
        && layer.kernel_size[0] == layer.kernel_size[1]
        && layer.stride == layer.kernel_size
        && layer.dilation == [1, 1]
        && !layer.ceil_mode
        && matches!(layer.padding, burn::nn::PaddingConfig2d::Valid)
    {
        return flex::max_pool_images(x, layer.kernel_size[0]);
    }
    layer.forward(x)
}

/// The DAMSM's word-region attention weights (Xu et al. 2018, eqs. 8-9): `s̄`, the softmax
/// of the similarities over each caption's real words, for each region; then `α`, the
/// softmax of `γ1 · s̄` over the regions, for each word, zero at padded words.
///
/// - `similarities`: `s = eᵀ v`, `[captions, words, images, regions]`.
/// - `real`: `[captions, words]`, true for a real word (at least one a caption).
/// - returns `α`, `[images, captions, words, regions]`.
///
/// On flex, the loops of [`word_attention`] (one parallel pass forward and one backward);
/// elsewhere [`word_attention_weights_composite`]. The values agree to rounding.
pub fn word_attention_weights(
    similarities: Tensor<4>,
    real: Tensor<2, Bool>,
    gamma1: f64,
) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fused(&similarities) {
        return flex::word_attention_weights(similarities, real.float(), gamma1 as f32);
    }
    word_attention_weights_composite(similarities, real, gamma1)
}

/// [`word_attention_weights`] from Burn's softmaxes and masks.
pub fn word_attention_weights_composite(
    similarities: Tensor<4>,
    real: Tensor<2, Bool>,
    gamma1: f64,
) -> Tensor<4> {
    let [captions, words, images, regions] = similarities.dims();
    let similarities = similarities.permute([2, 0, 1, 3]); // [I, C, T, L]
    let padded = real
        .bool_not()
        .reshape([1, captions, words, 1])
        .expand([images, captions, words, regions]); // [I, C, T, L]
    let normalized = softmax(similarities.mask_fill(padded.clone(), MASKED_SCORE), 2);
    softmax(normalized.mul_scalar(gamma1), 3).mask_fill(padded, 0.0)
}

/// The DAMSM's relevance of each word to an image (Xu et al. 2018, eq. 10's `R(c_t, e_t)`):
/// the cosine of the word's context vector with the word, each norm floored at
/// [`word_attention::NORM_FLOOR`].
///
/// - `context`: `c`, `[images, captions, words, D]`.
/// - `words`: `e`, `[captions, words, D]`.
/// - returns `[images, captions, words]`.
///
/// On flex, the loops of [`word_attention`] (one parallel pass forward, two backward);
/// elsewhere [`word_relevance_composite`]. The values agree to rounding.
pub fn word_relevance(context: Tensor<4>, words: Tensor<3>) -> Tensor<3> {
    #[cfg(feature = "flex")]
    if fused(&context) {
        return flex::word_relevance(context, words);
    }
    word_relevance_composite(context, words)
}

/// [`word_relevance`] from Burn's tensor operations.
pub fn word_relevance_composite(context: Tensor<4>, words: Tensor<3>) -> Tensor<3> {
    let [images, captions, len, _] = context.dims();
    let words = words.unsqueeze_dim::<4>(0); // [1, C, T, D]
    let dot = (context.clone() * words.clone()).sum_dim(3); // [I, C, T, 1]
    (dot / (floored_norm(context, 3) * floored_norm(words, 3))).reshape([images, captions, len])
}

/// The Euclidean norm along `dim`, kept as a dimension of size 1, floored at
/// [`word_attention::NORM_FLOOR`]: the norm of the DAMSM's cosines.
pub fn floored_norm<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    let floor = word_attention::NORM_FLOOR;
    (x.clone() * x).sum_dim(dim).clamp_min(floor * floor).sqrt()
}

/// `Conv2d::forward`: `x` `[batch, c_in, h, w]` -> `[batch, c_out, oh, ow]`.
///
/// On flex, with no dilation and one group, the convolution of [`conv`] (im2col and one
/// matrix product per image, forward and backward), then the bias ([`bias`], with Burn's
/// bits); elsewhere, and for
/// dilated or grouped layers, `layer.forward(x)`. The values agree with Burn's to rounding
/// (the sums run in another order), not bit for bit.
pub fn conv2d(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fused(&x) && layer.dilation == [1, 1] && layer.groups == 1 {
        let [_, _, h, w] = x.dims();
        let padding = conv_padding(&layer.padding, [h, w], layer.kernel_size, layer.stride);
        let y = flex::conv2d(x, layer.weight.val(), layer.stride, padding);
        return match &layer.bias {
            Some(bias) => flex::add_channel_bias(y, bias.val()),
            None => y,
        };
    }
    layer.forward(x)
}

#[cfg(feature = "flex")]
/// Zero padding (top, left, bottom, right) as `Conv2d::forward` resolves it: `Same` pads
/// `(out - 1) · stride + kernel - in` in all, the smaller half before.
fn conv_padding(
    padding: &burn::nn::PaddingConfig2d,
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
) -> [usize; 4] {
    use burn::nn::PaddingConfig2d;
    match *padding {
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [top, left, bottom, right],
        PaddingConfig2d::Same => {
            let same = |size: usize, k: usize, s: usize| {
                let out = size.div_ceil(s);
                let total = if out > 0 {
                    ((out - 1) * s + k).saturating_sub(size)
                } else {
                    0
                };
                (total / 2, total - total / 2)
            };
            let (top, bottom) = same(input[0], kernel[0], stride[0]);
            let (left, right) = same(input[1], kernel[1], stride[1]);
            [top, left, bottom, right]
        }
    }
}

/// `Linear::forward` for a `[rows, d_input]` input, with the product of [`matmul`]:
/// `x W + b` -> `[rows, d_output]`, the same bits as `layer.forward(x)`.
pub fn linear(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    let product = matmul(x, layer.weight.val());
    match &layer.bias {
        Some(bias) => product + bias.val().unsqueeze(),
        None => product,
    }
}

/// `Linear::forward` for a `[batch, steps, d_input]` input, with the product of [`matmul`]
/// where Burn itself would run one 2-D product, the same bits as `layer.forward(x)`.
///
/// Burn folds the batch into the rows (`[batch * steps, d_input]`, one product) unless the
/// rows already fill its 32-row tiles or folding would not bring the output closer to
/// square (`MatmulTransformPolicy::BetterTiling`); then it runs a batched product, whose
/// weight gradient sums over the batch in another order, and this calls `layer.forward`.
pub fn linear_steps(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    let [batch, steps, d_input] = x.dims();
    let d_output = layer.weight.dims()[1];
    if !burn_folds_batches(batch, steps, d_output) {
        return layer.forward(x);
    }
    linear(layer, x.reshape([batch * steps, d_input])).reshape([batch, steps, d_output])
}

/// Whether Burn 0.22's `linear` runs `[batch, rows, _] · [_, cols]` as one 2-D product
/// (`burn_std::MatmulTransformPolicy::BetterTiling` on a contiguous input).
fn burn_folds_batches(batch: usize, rows: usize, cols: usize) -> bool {
    const ROW_TILE: usize = 32;
    let folded = batch * rows;
    // The folded output is closer to square than one batch's.
    let squarer = folded.min(cols) * rows.max(cols) > rows.min(cols) * folded.max(cols);
    batch > 1 && !rows.is_multiple_of(ROW_TILE) && squarer
}

/// Steps `start..start + len` of `x` `[batch, steps, width]` -> `[batch, len, width]`:
/// `x.narrow(1, start, len)`, with the same values and gradient.
///
/// On flex its backward pass writes the zero-padded gradient in one allocation and one copy
/// per row, where Burn's slice backward zero-fills a byte buffer, copies it into an aligned
/// one and writes the slice through a general strided loop (measured: 5% of a training step,
/// through [`crate::rnn::split_steps`]).
pub fn narrow_steps(x: Tensor<3>, start: usize, len: usize) -> Tensor<3> {
    let steps = x.dims()[1];
    assert!(
        start + len <= steps,
        "narrow_steps: steps {start}..{} of {steps}",
        start + len
    );
    #[cfg(feature = "flex")]
    if fused(&x) {
        return flex::narrow_steps(x, start, len);
    }
    x.narrow(1, start, len)
}

/// Step `t` of `x` `[batch, steps, width]` -> `[batch, width]`:
/// `x.narrow(1, t, 1).reshape([batch, width])`, with the same values and gradient (on flex
/// with the backward pass of [`narrow_steps`]).
pub fn take_step(x: Tensor<3>, t: usize) -> Tensor<2> {
    let [batch, steps, width] = x.dims();
    assert!(t < steps, "take_step: step {t} of {steps}");
    #[cfg(feature = "flex")]
    if fused(&x) {
        return flex::take_step(x, t);
    }
    x.narrow(1, t, 1).reshape([batch, width])
}

/// One GRU step from projected gates, PyTorch's layout and equations (gate order r, z, n):
/// `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r ⊙ h_n)`, `h' = n + z ⊙ (h - n)`.
///
/// - `input_gates`: `W_x x + b_x`, `[batch, 3 * hidden]`.
/// - `hidden_gates`: `W_h h + b_h`, `[batch, 3 * hidden]`.
/// - `h`: the previous state `[batch, hidden]`.
/// - returns `h'`, `[batch, hidden]`.
///
/// Differentiable in all three inputs.
pub fn gru_step(input_gates: Tensor<2>, hidden_gates: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
    check_gru_shapes("gru_step", &input_gates, &hidden_gates, &h);
    #[cfg(feature = "flex")]
    if fused(&h) {
        return flex::gru_step(input_gates, hidden_gates, h);
    }
    gru_step_composite(input_gates, hidden_gates, h)
}

/// Panics, naming `what`, unless both gate tensors are `[batch, 3 * hidden]` for `h`
/// `[batch, hidden]`; returns `batch`.
fn check_gru_shapes(
    what: &str,
    input_gates: &Tensor<2>,
    hidden_gates: &Tensor<2>,
    h: &Tensor<2>,
) -> usize {
    let [batch, hidden] = h.dims();
    assert_eq!(
        input_gates.dims(),
        [batch, 3 * hidden],
        "{what}: input gates"
    );
    assert_eq!(
        hidden_gates.dims(),
        [batch, 3 * hidden],
        "{what}: hidden gates"
    );
    batch
}

/// [`gru_step`] composed from Burn's tensor operations: runs on every backend.
pub fn gru_step_composite(
    input_gates: Tensor<2>,
    hidden_gates: Tensor<2>,
    h: Tensor<2>,
) -> Tensor<2> {
    let hidden = h.dims()[1];
    let rz = sigmoid(
        input_gates.clone().narrow(1, 0, 2 * hidden)
            + hidden_gates.clone().narrow(1, 0, 2 * hidden),
    ); // [B, 2H]
    let r = rz.clone().narrow(1, 0, hidden);
    let z = rz.narrow(1, hidden, hidden);
    let n = tanh(
        input_gates.narrow(1, 2 * hidden, hidden) + r * hidden_gates.narrow(1, 2 * hidden, hidden),
    );
    n.clone() + z * (h - n)
}

/// [`gru_step`] over a padded batch: rows where `take` is 0 keep `h`,
/// `out = h + (h' - h) ⊙ take`.
///
/// - `take`: `[batch, 1]`, 1.0 where the row has a real token at this step, else 0.0; not
///   differentiated.
/// - other shapes as in [`gru_step`].
pub fn gru_step_masked(
    input_gates: Tensor<2>,
    hidden_gates: Tensor<2>,
    h: Tensor<2>,
    take: Tensor<2>,
) -> Tensor<2> {
    let batch = check_gru_shapes("gru_step_masked", &input_gates, &hidden_gates, &h);
    assert_eq!(take.dims(), [batch, 1], "gru_step_masked: take");
    #[cfg(feature = "flex")]
    if fused(&h) {
        return flex::gru_step_masked(input_gates, hidden_gates, h, take);
    }
    gru_step_masked_composite(input_gates, hidden_gates, h, take)
}

/// [`gru_step_masked`] composed from Burn's tensor operations: runs on every backend.
pub fn gru_step_masked_composite(
    input_gates: Tensor<2>,
    hidden_gates: Tensor<2>,
    h: Tensor<2>,
    take: Tensor<2>,
) -> Tensor<2> {
    let new = gru_step_composite(input_gates, hidden_gates, h.clone());
    h.clone() + (new - h) * take
}

/// One LSTM step from the summed gate pre-activations, PyTorch's layout (gate order i, f, g,
/// o): `c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)`, `h' = σ(o) ⊙ tanh(c')`.
///
/// - `gates`: `W_x x + b_x + W_h h + b_h`, `[batch, 4 * hidden]`.
/// - `c`: the previous memory cell `[batch, hidden]`.
/// - returns `[h'; c']` side by side, `[batch, 2 * hidden]` (one output keeps the backward
///   pass a single node; split it with `narrow`).
///
/// Differentiable in both inputs.
pub fn lstm_step(gates: Tensor<2>, c: Tensor<2>) -> Tensor<2> {
    let [batch, hidden] = c.dims();
    assert_eq!(gates.dims(), [batch, 4 * hidden], "lstm_step: gates");
    #[cfg(feature = "flex")]
    if fused(&c) {
        return flex::lstm_step(gates, c);
    }
    lstm_step_composite(gates, c)
}

/// [`lstm_step`] composed from Burn's tensor operations: runs on every backend.
pub fn lstm_step_composite(gates: Tensor<2>, c: Tensor<2>) -> Tensor<2> {
    let hidden = c.dims()[1];
    let i_f = sigmoid(gates.clone().narrow(1, 0, 2 * hidden));
    let i = i_f.clone().narrow(1, 0, hidden);
    let f = i_f.narrow(1, hidden, hidden);
    let g = tanh(gates.clone().narrow(1, 2 * hidden, hidden));
    let o = sigmoid(gates.narrow(1, 3 * hidden, hidden));
    let c = f * c + i * g;
    let h = o * tanh(c.clone());
    Tensor::cat(vec![h, c], 1)
}

/// [`lstm_step`] over a padded batch: rows where `take` is 0 keep `h` and `c`,
/// `[h_out; c_out] = [h + (h' - h) ⊙ take; c + (c' - c) ⊙ take]`.
///
/// - `h`: the previous hidden state `[batch, hidden]`.
/// - `take`: `[batch, 1]`, 1.0 where the row has a real token at this step, else 0.0; not
///   differentiated.
/// - other shapes as in [`lstm_step`].
pub fn lstm_step_masked(
    gates: Tensor<2>,
    h: Tensor<2>,
    c: Tensor<2>,
    take: Tensor<2>,
) -> Tensor<2> {
    let [batch, hidden] = c.dims();
    assert_eq!(gates.dims(), [batch, 4 * hidden], "lstm_step_masked: gates");
    assert_eq!(h.dims(), [batch, hidden], "lstm_step_masked: h");
    assert_eq!(take.dims(), [batch, 1], "lstm_step_masked: take");
    #[cfg(feature = "flex")]
    if fused(&c) {
        return flex::lstm_step_masked(gates, h, c, take);
    }
    lstm_step_masked_composite(gates, h, c, take)
}

/// [`lstm_step_masked`] composed from Burn's tensor operations: runs on every backend.
pub fn lstm_step_masked_composite(
    gates: Tensor<2>,
    h: Tensor<2>,
    c: Tensor<2>,
    take: Tensor<2>,
) -> Tensor<2> {
    let hidden = c.dims()[1];
    let hc = lstm_step_composite(gates, c.clone());
    let blend = |prev: Tensor<2>, new: Tensor<2>| prev.clone() + (new - prev) * take.clone();
    Tensor::cat(
        vec![
            blend(h, hc.clone().narrow(1, 0, hidden)),
            blend(c, hc.narrow(1, hidden, hidden)),
        ],
        1,
    )
}
