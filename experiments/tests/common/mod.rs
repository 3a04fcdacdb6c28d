//! What the image experiments' end-to-end tests share: running a binary on procedural
//! shapes into a fresh folder, and checking that bad settings are one-line errors.

use std::path::PathBuf;
use std::process::Command;

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
