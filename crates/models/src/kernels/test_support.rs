//! What the kernels' tests share: running on a pool of a given size, and gradients checked
//! against finite differences.

/// `f` run on a fresh pool of `threads` threads (a kernel's split between threads must not
/// change its bits).
pub(crate) fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool")
        .install(f)
}

/// `analytic` against central finite differences of `loss` at `at`, one value at a time
/// (steps of 1e-2, within 2e-3); `what` names the gradient in the message.
pub(crate) fn assert_matches_differences(
    analytic: &[f32],
    at: &[f32],
    loss: impl Fn(&[f32]) -> f64,
    what: &str,
) {
    let h = 1e-2f32;
    for (j, &analytic) in analytic.iter().enumerate() {
        let (mut up, mut down) = (at.to_vec(), at.to_vec());
        up[j] += h;
        down[j] -= h;
        let numeric = (loss(&up) - loss(&down)) / (2.0 * h as f64);
        assert!(
            (analytic as f64 - numeric).abs() < 2e-3,
            "{what}[{j}]: {analytic} against {numeric}"
        );
    }
}
