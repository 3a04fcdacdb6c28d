//! The captioning experiment end to end on procedural shapes (no fetched data): the smoke
//! preset writes every output, the same command writes the same bytes, and bad settings
//! are one-line errors naming the field.

use std::path::PathBuf;
use std::process::Command;

mod common;

/// Runs the captioning binary on procedural shapes into a fresh `name` folder; returns it,
/// success and stderr.
fn run(name: &str, args: &[&str]) -> (PathBuf, bool, String) {
    common::run_on_shapes(env!("CARGO_BIN_EXE_captioning"), "captioning", name, args)
}

/// The smoke preset cut to 4 steps, soft attention only.
const SOFT_SMOKE: [&str; 6] = [
    "--preset",
    "smoke",
    "--set",
    "steps=4",
    "--set",
    r#"variants=["soft"]"#,
];

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
        "example_images.csv",
        "image_attention.csv",
        "attention-soft-seed1-example0.png",
        "attention-hard-seed1-example0.png",
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
    common::assert_same_results(&dir, &again, "between two runs of the same command");
}

/// `beam` above 1 captions the test scenes by beam search: the run records it, scores the
/// captions and draws their attention (the weights of every generated word).
#[test]
fn beam_search_captions_and_draws_attention() {
    let mut args = SOFT_SMOKE.to_vec();
    args.extend(["--set", "beam=3"]);
    let (dir, ok, stderr) = run("beam", &args);
    assert!(ok, "{stderr}");
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert!(config.contains(r#""beam": 3"#), "{config}");
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    for metric in ["bleu4", "semantic_accuracy"] {
        assert!(
            metrics.contains(&format!("captioning,shapes,soft,0,1,0,0,12,{metric},")),
            "{metric}:\n{metrics}"
        );
    }
    let attention = std::fs::read_to_string(dir.join("image_attention.csv")).unwrap();
    assert!(attention.lines().count() > 1, "{attention}");
    assert!(dir.join("attention-soft-seed1-example0.png").exists());
}

/// `encoder_tuning: fine-tune` trains the encoder with each captioner: the learning curve
/// leaves the frozen run's from the first step on (the same batches, the same decoder
/// initialization, only the encoder's gradient differs), and the choice is recorded.
#[test]
fn a_fine_tuned_encoder_learns_from_the_captions() {
    let base = SOFT_SMOKE;
    let (frozen, ok, stderr) = run("frozen", &base);
    assert!(ok, "{stderr}");
    let mut args = base.to_vec();
    args.extend(["--set", "encoder_tuning=fine-tune"]);
    let (tuned, ok, stderr) = run("fine-tuned", &args);
    assert!(ok, "{stderr}");
    let config = std::fs::read_to_string(tuned.join("config.json")).unwrap();
    assert!(
        config.contains(r#""encoder_tuning": "fine-tune""#),
        "{config}"
    );
    let curve = |dir: &PathBuf| std::fs::read_to_string(dir.join("learning_curve.csv")).unwrap();
    let (frozen, tuned) = (curve(&frozen), curve(&tuned));
    let first_loss = |csv: &str| -> f64 {
        let row = csv.lines().nth(1).expect("a learning-curve row");
        row.rsplit(',').next().unwrap().parse().unwrap()
    };
    // Step 1's loss is computed before any update: the same in both runs (up to the last
    // bits of convolutions batched differently).
    let (a, b) = (first_loss(&frozen), first_loss(&tuned));
    assert!((a - b).abs() < 1e-4 * a.abs(), "{a} vs {b}");
    assert_ne!(frozen, tuned, "fine-tuning changed nothing");
}

#[test]
fn bad_settings_are_one_line_errors_naming_the_field() {
    let cases: [(&[&str], &str); 4] = [
        (&["--set", "canvas=25"], "canvas"),
        (&["--set", "variants=[]"], "'variants'"),
        (&["--set", "max_objects=12"], "max_objects"),
        (&["--set", r#"exclude_classes=["shirt"]"#], "'shirt'"),
    ];
    common::assert_one_line_errors_naming_the_field(run, &cases);
}

/// Without the ring and the cross the run has four classes of six, its vocabulary (every
/// word of the training captions) two words fewer, and no generated word names either.
#[test]
fn excluded_classes_appear_in_no_scene() {
    let vocab = |stderr: &str| -> usize {
        let line = stderr.lines().find(|l| l.starts_with("captioning: vocab "));
        line.and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no vocabulary size in {stderr}"))
    };
    let (_, ok, all) = run("all-classes", &SOFT_SMOKE);
    assert!(ok, "{all}");
    let mut args = SOFT_SMOKE.to_vec();
    args.extend(["--set", r#"exclude_classes=["ring","cross"]"#]);
    let (dir, ok, fewer) = run("exclude", &args);
    assert!(ok, "{fewer}");
    assert!(
        all.contains(": 6 classes") && fewer.contains(": 4 classes"),
        "{fewer}"
    );
    assert_eq!(vocab(&fewer), vocab(&all) - 2);
    let words = std::fs::read_to_string(dir.join("image_attention.csv")).unwrap();
    assert!(words.lines().count() > 1, "{words}");
    for word in [",ring,", ",cross,"] {
        assert!(!words.contains(word), "{word} in {words}");
    }
}

#[test]
fn scenes_without_fetched_data_say_what_to_run() {
    // Twice: the first failure must leave nothing that refuses the second.
    let bin = env!("CARGO_BIN_EXE_captioning");
    common::assert_missing_data_says_fetch(bin, "captioning", "scenes", 2);
}

#[test]
fn a_karpathy_split_file_with_its_images_is_captioned_and_scored_by_bleu() {
    let root = std::env::temp_dir().join("attention-lab-captioning-karpathy");
    let _ = std::fs::remove_dir_all(&root);
    let images = root.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let mut entries = Vec::new();
    for i in 0..12 {
        let (colour, rgb) = if i % 2 == 0 {
            ("red", [200, 0, 0])
        } else {
            ("blue", [0, 0, 200])
        };
        let name = format!("{i}.png");
        // Odd sizes on purpose: the loader resizes to the canvas.
        image::RgbImage::from_pixel(30 + i, 26, image::Rgb(rgb))
            .save(images.join(&name))
            .unwrap();
        let split = if i < 8 { "train" } else { "test" };
        entries.push(format!(
            r#"{{"filename": "{name}", "split": "{split}", "sentences": [{{"tokens": ["a", "{colour}", "square"]}}, {{"tokens": ["a", "{colour}", "picture"]}}]}}"#
        ));
    }
    let json = root.join("dataset_toy.json");
    std::fs::write(
        &json,
        format!(
            r#"{{"images": [{}], "dataset": "toy"}}"#,
            entries.join(", ")
        ),
    )
    .unwrap();
    let task = format!("karpathy:{}", json.display());
    let images_dir = format!("images_dir={}", images.display());
    let (dir, ok, stderr) = {
        let out = root.join("out");
        let output = Command::new(env!("CARGO_BIN_EXE_captioning"))
            .args([
                "--preset",
                "smoke",
                "--task",
                &task,
                "--set",
                &images_dir,
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        (
            out.join("karpathy-dataset_toy"),
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert!(ok, "{stderr}");
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(metrics.contains(",soft,0,1,0,0,4,bleu4,"), "{metrics}");
    assert!(
        !metrics.contains("semantic_accuracy"),
        "photographs have no facts"
    );
    // Without the image folder the error says which setting is missing.
    let output = Command::new(env!("CARGO_BIN_EXE_captioning"))
        .args(["--preset", "smoke", "--task", &task, "--print-config"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let output = Command::new(env!("CARGO_BIN_EXE_captioning"))
        .args(["--preset", "smoke", "--task", &task, "--out"])
        .arg(root.join("none"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("images_dir"), "{stderr}");
}

/// Single-object scenes of procedural shapes, small enough to train in seconds. Chance
/// for a caption with the right size, colour and shape is 1/2 × 1/6 × 1/6, under 3%.
#[test]
fn soft_attention_learns_to_name_single_objects() {
    let args = [
        "--preset",
        "smoke",
        "--set",
        "canvas=48",
        "--set",
        "grid=6",
        "--set",
        "max_objects=1",
        "--set",
        "train_scenes=400",
        "--set",
        "test_scenes=200",
        "--set",
        "compositional_scenes=0",
        "--set",
        "held_out_pairs=0",
        "--set",
        "encoder_channels=[8,16]",
        "--set",
        "d_annotation=32",
        "--set",
        "pretrain_steps=600",
        "--set",
        "pretrain_learning_rate=1e-2",
        "--set",
        "steps=400",
        "--set",
        "batch_size=32",
        "--set",
        "d_embed=32",
        "--set",
        "d_hidden=64",
        "--set",
        "d_attention=32",
        "--set",
        r#"variants=["soft"]"#,
        "--set",
        "glyphs_per_class=20",
        "--set",
        "eval_batch_size=64",
    ];
    let (dir, ok, stderr) = run("learns", &args);
    assert!(ok, "{stderr}");
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let value = |metric: &str| -> f64 {
        let prefix = format!("captioning,shapes,soft,0,1,0,0,200,{metric},");
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {metric} row:\n{metrics}"));
        line[prefix.len()..].parse().unwrap()
    };
    // Measured 98.5% (objects and colours 100%) on the machine that wrote this test; 81% before
    // scenes cropped glyphs to their ink: sizes were what the rest missed, since a small
    // shape at its largest had the ink of a large one at its smallest. With the encoder
    // pretrained 300 steps at 3e-3 it detected a third of the shapes and the captions were
    // 52% right.
    assert!(value("semantic_accuracy") >= 90.0, "{metrics}");
    assert!(value("object_accuracy") >= 95.0, "{metrics}");
    assert!(value("bleu4") >= 80.0, "{metrics}");
    assert!(
        value("pointing_accuracy") >= 4.0 * value("pointing_chance"),
        "{metrics}"
    );
}
