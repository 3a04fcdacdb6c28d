//! The unfolding of a convolution's input (im2col) and its folding back (col2im).
//!
//! Row `r = (ci · kh + ki) · kw + kj` of the unfolded matrix `[K, B · P]` holds, for every
//! output pixel of every image, the input value its window reads at channel `ci` and
//! offset `(ki, kj)`, or zero where the window reads padding. On maps of many output pixels
//! each row is copied a window row at a time. On the discriminators' small maps (12 × 12
//! down to 3 × 3, and the heads' single pixel) those runs are one to twelve values long,
//! and walking them cost as much as the products: there each row keeps a list of the input
//! offsets its pixels read ([`SMALL_MAP`]). Where one window covers the whole unpadded
//! input (the heads), an image's column is the image itself, in order, and unfolding is a
//! transpose. Every way writes the same values, and folds them back in the same order, so
//! the products' bits do not depend on which one ran.

use rayon::prelude::*;

use super::ConvGeometry;

/// Output maps of at most this many pixels are unfolded through each row's list of input
/// offsets rather than a window row at a time. Measured on the discriminators' layers at
/// batch 32: the lists were faster on every map up to 12 × 12 (the 4 × 4, stride-2 layer
/// into 12 × 12 went from 0.67 to 0.57 ms forward) and slower on 24 × 24.
const SMALL_MAP: usize = 256;

/// Where a row's pixel reads padding, in the list of input offsets.
const PADDING: u32 = u32::MAX;

/// How to unfold and fold one convolution's images: each row's reach, worked out once per
/// call rather than once per row and image, and on small maps each row's input offsets.
pub(super) struct Unfolding {
    reaches: Vec<RowReach>,
    /// `[K, P]`: the offset within its input channel of the value each row reads for each
    /// output pixel, or [`PADDING`]; empty on larger maps.
    offsets: Vec<u32>,
    /// Whether one window covers the whole unpadded input (the discriminators' one-pixel
    /// heads): then there are neither reaches nor offsets to work out, which had been most
    /// of those layers' time, and unfolding is a transpose.
    whole_images: bool,
}

impl Unfolding {
    pub(super) fn of(g: &ConvGeometry) -> Self {
        if g.padding == [0; 4] && g.kernel == g.input {
            return Self {
                reaches: Vec::new(),
                offsets: Vec::new(),
                whole_images: true,
            };
        }
        let reaches = RowReach::all(g);
        let pixels = g.pixels();
        let offsets = if pixels <= SMALL_MAP {
            let mut offsets = vec![PADDING; reaches.len() * pixels];
            for (row, reach) in offsets.chunks_exact_mut(pixels).zip(&reaches) {
                for (start, len, first) in reach.runs(g) {
                    for (i, offset) in row[start..start + len].iter_mut().enumerate() {
                        *offset = (first + i * g.stride[1]) as u32;
                    }
                }
            }
            offsets
        } else {
            Vec::new()
        };
        Self {
            reaches,
            offsets,
            whole_images: false,
        }
    }

    /// Unfolds the batch `x` `[B, c_in, h, w]` into `cols` `[K, B · P]`: row `(ci · kh +
    /// ki) · kw + kj`, column `b · P + oy · ow + ox`, zeros where the window reads padding.
    /// Every value of `cols` is written, whatever it held before. `g` may be the
    /// convolution of [`Unfolding::of`] on another batch size.
    pub(super) fn im2col(&self, x: &[f32], g: &ConvGeometry, cols: &mut [f32]) {
        if self.whole_images {
            // Column `b` is image `b`.
            for (b, image) in x.chunks_exact(g.patch()).enumerate() {
                for (k, &value) in image.iter().enumerate() {
                    cols[k * g.batch + b] = value;
                }
            }
            return;
        }
        if self.offsets.is_empty() {
            return im2col_runs(x, g, &self.reaches, cols);
        }
        let ([h, w], pixels) = (g.input, g.pixels());
        cols.par_chunks_exact_mut(g.batch * pixels)
            .zip(self.offsets.par_chunks_exact(pixels))
            .zip(&self.reaches)
            .for_each(|((row, offsets), reach)| {
                for (b, out) in row.chunks_exact_mut(pixels).enumerate() {
                    let channel = &x[(b * g.c_in + reach.channel) * h * w..][..h * w];
                    for (value, &offset) in out.iter_mut().zip(offsets) {
                        *value = channel.get(offset as usize).copied().unwrap_or(0.0);
                    }
                }
            });
    }

    /// Folds `cols` `[K, B · P]` back onto the input gradient `dx` `[B, c_in, h, w]`, which
    /// must hold zeros, adding each value where [`Unfolding::im2col`] read it. Images in
    /// parallel, each summed in row order, so the sums do not depend on the thread count.
    pub(super) fn col2im(&self, cols: &[f32], g: &ConvGeometry, dx: &mut [f32]) {
        if self.whole_images {
            for (b, image) in dx.chunks_exact_mut(g.patch()).enumerate() {
                for (k, sum) in image.iter_mut().enumerate() {
                    *sum += cols[k * g.batch + b];
                }
            }
            return;
        }
        if self.offsets.is_empty() {
            return col2im_runs(cols, g, &self.reaches, dx);
        }
        let ([h, w], pixels) = (g.input, g.pixels());
        dx.par_chunks_exact_mut(g.c_in * h * w)
            .enumerate()
            .for_each(|(b, image)| {
                let rows = cols.chunks_exact(g.batch * pixels);
                for ((row, offsets), reach) in rows
                    .zip(self.offsets.chunks_exact(pixels))
                    .zip(&self.reaches)
                {
                    let channel = &mut image[reach.channel * h * w..][..h * w];
                    let row = &row[b * pixels..][..pixels];
                    for (&value, &offset) in row.iter().zip(offsets) {
                        if let Some(sum) = channel.get_mut(offset as usize) {
                            *sum += value;
                        }
                    }
                }
            });
    }
}

/// Along one axis, for kernel offset `k`: the output coordinates `lo..hi` whose input
/// coordinate `o · stride + k - before` lies inside `0..size` (the others read padding).
fn inside(k: usize, stride: usize, before: usize, size: usize, out: usize) -> (usize, usize) {
    // o · stride + k >= before, and o · stride + k - before <= size - 1.
    let lo = before.saturating_sub(k).div_ceil(stride);
    let hi = if size + before > k {
        ((size + before - k - 1) / stride + 1).min(out)
    } else {
        0
    };
    (lo.min(hi), hi)
}

/// Where row `r` of the unfolded matrix reads: its input channel, its kernel offset
/// `(ki, kj)` (output row `oy` reads input row `oy · stride + ki - top`), and the output
/// rows and columns whose window pixel lies inside the image (see [`inside`]).
struct RowReach {
    channel: usize,
    ki: usize,
    kj: usize,
    rows: (usize, usize),
    cols: (usize, usize),
}

impl RowReach {
    /// Every row's reach, `K` of them, worked out once per call rather than once per row
    /// and image.
    fn all(g: &ConvGeometry) -> Vec<Self> {
        let ([h, w], [oh, ow], [kh, kw]) = (g.input, g.output(), g.kernel);
        (0..g.patch())
            .map(|r| {
                let (ki, kj) = (r / kw % kh, r % kw);
                Self {
                    channel: r / (kh * kw),
                    ki,
                    kj,
                    rows: inside(ki, g.stride[0], g.padding[0], h, oh),
                    cols: inside(kj, g.stride[1], g.padding[1], w, ow),
                }
            })
            .collect()
    }

    /// The row's runs inside the image, one per output row whose window row lies in it
    /// (empty ones left out): the run's first output pixel within an image's `P`, its
    /// length, and the offset within the input channel of the value its first pixel reads;
    /// each next pixel reads `stride` values further along the input row.
    fn runs(&self, g: &ConvGeometry) -> impl Iterator<Item = (usize, usize, usize)> {
        let ([_, w], [_, ow], [sh, sw], [top, left, _, _]) =
            (g.input, g.output(), g.stride, g.padding);
        let ((x_lo, x_hi), (ki, kj)) = (self.cols, (self.ki, self.kj));
        (self.rows.0..self.rows.1)
            .filter(move |_| x_hi > x_lo)
            .map(move |oy| {
                let first = (oy * sh + ki - top) * w + x_lo * sw + kj - left;
                (oy * ow + x_lo, x_hi - x_lo, first)
            })
    }
}

/// [`Unfolding::im2col`] a run of output columns at a time: each row's window rows are
/// copied whole, zeros between them. Rows are filled in parallel.
fn im2col_runs(x: &[f32], g: &ConvGeometry, reaches: &[RowReach], cols: &mut [f32]) {
    let ([h, w], pixels, sw) = (g.input, g.pixels(), g.stride[1]);
    cols.par_chunks_exact_mut(g.batch * pixels)
        .zip(reaches)
        .for_each(|(row, reach)| {
            for (b, row) in row.chunks_exact_mut(pixels).enumerate() {
                let channel = &x[(b * g.c_in + reach.channel) * h * w..][..h * w];
                let mut written = 0;
                for (start, len, first) in reach.runs(g) {
                    row[written..start].fill(0.0);
                    let out = &mut row[start..start + len];
                    if sw == 1 {
                        out.copy_from_slice(&channel[first..first + len]);
                    } else {
                        for (value, ix) in out.iter_mut().zip((first..).step_by(sw)) {
                            *value = channel[ix];
                        }
                    }
                    written = start + len;
                }
                row[written..].fill(0.0);
            }
        });
}

/// [`Unfolding::col2im`] a run of output columns at a time. Images in parallel.
fn col2im_runs(cols: &[f32], g: &ConvGeometry, reaches: &[RowReach], dx: &mut [f32]) {
    let ([h, w], pixels, sw) = (g.input, g.pixels(), g.stride[1]);
    dx.par_chunks_exact_mut(g.image())
        .enumerate()
        .for_each(|(b, image)| {
            for (row, reach) in cols.chunks_exact(g.batch * pixels).zip(reaches) {
                let row = &row[b * pixels..][..pixels];
                let channel = &mut image[reach.channel * h * w..][..h * w];
                for (start, len, first) in reach.runs(g) {
                    let out = &row[start..start + len];
                    if sw == 1 {
                        for (sum, value) in channel[first..first + len].iter_mut().zip(out) {
                            *sum += value;
                        }
                    } else {
                        for (value, ix) in out.iter().zip((first..).step_by(sw)) {
                            channel[ix] += value;
                        }
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lists of input offsets, and the transpose of a window as large as the input
    /// (the discriminators' heads), unfold and fold the same values, in the same order, as
    /// the window rows: bit for bit, on small maps with padding on some sides and stride 2.
    #[test]
    fn offsets_whole_images_and_window_rows_give_the_same_bits() {
        for (c_in, input, kernel, stride, padding, whole_images) in [
            (3, [6, 6], [4, 4], [2, 2], [1; 4], false),
            (2, [3, 3], [3, 3], [1, 1], [1; 4], false),
            (4, [3, 3], [3, 3], [1, 1], [0; 4], true),
            (130, [3, 3], [3, 3], [1, 1], [0; 4], true),
            (2, [5, 7], [3, 2], [2, 1], [1, 0, 2, 1], false),
            (1, [24, 24], [4, 4], [2, 2], [1; 4], false),
        ] {
            let g = ConvGeometry {
                batch: 3,
                c_in,
                input,
                c_out: 2,
                kernel,
                stride,
                padding,
            };
            let unfolding = Unfolding::of(&g);
            assert_eq!(unfolding.whole_images, whole_images, "{g:?}");
            assert!(
                whole_images || !unfolding.offsets.is_empty(),
                "{g:?} takes the lists"
            );
            let reaches = RowReach::all(&g);
            let wave =
                |n: usize, k: f32| -> Vec<f32> { (0..n).map(|i| ((i as f32) * k).sin()).collect() };
            let x = wave(g.batch * g.image(), 0.37);
            let size = g.patch() * g.batch * g.pixels();
            let (mut listed, mut by_rows) = (vec![f32::NAN; size], vec![f32::NAN; size]);
            unfolding.im2col(&x, &g, &mut listed);
            im2col_runs(&x, &g, &reaches, &mut by_rows);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&listed), bits(&by_rows), "im2col {g:?}");

            let cols = wave(size, 0.71);
            let (mut listed, mut by_rows) = (vec![0.0; x.len()], vec![0.0; x.len()]);
            unfolding.col2im(&cols, &g, &mut listed);
            col2im_runs(&cols, &g, &reaches, &mut by_rows);
            assert_eq!(bits(&listed), bits(&by_rows), "col2im {g:?}");
            // Every input pixel some window reads gets a value.
            assert!(listed.iter().filter(|v| **v != 0.0).count() > x.len() / 2);
        }
    }
}
