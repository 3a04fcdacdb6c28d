//! The gated linear unit's loops on `f32` rows: `y = a · σ(b)` for each row `[a | b]` of
//! `2n` values, forward and backward, rows split between threads.
//!
//! Burn's `glu` is two slices, a sigmoid and a product, each a pass over memory on one
//! thread of the flex backend, and backward a product's two gradients, the sigmoid's, two
//! zero-filled slice gradients and their sum: AttnGAN's generator runs it on every upsampled
//! map (2.4 million values a step at 48 pixels). Here each pass is one loop, with the same
//! arithmetic per value as Burn's, so the same bits:
//!
//! - `σ(b)` as flex computes it (`1 / (1 + e^-b)` for `b ≥ 0`, `e^b / (1 + e^b)` below);
//! - `d a = g · σ(b)` and `d b = ((g · a) · σ(b)) · (1 - σ(b))`, the product's and the
//!   sigmoid's gradients in flex's order;
//! - each then plus `0.0`, as Burn adds the two slices' zero-padded gradients, which turns a
//!   `-0.0` into `0.0` and changes nothing else.

use rayon::prelude::*;

/// The logistic sigmoid as the flex backend computes it (its `sigmoid_f32`).
fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Rows of at least this many values each go to a thread on their own; shorter rows are
/// taken several at a time, so a small tensor is not split into slivers.
const MIN_CHUNK: usize = 4096;

/// Rows per parallel chunk for rows of `width` values.
fn rows_per_chunk(width: usize) -> usize {
    MIN_CHUNK.div_ceil(width.max(1)).max(1)
}

/// `y [rows, n]` of `x [rows, 2n]`: `y[r, i] = x[r, i] · σ(x[r, n + i])`.
pub fn glu_rows(x: &[f32], n: usize) -> Vec<f32> {
    let mut y = vec![0.0f32; x.len() / 2];
    if n == 0 {
        return y;
    }
    let rows = rows_per_chunk(2 * n);
    y.par_chunks_mut(rows * n)
        .zip(x.par_chunks(rows * 2 * n))
        .for_each(|(y, x)| {
            for (y, x) in y.chunks_exact_mut(n).zip(x.chunks_exact(2 * n)) {
                let (a, b) = x.split_at(n);
                for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
                    *y = a * sigmoid(b);
                }
            }
        });
    y
}

/// `d x [rows, 2n]` of [`glu_rows`] from `x` and the output gradient `grad [rows, n]`.
pub fn glu_rows_grad(x: &[f32], grad: &[f32], n: usize) -> Vec<f32> {
    let mut dx = vec![0.0f32; x.len()];
    if n == 0 {
        return dx;
    }
    let rows = rows_per_chunk(2 * n);
    dx.par_chunks_mut(rows * 2 * n)
        .zip(x.par_chunks(rows * 2 * n).zip(grad.par_chunks(rows * n)))
        .for_each(|(dx, (x, grad))| {
            for ((dx, x), grad) in dx
                .chunks_exact_mut(2 * n)
                .zip(x.chunks_exact(2 * n))
                .zip(grad.chunks_exact(n))
            {
                let (a, b) = x.split_at(n);
                let (da, db) = dx.split_at_mut(n);
                for ((((da, db), &a), &b), &g) in da.iter_mut().zip(db).zip(a).zip(b).zip(grad) {
                    let s = sigmoid(b);
                    *da = g * s + 0.0;
                    *db = g * a * s * (1.0 - s) + 0.0;
                }
            }
        });
    dx
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

    /// A gradient of `-0.0` gives `0.0`, as Burn's sum of the two slices' gradients does.
    #[test]
    fn negative_zero_gradients_come_out_positive() {
        let dx = glu_rows_grad(&[1.0, 3.0], &[-0.0], 1);
        assert!(dx.iter().all(|v| v.to_bits() == 0.0f32.to_bits()), "{dx:?}");
    }
}
