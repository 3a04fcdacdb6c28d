//! Data for the reading-comprehension task of Hermann et al. (2015),
//! "Teaching Machines to Read and Comprehend".
//!
//! An example is a [`Question`]: a context document, a cloze query with one
//! entity blanked out as [`PLACEHOLDER`], and the answer, where every entity
//! is written as an anonymous id `@entityK` whose number is drawn afresh for
//! each example, so the ids carry no information from one example to the
//! next and the answer can only be found by reading the context.
//!
//! * [`question`]: DeepMind's CNN / Daily Mail `.question` files (read,
//!   write, whole directories).
//! * [`anonymize`](mod@anonymize): Hermann's per-example entity anonymization.
//! * [`bible_cloze`](mod@bible_cloze): named-entity cloze questions from the
//!   KJV, in the style of the Children's Book Test.
//! * [`synthetic`]: seeded stories of anonymized facts where frequency alone
//!   does not find the answer.
//! * [`baselines`]: the maximum-frequency and exclusive-frequency baselines.
//!
//! ```
//! use datasets::reader::{baselines, synthetic::{StoryConfig, generate_stories}};
//!
//! let stories = generate_stories(&StoryConfig { n: 50, min_sentences: 5, max_sentences: 10, entities: 8, seed: 1 });
//! assert_eq!(stories.len(), 50);
//! let acc = baselines::accuracy(&stories, baselines::max_frequency);
//! assert!(acc < 0.6);
//! ```

pub mod anonymize;
pub mod baselines;
pub mod bible_cloze;
pub mod question;
pub mod synthetic;

pub use anonymize::{AnonymizeError, anonymize};
pub use bible_cloze::{ClozeConfig, bible_cloze};
pub use question::{
    Question, QuestionSet, parse_question, read_question, read_question_dir, write_question,
};

/// The token that stands for the answer in a query.
pub const PLACEHOLDER: &str = "@placeholder";

/// The prefix of every anonymous entity id (`@entity0`, `@entity17`, ...).
pub const ENTITY_PREFIX: &str = "@entity";

/// The anonymous id of entity number `k`: `entity_id(3) == "@entity3"`.
pub fn entity_id(k: usize) -> String {
    format!("{ENTITY_PREFIX}{k}")
}

/// Whether `token` is an anonymous entity id: `@entity` followed by one or
/// more ASCII digits and nothing else.
///
/// ```
/// use datasets::reader::is_entity_id;
/// assert!(is_entity_id("@entity12"));
/// assert!(!is_entity_id("@entity") && !is_entity_id("@entity1a") && !is_entity_id("@placeholder"));
/// ```
pub fn is_entity_id(token: &str) -> bool {
    token
        .strip_prefix(ENTITY_PREFIX)
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}
