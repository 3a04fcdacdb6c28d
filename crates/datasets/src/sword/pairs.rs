//! The English–Spanish Bible corpus: two KJV-versified modules paired slot by slot,
//! without the chapters where their verse divisions disagree.

use std::collections::HashSet;
use std::path::Path;

use super::layout::{Testament, chapter_of_slot};
use super::ztext::read_testament;
use crate::{DataError, Pair, tokenize};

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
