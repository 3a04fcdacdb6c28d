//! Tests of the direct 3 × 3 layers: bit for bit against the unfolded path and a
//! one-value-at-a-time reference, on every instruction set the machine has.

use super::*;
use crate::kernels::conv::{unfolded_backward, unfolded_forward};
use crate::kernels::scratch::fill_spares;
use crate::kernels::test_support::on_threads;

pub(super) fn geometry(
    batch: usize,
    c_in: usize,
    c_out: usize,
    side: [usize; 2],
    padding: [usize; 4],
) -> ConvGeometry {
    ConvGeometry {
        batch,
        c_in,
        input: side,
        c_out,
        kernel: [3, 3],
        stride: [1, 1],
        padding,
    }
}

/// Values in (-1, 1) of no simple pattern, from `seed`.
pub(in crate::kernels) fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

pub(in crate::kernels) fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// The forward chains as the module's docs define them, one output at a time (the
/// padding's taps included: they add `w · 0`).
fn forward_reference(x: &[f32], w: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let [h, wd] = g.input;
    let [oh, ow] = g.output();
    let [top, left, _, _] = g.padding;
    let mut y = Vec::new();
    for b in 0..g.batch {
        for co in 0..g.c_out {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0.0f32;
                    for ci in 0..g.c_in {
                        for ki in 0..3 {
                            for kj in 0..3 {
                                let (iy, ix) = (
                                    (oy + ki) as isize - top as isize,
                                    (ox + kj) as isize - left as isize,
                                );
                                let inside =
                                    (0..h as isize).contains(&iy) && (0..wd as isize).contains(&ix);
                                let value = if inside {
                                    x[((b * g.c_in + ci) * h + iy as usize) * wd + ix as usize]
                                } else {
                                    0.0
                                };
                                acc = w[((co * g.c_in + ci) * 3 + ki) * 3 + kj].mul_add(value, acc);
                            }
                        }
                    }
                    y.push(acc);
                }
            }
        }
    }
    y
}

/// The input gradient's chains as the module's docs define them: per tap whose output
/// pixel exists, a chain over the output channels, added in tap order from zero.
fn input_gradient_reference(w: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let [h, wd] = g.input;
    let [oh, ow] = g.output();
    let [top, left, _, _] = g.padding;
    let mut dx = Vec::new();
    for b in 0..g.batch {
        for ci in 0..g.c_in {
            for iy in 0..h {
                for ix in 0..wd {
                    let mut total = 0.0f32;
                    for ki in 0..3 {
                        for kj in 0..3 {
                            let (oy, ox) = (
                                (iy + top) as isize - ki as isize,
                                (ix + left) as isize - kj as isize,
                            );
                            if !((0..oh as isize).contains(&oy) && (0..ow as isize).contains(&ox)) {
                                continue;
                            }
                            let mut acc = 0.0f32;
                            for co in 0..g.c_out {
                                acc = w[((co * g.c_in + ci) * 3 + ki) * 3 + kj].mul_add(
                                    dy[((b * g.c_out + co) * oh + oy as usize) * ow + ox as usize],
                                    acc,
                                );
                            }
                            total += acc;
                        }
                    }
                    dx.push(total);
                }
            }
        }
    }
    dx
}

/// Shapes that cross tile and row boundaries: widths 12 and 13 (rows shorter than a
/// tile), 17 (longer than a vector), asymmetric and no padding, channel counts that
/// are not multiples of a tile's rows.
fn shapes() -> Vec<ConvGeometry> {
    vec![
        geometry(2, 3, 5, [12, 12], [1, 1, 1, 1]),
        geometry(3, 4, 6, [13, 17], [0, 1, 2, 1]),
        geometry(1, 7, 3, [16, 14], [2, 0, 0, 2]),
        geometry(2, 2, 9, [14, 14], [0, 0, 0, 0]),
    ]
}

#[test]
fn every_value_is_the_documented_chain_bit_for_bit() {
    for (i, g) in shapes().into_iter().enumerate() {
        assert!(takes_forward(&g) && takes_input_gradient(&g), "{g:?}");
        let x = values(g.batch * g.c_in * g.input[0] * g.input[1], i as u64);
        let w = values(g.c_out * g.c_in * 9, 100 + i as u64);
        let y = forward(&x, &w, &g);
        assert_eq!(
            bits(&y),
            bits(&forward_reference(&x, &w, &g)),
            "forward {g:?}"
        );
        let dy = values(y.len(), 200 + i as u64);
        let dx = input_gradient(&w, &dy, &g);
        assert_eq!(
            bits(&dx),
            bits(&input_gradient_reference(&w, &dy, &g)),
            "input gradient {g:?}"
        );
    }
}

/// Where gemm's block holds the whole sum (`K = 9 · c_in` up to 512 on every machine),
/// the unfolded path gives the same bits: the generator's 16- and 32-channel layers.
#[test]
fn the_unfolded_path_gives_the_same_bits() {
    for (i, g) in [
        geometry(2, 16, 3, [24, 24], [1, 1, 1, 1]),
        geometry(2, 32, 32, [12, 12], [1, 1, 1, 1]),
        // 576 terms: one block where gemm's is at least that long (a 48 KiB L1).
        geometry(5, 64, 64, [12, 12], [1, 1, 1, 1]),
    ]
    .into_iter()
    .enumerate()
    {
        if !takes_forward(&g) {
            // Longer chains than this machine's gemm sums in one block.
            assert!(g.patch() > ONE_BLOCK, "{g:?}");
            continue;
        }
        let x = values(g.batch * g.c_in * g.input[0] * g.input[1], 10 + i as u64);
        let w = values(g.c_out * g.c_in * 9, 20 + i as u64);
        let y = forward(&x, &w, &g);
        assert_eq!(
            bits(&y),
            bits(&unfolded_forward(&x, &w, &g)),
            "forward {g:?}"
        );
        let dy = values(y.len(), 30 + i as u64);
        let (unfolded_dx, _) = unfolded_backward(&x, &w, &dy, &g, [true, false]);
        assert_eq!(
            bits(&input_gradient(&w, &dy, &g)),
            bits(&unfolded_dx),
            "input gradient {g:?}"
        );
    }
}

/// The paths this machine runs, the portable one included.
pub(in crate::kernels) fn paths() -> Vec<Isa> {
    let mut paths = vec![Isa::Portable];
    #[cfg(target_arch = "x86_64")]
    {
        let detected = Isa::detect();
        if matches!(detected, Isa::Avx512 | Isa::Avx2) {
            paths.push(Isa::Avx2);
        }
        if detected == Isa::Avx512 {
            paths.push(Isa::Avx512);
        }
    }
    paths
}

#[test]
fn every_instruction_set_gives_the_same_bits() {
    let (detected, paths) = (Isa::detect(), paths());
    // The path the kernels run on this machine is among those compared.
    assert!(paths.contains(&detected), "{detected:?}");
    let g = geometry(2, 5, 6, [13, 20], [1, 1, 1, 1]);
    let x = values(g.batch * g.c_in * 13 * 20, 7);
    let w = values(g.c_out * g.c_in * 9, 8);
    let dy = values(g.batch * g.c_out * 13 * 20, 9);
    let expected = (
        forward_on(Isa::Portable, &x, &w, &g),
        input_gradient_on(Isa::Portable, &w, &dy, &g),
    );
    for isa in paths {
        assert_eq!(
            bits(&forward_on(isa, &x, &w, &g)),
            bits(&expected.0),
            "{isa:?}"
        );
        assert_eq!(
            bits(&input_gradient_on(isa, &w, &dy, &g)),
            bits(&expected.1),
            "{isa:?}"
        );
    }
}

#[test]
fn the_thread_count_does_not_change_the_bits() {
    let g = geometry(5, 4, 4, [12, 12], [1, 1, 1, 1]);
    let x = values(g.batch * g.c_in * 144, 1);
    let w = values(g.c_out * g.c_in * 9, 2);
    let dy = values(g.batch * g.c_out * 144, 3);
    let run = |threads: usize| {
        on_threads(threads, || {
            (
                bits(&forward(&x, &w, &g)),
                bits(&input_gradient(&w, &dy, &g)),
            )
        })
    };
    assert_eq!(run(1), run(3));
}

/// Every value of the reused planes is written before it is read: with every spare
/// buffer of the (only) thread full of NaN, the results are the same.
#[test]
fn leftover_values_in_reused_buffers_are_never_read() {
    let g = geometry(1, 3, 4, [12, 13], [1, 0, 1, 2]);
    let x = values(3 * 12 * 13, 4);
    let w = values(4 * 3 * 9, 5);
    let dy = values(4 * g.pixels(), 6);
    on_threads(1, || {
        let clean = (
            bits(&forward(&x, &w, &g)),
            bits(&input_gradient(&w, &dy, &g)),
        );
        fill_spares(f32::NAN, 1 << 16);
        assert_eq!(bits(&forward(&x, &w, &g)), clean.0);
        fill_spares(f32::NAN, 1 << 16);
        assert_eq!(bits(&input_gradient(&w, &dy, &g)), clean.1);
    });
}
