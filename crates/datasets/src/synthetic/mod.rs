//! Seeded synthetic sequence-to-sequence tasks.
//!
//! # Symbol tasks
//!
//! [`SyntheticTask::Copy`], [`SyntheticTask::Reverse`] and
//! [`SyntheticTask::Sort`] draw each source token uniformly from the 26
//! symbols `"a"`..`"z"`; the target is the source, the source reversed, or
//! the source sorted alphabetically.
//!
//! # Toy translation
//!
//! [`SyntheticTask::ToyTranslation`] translates a small English fragment
//! into an invented language whose word order and inflection make each
//! target word depend on *other* source words, the property attention is
//! supposed to help with. The lexicon is small (20 nouns, 15 adjectives,
//! 10 transitive and 5 intransitive verbs, 5 adverbs, 7 determiners) so a
//! small model can learn it.
//!
//! **English (source)**, one or more clauses joined by `and`:
//!
//! ```text
//! sentence := clause ("and" clause)*
//! clause   := NP verb [NP] [adverb]        (object NP iff the verb is transitive)
//! NP       := determiner adjective{0,3} noun
//! ```
//!
//! Nouns are singular or plural (`dog`/`dogs`, `mouse`/`mice`), determiners
//! agree with them (`a`, `this`, `that` are singular; `some`, `these`,
//! `those` plural; `the` either), and the verb agrees with its subject
//! (`sees`/`see`).
//!
//! **Pseudo-language (target)**: subject–object–verb, adverb before the verb,
//! and inside a noun phrase the noun first, then its adjectives in *reverse*
//! order, then the determiner. Words are stems with suffixes:
//!
//! | word        | suffix chosen by                         | forms                                     |
//! |-------------|------------------------------------------|-------------------------------------------|
//! | noun        | its number and case (subject / object)   | `-a` `-ai` (subject), `-an` `-ain` (object) |
//! | adjective   | the number of its noun                   | `-e` singular, `-es` plural               |
//! | determiner  | its noun's number and case               | `-o` `-oi` (subject), `-on` `-oin` (object) |
//! | transitive verb | subject number *and* object number   | `-it` sg/sg, `-is` sg/pl, `-unt` pl/sg, `-us` pl/pl |
//! | intransitive verb | subject number                     | `-et` singular, `-ent` plural             |
//!
//! `and` becomes `e`; adverbs are uninflected. So the case of a noun depends
//! on where it stood, an adjective's ending on a noun after it, and the verb
//! ending on two noun phrases that may be far away.
//!
//! ```
//! # use datasets::synthetic::translate_toy;
//! # let t = |s: &str| translate_toy(&s.split(' ').map(String::from).collect::<Vec<_>>()).map(|t| t.join(" "));
//! assert_eq!(
//!     t("the big dog sees a small cat").unwrap(),
//!     "kana grobe lo miran pike unon vidit"
//! );
//! assert_eq!(
//!     t("these old men chase the red fox quickly and a cat sleeps").unwrap(),
//!     "virai senes koi vulpan rude lon rapi kasunt e mira uno dormet"
//! );
//! ```
//!
//! The translation is a function of the source ([`translate_toy`] computes
//! it), and every length from 3 tokens up is produced exactly: a sentence of
//! the drawn length is built by choosing a number of clauses and then
//! spreading the remaining tokens over optional adjectives and adverbs, so
//! source lengths are uniform over the requested range. Lengths below 3 (the
//! shortest clause, `the dog sleeps`) are raised to 3.
//!
//! The lexicon is in `lexicon`, the syntax trees with their English and toy-language
//! forms (and the parser back from English) in `grammar`, and the random sentences of
//! an exact length in `random`.

mod grammar;
mod lexicon;
mod random;

use std::fmt;
use std::str::FromStr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::Pair;
use grammar::Sentence;
use random::random_sentence;

/// Number of distinct symbols of the copy / reverse / sort tasks.
pub const ALPHABET_SIZE: usize = 26;

/// The shortest toy-translation sentence (`the dog sleeps`).
pub const TOY_MIN_LEN: usize = 3;

/// The synthetic tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyntheticTask {
    /// Target = source.
    Copy,
    /// Target = source reversed.
    Reverse,
    /// Target = source sorted alphabetically.
    Sort,
    /// Target = the source translated into the toy language (module docs).
    ToyTranslation,
}

impl SyntheticTask {
    /// Every task, in declaration order.
    pub const ALL: [SyntheticTask; 4] = [
        SyntheticTask::Copy,
        SyntheticTask::Reverse,
        SyntheticTask::Sort,
        SyntheticTask::ToyTranslation,
    ];

    /// The task's kebab-case name, as accepted by [`FromStr`] and serde.
    pub fn name(&self) -> &'static str {
        match self {
            SyntheticTask::Copy => "copy",
            SyntheticTask::Reverse => "reverse",
            SyntheticTask::Sort => "sort",
            SyntheticTask::ToyTranslation => "toy-translation",
        }
    }
}

impl fmt::Display for SyntheticTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that names no [`SyntheticTask`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown synthetic task {0:?} (expected copy, reverse, sort or toy-translation)")]
pub struct UnknownTask(pub String);

impl FromStr for SyntheticTask {
    type Err = UnknownTask;

    fn from_str(s: &str) -> Result<Self, UnknownTask> {
        SyntheticTask::ALL
            .into_iter()
            .find(|task| task.name() == s)
            .ok_or_else(|| UnknownTask(s.to_string()))
    }
}

/// Generates `n` pairs whose source length (in tokens) is drawn uniformly
/// from `min_len..=max_len`.
///
/// The bounds are swapped if `min_len > max_len`. For
/// [`SyntheticTask::ToyTranslation`] lengths below [`TOY_MIN_LEN`] are raised
/// to it; every other length is hit exactly. The same arguments always give
/// the same pairs.
pub fn generate(
    task: SyntheticTask,
    n: usize,
    min_len: usize,
    max_len: usize,
    seed: u64,
) -> Vec<Pair> {
    let (min_len, max_len) = (min_len.min(max_len), min_len.max(max_len));
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.random_range(min_len..=max_len);
            match task {
                SyntheticTask::ToyTranslation => {
                    let sentence = random_sentence(len.max(TOY_MIN_LEN), &mut rng);
                    Pair {
                        src: sentence.english(),
                        tgt: sentence.translation(),
                    }
                }
                _ => {
                    let src: Vec<String> = (0..len)
                        .map(|_| symbol(rng.random_range(0..ALPHABET_SIZE)))
                        .collect();
                    let mut tgt = src.clone();
                    match task {
                        SyntheticTask::Reverse => tgt.reverse(),
                        SyntheticTask::Sort => tgt.sort(),
                        _ => {}
                    }
                    Pair { src, tgt }
                }
            }
        })
        .collect()
}

/// The `i`-th letter of the alphabet as a token.
fn symbol(i: usize) -> String {
    char::from(b'a' + i as u8).to_string()
}

/// Translates a toy-translation source sentence into the toy language, or
/// returns `None` if the tokens are not a sentence of the toy grammar
/// (unknown word, wrong order, or broken agreement).
///
/// ```
/// use datasets::synthetic::translate_toy;
/// let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
/// assert_eq!(
///     translate_toy(&words("the big dog sees a small cat")),
///     Some(words("kana grobe lo miran pike unon vidit"))
/// );
/// assert_eq!(translate_toy(&words("the dog see a cat")), None); // agreement
/// ```
pub fn translate_toy(source: &[String]) -> Option<Vec<String>> {
    Sentence::parse(source).map(|sentence| sentence.translation())
}
