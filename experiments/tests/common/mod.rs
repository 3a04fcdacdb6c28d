//! What the end-to-end tests share: running a binary on procedural shapes into a fresh
//! folder, checking that bad settings are one-line errors, and reading a results folder
//! for a byte-for-byte comparison.

#![allow(dead_code)] // each test file uses its own part

pub mod saved;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh, empty directory for one test, removed when the test ends (when the returned
/// guard is dropped).
pub fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("attention-lab-{name}-"))
        .tempdir()
        .unwrap()
}

/// Runs the experiment binary `bin` (named `experiment`) with `--task shapes` and `args`
/// into a fresh `attention-lab-<experiment>-<name>` folder under the temporary directory;
/// returns its `shapes` results folder, success and stderr.
pub fn run_on_shapes(
    bin: &str,
    experiment: &str,
    name: &str,
    args: &[&str],
) -> (PathBuf, bool, String) {
    let out = std::env::temp_dir().join(format!("attention-lab-{experiment}-{name}"));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(bin)
        .args(["--task", "shapes", "--out"])
        .arg(&out)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("the {experiment} binary runs: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (out.join("shapes"), output.status.success(), stderr)
}

/// Each `(args, field)`: the smoke preset with `args` fails with one line of stderr that
/// names `field`, and no panic; `run` is the test file's runner.
pub fn assert_one_line_errors_naming_the_field(
    run: impl Fn(&str, &[&str]) -> (PathBuf, bool, String),
    cases: &[(&[&str], &str)],
) {
    for &(args, field) in cases {
        let mut argv = vec!["--preset", "smoke"];
        argv.extend_from_slice(args);
        let (_, ok, stderr) = run("bad", &argv);
        assert!(!ok, "{args:?} ran");
        assert!(stderr.contains(field), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// Every file of a results folder but `timings.csv` (wall clock), sorted by name, with its
/// bytes: what two runs that must agree byte for byte are compared on.
pub fn result_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.ends_with("timings.csv"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Asserts that two results folders hold the same files with the same bytes
/// (`timings.csv` aside); `what` says what the second one went through.
pub fn assert_same_results(expected: &Path, got: &Path, what: &str) {
    let (a, b) = (result_files(expected), result_files(got));
    assert!(a.len() > 3, "{} holds too little", expected.display());
    let names =
        |files: &[(String, Vec<u8>)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{what}: other files");
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs {what}");
    }
}

/// Runs `bin`'s smoke preset `tries` times with no fetched data into a fresh folder: each
/// must fail with the hint to fetch it, and leave no checkpoints behind in `task`'s folder.
pub fn assert_missing_data_says_fetch(bin: &str, experiment: &str, task: &str, tries: usize) {
    let out = std::env::temp_dir().join(format!("attention-lab-{experiment}-nodata"));
    let _ = std::fs::remove_dir_all(&out);
    for _ in 0..tries {
        let output = Command::new(bin)
            .args(["--preset", "smoke", "--data-dir", "/nonexistent", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("run scripts/fetch-data first"), "{stderr}");
        assert!(!out.join(task).join("checkpoints").exists());
    }
}
