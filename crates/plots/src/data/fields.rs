//! Serde helpers for the three kinds of field the formats share: plain text, tokens
//! (with the `<comma>` escape) and floats written with a fixed number of decimals.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

/// How a literal comma inside a token is stored in `alignment.csv`,
/// `document_attention.csv` and `image_attention.csv`, and inside a caption in
/// `example_captions.csv`.
pub(crate) const COMMA_ESCAPE: &str = "<comma>";

/// Writes a float with exactly `DECIMALS` decimals (`format!("{:.DECIMALS$}")`), for
/// `#[serde(serialize_with = "fixed_decimals::<4, _>")]`. Reading needs no helper.
pub(crate) fn fixed_decimals<const DECIMALS: usize, S: Serializer>(
    value: &f64,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{value:.DECIMALS$}"))
}

/// A text field other than a token (model, metric, measure, ...), for
/// `#[serde(with = "text")]`: written as is, but refused when empty or holding a comma
/// or line break; read with surrounding spaces trimmed, and refused when blank.
pub(crate) mod text {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &str, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_empty() || value.contains([',', '\n', '\r']) {
            return Err(S::Error::custom(format!(
                "text {value:?} is empty or contains a comma or line break"
            )));
        }
        serializer.serialize_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<String, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(D::Error::custom("empty text"));
        }
        Ok(trimmed.to_string())
    }
}

/// A token of a sentence or document, or a whole caption, for
/// `#[serde(with = "token")]`: any text. Written with each "," as `<comma>` and line
/// breaks as spaces; read verbatim (a space can be a token, and a caption's spaces are
/// its own) with `<comma>` turned back into ",".
pub(crate) mod token {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.replace(',', COMMA_ESCAPE).replace(['\n', '\r'], " "))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<String, D::Error> {
        Ok(String::deserialize(deserializer)?.replace(COMMA_ESCAPE, ","))
    }
}
