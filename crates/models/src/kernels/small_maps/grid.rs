//! One image's zero-padded grid, channels last, and the copies between it and the image.
//!
//! A copy into a grid is a transpose of each image row: `c_in` rows of `w` values (one per
//! channel) become `w` pixels of `c_in` values. Written one value at a time, every store
//! of a pixel row lands `channels` values from the last, a cache line apart, and the copies
//! took 5 of AttnGAN's 100 ms a step (1.1-1.3 ns a value, on 2 threads). Here the AVX2 path
//! moves blocks of 8 channels × 8 pixels: eight loads along the channels' rows, the
//! classic eight-register transpose (unpack, shuffle, swap of 128-bit halves), eight
//! stores along the pixels. The values left over past the last whole block, and machines
//! without AVX2, go one at a time. A copy only moves values, so every path gives the same
//! grid; only the padding is zeroed, not the whole grid first.

use std::ops::Range;

use crate::kernels::conv::ConvGeometry;
use crate::kernels::direct::Isa;

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

/// Side of the blocks the AVX2 path transposes.
const BLOCK: usize = 8;

/// `to[c · to_stride + r] = from[r · from_stride + c]` for `r < rows`, `c < columns`.
///
/// # Panics
/// If either slice is too short for the last value.
fn transpose(
    isa: Isa,
    from: &[f32],
    from_stride: usize,
    [rows, columns]: [usize; 2],
    to: &mut [f32],
    to_stride: usize,
) {
    if rows == 0 || columns == 0 {
        return;
    }
    assert!(
        (rows - 1) * from_stride + columns <= from.len()
            && (columns - 1) * to_stride + rows <= to.len(),
        "transpose: {rows} × {columns} values do not fit the slices"
    );
    let (whole_rows, whole_columns) = (rows - rows % BLOCK, columns - columns % BLOCK);
    let blocked = match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 | Isa::Avx2 => {
            // SAFETY: AVX2 was detected (every `Isa` but `Portable`); every block's last
            // value read is at most `(rows - 1) · from_stride + columns - 1` and its last
            // written at most `(columns - 1) · to_stride + rows - 1`, both in the slices
            // (asserted above).
            unsafe {
                transpose_blocks_avx2(
                    from.as_ptr(),
                    from_stride,
                    [whole_rows, whole_columns],
                    to.as_mut_ptr(),
                    to_stride,
                )
            };
            [whole_rows, whole_columns]
        }
        Isa::Portable => [0, 0],
    };
    // What the blocks left: the rows past the last whole block, then the columns past it.
    let one_at_a_time = |to: &mut [f32], rows: Range<usize>, columns: Range<usize>| {
        for r in rows {
            for c in columns.clone() {
                to[c * to_stride + r] = from[r * from_stride + c];
            }
        }
    };
    one_at_a_time(to, blocked[0]..rows, 0..columns);
    one_at_a_time(to, 0..blocked[0], blocked[1]..columns);
}

/// The whole 8 × 8 blocks of [`transpose`], `[rows, columns]` multiples of 8.
///
/// # Safety
/// The CPU has AVX2; `from` and `to` hold every value of the blocks at those strides.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_blocks_avx2(
    from: *const f32,
    from_stride: usize,
    [rows, columns]: [usize; 2],
    to: *mut f32,
    to_stride: usize,
) {
    for r in (0..rows).step_by(BLOCK) {
        for c in (0..columns).step_by(BLOCK) {
            // SAFETY: the caller's.
            unsafe {
                transpose_block_avx2(
                    from.add(r * from_stride + c),
                    from_stride,
                    to.add(c * to_stride + r),
                    to_stride,
                )
            }
        }
    }
}

/// One 8 × 8 block: `to[c · to_stride + r] = from[r · from_stride + c]` for `r, c < 8`.
///
/// # Safety
/// The CPU has AVX2; `from` and `to` hold the block's 64 values at those strides.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn transpose_block_avx2(
    from: *const f32,
    from_stride: usize,
    to: *mut f32,
    to_stride: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's.
    unsafe {
        let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(from.add(i * from_stride)));
        // Pairs of rows interleaved: t[2k] holds columns 0, 1 | 4, 5 of rows 2k, 2k + 1,
        // t[2k + 1] columns 2, 3 | 6, 7.
        let t: [__m256; 8] = std::array::from_fn(|i| {
            let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
            if i % 2 == 0 {
                _mm256_unpacklo_ps(a, b)
            } else {
                _mm256_unpackhi_ps(a, b)
            }
        });
        // Quads of rows: u[4h + j] holds column j | j + 4 of rows 4h..4h + 4.
        let u: [__m256; 8] = std::array::from_fn(|i| {
            let (h, j) = (i / 4, i % 4);
            let (a, b) = (t[4 * h + j / 2], t[4 * h + j / 2 + 2]);
            if j % 2 == 0 {
                _mm256_shuffle_ps::<0x44>(a, b)
            } else {
                _mm256_shuffle_ps::<0xEE>(a, b)
            }
        });
        // Columns: the low halves of rows 0-3 and 4-7 give columns 0-3, the high ones 4-7.
        for j in 0..4 {
            let low = _mm256_permute2f128_ps::<0x20>(u[j], u[4 + j]);
            let high = _mm256_permute2f128_ps::<0x31>(u[j], u[4 + j]);
            _mm256_storeu_ps(to.add(j * to_stride), low);
            _mm256_storeu_ps(to.add((j + 4) * to_stride), high);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instruction sets this machine runs: the portable path and the widest.
    fn paths() -> Vec<Isa> {
        let mut paths = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            paths.push(Isa::Avx2);
        }
        paths
    }

    /// Every value where the definition puts it, on every path, for shapes with and without
    /// whole blocks, and nothing else written.
    #[test]
    fn transpose_moves_every_value_to_its_place() {
        for isa in paths() {
            for [rows, columns] in [
                [1, 1],
                [3, 48],
                [8, 8],
                [16, 24],
                [13, 19],
                [64, 3],
                [9, 17],
            ] {
                let (from_stride, to_stride) = (columns + 5, rows + 3);
                let from: Vec<f32> = (0..rows * from_stride).map(|i| i as f32).collect();
                let mut to = vec![-1.0; columns * to_stride];
                transpose(isa, &from, from_stride, [rows, columns], &mut to, to_stride);
                for c in 0..columns {
                    for r in 0..to_stride {
                        let want = if r < rows {
                            (r * from_stride + c) as f32
                        } else {
                            -1.0
                        };
                        assert_eq!(
                            to[c * to_stride + r],
                            want,
                            "{isa:?} {rows}×{columns} ({r}, {c})"
                        );
                    }
                }
            }
        }
    }

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
