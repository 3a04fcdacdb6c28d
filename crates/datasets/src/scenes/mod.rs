//! Captioned scenes: coloured glyphs from real images (digits, clothing items) placed on a
//! black canvas, with their facts, five reference captions from a small grammar, a parser
//! from captions back to facts, a semantic score, and seeded splits including a
//! compositional one.
//!
//! # Scenes
//!
//! A scene is a square canvas ([`SceneConfig::canvas`], 48 pixels in the quick preset)
//! divided into a 3 × 3 grid of slots (slot `i` spans pixels `i * canvas / 3` to
//! `(i + 1) * canvas / 3` on each axis). It holds between [`SceneConfig::min_objects`] and
//! [`SceneConfig::max_objects`] objects, each in its own slot. An object is
//!
//! - a glyph drawn uniformly from the glyphs of its class, the class drawn from the classes
//!   of all sources together ([`class_names`]; a name shared by two sources is one class);
//! - cropped to its ink (the smallest rectangle holding its non-zero pixels, [`ink_crop`]),
//!   so that its size is the size of its ink, then scaled with area averaging (aspect
//!   kept, centred) to a square of
//!   `round(small × slot)` or `round(large × slot)` pixels, `slot = canvas / 3` (12 and 16
//!   pixels on the 48-pixel canvas of the quick preset);
//! - tinted with one of the six [`Colour`]s: each pixel is `intensity × rgb`, composed
//!   onto the canvas with a per-channel maximum;
//! - centred in its slot, then shifted by up to `round(jitter × slot)` pixels on each axis
//!   (uniformly among the shifts that keep its ink inside the slot). Objects therefore never
//!   overlap, and every pixel inside an object's box carries only that object's colour.
//!
//! No two objects of a scene share class, colour *and* size, so every object is named
//! unambiguously by its phrase. Each object records its class (index and name), colour,
//! size, slot, and [`PixelBox`]: the bounding box of the **drawn ink** (the pixels it made
//! non-zero), not of the placed glyph square.
//!
//! # Caption grammar
//!
//! Captions are lower-case tokens separated by spaces; the only punctuation is a `,` token.
//!
//! ```text
//! caption  := opener object [ relation object { "," "and" object relation "it" } ]
//! opener   := ε | "there is" | "we see" | "the image shows" | "the picture shows"
//! object   := "a" size colour class
//! size     := "small" | "large"
//! colour   := "red" | "green" | "blue" | "yellow" | "magenta" | "cyan"
//! class    := the class name, lower-cased, its words as separate tokens
//! relation := "left of" | "to the left of" | "right of" | "to the right of"
//!           | "above" | "on top of" | "below" | "under"
//! ```
//!
//! With the objects `o1 … ok` in caption order, `o1 R o2` says that `o1` stands `R` of
//! `o2`, and each later clause `, and o(i+1) R it` says that `o(i+1)` stands `R` of the
//! object named just before it, `o(i)`. So consecutive objects are related, and every
//! object is named once:
//!
//! ```text
//! there is a small red sneaker to the left of a large blue seven , and a small green bag under it
//! ```
//!
//! A reference states, for each consecutive pair, the relation [`Relation::between`] their
//! slots: along the axis on which the slots are further apart, and horizontally on an exact
//! diagonal. The [`CAPTIONS_PER_SCENE`] references of a scene each take a seeded
//! object order and a fair coin per relation for its short or long phrase, and the five
//! take the five openers in a seeded order, so they are always pairwise distinct.
//! [`canonical_caption`] is the one fixed rendering (slot order, no opener, short phrases).
//!
//! # Parsing and scoring
//!
//! [`parse_caption`] reads any token sequence back into mentioned objects and relations,
//! stopping at the first token the grammar does not allow there (it never panics); see
//! [`score`] for the semantic score against a scene's facts.
//!
//! # Splits
//!
//! [`splits`] makes train, validation, test and compositional-test scenes from one seed. A
//! set of colour–class pairs is held out ([`choose_held_out`], or a fixed list through
//! [`splits_holding_out`]): no object of the train, validation or test scenes has a held-out
//! colour on a held-out class, and every compositional scene has at least one such object.
//!
//! ```
//! use datasets::images::{Glyph, LabelledGlyphs};
//! use datasets::scenes::{SceneConfig, generate, parse_caption, score, class_names};
//!
//! let square = Glyph { rows: 8, cols: 8, pixels: vec![255; 64] };
//! let mut ring = square.clone();
//! for r in 2..6 { for c in 2..6 { ring.pixels[r * 8 + c] = 0; } }
//! let source = LabelledGlyphs {
//!     glyphs: vec![square, ring],
//!     labels: vec![0, 1],
//!     class_names: vec!["square".into(), "ring".into()],
//! };
//! let config = SceneConfig::quick();
//! let scenes = generate(&config, &[source.clone()], 3, 7).unwrap();
//! let classes = class_names(&[source]).unwrap();
//! for scene in &scenes {
//!     for caption in &scene.captions {
//!         let parsed = parse_caption(caption, &classes).unwrap();
//!         assert!(score(&parsed, &scene.objects).all_right());
//!     }
//! }
//! ```

mod caption;
mod facts;
mod parse;
mod render;
mod score;
mod split;

use serde::{Deserialize, Serialize};

pub use caption::{
    CAPTIONS_PER_SCENE, OPENERS, canonical_caption, caption_vocabulary, reference_captions,
};
pub use facts::{Colour, GRID, PixelBox, Relation, Scene, SceneObject, Size, Slot};
pub use parse::{Mention, MentionedRelation, ParseError, ParsedCaption, parse_caption};
pub use render::{class_names, generate, ink_crop, resize_area};
pub use score::{CaptionScore, ScoreTotals, score, score_caption};
pub use split::{
    HeldOutPair, SceneSplits, SplitConfig, choose_held_out, splits, splits_holding_out,
};

/// Everything that can be wrong with a scene request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SceneError {
    /// A [`SceneConfig`] or [`SplitConfig`] field is out of range.
    #[error("invalid scene configuration: {0}")]
    Config(String),
    /// A glyph source is malformed or unusable.
    #[error("glyph source {index}: {msg}")]
    Source {
        /// Position of the source in the list.
        index: usize,
        /// What is wrong with it.
        msg: String,
    },
    /// The held-out colour–class pairs do not fit the configuration.
    #[error("held-out pairs: {0}")]
    HeldOut(String),
}

/// How scenes are drawn. Every field is checked by [`SceneConfig::validate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneConfig {
    /// Side of the square canvas in pixels (at least 6); slots are `canvas / 3` pixels.
    pub canvas: usize,
    /// Fewest objects in a scene (at least 1).
    pub min_objects: usize,
    /// Most objects in a scene (at most 9, one a slot); the count is uniform in between.
    pub max_objects: usize,
    /// The colours objects are tinted with, drawn uniformly; distinct, at least one.
    pub colours: Vec<Colour>,
    /// Side of a small object's glyph square as a fraction of the slot side, in `(0, large)`.
    pub small: f32,
    /// Side of a large object's glyph square as a fraction of the slot side, in
    /// `(small, 1]`; the two must round to different pixel sizes.
    pub large: f32,
    /// Largest shift from the slot's centre, on each axis, as a fraction of the slot side,
    /// in `[0, 1]`; shifts that would push ink out of the slot are never drawn.
    pub jitter: f32,
    /// The dataset seed [`splits`] derives every split from ([`generate`] takes its own).
    pub seed: u64,
}

impl SceneConfig {
    /// The quick preset: a 48-pixel canvas, 1 to 4 objects, all six colours, glyphs of 12
    /// and 16 pixels, shifts of up to 4 pixels, seed 0.
    pub fn quick() -> SceneConfig {
        SceneConfig {
            canvas: 48,
            min_objects: 1,
            max_objects: 4,
            colours: Colour::ALL.to_vec(),
            small: 0.75,
            large: 1.0,
            jitter: 0.25,
            seed: 0,
        }
    }

    /// Side of a slot in pixels (`canvas / 3`).
    pub fn slot_side(&self) -> usize {
        self.canvas / GRID
    }

    /// Side in pixels of the square a glyph of `size` is scaled to.
    pub fn glyph_side(&self, size: Size) -> usize {
        let frac = match size {
            Size::Small => self.small,
            Size::Large => self.large,
        };
        ((frac * self.slot_side() as f32).round() as usize).max(1)
    }

    /// Checks every field; the message names the field at fault.
    pub fn validate(&self) -> Result<(), SceneError> {
        let bad = |msg: String| Err(SceneError::Config(msg));
        if self.canvas < 2 * GRID {
            return bad(format!("canvas {} is below {}", self.canvas, 2 * GRID));
        }
        if self.min_objects == 0 || self.min_objects > self.max_objects {
            return bad(format!(
                "objects {}..={} is not a range starting at 1 or more",
                self.min_objects, self.max_objects
            ));
        }
        if self.max_objects > GRID * GRID {
            return bad(format!(
                "max_objects {} exceeds the {} slots",
                self.max_objects,
                GRID * GRID
            ));
        }
        if self.colours.is_empty() {
            return bad("colours is empty".into());
        }
        for (i, c) in self.colours.iter().enumerate() {
            if self.colours[..i].contains(c) {
                return bad(format!("colours lists {} twice", c.name()));
            }
        }
        if !(self.small > 0.0 && self.small < self.large && self.large <= 1.0) {
            return bad(format!(
                "sizes small {} and large {} must satisfy 0 < small < large <= 1",
                self.small, self.large
            ));
        }
        if self.glyph_side(Size::Small) >= self.glyph_side(Size::Large) {
            return bad(format!(
                "small and large both round to {} pixels on a {}-pixel slot",
                self.glyph_side(Size::Large),
                self.slot_side()
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return bad(format!("jitter {} is outside [0, 1]", self.jitter));
        }
        Ok(())
    }
}

impl Default for SceneConfig {
    fn default() -> Self {
        SceneConfig::quick()
    }
}

/// A class name as captions say it: lower-case words joined by single spaces.
fn normalize_name(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// SplitMix64 of `seed` mixed with `stream`: independent seeds for derived streams.
fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A caption written with spaces, as tokens (for tests).
#[cfg(test)]
fn toks(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_through_json() {
        let config = SceneConfig::quick();
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.contains(r#""colours":["red","green","blue","yellow","magenta","cyan"]"#));
        assert_eq!(serde_json::from_str::<SceneConfig>(&json).unwrap(), config);
        assert_eq!(config.glyph_side(Size::Small), 12);
        assert_eq!(config.glyph_side(Size::Large), 16);
    }
}
