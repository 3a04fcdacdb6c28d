//! Configuration files and `--set KEY=VALUE` fuzzed through `cli::resolve`, the one path
//! every experiment binary takes (see `docs/fuzzing.md`): random bytes and mutations of
//! each experiment's own configuration (bare, and as a run's `config.json` records it),
//! with random and mutated assignments. For each input `resolve` returns a configuration or
//! an error that is one line naming the file (for the file's faults) or the key (for an
//! assignment's), never panics or hangs, and holds at its peak no more than a small factor
//! times the input's size plus a fixed allowance.
//!
//! `FUZZ_CASES=N` sets the number of inputs per experiment (default [`CI_CASES`]).

use std::path::Path;

use clap::Parser;
use experiments::captioning::Captioning;
use experiments::cli::{Args, resolve};
use experiments::experiment::{Experiment, Preset};
use experiments::glimpses::Glimpses;
use experiments::overrides::leaf_paths;
use experiments::reader::ReaderExperiment;
use experiments::score_functions::ScoreFunctions;
use experiments::seq2seq_length::Seq2SeqLength;
use experiments::soft_vs_hard::SoftVsHard;
use experiments::text_to_image::TextToImage;
use experiments::transformer::TransformerExperiment;
use fuzzing::mutate::{Bytes, input, mutated, text_like};
use fuzzing::proptest::collection::vec;
use fuzzing::proptest::prelude::*;
use fuzzing::proptest::sample::select;
use fuzzing::{Scratch, check_one_line, check_peak, fuzz};

fuzzing::install_counting_allocator!();

/// Inputs per experiment in CI.
const CI_CASES: u32 = 20_000;

/// Bytes a resolution may hold beyond its factor times the input: the parsed arguments,
/// the configuration type's own fields and an error message.
const ALLOWANCE: usize = 64 * 1024;

/// Bytes per byte of input: serde_json's 32-byte `Value` per value (at least 2 bytes of
/// text each, `0,`) in vectors that may double, the dotted path of every leaf (`--set`),
/// and the configuration deserialized from the value.
const FACTOR: usize = 64;

/// A `--set` assignment: a field's path, a field name alone or random text, then `=`, then
/// a JSON value, a number of any size, or random text (mutated, half the time).
fn assignment(paths: Vec<String>) -> impl Strategy<Value = String> {
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.rsplit('.').next().unwrap().to_string())
        .collect();
    let key = prop_oneof![
        select(paths),
        select(names),
        text_like("abcdefghijklmnopqrstuvwxyz_.= ", 12)
    ];
    let value = prop_oneof![
        select(vec![
            "1",
            "-1",
            "0",
            "1e309",
            "NaN",
            "true",
            "null",
            "[]",
            "[1,1]",
            "{}",
            "\"\"",
            "lstm",
            "dot",
            "18446744073709551616",
            "[\"dot\",\"dot\"]",
            "{\"a\":1}",
        ])
        .prop_map(str::to_string),
        text_like("0123456789.-e[]{}\",:abc ", 16),
    ];
    let plain = (key, value).prop_map(|(k, v)| format!("{k}={v}"));
    prop_oneof![
        3 => plain.clone(),
        1 => plain.prop_flat_map(|a| mutated(vec![a.into_bytes()], 3))
            .prop_map(|b: Vec<u8>| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// Fuzzes `resolve::<E>` on a configuration file mutated from `E`'s quick preset and up to
/// three assignments.
fn fuzz_config<E: Experiment>() {
    let scratch = Scratch::new(E::NAME);
    let preset = serde_json::to_value(E::preset(Preset::Quick, &E::default_task())).unwrap();
    let recorded =
        serde_json::json!({"config": preset, "run": {"git": "0123abc", "backend": "flex"}});
    let seeds = vec![
        serde_json::to_vec(&preset).unwrap(),
        serde_json::to_vec_pretty(&recorded).unwrap(),
    ];
    let strategy = (input(seeds), vec(assignment(leaf_paths(&preset)), 0..=3));
    let file = "config.json";
    fuzz(
        &format!("config {}", E::NAME),
        CI_CASES,
        strategy,
        |(Bytes(bytes), sets)| {
            let path = scratch.write(file, bytes);
            let mut argv = vec![
                "x".to_string(),
                "--config".to_string(),
                path.display().to_string(),
            ];
            argv.extend(sets.iter().map(|s| format!("--set={s}")));
            let args = Args::try_parse_from(&argv).map_err(|e| format!("{argv:?}: {e}"))?;
            let size = bytes.len() + sets.iter().map(String::len).sum::<usize>();
            let (result, peak) = fuzzing::alloc::peak_bytes(|| resolve::<E>(&args).map(|_| ()));
            if let Err(error) = &result {
                let message = format!("{error:#}");
                check_names_the_file_or_a_key(&message, &path, sets)?;
            }
            check_peak(peak, size, FACTOR, ALLOWANCE)
        },
    );
}

/// An error is one line, and names the file, a field, or one of the assignments: its key (or the
/// whole assignment when it has no `=`) or the path it resolved to, in quotes, control
/// characters escaped.
fn check_names_the_file_or_a_key(
    message: &str,
    path: &Path,
    sets: &[String],
) -> Result<(), String> {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    // A field name alone is named as the path it resolved to, `'base.steps'` for `steps`.
    let keys = sets.iter().flat_map(|s| {
        let key = s.split_once('=').map_or(s.as_str(), |(key, _)| key.trim());
        let key = key.escape_debug();
        [format!("'{key}'"), format!(".{key}'")]
    });
    // The task is checked after the type, as `configuration field 'task'`.
    let named = [file.clone(), "configuration field '".to_string()]
        .into_iter()
        .chain(keys)
        .find(|needle| message.contains(needle.as_str()));
    check_one_line(message, named.as_deref().unwrap_or(&file))
}

#[test]
fn seq2seq_length() {
    fuzz_config::<Seq2SeqLength>();
}

#[test]
fn score_functions() {
    fuzz_config::<ScoreFunctions>();
}

#[test]
fn soft_vs_hard() {
    fuzz_config::<SoftVsHard>();
}

#[test]
fn transformer() {
    fuzz_config::<TransformerExperiment>();
}

#[test]
fn reader() {
    fuzz_config::<ReaderExperiment>();
}

#[test]
fn captioning() {
    fuzz_config::<Captioning>();
}

#[test]
fn text_to_image() {
    fuzz_config::<TextToImage>();
}

#[test]
fn glimpses() {
    fuzz_config::<Glimpses>();
}
