//! Summary statistics for aggregating results over runs (for example seeds).

/// Mean and sample standard deviation of `values`.
///
/// The standard deviation uses the `n - 1` (Bessel-corrected) denominator,
/// since seeds are a sample of possible runs. It is `0.0` for fewer than two
/// values, and the mean is `0.0` for no values.
///
/// ```
/// let (mean, std) = metrics::stats::mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
/// assert_eq!(mean, 5.0);
/// assert!((std - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
/// ```
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let count = values.len();
    if count == 0 {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / count as f64;
    if count < 2 {
        return (mean, 0.0);
    }
    // Two-pass formula: subtracting the mean first avoids the catastrophic
    // cancellation of the sum-of-squares shortcut when values are large.
    let squared_deviations: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (squared_deviations / (count - 1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        // mean 2, deviations -1, 0, 1 -> sum of squares 2, / (3 - 1) = 1.
        assert_eq!(mean_std(&[1.0, 2.0, 3.0]), (2.0, 1.0));
        // mean 15, deviations -5, 5 -> 50 / 1 -> sqrt(50).
        let (mean, std) = mean_std(&[10.0, 20.0]);
        assert_eq!(mean, 15.0);
        assert!((std - 50f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn fewer_than_two_values() {
        assert_eq!(mean_std(&[]), (0.0, 0.0));
        assert_eq!(mean_std(&[42.5]), (42.5, 0.0));
    }

    #[test]
    fn constant_values_have_zero_spread_even_when_large() {
        let (mean, std) = mean_std(&[1e9 + 0.1; 5]);
        assert!((mean - (1e9 + 0.1)).abs() < 1e-6);
        assert!(std < 1e-6);
    }
}
