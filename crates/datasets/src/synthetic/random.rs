//! Random toy-translation sentences of an exact length.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, index};

use super::grammar::{Clause, NounPhrase, Number, Predicate, Sentence};
use super::lexicon::{
    ADJECTIVES, ADVERBS, DETERMINERS, INTRANSITIVE_MAX, INTRANSITIVE_MIN, INTRANSITIVE_VERBS,
    MAX_ADJECTIVES, NOUNS, TRANSITIVE_MAX, TRANSITIVE_MIN, TRANSITIVE_VERBS,
};

/// A random sentence of exactly `len >= TOY_MIN_LEN` English tokens.
pub(super) fn random_sentence(len: usize, rng: &mut StdRng) -> Sentence {
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
    use crate::synthetic::{TOY_MIN_LEN, translate_toy};
    use rand::SeedableRng;

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
