//! The glimpse sensor `ρ(x, l)` of Mnih et al. 2014, "Recurrent Models of Visual Attention"
//! (NIPS), §4 ("Retina and location encodings"): around a location `l`, `k` square patches,
//! the first `g × g` pixels and each next one twice as wide, every one brought down to
//! `g × g`, so that the centre is seen at full resolution and its surroundings ever more
//! coarsely.
//!
//! It runs on the host, on plain `f32` pixels: the locations are sampled (not differentiated
//! through, the model is trained by REINFORCE there) and no gradient flows into the pixels,
//! so nothing is lost by leaving the device, and the same code serves every backend. The
//! caller builds a tensor from [`GlimpseSensor::extract`]'s output.
//!
//! Geometry, for a canvas of `side × side` pixels and a location `l = (x, y) ∈ [-1, 1]²`
//! ((-1, -1) the top-left corner, (1, 1) the bottom-right, as in the paper, which puts
//! (0, 0) at the centre):
//!
//! - the centre in pixel coordinates is `c = ((x + 1) / 2 · side, (y + 1) / 2 · side)`, where
//!   pixel `p` covers `[p, p + 1)`;
//! - `c` is snapped to the nearest pixel corner, `C = ⌊c + ½⌋` on each axis (ties up);
//! - scale `i` (0-based) is the square of `s_i = g · 2^i` pixels from `C − s_i / 2` to
//!   `C + s_i / 2` (exclusive) on each axis, averaged in blocks of `2^i × 2^i` down to
//!   `g × g` (Mnih et al. resize; block averaging is the exact resize by a power of two);
//! - pixels off the canvas read as 0 and still count in the average (so a glimpse half off
//!   the canvas is darker, not renormalized).
//!
//! Why the snap: with `g` even every `s_i` is even, so all `k` squares are centred on the same
//! pixel corner `C` with `s_i / 2` pixels on either side: exactly `s_i` pixels, exactly
//! concentric, and the square of `-l` is the mirror image of the square of `l` (except at the
//! ties, where `c` falls exactly on a pixel centre). That is why `g` must be even.

use burn::config::Config;
use rayon::prelude::*;

/// Configuration of a [`GlimpseSensor`]. The defaults are the paper's MNIST sensor size
/// (8 × 8 patches) with the three scales of its translated-MNIST runs.
#[derive(Config, Debug)]
pub struct GlimpseSensorConfig {
    /// Side `g` of every patch after downsampling, in pixels; even (see the module docs).
    /// 8: the paper's 28 × 28 and 60 × 60 runs use 8 × 8 and 12 × 12.
    #[config(default = 8)]
    pub patch: usize,
    /// Number of scales `k`; scale `i` covers `g · 2^i` pixels. 3.
    #[config(default = 3)]
    pub scales: usize,
}

impl GlimpseSensorConfig {
    /// Whether the sizes are usable: `g` even and positive, `k` positive.
    pub fn check(&self) -> Result<(), String> {
        if self.patch == 0 || !self.patch.is_multiple_of(2) {
            return Err(format!(
                "the glimpse patch ({}) must be even and positive, so that every scale's \
                 square is centred on the same pixel corner",
                self.patch
            ));
        }
        if self.scales == 0 || self.scales > 16 {
            return Err(format!(
                "the glimpse needs 1 to 16 scales, not {}",
                self.scales
            ));
        }
        Ok(())
    }

    /// Creates the sensor.
    ///
    /// # Panics
    /// If [`Self::check`] fails.
    pub fn init(&self) -> GlimpseSensor {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
        GlimpseSensor {
            patch: self.patch,
            scales: self.scales,
        }
    }
}

/// The retina-like glimpse sensor; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlimpseSensor {
    /// `g`: side of every output patch.
    pub patch: usize,
    /// `k`: number of scales.
    pub scales: usize,
}

/// The square of canvas pixels one scale of a glimpse reads, for drawing it: columns
/// `left..left + size`, rows `top..top + size`; it may stick out of the canvas (negative
/// `left` or `top`, or past the far side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlimpseSquare {
    /// First column.
    pub left: i64,
    /// First row.
    pub top: i64,
    /// Side in pixels, `g · 2^i`.
    pub size: usize,
}

impl GlimpseSensor {
    /// Length of one glimpse, `k · g · g`.
    pub fn len(&self) -> usize {
        self.scales * self.patch * self.patch
    }

    /// Always false: a sensor has at least one scale of at least 2 × 2.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The side `g · 2^i` of every scale's square, finest first.
    pub fn patch_sides(&self) -> Vec<usize> {
        (0..self.scales).map(|i| self.patch << i).collect()
    }

    /// Canvas pixels read per glimpse, `Σ_i (g · 2^i)²`, off-canvas ones included: the
    /// count [`crate::vision::RamConfig::flops_per_image`] charges for the averaging.
    pub fn pixels_read(&self) -> u64 {
        self.patch_sides().iter().map(|&s| (s * s) as u64).sum()
    }

    /// The pixel corner `C = ⌊c + ½⌋` a location snaps to, as (column, row); see the module
    /// docs.
    pub fn centre(&self, side: usize, location: [f32; 2]) -> [i64; 2] {
        // f64: (x + 1) / 2 · side is exact for the f32 locations and canvases in use, so
        // hand-picked locations land where the arithmetic says.
        location.map(|v| ((f64::from(v) + 1.0) / 2.0 * side as f64 + 0.5).floor() as i64)
    }

    /// The square each scale reads at `location`, finest first.
    pub fn squares(&self, side: usize, location: [f32; 2]) -> Vec<GlimpseSquare> {
        let [cx, cy] = self.centre(side, location);
        self.patch_sides()
            .into_iter()
            .map(|size| {
                let half = (size / 2) as i64;
                GlimpseSquare {
                    left: cx - half,
                    top: cy - half,
                    size,
                }
            })
            .collect()
    }

    /// The glimpses of a batch.
    ///
    /// - `images`: `B` greyscale canvases of `side × side` pixels, each row-major,
    ///   concatenated (`B · side²` values).
    /// - `locations`: `B` locations `(x, y) ∈ [-1, 1]²`, one per image (values outside are
    ///   allowed and read mostly zeros).
    /// - returns `[B, k · g · g]` row-major: per image, scale 0's `g × g` patch (row-major),
    ///   then scale 1's, and so on.
    ///
    /// # Panics
    /// If `images` does not hold `locations.len()` canvases of `side²` pixels.
    pub fn extract(&self, images: &[f32], side: usize, locations: &[[f32; 2]]) -> Vec<f32> {
        let pixels = side * side;
        assert_eq!(
            images.len(),
            locations.len() * pixels,
            "extract: {} values are not {} canvases of {side} × {side}",
            images.len(),
            locations.len()
        );
        let g = self.patch;
        let mut out = vec![0.0f32; locations.len() * self.len()];
        if pixels == 0 {
            return out; // every pixel is off the canvas
        }
        // Each image's glimpse on its own: the threads change no value.
        out.par_chunks_mut(self.len())
            .zip(images.par_chunks(pixels))
            .zip(locations.par_iter())
            .for_each(|((glimpse, image), &location)| {
                let squares = self.squares(side, location);
                for (square, patch) in squares.into_iter().zip(glimpse.chunks_exact_mut(g * g)) {
                    average_blocks(image, side, square, g, patch);
                }
            });
        out
    }
}

/// Averages the canvas pixels of `square` in blocks of `square.size / g` down to `patch`,
/// `g × g` row-major; pixels off the canvas count as zeros.
///
/// Every output is the sum over its block row by row, left to right, one `f32` addition
/// at a time from `+0.0`, times `1 / block²`: the order of the plain loop over the block
/// (kept as the reference in the tests, which compare the bits). What differs is only
/// the schedule: each canvas row is read once for the `g` outputs it feeds, every sum
/// taking its block's values in that row before the next row, so the `g` chains of
/// additions are independent and overlap; and the pixels off the canvas are skipped
/// rather than added as zeros. Skipping them changes no sum: a sum that starts at `+0.0`
/// is never `-0.0`, and `x + 0.0 = x` for every other `x`.
fn average_blocks(image: &[f32], side: usize, square: GlimpseSquare, g: usize, patch: &mut [f32]) {
    let block = square.size / g;
    let scale = 1.0 / (block * block) as f32;
    let side_i = side as i64;
    // The columns of the square on the canvas, as offsets into the square.
    let first = (-square.left).clamp(0, square.size as i64) as usize;
    let last = (side_i - square.left).clamp(first as i64, square.size as i64) as usize;
    let column = |offset: usize| (square.left + offset as i64) as usize;
    for (r, sums) in patch.chunks_exact_mut(g).enumerate() {
        sums.fill(0.0);
        for dr in 0..block {
            let row = square.top + (r * block + dr) as i64;
            if !(0..side_i).contains(&row) {
                continue;
            }
            let line = &image[row as usize * side..][..side];
            if first == 0 && last == square.size {
                // The whole row of the square is on the canvas: the sums advance together,
                // a value each, so no addition waits on the one before.
                let values = &line[column(0)..column(square.size)];
                for dq in 0..block {
                    for (sum, chunk) in sums.iter_mut().zip(values.chunks_exact(block)) {
                        *sum += chunk[dq];
                    }
                }
                continue;
            }
            for (q, sum) in sums.iter_mut().enumerate() {
                let (from, to) = ((q * block).max(first), ((q + 1) * block).min(last));
                if from < to {
                    for value in &line[column(from)..column(to)] {
                        *sum += value;
                    }
                }
            }
        }
        for sum in sums {
            *sum *= scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::on_threads;

    /// The plain loop [`GlimpseSensor::extract`] reschedules: each output's block summed
    /// row by row, left to right, reading 0 off the canvas.
    fn extract_one_value_at_a_time(
        sensor: &GlimpseSensor,
        images: &[f32],
        side: usize,
        locations: &[[f32; 2]],
    ) -> Vec<f32> {
        let g = sensor.patch;
        let mut out = Vec::new();
        for (image, &location) in images.chunks_exact(side * side).zip(locations) {
            let at = |row: i64, col: i64| -> f32 {
                let inside = (0..side as i64).contains(&row) && (0..side as i64).contains(&col);
                if inside {
                    image[row as usize * side + col as usize]
                } else {
                    0.0
                }
            };
            for (i, square) in sensor.squares(side, location).into_iter().enumerate() {
                let block = 1i64 << i;
                let scale = 1.0 / (block * block) as f32;
                for r in 0..g as i64 {
                    for q in 0..g as i64 {
                        let (top, left) = (square.top + r * block, square.left + q * block);
                        let mut sum = 0.0f32;
                        for dr in 0..block {
                            for dq in 0..block {
                                sum += at(top + dr, left + dq);
                            }
                        }
                        out.push(sum * scale);
                    }
                }
            }
        }
        out
    }

    /// The same bits as the plain loop, on canvases of values whose sums round (signed,
    /// of mixed magnitudes, some -0.0), for glimpses inside, across every edge and corner,
    /// and wholly off the canvas, on one thread and on three.
    #[test]
    fn extract_gives_the_bits_of_the_plain_loop() {
        for (patch, scales, side) in [(2, 3, 9), (4, 4, 30), (12, 4, 100), (6, 2, 5)] {
            let sensor = GlimpseSensorConfig::new()
                .with_patch(patch)
                .with_scales(scales)
                .init();
            let locations: Vec<[f32; 2]> = [-1.3f32, -1.0, -0.77, -0.2, 0.0, 0.31, 0.9, 1.0, 1.6]
                .iter()
                .flat_map(|&x| [[x, -0.45], [0.62, x], [x, x]])
                .collect();
            let images: Vec<f32> = (0..locations.len() * side * side)
                .map(|i| match i % 97 {
                    0 => -0.0,
                    k => ((i as f32) * 0.731).sin() * (1.0 + (k % 7) as f32 * 1e3),
                })
                .collect();
            let want = extract_one_value_at_a_time(&sensor, &images, side, &locations);
            for threads in [1, 3] {
                let got = on_threads(threads, || sensor.extract(&images, side, &locations));
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "g {patch}, k {scales}, side {side}"
                );
            }
        }
    }

    #[test]
    fn odd_or_empty_sizes_are_refused() {
        assert!(GlimpseSensorConfig::new().with_patch(3).check().is_err());
        assert!(GlimpseSensorConfig::new().with_patch(0).check().is_err());
        assert!(GlimpseSensorConfig::new().with_scales(0).check().is_err());
        let sensor = GlimpseSensorConfig::new().init();
        assert_eq!(sensor.patch_sides(), vec![8, 16, 32]);
        assert_eq!(sensor.len(), 3 * 64);
        assert_eq!(sensor.pixels_read(), 64 + 256 + 1024);
    }

    /// On an 8-pixel canvas: x = 0 is the middle corner 4; 0.1 → 4.4 → 4; 0.15 → 4.6 → 5;
    /// ±0.25 → 5 and 3, mirror images (pixels 4-5 and 2-3 for a 2-pixel square).
    #[test]
    fn locations_snap_to_the_nearest_pixel_corner_symmetrically() {
        let sensor = GlimpseSensorConfig::new()
            .with_patch(2)
            .with_scales(2)
            .init();
        assert_eq!(sensor.centre(8, [0.0, 0.1]), [4, 4]);
        assert_eq!(sensor.centre(8, [0.15, -1.0]), [5, 0]);
        assert_eq!(sensor.centre(8, [1.0, -0.25]), [8, 3]);
        let right = sensor.squares(8, [0.25, 0.25]);
        let left = sensor.squares(8, [-0.25, -0.25]);
        for (r, l) in right.iter().zip(&left) {
            assert_eq!(r.size, l.size);
            // Mirror: columns [a, a + s) ↔ [8 - a - s, 8 - a).
            assert_eq!(l.left, 8 - r.left - r.size as i64);
            assert_eq!(l.top, 8 - r.top - r.size as i64);
        }
        assert_eq!(
            right,
            vec![
                GlimpseSquare {
                    left: 4,
                    top: 4,
                    size: 2
                },
                GlimpseSquare {
                    left: 3,
                    top: 3,
                    size: 4
                }
            ]
        );
    }
}
