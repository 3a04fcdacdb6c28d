//! Per-thread buffers that the kernels reuse between calls instead of allocating and
//! zero-filling new ones (see [`Scratch`]).

use std::cell::RefCell;

thread_local! {
    /// Each thread's spare buffers for [`Scratch`].
    static SPARE_BUFFERS: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of at least `len` values whose contents are left from earlier use, taken from
/// the thread's spares and handed back when dropped.
///
/// The unfolded matrices are the largest arrays of a convolution (`K` times the output
/// pixels: 1.3 MB per 48-pixel image of 16 channels), and every value of them is
/// overwritten (the unfolding writes the padding's zeros too, a product all of its
/// output), so zero-filling a fresh one on every call, as `vec![0.0; n]` does, was pure
/// cost: about 5% of AttnGAN's step. Taking the buffer out of the thread-local list, not
/// borrowing it, keeps a convolution that rayon runs on this thread while another waits
/// (work stealing) from touching a buffer in use: it finds another spare or allocates.
pub(super) struct Scratch {
    buffer: Vec<f32>,
    /// The values asked for: the buffer may be longer, from an earlier, larger use.
    len: usize,
}

impl Scratch {
    pub(super) fn take(len: usize) -> Self {
        let mut buffer = SPARE_BUFFERS
            .with_borrow_mut(|spares| spares.pop())
            .unwrap_or_default();
        if buffer.len() < len {
            buffer.resize(len, 0.0);
        }
        Self { buffer, len }
    }

    /// The `len` values asked for.
    pub(super) fn values(&mut self) -> &mut [f32] {
        &mut self.buffer[..self.len]
    }

    /// The `len` values asked for, to read.
    pub(super) fn values_ref(&self) -> &[f32] {
        &self.buffer[..self.len]
    }
}

/// Spare buffers a thread keeps: a backward pass holds two at once. Those a convolution
/// stolen by a waiting thread allocated beyond these are freed.
const SPARES_PER_THREAD: usize = 2;

impl Drop for Scratch {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        SPARE_BUFFERS.with_borrow_mut(|spares| {
            if spares.len() < SPARES_PER_THREAD {
                spares.push(buffer);
            }
        });
    }
}

/// Leaves this thread with as many spare buffers as it keeps, each of `len` copies of
/// `value`: tests use NaN to show that no kernel reads what a buffer held before.
#[cfg(test)]
pub(crate) fn fill_spares(value: f32, len: usize) {
    SPARE_BUFFERS.with_borrow_mut(|spares| {
        *spares = vec![vec![value; len]; SPARES_PER_THREAD];
    })
}
