//! The weight gradient of the small maps' convolution: `dw[co, ci, tap] = Σ_(b, p)
//! dy[b, co, p] · x[b, ci, s·p + tap]`, tiles of `R` (tap, input channel) pairs by `V`
//! vectors of output channels, each chain over every output pixel of the batch in order.

use rayon::prelude::*;

use super::lanes::{Lanes, Shape, Zmm, load_row, multiply_add, on_isa, store_row};
use super::{Batch, Grid, LANES, Rows, Taps, fits, tile};
use crate::kernels::conv::ConvGeometry;
use crate::kernels::direct::Isa;
use crate::kernels::scratch::Scratch;

/// Pair tiles of the weight gradient's jobs, at most: each job runs this many tiles of
/// (tap, input channel) pairs over every output pixel of the batch.
const WEIGHT_GRADIENT_JOB_TILES: usize = 8;

/// Output pixels each tile of a weight-gradient job walks before the next tile's turn:
/// their output gradients (`WEIGHT_GRADIENT_ROWS · width` values, at most 16 KiB) stay in
/// the L1 cache for every tile of the job. The chains go on from where they stopped, so
/// this changes no value.
pub(super) const WEIGHT_GRADIENT_ROWS: usize = 64;

/// One weight-gradient job: the sums `out [pairs, V · LANES]` of the pairs at grid offsets
/// `pairs` from each window, for output-channel block `block`, over every output pixel of
/// the batch in order (`dy [rows, channels]`, channels last).
#[inline(always)]
fn weight_gradient_pairs<T: Lanes, const R: usize, const V: usize>(
    rows: Rows,
    dy: &[f32],
    pairs: &[usize],
    block: usize,
    out: &mut [f32],
) {
    let Rows { grids, windows } = rows;
    let width = V * LANES;
    let channels = dy.len() / windows.len();
    for start in (0..windows.len()).step_by(WEIGHT_GRADIENT_ROWS) {
        let end = (start + WEIGHT_GRADIENT_ROWS).min(windows.len());
        for first in (0..pairs.len()).step_by(R) {
            let at: [usize; R] = tile(pairs, first);
            let kept = (pairs.len() - first).min(R);
            let mut acc = [[T::zero(); V]; R];
            if start > 0 {
                for (r, acc_r) in acc.iter_mut().enumerate().take(kept) {
                    *acc_r = load_row(&out[(first + r) * width..]);
                }
            }
            for (&window, dy_p) in windows[start..end]
                .iter()
                .zip(dy[start * channels..end * channels].chunks_exact(channels))
            {
                acc = multiply_add(acc, &grids[window..], &at, &dy_p[block * width..]);
            }
            for (r, acc_r) in acc.iter().enumerate().take(kept) {
                store_row(acc_r, &mut out[(first + r) * width..]);
            }
        }
    }
}

on_isa! {
    /// The weight-gradient job of [`weight_gradient_pairs`] in tiles of `shape`.
    fn weight_gradient_job<T>(
        shape: Shape,
        rows: Rows,
        dy: &[f32],
        pairs: &[usize],
        block: usize,
        out: &mut [f32],
    ) {
        match (shape.rows, shape.vectors) {
            (4, 4) => weight_gradient_pairs::<T, 4, 4>(rows, dy, pairs, block, out),
            (6, 2) => weight_gradient_pairs::<T, 6, 2>(rows, dy, pairs, block, out),
            (8, 1) => weight_gradient_pairs::<T, 8, 1>(rows, dy, pairs, block, out),
            _ => weight_gradient_pairs::<T, 6, 1>(rows, dy, pairs, block, out),
        }
    }
}

/// `dw [c_out, c_in, kh, kw]` of [`super::forward`] from the input `x` `[B, c_in, h, w]` and the
/// output gradient `dy` `[B, c_out, oh, ow]`; the geometry must be one that this path
/// [`fits`](super::fits).
pub fn weight_gradient(x: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    weight_gradient_on(Isa::detect(), x, dy, g)
}

pub(super) fn weight_gradient_on(isa: Isa, x: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    debug_assert!(
        fits(g),
        "small_maps::weight_gradient: unsupported geometry {g:?}"
    );
    let pixels = g.pixels();
    let shape = Shape::of(isa, g.c_out, None);
    let width = shape.vectors * LANES;
    let channels = g.c_out.div_ceil(width) * width;
    let grid = Grid::of(g, g.c_in);
    let taps = Taps::of(g, &grid);
    let batch = Batch::of(x, g, &grid, &taps);
    // The output gradient channels last, `[B · P, channels]`, zeros past `c_out`.
    let mut dy_last = Scratch::take(batch.windows.len() * channels);
    let dy_last = dy_last.values();
    dy_last
        .par_chunks_mut(pixels * channels)
        .zip(dy.par_chunks(g.c_out * pixels))
        .for_each(|(dy_last_b, dy_b)| {
            dy_last_b.fill(0.0);
            for (co, row) in dy_b.chunks_exact(pixels).enumerate() {
                for (p, &value) in row.iter().enumerate() {
                    dy_last_b[p * channels + co] = value;
                }
            }
        });
    // The pairs (tap, ci) in order, each as its grid offset from the window, in jobs of
    // whole tiles for one block of output channels.
    let pairs = taps.links(g.c_in);
    let tiles = pairs.len().div_ceil(shape.rows);
    let job_pairs = (tiles / 16).clamp(1, WEIGHT_GRADIENT_JOB_TILES) * shape.rows;
    let blocks = channels / width;
    let grids: &[f32] = batch.grids.values_ref();
    // The sums `[block][pair][width]`, each job's pairs of one block a run of them.
    let k = pairs.len();
    let mut sums = vec![0.0f32; blocks * k * width];
    sums.par_chunks_mut(k * width)
        .enumerate()
        .flat_map(|(block, sums)| {
            sums.par_chunks_mut(job_pairs * width)
                .enumerate()
                .map(move |(job, out)| (block, job * job_pairs, out))
        })
        .for_each(|(block, first, out)| {
            let pairs = &pairs[first..first + out.len() / width];
            let rows = Rows {
                grids,
                windows: &batch.windows,
            };
            weight_gradient_job(isa, shape, rows, dy_last, pairs, block, out);
        });
    // `dw [c_out, c_in, taps]`, a row of each output channel at a time.
    let n_taps = taps.offsets.len();
    let mut dw = vec![0.0f32; g.c_out * g.c_in * n_taps];
    dw.par_chunks_mut(g.c_in * n_taps)
        .enumerate()
        .for_each(|(co, dw_co)| {
            let (block, lane) = (co / width, co % width);
            let sums = &sums[block * k * width + lane..];
            for t in 0..n_taps {
                for ci in 0..g.c_in {
                    dw_co[ci * n_taps + t] = sums[(t * g.c_in + ci) * width];
                }
            }
        });
    dw
}
