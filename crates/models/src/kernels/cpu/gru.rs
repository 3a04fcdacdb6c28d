//! One GRU step, forward and backward.

use super::{blend, sigmoid_approx, split_point, tanh_approx};

/// One GRU step (see [`crate::kernels::gru_step`]), `hidden` units: `x`, `hg`: `batch *
/// 3 hidden` (gate blocks r, z, n in each row); `h`, `out`: `batch * hidden`; `take`:
/// `batch` (see [`blend`]), or `None` for no padding.
pub fn gru_forward(
    x: &[f32],
    hg: &[f32],
    h: &[f32],
    take: Option<&[f32]>,
    hidden: usize,
    out: &mut [f32],
) {
    let n = hidden;
    match split_point(h.len() / n.max(1), 3 * n) {
        Some(mid) => {
            let (x0, x1) = x.split_at(mid * 3 * n);
            let (hg0, hg1) = hg.split_at(mid * 3 * n);
            let (h0, h1) = h.split_at(mid * n);
            let (t0, t1) = split_option(take, mid);
            let (o0, o1) = out.split_at_mut(mid * n);
            rayon::join(
                || gru_forward_rows(x0, hg0, h0, t0, n, o0),
                || gru_forward_rows(x1, hg1, h1, t1, n, o1),
            );
        }
        None => gru_forward_rows(x, hg, h, take, n, out),
    }
}

/// `take` split after `mid` rows.
fn split_option(take: Option<&[f32]>, mid: usize) -> (Option<&[f32]>, Option<&[f32]>) {
    match take {
        Some(take) => {
            let (first, rest) = take.split_at(mid);
            (Some(first), Some(rest))
        }
        None => (None, None),
    }
}

avx2_dispatch! {
    /// [`gru_forward`] on one thread.
    fn gru_forward_rows(
        x: &[f32],
        hg: &[f32],
        h: &[f32],
        take: Option<&[f32]>,
        hidden: usize,
        out: &mut [f32],
    ) {
        let n = hidden;
        for (row, (((x, hg), h), out)) in x
            .chunks_exact(3 * n)
            .zip(hg.chunks_exact(3 * n))
            .zip(h.chunks_exact(n))
            .zip(out.chunks_exact_mut(n))
            .enumerate()
        {
            let (xr, xz, xn) = (&x[..n], &x[n..2 * n], &x[2 * n..3 * n]);
            let (hr, hz, hn) = (&hg[..n], &hg[n..2 * n], &hg[2 * n..3 * n]);
            let (h, out) = (&h[..n], &mut out[..n]);
            for j in 0..n {
                let r = sigmoid_approx(xr[j] + hr[j]);
                let z = sigmoid_approx(xz[j] + hz[j]);
                let cand = tanh_approx(xn[j] + r * hn[j]);
                out[j] = cand + z * (h[j] - cand);
            }
            if let Some(take) = take {
                let t = take[row];
                for j in 0..n {
                    out[j] = blend(h[j], out[j], t);
                }
            }
        }
    }
}

/// Gradients of [`gru_forward`] given `grad = ∂L/∂out`: `dx`, `dhg`: `batch * 3 hidden`;
/// `dh`: `batch * hidden` (the direct paths only; the path through `hg` is the caller's).
#[allow(clippy::too_many_arguments)]
pub fn gru_backward(
    x: &[f32],
    hg: &[f32],
    h: &[f32],
    take: Option<&[f32]>,
    grad: &[f32],
    hidden: usize,
    dx: &mut [f32],
    dhg: &mut [f32],
    dh: &mut [f32],
) {
    let n = hidden;
    match split_point(h.len() / n.max(1), 3 * n) {
        Some(mid) => {
            let (x0, x1) = x.split_at(mid * 3 * n);
            let (hg0, hg1) = hg.split_at(mid * 3 * n);
            let (h0, h1) = h.split_at(mid * n);
            let (t0, t1) = split_option(take, mid);
            let (g0, g1) = grad.split_at(mid * n);
            let (dx0, dx1) = dx.split_at_mut(mid * 3 * n);
            let (dhg0, dhg1) = dhg.split_at_mut(mid * 3 * n);
            let (dh0, dh1) = dh.split_at_mut(mid * n);
            rayon::join(
                || gru_backward_rows(x0, hg0, h0, t0, g0, n, dx0, dhg0, dh0),
                || gru_backward_rows(x1, hg1, h1, t1, g1, n, dx1, dhg1, dh1),
            );
        }
        None => gru_backward_rows(x, hg, h, take, grad, n, dx, dhg, dh),
    }
}

avx2_dispatch! {
    /// [`gru_backward`] on one thread.
    fn gru_backward_rows(
        x: &[f32],
        hg: &[f32],
        h: &[f32],
        take: Option<&[f32]>,
        grad: &[f32],
        hidden: usize,
        dx: &mut [f32],
        dhg: &mut [f32],
        dh: &mut [f32],
    ) {
        let n = hidden;
        for (row, (((((x, hg), h), grad), (dx, dhg)), dh)) in x
            .chunks_exact(3 * n)
            .zip(hg.chunks_exact(3 * n))
            .zip(h.chunks_exact(n))
            .zip(grad.chunks_exact(n))
            .zip(dx.chunks_exact_mut(3 * n).zip(dhg.chunks_exact_mut(3 * n)))
            .zip(dh.chunks_exact_mut(n))
            .enumerate()
        {
            let (xr, xz, xn) = (&x[..n], &x[n..2 * n], &x[2 * n..3 * n]);
            let (hr, hz, hn) = (&hg[..n], &hg[n..2 * n], &hg[2 * n..3 * n]);
            let (h, grad, dh) = (&h[..n], &grad[..n], &mut dh[..n]);
            let (dxr, rest) = dx.split_at_mut(n);
            let (dxz, dxn) = rest.split_at_mut(n);
            let (dhr, rest) = dhg.split_at_mut(n);
            let (dhz, dhn) = rest.split_at_mut(n);
            let t = take.map(|take| take[row]);
            for j in 0..n {
                let r = sigmoid_approx(xr[j] + hr[j]);
                let z = sigmoid_approx(xz[j] + hz[j]);
                let cand = tanh_approx(xn[j] + r * hn[j]);
                // Through the blend: ∂out/∂new = take, ∂out/∂prev = 1 - take.
                let g = match t {
                    Some(t) => grad[j] * t,
                    None => grad[j],
                };
                // new = cand + z (h - cand)
                let d_cand = g * (1.0 - z) * (1.0 - cand * cand); // at the tanh input
                let d_z = g * (h[j] - cand) * z * (1.0 - z);
                let d_r = d_cand * hn[j] * r * (1.0 - r);
                dxr[j] = d_r;
                dhr[j] = d_r;
                dxz[j] = d_z;
                dhz[j] = d_z;
                dxn[j] = d_cand;
                dhn[j] = d_cand * r;
                dh[j] = match t {
                    Some(_) => (grad[j] - g) + g * z,
                    None => g * z,
                };
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

    /// Split between two threads against the same loop run whole on one: the same bits,
    /// so results do not depend on the thread count; with and without padding, hidden 128
    /// (the reference workload's) and an odd batch.
    #[test]
    fn splitting_between_threads_keeps_the_bits() {
        for (batch, n) in SPLIT_CASES {
            let take = every_third_padded(batch);
            let zeros = |n| vec![0.0f32; n];
            for take in [None, Some(&take[..])] {
                let (x, hg, h) = (
                    values(batch * 3 * n, 5),
                    values(batch * 3 * n, 6),
                    values(batch * n, 7),
                );
                let (mut split, mut whole) = (zeros(batch * n), zeros(batch * n));
                gru_forward(&x, &hg, &h, take, n, &mut split);
                gru_forward_rows(&x, &hg, &h, take, n, &mut whole);
                assert_same_bits(&split, &whole, "GRU step");
                let grad = values(batch * n, 8);
                let mut split = (zeros(x.len()), zeros(x.len()), zeros(h.len()));
                let mut whole = (zeros(x.len()), zeros(x.len()), zeros(h.len()));
                gru_backward(
                    &x,
                    &hg,
                    &h,
                    take,
                    &grad,
                    n,
                    &mut split.0,
                    &mut split.1,
                    &mut split.2,
                );
                gru_backward_rows(
                    &x,
                    &hg,
                    &h,
                    take,
                    &grad,
                    n,
                    &mut whole.0,
                    &mut whole.1,
                    &mut whole.2,
                );
                assert_same_bits(&split.0, &whole.0, "GRU d x");
                assert_same_bits(&split.1, &whole.1, "GRU d hidden gates");
                assert_same_bits(&split.2, &whole.2, "GRU d h");
            }
        }
    }
}
