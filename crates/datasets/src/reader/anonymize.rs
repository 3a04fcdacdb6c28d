//! Hermann et al.'s entity anonymization.
//!
//! Every occurrence of an entity in the context and the query is replaced
//! by an anonymous id `@entityK`, where `K` comes from a fresh random
//! permutation for each example. The ids are thus consistent within an
//! example (the same entity always gets the same id, different entities
//! different ids) but mean nothing across examples, so a model cannot learn
//! facts about `@entity3`: it has to find the answer in the context.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{PLACEHOLDER, Question, entity_id};

/// Why an example cannot be anonymized.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnonymizeError {
    /// No entities were given.
    #[error("no entities given")]
    NoEntities,
    /// The answer index is not an index into the entities.
    #[error("answer index {answer} is out of range for {entities} entities")]
    AnswerOutOfRange {
        /// The answer index given.
        answer: usize,
        /// How many entities there are.
        entities: usize,
    },
    /// An entity has no tokens, or an empty token.
    #[error("entity {index} is empty or has an empty token")]
    EmptyEntity {
        /// Index of the entity.
        index: usize,
    },
    /// Two entities have the same surface form, so no bijection exists.
    #[error("entities {first} and {second} have the same surface form {surface:?}")]
    DuplicateEntity {
        /// Index of the first occurrence.
        first: usize,
        /// Index of the repeat.
        second: usize,
        /// The shared surface form (tokens joined by spaces).
        surface: String,
    },
    /// The query holds no [`PLACEHOLDER`] token.
    #[error("the query has no {PLACEHOLDER} token")]
    NoPlaceholder,
}

/// Anonymizes one example.
///
/// `entities` lists the surface forms of the example's entities as token
/// sequences (multi-word entities allowed); `answer` is the index of the
/// entity that fills the [`PLACEHOLDER`] of `query`. Entity `i` becomes
/// `@entity{perm[i]}` where `perm` is a random permutation of
/// `0..entities.len()` drawn from `seed`. Occurrences are matched as exact
/// token sequences, left to right, the longest entity first where several
/// start at the same token (so `["new", "york", "city"]` wins over
/// `["new", "york"]`); matches never overlap.
///
/// The result lists every entity, ordered by id (`@entity0` first), with
/// its surface form as its tokens joined by spaces, and its answer is the
/// id given to `entities[answer]`. Entities need not occur in the text.
pub fn anonymize(
    url: &str,
    context: &[String],
    query: &[String],
    entities: &[Vec<String>],
    answer: usize,
    seed: u64,
) -> Result<Question, AnonymizeError> {
    if entities.is_empty() {
        return Err(AnonymizeError::NoEntities);
    }
    if answer >= entities.len() {
        return Err(AnonymizeError::AnswerOutOfRange {
            answer,
            entities: entities.len(),
        });
    }
    for (index, entity) in entities.iter().enumerate() {
        if entity.is_empty() || entity.iter().any(|t| t.is_empty()) {
            return Err(AnonymizeError::EmptyEntity { index });
        }
        if let Some(first) = entities[..index].iter().position(|e| e == entity) {
            return Err(AnonymizeError::DuplicateEntity {
                first,
                second: index,
                surface: entity.join(" "),
            });
        }
    }
    if !query.iter().any(|t| t == PLACEHOLDER) {
        return Err(AnonymizeError::NoPlaceholder);
    }

    let mut perm: Vec<usize> = (0..entities.len()).collect();
    perm.shuffle(&mut StdRng::seed_from_u64(seed));
    let ids: Vec<String> = perm.iter().map(|&k| entity_id(k)).collect();

    // Longest first; among equal lengths, input order (only for
    // determinism: equal-length distinct entities cannot both match).
    let mut order: Vec<usize> = (0..entities.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(entities[i].len()), i));
    let replace = |tokens: &[String]| -> Vec<String> {
        let mut out = Vec::with_capacity(tokens.len());
        let mut i = 0;
        while i < tokens.len() {
            match order
                .iter()
                .find(|&&e| tokens[i..].starts_with(&entities[e]))
            {
                Some(&e) => {
                    out.push(ids[e].clone());
                    i += entities[e].len();
                }
                None => {
                    out.push(tokens[i].clone());
                    i += 1;
                }
            }
        }
        out
    };

    let mut by_id: Vec<(usize, usize)> = perm.iter().enumerate().map(|(e, &k)| (k, e)).collect();
    by_id.sort_unstable();
    Ok(Question {
        url: url.to_string(),
        context: replace(context),
        query: replace(query),
        answer: ids[answer].clone(),
        entities: by_id
            .into_iter()
            .map(|(k, e)| (entity_id(k), entities[e].join(" ")))
            .collect(),
    })
}
