//! The slot layout of a KJV-versified module: which slot is a heading and which verse
//! each other slot holds.

use std::fmt;
use std::sync::OnceLock;

use super::kjv;

/// The two testaments, in module order.
#[derive(Clone, Copy, Debug)]
pub(super) enum Testament {
    Old,
    New,
}

impl Testament {
    /// File-name prefix of the testament's three files.
    pub(super) fn prefix(self) -> &'static str {
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
pub(super) enum SlotKind {
    Heading,
    Verse(VerseRef),
}

/// Slot-by-slot layout of one testament under KJV versification (built
/// once, then shared).
pub(super) fn kjv_layout(testament: Testament) -> &'static [SlotKind] {
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
/// slots as [`read_ztext`](super::read_ztext) returns them (Old Testament first, then New), or
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

/// For each of `slot_count` slots: the running number of the chapter its
/// verse belongs to (`None` for heading slots, and for every slot when the
/// testament does not have the KJV slot count).
pub(super) fn chapter_of_slot(testament: Testament, slot_count: usize) -> Vec<Option<usize>> {
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
}
