//! Evaluation metrics for the attention-lab experiments.
//!
//! Everything here is plain Rust with no dependencies, so it can be used from
//! the training harness, the experiment binaries and tests alike:
//!
//! * [`accuracy`]: token-level and exact-match accuracy over sequences of
//!   token ids.
//! * [`bleu`]: corpus BLEU that reproduces sacreBLEU 2.x (`corpus_bleu` with
//!   its default settings and the `13a` tokenizer) to within rounding, with
//!   one or several references per hypothesis, BLEU-1 to BLEU-4, and the
//!   other smoothing methods sacreBLEU offers. The `bleu` binary exposes it
//!   on the command line like `sacrebleu REF... -i HYP`.
//! * [`buckets`]: grouping items by length into fixed-width buckets, for
//!   "score versus sentence length" plots.
//! * [`stats`]: mean and sample standard deviation, for aggregating runs over
//!   several seeds.
//!
//! ```
//! let score = metrics::bleu::corpus_bleu(&["a b c d"], &["a b c e"]);
//! assert_eq!(format!("{:.2}", score.score), "59.46");
//! ```

pub mod accuracy;
pub mod bleu;
pub mod buckets;
pub mod stats;
