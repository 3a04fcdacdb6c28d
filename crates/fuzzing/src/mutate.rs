//! Inputs for parsers: random bytes, and valid files in a parser's exact format with random
//! mutations applied.

use std::fmt;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

/// Bytes shown as an escaped byte string in failure reports (`b"1\t\xff\n"`), not as a list
/// of numbers.
#[derive(Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\" ({} bytes)", self.0.escape_ascii(), self.0.len())
    }
}

/// Bytes that mean something to some parser here: separators, quotes, brackets, line
/// breaks, a NUL, and the first bytes of invalid UTF-8 and of a gzip stream.
const SPECIAL_BYTES: &[u8] = b"\n\r\t ,:;\"'{}[]@=.-+eE0\x00\x7f\x80\xc3\xff\x1f\x8b";

/// Texts that replace a number: huge, negative, non-finite, not a number at all.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "-9223372036854775809",
    "1e308",
    "1e309",
    "-1e309",
    "1e-400",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1.5",
    "",
];

/// Texts inserted whole: escapes that decode to line breaks or invalid code points in JSON,
/// markers of the formats here, and structure.
const TOKENS: &[&str] = &[
    "\\n",
    "\\r",
    "\\u0000",
    "\\u2028",
    "\\ud800",
    "\\",
    "\r\n",
    "\"\"",
    "[]",
    "{}",
    "[[[[[[[[",
    "null",
    "true",
    "\"config\": {}, \"run\": {}",
    "@entity",
    "@placeholder",
    "<comma>",
    "<lb/>",
    "&amp;",
    "..",
    "/",
    "=",
    ".",
];

/// Integers written over binary fields: sizes and offsets that claim gigabytes, the
/// extremes of each width, and small ones.
const INTEGERS: &[u32] = &[
    0,
    1,
    2,
    3,
    28,
    255,
    256,
    0x7fff,
    0xffff,
    0x1_0000,
    0x0100_0000,
    0x4000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// One edit of an input.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Flips one bit of one byte.
    FlipBit(Index, u8),
    /// Sets one byte.
    SetByte(Index, u8),
    /// Inserts bytes at a position.
    Insert(Index, Vec<u8>),
    /// Inserts one of [`TOKENS`] at a position.
    InsertText(Index, &'static str),
    /// Deletes up to this many bytes from a position.
    Delete(Index, usize),
    /// Cuts the input short at a position.
    Truncate(Index),
    /// Repeats the line a position falls in this many times more.
    RepeatLine(Index, usize),
    /// Repeats a span of bytes (from a position, this long) this many times more.
    RepeatSpan(Index, usize, usize),
    /// Replaces the digit run (or, when there is none, inserts at the position) with a text
    /// from [`NUMBERS`].
    ReplaceNumber(Index, &'static str),
    /// Writes an integer over 2 or 4 bytes at a position, little- or big-endian.
    WriteInteger(Index, u32, u8, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![any::<u8>(), select(SPECIAL_BYTES)];
    prop_oneof![
        (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (any::<Index>(), byte.clone()).prop_map(|(at, b)| Mutation::SetByte(at, b)),
        (any::<Index>(), vec(byte, 1..16)).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<Index>(), select(TOKENS)).prop_map(|(at, text)| Mutation::InsertText(at, text)),
        (any::<Index>(), 1..64usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1..8usize).prop_map(|(at, n)| Mutation::RepeatLine(at, n)),
        (any::<Index>(), 1..32usize, 1..8usize)
            .prop_map(|(at, len, n)| Mutation::RepeatSpan(at, len, n)),
        (any::<Index>(), select(NUMBERS)).prop_map(|(at, text)| Mutation::ReplaceNumber(at, text)),
        (
            any::<Index>(),
            select(INTEGERS),
            prop_oneof![Just(2u8), Just(4u8)],
            any::<bool>()
        )
            .prop_map(|(at, value, width, big)| Mutation::WriteInteger(at, value, width, big)),
    ]
}

impl Mutation {
    /// Applies the edit to `bytes`.
    pub fn apply(&self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        // A position inside the input (none when it is empty), and one where bytes can go.
        let inside = |at: &Index| (len > 0).then(|| at.index(len));
        let gap = |at: &Index| at.index(len + 1);
        match self {
            Mutation::FlipBit(at, bit) => {
                if let Some(i) = inside(at) {
                    bytes[i] ^= 1 << bit;
                }
            }
            Mutation::SetByte(at, b) => {
                if let Some(i) = inside(at) {
                    bytes[i] = *b;
                }
            }
            Mutation::Insert(at, new) => {
                let i = gap(at);
                bytes.splice(i..i, new.iter().copied());
            }
            Mutation::InsertText(at, text) => {
                let i = gap(at);
                bytes.splice(i..i, text.bytes());
            }
            Mutation::Delete(at, n) => {
                if let Some(i) = inside(at) {
                    bytes.drain(i..(i + n).min(len));
                }
            }
            Mutation::Truncate(at) => bytes.truncate(gap(at)),
            Mutation::RepeatLine(at, n) => {
                if let Some(i) = inside(at) {
                    let start = bytes[..i]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |p| p + 1);
                    let end = bytes[i..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(len, |p| i + p + 1);
                    let line = bytes[start..end].to_vec();
                    let copies: Vec<u8> =
                        line.iter().copied().cycle().take(line.len() * n).collect();
                    bytes.splice(end..end, copies);
                }
            }
            Mutation::RepeatSpan(at, span, n) => {
                if let Some(i) = inside(at) {
                    let end = (i + span).min(len);
                    let copies: Vec<u8> = bytes[i..end]
                        .iter()
                        .copied()
                        .cycle()
                        .take((end - i) * n)
                        .collect();
                    bytes.splice(end..end, copies);
                }
            }
            Mutation::ReplaceNumber(at, text) => {
                let digits: Vec<usize> = (0..len).filter(|&i| bytes[i].is_ascii_digit()).collect();
                if digits.is_empty() {
                    let i = gap(at);
                    bytes.splice(i..i, text.bytes());
                } else {
                    let start = digits[at.index(digits.len())];
                    let start = bytes[..start]
                        .iter()
                        .rposition(|b| !b.is_ascii_digit())
                        .map_or(0, |p| p + 1);
                    let end = bytes[start..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(len, |p| start + p);
                    bytes.splice(start..end, text.bytes());
                }
            }
            Mutation::WriteInteger(at, value, width, big_endian) => {
                let width = usize::from(*width);
                if len >= width {
                    let i = at.index(len - width + 1);
                    let all = if *big_endian {
                        value.to_be_bytes()
                    } else {
                        value.to_le_bytes()
                    };
                    let field = if *big_endian {
                        &all[4 - width..]
                    } else {
                        &all[..width]
                    };
                    bytes[i..i + width].copy_from_slice(field);
                }
            }
        }
    }
}

/// Random bytes, up to `max_len`.
pub fn random_bytes(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..=max_len),
        // Mostly the bytes a text format is made of, so more inputs get past the first check.
        vec(
            prop_oneof![select(SPECIAL_BYTES), any::<u8>(), (b'a'..=b'z')],
            0..=max_len
        ),
    ]
}

/// One of `seeds` with 1 to `max_edits` mutations applied.
pub fn mutated(seeds: Vec<Vec<u8>>, max_edits: usize) -> impl Strategy<Value = Vec<u8>> {
    assert!(!seeds.is_empty(), "mutated: no seed inputs");
    (select(seeds), vec(mutation(), 1..=max_edits)).prop_map(|(mut bytes, edits)| {
        for edit in &edits {
            edit.apply(&mut bytes);
        }
        bytes
    })
}

/// The usual mix for one file: a seed unchanged (1 in 16), a mutated seed (12 in 16) or
/// random bytes (3 in 16), shown as [`Bytes`].
pub fn input(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Bytes> {
    let max_len = seeds.iter().map(Vec::len).max().unwrap_or(0).max(256) * 2;
    prop_oneof![
        1 => select(seeds.clone()),
        12 => mutated(seeds, 8),
        3 => random_bytes(max_len),
    ]
    .prop_map(Bytes)
}

/// Random text for a line-oriented or JSON-like format: mostly the characters of
/// `alphabet`, with some arbitrary ones.
pub fn text_like(alphabet: &'static str, max_len: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = alphabet.chars().collect();
    vec(
        prop_oneof![8 => select(chars), 1 => any::<char>()],
        0..=max_len,
    )
    .prop_map(|c| c.into_iter().collect())
}
