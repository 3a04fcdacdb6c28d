//! Max-pooling over non-overlapping `k × k` windows (stride `k`, no padding), forward and
//! backward, as loops on `f32` slices, planes split between threads.
//!
//! Burn's flex backend pools through its 3-D pooling, searching each window with the
//! bounds checks of any stride, padding and dilation and writing an `i64` index per
//! output: the DAMSM image encoder's three 2 × 2 pools (2 million values a step, batch 32)
//! took about 5 of AttnGAN's 100 ms a step. Here a window is a few loads and selects,
//! without branches (its comparisons go either way at random, and mispredicted branches
//! cost more than the rest), and the 2 × 2 windows run along pairs of rows in a loop that
//! the compiler vectorizes (compiled for AVX2 where the CPU has it): on the largest pool,
//! `[32, 16, 48, 48]` on 2 threads, 1.0 ms forward and 1.0 backward became 0.08 and 0.4.
//! Each window picks what flex picks, its first largest value in row-major order, or its last NaN
//! (NaN always wins, as in PyTorch); the backward pass picks again instead of storing
//! indices, and writes `0.0 + g` there, as flex adds the gradient to a zeroed one (which
//! turns `-0.0` into `0.0`), and `0.0` everywhere else. So both passes give flex's bits.

use rayon::prelude::*;

use super::cpu::{avx2_dispatch, rows_per_chunk};

/// The shapes of one pooling: `planes` maps (images × channels) of `h × w`, windows of
/// `k × k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Maps pooled: images × channels.
    pub planes: usize,
    /// Height and width of each map.
    pub input: [usize; 2],
    /// Side of the windows, and their stride.
    pub k: usize,
}

impl PoolGeometry {
    /// Output height and width: whole windows only (`⌊h / k⌋ × ⌊w / k⌋`).
    pub fn output(&self) -> [usize; 2] {
        [self.input[0] / self.k, self.input[1] / self.k]
    }
}

/// Whether a window's search takes `value` over the `best` so far: flex's rule (and
/// PyTorch's), a larger value or any NaN, so that a window picks its first largest value in
/// row-major order, or its last NaN.
#[inline(always)]
fn takes(value: f32, best: f32) -> bool {
    (value > best) | value.is_nan()
}

/// The offset in its plane of the value that window `(oy, ox)` of `plane` picks: its
/// first largest value in row-major order, or its last NaN. Without branches: a window's
/// comparisons go either way at random, and mispredicted branches were most of the time.
#[inline(always)]
fn pick(plane: &[f32], width: usize, k: usize, oy: usize, ox: usize) -> usize {
    let first = oy * k * width + ox * k;
    let (mut best, mut at) = (plane[first], first);
    for i in 0..k {
        let row = first + i * width;
        for (j, &value) in plane[row..row + k].iter().enumerate() {
            let take = takes(value, best);
            best = if take { value } else { best };
            at = if take { row + j } else { at };
        }
    }
    at
}

/// Calls `each(p, at)` for every output pixel `p` of a plane, `at` the offset its window
/// picks: the windows other than 2 × 2, which [`max_pool_plane_2x2`] and
/// [`max_pool_grad_plane_2x2`] take.
#[inline(always)]
fn for_each_pick(plane: &[f32], g: PoolGeometry, mut each: impl FnMut(usize, usize)) {
    let [_, w] = g.input;
    let [oh, ow] = g.output();
    for oy in 0..oh {
        for ox in 0..ow {
            each(oy * ow + ox, pick(plane, w, g.k, oy, ox));
        }
    }
}

/// The picked value of a 2 × 2 window `[top-left, top-right, bottom-left, bottom-right]`
/// and its place in that order, as [`pick`] chooses.
#[inline(always)]
fn pick_of_four(window: [f32; 4]) -> (f32, u32) {
    let (mut best, mut at) = (window[0], 0);
    for (j, &value) in window.iter().enumerate().skip(1) {
        let take = takes(value, best);
        best = if take { value } else { best };
        at = if take { j as u32 } else { at };
    }
    (best, at)
}

/// Each output row's two input rows: `(row 2 oy, row 2 oy + 1)`, cut to the whole windows.
#[inline(always)]
fn row_pairs(plane: &[f32], width: usize, oh: usize) -> impl Iterator<Item = (&[f32], &[f32])> {
    let ow = width / 2;
    (0..oh).map(move |oy| {
        let top = &plane[2 * oy * width..];
        (&top[..2 * ow], &top[width..][..2 * ow])
    })
}

avx2_dispatch! {
    /// [`max_pool`] of one plane `[h, w]` by 2 × 2 windows into `y [oh, ow]`: a window a
    /// step along each pair of rows, which the compiler vectorizes.
    fn max_pool_plane_2x2(plane: &[f32], width: usize, y: &mut [f32]) {
        let ow = width / 2;
        let oh = y.len() / ow.max(1);
        for ((top, bottom), y) in row_pairs(plane, width, oh).zip(y.chunks_exact_mut(ow)) {
            for ((y, t), b) in y.iter_mut().zip(top.chunks_exact(2)).zip(bottom.chunks_exact(2)) {
                *y = pick_of_four([t[0], t[1], b[0], b[1]]).0;
            }
        }
    }
}

avx2_dispatch! {
    /// [`max_pool_grad`] of one plane by 2 × 2 windows: every value of every window
    /// written, `0.0 + g` at its pick and `0.0` elsewhere (the rows and columns past the
    /// last whole window keep the caller's zeros).
    fn max_pool_grad_plane_2x2(plane: &[f32], width: usize, grad: &[f32], dx: &mut [f32]) {
        let ow = width / 2;
        if ow == 0 {
            return;
        }
        let oh = grad.len() / ow;
        for (oy, ((top, bottom), grad)) in row_pairs(plane, width, oh)
            .zip(grad.chunks_exact(ow))
            .enumerate()
        {
            let (dx_top, dx_bottom) = dx[2 * oy * width..].split_at_mut(width);
            let (dx_top, dx_bottom) = (&mut dx_top[..2 * ow], &mut dx_bottom[..2 * ow]);
            for ((((dt, db), t), b), &g) in dx_top
                .chunks_exact_mut(2)
                .zip(dx_bottom.chunks_exact_mut(2))
                .zip(top.chunks_exact(2))
                .zip(bottom.chunks_exact(2))
                .zip(grad)
            {
                let at = pick_of_four([t[0], t[1], b[0], b[1]]).1;
                let g = 0.0 + g;
                let at_j = |j: u32| if at == j { g } else { 0.0 };
                (dt[0], dt[1], db[0], db[1]) = (at_j(0), at_j(1), at_j(2), at_j(3));
            }
        }
    }
}

/// `y [planes, oh, ow]`: each window's picked value of `x [planes, h, w]`.
pub fn max_pool(x: &[f32], g: PoolGeometry) -> Vec<f32> {
    let [h, w] = g.input;
    let [oh, ow] = g.output();
    assert_eq!(x.len(), g.planes * h * w, "max_pool: input of {g:?}");
    let mut y = vec![0.0f32; g.planes * oh * ow];
    if y.is_empty() {
        return y;
    }
    let chunk = rows_per_chunk(h * w);
    y.par_chunks_mut(chunk * oh * ow)
        .zip(x.par_chunks(chunk * h * w))
        .for_each(|(y, x)| {
            for (y, plane) in y.chunks_exact_mut(oh * ow).zip(x.chunks_exact(h * w)) {
                if g.k == 2 {
                    max_pool_plane_2x2(plane, w, y);
                } else {
                    for_each_pick(plane, g, |p, at| y[p] = plane[at]);
                }
            }
        });
    y
}

/// `dx [planes, h, w]` of [`max_pool`] from `x` and the output gradient `[planes, oh, ow]`.
pub fn max_pool_grad(x: &[f32], g: PoolGeometry, grad: &[f32]) -> Vec<f32> {
    let [h, w] = g.input;
    let [oh, ow] = g.output();
    assert_eq!(x.len(), g.planes * h * w, "max_pool_grad: input of {g:?}");
    assert_eq!(
        grad.len(),
        g.planes * oh * ow,
        "max_pool_grad: gradient of {g:?}"
    );
    let mut dx = vec![0.0f32; x.len()];
    if grad.is_empty() {
        return dx;
    }
    let chunk = rows_per_chunk(h * w);
    dx.par_chunks_mut(chunk * h * w)
        .zip(
            x.par_chunks(chunk * h * w)
                .zip(grad.par_chunks(chunk * oh * ow)),
        )
        .for_each(|(dx, (x, grad))| {
            for (dx, (plane, grad)) in dx
                .chunks_exact_mut(h * w)
                .zip(x.chunks_exact(h * w).zip(grad.chunks_exact(oh * ow)))
            {
                if g.k == 2 {
                    max_pool_grad_plane_2x2(plane, w, grad, dx);
                } else {
                    for_each_pick(plane, g, |p, at| dx[at] = 0.0 + grad[p]);
                }
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::on_threads;

    /// One 4 × 5 plane by hand, 2 × 2 windows (the last column has none): the picks,
    /// ties to the first, a NaN winning, and the gradient only at the picks.
    #[test]
    fn picks_and_gradients_match_a_hand_worked_plane() {
        let nan = f32::NAN;
        #[rustfmt::skip]
        let x = [
            1.0, 3.0,   2.0, 2.0,   9.0,
            0.0, 3.0,   2.0, -1.0,  9.0,
            -4.0, -3.0, nan, 5.0,   9.0,
            -2.0, -3.0, 7.0, nan,   9.0,
        ];
        let g = PoolGeometry {
            planes: 1,
            input: [4, 5],
            k: 2,
        };
        let y = max_pool(&x, g);
        assert_eq!(y[..3], [3.0, 2.0, -2.0]);
        assert!(y[3].is_nan());
        let dx = max_pool_grad(&x, g, &[10.0, 20.0, -0.0, 40.0]);
        #[rustfmt::skip]
        let want = [
            0.0, 10.0, 20.0, 0.0, 0.0,
            0.0, 0.0,  0.0,  0.0, 0.0,
            0.0, 0.0,  0.0,  0.0, 0.0,
            0.0, 0.0,  0.0, 40.0, 0.0,
        ];
        assert_eq!(dx, want);
        // The window of -0.0's gradient (its pick, -2.0 at (3, 0)) gets +0.0, as flex's
        // zeroed gradient plus -0.0.
        assert!(dx[15].is_sign_positive());
    }

    /// The same bits on one thread and on three, over many planes of an odd size.
    #[test]
    fn the_thread_count_does_not_change_the_bits() {
        let g = PoolGeometry {
            planes: 37,
            input: [7, 9],
            k: 3,
        };
        let x: Vec<f32> = (0..g.planes * 63)
            .map(|i| ((i * 7919) % 101) as f32)
            .collect();
        let grad: Vec<f32> = (0..g.planes * 6).map(|i| i as f32 * 0.5).collect();
        let run = |threads| on_threads(threads, || (max_pool(&x, g), max_pool_grad(&x, g, &grad)));
        assert_eq!(run(1), run(3));
    }
}
