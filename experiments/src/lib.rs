//! The experiments of attention-lab. Each has a module with its `Config` (presets included)
//! and a `run()`, and a thin binary in `src/bin/` that parses options and calls it.
//! [`translation`] is the pipeline the sequence-to-sequence experiments share.

pub mod common;
pub mod reader;
pub mod score_functions;
pub mod seq2seq_length;
pub mod soft_vs_hard;
pub mod training;
pub mod transformer;
pub mod translation;
