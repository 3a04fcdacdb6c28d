//! Cells as the interface: `--list-cells`, `--cells` into parts from several processes at
//! once, and `--merge`, whose folder is byte for byte a single run's (`timings.csv` aside).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_soft-vs-hard");
const ARGS: [&str; 6] = [
    "--preset",
    "smoke",
    "--set",
    "seeds=[1,2,3]",
    "--set",
    "steps=30",
];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("attention-lab-cells-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(out: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(ARGS)
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn list_cells_prints_one_line_per_cell_in_run_order() {
    let output = run(&scratch("list"), &["--list-cells"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "index\tvariant\ttrain_max_len\tseed\tcost");
    assert_eq!(lines[1], "0\tsoft\t4\t1\t4");
    assert_eq!(lines[4], "3\thard\t4\t1\t4");
    assert_eq!(lines.len(), 7);
}

#[test]
fn cells_run_apart_and_merged_are_byte_identical_to_one_run() {
    let single = scratch("single");
    assert!(run(&single, &[]).status.success());
    let out = scratch("parts");
    // Nothing to merge yet.
    let early = run(&out, &["--merge"]);
    assert!(!early.status.success());
    assert!(
        stderr(&early).contains("holds no cells"),
        "{}",
        stderr(&early)
    );
    // Four processes at once, one thread each, then the merge.
    let workers: Vec<_> = ["0-1", "2,3", "5"]
        .iter()
        .map(|cells| {
            Command::new(BIN)
                .args(ARGS)
                .args(["--cells", cells, "--threads", "1", "--out"])
                .arg(&out)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut worker in workers {
        assert!(worker.wait().unwrap().success());
    }
    let missing = run(&out, &["--merge"]);
    assert!(!missing.status.success());
    let message = stderr(&missing);
    assert!(
        message.contains("cells 4 of 6 are not finished (run them with --cells 4)"),
        "{message}"
    );
    assert!(run(&out, &["--cells", "4"]).status.success());
    let merged = run(&out, &["--merge"]);
    assert!(merged.status.success(), "{}", stderr(&merged));
    common::assert_same_results(
        &single.join("reverse"),
        &out.join("reverse"),
        "after the merge",
    );
    assert!(!out.join("reverse").join("checkpoints").exists());
}

#[test]
fn a_cell_that_does_not_exist_is_refused() {
    let output = run(&scratch("bad"), &["--cells", "2,9"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("--cells: no cell 9; this run has cells 0-5"),
        "{message}"
    );
    assert_eq!(message.trim().lines().count(), 1, "{message}");
}

#[test]
fn every_preset_of_every_experiment_lists_its_cells() {
    // --list-cells validates the configuration: a preset that cannot run fails here.
    let binaries = [
        env!("CARGO_BIN_EXE_seq2seq-length"),
        env!("CARGO_BIN_EXE_score-functions"),
        env!("CARGO_BIN_EXE_soft-vs-hard"),
        env!("CARGO_BIN_EXE_transformer"),
        env!("CARGO_BIN_EXE_reader"),
        env!("CARGO_BIN_EXE_captioning"),
        env!("CARGO_BIN_EXE_text-to-image"),
        env!("CARGO_BIN_EXE_glimpses"),
    ];
    for bin in binaries {
        for preset in ["quick", "paper", "smoke"] {
            let output = Command::new(bin)
                .args(["--preset", preset, "--list-cells"])
                .output()
                .unwrap();
            let listed = String::from_utf8_lossy(&output.stdout).lines().count();
            assert!(
                output.status.success() && listed > 1,
                "{bin} --preset {preset}: {}",
                stderr(&output)
            );
        }
    }
}

/// The long presets list their cells (12 for seq2seq-length: 2 lengths × 2 models × 3
/// seeds; 19 for the reader: the baselines and 6 readers × 3 seeds; 9 for captioning: 3
/// variants × 3 seeds; 18 for glimpses: RAM-6, FC-256 and the CNN × 2 canvases × 3
/// seeds) without reading data; a task or experiment without one is a one-line error
/// naming both.
#[test]
fn the_long_presets_list_their_cells_and_the_others_say_they_have_none() {
    for (bin, task, cells) in [
        (env!("CARGO_BIN_EXE_seq2seq-length"), "bible-en-es", 12),
        (env!("CARGO_BIN_EXE_seq2seq-length"), "tsv:pairs.tsv", 12),
        (env!("CARGO_BIN_EXE_reader"), "bible-cloze", 19),
        (env!("CARGO_BIN_EXE_captioning"), "scenes", 9),
        (env!("CARGO_BIN_EXE_glimpses"), "digits", 18),
    ] {
        let output = Command::new(bin)
            .args(["--preset", "long", "--task", task, "--list-cells"])
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&output.stdout).lines().count();
        assert!(output.status.success(), "{bin} {task}: {}", stderr(&output));
        assert_eq!(listed, cells + 1, "{bin} {task}: header and cells");
    }
    for (bin, name, task) in [
        (
            env!("CARGO_BIN_EXE_seq2seq-length"),
            "seq2seq-length",
            "reverse",
        ),
        (env!("CARGO_BIN_EXE_reader"), "reader", "synthetic"),
        (env!("CARGO_BIN_EXE_captioning"), "captioning", "shapes"),
        (env!("CARGO_BIN_EXE_glimpses"), "glimpses", "fashion"),
        (
            env!("CARGO_BIN_EXE_transformer"),
            "transformer",
            "bible-en-es",
        ),
    ] {
        let output = Command::new(bin)
            .args(["--preset", "long", "--task", task, "--list-cells"])
            .output()
            .unwrap();
        let message = stderr(&output);
        assert!(!output.status.success(), "{name} {task}");
        assert!(
            message.contains(&format!("{name} has no long preset for task {task}")),
            "{message}"
        );
        assert_eq!(message.trim().lines().count(), 1, "{message}");
    }
}
