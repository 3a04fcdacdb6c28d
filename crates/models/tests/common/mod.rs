//! Helpers shared by the test files of this crate (each file is its own test crate, so not
//! every one uses every helper).
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

use burn::tensor::{Device, Tensor};

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
