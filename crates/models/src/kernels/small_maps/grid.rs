//! One image's zero-padded grid, channels last, and the copies between it and the image.
//!
//! A copy into a grid is a transpose of each image row: `c_in` rows of `w` values (one per
//! channel) become `w` pixels of `c_in` values. Written one value at a time, every store
//! of a pixel row lands `channels` values from the last, a cache line apart, and the copies
//! took 5 of AttnGAN's 100 ms a step (1.1-1.3 ns a value, on 2 threads). Here each row is
//! one [`transpose`], by blocks of 8 channels × 8 pixels on AVX2; a copy only moves values,
//! so every path gives the same grid. Only the padding is zeroed, not the whole grid first.

use std::ops::Range;

use rayon::prelude::*;

use super::transpose::transpose;
use crate::kernels::conv::ConvGeometry;
use crate::kernels::direct::Isa;
use crate::kernels::scratch::Scratch;

/// One image's zero-padded grid, channels last: pixel `(y, x)` of the padded image at
/// `(y · pitch + x) · channels`, its channels in order, then zeros up to `channels`.
#[derive(Clone, Copy)]
pub(in crate::kernels) struct Grid {
    /// Padded row length `w + left + right`.
    pub pitch: usize,
    /// Values a pixel: the image's channels, or more (zeros past them).
    pub channels: usize,
    /// Values of one image's grid.
    pub len: usize,
}

impl Grid {
    /// The grid of `g`'s input images, `channels` values a pixel (at least `g.c_in`).
    pub fn of(g: &ConvGeometry, channels: usize) -> Self {
        debug_assert!(channels >= g.c_in);
        let [h, w] = g.input;
        let [top, left, bottom, right] = g.padding;
        let pitch = w + left + right;
        Self {
            pitch,
            channels,
            len: (h + top + bottom) * pitch * channels,
        }
    }

    /// Copies one image `[c_in, h, w]` into `grid`, zeros around it and past its channels.
    pub fn fill(&self, image: &[f32], g: &ConvGeometry, grid: &mut [f32]) {
        self.fill_on(Isa::detect(), image, g, grid);
    }

    /// The grids of every image of `x [B, c_in, h, w]`, one after another, filled in
    /// parallel.
    pub fn fill_batch(&self, x: &[f32], g: &ConvGeometry) -> Scratch {
        let mut grids = Scratch::take(g.batch * self.len);
        grids
            .values()
            .par_chunks_mut(self.len)
            .zip(x.par_chunks(g.c_in * g.input[0] * g.input[1]))
            .for_each(|(grid_b, x_b)| self.fill(x_b, g, grid_b));
        grids
    }

    /// [`Grid::fill`] on the path of `isa`.
    pub(super) fn fill_on(&self, isa: Isa, image: &[f32], g: &ConvGeometry, grid: &mut [f32]) {
        self.zero_padding(g, grid);
        let plane = g.input[0] * g.input[1];
        for (y, row) in self.rows(g) {
            let from = &image[y * g.input[1]..];
            transpose(
                isa,
                from,
                plane,
                [g.c_in, g.input[1]],
                &mut grid[row],
                self.channels,
            );
        }
    }

    /// Crops `grid` (channels last, padded) into one image `[c_in, h, w]`: the inverse
    /// of [`Grid::fill`].
    pub(super) fn crop(&self, grid: &[f32], g: &ConvGeometry, image: &mut [f32]) {
        self.crop_on(Isa::detect(), grid, g, image);
    }

    /// [`Grid::crop`] on the path of `isa`.
    pub(super) fn crop_on(&self, isa: Isa, grid: &[f32], g: &ConvGeometry, image: &mut [f32]) {
        let plane = g.input[0] * g.input[1];
        for (y, row) in self.rows(g) {
            let to = &mut image[y * g.input[1]..];
            transpose(
                isa,
                &grid[row],
                self.channels,
                [g.input[1], g.c_in],
                to,
                plane,
            );
        }
    }

    /// Zeros every value of `grid` that [`Grid::fill`] does not copy: the rows above and
    /// below the image, the pixels left and right of it, and every pixel's channels past
    /// `c_in` (then simply the whole grid: only the 3-channel images have them, small).
    fn zero_padding(&self, g: &ConvGeometry, grid: &mut [f32]) {
        if self.channels > g.c_in {
            grid.fill(0.0);
            return;
        }
        let [h, w] = g.input;
        let [top, left, _, right] = g.padding;
        let row = self.pitch * self.channels;
        grid[..top * row].fill(0.0);
        grid[(top + h) * row..].fill(0.0);
        for y in top..top + h {
            let row = &mut grid[y * row..][..row];
            row[..left * self.channels].fill(0.0);
            row[(left + w) * self.channels..].fill(0.0);
        }
        debug_assert_eq!(right, self.pitch - left - w);
    }

    /// Each image row `y` with the range of the grid's values from its first pixel to its
    /// last.
    fn rows(&self, g: &ConvGeometry) -> impl Iterator<Item = (usize, Range<usize>)> {
        let [h, w] = g.input;
        let [top, left, _, _] = g.padding;
        let (pitch, channels) = (self.pitch * self.channels, self.channels);
        (0..h).map(move |y| {
            let first = (y + top) * pitch + left * channels;
            (y, first..first + w * channels)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::direct::tests::paths;

    /// A padded grid by hand: two channels of a 2 × 3 image, one pixel of padding on top
    /// and left, two on the right, none below; then cropped back.
    #[test]
    fn fill_pads_with_zeros_and_crop_inverts_it() {
        let g = ConvGeometry {
            batch: 1,
            c_in: 2,
            input: [2, 3],
            c_out: 16,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [1, 1, 0, 2],
        };
        let image: Vec<f32> = (1..=12).map(|v| v as f32).collect();
        for isa in paths() {
            for channels in [2, 3] {
                let grid = Grid::of(&g, channels);
                let mut values = vec![f32::NAN; grid.len];
                grid.fill_on(isa, &image, &g, &mut values);
                let at = |y: usize, x: usize, c: usize| values[(y * grid.pitch + x) * channels + c];
                for y in 0..3 {
                    for x in 0..6 {
                        for c in 0..channels {
                            let inside = (1..3).contains(&y) && (1..4).contains(&x) && c < 2;
                            let want = if inside {
                                image[c * 6 + (y - 1) * 3 + (x - 1)]
                            } else {
                                0.0
                            };
                            assert_eq!(at(y, x, c), want, "{isa:?} {channels} ({y}, {x}, {c})");
                        }
                    }
                }
                let mut back = vec![0.0; image.len()];
                grid.crop_on(isa, &values, &g, &mut back);
                assert_eq!(back, image);
            }
        }
    }
}
