//! The glimpse formats (`glimpse_paths.csv`, `glimpse_patches.csv`): exact bytes, errors
//! naming file, line and field, grouping; the error-against-glimpses series by hand; and
//! the figures a `glimpses` results folder gets.

use std::path::PathBuf;

use super::*;
use crate::test_support::scratch;

fn file_names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Both scales of one glimpse centred on (x, y) with 2-pixel patches: squares of 2 and 4
/// pixels around the pixel corner nearest the centre.
#[allow(clippy::too_many_arguments)]
fn glimpse(
    model: &str,
    glimpses: usize,
    seed: u64,
    example: usize,
    step: usize,
    (x, y): (f64, f64),
    (label, predicted): (usize, usize),
) -> Vec<GlimpsePathRow> {
    let (cx, cy) = ((x + 0.5).floor() as i64, (y + 0.5).floor() as i64);
    (0..2)
        .map(|scale| {
            let side = 2usize << scale;
            GlimpsePathRow {
                model: model.into(),
                train_max_len: glimpses,
                seed,
                example,
                step,
                x,
                y,
                scale,
                left: cx - side as i64 / 2,
                top: cy - side as i64 / 2,
                side,
                label,
                predicted,
            }
        })
        .collect()
}

/// The 2 × 2 patch of one scale of one glimpse, every pixel `value`.
fn patch(path: &GlimpsePathRow, value: f64) -> Vec<GlimpsePatchRow> {
    (0..4)
        .map(|i| GlimpsePatchRow {
            model: path.model.clone(),
            train_max_len: path.train_max_len,
            seed: path.seed,
            example: path.example,
            step: path.step,
            scale: path.scale,
            y: i / 2,
            x: i % 2,
            value,
        })
        .collect()
}

#[test]
fn glimpse_csvs_round_trip_with_fixed_decimals() {
    let tmp = scratch("round-trip");
    let dir = tmp.path();
    let path = dir.join(GLIMPSE_PATHS_FILE);
    let rows = glimpse("RAM", 4, 1, 0, 2, (0.6, 27.25), (7, 1));
    write_glimpse_paths_csv(&path, &rows).unwrap();
    // Centres with 2 decimals; a square may stick out of the canvas (negative corner).
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!(
            "{GLIMPSE_PATHS_HEADER}\nRAM,4,1,0,2,0.60,27.25,0,0,26,2,7,1\n\
             RAM,4,1,0,2,0.60,27.25,1,-1,25,4,7,1\n"
        )
    );
    assert_eq!(read_glimpse_paths_csv(&path).unwrap(), rows);

    let path = dir.join(GLIMPSE_PATCHES_FILE);
    let mut rows = patch(
        &glimpse("RAM-random", 2, 3, 5, 1, (3.0, 3.0), (0, 0))[1],
        0.5,
    );
    rows[3].value = 0.123456;
    write_glimpse_patches_csv(&path, &rows).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!(
            "{GLIMPSE_PATCHES_HEADER}\nRAM-random,2,3,5,1,1,0,0,0.5000\n\
             RAM-random,2,3,5,1,1,0,1,0.5000\nRAM-random,2,3,5,1,1,1,0,0.5000\n\
             RAM-random,2,3,5,1,1,1,1,0.1235\n"
        )
    );
    let back = read_glimpse_patches_csv(&path).unwrap();
    assert_eq!(back[..3], rows[..3]);
    assert_eq!(back[3].value, 0.1235);
}

#[test]
fn malformed_glimpse_csvs_name_file_line_and_field() {
    let tmp = scratch("malformed");
    let dir = tmp.path();
    let path = dir.join(GLIMPSE_PATHS_FILE);
    std::fs::write(
        &path,
        format!("{GLIMPSE_PATHS_HEADER}\nRAM,4,1,0,0,3.00,3.00,0,2,2,2,7,7\nRAM,4,1,0,1,3.00,3.00,0,two,2,2,7,7\n"),
    )
    .unwrap();
    let msg = format!("{:#}", read_glimpse_paths_csv(&path).unwrap_err());
    assert!(
        msg.starts_with(&format!("{}:3: field 'left': ", path.display()))
            && msg.ends_with("\"two\""),
        "{msg}"
    );
    // The older layout without label and prediction is refused by its header.
    std::fs::write(
        &path,
        "model,train_max_len,seed,example,step,x,y,scale,left,top,side\n",
    )
    .unwrap();
    let msg = format!("{:#}", read_glimpse_paths_csv(&path).unwrap_err());
    assert!(msg.contains(":1: wrong header"), "{msg}");

    let path = dir.join(GLIMPSE_PATCHES_FILE);
    std::fs::write(
        &path,
        format!("{GLIMPSE_PATCHES_HEADER}\n\nRAM,4,1,0,0,0,1,1\n"),
    )
    .unwrap();
    let msg = format!("{:#}", read_glimpse_patches_csv(&path).unwrap_err());
    assert!(
        msg.starts_with(&format!(
            "{}:3: expected 9 comma-separated fields",
            path.display()
        )) && msg.contains("found 8; field 'value' is missing"),
        "{msg}"
    );
}

#[allow(clippy::too_many_arguments)]
fn metric(
    experiment: &str,
    model: &str,
    glimpses: usize,
    seed: u64,
    side: usize,
    metric: &str,
    value: f64,
) -> MetricRow {
    MetricRow {
        experiment: experiment.into(),
        task: "digits".into(),
        model: model.into(),
        train_max_len: glimpses,
        seed,
        len_lo: side,
        len_hi: side,
        n: 1000,
        metric: metric.into(),
        value,
    }
}

/// Cluttered 60 × 60: RAM at 2 and 4 glimpses, RAM-random at 2 and 4, FC-64 and CNN;
/// then rows that must not count (another side, another kind, a cost, a NaN).
fn glimpse_metrics(experiment: &str) -> Vec<MetricRow> {
    let m = |model: &str, glimpses: usize, seed: u64, value: f64| {
        metric(
            experiment,
            model,
            glimpses,
            seed,
            60,
            "cluttered_error",
            value,
        )
    };
    vec![
        m("RAM", 2, 1, 10.0),
        m("RAM", 2, 2, 14.0),
        m("RAM", 4, 1, 6.0),
        m("RAM", 4, 2, 8.0),
        m("RAM", 4, 3, 10.0),
        m("RAM-random", 2, 1, 20.0),
        m("RAM-random", 4, 1, 18.0),
        m("RAM-random", 4, 2, 22.0),
        m("FC-64", 0, 1, 30.0),
        m("FC-64", 0, 2, 34.0),
        m("CNN", 0, 1, 5.0),
        m("RAM", 4, 4, f64::NAN),
        metric(experiment, "RAM", 2, 1, 100, "cluttered_error", 50.0),
        metric(experiment, "RAM", 2, 1, 60, "translated_error", 50.0),
        metric(experiment, "RAM", 2, 1, 60, "cluttered_mflops", 0.4),
        metric(experiment, "RAM-random", 6, 1, 60, "translated_error", 45.0),
        metric(experiment, "CNN", 0, 1, 60, "translated_error", 3.0),
    ]
}

#[test]
fn error_vs_glimpses_mean_and_std_by_hand() {
    let shown = error_vs_glimpses(&glimpse_metrics("glimpses"), "cluttered", 60);
    let r8 = 8f64.sqrt(); // the sample std of two values 4 apart
    assert_eq!(
        shown.series,
        [
            Series {
                name: "RAM".into(),
                points: vec![(2.0, 12.0, r8), (4.0, 8.0, 2.0)],
            },
            Series {
                name: "RAM-random".into(),
                points: vec![(2.0, 20.0, 0.0), (4.0, 20.0, r8)],
            },
        ]
    );
    assert_eq!(
        shown.baselines,
        [
            Baseline {
                name: "CNN".into(),
                mean: 5.0,
                std: 0.0,
            },
            Baseline {
                name: "FC-64".into(),
                mean: 32.0,
                std: r8,
            },
        ]
    );
    // Nothing at a side or kind without rows.
    let none = error_vs_glimpses(&glimpse_metrics("glimpses"), "centred", 28);
    assert!(none.series.is_empty() && none.baselines.is_empty());
}

#[test]
fn redraw_writes_error_vs_glimpses_only_with_two_glimpse_counts() {
    let dir_tmp = scratch("error-vs-glimpses");
    let dir = dir_tmp.path();
    write_metrics_csv(&dir.join(METRICS_FILE), &glimpse_metrics("glimpses")).unwrap();
    let written = file_names(&redraw_results_dir(dir).unwrap());
    // Translated has two glimpse counts too (2 and 6) but each model only one: no figure.
    assert_eq!(
        written,
        [
            "summary.md",
            "cluttered_error.png",
            "cluttered_mflops.png",
            "translated_error.png",
            "error_vs_glimpses-cluttered-60.png",
        ]
    );
    let figure = dir.join("error_vs_glimpses-cluttered-60.png");
    assert_eq!(&std::fs::read(&figure).unwrap()[..4], b"\x89PNG");
    assert!(!dir.join("error_vs_glimpses-translated-60.png").exists());
    let summary = std::fs::read_to_string(dir.join(SUMMARY_FILE)).unwrap();
    assert!(
        summary.contains("canvas side (pixels) buckets"),
        "{summary}"
    );

    // Another experiment's rows get the generic figures only.
    let other_tmp = scratch("error-vs-glimpses-other");
    let other = other_tmp.path();
    write_metrics_csv(&other.join(METRICS_FILE), &glimpse_metrics("other")).unwrap();
    let written = file_names(&redraw_results_dir(other).unwrap());
    assert!(
        !written.iter().any(|f| f.starts_with("error_vs_glimpses")),
        "{written:?}"
    );

    // Two tasks: every figure is prefixed with its experiment and task.
    let mut rows = glimpse_metrics("glimpses");
    rows.extend(glimpse_metrics("glimpses").into_iter().map(|mut r| {
        r.task = "letters".into();
        r
    }));
    write_metrics_csv(&other.join(METRICS_FILE), &rows).unwrap();
    let written = file_names(&redraw_results_dir(other).unwrap());
    assert!(written.contains(&"glimpses-letters-error_vs_glimpses-cluttered-60.png".to_string()));
    assert!(written.contains(&"glimpses-digits-error_vs_glimpses-cluttered-60.png".to_string()));
}

/// Two runs over examples 0 and 1 (two glimpses each), every square with its patch.
fn two_runs() -> (Vec<GlimpsePathRow>, Vec<GlimpsePatchRow>) {
    let mut paths = Vec::new();
    for (model, seed) in [("RAM", 1), ("RAM-random", 1)] {
        for example in [1, 0] {
            for step in [1, 0] {
                let centre = (1.0 + 3.0 * step as f64, 2.5);
                paths.extend(glimpse(model, 2, seed, example, step, centre, (example, 0)));
            }
        }
    }
    let patches = paths
        .iter()
        .flat_map(|p| patch(p, (p.step * 2 + p.scale) as f64 / 4.0))
        .collect();
    (paths, patches)
}

#[test]
fn glimpse_runs_group_by_run_example_step_and_scale() {
    let (paths, patches) = two_runs();
    let runs = glimpse_runs(&paths, &patches).unwrap();
    let keys: Vec<(&str, usize, u64)> = runs
        .iter()
        .map(|r| (r.model.as_str(), r.train_max_len, r.seed))
        .collect();
    assert_eq!(keys, [("RAM", 2, 1), ("RAM-random", 2, 1)]);
    let e = &runs[0].examples[1];
    assert_eq!((e.example, e.label, e.predicted), (1, 1, 0));
    let steps: Vec<usize> = e.steps.iter().map(|s| s.step).collect();
    assert_eq!(steps, [0, 1]);
    let s = &e.steps[1];
    assert_eq!((s.x, s.y), (4.0, 2.5));
    assert_eq!(
        s.squares,
        [
            ScaleSquare {
                scale: 0,
                left: 3,
                top: 2,
                side: 2,
            },
            ScaleSquare {
                scale: 1,
                left: 2,
                top: 1,
                side: 4,
            },
        ]
    );
    assert_eq!(
        s.patches[1],
        Some(GreyPatch {
            side: 2,
            values: vec![0.75; 4],
        })
    );
    // Without patches every square has none.
    let bare = glimpse_runs(&paths, &[]).unwrap();
    assert!(
        bare[0].examples[0].steps[0]
            .patches
            .iter()
            .all(Option::is_none)
    );

    let error = |paths: &[GlimpsePathRow], patches: &[GlimpsePatchRow]| {
        format!("{:#}", glimpse_runs(paths, patches).unwrap_err())
    };
    let mut twice = paths.clone();
    twice.push(paths[0].clone());
    let msg = error(&twice, &patches);
    assert!(
        msg.contains("RAM (2 glimpses) seed 1 example 1 step 1: scale 0 is given twice"),
        "{msg}"
    );
    let msg = error(&paths[2..], &patches);
    assert!(
        msg.contains("the patch of RAM (2 glimpses) seed 1 example 1 step 1 scale 0 has no row"),
        "{msg}"
    );
    let msg = error(&paths, &patches[1..]);
    assert!(
        msg.contains("pixel (y 0, x 0) of its 2 × 2 is missing"),
        "{msg}"
    );
    let mut wide = patches.clone();
    wide[0].x = 2;
    let msg = error(&paths, &wide);
    assert!(msg.contains("2 rows and 3 columns, not a square"), "{msg}");
}

/// Every pixel of a grey 6 × 6 canvas per example.
fn canvases(examples: &[usize]) -> Vec<ExampleImageRow> {
    let mut rows = Vec::new();
    for &example in examples {
        for y in 0..6 {
            for x in 0..6 {
                let v = ((x + y + example) % 4) as f64 / 3.0;
                rows.push(ExampleImageRow {
                    example,
                    y,
                    x,
                    red: v,
                    green: v,
                    blue: v,
                });
            }
        }
    }
    rows
}

#[test]
fn redraw_draws_one_glimpse_figure_per_run() {
    let dir_tmp = scratch("paths");
    let dir = dir_tmp.path();
    let (paths, patches) = two_runs();
    write_glimpse_paths_csv(&dir.join(GLIMPSE_PATHS_FILE), &paths).unwrap();
    // Without canvases the figure cannot be drawn.
    let msg = format!("{:#}", redraw_results_dir(dir).unwrap_err());
    assert!(
        msg.contains("glimpse_paths.csv needs the canvases of example_images.csv"),
        "{msg}"
    );

    write_example_images_csv(&dir.join(EXAMPLE_IMAGES_FILE), &canvases(&[0])).unwrap();
    let msg = format!("{:#}", redraw_results_dir(dir).unwrap_err());
    assert!(
        msg.contains("example 1 of glimpse_paths.csv (RAM with 2 glimpses, seed 1) is not in"),
        "{msg}"
    );

    write_example_images_csv(&dir.join(EXAMPLE_IMAGES_FILE), &canvases(&[0, 1])).unwrap();
    write_glimpse_patches_csv(&dir.join(GLIMPSE_PATCHES_FILE), &patches).unwrap();
    let written = redraw_all(dir).unwrap();
    assert_eq!(
        file_names(&written),
        [
            "glimpses-RAM-2-seed1.png",
            "glimpses-RAM-random-2-seed1.png"
        ]
    );
    for path in &written {
        assert_eq!(&std::fs::read(path).unwrap()[..4], b"\x89PNG");
    }
    // A broken patch names the files it was read from.
    let mut broken = patches.clone();
    broken.push(broken[0].clone());
    write_glimpse_patches_csv(&dir.join(GLIMPSE_PATCHES_FILE), &broken).unwrap();
    let msg = format!("{:#}", redraw_results_dir(dir).unwrap_err());
    assert!(
        msg.contains("glimpse_patches.csv") && msg.contains("is given twice"),
        "{msg}"
    );

    // The patches alone make a results folder, but draw nothing.
    let only_tmp = scratch("patches-only");
    let only = only_tmp.path();
    write_glimpse_patches_csv(&only.join(GLIMPSE_PATCHES_FILE), &patches).unwrap();
    assert!(RESULT_FILES.contains(&GLIMPSE_PATCHES_FILE));
    assert!(redraw_results_dir(only).unwrap().is_empty());
}
