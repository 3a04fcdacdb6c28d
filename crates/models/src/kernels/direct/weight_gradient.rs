//! The direct 3 × 3, stride-1 convolution's weight gradient, without unfolding.
//!
//! `dw[co, ci, ki, kj] = Σ_b Σ_p dy[b, co, p] · x[b, ci, p + (ki, kj)]`: a sum over every
//! output pixel of the batch. The unfolded path writes each image unfolded (`9 · c_in` rows
//! of its pixels) and hands gemm `dy · colsᵀ`; on AttnGAN's generator that took about a
//! sixth of the training step, most of it writing and packing the unfolded rows, and the
//! 3-channel output layers used 3 of gemm's 16 rows. Here each image is copied once,
//! channels last, into a zero-padded grid, so that [`LANES`] input channels of one pixel
//! are one vector; a tile of chains (those channels × the 3 taps of one kernel row × `R`
//! output channels) walks the pixels, each step 3 vector loads, `R` broadcasts of `dy` and
//! `3 R` fused multiply-adds.
//!
//! # The unfolded path's bits
//!
//! The sums run over thousands of terms, which gemm cuts into blocks of a length it takes
//! from the L1 cache ([`inner_block`]): each block one chain of fused multiply-adds from
//! zero, in column order (image, output row, output column), the blocks' chains added to
//! the value in order. The unfolded path groups images as [`ConvGeometry::group`] does
//! and adds the groups' products from zero in order. This path groups the images the same
//! way, asks gemm's rule for each group's block length, and runs the same chains (the
//! padding's taps included: they add `dy · 0`), so it gives the unfolded path's bits;
//! where gemm would not sum that way ([`inner_block`] is `None`) the unfolded path keeps
//! the convolution. Threads split groups and tiles, never a chain.

use std::ops::Range;

use rayon::prelude::*;

use super::{Isa, LANES, fits, groups};
use crate::kernels::conv::ConvGeometry;
use crate::kernels::product::inner_block;
use crate::kernels::small_maps::Grid;

/// Whether [`weight_gradient`] takes this convolution on this machine: one that
/// [`fits`] the direct layers, on a machine with a vector path, where every group's
/// product is summed in gemm's FMA blocks.
pub fn takes_weight_gradient(g: &ConvGeometry) -> bool {
    fits(g)
        && Isa::detect() != Isa::Portable
        && groups(g)
            .iter()
            .all(|images| block(g, images.len()).is_some())
}

/// The block length of the unfolded path's product for a group of `images`: `dy [c_out,
/// G · P] · colsᵀ [G · P, 9 · c_in]`.
fn block(g: &ConvGeometry, images: usize) -> Option<usize> {
    inner_block([g.c_out, images * g.pixels(), g.patch()])
}

/// What one job computes: the chains of output channels `first_row..` and input channels
/// `lanes · LANES..`, one tile per kernel row, over one group's images.
struct Tile<'a> {
    /// The group's grids, one after another.
    grids: &'a [f32],
    grid: Grid,
    /// The group's output gradient `[G, c_out, oh, ow]`.
    dy: &'a [f32],
    /// Its first output channel; rows past the last output channel repeat it and are
    /// dropped.
    first_row: usize,
    c_out: usize,
    lanes: usize,
    /// Output width and pixels per image.
    width: usize,
    pixels: usize,
    /// The columns `G · P` and the block length gemm sums them in.
    columns: usize,
    block: usize,
}

/// Kernel row `ki`'s sums `[r][kj][lane]`: per block of columns one chain from zero, each
/// block's chain added to the sum in order (the first written as it is).
#[inline(always)]
fn tile_sums<const R: usize>(tile: &Tile, ki: usize) -> [[[f32; LANES]; 3]; R] {
    let Tile {
        grid,
        width,
        pixels,
        ..
    } = *tile;
    let rows: [usize; R] = std::array::from_fn(|r| (tile.first_row + r).min(tile.c_out - 1));
    let mut sums = [[[0.0f32; LANES]; 3]; R];
    let mut start = 0;
    while start < tile.columns {
        let end = (start + tile.block).min(tile.columns);
        let mut acc = [[[0.0f32; LANES]; 3]; R];
        let mut column = start;
        while column < end {
            // A run along one output row: columns `column..column + run`.
            let (image, p) = (column / pixels, column % pixels);
            let (oy, ox) = (p / width, p % width);
            let run = (width - ox).min(end - column);
            let dy_rows: [&[f32]; R] =
                rows.map(|co| &tile.dy[(image * tile.c_out + co) * pixels + p..][..run]);
            let first = image * grid.len
                + ((oy + ki) * grid.pitch + ox) * grid.channels
                + tile.lanes * LANES;
            // The run's pixels and the two past it, which its last taps reach.
            let grid_run = &tile.grids[first..first + (run + 1) * grid.channels + LANES];
            acc = run_chains(acc, grid_run, grid.channels, dy_rows);
            column += run;
        }
        if start == 0 {
            sums = acc;
        } else {
            add_block(&mut sums, &acc);
        }
        start = end;
    }
    sums
}

/// `sums += block`, value by value: a later block's chains added to the sums.
#[inline(always)]
fn add_block<const R: usize>(sums: &mut [[[f32; LANES]; 3]; R], block: &[[[f32; LANES]; 3]; R]) {
    for (sums_r, block_r) in sums.iter_mut().zip(block) {
        for (sums_tap, block_tap) in sums_r.iter_mut().zip(block_r) {
            for (sum, part) in sums_tap.iter_mut().zip(block_tap) {
                *sum += part;
            }
        }
    }
}

/// One run of pixels along an output row, added to every chain of the tile: `grid_run`
/// from the run's first pixel (`channels` values a pixel), `dy_rows` its output gradients.
/// The accumulators come in and go out by value so that they stay in registers.
#[inline(always)]
fn run_chains<const R: usize>(
    mut acc: [[[f32; LANES]; 3]; R],
    grid_run: &[f32],
    channels: usize,
    dy_rows: [&[f32]; R],
) -> [[[f32; LANES]; 3]; R] {
    let pixel = |j: usize| -> [f32; LANES] {
        grid_run[j * channels..][..LANES]
            .try_into()
            .expect("a whole vector")
    };
    // The three taps of the kernel row at pixel j are pixels j, j + 1 and j + 2: each
    // step loads one and keeps the two before it.
    let mut xs = [pixel(0), pixel(1), [0.0; LANES]];
    for j in 0..dy_rows[0].len() {
        xs[2] = pixel(j + 2);
        let ds: [f32; R] = dy_rows.map(|row| row[j]);
        multiply_add(&mut acc, &xs, &ds);
        xs = [xs[1], xs[2], xs[2]];
    }
    acc
}

/// `acc[r][kj][lane] = fma(xs[kj][lane], ds[r], acc[r][kj][lane])`: one link of every
/// chain of the tile.
#[inline(always)]
fn multiply_add<const R: usize>(
    acc: &mut [[[f32; LANES]; 3]; R],
    xs: &[[f32; LANES]; 3],
    ds: &[f32; R],
) {
    for (acc_r, &d) in acc.iter_mut().zip(ds) {
        for (acc_tap, xs_tap) in acc_r.iter_mut().zip(xs) {
            for (a, &x) in acc_tap.iter_mut().zip(xs_tap) {
                *a = x.mul_add(d, *a);
            }
        }
    }
}

/// Every kernel row's tile for output channels `first_row..first_row + R` and one vector
/// of input channels, into `out [R][ki][kj][lane]`.
#[inline(always)]
fn tiles<const R: usize>(tile: &Tile, out: &mut [f32]) {
    for ki in 0..3 {
        let sums = tile_sums::<R>(tile, ki);
        for (r, per_kj) in sums.iter().enumerate() {
            for (kj, lanes) in per_kj.iter().enumerate() {
                out[((r * 3 + ki) * 3 + kj) * LANES..][..LANES].copy_from_slice(lanes);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn tiles_avx512(tile: &Tile, out: &mut [f32]) {
    tiles::<4>(tile, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn tiles_avx2(tile: &Tile, out: &mut [f32]) {
    tiles::<2>(tile, out)
}

/// Output channels per tile on each path: as many chains as its registers hold (`3 R`
/// vectors of [`LANES`]). They do not change the bits.
fn rows(isa: Isa) -> usize {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => 4,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => 2,
        Isa::Portable => 2,
    }
}

fn tiles_on(isa: Isa, tile: &Tile, out: &mut [f32]) {
    match isa {
        // SAFETY: `Isa::detect` found the features these paths are compiled for (tests
        // only ask for paths the machine has).
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { tiles_avx512(tile, out) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { tiles_avx2(tile, out) },
        Isa::Portable => tiles::<2>(tile, out),
    }
}

/// `dw [c_out, c_in, 3, 3]` of the convolution of `x [B, c_in, h, w]` from its output
/// gradient `dy [B, c_out, oh, ow]`; the geometry must be one that
/// [`takes_weight_gradient`] accepts.
pub fn weight_gradient(x: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    weight_gradient_on(Isa::detect(), x, dy, g)
}

fn weight_gradient_on(isa: Isa, x: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    debug_assert!(
        fits(g),
        "direct::weight_gradient: unsupported geometry {g:?}"
    );
    let (pixels, width) = (g.pixels(), g.output()[1]);
    // Input channels rounded up to whole vectors: a tile loads `LANES` of them.
    let grid = Grid::of(g, g.c_in.div_ceil(LANES) * LANES);
    let grids = grid.fill_batch(x, g);
    let grids: &[f32] = grids.values_ref();

    let per_tile = rows(isa);
    let (row_blocks, lane_blocks) = (g.c_out.div_ceil(per_tile), grid.channels / LANES);
    let tile_len = per_tile * 9 * LANES;
    // Jobs in group order, each group's tiles together (they read the same grids), with
    // the group's block length.
    let jobs: Vec<(Range<usize>, usize, usize, usize)> = groups(g)
        .into_iter()
        .flat_map(|images| {
            let block = block(g, images.len()).expect("takes_weight_gradient checked the blocks");
            (0..row_blocks)
                .flat_map(move |rb| (0..lane_blocks).map(move |lb| (rb, lb)))
                .map(move |(rb, lb)| (images.clone(), block, rb, lb))
        })
        .collect();
    let mut sums = vec![0.0f32; jobs.len() * tile_len];
    sums.par_chunks_mut(tile_len)
        .zip(&jobs)
        .for_each(|(out, &(ref images, block, rb, lb))| {
            let tile = Tile {
                grids: &grids[images.start * grid.len..images.end * grid.len],
                grid,
                dy: &dy[images.start * g.c_out * pixels..images.end * g.c_out * pixels],
                first_row: rb * per_tile,
                c_out: g.c_out,
                lanes: lb,
                width,
                pixels,
                columns: images.len() * pixels,
                block,
            };
            tiles_on(isa, &tile, out);
        });

    // Each group's product as the unfolded path lays it out, the groups added from zero
    // in order; the output channels' rows in parallel.
    let mut dw = vec![0.0f32; g.c_out * g.c_in * 9];
    let per_group = row_blocks * lane_blocks * tile_len;
    dw.par_chunks_mut(g.c_in * 9)
        .enumerate()
        .for_each(|(co, dw_co)| {
            let (rb, r) = (co / per_tile, co % per_tile);
            for group in sums.chunks_exact(per_group) {
                for lb in 0..lane_blocks {
                    let tile = &group[(rb * lane_blocks + lb) * tile_len..][..tile_len];
                    for lane in 0..LANES.min(g.c_in - lb * LANES) {
                        let ci = lb * LANES + lane;
                        for tap in 0..9 {
                            dw_co[ci * 9 + tap] += tile[(r * 9 + tap) * LANES + lane];
                        }
                    }
                }
            }
        });
    dw
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv::unfolded_backward;
    use crate::kernels::direct::tests::{bits, geometry, paths, values};
    use crate::kernels::scratch::fill_spares;
    use crate::kernels::test_support::on_threads;

    /// Shapes whose sums gemm cuts in different ways: one 48-pixel image per group (2,304
    /// terms, several L1-sized blocks), 24-pixel images (576), four 12-pixel images a group
    /// and a last group of one; channel counts that are not whole vectors or tiles;
    /// asymmetric and no padding.
    fn shapes() -> Vec<ConvGeometry> {
        vec![
            geometry(2, 16, 3, [48, 48], [1, 1, 1, 1]),
            geometry(3, 32, 5, [24, 24], [1, 1, 1, 1]),
            geometry(5, 16, 32, [12, 12], [1, 1, 1, 1]),
            geometry(2, 7, 6, [14, 20], [0, 1, 2, 1]),
            geometry(3, 20, 9, [13, 14], [0, 0, 0, 0]),
        ]
    }

    /// Where gemm sums in its FMA blocks, every path gives the unfolded path's bits; where
    /// it does not, the direct path is not taken.
    #[test]
    fn every_path_gives_the_unfolded_paths_bits() {
        for (i, g) in shapes().into_iter().enumerate() {
            let x = values(g.batch * g.c_in * g.input[0] * g.input[1], 40 + i as u64);
            let w = values(g.c_out * g.c_in * 9, 50 + i as u64);
            let dy = values(g.batch * g.c_out * g.pixels(), 60 + i as u64);
            let gemm_blocks = groups(&g)
                .iter()
                .all(|images| block(&g, images.len()).is_some());
            assert!(fits(&g), "{g:?}");
            assert_eq!(
                takes_weight_gradient(&g),
                gemm_blocks && Isa::detect() != Isa::Portable,
                "{g:?}"
            );
            if !gemm_blocks {
                continue;
            }
            let (_, unfolded) = unfolded_backward(&x, &w, &dy, &g, [false, true]);
            for isa in paths() {
                assert_eq!(
                    bits(&weight_gradient_on(isa, &x, &dy, &g)),
                    bits(&unfolded),
                    "{isa:?} {g:?}"
                );
            }
        }
    }

    /// The direct path takes the generator's 3 × 3 layers on this kind of machine, and
    /// those sums are long enough for gemm to cut (so the blocks above are exercised).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_generators_layers_are_taken_and_their_sums_cut() {
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma"))
        {
            return;
        }
        let g = geometry(16, 16, 32, [48, 48], [1, 1, 1, 1]);
        assert!(takes_weight_gradient(&g));
        let block = block(&g, 1).expect("gemm's FMA blocks");
        assert!(block >= 512 && block < g.pixels(), "{block}");
    }

    #[test]
    fn the_thread_count_does_not_change_the_bits() {
        let g = geometry(9, 16, 6, [12, 12], [1, 1, 1, 1]);
        let x = values(g.batch * g.c_in * 144, 11);
        let dy = values(g.batch * g.c_out * 144, 12);
        let run = |threads: usize| {
            on_threads(threads, || {
                bits(&weight_gradient_on(Isa::detect(), &x, &dy, &g))
            })
        };
        assert_eq!(run(1), run(3));
    }

    /// The reused grids' padding is written before it is read.
    #[test]
    fn leftover_values_in_reused_buffers_are_never_read() {
        let g = geometry(2, 5, 7, [12, 13], [1, 0, 1, 2]);
        let x = values(g.batch * g.c_in * 12 * 13, 13);
        let dy = values(g.batch * g.c_out * g.pixels(), 14);
        on_threads(1, || {
            let clean = bits(&weight_gradient_on(Isa::Portable, &x, &dy, &g));
            fill_spares(f32::NAN, 1 << 16);
            assert_eq!(bits(&weight_gradient_on(Isa::Portable, &x, &dy, &g)), clean);
        });
    }
}
