//! A pure-Rust reader for [SWORD](https://crosswire.org/sword/) zText Bible
//! modules, and an English–Spanish parallel corpus built from two of them.
//!
//! # The zText format
//!
//! A module directory holds, per testament (`ot` = Old, `nt` = New), three
//! little-endian files:
//!
//! * `ot.bzs`: 12-byte block records `(offset u32, compressed size u32,
//!   uncompressed size u32)` locating compressed blocks in `ot.bzz`;
//! * `ot.bzz`: the compressed blocks, each a zlib stream;
//! * `ot.bzv`: 10-byte verse-slot records `(block index u32, offset u32,
//!   size u16)` locating each slot's text inside its uncompressed block.
//!
//! With `Versification=KJV` (both `sword-text-kjv` and `sword-text-sparv`
//! use it) a testament has a fixed slot layout: module heading, testament
//! heading, then for each book a book-heading slot and for each chapter a
//! chapter-heading slot followed by one slot per verse. Heading slots hold
//! titles and structural markup, not verse text, so [`read_ztext`] reports
//! them as `None`; because both modules share the layout, slot `i` of one is
//! the same verse as slot `i` of the other.
//!
//! Texts are decoded as UTF-8; a slot that is not valid UTF-8 is decoded as
//! Latin-1 (the other encoding SWORD modules declare).

mod kjv;

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flate2::read::ZlibDecoder;

use crate::{DataError, Pair, tokenize};

/// Size of one `.bzs` block record.
const BLOCK_RECORD_BYTES: usize = 12;
/// Size of one `.bzv` verse-slot record.
const SLOT_RECORD_BYTES: usize = 10;

/// The two testaments, in module order.
#[derive(Clone, Copy, Debug)]
enum Testament {
    Old,
    New,
}

impl Testament {
    /// File-name prefix of the testament's three files.
    fn prefix(self) -> &'static str {
        match self {
            Testament::Old => "ot",
            Testament::New => "nt",
        }
    }

    fn kjv_books(self) -> &'static [kjv::Book] {
        match self {
            Testament::Old => kjv::OLD_TESTAMENT,
            Testament::New => kjv::NEW_TESTAMENT,
        }
    }
}

/// What a slot of the KJV layout holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotKind {
    Heading,
    Verse(VerseRef),
}

/// Slot-by-slot layout of one testament under KJV versification (built
/// once, then shared).
fn kjv_layout(testament: Testament) -> &'static [SlotKind] {
    static OLD: OnceLock<Vec<SlotKind>> = OnceLock::new();
    static NEW: OnceLock<Vec<SlotKind>> = OnceLock::new();
    let cell = match testament {
        Testament::Old => &OLD,
        Testament::New => &NEW,
    };
    cell.get_or_init(|| build_kjv_layout(testament))
}

fn build_kjv_layout(testament: Testament) -> Vec<SlotKind> {
    let mut slots = vec![SlotKind::Heading, SlotKind::Heading];
    for book in testament.kjv_books() {
        slots.push(SlotKind::Heading);
        for (chapter, &verses) in book.verses.iter().enumerate() {
            slots.push(SlotKind::Heading);
            slots.extend((1..=verses).map(|verse| {
                SlotKind::Verse(VerseRef {
                    book: book.osis,
                    chapter: chapter as u16 + 1,
                    verse,
                })
            }));
        }
    }
    slots
}

/// A verse reference under KJV versification, e.g. `Gen 1:1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VerseRef {
    /// OSIS book abbreviation (`"Gen"`, `"Ps"`, `"Matt"`, ...).
    pub book: &'static str,
    /// 1-based chapter number.
    pub chapter: u16,
    /// 1-based verse number.
    pub verse: u16,
}

impl fmt::Display for VerseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}:{}", self.book, self.chapter, self.verse)
    }
}

/// The verse that slot `slot` of a KJV-versified module holds, counting
/// slots as [`read_ztext`] returns them (Old Testament first, then New), or
/// `None` for heading slots and indices past the end.
///
/// ```
/// use datasets::sword::kjv_verse_ref;
/// assert_eq!(kjv_verse_ref(4).unwrap().to_string(), "Gen 1:1");
/// assert_eq!(kjv_verse_ref(3), None); // the heading slot of Genesis 1
/// ```
pub fn kjv_verse_ref(slot: usize) -> Option<VerseRef> {
    let old = kjv_layout(Testament::Old);
    let kind = match slot.checked_sub(old.len()) {
        None => old[slot],
        Some(nt_slot) => *kjv_layout(Testament::New).get(nt_slot)?,
    };
    match kind {
        SlotKind::Verse(verse) => Some(verse),
        SlotKind::Heading => None,
    }
}

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

/// English–Spanish Bible pairs from two KJV-versified zText modules.
///
/// Slot `i` of one module is paired with slot `i` of the other, testament by
/// testament; slots empty (or headings) in either module are skipped, and
/// both sides are tokenized with [`tokenize::words`]. The two modules must
/// have the same number of slots in each testament, otherwise the result is
/// a [`DataError::Mismatch`].
///
/// Both modules declare KJV versification, but in a few places the Reina-
/// Valera keeps its own verse division and leaves a slot empty: its Hosea
/// 12:1 is the KJV's Hosea 11:12, so every verse of Hosea 12 sits one slot
/// off, and its Job 39:30 also holds Job 40:1–5. Such misaligned pairs
/// would be noise, so wherever a verse is present in only one module the
/// whole chapter is dropped together with the chapters just before and
/// after it (this removes about 3% of the verses of the KJV / RV1909 pair).
/// Testaments whose slot count is not the KJV one are paired slot by slot
/// without this filter.
pub fn bible_pairs(english_dir: &Path, spanish_dir: &Path) -> Result<Vec<Pair>, DataError> {
    let mut pairs = Vec::new();
    for testament in [Testament::Old, Testament::New] {
        let english = read_testament(english_dir, testament)?;
        let spanish = read_testament(spanish_dir, testament)?;
        if english.len() != spanish.len() {
            let index_file = |dir: &Path| dir.join(format!("{}.bzv", testament.prefix()));
            return Err(DataError::Mismatch {
                path: index_file(spanish_dir),
                msg: format!(
                    "has {} verse slots but {} has {}; the modules must share a versification",
                    spanish.len(),
                    index_file(english_dir).display(),
                    english.len()
                ),
            });
        }
        let chapters = chapter_of_slot(testament, english.len());
        let mut unreliable = HashSet::new();
        for ((en, es), chapter) in english.iter().zip(&spanish).zip(&chapters) {
            if let Some(chapter) = chapter
                && en.is_some() != es.is_some()
            {
                unreliable.extend([chapter.saturating_sub(1), *chapter, chapter + 1]);
            }
        }
        for ((en, es), chapter) in english.into_iter().zip(spanish).zip(chapters) {
            if chapter.is_some_and(|c| unreliable.contains(&c)) {
                continue;
            }
            let (Some(en), Some(es)) = (en, es) else {
                continue;
            };
            let (src, tgt) = (tokenize::words(&en), tokenize::words(&es));
            if !src.is_empty() && !tgt.is_empty() {
                pairs.push(Pair { src, tgt });
            }
        }
    }
    Ok(pairs)
}

/// For each of `slot_count` slots: the running number of the chapter its
/// verse belongs to (`None` for heading slots, and for every slot when the
/// testament does not have the KJV slot count).
fn chapter_of_slot(testament: Testament, slot_count: usize) -> Vec<Option<usize>> {
    let layout = kjv_layout(testament);
    if layout.len() != slot_count {
        return vec![None; slot_count];
    }
    let mut chapter = 0;
    let mut previous: Option<(&str, u16)> = None;
    layout
        .iter()
        .map(|kind| match *kind {
            SlotKind::Heading => None,
            SlotKind::Verse(verse) => {
                if previous != Some((verse.book, verse.chapter)) {
                    chapter += 1;
                    previous = Some((verse.book, verse.chapter));
                }
                Some(chapter)
            }
        })
        .collect()
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

fn read_testament(dir: &Path, testament: Testament) -> Result<Vec<Option<String>>, DataError> {
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
    // The declared size is only a capacity hint: a corrupt record must not
    // make us allocate gigabytes up front.
    let mut block = Vec::with_capacity((record.uncompressed as usize).min(1 << 24));
    ZlibDecoder::new(compressed)
        .read_to_end(&mut block)
        .map_err(|e| DataError::Record {
            path: bzz_path.to_path_buf(),
            index,
            msg: format!("block at byte {start} does not inflate: {e}"),
        })?;
    Ok(block)
}

/// UTF-8 if valid, else Latin-1 (every byte is the code point of that value).
fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Tags that mark up text *inside* a word or phrase: removing them must not
/// separate what they touch (`<w>give</w>n` is one word). Every other tag is
/// replaced by a space, since it marks a boundary (verse-internal divisions,
/// poetry lines, Spanish `<transChange>` insertions that abut words).
const INLINE_TAGS: &[&str] = &[
    "w",
    "divineName",
    "seg",
    "foreign",
    "hi",
    "name",
    "abbr",
    "q",
    "rdg",
    "catchWord",
    "a",
    "b",
    "i",
    "u",
    "em",
    "strong",
    "font",
    "span",
    "sup",
    "sub",
    "small",
];

/// Strips OSIS / ThML / GBF markup from a verse and returns plain text.
///
/// * Footnotes are removed with their content: `<note ...>...</note>` (OSIS,
///   ThML) and `<RF>...<Rf>` (GBF), nested or not.
/// * Every other tag is removed; tags that can sit inside a word (`<w>`,
///   `<divineName>`, ...) vanish without a trace, the rest become a space.
/// * The entities `&amp; &lt; &gt; &quot; &apos; &nbsp;` and numeric ones
///   (`&#233;`, `&#xE9;`) are decoded; unknown ones are kept as written.
/// * The paragraph sign `¶` (layout, not text) and stray USFM character
///   markers such as `\nd` / `\+nd*` (conversion leftovers) are dropped.
/// * Runs of whitespace collapse to one space; the ends are trimmed.
///
/// A `<` that starts no complete tag is kept as text.
///
/// ```
/// use datasets::sword::strip_markup;
/// let raw = r#"In the <w lemma="strong:H7225">begin</w>ning.<note placement="foot">Heb. x</note> &amp; <lb/>more"#;
/// assert_eq!(strip_markup(raw), "In the beginning. & more");
/// ```
pub fn strip_markup(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut note_depth = 0usize;
    let mut rest = raw;
    while let Some(lt) = rest.find('<') {
        if note_depth == 0 {
            text.push_str(&rest[..lt]);
        }
        let Some(tag_len) = tag_length(&rest[lt..]) else {
            // Not a tag: keep the `<` and go on after it.
            if note_depth == 0 {
                text.push('<');
            }
            rest = &rest[lt + 1..];
            continue;
        };
        let tag = &rest[lt..lt + tag_len];
        rest = &rest[lt + tag_len..];
        let closing = tag.starts_with("</");
        let self_closing = tag.ends_with("/>");
        let name: &str = tag
            .trim_start_matches('<')
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .next()
            .unwrap_or("");
        let opens_note = (name == "note" && !closing && !self_closing) || name == "RF";
        let closes_note = (name == "note" && closing) || name == "Rf";
        if opens_note {
            note_depth += 1;
        } else if closes_note {
            note_depth = note_depth.saturating_sub(1);
        } else if note_depth == 0 && !INLINE_TAGS.contains(&name) {
            text.push(' ');
        }
    }
    if note_depth == 0 {
        text.push_str(rest);
    }
    let decoded = decode_entities(&strip_usfm_markers(&text.replace('¶', " ")));
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes USFM character markers (`\nd `, `\+nd*`, `\wj*`): conversion
/// leftovers found in some OSIS modules (the KJV has ~70). A backslash not
/// followed by a marker name is kept.
fn strip_usfm_markers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(slash) = rest.find('\\') {
        out.push_str(&rest[..slash]);
        let after = &rest[slash + 1..];
        let body = after.strip_prefix('+').unwrap_or(after);
        let name_len = body
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(body.len());
        if name_len == 0 {
            out.push('\\');
            rest = after;
            continue;
        }
        let marker_end = after.len() - body.len() + name_len;
        rest = &after[marker_end..];
        rest = rest.strip_prefix('*').unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// Length in bytes of the tag that starts `s` (which starts with `<`), or
/// `None` if no tag starts there. Quoted attribute values may contain `>`.
fn tag_length(s: &str) -> Option<usize> {
    let after = s[1..].chars().next()?;
    if !(after.is_alphabetic() || after == '/' || after == '!' || after == '?') {
        return None;
    }
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// Decodes the XML entities and numeric character references in `s`.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Entity names are short; a `;` far away belongs to something else.
        let decoded = rest
            .char_indices()
            .take(12)
            .find(|&(_, c)| c == ';')
            .and_then(|(semi, _)| Some((decode_entity(&rest[1..semi])?, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity body (between `&` and `;`) stands for.
fn decode_entity(body: &str) -> Option<char> {
    let code = match body {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        "nbsp" => return Some(' '),
        _ => {
            let number = body.strip_prefix('#')?;
            match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            }
        }
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kjv_layout_has_the_module_slot_counts() {
        // The counts of the `.bzv` files of every KJV-versified module.
        assert_eq!(kjv_layout(Testament::Old).len(), 24115);
        assert_eq!(kjv_layout(Testament::New).len(), 8246);
        assert_eq!(kjv_verse_ref(24115 + 4).unwrap().to_string(), "Matt 1:1");
        assert_eq!(
            kjv_verse_ref(24115 + 8246 - 1).unwrap().to_string(),
            "Rev 22:21"
        );
        assert_eq!(kjv_verse_ref(24115 + 8246), None);
    }

    #[test]
    fn strips_notes_tags_and_entities() {
        assert_eq!(
            strip_markup(
                "<div type=\"x-p\"/>¶ And <divineName><w>LORD</w></divineName>'s \
                 day<note n=\"a\">Or, <note>nested</note> text</note>, &lt;a&gt; &#233;&#xF1; &bogus; x&y"
            ),
            "And LORD's day, <a> éñ &bogus; x&y"
        );
        assert_eq!(strip_markup("a<lb/>b"), "a b");
        assert_eq!(
            strip_markup("hay allí</w><transChange>también"),
            "hay allí también"
        );
        assert_eq!(strip_markup("GBF<RF>note<Rf> text"), "GBF text");
        assert_eq!(strip_markup("1 < 2 <"), "1 < 2 <");
        assert_eq!(strip_markup("<a title=\"x>y\">z</a>"), "z");
        assert_eq!(strip_markup("   "), "");
        assert_eq!(
            strip_markup("the \\nd <w>LORD</w> and the LORD\\+nd*, a\\b \\ c\\"),
            "the LORD and the LORD, a \\ c\\"
        );
    }

    #[test]
    fn latin1_fallback() {
        assert_eq!(decode_text(b"cri\xf3 Dios"), "crió Dios");
        assert_eq!(decode_text("crió".as_bytes()), "crió");
    }
}
