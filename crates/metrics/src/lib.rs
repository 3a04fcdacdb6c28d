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
//! * [`fid`]: the Fréchet distance between two sets of feature vectors
//!   (FID when the features are Inception-v3's), for text-to-image
//!   generation.
//! * [`folds`]: consecutive folds and the "mean ± std over 10 splits"
//!   summary that R-precision and the Inception score are reported with.
//! * [`inception`]: the Inception score from class posteriors of generated
//!   images.
//! * [`rprecision`]: R-precision of text-to-image generation (is the true
//!   caption the most similar of the candidates?), as DM-GAN evaluates it,
//!   and cosine similarity.
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
pub mod fid;
pub mod folds;
pub mod inception;
mod jacobi;
pub mod rprecision;
pub mod stats;
