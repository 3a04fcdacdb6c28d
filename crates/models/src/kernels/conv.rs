//! A 2-D convolution as im2col and one matrix product, forward and backward.
//!
//! The generator and discriminators of AttnGAN spend three quarters of a training step in
//! convolutions, and flex runs the weight gradient (Burn's default, a second convolution
//! with the output gradient as its kernel) as one small product per input channel. Here
//! the receptive fields of a group of `G` images are unfolded into a `[K, G · P]` matrix
//! (`K = c_in · kh · kw` rows, one column per output pixel of each image, zeros where the
//! field reads the padding), and every pass is one product with it (`y` and `dy` change
//! between `[G, c_out, P]` and `[c_out, G · P]` by a copy):
//!
//! ```text
//! forward      y  [c_out, G·P] = W [c_out, K] · cols [K, G·P]
//! input grad   dcols [K, G·P]  = Wᵀ [K, c_out] · dy [c_out, G·P],  then folded back (col2im)
//! weight grad  dW [c_out, K]   = Σ_groups dy [c_out, G·P] · colsᵀ [G·P, K]
//! ```
//!
//! Small images are unfolded in groups (columns image-major), large ones one at a time
//! ([`COLUMNS`]); groups run in parallel, and the weight gradient is summed over them in
//! their order, so the bits do not depend on the thread count. Stride and asymmetric zero
//! padding are supported; dilation and groups are not (the caller falls back to Burn's
//! convolution for those).
//!
//! 3 × 3 convolutions at stride 1 on maps at least 12 pixels wide (the generator's) skip
//! the unfolding for the forward pass (up to 56 input channels) and the input gradient:
//! [`super::direct`] computes them on padded planes, the same sums in the same order.
//! The discriminators' layers (4 × 4, stride-2 layers and the 3 × 3 joins on 3 × 3 maps,
//! all passes but the 3-channel images' gradients) take [`super::small_maps`], channels
//! last, whose sums run in another order and agree with these to rounding.

use rayon::prelude::*;

use super::product::{MatrixView, product, product_into};
use super::scratch::Scratch;
use super::{direct, small_maps};
use unfold::Unfolding;

mod unfold;

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
    /// The convolution of an input of shape `x` `[B, C_in, H, W]` by a weight of shape `w`
    /// `[C_out, C_in, kh, kw]`.
    ///
    /// # Panics
    ///
    /// If the input channels differ.
    pub fn of(x: &[usize], w: &[usize], stride: [usize; 2], padding: [usize; 4]) -> Self {
        assert_eq!(x[1], w[1], "conv2d: input channels of x and weight differ");
        Self {
            batch: x[0],
            c_in: x[1],
            input: [x[2], x[3]],
            c_out: w[0],
            kernel: [w[2], w[3]],
            stride,
            padding,
        }
    }

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

/// `values` `[B, rows, P]` into `out` as `[rows, B · P]`, or back with `to_batch_major`:
/// the output (gradient) between the batch's layout and the one of the products. With one
/// image the two layouts are the same and this is a copy.
fn swap_batch(
    values: &[f32],
    batch: usize,
    rows: usize,
    pixels: usize,
    to_batch_major: bool,
    out: &mut [f32],
) {
    if batch == 1 {
        out.copy_from_slice(values);
        return;
    }
    for b in 0..batch {
        for r in 0..rows {
            let (batch_major, row_major) = ((b * rows + r) * pixels, (r * batch + b) * pixels);
            let (from, to) = if to_batch_major {
                (row_major, batch_major)
            } else {
                (batch_major, row_major)
            };
            out[to..to + pixels].copy_from_slice(&values[from..from + pixels]);
        }
    }
}

/// How many output pixels a product should have at least: images are unfolded and
/// multiplied in groups of `ceil(COLUMNS / P)` (at least one, at most the batch). Measured
/// on AttnGAN's quick preset (one thread): one product per image was fastest for the
/// generator's 24- and 48-pixel maps (576 and 2,304 pixels, whose unfolded image stays in
/// cache) and slowest for the discriminators' 3- and 6-pixel ones, which pack the weights
/// once per image for 9 or 36 columns.
const COLUMNS: usize = 512;

impl ConvGeometry {
    /// Images per group (see [`COLUMNS`]).
    pub(super) fn group(&self) -> usize {
        COLUMNS
            .div_ceil(self.pixels().max(1))
            .clamp(1, self.batch.max(1))
    }

    /// The same convolution on `batch` images.
    fn with_batch(&self, batch: usize) -> ConvGeometry {
        ConvGeometry { batch, ..*self }
    }
}

/// Groups run in parallel, each product on one thread; a single group's product is split
/// between the threads instead.
fn parallelism(groups: usize) -> gemm::Parallelism {
    if groups > 1 {
        gemm::Parallelism::None
    } else {
        gemm::Parallelism::Rayon(0)
    }
}

/// `y [B, c_out, oh, ow]` of `x [B, c_in, h, w]` and `weight [c_out, c_in, kh, kw]`
/// (no bias), all contiguous.
pub fn conv2d_forward(x: &[f32], weight: &[f32], g: &ConvGeometry) -> Vec<f32> {
    if direct::takes_forward(g) {
        return direct::forward(x, weight, g);
    }
    if small_maps::takes_forward(g) {
        return small_maps::forward(x, weight, g);
    }
    unfolded_forward(x, weight, g)
}

/// [`conv2d_forward`] through the unfolded input.
pub(super) fn unfolded_forward(x: &[f32], weight: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let (patch, pixels, group) = (g.patch(), g.pixels(), g.group());
    let mut y = vec![0.0f32; g.batch * g.c_out * pixels];
    if y.is_empty() {
        return y;
    }
    let threads = parallelism(g.batch.div_ceil(group));
    let unfolding = Unfolding::of(g);
    y.par_chunks_mut(group * g.c_out * pixels)
        .zip(x.par_chunks(group * g.image()))
        .for_each(|(y_g, x_g)| {
            let gg = g.with_batch(x_g.len() / g.image());
            let columns = gg.batch * pixels;
            let mut cols = Scratch::take(patch * columns);
            let cols = cols.values();
            unfolding.im2col(x_g, &gg, cols);
            let (w, cols) = (
                MatrixView::rows(weight, patch),
                MatrixView::rows(cols, columns),
            );
            let shape = [g.c_out, patch, columns];
            if gg.batch == 1 {
                // One image's [c_out, P] is already the output's layout.
                product_into(w, cols, shape, threads, y_g);
            } else {
                let mut y_rows = Scratch::take(y_g.len());
                let y_rows = y_rows.values();
                product_into(w, cols, shape, threads, y_rows);
                swap_batch(y_rows, gg.batch, g.c_out, pixels, true, y_g);
            }
        });
    y
}

/// The gradients `(d x, d weight)` of [`conv2d_forward`] from the output gradient `dy`
/// `[B, c_out, oh, ow]`; each is computed only when asked for (empty otherwise). The
/// weight gradient is summed over the groups in their order.
pub fn conv2d_backward(
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    g: &ConvGeometry,
    [want_x, want_weight]: [bool; 2],
) -> (Vec<f32>, Vec<f32>) {
    let direct_x = want_x && direct::takes_input_gradient(g);
    let direct_weight = want_weight && direct::takes_weight_gradient(g);
    let small_x = want_x && !direct_x && small_maps::takes_input_gradient(g);
    let small_weight = want_weight && !direct_weight && small_maps::takes_weight_gradient(g);
    let unfolded = [
        want_x && !direct_x && !small_x,
        want_weight && !direct_weight && !small_weight,
    ];
    let (mut dx, mut dw) = if unfolded.contains(&true) {
        unfolded_backward(x, weight, dy, g, unfolded)
    } else {
        (Vec::new(), Vec::new())
    };
    if direct_x {
        dx = direct::input_gradient(weight, dy, g);
    }
    if direct_weight {
        dw = direct::weight_gradient(x, dy, g);
    }
    if small_x {
        dx = small_maps::input_gradient(weight, dy, g);
    }
    if small_weight {
        dw = small_maps::weight_gradient(x, dy, g);
    }
    (dx, dw)
}

/// [`conv2d_backward`] through the unfolded input.
pub(super) fn unfolded_backward(
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    g: &ConvGeometry,
    [want_x, want_weight]: [bool; 2],
) -> (Vec<f32>, Vec<f32>) {
    let (patch, pixels, group) = (g.patch(), g.pixels(), g.group());
    let mut dx = vec![0.0f32; if want_x { g.batch * g.image() } else { 0 }];
    if g.batch * g.c_out * pixels == 0 {
        return (
            dx,
            vec![0.0f32; if want_weight { g.c_out * patch } else { 0 }],
        );
    }
    let n_groups = g.batch.div_ceil(group);
    let threads = parallelism(n_groups);
    let unfolding = Unfolding::of(g);
    let mut dx_groups: Vec<Option<&mut [f32]>> = if want_x {
        dx.chunks_mut(group * g.image()).map(Some).collect()
    } else {
        (0..n_groups).map(|_| None).collect()
    };
    let partials: Vec<Vec<f32>> = dx_groups
        .par_iter_mut()
        .enumerate()
        .map(|(i, dx_g)| {
            let first = i * group;
            let gg = g.with_batch(group.min(g.batch - first));
            let columns = gg.batch * pixels;
            let x_g = &x[first * g.image()..(first + gg.batch) * g.image()];
            let dy_g = &dy[first * g.c_out * pixels..(first + gg.batch) * g.c_out * pixels];
            // [c_out, G · P]: one image's gradient is already in that layout.
            let mut dy_rows = (gg.batch > 1).then(|| Scratch::take(dy_g.len()));
            let dy_g: &[f32] = match &mut dy_rows {
                None => dy_g,
                Some(rows) => {
                    let rows = rows.values();
                    swap_batch(dy_g, gg.batch, g.c_out, pixels, false, rows);
                    rows
                }
            };
            let mut cols = Scratch::take(patch * columns);
            let cols = cols.values();
            let dw_g = if want_weight {
                unfolding.im2col(x_g, &gg, cols);
                product(
                    MatrixView::rows(dy_g, columns),
                    MatrixView::rows(cols, columns).t(),
                    [g.c_out, columns, patch],
                    threads,
                )
            } else {
                Vec::new()
            };
            if let Some(dx_g) = dx_g {
                // The unfolded input is no longer needed: its buffer takes the unfolded
                // input gradient.
                product_into(
                    MatrixView::rows(weight, patch).t(),
                    MatrixView::rows(dy_g, columns),
                    [patch, g.c_out, columns],
                    threads,
                    cols,
                );
                unfolding.col2im(cols, &gg, dx_g);
            }
            dw_g
        })
        .collect();
    // The groups' products added from zero in order, value by value (rows in parallel).
    let mut dw = vec![0.0f32; if want_weight { g.c_out * patch } else { 0 }];
    dw.par_chunks_mut(patch)
        .enumerate()
        .for_each(|(co, dw_co)| {
            for partial in &partials {
                for (sum, value) in dw_co.iter_mut().zip(&partial[co * patch..]) {
                    *sum += value;
                }
            }
        });
    (dx, dw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::on_threads;

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

    /// The unfolding buffers are reused between calls and never cleared: with every spare
    /// buffer of the (only) thread left full of NaN, the hand-computed cases above still
    /// come out exact, padding included, forward and backward.
    #[test]
    fn leftover_values_in_reused_buffers_are_never_read() {
        on_threads(1, || {
            let poison = || crate::kernels::scratch::fill_spares(f32::NAN, 256);
            let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
            let w = [1.0, 0.0, 0.0, -1.0];
            poison();
            let y = conv2d_forward(&x, &w, &geometry([1, 1], [1, 1, 0, 0]));
            assert_eq!(
                y,
                vec![-1.0, -2.0, -3.0, -4.0, -4.0, -4.0, -7.0, -4.0, -4.0]
            );
            // Two images of one channel, so the gradient goes through the batch swap.
            let g = ConvGeometry {
                batch: 2,
                ..geometry([1, 1], [0; 4])
            };
            let x2: Vec<f32> = x.iter().chain(&x).copied().collect();
            poison();
            let (dx, dw) = conv2d_backward(&x2, &[1.0; 4], &[1.0; 8], &g, [true, true]);
            let counts = [1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0];
            assert_eq!(dx, [counts, counts].concat());
            assert_eq!(dw, vec![24.0, 32.0, 48.0, 56.0]);
        });
    }

    /// The same bits on one thread and on three, for a batch unfolded one image at a time
    /// (576 pixels each, three groups) and for one unfolded whole (36 pixels each).
    #[test]
    fn the_thread_count_does_not_change_the_bits() {
        for (input, stride, padding) in [([24, 24], [1, 1], [1; 4]), ([12, 12], [2, 2], [1; 4])] {
            let g = ConvGeometry {
                batch: 3,
                c_in: 2,
                input,
                c_out: 5,
                kernel: [3, 3],
                stride,
                padding,
            };
            let wave =
                |n: usize, k: f32| -> Vec<f32> { (0..n).map(|i| ((i as f32) * k).sin()).collect() };
            let x = wave(g.batch * g.image(), 0.37);
            let w = wave(g.c_out * g.patch(), 1.13);
            let dy = wave(g.batch * g.c_out * g.pixels(), 0.71);
            let run = |threads: usize| {
                on_threads(threads, || {
                    let y = conv2d_forward(&x, &w, &g);
                    let (dx, dw) = conv2d_backward(&x, &w, &dy, &g, [true, true]);
                    (y, dx, dw)
                })
            };
            assert_eq!(run(1), run(3), "{g:?}");
        }
    }
}
