//! Direct convolution of small maps, channels last and vectorized over channels: the
//! discriminators' 4 × 4, stride-2 layers and their heads' 3 × 3 joins, without unfolding.
//!
//! The discriminators read a 48 × 48 image down to 3 × 3 by 4 × 4, stride-2 convolutions,
//! and each conditional head joins the sentence to the map by a 3 × 3 layer on the 3 × 3
//! map. Unfolded (see [`super::conv`]) these are small, thin products, plus the unfolding
//! and its folding back: on 2 cores they ran at 90-165 GFLOP/s where the generator's direct
//! layers ([`super::direct`]) run at 300-400. A map this small has too few pixels to fill
//! vectors along its rows, so here the vectors run along channels instead. Every image is
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
//! Each pass is taken only where it measured faster than the unfolded one
//! ([`takes_forward`], [`takes_input_gradient`], [`takes_weight_gradient`]): on the 3 × 3
//! maps the unfolded product still wins the forward pass and the weight gradient.
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
//! Threads split images (forward, input gradient) or tiles (weight gradient), never a
//! chain, and the instruction sets' tiles differ only in how many chains they run at once,
//! so the bits depend on neither. They are not the unfolded path's (gemm cuts its sums into
//! other blocks): the two agree to rounding.

use rayon::prelude::*;

use super::conv::ConvGeometry;
use super::direct::Isa;
use super::scratch::Scratch;

/// Channels per vector: the lanes of the chains.
pub(super) const LANES: usize = 16;

/// The largest map this path computes, in output pixels: the discriminators' 24 × 24 (from
/// the 48 × 48 image). The generator's larger maps take [`super::direct`].
const MAX_PIXELS: usize = 24 * 24;

/// Output pixels per tile of the input gradient, the same on every instruction set: the
/// order in which the tiles' chains reach an input pixel depends on it.
const INPUT_GRADIENT_PIXELS: usize = 6;

/// The passes' thresholds, measured with `bench-conv` on AttnGAN's quick preset (2
/// threads, AVX-512) against the unfolded path: the forward pass and the weight gradient
/// only won on maps of at least 6 × 6 and 12 × 12 output pixels (on 3 × 3 maps the
/// unfolded product reuses each weight for all 9 pixels of a group of images, where a tile
/// here streams the weights for 4 to 8 pixels); the input gradient won wherever a vector
/// of input channels is full, and lost on the 3-channel images, 13 of whose 16 lanes are
/// padding.
const FORWARD_MIN_PIXELS: usize = 6 * 6;
const WEIGHT_GRADIENT_MIN_PIXELS: usize = 12 * 12;
const INPUT_GRADIENT_MIN_CHANNELS: usize = LANES;

/// Whether this path can compute `g`: output maps of at most [`MAX_PIXELS`] pixels, with
/// at least a vector of output channels (the one-pixel heads, one channel out, stay
/// unfolded).
fn fits(g: &ConvGeometry) -> bool {
    let pixels = g.pixels();
    g.c_out >= LANES && g.c_in > 0 && g.batch > 0 && (1..=MAX_PIXELS).contains(&pixels)
}

/// Whether [`forward`] takes `g`: it [`fits`] and is faster here (see
/// [`FORWARD_MIN_PIXELS`]).
pub fn takes_forward(g: &ConvGeometry) -> bool {
    fits(g) && g.pixels() >= FORWARD_MIN_PIXELS
}

/// Whether [`input_gradient`] takes `g`: it [`fits`], with at least
/// [`INPUT_GRADIENT_MIN_CHANNELS`] input channels (see [`FORWARD_MIN_PIXELS`]).
pub fn takes_input_gradient(g: &ConvGeometry) -> bool {
    fits(g) && g.c_in >= INPUT_GRADIENT_MIN_CHANNELS
}

/// Whether [`weight_gradient`] takes `g`: it [`fits`], on a map of at least
/// [`WEIGHT_GRADIENT_MIN_PIXELS`] (see [`FORWARD_MIN_PIXELS`]).
pub fn takes_weight_gradient(g: &ConvGeometry) -> bool {
    fits(g) && g.pixels() >= WEIGHT_GRADIENT_MIN_PIXELS
}

/// One image's zero-padded grid, channels last: pixel `(y, x)` of the padded image at
/// `(y · pitch + x) · channels`, its channels in order, then zeros up to `channels`.
#[derive(Clone, Copy)]
pub(super) struct Grid {
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
        let [h, w] = g.input;
        let [top, left, _, _] = g.padding;
        grid.fill(0.0);
        for (ci, channel) in image.chunks_exact(h * w).enumerate() {
            for (y, row) in channel.chunks_exact(w).enumerate() {
                let first = ((y + top) * self.pitch + left) * self.channels + ci;
                for (x, &value) in row.iter().enumerate() {
                    grid[first + x * self.channels] = value;
                }
            }
        }
    }

    /// Crops `grid` (channels last, padded) into one image `[c_in, h, w]`: the inverse
    /// of [`Grid::fill`].
    fn crop(&self, grid: &[f32], g: &ConvGeometry, image: &mut [f32]) {
        let [h, w] = g.input;
        let [top, left, _, _] = g.padding;
        for (ci, channel) in image.chunks_exact_mut(h * w).enumerate() {
            for (y, row) in channel.chunks_exact_mut(w).enumerate() {
                let first = ((y + top) * self.pitch + left) * self.channels + ci;
                for (x, value) in row.iter_mut().enumerate() {
                    *value = grid[first + x * self.channels];
                }
            }
        }
    }
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

    /// The windows of pixels `first..first + R`, the last repeated past the map's end (its
    /// chains are computed and dropped).
    #[inline(always)]
    fn tile<const R: usize>(&self, first: usize) -> [usize; R] {
        let last = self.windows.len() - 1;
        std::array::from_fn(|r| self.windows[(first + r).min(last)])
    }
}

/// A vector of [`LANES`] chains: `[f32; LANES]`, which the compiler vectorizes as the
/// instruction set allows, or one AVX-512 register. Both round each link once
/// (`f32::mul_add`, `vfmadd`), so they give the same bits.
trait Lanes: Copy {
    fn zero() -> Self;
    /// The vector `values[..LANES]`.
    fn load(values: &[f32]) -> Self;
    /// `fma(x, self[l], acc[l])` in every lane.
    fn multiply_add(self, x: f32, acc: Self) -> Self;
    fn to_array(self) -> [f32; LANES];
}

impl Lanes for [f32; LANES] {
    #[inline(always)]
    fn zero() -> Self {
        [0.0; LANES]
    }

    #[inline(always)]
    fn load(values: &[f32]) -> Self {
        values[..LANES].try_into().expect("a whole vector")
    }

    #[inline(always)]
    fn multiply_add(self, x: f32, mut acc: Self) -> Self {
        for (a, w) in acc.iter_mut().zip(self) {
            *a = x.mul_add(w, *a);
        }
        acc
    }

    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        self
    }
}

/// One AVX-512 register of [`LANES`] chains. Its methods are compiled into the passes
/// built for AVX-512 only (`image_avx512`, `tile_avx512`), which run where `Isa::detect`
/// found it.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Zmm(std::arch::x86_64::__m512);

#[cfg(target_arch = "x86_64")]
impl Lanes for Zmm {
    #[inline(always)]
    fn zero() -> Self {
        // SAFETY: only reached from the AVX-512 passes (see the type's docs).
        Self(unsafe { std::arch::x86_64::_mm512_setzero_ps() })
    }

    #[inline(always)]
    fn load(values: &[f32]) -> Self {
        let values = &values[..LANES];
        // SAFETY: `values` holds the 16 values read; AVX-512 as above.
        Self(unsafe { std::arch::x86_64::_mm512_loadu_ps(values.as_ptr()) })
    }

    #[inline(always)]
    fn multiply_add(self, x: f32, acc: Self) -> Self {
        use std::arch::x86_64::{_mm512_fmadd_ps, _mm512_set1_ps};
        // SAFETY: AVX-512 as above.
        Self(unsafe { _mm512_fmadd_ps(_mm512_set1_ps(x), self.0, acc.0) })
    }

    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        // SAFETY: a `__m512` is 16 `f32`s.
        unsafe { std::mem::transmute::<std::arch::x86_64::__m512, [f32; LANES]>(self.0) }
    }
}

/// A tile's accumulators: `R` rows of `V` vectors.
type Tile<T, const R: usize, const V: usize> = [[T; V]; R];

/// One link of every chain of a tile: `acc[r][v] = fma(xs[at[r]], vectors[v · LANES..],
/// acc[r][v])`. Each `x` is read where it is used, so that it stays a memory operand of its
/// broadcast; the accumulators come in and go out by value, so that they stay in
/// registers.
#[inline(always)]
fn multiply_add<T: Lanes, const R: usize, const V: usize>(
    mut acc: Tile<T, R, V>,
    xs: &[f32],
    at: &[usize; R],
    vectors: &[f32],
) -> Tile<T, R, V> {
    let vectors: [T; V] = std::array::from_fn(|v| T::load(&vectors[v * LANES..]));
    for (acc_r, &at) in acc.iter_mut().zip(at) {
        let x = xs[at];
        for (a, w) in acc_r.iter_mut().zip(vectors) {
            *a = w.multiply_add(x, *a);
        }
    }
    acc
}

/// One image's forward pass: `y [c_out, P]` from its grid (`c_in` channels a pixel) and
/// the weights packed `[block][tap][ci][V · LANES]`, blocks of `V · LANES` output channels.
#[inline(always)]
fn forward_image<T: Lanes, const R: usize, const V: usize>(
    grid: &[f32],
    taps: &Taps,
    c_in: usize,
    packed: &[f32],
    y: &mut [f32],
) {
    let pixels = taps.windows.len();
    let c_out = y.len() / pixels;
    let width = V * LANES;
    let depth = taps.offsets.len() * c_in;
    // Each link's grid offset from the window: the taps in order, each over the channels.
    let steps: Vec<usize> = taps
        .offsets
        .iter()
        .flat_map(|&offset| offset..offset + c_in)
        .collect();
    for first in (0..pixels).step_by(R) {
        let windows = taps.tile::<R>(first);
        for (block, weights) in packed.chunks_exact(depth * width).enumerate() {
            let mut acc = [[T::zero(); V]; R];
            for (&at, vectors) in steps.iter().zip(weights.chunks_exact(width)) {
                acc = multiply_add(acc, &grid[at..], &windows, vectors);
            }
            for (r, acc_r) in acc.iter().enumerate().take(pixels - first) {
                for (v, lanes) in acc_r.iter().enumerate() {
                    let co0 = block * width + v * LANES;
                    for (co, value) in (co0..c_out).zip(lanes.to_array()) {
                        y[co * pixels + first + r] = value;
                    }
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
        let windows = taps.tile::<R>(first);
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

/// What the weight gradient's tiles read: every image's grid (`c_in` channels a pixel) and
/// output gradient channels last (`[B, P, blocks · V · LANES]`).
struct WeightGradientInput<'a> {
    grids: &'a [f32],
    /// The window of every output pixel of every image in `grids`, in order.
    windows: Vec<usize>,
    dy: &'a [f32],
    /// Values a pixel of `dy`.
    dy_channels: usize,
}

/// The sums `[pair][V · LANES]` of the (tap, input channel) pairs `first_pair..` (at most
/// `R`; `pairs` holds every pair's grid offset from the window, the last repeated past the
/// end and dropped) for output-channel block `block`, over every image and pixel.
#[inline(always)]
fn weight_gradient_tile<T: Lanes, const R: usize, const V: usize>(
    input: &WeightGradientInput,
    pairs: &[usize],
    first_pair: usize,
    block: usize,
) -> Vec<f32> {
    let width = V * LANES;
    let last = pairs.len() - 1;
    let pairs: [usize; R] = std::array::from_fn(|r| pairs[(first_pair + r).min(last)]);
    let mut acc = [[T::zero(); V]; R];
    for (&window, dy_p) in input
        .windows
        .iter()
        .zip(input.dy.chunks_exact(input.dy_channels))
    {
        acc = multiply_add(acc, &input.grids[window..], &pairs, &dy_p[block * width..]);
    }
    acc.iter()
        .flatten()
        .flat_map(|lanes| lanes.to_array())
        .collect()
}

/// The chains of a pass (see the module's docs).
#[derive(Clone, Copy)]
enum Pass<'a> {
    /// One image's `y`: [`forward_image`].
    Forward { grid: &'a [f32], c_in: usize },
    /// One image's `dx`, in its grid: [`input_gradient_image`].
    InputGradient { dy: &'a [f32] },
}

/// A tile's rows (pixels or pairs) and vectors of channels: as many accumulators as the
/// instruction set's registers hold. They do not change the bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    rows: usize,
    vectors: usize,
}

impl Shape {
    /// The tiles of `isa` over `channels` channels (output channels forward and for the
    /// weight gradient, input channels for the input gradient, whose rows are always
    /// [`INPUT_GRADIENT_PIXELS`]): AVX-512 blocks of up to four vectors where they waste no
    /// lane (16 to 24 of its 32 registers); elsewhere one vector of 16 lanes, two AVX2
    /// registers, six rows.
    fn of(isa: Isa, channels: usize, pass_rows: Option<usize>) -> Self {
        let (rows, vectors) = match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if channels.is_multiple_of(4 * LANES) => (4, 4),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if channels.is_multiple_of(2 * LANES) => (6, 2),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => (8, 1),
            _ => (6, 1),
        };
        Self {
            rows: pass_rows.unwrap_or(rows),
            vectors,
        }
    }
}

/// One image of `pass` in tiles of `shape`.
#[inline(always)]
fn image_generic<T: Lanes>(pass: Pass, taps: &Taps, shape: Shape, packed: &[f32], out: &mut [f32]) {
    match (pass, shape.rows, shape.vectors) {
        (Pass::Forward { grid, c_in }, 4, 4) => {
            forward_image::<T, 4, 4>(grid, taps, c_in, packed, out)
        }
        (Pass::Forward { grid, c_in }, 6, 2) => {
            forward_image::<T, 6, 2>(grid, taps, c_in, packed, out)
        }
        (Pass::Forward { grid, c_in }, 8, 1) => {
            forward_image::<T, 8, 1>(grid, taps, c_in, packed, out)
        }
        (Pass::Forward { grid, c_in }, _, _) => {
            forward_image::<T, 6, 1>(grid, taps, c_in, packed, out)
        }
        (Pass::InputGradient { dy }, _, 4) => input_gradient_image::<T, 4>(dy, taps, packed, out),
        (Pass::InputGradient { dy }, _, 2) => input_gradient_image::<T, 2>(dy, taps, packed, out),
        (Pass::InputGradient { dy }, _, _) => input_gradient_image::<T, 1>(dy, taps, packed, out),
    }
}

/// The weight gradient's tile of pairs `first_pair..` in `shape`.
#[inline(always)]
fn tile_generic<T: Lanes>(
    input: &WeightGradientInput,
    pairs: &[usize],
    first_pair: usize,
    block: usize,
    shape: Shape,
) -> Vec<f32> {
    match (shape.rows, shape.vectors) {
        (4, 4) => weight_gradient_tile::<T, 4, 4>(input, pairs, first_pair, block),
        (6, 2) => weight_gradient_tile::<T, 6, 2>(input, pairs, first_pair, block),
        (8, 1) => weight_gradient_tile::<T, 8, 1>(input, pairs, first_pair, block),
        _ => weight_gradient_tile::<T, 6, 1>(input, pairs, first_pair, block),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn image_avx512(pass: Pass, taps: &Taps, shape: Shape, packed: &[f32], out: &mut [f32]) {
    image_generic::<Zmm>(pass, taps, shape, packed, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn image_avx2(pass: Pass, taps: &Taps, shape: Shape, packed: &[f32], out: &mut [f32]) {
    image_generic::<[f32; LANES]>(pass, taps, shape, packed, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn tile_avx512(
    input: &WeightGradientInput,
    pairs: &[usize],
    first_pair: usize,
    block: usize,
    shape: Shape,
) -> Vec<f32> {
    tile_generic::<Zmm>(input, pairs, first_pair, block, shape)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn tile_avx2(
    input: &WeightGradientInput,
    pairs: &[usize],
    first_pair: usize,
    block: usize,
    shape: Shape,
) -> Vec<f32> {
    tile_generic::<[f32; LANES]>(input, pairs, first_pair, block, shape)
}

fn image_on(isa: Isa, pass: Pass, taps: &Taps, shape: Shape, packed: &[f32], out: &mut [f32]) {
    match isa {
        // SAFETY: `Isa::detect` found the features these paths are compiled for (tests
        // only ask for paths the machine has).
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { image_avx512(pass, taps, shape, packed, out) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { image_avx2(pass, taps, shape, packed, out) },
        Isa::Portable => image_generic::<[f32; LANES]>(pass, taps, shape, packed, out),
    }
}

fn tile_on(
    isa: Isa,
    input: &WeightGradientInput,
    pairs: &[usize],
    first_pair: usize,
    block: usize,
    shape: Shape,
) -> Vec<f32> {
    match isa {
        // SAFETY: as in `image_on`.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { tile_avx512(input, pairs, first_pair, block, shape) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { tile_avx2(input, pairs, first_pair, block, shape) },
        Isa::Portable => tile_generic::<[f32; LANES]>(input, pairs, first_pair, block, shape),
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
    for co in 0..g.c_out {
        for ci in 0..g.c_in {
            let (lane, d) = if forward { (co, ci) } else { (ci, co) };
            for t in 0..taps {
                let at = ((lane / width * taps + t) * depth + d) * width + lane % width;
                packed[at] = weight[(co * g.c_in + ci) * taps + t];
            }
        }
    }
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
    let packed = pack_weights(weight, g, true, shape.vectors * LANES);
    let grid = Grid::of(g, g.c_in);
    let taps = Taps::of(g, &grid);
    let image = g.c_in * g.input[0] * g.input[1];
    let mut y = vec![0.0f32; g.batch * g.c_out * g.pixels()];
    y.par_chunks_mut(g.c_out * g.pixels())
        .zip(x.par_chunks(image))
        .for_each(|(y_b, x_b)| {
            let mut padded = Scratch::take(grid.len);
            let padded = padded.values();
            grid.fill(x_b, g, padded);
            let pass = Pass::Forward {
                grid: padded,
                c_in: g.c_in,
            };
            image_on(isa, pass, &taps, shape, &packed, y_b);
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
            let pass = Pass::InputGradient { dy: dy_b };
            image_on(isa, pass, &taps, shape, &packed, padded);
            grid.crop(padded, g, dx_b);
        });
    dx
}

/// `dw [c_out, c_in, kh, kw]` of [`forward`] from the input `x` `[B, c_in, h, w]` and the
/// output gradient `dy` `[B, c_out, oh, ow]`; the geometry must be one that this path
/// [`fits`].
pub fn weight_gradient(x: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    weight_gradient_on(Isa::detect(), x, dy, g)
}

fn weight_gradient_on(isa: Isa, x: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    debug_assert!(
        fits(g),
        "small_maps::weight_gradient: unsupported geometry {g:?}"
    );
    let (pixels, image) = (g.pixels(), g.c_in * g.input[0] * g.input[1]);
    let shape = Shape::of(isa, g.c_out, None);
    let width = shape.vectors * LANES;
    let dy_channels = g.c_out.div_ceil(width) * width;
    let grid = Grid::of(g, g.c_in);
    let taps = Taps::of(g, &grid);
    // Every image's grid and output gradient, channels last, built in parallel.
    let mut grids = Scratch::take(g.batch * grid.len);
    let grids = grids.values();
    let mut dy_last = Scratch::take(g.batch * pixels * dy_channels);
    let dy_last = dy_last.values();
    grids
        .par_chunks_mut(grid.len)
        .zip(dy_last.par_chunks_mut(pixels * dy_channels))
        .zip(x.par_chunks(image).zip(dy.par_chunks(g.c_out * pixels)))
        .for_each(|((grid_b, dy_last_b), (x_b, dy_b))| {
            grid.fill(x_b, g, grid_b);
            dy_last_b.fill(0.0);
            for (co, row) in dy_b.chunks_exact(pixels).enumerate() {
                for (p, &value) in row.iter().enumerate() {
                    dy_last_b[p * dy_channels + co] = value;
                }
            }
        });
    let windows = (0..g.batch)
        .flat_map(|b| taps.windows.iter().map(move |w| b * grid.len + w))
        .collect();
    let input = WeightGradientInput {
        grids,
        windows,
        dy: dy_last,
        dy_channels,
    };
    // The pairs (tap, ci) in order, each as its grid offset from the window.
    let pairs: Vec<usize> = taps
        .offsets
        .iter()
        .flat_map(|&offset| (0..g.c_in).map(move |ci| offset + ci))
        .collect();
    let jobs: Vec<(usize, usize)> = (0..pairs.len())
        .step_by(shape.rows)
        .flat_map(|first| (0..dy_channels / width).map(move |block| (first, block)))
        .collect();
    let tiles: Vec<Vec<f32>> = jobs
        .par_iter()
        .map(|&(first, block)| tile_on(isa, &input, &pairs, first, block, shape))
        .collect();
    let n_taps = taps.offsets.len();
    let mut dw = vec![0.0f32; g.c_out * g.c_in * n_taps];
    for (&(first, block), tile) in jobs.iter().zip(&tiles) {
        for (pair, sums) in (first..pairs.len()).zip(tile.chunks_exact(width)) {
            let (t, ci) = (pair / g.c_in, pair % g.c_in);
            for (co, &value) in (block * width..g.c_out).zip(sums) {
                dw[(co * g.c_in + ci) * n_taps + t] = value;
            }
        }
    }
    dw
}

#[cfg(test)]
mod tests;
