//! Max-pooling over non-overlapping `k × k` windows (stride `k`, no padding), forward and
//! backward, as loops on `f32` slices, planes split between threads.
//!
//! Burn's flex backend pools through its 3-D pooling, searching each window with the
//! bounds checks of any stride, padding and dilation and writing an `i64` index per
//! output: the DAMSM image encoder's three 2 × 2 pools (2 million values a step, batch 32)
//! took about 5 of AttnGAN's 100 ms a step. Here a window is a few loads. Each window
//! picks what flex picks, its first largest value in row-major order, or its last NaN
//! (NaN always wins, as in PyTorch); the backward pass picks again instead of storing
//! indices, and writes `0.0 + g` there, as flex adds the gradient to a zeroed one (which
//! turns `-0.0` into `0.0`), and `0.0` everywhere else. So both passes give flex's bits.

use rayon::prelude::*;

/// Input values per parallel chunk (whole planes), so that small maps are not split into
/// slivers.
const CHUNK: usize = 1 << 14;

/// The shapes of one pooling: `planes` maps (images × channels) of `h × w`, windows of
/// `k × k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    pub planes: usize,
    pub input: [usize; 2],
    pub k: usize,
}

impl PoolGeometry {
    /// Output height and width: whole windows only (`⌊h / k⌋ × ⌊w / k⌋`).
    pub fn output(&self) -> [usize; 2] {
        [self.input[0] / self.k, self.input[1] / self.k]
    }

    /// Planes per parallel chunk.
    fn planes_per_chunk(&self) -> usize {
        CHUNK
            .div_ceil((self.input[0] * self.input[1]).max(1))
            .max(1)
    }
}

/// The offset in its plane of the value that window `(oy, ox)` of `plane` picks: its
/// first largest value in row-major order, or its last NaN.
#[inline(always)]
fn pick(plane: &[f32], width: usize, k: usize, oy: usize, ox: usize) -> usize {
    let first = oy * k * width + ox * k;
    let (mut best, mut at) = (plane[first], first);
    for i in 0..k {
        let row = first + i * width;
        for (j, &value) in plane[row..row + k].iter().enumerate() {
            if value > best || value.is_nan() {
                (best, at) = (value, row + j);
            }
        }
    }
    at
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
    let chunk = g.planes_per_chunk();
    y.par_chunks_mut(chunk * oh * ow)
        .zip(x.par_chunks(chunk * h * w))
        .for_each(|(y, x)| {
            for (y, plane) in y.chunks_exact_mut(oh * ow).zip(x.chunks_exact(h * w)) {
                for (p, y) in y.iter_mut().enumerate() {
                    *y = plane[pick(plane, w, g.k, p / ow, p % ow)];
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
    let chunk = g.planes_per_chunk();
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
                for (p, &g_p) in grad.iter().enumerate() {
                    dx[pick(plane, w, g.k, p / ow, p % ow)] = 0.0 + g_p;
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
