//! Timing helpers of the `bench-*` binaries and of the transformer experiment's cost
//! measurement: calls timed after a warm-up, their median and spread (quantiles as numpy's
//! default, so the PyTorch scripts' numbers compare), and the process's peak memory.

use std::time::Instant;

/// The `q` quantile of sorted values, interpolated linearly between the two nearest ranks
/// (numpy's default, `np.percentile(x, 100 q)`).
///
/// # Panics
/// If `sorted` is empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The median of `values` (any order): the mean of the middle two for an even count.
///
/// # Panics
/// If `values` is empty.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(&values, 0.5)
}

/// Median, 10th and 90th percentile of `ms` (any order).
///
/// # Panics
/// If `ms` is empty.
pub fn median_p10_p90(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    (
        percentile(&ms, 0.5),
        percentile(&ms, 0.1),
        percentile(&ms, 0.9),
    )
}

/// Milliseconds of each of `steps` calls of `f`, after `warmup` untimed ones.
pub fn time_calls(warmup: usize, steps: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..warmup).for_each(|_| f());
    (0..steps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

/// Peak resident set size of this process in MiB (Linux's `VmHWM`); `None` where
/// `/proc/self/status` cannot be read.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_as_numpy() {
        // np.percentile([1, 2, 3, 4], [50, 10, 90]) = [2.5, 1.3, 3.7]
        let (mid, p10, p90) = median_p10_p90(vec![4.0, 1.0, 3.0, 2.0]);
        assert!((mid - 2.5).abs() < 1e-12);
        assert!((p10 - 1.3).abs() < 1e-12);
        assert!((p90 - 3.7).abs() < 1e-12);
        // One value is every quantile of itself.
        assert_eq!(median_p10_p90(vec![7.0]), (7.0, 7.0, 7.0));
        assert_eq!(median(vec![5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn times_only_the_steps_after_the_warmup() {
        let mut calls = 0;
        let ms = time_calls(2, 3, || calls += 1);
        assert_eq!(calls, 5);
        assert_eq!(ms.len(), 3);
        assert!(ms.iter().all(|&t| t >= 0.0));
    }

    #[test]
    fn reads_this_process_peak_memory() {
        // Linux only, where the benchmarks run; a running test holds at least a megabyte.
        if cfg!(target_os = "linux") {
            assert!(peak_rss_mib().unwrap() > 1.0);
        }
    }
}
