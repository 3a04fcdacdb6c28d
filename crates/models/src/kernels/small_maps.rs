//! Direct convolution of small maps, channels last and vectorized over channels: the
//! discriminators' 4 × 4, stride-2 layers and their heads' 3 × 3 joins, without unfolding.
//!
//! The discriminators read a 48 × 48 image down to 3 × 3 by 4 × 4, stride-2 convolutions,
//! and each conditional head joins the sentence to the map by a 3 × 3 layer on the 3 × 3
//! map. Unfolded (see [`super::conv`]) these are small, thin products, plus the unfolding
//! and its folding back: on 2 cores they ran at 90-165 GFLOP/s where the generator's direct
//! layers ([`super::direct`]) run at 300-400 (`bench-conv`). A map this small has too few
//! pixels to fill vectors along its rows, so here the vectors run along channels instead,
//! at 220-350 GFLOP/s on the same layers (100 on the 3-channel images). Every image is
//! copied once into a zero-padded grid, channels last (`grid[(y · Wp + x) · c + ci]`), and
//! every pass is a tile of `R × V` vectors of [`LANES`] chains which, at each step, loads
//! `V` vectors of weights (or of the output gradient) and broadcasts `R` values:
//!
//! ```text
//! forward      y[co, p]           = Σ_(tap, ci) w[co, ci, tap] · x[ci, s·p + tap]   R pixels × V·16 output channels
//! input grad   dx[ci, s·p + tap] += Σ_co w[co, ci, tap] · dy[co, p]                R pixels × V·16 input channels
//! weight grad  dw[co, ci, tap]    = Σ_(b, p) dy[b, co, p] · x[b, ci, s·p + tap]      R (tap, ci) pairs × V·16 output channels
//! ```
//!
//! (`s·p + tap` is the padded input pixel that tap `(ki, kj)` of output pixel `p` reads.)
//!
//! Each pass is taken where it measured faster than the unfolded one ([`takes_forward`],
//! [`takes_input_gradient`], [`takes_weight_gradient`]): every pass of the discriminators'
//! layers but the gradients of the 3-channel images.
//!
//! # Sums
//!
//! Each value is one chain of fused multiply-adds from zero, in an order fixed by the
//! geometry alone:
//!
//! - forward: over the taps (row-major), then the input channels; the padding's taps
//!   included (they add `w · 0`);
//! - input gradient: one chain over the output channels per (output pixel, tap) that
//!   reaches the input pixel, added to it in order of tiles of [`INPUT_GRADIENT_PIXELS`]
//!   output pixels, then taps, then pixels within the tile;
//! - weight gradient: over every image of the batch, then every output pixel, in order.
//!
//! Threads split output pixels (forward), images (input gradient) or (tap, channel) pairs
//! (weight gradient), never a chain; a chain stopped to keep its operands in cache and
//! taken up again keeps its sum in `f32`, exactly; and the instruction sets' tiles differ
//! only in how many chains they run at once. So the bits depend on none of these. They are
//! not the unfolded path's (gemm cuts its sums into other blocks): the two agree to
//! rounding.

use rayon::prelude::*;

use super::conv::ConvGeometry;
use super::direct::Isa;
use super::scratch::Scratch;
use lanes::{Lanes, Shape, Zmm, load_row, multiply_add, on_isa, store_row};
use transpose::transpose;

mod grid;
mod lanes;
mod transpose;
mod weight_gradient;
pub(super) use grid::Grid;
pub use weight_gradient::weight_gradient;
#[cfg(test)]
use weight_gradient::{WEIGHT_GRADIENT_ROWS, weight_gradient_on};

/// Channels per vector: the lanes of the chains.
pub(super) const LANES: usize = 16;

/// The largest map this path computes, in output pixels: the discriminators' 24 × 24 (from
/// the 48 × 48 image). The generator's larger maps take [`super::direct`].
const MAX_PIXELS: usize = 24 * 24;

/// Output pixels per tile of the input gradient, the same on every instruction set: the
/// order in which the tiles' chains reach an input pixel depends on it.
const INPUT_GRADIENT_PIXELS: usize = 6;

/// The fewest input channels for which this path takes the gradients: measured with
/// `bench-conv` on AttnGAN's quick preset (2 threads, AVX-512) against the unfolded path,
/// the first layers' 3-channel images lost both (their input gradient's vectors are 13/16
/// padding; their weight gradient has 48 (tap, channel) pairs to split between jobs);
/// every other pass of the discriminators' layers won.
const GRADIENT_MIN_CHANNELS: usize = LANES;

/// Whether this path can compute `g`: output maps of at most [`MAX_PIXELS`] pixels, with
/// at least a vector of output channels (the one-pixel heads, one channel out, stay
/// unfolded).
fn fits(g: &ConvGeometry) -> bool {
    let pixels = g.pixels();
    g.c_out >= LANES && g.c_in > 0 && g.batch > 0 && (1..=MAX_PIXELS).contains(&pixels)
}

/// Whether [`forward`] takes `g`: whenever it [`fits`].
pub fn takes_forward(g: &ConvGeometry) -> bool {
    fits(g)
}

/// Whether [`input_gradient`] takes `g`: it [`fits`], with at least
/// [`GRADIENT_MIN_CHANNELS`] input channels.
pub fn takes_input_gradient(g: &ConvGeometry) -> bool {
    fits(g) && g.c_in >= GRADIENT_MIN_CHANNELS
}

/// Whether [`weight_gradient`] takes `g`: as [`takes_input_gradient`].
pub fn takes_weight_gradient(g: &ConvGeometry) -> bool {
    takes_input_gradient(g)
}

/// Where the taps of every output pixel lie in a grid.
struct Taps {
    /// The grid offset of each output pixel's first tap (its window's top-left), in pixel
    /// order.
    windows: Vec<usize>,
    /// The grid offset of each tap from its window's top-left, row-major.
    offsets: Vec<usize>,
}

impl Taps {
    fn of(g: &ConvGeometry, grid: &Grid) -> Self {
        let [oh, ow] = g.output();
        let [kh, kw] = g.kernel;
        let [sy, sx] = g.stride;
        let at = |y: usize, x: usize| (y * grid.pitch + x) * grid.channels;
        Self {
            windows: (0..oh * ow).map(|p| at(p / ow * sy, p % ow * sx)).collect(),
            offsets: (0..kh * kw).map(|t| at(t / kw, t % kw)).collect(),
        }
    }

    /// The grid offset from the window of every link `(tap, ci)` of a chain over the taps
    /// and then `c_in` channels: the forward pass's steps, the weight gradient's pairs.
    fn links(&self, c_in: usize) -> Vec<usize> {
        self.offsets
            .iter()
            .flat_map(|&offset| offset..offset + c_in)
            .collect()
    }
}

/// The `R` rows of a tile from `first` on: `values[first..first + R]`, the last repeated
/// past the end (its chains are computed and dropped).
#[inline(always)]
fn tile<const R: usize>(values: &[usize], first: usize) -> [usize; R] {
    let last = values.len() - 1;
    std::array::from_fn(|r| values[(first + r).min(last)])
}

/// Every image of a batch in one buffer of grids, and the window of every output pixel of
/// every image in it: the rows of the forward pass's and the weight gradient's products.
struct Batch {
    grids: Scratch,
    /// The grid offset of each output pixel's window, image by image, in pixel order.
    windows: Vec<usize>,
}

impl Batch {
    /// The grids of `x [B, c_in, h, w]`, `grid`'s layout each, built in parallel.
    fn of(x: &[f32], g: &ConvGeometry, grid: &Grid, taps: &Taps) -> Self {
        let grids = grid.fill_batch(x, g);
        let windows = (0..g.batch)
            .flat_map(|b| taps.windows.iter().map(move |w| b * grid.len + w))
            .collect();
        Self { grids, windows }
    }
}

/// The rows of a product: output pixels, each the window at `windows[row]` in `grids`.
#[derive(Clone, Copy)]
struct Rows<'a> {
    grids: &'a [f32],
    windows: &'a [usize],
}

/// Rows of the forward pass's jobs: each job computes these output pixels (of any images)
/// for every output channel. A multiple of every tile's rows (4, 6 and 8).
const FORWARD_JOB_ROWS: usize = 48;

/// The weights of the links each tile of a forward job runs before the next tile's turn
/// (24 KiB): they stay in the L1 cache while every tile of the job reads them. The chains
/// go on from where they stopped (the sums kept in `f32`, exactly), so this changes no
/// value.
const FORWARD_WEIGHT_VALUES: usize = 6 * 1024;

/// One forward job: the sums `out [rows, blocks · V · LANES]`, channels last, of `rows`
/// windows, from the batch's grids and the weights packed `[block][link][V · LANES]`
/// (`steps[link]` is the link's grid offset from the window).
#[inline(always)]
fn forward_rows<T: Lanes, const R: usize, const V: usize>(
    rows: Rows,
    steps: &[usize],
    packed: &[f32],
    out: &mut [f32],
) {
    let Rows { grids, windows } = rows;
    let width = V * LANES;
    let (rows, depth) = (windows.len(), steps.len());
    let channels = out.len() / rows;
    let links = (FORWARD_WEIGHT_VALUES / width).max(1);
    for (block, weights) in packed.chunks_exact(depth * width).enumerate() {
        for start in (0..depth).step_by(links) {
            let end = (start + links).min(depth);
            for first in (0..rows).step_by(R) {
                let at: [usize; R] = tile(windows, first);
                let at_row = |r: usize| (first + r) * channels + block * width;
                let mut acc = [[T::zero(); V]; R];
                if start > 0 {
                    for (r, acc_r) in acc.iter_mut().enumerate().take(rows - first) {
                        *acc_r = load_row(&out[at_row(r)..]);
                    }
                }
                for (&step, vectors) in steps[start..end]
                    .iter()
                    .zip(weights[start * width..end * width].chunks_exact(width))
                {
                    acc = multiply_add(acc, &grids[step..], &at, vectors);
                }
                for (r, acc_r) in acc.iter().enumerate().take(rows - first) {
                    store_row(acc_r, &mut out[at_row(r)..]);
                }
            }
        }
    }
}

/// One image's input gradient, added into its grid `dx` (`blocks · V · LANES` channels a
/// pixel, zeroed by the caller) from `dy [c_out, P]` and the weights packed
/// `[block][tap][co][V · LANES]`, blocks of `V · LANES` input channels.
#[inline(always)]
fn input_gradient_image<T: Lanes, const V: usize>(
    dy: &[f32],
    taps: &Taps,
    packed: &[f32],
    dx: &mut [f32],
) {
    const R: usize = INPUT_GRADIENT_PIXELS;
    let pixels = taps.windows.len();
    let c_out = dy.len() / pixels;
    let width = V * LANES;
    let per_block = taps.offsets.len() * c_out * width;
    for first in (0..pixels).step_by(R) {
        let windows: [usize; R] = tile(&taps.windows, first);
        let columns: [usize; R] = std::array::from_fn(|r| (first + r).min(pixels - 1));
        for (block, weights) in packed.chunks_exact(per_block).enumerate() {
            for (&offset, weights) in taps.offsets.iter().zip(weights.chunks_exact(c_out * width)) {
                let mut acc = [[T::zero(); V]; R];
                for (co, vectors) in weights.chunks_exact(width).enumerate() {
                    acc = multiply_add(acc, &dy[co * pixels..][..pixels], &columns, vectors);
                }
                for (acc_r, &window) in acc.iter().zip(&windows).take(pixels - first) {
                    let at = &mut dx[window + offset + block * width..][..width];
                    for (sums, lanes) in at.chunks_exact_mut(LANES).zip(acc_r) {
                        for (sum, value) in sums.iter_mut().zip(lanes.to_array()) {
                            *sum += value;
                        }
                    }
                }
            }
        }
    }
}

on_isa! {
    /// The forward job of [`forward_rows`] in tiles of `shape`.
    fn forward_job<T>(shape: Shape, rows: Rows, steps: &[usize], packed: &[f32], out: &mut [f32]) {
        match (shape.rows, shape.vectors) {
            (4, 4) => forward_rows::<T, 4, 4>(rows, steps, packed, out),
            (6, 2) => forward_rows::<T, 6, 2>(rows, steps, packed, out),
            (8, 1) => forward_rows::<T, 8, 1>(rows, steps, packed, out),
            _ => forward_rows::<T, 6, 1>(rows, steps, packed, out),
        }
    }
}

on_isa! {
    /// One image's input gradient ([`input_gradient_image`]) in tiles of `shape`.
    fn input_gradient_job<T>(shape: Shape, dy: &[f32], taps: &Taps, packed: &[f32], dx: &mut [f32]) {
        match shape.vectors {
            4 => input_gradient_image::<T, 4>(dy, taps, packed, dx),
            2 => input_gradient_image::<T, 2>(dy, taps, packed, dx),
            _ => input_gradient_image::<T, 1>(dy, taps, packed, dx),
        }
    }
}

/// `weight [c_out, c_in, kh, kw]` as `[block][tap][depth][width]`: the chains' channels
/// (`c_out` forward, `c_in` for the input gradient) in blocks of `width`, zeros past them,
/// each tap's rows over the other channels (`depth`).
fn pack_weights(weight: &[f32], g: &ConvGeometry, forward: bool, width: usize) -> Vec<f32> {
    let (lanes, depth) = if forward {
        (g.c_out, g.c_in)
    } else {
        (g.c_in, g.c_out)
    };
    let taps = g.kernel[0] * g.kernel[1];
    let blocks = lanes.div_ceil(width);
    let mut packed = vec![0.0f32; blocks * taps * depth * width];
    // A block's tap rows for one of the other channels at a time, gathered in a local tile
    // by a transpose (the block's kernels, `taps` values each, become `taps` rows of its
    // lanes) and written out whole: written lane by lane, each row a multiple of 4 KiB from
    // the next, the 16 taps' rows fought over the same ways of the L1 cache.
    let isa = Isa::detect();
    packed
        .par_chunks_mut(taps * depth * width)
        .enumerate()
        .for_each(|(block, packed)| {
            let mut tile = vec![0.0f32; taps * width];
            let lanes_here = width.min(lanes - block * width);
            for d in 0..depth {
                // The block's first kernel, and the step from one lane's kernel to the next.
                let (first, step) = if forward {
                    ((block * width * g.c_in + d) * taps, g.c_in * taps)
                } else {
                    ((d * g.c_in + block * width) * taps, taps)
                };
                transpose(
                    isa,
                    &weight[first..],
                    step,
                    [lanes_here, taps],
                    &mut tile,
                    width,
                );
                for (t, row) in tile.chunks_exact(width).enumerate() {
                    packed[(t * depth + d) * width..][..width].copy_from_slice(row);
                }
            }
        });
    packed
}

/// `y [B, c_out, oh, ow]` of `x [B, c_in, h, w]` and `weight [c_out, c_in, kh, kw]` (no
/// bias); the geometry must be one that this path [`fits`].
pub fn forward(x: &[f32], weight: &[f32], g: &ConvGeometry) -> Vec<f32> {
    forward_on(Isa::detect(), x, weight, g)
}

fn forward_on(isa: Isa, x: &[f32], weight: &[f32], g: &ConvGeometry) -> Vec<f32> {
    debug_assert!(fits(g), "small_maps::forward: unsupported geometry {g:?}");
    let shape = Shape::of(isa, g.c_out, None);
    let width = shape.vectors * LANES;
    let channels = g.c_out.div_ceil(width) * width;
    let packed = pack_weights(weight, g, true, width);
    let grid = Grid::of(g, g.c_in);
    let taps = Taps::of(g, &grid);
    let batch = Batch::of(x, g, &grid, &taps);
    let steps = taps.links(g.c_in);
    // The sums channels last, `[B · P, channels]`, then turned into `[B, c_out, P]`.
    let mut sums = Scratch::take(batch.windows.len() * channels);
    let sums = sums.values();
    let grids: &[f32] = batch.grids.values_ref();
    sums.par_chunks_mut(FORWARD_JOB_ROWS * channels)
        .zip(batch.windows.par_chunks(FORWARD_JOB_ROWS))
        .for_each(|(out, windows)| {
            let rows = Rows { grids, windows };
            forward_job(isa, shape, rows, &steps, &packed, out)
        });
    let pixels = g.pixels();
    let mut y = vec![0.0f32; g.batch * g.c_out * pixels];
    y.par_chunks_mut(g.c_out * pixels)
        .zip(sums.par_chunks(pixels * channels))
        .for_each(|(y_b, sums_b)| {
            for (co, y_c) in y_b.chunks_exact_mut(pixels).enumerate() {
                for (value, sums_p) in y_c.iter_mut().zip(sums_b.chunks_exact(channels)) {
                    *value = sums_p[co];
                }
            }
        });
    y
}

/// `dx [B, c_in, h, w]` of [`forward`] from the output gradient `dy` `[B, c_out, oh, ow]`;
/// the geometry must be one that this path [`fits`].
pub fn input_gradient(weight: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    input_gradient_on(Isa::detect(), weight, dy, g)
}

fn input_gradient_on(isa: Isa, weight: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    debug_assert!(
        fits(g),
        "small_maps::input_gradient: unsupported geometry {g:?}"
    );
    let shape = Shape::of(isa, g.c_in, Some(INPUT_GRADIENT_PIXELS));
    let width = shape.vectors * LANES;
    let packed = pack_weights(weight, g, false, width);
    let grid = Grid::of(g, g.c_in.div_ceil(width) * width);
    let taps = Taps::of(g, &grid);
    let image = g.c_in * g.input[0] * g.input[1];
    let mut dx = vec![0.0f32; g.batch * image];
    dx.par_chunks_mut(image)
        .zip(dy.par_chunks(g.c_out * g.pixels()))
        .for_each(|(dx_b, dy_b)| {
            let mut padded = Scratch::take(grid.len);
            let padded = padded.values();
            padded.fill(0.0);
            input_gradient_job(isa, shape, dy_b, &taps, &packed, padded);
            grid.crop(padded, g, dx_b);
        });
    dx
}

#[cfg(test)]
mod tests;
