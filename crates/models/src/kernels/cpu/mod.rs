//! The fused loops on plain row-major `f32` slices, shared by the flex backend's kernels.
//!
//! Each public function runs an AVX2 build of the same loop when the CPU has it (8 lanes
//! instead of SSE2's 4). Neither build uses fused multiply-add and every sum runs in a fixed
//! order, so both give the same bits: these loops give the same result on every x86-64
//! machine (the matrix products around them need not: see the README's "Reproducing").
//!
//! Each also splits its work in two with `rayon::join`, so the second core of the pool takes
//! half (it would otherwise wait for the next matrix product): the batch rows, or, for the
//! backward pass of the additive energy, whose `dv` sums over every row, the attention
//! columns. Every output element is still computed by one thread in the same order, so the
//! bits do not depend on the split or the thread count.
//!
//! One file a kernel: `additive.rs` (Bahdanau's energy), `gru.rs` and `lstm.rs` (one step of
//! each cell); this file holds what they share: the AVX2 dispatch, the rational `tanh`
//! and sigmoid, the dot product, the split between threads and the padding blend.

/// Lanes of the explicit accumulators of a dot product (see [`dot`]) or a sum.
pub(crate) const LANES: usize = 8;

/// The [`LANES`] accumulators of a sum added up, always in the same order: lanes four
/// apart first.
#[inline(always)]
pub(crate) fn add_lanes(acc: &[f32; LANES]) -> f32 {
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

/// Defines `fn $name` that runs its body compiled for AVX2 when the CPU has it, and the
/// baseline build otherwise.
macro_rules! avx2_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),*) {
            // Written once, compiled twice: inlined into an AVX2 build and a baseline one.
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use avx2_dispatch;

/// `tanh(x)` as a 13/6 rational function on `[-c, c]`, `±1` beyond (the coefficients of
/// Eigen's `ptanh_float`). Max absolute error 4e-7 (3 ulp near ±1) against libm's value
/// (tested in this module over a dense grid). Written without branches but the final select,
/// so a loop over a slice vectorizes.
#[inline(always)]
pub fn tanh_approx(x: f32) -> f32 {
    const CLAMP: f32 = 7.998_811_7;
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_672e-11;
    const A11: f32 = 2.000_188e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525e-3;
    const B2: f32 = 2.268_434_6e-3;
    const B4: f32 = 1.185_347e-4;
    const B6: f32 = 1.198_258_4e-6;
    // Below this the polynomial's rounding exceeds x's own: tanh(x) = x to f32 precision.
    const TINY: f32 = 4e-4;
    let xc = x.clamp(-CLAMP, CLAMP);
    let x2 = xc * xc;
    let mut p = A13;
    p = p * x2 + A11;
    p = p * x2 + A9;
    p = p * x2 + A7;
    p = p * x2 + A5;
    p = p * x2 + A3;
    p = p * x2 + A1;
    p *= xc;
    let mut q = B6;
    q = q * x2 + B4;
    q = q * x2 + B2;
    q = q * x2 + B0;
    if x.abs() < TINY { x } else { p / q }
}

/// `e^x` by Cody and Waite's reduction and Cephes' degree-6 polynomial (`expf`):
/// `x = n ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` from the polynomial, `2^n` written into the exponent
/// bits. Relative error below 2.5e-7 against the exact value (tested in this module over a
/// dense grid); 0 below -87.33 (where `e^x` leaves the normal range), `∞` above 88.37 (the
/// true overflow is at 88.72), NaN for NaN. Only multiplies and adds, no fused
/// multiply-add, and no branches but the final selects, so a loop over a slice vectorizes
/// and every instruction set gives the same bits. glibc's `expf` is a function call per
/// value, where the softmaxes and sigmoids of AttnGAN's step spent a tenth of it.
#[inline(always)]
pub fn exp_approx(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts: the first, 355 / 512, has 9 significant bits, so `n · LN2_HI` is
    // exact for every `|n| ≤ 128` and so is `x - n · LN2_HI`.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 · 2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    const ROUND_BITS: i32 = 0x4B40_0000;
    const LOWEST: f32 = -87.336_55;
    const HIGHEST: f32 = 88.37;
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ];
    let xc = x.clamp(LOWEST, HIGHEST);
    let shifted = xc * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let mut p = P[0];
    for c in &P[1..] {
        p = p * r + c;
    }
    let e_r = (p * (r * r) + r) + 1.0;
    // 2^n: n + 127 in the exponent field (n ∈ [-126, 127] after the clamp).
    let n_bits = shifted.to_bits() as i32 - ROUND_BITS;
    let scale = f32::from_bits(((n_bits + 127) as u32) << 23);
    let y = e_r * scale;
    if x < LOWEST {
        0.0
    } else if x > HIGHEST {
        f32::INFINITY
    } else {
        y
    }
}

/// `σ(x) = (1 + tanh(x / 2)) / 2`, through [`tanh_approx`]: max error 2e-7.
#[inline(always)]
pub fn sigmoid_approx(x: f32) -> f32 {
    0.5 + 0.5 * tanh_approx(0.5 * x)
}

/// `Σ_a x[a] y[a]` with [`LANES`] accumulators combined in a fixed order.
#[inline(always)]
pub(crate) fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (x_chunks, y_chunks) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let tail: f32 = x_chunks
        .remainder()
        .iter()
        .zip(y_chunks.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (x, y) in x_chunks.zip(y_chunks) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    add_lanes(&acc) + tail
}

/// Values per parallel chunk of a flat pass over a large tensor (the image models'
/// activations, norms, pools and biases), so a small tensor is not split into slivers.
pub(crate) const CHUNK: usize = 1 << 14;

/// Rows per parallel chunk for rows of `width` values (or planes of `width` pixels): a row
/// at least [`CHUNK`] long is a chunk of its own, shorter rows are taken several at a time.
pub(crate) fn rows_per_chunk(width: usize) -> usize {
    CHUNK.div_ceil(width.max(1)).max(1)
}

/// Below this many values a kernel runs on one thread: the hand-off (a few microseconds)
/// would cost more than the second half of the work.
const MIN_SPLIT_VALUES: usize = 4096;

/// Where to split `rows` rows of `per_row` values in two, or `None` to run on one thread.
fn split_point(rows: usize, per_row: usize) -> Option<usize> {
    (rows >= 2 && rows * per_row >= MIN_SPLIT_VALUES).then_some(rows / 2)
}

/// Padding mask of a step: `take[b]` is 1.0 where row `b` has a real token at this step
/// and 0.0 where it is padding; a padded row keeps its previous state. The blend is written
/// `prev + (new - prev) · take`, the same operations as the composite version, so masked
/// and composite steps give the same bits.
#[inline(always)]
fn blend(prev: f32, new: f32, take: f32) -> f32 {
    prev + (new - prev) * take
}

mod additive;
mod gru;
mod lstm;

pub use additive::{additive_energy_backward, additive_energy_forward};
pub use gru::{gru_backward, gru_forward};
pub use lstm::{lstm_backward, lstm_forward};

/// Inputs and bit-for-bit comparisons for the kernels' tests.
#[cfg(test)]
mod test_data {
    /// Values in [-2, 2) from a fixed linear congruential sequence.
    pub(super) fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
            })
            .collect()
    }

    /// The recurrent kernels' split-between-threads cases, `(batch, hidden)`: the reference
    /// workload's (64, 128) and odd ones.
    pub(super) const SPLIT_CASES: [(usize, usize); 2] = [(64, 128), (33, 40)];

    /// A padding mask over `batch` rows (see `blend`): rows 1, 4, 7, ... padded.
    pub(super) fn every_third_padded(batch: usize) -> Vec<f32> {
        (0..batch).map(|b| (b % 3 != 1) as u8 as f32).collect()
    }

    pub(super) fn assert_same_bits(split: &[f32], whole: &[f32], what: &str) {
        assert_eq!(split.len(), whole.len(), "{what}: length");
        let differ = split
            .iter()
            .zip(whole)
            .filter(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(differ.count(), 0, "{what}: the split run differs");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rational approximation against the libm value on a dense grid, the tails and
    /// the tiny-argument branch.
    #[test]
    fn tanh_approx_is_within_4e7_of_tanh() {
        let mut worst = 0.0f32;
        let mut x = -12.0f32;
        while x <= 12.0 {
            worst = worst.max((tanh_approx(x) - x.tanh()).abs());
            x += 1.0 / 1024.0;
        }
        for x in [1e-6f32, -3e-4, 4e-4, 5e-4, 20.0, -1e4, f32::MAX, f32::MIN] {
            worst = worst.max((tanh_approx(x) - x.tanh()).abs());
        }
        assert!(worst < 4e-7, "max |tanh_approx - tanh| = {worst:e}");
        assert_eq!(tanh_approx(0.0), 0.0);
        assert_eq!(tanh_approx(-0.5), -tanh_approx(0.5));
    }

    /// The polynomial `exp` against the exact value (in `f64`) on a dense grid over its
    /// whole range, and its edges: exact at 0, 0 far below, ∞ above, NaN through.
    #[test]
    fn exp_approx_is_within_2_5e7_of_exp() {
        let mut worst = 0.0f64;
        let mut x = -87.3f32;
        while x <= 88.3 {
            let exact = (x as f64).exp();
            worst = worst.max(((exp_approx(x) as f64 - exact) / exact).abs());
            x += 1.0 / 4096.0;
        }
        for x in [-1e-7f32, 1e-7, 1e-30, -0.5 * std::f32::consts::LN_2, 87.0] {
            let exact = (x as f64).exp();
            worst = worst.max(((exp_approx(x) as f64 - exact) / exact).abs());
        }
        assert!(worst < 2.5e-7, "max relative error {worst:e}");
        assert_eq!(exp_approx(0.0), 1.0);
        assert_eq!(exp_approx(-0.0), 1.0);
        for far_below in [-88.0f32, -1e9, f32::MIN, f32::NEG_INFINITY] {
            assert_eq!(exp_approx(far_below), 0.0, "e^{far_below}");
        }
        assert_eq!(exp_approx(89.0), f32::INFINITY);
        assert_eq!(exp_approx(f32::INFINITY), f32::INFINITY);
        assert!(exp_approx(f32::NAN).is_nan());
    }
}
