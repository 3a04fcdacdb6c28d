//! The convolutions' bias: `y[b, c, p] = x[b, c, p] + bias[c]`, forward as a loop on `f32`
//! slices split between threads.
//!
//! Burn adds a bias broadcast over the batch and the pixels as one flex operation on one
//! thread: about 2 of AttnGAN's 100 ms a step, over its 50-odd convolutions. Here the
//! planes are split between threads and each plane's loop is compiled for AVX2 too (cpu's
//! `avx2_dispatch`): one addition a value, as Burn's, so the same bits. The backward pass is
//! Burn's own (the gradient passes through to `x`; the bias's is the flex backend's sum over
//! the batch and the pixels, in its order), so the gradients are Burn's bits too.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::cpu::{avx2_dispatch, rows_per_chunk};
use super::output::written_whole;

/// `y [B, C, P]` of `x [B, C, P]` (`P` pixels a plane) and `bias [C]`.
pub fn add_channel_bias(x: &[f32], bias: &[f32], pixels: usize) -> Vec<f32> {
    let image = bias.len() * pixels;
    if x.is_empty() {
        return Vec::new();
    }
    assert!(
        image > 0 && x.len().is_multiple_of(image),
        "add_channel_bias: images of {} channels of {pixels} pixels",
        bias.len()
    );
    let planes_per_chunk = rows_per_chunk(pixels);
    // SAFETY: the chunks cover every plane, and each plane's loop writes all of it.
    unsafe {
        written_whole(x.len(), |y| {
            y.par_chunks_mut(planes_per_chunk * pixels)
                .zip(x.par_chunks(planes_per_chunk * pixels))
                .enumerate()
                .for_each(|(chunk, (y, x))| {
                    let first_plane = chunk * planes_per_chunk;
                    add_to_planes(x, bias, pixels, first_plane, y)
                })
        })
    }
}

avx2_dispatch! {
    /// [`add_channel_bias`] of the planes `first_plane..` (plane `i` is channel `i mod C`).
    fn add_to_planes(
        x: &[f32],
        bias: &[f32],
        pixels: usize,
        first_plane: usize,
        y: &mut [MaybeUninit<f32>],
    ) {
        for (i, (y, x)) in y.chunks_mut(pixels).zip(x.chunks(pixels)).enumerate() {
            let b = bias[(first_plane + i) % bias.len()];
            for (y, &x) in y.iter_mut().zip(x) {
                y.write(x + b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::on_threads;

    /// Two images of two channels of three pixels, by hand.
    #[test]
    fn each_channel_gets_its_bias() {
        let x = [
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
        ];
        let y = add_channel_bias(&x, &[0.5, -1.0], 3);
        assert_eq!(
            y,
            [1.5, 2.5, 3.5, 3.0, 4.0, 5.0, 7.5, 8.5, 9.5, 9.0, 10.0, 11.0]
        );
    }

    /// The same values on one thread and on three, over many chunks of odd planes.
    #[test]
    fn the_thread_count_does_not_change_the_values() {
        let (channels, pixels) = (5, 1001);
        let x: Vec<f32> = (0..7 * channels * pixels)
            .map(|i| (i as f32).sin())
            .collect();
        let bias = [0.1, -0.2, 0.3, -0.4, 0.5];
        let run = |threads| on_threads(threads, || add_channel_bias(&x, &bias, pixels));
        let one = run(1);
        assert_eq!(one, run(3));
        assert_eq!(one[4 * pixels + 7], x[4 * pixels + 7] + 0.5);
    }
}
