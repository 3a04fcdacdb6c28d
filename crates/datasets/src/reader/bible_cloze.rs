//! Named-entity cloze questions from the King James Bible, in the style of
//! the Children's Book Test (Hill et al., 2016) and anonymized as in
//! Hermann et al. (2015).
//!
//! # Examples
//!
//! For every verse that has at least `context_verses` verses before it in
//! the same book, the context is those preceding verses and the query is
//! the verse itself with one named-entity occurrence replaced by
//! [`PLACEHOLDER`]. The blanked entity must occur in the context and exactly
//! once in the query verse (a second occurrence would give the answer
//! away); the blanked occurrence is drawn with the seed. Verses with no such
//! entity give no question. Each question is anonymized with
//! [`anonymize`](super::anonymize()) under its own seed: every entity of the
//! context and the query gets a fresh `@entityK`; the candidates are the
//! entities of the context ([`context_entities`](super::baselines::context_entities)),
//! and the entity lines list the context entities first, then any that only
//! occur in the query, ordered by id. The URL is `kjv:BOOK.CHAPTER.VERSE`
//! of the query verse.
//!
//! Windows overlap (a verse is the query of one question and part of the
//! context of the next ones); anonymization keeps this from leaking answers
//! between questions, since the same person has unrelated ids in each.
//!
//! # Tokens
//!
//! Verses are tokenized by the rules of [`tokenize::words`](crate::tokenize::words), except
//! that case is kept until entities are found ([`cased_tokens`]), a
//! possessive `'s` / `’s` is split off a capitalized word (`Moses's` →
//! `Moses 's`, as in the CNN data) so that a name and its possessive are
//! one entity, and the KJV's hyphenated names (`Beth-el`, `Obed-edom`,
//! `Ramoth-gilead`) are single words, so their lowercase parts do not
//! count as lowercase uses of `El`, `Edom` or `Gilead`. Entity tokens
//! keep their case (they are replaced by ids anyway); every other token is
//! lowercased, and a hyphenated word that is not an entity is split at its
//! hyphens again, giving exactly the tokens of `words`.
//!
//! # Named entities
//!
//! A named entity is a single word `W` that
//!
//! 1. starts with an uppercase letter and is not all capitals (`LORD`,
//!    inscriptions such as `TEKEL`);
//! 2. occurs capitalized *not* at the start of a sentence (not first in
//!    its verse and not right after `.`, `!` or `?`) in at least
//!    [`MIN_ENTITY_VERSES`] different verses, so words that are only ever
//!    capitalized because they begin a sentence are out;
//! 3. never occurs in lowercase anywhere in the text (this removes the
//!    KJV's capitalized speech openings: `said, Behold`, `saying, Thou`);
//! 4. is not in [`STOP_WORDS`] (divine names and titles, interjections,
//!    and function words, as a safety net), nor a hyphenated word starting
//!    with one (`God-ward`).
//!
//! What survives is overwhelmingly names of people, peoples and places
//! (`Moses`, `Israel`, `Egypt`, `Jerusalem`, `Philistines`, `Beth-el`).
//! Names written as separate words are not joined: each capitalized word
//! counts on its own. Names that are also common words (`Lot`, `Sin`,
//! `Rock`) are lost to rule 3, and titles that are never lowercase can slip
//! through (the stop list catches the frequent ones); on the whole KJV the
//! rules give about 1,250 entities (see the crate's tests).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::{PLACEHOLDER, Question, anonymize};
use crate::DataError;
use crate::sword::{VerseRef, kjv_verse_ref, read_ztext};

/// How to build the questions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClozeConfig {
    /// Number of verses in each context (default 10). With 0 there is no
    /// context and hence no question.
    pub context_verses: usize,
    /// At most this many questions (default `usize::MAX`, i.e. all); when
    /// there are more, a seeded sample is kept, in Bible order.
    pub max_examples: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for ClozeConfig {
    fn default() -> Self {
        ClozeConfig {
            context_verses: 10,
            max_examples: usize::MAX,
            seed: 0,
        }
    }
}

/// A word is an entity only if it is capitalized mid-sentence in at least
/// this many verses.
pub const MIN_ENTITY_VERSES: usize = 3;

/// Capitalized words that are never entities, whatever their counts.
pub const STOP_WORDS: &[&str] = &[
    // Divine names and titles.
    "God",
    "Lord",
    "Jehovah",
    "Almighty",
    "Sabaoth",
    "Godhead",
    // Interjections and liturgical words.
    "O",
    "Oh",
    "Amen",
    "Selah",
    "Hosanna",
    "Alleluia",
    "Hallelujah",
    "Abba",
    "Raca",
    "Maranatha",
    "Anathema",
    "Higgaion",
    "Ephphatha",
    // Titles rather than names.
    "Musician",
    "Baptist",
    "Rabbi",
    "Alpha",
    "Omega",
    // Pronouns and function words that start sentences.
    "I",
    "And",
    "But",
    "For",
    "Then",
    "Thus",
    "Now",
    "So",
    "Yea",
    "Nay",
    "Lo",
    "Behold",
    "He",
    "She",
    "It",
    "We",
    "Ye",
    "They",
    "Thou",
    "Thee",
    "My",
    "Mine",
    "His",
    "Her",
    "The",
    "A",
    "An",
    "In",
    "Of",
    "To",
    "If",
    "When",
    "Who",
    "What",
    "Let",
];

/// Reads a KJV-versified zText module (see [`read_ztext`]) and builds cloze
/// questions from it (see the module docs). Errors are those of
/// [`read_ztext`].
pub fn bible_cloze(kjv_dir: &Path, config: &ClozeConfig) -> Result<Vec<Question>, DataError> {
    let slots = read_ztext(kjv_dir)?;
    let verses: Vec<(VerseRef, String)> = slots
        .into_iter()
        .enumerate()
        .filter_map(|(slot, text)| Some((kjv_verse_ref(slot)?, text?)))
        .collect();
    Ok(cloze_from_verses(&verses, config))
}

/// The tokens of a verse with case kept (see the module docs), e.g.
/// `"And Moses's rod at Beth-el."` →
/// `["And", "Moses", "'s", "rod", "at", "Beth-el", "."]`.
///
/// These are the tokens of [`tokenize::words`](crate::tokenize::words)
/// before lowercasing, except that a possessive `'s` is split off a
/// capitalized word and a capitalized word joined by hyphens to further
/// words (`Beth-el`, `Obed-edom`, `Beth-lehem-judah`) is one token.
pub fn cased_tokens(text: &str) -> Vec<String> {
    let is_word_char = |c: char| c.is_alphanumeric() || ('\u{0300}'..='\u{036F}').contains(&c);
    let is_apostrophe = |c: char| c == '\'' || c == '\u{2019}';
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<String>| {
        if word.is_empty() {
            return;
        }
        let w = std::mem::take(word);
        let mut tail = w.chars().rev();
        let possessive = matches!(tail.next(), Some('s' | 'S'))
            && tail.next().is_some_and(is_apostrophe)
            && w.chars().count() > 2
            && w.chars().next().is_some_and(char::is_uppercase);
        if possessive {
            let cut = w.char_indices().rev().nth(1).map_or(0, |(i, _)| i);
            tokens.push(w[..cut].to_string());
            tokens.push(w[cut..].to_string());
        } else {
            tokens.push(w);
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        let next_is_word = chars.get(i + 1).is_some_and(|&next| is_word_char(next));
        let inner_apostrophe = is_apostrophe(c) && !word.is_empty() && next_is_word;
        let name_hyphen = c == '-'
            && word.chars().next().is_some_and(char::is_uppercase)
            && word.chars().last().is_some_and(is_word_char)
            && next_is_word;
        if is_word_char(c) || inner_apostrophe || name_hyphen {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut tokens);
        if !c.is_whitespace() && !c.is_control() {
            tokens.push(c.to_string());
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

/// Starts with an uppercase letter and has a lowercase one (not all caps).
fn is_capitalized(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
        && (word.chars().count() == 1 || word.chars().any(char::is_lowercase))
}

/// The named entities of a text given as verses (see the module docs),
/// sorted.
pub fn named_entities<'a>(verses: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let tokenized: Vec<Vec<String>> = verses.into_iter().map(cased_tokens).collect();
    entities_of(&tokenized).into_iter().collect()
}

fn entities_of(verses: &[Vec<String>]) -> std::collections::BTreeSet<String> {
    let mut mid_sentence: HashMap<&str, (usize, usize)> = HashMap::new(); // word -> (verses, last verse)
    let mut lowercase: HashSet<String> = HashSet::new();
    for (v, tokens) in verses.iter().enumerate() {
        for (i, token) in tokens.iter().enumerate() {
            if token.chars().next().is_some_and(char::is_lowercase) {
                lowercase.insert(token.clone());
                continue;
            }
            let sentence_initial = i == 0 || matches!(tokens[i - 1].as_str(), "." | "!" | "?");
            if is_capitalized(token) && !sentence_initial {
                let entry = mid_sentence.entry(token).or_insert((0, usize::MAX));
                if entry.1 != v {
                    *entry = (entry.0 + 1, v);
                }
            }
        }
    }
    mid_sentence
        .into_iter()
        .filter(|&(word, (count, _))| {
            count >= MIN_ENTITY_VERSES
                && word.chars().count() >= 2
                && !lowercase.contains(&word.to_lowercase())
                && !word
                    .split('-')
                    .next()
                    .is_some_and(|head| STOP_WORDS.contains(&head))
        })
        .map(|(word, _)| word.to_string())
        .collect()
}

/// Builds cloze questions from verses in Bible order (see the module docs);
/// the entities are found in these verses. Consecutive verses with the same
/// `book` form one book; chapters and verse numbers are only used in URLs.
/// [`bible_cloze`] is this function on a whole module.
pub fn cloze_from_verses(verses: &[(VerseRef, String)], config: &ClozeConfig) -> Vec<Question> {
    let cased: Vec<Vec<String>> = verses.iter().map(|(_, text)| cased_tokens(text)).collect();
    let entities = entities_of(&cased);
    // Entity words keep their case, everything else is lowercased; the flag
    // marks entity tokens.
    let tokens: Vec<Vec<(String, bool)>> = cased
        .into_iter()
        .map(|verse| {
            let mut out = Vec::with_capacity(verse.len());
            for t in verse {
                if entities.contains(&t) {
                    out.push((t, true));
                    continue;
                }
                let lower = t.to_lowercase();
                if lower.len() > 1 && lower.contains('-') {
                    for (k, part) in lower.split('-').enumerate() {
                        if k > 0 {
                            out.push(("-".to_string(), false));
                        }
                        out.push((part.to_string(), false));
                    }
                } else {
                    out.push((lower, false));
                }
            }
            out
        })
        .collect();

    // Candidate questions: (query verse, positions that may be blanked).
    let n = config.context_verses;
    let mut candidates: Vec<(usize, Vec<usize>)> = Vec::new();
    if n > 0 {
        let mut book_start = 0;
        for q in 0..verses.len() {
            if verses[q].0.book != verses[book_start].0.book {
                book_start = q;
            }
            if q - book_start < n {
                continue;
            }
            let in_context: HashSet<&str> = tokens[q - n..q]
                .iter()
                .flatten()
                .filter(|(_, is_entity)| *is_entity)
                .map(|(t, _)| t.as_str())
                .collect();
            let query = &tokens[q];
            let once = |word: &str| query.iter().filter(|(t, _)| t == word).count() == 1;
            let blankable: Vec<usize> = (0..query.len())
                .filter(|&i| {
                    let (t, is_entity) = &query[i];
                    *is_entity && in_context.contains(t.as_str()) && once(t)
                })
                .collect();
            if !blankable.is_empty() {
                candidates.push((q, blankable));
            }
        }
    }

    // Every draw happens for every candidate, so which ones are kept does
    // not change the others.
    let mut rng = StdRng::seed_from_u64(config.seed);
    let drawn: Vec<(usize, usize, u64)> = candidates
        .iter()
        .map(|(q, blankable)| (*q, *blankable.choose(&mut rng).unwrap_or(&0), rng.random()))
        .collect();
    let kept: Vec<usize> = if drawn.len() > config.max_examples {
        let mut kept =
            rand::seq::index::sample(&mut rng, drawn.len(), config.max_examples).into_vec();
        kept.sort_unstable();
        kept
    } else {
        (0..drawn.len()).collect()
    };

    kept.into_iter()
        .filter_map(|k| {
            let (q, blank, seed) = drawn[k];
            let context: Vec<String> = tokens[q - n..q]
                .iter()
                .flatten()
                .map(|(t, _)| t.clone())
                .collect();
            let mut query: Vec<String> = tokens[q].iter().map(|(t, _)| t.clone()).collect();
            let answer_word = std::mem::replace(&mut query[blank], PLACEHOLDER.to_string());
            let mut names: Vec<&str> = Vec::new();
            for (t, is_entity) in tokens[q - n..q].iter().flatten().chain(&tokens[q]) {
                if *is_entity && !names.contains(&t.as_str()) {
                    names.push(t);
                }
            }
            let answer = names.iter().position(|&w| w == answer_word)?;
            let surfaces: Vec<Vec<String>> = names.iter().map(|w| vec![w.to_string()]).collect();
            let r = verses[q].0;
            let url = format!("kjv:{}.{}.{}", r.book, r.chapter, r.verse);
            anonymize(&url, &context, &query, &surfaces, answer, seed).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::words;

    #[test]
    fn cased_tokens_follow_words_up_to_case_and_possessives() {
        for text in [
            "And Moses said unto Aaron, Take thy rod; (it is Pharaoh's.)",
            "Don't 'go' o’er Jordan’s banks... ¿Quién?",
            "the LORD's house, Israelites' tents, it's",
            "at Beth-lehem-judah's gate - a well-watered Ai-, -Ai x-Y",
        ] {
            let merged: Vec<String> = cased_tokens(text)
                .into_iter()
                .fold(Vec::<String>::new(), |mut acc, t| {
                    match acc.last_mut() {
                        Some(last) if t == "'s" || t == "’s" => last.push_str(&t),
                        _ => acc.push(t),
                    }
                    acc
                })
                .into_iter()
                .flat_map(|t| {
                    let t = t.to_lowercase();
                    if t.len() > 1 && t.contains('-') {
                        t.split('-')
                            .flat_map(|p| ["-".to_string(), p.to_string()])
                            .skip(1)
                            .collect()
                    } else {
                        vec![t]
                    }
                })
                .collect();
            assert_eq!(merged, words(text), "{text}");
        }
        assert_eq!(
            cased_tokens("Pharaoh's rod, it's"),
            ["Pharaoh", "'s", "rod", ",", "it's"]
        );
        assert_eq!(
            cased_tokens("Obed-edom's ark, a well-watered Ai-"),
            [
                "Obed-edom",
                "'s",
                "ark",
                ",",
                "a",
                "well",
                "-",
                "watered",
                "Ai",
                "-"
            ]
        );
    }
}
