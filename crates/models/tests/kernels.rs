//! The recurrent models' fused kernels (additive energy, GRU step, LSTM step, matmul,
//! linear, narrow and take steps) against hand computations and against the same functions
//! composed from Burn's operations: values and every input's gradient, for sizes that do and
//! do not fill whole vector lanes. AttnGAN's kernels: `attngan_kernels.rs`; the
//! convolution: `conv.rs`.

use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use models::kernels::{
    additive_energy, additive_energy_composite, gru_step, gru_step_composite, gru_step_masked,
    gru_step_masked_composite, linear, linear_steps, lstm_step, lstm_step_composite,
    lstm_step_masked, lstm_step_masked_composite, matmul, narrow_steps, take_step,
};

mod common;
use common::{assert_close, bits, values};

#[test]
fn additive_energy_matches_hand_computation() {
    let device = Device::flex();
    // keys [1, 2, 2], query [1, 2], v [2].
    let keys = Tensor::<3>::from_data(
        TensorData::new(vec![0.5f32, -1.0, 0.0, 2.0], [1, 2, 2]),
        &device,
    );
    let query = Tensor::<2>::from_data(TensorData::new(vec![0.25f32, 0.5], [1, 2]), &device);
    let v = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, -2.0], [2]), &device);
    // e_0 = tanh(0.75) - 2 tanh(-0.5), e_1 = tanh(0.25) - 2 tanh(2.5).
    let want = [
        0.75f64.tanh() - 2.0 * (-0.5f64).tanh(),
        0.25f64.tanh() - 2.0 * 2.5f64.tanh(),
    ];
    let got = values(additive_energy(keys, query, v));
    for (g, w) in got.iter().zip(want) {
        assert!((*g as f64 - w).abs() < 1e-6, "got {g}, want {w}");
    }
}

/// Forward values and gradients of keys, query and v, kernel against composite.
fn compare(batch: usize, src_len: usize, d: usize) {
    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.5);
    let keys = Tensor::<3>::random([batch, src_len, d], normal, &ad);
    let query = Tensor::<2>::random([batch, d], normal, &ad);
    let v = Tensor::<1>::random([d], normal, &ad);
    // A weighting of the outputs, so each gets a different upstream gradient.
    let weighting = Tensor::<2>::random([batch, src_len], normal, &ad);

    let run = |f: fn(Tensor<3>, Tensor<2>, Tensor<1>) -> Tensor<2>| {
        let (k, q, w) = (
            keys.clone().detach().require_grad(),
            query.clone().detach().require_grad(),
            v.clone().detach().require_grad(),
        );
        let e = f(k.clone(), q.clone(), w.clone());
        let grads = (e.clone() * weighting.clone()).sum().backward();
        (
            values(e),
            values(k.grad(&grads).unwrap()),
            values(q.grad(&grads).unwrap()),
            values(w.grad(&grads).unwrap()),
        )
    };
    let fused = run(additive_energy);
    let composite = run(additive_energy_composite);
    let what = format!("[{batch}, {src_len}, {d}]");
    // tanh_approx is within 4e-7 of tanh; sums over up to d terms of size ~|v|.
    let tol = 2e-5 * (d as f32).sqrt().max(1.0);
    assert_close(&fused.0, &composite.0, tol, &format!("energy {what}"));
    assert_close(&fused.1, &composite.1, tol, &format!("d keys {what}"));
    assert_close(
        &fused.2,
        &composite.2,
        tol * src_len as f32,
        &format!("d query {what}"),
    );
    assert_close(
        &fused.3,
        &composite.3,
        tol * (batch * src_len) as f32,
        &format!("d v {what}"),
    );
}

#[test]
fn fused_kernel_agrees_with_composite_on_values_and_gradients() {
    compare(3, 5, 13); // lanes not filled, a tail of 5
    compare(2, 1, 8); // one position, exactly one lane block
    compare(4, 7, 256); // the reference workload's attention size
}

#[test]
fn fused_kernel_reads_strided_inputs() {
    // A transposed (non-contiguous) key tensor must give the same as its contiguous copy.
    let device = Device::flex();
    let normal = Distribution::Normal(0.0, 1.0);
    let keys_t = Tensor::<3>::random([2, 6, 4], normal, &device); // [B, A, S]
    let keys = keys_t.swap_dims(1, 2); // [B, S, A], strided
    let query = Tensor::<2>::random([2, 6], normal, &device);
    let v = Tensor::<1>::random([6], normal, &device);
    let contiguous = Tensor::<3>::from_data(keys.clone().into_data(), &device);
    assert_close(
        &values(additive_energy(keys, query.clone(), v.clone())),
        &values(additive_energy(contiguous, query, v)),
        0.0,
        "strided vs contiguous",
    );
}

/// Values and the gradient of every input, fused against composite, under a random
/// weighting of the outputs. `inputs` are the shapes; inputs are drawn from N(0, 1.5²) so
/// gates span both saturated and linear regions.
///
/// Every function also gets `take`, a `[batch, 1]` padding mask (rows 0, 2, 4, ... real,
/// the others padding), which the unmasked steps ignore and which is not differentiated.
fn compare_step<const N: usize>(
    what: &str,
    shapes: [[usize; 2]; N],
    fused: fn([Tensor<2>; N], Tensor<2>) -> Tensor<2>,
    composite: fn([Tensor<2>; N], Tensor<2>) -> Tensor<2>,
) {
    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.5);
    let inputs = shapes.map(|shape| Tensor::<2>::random(shape, normal, &ad));
    let batch = shapes[0][0];
    let take_rows: Vec<f32> = (0..batch)
        .map(|b| if b % 2 == 0 { 1.0 } else { 0.0 })
        .collect();
    let take = Tensor::<2>::from_data(TensorData::new(take_rows, [batch, 1]), &ad);
    // One weighting of the outputs, drawn once, so each gets a different upstream gradient.
    let weighting =
        Tensor::<2>::random(composite(inputs.clone(), take.clone()).dims(), normal, &ad);
    let run = |f: fn([Tensor<2>; N], Tensor<2>) -> Tensor<2>| {
        let inputs = inputs.clone().map(|t| t.detach().require_grad());
        let out = f(inputs.clone(), take.clone());
        let grads = (out.clone() * weighting.clone()).sum().backward();
        let input_grads: Vec<Vec<f32>> = inputs
            .iter()
            .map(|t| values(t.grad(&grads).unwrap()))
            .collect();
        (values(out), input_grads)
    };
    let (out_fused, grads_fused) = run(fused);
    let (out_composite, grads_composite) = run(composite);
    assert_close(&out_fused, &out_composite, 2e-6, &format!("{what} output"));
    for (i, (f, c)) in grads_fused.iter().zip(&grads_composite).enumerate() {
        assert_close(f, c, 1e-5, &format!("{what} d input {i}"));
    }
}

#[test]
fn fused_gru_step_agrees_with_composite_on_values_and_gradients() {
    for (batch, hidden) in [(3, 5), (2, 8), (4, 37)] {
        compare_step(
            &format!("gru [{batch}, {hidden}]"),
            [[batch, 3 * hidden], [batch, 3 * hidden], [batch, hidden]],
            |[x, hg, h], _| gru_step(x, hg, h),
            |[x, hg, h], _| gru_step_composite(x, hg, h),
        );
        compare_step(
            &format!("masked gru [{batch}, {hidden}]"),
            [[batch, 3 * hidden], [batch, 3 * hidden], [batch, hidden]],
            |[x, hg, h], take| gru_step_masked(x, hg, h, take),
            |[x, hg, h], take| gru_step_masked_composite(x, hg, h, take),
        );
    }
}

#[test]
fn fused_lstm_step_agrees_with_composite_on_values_and_gradients() {
    for (batch, hidden) in [(3, 5), (2, 8), (4, 37)] {
        compare_step(
            &format!("lstm [{batch}, {hidden}]"),
            [[batch, 4 * hidden], [batch, hidden]],
            |[gates, c], _| lstm_step(gates, c),
            |[gates, c], _| lstm_step_composite(gates, c),
        );
        compare_step(
            &format!("masked lstm [{batch}, {hidden}]"),
            [[batch, 4 * hidden], [batch, hidden], [batch, hidden]],
            |[gates, h, c], take| lstm_step_masked(gates, h, c, take),
            |[gates, h, c], take| lstm_step_masked_composite(gates, h, c, take),
        );
    }
}

#[test]
fn gru_step_matches_hand_computation() {
    // One unit: x = (x_r, x_z, x_n), W_h h + b = (h_r, h_z, h_n).
    let device = Device::flex();
    let t = |v: Vec<f32>, n: usize| Tensor::<2>::from_data(TensorData::new(v, [1, n]), &device);
    let got = values(gru_step(
        t(vec![0.3, -0.2, 0.5], 3),
        t(vec![0.1, 0.4, -0.6], 3),
        t(vec![0.7], 1),
    ));
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let (r, z) = (sig(0.4), sig(0.2));
    let n = (0.5 + r * -0.6f64).tanh();
    let want = n + z * (0.7 - n);
    assert!(
        (got[0] as f64 - want).abs() < 1e-6,
        "got {}, want {want}",
        got[0]
    );
}

#[test]
fn lstm_step_matches_hand_computation() {
    let device = Device::flex();
    let gates = Tensor::<2>::from_data(
        TensorData::new(vec![0.5f32, -1.0, 2.0, 0.25], [1, 4]),
        &device,
    );
    let c = Tensor::<2>::from_data(TensorData::new(vec![-0.3f32], [1, 1]), &device);
    let got = values(lstm_step(gates, c));
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let c_new = sig(-1.0) * -0.3 + sig(0.5) * 2.0f64.tanh();
    let h_new = sig(0.25) * c_new.tanh();
    assert!(
        (got[0] as f64 - h_new).abs() < 1e-6,
        "h: got {}, want {h_new}",
        got[0]
    );
    assert!(
        (got[1] as f64 - c_new).abs() < 1e-6,
        "c: got {}, want {c_new}",
        got[1]
    );
}

#[test]
fn masked_steps_leave_padded_rows_exactly_unchanged() {
    let device = Device::flex();
    let normal = Distribution::Normal(0.0, 1.0);
    let (batch, hidden) = (4, 9);
    let take = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 0.0, 1.0, 0.0], [batch, 1]),
        &device,
    );
    let h = Tensor::<2>::random([batch, hidden], normal, &device);
    let c = Tensor::<2>::random([batch, hidden], normal, &device);
    let gru = gru_step_masked(
        Tensor::random([batch, 3 * hidden], normal, &device),
        Tensor::random([batch, 3 * hidden], normal, &device),
        h.clone(),
        take.clone(),
    );
    let lstm = lstm_step_masked(
        Tensor::random([batch, 4 * hidden], normal, &device),
        h.clone(),
        c.clone(),
        take,
    );
    for row in [1, 3] {
        let keep = |t: &Tensor<2>| values(t.clone().narrow(0, row, 1));
        assert_eq!(keep(&gru), keep(&h), "gru row {row}");
        assert_eq!(
            keep(&lstm.clone().narrow(1, 0, hidden)),
            keep(&h),
            "lstm h row {row}"
        );
        assert_eq!(
            keep(&lstm.clone().narrow(1, hidden, hidden)),
            keep(&c),
            "lstm c row {row}"
        );
    }
}

#[test]
fn matmul_matches_hand_computation() {
    let ad = Device::flex().autodiff();
    // x [2, 3], w [3, 2]; loss = Σ (x w) ⊙ g with g = [[1, 0], [0, 2]].
    let x = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, -1.0, 0.5, 0.0], [2, 3]),
        &ad,
    )
    .require_grad();
    let w = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, -1.0, 0.0, 2.0, 4.0, 0.5], [3, 2]),
        &ad,
    )
    .require_grad();
    let g = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0, 2.0], [2, 2]), &ad);
    let y = matmul(x.clone(), w.clone());
    // Row 0: [1 + 0 + 12, -1 + 4 + 1.5]; row 1: [-1 + 0 + 0, 1 + 1 + 0].
    assert_eq!(values(y.clone()), [13.0, 4.5, -1.0, 2.0]);
    let grads = (y * g).sum().backward();
    // d x = g wᵀ: row 0 = 1 × w[:, 0], row 1 = 2 × w[:, 1].
    assert_eq!(
        values(x.grad(&grads).unwrap()),
        [1.0, 0.0, 4.0, -2.0, 4.0, 1.0]
    );
    // d w = xᵀ g: column 0 = 1 × x[0, :], column 1 = 2 × x[1, :].
    assert_eq!(
        values(w.grad(&grads).unwrap()),
        [1.0, -2.0, 2.0, 1.0, 3.0, 0.0]
    );
}

/// `ours(x)` gives the bits of `layer.forward(x)`, and so do the gradients of
/// `sum(y * weighting)` with respect to `x`, the layer's weight and its bias; the message
/// names the output that differs and `case`.
fn assert_same_linear_bits<const D: usize>(
    layer: &Linear,
    x: &Tensor<D>,
    weighting: &Tensor<D>,
    ours: &dyn Fn(Tensor<D>) -> Tensor<D>,
    case: &str,
) {
    let run = |f: &dyn Fn(Tensor<D>) -> Tensor<D>| {
        let y = f(x.clone());
        let grads = (y.clone() * weighting.clone()).sum().backward();
        let w = layer.weight.val();
        let b = layer.bias.as_ref().unwrap().val();
        [
            values(y),
            values(x.grad(&grads).unwrap()),
            values(w.grad(&grads).unwrap()),
            values(b.grad(&grads).unwrap()),
        ]
    };
    let (ours, burns) = (run(ours), run(&|x| layer.forward(x)));
    for (what, (a, b)) in ["y", "d x", "d w", "d b"]
        .iter()
        .zip(ours.iter().zip(&burns))
    {
        assert!(
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{what} differs for {case}"
        );
    }
}

/// `matmul` and `linear` promise Burn's bits, forward and backward. The sizes are an
/// encoder step's (`[64, 128] · [128, 384]`: `kernels::matmul` splits it between threads,
/// flex runs it on one, so this also checks that the split keeps the bits), a decoder
/// step's (both split it) and an odd one; `x` comes contiguous, transposed and as a column
/// slice.
#[test]
fn matmul_and_linear_give_the_bits_of_burns_own() {
    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.0);
    for [m, k, n] in [[64, 128, 384], [64, 256, 768], [5, 7, 3]] {
        let stored = Tensor::<2>::random([k, m + 2], normal, &ad);
        let layouts = [
            ("contiguous", Tensor::<2>::random([m, k], normal, &ad)),
            ("transposed", stored.clone().narrow(1, 0, m).transpose()),
            ("column slice", stored.transpose().narrow(0, 2, m)),
        ];
        let layer = LinearConfig::new(k, n).init(&ad);
        let weighting = Tensor::<2>::random([m, n], normal, &ad);
        for (layout, x) in layouts {
            let x = x.detach().require_grad();
            assert_same_linear_bits(
                &layer,
                &x,
                &weighting,
                &|x| linear(&layer, x),
                &format!("[{m}, {k}] · [{k}, {n}], x {layout}"),
            );
        }
        let (x, w) = (
            Tensor::<2>::random([m, k], normal, &ad),
            Tensor::<2>::random([k, n], normal, &ad).require_grad(),
        );
        // An untracked x: only w gets a gradient, the same as Burn's.
        let grads = (matmul(x.clone(), w.clone()) * weighting.clone())
            .sum()
            .backward();
        let ours = values(w.grad(&grads).unwrap());
        let grads = (x.matmul(w.clone()) * weighting.clone()).sum().backward();
        assert_eq!(ours, values(w.grad(&grads).unwrap()));
    }
}

/// `narrow_steps` and `take_step` against Burn's `narrow` (and `reshape`): the same values
/// and the same gradient bits, zeros outside the steps taken, for a contiguous and a strided
/// input.
#[test]
fn narrow_steps_and_take_step_match_burns_narrow() {
    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.0);
    let stored = Tensor::<3>::random([3, 4, 5], normal, &ad);
    let w3 = Tensor::<3>::random([3, 3, 4], normal, &ad);
    let w2 = Tensor::<2>::random([3, 4], normal, &ad);
    let inputs = [
        ("contiguous", Tensor::<3>::random([3, 5, 4], normal, &ad)),
        ("strided", stored.swap_dims(1, 2)),
    ];
    for (layout, x) in inputs {
        let x = x.detach().require_grad();
        let run3 = |f: &dyn Fn(Tensor<3>) -> Tensor<3>| {
            let y = f(x.clone());
            let grads = (y.clone() * w3.clone()).sum().backward();
            (bits(values(y)), bits(values(x.grad(&grads).unwrap())))
        };
        let run2 = |f: &dyn Fn(Tensor<3>) -> Tensor<2>| {
            let y = f(x.clone());
            let grads = (y.clone() * w2.clone()).sum().backward();
            (bits(values(y)), bits(values(x.grad(&grads).unwrap())))
        };
        let ours = run3(&|x| narrow_steps(x, 1, 3));
        assert_eq!(ours, run3(&|x| x.narrow(1, 1, 3)), "narrow_steps, {layout}");
        // Steps 0 and 4 got no gradient, steps 1-3 some.
        for (i, &g) in ours.1.iter().enumerate() {
            let step = i / 4 % 5;
            assert_eq!(g == 0, step == 0 || step == 4, "d x[{i}], {layout}");
        }
        let ours = run2(&|x| take_step(x, 4));
        assert_eq!(
            ours,
            run2(&|x| x.narrow(1, 4, 1).reshape([3, 4])),
            "take_step, {layout}"
        );
    }
}

/// `linear_steps` gives the bits of `layer.forward` on a `[batch, steps, d]` input, forward
/// and backward, whether Burn folds the batch into the rows (15 steps) or not (32 steps: the
/// rows fill Burn's tiles; a batch of one).
#[test]
fn linear_steps_gives_the_bits_of_burns_linear() {
    let ad = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.0);
    let layer = LinearConfig::new(24, 40).init(&ad);
    for [batch, steps] in [[8, 15], [8, 32], [1, 5]] {
        let x = Tensor::<3>::random([batch, steps, 24], normal, &ad).require_grad();
        let weighting = Tensor::<3>::random([batch, steps, 40], normal, &ad);
        assert_same_linear_bits(
            &layer,
            &x,
            &weighting,
            &|x| linear_steps(&layer, x),
            &format!("[{batch}, {steps}, 24]"),
        );
    }
}
