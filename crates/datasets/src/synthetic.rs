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

use std::fmt;
use std::str::FromStr;

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, index};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::Pair;

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

// ---------------------------------------------------------------------------
// Lexicon. Target stems are chosen so that no two inflected target forms
// coincide (checked by a unit test).

/// (English singular, English plural, target stem)
const NOUNS: [(&str, &str, &str); 20] = [
    ("dog", "dogs", "kan"),
    ("cat", "cats", "mir"),
    ("bird", "birds", "pil"),
    ("horse", "horses", "hor"),
    ("goat", "goats", "kapr"),
    ("cow", "cows", "bov"),
    ("fox", "foxes", "vulp"),
    ("wolf", "wolves", "lup"),
    ("mouse", "mice", "mus"),
    ("child", "children", "kind"),
    ("man", "men", "vir"),
    ("woman", "women", "fem"),
    ("king", "kings", "rek"),
    ("queen", "queens", "regin"),
    ("farmer", "farmers", "agr"),
    ("teacher", "teachers", "dok"),
    ("friend", "friends", "amik"),
    ("baker", "bakers", "pan"),
    ("sailor", "sailors", "nav"),
    ("girl", "girls", "puel"),
];

/// (English, target stem)
const ADJECTIVES: [(&str, &str); 15] = [
    ("big", "grob"),
    ("small", "pik"),
    ("red", "rud"),
    ("old", "sen"),
    ("young", "jun"),
    ("happy", "fel"),
    ("angry", "ir"),
    ("brown", "brun"),
    ("black", "nigr"),
    ("white", "alb"),
    ("tall", "alt"),
    ("quiet", "tak"),
    ("clever", "sag"),
    ("lazy", "pigr"),
    ("hungry", "fam"),
];

/// (English with a singular subject, with a plural subject, target stem)
const TRANSITIVE_VERBS: [(&str, &str, &str); 10] = [
    ("sees", "see", "vid"),
    ("chases", "chase", "kas"),
    ("likes", "like", "am"),
    ("finds", "find", "trov"),
    ("follows", "follow", "seg"),
    ("hears", "hear", "aud"),
    ("bites", "bite", "mord"),
    ("carries", "carry", "port"),
    ("helps", "help", "jut"),
    ("feeds", "feed", "nutr"),
];

/// (English with a singular subject, with a plural subject, target stem)
const INTRANSITIVE_VERBS: [(&str, &str, &str); 5] = [
    ("sleeps", "sleep", "dorm"),
    ("runs", "run", "kur"),
    ("sings", "sing", "kant"),
    ("waits", "wait", "atend"),
    ("falls", "fall", "kad"),
];

/// (English, target)
const ADVERBS: [(&str, &str); 5] = [
    ("quickly", "rapi"),
    ("slowly", "lenti"),
    ("often", "saepi"),
    ("today", "hodi"),
    ("again", "rursi"),
];

/// (English, the number it goes with (`None`: either), target stem)
const DETERMINERS: [(&str, Option<Number>, &str); 7] = [
    ("the", None, "l"),
    ("a", Some(Number::Singular), "un"),
    ("this", Some(Number::Singular), "k"),
    ("that", Some(Number::Singular), "t"),
    ("some", Some(Number::Plural), "s"),
    ("these", Some(Number::Plural), "k"),
    ("those", Some(Number::Plural), "t"),
];

const AND_SOURCE: &str = "and";
const AND_TARGET: &str = "e";

/// Most adjectives in one noun phrase.
const MAX_ADJECTIVES: usize = 3;

/// Clause lengths: intransitive `det noun verb` ...
const INTRANSITIVE_MIN: usize = 3;
/// ... up to three adjectives and an adverb more.
const INTRANSITIVE_MAX: usize = INTRANSITIVE_MIN + MAX_ADJECTIVES + 1;
/// Transitive `det noun verb det noun` ...
const TRANSITIVE_MIN: usize = 5;
/// ... up to three adjectives per noun phrase and an adverb more.
const TRANSITIVE_MAX: usize = TRANSITIVE_MIN + 2 * MAX_ADJECTIVES + 1;

// ---------------------------------------------------------------------------
// Syntax trees.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Number {
    Singular,
    Plural,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    Subject,
    Object,
}

/// Indices into the lexicon tables.
#[derive(Clone, Debug)]
struct NounPhrase {
    determiner: usize,
    adjectives: Vec<usize>,
    noun: usize,
    number: Number,
}

#[derive(Clone, Debug)]
enum Predicate {
    Transitive { verb: usize, object: NounPhrase },
    Intransitive { verb: usize },
}

#[derive(Clone, Debug)]
struct Clause {
    subject: NounPhrase,
    predicate: Predicate,
    adverb: Option<usize>,
}

#[derive(Clone, Debug)]
struct Sentence {
    clauses: Vec<Clause>,
}

impl NounPhrase {
    fn english(&self, out: &mut Vec<String>) {
        out.push(DETERMINERS[self.determiner].0.to_string());
        out.extend(self.adjectives.iter().map(|&a| ADJECTIVES[a].0.to_string()));
        let (singular, plural, _) = NOUNS[self.noun];
        out.push(pick(self.number, singular, plural).to_string());
    }

    /// Noun, adjectives in reverse order, determiner; all inflected.
    fn translation(&self, case: Case, out: &mut Vec<String>) {
        let number = self.number;
        let noun_suffix = match case {
            Case::Subject => pick(number, "a", "ai"),
            Case::Object => pick(number, "an", "ain"),
        };
        out.push(format!("{}{noun_suffix}", NOUNS[self.noun].2));
        let adjective_suffix = pick(number, "e", "es");
        out.extend(
            self.adjectives
                .iter()
                .rev()
                .map(|&a| format!("{}{adjective_suffix}", ADJECTIVES[a].1)),
        );
        let determiner_suffix = match case {
            Case::Subject => pick(number, "o", "oi"),
            Case::Object => pick(number, "on", "oin"),
        };
        out.push(format!(
            "{}{determiner_suffix}",
            DETERMINERS[self.determiner].2
        ));
    }

    /// Parses `determiner adjective* noun` at the start of `tokens`; returns
    /// the phrase and the number of tokens it took.
    fn parse(tokens: &[String]) -> Option<(NounPhrase, usize)> {
        let determiner_word = tokens.first()?;
        let mut adjectives = Vec::new();
        let mut pos = 1;
        while let Some(a) = tokens
            .get(pos)
            .and_then(|t| ADJECTIVES.iter().position(|(en, _)| en == t))
        {
            adjectives.push(a);
            pos += 1;
        }
        let word = tokens.get(pos)?;
        let (noun, number) = NOUNS.iter().enumerate().find_map(|(i, (sg, pl, _))| {
            if sg == word {
                Some((i, Number::Singular))
            } else if pl == word {
                Some((i, Number::Plural))
            } else {
                None
            }
        })?;
        let determiner = DETERMINERS.iter().position(|&(en, agrees, _)| {
            en == determiner_word && agrees.is_none_or(|n| n == number)
        })?;
        let phrase = NounPhrase {
            determiner,
            adjectives,
            noun,
            number,
        };
        Some((phrase, pos + 1))
    }
}

impl Clause {
    fn english(&self, out: &mut Vec<String>) {
        self.subject.english(out);
        let number = self.subject.number;
        match &self.predicate {
            Predicate::Transitive { verb, object } => {
                let (singular, plural, _) = TRANSITIVE_VERBS[*verb];
                out.push(pick(number, singular, plural).to_string());
                object.english(out);
            }
            Predicate::Intransitive { verb } => {
                let (singular, plural, _) = INTRANSITIVE_VERBS[*verb];
                out.push(pick(number, singular, plural).to_string());
            }
        }
        out.extend(self.adverb.map(|a| ADVERBS[a].0.to_string()));
    }

    /// Subject, object, adverb, verb (agreeing with subject and object).
    fn translation(&self, out: &mut Vec<String>) {
        self.subject.translation(Case::Subject, out);
        let subject = self.subject.number;
        let verb = match &self.predicate {
            Predicate::Transitive { verb, object } => {
                object.translation(Case::Object, out);
                let suffix = match (subject, object.number) {
                    (Number::Singular, Number::Singular) => "it",
                    (Number::Singular, Number::Plural) => "is",
                    (Number::Plural, Number::Singular) => "unt",
                    (Number::Plural, Number::Plural) => "us",
                };
                format!("{}{suffix}", TRANSITIVE_VERBS[*verb].2)
            }
            Predicate::Intransitive { verb } => {
                let suffix = pick(subject, "et", "ent");
                format!("{}{suffix}", INTRANSITIVE_VERBS[*verb].2)
            }
        };
        out.extend(self.adverb.map(|a| ADVERBS[a].1.to_string()));
        out.push(verb);
    }

    fn parse(tokens: &[String]) -> Option<Clause> {
        let (subject, mut pos) = NounPhrase::parse(tokens)?;
        let verb_word = tokens.get(pos)?;
        pos += 1;
        let agrees = |&(singular, plural, _): &(&str, &str, &str)| {
            pick(subject.number, singular, plural) == verb_word
        };
        let predicate = if let Some(verb) = TRANSITIVE_VERBS.iter().position(agrees) {
            let (object, taken) = NounPhrase::parse(&tokens[pos..])?;
            pos += taken;
            Predicate::Transitive { verb, object }
        } else {
            let verb = INTRANSITIVE_VERBS.iter().position(agrees)?;
            Predicate::Intransitive { verb }
        };
        let adverb = match tokens.get(pos) {
            None => None,
            Some(word) => {
                pos += 1;
                Some(ADVERBS.iter().position(|(en, _)| en == word)?)
            }
        };
        (pos == tokens.len()).then_some(Clause {
            subject,
            predicate,
            adverb,
        })
    }
}

impl Sentence {
    fn english(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                out.push(AND_SOURCE.to_string());
            }
            clause.english(&mut out);
        }
        out
    }

    fn translation(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                out.push(AND_TARGET.to_string());
            }
            clause.translation(&mut out);
        }
        out
    }

    fn parse(tokens: &[String]) -> Option<Sentence> {
        let clauses = tokens
            .split(|t| t == AND_SOURCE)
            .map(Clause::parse)
            .collect::<Option<Vec<_>>>()?;
        Some(Sentence { clauses })
    }
}

fn pick<T>(number: Number, singular: T, plural: T) -> T {
    match number {
        Number::Singular => singular,
        Number::Plural => plural,
    }
}

// ---------------------------------------------------------------------------
// Random sentences of an exact length.

/// A random sentence of exactly `len >= TOY_MIN_LEN` English tokens.
fn random_sentence(len: usize, rng: &mut StdRng) -> Sentence {
    // `k` clauses take `k - 1` "and"s and between 3k and 12k clause tokens,
    // so `k` must satisfy 4k - 1 <= len <= 13k - 1.
    let fewest = (len + 1).div_ceil(TRANSITIVE_MAX + 1);
    let most = (len + 1) / (INTRANSITIVE_MIN + 1);
    // Within that, prefer clauses of roughly 4 to 10 tokens, which reads
    // most like the examples and leaves room for the optional words.
    let low = fewest.max((len + 1).div_ceil(11));
    let high = low.max(most.min((len + 1) / 5));
    let clauses = rng.random_range(low..=high);

    // Spread the clause tokens: each clause gets the minimum, then single
    // tokens go to random clauses that still have room.
    let mut lengths = vec![INTRANSITIVE_MIN; clauses];
    for _ in 0..len - (clauses - 1) - INTRANSITIVE_MIN * clauses {
        let open: Vec<usize> = (0..clauses)
            .filter(|&i| lengths[i] < TRANSITIVE_MAX)
            .collect();
        // `open` is never empty because `clauses >= fewest`.
        if let Some(&i) = open.choose(rng) {
            lengths[i] += 1;
        }
    }
    Sentence {
        clauses: lengths
            .into_iter()
            .map(|len| random_clause(len, rng))
            .collect(),
    }
}

/// A random clause of exactly `len` tokens (`3..=12`).
fn random_clause(len: usize, rng: &mut StdRng) -> Clause {
    let transitive = match (len >= TRANSITIVE_MIN, len <= INTRANSITIVE_MAX) {
        (true, true) => rng.random_bool(0.6),
        (can_be_transitive, _) => can_be_transitive,
    };
    let base = if transitive {
        TRANSITIVE_MIN
    } else {
        INTRANSITIVE_MIN
    };
    // Optional words: [adverb, subject adjectives, object adjectives].
    let capacity = [
        1,
        MAX_ADJECTIVES,
        if transitive { MAX_ADJECTIVES } else { 0 },
    ];
    let mut extra = [0usize; 3];
    for _ in 0..len.saturating_sub(base) {
        let open: Vec<usize> = (0..3).filter(|&i| extra[i] < capacity[i]).collect();
        if let Some(&i) = open.choose(rng) {
            extra[i] += 1;
        }
    }
    let subject = random_noun_phrase(extra[1], rng);
    let predicate = if transitive {
        Predicate::Transitive {
            verb: rng.random_range(0..TRANSITIVE_VERBS.len()),
            object: random_noun_phrase(extra[2], rng),
        }
    } else {
        Predicate::Intransitive {
            verb: rng.random_range(0..INTRANSITIVE_VERBS.len()),
        }
    };
    let adverb = (extra[0] == 1).then(|| rng.random_range(0..ADVERBS.len()));
    Clause {
        subject,
        predicate,
        adverb,
    }
}

fn random_noun_phrase(adjectives: usize, rng: &mut StdRng) -> NounPhrase {
    let number = if rng.random_bool(0.5) {
        Number::Singular
    } else {
        Number::Plural
    };
    let determiners: Vec<usize> = (0..DETERMINERS.len())
        .filter(|&d| DETERMINERS[d].1.is_none_or(|n| n == number))
        .collect();
    NounPhrase {
        determiner: *determiners.choose(rng).unwrap_or(&0),
        // Distinct adjectives: "the big big dog" is not a phrase we want.
        adjectives: index::sample(rng, ADJECTIVES.len(), adjectives.min(ADJECTIVES.len()))
            .into_vec(),
        noun: rng.random_range(0..NOUNS.len()),
        number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn target_forms_are_all_distinct() {
        let mut forms = Vec::new();
        for (_, _, stem) in NOUNS {
            forms.extend(["a", "ai", "an", "ain"].map(|s| format!("{stem}{s}")));
        }
        for (_, stem) in ADJECTIVES {
            forms.extend(["e", "es"].map(|s| format!("{stem}{s}")));
        }
        for (_, _, stem) in TRANSITIVE_VERBS {
            forms.extend(["it", "is", "unt", "us"].map(|s| format!("{stem}{s}")));
        }
        for (_, _, stem) in INTRANSITIVE_VERBS {
            forms.extend(["et", "ent"].map(|s| format!("{stem}{s}")));
        }
        // "this"/"these" and "that"/"those" share a stem by design (they are
        // one word inflected for number), so collect determiner forms once.
        let determiner_forms: HashSet<String> = DETERMINERS
            .iter()
            .flat_map(|(_, _, stem)| ["o", "oi", "on", "oin"].map(|s| format!("{stem}{s}")))
            .collect();
        forms.extend(determiner_forms);
        forms.extend(ADVERBS.map(|(_, t)| t.to_string()));
        forms.push(AND_TARGET.to_string());
        let unique: HashSet<&String> = forms.iter().collect();
        assert_eq!(unique.len(), forms.len(), "{forms:?}");
    }

    #[test]
    fn every_length_is_hit_exactly_and_parses_back() {
        let mut rng = StdRng::seed_from_u64(1);
        for len in TOY_MIN_LEN..=120 {
            for _ in 0..20 {
                let sentence = random_sentence(len, &mut rng);
                let english = sentence.english();
                assert_eq!(english.len(), len);
                assert!(
                    sentence
                        .clauses
                        .iter()
                        .all(|c| c.subject.adjectives.len() <= MAX_ADJECTIVES)
                );
                assert_eq!(translate_toy(&english), Some(sentence.translation()));
            }
        }
    }
}
