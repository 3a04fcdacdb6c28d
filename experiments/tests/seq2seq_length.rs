//! End to end: a tiny run learns, runs are reproducible, bad input gets a clear error, and
//! the other RNN experiments write what they promise.

use std::path::Path;
use std::process::Command;

use datasets::synthetic::SyntheticTask;
use experiments::experiment::Preset;
use experiments::run;
use experiments::score_functions::ScoreFunctions;
use experiments::seq2seq::{Config, TaskSpec};
use experiments::seq2seq_length::Seq2SeqLength;
use experiments::soft_vs_hard::SoftVsHard;
use plots::read_metrics_csv;

mod common;
use common::scratch;

/// Burn seeds one random generator per backend and process, and the test harness runs tests
/// on parallel threads: runs that train hold this lock so their random draws do not interleave.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn overall(dir: &Path, model: &str, metric: &str) -> f64 {
    let rows = read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    rows.iter()
        .find(|r| r.model == model && r.metric == metric && r.len_lo == 0)
        .unwrap_or_else(|| panic!("no overall {metric} row for {model}"))
        .value
}

/// Copy of length 5 must reach 95% exact match within seconds of training.
#[test]
fn tiny_rnnsearch_learns_to_copy_length_5() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let task = TaskSpec::Synthetic(SyntheticTask::Copy);
    let config = Config {
        seeds: vec![1],
        train_max_lens: vec![5],
        min_len: 5,
        test_max_len: 5,
        train_size: 4000,
        test_size: 200,
        steps: 250,
        batch_size: 32,
        learning_rate: 1e-2,
        d_embed: 16,
        d_encoder: 32,
        d_decoder: 64,
        d_attention: 32,
        ..Config::preset(Preset::Quick, &task)
    };
    let tmp = scratch("copy");
    let out = tmp.path();
    let dir = run::run::<Seq2SeqLength>(&config, &task, Path::new("data"), out).unwrap();
    assert_eq!(dir, out.join("copy"), "results go to OUT/<task>");
    let em = overall(&dir, "RNNsearch", "exact_match");
    assert!(em >= 95.0, "RNNsearch copy-5 exact match {em}");
    for file in [
        "config.json",
        "metrics.csv",
        "timings.csv",
        "alignment.csv",
        "exact_match.png",
        "alignment.png",
    ] {
        assert!(dir.join(file).is_file(), "{file} written");
    }
}

/// The same configuration and seed give a byte-identical metrics.csv; another seed does not.
#[test]
fn same_seed_same_metrics_csv() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let task = TaskSpec::Synthetic(SyntheticTask::Reverse);
    let config = Config::preset(Preset::Smoke, &task);
    let metrics = |config: &Config, name: &str| {
        let tmp = scratch(&format!("det-{name}"));
        let out = tmp.path();
        let dir = run::run::<Seq2SeqLength>(config, &task, Path::new("data"), out).unwrap();
        std::fs::read(dir.join("metrics.csv")).unwrap()
    };
    let (a, b) = (metrics(&config, "a"), metrics(&config, "b"));
    assert_eq!(
        a, b,
        "metrics.csv differs between two runs with the same seed"
    );
    let other = Config {
        seeds: vec![2],
        ..config.clone()
    };
    assert_ne!(
        a,
        metrics(&other, "c"),
        "a different seed should train a different model"
    );
}

/// Runs `seq2seq-length` and returns its exit code and stderr.
fn run_cli(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seq2seq-length"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `args` fail without a panic, on one `error:` line that names `culprit` (and states an
/// operating-system cause at most once).
fn assert_clean_error(args: &[&str], culprit: &str) {
    let (code, stderr) = run_cli(args);
    assert!(
        matches!(code, Some(c) if c != 0 && c != 101),
        "{args:?} should fail cleanly, exited with {code:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{args:?}: no error line in {stderr}"));
    assert!(
        line.contains(culprit),
        "{args:?}: the error line should name {culprit:?}, got: {stderr}"
    );
    assert!(
        line.matches("(os error").count() <= 1,
        "{args:?}: the cause is repeated: {line}"
    );
}

#[test]
fn bad_input_gets_a_one_line_error_naming_the_culprit() {
    let tmp = scratch("cli");
    let dir = tmp.path();
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    // A missing data file.
    assert_clean_error(
        &[
            "--task",
            "tsv:/nonexistent/pairs.tsv",
            "--preset",
            "smoke",
            "--out",
            out,
        ],
        "/nonexistent/pairs.tsv",
    );
    // A malformed data file: the line is named.
    let tsv = dir.join("bad.tsv");
    std::fs::write(&tsv, "a b\tc d\nno tab here\n").unwrap();
    assert_clean_error(
        &[
            "--task",
            &format!("tsv:{}", tsv.display()),
            "--preset",
            "smoke",
            "--out",
            out,
        ],
        "bad.tsv:2",
    );
    // A config file that is missing, one that is not JSON, and one with an unknown field.
    let cfg = dir.join("bad.json");
    assert_clean_error(
        &["--config", cfg.to_str().unwrap(), "--out", out],
        "bad.json",
    );
    std::fs::write(&cfg, "{ not json").unwrap();
    assert_clean_error(
        &["--config", cfg.to_str().unwrap(), "--out", out],
        "bad.json",
    );
    let task = TaskSpec::Synthetic(SyntheticTask::Reverse);
    let mut value = serde_json::to_value(Config::preset(Preset::Smoke, &task)).unwrap();
    value["stepz"] = 3.into();
    std::fs::write(&cfg, value.to_string()).unwrap();
    assert_clean_error(&["--config", cfg.to_str().unwrap(), "--out", out], "stepz");
    // The same unknown field through --set, and a bad value.
    assert_clean_error(
        &["--preset", "smoke", "--set", "stepz=3", "--out", out],
        "stepz",
    );
    assert_clean_error(
        &["--preset", "smoke", "--set", "steps=0", "--out", out],
        "steps",
    );
    assert_clean_error(
        &[
            "--preset",
            "smoke",
            "--set",
            "train_max_lens=[]",
            "--out",
            out,
        ],
        "train_max_lens",
    );
    // Unknown task and preset.
    assert_clean_error(&["--task", "translate-klingon"], "unknown task");
    assert_clean_error(&["--preset", "huge"], "huge");
    // Bible data not fetched.
    assert_clean_error(
        &[
            "--task",
            "bible-en-es",
            "--data-dir",
            dir.to_str().unwrap(),
            "--out",
            out,
        ],
        "scripts/fetch-data",
    );
}

/// The other two RNN experiments run end to end on their smallest preset and write what
/// they promise.
#[test]
fn score_functions_and_soft_vs_hard_write_their_outputs() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let task = TaskSpec::Synthetic(SyntheticTask::Reverse);
    let config = experiments::score_functions::Config::preset(Preset::Smoke, &task);
    let scores_tmp = scratch("scores");
    let dir =
        run::run::<ScoreFunctions>(&config, &task, Path::new("data"), scores_tmp.path()).unwrap();
    let rows = read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    for score in [
        "content",
        "additive",
        "location",
        "general",
        "dot",
        "scaled-dot",
    ] {
        assert!(rows.iter().any(|r| r.model == score), "{score} scored");
    }
    assert!(dir.join("alignment-grid.png").is_file());

    let config = experiments::soft_vs_hard::Config::preset(Preset::Smoke, &task);
    let hard_tmp = scratch("hard");
    let dir = run::run::<SoftVsHard>(&config, &task, Path::new("data"), hard_tmp.path()).unwrap();
    let curve = plots::read_curve_csv(&dir.join("learning_curve.csv")).unwrap();
    assert_eq!(
        curve.iter().filter(|r| r.model == "hard").count(),
        config.base.steps
    );
    for file in [
        "learning_curve.png",
        "alignment-grid.png",
        "exact_match.png",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
}

/// `score-functions --set local_window=D` reaches the model: the run records it in
/// config.json and its alignments differ from global attention's on the same seed; with
/// Bahdanau's arrangement it is refused, naming the field.
#[test]
fn score_functions_local_window_reaches_the_model() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = scratch("local-window");
    let dir = tmp.path();
    // score-functions on its smoke preset with the dot score, writing to dir/name.
    let score_functions = |name: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_score-functions"))
            .args(["--preset", "smoke", "--set", r#"scores=["dot"]"#, "--out"])
            .arg(dir.join(name))
            .args(extra)
            .output()
            .unwrap()
    };
    let run = |name: &str, extra: &[&str]| {
        let output = score_functions(name, extra);
        assert!(
            output.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        dir.join(name).join("toy-translation")
    };
    let global = run("global", &[]);
    let local = run("local", &["--set", "local_window=1"]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(local.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["config"]["local_window"], 1);
    assert_eq!(config["config"]["scores"], serde_json::json!(["dot"]));
    let rows = read_metrics_csv(&local.join("metrics.csv")).unwrap();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.model == "dot-local1"),
        "local-p rows are named for it"
    );
    let alignment = |dir: &Path| std::fs::read_to_string(dir.join("alignment.csv")).unwrap();
    assert_ne!(alignment(&global), alignment(&local));

    let refused = score_functions(
        "refused",
        &["--set", "arrangement=bahdanau", "--set", "local_window=1"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("local_window"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
