//! The pipeline the sequence-to-sequence experiments share (seq2seq-length,
//! score-functions, soft-vs-hard, transformer), one concern a file:
//!
//! - [`task`]: where sentence pairs come from (`--task`).
//! - [`config`]: every shared setting and its presets.
//! - [`data`]: loading, vocabularies, batches, and training on them.
//! - [`decode`]: decoding a test set, and the attention of one sentence (`alignment.csv`).
//! - [`eval`]: scores per source-length bucket (`metrics.csv`) and a cell's whole record.
//!
//! An experiment module keeps only what makes it different: which models its cells train
//! and with which loss.

pub mod config;
pub mod data;
pub mod decode;
pub mod eval;
pub mod task;

pub use config::Config;
pub use data::{BatchTensors, TaskData, load_data, seq2seq_model, teacher_forced_loss, train};
pub use task::TaskSpec;
