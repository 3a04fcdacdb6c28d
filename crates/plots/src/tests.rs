use std::path::{Path, PathBuf};

use super::*;
use crate::test_support::scratch;

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

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} has no PNG signature",
        path.display()
    );
}

/// Removes a scratch folder, unless `PLOTS_KEEP_TEST_OUTPUT` is set (to look at the figures).
fn cleanup(dir: &Path) {
    if std::env::var_os("PLOTS_KEEP_TEST_OUTPUT").is_some() {
        eprintln!("kept {}", dir.display());
    } else {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

fn no_tmp_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp."), "leftover temporary file {name}");
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
    let dir = scratch("roundtrip");
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
    no_tmp_files(&dir);

    // Writing a field with a comma is refused and leaves the old file intact.
    let mut bad = rows.clone();
    bad[0].model = "a,b".into();
    assert!(write_metrics_csv(&path, &bad).is_err());
    assert_eq!(read_metrics_csv(&path).unwrap(), rows);
    no_tmp_files(&dir);

    // CRLF endings and a trailing blank line are accepted.
    std::fs::write(&path, text.replace('\n', "\r\n") + "\r\n").unwrap();
    assert_eq!(read_metrics_csv(&path).unwrap(), rows);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_csv_names_file_line_and_field() {
    let dir = scratch("malformed");
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
    std::fs::remove_dir_all(&dir).unwrap();
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
    let dir = scratch("redraw-one");
    write_tiny_results(&dir, &[("RNNsearch", 20, 1)]);
    let csv = std::fs::read_to_string(dir.join("alignment.csv")).unwrap();
    assert!(csv.contains(",<comma>,"), "commas in tokens are escaped");

    let mut written = redraw_results_dir(&dir).unwrap();
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
    no_tmp_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn redraw_all_walks_and_splits_alignment_groups() {
    let root = scratch("redraw-all");
    let a = root.join("exp-a");
    let b = root.join("nested").join("exp-b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    write_tiny_results(&a, &[("RNNsearch", 20, 1)]);
    write_tiny_results(&b, &[("RNNsearch", 50, 2), ("RNNencdec", 50, 1)]);

    let written = redraw_all(&root).unwrap();
    let mut names: Vec<String> = written
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
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
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn heatmap_checks_shapes_and_writes_atomically() {
    let dir = scratch("heatmap");
    let path = dir.join("h.png");
    let toks = |n: usize| (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>();
    let err = attention_heatmap(&path, "t", &toks(3), &toks(2), &[vec![0.0; 3]]).unwrap_err();
    assert!(format!("{err:#}").contains("weight rows"));
    assert!(!path.exists());

    // A long sentence: 60 source x 55 target tokens.
    let (ns, nt) = (60, 55);
    let w: Vec<Vec<f32>> = (0..nt)
        .map(|i| {
            (0..ns)
                .map(|j| (-((i as f32 * 60.0 / 55.0 - j as f32).powi(2)) / 2.0).exp())
                .collect()
        })
        .collect();
    attention_heatmap(&path, "long sentence", &toks(ns), &toks(nt), &w).unwrap();
    assert_png(&path);
    no_tmp_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn line_plot_edge_cases() {
    let dir = scratch("lines");
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
    std::fs::remove_dir_all(&dir).unwrap();
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

fn curve_row(model: &str, tml: usize, seed: u64, step: usize, loss: f64) -> CurveRow {
    CurveRow {
        model: model.into(),
        train_max_len: tml,
        seed,
        step,
        loss,
    }
}

fn cost_row(model: &str, seq_len: usize, measure: &str, median_ms: f64) -> CostRow {
    CostRow {
        model: model.into(),
        seq_len,
        measure: measure.into(),
        median_ms,
        repeats: 5,
    }
}

#[test]
fn curve_and_cost_csv_round_trip() {
    let dir = scratch("curve-cost-csv");
    let curve = dir.join(CURVE_FILE);
    let rows = vec![
        curve_row("RNNsearch", 20, 1, 100, 2.5),
        curve_row("RNNsearch", 20, 1, 200, 0.123456),
        curve_row("RNNencdec", 50, 7, 0, 0.0),
    ];
    write_curve_csv(&curve, &rows).unwrap();
    let text = std::fs::read_to_string(&curve).unwrap();
    assert!(
        text.starts_with("model,train_max_len,seed,step,loss\nRNNsearch,20,1,100,2.500000\n"),
        "{text}"
    );
    assert_eq!(read_curve_csv(&curve).unwrap(), rows);

    let cost = dir.join(COST_FILE);
    let crows = vec![
        cost_row("RNNsearch", 30, "train_step", 12.345),
        cost_row("RNNencdec", 10, "decode_sentence", 0.5),
    ];
    write_cost_csv(&cost, &crows).unwrap();
    let text = std::fs::read_to_string(&cost).unwrap();
    assert!(
        text.starts_with(
            "model,seq_len,measure,median_ms,repeats\nRNNsearch,30,train_step,12.345,5\n"
        ),
        "{text}"
    );
    assert_eq!(read_cost_csv(&cost).unwrap(), crows);
    no_tmp_files(&dir);

    // Commas in text fields are refused and leave the old files intact.
    let mut bad = crows.clone();
    bad[1].measure = "a,b".into();
    assert!(write_cost_csv(&cost, &bad).is_err());
    assert_eq!(read_cost_csv(&cost).unwrap(), crows);
    let mut bad = rows.clone();
    bad[0].model = "".into();
    assert!(write_curve_csv(&curve, &bad).is_err());
    assert_eq!(read_curve_csv(&curve).unwrap(), rows);
    no_tmp_files(&dir);
    cleanup(&dir);
}

#[test]
fn malformed_curve_and_cost_csv_name_file_line_and_field() {
    let dir = scratch("curve-cost-malformed");
    let curve = dir.join(CURVE_FILE);
    std::fs::write(
        &curve,
        format!("{CURVE_HEADER}\nA,10,1,100,2.0\n\nA,10,1,2x0,1.0\n"),
    )
    .unwrap();
    let msg = format!("{:#}", read_curve_csv(&curve).unwrap_err());
    assert!(msg.contains("learning_curve.csv:4"), "{msg}");
    assert!(msg.contains("'step'") && msg.contains("2x0"), "{msg}");

    std::fs::write(&curve, format!("{CURVE_HEADER}\nA,10,1,100\n")).unwrap();
    let msg = format!("{:#}", read_curve_csv(&curve).unwrap_err());
    assert!(
        msg.contains("learning_curve.csv:2") && msg.contains("found 4"),
        "{msg}"
    );

    let cost = dir.join(COST_FILE);
    std::fs::write(&cost, "model,seq_len,ms\nA,10,1.0\n").unwrap();
    let msg = format!("{:#}", read_cost_csv(&cost).unwrap_err());
    assert!(
        msg.contains("cost.csv:1") && msg.contains("header"),
        "{msg}"
    );

    std::fs::write(&cost, format!("{COST_HEADER}\nA,10,train_step,fast,5\n")).unwrap();
    let msg = format!("{:#}", read_cost_csv(&cost).unwrap_err());
    assert!(
        msg.contains("cost.csv:2") && msg.contains("median_ms"),
        "{msg}"
    );

    std::fs::write(&cost, format!("{COST_HEADER}\nA,10, ,1.0,5\n")).unwrap();
    let msg = format!("{:#}", read_cost_csv(&cost).unwrap_err());
    assert!(
        msg.contains("cost.csv:2") && msg.contains("measure"),
        "{msg}"
    );

    // A folder whose only CSV is broken fails with the same message.
    let msg = format!("{:#}", redraw_results_dir(&dir).unwrap_err());
    assert!(msg.contains("learning_curve.csv:2"), "{msg}");
    cleanup(&dir);
}

#[test]
fn curve_series_mean_std_by_hand() {
    let rows = vec![
        // A-10, step 100: seeds 1,2,3 -> 3, 2, 1: mean 2, sample std 1.
        curve_row("A", 10, 1, 100, 3.0),
        curve_row("A", 10, 2, 100, 2.0),
        curve_row("A", 10, 3, 100, 1.0),
        // step 200: seed 3 diverged (NaN, skipped) -> 1, 2: mean 1.5, std sqrt(0.5).
        curve_row("A", 10, 2, 200, 2.0),
        curve_row("A", 10, 1, 200, 1.0),
        curve_row("A", 10, 3, 200, f64::NAN),
        // Rows out of order: step 50 comes first in the series.
        curve_row("A", 10, 1, 50, 5.0),
        // A-5 sorts before A-10 (numeric), B-10 after; single rows have std 0.
        curve_row("B", 10, 1, 100, 4.0),
        curve_row("A", 5, 1, 100, 0.5),
    ];
    let s = curve_series(&rows);
    let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["A-5", "A-10", "B-10"]);
    assert_eq!(s[0].points, vec![(100.0, 0.5, 0.0)]);
    let p = &s[1].points;
    assert_eq!(p.len(), 3);
    assert_eq!(p[0], (50.0, 5.0, 0.0));
    assert_eq!((p[1].0, p[1].1), (100.0, 2.0));
    assert!((p[1].2 - 1.0).abs() < 1e-12, "{p:?}");
    assert_eq!((p[2].0, p[2].1), (200.0, 1.5));
    assert!((p[2].2 - 0.5f64.sqrt()).abs() < 1e-12, "{p:?}");
    assert_eq!(s[2].points, vec![(100.0, 4.0, 0.0)]);
    assert!(curve_series(&[]).is_empty());
}

#[test]
fn cost_series_by_hand() {
    let rows = vec![
        cost_row("RNNsearch", 20, "train_step", 8.0),
        cost_row("RNNsearch", 10, "train_step", 4.0),
        // Two rows for the same length are averaged: (6 + 8) / 2 = 7.
        cost_row("RNNencdec", 30, "train_step", 6.0),
        cost_row("RNNencdec", 30, "train_step", 8.0),
        cost_row("RNNencdec", 30, "decode_sentence", 100.0),
        cost_row("RNNencdec", 40, "train_step", f64::INFINITY),
    ];
    let s = cost_series(&rows, "train_step");
    let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["RNNencdec", "RNNsearch"]);
    assert_eq!(s[0].points, vec![(30.0, 7.0, 0.0)]);
    assert_eq!(s[1].points, vec![(10.0, 4.0, 0.0), (20.0, 8.0, 0.0)]);
    let d = cost_series(&rows, "decode_sentence");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].points, vec![(30.0, 100.0, 0.0)]);
    assert!(cost_series(&rows, "nope").is_empty());
}

/// A plausible `cost.csv`: two models, two measures, lengths 10..=80.
fn write_cost(dir: &Path) {
    let mut rows = Vec::new();
    for (model, scale) in [("RNNencdec", 1.0), ("RNNsearch", 1.6)] {
        for len in (10..=80).step_by(10) {
            let l = len as f64;
            rows.push(cost_row(model, len, "train_step", scale * (3.0 + 0.4 * l)));
            let quad = if model == "RNNsearch" {
                0.004 * l * l
            } else {
                0.0
            };
            rows.push(cost_row(
                model,
                len,
                "decode_sentence",
                scale * 0.8 + 0.25 * l + quad,
            ));
        }
    }
    write_cost_csv(&dir.join(COST_FILE), &rows).unwrap();
}

#[test]
fn redraw_folder_with_only_cost_csv() {
    let root = scratch("cost-only");
    let dir = root.join("cost-vs-length");
    std::fs::create_dir_all(&dir).unwrap();
    write_cost(&dir);

    let written = redraw_results_dir(&dir).unwrap();
    let expected: Vec<PathBuf> = ["cost-decode_sentence.png", "cost-train_step.png"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    assert_eq!(written, expected);
    for f in &written {
        assert_png(f);
    }
    no_tmp_files(&dir);

    // redraw_all finds a folder holding only cost.csv.
    assert_eq!(redraw_all(&root).unwrap(), expected);
    cleanup(&root);
}

#[test]
fn redraw_learning_curve() {
    let dir = scratch("learning-curve");
    let mut rows = Vec::new();
    for (model, floor) in [("RNNencdec", 0.9), ("RNNsearch", 0.3)] {
        for seed in 1..=3u64 {
            for step in (0..=3000).step_by(100) {
                let t = step as f64 / 600.0;
                let wobble = 0.05 * seed as f64 * (step as f64 / 170.0).sin();
                let loss = floor + 3.5 * (-t).exp() + wobble;
                rows.push(curve_row(model, 20, seed, step, loss));
            }
        }
    }
    // One long run of a single seed: its series has no band.
    for step in (0..=2000).step_by(250) {
        rows.push(curve_row(
            "RNNsearch",
            50,
            1,
            step,
            0.2 + 3.0 * (-(step as f64) / 400.0).exp(),
        ));
    }
    write_curve_csv(&dir.join(CURVE_FILE), &rows).unwrap();
    let written = redraw_results_dir(&dir).unwrap();
    assert_eq!(written, vec![dir.join("learning_curve.png")]);
    assert_png(&written[0]);
    assert_eq!(png_size(&written[0]), (900, 600));
    no_tmp_files(&dir);
    cleanup(&dir);
}

/// `n` panels on one 20-token sentence, each with its own target length.
fn grid_panels(n: usize) -> Vec<Alignment> {
    let src: Vec<String> = "the agreement on the european economic area was signed in \
                            august 1992 , after long talks between the two sides . </s>"
        .split(' ')
        .map(String::from)
        .collect();
    let tgt_full: Vec<String> = "l' accord sur la zone économique européenne a été signé en \
                                 août 1992 , après de longues négociations entre les deux \
                                 parties . </s>"
        .split_whitespace()
        .map(String::from)
        .collect();
    let models = [
        ("RNNsearch", 50),
        ("RNNsearch", 30),
        ("RNNencdec", 50),
        ("RNNencdec", 30),
    ];
    (0..n)
        .map(|k| {
            let (model, tml) = models[k % models.len()];
            // Each panel decodes a slightly different target (drops a few tokens).
            let tgt: Vec<String> = tgt_full
                .iter()
                .enumerate()
                .filter(|(i, _)| k == 0 || (i + k) % 7 != 0)
                .map(|(_, t)| t.clone())
                .collect();
            let sharp = if model == "RNNsearch" { 1.5 } else { 8.0 };
            let weights = (0..tgt.len())
                .map(|i| {
                    let centre = i as f32 * (src.len() - 1) as f32 / (tgt.len() - 1) as f32;
                    let row: Vec<f32> = (0..src.len())
                        .map(|j| (-((j as f32 - centre).powi(2)) / sharp).exp())
                        .collect();
                    let sum: f32 = row.iter().sum();
                    row.into_iter().map(|w| w / sum).collect()
                })
                .collect();
            Alignment {
                model: model.into(),
                train_max_len: tml,
                seed: 1 + (k / models.len()) as u64,
                src_tokens: src.clone(),
                tgt_tokens: tgt,
                weights,
            }
        })
        .collect()
}

#[test]
fn alignment_grid_draws_panels_in_at_most_three_columns() {
    let dir = scratch("grid");
    let five = dir.join("grid5.png");
    let three = dir.join("grid3.png");
    let two = dir.join("grid2.png");
    attention_heatmap_grid(&five, "wmt14-en-fr: alignment", &grid_panels(5)).unwrap();
    attention_heatmap_grid(&three, "three panels", &grid_panels(3)).unwrap();
    attention_heatmap_grid(&two, "two panels", &grid_panels(2)).unwrap();
    for p in [&five, &three, &two] {
        assert_png(p);
    }
    // Five panels: 3 columns (as wide as three panels), 2 rows (taller).
    let (w5, h5) = png_size(&five);
    let (w3, h3) = png_size(&three);
    let (w2, h2) = png_size(&two);
    assert_eq!(w5, w3);
    assert!(h5 > h3 + 300, "{h5} vs {h3}");
    assert!(w2 < w3 && h2 == h3, "{w2}x{h2} vs {w3}x{h3}");

    // Bad input: no panels, or a ragged matrix (named by its panel), writes nothing.
    let bad_path = dir.join("bad.png");
    let msg = format!(
        "{:#}",
        attention_heatmap_grid(&bad_path, "t", &[]).unwrap_err()
    );
    assert!(msg.contains("no panels"), "{msg}");
    let mut bad = grid_panels(2);
    bad[1].weights[3].pop();
    let msg = format!(
        "{:#}",
        attention_heatmap_grid(&bad_path, "t", &bad).unwrap_err()
    );
    assert!(
        msg.contains("panel 1 (RNNsearch-30 (seed 1))") && msg.contains("weight row 3"),
        "{msg}"
    );
    assert!(!bad_path.exists());
    no_tmp_files(&dir);
    cleanup(&dir);
}

#[test]
fn redraw_writes_alignment_grid_only_for_several_groups() {
    let dir = scratch("grid-redraw");
    let mut rows = Vec::new();
    for a in grid_panels(4) {
        for (i, t) in a.tgt_tokens.iter().enumerate() {
            for (j, s) in a.src_tokens.iter().enumerate() {
                rows.push(AlignmentRow {
                    model: a.model.clone(),
                    train_max_len: a.train_max_len,
                    seed: a.seed,
                    tgt_pos: i,
                    tgt_token: t.clone(),
                    src_pos: j,
                    src_token: s.clone(),
                    weight: a.weights[i][j] as f64,
                });
            }
        }
    }
    write_alignment_csv(&dir.join(ALIGNMENT_FILE), &rows).unwrap();
    let written = redraw_results_dir(&dir).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "alignment-RNNencdec-30-seed1.png",
            "alignment-RNNencdec-50-seed1.png",
            "alignment-RNNsearch-30-seed1.png",
            "alignment-RNNsearch-50-seed1.png",
            "alignment-grid.png",
        ]
    );
    for f in &written {
        assert_png(f);
    }
    // 4 panels: 3 columns and 2 rows, so wider and taller than one heatmap (whose
    // cells are larger).
    let (w, h) = png_size(&written[4]);
    let (w1, h1) = png_size(&written[0]);
    assert!(w > w1 && h > h1, "{w}x{h} vs {w1}x{h1}");

    // A single group: no grid.
    let one: Vec<AlignmentRow> = rows
        .iter()
        .filter(|r| r.model == "RNNsearch" && r.train_max_len == 50)
        .cloned()
        .collect();
    let single = dir.join("single");
    write_alignment_csv(&single.join(ALIGNMENT_FILE), &one).unwrap();
    assert_eq!(
        redraw_results_dir(&single).unwrap(),
        vec![single.join("alignment.png")]
    );
    no_tmp_files(&dir);
    cleanup(&dir);
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
    let dir = scratch("overall-only");
    write_metrics_csv(&dir.join(METRICS_FILE), &rows).unwrap();
    let written = redraw_results_dir(&dir).unwrap();
    assert_eq!(written, vec![dir.join("summary.md")]);
    assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), md);
    no_tmp_files(&dir);
    cleanup(&dir);
}

fn doc_row(model: &str, seed: u64, position: usize, token: &str, weight: f64) -> DocAttentionRow {
    DocAttentionRow {
        model: model.into(),
        seed,
        position,
        token: token.into(),
        weight,
    }
}

#[test]
fn doc_attention_csv_round_trip() {
    let dir = scratch("doc-csv");
    let path = dir.join(DOC_ATTENTION_FILE);
    let rows = vec![
        doc_row("AttentiveReader", 1, 0, "@entity3", 0.5),
        doc_row("AttentiveReader", 1, 1, ",", 0.123456),
        doc_row("AttentiveReader", 1, 2, "said", 0.0),
        doc_row("ImpatientReader", 7, 0, "@entity3", 1.0),
    ];
    write_doc_attention_csv(&path, &rows).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(
            "model,seed,position,token,weight\n\
             AttentiveReader,1,0,@entity3,0.500000\n\
             AttentiveReader,1,1,<comma>,0.123456\n"
        ),
        "{text}"
    );
    assert_eq!(DOC_ATTENTION_HEADER, "model,seed,position,token,weight");
    assert_eq!(read_doc_attention_csv(&path).unwrap(), rows);
    no_tmp_files(&dir);

    // A model with a comma is refused and leaves the old file intact.
    let mut bad = rows.clone();
    bad[3].model = "a,b".into();
    assert!(write_doc_attention_csv(&path, &bad).is_err());
    assert_eq!(read_doc_attention_csv(&path).unwrap(), rows);
    no_tmp_files(&dir);

    // Grouped by (model, seed), tokens in position order.
    let mut shuffled = rows.clone();
    shuffled.reverse();
    let groups = doc_attention_groups(&shuffled);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].model, "AttentiveReader");
    assert_eq!(groups[0].tokens, ["@entity3", ",", "said"]);
    assert_eq!(groups[0].weights, [0.5, 0.123456, 0.0]);
    assert_eq!(
        (groups[1].model.as_str(), groups[1].seed),
        ("ImpatientReader", 7)
    );
    cleanup(&dir);
}

#[test]
fn malformed_doc_attention_csv_names_file_line_and_field() {
    let dir = scratch("doc-malformed");
    let path = dir.join(DOC_ATTENTION_FILE);
    let good = doc_row("AttentiveReader", 1, 0, "the", 0.1).to_csv_line();
    std::fs::write(
        &path,
        format!("{DOC_ATTENTION_HEADER}\n{good}\nAttentiveReader,1,1,cat,heavy\n"),
    )
    .unwrap();
    let msg = format!("{:#}", read_doc_attention_csv(&path).unwrap_err());
    assert!(msg.contains("document_attention.csv:3"), "{msg}");
    assert!(msg.contains("weight") && msg.contains("heavy"), "{msg}");

    // An unescaped comma in a token gives one field too many.
    std::fs::write(
        &path,
        format!("{DOC_ATTENTION_HEADER}\n{good}\n{good}\nAttentiveReader,1,2,,,0.1\n"),
    )
    .unwrap();
    let msg = format!("{:#}", read_doc_attention_csv(&path).unwrap_err());
    assert!(msg.contains("document_attention.csv:4"), "{msg}");
    assert!(msg.contains("found 6"), "{msg}");

    std::fs::write(&path, format!("{DOC_ATTENTION_HEADER}\nA,x,0,the,0.1\n")).unwrap();
    let msg = format!("{:#}", read_doc_attention_csv(&path).unwrap_err());
    assert!(msg.contains(":2") && msg.contains("'seed'"), "{msg}");

    std::fs::write(&path, format!("model,position,token,weight\n{good}\n")).unwrap();
    let msg = format!("{:#}", read_doc_attention_csv(&path).unwrap_err());
    assert!(
        msg.contains("document_attention.csv:1") && msg.contains("header"),
        "{msg}"
    );
    cleanup(&dir);
}

/// A ~300-token CNN-style document with entity markers, and attention weights with
/// a few peaks (on `@entity7` and the words around the answer) over a low floor.
fn doc_example() -> (Vec<String>, Vec<f32>) {
    let sentences = [
        "( @entity0 ) -- @entity1 , the former head of the @entity2 , said on tuesday \
         that he would not seek another term after a long dispute with the board .",
        "the announcement came as a surprise to many in @entity3 , where @entity1 had \
         been expected to run again , according to two people close to the talks .",
        "\" i have done what i came to do , \" @entity1 told reporters outside the \
         headquarters of the @entity2 in @entity4 .",
        "his deputy , @entity7 , is widely seen as the most likely successor , and has \
         the support of most members of the board .",
        "@entity7 , 54 , joined the @entity2 in 1998 after a career in banking in \
         @entity5 and @entity6 , and led its reform programme for the last six years .",
        "critics say the reforms went too far , cutting jobs and closing offices , while \
         supporters credit them with saving the organisation from bankruptcy .",
        "the board will meet next month to discuss the succession , a spokesman for the \
         @entity2 said in a statement on wednesday .",
        "@entity1 , who has led the @entity2 since 2005 , will stay in office until a \
         successor is chosen , the statement said .",
        "members of the board declined to comment on the process , but one said that \
         @entity7 had already begun to talk to other candidates .",
        "the @entity2 has faced growing pressure from @entity8 and @entity9 over its \
         finances , and the dispute with the board centred on a plan to sell part of \
         its property in @entity4 .",
        "@entity1 opposed the plan , saying it would weaken the organisation in the long \
         run , while the board argued it was needed to balance the budget .",
        "the decision ends a tenure marked by both growth and controversy , and opens a \
         new chapter for the @entity2 as it prepares for its centenary next year .",
    ];
    let tokens: Vec<String> = sentences
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_string)
        .collect();
    let mut weights: Vec<f32> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let floor = 0.002 + 0.001 * ((i as f32 * 0.7).sin() + 1.0);
            if t.starts_with("@entity") {
                floor * 3.0
            } else {
                floor
            }
        })
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        if t == "@entity7" {
            weights[i] += 0.08;
        }
        if t == "successor" {
            weights[i] += 0.04;
        }
        if t == "likely" {
            weights[i] += 0.02;
        }
    }
    let sum: f32 = weights.iter().sum();
    (tokens, weights.iter().map(|w| w / sum).collect())
}

#[test]
fn token_shading_wraps_and_grows_with_the_text() {
    let dir = scratch("token-shading");
    let (tokens, weights) = doc_example();
    assert!((280..=330).contains(&tokens.len()), "{}", tokens.len());
    let long = dir.join("long.png");
    token_shading(
        &long,
        "AttentiveReader (seed 1): attention over the document",
        &tokens,
        &weights,
    )
    .unwrap();
    assert_png(&long);
    let (w, h) = png_size(&long);
    assert_eq!(w, 1100);

    // A short document is one or two lines: same width, less height.
    let short = dir.join("short.png");
    token_shading(&short, "short", &tokens[..30], &weights[..30]).unwrap();
    let (ws, hs) = png_size(&short);
    assert_eq!(ws, 1100);
    assert!(hs < h && hs >= 100, "{hs} vs {h}");

    // A flat distribution, all zeros and non-finite weights still draw.
    let flat = vec![1.0 / tokens.len() as f32; tokens.len()];
    token_shading(&dir.join("flat.png"), "flat", &tokens, &flat).unwrap();
    let mut odd = vec![0.0f32; tokens.len()];
    odd[3] = f32::NAN;
    odd[4] = -1.0;
    token_shading(&dir.join("zero.png"), "zero", &tokens, &odd).unwrap();
    assert_png(&dir.join("zero.png"));

    // Bad input writes nothing.
    let bad = dir.join("bad.png");
    assert!(token_shading(&bad, "t", &tokens, &weights[1..]).is_err());
    assert!(token_shading(&bad, "t", &[], &[]).is_err());
    assert!(!bad.exists());
    no_tmp_files(&dir);
    cleanup(&dir);
}

#[test]
fn redraw_folder_with_only_document_attention() {
    let root = scratch("doc-only");
    let dir = root.join("reading-cnn");
    let (tokens, weights) = doc_example();
    let mut rows = Vec::new();
    for (model, seed) in [("ImpatientReader", 2u64), ("AttentiveReader", 1)] {
        for (i, (t, &w)) in tokens.iter().zip(&weights).enumerate() {
            // The impatient reader attends more evenly.
            let w = if model == "ImpatientReader" {
                0.5 * w + 0.5 / tokens.len() as f32
            } else {
                w
            };
            rows.push(doc_row(model, seed, i, t, w as f64));
        }
    }
    write_doc_attention_csv(&dir.join(DOC_ATTENTION_FILE), &rows).unwrap();

    let written = redraw_results_dir(&dir).unwrap();
    let expected: Vec<PathBuf> = [
        "document_attention-AttentiveReader-seed1.png",
        "document_attention-ImpatientReader-seed2.png",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    assert_eq!(written, expected);
    for f in &written {
        assert_png(f);
        assert_eq!(png_size(f).0, 1100);
    }
    no_tmp_files(&dir);

    // redraw_all finds a folder holding only document_attention.csv.
    assert_eq!(redraw_all(&root).unwrap(), expected);
    cleanup(&root);
}
