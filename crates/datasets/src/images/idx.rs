//! IDX files, gzipped or not: the images and labels of Fashion-MNIST.
//!
//! # The format
//!
//! IDX is the layout of LeCun, Cortes and Burges' MNIST page
//! (<http://yann.lecun.com/exdb/mnist/>, "File formats for the MNIST database"), which
//! Fashion-MNIST reuses unchanged. All integers are big-endian:
//!
//! | offset         | size | content                                                          |
//! |----------------|------|------------------------------------------------------------------|
//! | 0              | 4    | magic number: two zero bytes, a type code, the number of dimensions |
//! | 4              | 4·n  | the size of each of the `n` dimensions, one `u32` each           |
//! | 4 + 4·n        | …    | the data, row-major (the last dimension varies fastest)          |
//!
//! Only type code `0x08` (unsigned byte) is read here, in two shapes:
//!
//! - images: magic `0x00000803`, dimensions `[count, rows, cols]`, then `count · rows · cols`
//!   bytes, one image after another, each row-major; 0 is background, 255 full ink;
//! - labels: magic `0x00000801`, dimension `[count]`, then `count` bytes.
//!
//! A file that starts with the gzip magic bytes `1f 8b` is decompressed first (with
//! `flate2`); any other file is read as it is, so `train-images-idx3-ubyte.gz` and its
//! gunzipped `train-images-idx3-ubyte` read the same. A file must hold exactly the data its
//! header declares: fewer bytes is a truncated file, more a file that is not what it seems.
//!
//! # Fashion-MNIST
//!
//! Zalando Research's Fashion-MNIST (<https://github.com/zalandoresearch/fashion-mnist>,
//! MIT licence, © 2017 Zalando SE): 60,000 training and 10,000 test images of 28 × 28
//! pixels in ten clothing classes, as four files:
//! `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`,
//! `t10k-labels-idx1-ubyte.gz`. Debian ships them in the package `dataset-fashion-mnist`
//! under `usr/share/datasets/fashion-mnist/`; `scripts/fetch-data` copies them to
//! `data/fashion-mnist/` with the package's copyright file. The class names captions use are
//! [`classes::FASHION_MNIST`], where the mapping from the official names is documented.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::classes::{self, FASHION_MNIST};
use super::{Glyph, LabelledGlyphs};
use crate::DataError;

/// Magic number of an IDX file of unsigned-byte images: type `0x08`, 3 dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels: type `0x08`, 1 dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The two halves of Fashion-MNIST.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The 60,000 training images (`train-*`).
    Train,
    /// The 10,000 test images (`t10k-*`).
    Test,
}

impl Split {
    /// The prefix of the split's file names: `train` or `t10k`.
    pub fn file_prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// Reads an IDX file of unsigned-byte images (magic `0x00000803`), gzipped or not.
///
/// Errors name the file: a bad magic number (expected and found, in hex), a header or data
/// shorter than declared (bytes expected and present; the record is the first incomplete
/// image), bytes left over after the declared images, a gzip stream that does not
/// decompress, an image size with no pixels.
pub fn read_idx_images(path: &Path) -> Result<Vec<Glyph>, DataError> {
    let bytes = read_maybe_gzipped(path, IMAGES_MAGIC)?;
    let (dims, data) = parse_u8_idx(path, &bytes.data, IMAGES_MAGIC, "images", bytes.gzipped)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if count > 0 && (rows == 0 || cols == 0) {
        return Err(DataError::Mismatch {
            path: path.to_path_buf(),
            msg: format!("the header declares {count} images of {rows}×{cols} pixels: no pixels"),
        });
    }
    let size = rows * cols; // cannot overflow: parse_u8_idx checked count * rows * cols
    Ok(data
        .chunks_exact(size.max(1))
        .take(count)
        .map(|pixels| Glyph {
            rows,
            cols,
            pixels: pixels.to_vec(),
        })
        .collect())
}

/// Reads an IDX file of unsigned-byte labels (magic `0x00000801`), gzipped or not.
///
/// Any byte is a label here; [`read_fashion_mnist`] checks that they are class indices.
/// Errors are those of [`read_idx_images`].
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = read_maybe_gzipped(path, LABELS_MAGIC)?;
    let (_, data) = parse_u8_idx(path, &bytes.data, LABELS_MAGIC, "labels", bytes.gzipped)?;
    Ok(data.to_vec())
}

/// The image and label files of one split in `dir`: `PREFIX-images-idx3-ubyte.gz` and
/// `PREFIX-labels-idx1-ubyte.gz`, or, for each one that does not exist, its gunzipped
/// namesake without `.gz` if that exists (otherwise the `.gz` name, so an error names it).
pub fn fashion_mnist_files(dir: &Path, split: Split) -> (PathBuf, PathBuf) {
    let find = |kind: &str| {
        let plain = dir.join(format!("{}-{kind}-ubyte", split.file_prefix()));
        let gzipped = dir.join(format!("{}-{kind}-ubyte.gz", split.file_prefix()));
        if !gzipped.exists() && plain.exists() {
            plain
        } else {
            gzipped
        }
    };
    (find("images-idx3"), find("labels-idx1"))
}

/// Reads one split of Fashion-MNIST from `dir` (the files of [`fashion_mnist_files`]) and
/// pairs each image with its label; the class names are [`classes::FASHION_MNIST`]
/// ("t-shirt" … "boot").
///
/// Besides the errors of the two files, fails with [`DataError::Mismatch`] (naming the
/// labels file) when the image and label counts differ, and with [`DataError::Record`]
/// (naming the labels file and the label's index) on a label outside `0..10`.
pub fn read_fashion_mnist(dir: &Path, split: Split) -> Result<LabelledGlyphs, DataError> {
    let (images_path, labels_path) = fashion_mnist_files(dir, split);
    let glyphs = read_idx_images(&images_path)?;
    let labels = read_idx_labels(&labels_path)?;
    if labels.len() != glyphs.len() {
        return Err(DataError::Mismatch {
            path: labels_path,
            msg: format!(
                "{} labels, but {} holds {} images",
                labels.len(),
                images_path.display(),
                glyphs.len()
            ),
        });
    }
    if let Some(index) = labels
        .iter()
        .position(|&l| usize::from(l) >= FASHION_MNIST.len())
    {
        return Err(DataError::Record {
            path: labels_path,
            index,
            msg: format!(
                "label {} is outside 0..{} (Fashion-MNIST has {} classes)",
                labels[index],
                FASHION_MNIST.len(),
                FASHION_MNIST.len()
            ),
        });
    }
    Ok(LabelledGlyphs {
        glyphs,
        labels,
        class_names: classes::class_names(&FASHION_MNIST),
    })
}

/// A file's contents, decompressed if it was gzipped.
struct FileBytes {
    data: Vec<u8>,
    gzipped: bool,
}

/// Reads `path`, gunzipping it when it starts with the gzip magic bytes `1f 8b`.
///
/// A gzip stream is inflated only as far as an IDX file with `magic` can go: its header,
/// then the data the header declares and one byte more (enough to tell that there is
/// more), since a small stream can inflate to gigabytes.
fn read_maybe_gzipped(path: &Path, magic: u32) -> Result<FileBytes, DataError> {
    let raw = fs::read(path).map_err(|e| DataError::io(path, e))?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(FileBytes {
            data: raw,
            gzipped: false,
        });
    }
    let failed = |e: std::io::Error| DataError::Mismatch {
        path: path.to_path_buf(),
        msg: format!("starts like a gzip file but does not decompress: {e}"),
    };
    let header_len = 4 + 4 * u64::from(magic & 0xff);
    let mut decoder = MultiGzDecoder::new(&raw[..]);
    let mut data = Vec::new();
    (&mut decoder)
        .take(header_len)
        .read_to_end(&mut data)
        .map_err(failed)?;
    // With a wrong magic number or a short header, the header alone makes the error.
    let declared = if data.len() as u64 == header_len && data[..4] == magic.to_be_bytes() {
        data[4..]
            .chunks_exact(4)
            .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
            .try_fold(1u64, u64::checked_mul)
            .unwrap_or(u64::MAX)
    } else {
        0
    };
    decoder
        .take(declared.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(failed)?;
    Ok(FileBytes {
        data,
        gzipped: true,
    })
}

/// Checks the header of an unsigned-byte IDX file against `magic` and that exactly the
/// declared data follows; returns the dimension sizes and the data. `what` names the
/// items ("images") in messages.
fn parse_u8_idx<'a>(
    path: &Path,
    bytes: &'a [u8],
    magic: u32,
    what: &str,
    gzipped: bool,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let mismatch = |msg: String| DataError::Mismatch {
        path: path.to_path_buf(),
        msg,
    };
    let decompressed = if gzipped { " (after gunzip)" } else { "" };
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    let sizes = if ndims == 1 { "size" } else { "sizes" };
    if bytes.len() < 4 {
        return Err(mismatch(format!(
            "truncated header: expected {header_len} bytes (magic number 0x{magic:08x} and \
             {ndims} dimension {sizes}), found {}{decompressed}",
            bytes.len()
        )));
    }
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if found != magic {
        return Err(mismatch(format!(
            "bad magic number: expected 0x{magic:08x} ({}: IDX {what}), found 0x{found:08x} ({})",
            describe_magic(magic),
            describe_magic(found)
        )));
    }
    if bytes.len() < header_len {
        return Err(mismatch(format!(
            "truncated header: expected {header_len} bytes (magic number and {ndims} \
             dimension {sizes}), found {}{decompressed}",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let shape = dims
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×");
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| mismatch(format!("the header's dimensions {shape} overflow")))?;
    let data = &bytes[header_len..];
    let count = dims[0];
    if data.len() < expected {
        let item = expected / count; // count > 0, as expected > data.len() >= 0
        return Err(DataError::Record {
            path: path.to_path_buf(),
            index: data.len() / item,
            msg: format!(
                "truncated data: the header declares {count} {what} ({shape}), {expected} \
                 bytes after the {header_len}-byte header; {} bytes are present{decompressed}",
                data.len()
            ),
        });
    }
    if data.len() > expected {
        // A gzipped file is inflated only one byte past the declared data: say "more".
        let extra = if gzipped {
            "more bytes".to_string()
        } else {
            format!("{} bytes", data.len() - expected)
        };
        return Err(mismatch(format!(
            "{extra}{decompressed} after the {count} {what} ({shape}, {expected} bytes) the \
             header declares"
        )));
    }
    Ok((dims, data))
}

/// What an IDX magic number says: its element type and number of dimensions.
fn describe_magic(magic: u32) -> String {
    let [zero0, zero1, code, ndims] = magic.to_be_bytes();
    if zero0 != 0 || zero1 != 0 {
        return "not an IDX file: the first two bytes must be zero".to_string();
    }
    let kind = match code {
        0x08 => "unsigned bytes",
        0x09 => "signed bytes",
        0x0b => "16-bit integers",
        0x0c => "32-bit integers",
        0x0d => "32-bit floats",
        0x0e => "64-bit floats",
        _ => return format!("unknown IDX type code 0x{code:02x}"),
    };
    let plural = if ndims == 1 { "" } else { "s" };
    format!("{kind}, {ndims} dimension{plural}")
}
