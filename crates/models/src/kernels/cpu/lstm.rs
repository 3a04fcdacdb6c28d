//! One LSTM step, forward and backward.

use super::{blend, sigmoid_approx, split_point, tanh_approx};

/// One LSTM step (see [`crate::kernels::lstm_step`]), `hidden` units: `gates`: `batch *
/// 4 hidden` (blocks i, f, g, o in each row); `c`: `batch * hidden`; `out`: `batch * 2
/// hidden`, each row `[h'; c']`. `masked`: the previous `h` (`batch * hidden`) and `take`
/// (`batch`, see [`blend`]), or `None` for no padding.
pub fn lstm_forward(
    gates: &[f32],
    c: &[f32],
    masked: Option<(&[f32], &[f32])>,
    hidden: usize,
    out: &mut [f32],
) {
    let n = hidden;
    match split_point(c.len() / n.max(1), 4 * n) {
        Some(mid) => {
            let (gates0, gates1) = gates.split_at(mid * 4 * n);
            let (c0, c1) = c.split_at(mid * n);
            let (m0, m1) = split_masked(masked, mid, n);
            let (o0, o1) = out.split_at_mut(mid * 2 * n);
            rayon::join(
                || lstm_forward_rows(gates0, c0, m0, n, o0),
                || lstm_forward_rows(gates1, c1, m1, n, o1),
            );
        }
        None => lstm_forward_rows(gates, c, masked, n, out),
    }
}

/// An LSTM's `(h, take)` split after `mid` rows of `hidden` units.
type Masked<'a> = Option<(&'a [f32], &'a [f32])>;
fn split_masked(masked: Masked<'_>, mid: usize, hidden: usize) -> (Masked<'_>, Masked<'_>) {
    match masked {
        Some((h, take)) => {
            let ((h0, h1), (t0, t1)) = (h.split_at(mid * hidden), take.split_at(mid));
            (Some((h0, t0)), Some((h1, t1)))
        }
        None => (None, None),
    }
}

avx2_dispatch! {
    /// [`lstm_forward`] on one thread.
    fn lstm_forward_rows(
        gates: &[f32],
        c: &[f32],
        masked: Option<(&[f32], &[f32])>,
        hidden: usize,
        out: &mut [f32],
    ) {
        let n = hidden;
        for (row, ((gates, c), out)) in gates
            .chunks_exact(4 * n)
            .zip(c.chunks_exact(n))
            .zip(out.chunks_exact_mut(2 * n))
            .enumerate()
        {
            let [gi, gf, gg, go] = lstm_gates(gates, n);
            let (out_h, out_c) = out.split_at_mut(n);
            let c = &c[..n];
            for j in 0..n {
                let [_, _, _, o, c_new] = lstm_unit([gi[j], gf[j], gg[j], go[j]], c[j]);
                out_h[j] = o * tanh_approx(c_new);
                out_c[j] = c_new;
            }
            if let Some((h, take)) = masked {
                let (h, t) = (&h[row * n..(row + 1) * n], take[row]);
                for j in 0..n {
                    out_h[j] = blend(h[j], out_h[j], t);
                    out_c[j] = blend(c[j], out_c[j], t);
                }
            }
        }
    }
}

/// One row's LSTM gate pre-activations, `[i; f; g; o]`, each `hidden` wide.
#[inline(always)]
fn lstm_gates(gates: &[f32], hidden: usize) -> [&[f32]; 4] {
    let n = hidden;
    [
        &gates[..n],
        &gates[n..2 * n],
        &gates[2 * n..3 * n],
        &gates[3 * n..4 * n],
    ]
}

/// One unit's gates and new cell, `[i, f, g, o, c']`, from its pre-activations and `c`.
#[inline(always)]
fn lstm_unit([gi, gf, gg, go]: [f32; 4], c: f32) -> [f32; 5] {
    let i = sigmoid_approx(gi);
    let f = sigmoid_approx(gf);
    let g = tanh_approx(gg);
    let o = sigmoid_approx(go);
    let c_new = f * c + i * g;
    [i, f, g, o, c_new]
}

/// One unit's `(∂L/∂c', [∂L/∂i, ∂L/∂f, ∂L/∂g, ∂L/∂o] before the activations)` from the
/// gradients reaching `h'` and `c'`.
#[inline(always)]
fn lstm_unit_backward(
    [i, f, g, o, c_new]: [f32; 5],
    c: f32,
    g_h: f32,
    g_c: f32,
) -> (f32, [f32; 4]) {
    let tc = tanh_approx(c_new);
    // h' = o tanh(c'); c' feeds both h' and the next step.
    let d_c_new = g_c + g_h * o * (1.0 - tc * tc);
    let di = d_c_new * g * i * (1.0 - i);
    let df = d_c_new * c * f * (1.0 - f);
    let dg = d_c_new * i * (1.0 - g * g);
    let d_o = g_h * tc * o * (1.0 - o);
    (d_c_new, [di, df, dg, d_o])
}

/// Gradients of [`lstm_forward`] given `grad = [∂L/∂h'; ∂L/∂c']` per row (`batch * 2
/// hidden`): `dgates`: `batch * 4 hidden`; `dc`: `batch * hidden`; with a mask also
/// `dh`: `batch * hidden` (the previous `h` enters only through the blend; empty without).
#[allow(clippy::too_many_arguments)]
pub fn lstm_backward(
    gates: &[f32],
    c: &[f32],
    masked: Option<(&[f32], &[f32])>,
    grad: &[f32],
    hidden: usize,
    dgates: &mut [f32],
    dc: &mut [f32],
    dh: &mut [f32],
) {
    let n = hidden;
    match split_point(c.len() / n.max(1), 4 * n) {
        Some(mid) => {
            let (gates0, gates1) = gates.split_at(mid * 4 * n);
            let (c0, c1) = c.split_at(mid * n);
            let (m0, m1) = split_masked(masked, mid, n);
            let (g0, g1) = grad.split_at(mid * 2 * n);
            let (dgates0, dgates1) = dgates.split_at_mut(mid * 4 * n);
            let (dc0, dc1) = dc.split_at_mut(mid * n);
            let (dh0, dh1) = dh.split_at_mut(if masked.is_some() { mid * n } else { 0 });
            rayon::join(
                || lstm_backward_rows(gates0, c0, m0, g0, n, dgates0, dc0, dh0),
                || lstm_backward_rows(gates1, c1, m1, g1, n, dgates1, dc1, dh1),
            );
        }
        None => lstm_backward_rows(gates, c, masked, grad, n, dgates, dc, dh),
    }
}

avx2_dispatch! {
    /// [`lstm_backward`] on one thread.
    fn lstm_backward_rows(
        gates: &[f32],
        c: &[f32],
        masked: Option<(&[f32], &[f32])>,
        grad: &[f32],
        hidden: usize,
        dgates: &mut [f32],
        dc: &mut [f32],
        dh: &mut [f32],
    ) {
        let n = hidden;
        for (row, ((((gates, c), grad), dgates), dc)) in gates
            .chunks_exact(4 * n)
            .zip(c.chunks_exact(n))
            .zip(grad.chunks_exact(2 * n))
            .zip(dgates.chunks_exact_mut(4 * n))
            .zip(dc.chunks_exact_mut(n))
            .enumerate()
        {
            let [gi, gf, gg, go] = lstm_gates(gates, n);
            let (grad_h, grad_c) = grad.split_at(n);
            let (di, rest) = dgates.split_at_mut(n);
            let (df, rest) = rest.split_at_mut(n);
            let (dg, d_o) = rest.split_at_mut(n);
            let (c, dc) = (&c[..n], &mut dc[..n]);
            let t = masked.map(|(_, take)| take[row]);
            // One loop per case, so that neither tests the mask per unit and both vectorize.
            match t {
                Some(t) => {
                    for j in 0..n {
                        // Through the blend: ∂out/∂new = take, ∂out/∂prev = 1 - take.
                        let (g_h, g_c) = (grad_h[j] * t, grad_c[j] * t);
                        let [i, f, g, o, c_new] = lstm_unit([gi[j], gf[j], gg[j], go[j]], c[j]);
                        let (d_c_new, d) = lstm_unit_backward([i, f, g, o, c_new], c[j], g_h, g_c);
                        [di[j], df[j], dg[j], d_o[j]] = d;
                        dc[j] = (grad_c[j] - g_c) + d_c_new * f;
                    }
                }
                None => {
                    for j in 0..n {
                        let [i, f, g, o, c_new] = lstm_unit([gi[j], gf[j], gg[j], go[j]], c[j]);
                        let (d_c_new, d) =
                            lstm_unit_backward([i, f, g, o, c_new], c[j], grad_h[j], grad_c[j]);
                        [di[j], df[j], dg[j], d_o[j]] = d;
                        dc[j] = d_c_new * f;
                    }
                }
            }
            // The previous h enters only through the blend.
            if let Some(t) = t {
                let dh = &mut dh[row * n..(row + 1) * n];
                for j in 0..n {
                    dh[j] = grad_h[j] - grad_h[j] * t;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::test_data::{
        SPLIT_CASES, assert_same_bits, every_third_padded, values,
    };

    /// The LSTM step's backward against its formulas written out one unit at a time (the
    /// mask tested inside the loop, as the kernel once did): the same bits, with and
    /// without a mask, for a row width the vectors divide and one they do not.
    #[test]
    fn lstm_backward_gives_the_bits_of_the_unit_by_unit_formulas() {
        for (batch, n) in [(5, 16), (4, 13)] {
            let (gates, c, grad) = (
                values(batch * 4 * n, 11),
                values(batch * n, 12),
                values(batch * 2 * n, 13),
            );
            let h = values(batch * n, 14);
            let take: Vec<f32> = (0..batch).map(|b| [1.0, 0.0, 0.25][b % 3]).collect();
            for masked in [None, Some((&h[..], &take[..]))] {
                let (mut want_dgates, mut want_dc, mut want_dh) = (
                    vec![0.0f32; gates.len()],
                    vec![0.0f32; c.len()],
                    vec![0.0f32; if masked.is_some() { h.len() } else { 0 }],
                );
                for row in 0..batch {
                    let t = masked.map(|(_, take)| take[row]);
                    for j in 0..n {
                        let gate = |k: usize| gates[row * 4 * n + k * n + j];
                        let (grad_h, grad_c) = (grad[row * 2 * n + j], grad[row * 2 * n + n + j]);
                        let cj = c[row * n + j];
                        let i = sigmoid_approx(gate(0));
                        let f = sigmoid_approx(gate(1));
                        let g = tanh_approx(gate(2));
                        let o = sigmoid_approx(gate(3));
                        let c_new = f * cj + i * g;
                        let tc = tanh_approx(c_new);
                        let (g_h, g_c) = match t {
                            Some(t) => (grad_h * t, grad_c * t),
                            None => (grad_h, grad_c),
                        };
                        let d_c_new = g_c + g_h * o * (1.0 - tc * tc);
                        let d = &mut want_dgates[row * 4 * n..];
                        d[j] = d_c_new * g * i * (1.0 - i);
                        d[n + j] = d_c_new * cj * f * (1.0 - f);
                        d[2 * n + j] = d_c_new * i * (1.0 - g * g);
                        d[3 * n + j] = g_h * tc * o * (1.0 - o);
                        want_dc[row * n + j] = match t {
                            Some(_) => (grad_c - g_c) + d_c_new * f,
                            None => d_c_new * f,
                        };
                        if let Some(t) = t {
                            want_dh[row * n + j] = grad_h - grad_h * t;
                        }
                    }
                }
                let mut dgates = vec![f32::NAN; gates.len()];
                let mut dc = vec![f32::NAN; c.len()];
                let mut dh = vec![f32::NAN; want_dh.len()];
                lstm_backward_rows(&gates, &c, masked, &grad, n, &mut dgates, &mut dc, &mut dh);
                assert_same_bits(&dgates, &want_dgates, "d gates");
                assert_same_bits(&dc, &want_dc, "d c");
                assert_same_bits(&dh, &want_dh, "d h");
            }
        }
    }

    /// Split between two threads against the same loop run whole on one: the same bits,
    /// so results do not depend on the thread count; with and without padding, hidden 128
    /// (the reference workload's) and an odd batch.
    #[test]
    fn splitting_between_threads_keeps_the_bits() {
        for (batch, n) in SPLIT_CASES {
            let take = every_third_padded(batch);
            let zeros = |n| vec![0.0f32; n];
            for take in [None, Some(&take[..])] {
                let (gates, c, h) = (
                    values(batch * 4 * n, 9),
                    values(batch * n, 10),
                    values(batch * n, 11),
                );
                let masked = take.map(|take| (&h[..], take));
                let (mut split, mut whole) = (zeros(batch * 2 * n), zeros(batch * 2 * n));
                lstm_forward(&gates, &c, masked, n, &mut split);
                lstm_forward_rows(&gates, &c, masked, n, &mut whole);
                assert_same_bits(&split, &whole, "LSTM step");
                let grad = values(batch * 2 * n, 12);
                let dh_len = if masked.is_some() { batch * n } else { 0 };
                let mut split = (zeros(gates.len()), zeros(c.len()), zeros(dh_len));
                let mut whole = (zeros(gates.len()), zeros(c.len()), zeros(dh_len));
                lstm_backward(
                    &gates,
                    &c,
                    masked,
                    &grad,
                    n,
                    &mut split.0,
                    &mut split.1,
                    &mut split.2,
                );
                lstm_backward_rows(
                    &gates,
                    &c,
                    masked,
                    &grad,
                    n,
                    &mut whole.0,
                    &mut whole.1,
                    &mut whole.2,
                );
                assert_same_bits(&split.0, &whole.0, "LSTM d gates");
                assert_same_bits(&split.1, &whole.1, "LSTM d c");
                assert_same_bits(&split.2, &whole.2, "LSTM d h");
            }
        }
    }
}
