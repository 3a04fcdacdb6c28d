//! Tests of the small maps' direct convolution: a hand-derived case, every value against the
//! documented chain bit for bit (on every instruction set and thread count), and the
//! unfolded path to rounding.

use super::*;
use crate::kernels::conv::{conv2d_backward, conv2d_forward, unfolded_backward, unfolded_forward};
use crate::kernels::direct::tests::{bits, paths, values};
use crate::kernels::scratch::fill_spares;
use crate::kernels::test_support::on_threads;

fn geometry(
    batch: usize,
    c_in: usize,
    input: [usize; 2],
    c_out: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 4],
) -> ConvGeometry {
    ConvGeometry {
        batch,
        c_in,
        input,
        c_out,
        kernel,
        stride,
        padding,
    }
}

/// A discriminator's 4 × 4, stride-2 layer (padding 1) on `side × side` images.
fn halving(batch: usize, c_in: usize, side: usize, c_out: usize) -> ConvGeometry {
    geometry(batch, c_in, [side, side], c_out, [4, 4], [2, 2], [1; 4])
}

/// Shapes that cover one and two vectors a block, a last block past the channels, the
/// joins' 3 × 3 maps, a rectangular, asymmetric case, chains stopped and taken up again
/// (more links than one pass of the forward's weights, more output pixels than one pass of
/// the weight gradient's) and several forward jobs.
fn shapes() -> Vec<ConvGeometry> {
    vec![
        halving(2, 3, 12, 16),
        geometry(2, 48, [3, 3], 16, [3, 3], [1, 1], [1; 4]),
        halving(2, 5, 6, 32),
        halving(3, 32, 6, 16),
        geometry(2, 20, [3, 3], 48, [3, 3], [1, 1], [1; 4]),
        geometry(2, 2, [7, 5], 16, [3, 2], [2, 1], [1, 0, 0, 1]),
    ]
}

/// Input pixel `(py, px)` of the padded image `b`, channel `ci`: 0 in the padding.
fn padded(x: &[f32], g: &ConvGeometry, b: usize, ci: usize, py: usize, px: usize) -> f32 {
    let [h, w] = g.input;
    let [top, left, _, _] = g.padding;
    match (py.checked_sub(top), px.checked_sub(left)) {
        (Some(y), Some(x_)) if y < h && x_ < w => x[((b * g.c_in + ci) * h + y) * w + x_],
        _ => 0.0,
    }
}

/// The padded pixel tap `t` of output pixel `p` reads.
fn tap_pixel(g: &ConvGeometry, p: usize, t: usize) -> (usize, usize) {
    let ow = g.output()[1];
    let (oy, ox) = (p / ow, p % ow);
    let (ki, kj) = (t / g.kernel[1], t % g.kernel[1]);
    (oy * g.stride[0] + ki, ox * g.stride[1] + kj)
}

fn taps_of(g: &ConvGeometry) -> usize {
    g.kernel[0] * g.kernel[1]
}

/// The forward chains as the module's docs define them, one output at a time.
fn forward_reference(x: &[f32], w: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let (pixels, taps) = (g.pixels(), taps_of(g));
    let mut y = vec![0.0f32; g.batch * g.c_out * pixels];
    for b in 0..g.batch {
        for co in 0..g.c_out {
            for p in 0..pixels {
                let mut acc = 0.0f32;
                for t in 0..taps {
                    let (py, px) = tap_pixel(g, p, t);
                    for ci in 0..g.c_in {
                        let weight = w[(co * g.c_in + ci) * taps + t];
                        acc = padded(x, g, b, ci, py, px).mul_add(weight, acc);
                    }
                }
                y[(b * g.c_out + co) * pixels + p] = acc;
            }
        }
    }
    y
}

/// The input gradient's chains and their order as the module's docs define them: per
/// tile of output pixels, tap and pixel, one chain over the output channels, added to the
/// input pixel it reaches (dropped in the padding).
fn input_gradient_reference(w: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let ([h, wd], [top, left, _, _]) = (g.input, g.padding);
    let (pixels, taps) = (g.pixels(), taps_of(g));
    let mut dx = vec![0.0f32; g.batch * g.c_in * h * wd];
    for b in 0..g.batch {
        for ci in 0..g.c_in {
            for first in (0..pixels).step_by(INPUT_GRADIENT_PIXELS) {
                for t in 0..taps {
                    for p in first..(first + INPUT_GRADIENT_PIXELS).min(pixels) {
                        let mut chain = 0.0f32;
                        for co in 0..g.c_out {
                            let d = dy[(b * g.c_out + co) * pixels + p];
                            chain = d.mul_add(w[(co * g.c_in + ci) * taps + t], chain);
                        }
                        let (py, px) = tap_pixel(g, p, t);
                        if let (Some(y), Some(x)) = (py.checked_sub(top), px.checked_sub(left))
                            && y < h
                            && x < wd
                        {
                            dx[((b * g.c_in + ci) * h + y) * wd + x] += chain;
                        }
                    }
                }
            }
        }
    }
    dx
}

/// The weight gradient's chains: over every image, then every output pixel.
fn weight_gradient_reference(x: &[f32], dy: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let (pixels, taps) = (g.pixels(), taps_of(g));
    let mut dw = vec![0.0f32; g.c_out * g.c_in * taps];
    for co in 0..g.c_out {
        for ci in 0..g.c_in {
            for t in 0..taps {
                let mut acc = 0.0f32;
                for b in 0..g.batch {
                    for p in 0..pixels {
                        let (py, px) = tap_pixel(g, p, t);
                        let d = dy[(b * g.c_out + co) * pixels + p];
                        acc = padded(x, g, b, ci, py, px).mul_add(d, acc);
                    }
                }
                dw[(co * g.c_in + ci) * taps + t] = acc;
            }
        }
    }
    dw
}

/// Input, weights and output gradient for `g`, from `seed`.
fn operands(g: &ConvGeometry, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    (
        values(g.batch * g.c_in * g.input[0] * g.input[1], seed),
        values(g.c_out * g.c_in * taps_of(g), seed + 1),
        values(g.batch * g.c_out * g.pixels(), seed + 2),
    )
}

/// Ones everywhere, a 4 × 4 image, 4 × 4 kernel at stride 2 with padding 1: the two
/// windows a side cover padded rows 0-3 and 2-5, that is image rows 0-2 and 1-3. So every
/// output is 9 taps inside the image times `c_in`; the input gradient of the outputs' sum
/// counts the windows over each pixel (1, 2, 2, 1 a side) times `c_out`; and the weight
/// gradient counts the windows whose tap lands inside the image (tap row 0 only in the
/// second window, row 3 only in the first: 1, 2, 2, 1 a side) times the batch.
#[test]
fn all_ones_give_the_hand_counted_windows() {
    let g = halving(2, 3, 4, 16);
    assert_eq!(g.output(), [2, 2]);
    let (x, w, dy) = (
        vec![1.0; 2 * 3 * 16],
        vec![1.0; 16 * 3 * 16],
        vec![1.0; 2 * 16 * 4],
    );
    assert_eq!(forward(&x, &w, &g), vec![27.0; 2 * 16 * 4]);
    let side = [1.0, 2.0, 2.0, 1.0];
    let counts: Vec<f32> = side.iter().flat_map(|a| side.map(|b| a * b)).collect();
    let expected_dx: Vec<f32> = counts.iter().map(|c| c * 16.0).collect();
    assert_eq!(input_gradient(&w, &dy, &g), expected_dx.repeat(2 * 3));
    let expected_dw: Vec<f32> = counts.iter().map(|c| c * 2.0).collect();
    assert_eq!(weight_gradient(&x, &dy, &g), expected_dw.repeat(16 * 3));
}

#[test]
fn every_value_is_the_documented_chain_bit_for_bit() {
    let (detected, paths) = (Isa::detect(), paths());
    // The path the kernels run on this machine is among those compared.
    assert!(paths.contains(&detected), "{detected:?}");
    // The shapes stop and take up chains, and split the forward pass into jobs.
    let links = |g: &ConvGeometry| g.c_in * taps_of(g);
    assert!(
        shapes()
            .iter()
            .any(|g| links(g) > FORWARD_WEIGHT_VALUES / LANES)
    );
    assert!(
        shapes()
            .iter()
            .any(|g| g.batch * g.pixels() > WEIGHT_GRADIENT_ROWS)
    );
    assert!(
        shapes()
            .iter()
            .any(|g| g.batch * g.pixels() > FORWARD_JOB_ROWS)
    );
    for (i, g) in shapes().into_iter().enumerate() {
        assert!(fits(&g), "{g:?}");
        let (x, w, dy) = operands(&g, 10 * i as u64);
        let expected = (
            bits(&forward_reference(&x, &w, &g)),
            bits(&input_gradient_reference(&w, &dy, &g)),
            bits(&weight_gradient_reference(&x, &dy, &g)),
        );
        for &isa in &paths {
            for threads in [1, 3] {
                let got = on_threads(threads, || {
                    (
                        bits(&forward_on(isa, &x, &w, &g)),
                        bits(&input_gradient_on(isa, &w, &dy, &g)),
                        bits(&weight_gradient_on(isa, &x, &dy, &g)),
                    )
                });
                let what = format!("{g:?} on {isa:?}, {threads} threads");
                assert_eq!(got.0, expected.0, "forward, {what}");
                assert_eq!(got.1, expected.1, "input gradient, {what}");
                assert_eq!(got.2, expected.2, "weight gradient, {what}");
            }
        }
    }
}

/// The discriminators' layers (fewer images): `conv2d_forward` and `conv2d_backward` take
/// each pass of this path where it is faster, and every pass agrees with the unfolded
/// path's products to rounding.
#[test]
fn the_convolution_takes_this_path_which_agrees_with_the_unfolded_one() {
    let layers = [
        halving(3, 3, 24, 16),
        halving(3, 16, 12, 32),
        halving(3, 64, 6, 128),
        geometry(3, 192, [3, 3], 128, [3, 3], [1, 1], [1; 4]),
    ];
    for g in layers {
        let (x, w, dy) = operands(&g, 3);
        let (y, dx, dw) = (
            forward(&x, &w, &g),
            input_gradient(&w, &dy, &g),
            weight_gradient(&x, &dy, &g),
        );
        let unfolded_y = unfolded_forward(&x, &w, &g);
        let (unfolded_dx, unfolded_dw) = unfolded_backward(&x, &w, &dy, &g, [true, true]);
        let conv_y = conv2d_forward(&x, &w, &g);
        let (conv_dx, conv_dw) = conv2d_backward(&x, &w, &dy, &g, [true, true]);
        for (what, ours, theirs, taken, conv) in [
            ("forward", &y, &unfolded_y, takes_forward(&g), &conv_y),
            (
                "input gradient",
                &dx,
                &unfolded_dx,
                takes_input_gradient(&g),
                &conv_dx,
            ),
            (
                "weight gradient",
                &dw,
                &unfolded_dw,
                takes_weight_gradient(&g),
                &conv_dw,
            ),
        ] {
            let path = if taken { ours } else { theirs };
            assert_eq!(bits(conv), bits(path), "{what} of {g:?}");
            assert_eq!(ours.len(), theirs.len(), "{what} of {g:?}");
            let scale = theirs.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let worst = ours
                .iter()
                .zip(theirs)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                worst <= 2e-6 * scale,
                "{what} of {g:?}: {worst} at scale {scale}"
            );
        }
    }
}

/// Each pass where it measured faster: every pass of the discriminators' layers but the
/// gradients of the 3-channel images; never the one-pixel heads or the generator's 48 × 48
/// maps.
#[test]
fn takes_each_pass_where_it_is_faster() {
    let first = halving(32, 3, 48, 16);
    assert!(takes_forward(&first));
    assert!(!takes_input_gradient(&first) && !takes_weight_gradient(&first));
    for layer in [
        halving(32, 16, 24, 32),
        halving(32, 64, 6, 128),
        geometry(32, 192, [3, 3], 128, [3, 3], [1, 1], [1; 4]),
    ] {
        assert!(takes_forward(&layer), "{layer:?}");
        assert!(
            takes_input_gradient(&layer) && takes_weight_gradient(&layer),
            "{layer:?}"
        );
    }
    for other in [
        geometry(32, 128, [3, 3], 1, [3, 3], [1, 1], [0; 4]),
        geometry(32, 32, [48, 48], 32, [3, 3], [1, 1], [1; 4]),
    ] {
        assert!(!fits(&other), "{other:?}");
    }
}

/// Every value of the reused grids is written before it is read: with every spare buffer
/// of the (only) thread full of NaN, the results are the same.
#[test]
fn leftover_values_in_reused_buffers_are_never_read() {
    let g = geometry(2, 3, [7, 5], 16, [3, 2], [2, 1], [1, 0, 0, 1]);
    let (x, w, dy) = operands(&g, 40);
    on_threads(1, || {
        let run = || {
            (
                bits(&forward(&x, &w, &g)),
                bits(&input_gradient(&w, &dy, &g)),
                bits(&weight_gradient(&x, &dy, &g)),
            )
        };
        let clean = run();
        fill_spares(f32::NAN, 1 << 16);
        assert_eq!(run(), clean);
    });
}
