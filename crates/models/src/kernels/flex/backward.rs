//! The backward passes of the fused ops on flex tensors: each takes the forward inputs and
//! the output gradient and returns one gradient per input.

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::tensor::Shape;
use burn_flex::FlexTensor;

use super::FusedGrads;
use super::forward::{
    attention_dims, context_dims, contiguous, dims2, f32s, flex_tensor, pool_geometry, product,
    product_with, view,
};
use crate::kernels::{activations, conv, cpu, norm, pool, word_attention};

impl FusedGrads for Flex {
    fn leaky_relu_flat_grad(x: FlexTensor, grad: FlexTensor, slope: f32) -> FlexTensor {
        let ((x, dims), (grad, _)) = (contiguous(x), contiguous(grad));
        flex_tensor(
            activations::leaky_relu_grad(f32s(&x), f32s(&grad), slope),
            dims,
        )
    }

    fn channel_bias_grad(grad: FlexTensor) -> FlexTensor {
        // Burn's own: its add's backward sums the gradient over the dimensions the bias
        // was broadcast along (to `[1, C, 1, 1]`), and the reshape's takes it to `[C]`.
        let channels = grad.layout().shape()[1];
        let summed = Flex::float_sum_dims(grad, &[0, 2, 3]);
        Flex::float_reshape(summed, Shape::new([channels]))
    }

    fn max_pool_images_grad(x: FlexTensor, grad: FlexTensor, k: usize) -> FlexTensor {
        let ((x, dims), (grad, _)) = (contiguous(x), contiguous(grad));
        let g = pool_geometry(&dims, k);
        flex_tensor(pool::max_pool_grad(f32s(&x), g, f32s(&grad)), dims)
    }

    fn word_relevance_grads(
        context: FlexTensor,
        words: FlexTensor,
        grad: FlexTensor,
    ) -> [FlexTensor; 2] {
        let ((context, dims), (words, words_dims), (grad, _)) =
            (contiguous(context), contiguous(words), contiguous(grad));
        let (d_context, d_words) = word_attention::relevance_grads(
            f32s(&context),
            f32s(&words),
            context_dims(&dims),
            word_attention::NORM_FLOOR as f32,
            f32s(&grad),
        );
        [
            flex_tensor(d_context, dims),
            flex_tensor(d_words, words_dims),
        ]
    }

    fn glu_rows_grad(x: FlexTensor, grad: FlexTensor) -> [FlexTensor; 1] {
        let ((x, dims), (grad, _)) = (contiguous(x), contiguous(grad));
        let [_, width] = dims2(&x);
        [flex_tensor(
            activations::glu_rows_grad(f32s(&x), f32s(&grad), width / 2),
            dims,
        )]
    }

    fn layer_norm_images_grads(
        x: FlexTensor,
        gamma: FlexTensor,
        _beta: FlexTensor,
        grad: FlexTensor,
    ) -> [FlexTensor; 3] {
        let ((x, dims), (gamma, gamma_dims), (grad, _)) =
            (contiguous(x), contiguous(gamma), contiguous(grad));
        let (dx, dgamma, dbeta) =
            norm::layer_norm_grads(f32s(&x), f32s(&gamma), f32s(&grad), dims[2]);
        [
            flex_tensor(dx, dims),
            flex_tensor(dgamma, gamma_dims.clone()),
            flex_tensor(dbeta, gamma_dims),
        ]
    }

    fn word_attention_weights_grad(
        s: FlexTensor,
        real: FlexTensor,
        grad: FlexTensor,
        gamma1: f32,
    ) -> FlexTensor {
        let ((s, dims), (real, _), (grad, _)) = (contiguous(s), contiguous(real), contiguous(grad));
        let ds = word_attention::weights_grad(
            f32s(&s),
            f32s(&real),
            attention_dims(&dims),
            gamma1,
            f32s(&grad),
        );
        flex_tensor(ds, dims)
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
