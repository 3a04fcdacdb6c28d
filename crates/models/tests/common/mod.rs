//! Helpers shared by the test files of this crate (each file is its own test crate, so not
//! every one uses every helper).
#![allow(dead_code)]

use burn::tensor::Tensor;

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
