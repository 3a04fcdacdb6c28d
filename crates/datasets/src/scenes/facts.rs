//! The facts a scene keeps: colours, sizes, slots, relations and the objects themselves.

use serde::{Deserialize, Serialize};

use crate::images::RgbImage;

/// Side of the placement grid: scenes have `GRID × GRID` slots.
pub const GRID: usize = 3;

/// The six colours an object can be tinted with; each is a corner of the RGB cube.
///
/// | colour  | RGB         |
/// |---------|-------------|
/// | red     | (1, 0, 0)   |
/// | green   | (0, 1, 0)   |
/// | blue    | (0, 0, 1)   |
/// | yellow  | (1, 1, 0)   |
/// | magenta | (1, 0, 1)   |
/// | cyan    | (0, 1, 1)   |
///
/// A pixel of an object is `intensity × rgb`, so every ink pixel of a yellow object has equal
/// red and green and no blue: the hue survives any intensity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    /// (1, 0, 0)
    Red,
    /// (0, 1, 0)
    Green,
    /// (0, 0, 1)
    Blue,
    /// (1, 1, 0)
    Yellow,
    /// (1, 0, 1)
    Magenta,
    /// (0, 1, 1)
    Cyan,
}

impl Colour {
    /// All six, in the order of the table above.
    pub const ALL: [Colour; 6] = [
        Colour::Red,
        Colour::Green,
        Colour::Blue,
        Colour::Yellow,
        Colour::Magenta,
        Colour::Cyan,
    ];

    /// The word captions use.
    pub fn name(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Yellow => "yellow",
            Colour::Magenta => "magenta",
            Colour::Cyan => "cyan",
        }
    }

    /// The colour a caption word names, if any.
    pub fn from_name(word: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|c| c.name() == word)
    }

    /// Full-intensity RGB, each channel 0 or 1.
    pub fn rgb(self) -> [f32; 3] {
        match self {
            Colour::Red => [1.0, 0.0, 0.0],
            Colour::Green => [0.0, 1.0, 0.0],
            Colour::Blue => [0.0, 0.0, 1.0],
            Colour::Yellow => [1.0, 1.0, 0.0],
            Colour::Magenta => [1.0, 0.0, 1.0],
            Colour::Cyan => [0.0, 1.0, 1.0],
        }
    }
}

/// How large an object is drawn (see [`SceneConfig::small`](super::SceneConfig::small)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// The glyph scaled to `small × slot side` pixels.
    Small,
    /// The glyph scaled to `large × slot side` pixels.
    Large,
}

impl Size {
    /// Both sizes.
    pub const ALL: [Size; 2] = [Size::Small, Size::Large];

    /// The word captions use.
    pub fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Large => "large",
        }
    }

    /// The size a caption word names, if any.
    pub fn from_name(word: &str) -> Option<Size> {
        Size::ALL.into_iter().find(|s| s.name() == word)
    }
}

/// A cell of the 3 × 3 grid: row 0 is the top, column 0 the left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    /// 0 (top) to 2 (bottom).
    pub row: usize,
    /// 0 (left) to 2 (right).
    pub col: usize,
}

/// Where one object stands relative to another ("the subject is left of the reference").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The subject's column is left of the reference's.
    LeftOf,
    /// The subject's column is right of the reference's.
    RightOf,
    /// The subject's row is above the reference's.
    Above,
    /// The subject's row is below the reference's.
    Below,
}

impl Relation {
    /// All four.
    pub const ALL: [Relation; 4] = [
        Relation::LeftOf,
        Relation::RightOf,
        Relation::Above,
        Relation::Below,
    ];

    /// The relation standing the other way along the same axis: it holds of a subject and a
    /// reference exactly when this one holds with the two swapped.
    pub fn opposite(self) -> Relation {
        match self {
            Relation::LeftOf => Relation::RightOf,
            Relation::RightOf => Relation::LeftOf,
            Relation::Above => Relation::Below,
            Relation::Below => Relation::Above,
        }
    }

    /// The phrases captions use for it, the short one first; every phrase is a valid
    /// rendering, and the parser accepts each.
    pub fn phrases(self) -> [&'static [&'static str]; 2] {
        match self {
            Relation::LeftOf => [&["left", "of"], &["to", "the", "left", "of"]],
            Relation::RightOf => [&["right", "of"], &["to", "the", "right", "of"]],
            Relation::Above => [&["above"], &["on", "top", "of"]],
            Relation::Below => [&["below"], &["under"]],
        }
    }

    /// The one relation references state for a subject in `subject` and a reference in
    /// `reference` (distinct slots): along the axis on which the slots differ more, and
    /// for an exact diagonal (equal row and column distance) horizontally.
    ///
    /// # Panics
    ///
    /// If the two slots are equal (no scene has two objects in one slot).
    pub fn between(subject: Slot, reference: Slot) -> Relation {
        assert_ne!(subject, reference, "two objects share a slot");
        let dr = subject.row as isize - reference.row as isize;
        let dc = subject.col as isize - reference.col as isize;
        if dc.abs() >= dr.abs() {
            if dc < 0 {
                Relation::LeftOf
            } else {
                Relation::RightOf
            }
        } else if dr < 0 {
            Relation::Above
        } else {
            Relation::Below
        }
    }

    /// Whether the relation is true of the two slots: "left of" when the subject's column is
    /// smaller, "above" when its row is smaller, and so on. On a diagonal two relations
    /// hold; [`Relation::between`] names one of them.
    pub fn holds(self, subject: Slot, reference: Slot) -> bool {
        match self {
            Relation::LeftOf => subject.col < reference.col,
            Relation::RightOf => subject.col > reference.col,
            Relation::Above => subject.row < reference.row,
            Relation::Below => subject.row > reference.row,
        }
    }
}

/// A pixel rectangle, `x0 <= x < x1`, `y0 <= y < y1` (end-exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PixelBox {
    /// First column.
    pub x0: usize,
    /// First row.
    pub y0: usize,
    /// One past the last column.
    pub x1: usize,
    /// One past the last row.
    pub y1: usize,
}

impl PixelBox {
    /// Whether pixel `(x, y)` lies inside.
    pub fn contains(&self, x: usize, y: usize) -> bool {
        (self.x0..self.x1).contains(&x) && (self.y0..self.y1).contains(&y)
    }
}

/// One object of a scene, with everything a caption may say about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneObject {
    /// Index into the class list of the sources ([`class_names`](super::class_names)).
    pub class: usize,
    /// The class name as captions say it (lower-case; may be several words).
    pub class_name: String,
    /// The tint.
    pub colour: Colour,
    /// Small or large.
    pub size: Size,
    /// The grid cell it stands in; no two objects of a scene share one.
    pub slot: Slot,
    /// The bounding box of the drawn ink (every pixel the object made non-zero), not of the
    /// placed glyph square. It lies inside the object's slot.
    pub bbox: PixelBox,
}

/// One generated image with its facts and its reference captions.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The canvas, black background, `[3, canvas, canvas]`.
    pub image: RgbImage,
    /// The objects, sorted by slot (row, then column).
    pub objects: Vec<SceneObject>,
    /// [`CAPTIONS_PER_SCENE`](super::CAPTIONS_PER_SCENE) distinct reference captions,
    /// lower-case tokens.
    pub captions: Vec<Vec<String>>,
}

#[cfg(test)]
impl SceneObject {
    /// An object in slot `(row, col)` with a one-pixel box, for tests of captions and scores.
    pub(crate) fn test(
        class_name: &str,
        colour: Colour,
        size: Size,
        row: usize,
        col: usize,
    ) -> SceneObject {
        SceneObject {
            class: 0,
            class_name: class_name.into(),
            colour,
            size,
            slot: Slot { row, col },
            bbox: PixelBox {
                x0: 0,
                y0: 0,
                x1: 1,
                y1: 1,
            },
        }
    }
}
