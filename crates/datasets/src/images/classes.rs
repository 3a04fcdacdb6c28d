//! The class names of the glyph sets, as captions say them.
//!
//! A caption names an object with one lower-case word ("a bag left of a sneaker"), so the
//! names here are short forms of the official ones. Index `i` is the label `i` of the files.

/// Fashion-MNIST's ten classes as captions say them, in label order.
///
/// The mapping from the official names (Zalando's README, label order):
///
/// | label | official    | here      |
/// |-------|-------------|-----------|
/// | 0     | T-shirt/top | t-shirt   |
/// | 1     | Trouser     | trouser   |
/// | 2     | Pullover    | pullover  |
/// | 3     | Dress       | dress     |
/// | 4     | Coat        | coat      |
/// | 5     | Sandal      | sandal    |
/// | 6     | Shirt       | shirt     |
/// | 7     | Sneaker     | sneaker   |
/// | 8     | Bag         | bag       |
/// | 9     | Ankle boot  | boot      |
pub const FASHION_MNIST: [&str; 10] = [
    "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot",
];

/// Fashion-MNIST's ten classes under their official names, in label order.
pub const FASHION_MNIST_OFFICIAL: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The ten digits as words, in label order ("zero" is label 0).
pub const DIGITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// `names` as the owned `class_names` of a [`LabelledGlyphs`](super::LabelledGlyphs).
pub fn class_names(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}
