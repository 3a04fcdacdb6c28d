//! Parallel text as `source<TAB>target` lines.

use std::fs;
use std::path::Path;

use crate::{DataError, Pair, tokenize};

/// Reads `source<TAB>target` lines and tokenizes both sides with
/// [`tokenize::words`].
///
/// Lines may end in `\n` or `\r\n`; blank (all-whitespace) lines are
/// skipped. A line that does not hold exactly one tab, a side with no
/// tokens, or bytes that are not UTF-8 give a [`DataError::Format`] naming
/// `path:line`.
pub fn read_tsv(path: &Path) -> Result<Vec<Pair>, DataError> {
    let bytes = fs::read(path).map_err(|e| DataError::io(path, e))?;
    let format_error = |line: usize, msg: String| DataError::Format {
        path: path.to_path_buf(),
        line,
        msg,
    };
    let mut pairs = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = index + 1;
        let line = std::str::from_utf8(raw)
            .map_err(|e| format_error(line_no, format!("invalid UTF-8: {e}")))?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [source, target] = fields[..] else {
            return Err(format_error(
                line_no,
                format!("expected 2 tab-separated fields, found {}", fields.len()),
            ));
        };
        let src = tokenize::words(source);
        if src.is_empty() {
            return Err(format_error(line_no, "empty source side".to_string()));
        }
        let tgt = tokenize::words(target);
        if tgt.is_empty() {
            return Err(format_error(line_no, "empty target side".to_string()));
        }
        pairs.push(Pair { src, tgt });
    }
    Ok(pairs)
}

/// Writes `(source, target)` rows as `source<TAB>target` lines.
///
/// The write is atomic: the rows go to `PATH.tmp`, which is then renamed
/// over `path`, so a reader never sees a half-written file. A field that
/// contains a tab or a line break (which could not be read back) gives a
/// [`DataError::Record`] naming the 0-based row, and nothing is written.
pub fn write_tsv(path: &Path, rows: &[(String, String)]) -> Result<(), DataError> {
    for (index, (source, target)) in rows.iter().enumerate() {
        for (side, text) in [("source", source), ("target", target)] {
            if text.contains(['\t', '\n', '\r']) {
                return Err(DataError::Record {
                    path: path.to_path_buf(),
                    index,
                    msg: format!("{side} contains a tab or line break"),
                });
            }
        }
    }
    let mut text = String::new();
    for (source, target) in rows {
        text.push_str(source);
        text.push('\t');
        text.push_str(target);
        text.push('\n');
    }
    crate::error::write_atomic(path, &text)
}
