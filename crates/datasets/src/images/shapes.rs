//! Procedural glyphs: six simple shapes drawn on 28 × 28 pixels with seeded variations, so
//! scene experiments, their smoke presets and their tests run with no fetched data. They
//! stand in for the digits and clothing items of the real scenes; results on them say
//! nothing about real images.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Glyph, LabelledGlyphs};

/// The shapes, as captions name them.
pub const SHAPES: [&str; 6] = ["square", "ring", "cross", "bar", "triangle", "diamond"];

/// Side of every glyph, as in MNIST.
const SIDE: usize = 28;

/// `per_class` glyphs of each of the [`SHAPES`]: the shape's half-size (9 to 11 pixels),
/// stroke (2 to 3 pixels), centre (up to 2 pixels off the middle) and ink (200 to 255)
/// drawn from `seed`.
///
/// Scenes crop a glyph to its ink before scaling it ([`crate::scenes::ink_crop`]), so the
/// half-size changes a shape's stroke and margin there, not whether it reads as small or
/// large.
pub fn procedural_glyphs(per_class: usize, seed: u64) -> LabelledGlyphs {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut glyphs = Vec::with_capacity(per_class * SHAPES.len());
    let mut labels = Vec::with_capacity(per_class * SHAPES.len());
    for (label, _) in SHAPES.iter().enumerate() {
        for _ in 0..per_class {
            let half = rng.random_range(9..=11) as f32;
            let stroke = rng.random_range(2..=3) as f32;
            let cx = 13.5 + rng.random_range(-2..=2) as f32;
            let cy = 13.5 + rng.random_range(-2..=2) as f32;
            let ink: u8 = rng.random_range(200..=255);
            let mut pixels = vec![0u8; SIDE * SIDE];
            for (i, pixel) in pixels.iter_mut().enumerate() {
                let (dx, dy) = ((i % SIDE) as f32 - cx, (i / SIDE) as f32 - cy);
                if inside(label, dx, dy, half, stroke) {
                    *pixel = ink;
                }
            }
            glyphs.push(Glyph {
                rows: SIDE,
                cols: SIDE,
                pixels,
            });
            labels.push(label as u8);
        }
    }
    LabelledGlyphs {
        glyphs,
        labels,
        class_names: SHAPES.iter().map(|s| s.to_string()).collect(),
    }
}

/// Whether the point `(dx, dy)` from the centre is ink of shape `label`.
fn inside(label: usize, dx: f32, dy: f32, half: f32, stroke: f32) -> bool {
    let (ax, ay) = (dx.abs(), dy.abs());
    match label {
        // square: filled
        0 => ax <= half && ay <= half,
        // ring: an annulus
        1 => {
            let r = (dx * dx + dy * dy).sqrt();
            r <= half && r >= half - stroke
        }
        // cross: two strokes through the centre
        2 => (ax <= stroke / 2.0 + 0.5 && ay <= half) || (ay <= stroke / 2.0 + 0.5 && ax <= half),
        // bar: a horizontal band
        3 => ax <= half && ay <= stroke,
        // triangle: apex up, filled
        4 => dy <= half && dy >= -half && ax <= (dy + half) / 2.0,
        // diamond: filled
        _ => ax + ay <= half,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_has_ink_and_the_shapes_differ() {
        let set = procedural_glyphs(3, 7);
        assert_eq!(set.glyphs.len(), 18);
        assert_eq!(set.labels[3], 1);
        for glyph in &set.glyphs {
            assert!(glyph.pixels.iter().filter(|&&p| p > 0).count() > 20);
        }
        // A filled square has more ink than a ring of the same draw.
        let ink = |g: &Glyph| g.pixels.iter().filter(|&&p| p > 0).count();
        assert!(ink(&set.glyphs[0]) > 0 && ink(&set.glyphs[0]) != ink(&set.glyphs[3]));
        assert_eq!(procedural_glyphs(3, 7), set);
        assert_ne!(procedural_glyphs(3, 8), set);
    }
}
