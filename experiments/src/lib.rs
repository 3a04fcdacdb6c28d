//! The experiments of attention-lab, each one type implementing [`experiment::Experiment`]
//! and one line in `src/bin/` that hands it to [`cli::main`].
//!
//! - The framework: [`experiment`] (the trait, cells, presets), [`cli`] (the one command
//!   line), [`overrides`] (`--set` and the field list of `--help`), [`recorder`] (the one
//!   writer of results), [`run`] (which cells, continuing, merging), [`training`] (the one
//!   training loop), [`checkpoint`] (its saved state
//!   and the signals that ask for it), [`reinforce`], [`config_file`],
//!   [`validate`].
//! - Shared pipelines: [`seq2seq`] (task, data, decoding, scoring of the four
//!   sequence-to-sequence experiments); the reader's lives in [`reader`]; [`vision`] (glyphs and
//!   image tensors of the image experiments).
//! - [`bench_timing`]: the timing helpers of the `bench-*` binaries.
//! - Trained models as files: [`saved_model`] (`--save-models`, and the `translate`,
//!   `answer` and `caption` commands that load them).
//! - The experiments: [`seq2seq_length`], [`score_functions`], [`soft_vs_hard`],
//!   [`transformer`], [`reader`], [`captioning`], [`text_to_image`], [`glimpses`].

pub mod bench_timing;
pub mod captioning;
pub mod checkpoint;
pub mod cli;
pub mod config_file;
pub mod experiment;
pub mod glimpses;
pub mod overrides;
pub mod reader;
pub mod recorder;
pub mod reinforce;
pub mod resume;
pub mod run;
pub mod saved_model;
pub mod score_functions;
pub mod seq2seq;
pub mod seq2seq_length;
pub mod soft_vs_hard;
pub mod text_to_image;
pub mod training;
pub mod transformer;
pub mod validate;
pub mod vision;
