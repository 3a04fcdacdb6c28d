//! Results do not move: each experiment's smoke preset (with more steps, so the models
//! learn something) must write CSVs byte-identical to `tests/reference/`, which the code
//! before the experiments layer was redesigned wrote with the same settings:
//!
//! ```text
//! seq2seq-length  --preset smoke --steps 20                  --out tests/reference/seq2seq-length
//! score-functions --preset smoke --steps 20                  --out tests/reference/score-functions
//! score-functions --preset smoke --steps 20 --local-window 2 --out tests/reference/score-functions-local
//! soft-vs-hard    --preset smoke --steps 20                  --out tests/reference/soft-vs-hard
//! transformer     --preset smoke --steps 20                  --out tests/reference/transformer
//! reader          --preset smoke --steps 10                  --out tests/reference/reader
//! ```
//!
//! (wall-clock files, `timings.csv` and `cost.csv`, left out). `soft-vs-hard`'s were written
//! again when the training loop began drawing each step's samples from a generator seeded
//! by the step (so a resumed run replays them); the deterministic experiments did not move. The smoke models are small
//! enough (every product's inner dimension under 512) that gemm sums them the same way on
//! any x86-64 CPU, so the bytes hold across machines, not only on the one that wrote them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `bin` with `args` into a fresh folder and returns it.
fn run(bin: &str, name: &str, args: &[&str]) -> PathBuf {
    let out = std::env::temp_dir().join(format!("attention-lab-reference-{name}"));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(bin)
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("the experiment binary runs");
    assert!(
        output.status.success(),
        "{name} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Every reference CSV of `name` is present in `out` with the same bytes.
fn assert_same_csvs(name: &str, out: &Path) {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference")
        .join(name);
    let mut compared = 0;
    for task in std::fs::read_dir(&reference).unwrap() {
        let task = task.unwrap().path();
        for file in std::fs::read_dir(&task).unwrap() {
            let file = file.unwrap().path();
            let written = out
                .join(task.file_name().unwrap())
                .join(file.file_name().unwrap());
            let expected = std::fs::read(&file).unwrap();
            let actual =
                std::fs::read(&written).unwrap_or_else(|e| panic!("{}: {e}", written.display()));
            assert!(
                expected == actual,
                "{} differs from {}",
                written.display(),
                file.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 1, "{name}: no reference files");
}

#[test]
fn seq2seq_length_smoke_matches_the_reference() {
    let out = run(
        env!("CARGO_BIN_EXE_seq2seq-length"),
        "seq2seq-length",
        &["--preset", "smoke", "--set", "steps=20"],
    );
    assert_same_csvs("seq2seq-length", &out);
}

#[test]
fn score_functions_smoke_matches_the_reference() {
    let bin = env!("CARGO_BIN_EXE_score-functions");
    let out = run(
        bin,
        "score-functions",
        &["--preset", "smoke", "--set", "steps=20"],
    );
    assert_same_csvs("score-functions", &out);
    let local = [
        "--preset",
        "smoke",
        "--set",
        "steps=20",
        "--set",
        "local_window=2",
    ];
    let out = run(bin, "score-functions-local", &local);
    assert_same_csvs("score-functions-local", &out);
}

#[test]
fn soft_vs_hard_smoke_matches_the_reference() {
    let out = run(
        env!("CARGO_BIN_EXE_soft-vs-hard"),
        "soft-vs-hard",
        &["--preset", "smoke", "--set", "steps=20"],
    );
    assert_same_csvs("soft-vs-hard", &out);
}

#[test]
fn transformer_smoke_matches_the_reference() {
    let out = run(
        env!("CARGO_BIN_EXE_transformer"),
        "transformer",
        &["--preset", "smoke", "--set", "steps=20"],
    );
    assert_same_csvs("transformer", &out);
}

#[test]
fn reader_smoke_matches_the_reference() {
    let out = run(
        env!("CARGO_BIN_EXE_reader"),
        "reader",
        &["--preset", "smoke", "--set", "steps=10"],
    );
    assert_same_csvs("reader", &out);
}
