//! Activations of AttnGAN's players as loops on `f32` slices split between threads: the
//! generator's gated linear unit and the discriminators' leaky ReLU. On the flex backend
//! Burn runs every elementwise operation on one thread, several passes over memory for each
//! of these, and each of their gradients too.
//!
//! Each thread's loop is compiled for AVX2 too, and runs so where the CPU has it (eight
//! lanes instead of SSE2's four), with the same bits: no fused multiply-adds, the same
//! operations in the same order.
//!
//! # GLU
//!
//! `y = a · σ(b)` for each row `[a | b]` of `2n` values. Burn's `glu` is two slices, a
//! sigmoid and a product, each a pass over memory on one thread of the flex backend, and
//! backward a product's two gradients, the sigmoid's, two zero-filled slice gradients and
//! their sum: AttnGAN's generator runs it on every upsampled map (2.4 million values a step
//! at 48 pixels). Here each pass is one loop with Burn's arithmetic per value but for the
//! exponential, glibc's `expf` in flex and the vectorized [`exp_approx`] here (a relative
//! error below 2.5e-7), so the values agree with Burn's to rounding:
//!
//! - `σ(b)` in flex's form (`1 / (1 + e^-b)` for `b ≥ 0`, `e^b / (1 + e^b)` below);
//! - `d a = g · σ(b)` and `d b = ((g · a) · σ(b)) · (1 - σ(b))`, the product's and the
//!   sigmoid's gradients in flex's order;
//! - each then plus `0.0`, as Burn adds the two slices' zero-padded gradients, which turns a
//!   `-0.0` into `0.0` and changes nothing else.
//!
//! # Leaky ReLU
//!
//! With the bits of Burn's own (below).

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::cpu::{CHUNK, avx2_dispatch, exp_approx, rows_per_chunk};
use super::output::written_whole;

/// `y = x` where `x ≥ 0` (or NaN), `slope · x` below, as Burn composes it (a mask of `x <
/// 0`, `x · slope`, a masked choice).
pub fn leaky_relu(x: &[f32], slope: f32) -> Vec<f32> {
    // SAFETY: the chunks cover every value, and each chunk's loop writes all of its own.
    unsafe {
        written_whole(x.len(), |y| {
            y.par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK))
                .for_each(|(y, x)| leaky_relu_chunk(x, slope, y))
        })
    }
}

avx2_dispatch! {
    /// [`leaky_relu`] of one chunk on one thread.
    fn leaky_relu_chunk(x: &[f32], slope: f32, y: &mut [MaybeUninit<f32>]) {
        for (y, &x) in y.iter_mut().zip(x) {
            y.write(if x < 0.0 { x * slope } else { x });
        }
    }
}

/// `d x` of [`leaky_relu`] from `x` and the output gradient: Burn's masked choice sends
/// `g` to one branch and `0.0` to the other, the scaled branch multiplies by `slope`, and
/// the two are summed: `0.0 + g · slope` below zero, `g + 0.0 · slope` elsewhere.
pub fn leaky_relu_grad(x: &[f32], grad: &[f32], slope: f32) -> Vec<f32> {
    assert_eq!(
        x.len(),
        grad.len(),
        "leaky_relu_grad: x and its gradient differ"
    );
    // SAFETY: as in `leaky_relu`.
    unsafe {
        written_whole(x.len(), |dx| {
            dx.par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK).zip(grad.par_chunks(CHUNK)))
                .for_each(|(dx, (x, grad))| leaky_relu_grad_chunk(x, grad, slope, dx))
        })
    }
}

avx2_dispatch! {
    /// [`leaky_relu_grad`] of one chunk on one thread.
    fn leaky_relu_grad_chunk(x: &[f32], grad: &[f32], slope: f32, dx: &mut [MaybeUninit<f32>]) {
        for ((dx, &x), &g) in dx.iter_mut().zip(x).zip(grad) {
            dx.write(if x < 0.0 {
                0.0 + g * slope
            } else {
                g + 0.0 * slope
            });
        }
    }
}

/// The logistic sigmoid in the flex backend's form (its `sigmoid_f32`: `1 / (1 + e^-x)` for
/// `x ≥ 0`, `e^x / (1 + e^x)` below), with [`exp_approx`] for its `expf` and both branches
/// computed, so that a loop over a slice vectorizes.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    let e = exp_approx(-x.abs());
    let denominator = 1.0 + e;
    if x >= 0.0 {
        1.0 / denominator
    } else {
        e / denominator
    }
}

/// `y [rows, n]` of `x [rows, 2n]`: `y[r, i] = x[r, i] · σ(x[r, n + i])`.
pub fn glu_rows(x: &[f32], n: usize) -> Vec<f32> {
    if n == 0 {
        return Vec::new();
    }
    assert!(
        x.len().is_multiple_of(2 * n),
        "glu_rows: rows of {} values",
        2 * n
    );
    let rows = rows_per_chunk(2 * n);
    // SAFETY: the chunks cover every row, and each chunk's loop writes all of its rows.
    unsafe {
        written_whole(x.len() / 2, |y| {
            y.par_chunks_mut(rows * n)
                .zip(x.par_chunks(rows * 2 * n))
                .for_each(|(y, x)| glu_chunk(x, n, y))
        })
    }
}

avx2_dispatch! {
    /// [`glu_rows`] of one chunk of rows on one thread.
    fn glu_chunk(x: &[f32], n: usize, y: &mut [MaybeUninit<f32>]) {
        for (y, x) in y.chunks_exact_mut(n).zip(x.chunks_exact(2 * n)) {
            let (a, b) = x.split_at(n);
            for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
                y.write(a * sigmoid(b));
            }
        }
    }
}

/// `d x [rows, 2n]` of [`glu_rows`] from `x` and the output gradient `grad [rows, n]`.
pub fn glu_rows_grad(x: &[f32], grad: &[f32], n: usize) -> Vec<f32> {
    if n == 0 {
        return vec![0.0; x.len()];
    }
    assert!(
        x.len().is_multiple_of(2 * n) && grad.len() * 2 == x.len(),
        "glu_rows_grad: x of rows of {} values and a gradient of half as many",
        2 * n
    );
    let rows = rows_per_chunk(2 * n);
    // SAFETY: the chunks cover every row, and each chunk's loop writes all of its rows.
    unsafe {
        written_whole(x.len(), |dx| {
            dx.par_chunks_mut(rows * 2 * n)
                .zip(x.par_chunks(rows * 2 * n).zip(grad.par_chunks(rows * n)))
                .for_each(|(dx, (x, grad))| glu_grad_chunk(x, grad, n, dx))
        })
    }
}

avx2_dispatch! {
    /// [`glu_rows_grad`] of one chunk of rows on one thread.
    fn glu_grad_chunk(x: &[f32], grad: &[f32], n: usize, dx: &mut [MaybeUninit<f32>]) {
        for ((dx, x), grad) in dx
            .chunks_exact_mut(2 * n)
            .zip(x.chunks_exact(2 * n))
            .zip(grad.chunks_exact(n))
        {
            let (a, b) = x.split_at(n);
            let (da, db) = dx.split_at_mut(n);
            for ((((da, db), &a), &b), &g) in da.iter_mut().zip(db).zip(a).zip(b).zip(grad) {
                let s = sigmoid(b);
                da.write(g * s + 0.0);
                db.write(g * a * s * (1.0 - s) + 0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand values: σ(0) = 1/2, so y = a / 2, d a = g / 2, d b = g · a / 4.
    #[test]
    fn a_row_at_zero_gates_by_half() {
        let x = [2.0f32, -4.0, 0.0, 0.0];
        assert_eq!(glu_rows(&x, 2), vec![1.0, -2.0]);
        assert_eq!(glu_rows_grad(&x, &[1.0, 2.0], 2), vec![0.5, 1.0, 0.5, -2.0]);
    }

    /// Hand values: slope 0.2 below zero, 1 above; a NaN passes through.
    #[test]
    fn leaky_relu_scales_the_negatives() {
        let y = leaky_relu(&[-2.0, 0.0, 3.0, f32::NAN], 0.25);
        assert_eq!(&y[..3], &[-0.5, 0.0, 3.0]);
        assert!(y[3].is_nan());
        assert_eq!(
            leaky_relu_grad(&[-2.0, 0.0, 3.0], &[4.0, 4.0, -1.0], 0.25),
            vec![1.0, 4.0, -1.0]
        );
    }

    /// A gradient of `-0.0` gives `0.0`, as Burn's sum of the two slices' gradients does.
    #[test]
    fn negative_zero_gradients_come_out_positive() {
        let dx = glu_rows_grad(&[1.0, 3.0], &[-0.0], 1);
        assert!(dx.iter().all(|v| v.to_bits() == 0.0f32.to_bits()), "{dx:?}");
    }
}
