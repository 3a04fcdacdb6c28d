//! An image file of any common layout, decoded to an [`RgbImage`] and resized to a square.
//!
//! # Decoding
//!
//! Files are decoded by the `image` crate, PNG and JPEG only. The format is sniffed from the
//! first bytes, not taken from the extension, so a PNG saved as `.jpg` still reads. Every pixel
//! layout becomes RGB with values in `[0, 1]`:
//!
//! - greyscale (1, 2, 4, 8 or 16 bits, PNG or JPEG): the grey value in all three channels;
//! - palette PNG: each index replaced by its palette colour (a `tRNS` chunk gives alpha);
//! - 8-bit samples map to `v / 255`, 16-bit samples to `v / 65535`; both pass losslessly through
//!   16 bits (`v8 → 257 · v8`), so an 8-bit value `v` gives exactly `v as f32 / 255.0`;
//! - alpha (grey + alpha, RGBA, palette with `tRNS`) is composited over a background colour
//!   `bg`: `out = a · c + (1 − a) · bg`, straight (not premultiplied) alpha on the stored,
//!   gamma-encoded values (no linearisation), computed in `f64`. A fully transparent pixel
//!   becomes `bg` whatever colour it stores; half-transparent red (alpha 128) over white gives
//!   `(1, 127/255, 127/255)`. PIL's `convert("RGB")`, which torchvision pipelines call, drops
//!   alpha instead, showing whatever colour transparent pixels store (often black).
//! - EXIF orientation and embedded colour profiles are ignored, as PIL's `Image.open` ignores
//!   them: pixels come in the order they are stored.
//!
//! # Resizing
//!
//! [`resize_center_crop`] does what torchvision's `Resize(s)` followed by `CenterCrop(s)` does
//! in the common captioning pipelines: the shorter side is scaled to `s` and the longer to
//! `⌊s · long / short⌋`, keeping the aspect ratio, then the central `s × s` square is kept
//! (offset `round((long' − s) / 2)`, ties to even, as Python's `round`). Nothing is stretched;
//! the ends of the longer side are lost (stretching the whole photo to a square would keep
//! them but distort every object's shape).
//!
//! The filter is the triangle (bilinear) filter with Pillow's weights (`ImagingResample`, the
//! `BILINEAR` filter PIL-based `Resize` uses): output pixel `i` is centred at `(i + ½) · scale`
//! in input coordinates, and when shrinking the triangle is widened by the scale factor so every
//! input pixel contributes (antialiasing). Weights are normalised to sum to one and
//! accumulated in `f64` without Pillow's 8-bit rounding, so a uniform image keeps its exact
//! value, and at scale one the resize is the identity. Compositing comes before resizing; since
//! both are linear this equals resizing premultiplied colour and compositing afterwards.

use std::io::{self, Cursor};
use std::path::Path;

use image::ImageReader;

use super::RgbImage;

/// Why one image file could not be turned into an [`RgbImage`].
#[derive(Debug, thiserror::Error)]
pub enum ImageFault {
    /// The file could not be read (missing, unreadable).
    #[error("cannot read image: {0}")]
    Io(io::Error),
    /// The bytes are not a PNG or JPEG the decoder can read (unknown format, truncated, corrupt).
    #[error("cannot decode image: {0}")]
    Decode(String),
    /// The image has no pixels.
    #[error("image has zero width or height")]
    Empty,
}

/// Reads and decodes the image file at `path`, compositing any alpha over `background`
/// (RGB in `[0, 1]`); the size is kept. See the module docs for the conversions.
pub fn decode_rgb(path: &Path, background: [f32; 3]) -> Result<RgbImage, ImageFault> {
    let bytes = std::fs::read(path).map_err(ImageFault::Io)?;
    decode_rgb_bytes(&bytes, background)
}

/// [`decode_rgb`] on the bytes of a PNG or JPEG file already in memory.
pub fn decode_rgb_bytes(bytes: &[u8], background: [f32; 3]) -> Result<RgbImage, ImageFault> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(ImageFault::Io)?;
    let decoded = reader
        .decode()
        .map_err(|e| ImageFault::Decode(e.to_string()))?;
    let has_alpha = decoded.color().has_alpha();
    let rgba = decoded.into_rgba16();
    let (width, height) = (rgba.width() as usize, rgba.height() as usize);
    if width == 0 || height == 0 {
        return Err(ImageFault::Empty);
    }
    let plane = width * height;
    let mut data = vec![0.0f32; 3 * plane];
    let bg = background.map(f64::from);
    for (i, pixel) in rgba.pixels().enumerate() {
        let [r, g, b, a] = pixel.0;
        for (ch, c) in [r, g, b].into_iter().enumerate() {
            data[ch * plane + i] = if !has_alpha || a == u16::MAX {
                f32::from(c) / 65535.0
            } else {
                let alpha = f64::from(a) / 65535.0;
                (alpha * (f64::from(c) / 65535.0) + (1.0 - alpha) * bg[ch]) as f32
            };
        }
    }
    Ok(RgbImage {
        height,
        width,
        data,
    })
}

/// Decodes the image at `path` ([`decode_rgb`]) and resizes it to `size × size`
/// ([`resize_center_crop`]).
///
/// # Panics
///
/// If `size` is zero.
pub fn load_square(path: &Path, size: usize, background: [f32; 3]) -> Result<RgbImage, ImageFault> {
    Ok(resize_center_crop(&decode_rgb(path, background)?, size))
}

/// Scales `image` so its shorter side is `size` and keeps the central `size × size` square
/// (torchvision's `Resize(size)` + `CenterCrop(size)`, with Pillow's bilinear weights; see the
/// module docs).
///
/// # Panics
///
/// If `size` is zero or `image` has no pixels.
pub fn resize_center_crop(image: &RgbImage, size: usize) -> RgbImage {
    assert!(size > 0, "resize target size must be positive");
    let (h, w) = (image.height, image.width);
    assert!(h > 0 && w > 0, "cannot resize an empty image");
    // torchvision: short side -> size, long side -> int(size * long / short).
    let (rh, rw) = if w <= h {
        (size * h / w, size)
    } else {
        (size, size * w / h)
    };
    let top = center_offset(rh - size);
    let left = center_offset(rw - size);
    let cols = weights(w, rw, left, size);
    let rows = weights(h, rh, top, size);

    // Horizontal pass: [3, h, w] -> [3, h, size].
    let mut wide = vec![0.0f32; 3 * h * size];
    for (src_row, dst_row) in image.data.chunks_exact(w).zip(wide.chunks_exact_mut(size)) {
        for (dst, tap) in dst_row.iter_mut().zip(&cols) {
            *dst = tap.apply(|k| f64::from(src_row[k]));
        }
    }
    // Vertical pass: [3, h, size] -> [3, size, size].
    let mut data = vec![0.0f32; 3 * size * size];
    for ch in 0..3 {
        let src = &wide[ch * h * size..(ch + 1) * h * size];
        for (y, tap) in rows.iter().enumerate() {
            for x in 0..size {
                data[(ch * size + y) * size + x] = tap.apply(|k| f64::from(src[k * size + x]));
            }
        }
    }
    RgbImage {
        height: size,
        width: size,
        data,
    }
}

/// `round(excess / 2)` with ties to even, as Python's `round` in torchvision's `CenterCrop`.
fn center_offset(excess: usize) -> usize {
    let half = excess / 2;
    if excess % 2 == 1 && half % 2 == 1 {
        half + 1
    } else {
        half
    }
}

/// The input pixels and normalised weights of one output pixel.
struct Tap {
    first: usize,
    weights: Vec<f64>,
}

impl Tap {
    /// `Σ_k weights[k] · value(first + k)`, rounded once to `f32`.
    fn apply(&self, value: impl Fn(usize) -> f64) -> f32 {
        let sum: f64 = (self.weights.iter().enumerate())
            .map(|(k, w)| w * value(self.first + k))
            .sum();
        sum as f32
    }
}

/// Pillow's bilinear resampling coefficients for resizing `in_size` pixels to `out_size`,
/// for the `count` output pixels starting at `offset` (the crop window).
fn weights(in_size: usize, out_size: usize, offset: usize, count: usize) -> Vec<Tap> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale; // the triangle's support is 1, widened when shrinking
    (offset..offset + count)
        .map(|i| {
            let center = (i as f64 + 0.5) * scale;
            let first = ((center - support + 0.5).floor().max(0.0)) as usize;
            let end = ((center + support + 0.5).floor() as usize).min(in_size);
            let mut weights: Vec<f64> = (first..end)
                .map(|j| triangle((j as f64 - center + 0.5) / filter_scale))
                .collect();
            let total: f64 = weights.iter().sum();
            if total > 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            } else {
                // Unreachable for in_size >= 1 (some pixel centre lies within half a pixel);
                // fall back to the nearest pixel rather than produce a black pixel.
                let nearest = (center.floor() as usize).min(in_size - 1);
                return Tap {
                    first: nearest,
                    weights: vec![1.0],
                };
            }
            Tap { first, weights }
        })
        .collect()
}

/// The triangle (bilinear) filter: `1 − |x|` on `[−1, 1]`, zero outside.
fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 { 1.0 - x } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn center_offset_rounds_half_to_even() {
        // Python: round(0.5)=0, round(1.5)=2, round(2.5)=2, round(3.5)=4.
        let got: Vec<usize> = (0..8).map(center_offset).collect();
        assert_eq!(got, [0, 0, 1, 2, 2, 2, 3, 4]);
    }

    #[test]
    fn halving_weights_match_pillow() {
        // 4 -> 2: each output pixel sees four inputs with weights 1/8, 3/8, 3/8, 1/8
        // (clipped at the border and renormalised).
        let taps = weights(8, 4, 1, 1);
        assert_eq!(taps[0].first, 1);
        assert_eq!(taps[0].weights, [0.125, 0.375, 0.375, 0.125]);
        let border = weights(8, 4, 0, 1);
        assert_eq!(border[0].first, 0);
        let w = &border[0].weights;
        assert_eq!(w.len(), 3);
        assert!((w[0] - 3.0 / 7.0).abs() < 1e-15 && (w[2] - 1.0 / 7.0).abs() < 1e-15);
    }
}
