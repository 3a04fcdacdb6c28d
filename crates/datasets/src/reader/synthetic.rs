//! Seeded stories of anonymized facts, for tests and quick runs.
//!
//! A story is a list of facts, one sentence each, built from a few
//! relation templates over named characters:
//!
//! ```text
//! Mary gave the book to Omar in Lena .    Omar met Ivan in Mary .    ...
//! ```
//!
//! Every argument is drawn uniformly from a pool of `entities` names (the
//! arguments of one sentence are distinct). The query is one of the story's
//! sentences with one argument replaced by [`PLACEHOLDER`]; the generator
//! makes sure that no other sentence matches the query with a different
//! filler (nor repeats the queried sentence), so the answer is determined by
//! exactly one fact of the document. The rest of the story is distractors:
//! the same names in other facts, so an entity's frequency says little about
//! whether it is the answer, and finding it needs to look at the right
//! sentence. Each story is then anonymized with
//! [`anonymize`](super::anonymize()) (a fresh id permutation per story), so
//! names become `@entityK` and the entity lines give each id its name.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{PLACEHOLDER, Question, anonymize};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoryConfig {
    /// Number of stories.
    pub n: usize,
    /// Fewest sentences (facts) per story; raised to 1 if 0.
    pub min_sentences: usize,
    /// Most sentences per story; raised to `min_sentences` if smaller.
    pub max_sentences: usize,
    /// Size of the pool of names the arguments are drawn from; raised to 3
    /// if smaller (a sentence may need three distinct names).
    pub entities: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

/// The relation templates; `{k}` is argument `k`.
const TEMPLATES: &[&str] = &[
    "{0} gave the book to {1} in {2} .",
    "{0} met {1} in {2} .",
    "{0} sold a horse to {1} .",
    "{0} lives next to {1} .",
    "{0} is the sister of {1} .",
    "{0} wrote a letter to {1} about {2} .",
    "{0} travelled with {1} to see {2} .",
    "{0} owes money to {1} .",
];

/// Names of the entities; entity `k` past the end is `NAMES[k % len]`
/// followed by `k / len` (`Ada1`), so every entity is one distinct token.
const NAMES: &[&str] = &[
    "Ada", "Ben", "Cora", "Dan", "Eva", "Finn", "Gail", "Hugo", "Iris", "Jon", "Kira", "Liam",
    "Mona", "Ned", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tess", "Umar", "Vera", "Walt", "Xena",
    "Yuri", "Zoe",
];

fn name(k: usize) -> String {
    let base = NAMES[k % NAMES.len()];
    match k / NAMES.len() {
        0 => base.to_string(),
        round => format!("{base}{round}"),
    }
}

/// Number of arguments of template `t`.
fn arity(t: usize) -> usize {
    TEMPLATES[t].matches('{').count()
}

/// One fact: a template and its (distinct) argument entities.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fact {
    template: usize,
    args: Vec<usize>,
}

impl Fact {
    fn random(entities: usize, rng: &mut StdRng) -> Fact {
        let template = rng.random_range(0..TEMPLATES.len());
        let args = rand::seq::index::sample(rng, entities, arity(template)).into_vec();
        Fact { template, args }
    }

    /// The sentence's tokens, argument `blank` (if any) as the placeholder.
    fn tokens(&self, blank: Option<usize>) -> Vec<String> {
        TEMPLATES[self.template]
            .split_whitespace()
            .map(|word| {
                match word
                    .strip_prefix('{')
                    .and_then(|w| w.strip_suffix('}'))
                    .and_then(|k| k.parse::<usize>().ok())
                {
                    Some(k) if blank == Some(k) => PLACEHOLDER.to_string(),
                    Some(k) => name(self.args[k]),
                    None => word.to_string(),
                }
            })
            .collect()
    }

    /// Whether this fact would also answer the query `target` with
    /// argument `slot` blanked (with the same or another filler).
    fn matches_query(&self, target: &Fact, slot: usize) -> bool {
        self.template == target.template
            && self
                .args
                .iter()
                .zip(&target.args)
                .enumerate()
                .all(|(k, (a, b))| k == slot || a == b)
    }
}

/// Generates `config.n` anonymized stories (see the module docs).
///
/// The same config always gives the same stories. Each story has between
/// `min_sentences` and `max_sentences` sentences (uniformly), every one
/// ending in `.`; its answer is an entity of the document and of the
/// entity lines, which list exactly the names the story uses.
pub fn generate_stories(config: &StoryConfig) -> Vec<Question> {
    let entities = config.entities.max(3);
    let min = config.min_sentences.max(1);
    let max = config.max_sentences.max(min);
    let mut rng = StdRng::seed_from_u64(config.seed);
    (0..config.n)
        .map(|i| {
            let len = rng.random_range(min..=max);
            let mut facts: Vec<Fact> = (0..len).map(|_| Fact::random(entities, &mut rng)).collect();
            let target = rng.random_range(0..len);
            let slot = rng.random_range(0..arity(facts[target].template));
            for j in (0..len).filter(|&j| j != target) {
                while facts[j].matches_query(&facts[target], slot) {
                    facts[j] = Fact::random(entities, &mut rng);
                }
            }
            let context: Vec<String> = facts.iter().flat_map(|f| f.tokens(None)).collect();
            let query = facts[target].tokens(Some(slot));

            let mut used: Vec<usize> = facts.iter().flat_map(|f| f.args.iter().copied()).collect();
            used.sort_unstable();
            used.dedup();
            let answer_entity = facts[target].args[slot];
            let answer = used.binary_search(&answer_entity).unwrap_or(0);
            let surfaces: Vec<Vec<String>> = used.iter().map(|&k| vec![name(k)]).collect();
            let url = format!("synthetic://story/{}/{i}", config.seed);
            anonymize(&url, &context, &query, &surfaces, answer, rng.random()).expect(
                "generated stories have distinct entities, a valid answer and a placeholder",
            )
        })
        .collect()
}
