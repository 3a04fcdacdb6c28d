//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while reading or writing data files.
///
/// Each variant names the file; format errors also name the 1-based line
/// (text files) or the 0-based record index (binary files), so a message
/// reads like `data/x.tsv:17: expected 2 tab-separated fields, found 1`.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The operating system refused to open, read, write or rename a file.
    ///
    /// The I/O error is part of the message and deliberately not exposed as `source()`: an
    /// error chain printed with `{:#}` would otherwise repeat it ("x: No such file or
    /// directory: No such file or directory").
    #[error("{}: {error}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        error: io::Error,
    },
    /// A line of a text file is malformed.
    #[error("{}:{line}: {msg}", path.display())]
    Format {
        /// The file involved.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        msg: String,
    },
    /// A record of a binary file (or a row handed to a writer) is malformed.
    #[error("{}: record {index}: {msg}", path.display())]
    Record {
        /// The file involved.
        path: PathBuf,
        /// 0-based record index (for zText indexes: the block or verse slot).
        index: usize,
        /// What is wrong with the record.
        msg: String,
    },
    /// Two inputs that must agree do not (e.g. two Bible modules with
    /// different verse-slot layouts).
    #[error("{}: {msg}", path.display())]
    Mismatch {
        /// The file or directory that disagrees with the reference.
        path: PathBuf,
        /// How they disagree.
        msg: String,
    },
}

impl DataError {
    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: impl Into<PathBuf>, error: io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            error,
        }
    }
}

/// Writes `text` to `path` through `PATH.tmp` in the same directory and a rename, so a killed
/// process never leaves a truncated file; on failure the temporary file is removed.
pub(crate) fn write_atomic(path: &std::path::Path, text: &str) -> Result<(), DataError> {
    use std::io::Write;
    let mut name = std::ffi::OsString::from(path.as_os_str());
    name.push(".tmp");
    let tmp = std::path::PathBuf::from(name);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(|e| DataError::io(&tmp, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| DataError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| DataError::io(path, e))
    })();
    if result.is_err() {
        // Best effort: do not leave a stray partial file behind.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
