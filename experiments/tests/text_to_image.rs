//! The text-to-image experiment end to end on procedural shapes (no fetched data): the smoke
//! preset writes every output, the same bytes on 2 threads and on 1, and bad settings are
//! one-line errors naming the field.

use std::path::PathBuf;

mod common;

/// Runs the text-to-image binary on procedural shapes into a fresh `name` folder; returns it,
/// success and stderr.
fn run(name: &str, args: &[&str]) -> (PathBuf, bool, String) {
    common::run_on_shapes(
        env!("CARGO_BIN_EXE_text-to-image"),
        "text-to-image",
        name,
        args,
    )
}

#[test]
fn smoke_run_writes_every_output_and_repeats_byte_for_byte_at_any_thread_count() {
    let (dir, ok, stderr) = run("smoke-a", &["--preset", "smoke", "--threads", "2"]);
    assert!(ok, "{stderr}");
    for file in [
        "config.json",
        "metrics.csv",
        "learning_curve.csv",
        "timings.csv",
        "summary.md",
        "r_precision.png",
        "semantic_accuracy.png",
        "example_images.csv",
        "example_captions.csv",
        "generated_images.csv",
        "image_attention.csv",
        "samples.png",
        "word-attention-attngan-seed1-example0.png",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    for model in ["real", "attngan", "sentence-only", "no-damsm"] {
        for metric in [
            "r_precision",
            "hard_r_precision",
            "word_r_precision",
            "word_hard_r_precision",
            "hard_pairwise_accuracy",
            "semantic_accuracy",
            "fid",
        ] {
            assert!(
                metrics.contains(&format!(",{model},0,"))
                    && metrics.contains(&format!(",0,0,20,{metric},")),
                "{model} {metric}: {metrics}"
            );
        }
    }
    // Word pointing for the variants with word attention only.
    for (model, has_maps) in [
        ("attngan", true),
        ("no-damsm", true),
        ("sentence-only", false),
    ] {
        let pointing = format!(",{model},0,1,0,0,20,word_pointing_accuracy,");
        assert_eq!(metrics.contains(&pointing), has_maps, "{model}: {metrics}");
    }
    assert!(!metrics.contains(",real,0,0,0,0,20,word_pointing"));
    // No word attention, no attention rows.
    let attention = std::fs::read_to_string(dir.join("image_attention.csv")).unwrap();
    assert!(attention.contains("\nattngan,1,"));
    assert!(!attention.contains("sentence-only"));
    // The convolutions and fused activations split their work between the threads; no
    // number may depend on how.
    let (again, ok, stderr) = run("smoke-b", &["--preset", "smoke", "--threads", "1"]);
    assert!(ok, "{stderr}");
    common::assert_same_results(&dir, &again, "between 2 threads and 1");
}

#[test]
fn bad_settings_are_one_line_errors_naming_the_field() {
    let cases: [(&[&str], &str); 5] = [
        (&["--set", "canvas=20"], "canvas"),
        (&["--set", "variants=[]"], "'variants'"),
        (&["--set", "eval_damsm_seed=0"], "eval_damsm_seed"),
        (&["--set", "batch_size=1"], "batch_size"),
        (&["--set", "candidates=50"], "test_scenes"),
    ];
    common::assert_one_line_errors_naming_the_field(run, &cases);
}

#[test]
fn scenes_without_fetched_data_say_what_to_run() {
    let bin = env!("CARGO_BIN_EXE_text-to-image");
    common::assert_missing_data_says_fetch(bin, "text-to-image", "scenes", 1);
}

#[test]
fn every_preset_is_a_valid_configuration() {
    use experiments::experiment::Preset;
    use experiments::text_to_image::{Config, TextToImageTask};
    for preset in [Preset::Quick, Preset::Paper, Preset::Smoke] {
        for task in [TextToImageTask::Scenes, TextToImageTask::Shapes] {
            let config = Config::preset(preset, &task);
            if let Err(e) = config.validate() {
                panic!("{preset:?} {task:?}: {e}");
            }
        }
    }
    let long = Config::long(&TextToImageTask::Scenes).expect("a long preset on scenes");
    long.validate().expect("the long preset is valid");
    assert_eq!((long.preset.as_str(), long.steps), ("long", 3500));
    assert!(Config::long(&TextToImageTask::Shapes).is_none());
}

/// A discriminator that wins outright stops the run with the variant, seed and step, and
/// keeps nothing half-written.
#[test]
fn a_collapsed_discriminator_stops_the_run_naming_variant_seed_and_step() {
    // Any loss is below 1e9: the first step already counts as collapsed.
    let args = [
        "--preset",
        "smoke",
        "--set",
        "collapse_loss=1e9",
        "--set",
        "collapse_window=1",
    ];
    let (dir, ok, stderr) = run("collapse", &args);
    assert!(!ok, "the run went on: {stderr}");
    assert!(
        stderr.contains("attngan seed 1: the discriminators won at step 1"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.join("metrics.csv").exists(), "no cell finished");
}
