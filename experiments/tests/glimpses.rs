//! The glimpses experiment end to end on procedural shapes (no fetched data): the smoke
//! preset writes every output and repeats byte for byte, RAM learns centred shapes in
//! seconds, and bad settings are one-line errors naming the field.

use std::path::PathBuf;
use std::process::Command;

mod common;

/// Runs the glimpses binary on procedural shapes into a fresh `name` folder; returns it,
/// success and stderr.
fn run(name: &str, args: &[&str]) -> (PathBuf, bool, String) {
    common::run_on_shapes(env!("CARGO_BIN_EXE_glimpses"), "glimpses", name, args)
}

/// The value of the metrics.csv row that starts with `prefix` and names `metric`.
fn metric(metrics: &str, prefix: &str, metric: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix) && l.contains(&format!(",{metric},")))
        .unwrap_or_else(|| panic!("no {prefix} {metric} row in\n{metrics}"))
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn smoke_run_writes_every_output_and_repeats_byte_for_byte() {
    let args = ["--preset", "smoke"];
    let (dir, ok, stderr) = run("smoke-a", &args);
    assert!(ok, "{stderr}");
    for file in [
        "config.json",
        "metrics.csv",
        "learning_curve.csv",
        "timings.csv",
        "summary.md",
        "example_images.csv",
        "glimpse_paths.csv",
        "glimpse_patches.csv",
        "cluttered_error.png",
        "cluttered_mflops.png",
        "glimpses-RAM-2-seed1.png",
        "glimpses-RAM-random-2-seed1.png",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    // Every model on the main canvas (side 32), RAM and the CNN on the sweep's (side 40).
    for (model, glimpses) in [("FC-8", 0), ("CNN", 0), ("RAM", 2), ("RAM-random", 2)] {
        let prefix = format!("glimpses,shapes,{model},{glimpses},1,32,32,12,");
        let error = metric(&metrics, &prefix, "cluttered_error");
        assert!((0.0..=100.0).contains(&error), "{model}: {error}");
        assert!(metric(&metrics, &prefix, "cluttered_mflops") > 0.0);
    }
    for model in ["RAM,2", "CNN,0"] {
        metric(
            &metrics,
            &format!("glimpses,shapes,{model},1,40,40,12,"),
            "cluttered_error",
        );
    }
    // RAM's cost does not grow with the canvas; the CNN's does.
    let flops = |model: &str, side: usize| {
        metric(
            &metrics,
            &format!("glimpses,shapes,{model},1,{side},{side},12,"),
            "cluttered_mflops",
        )
    };
    assert_eq!(flops("RAM,2", 32), flops("RAM,2", 40));
    assert!(flops("CNN,0", 40) > flops("CNN,0", 32));
    // Only the learned policy has a mean location to test.
    metric(
        &metrics,
        "glimpses,shapes,RAM,2,",
        "cluttered_error_mean_policy",
    );
    assert!(!metrics.contains("RAM-random,2,1,32,32,12,cluttered_error_mean_policy"));
    let (again, ok, stderr) = run("smoke-b", &args);
    assert!(ok, "{stderr}");
    common::assert_same_results(&dir, &again, "between two runs of the same command");
}

#[test]
fn ram_learns_centred_shapes_in_seconds() {
    let (dir, ok, stderr) = run(
        "centred",
        &[
            "--preset",
            "smoke",
            "--set",
            "canvases=[\"centred-28\"]",
            "--set",
            "glimpse_counts=[2]",
            "--set",
            "random_glimpses=0",
            "--set",
            "baselines=[]",
            "--set",
            "sweep_canvases=[]",
            "--set",
            "test_images=200",
            "--set",
            "train_images=0",
            "--set",
            "shapes_per_class=100",
            "--set",
            "patch=8",
            "--set",
            "d_glimpse=64",
            "--set",
            "d_hidden=64",
            "--set",
            "steps=600",
            "--set",
            "batch_size=32",
            "--set",
            "learning_rate=3e-3",
        ],
    );
    assert!(ok, "{stderr}");
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let error = metric(
        &metrics,
        "glimpses,shapes,RAM,2,1,28,28,200,",
        "centred_error",
    );
    assert!(
        error <= 10.0,
        "RAM-2 on centred shapes: {error}% test error"
    );
}

#[test]
fn bad_settings_are_one_line_errors_naming_the_field() {
    let cases: [(&[&str], &str); 7] = [
        (&["--set", "patch=5"], "patch"),
        (&["--set", "canvases=[\"wobbly-60\"]"], "canvases"),
        (&["--set", "canvases=[]"], "canvases"),
        (
            &["--set", "sweep_canvases=[\"cluttered-32-5\"]"],
            "(kind, side)",
        ),
        (&["--set", "baselines=[\"FC-0\"]"], "baselines"),
        (&["--set", "glimpse_counts=[0]"], "glimpse_counts"),
        (&["--set", "test_images=1000"], "test_images"),
    ];
    common::assert_one_line_errors_naming_the_field(run, &cases);
}

#[test]
fn digits_without_fetched_data_say_what_to_run() {
    let empty = std::env::temp_dir().join("attention-lab-glimpses-no-data");
    let _ = std::fs::remove_dir_all(&empty);
    let _ = std::fs::create_dir_all(&empty);
    let output = Command::new(env!("CARGO_BIN_EXE_glimpses"))
        .args(["--preset", "smoke", "--task", "digits", "--data-dir"])
        .arg(&empty)
        .arg("--out")
        .arg(empty.join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run scripts/fetch-data first"), "{stderr}");
}

#[test]
fn every_preset_is_a_valid_configuration() {
    use experiments::experiment::Preset;
    use experiments::glimpses::{Config, GlimpseTask};
    for preset in [Preset::Quick, Preset::Paper, Preset::Smoke] {
        for task in [
            GlimpseTask::Digits,
            GlimpseTask::Fashion,
            GlimpseTask::Shapes,
        ] {
            let config = Config::preset(preset, &task);
            if let Err(e) = config.validate() {
                panic!("{preset:?} {task:?}: {e}");
            }
        }
    }
}
