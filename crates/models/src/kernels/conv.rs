//! A 2-D convolution as im2col and one matrix product per image, forward and backward.
//!
//! The generator and discriminators of AttnGAN spend three quarters of a training step in
//! convolutions, and flex runs the weight gradient (Burn's default, a second convolution
//! with the output gradient as its kernel) as one small product per input channel. Here
//! each image's receptive fields are unfolded once into a `[K, P]` matrix (`K = c_in · kh ·
//! kw` rows, one column per output pixel, zeros where the field leaves the padded image),
//! and every pass is a product with it:
//!
//! ```text
//! forward      y_b  [c_out, P] = W [c_out, K] · cols_b [K, P]
//! input grad   dcols [K, P]    = Wᵀ [K, c_out] · dy_b [c_out, P],  then folded back (col2im)
//! weight grad  dW [c_out, K]   = Σ_b dy_b [c_out, P] · cols_bᵀ [P, K]
//! ```
//!
//! Images run in parallel, each product on one thread; the weight gradient is summed over
//! the images in their order after the parallel part, so the bits do not depend on the
//! thread count. Stride and asymmetric zero padding are supported; dilation and groups are
//! not (the caller falls back to Burn's convolution for those).

use rayon::prelude::*;

/// The shapes of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Output channels.
    pub c_out: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Zero padding: top, left, bottom, right.
    pub padding: [usize; 4],
}

impl ConvGeometry {
    /// Output height and width: `(in + pad_before + pad_after - kernel) / stride + 1`.
    ///
    /// # Panics
    ///
    /// If the kernel is larger than the padded input.
    pub fn output(&self) -> [usize; 2] {
        let [top, left, bottom, right] = self.padding;
        let side = |size: usize, before: usize, after: usize, k: usize, s: usize| {
            let padded = size + before + after;
            assert!(
                padded >= k,
                "conv2d: kernel {k} larger than padded input {padded}"
            );
            (padded - k) / s + 1
        };
        [
            side(self.input[0], top, bottom, self.kernel[0], self.stride[0]),
            side(self.input[1], left, right, self.kernel[1], self.stride[1]),
        ]
    }

    /// `K = c_in · kh · kw`: rows of an unfolded image, columns of the weight matrix.
    pub fn patch(&self) -> usize {
        self.c_in * self.kernel[0] * self.kernel[1]
    }

    /// `P = oh · ow`: output pixels per image.
    pub fn pixels(&self) -> usize {
        let [oh, ow] = self.output();
        oh * ow
    }

    fn image(&self) -> usize {
        self.c_in * self.input[0] * self.input[1]
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

/// Unfolds one image `[c_in, h, w]` into `cols` `[K, P]` (row `(ci · kh + ki) · kw + kj`).
fn im2col(image: &[f32], g: &ConvGeometry, cols: &mut [f32]) {
    let [h, w] = g.input;
    let [oh, ow] = g.output();
    let [kh, kw] = g.kernel;
    let [sh, sw] = g.stride;
    let [top, left, _, _] = g.padding;
    let mut rows = cols.chunks_exact_mut(oh * ow);
    for ci in 0..g.c_in {
        let channel = &image[ci * h * w..(ci + 1) * h * w];
        for ki in 0..kh {
            let (y_lo, y_hi) = inside(ki, sh, top, h, oh);
            for kj in 0..kw {
                let (x_lo, x_hi) = inside(kj, sw, left, w, ow);
                let row = rows.next().expect("K rows");
                row[..y_lo * ow].fill(0.0);
                row[y_hi * ow..].fill(0.0);
                for oy in y_lo..y_hi {
                    let line = &channel[(oy * sh + ki - top) * w..][..w];
                    let out = &mut row[oy * ow..(oy + 1) * ow];
                    out[..x_lo].fill(0.0);
                    out[x_hi..].fill(0.0);
                    let first = x_lo * sw + kj - left;
                    if sw == 1 {
                        out[x_lo..x_hi].copy_from_slice(&line[first..first + x_hi - x_lo]);
                    } else {
                        for (value, ix) in out[x_lo..x_hi].iter_mut().zip((first..).step_by(sw)) {
                            *value = line[ix];
                        }
                    }
                }
            }
        }
    }
}

/// Folds `cols` `[K, P]` back onto one image's gradient `[c_in, h, w]`, adding every
/// column's value where [`im2col`] read it (in the same order, so the sums are fixed).
fn col2im(cols: &[f32], g: &ConvGeometry, image: &mut [f32]) {
    let [h, w] = g.input;
    let [oh, ow] = g.output();
    let [kh, kw] = g.kernel;
    let [sh, sw] = g.stride;
    let [top, left, _, _] = g.padding;
    image.fill(0.0);
    let mut rows = cols.chunks_exact(oh * ow);
    for ci in 0..g.c_in {
        let channel = &mut image[ci * h * w..(ci + 1) * h * w];
        for ki in 0..kh {
            let (y_lo, y_hi) = inside(ki, sh, top, h, oh);
            for kj in 0..kw {
                let (x_lo, x_hi) = inside(kj, sw, left, w, ow);
                let row = rows.next().expect("K rows");
                for oy in y_lo..y_hi {
                    let line = &mut channel[(oy * sh + ki - top) * w..][..w];
                    let out = &row[oy * ow + x_lo..oy * ow + x_hi];
                    let first = x_lo * sw + kj - left;
                    if sw == 1 {
                        for (sum, value) in line[first..first + out.len()].iter_mut().zip(out) {
                            *sum += value;
                        }
                    } else {
                        for (value, ix) in out.iter().zip((first..).step_by(sw)) {
                            line[ix] += value;
                        }
                    }
                }
            }
        }
    }
}

/// A row-major matrix operand: values from its first element, row and column strides.
#[derive(Clone, Copy)]
struct Operand<'a> {
    values: &'a [f32],
    row_stride: isize,
    col_stride: isize,
}

impl<'a> Operand<'a> {
    /// A contiguous `[rows, cols]` matrix.
    fn rows(values: &'a [f32], cols: usize) -> Self {
        Self {
            values,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    /// Its transpose: the same storage, strides swapped.
    fn t(self) -> Self {
        Self {
            values: self.values,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }
}

/// `out [m, n] = lhs [m, k] · rhs [k, n]` on the calling thread, `out` row-major.
fn product(out: &mut [f32], [m, k, n]: [usize; 3], lhs: Operand, rhs: Operand) {
    assert_eq!(out.len(), m * n, "conv2d: product output size");
    let reach = |o: &Operand, rows: usize, cols: usize| {
        rows.saturating_sub(1) * o.row_stride as usize
            + cols.saturating_sub(1) * o.col_stride as usize
    };
    assert!(m * k == 0 || reach(&lhs, m, k) < lhs.values.len());
    assert!(k * n == 0 || reach(&rhs, k, n) < rhs.values.len());
    // SAFETY: `out` holds `m * n` elements, written row-major without being read
    // (`read_dst` false); the asserts above keep every read of `lhs` and `rhs` within
    // their slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.values.as_ptr(),
            lhs.col_stride,
            lhs.row_stride,
            rhs.values.as_ptr(),
            rhs.col_stride,
            rhs.row_stride,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `y [B, c_out, oh, ow]` of `x [B, c_in, h, w]` and `weight [c_out, c_in, kh, kw]`
/// (no bias), all contiguous.
pub fn conv2d_forward(x: &[f32], weight: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let (patch, pixels) = (g.patch(), g.pixels());
    let mut y = vec![0.0f32; g.batch * g.c_out * pixels];
    if y.is_empty() {
        return y;
    }
    y.par_chunks_exact_mut(g.c_out * pixels)
        .zip(x.par_chunks_exact(g.image()))
        .for_each_init(
            || vec![0.0f32; patch * pixels],
            |cols, (y_b, x_b)| {
                im2col(x_b, g, cols);
                product(
                    y_b,
                    [g.c_out, patch, pixels],
                    Operand::rows(weight, patch),
                    Operand::rows(cols, pixels),
                );
            },
        );
    y
}

/// The gradients `(d x, d weight)` of [`conv2d_forward`] from the output gradient `dy`
/// `[B, c_out, oh, ow]`; each is computed only when asked for.
pub fn conv2d_backward(
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    g: &ConvGeometry,
    [want_x, want_weight]: [bool; 2],
) -> (Vec<f32>, Vec<f32>) {
    let (patch, pixels) = (g.patch(), g.pixels());
    let mut dx = vec![0.0f32; if want_x { g.batch * g.image() } else { 0 }];
    // One partial weight gradient per image, summed in image order below.
    let mut partial = vec![
        0.0f32;
        if want_weight {
            g.batch * g.c_out * patch
        } else {
            0
        }
    ];
    let mut dx_chunks: Vec<Option<&mut [f32]>> = if want_x {
        dx.chunks_exact_mut(g.image()).map(Some).collect()
    } else {
        (0..g.batch).map(|_| None).collect()
    };
    let mut partial_chunks: Vec<Option<&mut [f32]>> = if want_weight {
        partial
            .chunks_exact_mut(g.c_out * patch)
            .map(Some)
            .collect()
    } else {
        (0..g.batch).map(|_| None).collect()
    };
    dx_chunks
        .par_iter_mut()
        .zip(partial_chunks.par_iter_mut())
        .enumerate()
        .for_each_init(
            || vec![0.0f32; patch * pixels],
            |cols, (b, (dx_b, dw_b))| {
                let dy_b = &dy[b * g.c_out * pixels..(b + 1) * g.c_out * pixels];
                if let Some(dw_b) = dw_b {
                    im2col(&x[b * g.image()..(b + 1) * g.image()], g, cols);
                    product(
                        dw_b,
                        [g.c_out, pixels, patch],
                        Operand::rows(dy_b, pixels),
                        Operand::rows(cols, pixels).t(),
                    );
                }
                if let Some(dx_b) = dx_b {
                    product(
                        cols,
                        [patch, g.c_out, pixels],
                        Operand::rows(weight, patch).t(),
                        Operand::rows(dy_b, pixels),
                    );
                    col2im(cols, g, dx_b);
                }
            },
        );
    let mut dw = vec![0.0f32; if want_weight { g.c_out * patch } else { 0 }];
    for image in partial.chunks_exact((g.c_out * patch).max(1)) {
        for (sum, value) in dw.iter_mut().zip(image) {
            *sum += value;
        }
    }
    (dx, dw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(stride: [usize; 2], padding: [usize; 4]) -> ConvGeometry {
        ConvGeometry {
            batch: 1,
            c_in: 1,
            input: [3, 3],
            c_out: 1,
            kernel: [2, 2],
            stride,
            padding,
        }
    }

    /// A 3 × 3 image 1..9 and a 2 × 2 kernel [[1, 0], [0, -1]]: each output is the
    /// top-left value of its window minus the bottom-right, worked out by hand.
    #[test]
    fn forward_matches_a_hand_computed_case() {
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let w = [1.0, 0.0, 0.0, -1.0];
        let valid = geometry([1, 1], [0; 4]);
        assert_eq!(valid.output(), [2, 2]);
        assert_eq!(conv2d_forward(&x, &w, &valid), vec![-4.0; 4]);
        // Padding 1 on top and left only: the first row and column of windows start in
        // the padding, so their top-left is 0.
        let padded = geometry([1, 1], [1, 1, 0, 0]);
        assert_eq!(padded.output(), [3, 3]);
        let y = conv2d_forward(&x, &w, &padded);
        assert_eq!(
            y,
            vec![-1.0, -2.0, -3.0, -4.0, -4.0, -4.0, -7.0, -4.0, -4.0]
        );
        // Stride 2 over the padded image: windows at (0,0), (0,2), (2,0), (2,2).
        let strided = geometry([2, 2], [1, 1, 0, 0]);
        assert_eq!(strided.output(), [2, 2]);
        assert_eq!(
            conv2d_forward(&x, &w, &strided),
            vec![-1.0, -3.0, -7.0, -4.0]
        );
    }

    /// The input gradient of a sum of outputs is how many windows cover each pixel with
    /// each kernel weight: with the kernel all ones and no padding, the 3 × 3 image's
    /// corners are in one 2 × 2 window, the edges' middles in two, the centre in four. The
    /// weight gradient of the same sum is each weight's window sum over the image.
    #[test]
    fn backward_of_a_sum_counts_windows() {
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let g = geometry([1, 1], [0; 4]);
        let (dx, dw) = conv2d_backward(&x, &[1.0; 4], &[1.0; 4], &g, [true, true]);
        assert_eq!(dx, vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
        // w[0,0] sees 1,2,4,5; w[0,1] 2,3,5,6; w[1,0] 4,5,7,8; w[1,1] 5,6,8,9.
        assert_eq!(dw, vec![12.0, 16.0, 24.0, 28.0]);
        let (dx, dw) = conv2d_backward(&x, &[1.0; 4], &[1.0; 4], &g, [false, true]);
        assert!(dx.is_empty() && dw.len() == 4);
    }
}
