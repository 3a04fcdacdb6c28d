//! Data for the attention-lab experiments: seeded synthetic sequence tasks,
//! parallel-text readers, vocabularies, splits and padded batches.
//!
//! Everything here is plain Rust data (strings and `u32` ids); turning
//! batches into tensors is the job of the `models` crate.
//!
//! * [`synthetic`]: copy / reverse / sort over a 26-letter alphabet, and a toy
//!   English → pseudo-language translation task with reordering and agreement.
//! * [`tsv`]: `source<TAB>target` files.
//! * [`sword`]: a pure-Rust reader for SWORD zText Bible modules, used to
//!   build an English–Spanish parallel corpus (KJV ↔ Reina-Valera 1909).
//! * [`tokenize`]: the word tokenizer every reader uses.
//! * [`vocab`], [`split`], [`batch`]: from tokens to padded id batches.
//! * [`images`]: glyphs and colour images for the visual-attention experiments.
//! * [`scenes`]: captioned scenes of coloured glyphs, their caption grammar, parser,
//!   semantic score and compositional splits.
//!
//! Every random choice takes an explicit `u64` seed, so the same call always
//! produces the same data. Bad input is reported as a [`DataError`] naming
//! the file and the line or record at fault; nothing here panics on it.
//!
//! ```
//! use datasets::{batch, synthetic::{self, SyntheticTask}, vocab::Vocab};
//!
//! let pairs = synthetic::generate(SyntheticTask::Reverse, 100, 3, 10, 7);
//! let vocab = Vocab::build(pairs.iter().flat_map(|p| [&p.src[..], &p.tgt[..]]), 64);
//! let encoded: Vec<_> = pairs
//!     .iter()
//!     .map(|p| (vocab.encode(&p.src), vocab.encode(&p.tgt)))
//!     .collect();
//! let batches = batch::batches(&encoded, 32, 7, true);
//! assert_eq!(batches.iter().map(|b| b.batch_size).sum::<usize>(), 100);
//! ```

pub mod batch;
pub mod error;
pub mod images;
pub mod reader;
pub mod scenes;
pub mod split;
pub mod sword;
pub mod synthetic;
pub mod tokenize;
pub mod tsv;
pub mod vocab;

pub use error::DataError;

/// One aligned example: source and target token sequences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// Source-side tokens.
    pub src: Vec<String>,
    /// Target-side tokens.
    pub tgt: Vec<String>,
}
