//! Drawing scenes: the class list of the sources, area-averaging resize, placement, tinting.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

use super::caption::reference_captions;
use super::facts::{Colour, GRID, PixelBox, Scene, SceneObject, Size, Slot};
use super::{SceneConfig, SceneError, normalize_name};
use crate::images::{Glyph, LabelledGlyphs, RgbImage};

/// The usable glyphs of all sources, grouped by class.
pub(super) struct Pool<'a> {
    /// Class names, lower-case, distinct.
    pub(super) names: Vec<String>,
    /// The glyphs with ink of each class; none is empty.
    glyphs: Vec<Vec<&'a Glyph>>,
}

impl<'a> Pool<'a> {
    /// Checks the sources and groups their glyphs by class name.
    pub(super) fn new(sources: &'a [LabelledGlyphs]) -> Result<Pool<'a>, SceneError> {
        let mut names: Vec<String> = Vec::new();
        let mut glyphs: Vec<Vec<&Glyph>> = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            let bad = |msg: String| Err(SceneError::Source { index, msg });
            if source.labels.len() != source.glyphs.len() {
                return bad(format!(
                    "{} labels for {} glyphs",
                    source.labels.len(),
                    source.glyphs.len()
                ));
            }
            let mut global = Vec::with_capacity(source.class_names.len());
            for (label, name) in source.class_names.iter().enumerate() {
                let name = normalize_name(name);
                if name.is_empty() {
                    return bad(format!("class {label} has an empty name"));
                }
                let at = names.iter().position(|n| *n == name).unwrap_or_else(|| {
                    names.push(name);
                    glyphs.push(Vec::new());
                    names.len() - 1
                });
                global.push(at);
            }
            for (i, (glyph, &label)) in source.glyphs.iter().zip(&source.labels).enumerate() {
                if glyph.pixels.len() != glyph.rows * glyph.cols {
                    return bad(format!(
                        "glyph {i} has {} pixels for {} x {}",
                        glyph.pixels.len(),
                        glyph.rows,
                        glyph.cols
                    ));
                }
                let Some(&class) = global.get(label as usize) else {
                    return bad(format!("glyph {i} has label {label} without a class name"));
                };
                if glyph.pixels.iter().any(|&p| p > 0) {
                    glyphs[class].push(glyph);
                }
            }
        }
        // Classes without a glyph with ink cannot be drawn: drop them.
        let (names, glyphs): (Vec<_>, Vec<_>) = names
            .into_iter()
            .zip(glyphs)
            .filter(|(_, g)| !g.is_empty())
            .unzip();
        if names.is_empty() {
            return Err(SceneError::Config(
                "the sources hold no glyph with ink".into(),
            ));
        }
        Ok(Pool { names, glyphs })
    }
}

/// The classes scenes are drawn from, in the order their indices
/// ([`SceneObject::class`]) count: every source's class names in turn, lower-cased with
/// whitespace collapsed, a name already listed (by an earlier source) kept once, and classes
/// without a glyph with ink left out.
pub fn class_names(sources: &[LabelledGlyphs]) -> Result<Vec<String>, SceneError> {
    Ok(Pool::new(sources)?.names)
}

/// One output pixel's source pixels along an axis, each with its share of the pixel's area.
fn area_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f64)>> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            let (lo, hi) = (i as f64 * scale, (i + 1) as f64 * scale);
            let first = lo.floor() as usize;
            let last = (hi.ceil() as usize).min(src);
            (first..last)
                .filter_map(|r| {
                    let overlap = hi.min(r as f64 + 1.0) - lo.max(r as f64);
                    (overlap > 1e-12).then_some((r, overlap / scale))
                })
                .collect()
        })
        .collect()
}

/// `glyph` scaled to a `side × side` square of intensities in `[0, 1]`, row-major: its longer
/// side becomes `side` pixels, its aspect is kept, it is centred, and each output pixel is
/// the mean of the input area it covers (area averaging; for an enlargement, the one or two
/// input pixels under it).
///
/// An empty glyph (no rows or columns) gives an all-zero square.
pub fn resize_area(glyph: &Glyph, side: usize) -> Vec<f32> {
    let mut out = vec![0.0; side * side];
    let (rows, cols) = (glyph.rows, glyph.cols);
    if rows == 0 || cols == 0 || side == 0 || glyph.pixels.len() != rows * cols {
        return out;
    }
    let long = rows.max(cols) as f64;
    let h = ((side as f64 * rows as f64 / long).round() as usize).clamp(1, side);
    let w = ((side as f64 * cols as f64 / long).round() as usize).clamp(1, side);
    let (oy, ox) = ((side - h) / 2, (side - w) / 2);
    let (wr, wc) = (area_weights(rows, h), area_weights(cols, w));
    for (i, row_w) in wr.iter().enumerate() {
        for (j, col_w) in wc.iter().enumerate() {
            let mut sum = 0.0;
            for &(r, a) in row_w {
                for &(c, b) in col_w {
                    sum += a * b * f64::from(glyph.pixels[r * cols + c]);
                }
            }
            out[(oy + i) * side + ox + j] = (sum / 255.0).min(1.0) as f32;
        }
    }
    out
}

/// The smallest rectangle of `glyph` holding all its ink (non-zero pixels); the glyph itself
/// when it has none.
///
/// Scenes scale this rectangle, not the whole glyph, so an object's size is the size of its
/// ink: the longer side of a small object's ink is `small × slot` pixels, of a large one's
/// `large × slot`, whatever margin its source image left around it. Scaling the whole glyph
/// made "small" and "large" overlap: a 28-pixel digit or shape whose ink spans 19 to 23
/// pixels becomes 8 to 10 pixels of ink when small and 11 to 13 when large, and on
/// single-object procedural scenes a captioner named the size wrong for one object in
/// twelve while it named the shape and colour right 99% of the time.
pub fn ink_crop(glyph: &Glyph) -> Glyph {
    let Some([c0, r0, c1, r1]) = ink_bounds(&glyph.pixels, glyph.cols, |&v| v > 0) else {
        return glyph.clone();
    };
    let pixels = (r0..r1)
        .flat_map(|r| (c0..c1).map(move |c| (r, c)))
        .map(|(r, c)| glyph.at(r, c))
        .collect();
    Glyph {
        rows: r1 - r0,
        cols: c1 - c0,
        pixels,
    }
}

/// `[x0, y0, x1, y1]`, the half-open box of the values of a row-major image `cols` wide
/// for which `is_ink` holds; `None` when none does.
fn ink_bounds<T>(values: &[T], cols: usize, is_ink: impl Fn(&T) -> bool) -> Option<[usize; 4]> {
    let mut bounds: Option<[usize; 4]> = None;
    for (k, v) in values.iter().enumerate() {
        if is_ink(v) {
            let (y, x) = (k / cols, k % cols);
            bounds = Some(match bounds {
                None => [x, y, x + 1, y + 1],
                Some([x0, y0, x1, y1]) => [x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)],
            });
        }
    }
    bounds
}

/// Which colour–class pairs a generation avoids or must include.
pub(super) enum Constraint<'h> {
    /// Any pair.
    Free,
    /// None of these (class index, colour) pairs.
    Exclude(&'h [(usize, Colour)]),
    /// At least one object with one of these pairs.
    RequireOne(&'h [(usize, Colour)]),
}

/// `n` scenes drawn from `sources` under `config`, deterministic in `seed` (`config.seed` is
/// not used here: it seeds [`splits`](super::splits)). The scenes are drawn one after the
/// other from one stream, so the first `m` scenes of `n > m` are the `m` scenes.
///
/// Fails if the configuration is invalid, a source is malformed, or the classes, colours
/// and two sizes give fewer distinct objects than `config.max_objects`.
pub fn generate(
    config: &SceneConfig,
    sources: &[LabelledGlyphs],
    n: usize,
    seed: u64,
) -> Result<Vec<Scene>, SceneError> {
    generate_with(config, &Pool::new(sources)?, n, seed, &Constraint::Free)
}

/// [`generate`] over a built pool, under a constraint.
pub(super) fn generate_with(
    config: &SceneConfig,
    pool: &Pool,
    n: usize,
    seed: u64,
    constraint: &Constraint,
) -> Result<Vec<Scene>, SceneError> {
    config.validate()?;
    let mut allowed = Vec::new();
    for class in 0..pool.names.len() {
        for &colour in &config.colours {
            if let Constraint::Exclude(pairs) = constraint
                && pairs.contains(&(class, colour))
            {
                continue;
            }
            allowed.extend(Size::ALL.map(|size| (class, colour, size)));
        }
    }
    if allowed.len() < config.max_objects {
        return Err(SceneError::Config(format!(
            "only {} distinct class-colour-size objects for scenes of up to {} objects",
            allowed.len(),
            config.max_objects
        )));
    }
    if let Constraint::RequireOne(pairs) = constraint
        && pairs.is_empty()
    {
        return Err(SceneError::HeldOut("no pair to require".into()));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut scenes = Vec::with_capacity(n);
    for _ in 0..n {
        let count = rng.random_range(config.min_objects..=config.max_objects);
        let picks: Vec<(usize, Colour, Size)> = match constraint {
            Constraint::RequireOne(pairs) => {
                let (class, colour) = pairs[rng.random_range(0..pairs.len())];
                let first = (class, colour, Size::ALL[rng.random_range(0..2)]);
                let rest: Vec<_> = allowed.iter().copied().filter(|&t| t != first).collect();
                let mut picks = vec![first];
                picks.extend(
                    sample(&mut rng, rest.len(), count - 1)
                        .iter()
                        .map(|i| rest[i]),
                );
                picks
            }
            _ => sample(&mut rng, allowed.len(), count)
                .iter()
                .map(|i| allowed[i])
                .collect(),
        };
        let slots = sample(&mut rng, GRID * GRID, count);
        let mut image = RgbImage::filled(config.canvas, config.canvas, [0.0; 3]);
        let mut objects = Vec::with_capacity(count);
        for ((class, colour, size), cell) in picks.into_iter().zip(slots.iter()) {
            let glyph = pool.glyphs[class]
                .choose(&mut rng)
                .expect("pool classes have glyphs");
            let slot = Slot {
                row: cell / GRID,
                col: cell % GRID,
            };
            let bbox = place(config, &mut image, &mut rng, glyph, slot, size, colour);
            objects.push(SceneObject {
                class,
                class_name: pool.names[class].clone(),
                colour,
                size,
                slot,
                bbox,
            });
        }
        objects.sort_by_key(|o| o.slot);
        let captions = reference_captions(&objects, rng.random());
        scenes.push(Scene {
            image,
            objects,
            captions,
        });
    }
    Ok(scenes)
}

/// Scales, shifts and draws one glyph into its slot; returns its ink box.
fn place(
    config: &SceneConfig,
    image: &mut RgbImage,
    rng: &mut StdRng,
    glyph: &Glyph,
    slot: Slot,
    size: Size,
    colour: Colour,
) -> PixelBox {
    let side = config.glyph_side(size);
    let square = resize_area(&ink_crop(glyph), side);
    // The ink box inside the square; a glyph with ink keeps some after area averaging.
    let [ix0, iy0, ix1, iy1] =
        ink_bounds(&square, side, |&v| v > 0.0).unwrap_or([side, side, 0, 0]);
    let bounds = |cell: usize| {
        (
            cell * config.canvas / GRID,
            (cell + 1) * config.canvas / GRID,
        )
    };
    let jitter = (config.jitter * config.slot_side() as f32).round() as i64;
    // The square's offset on one axis: centred in the slot, shifted by at most `jitter`,
    // with the ink [i0, i1) kept inside the slot [s0, s1).
    let mut offset = |cell: usize, i0: usize, i1: usize| {
        let (s0, s1) = bounds(cell);
        let (s0, s1, i0, i1) = (s0 as i64, s1 as i64, i0 as i64, i1 as i64);
        let centre = s0 + (s1 - s0 - side as i64) / 2;
        let lo = (centre - jitter).max(s0 - i0);
        let hi = (centre + jitter).min(s1 - i1);
        rng.random_range(lo..=hi)
    };
    let tx = offset(slot.col, ix0, ix1);
    let ty = offset(slot.row, iy0, iy1);
    let rgb = colour.rgb();
    for (k, &v) in square.iter().enumerate() {
        if v > 0.0 {
            let y = (ty + (k / side) as i64) as usize;
            let x = (tx + (k % side) as i64) as usize;
            for (ch, &c) in rgb.iter().enumerate() {
                let value = image.at(ch, y, x).max(v * c);
                image.set(ch, y, x, value);
            }
        }
    }
    let at = |t: i64, i: usize| (t + i as i64) as usize;
    PixelBox {
        x0: at(tx, ix0),
        y0: at(ty, iy0),
        x1: at(tx, ix1),
        y1: at(ty, iy1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::Glyph;

    #[test]
    fn ink_crop_keeps_the_ink_rectangle() {
        // Ink at (1, 2) and (3, 1) of a 5 × 4 glyph: rows 1..4, columns 1..3.
        let mut pixels = vec![0u8; 20];
        pixels[4 + 2] = 9;
        pixels[3 * 4 + 1] = 7;
        let g = Glyph {
            rows: 5,
            cols: 4,
            pixels,
        };
        let cropped = ink_crop(&g);
        assert_eq!((cropped.rows, cropped.cols), (3, 2));
        assert_eq!(cropped.pixels, vec![0, 9, 0, 0, 7, 0]);
        // No ink: the glyph as it is.
        let empty = Glyph {
            rows: 2,
            cols: 3,
            pixels: vec![0; 6],
        };
        assert_eq!(ink_crop(&empty), empty);
    }

    #[test]
    fn objects_of_one_size_have_equal_ink_extent() {
        // Two glyphs of very different margins: a full 8 × 8 square and a 2 × 4 bar in the
        // corner of a 10 × 10 canvas. Each object's ink box has the longer side of its size.
        let full = Glyph {
            rows: 8,
            cols: 8,
            pixels: vec![255; 64],
        };
        let mut bar = Glyph {
            rows: 10,
            cols: 10,
            pixels: vec![0; 100],
        };
        for c in 0..4 {
            bar.pixels[c] = 255;
            bar.pixels[10 + c] = 255;
        }
        let config = SceneConfig {
            jitter: 0.0,
            ..SceneConfig::quick()
        };
        for glyph in [&full, &bar] {
            for size in Size::ALL {
                let mut image = RgbImage::filled(48, 48, [0.0; 3]);
                let mut rng = StdRng::seed_from_u64(0);
                let b = place(
                    &config,
                    &mut image,
                    &mut rng,
                    glyph,
                    Slot { row: 1, col: 1 },
                    size,
                    Colour::Red,
                );
                let long = (b.x1 - b.x0).max(b.y1 - b.y0);
                assert_eq!(long, config.glyph_side(size), "{size:?}");
            }
        }
    }

    #[test]
    fn area_resize_averages() {
        let g = Glyph {
            rows: 4,
            cols: 4,
            pixels: (0..16).map(|i| if i % 4 < 2 { 255 } else { 0 }).collect(),
        };
        assert_eq!(resize_area(&g, 2), vec![1.0, 0.0, 1.0, 0.0]);
        let g = Glyph {
            rows: 3,
            cols: 3,
            pixels: vec![255, 0, 0, 0, 255, 0, 0, 0, 0],
        };
        // Each output pixel covers 1.5 x 1.5 inputs: all of (0, 0) and a quarter of (1, 1).
        let out = resize_area(&g, 2);
        let want = [5.0 / 9.0, 1.0 / 9.0, 1.0 / 9.0, 1.0 / 9.0];
        assert!(
            out.iter().zip(want).all(|(o, w)| (o - w).abs() < 1e-6),
            "{out:?}"
        );
        let wide = Glyph {
            rows: 2,
            cols: 4,
            pixels: vec![255; 8],
        };
        let out = resize_area(&wide, 4);
        assert_eq!(out.iter().filter(|&&v| v == 1.0).count(), 8);
        assert_eq!(&out[4..12], &[1.0; 8], "kept aspect, centred");
    }
}
