//! The frequency baselines of Hermann et al. (2015), section 4.
//!
//! * maximum frequency: the entity most frequently observed in the context
//!   document;
//! * exclusive frequency: the entity most frequently observed in the
//!   context but not observed in the query.
//!
//! An entity is an id listed in [`Question::entities`]; other tokens (even
//! ones that look like `@entityN`) are not counted. Ties go to the entity
//! that occurs first in the context.

use std::collections::{HashMap, HashSet};

use super::Question;

/// The entities listed in `q.entities` that occur in the context, in order
/// of first occurrence: the candidate answers.
pub fn context_entities(q: &Question) -> Vec<String> {
    entity_counts(q, |_| true)
        .into_iter()
        .map(|(id, _)| id.to_string())
        .collect()
}

/// Counts of the listed entities in the context, in order of first
/// occurrence, keeping only those `keep` accepts.
fn entity_counts(q: &Question, keep: impl Fn(&str) -> bool) -> Vec<(&str, usize)> {
    let listed: HashSet<&str> = q.entities.iter().map(|(id, _)| id.as_str()).collect();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for token in &q.context {
        let token = token.as_str();
        if !listed.contains(token) || !keep(token) {
            continue;
        }
        match slot.get(token) {
            Some(&i) => counts[i].1 += 1,
            None => {
                slot.insert(token, counts.len());
                counts.push((token, 1));
            }
        }
    }
    counts
}

/// The most frequent of `counts`, the earliest on ties.
fn most_frequent(counts: &[(&str, usize)]) -> Option<String> {
    let mut best: Option<(&str, usize)> = None;
    for &(id, n) in counts {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((id, n));
        }
    }
    best.map(|(id, _)| id.to_string())
}

/// Hermann's maximum-frequency baseline: the listed entity that occurs most
/// often in the context (the earliest on ties).
///
/// If no listed entity occurs in the context, the first entity line is
/// returned (the empty string if there is none).
pub fn max_frequency(q: &Question) -> String {
    most_frequent(&entity_counts(q, |_| true)).unwrap_or_else(|| first_listed(q))
}

/// Hermann's exclusive-frequency baseline: the listed entity that occurs
/// most often in the context among those that do not occur in the query
/// (the earliest on ties).
///
/// If every context entity also occurs in the query, this falls back to
/// [`max_frequency`].
pub fn exclusive_frequency(q: &Question) -> String {
    let in_query = |id: &str| q.query.iter().any(|t| t == id);
    most_frequent(&entity_counts(q, |id| !in_query(id))).unwrap_or_else(|| max_frequency(q))
}

fn first_listed(q: &Question) -> String {
    q.entities
        .first()
        .map(|(id, _)| id.clone())
        .unwrap_or_default()
}

/// The fraction of `questions` whose answer `predict` gets right (0 for no
/// questions).
pub fn accuracy(questions: &[Question], predict: impl Fn(&Question) -> String) -> f64 {
    if questions.is_empty() {
        return 0.0;
    }
    let right = questions.iter().filter(|q| predict(q) == q.answer).count();
    right as f64 / questions.len() as f64
}
