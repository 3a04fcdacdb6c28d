//! Glyphs placed on larger canvases, translated and cluttered: the image-classification data
//! of Mnih, Heess, Graves and Kavukcuoglu, "Recurrent Models of Visual Attention" (NIPS
//! 2014), §4.1.
//!
//! # The paper's data sets
//!
//! The paper classifies MNIST digits in four settings, named here as [`CanvasSpec::name`]
//! spells them:
//!
//! | name              | canvas    | object                       | clutter                  |
//! |-------------------|-----------|------------------------------|--------------------------|
//! | `centred-28`      | 28 × 28   | the digit as it is           | none                     |
//! | `translated-60`   | 60 × 60   | at a uniformly random place  | none                     |
//! | `cluttered-60-4`  | 60 × 60   | at a uniformly random place  | 4 pieces of 8 × 8        |
//! | `cluttered-100-8` | 100 × 100 | at a uniformly random place  | 8 pieces of 8 × 8        |
//!
//! The clutter is what makes the task need attention: a convolutional network sees every
//! pixel, so digit-like strokes anywhere compete with the digit, while a glimpse-based model
//! can learn to look past them. The paper made its clutter from 8 × 8 sub-patches of other,
//! randomly chosen MNIST digits, put at random places on the canvas, and generated its
//! translated training images on the fly.
//!
//! # What is done here, and what differs
//!
//! [`place`] puts one glyph of a [`LabelledGlyphs`] on a canvas of [`CanvasSpec::side`]
//! pixels: first [`CanvasSpec::clutter`] pieces, each a `piece × piece` crop taken at a
//! uniformly random position of a uniformly random glyph of the set other than the object's
//! own, pasted at a uniformly random position wholly inside the canvas; then the object's
//! 28 × 28 glyph at a uniformly random position wholly inside the canvas (on a 28-pixel
//! canvas, the one position there is). Intensities are the glyph bytes divided by 255, and
//! everything is combined with a per-pixel maximum. Where the paper is silent this module
//! chooses, and says so:
//!
//! - overlaps (clutter on clutter, clutter under the object) take the maximum, so the object
//!   keeps every stroke it has, and clutter may lie beside or under it;
//! - "other" digits means other *images*: a piece may come from another image of the
//!   object's class, never from the object's own image;
//! - a crop may fall on a glyph's empty margin and add no ink (MNIST digits sit in the
//!   middle 20 × 20 of their 28 × 28 box), as any uniform crop would;
//! - the glyphs need not be digits: clothing items (Fashion-MNIST) or the procedural shapes
//!   of [`shapes`](super::shapes) serve the same way, clutter then cut from that set;
//! - "on the fly" becomes "re-placed every epoch": [`place_all`] is deterministic in its
//!   seed, and the training set is placed again each epoch with [`epoch_seed`], while the
//!   test set is placed once with a fixed seed.
//!
//! Canvas `k` of [`place_all`] depends only on the seed, `k` and `indices[k]`
//! ([`canvas_rng`]), so a large set can be placed a batch at a time with [`place`]. A canvas
//! holds `4 · side²` bytes: 60,000 canvases of 100 × 100 take 2.4 GB at once.
//!
//! ```
//! use datasets::images::canvas::{CanvasSpec, epoch_seed, place_all, split_indices};
//! use datasets::images::shapes::procedural_glyphs;
//!
//! let glyphs = procedural_glyphs(10, 7);
//! let (train, test) = split_indices(glyphs.glyphs.len(), 12, 7).unwrap();
//! let spec: CanvasSpec = "cluttered-60-4".parse().unwrap();
//! let test_set = place_all(&glyphs, &test, &spec, 1).unwrap();
//! let epoch_3 = place_all(&glyphs, &train, &spec, epoch_seed(2, 3)).unwrap();
//! assert_eq!((test_set.len(), epoch_3.len()), (12, 48));
//! assert_eq!((spec.kind().name(), test_set[0].pixels.len()), ("cluttered", 60 * 60));
//! ```

use std::fmt;
use std::str::FromStr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::LabelledGlyphs;
use crate::split;

/// Side of the glyphs a canvas takes, as in MNIST and Fashion-MNIST.
pub const GLYPH_SIDE: usize = 28;
/// Side of a clutter piece in the paper (§4.1: 8 × 8 sub-patches).
pub const DEFAULT_PIECE: usize = 8;
/// The largest canvas side accepted, so that a typo cannot ask for gigabytes per canvas.
pub const MAX_SIDE: usize = 1024;

/// The spellings [`CanvasSpec`]'s `FromStr` accepts, for error messages.
const ACCEPTED: &str = "centred-28, translated-SIDE or cluttered-SIDE-PIECES[-PIECE_SIDE] \
                        (e.g. translated-60, cluttered-60-4, cluttered-100-8)";

/// What can be wrong with a canvas request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CanvasError {
    /// A canvas name that does not parse.
    #[error("canvas `{spelling}`: {msg}; expected {ACCEPTED}")]
    Spelling {
        /// The text as given.
        spelling: String,
        /// What is wrong with it.
        msg: String,
    },
    /// A [`CanvasSpec`] whose sizes do not fit together.
    #[error("invalid canvas (side {side}, clutter {clutter}, piece {piece}): {msg}")]
    Spec {
        /// [`CanvasSpec::side`].
        side: usize,
        /// [`CanvasSpec::clutter`].
        clutter: usize,
        /// [`CanvasSpec::piece`].
        piece: usize,
        /// What is wrong.
        msg: String,
    },
    /// The glyph set cannot serve the request (an index out of range, a glyph that is not
    /// 28 × 28, no other glyph to cut clutter from).
    #[error("glyphs: {0}")]
    Glyphs(String),
    /// A train/test split that cannot be made.
    #[error("split: {0}")]
    Split(String),
}

/// The three settings of the paper, as the experiment's tables name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CanvasKind {
    /// The glyph as it is: a 28-pixel canvas and no clutter.
    Centred,
    /// A larger canvas, the glyph anywhere on it, no clutter.
    Translated,
    /// The glyph anywhere, with pieces of other glyphs around it.
    Cluttered,
}

impl CanvasKind {
    /// `centred`, `translated` or `cluttered`.
    pub fn name(self) -> &'static str {
        match self {
            CanvasKind::Centred => "centred",
            CanvasKind::Translated => "translated",
            CanvasKind::Cluttered => "cluttered",
        }
    }
}

/// A canvas size and its clutter. The kind follows from the numbers ([`CanvasSpec::kind`]):
/// a translated canvas is a cluttered one with no pieces, a centred one a translated one with
/// no room to move.
///
/// Serialized as its [`name`](CanvasSpec::name), e.g. `"cluttered-60-4"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CanvasSpec {
    /// Height and width of the canvas in pixels, from [`GLYPH_SIDE`] to [`MAX_SIDE`].
    pub side: usize,
    /// Pieces of clutter per canvas.
    pub clutter: usize,
    /// Side of a clutter piece in pixels, from 1 to [`GLYPH_SIDE`] ([`DEFAULT_PIECE`] in the
    /// paper); it matters only when there is clutter.
    pub piece: usize,
}

impl CanvasSpec {
    /// `centred-28`: the glyph as it is.
    pub fn centred() -> CanvasSpec {
        CanvasSpec::cluttered(GLYPH_SIDE, 0)
    }

    /// `translated-SIDE`: the glyph at a uniformly random place of a `side`-pixel canvas.
    pub fn translated(side: usize) -> CanvasSpec {
        CanvasSpec::cluttered(side, 0)
    }

    /// `cluttered-SIDE-PIECES`: as [`translated`](CanvasSpec::translated), with `clutter`
    /// pieces of [`DEFAULT_PIECE`] pixels.
    pub fn cluttered(side: usize, clutter: usize) -> CanvasSpec {
        CanvasSpec {
            side,
            clutter,
            piece: DEFAULT_PIECE,
        }
    }

    /// The same canvas with clutter pieces of `piece` pixels.
    pub fn with_piece(self, piece: usize) -> CanvasSpec {
        CanvasSpec { piece, ..self }
    }

    /// The paper's four settings (§4.1, Table 1): `centred-28`, `translated-60`,
    /// `cluttered-60-4`, `cluttered-100-8`.
    pub fn paper() -> [CanvasSpec; 4] {
        [
            CanvasSpec::centred(),
            CanvasSpec::translated(60),
            CanvasSpec::cluttered(60, 4),
            CanvasSpec::cluttered(100, 8),
        ]
    }

    /// Cluttered if there is clutter; otherwise centred on a [`GLYPH_SIDE`] canvas and
    /// translated on any other.
    pub fn kind(&self) -> CanvasKind {
        if self.clutter > 0 {
            CanvasKind::Cluttered
        } else if self.side == GLYPH_SIDE {
            CanvasKind::Centred
        } else {
            CanvasKind::Translated
        }
    }

    /// `centred-28`, `translated-SIDE`, or `cluttered-SIDE-PIECES` with `-PIECE_SIDE`
    /// appended when the piece side is not [`DEFAULT_PIECE`]. `FromStr` reads it back to the
    /// same spec (the piece side of an uncluttered spec, which nothing uses, reads back as
    /// the default).
    pub fn name(&self) -> String {
        match self.kind() {
            CanvasKind::Centred => format!("centred-{}", self.side),
            CanvasKind::Translated => format!("translated-{}", self.side),
            CanvasKind::Cluttered if self.piece == DEFAULT_PIECE => {
                format!("cluttered-{}-{}", self.side, self.clutter)
            }
            CanvasKind::Cluttered => {
                format!("cluttered-{}-{}-{}", self.side, self.clutter, self.piece)
            }
        }
    }

    /// Checks that the glyph fits on the canvas (`side ≥ 28`), that the canvas is at most
    /// [`MAX_SIDE`], and that a piece is at least one pixel and fits in a glyph (`piece ≤
    /// 28`, so it fits the canvas too); the message says which bound is broken.
    pub fn validate(&self) -> Result<(), CanvasError> {
        let bad = |msg: String| {
            Err(CanvasError::Spec {
                side: self.side,
                clutter: self.clutter,
                piece: self.piece,
                msg,
            })
        };
        if self.side < GLYPH_SIDE {
            return bad(format!(
                "side {} is below the glyph side {GLYPH_SIDE}: the glyph would not fit",
                self.side
            ));
        }
        if self.side > MAX_SIDE {
            return bad(format!(
                "side {} is above the largest, {MAX_SIDE}",
                self.side
            ));
        }
        if self.piece == 0 {
            return bad("piece 0: a clutter piece needs at least one pixel".into());
        }
        if self.piece > GLYPH_SIDE {
            return bad(format!(
                "piece {} is above the glyph side {GLYPH_SIDE}: pieces are cut from glyphs",
                self.piece
            ));
        }
        Ok(())
    }
}

impl fmt::Display for CanvasSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for CanvasSpec {
    type Err = CanvasError;

    /// Reads the spellings of [`CanvasSpec::name`] (a cluttered one may also write the
    /// default piece side); the spec read must also pass [`CanvasSpec::validate`]. A name
    /// of one kind for a spec of another is refused, so that the kind read is the kind
    /// named: `translated-28` (that is `centred-28`) and `cluttered-SIDE-0` (that is
    /// `translated-SIDE`).
    fn from_str(text: &str) -> Result<CanvasSpec, CanvasError> {
        let spelling = |msg: String| CanvasError::Spelling {
            spelling: text.to_string(),
            msg,
        };
        let number = |part: &str, what: &str| {
            part.parse::<usize>()
                .map_err(|_| spelling(format!("{what} `{part}` is not a whole number")))
        };
        let parts: Vec<&str> = text.split('-').collect();
        let spec = match parts[..] {
            ["centred", side] => {
                let side = number(side, "side")?;
                if side != GLYPH_SIDE {
                    return Err(spelling(format!(
                        "a centred canvas is the glyph as it is, {GLYPH_SIDE} pixels, not \
                         {side}; the glyph on a larger canvas is translated-SIDE"
                    )));
                }
                CanvasSpec::centred()
            }
            ["translated", side] => {
                let side = number(side, "side")?;
                if side == GLYPH_SIDE {
                    return Err(spelling(format!(
                        "a {GLYPH_SIDE}-pixel canvas leaves the glyph no room to move; \
                         it is centred-{GLYPH_SIDE}"
                    )));
                }
                CanvasSpec::translated(side)
            }
            ["cluttered", side, pieces] | ["cluttered", side, pieces, _] => {
                let side = number(side, "side")?;
                let pieces = number(pieces, "number of pieces")?;
                let piece = match parts.get(3) {
                    Some(piece) => number(piece, "piece side")?,
                    None => DEFAULT_PIECE,
                };
                if pieces == 0 {
                    let other = CanvasSpec::translated(side).name();
                    return Err(spelling(format!("0 pieces is no clutter; it is {other}")));
                }
                CanvasSpec::cluttered(side, pieces).with_piece(piece)
            }
            _ => {
                return Err(spelling(format!(
                    "unknown canvas kind or wrong number of parts ({} separated by `-`)",
                    parts.len()
                )));
            }
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl TryFrom<String> for CanvasSpec {
    type Error = CanvasError;

    fn try_from(text: String) -> Result<CanvasSpec, CanvasError> {
        text.parse()
    }
}

impl From<CanvasSpec> for String {
    fn from(spec: CanvasSpec) -> String {
        spec.name()
    }
}

/// One piece of clutter on a canvas: where it was cut, and where it was put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClutterPiece {
    /// Index in the glyph set of the glyph it was cut from (never the object's).
    pub source: usize,
    /// `(x, y)` of the crop's top-left pixel in that glyph.
    pub crop: (usize, usize),
    /// `(x, y)` of the piece's top-left pixel on the canvas.
    pub at: (usize, usize),
}

/// One glyph placed on a canvas, with its clutter.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    /// Height and width in pixels.
    pub side: usize,
    /// `side²` intensities in `[0, 1]`, row-major: `pixels[y * side + x]`.
    pub pixels: Vec<f32>,
    /// The object's class, as in [`LabelledGlyphs::labels`].
    pub label: u8,
    /// `(x, y)` of the top-left pixel of the object's 28 × 28 box.
    pub top_left: (usize, usize),
    /// The clutter, in the order it was pasted.
    pub pieces: Vec<ClutterPiece>,
}

impl Canvas {
    /// The intensity at column `x`, row `y`.
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.pixels[y * self.side + x]
    }
}

/// Places glyph `index` of `glyphs` on a canvas of `spec`, drawing every position from
/// `rng`: the clutter first, then the object (see the module docs for what is drawn, and how
/// it differs from the paper).
///
/// Errors: a spec that fails [`CanvasSpec::validate`]; an `index` with no glyph or no label;
/// a glyph used (the object, or a clutter source) that is not 28 × 28 or whose pixel count
/// is not `rows · cols`; clutter asked of a set with no other glyph to cut it from.
pub fn place(
    glyphs: &LabelledGlyphs,
    index: usize,
    spec: &CanvasSpec,
    rng: &mut StdRng,
) -> Result<Canvas, CanvasError> {
    spec.validate()?;
    let count = glyphs.glyphs.len();
    let label = match glyphs.labels.get(index) {
        Some(&label) if index < count => label,
        _ => {
            return Err(CanvasError::Glyphs(format!(
                "index {index} is out of range: {count} glyphs and {} labels",
                glyphs.labels.len()
            )));
        }
    };
    let object = square_glyph(glyphs, index)?;
    if spec.clutter > 0 && count < 2 {
        return Err(CanvasError::Glyphs(format!(
            "{} asks for clutter, cut from glyphs other than the object, but the set holds \
             {count} glyph",
            spec.name()
        )));
    }
    let side = spec.side;
    let mut pixels = vec![0.0; side * side];
    let mut pieces = Vec::with_capacity(spec.clutter);
    for _ in 0..spec.clutter {
        // Uniform over the other count − 1 glyphs: skip the object's index.
        let drawn = rng.random_range(0..count - 1);
        let source = if drawn >= index { drawn + 1 } else { drawn };
        let glyph = square_glyph(glyphs, source)?;
        let crop = random_corner(rng, GLYPH_SIDE, spec.piece);
        let at = random_corner(rng, side, spec.piece);
        paste_max(&mut pixels, side, glyph, crop, spec.piece, at);
        pieces.push(ClutterPiece { source, crop, at });
    }
    let top_left = random_corner(rng, side, GLYPH_SIDE);
    paste_max(&mut pixels, side, object, (0, 0), GLYPH_SIDE, top_left);
    Ok(Canvas {
        side,
        pixels,
        label,
        top_left,
        pieces,
    })
}

/// Places `glyphs[indices[k]]` for every `k`, canvas `k` drawn from [`canvas_rng`]`(seed,
/// k)`: the same indices, spec and seed always give the same canvases, and canvas `k` does
/// not depend on the other indices. For the training set, pass [`epoch_seed`]`(base, epoch)`
/// to re-place it every epoch.
///
/// The errors are those of [`place`], for the first canvas at fault.
pub fn place_all(
    glyphs: &LabelledGlyphs,
    indices: &[usize],
    spec: &CanvasSpec,
    seed: u64,
) -> Result<Vec<Canvas>, CanvasError> {
    indices
        .iter()
        .enumerate()
        .map(|(k, &index)| place(glyphs, index, spec, &mut canvas_rng(seed, k)))
        .collect()
}

/// The generator canvas `position` of [`place_all`]`(…, seed)` is drawn from, so a batch of
/// its canvases can be placed alone: `place(glyphs, indices[k], spec, &mut canvas_rng(seed,
/// k))` is `place_all(glyphs, indices, spec, seed)[k]`.
pub fn canvas_rng(seed: u64, position: usize) -> StdRng {
    StdRng::seed_from_u64(mix(seed, position as u64))
}

/// The seed of epoch `epoch` of a training set placed from `base`: distinct epochs give
/// unrelated placements, and the same pair always the same.
pub fn epoch_seed(base: u64, epoch: u64) -> u64 {
    mix(base, epoch ^ 0xE90C_0000_0000_0000)
}

/// Splits the indices `0..count` of a glyph set into a training and a test part with `test`
/// indices, by [`split::split`] with `seed`: the indices shuffled, the test part cut from the
/// end. Both parts keep the shuffled order, so neither follows the set's label order.
///
/// An error if `test` exceeds `count`.
pub fn split_indices(
    count: usize,
    test: usize,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), CanvasError> {
    if test > count {
        return Err(CanvasError::Split(format!(
            "{test} test images asked of {count}"
        )));
    }
    let test_fraction = if count == 0 {
        0.0
    } else {
        test as f64 / count as f64
    };
    // `split` rounds `test_fraction · count` to the nearest index; that is `test` exactly,
    // since the two roundings of the division and product stay far below one half.
    let parts = split::split((0..count).collect(), 0.0, test_fraction, seed);
    Ok((parts.train, parts.test))
}

/// Checks that every glyph of `glyphs` can be placed: one label per glyph, each glyph the
/// 28 × 28 square a canvas takes. The errors are those [`place`] would give for the first
/// glyph at fault, found without drawing a canvas.
pub fn check_glyphs(glyphs: &LabelledGlyphs) -> Result<(), CanvasError> {
    let count = glyphs.glyphs.len();
    if glyphs.labels.len() != count {
        return Err(CanvasError::Glyphs(format!(
            "{count} glyphs and {} labels",
            glyphs.labels.len()
        )));
    }
    (0..count).try_for_each(|index| square_glyph(glyphs, index).map(|_| ()))
}

/// Glyph `index`, checked to be the 28 × 28 square a canvas takes.
fn square_glyph(glyphs: &LabelledGlyphs, index: usize) -> Result<&super::Glyph, CanvasError> {
    let glyph = &glyphs.glyphs[index];
    if glyph.rows != GLYPH_SIDE || glyph.cols != GLYPH_SIDE {
        return Err(CanvasError::Glyphs(format!(
            "glyph {index} is {} × {} pixels; canvases take {GLYPH_SIDE} × {GLYPH_SIDE}",
            glyph.rows, glyph.cols
        )));
    }
    if glyph.pixels.len() != GLYPH_SIDE * GLYPH_SIDE {
        return Err(CanvasError::Glyphs(format!(
            "glyph {index} says {GLYPH_SIDE} × {GLYPH_SIDE} but holds {} pixels",
            glyph.pixels.len()
        )));
    }
    Ok(glyph)
}

/// A uniformly random `(x, y)` at which a square of `inner` pixels lies wholly inside one of
/// `outer` pixels (`inner ≤ outer`).
fn random_corner(rng: &mut StdRng, outer: usize, inner: usize) -> (usize, usize) {
    let x = rng.random_range(0..=outer - inner);
    let y = rng.random_range(0..=outer - inner);
    (x, y)
}

/// Pastes the `size × size` square of `glyph` at `from` (x, y) onto the canvas at `to`
/// (x, y), as intensities `byte / 255`, keeping the larger value at every pixel.
fn paste_max(
    canvas: &mut [f32],
    side: usize,
    glyph: &super::Glyph,
    from: (usize, usize),
    size: usize,
    to: (usize, usize),
) {
    for dy in 0..size {
        let row = &mut canvas[(to.1 + dy) * side + to.0..][..size];
        for (dx, pixel) in row.iter_mut().enumerate() {
            let value = f32::from(glyph.at(from.1 + dy, from.0 + dx)) / 255.0;
            *pixel = pixel.max(value);
        }
    }
}

/// SplitMix64 of `seed` mixed with `stream`: independent seeds for derived streams.
fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
