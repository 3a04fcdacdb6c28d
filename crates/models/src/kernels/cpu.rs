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

use std::marker::PhantomData;
use std::ops::Range;

/// Lanes of the explicit accumulators of a dot product (see [`dot`]).
const LANES: usize = 8;

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

/// `σ(x) = (1 + tanh(x / 2)) / 2`, through [`tanh_approx`]: max error 2e-7.
#[inline(always)]
pub fn sigmoid_approx(x: f32) -> f32 {
    0.5 + 0.5 * tanh_approx(0.5 * x)
}

/// `Σ_a x[a] y[a]` with [`LANES`] accumulators combined in a fixed order.
#[inline(always)]
fn dot(x: &[f32], y: &[f32]) -> f32 {
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
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])) + tail
}

/// Below this many values a kernel runs on one thread: the hand-off (a few microseconds)
/// would cost more than the second half of the work.
const MIN_SPLIT_VALUES: usize = 4096;

/// Where to split `rows` rows of `per_row` values in two, or `None` to run on one thread.
fn split_point(rows: usize, per_row: usize) -> Option<usize> {
    (rows >= 2 && rows * per_row >= MIN_SPLIT_VALUES).then_some(rows / 2)
}

/// `out[b, s] = Σ_a v[a] tanh(keys[b, s, a] + query[b, a])`.
///
/// `keys`: `batch * src_len * d`; `query`: `batch * d`; `v`: `d`; `out`: `batch * src_len`.
pub fn additive_energy_forward(
    keys: &[f32],
    query: &[f32],
    v: &[f32],
    src_len: usize,
    out: &mut [f32],
) {
    let d = v.len();
    let batch = query.len() / d.max(1);
    match split_point(batch, src_len * d) {
        Some(mid) => {
            let (k0, k1) = keys.split_at(mid * src_len * d);
            let (q0, q1) = query.split_at(mid * d);
            let (o0, o1) = out.split_at_mut(mid * src_len);
            rayon::join(
                || additive_energy_forward_rows(k0, q0, v, src_len, o0),
                || additive_energy_forward_rows(k1, q1, v, src_len, o1),
            );
        }
        None => additive_energy_forward_rows(keys, query, v, src_len, out),
    }
}

avx2_dispatch! {
    /// [`additive_energy_forward`] on one thread.
    fn additive_energy_forward_rows(
        keys: &[f32],
        query: &[f32],
        v: &[f32],
        src_len: usize,
        out: &mut [f32],
    ) {
        let d = v.len();
        let mut t = vec![0.0f32; d];
        for (row, (out, key_rows)) in out
            .chunks_mut(src_len)
            .zip(keys.chunks(src_len * d))
            .enumerate()
        {
            let q = &query[row * d..(row + 1) * d];
            for (e, k) in out.iter_mut().zip(key_rows.chunks_exact(d)) {
                // Two simple loops vectorize; one fused loop with a reduction does not.
                for ((t, &k), &q) in t.iter_mut().zip(k).zip(q) {
                    *t = tanh_approx(k + q);
                }
                *e = dot(&t, v);
            }
        }
    }
}

/// The three gradients of [`additive_energy_forward`] given `grad[b, s]`:
/// with `t = tanh(k + q)` and `d = grad[b, s] v[a] (1 - t²)`,
/// `dk[b, s, a] = d`, `dq[b, a] = Σ_s d`, `dv[a] = Σ_{b, s} grad[b, s] t`.
#[allow(clippy::too_many_arguments)]
pub fn additive_energy_backward(
    keys: &[f32],
    query: &[f32],
    v: &[f32],
    grad: &[f32],
    src_len: usize,
    dk: &mut [f32],
    dq: &mut [f32],
    dv: &mut [f32],
) {
    let d = v.len();
    let (dk, dq, dv) = (
        ColumnBlocks::new(dk, d),
        ColumnBlocks::new(dq, d),
        ColumnBlocks::new(dv, d),
    );
    // Split by columns: `dv` sums over every (b, s) in order, which a split by rows would
    // reorder.
    let run =
        |cols| additive_energy_backward_columns(keys, query, v, grad, src_len, cols, &dk, &dq, &dv);
    match split_point(d, grad.len()) {
        Some(mid) => {
            rayon::join(|| run(0..mid), || run(mid..d));
        }
        None => run(0..d),
    }
}

/// A row-major matrix whose disjoint column blocks threads write at the same time.
struct ColumnBlocks<'a> {
    start: *mut f32,
    rows: usize,
    cols: usize,
    _values: PhantomData<&'a mut [f32]>,
}

// SAFETY: a `ColumnBlocks` only hands out the columns its caller asks for; callers on
// different threads ask for disjoint ranges (see `block`).
unsafe impl Send for ColumnBlocks<'_> {}
unsafe impl Sync for ColumnBlocks<'_> {}

impl<'a> ColumnBlocks<'a> {
    fn new(values: &'a mut [f32], cols: usize) -> Self {
        assert_eq!(values.len() % cols.max(1), 0, "not a whole number of rows");
        Self {
            start: values.as_mut_ptr(),
            rows: values.len() / cols.max(1),
            cols,
            _values: PhantomData,
        }
    }

    /// Columns `cols` of row `row`.
    ///
    /// # Safety
    /// No two live slices from this matrix may overlap: threads must use disjoint `cols`.
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    unsafe fn block(&self, row: usize, cols: &Range<usize>) -> &mut [f32] {
        assert!(row < self.rows && cols.end <= self.cols);
        // SAFETY: in bounds (checked just above); exclusive by the caller's contract.
        unsafe {
            std::slice::from_raw_parts_mut(self.start.add(row * self.cols + cols.start), cols.len())
        }
    }
}

avx2_dispatch! {
    /// [`additive_energy_backward`] for the attention columns `cols` only, on one thread.
    fn additive_energy_backward_columns(
        keys: &[f32],
        query: &[f32],
        v: &[f32],
        grad: &[f32],
        src_len: usize,
        cols: Range<usize>,
        dk: &ColumnBlocks,
        dq: &ColumnBlocks,
        dv: &ColumnBlocks,
    ) {
        let d = v.len();
        let width = cols.len();
        let v = &v[cols.clone()];
        // SAFETY (every `block` below): this call owns the columns `cols` of dk, dq and dv;
        // the other thread's `cols` are disjoint.
        let dv = unsafe { dv.block(0, &cols) };
        dv.fill(0.0);
        for (row, grad_row) in grad.chunks(src_len).enumerate() {
            let q = &query[row * d..(row + 1) * d][cols.clone()];
            let dq = unsafe { dq.block(row, &cols) };
            dq.fill(0.0);
            for (s, &g) in grad_row.iter().enumerate() {
                let position = row * src_len + s;
                let k = &keys[position * d..(position + 1) * d][cols.clone()];
                let dk = unsafe { dk.block(position, &cols) };
                let (k, q, v, dk, dq, dv) = (
                    &k[..width],
                    &q[..width],
                    &v[..width],
                    &mut dk[..width],
                    &mut dq[..width],
                    &mut dv[..width],
                );
                for a in 0..width {
                    let t = tanh_approx(k[a] + q[a]);
                    let da = g * v[a] * (1.0 - t * t);
                    dk[a] = da;
                    dq[a] += da;
                    dv[a] += g * t;
                }
            }
        }
    }
}

/// Padding mask of a step: `take[b]` is 1.0 where row `b` has a real token at this step
/// and 0.0 where it is padding; a padded row keeps its previous state. The blend is written
/// `prev + (new - prev) · take`, the same operations as the composite version, so masked
/// and composite steps give the same bits.
#[inline(always)]
fn blend(prev: f32, new: f32, take: f32) -> f32 {
    prev + (new - prev) * take
}

/// One GRU step (see [`super::gru_step`]), `hidden` units: `x`, `hg`: `batch * 3 hidden`
/// (gate blocks r, z, n in each row); `h`, `out`: `batch * hidden`; `take`: `batch`
/// (see [`blend`]), or `None` for no padding.
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

/// One LSTM step (see [`super::lstm_step`]), `hidden` units: `gates`: `batch * 4 hidden`
/// (blocks i, f, g, o in each row); `c`: `batch * hidden`; `out`: `batch * 2 hidden`, each
/// row `[h'; c']`. `masked`: the previous `h` (`batch * hidden`) and `take` (`batch`, see
/// [`blend`]), or `None` for no padding.
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

    /// Values in [-2, 2) from a fixed linear congruential sequence.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
            })
            .collect()
    }

    fn assert_same_bits(split: &[f32], whole: &[f32], what: &str) {
        assert_eq!(split.len(), whole.len(), "{what}: length");
        let differ = split
            .iter()
            .zip(whole)
            .filter(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(differ.count(), 0, "{what}: the split run differs");
    }

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

    /// Every kernel split between two threads against the same loop run whole on one: the
    /// same bits, so results do not depend on the thread count. The sizes are the reference
    /// workload's (batch 64, 21 source positions, attention 256, hidden 128), with odd
    /// batches and padding masks too.
    #[test]
    fn splitting_between_threads_keeps_the_bits() {
        for (batch, src_len, d) in [(64, 21, 256), (33, 5, 100)] {
            assert!(split_point(batch, src_len * d).is_some());
            assert!(split_point(d, batch * src_len).is_some());
            let (keys, query) = (values(batch * src_len * d, 1), values(batch * d, 2));
            let (v, grad) = (values(d, 3), values(batch * src_len, 4));
            let (mut split, mut whole) = (vec![0.0; batch * src_len], vec![0.0; batch * src_len]);
            additive_energy_forward(&keys, &query, &v, src_len, &mut split);
            additive_energy_forward_rows(&keys, &query, &v, src_len, &mut whole);
            assert_same_bits(&split, &whole, "additive energy");

            let zeros = |n| vec![0.0f32; n];
            let (mut dk, mut dq, mut dv) = (zeros(keys.len()), zeros(query.len()), zeros(d));
            additive_energy_backward(&keys, &query, &v, &grad, src_len, &mut dk, &mut dq, &mut dv);
            let (mut dk1, mut dq1, mut dv1) = (zeros(keys.len()), zeros(query.len()), zeros(d));
            let blocks = (
                ColumnBlocks::new(&mut dk1, d),
                ColumnBlocks::new(&mut dq1, d),
                ColumnBlocks::new(&mut dv1, d),
            );
            additive_energy_backward_columns(
                &keys,
                &query,
                &v,
                &grad,
                src_len,
                0..d,
                &blocks.0,
                &blocks.1,
                &blocks.2,
            );
            assert_same_bits(&dk, &dk1, "d keys");
            assert_same_bits(&dq, &dq1, "d query");
            assert_same_bits(&dv, &dv1, "d v");
        }
        for (batch, n) in [(64, 128), (33, 40)] {
            let take: Vec<f32> = (0..batch).map(|b| (b % 3 != 1) as u8 as f32).collect();
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
