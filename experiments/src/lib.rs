//! The experiments of attention-lab. Each has a module with a `Config`, its presets and a
//! `run()`, and a thin binary in `src/bin/` that parses options and calls it.

pub mod common;
pub mod seq2seq_length;
