//! The kernels as a Burn backend extension on the flex backend: [`FusedOps`] holds the
//! forward passes (routed by Burn to `Flex` or to its autodiff wrapper), [`FusedGrads`] the
//! backward passes, which the autodiff wrapper calls on the concrete backend.
//!
//! - [`forward`]: the forward passes on flex tensors, and the helpers that read and build
//!   them;
//! - [`backward`]: the backward passes on flex tensors;
//! - [`autodiff`]: the autodiff wrapper, which records each fused op and its backward step.

use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension, tensor::FloatTensor};
use burn::tensor::{DType, Tensor};

use super::conv;

mod autodiff;
mod backward;
mod forward;

/// Whether `tensor` lives on the flex backend (with or without autodiff) as f32.
pub fn runs_on_flex<const D: usize>(tensor: &Tensor<D>) -> bool {
    tensor.dtype() == DType::F32
        && matches!(
            tensor.device().as_dispatch().clone().inner(),
            DispatchDevice::Flex(_)
        )
}

pub fn additive_energy(keys: Tensor<3>, query: Tensor<2>, v: Tensor<1>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::additive_energy(
        keys.into_dispatch(),
        query.into_dispatch(),
        v.into_dispatch(),
    ))
}

pub fn gru_step(input_gates: Tensor<2>, hidden_gates: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::gru_step(
        input_gates.into_dispatch(),
        hidden_gates.into_dispatch(),
        h.into_dispatch(),
    ))
}

pub fn gru_step_masked(
    input_gates: Tensor<2>,
    hidden_gates: Tensor<2>,
    h: Tensor<2>,
    take: Tensor<2>,
) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::gru_step_masked(
        input_gates.into_dispatch(),
        hidden_gates.into_dispatch(),
        h.into_dispatch(),
        take.into_dispatch(),
    ))
}

pub fn lstm_step_masked(
    gates: Tensor<2>,
    h: Tensor<2>,
    c: Tensor<2>,
    take: Tensor<2>,
) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::lstm_step_masked(
        gates.into_dispatch(),
        h.into_dispatch(),
        c.into_dispatch(),
        take.into_dispatch(),
    ))
}

pub fn matmul(x: Tensor<2>, w: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::matmul(
        x.into_dispatch(),
        w.into_dispatch(),
    ))
}

pub fn narrow_steps(x: Tensor<3>, start: usize, len: usize) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::narrow_steps(
        x.into_dispatch(),
        start,
        len,
    ))
}

pub fn take_step(x: Tensor<3>, t: usize) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::take_step(x.into_dispatch(), t))
}

pub fn lstm_step(gates: Tensor<2>, c: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::lstm_step(
        gates.into_dispatch(),
        c.into_dispatch(),
    ))
}

pub fn glu_rows(x: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::glu_rows(x.into_dispatch()))
}

pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f32) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::leaky_relu_flat(
        x.into_dispatch(),
        slope,
    ))
}

pub fn layer_norm_images(x: Tensor<3>, gamma: Tensor<1>, beta: Tensor<1>) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::layer_norm_images(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
    ))
}

/// `y + bias.reshape([1, C, 1, 1])`, Burn's bits forward and backward.
pub fn add_channel_bias(y: Tensor<4>, bias: Tensor<1>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::add_channel_bias(
        y.into_dispatch(),
        bias.into_dispatch(),
    ))
}

pub fn max_pool_images(x: Tensor<4>, k: usize) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::max_pool_images(
        x.into_dispatch(),
        k,
    ))
}

pub fn word_attention_weights(s: Tensor<4>, real: Tensor<2>, gamma1: f32) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::word_attention_weights(
        s.into_dispatch(),
        real.into_dispatch(),
        gamma1,
    ))
}

pub fn word_relevance(context: Tensor<4>, words: Tensor<3>) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::word_relevance(
        context.into_dispatch(),
        words.into_dispatch(),
    ))
}

pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    stride: [usize; 2],
    padding: [usize; 4],
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::conv2d_im2col(
        x.into_dispatch(),
        weight.into_dispatch(),
        stride,
        padding,
    ))
}

/// The forward passes, operations of their own so Burn routes them (and their autodiff
/// wrappers) by backend. Shapes as in the functions of [`super`].
#[backend_extension(Flex, Autodiff)]
pub trait FusedOps: Backend {
    /// keys `[B, S, A]`, query `[B, A]`, v `[A]` -> `[B, S]`.
    fn additive_energy(
        keys: FloatTensor<Self>,
        query: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// input gates `[B, 3H]`, hidden gates `[B, 3H]`, h `[B, H]` -> h' `[B, H]`.
    fn gru_step(
        input_gates: FloatTensor<Self>,
        hidden_gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// As `gru_step`, rows with `take` `[B, 1]` = 0 keeping `h`.
    fn gru_step_masked(
        input_gates: FloatTensor<Self>,
        hidden_gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
        take: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// x `[M, K]`, w `[K, N]` -> `[M, N]`.
    fn matmul(x: FloatTensor<Self>, w: FloatTensor<Self>) -> FloatTensor<Self>;

    /// x `[B, S, D]` -> steps `start..start + len`, `[B, len, D]` (a view).
    fn narrow_steps(x: FloatTensor<Self>, start: usize, len: usize) -> FloatTensor<Self>;

    /// x `[B, S, D]` -> step `t`, `[B, D]` (a contiguous copy).
    fn take_step(x: FloatTensor<Self>, t: usize) -> FloatTensor<Self>;

    /// gates `[B, 4H]`, c `[B, H]` -> `[h'; c']` `[B, 2H]`.
    fn lstm_step(gates: FloatTensor<Self>, c: FloatTensor<Self>) -> FloatTensor<Self>;

    /// As `lstm_step`, rows with `take` `[B, 1]` = 0 keeping `h` `[B, H]` and `c`.
    fn lstm_step_masked(
        gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
        c: FloatTensor<Self>,
        take: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// x `[rows, 2n]` -> `[rows, n]`: each row's first half times the sigmoid of its second.
    fn glu_rows(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// x (any shape, as one run of values) -> `x` where `x ≥ 0`, `slope · x` below.
    fn leaky_relu_flat(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self>;

    /// x `[B, C, P]`, γ `[C]`, β `[C]` -> `[B, C, P]`, each image normalized over its `C · P`
    /// values (ε of [`super::norm::EPSILON`]).
    fn layer_norm_images(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// x `[B, C, H, W]`, bias `[C]` -> `x + bias` broadcast over the batch and the pixels
    /// (see [`super::bias`]).
    fn add_channel_bias(x: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self>;

    /// x `[B, C, H, W]` -> `[B, C, H / k, W / k]`: the maxima of its `k × k` windows (see
    /// [`super::pool`]).
    fn max_pool_images(x: FloatTensor<Self>, k: usize) -> FloatTensor<Self>;

    /// s `[C, T, I, L]`, real `[C, T]` (1 or 0) -> α `[I, C, T, L]`: the DAMSM's word-region
    /// attention weights (see [`super::word_attention`]).
    fn word_attention_weights(
        s: FloatTensor<Self>,
        real: FloatTensor<Self>,
        gamma1: f32,
    ) -> FloatTensor<Self>;

    /// context `[I, C, T, D]`, words `[C, T, D]` -> `[I, C, T]`: the DAMSM's relevance
    /// cosines (see [`super::word_attention`]).
    fn word_relevance(context: FloatTensor<Self>, words: FloatTensor<Self>) -> FloatTensor<Self>;

    /// x `[B, C_in, H, W]`, weight `[C_out, C_in, kh, kw]`, stride, padding (top, left,
    /// bottom, right) -> `[B, C_out, oh, ow]`, no bias.
    fn conv2d_im2col(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: [usize; 2],
        padding: [usize; 4],
    ) -> FloatTensor<Self>;
}

/// The backward passes, each taking the forward inputs and the output gradient and returning
/// one gradient per input, in order.
pub trait FusedGrads: Backend {
    /// The gradient of `x` `[B, steps, D]` from that of its steps `start..start + len`
    /// (`[B, len, D]`, or `[B, D]` for one step): those steps' values, zeros elsewhere.
    fn pad_steps(grad: FloatTensor<Self>, steps: usize, start: usize) -> FloatTensor<Self>;

    /// `d x` of `x · w`, from `w` and the output gradient.
    fn matmul_grad_x(w: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `d w` of `x · w`, from `x` and the output gradient.
    fn matmul_grad_w(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `[d x, d w]` of `x · w` at once.
    fn matmul_grads(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> [FloatTensor<Self>; 2];

    fn additive_energy_grad(
        keys: FloatTensor<Self>,
        query: FloatTensor<Self>,
        v: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> [FloatTensor<Self>; 3];

    fn gru_step_grad(
        input_gates: FloatTensor<Self>,
        hidden_gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> [FloatTensor<Self>; 3];

    /// Gradients of the input gates, hidden gates and h (`take` is not differentiated).
    fn gru_step_masked_grad(
        input_gates: FloatTensor<Self>,
        hidden_gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
        take: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> [FloatTensor<Self>; 3];

    fn lstm_step_grad(
        gates: FloatTensor<Self>,
        c: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> [FloatTensor<Self>; 2];

    /// `[d x]` of `glu_rows`.
    fn glu_rows_grad(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> [FloatTensor<Self>; 1];

    /// `d x` of `leaky_relu_flat`.
    fn leaky_relu_flat_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        slope: f32,
    ) -> FloatTensor<Self>;

    /// `[d x, d γ, d β]` of `layer_norm_images` (β is not read).
    fn layer_norm_images_grads(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> [FloatTensor<Self>; 3];

    /// `d bias` `[C]` of `add_channel_bias` from the output gradient `[B, C, H, W]` (that of
    /// `x` is the output gradient itself).
    fn channel_bias_grad(grad: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `d x` of `max_pool_images`.
    fn max_pool_images_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        k: usize,
    ) -> FloatTensor<Self>;

    /// `d s` of `word_attention_weights` (`real` is not differentiated).
    fn word_attention_weights_grad(
        s: FloatTensor<Self>,
        real: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        gamma1: f32,
    ) -> FloatTensor<Self>;

    /// `[d context, d words]` of `word_relevance`.
    fn word_relevance_grads(
        context: FloatTensor<Self>,
        words: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> [FloatTensor<Self>; 2];

    /// `[d x, d weight]` of `conv2d_im2col`, each computed only where `wanted` says (an empty
    /// tensor otherwise).
    fn conv2d_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        geometry: conv::ConvGeometry,
        wanted: [bool; 2],
    ) -> [FloatTensor<Self>; 2];

    /// Gradients of gates, h and c (`take` is not differentiated).
    fn lstm_step_masked_grad(
        gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
        c: FloatTensor<Self>,
        take: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> [FloatTensor<Self>; 3];
}
