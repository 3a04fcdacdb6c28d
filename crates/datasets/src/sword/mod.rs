//! A pure-Rust reader for [SWORD](https://crosswire.org/sword/) zText Bible
//! modules, and an English–Spanish parallel corpus built from two of them.
//!
//! * `kjv`: the KJV versification table; `layout`: the slot layout built from it, and
//!   [`VerseRef`] / [`kjv_verse_ref`].
//! * `ztext`: the three files of a testament, read into one text per slot ([`read_ztext`]).
//! * `markup`: [`strip_markup`], OSIS / ThML / GBF markup to plain text.
//! * `pairs`: [`bible_pairs`], the English–Spanish corpus.
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
mod layout;
mod markup;
mod pairs;
mod ztext;

pub use layout::{VerseRef, kjv_verse_ref};
pub use markup::strip_markup;
pub use pairs::bible_pairs;
pub use ztext::read_ztext;
