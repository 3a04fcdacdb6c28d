//! The zText reader against modules written here in the exact binary format.

use std::fs;
use std::io::Write;
use std::path::Path;

use datasets::DataError;
use datasets::sword::{bible_pairs, kjv_verse_ref, read_ztext};
use flate2::Compression;
use flate2::write::ZlibEncoder;

mod common;
use common::scratch_dir;

/// Slot contents of one testament: `blocks[b]` lists the texts stored in
/// compressed block `b`; `slots` lists, per verse slot, `Some((block, i))`
/// for the `i`-th text of a block or `None` for an empty (size-0) slot.
struct Testament<'a> {
    blocks: Vec<Vec<&'a [u8]>>,
    slots: Vec<Option<(usize, usize)>>,
}

/// Writes `PREFIX.bzs`, `PREFIX.bzv` and `PREFIX.bzz` exactly as SWORD does
/// (little-endian records; each zlib stream followed by padding bytes that
/// the block's compressed size includes, as in the real modules).
fn write_testament(dir: &Path, prefix: &str, testament: &Testament) {
    let mut bzs = Vec::new();
    let mut bzz = Vec::new();
    let mut offsets = Vec::new(); // per block: offset of each text
    for texts in &testament.blocks {
        let mut raw = Vec::new();
        let mut starts = Vec::new();
        for text in texts {
            starts.push(raw.len() as u32);
            raw.extend_from_slice(text);
        }
        offsets.push(starts);
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&raw).unwrap();
        let mut compressed = encoder.finish().unwrap();
        compressed.extend_from_slice(&[0; 16]);
        bzs.extend_from_slice(&(bzz.len() as u32).to_le_bytes());
        bzs.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        bzs.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        bzz.extend_from_slice(&compressed);
    }
    let mut bzv = Vec::new();
    for slot in &testament.slots {
        let (block, offset, size) = match *slot {
            Some((b, i)) => (b as u32, offsets[b][i], testament.blocks[b][i].len() as u16),
            None => (0, 0, 0),
        };
        bzv.extend_from_slice(&block.to_le_bytes());
        bzv.extend_from_slice(&offset.to_le_bytes());
        bzv.extend_from_slice(&size.to_le_bytes());
    }
    fs::write(dir.join(format!("{prefix}.bzs")), bzs).unwrap();
    fs::write(dir.join(format!("{prefix}.bzv")), bzv).unwrap();
    fs::write(dir.join(format!("{prefix}.bzz")), bzz).unwrap();
}

/// A small module: an Old Testament of two blocks and a New Testament of one.
fn write_small_module(dir: &Path) {
    write_testament(
        dir,
        "ot",
        &Testament {
            blocks: vec![
                vec![
                    br#"<milestone type="x-importer"/>"#,
                    br#"In the <w lemma="strong:H7225">beginning</w> God.<note placement="foot"><reference>1.1 </reference>Heb. x</note>"#,
                    b"And the earth &amp; the <divineName>LORD</divineName>'s deep.",
                ],
                vec![b"  \xc2\xb6 Se\xc3\xb1or  <lb/> Dios ", b"cri\xf3 (latin-1)"],
            ],
            slots: vec![None, Some((0, 0)), Some((0, 1)), Some((0, 2)), None, Some((1, 0)), Some((1, 1))],
        },
    );
    write_testament(
        dir,
        "nt",
        &Testament {
            blocks: vec![vec![b"<note>only a note</note>", b"Jesus wept."]],
            slots: vec![None, Some((0, 0)), Some((0, 1))],
        },
    );
}

#[test]
fn reads_a_module_back_exactly() {
    let tmp = scratch_dir("small");
    let dir = tmp.path();
    write_small_module(dir);
    let texts = read_ztext(dir).unwrap();
    let expected = [
        None,
        None, // markup only
        Some("In the beginning God."),
        Some("And the earth & the LORD's deep."),
        None,
        Some("Señor Dios"),
        Some("crió (latin-1)"),
        None,
        None, // only a note
        Some("Jesus wept."),
    ];
    assert_eq!(texts, expected.map(|t| t.map(String::from)).to_vec());
}

#[test]
fn missing_files_name_the_path() {
    let tmp = scratch_dir("missing");
    let dir = tmp.path();
    let err = read_ztext(dir).unwrap_err();
    assert!(
        matches!(&err, DataError::Io { path, .. } if *path == dir.join("ot.bzs")),
        "{err:?}"
    );
    assert!(err.to_string().contains("ot.bzs"), "{err}");
}

/// Rewrites one file of the small module and returns the read error.
fn corrupt(name: &str, file: &str, edit: impl FnOnce(&mut Vec<u8>)) -> DataError {
    let tmp = scratch_dir(name);
    let dir = tmp.path();
    write_small_module(dir);
    let path = dir.join(file);
    let mut bytes = fs::read(&path).unwrap();
    edit(&mut bytes);
    fs::write(&path, bytes).unwrap();
    read_ztext(dir).unwrap_err()
}

#[test]
fn truncated_indexes_are_errors() {
    let err = corrupt("bzv", "ot.bzv", |b| b.truncate(b.len() - 3));
    assert!(
        matches!(&err, DataError::Record { path, index: 6, .. } if path.ends_with("ot.bzv")),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("ot.bzv: record 6: truncated"),
        "{err}"
    );

    let err = corrupt("bzs", "nt.bzs", |b| b.truncate(7));
    assert!(
        matches!(&err, DataError::Record { path, index: 0, .. } if path.ends_with("nt.bzs")),
        "{err:?}"
    );
}

#[test]
fn out_of_range_records_are_errors() {
    // Slot 2 of the Old Testament points at block 9 (there are 2).
    let err = corrupt("block", "ot.bzv", |b| {
        b[20..24].copy_from_slice(&9u32.to_le_bytes())
    });
    assert!(
        matches!(&err, DataError::Record { index: 2, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("block index 9 out of range"),
        "{err}"
    );

    // Slot 3's text runs past the end of its block.
    let err = corrupt("offset", "ot.bzv", |b| {
        b[34..38].copy_from_slice(&60_000u32.to_le_bytes())
    });
    assert!(
        matches!(&err, DataError::Record { index: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("outside block 0"), "{err}");

    // Block 1 claims to lie past the end of ot.bzz.
    let err = corrupt("bzz-range", "ot.bzs", |b| {
        b[12..16].copy_from_slice(&u32::MAX.to_le_bytes())
    });
    assert!(
        matches!(&err, DataError::Record { path, index: 1, .. } if path.ends_with("ot.bzs")),
        "{err:?}"
    );

    // Garbage instead of a zlib stream.
    let err = corrupt("zlib", "nt.bzz", |b| b[..4].copy_from_slice(b"junk"));
    assert!(
        matches!(&err, DataError::Record { path, index: 0, .. } if path.ends_with("nt.bzz")),
        "{err:?}"
    );

    // An empty .bzz with size-0 slots everywhere is fine, not a panic.
    let tmp = scratch_dir("empty");
    let dir = tmp.path();
    write_testament(
        dir,
        "ot",
        &Testament {
            blocks: vec![],
            slots: vec![None; 3],
        },
    );
    write_testament(
        dir,
        "nt",
        &Testament {
            blocks: vec![],
            slots: vec![],
        },
    );
    assert_eq!(read_ztext(dir).unwrap(), vec![None; 3]);
}

#[test]
fn bible_pairs_skips_slots_empty_on_either_side() {
    let english_tmp = scratch_dir("pairs-en");
    let english = english_tmp.path();
    write_small_module(english);
    let spanish_tmp = scratch_dir("pairs-es");
    let spanish = spanish_tmp.path();
    write_testament(
        spanish,
        "ot",
        &Testament {
            blocks: vec![vec![b"En el principio Dios.", b"Tierra.", b"Dios"]],
            slots: vec![
                None,
                Some((0, 2)),
                Some((0, 0)),
                None,
                Some((0, 1)),
                Some((0, 2)),
                Some((0, 2)),
            ],
        },
    );
    write_testament(
        spanish,
        "nt",
        &Testament {
            blocks: vec![vec![b"Jes\xc3\xbas llor\xc3\xb3."]],
            slots: vec![None, None, Some((0, 0))],
        },
    );
    let pairs = bible_pairs(english, spanish).unwrap();
    let joined: Vec<(String, String)> = pairs
        .iter()
        .map(|p| (p.src.join(" "), p.tgt.join(" ")))
        .collect();
    assert_eq!(
        joined,
        [
            ("in the beginning god .", "en el principio dios ."),
            ("señor dios", "dios"),
            ("crió ( latin - 1 )", "dios"),
            ("jesus wept .", "jesús lloró ."),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );

    // A module with a different slot count cannot be aligned.
    write_testament(
        spanish,
        "nt",
        &Testament {
            blocks: vec![],
            slots: vec![None; 4],
        },
    );
    let err = bible_pairs(english, spanish).unwrap_err();
    assert!(matches!(err, DataError::Mismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("has 4 verse slots"), "{err}");
}

/// Slot index (as read_ztext counts) of a KJV reference like "Matt 2:1".
fn slot_of(reference: &str) -> usize {
    (0..40_000)
        .find(|&slot| kjv_verse_ref(slot).is_some_and(|r| r.to_string() == reference))
        .unwrap()
}

/// A KJV-sized module (24115 + 8246 slots) with text in the given slots.
fn write_kjv_module(dir: &Path, texts: &[(usize, &'static str)]) {
    const OT_SLOTS: usize = 24115;
    for (prefix, range) in [("ot", 0..OT_SLOTS), ("nt", OT_SLOTS..OT_SLOTS + 8246)] {
        let here: Vec<&(usize, &str)> = texts.iter().filter(|(s, _)| range.contains(s)).collect();
        let mut slots = vec![None; range.len()];
        for (i, (slot, _)) in here.iter().enumerate() {
            slots[slot - range.start] = Some((0, i));
        }
        let blocks = vec![here.iter().map(|(_, t)| t.as_bytes()).collect()];
        write_testament(dir, prefix, &Testament { blocks, slots });
    }
}

#[test]
fn kjv_heading_slots_are_none_and_disagreeing_chapters_dropped() {
    let matt_heading = slot_of("Matt 1:1") - 2; // the book heading of Matthew
    let english_tmp = scratch_dir("kjv-en");
    let english = english_tmp.path();
    write_kjv_module(
        english,
        &[
            (slot_of("Gen 1:1"), "In the beginning."),
            (slot_of("Gen 1:1") - 1, "<chapter n=\"1\"/>Chapter heading"),
            (matt_heading, "The Gospel according to Matthew"),
            (slot_of("Matt 1:1"), "The book."),
            (slot_of("Matt 2:1"), "Now when Jesus was born."),
            (slot_of("Matt 5:1"), "And seeing the multitudes."),
        ],
    );
    let texts = read_ztext(english).unwrap();
    assert_eq!(texts.len(), 24115 + 8246);
    assert_eq!(texts[4].as_deref(), Some("In the beginning."));
    assert_eq!(texts[3], None); // chapter heading, though it holds text
    assert_eq!(texts[matt_heading], None);
    assert_eq!(texts.iter().flatten().count(), 4);

    // The Spanish side lacks Matthew 2:1, so Matthew 1-3 are suspect.
    let spanish_tmp = scratch_dir("kjv-es");
    let spanish = spanish_tmp.path();
    write_kjv_module(
        spanish,
        &[
            (slot_of("Gen 1:1"), "En el principio."),
            (slot_of("Matt 1:1"), "El libro."),
            (slot_of("Matt 5:1"), "Y viendo las gentes."),
        ],
    );
    let pairs = bible_pairs(english, spanish).unwrap();
    let sources: Vec<String> = pairs.iter().map(|p| p.src.join(" ")).collect();
    assert_eq!(
        sources,
        ["in the beginning .", "and seeing the multitudes ."]
    );
}
