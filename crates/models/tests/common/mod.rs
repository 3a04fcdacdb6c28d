//! Helpers shared by the test files of this crate (each file is its own test crate, so not
//! every one uses every helper).
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

/// Seeds `device`'s backend and returns a guard to hold while the test draws from it, which
/// includes the first forward pass of a module (Burn initializes parameters lazily, on first
/// use). Burn keeps one random generator per backend and process, and the test harness runs
/// tests on parallel threads: without the lock, another test's draws could interleave with
/// this one's, and its weights would change from run to run.
pub fn seed_device(device: &Device, seed: u64) -> MutexGuard<'static, ()> {
    static RNG: Mutex<()> = Mutex::new(());
    let guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(seed);
    guard
}

/// A tensor of `shape` from row-major `data`.
pub fn tensor<const D: usize>(data: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(data, shape), device)
}

/// A `Linear` with the given row-major `[d_in, d_out]` weight and optional bias, on the
/// default CPU device.
pub fn linear(weight: Vec<f32>, bias: Option<Vec<f32>>, d_in: usize, d_out: usize) -> Linear {
    let device = Device::flex();
    Linear {
        weight: Param::from_tensor(tensor(weight, [d_in, d_out], &device)),
        bias: bias.map(|b| Param::from_tensor(tensor(b, [d_out], &device))),
    }
}

/// Standard normal values from the device's generator (seed it with [`seed_device`]).
pub fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// Each value's bits, for comparisons bit for bit (which tell `0.0` from `-0.0`).
pub fn bits(values: Vec<f32>) -> Vec<u32> {
    values.into_iter().map(f32::to_bits).collect()
}

/// A tensor's values in row-major order.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

/// `got` and `want` have the same length and agree within `tol` everywhere; the message names
/// `what` and the first index that does not.
pub fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}]: got {g}, want {w}");
    }
}

/// `param` with its entry `i` (row-major) moved by `delta`, on the same device: one side of
/// a finite difference.
pub fn nudged<const D: usize>(param: &Param<Tensor<D>>, i: usize, delta: f32) -> Param<Tensor<D>> {
    let value = param.val();
    let (dims, device) = (value.dims(), value.device());
    let mut w = values(value);
    w[i] += delta;
    Param::from_tensor(Tensor::from_data(TensorData::new(w, dims), &device))
}

/// Autodiff's gradient against central finite differences: at every index `i` of `indices`,
/// `(loss_at(i, ε) - loss_at(i, -ε)) / 2ε` agrees with `autodiff[i]` within 5% of the larger
/// of the two plus 5e-5 (the rounding of an f32 loss at ε = 1e-2). `what` names the
/// parameter in the message.
pub fn assert_central_differences(
    what: &str,
    autodiff: &[f32],
    indices: impl IntoIterator<Item = usize>,
    eps: f32,
    mut loss_at: impl FnMut(usize, f32) -> f32,
) {
    for i in indices {
        let g = autodiff[i];
        let fd = (loss_at(i, eps) - loss_at(i, -eps)) / (2.0 * eps);
        assert!(
            (fd - g).abs() <= 0.05 * g.abs().max(fd.abs()) + 5e-5,
            "d loss / d {what}[{i}]: autodiff {g}, finite difference {fd}"
        );
    }
}
