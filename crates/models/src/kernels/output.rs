//! New output buffers that a kernel writes whole, without zero-filling them first.
//!
//! `vec![0.0; n]` writes every value before the kernel writes it again, and it does so on
//! the calling thread, before the kernel's work is split between threads: profiled on
//! AttnGAN's step, those fills were about 5% of it (the GLU's, the leaky ReLU's, the layer
//! norm's, the max-pool's and the direct convolutions' outputs). Here the kernel gets the
//! vector's spare capacity, writes every value through `MaybeUninit::write`, and the
//! vector takes its length after.

use std::mem::MaybeUninit;

/// A vector of `len` values, each written by `fill`, which gets them uninitialized.
///
/// # Safety
/// `fill` must write every one of the `len` values (if it panics, the vector is dropped
/// empty, which is sound).
pub(crate) unsafe fn written_whole(
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<f32>]),
) -> Vec<f32> {
    let mut values = Vec::with_capacity(len);
    fill(&mut values.spare_capacity_mut()[..len]);
    // SAFETY: `fill` wrote all `len` values (the caller's contract), within the capacity.
    unsafe { values.set_len(len) };
    values
}
