//! Seeded train / validation / test splits.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The three parts of a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Splits<T> {
    /// Training examples (everything not in `valid` or `test`).
    pub train: Vec<T>,
    /// Validation examples.
    pub valid: Vec<T>,
    /// Test examples.
    pub test: Vec<T>,
}

/// Shuffles `items` with `seed`, then cuts off a validation and a test part.
///
/// `valid_frac` and `test_frac` are fractions of the whole (each clamped to
/// `0.0..=1.0`, NaN counts as 0); the part sizes are rounded to the nearest
/// item, and if together they would exceed the input the test part is cut
/// short. The same items and seed always give the same split, and every item
/// lands in exactly one part.
pub fn split<T>(mut items: Vec<T>, valid_frac: f64, test_frac: f64, seed: u64) -> Splits<T> {
    let n = items.len();
    let part = |frac: f64| {
        let frac = if frac.is_nan() {
            0.0
        } else {
            frac.clamp(0.0, 1.0)
        };
        ((frac * n as f64).round() as usize).min(n)
    };
    let n_valid = part(valid_frac);
    let n_test = part(test_frac).min(n - n_valid);
    items.shuffle(&mut StdRng::seed_from_u64(seed));
    let test = items.split_off(n - n_test);
    let valid = items.split_off(n - n_test - n_valid);
    Splits {
        train: items,
        valid,
        test,
    }
}
