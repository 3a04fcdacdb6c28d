//! The fused ops on the autodiff wrapper: each forward pass runs on the inner backend and is
//! recorded in the graph with its backward step, which calls [`FusedGrads`] on the concrete
//! backend.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{Backend, TensorMetadata, tensor::FloatTensor};

use super::{FusedGrads, FusedOps};
use crate::kernels::conv;

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
fused_backward!(WordRelevanceBackward, parents: 2, state: 2, word_relevance_grads, (context, words));
fused_backward!(GluRowsBackward, parents: 1, state: 1, glu_rows_grad, (x));
fused_backward!(LayerNormBackward, parents: 3, state: 3, layer_norm_images_grads, (x, gamma, beta));
fused_backward!(
    LstmStepMaskedBackward,
    parents: 3,
    state: 4,
    lstm_step_masked_grad,
    (gates, h, c, take)
);

/// The backward step of [`FusedOps::add_channel_bias`]: the output's gradient passes to
/// `x` as it is, and the bias's is [`FusedGrads::channel_bias_grad`], each only where its
/// parent is tracked.
#[derive(Debug)]
struct ChannelBiasBackward;

impl<B: Backend + FusedGrads> Backward<B, 2> for ChannelBiasBackward {
    type State = ();

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let [x, bias] = ops.parents;
        if let Some(node) = bias {
            grads.register::<B>(node.id, B::channel_bias_grad(grad.clone()));
        }
        if let Some(node) = x {
            grads.register::<B>(node.id, grad);
        }
    }
}

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

/// Declares the backward step of a one-input op whose state is more than its input: the
/// input's gradient is `$gradient`, from the state bound to `$state` and the output's
/// gradient bound to `$grad`.
macro_rules! one_input_backward {
    ($(#[$doc:meta])* $name:ident, $state_type:ty, |$state:pat, $grad:ident| $gradient:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        struct $name;

        impl<B: Backend + FusedGrads> Backward<B, 1> for $name {
            type State = $state_type;

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let $grad = grads.consume::<B>(&ops.node);
                let $state = ops.state;
                if let [Some(node)] = ops.parents {
                    grads.register::<B>(node.id, $gradient);
                }
            }
        }
    };
}

one_input_backward!(
    /// The backward step of [`FusedOps::narrow_steps`] and [`FusedOps::take_step`]: the
    /// output's gradient placed at its steps of a zero gradient of the whole input. The state
    /// is the input's step count and the first step taken.
    StepsBackward,
    (usize, usize),
    |(steps, start), grad| B::pad_steps(grad, steps, start)
);

one_input_backward!(
    /// The backward step of [`FusedOps::leaky_relu_flat`]: the state is the input and the
    /// slope.
    LeakyReluBackward,
    (FloatTensor<B>, f32),
    |(x, slope), grad| B::leaky_relu_flat_grad(x, grad, slope)
);

one_input_backward!(
    /// The backward step of [`FusedOps::max_pool_images`]: the state is the input and the
    /// window's side.
    MaxPoolBackward,
    (FloatTensor<B>, usize),
    |(x, k), grad| B::max_pool_images_grad(x, grad, k)
);

one_input_backward!(
    /// The backward step of [`FusedOps::word_attention_weights`]: the state is the
    /// similarities, the mask of real words and `γ1`.
    WordAttentionBackward,
    (FloatTensor<B>, FloatTensor<B>, f32),
    |(s, real, gamma1), grad| B::word_attention_weights_grad(s, real, grad, gamma1)
);

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

    fn layer_norm_images(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(LayerNormBackward, [x, gamma, beta], |[x, g, b]| {
            B::layer_norm_images(x, g, b)
        })
    }

    fn word_relevance(context: FloatTensor<Self>, words: FloatTensor<Self>) -> FloatTensor<Self> {
        record_fused::<B, C, _, _, _>(WordRelevanceBackward, [context, words], |[c, w]| {
            B::word_relevance(c, w)
        })
    }

    fn word_attention_weights(
        s: FloatTensor<Self>,
        real: FloatTensor<Self>,
        gamma1: f32,
    ) -> FloatTensor<Self> {
        let real = real.into_primitive();
        record_one::<B, C, _>(
            WordAttentionBackward,
            s,
            |s| (s.clone(), real.clone(), gamma1),
            |s| B::word_attention_weights(s, real.clone(), gamma1),
        )
    }

    fn add_channel_bias(x: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        match ChannelBiasBackward
            .prepare::<C>([x.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                (),
                B::add_channel_bias(x.into_primitive(), bias.into_primitive()),
            ),
            OpsKind::UnTracked(prep) => prep.finish(B::add_channel_bias(
                x.into_primitive(),
                bias.into_primitive(),
            )),
        }
    }

    fn max_pool_images(x: FloatTensor<Self>, k: usize) -> FloatTensor<Self> {
        record_one::<B, C, _>(
            MaxPoolBackward,
            x,
            |x| (x.clone(), k),
            |x| B::max_pool_images(x, k),
        )
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
