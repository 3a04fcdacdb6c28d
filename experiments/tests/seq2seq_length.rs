//! End to end: a tiny run learns, runs are reproducible, bad input gets a clear error.

use std::path::{Path, PathBuf};
use std::process::Command;

use experiments::seq2seq_length::run;
use experiments::translation::{Config, TaskSpec};
use plots::read_metrics_csv;

/// Burn seeds one random generator per backend and process, and the test harness runs tests
/// on parallel threads: runs that train hold this lock so their random draws do not interleave.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("attention-lab-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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
    let task = TaskSpec::Synthetic(datasets::synthetic::SyntheticTask::Copy);
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
        ..Config::preset("quick", &task).unwrap()
    };
    let out = scratch("copy");
    let dir = run(&config, &task, Path::new("data"), &out).unwrap();
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
    let task = TaskSpec::Synthetic(datasets::synthetic::SyntheticTask::Reverse);
    let config = Config::preset("smoke", &task).unwrap();
    let runs: Vec<Vec<u8>> = ["a", "b"]
        .iter()
        .map(|name| {
            let dir = run(
                &config,
                &task,
                Path::new("data"),
                &scratch(&format!("det-{name}")),
            )
            .unwrap();
            std::fs::read(dir.join("metrics.csv")).unwrap()
        })
        .collect();
    assert_eq!(
        runs[0], runs[1],
        "metrics.csv differs between two runs with the same seed"
    );
    let other = Config {
        seeds: vec![2],
        ..config.clone()
    };
    let dir = run(&other, &task, Path::new("data"), &scratch("det-c")).unwrap();
    let third = std::fs::read(dir.join("metrics.csv")).unwrap();
    assert_ne!(
        runs[0], third,
        "a different seed should train a different model"
    );
}

fn run_cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seq2seq-length"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_clean_error(args: &[&str], must_contain: &str) {
    let (ok, stderr) = run_cli(args);
    assert!(!ok, "{args:?} should fail");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(
        stderr.contains(must_contain),
        "{args:?}: error should mention {must_contain:?}, got: {stderr}"
    );
}

#[test]
fn bad_input_gets_a_one_line_error_naming_the_culprit() {
    let dir = scratch("cli");
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
    // A config file that is not JSON, and one with an unknown field.
    let cfg = dir.join("bad.json");
    std::fs::write(&cfg, "{ not json").unwrap();
    assert_clean_error(
        &["--config", cfg.to_str().unwrap(), "--out", out],
        "bad.json",
    );
    let task = TaskSpec::Synthetic(datasets::synthetic::SyntheticTask::Reverse);
    let mut value = serde_json::to_value(Config::preset("smoke", &task).unwrap()).unwrap();
    value["stepz"] = 3.into();
    std::fs::write(&cfg, value.to_string()).unwrap();
    assert_clean_error(&["--config", cfg.to_str().unwrap(), "--out", out], "stepz");
    // A bad value.
    assert_clean_error(
        &["--preset", "smoke", "--steps", "0", "--out", out],
        "steps",
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

/// The other two sequence-to-sequence experiments run end to end on their smallest preset
/// and write what they promise.
#[test]
fn score_functions_and_soft_vs_hard_write_their_outputs() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let task = TaskSpec::Synthetic(datasets::synthetic::SyntheticTask::Reverse);
    let config = experiments::score_functions::Config::preset("smoke", &task).unwrap();
    let dir =
        experiments::score_functions::run(&config, &task, Path::new("data"), &scratch("scores"))
            .unwrap();
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

    let config = experiments::soft_vs_hard::Config::preset("smoke", &task).unwrap();
    let dir = experiments::soft_vs_hard::run(&config, &task, Path::new("data"), &scratch("hard"))
        .unwrap();
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

/// `score-functions --local-window D` reaches the model: the run records it in config.json
/// and its alignments differ from global attention's on the same seed; with Bahdanau's
/// arrangement it is refused, naming the field.
#[test]
fn score_functions_local_window_flag_reaches_the_model() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("local-window");
    // score-functions on its smoke preset with the dot score, writing to dir/name.
    let score_functions = |name: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_score-functions"))
            .args(["--preset", "smoke", "--scores", "dot", "--out"])
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
    let local = run("local", &["--local-window", "1"]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(local.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["config"]["local_window"], 1);
    let rows = read_metrics_csv(&local.join("metrics.csv")).unwrap();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.model == "dot-local1"),
        "local-p rows are named for it"
    );
    let alignment = |dir: &Path| std::fs::read_to_string(dir.join("alignment.csv")).unwrap();
    assert_ne!(alignment(&global), alignment(&local));

    let refused = score_functions(
        "refused",
        &["--arrangement", "bahdanau", "--local-window", "1"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("local_window"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
