//! The `bleu` command-line binary: output format, options and errors.

use std::path::Path;
use std::process::{Command, Output};

/// A fresh scratch directory per test, so tests can run in parallel, removed when the test
/// ends (when the returned guard is dropped).
fn scratch_dir(test_name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("metrics-bleu-cli-{test_name}-"))
        .tempdir()
        .unwrap()
}

/// Runs `bleu` with `args` inside `dir` (so error messages show the
/// relative paths given).
fn run_bleu(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bleu"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Asserts a clean failure: the given exit status, a single stderr line
/// containing `needle`, nothing on stdout, and no panic.
fn assert_one_line_error(output: &Output, status: i32, needle: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(status), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
    assert!(!err.contains("panicked"), "stderr: {err}");
    assert!(output.stdout.is_empty());
}

#[test]
fn prints_sacrebleu_summary_line() {
    let tmp = scratch_dir("summary");
    let dir = tmp.path();
    std::fs::write(dir.join("hyp.txt"), "a b c d\nThe cat sat.\n").unwrap();
    std::fs::write(dir.join("ref.txt"), "a b c e\nThe cat sat.\n").unwrap();
    let output = run_bleu(dir, &["hyp.txt", "ref.txt"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    // Value from `sacrebleu ref.txt -i hyp.txt -f text -w 2` (2.4.3).
    assert_eq!(
        stdout(&output),
        "BLEU = 72.31 87.5/83.3/75.0/50.0 (BP = 1.000 ratio = 1.000 hyp_len = 8 ref_len = 8)\n"
    );
}

#[test]
fn score_only_and_smoothing_options() {
    let tmp = scratch_dir("options");
    let dir = tmp.path();
    std::fs::write(dir.join("h"), "a b c d").unwrap();
    std::fs::write(dir.join("r"), "a b c e").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--score-only"], "59.46\n"),
        (&["-b", "--smooth", "exp"], "59.46\n"),
        (&["-b", "--smooth", "none"], "0.00\n"),
        (&["-b", "--smooth=floor"], "39.76\n"),
        (&["-b", "--smooth", "add-k"], "65.80\n"),
        (
            &["-b", "--smooth", "floor", "--smooth-value", "0.5"],
            "59.46\n",
        ),
    ];
    for (options, expected) in cases {
        let mut args = vec!["h", "r"];
        args.extend_from_slice(options);
        let output = run_bleu(dir, &args);
        assert!(output.status.success(), "{options:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), expected, "{options:?}");
    }
}

#[test]
fn line_endings_follow_sacrebleu() {
    // CRLF endings and a missing final newline do not change the corpus;
    // only `\n` separates lines.
    let tmp = scratch_dir("endings");
    let dir = tmp.path();
    std::fs::write(dir.join("h"), "a b c d\r\nx y").unwrap();
    std::fs::write(dir.join("r"), "a b c e\nx y\n").unwrap();
    let output = run_bleu(dir, &["h", "r"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(stdout(&output).ends_with("hyp_len = 6 ref_len = 6)\n"));
}

#[test]
fn different_line_counts_are_an_error() {
    let tmp = scratch_dir("counts");
    let dir = tmp.path();
    std::fs::write(dir.join("hyp.txt"), "a\nb\nc\n").unwrap();
    std::fs::write(dir.join("ref.txt"), "a\nb\n").unwrap();
    let output = run_bleu(dir, &["hyp.txt", "ref.txt"]);
    assert_one_line_error(&output, 1, "hyp.txt has 3 lines but ref.txt has 2");
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let tmp = scratch_dir("missing");
    let dir = tmp.path();
    std::fs::write(dir.join("hyp.txt"), "a\n").unwrap();
    let output = run_bleu(dir, &["hyp.txt", "no-such-ref.txt"]);
    assert_one_line_error(&output, 1, "no-such-ref.txt");
    let output = run_bleu(dir, &["no-such-hyp.txt", "hyp.txt"]);
    assert_one_line_error(&output, 1, "no-such-hyp.txt");
}

#[test]
fn invalid_utf8_is_an_error_naming_the_file() {
    let tmp = scratch_dir("utf8");
    let dir = tmp.path();
    std::fs::write(dir.join("hyp.txt"), b"ok\n\xff\xfe\n").unwrap();
    std::fs::write(dir.join("ref.txt"), "ok\nok\n").unwrap();
    let output = run_bleu(dir, &["hyp.txt", "ref.txt"]);
    assert_one_line_error(&output, 1, "hyp.txt is not valid UTF-8");
}

#[test]
fn bad_command_lines_are_rejected() {
    let tmp = scratch_dir("usage");
    let dir = tmp.path();
    std::fs::write(dir.join("h"), "a\n").unwrap();
    let cases: [(&[&str], &str); 8] = [
        (&["h", "h", "--lowercase"], "unknown option --lowercase"),
        (
            &["h", "h", "--smooth", "add-one"],
            "unknown smoothing \"add-one\"",
        ),
        (&["h", "h", "--smooth"], "--smooth needs a value"),
        (
            &["h", "h", "--smooth-value", "0.2"],
            "applies only to floor and add-k",
        ),
        (
            &["h", "h", "--smooth", "floor", "--smooth-value", "x"],
            "non-negative number",
        ),
        (
            &["h"],
            "expected HYP_FILE and at least one REF_FILE, got 1 files",
        ),
        (
            &["h", "h", "--max-order", "0"],
            "--max-order must be a positive integer",
        ),
        (
            &["h", "h", "--max-order=x"],
            "--max-order must be a positive integer",
        ),
    ];
    for (args, needle) in cases {
        assert_one_line_error(&run_bleu(dir, args), 2, needle);
    }
}

#[test]
fn help_explains_usage() {
    let output = run_bleu(&std::env::temp_dir(), &["--help"]);
    assert!(output.status.success());
    let help = stdout(&output);
    assert!(help.starts_with("Usage: bleu HYP_FILE REF_FILE"));
    for option in [
        "--smooth",
        "--smooth-value",
        "--score-only",
        "--max-order",
        "13a",
    ] {
        assert!(help.contains(option), "help lacks {option}");
    }
}

#[test]
fn several_reference_files() {
    // The third hypothesis line is closest to the empty line of r2.txt, a
    // reference of length 0 as in sacreBLEU.
    let tmp = scratch_dir("multi");
    let dir = tmp.path();
    let hyp = "a man riding a wave on a surfboard .\na cat on a bed\nred bus\n";
    std::fs::write(dir.join("hyp.txt"), hyp).unwrap();
    let r1 = "A man rides a wave on his surfboard.\na cat sleeping on a bed next to a laptop\nA red bus.\n";
    std::fs::write(dir.join("r1.txt"), r1).unwrap();
    std::fs::write(
        dir.join("r2.txt"),
        "a surfer riding a big wave\nA cat lies on the bed.\n\n",
    )
    .unwrap();
    let r3 = "Man surfing.\nthe cat is on a bed\na red double decker bus on the street\n";
    std::fs::write(dir.join("r3.txt"), r3).unwrap();
    let refs = ["r1.txt", "r2.txt", "r3.txt"];
    // Values from `sacrebleu r1.txt r2.txt r3.txt -i hyp.txt -f text -w 2`
    // and `sacrebleu.metrics.BLEU(max_ngram_order=n)` (2.6.0).
    let cases: [(&[&str], &str); 4] = [
        (
            &[],
            "BLEU = 29.14 93.8/61.5/20.0/6.2 (BP = 1.000 ratio = 1.067 hyp_len = 16 ref_len = 15)\n",
        ),
        (&["-b"], "29.14\n"),
        (&["-b", "--max-order", "1"], "93.75\n"),
        (
            &["--max-order=2"],
            "BLEU = 75.96 93.8/61.5 (BP = 1.000 ratio = 1.067 hyp_len = 16 ref_len = 15)\n",
        ),
    ];
    for (options, expected) in cases {
        let mut args = vec!["hyp.txt"];
        args.extend_from_slice(&refs);
        args.extend_from_slice(options);
        let output = run_bleu(dir, &args);
        assert!(output.status.success(), "{options:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), expected, "{options:?}");
    }
    // BLEU-3 through the options after the files and before them.
    let output = run_bleu(
        dir,
        &[
            "-b",
            "--max-order",
            "3",
            "hyp.txt",
            "r1.txt",
            "r2.txt",
            "r3.txt",
        ],
    );
    assert_eq!(stdout(&output), "48.68\n");
}

#[test]
fn reference_files_must_all_match_the_hypothesis_lines() {
    let tmp = scratch_dir("multi-counts");
    let dir = tmp.path();
    std::fs::write(dir.join("hyp.txt"), "a\nb\n").unwrap();
    std::fs::write(dir.join("r1.txt"), "a\nb\n").unwrap();
    std::fs::write(dir.join("r2.txt"), "a\n").unwrap();
    let output = run_bleu(dir, &["hyp.txt", "r1.txt", "r2.txt"]);
    assert_one_line_error(&output, 1, "hyp.txt has 2 lines but r2.txt has 1");
    let output = run_bleu(dir, &["hyp.txt", "r1.txt", "no-such-ref.txt"]);
    assert_one_line_error(&output, 1, "no-such-ref.txt");
}
