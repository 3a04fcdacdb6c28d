//! The captioning experiment end to end on procedural shapes (no fetched data): the smoke
//! preset writes every output, the same command writes the same bytes, and bad settings
//! are one-line errors naming the field.

use std::path::PathBuf;
use std::process::Command;

/// Runs the captioning binary into a fresh `name` folder; returns it and stderr.
fn run(name: &str, args: &[&str]) -> (PathBuf, bool, String) {
    let out = std::env::temp_dir().join(format!("attention-lab-captioning-{name}"));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_captioning"))
        .args(["--task", "shapes", "--out"])
        .arg(&out)
        .args(args)
        .output()
        .expect("the captioning binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (out.join("shapes"), output.status.success(), stderr)
}

#[test]
fn smoke_run_writes_every_output_and_repeats_byte_for_byte() {
    let args = ["--preset", "smoke", "--set", "steps=6"];
    let (dir, ok, stderr) = run("smoke-a", &args);
    assert!(ok, "{stderr}");
    for file in [
        "config.json",
        "metrics.csv",
        "learning_curve.csv",
        "timings.csv",
        "summary.md",
        "bleu4.png",
        "semantic_accuracy.png",
        "compositional_semantic_accuracy.png",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    for variant in ["none", "soft", "hard"] {
        assert!(metrics.contains(&format!("captioning,shapes,{variant},0,1,0,0,12,bleu4,")));
        // One bucket per number of objects present in the test scenes.
        assert!(
            metrics.contains(&format!(",{variant},0,1,1,1,")),
            "{metrics}"
        );
    }
    let (again, ok, stderr) = run("smoke-b", &args);
    assert!(ok, "{stderr}");
    for file in ["metrics.csv", "learning_curve.csv"] {
        assert_eq!(
            std::fs::read(dir.join(file)).unwrap(),
            std::fs::read(again.join(file)).unwrap(),
            "{file} differs between two runs of the same command"
        );
    }
}

#[test]
fn bad_settings_are_one_line_errors_naming_the_field() {
    let cases: [(&[&str], &str); 3] = [
        (&["--set", "canvas=25"], "canvas"),
        (&["--set", "variants=[]"], "'variants'"),
        (&["--set", "max_objects=12"], "max_objects"),
    ];
    for (args, field) in cases {
        let mut argv = vec!["--preset", "smoke"];
        argv.extend_from_slice(args);
        let (_, ok, stderr) = run("bad", &argv);
        assert!(!ok, "{args:?} ran");
        assert!(stderr.contains(field), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn scenes_without_fetched_data_say_what_to_run() {
    let output = Command::new(env!("CARGO_BIN_EXE_captioning"))
        .args(["--preset", "smoke", "--data-dir", "/nonexistent", "--out"])
        .arg(std::env::temp_dir().join("attention-lab-captioning-nodata"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run scripts/fetch-data first"), "{stderr}");
}
