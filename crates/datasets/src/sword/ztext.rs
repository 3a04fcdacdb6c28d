//! Reading a zText module: the block and verse-slot index files, the zlib blocks, and
//! the text of each slot.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::ZlibDecoder;

use super::layout::{SlotKind, Testament, kjv_layout};
use super::markup::strip_markup;
use crate::DataError;

/// Size of one `.bzs` block record.
const BLOCK_RECORD_BYTES: usize = 12;
/// Size of one `.bzv` verse-slot record.
const SLOT_RECORD_BYTES: usize = 10;

/// Reads one zText module directory (holding `ot.bzs`, `ot.bzv`, `ot.bzz`
/// and the `nt.*` files) and returns one entry per verse slot in module
/// order, Old Testament slots first.
///
/// Each entry is the slot's plain text ([`strip_markup`] applied), or `None`
/// for an empty slot, a slot with only markup, or (when the testament has
/// exactly the KJV slot count) a heading slot. A missing file gives
/// [`DataError::Io`]; a truncated index, a block or offset out of range, or
/// a corrupt zlib stream gives [`DataError::Record`] naming the file and the
/// block or slot index.
pub fn read_ztext(dir: &Path) -> Result<Vec<Option<String>>, DataError> {
    let mut slots = read_testament(dir, Testament::Old)?;
    slots.extend(read_testament(dir, Testament::New)?);
    Ok(slots)
}

/// One decoded block record of a `.bzs` file.
#[derive(Clone, Copy)]
struct BlockRecord {
    offset: u32,
    compressed: u32,
    uncompressed: u32,
}

/// One decoded verse-slot record of a `.bzv` file.
#[derive(Clone, Copy)]
struct SlotRecord {
    block: u32,
    offset: u32,
    size: u16,
}

pub(super) fn read_testament(
    dir: &Path,
    testament: Testament,
) -> Result<Vec<Option<String>>, DataError> {
    let file = |ext: &str| dir.join(format!("{}.{ext}", testament.prefix()));
    let (bzs_path, bzv_path, bzz_path) = (file("bzs"), file("bzv"), file("bzz"));
    let read = |path: &PathBuf| fs::read(path).map_err(|e| DataError::io(path, e));
    let (bzs, bzv, bzz) = (read(&bzs_path)?, read(&bzv_path)?, read(&bzz_path)?);

    let blocks = fixed_records(&bzs_path, &bzs, BLOCK_RECORD_BYTES, |r| BlockRecord {
        offset: u32_le(&r[0..4]),
        compressed: u32_le(&r[4..8]),
        uncompressed: u32_le(&r[8..12]),
    })?;
    let slots = fixed_records(&bzv_path, &bzv, SLOT_RECORD_BYTES, |r| SlotRecord {
        block: u32_le(&r[0..4]),
        offset: u32_le(&r[4..8]),
        size: u16::from_le_bytes([r[8], r[9]]),
    })?;

    let layout = kjv_layout(testament);
    let is_heading = |slot: usize| layout.len() == slots.len() && layout[slot] == SlotKind::Heading;
    let mut decompressed: Vec<Option<Vec<u8>>> = vec![None; blocks.len()];
    let mut texts = Vec::with_capacity(slots.len());
    for (index, slot) in slots.iter().enumerate() {
        if slot.size == 0 || is_heading(index) {
            texts.push(None);
            continue;
        }
        let slot_error = |msg: String| DataError::Record {
            path: bzv_path.clone(),
            index,
            msg,
        };
        let block_index = slot.block as usize;
        let Some(cached) = decompressed.get_mut(block_index) else {
            return Err(slot_error(format!(
                "block index {block_index} out of range ({} has {} blocks)",
                bzs_path.display(),
                blocks.len()
            )));
        };
        let block = match cached {
            Some(block) => block,
            None => cached.insert(decompress_block(
                &bzs_path,
                &bzz_path,
                &bzz,
                block_index,
                blocks[block_index],
            )?),
        };
        let start = slot.offset as usize;
        let end = start + slot.size as usize;
        let Some(bytes) = block.get(start..end) else {
            return Err(slot_error(format!(
                "text at {start}..{end} lies outside block {block_index} ({} bytes uncompressed)",
                block.len()
            )));
        };
        let text = strip_markup(&decode_text(bytes));
        texts.push((!text.is_empty()).then_some(text));
    }
    Ok(texts)
}

/// Splits `bytes` into fixed-size records, rejecting a trailing partial one.
fn fixed_records<T>(
    path: &Path,
    bytes: &[u8],
    record_bytes: usize,
    parse: impl Fn(&[u8]) -> T,
) -> Result<Vec<T>, DataError> {
    let chunks = bytes.chunks_exact(record_bytes);
    if !chunks.remainder().is_empty() {
        return Err(DataError::Record {
            path: path.to_path_buf(),
            index: bytes.len() / record_bytes,
            msg: format!(
                "truncated: the file is {} bytes, not a multiple of the {record_bytes}-byte record size",
                bytes.len()
            ),
        });
    }
    Ok(chunks.map(parse).collect())
}

fn u32_le(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Inflates block `index` of a `.bzz` file.
fn decompress_block(
    bzs_path: &Path,
    bzz_path: &Path,
    bzz: &[u8],
    index: usize,
    record: BlockRecord,
) -> Result<Vec<u8>, DataError> {
    let start = record.offset as usize;
    let end = start.saturating_add(record.compressed as usize);
    let Some(compressed) = bzz.get(start..end) else {
        return Err(DataError::Record {
            path: bzs_path.to_path_buf(),
            index,
            msg: format!(
                "compressed block at {start}..{end} lies outside {} ({} bytes)",
                bzz_path.display(),
                bzz.len()
            ),
        });
    };
    // The declared size is not believed: nothing is reserved for it (a corrupt record
    // could claim gigabytes), the block grows only as its stream inflates, and inflating
    // stops one byte past it (every block of the real modules inflates to exactly its size).
    let declared = u64::from(record.uncompressed);
    let mut block = Vec::new();
    ZlibDecoder::new(compressed)
        .take(declared + 1)
        .read_to_end(&mut block)
        .map_err(|e| DataError::Record {
            path: bzz_path.to_path_buf(),
            index,
            msg: format!("block at byte {start} does not inflate: {e}"),
        })?;
    if block.len() as u64 > declared {
        return Err(DataError::Record {
            path: bzs_path.to_path_buf(),
            index,
            msg: format!(
                "block at byte {start} of {} inflates to more than the {declared} bytes its \
                 record declares",
                bzz_path.display()
            ),
        });
    }
    Ok(block)
}

/// UTF-8 if valid, else Latin-1 (every byte is the code point of that value).
fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_fallback() {
        assert_eq!(decode_text(b"cri\xf3 Dios"), "crió Dios");
        assert_eq!(decode_text("crió".as_bytes()), "crió");
    }
}
