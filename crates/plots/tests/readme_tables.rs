//! The `readme-tables` command, run as a process on Markdown files in a scratch folder.

use std::path::Path;
use std::process::{Command, Output};

const SUMMARY: &str = "\
### BLEU (mean ± std over 3 seeds; source length buckets)

| model | 1-5 (n=90) | 6-10 (n=111) | all (n=500) |
|---|---:|---:|---:|
| RNNencdec-10 | 92.2 ± 3.6 | 54.7 ± 4.0 | 22.4 ± 1.4 |
| RNNsearch-10 | 99.3 ± 1.2 | 97.7 ± 1.8 | 56.1 ± 0.5 |

### exact match (mean ± std over 3 seeds; source length buckets)

| model | 1-5 (n=90) | 6-10 (n=111) | all (n=500) |
|---|---:|---:|---:|
| RNNencdec-10 | 94.8 ± 1.7 | 23.4 ± 3.6 | 22.3 ± 0.9 |
| RNNsearch-10 | 98.5 ± 2.6 | 87.7 ± 10.8 | 40.3 ± 4.6 |

";

const EXACT: &str = "\
| model | 1-5 (n=90) | 6-10 (n=111) | all (n=500) |
|---|---:|---:|---:|
| RNNencdec-10 | 94.8 ± 1.7 | 23.4 ± 3.6 | 22.3 ± 0.9 |
| RNNsearch-10 | 98.5 ± 2.6 | 87.7 ± 10.8 | 40.3 ± 4.6 |
";

/// A fresh folder holding `results/run/summary.md` (the summary above) and `docs/`, removed
/// when the test ends (when the returned guard is dropped).
fn scratch(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("readme-tables-{name}-"))
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("results/run")).unwrap();
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(dir.join("results/run/summary.md"), SUMMARY).unwrap();
    tmp
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_readme-tables"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("readme-tables runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(dir: &Path, file: &str, content: &str) {
    std::fs::write(dir.join(file), content).unwrap();
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn check_reports_each_stale_table_and_writes_nothing() {
    let tmp = scratch("stale");
    let dir = tmp.path();
    let readme = format!(
        "# title\n\n<!-- table: results/run/summary.md exact_match -->\n\n{}\n<!-- /table -->\n\n\
         text\n<!-- table: results/run/summary.md bleu -->\nold numbers\n<!-- /table -->\n",
        EXACT.replace("87.7 ± 10.8", "80.0 ± 9.0")
    );
    write(dir, "README.md", &readme);
    let out = run(dir, &["--check", "README.md"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("README.md:3: stale table"), "{t}");
    assert!(t.contains("README.md:13: stale table"), "{t}");
    assert!(t.contains("2 of 2 tables stale"), "{t}");
    assert_eq!(read(dir, "README.md"), readme, "--check must not write");
}

#[test]
fn rewrite_makes_check_pass_and_keeps_the_rest() {
    let tmp = scratch("rewrite");
    let dir = tmp.path();
    write(
        dir,
        "README.md",
        "before\n<!-- table: results/run/summary.md exact_match -->\nstale\n<!-- /table -->\nafter\n",
    );
    // A file under docs/ names the summary relative to its own folder.
    write(
        dir,
        "docs/more.md",
        "<!-- table: ../results/run/summary.md BLEU rows=RNNsearch-10 cols=all,1-5 -->\n<!-- /table -->\n",
    );
    let out = run(dir, &["README.md", "docs/more.md"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("README.md: 1 table rewritten"));
    assert_eq!(
        read(dir, "README.md"),
        format!(
            "before\n<!-- table: results/run/summary.md exact_match -->\n\n{EXACT}\n<!-- /table -->\nafter\n"
        )
    );
    assert_eq!(
        read(dir, "docs/more.md"),
        "<!-- table: ../results/run/summary.md BLEU rows=RNNsearch-10 cols=all,1-5 -->\n\n\
         | model | all (n=500) | 1-5 (n=90) |\n|---|---:|---:|\n\
         | RNNsearch-10 | 56.1 ± 0.5 | 99.3 ± 1.2 |\n\n<!-- /table -->\n"
    );
    let out = run(dir, &["--check", "README.md", "docs/more.md"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("2 tables in 2 files up to date"));
    // A second rewrite changes nothing.
    let before = read(dir, "README.md");
    let out = run(dir, &["README.md"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(read(dir, "README.md"), before);
    // A re-run experiment makes the table stale again.
    std::fs::write(
        dir.join("results/run/summary.md"),
        SUMMARY.replace("40.3 ± 4.6", "41.0 ± 4.0"),
    )
    .unwrap();
    let out = run(dir, &["--check", "README.md", "docs/more.md"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("README.md:2: stale table"));
    assert!(!text(&out).contains("docs/more.md:"), "{}", text(&out));
}

#[test]
fn unknown_summary_is_an_error_naming_file_and_line() {
    let tmp = scratch("missing");
    let dir = tmp.path();
    let readme =
        "a\nb\n<!-- table: results/nowhere/summary.md exact_match -->\nkeep\n<!-- /table -->\n";
    write(dir, "README.md", readme);
    for args in [&["README.md"][..], &["--check", "README.md"][..]] {
        let out = run(dir, args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let t = text(&out);
        assert!(t.contains("README.md:3:"), "{t}");
        assert!(t.contains("results/nowhere/summary.md"), "{t}");
    }
    assert_eq!(read(dir, "README.md"), readme);
}

#[test]
fn bad_selectors_are_errors_naming_file_and_line() {
    let tmp = scratch("selector");
    let dir = tmp.path();
    let cases = [
        ("exact_match colums=all", "unknown key `colums`"),
        ("token_accuracy", "no `token_accuracy` table"),
        ("exact_match rows=RNNsearch-99", "no row `RNNsearch-99`"),
        ("exact_match cols=11-15", "no column `11-15`"),
        ("exact_match bleu", "second section name"),
        ("", "has 2 tables (bleu, exact_match): name one"),
    ];
    for (selector, message) in cases {
        let readme =
            format!("x\n<!-- table: results/run/summary.md {selector} -->\n<!-- /table -->\n");
        write(dir, "README.md", &readme);
        let out = run(dir, &["--check", "README.md"]);
        assert_eq!(out.status.code(), Some(2), "{selector}: {}", text(&out));
        let t = text(&out);
        assert!(t.contains("README.md:2:"), "{selector}: {t}");
        assert!(t.contains(message), "{selector}: {t}");
    }
}

#[test]
fn an_error_anywhere_means_nothing_is_written() {
    let tmp = scratch("atomic");
    let dir = tmp.path();
    let good = "<!-- table: results/run/summary.md exact_match -->\nstale\n<!-- /table -->\n";
    write(dir, "README.md", good);
    write(
        dir,
        "docs/bad.md",
        "<!-- table: ../results/run/summary.md exact_match -->\nno end marker\n",
    );
    let out = run(dir, &["README.md", "docs/bad.md"]);
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(
        t.contains("docs/bad.md:1: table marker never closed"),
        "{t}"
    );
    assert_eq!(read(dir, "README.md"), good);
}

#[test]
fn unpaired_markers_are_errors() {
    let tmp = scratch("pairs");
    let dir = tmp.path();
    write(dir, "README.md", "a\n<!-- /table -->\n");
    let out = run(dir, &["--check", "README.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("README.md:2: <!-- /table --> without an opening"));
    write(
        dir,
        "README.md",
        "<!-- table: results/run/summary.md bleu -->\n<!-- table: results/run/summary.md bleu -->\n<!-- /table -->\n",
    );
    let out = run(dir, &["--check", "README.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("README.md:2: a table marker opens before the one opened at line 1")
    );
}
