//! Direct 3 × 3, stride-1 convolution and its input gradient, without unfolding.
//!
//! The unfolded matrix of [`super::conv`] costs as much to write and read as the product
//! that uses it. Here every image is copied once into a zero-padded plane per channel,
//! `Wp = w + left + right` values a row, and the output is computed on the same row
//! pitch: output pixel `p = oy · Wp + ox` reads input `p + ki · Wp + kj` for tap `(ki,
//! kj)`, so every tap is one contiguous run of the padded channel and the convolution is
//! nine shifted multiply-adds over it, vectorized over 16 consecutive output pixels and
//! shared by 4 output channels a tile. The `Wp - ow` columns past each output row are
//! computed and dropped (4% at 48 pixels). The weight gradient has a module of its own,
//! [`weight_gradient`], whose sums are gemm's blocked ones.
//!
//! # The same sums as the unfolded path
//!
//! Each value is computed as the unfolded path's gemm product computes it when its inner
//! dimension fits one of gemm's blocks (at least 512 values, more with a larger L1 cache;
//! [`inner_block`] says how long they are on this machine):
//!
//! - forward: one chain of fused multiply-adds from zero, `y[co, p] = fma(w[co, ci, ki,
//!   kj], x[ci, p + tap], ·)` over `ci`, then `ki`, then `kj`, ascending (`K = 9 · c_in`);
//! - input gradient: per tap `(ki, kj)` one chain over the output channels (`K = c_out`),
//!   the nine added from zero in tap order, as the folding adds them.
//!
//! gemm sizes its blocks from the L1 data cache, never shorter than 512 ([`ONE_BLOCK`]), so
//! this path takes the sums that fit one block on every machine, and the longer ones that
//! fit one block on this machine, and there gives the unfolded path's bits (a test checks
//! both at the generator's 16, 32 and 64 channels).
//! Threads split images, never a chain, and the AVX-512, AVX2 and portable paths run the
//! same chains with wider or narrower registers (a test checks all the machine has, bit for
//! bit).

use std::mem::MaybeUninit;
use std::ops::Range;

use rayon::prelude::*;

use super::conv::ConvGeometry;
use super::product::inner_block;

mod weight_gradient;
use super::output::written_whole;
use super::scratch::Scratch;
pub use weight_gradient::{takes_weight_gradient, weight_gradient};

/// Output pixels per vector: the lanes of the chains.
const LANES: usize = 16;

/// Whether [`forward`] takes this convolution: one that [`fits`], whose chains (`9 · c_in`
/// terms) fit one of gemm's blocks on every machine, or in every group's product on this
/// one, so that both paths give the same bits.
pub fn takes_forward(g: &ConvGeometry) -> bool {
    let terms = g.patch();
    fits(g)
        && (terms <= ONE_BLOCK
            || groups(g).iter().all(|images| {
                inner_block([g.c_out, terms, images.len() * g.pixels()])
                    .is_some_and(|block| block >= terms)
            }))
}

/// The images of each group, as the unfolded path groups them.
fn groups(g: &ConvGeometry) -> Vec<Range<usize>> {
    let (batch, group) = (g.batch, g.group());
    (0..batch.div_ceil(group))
        .map(|i| i * group..((i + 1) * group).min(batch))
        .collect()
}

/// Whether [`input_gradient`] takes this convolution: one that [`fits`], whose chains
/// (`c_out` terms) fit one of gemm's blocks on every machine.
pub fn takes_input_gradient(g: &ConvGeometry) -> bool {
    fits(g) && g.c_out <= ONE_BLOCK
}

/// The shapes this path computes: a 3 × 3 kernel at stride 1 with padding of at most 2 on
/// every side (so the input gradient's padding `2 - pad` is not negative), on outputs at
/// least [`MIN_WIDTH`] wide. Smaller ones waste most of a vector per row and stay with the
/// unfolding, whose products group images.
fn fits(g: &ConvGeometry) -> bool {
    g.kernel == [3, 3]
        && g.stride == [1, 1]
        && g.padding.iter().all(|&p| p <= 2)
        && g.output()[1] >= MIN_WIDTH
}

/// gemm's shortest block of an inner dimension: it sizes the blocks from the L1 data cache,
/// never below 512 (`gemm_common::cache::kernel_params`), and sums each block as one chain.
/// A longer sum is split on some machines and not on others, so this path, whose chains are
/// never split, takes only sums this long or shorter: there it agrees with gemm everywhere.
const ONE_BLOCK: usize = 512;

/// The narrowest output this path takes: measured on AttnGAN's quick preset, 12-pixel maps
/// (14-value rows) were already faster direct than unfolded.
const MIN_WIDTH: usize = 12;

/// Where one image's padded planes and its output rows lie.
#[derive(Clone, Copy)]
struct Layout {
    /// Padded row length `Wp`: the pitch of both the padded input and the computed output.
    pitch: usize,
    /// `Hp · Wp`: one padded input channel.
    plane: usize,
    /// Output values computed per channel: `oh · Wp` rounded up to whole [`ROUND`]s.
    computed: usize,
    /// Offsets of the taps `ki · Wp + kj`, row-major.
    taps: [usize; 9],
    /// Length of one image's padded input: its last channel's plane plus what the last
    /// tile's farthest tap reads past it.
    padded_len: usize,
}

impl Layout {
    fn of(g: &ConvGeometry) -> Self {
        let [h, w] = g.input;
        let [top, left, bottom, right] = g.padding;
        let pitch = w + left + right;
        let plane = (h + top + bottom) * pitch;
        let [oh, _] = g.output();
        let computed = (oh * pitch).div_ceil(ROUND) * ROUND;
        let taps = std::array::from_fn(|t| (t / 3) * pitch + t % 3);
        let padded_len = (g.c_in - 1) * plane + (computed + taps[8]).max(plane);
        Self {
            pitch,
            plane,
            computed,
            taps,
            padded_len,
        }
    }
}

/// Copies one image `[c_in, h, w]` into `padded` on the layout's pitch, zeros around it
/// (only the padding written as zeros: the image's values are written once).
fn pad_image(image: &[f32], g: &ConvGeometry, layout: &Layout, padded: &mut [f32]) {
    let [h, w] = g.input;
    let [top, left, _, _] = g.padding;
    let pitch = layout.pitch;
    for (channel, plane) in image
        .chunks_exact(h * w)
        .zip(padded.chunks_mut(layout.plane))
    {
        let (above, rest) = plane.split_at_mut((top * pitch).min(plane.len()));
        above.fill(0.0);
        for (row, padded_row) in channel.chunks_exact(w).zip(rest.chunks_exact_mut(pitch)) {
            padded_row[..left].fill(0.0);
            padded_row[left..left + w].copy_from_slice(row);
            padded_row[left + w..].fill(0.0);
        }
        rest[h * pitch..].fill(0.0);
    }
    padded[g.c_in * layout.plane..].fill(0.0);
}

/// Computed outputs are rounded up to whole multiples of this many pixels: a tile of every
/// path (1 or 4 vectors) divides it.
const ROUND: usize = 4 * LANES;

/// The instruction sets with a path of their own. Every path gives the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Portable,
}

impl Isa {
    /// The widest this machine runs.
    pub(super) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// Output channels (input channels, for the input gradient) per tile: each shares the
    /// tile's loads. Must match the `R` of [`image_on`]'s paths.
    fn rows(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 | Isa::Avx2 => 4,
            Isa::Portable => 2,
        }
    }
}

/// Fills `out [blocks · R, computed]` tile by tile: `tile(block, p0)` gives the `R × V`
/// vectors of rows `block · R..` at pixels `p0..`.
#[inline(always)]
fn fill_tiles<const R: usize, const V: usize>(
    out: &mut [f32],
    computed: usize,
    mut tile: impl FnMut(usize, usize) -> [[[f32; LANES]; V]; R],
) {
    for (block, out_block) in out.chunks_exact_mut(R * computed).enumerate() {
        for p0 in (0..computed).step_by(LANES * V) {
            for (r, rows) in tile(block, p0).iter().enumerate() {
                for (v, lanes) in rows.iter().enumerate() {
                    out_block[r * computed + p0 + v * LANES..][..LANES].copy_from_slice(lanes);
                }
            }
        }
    }
}

/// `acc[r][v][l] = fma(weights[r], run[v · LANES + l], acc[r][v][l])`: one link of every
/// chain of the tile.
#[inline(always)]
fn multiply_add<const R: usize, const V: usize>(
    acc: &mut [[[f32; LANES]; V]; R],
    weights: &[f32],
    run: &[f32],
) {
    for (v, xs) in run[..LANES * V].chunks_exact(LANES).enumerate() {
        let xs: &[f32; LANES] = xs.try_into().expect("a whole vector");
        for (r, &w) in weights[..R].iter().enumerate() {
            for (a, &x) in acc[r][v].iter_mut().zip(xs) {
                *a = w.mul_add(x, *a);
            }
        }
    }
}

/// One image's forward tiles: `out [blocks · R, computed]` from the padded image and the
/// weights packed `[block][ci][tap][r]`. `V` vectors of [`LANES`] pixels a tile.
#[inline(always)]
fn forward_image<const R: usize, const V: usize>(
    padded: &[f32],
    layout: &Layout,
    c_in: usize,
    packed: &[f32],
    out: &mut [f32],
) {
    fill_tiles::<R, V>(out, layout.computed, |block, p0| {
        let weights = &packed[block * c_in * 9 * R..][..c_in * 9 * R];
        let mut acc = [[[0.0f32; LANES]; V]; R];
        for ci in 0..c_in {
            let channel = &padded[ci * layout.plane + p0..];
            for (tap, w_t) in layout
                .taps
                .iter()
                .zip(weights[ci * 9 * R..][..9 * R].chunks_exact(R))
            {
                multiply_add(&mut acc, w_t, &channel[*tap..]);
            }
        }
        acc
    })
}

/// One image's input-gradient tiles: `out [blocks · R, computed]` (blocks of input channels)
/// from the padded output gradient and the weights packed `[block][co][tap][r]`. For each
/// input pixel, one chain over the output channels per tap, the taps' chains then added in
/// order: the same sums, in the same order, as the unfolded path's product (one chain over
/// `co`, as `K = c_out` never splits) and its folding (taps added in row order from zero).
/// Taps whose output pixel lies in the padding read zeros and add nothing.
#[inline(always)]
fn input_gradient_image<const R: usize, const V: usize>(
    padded: &[f32],
    layout: &Layout,
    c_out: usize,
    packed: &[f32],
    out: &mut [f32],
) {
    fill_tiles::<R, V>(out, layout.computed, |block, p0| {
        let weights = &packed[block * c_out * 9 * R..][..c_out * 9 * R];
        let mut total = [[[0.0f32; LANES]; V]; R];
        for tap in 0..9 {
            // Weight tap (ki, kj) meets the output pixel (iy - ki, ix - kj): offset
            // (2 - ki, 2 - kj) in the output gradient padded by 2 - pad.
            let offset = layout.taps[8 - tap];
            let mut acc = [[[0.0f32; LANES]; V]; R];
            for co in 0..c_out {
                let run = &padded[co * layout.plane + p0 + offset..];
                multiply_add(&mut acc, &weights[(co * 9 + tap) * R..], run);
            }
            for (sums, terms) in total.iter_mut().zip(&acc) {
                for (sum, term) in sums.iter_mut().zip(terms) {
                    for (s, t) in sum.iter_mut().zip(term) {
                        *s += t;
                    }
                }
            }
        }
        total
    })
}

/// The chains a pass runs over one image (see the module's docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// `y` from `x`: [`forward_image`].
    Forward,
    /// `dx` from `dy`: [`input_gradient_image`].
    InputGradient,
}

/// One image's tiles of `pass`, on the widest path `isa` allows. `V`, the vectors a tile,
/// and `R`, the rows, are chosen per instruction set for its registers; they do not change
/// the bits.
macro_rules! image_on_isa {
    ($name:ident, $features:literal, $rows:literal, $vectors:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        fn $name(
            pass: Pass,
            padded: &[f32],
            layout: &Layout,
            depth: usize,
            packed: &[f32],
            out: &mut [f32],
        ) {
            match pass {
                Pass::Forward => {
                    forward_image::<$rows, $vectors>(padded, layout, depth, packed, out)
                }
                Pass::InputGradient => {
                    input_gradient_image::<$rows, $vectors>(padded, layout, depth, packed, out)
                }
            }
        }
    };
}
image_on_isa!(image_avx512, "avx512f,avx2,fma", 4, 4);
image_on_isa!(image_avx2, "avx2,fma", 4, 1);

/// `depth`: the channels each chain runs over (`c_in` forward, `c_out` for the input
/// gradient).
fn image_on(
    isa: Isa,
    pass: Pass,
    padded: &[f32],
    layout: &Layout,
    depth: usize,
    packed: &[f32],
    out: &mut [f32],
) {
    match (isa, pass) {
        // SAFETY: `Isa::detect` found the features these paths are compiled for (tests
        // only ask for paths the machine has).
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, _) => unsafe { image_avx512(pass, padded, layout, depth, packed, out) },
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, _) => unsafe { image_avx2(pass, padded, layout, depth, packed, out) },
        (Isa::Portable, Pass::Forward) => forward_image::<2, 1>(padded, layout, depth, packed, out),
        (Isa::Portable, Pass::InputGradient) => {
            input_gradient_image::<2, 1>(padded, layout, depth, packed, out)
        }
    }
}

/// `weight [rows_total, depth, 3, 3]` as the tiles read it: `[block][depth][tap][r]` for
/// blocks of `rows` of the first axis, zeros past `rows_total`.
fn pack_weights(weight: &[f32], rows_total: usize, depth: usize, rows: usize) -> Vec<f32> {
    let blocks = rows_total.div_ceil(rows);
    let mut packed = vec![0.0f32; blocks * depth * 9 * rows];
    for row in 0..rows_total {
        let (block, r) = (row / rows, row % rows);
        for d in 0..depth {
            for tap in 0..9 {
                packed[((block * depth + d) * 9 + tap) * rows + r] =
                    weight[(row * depth + d) * 9 + tap];
            }
        }
    }
    packed
}

/// `y [B, c_out, oh, ow]` of `x [B, c_in, h, w]` and `weight [c_out, c_in, 3, 3]` (no
/// bias); the geometry must be one that [`takes_forward`] accepts.
pub fn forward(x: &[f32], weight: &[f32], g: &ConvGeometry) -> Vec<f32> {
    forward_on(Isa::detect(), x, weight, g)
}

fn forward_on(isa: Isa, x: &[f32], weight: &[f32], g: &ConvGeometry) -> Vec<f32> {
    debug_assert!(
        takes_forward(g),
        "direct::forward: unsupported geometry {g:?}"
    );
    let packed = pack_weights(weight, g.c_out, g.c_in, isa.rows());
    run_images(isa, Pass::Forward, x, &packed, g)
}

/// `dx [B, c_in, h, w]` of [`forward`] from the output gradient `dy` `[B, c_out, oh, ow]`;
/// the geometry must be one that [`takes_input_gradient`] accepts.
pub fn input_gradient(weight: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    input_gradient_on(Isa::detect(), weight, dy, g)
}

fn input_gradient_on(isa: Isa, weight: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    debug_assert!(
        takes_input_gradient(g),
        "direct::input_gradient: unsupported geometry {g:?}"
    );
    // The output gradient padded by `2 - pad` on each side: its 3 × 3 windows at stride 1
    // are the input pixels' (the output size is the input's).
    let [top, left, bottom, right] = g.padding;
    let transposed = ConvGeometry {
        batch: g.batch,
        c_in: g.c_out,
        input: g.output(),
        c_out: g.c_in,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [2 - top, 2 - left, 2 - bottom, 2 - right],
    };
    debug_assert_eq!(transposed.output(), g.input);
    // [c_in, c_out, 3, 3]: rows are input channels, chains run over output channels.
    let mut swapped = vec![0.0f32; weight.len()];
    for co in 0..g.c_out {
        for ci in 0..g.c_in {
            swapped[(ci * g.c_out + co) * 9..][..9]
                .copy_from_slice(&weight[(co * g.c_in + ci) * 9..][..9]);
        }
    }
    let packed = pack_weights(&swapped, g.c_in, g.c_out, isa.rows());
    run_images(isa, Pass::InputGradient, dy, &packed, &transposed)
}

/// Runs `pass` over every image of `x [B, g.c_in, h, w]` (in parallel), each padded into a
/// scratch plane, and crops the computed rows into `[B, g.c_out, oh, ow]`.
fn run_images(isa: Isa, pass: Pass, x: &[f32], packed: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let [oh, ow] = g.output();
    let len = g.batch * g.c_out * oh * ow;
    if len == 0 {
        return Vec::new();
    }
    let layout = Layout::of(g);
    let channels = g.c_out.div_ceil(isa.rows()) * isa.rows();
    let [h, w] = g.input;
    assert_eq!(x.len(), g.batch * g.c_in * h * w, "direct: input of {g:?}");
    let image = |y_b: &mut [MaybeUninit<f32>], x_b: &[f32]| {
        let mut padded = Scratch::take(layout.padded_len);
        let padded = padded.values();
        pad_image(x_b, g, &layout, padded);
        let mut out = Scratch::take(channels * layout.computed);
        let out = out.values();
        image_on(isa, pass, padded, &layout, g.c_in, packed, out);
        for (y_c, out_c) in y_b
            .chunks_exact_mut(oh * ow)
            .zip(out.chunks_exact(layout.computed))
        {
            for (y_row, out_row) in y_c.chunks_exact_mut(ow).zip(out_c.chunks(layout.pitch)) {
                y_row.write_copy_of_slice(&out_row[..ow]);
            }
        }
    };
    // SAFETY: the images cover `y`; each writes every row of every output channel (the
    // `c_out` channels of `oh` rows of `out` that `image_on` computes).
    unsafe {
        written_whole(len, |y| {
            y.par_chunks_mut(g.c_out * oh * ow)
                .zip(x.par_chunks(g.c_in * h * w))
                .for_each(|(y_b, x_b)| image(y_b, x_b))
        })
    }
}

#[cfg(test)]
pub(super) mod tests;
