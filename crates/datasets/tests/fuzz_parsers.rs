//! Every file parser of this crate fuzzed (see `docs/fuzzing.md`): random bytes and
//! mutations of valid files in the exact real format. For each input the parser returns
//! `Ok` or an error that is one line naming the file, never panics or hangs, and holds at
//! its peak no more than a small factor times the input's size (or, for the zlib and gzip
//! formats, times the size the input inflates to) plus a fixed allowance.
//!
//! `FUZZ_CASES=N` sets the number of inputs per parser (default [`CI_CASES`]).

use std::io::{Read, Write};
use std::path::Path;

use datasets::DataError;
use datasets::images::digits::read_digit_file;
use datasets::images::idx::{Split, read_fashion_mnist, read_idx_images, read_idx_labels};
use datasets::images::karpathy::read_karpathy_entries;
use datasets::reader::read_question;
use datasets::sword::read_ztext;
use datasets::tsv::read_tsv;
use flate2::Compression;
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use flate2::write::ZlibEncoder;
use fuzzing::mutate::{Bytes, input};
use fuzzing::proptest::prelude::*;
use fuzzing::{Scratch, check_one_line, check_peak, fuzz};

mod common;
use common::{CNN, gzip, idx_bytes};

fuzzing::install_counting_allocator!();

/// Inputs per parser in CI.
const CI_CASES: u32 = 20_000;

/// Bytes any parse may hold beyond its factor times the input: buffers of fixed size
/// (`fs::read`'s first probe, error messages with the path, serde's scratch space).
const ALLOWANCE: usize = 16 * 1024;

/// The allowance of the formats that inflate zlib or gzip streams, on top of
/// [`ALLOWANCE`]: a decoder's state (its 32 KiB window, tables and input buffer, about
/// 75 KiB with flate2's miniz_oxide), and a gzip header's optional fields, which flate2
/// reserves at the size the header declares (the extra field, up to 64 KiB) or buffers up
/// to 64 KiB (name, comment).
const INFLATE_ALLOWANCE: usize = 256 * 1024;

/// The checks every parser's result gets: an error is one line naming the file, and the
/// peak allocation is within `factor` bytes per byte of `size` plus [`ALLOWANCE`].
fn check<T>(
    result: Result<T, DataError>,
    peak: usize,
    file: &Path,
    size: usize,
    factor: usize,
    allowance: usize,
) -> Result<(), String> {
    if let Err(error) = &result {
        let name = file.file_name().unwrap().to_string_lossy();
        check_one_line(&error.to_string(), &name)?;
    }
    check_peak(peak, size, factor, allowance)
}

#[test]
fn question_files() {
    let scratch = Scratch::new("question");
    let seeds = vec![
        CNN.as_bytes().to_vec(),
        CNN.replace('\n', "\r\n").into_bytes(),
    ];
    // Lines are split into a vector of slices (16 bytes each per line, up to 1 per byte),
    // tokens into strings (24 bytes each plus the text): 48 bytes per input byte bounds it.
    fuzz("question", CI_CASES, input(seeds), |Bytes(bytes)| {
        let path = scratch.write("x.question", bytes);
        let (result, peak) = fuzzing::alloc::peak_bytes(|| read_question(&path));
        check(result, peak, &path, bytes.len(), 48, ALLOWANCE)
    });
}

#[test]
fn tsv_pairs() {
    let scratch = Scratch::new("tsv");
    let seeds = vec![
        b"the cat sat\tle chat assis\nhello , world !\thola , mundo !\r\n\n  \na b c\td e f\n"
            .to_vec(),
        b"one\tuno\ntwo three\tdos tres".to_vec(),
    ];
    // Each token is a String (24 bytes plus its text) in a vector that may double: a
    // one-byte token costs up to 72 bytes.
    fuzz("tsv", CI_CASES, input(seeds), |Bytes(bytes)| {
        let path = scratch.write("x.tsv", bytes);
        let (result, peak) = fuzzing::alloc::peak_bytes(|| read_tsv(&path));
        check(result, peak, &path, bytes.len(), 96, ALLOWANCE)
    });
}

/// The three files of a zText testament holding `blocks` of texts, each slot of `slots`
/// pointing at a text (block, index) or empty, written as SWORD writes them (each zlib
/// stream padded, the padding counted in the block's compressed size).
fn ztext(blocks: &[&[&[u8]]], slots: &[Option<(usize, usize)>]) -> [Vec<u8>; 3] {
    let (mut bzs, mut bzz, mut bzv) = (Vec::new(), Vec::new(), Vec::new());
    let mut starts = Vec::new();
    for texts in blocks {
        let raw: Vec<u8> = texts.concat();
        starts.push(
            texts
                .iter()
                .scan(0, |at, t| Some(std::mem::replace(at, *at + t.len())))
                .collect::<Vec<_>>(),
        );
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&raw).unwrap();
        let mut compressed = encoder.finish().unwrap();
        compressed.extend_from_slice(&[0; 4]);
        for field in [bzz.len(), compressed.len(), raw.len()] {
            bzs.extend_from_slice(&(field as u32).to_le_bytes());
        }
        bzz.extend_from_slice(&compressed);
    }
    for slot in slots {
        let (block, offset, size) = match *slot {
            Some((b, i)) => (b, starts[b][i], blocks[b][i].len()),
            None => (0, 0, 0),
        };
        bzv.extend_from_slice(&(block as u32).to_le_bytes());
        bzv.extend_from_slice(&(offset as u32).to_le_bytes());
        bzv.extend_from_slice(&(size as u16).to_le_bytes());
    }
    [bzs, bzv, bzz]
}

const ZTEXT_FILES: [&str; 6] = ["ot.bzs", "ot.bzv", "ot.bzz", "nt.bzs", "nt.bzv", "nt.bzz"];

/// What the `.bzs` records of `bzs` inflate to from `bzz`, each stopped one byte past its
/// declared size (the most the reader inflates): the size the reader may hold in blocks.
fn inflated_size(bzs: &[u8], bzz: &[u8]) -> usize {
    bzs.chunks_exact(12)
        .map(|r| {
            let field = |i: usize| u32::from_le_bytes(r[i..i + 4].try_into().unwrap()) as usize;
            let (start, size, declared) = (field(0), field(4), field(8));
            let Some(compressed) = bzz.get(start..start.saturating_add(size)) else {
                return 0;
            };
            let mut out = Vec::new();
            let _ = ZlibDecoder::new(compressed)
                .take(declared as u64 + 1)
                .read_to_end(&mut out);
            out.len()
        })
        .sum()
}

#[test]
fn sword_ztext_modules() {
    let scratch = Scratch::new("sword");
    let ot = ztext(
        &[
            &[
                b"<milestone type=\"x-importer\"/>",
                b"In the <w lemma=\"strong:H7225\">beginning</w> God.",
                b"And the earth &amp; the deep.",
            ],
            &[b"  \xc2\xb6 Se\xc3\xb1or <lb/> Dios ", b"cri\xf3 (latin-1)"],
        ],
        &[
            None,
            Some((0, 0)),
            Some((0, 1)),
            None,
            Some((0, 2)),
            Some((1, 0)),
            Some((1, 1)),
            Some((0, 1)),
        ],
    );
    let nt = ztext(
        &[&[b"<title>Matthew</title>", b"The book of the generation."]],
        &[None, Some((0, 0)), Some((0, 1))],
    );
    let valid: Vec<Vec<u8>> = ot.into_iter().chain(nt).collect();
    for (name, bytes) in ZTEXT_FILES.iter().zip(&valid) {
        scratch.write(name, bytes);
    }
    // The KJV layout is built once per process, on the first read: not the fuzzed parse's.
    read_ztext(scratch.dir()).unwrap();
    // Each file is valid (3 in 4) or mutated on its own.
    let file = |bytes: &Vec<u8>| prop_oneof![3 => Just(Bytes(bytes.clone())), 1 => input(vec![bytes.clone()])];
    let files: Vec<_> = valid.iter().map(file).collect();
    // Records are parsed into vectors of 12-byte structs (12 per 12-byte block record, 12
    // per 10-byte slot record) and 24-byte slots for the blocks (per 12 bytes) and the
    // texts (per 10 bytes); a text is decoded, then stripped of markup (a few copies of at
    // most its block): 16 bytes per byte of input and of inflated blocks bound it.
    fuzz("sword", CI_CASES, files, |files| {
        for (name, Bytes(bytes)) in ZTEXT_FILES.iter().zip(files) {
            scratch.write(name, bytes);
        }
        let size: usize = files.iter().map(|b| b.0.len()).sum();
        let inflated =
            inflated_size(&files[0].0, &files[2].0) + inflated_size(&files[3].0, &files[5].0);
        let (result, peak) = fuzzing::alloc::peak_bytes(|| read_ztext(scratch.dir()));
        if let Err(error) = &result {
            let message = error.to_string();
            // Any of the six files (the one at fault); the first when none is named.
            let file = ZTEXT_FILES.iter().find(|name| message.contains(*name));
            check_one_line(&message, file.unwrap_or(&ZTEXT_FILES[0]))?;
        }
        check_peak(peak, size + inflated, 16, INFLATE_ALLOWANCE)
    });
}

/// What `bytes` gunzips to, if it starts like gzip (stopping at 64 MiB, more than any
/// input here can inflate to); else its own size.
fn gunzipped_size(bytes: &[u8]) -> usize {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return bytes.len();
    }
    let mut out = Vec::new();
    let _ = MultiGzDecoder::new(bytes)
        .take(64 << 20)
        .read_to_end(&mut out);
    out.len()
}

/// An IDX input: the bytes, gzipped after mutation or not.
fn idx_input(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Bytes> {
    let gzipped: Vec<Vec<u8>> = seeds.iter().map(|s| gzip(s)).collect();
    (
        input(seeds.into_iter().chain(gzipped).collect()),
        any::<bool>(),
    )
        .prop_map(|(Bytes(bytes), gzip_it)| Bytes(if gzip_it { gzip(&bytes) } else { bytes }))
}

fn image_seeds() -> Vec<Vec<u8>> {
    let pixels: Vec<u8> = (0..18).map(|i| i * 14).collect();
    vec![
        idx_bytes(0x803, &[3, 2, 3], &pixels),
        idx_bytes(0x803, &[1, 28, 28], &[7; 784]),
    ]
}

fn label_seeds() -> Vec<Vec<u8>> {
    vec![
        idx_bytes(0x801, &[3], &[0, 9, 4]),
        idx_bytes(0x801, &[0], &[]),
    ]
}

#[test]
fn idx_images() {
    let scratch = Scratch::new("idx-images");
    // The data is held once gunzipped (with the gzip input); each image is a 40-byte
    // `Glyph` with its pixels (at least one byte): 48 bytes per byte of data.
    fuzz(
        "idx images",
        CI_CASES,
        idx_input(image_seeds()),
        |Bytes(bytes)| {
            let path = scratch.write("train-images-idx3-ubyte", bytes);
            let size = bytes.len() + gunzipped_size(bytes);
            let (result, peak) = fuzzing::alloc::peak_bytes(|| read_idx_images(&path));
            check(result, peak, &path, size, 48, INFLATE_ALLOWANCE)
        },
    );
}

#[test]
fn idx_labels() {
    let scratch = Scratch::new("idx-labels");
    fuzz(
        "idx labels",
        CI_CASES,
        idx_input(label_seeds()),
        |Bytes(bytes)| {
            let path = scratch.write("train-labels-idx1-ubyte", bytes);
            let size = bytes.len() + gunzipped_size(bytes);
            let (result, peak) = fuzzing::alloc::peak_bytes(|| read_idx_labels(&path));
            check(result, peak, &path, size, 4, INFLATE_ALLOWANCE)
        },
    );
}

#[test]
fn fashion_mnist_pairs() {
    let scratch = Scratch::new("fashion");
    let strategy = (
        idx_input(image_seeds()[..1].to_vec()),
        idx_input(label_seeds()[..1].to_vec()),
    );
    fuzz(
        "fashion-mnist",
        CI_CASES,
        strategy,
        |(Bytes(images), Bytes(labels))| {
            scratch.write("t10k-images-idx3-ubyte", images);
            scratch.write("t10k-labels-idx1-ubyte", labels);
            let size =
                images.len() + gunzipped_size(images) + labels.len() + gunzipped_size(labels);
            let (result, peak) =
                fuzzing::alloc::peak_bytes(|| read_fashion_mnist(scratch.dir(), Split::Test));
            if let Err(error) = &result {
                check_one_line(&error.to_string(), "t10k-")?;
            }
            check_peak(peak, size, 48, INFLATE_ALLOWANCE)
        },
    );
}

/// A digit file of the npm package: `{"data": [...]}`, 784 values per image, written as
/// the package writes them (`0`, `1`, three decimals between).
fn digit_json(images: usize) -> Vec<u8> {
    let values: Vec<String> = (0..784 * images)
        .map(|i| match i % 256 {
            0 => "0".to_string(),
            255 => "1".to_string(),
            p => format!("{:.3}", p as f64 / 255.0)
                .trim_end_matches('0')
                .to_string(),
        })
        .collect();
    format!("{{ \"data\": [{}]}}", values.join(",")).into_bytes()
}

#[test]
fn digit_json_files() {
    let scratch = Scratch::new("digits");
    let seeds = vec![
        digit_json(1),
        b"{\"data\": []}".to_vec(),
        br#"{"data": [0, 1, 0.5], "x": {"y": [null, true, "s"]}}"#.to_vec(),
    ];
    // serde_json's `Value` is 32 bytes per value (at least 2 input bytes each, `0,`), in
    // vectors that may double; then one byte per pixel and a `Glyph` per 784 values.
    fuzz("digits json", CI_CASES, input(seeds), |Bytes(bytes)| {
        let path = scratch.write("3.json", bytes);
        let (result, peak) = fuzzing::alloc::peak_bytes(|| read_digit_file(&path));
        check(result, peak, &path, bytes.len(), 48, ALLOWANCE)
    });
}

#[test]
fn karpathy_split_json() {
    let scratch = Scratch::new("karpathy");
    let seeds = vec![
        br#"{"images": [{"filepath": "val2014", "sentids": [0, 1], "filename": "COCO_val2014_000000391895.jpg", "imgid": 0, "split": "restval", "sentences": [{"tokens": ["a", "man", "riding"], "raw": "A man riding.", "imgid": 0, "sentid": 0}, {"raw": "Two Dogs play"}]}, {"filename": "1000268201_693b08cb0e.jpg", "split": "test", "sentences": [{"tokens": ["A", "child"]}]}], "dataset": "coco"}"#.to_vec(),
        br#"{"images": [], "dataset": "flickr8k"}"#.to_vec(),
    ];
    // Strings and vectors of the entries (24 bytes each plus the text, per at least 2
    // input bytes, `"",`), lower-cased copies of the tokens.
    fuzz("karpathy json", CI_CASES, input(seeds), |Bytes(bytes)| {
        let path = scratch.write("dataset_coco.json", bytes);
        let (result, peak) = fuzzing::alloc::peak_bytes(|| read_karpathy_entries(&path));
        check(result, peak, &path, bytes.len(), 48, ALLOWANCE)
    });
}

// What fuzzing found, one test each.

/// A `.bzs` record claiming 4 GiB uncompressed made the reader reserve 16 MiB (its cap)
/// for a block of a few bytes; now nothing is reserved for a declared size.
#[test]
fn sword_block_claiming_gigabytes_reserves_nothing() {
    let scratch = Scratch::new("sword-gigabytes");
    let [mut bzs, bzv, bzz] = ztext(&[&[b"In the beginning."]], &[None, Some((0, 0))]);
    bzs[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    for (prefix, files) in [("ot", [&bzs, &bzv, &bzz]), ("nt", [&bzs, &bzv, &bzz])] {
        for (ext, bytes) in ["bzs", "bzv", "bzz"].iter().zip(files) {
            scratch.write(&format!("{prefix}.{ext}"), bytes);
        }
    }
    read_ztext(scratch.dir()).unwrap(); // the KJV layout, built once
    let (result, peak) = fuzzing::alloc::peak_bytes(|| read_ztext(scratch.dir()));
    assert_eq!(result.unwrap()[1].as_deref(), Some("In the beginning."));
    assert!(peak < INFLATE_ALLOWANCE, "{peak} bytes");
}

/// A block that inflates to more than its record declares (here 60,000 zeros declared as
/// 10 bytes) is an error naming the index file and the block, not the whole block read.
#[test]
fn sword_block_inflating_past_its_declared_size_is_an_error() {
    let scratch = Scratch::new("sword-bomb");
    let zeros = vec![0u8; 60_000];
    let [mut bzs, bzv, bzz] = ztext(&[&[&zeros]], &[None, Some((0, 0))]);
    bzs[8..12].copy_from_slice(&10u32.to_le_bytes());
    for prefix in ["ot", "nt"] {
        for (ext, bytes) in ["bzs", "bzv", "bzz"].iter().zip([&bzs, &bzv, &bzz]) {
            scratch.write(&format!("{prefix}.{ext}"), bytes);
        }
    }
    let (result, peak) = fuzzing::alloc::peak_bytes(|| read_ztext(scratch.dir()));
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("ot.bzs: record 0: ") && message.contains("more than the 10 bytes"),
        "{message}"
    );
    assert!(peak < INFLATE_ALLOWANCE, "{peak} bytes");
}

/// A gzipped IDX file whose header declares one 1 × 1 image, followed by 64 MiB of zeros
/// (64 KiB gzipped), was inflated whole before the header was checked; now inflating stops
/// one byte past the declared data.
#[test]
fn idx_gzip_inflating_past_its_header_is_not_read_to_the_end() {
    let scratch = Scratch::new("idx-bomb");
    let mut plain = idx_bytes(0x803, &[1, 1, 1], &[9]);
    plain.resize(plain.len() + (64 << 20), 0);
    let path = scratch.write("train-images-idx3-ubyte.gz", &gzip(&plain));
    drop(plain);
    let (result, peak) = fuzzing::alloc::peak_bytes(|| read_idx_images(&path));
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("more bytes (after gunzip) after the 1 images"),
        "{message}"
    );
    assert!(peak < 1 << 20, "{peak} bytes");
}

/// A Karpathy entry whose `filename` holds an escaped line break gave a two-line error;
/// such a name is now refused, in one line with the break escaped.
#[test]
fn karpathy_filename_with_a_line_break_is_a_one_line_error() {
    let scratch = Scratch::new("karpathy-newline");
    let path = scratch.write(
        "dataset_flickr8k.json",
        br#"{"images": [{"filename": "a\nb.png", "split": "dev", "sentences": [{"raw": "x"}]}]}"#,
    );
    let message = read_karpathy_entries(&path).unwrap_err().to_string();
    assert!(message.contains("entry `a\\nb.png`"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}
