//! Attention and recurrent-step checks on whichever backend this build selects (the device
//! of `harness::device`), so a non-default backend cannot silently break: CI runs this file
//! with `--features wgpu` on Mesa's software Vulkan as well as on the default flex backend.
//! Values are derived by hand; one gradient is checked against central finite differences.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use models::attention::{attend, masked_softmax};
use models::kernels::{additive_energy, gru_step, lstm_step_masked};

fn device() -> Device {
    harness::device(0).expect("the backend of this build has a usable device")
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().iter::<f32>().collect()
}

fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (*g as f64 - w).abs() <= tol,
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

#[test]
fn masked_softmax_and_context_match_hand_values() {
    let device = device();
    // Scores (0, ln 2, 5) with the last position masked: weights (1/3, 2/3, 0).
    let scores = tensor(vec![0.0, 2f32.ln(), 5.0], [1, 3], &device);
    let mask =
        Tensor::<2, Bool>::from_data(TensorData::new(vec![true, true, false], [1, 3]), &device);
    let weights = masked_softmax(scores.clone(), mask.clone());
    assert_close(
        &values(weights),
        &[1.0 / 3.0, 2.0 / 3.0, 0.0],
        1e-6,
        "weights",
    );
    // Context = 1/3 (1, 0) + 2/3 (0, 3) = (1/3, 2); the masked row (100, 100) adds nothing.
    let annotations = tensor(vec![1.0, 0.0, 0.0, 3.0, 100.0, 100.0], [1, 3, 2], &device);
    let out = attend(scores, mask, &annotations);
    assert_close(&values(out.context), &[1.0 / 3.0, 2.0], 1e-5, "context");
}

#[test]
fn additive_energy_matches_hand_values_and_finite_differences() {
    let device = device();
    let keys = tensor(vec![0.5, -1.0, 0.0, 2.0], [1, 2, 2], &device);
    let query = tensor(vec![0.25, 0.5], [1, 2], &device);
    let v = tensor(vec![1.0, -2.0], [2], &device);
    let e = additive_energy(keys.clone(), query.clone(), v.clone());
    let want = [
        0.75f64.tanh() - 2.0 * (-0.5f64).tanh(),
        0.25f64.tanh() - 2.0 * 2.5f64.tanh(),
    ];
    assert_close(&values(e), &want, 1e-5, "energy");

    // d(e_0 + 3 e_1)/d query by autodiff against central differences in f64 of the formula.
    let q = query.clone().require_grad();
    let objective = additive_energy(keys, q.clone(), v)
        .mul(tensor(vec![1.0, 3.0], [1, 2], &device))
        .sum();
    let grad = values(q.grad(&objective.backward()).expect("query gradient"));
    let f = |q0: f64, q1: f64| {
        let e0 = (0.5 + q0).tanh() - 2.0 * (-1.0 + q1).tanh();
        let e1 = (0.0 + q0).tanh() - 2.0 * (2.0 + q1).tanh();
        e0 + 3.0 * e1
    };
    let h = 1e-5;
    let fd = [
        (f(0.25 + h, 0.5) - f(0.25 - h, 0.5)) / (2.0 * h),
        (f(0.25, 0.5 + h) - f(0.25, 0.5 - h)) / (2.0 * h),
    ];
    assert_close(&grad, &fd, 1e-4, "d energy / d query");
}

#[test]
fn recurrent_steps_match_hand_values() {
    let device = device();
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    // GRU, one unit: r = σ(0.3 + 0.1), z = σ(-0.2 + 0.4), n = tanh(0.5 + r · -0.6).
    let h = gru_step(
        tensor(vec![0.3, -0.2, 0.5], [1, 3], &device),
        tensor(vec![0.1, 0.4, -0.6], [1, 3], &device),
        tensor(vec![0.7], [1, 1], &device),
    );
    let (r, z) = (sig(0.4), sig(0.2));
    let n = (0.5 + r * -0.6f64).tanh();
    assert_close(&values(h), &[n + z * (0.7 - n)], 1e-6, "gru");

    // LSTM, one unit, two rows: the second is padding and keeps (h, c) = (0.9, -0.3).
    let out = lstm_step_masked(
        tensor(
            vec![0.5, -1.0, 2.0, 0.25, 0.5, -1.0, 2.0, 0.25],
            [2, 4],
            &device,
        ),
        tensor(vec![0.9, 0.9], [2, 1], &device),
        tensor(vec![-0.3, -0.3], [2, 1], &device),
        tensor(vec![1.0, 0.0], [2, 1], &device),
    );
    let c_new = sig(-1.0) * -0.3 + sig(0.5) * 2.0f64.tanh();
    let h_new = sig(0.25) * c_new.tanh();
    assert_close(
        &values(out),
        &[h_new, c_new, 0.9, -0.3],
        1e-6,
        "lstm [h; c] per row",
    );
}
