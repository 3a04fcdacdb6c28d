//! Bahdanau's additive energy `e_bs = Σ_a v_a tanh(k_bsa + q_ba)`, forward and backward.

use std::marker::PhantomData;
use std::ops::Range;

use super::{dot, split_point, tanh_approx};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::test_data::{assert_same_bits, values};

    /// Split between two threads against the same loop run whole on one: the same bits,
    /// so results do not depend on the thread count. The reference workload's sizes (batch
    /// 64, 21 source positions, attention 256) and odd ones.
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
    }
}
