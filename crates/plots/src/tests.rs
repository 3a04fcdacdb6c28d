//! `metrics.csv` and what is drawn from it: exact bytes, errors naming file, line and
//! field, mean and std by hand, summary tables, line plots and whole folders redrawn.

use std::path::{Path, PathBuf};

use super::*;
use crate::curve_cost_tests::curve_row;
use crate::test_support::{assert_png, no_tmp_files, scratch};

#[allow(clippy::too_many_arguments)]
fn row(
    model: &str,
    tml: usize,
    seed: u64,
    lo: usize,
    hi: usize,
    n: usize,
    metric: &str,
    value: f64,
) -> MetricRow {
    MetricRow {
        experiment: "seq2seq-length".into(),
        task: "reverse".into(),
        model: model.into(),
        train_max_len: tml,
        seed,
        len_lo: lo,
        len_hi: hi,
        n,
        metric: metric.into(),
        value,
    }
}

#[test]
fn csv_line_format() {
    let r = row("RNNsearch", 20, 1, 1, 5, 212, "exact_match", 98.584_905);
    assert_eq!(
        r.to_csv_line(),
        "seq2seq-length,reverse,RNNsearch,20,1,1,5,212,exact_match,98.5849"
    );
}

#[test]
fn metrics_csv_round_trip() {
    let tmp = scratch("roundtrip");
    let dir = tmp.path();
    let path = dir.join("metrics.csv");
    let rows = vec![
        row("RNNsearch", 20, 1, 1, 5, 212, "exact_match", 98.5849),
        row("RNNencdec", 50, 7, 6, 10, 3, "token_accuracy", 0.0),
        row("RNNsearch", 20, 1, 0, 0, 1000, "bleu", 100.0),
        row("RNNsearch", 20, 2, 51, 60, 1, "bleu", 12.3456),
    ];
    write_metrics_csv(&path, &rows).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(&format!("{METRICS_HEADER}\n")));
    assert_eq!(read_metrics_csv(&path).unwrap(), rows);
    no_tmp_files(dir);

    // Writing a field with a comma is refused and leaves the old file intact.
    let mut bad = rows.clone();
    bad[0].model = "a,b".into();
    assert!(write_metrics_csv(&path, &bad).is_err());
    assert_eq!(read_metrics_csv(&path).unwrap(), rows);
    no_tmp_files(dir);

    // CRLF endings and a trailing blank line are accepted.
    std::fs::write(&path, text.replace('\n', "\r\n") + "\r\n").unwrap();
    assert_eq!(read_metrics_csv(&path).unwrap(), rows);
}

#[test]
fn malformed_csv_names_file_line_and_field() {
    let tmp = scratch("malformed");
    let dir = tmp.path();
    let path = dir.join("metrics.csv");
    let good = row("RNNsearch", 20, 1, 1, 5, 212, "exact_match", 98.5).to_csv_line();

    std::fs::write(
        &path,
        format!(
            "{METRICS_HEADER}\n{good}\nseq2seq-length,reverse,RNNsearch,20,x1,1,5,212,exact_match,9\n"
        ),
    )
    .unwrap();
    let msg = format!("{:#}", read_metrics_csv(&path).unwrap_err());
    assert!(msg.contains("metrics.csv:3"), "{msg}");
    assert!(msg.contains("seed"), "{msg}");
    assert!(msg.contains("x1"), "{msg}");

    std::fs::write(&path, format!("{METRICS_HEADER}\n{good}\n{good}\n1,2,3\n")).unwrap();
    let msg = format!("{:#}", read_metrics_csv(&path).unwrap_err());
    assert!(msg.contains("metrics.csv:4"), "{msg}");
    assert!(msg.contains("found 3"), "{msg}");

    std::fs::write(&path, format!("{METRICS_HEADER}\n{}bad\n", &good)).unwrap();
    let msg = format!("{:#}", read_metrics_csv(&path).unwrap_err());
    assert!(msg.contains(":2") && msg.contains("value"), "{msg}");

    std::fs::write(&path, format!("model,value\n{good}\n")).unwrap();
    let msg = format!("{:#}", read_metrics_csv(&path).unwrap_err());
    assert!(
        msg.contains("metrics.csv:1") && msg.contains("header"),
        "{msg}"
    );
}

#[test]
fn aggregate_mean_std_by_hand() {
    let rows = vec![
        // RNNsearch-20, bucket 1-5: seeds 1,2,3 -> 90, 80, 70: mean 80, sample std 10.
        row("RNNsearch", 20, 1, 1, 5, 10, "exact_match", 90.0),
        row("RNNsearch", 20, 2, 1, 5, 10, "exact_match", 80.0),
        row("RNNsearch", 20, 3, 1, 5, 10, "exact_match", 70.0),
        // bucket 6-10: seed 3 missing -> 50, 60: mean 55, std sqrt(50).
        row("RNNsearch", 20, 1, 6, 10, 10, "exact_match", 50.0),
        row("RNNsearch", 20, 2, 6, 10, 10, "exact_match", 60.0),
        // overall rows and other metrics are ignored.
        row("RNNsearch", 20, 1, 0, 0, 20, "exact_match", 1.0),
        row("RNNsearch", 20, 1, 1, 5, 10, "bleu", 1.0),
        // RNNencdec-20, one seed: std 0. Listed first in the output (sorted by name).
        row("RNNencdec", 20, 1, 6, 10, 10, "exact_match", 30.0),
        row("RNNencdec", 20, 1, 1, 5, 10, "exact_match", 40.0),
        // Same model, other train_max_len: own series, after -20 (numeric order).
        row("RNNsearch", 100, 1, 1, 5, 10, "exact_match", 99.0),
    ];
    let s = aggregate(&rows, "exact_match");
    let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["RNNencdec-20", "RNNsearch-20", "RNNsearch-100"]);

    assert_eq!(s[0].points, vec![(3.0, 40.0, 0.0), (8.0, 30.0, 0.0)]);
    let p = &s[1].points;
    assert_eq!(p.len(), 2);
    assert_eq!((p[0].0, p[0].1), (3.0, 80.0));
    assert!((p[0].2 - 10.0).abs() < 1e-12, "{p:?}");
    assert_eq!((p[1].0, p[1].1), (8.0, 55.0));
    assert!((p[1].2 - 50f64.sqrt()).abs() < 1e-12, "{p:?}");
    assert_eq!(s[2].points, vec![(3.0, 99.0, 0.0)]);

    assert_eq!(aggregate(&rows, "bleu")[0].points, vec![(3.0, 1.0, 0.0)]);
    assert!(aggregate(&rows, "nope").is_empty());
}

fn write_tiny_results(dir: &Path, alignment_groups: &[(&str, usize, u64)]) {
    let mut rows = Vec::new();
    for (model, tml, base) in [("RNNencdec", 20, 60.0), ("RNNsearch", 20, 95.0)] {
        for seed in 1..=3u64 {
            for (b, (lo, hi)) in [(1, 5), (6, 10), (11, 15), (16, 20), (21, 30)]
                .into_iter()
                .enumerate()
            {
                let drop = if model == "RNNencdec" { 12.0 } else { 3.0 };
                let v = (base - drop * b as f64 + seed as f64 * 2.5).clamp(0.0, 100.0);
                rows.push(row(model, tml, seed, lo, hi, 40, "exact_match", v));
                rows.push(row(
                    model,
                    tml,
                    seed,
                    lo,
                    hi,
                    40,
                    "token_accuracy",
                    (v + 5.0).min(100.0),
                ));
            }
            rows.push(row(model, tml, seed, 0, 0, 200, "exact_match", base));
        }
    }
    write_metrics_csv(&dir.join("metrics.csv"), &rows).unwrap();

    let src = ["the", "cat", ",", "sat", "on", "the", "mat", "</s>"];
    let tgt = ["le", "chat", ",", "assis", "sur", "le", "tapis", "</s>"];
    let mut arows = Vec::new();
    for &(model, tml, seed) in alignment_groups {
        for (i, t) in tgt.iter().enumerate() {
            for (j, s) in src.iter().enumerate() {
                let w = if i == j {
                    0.8
                } else if i.abs_diff(j) == 1 {
                    0.1
                } else {
                    0.0
                };
                arows.push(AlignmentRow {
                    model: model.into(),
                    train_max_len: tml,
                    seed,
                    tgt_pos: i,
                    tgt_token: t.to_string(),
                    src_pos: j,
                    src_token: s.to_string(),
                    weight: w,
                });
            }
        }
    }
    write_alignment_csv(&dir.join("alignment.csv"), &arows).unwrap();
    assert_eq!(
        read_alignment_csv(&dir.join("alignment.csv")).unwrap(),
        arows
    );
}

#[test]
fn redraw_tiny_results_dir() {
    let tmp = scratch("redraw-one");
    let dir = tmp.path();
    write_tiny_results(dir, &[("RNNsearch", 20, 1)]);
    let csv = std::fs::read_to_string(dir.join("alignment.csv")).unwrap();
    assert!(csv.contains(",<comma>,"), "commas in tokens are escaped");

    let mut written = redraw_results_dir(dir).unwrap();
    written.sort();
    let expected: Vec<PathBuf> = [
        "alignment.png",
        "exact_match.png",
        "summary.md",
        "token_accuracy.png",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    assert_eq!(written, expected);
    for f in written
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
    {
        assert_png(f);
    }
    no_tmp_files(dir);
}

#[test]
fn redraw_all_walks_and_splits_alignment_groups() {
    let tmp = scratch("redraw-all");
    let root = tmp.path();
    let a = root.join("exp-a");
    let b = root.join("nested").join("exp-b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    write_tiny_results(&a, &[("RNNsearch", 20, 1)]);
    write_tiny_results(&b, &[("RNNsearch", 50, 2), ("RNNencdec", 50, 1)]);

    let written = redraw_all(root).unwrap();
    let mut names: Vec<String> = written
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "exp-a/alignment.png",
            "exp-a/exact_match.png",
            "exp-a/summary.md",
            "exp-a/token_accuracy.png",
            "nested/exp-b/alignment-RNNencdec-50-seed1.png",
            "nested/exp-b/alignment-RNNsearch-50-seed2.png",
            "nested/exp-b/alignment-grid.png",
            "nested/exp-b/exact_match.png",
            "nested/exp-b/summary.md",
            "nested/exp-b/token_accuracy.png",
        ]
    );
    for f in written
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
    {
        assert_png(f);
    }
    assert!(redraw_all(&root.join("missing")).is_err());
    assert!(redraw_results_dir(&root.join("empty")).is_err());
}

#[test]
fn line_plot_edge_cases() {
    let tmp = scratch("lines");
    let dir = tmp.path();
    let path = dir.join("l.png");
    assert!(line_plot_with_bands(&path, "t", "x", "y", 5.0..5.0, &[]).is_err());
    // No series, a single-point series, and NaN points all draw without error.
    line_plot_with_bands(&path, "empty", "x", "y", 0.0..100.0, &[]).unwrap();
    let s = vec![
        Series {
            name: "single".into(),
            points: vec![(3.0, 50.0, 10.0)],
        },
        Series {
            name: "with-nan".into(),
            points: vec![(1.0, f64::NAN, 0.0), (2.0, 20.0, 5.0), (4.0, 30.0, 200.0)],
        },
    ];
    line_plot_with_bands(&path, "edge cases", "x", "y", 0.0..100.0, &s).unwrap();
    assert_png(&path);
}

#[test]
fn summary_table_gives_mean_and_std_per_bucket_by_hand() {
    let row = |model: &str, seed: u64, lo: usize, hi: usize, n: usize, value: f64| MetricRow {
        experiment: "e".into(),
        task: "t".into(),
        model: model.into(),
        train_max_len: 10,
        seed,
        len_lo: lo,
        len_hi: hi,
        n,
        metric: "exact_match".into(),
        value,
    };
    let rows = vec![
        row("A", 1, 1, 5, 7, 90.0),
        row("A", 2, 1, 5, 7, 80.0),
        row("A", 3, 1, 5, 7, 70.0),
        row("A", 1, 0, 0, 9, 50.0),
        row("A", 2, 0, 0, 9, 60.0),
        row("A", 3, 0, 0, 9, 70.0),
    ];
    let md = crate::summary_markdown(&rows);
    // Bucket 1-5: mean 80, sample std sqrt((100+0+100)/2) = 10; all: mean 60, std 10.
    assert!(md.contains("| model | 1-5 (n=7) | all (n=9) |"), "{md}");
    assert!(md.contains("| A-10 | 80.0 ± 10.0 | 60.0 ± 10.0 |"), "{md}");
    assert!(md.contains("over 3 seeds"), "{md}");
}

#[test]
fn series_name_drops_a_zero_train_max_len() {
    assert_eq!(series_name("AttentiveReader", 0), "AttentiveReader");
    assert_eq!(series_name("RNNsearch", 50), "RNNsearch-50");

    // Experiments without a training length write 0: the series is just the model.
    let rows = vec![
        row("AttentiveReader", 0, 1, 1, 500, 10, "accuracy", 60.0),
        row("AttentiveReader", 0, 2, 1, 500, 10, "accuracy", 70.0),
        row("AttentiveReader", 0, 1, 0, 0, 10, "accuracy", 65.0),
        row("AttentiveReader", 20, 1, 1, 500, 10, "accuracy", 50.0),
    ];
    let s = aggregate(&rows, "accuracy");
    let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["AttentiveReader", "AttentiveReader-20"]);
    assert_eq!(s[0].points[0].1, 65.0);

    let curves = curve_series(&[
        curve_row("Reader", 0, 1, 100, 1.0),
        curve_row("Reader", 5, 1, 100, 2.0),
    ]);
    let names: Vec<&str> = curves.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Reader", "Reader-5"]);

    let md = summary_markdown(&rows);
    assert!(
        md.contains("\n| AttentiveReader | 65.0 ± 7.1 | 65.0 ± 0.0 |"),
        "{md}"
    );
    assert!(
        md.contains("\n| AttentiveReader-20 | 50.0 ± 0.0 | |"),
        "{md}"
    );
}

/// Rows of a reading-comprehension run: only "all lengths" rows, no train_max_len,
/// a validation and a test metric over sets of different sizes.
fn overall_only_rows() -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for (model, base) in [("AttentiveReader", 60.0), ("ImpatientReader", 62.0)] {
        for seed in 1..=3u64 {
            let jitter = seed as f64 - 2.0; // -1, 0, 1: sample std 1
            for (metric, n, shift) in [("valid_accuracy", 500, 1.0), ("test_accuracy", 1000, 0.0)] {
                rows.push(MetricRow {
                    experiment: "reading".into(),
                    task: "cnn".into(),
                    model: model.into(),
                    train_max_len: 0,
                    seed,
                    len_lo: 0,
                    len_hi: 0,
                    n,
                    metric: metric.into(),
                    value: base + shift + jitter,
                });
            }
        }
    }
    rows
}

#[test]
fn summary_of_metrics_without_length_buckets() {
    let rows = overall_only_rows();
    let md = summary_markdown(&rows);
    // One table per metric (sorted by name), each with just the "all" column and
    // its own n; rows named by the model alone.
    let tables: Vec<&str> = md.split("### ").skip(1).collect();
    assert_eq!(tables.len(), 2, "{md}");
    assert!(
        tables[0].starts_with("test accuracy (mean ± std over 3 seeds)\n"),
        "{md}"
    );
    assert!(
        tables[0].contains("| model | all (n=1000) |\n|---|---:|\n"),
        "{md}"
    );
    assert!(
        tables[0].contains("| AttentiveReader | 60.0 ± 1.0 |\n"),
        "{md}"
    );
    assert!(
        tables[0].contains("| ImpatientReader | 62.0 ± 1.0 |\n"),
        "{md}"
    );
    assert!(
        tables[1].starts_with("valid accuracy (mean ± std over 3 seeds)\n"),
        "{md}"
    );
    assert!(tables[1].contains("| model | all (n=500) |\n"), "{md}");
    assert!(
        tables[1].contains("| AttentiveReader | 61.0 ± 1.0 |\n"),
        "{md}"
    );
    assert!(!md.contains("buckets"), "{md}");

    // Redrawing writes the summary and no PNG for these metrics.
    let tmp = scratch("overall-only");
    let dir = tmp.path();
    write_metrics_csv(&dir.join(METRICS_FILE), &rows).unwrap();
    let written = redraw_results_dir(dir).unwrap();
    assert_eq!(written, vec![dir.join("summary.md")]);
    assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), md);
    no_tmp_files(dir);
}
