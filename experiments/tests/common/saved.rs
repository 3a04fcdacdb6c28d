//! What the tests of saved models share: one lock around in-process training, fresh
//! folders, running a command with standard input, its one-line errors, and a smoke run
//! with `--save-models`.

use std::path::{Path, PathBuf};
use std::process::Command;

use experiments::experiment::CellContext;

/// Burn seeds one random generator per backend and process, and tests run on parallel
/// threads: whatever trains or builds a model holds this lock.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn lock() -> std::sync::MutexGuard<'static, ()> {
    TRAINING.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn with_dir(dir: &Path) -> CellContext {
    CellContext {
        model_dir: Some(dir.to_path_buf()),
    }
}

/// Runs a binary; returns success, stdout and stderr.
pub fn run(bin: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin} runs: {e}"));
    // A command that fails on its arguments exits without reading its input: the pipe
    // it closed is not the test's concern, its exit status and stderr are.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    let output = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        output.status.success(),
        text(output.stdout),
        text(output.stderr),
    )
}

/// A one-line error on stderr that names every one of `names`, and no panic.
pub fn assert_one_line_error(ok: bool, stderr: &str, names: &[&str]) {
    assert!(!ok, "succeeded: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for name in names {
        assert!(stderr.contains(name), "{name} not in: {stderr}");
    }
}

/// A command's output: exit status 1, one line of stderr naming every one of `names`, and
/// no panic.
pub fn assert_failed_with_one_line(output: &std::process::Output, names: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_one_line_error(false, &stderr, names);
}

/// Runs an experiment's smoke preset with `--save-models` into `out`; returns the folder of
/// `task`.
pub fn smoke_run(bin: &str, out: &Path, task: &str, args: &[&str]) -> PathBuf {
    let mut argv = vec!["--preset", "smoke", "--save-models", "--out"];
    argv.push(out.to_str().unwrap());
    argv.extend_from_slice(args);
    let (ok, _, stderr) = run(bin, &argv, "");
    assert!(ok, "{stderr}");
    out.join(task)
}
