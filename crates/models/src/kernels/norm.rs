//! Layer normalization of images (Burn's `GroupNorm` with one group) as loops on `f32`
//! slices, one pass each way per image, images split between threads.
//!
//! Burn composes the norm from a dozen flex operations forward and twice that backward,
//! each a pass over the whole batch on one thread; AttnGAN's generator runs five of them
//! a step. Here, for each image of `n = C · H · W` values:
//!
//! - forward: `μ = Σ x / n`, `σ² = Σ (x - μ)² / n` (both summed in `f64`), `x̂ = (x - μ) /
//!   √(σ² + ε)`, `y = γ[c] · x̂ + β[c]`;
//! - backward, from `g = dy · γ[c]`: `dx = (g - mean(g) - x̂ · mean(g · x̂)) / √(σ² + ε)`,
//!   and `dγ[c] = Σ dy · x̂`, `dβ[c] = Σ dy` over the batch's pixels of channel `c` (the
//!   image's means of `g` and `g · x̂` from the same per-channel sums), each image's sums
//!   added in image order, so no value depends on the thread count.
//!
//! Every sum runs as [`CHAINS`] interleaved chains, added up at the end.
//!
//! The sums run in another order than Burn's (and in `f64`), so the values agree with
//! Burn's to rounding, not bit for bit.
//!
//! Each image's loops are compiled for AVX2 too, and run so where the CPU has it (four
//! `f64` lanes instead of SSE2's two): without fused multiply-adds and in the same order,
//! so with the same bits.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::cpu::avx2_dispatch;
use super::output::written_whole;

/// Burn's `GroupNormConfig` default `ε`, the only one this path takes.
pub const EPSILON: f64 = 1e-5;

/// Partial sums per sum: eight chains side by side, so that the additions need not wait on
/// each other and the loops vectorize; always added up in the same order.
const CHAINS: usize = 8;

/// `Σ f(i)` for `i` in `0..n`, in [`CHAINS`] interleaved chains of `f64`.
#[inline(always)]
fn chained_sum(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut chains = [0.0f64; CHAINS];
    let whole = n - n % CHAINS;
    for i in (0..whole).step_by(CHAINS) {
        for (j, chain) in chains.iter_mut().enumerate() {
            *chain += f(i + j);
        }
    }
    for (j, i) in (whole..n).enumerate() {
        chains[j] += f(i);
    }
    chains.iter().sum()
}

/// `(μ, 1 / √(σ² + ε))` of one image's values.
#[inline(always)]
fn moments(image: &[f32]) -> (f64, f64) {
    let n = image.len();
    let mean = chained_sum(n, |i| image[i] as f64) / n as f64;
    let var = chained_sum(n, |i| (image[i] as f64 - mean).powi(2)) / n as f64;
    (mean, 1.0 / (var + EPSILON).sqrt())
}

/// `y [B, C, P]` of `x [B, C, P]` (`P` pixels a channel), `γ [C]` and `β [C]`.
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], pixels: usize) -> Vec<f32> {
    let image = gamma.len() * pixels;
    assert!(
        image > 0 && x.len().is_multiple_of(image) && beta.len() == gamma.len(),
        "layer_norm: images of {} channels of {pixels} pixels",
        gamma.len()
    );
    // SAFETY: the chunks cover every image, and each image's loop writes all of it.
    unsafe {
        written_whole(x.len(), |y| {
            y.par_chunks_mut(image)
                .zip(x.par_chunks(image))
                .for_each(|(y, x)| normalize_image(x, gamma, beta, pixels, y))
        })
    }
}

avx2_dispatch! {
    /// One image of [`layer_norm`].
    fn normalize_image(
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        pixels: usize,
        y: &mut [MaybeUninit<f32>],
    ) {
        let (mean, inv_std) = moments(x);
        for (c, (y, x)) in y.chunks_mut(pixels).zip(x.chunks(pixels)).enumerate() {
            for (y, &x) in y.iter_mut().zip(x) {
                let normed = ((x as f64 - mean) * inv_std) as f32;
                y.write(gamma[c] * normed + beta[c]);
            }
        }
    }
}

/// `(dx [B, C, P], dγ [C], dβ [C])` of [`layer_norm`] from `x`, `γ` and `dy`.
pub fn layer_norm_grads(
    x: &[f32],
    gamma: &[f32],
    dy: &[f32],
    pixels: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let channels = gamma.len();
    let image = channels * pixels;
    assert!(
        image > 0 && x.len().is_multiple_of(image) && dy.len() == x.len(),
        "layer_norm_grads: images of {channels} channels of {pixels} pixels"
    );
    // Each image's `[dγ; dβ]` partial sums, `2 C` values, added in image order below.
    let mut partials: Vec<Vec<f64>> = Vec::new();
    // SAFETY: the chunks cover every image, and each image's loop writes all of its `dx`.
    let dx = unsafe {
        written_whole(x.len(), |dx| {
            partials = dx
                .par_chunks_mut(image)
                .zip(x.par_chunks(image).zip(dy.par_chunks(image)))
                .map(|(dx, (x, dy))| {
                    let mut sums = vec![0.0f64; 2 * channels];
                    image_grads(x, gamma, dy, pixels, dx, &mut sums);
                    sums
                })
                .collect()
        })
    };
    let mut totals = vec![0.0f64; 2 * channels];
    for partial in &partials {
        for (total, value) in totals.iter_mut().zip(partial) {
            *total += value;
        }
    }
    let (dgamma, dbeta) = totals.split_at(channels);
    (
        dx,
        dgamma.iter().map(|&v| v as f32).collect(),
        dbeta.iter().map(|&v| v as f32).collect(),
    )
}

avx2_dispatch! {
    /// One image of [`layer_norm_grads`]: its `dx`, and its `[dγ; dβ]` partial sums
    /// (`2 C` values) into `sums`.
    fn image_grads(
        x: &[f32],
        gamma: &[f32],
        dy: &[f32],
        pixels: usize,
        dx: &mut [MaybeUninit<f32>],
        sums: &mut [f64],
    ) {
        let channels = gamma.len();
        let (mean, inv_std) = moments(x);
        let normed = |x: f32| (x as f64 - mean) * inv_std;
        let (mut g_sum, mut g_normed_sum) = (0.0f64, 0.0f64);
        for (c, (x, dy)) in x.chunks(pixels).zip(dy.chunks(pixels)).enumerate() {
            let dy_normed = chained_sum(pixels, |i| dy[i] as f64 * normed(x[i]));
            let dy_sum = chained_sum(pixels, |i| dy[i] as f64);
            sums[c] = dy_normed;
            sums[channels + c] = dy_sum;
            let gamma = gamma[c] as f64;
            g_sum += gamma * dy_sum;
            g_normed_sum += gamma * dy_normed;
        }
        let n = x.len() as f64;
        let (g_mean, g_normed_mean) = (g_sum / n, g_normed_sum / n);
        for (c, (dx, (x, dy))) in dx
            .chunks_mut(pixels)
            .zip(x.chunks(pixels).zip(dy.chunks(pixels)))
            .enumerate()
        {
            for (dx, (&x, &dy)) in dx.iter_mut().zip(x.iter().zip(dy)) {
                let g = dy as f64 * gamma[c] as f64;
                dx.write(((g - g_mean - normed(x) * g_normed_mean) * inv_std) as f32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::{assert_matches_differences, on_threads};

    /// One image of one channel, x = (1, 2, 3, 4), γ = 2, β = 1: μ = 2.5, σ² = 1.25, so
    /// x̂ = (x - 2.5) / √(1.25 + ε) and y = 2 x̂ + 1, worked out by hand.
    #[test]
    fn forward_matches_a_hand_computed_case() {
        let y = layer_norm(&[1.0, 2.0, 3.0, 4.0], &[2.0], &[1.0], 4);
        let s = (1.25f64 + EPSILON).sqrt();
        for (y, x) in y.iter().zip([1.0f64, 2.0, 3.0, 4.0]) {
            assert!(
                (*y as f64 - (2.0 * (x - 2.5) / s + 1.0)).abs() < 1e-6,
                "{y}"
            );
        }
    }

    /// Every gradient against central finite differences of `Σ w · y` (a fixed weighting
    /// `w`), in `f64` arithmetic on `f32` values: two images, three channels, five pixels.
    #[test]
    fn gradients_match_finite_differences() {
        let (channels, pixels) = (3, 5);
        let wave =
            |n: usize, k: f32| -> Vec<f32> { (0..n).map(|i| (i as f32 * k).sin()).collect() };
        let x = wave(2 * channels * pixels, 0.73);
        let gamma = vec![0.5, -1.5, 2.0];
        let beta = vec![0.1, 0.2, -0.3];
        let w = wave(x.len(), 1.31);
        let loss = |x: &[f32], gamma: &[f32], beta: &[f32]| -> f64 {
            layer_norm(x, gamma, beta, pixels)
                .iter()
                .zip(&w)
                .map(|(&y, &w)| y as f64 * w as f64)
                .sum()
        };
        let (dx, dgamma, dbeta) = layer_norm_grads(&x, &gamma, &w, pixels);
        assert_matches_differences(&dx, &x, |x| loss(x, &gamma, &beta), "dx");
        assert_matches_differences(&dgamma, &gamma, |g| loss(&x, g, &beta), "dgamma");
        assert_matches_differences(&dbeta, &beta, |b| loss(&x, &gamma, b), "dbeta");
    }

    /// The same bits on one thread and on three.
    #[test]
    fn the_thread_count_does_not_change_the_bits() {
        let (channels, pixels) = (4, 37);
        let x: Vec<f32> = (0..5 * channels * pixels)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let dy: Vec<f32> = (0..x.len()).map(|i| (i as f32 * 0.71).cos()).collect();
        let (gamma, beta) = (vec![1.0, -0.5, 2.0, 0.25], vec![0.0, 0.1, -0.2, 0.3]);
        let run = |threads: usize| {
            on_threads(threads, || {
                (
                    layer_norm(&x, &gamma, &beta, pixels),
                    layer_norm_grads(&x, &gamma, &dy, pixels),
                )
            })
        };
        assert_eq!(run(1), run(3));
    }
}
