//! The kernels as a Burn backend extension on the flex backend: [`FusedOps`] holds the
//! forward passes (routed by Burn to `Flex` or to its autodiff wrapper), [`FusedGrads`] the
//! backward passes, which the autodiff wrapper calls on the concrete backend.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{
    Backend, Dispatch, DispatchDevice, Flex, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::tensor::{DType, Tensor, TensorData};
use burn_flex::FlexTensor;

use super::activations;
use super::conv;
use super::cpu;
use super::product::{self, MatrixView};

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

/// A contiguous copy (free when already contiguous) and its shape.
fn contiguous(tensor: FlexTensor) -> (FlexTensor, Vec<usize>) {
    let tensor = tensor.to_contiguous();
    let shape = tensor.layout().shape().to_vec();
    (tensor, shape)
}

fn dims2(tensor: &FlexTensor) -> [usize; 2] {
    let shape = tensor.layout().shape();
    [shape[0], shape[1]]
}

fn f32s(tensor: &FlexTensor) -> &[f32] {
    tensor.as_slice::<f32>().expect("a contiguous f32 tensor")
}

fn flex_tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// A flex tensor's 2-D view, as gemm takes it.
fn view(tensor: &FlexTensor) -> MatrixView<'_> {
    let layout = tensor.layout();
    let strides = layout.strides();
    MatrixView {
        values: &tensor.storage::<f32>()[layout.start_offset()..],
        row_stride: strides[0],
        col_stride: strides[1],
    }
}

/// `lhs [m, k] · rhs [k, n]` into a new row-major `[m, n]` tensor ([`product::product`]).
/// Every product may be split between the pool's threads (gemm decides by size; flex keeps
/// products under 192^3 on one thread, which is every per-step product of a recurrent
/// model).
fn product(lhs: MatrixView, rhs: MatrixView, mkn: [usize; 3]) -> FlexTensor {
    product_with(lhs, rhs, mkn, gemm::Parallelism::Rayon(0))
}

/// [`product`] with the given threading.
fn product_with(
    lhs: MatrixView,
    rhs: MatrixView,
    [m, k, n]: [usize; 3],
    parallelism: gemm::Parallelism,
) -> FlexTensor {
    flex_tensor(
        product::product(lhs, rhs, [m, k, n], parallelism),
        vec![m, n],
    )
}

impl FusedOps for Flex {
    fn matmul(x: FlexTensor, w: FlexTensor) -> FlexTensor {
        let ([m, k], [_, n]) = (dims2(&x), dims2(&w));
        product(view(&x), view(&w), [m, k, n])
    }

    fn narrow_steps(x: FlexTensor, start: usize, len: usize) -> FlexTensor {
        x.narrow(1, start, len)
    }

    fn take_step(x: FlexTensor, t: usize) -> FlexTensor {
        let shape = x.layout().shape();
        let (batch, width) = (shape[0], shape[2]);
        x.narrow(1, t, 1)
            .to_contiguous()
            .reshape(vec![batch, width].into())
    }

    fn additive_energy(keys: FlexTensor, query: FlexTensor, v: FlexTensor) -> FlexTensor {
        let ((keys, dims), (query, _), (v, _)) =
            (contiguous(keys), contiguous(query), contiguous(v));
        let (batch, src_len) = (dims[0], dims[1]);
        let mut out = vec![0.0f32; batch * src_len];
        cpu::additive_energy_forward(f32s(&keys), f32s(&query), f32s(&v), src_len, &mut out);
        flex_tensor(out, vec![batch, src_len])
    }

    fn gru_step(input_gates: FlexTensor, hidden_gates: FlexTensor, h: FlexTensor) -> FlexTensor {
        gru_forward(input_gates, hidden_gates, h, None)
    }

    fn gru_step_masked(
        input_gates: FlexTensor,
        hidden_gates: FlexTensor,
        h: FlexTensor,
        take: FlexTensor,
    ) -> FlexTensor {
        gru_forward(input_gates, hidden_gates, h, Some(take))
    }

    fn lstm_step(gates: FlexTensor, c: FlexTensor) -> FlexTensor {
        lstm_forward(gates, c, None)
    }

    fn glu_rows(x: FlexTensor) -> FlexTensor {
        let (x, _) = contiguous(x);
        let [rows, width] = dims2(&x);
        flex_tensor(
            activations::glu_rows(f32s(&x), width / 2),
            vec![rows, width / 2],
        )
    }

    fn leaky_relu_flat(x: FlexTensor, slope: f32) -> FlexTensor {
        let (x, dims) = contiguous(x);
        flex_tensor(activations::leaky_relu(f32s(&x), slope), dims)
    }

    fn conv2d_im2col(
        x: FlexTensor,
        weight: FlexTensor,
        stride: [usize; 2],
        padding: [usize; 4],
    ) -> FlexTensor {
        let ((x, _), (weight, _)) = (contiguous(x), contiguous(weight));
        let geometry =
            conv::ConvGeometry::of(x.layout().shape(), weight.layout().shape(), stride, padding);
        let [oh, ow] = geometry.output();
        let y = conv::conv2d_forward(f32s(&x), f32s(&weight), &geometry);
        flex_tensor(y, vec![geometry.batch, geometry.c_out, oh, ow])
    }

    fn lstm_step_masked(
        gates: FlexTensor,
        h: FlexTensor,
        c: FlexTensor,
        take: FlexTensor,
    ) -> FlexTensor {
        lstm_forward(gates, c, Some((h, take)))
    }
}

fn gru_forward(
    x: FlexTensor,
    hg: FlexTensor,
    h: FlexTensor,
    take: Option<FlexTensor>,
) -> FlexTensor {
    let ((x, _), (hg, _), (h, dims)) = (contiguous(x), contiguous(hg), contiguous(h));
    let take = take.map(|t| contiguous(t).0);
    let mut out = vec![0.0f32; dims[0] * dims[1]];
    cpu::gru_forward(
        f32s(&x),
        f32s(&hg),
        f32s(&h),
        take.as_ref().map(f32s),
        dims[1],
        &mut out,
    );
    flex_tensor(out, dims)
}

fn lstm_forward(
    gates: FlexTensor,
    c: FlexTensor,
    masked: Option<(FlexTensor, FlexTensor)>,
) -> FlexTensor {
    let ((gates, _), (c, dims)) = (contiguous(gates), contiguous(c));
    let masked = masked.map(|(h, take)| (contiguous(h).0, contiguous(take).0));
    let (batch, hidden) = (dims[0], dims[1]);
    let mut out = vec![0.0f32; batch * 2 * hidden];
    cpu::lstm_forward(
        f32s(&gates),
        f32s(&c),
        masked.as_ref().map(|(h, take)| (f32s(h), f32s(take))),
        hidden,
        &mut out,
    );
    flex_tensor(out, vec![batch, 2 * hidden])
}

impl FusedGrads for Flex {
    fn leaky_relu_flat_grad(x: FlexTensor, grad: FlexTensor, slope: f32) -> FlexTensor {
        let ((x, dims), (grad, _)) = (contiguous(x), contiguous(grad));
        flex_tensor(
            activations::leaky_relu_grad(f32s(&x), f32s(&grad), slope),
            dims,
        )
    }

    fn glu_rows_grad(x: FlexTensor, grad: FlexTensor) -> [FlexTensor; 1] {
        let ((x, dims), (grad, _)) = (contiguous(x), contiguous(grad));
        let [_, width] = dims2(&x);
        [flex_tensor(
            activations::glu_rows_grad(f32s(&x), f32s(&grad), width / 2),
            dims,
        )]
    }

    fn conv2d_grads(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        geometry: conv::ConvGeometry,
        wanted: [bool; 2],
    ) -> [FlexTensor; 2] {
        let ((x, x_dims), (weight, w_dims), (grad, _)) =
            (contiguous(x), contiguous(weight), contiguous(grad));
        let (dx, dw) =
            conv::conv2d_backward(f32s(&x), f32s(&weight), f32s(&grad), &geometry, wanted);
        let shape = |dims: Vec<usize>, keep: bool| if keep { dims } else { vec![0] };
        [
            flex_tensor(dx, shape(x_dims, wanted[0])),
            flex_tensor(dw, shape(w_dims, wanted[1])),
        ]
    }

    fn pad_steps(grad: FlexTensor, steps: usize, start: usize) -> FlexTensor {
        // One zeroed allocation and a copy per row, where Burn's slice backward zero-fills
        // a byte buffer, copies it into an aligned one and writes the slice through a
        // general strided loop. The values are the same: the slice's, then zeros.
        let (grad, dims) = contiguous(grad);
        let (batch, width) = (dims[0], dims[dims.len() - 1]);
        let block = grad.layout().num_elements() / batch.max(1); // len * width
        let mut out = vec![0.0f32; batch * steps * width];
        for (out, grad) in out
            .chunks_exact_mut(steps * width)
            .zip(f32s(&grad).chunks_exact(block))
        {
            out[start * width..start * width + block].copy_from_slice(grad);
        }
        flex_tensor(out, vec![batch, steps, width])
    }

    fn matmul_grad_x(w: FlexTensor, grad: FlexTensor) -> FlexTensor {
        // d x = grad · wᵀ: [M, N] · [N, K].
        let ([m, n], [k, _]) = (dims2(&grad), dims2(&w));
        product(view(&grad), view(&w).t(), [m, n, k])
    }

    fn matmul_grad_w(x: FlexTensor, grad: FlexTensor) -> FlexTensor {
        // d w = xᵀ · grad: [K, M] · [M, N].
        let ([m, k], [_, n]) = (dims2(&x), dims2(&grad));
        product(view(&x).t(), view(&grad), [k, m, n])
    }

    fn matmul_grads(x: FlexTensor, w: FlexTensor, grad: FlexTensor) -> [FlexTensor; 2] {
        // The two products side by side, each on one thread: for the small products of a
        // time loop that beats splitting each in turn (gemm packs its operands on one
        // thread before it splits).
        let ([m, k], [_, n]) = (dims2(&x), dims2(&w));
        let one_thread = gemm::Parallelism::None;
        let (dx, dw) = rayon::join(
            || product_with(view(&grad), view(&w).t(), [m, n, k], one_thread),
            || product_with(view(&x).t(), view(&grad), [k, m, n], one_thread),
        );
        [dx, dw]
    }

    fn additive_energy_grad(
        keys: FlexTensor,
        query: FlexTensor,
        v: FlexTensor,
        grad: FlexTensor,
    ) -> [FlexTensor; 3] {
        let ((keys, k_dims), (query, q_dims), (v, v_dims), (grad, _)) = (
            contiguous(keys),
            contiguous(query),
            contiguous(v),
            contiguous(grad),
        );
        let mut dk = vec![0.0f32; keys.layout().num_elements()];
        let mut dq = vec![0.0f32; query.layout().num_elements()];
        let mut dv = vec![0.0f32; v.layout().num_elements()];
        cpu::additive_energy_backward(
            f32s(&keys),
            f32s(&query),
            f32s(&v),
            f32s(&grad),
            k_dims[1],
            &mut dk,
            &mut dq,
            &mut dv,
        );
        [
            flex_tensor(dk, k_dims),
            flex_tensor(dq, q_dims),
            flex_tensor(dv, v_dims),
        ]
    }

    fn gru_step_grad(
        input_gates: FlexTensor,
        hidden_gates: FlexTensor,
        h: FlexTensor,
        grad: FlexTensor,
    ) -> [FlexTensor; 3] {
        gru_backward(input_gates, hidden_gates, h, None, grad)
    }

    fn gru_step_masked_grad(
        input_gates: FlexTensor,
        hidden_gates: FlexTensor,
        h: FlexTensor,
        take: FlexTensor,
        grad: FlexTensor,
    ) -> [FlexTensor; 3] {
        gru_backward(input_gates, hidden_gates, h, Some(take), grad)
    }

    fn lstm_step_grad(gates: FlexTensor, c: FlexTensor, grad: FlexTensor) -> [FlexTensor; 2] {
        let [dgates, dc, _] = lstm_backward(gates, c, None, grad);
        [dgates, dc]
    }

    fn lstm_step_masked_grad(
        gates: FlexTensor,
        h: FlexTensor,
        c: FlexTensor,
        take: FlexTensor,
        grad: FlexTensor,
    ) -> [FlexTensor; 3] {
        let [dgates, dc, dh] = lstm_backward(gates, c, Some((h, take)), grad);
        [dgates, dh, dc]
    }
}

fn gru_backward(
    x: FlexTensor,
    hg: FlexTensor,
    h: FlexTensor,
    take: Option<FlexTensor>,
    grad: FlexTensor,
) -> [FlexTensor; 3] {
    let ((x, gate_dims), (hg, _), (h, dims), (grad, _)) = (
        contiguous(x),
        contiguous(hg),
        contiguous(h),
        contiguous(grad),
    );
    let take = take.map(|t| contiguous(t).0);
    let mut dx = vec![0.0f32; x.layout().num_elements()];
    let mut dhg = vec![0.0f32; x.layout().num_elements()];
    let mut dh = vec![0.0f32; h.layout().num_elements()];
    cpu::gru_backward(
        f32s(&x),
        f32s(&hg),
        f32s(&h),
        take.as_ref().map(f32s),
        f32s(&grad),
        dims[1],
        &mut dx,
        &mut dhg,
        &mut dh,
    );
    [
        flex_tensor(dx, gate_dims.clone()),
        flex_tensor(dhg, gate_dims),
        flex_tensor(dh, dims),
    ]
}

/// `[d gates, d c, d h]` (`d h` is all zeros without a mask: h is not an input then).
fn lstm_backward(
    gates: FlexTensor,
    c: FlexTensor,
    masked: Option<(FlexTensor, FlexTensor)>,
    grad: FlexTensor,
) -> [FlexTensor; 3] {
    let ((gates, gate_dims), (c, dims), (grad, _)) =
        (contiguous(gates), contiguous(c), contiguous(grad));
    let masked = masked.map(|(h, take)| (contiguous(h).0, contiguous(take).0));
    let mut dgates = vec![0.0f32; gates.layout().num_elements()];
    let mut dc = vec![0.0f32; c.layout().num_elements()];
    let mut dh = vec![
        0.0f32;
        if masked.is_some() {
            c.layout().num_elements()
        } else {
            0
        }
    ];
    cpu::lstm_backward(
        f32s(&gates),
        f32s(&c),
        masked.as_ref().map(|(h, take)| (f32s(h), f32s(take))),
        f32s(&grad),
        dims[1],
        &mut dgates,
        &mut dc,
        &mut dh,
    );
    let dh_dims = if masked.is_some() {
        dims.clone()
    } else {
        vec![0, dims[1]]
    };
    [
        flex_tensor(dgates, gate_dims),
        flex_tensor(dc, dims),
        flex_tensor(dh, dh_dims),
    ]
}

/// Declares the backward step of one fused op: its state is the forward inputs (recomputing
/// the activations is cheaper than storing them), the first `$parents` of which are
/// differentiated; its gradient comes from [`FusedGrads`].
macro_rules! fused_backward {
    ($name:ident, parents: $n:literal, state: $s:literal, $grad_fn:ident, ($($input:ident),+)) => {
        #[derive(Debug)]
        struct $name;

        impl<B: Backend + FusedGrads> Backward<B, $n> for $name {
            type State = [FloatTensor<B>; $s];

            fn backward(
                self,
                ops: Ops<Self::State, $n>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let grad = grads.consume::<B>(&ops.node);
                let [$($input),+] = ops.state;
                let values = B::$grad_fn($($input),+, grad);
                // Parents that need no gradient are `None`.
                for (node, value) in ops.parents.into_iter().zip(values) {
                    if let Some(node) = node {
                        grads.register::<B>(node.id, value);
                    }
                }
            }
        }
    };
}

fused_backward!(AdditiveEnergyBackward, parents: 3, state: 3, additive_energy_grad, (keys, query, v));
fused_backward!(GruStepBackward, parents: 3, state: 3, gru_step_grad, (input_gates, hidden_gates, h));
fused_backward!(
    GruStepMaskedBackward,
    parents: 3,
    state: 4,
    gru_step_masked_grad,
    (input_gates, hidden_gates, h, take)
);
fused_backward!(LstmStepBackward, parents: 2, state: 2, lstm_step_grad, (gates, c));
fused_backward!(GluRowsBackward, parents: 1, state: 1, glu_rows_grad, (x));
fused_backward!(
    LstmStepMaskedBackward,
    parents: 3,
    state: 4,
    lstm_step_masked_grad,
    (gates, h, c, take)
);

/// The backward step of [`FusedOps::matmul`]: each gradient is computed only when its input
/// is tracked (a weight is; a constant input is not), as Burn's own matmul does.
#[derive(Debug)]
struct MatmulBackward;

impl<B: Backend + FusedGrads> Backward<B, 2> for MatmulBackward {
    type State = [FloatTensor<B>; 2];

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let [x, w] = ops.state;
        match ops.parents {
            [Some(node_x), Some(node_w)] => {
                let [dx, dw] = B::matmul_grads(x, w, grad);
                grads.register::<B>(node_x.id, dx);
                grads.register::<B>(node_w.id, dw);
            }
            [Some(node), None] => grads.register::<B>(node.id, B::matmul_grad_x(w, grad)),
            [None, Some(node)] => grads.register::<B>(node.id, B::matmul_grad_w(x, grad)),
            [None, None] => {}
        }
    }
}

/// The backward step of [`FusedOps::conv2d_im2col`]: the state is the input, the weight and the
/// geometry; each gradient is computed only when its input is tracked (the first layer's
/// input, an image, is not).
#[derive(Debug)]
struct Conv2dBackward;

impl<B: Backend + FusedGrads> Backward<B, 2> for Conv2dBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, conv::ConvGeometry);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight, geometry) = ops.state;
        let wanted = [ops.parents[0].is_some(), ops.parents[1].is_some()];
        let [dx, dw] = B::conv2d_grads(x, weight, grad, geometry, wanted);
        // A gradient was computed exactly where its parent is tracked.
        for (node, value) in ops.parents.into_iter().zip([dx, dw]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, value);
            }
        }
    }
}

/// The backward step of [`FusedOps::narrow_steps`] and [`FusedOps::take_step`]: the
/// output's gradient placed at its steps of a zero gradient of the whole input. The state is
/// the input's step count and the first step taken.
#[derive(Debug)]
struct StepsBackward;

impl<B: Backend + FusedGrads> Backward<B, 1> for StepsBackward {
    type State = (usize, usize);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let (steps, start) = ops.state;
        if let [Some(node)] = ops.parents {
            grads.register::<B>(node.id, B::pad_steps(grad, steps, start));
        }
    }
}

/// The backward step of [`FusedOps::leaky_relu_flat`]: the state is the input and the slope.
#[derive(Debug)]
struct LeakyReluBackward;

impl<B: Backend + FusedGrads> Backward<B, 1> for LeakyReluBackward {
    type State = (FloatTensor<B>, f32);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let (x, slope) = ops.state;
        if let [Some(node)] = ops.parents {
            grads.register::<B>(node.id, B::leaky_relu_flat_grad(x, grad, slope));
        }
    }
}

impl<B, C> FusedOps for Autodiff<B, C>
where
    B: Backend + FusedOps + FusedGrads,
    C: CheckpointStrategy,
{
    fn narrow_steps(x: FloatTensor<Self>, start: usize, len: usize) -> FloatTensor<Self> {
        record_one::<B, C, _>(
            StepsBackward,
            x,
            |x| (x.shape()[1], start),
            |x| B::narrow_steps(x, start, len),
        )
    }

    fn take_step(x: FloatTensor<Self>, t: usize) -> FloatTensor<Self> {
        record_one::<B, C, _>(
            StepsBackward,
            x,
            |x| (x.shape()[1], t),
            |x| B::take_step(x, t),
        )
    }

    fn matmul(x: FloatTensor<Self>, w: FloatTensor<Self>) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(MatmulBackward, [x, w], |[x, w]| B::matmul(x, w))
    }

    fn conv2d_im2col(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: [usize; 2],
        padding: [usize; 4],
    ) -> FloatTensor<Self> {
        let geometry = conv::ConvGeometry::of(
            &x.primitive().shape(),
            &weight.primitive().shape(),
            stride,
            padding,
        );
        match Conv2dBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.primitive().clone(), weight.primitive().clone());
                let out = B::conv2d_im2col(x.clone(), weight.clone(), stride, padding);
                prep.finish((x, weight, geometry), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_im2col(
                x.into_primitive(),
                weight.into_primitive(),
                stride,
                padding,
            )),
        }
    }

    fn additive_energy(
        keys: FloatTensor<Self>,
        query: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(AdditiveEnergyBackward, [keys, query, v], |[k, q, v]| {
            B::additive_energy(k, q, v)
        })
    }

    fn gru_step(
        input_gates: FloatTensor<Self>,
        hidden_gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(
            GruStepBackward,
            [input_gates, hidden_gates, h],
            |[x, hg, h]| B::gru_step(x, hg, h),
        )
    }

    fn lstm_step(gates: FloatTensor<Self>, c: FloatTensor<Self>) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(LstmStepBackward, [gates, c], |[g, c]| B::lstm_step(g, c))
    }

    fn glu_rows(x: FloatTensor<Self>) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(GluRowsBackward, [x], |[x]| B::glu_rows(x))
    }

    fn leaky_relu_flat(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        record_one::<B, C, _>(
            LeakyReluBackward,
            x,
            |x| (x.clone(), slope),
            |x| B::leaky_relu_flat(x, slope),
        )
    }

    fn gru_step_masked(
        input_gates: FloatTensor<Self>,
        hidden_gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
        take: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(
            GruStepMaskedBackward,
            [input_gates, hidden_gates, h, take],
            |[x, hg, h, take]| B::gru_step_masked(x, hg, h, take),
        )
    }

    fn lstm_step_masked(
        gates: FloatTensor<Self>,
        h: FloatTensor<Self>,
        c: FloatTensor<Self>,
        take: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(
            LstmStepMaskedBackward,
            [gates, h, c, take],
            |[g, h, c, take]| B::lstm_step_masked(g, h, c, take),
        )
    }
}

/// Records a fused op in the autodiff graph: its `S` inputs, primitives of the inner backend,
/// are its backward state, and the first `P` of them are its parents (the mask `take` of the
/// masked steps is state only); `forward` runs the op on the inner backend.
fn record_fused<B, C, O, const P: usize, const S: usize>(
    op: O,
    inputs: [FloatTensor<Autodiff<B, C>>; S],
    forward: impl Fn([FloatTensor<B>; S]) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>>
where
    B: Backend,
    C: CheckpointStrategy,
    O: Backward<B, P, State = [FloatTensor<B>; S]>,
{
    // The guards keep the parents alive until the op is registered.
    let parents = std::array::from_fn(|i| inputs[i].node());
    match op.prepare::<C>(parents).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let state = inputs.map(|t| t.primitive().clone());
            let out = forward(state.clone());
            prep.finish(state, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(inputs.map(|t| t.into_primitive()))),
    }
}

/// Records a one-input op of `x` whose backward state is `state(x)`, taken only when the
/// op is tracked; `forward` runs the op on the inner backend.
fn record_one<B, C, O>(
    op: O,
    x: FloatTensor<Autodiff<B, C>>,
    state: impl FnOnce(&FloatTensor<B>) -> O::State,
    forward: impl FnOnce(FloatTensor<B>) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>>
where
    B: Backend,
    C: CheckpointStrategy,
    O: Backward<B, 1>,
{
    match op.prepare::<C>([x.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let state = state(x.primitive());
            prep.finish(state, forward(x.into_primitive()))
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive())),
    }
}
