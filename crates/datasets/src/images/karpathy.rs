//! Captioned photographs in the Karpathy split format: Flickr8k, Flickr30k and MS-COCO.
//!
//! Karpathy & Fei-Fei (2015), "Deep Visual-Semantic Alignments for Generating Image
//! Descriptions" (CVPR), released one JSON file per dataset (`dataset_flickr8k.json`,
//! `dataset_flickr30k.json`, `dataset_coco.json`) fixing the train/val/test split and the
//! tokenized reference captions; Show, Attend and Tell and most captioning work since report
//! on these splits. The layout (fields not listed here, such as `imgid`, `sentids`, `cocoid`,
//! `sentid`, are ignored):
//!
//! ```json
//! {"images": [
//!    {"filename": "1000268201_693b08cb0e.jpg", "split": "train",
//!     "sentences": [{"tokens": ["a", "child", "in", "a", "pink", "dress"],
//!                    "raw": "A child in a pink dress ."}, ...]},
//!    {"filepath": "val2014", "filename": "COCO_val2014_000000391895.jpg",
//!     "split": "restval", "sentences": [...]}],
//!  "dataset": "flickr8k"}
//! ```
//!
//! - The image of an entry is `<images_dir>/<filename>`, or `<images_dir>/<filepath>/<filename>`
//!   when the entry has a `filepath` (COCO's `train2014` / `val2014`); if that file does not
//!   exist but `<images_dir>/<filename>` does (a folder with all COCO images together), that one
//!   is used. Names that would leave `images_dir` (absolute, or with `..`) or that hold a
//!   control character are refused.
//! - `split` is `train`, `val`, `test` or `restval`. `restval` is the part of COCO's val2014
//!   that Karpathy's split leaves over for training; it is read as **train** (giving the usual
//!   113,287 COCO training images: 82,783 train + 30,504 restval) and flagged on each image
//!   ([`CaptionedImage::restval`]), so it can be dropped. Split sizes: Flickr8k 6,000 / 1,000 /
//!   1,000; Flickr30k 29,000 / 1,014 / 1,000; COCO 113,287 / 5,000 / 5,000.
//! - A caption is its `tokens`, lower-cased; a sentence without `tokens` falls back to its
//!   `raw` text split by [`crate::tokenize::words`].
//!
//! Images are decoded and resized to a square as [`super::decode`] describes: alpha composited
//! over [`KarpathyOptions::background`], shorter side scaled to [`KarpathyOptions::size`] with
//! Pillow's bilinear (triangle) weights, then the central square kept (torchvision's
//! `Resize` + `CenterCrop`).
//!
//! Errors are [`DataError`]s naming the file at fault: a JSON syntax or type error gives
//! [`DataError::Format`] with serde's line (and the column in the message); an entry without
//! `filename`, `split` or `sentences`, or with an unknown split, gives [`DataError::Record`] on
//! the JSON file with the entry's 0-based index; a missing or undecodable image gives
//! [`DataError::Record`] on the image's path with the entry's index, its message naming the
//! entry's `filename` and the JSON file. With [`KarpathyOptions::skip_bad`] such images are
//! left out and listed in [`KarpathySet::skipped`] instead.

use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use super::RgbImage;
use super::decode::load_square;
use crate::DataError;

/// The three splits of a Karpathy file (`restval` is read as [`Split::Train`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// `train` and `restval` entries.
    Train,
    /// `val` entries.
    Val,
    /// `test` entries.
    Test,
}

impl Split {
    /// The three splits, in the order train, val, test.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// The split's name as the JSON writes it (`train`, `val`, `test`).
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// How [`read_karpathy`] turns the image folder into tensors-to-be.
#[derive(Clone, Debug, PartialEq)]
pub struct KarpathyOptions {
    /// Side of the square every image is resized to (shorter side scaled, then centre-crop).
    /// Default 224, the input size of the ImageNet CNNs captioners use as encoders.
    pub size: usize,
    /// RGB in `[0, 1]` that transparent pixels are composited over. Default white
    /// `[1, 1, 1]`: transparent images are mostly drawn to be shown on a white page.
    pub background: [f32; 3],
    /// Leave out images that are missing or cannot be decoded, listing them in
    /// [`KarpathySet::skipped`], instead of failing on the first one. Default `false`.
    pub skip_bad: bool,
    /// Load at most this many images per split (in file order; skipped images do not count),
    /// for quick runs. Default `None`: all.
    pub max_per_split: Option<usize>,
}

impl Default for KarpathyOptions {
    fn default() -> Self {
        KarpathyOptions {
            size: 224,
            background: [1.0; 3],
            skip_bad: false,
            max_per_split: None,
        }
    }
}

/// One entry of a Karpathy file, before its image is loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KarpathyEntry {
    /// 0-based position in the file's `images` list.
    pub index: usize,
    /// The `filename` field.
    pub filename: String,
    /// The `filepath` field (COCO's `train2014` / `val2014`), if any.
    pub filepath: Option<String>,
    /// The split (`restval` read as [`Split::Train`]).
    pub split: Split,
    /// Whether the file said `restval`.
    pub restval: bool,
    /// The reference captions: token lists, lower-cased.
    pub captions: Vec<Vec<String>>,
}

impl KarpathyEntry {
    /// Where the entry's image is under `images_dir` (see the module docs for `filepath` and
    /// the fallback to `images_dir/filename`).
    pub fn image_path(&self, images_dir: &Path) -> PathBuf {
        let direct = images_dir.join(&self.filename);
        match &self.filepath {
            Some(sub) => {
                let nested = images_dir.join(sub).join(&self.filename);
                if !nested.exists() && direct.exists() {
                    direct
                } else {
                    nested
                }
            }
            None => direct,
        }
    }
}

/// A captioned image, resized.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptionedImage {
    /// The image, `size × size`.
    pub image: RgbImage,
    /// The reference captions: token lists, lower-cased (five per image in the released files).
    pub captions: Vec<Vec<String>>,
    /// The entry's `filename`.
    pub filename: String,
    /// The file the image was read from.
    pub path: PathBuf,
    /// 0-based position of the entry in the JSON's `images` list.
    pub entry: usize,
    /// Whether the entry's split was `restval` (read as train).
    pub restval: bool,
}

/// A Karpathy split file with its images: per split, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KarpathySet {
    /// The file's `dataset` field (`flickr8k`, `flickr30k`, `coco`), if present.
    pub dataset: Option<String>,
    /// `train` and `restval` images.
    pub train: Vec<CaptionedImage>,
    /// `val` images.
    pub val: Vec<CaptionedImage>,
    /// `test` images.
    pub test: Vec<CaptionedImage>,
    /// With [`KarpathyOptions::skip_bad`]: each image left out, with the error message (which
    /// names the image, the entry's index and filename, and the JSON file).
    pub skipped: Vec<(PathBuf, String)>,
}

impl KarpathySet {
    /// The images of one split.
    pub fn split(&self, split: Split) -> &[CaptionedImage] {
        match split {
            Split::Train => &self.train,
            Split::Val => &self.val,
            Split::Test => &self.test,
        }
    }

    fn split_mut(&mut self, split: Split) -> &mut Vec<CaptionedImage> {
        match split {
            Split::Train => &mut self.train,
            Split::Val => &mut self.val,
            Split::Test => &mut self.test,
        }
    }
}

#[derive(Deserialize)]
struct RawFile {
    images: Vec<RawEntry>,
    dataset: Option<String>,
}

#[derive(Deserialize)]
struct RawEntry {
    filename: Option<String>,
    filepath: Option<String>,
    split: Option<String>,
    sentences: Option<Vec<RawSentence>>,
}

#[derive(Deserialize)]
struct RawSentence {
    tokens: Option<Vec<String>>,
    raw: Option<String>,
}

/// Reads the entries of a Karpathy split file, without touching any image.
///
/// Returns the file's `dataset` field and its entries in file order. Errors as the module
/// docs list: [`DataError::Io`], [`DataError::Format`] (serde's line, column in the message),
/// [`DataError::Record`] (an entry's index).
pub fn read_karpathy_entries(
    json_path: &Path,
) -> Result<(Option<String>, Vec<KarpathyEntry>), DataError> {
    let bytes = std::fs::read(json_path).map_err(|e| DataError::io(json_path, e))?;
    let raw: RawFile = serde_json::from_slice(&bytes).map_err(|e| json_error(json_path, &e))?;
    let entries = raw
        .images
        .into_iter()
        .enumerate()
        .map(|(index, entry)| parse_entry(json_path, index, entry))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((raw.dataset, entries))
}

/// Reads a Karpathy split file and decodes its images from `images_dir`.
///
/// Every entry is checked before any image is decoded, so a malformed JSON fails fast. Images
/// are then loaded in file order, each resized to `options.size × options.size` (see the
/// module docs), up to `options.max_per_split` per split.
///
/// ```no_run
/// use datasets::images::karpathy::{KarpathyOptions, read_karpathy};
/// use std::path::Path;
///
/// let options = KarpathyOptions { max_per_split: Some(500), skip_bad: true, ..Default::default() };
/// let set = read_karpathy(
///     Path::new("data/dataset_flickr8k.json"),
///     Path::new("data/Flicker8k_Dataset"),
///     &options,
/// )?;
/// println!("{} train images, {} skipped", set.train.len(), set.skipped.len());
/// # Ok::<(), datasets::DataError>(())
/// ```
///
/// # Panics
///
/// If `options.size` is zero or a background channel is outside `[0, 1]`.
pub fn read_karpathy(
    json_path: &Path,
    images_dir: &Path,
    options: &KarpathyOptions,
) -> Result<KarpathySet, DataError> {
    assert!(options.size > 0, "KarpathyOptions::size must be positive");
    assert!(
        options.background.iter().all(|c| (0.0..=1.0).contains(c)),
        "KarpathyOptions::background must be RGB in [0, 1], got {:?}",
        options.background
    );
    let (dataset, entries) = read_karpathy_entries(json_path)?;
    if !images_dir.is_dir() {
        let error = std::io::Error::new(std::io::ErrorKind::NotFound, "no such image folder");
        return Err(DataError::io(images_dir, error));
    }
    let mut set = KarpathySet {
        dataset,
        ..KarpathySet::default()
    };
    for entry in entries {
        let full = options
            .max_per_split
            .is_some_and(|max| set.split(entry.split).len() >= max);
        if full {
            continue;
        }
        let path = entry.image_path(images_dir);
        match load_square(&path, options.size, options.background) {
            Ok(image) => set.split_mut(entry.split).push(CaptionedImage {
                image,
                captions: entry.captions,
                filename: entry.filename,
                path,
                entry: entry.index,
                restval: entry.restval,
            }),
            Err(fault) => {
                let error = DataError::Record {
                    path: path.clone(),
                    index: entry.index,
                    msg: format!(
                        "entry `{}` of {}: {fault}",
                        entry.filename,
                        json_path.display()
                    ),
                };
                if !options.skip_bad {
                    return Err(error);
                }
                set.skipped.push((path, error.to_string()));
            }
        }
    }
    Ok(set)
}

/// A serde error as `file:line: column C: message` (serde's own "at line L column C" suffix
/// removed, since the line is already in front).
fn json_error(path: &Path, error: &serde_json::Error) -> DataError {
    let (line, column) = (error.line(), error.column());
    let text = error.to_string();
    let suffix = format!(" at line {line} column {column}");
    let msg = text.strip_suffix(&suffix).unwrap_or(&text);
    DataError::Format {
        path: path.to_path_buf(),
        line,
        msg: format!("column {column}: not a Karpathy split file: {msg}"),
    }
}

fn parse_entry(json: &Path, index: usize, raw: RawEntry) -> Result<KarpathyEntry, DataError> {
    let error = |msg: String| DataError::Record {
        path: json.to_path_buf(),
        index,
        msg,
    };
    let filename = raw
        .filename
        .ok_or_else(|| error("entry has no `filename`".into()))?;
    // Control characters escaped (a JSON string can hold a line break): one-line errors.
    let named = |msg: &str| error(format!("entry `{}`: {msg}", filename.escape_debug()));
    if filename.is_empty() || !stays_inside(&filename) {
        return Err(named(
            "`filename` must be a relative path inside the image folder",
        ));
    }
    if raw.filepath.as_deref().is_some_and(|p| !stays_inside(p)) {
        return Err(named(
            "`filepath` must be a relative path inside the image folder",
        ));
    }
    let (split, restval) = match raw.split.as_deref() {
        Some("train") => (Split::Train, false),
        Some("restval") => (Split::Train, true),
        Some("val") => (Split::Val, false),
        Some("test") => (Split::Test, false),
        Some(other) => {
            return Err(named(&format!(
                "unknown split `{}` (expected train, val, test or restval)",
                other.escape_debug()
            )));
        }
        None => return Err(named("no `split` field")),
    };
    let sentences = raw.sentences.ok_or_else(|| named("no `sentences` field"))?;
    if sentences.is_empty() {
        return Err(named("empty `sentences` list"));
    }
    let captions = sentences
        .into_iter()
        .enumerate()
        .map(|(k, sentence)| match (sentence.tokens, sentence.raw) {
            (Some(tokens), _) => Ok(tokens.iter().map(|t| t.to_lowercase()).collect()),
            (None, Some(raw)) => Ok(crate::tokenize::words(&raw)),
            (None, None) => Err(named(&format!(
                "sentence {k} has neither `tokens` nor `raw`"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KarpathyEntry {
        index,
        filename,
        filepath: raw.filepath,
        split,
        restval,
        captions,
    })
}

/// Whether `name` is a relative path that cannot leave the folder it is joined to, free of
/// control characters (a line break in a path would break every message naming it).
fn stays_inside(name: &str) -> bool {
    !name.contains(char::is_control)
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}
