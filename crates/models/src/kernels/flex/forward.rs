//! The forward passes of the fused ops on flex tensors, and the helpers that read flex
//! tensors as slices and matrices and build new ones.

use burn::backend::Flex;
use burn::tensor::TensorData;
use burn_flex::FlexTensor;

use super::FusedOps;
use crate::kernels::pool::{self, PoolGeometry};
use crate::kernels::product::{self, MatrixView};
use crate::kernels::{activations, bias, conv, cpu, norm, word_attention};

/// A contiguous copy (free when already contiguous) and its shape.
pub(super) fn contiguous(tensor: FlexTensor) -> (FlexTensor, Vec<usize>) {
    let tensor = tensor.to_contiguous();
    let shape = tensor.layout().shape().to_vec();
    (tensor, shape)
}

pub(super) fn dims2(tensor: &FlexTensor) -> [usize; 2] {
    let shape = tensor.layout().shape();
    [shape[0], shape[1]]
}

pub(super) fn f32s(tensor: &FlexTensor) -> &[f32] {
    tensor.as_slice::<f32>().expect("a contiguous f32 tensor")
}

pub(super) fn flex_tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// A flex tensor's 2-D view, as gemm takes it.
pub(super) fn view(tensor: &FlexTensor) -> MatrixView<'_> {
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
pub(super) fn product(lhs: MatrixView, rhs: MatrixView, mkn: [usize; 3]) -> FlexTensor {
    product_with(lhs, rhs, mkn, gemm::Parallelism::Rayon(0))
}

/// [`product`] with the given threading.
pub(super) fn product_with(
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

    fn layer_norm_images(x: FlexTensor, gamma: FlexTensor, beta: FlexTensor) -> FlexTensor {
        let ((x, dims), (gamma, _), (beta, _)) =
            (contiguous(x), contiguous(gamma), contiguous(beta));
        let y = norm::layer_norm(f32s(&x), f32s(&gamma), f32s(&beta), dims[2]);
        flex_tensor(y, dims)
    }

    fn add_channel_bias(x: FlexTensor, bias: FlexTensor) -> FlexTensor {
        let ((x, dims), (bias, _)) = (contiguous(x), contiguous(bias));
        let pixels = dims[2] * dims[3];
        flex_tensor(bias::add_channel_bias(f32s(&x), f32s(&bias), pixels), dims)
    }

    fn max_pool_images(x: FlexTensor, k: usize) -> FlexTensor {
        let (x, dims) = contiguous(x);
        let g = pool_geometry(&dims, k);
        let [oh, ow] = g.output();
        flex_tensor(pool::max_pool(f32s(&x), g), vec![dims[0], dims[1], oh, ow])
    }

    fn word_attention_weights(s: FlexTensor, real: FlexTensor, gamma1: f32) -> FlexTensor {
        let ((s, dims), (real, _)) = (contiguous(s), contiguous(real));
        let shape = attention_dims(&dims);
        let alpha = word_attention::weights(f32s(&s), f32s(&real), shape, gamma1);
        flex_tensor(alpha, vec![dims[2], dims[0], dims[1], dims[3]])
    }

    fn word_relevance(context: FlexTensor, words: FlexTensor) -> FlexTensor {
        let ((context, dims), (words, _)) = (contiguous(context), contiguous(words));
        let shape = context_dims(&dims);
        let r = word_attention::relevance(
            f32s(&context),
            f32s(&words),
            shape,
            word_attention::NORM_FLOOR as f32,
        );
        flex_tensor(r, dims[..3].to_vec())
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

/// The shape of the word-context vectors `[I, C, T, D]`.
pub(super) fn context_dims(dims: &[usize]) -> word_attention::ContextDims {
    word_attention::ContextDims {
        images: dims[0],
        captions: dims[1],
        words: dims[2],
        d: dims[3],
    }
}

/// The shape of the similarities `[C, T, I, L]`.
pub(super) fn attention_dims(dims: &[usize]) -> word_attention::Dims {
    word_attention::Dims {
        captions: dims[0],
        words: dims[1],
        images: dims[2],
        regions: dims[3],
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

/// The pooling of `[B, C, H, W]` images by `k × k` windows.
pub(super) fn pool_geometry(dims: &[usize], k: usize) -> PoolGeometry {
    PoolGeometry {
        planes: dims[0] * dims[1],
        input: [dims[2], dims[3]],
        k,
    }
}
