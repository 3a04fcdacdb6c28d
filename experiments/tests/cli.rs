//! The one command line: every configuration field of every experiment can be set with
//! `--set` and arrives in the configuration that `config.json` records; unknown keys and
//! ill-typed values are errors that say what is valid.

use std::process::Command;

use clap::Parser;
use experiments::captioning::Captioning;
use experiments::cli::{Args, resolve};
use experiments::experiment::Experiment;
use experiments::overrides::leaf_paths;
use experiments::reader::ReaderExperiment;
use experiments::score_functions::ScoreFunctions;
use experiments::seq2seq_length::Seq2SeqLength;
use experiments::soft_vs_hard::SoftVsHard;
use experiments::transformer::TransformerExperiment;
use serde_json::{Value, json};

/// A value of the same type as `current` but different from it (strings that must parse
/// get a valid alternative by field name).
fn changed(path: &str, current: &Value) -> Value {
    let field = path.rsplit('.').next().unwrap();
    match current {
        Value::Bool(b) => json!(!b),
        Value::Number(n) if n.is_u64() => json!(n.as_u64().unwrap() + 1),
        Value::Number(n) => json!(n.as_f64().unwrap() * 0.5 + 0.125),
        Value::String(_) => json!(match field {
            "task" => match current.as_str() {
                Some("synthetic") => "bible-cloze",
                Some("scenes") => "shapes",
                _ => "sort",
            },
            "cell" => "lstm",
            "arrangement" => "bahdanau",
            "encoder_tuning" => "fine-tune",
            "learning_rate_schedule" => "cosine",
            _ => "another",
        }),
        Value::Array(items) => match items.first() {
            Some(Value::Number(n)) => json!([n.as_u64().unwrap() + 7]),
            // A list of names (scores, readers): the last one alone.
            Some(_) => json!([items.last().unwrap()]),
            // An empty list: of names where the field holds names.
            None if field == "exclude_classes" => json!(["another"]),
            None => json!([3]),
        },
        other => panic!("{path}: unexpected value {other}"),
    }
}

/// Sets every field of `E`'s smoke configuration to a new value, one `--set` each, and
/// checks the resolved configuration holds every one of them.
fn every_field_reaches_the_config<E: Experiment>() {
    let args = Args::try_parse_from(["x", "--preset", "smoke"]).unwrap();
    let (defaults, _) = resolve::<E>(&args).unwrap();
    let defaults = serde_json::to_value(defaults).unwrap();
    let paths = leaf_paths(&defaults);
    let mut argv: Vec<String> = vec!["x".into(), "--preset".into(), "smoke".into()];
    let mut expected = Vec::new();
    for path in &paths {
        let value = changed(path, &defaults.pointer(&pointer(path)).unwrap().clone());
        argv.push("--set".into());
        argv.push(format!("{path}={value}"));
        expected.push((path, value));
    }
    let args = Args::try_parse_from(&argv).unwrap();
    let (config, task) = resolve::<E>(&args).unwrap_or_else(|e| panic!("{}: {e:#}", E::NAME));
    let recorded = serde_json::to_value(config).unwrap();
    for (path, value) in expected {
        assert_eq!(
            recorded.pointer(&pointer(path)),
            Some(&value),
            "{}: --set {path} did not arrive",
            E::NAME
        );
    }
    // The task parsed from the configuration is the one set.
    use experiments::experiment::Task;
    let task_path = paths.iter().find(|p| p.ends_with("task")).unwrap();
    assert_eq!(
        Value::String(task.arg()),
        recorded.pointer(&pointer(task_path)).unwrap().clone()
    );
    assert!(paths.len() >= 8, "{}: only {} fields", E::NAME, paths.len());
}

/// `base.steps` as a JSON pointer, `/base/steps`.
fn pointer(path: &str) -> String {
    format!("/{}", path.replace('.', "/"))
}

#[test]
fn every_field_of_every_experiment_can_be_set() {
    every_field_reaches_the_config::<Seq2SeqLength>();
    every_field_reaches_the_config::<ScoreFunctions>();
    every_field_reaches_the_config::<SoftVsHard>();
    every_field_reaches_the_config::<TransformerExperiment>();
    every_field_reaches_the_config::<ReaderExperiment>();
    every_field_reaches_the_config::<Captioning>();
}

#[test]
fn a_field_name_alone_and_a_task_flag_reach_the_config() {
    let args = Args::try_parse_from([
        "x",
        "--task",
        "copy",
        "--set",
        "steps=9",
        "--set",
        "cell=lstm",
        "--set",
        "scores=[\"dot\"]",
    ])
    .unwrap();
    let (config, _) = resolve::<ScoreFunctions>(&args).unwrap();
    let value = serde_json::to_value(config).unwrap();
    assert_eq!(value["base"]["steps"], json!(9));
    assert_eq!(value["base"]["cell"], json!("lstm"));
    assert_eq!(value["base"]["task"], json!("copy"));
    assert_eq!(value["scores"], json!(["dot"]));
}

/// Runs a binary and returns (exit code, stderr).
fn run(bin: &str, args: &[&str]) -> (i32, String) {
    let output = Command::new(bin).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_overrides_are_one_line_errors_that_say_what_is_valid() {
    let bin = env!("CARGO_BIN_EXE_seq2seq-length");
    let (code, stderr) = run(bin, &["--set", "stepz=3", "--print-config"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("unknown configuration field 'stepz'"),
        "{stderr}"
    );
    assert!(stderr.contains("steps"), "lists the valid fields: {stderr}");
    let (code, stderr) = run(bin, &["--set", "steps=many", "--print-config"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("invalid type"), "{stderr}");
    let (code, stderr) = run(bin, &["--set", "cell=rnn", "--print-config"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("unknown variant `rnn`"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn help_lists_every_field_with_its_default_and_doc() {
    let output = Command::new(env!("CARGO_BIN_EXE_score-functions"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let args = Args::try_parse_from(["x"]).unwrap();
    let (config, _) = resolve::<ScoreFunctions>(&args).unwrap();
    for path in leaf_paths(&serde_json::to_value(config).unwrap()) {
        assert!(
            help.contains(&format!("  {path} = ")),
            "{path} missing:\n{help}"
        );
    }
    assert!(help.contains("base.steps = 400\n      Optimizer steps per training run."));
    // The scores are listed from the registry.
    assert!(help.contains("scaled-dot (Vaswani et al. 2017"), "{help}");
}

#[test]
fn repeated_entries_and_lengths_past_the_test_set_are_refused() {
    let bin = env!("CARGO_BIN_EXE_score-functions");
    let cases: [(&[&str], &str); 3] = [
        (&["--set", "seeds=[1,1]"], "'seeds' lists 1 twice"),
        (
            &["--set", r#"scores=["dot","dot"]"#],
            "'scores' lists Dot twice",
        ),
        (
            &["--set", "train_max_lens=[10]"],
            "has 10, above test_max_len 8",
        ),
    ];
    for (args, message) in cases {
        let mut argv = vec!["--preset", "smoke", "--out", "/nonexistent/never-written"];
        argv.extend_from_slice(args);
        let (code, stderr) = run(bin, &argv);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn a_rerun_into_the_same_folder_leaves_nothing_of_the_earlier_run() {
    let out = std::env::temp_dir().join("attention-lab-cli-rerun");
    let _ = std::fs::remove_dir_all(&out);
    let out_arg = out.to_str().unwrap();
    let bin = env!("CARGO_BIN_EXE_transformer");
    let (code, stderr) = run(bin, &["--preset", "smoke", "--out", out_arg]);
    assert_eq!(code, 0, "{stderr}");
    let dir = out.join("reverse");
    assert!(dir.join("cost.csv").exists() && dir.join("cost-train_step.png").exists());
    let (code, stderr) = run(
        bin,
        &[
            "--preset",
            "smoke",
            "--set",
            "cost_lengths=[]",
            "--out",
            out_arg,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.join("metrics.csv").exists());
    assert!(
        !dir.join("cost.csv").exists(),
        "an earlier run's cost.csv survived"
    );
    assert!(!dir.join("cost-train_step.png").exists());
}

/// `--print-config | head -1` and `--list-cells | head -1`: a reader that closes the pipe
/// before the listing is written ends the command quietly, with success, where `println!`
/// would panic (exit code 101).
#[test]
fn a_listing_into_a_closed_pipe_is_not_a_panic() {
    let bin = env!("CARGO_BIN_EXE_captioning");
    for flag in ["--print-config", "--list-cells"] {
        let mut child = Command::new(bin)
            .arg(flag)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end at once: the listing is written after the process starts.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{flag}: {stderr}");
        assert!(!stderr.contains("panicked"), "{flag}: {stderr}");
    }
}
