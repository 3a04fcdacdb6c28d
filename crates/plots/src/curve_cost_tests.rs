//! Learning curves and cost measurements (`learning_curve.csv`, `cost.csv`): exact bytes,
//! errors naming file, line and field, their mean and std by hand, and the figures a folder
//! with only them gets.

use std::path::{Path, PathBuf};

use super::*;
use crate::test_support::{assert_png, no_tmp_files, png_size, scratch};

pub(crate) fn curve_row(model: &str, tml: usize, seed: u64, step: usize, loss: f64) -> CurveRow {
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
    let tmp = scratch("curve-cost-csv");
    let dir = tmp.path();
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
    no_tmp_files(dir);

    // Commas in text fields are refused and leave the old files intact.
    let mut bad = crows.clone();
    bad[1].measure = "a,b".into();
    assert!(write_cost_csv(&cost, &bad).is_err());
    assert_eq!(read_cost_csv(&cost).unwrap(), crows);
    let mut bad = rows.clone();
    bad[0].model = "".into();
    assert!(write_curve_csv(&curve, &bad).is_err());
    assert_eq!(read_curve_csv(&curve).unwrap(), rows);
    no_tmp_files(dir);
}

#[test]
fn malformed_curve_and_cost_csv_name_file_line_and_field() {
    let tmp = scratch("curve-cost-malformed");
    let dir = tmp.path();
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
    let msg = format!("{:#}", redraw_results_dir(dir).unwrap_err());
    assert!(msg.contains("learning_curve.csv:2"), "{msg}");
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
    let tmp = scratch("cost-only");
    let root = tmp.path();
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
    assert_eq!(redraw_all(root).unwrap(), expected);
}

#[test]
fn redraw_learning_curve() {
    let tmp = scratch("learning-curve");
    let dir = tmp.path();
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
    let written = redraw_results_dir(dir).unwrap();
    assert_eq!(written, vec![dir.join("learning_curve.png")]);
    assert_png(&written[0]);
    assert_eq!(png_size(&written[0]), (900, 600));
    no_tmp_files(dir);
}
