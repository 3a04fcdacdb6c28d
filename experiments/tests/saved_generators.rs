//! Text-to-image generators as files (`--save-models`) and the `draw` command.
//!
//! - In process, on the smoke preset's procedural shapes: the `attngan` cell run with a model
//!   folder returns the same record as without one (saving changes no result), and the text
//!   encoder and generator loaded back draw the same stage-2 images and word attention, bit
//!   for bit, as the cell's trained ones on the same caption ids and the same noise tensor.
//! - A `model.json` edited to another size is refused, naming `model.safetensors` and the
//!   tensor; one edited to another conditioning than its variant's, naming the field.
//! - The `draw` command on a smoke run's folders: a PNG of the model's image size, the same
//!   bytes for the same seed and others for another, `--samples 2` twice as wide with the one
//!   sample's image on the left, one file per caption for several, `--attention`'s figure,
//!   and one-line errors (exit status 1) for an unknown word and for `--attention` with a
//!   sentence-only model.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use common::saved::lock;
use common::scratch;
use experiments::experiment::{Cell, CellContext, Experiment, Preset};
use experiments::saved_model::generator::LoadedGenerator;
use experiments::saved_model::{DESCRIPTION_FILE, WEIGHTS_FILE, inference_device};
use experiments::text_to_image::pretrain::tokens_tensor;
use experiments::text_to_image::stage2_images;
use experiments::text_to_image::{
    TextToImage, TextToImageTask, Variant, draw_captions, train_cell,
};
use models::vision::GeneratorNoise;

/// The values of a tensor as bits, for comparisons to the bit.
fn bits<const D: usize>(tensor: Tensor<D>) -> Vec<u32> {
    tensor.into_data().iter::<f32>().map(f32::to_bits).collect()
}

/// The `models` folder of one smoke run of `text-to-image --task shapes --save-models`
/// (every variant, seed 1), run once for the tests that read it.
///
/// A static is never dropped, so the run's folder has a fixed name (no process id): the next
/// run of these tests replaces it rather than leaving another one behind.
fn smoke_models() -> PathBuf {
    static SMOKE_RUN: OnceLock<PathBuf> = OnceLock::new();
    let out = SMOKE_RUN.get_or_init(|| {
        let out = std::env::temp_dir().join("attention-lab-saved-generators-smoke-run");
        let _ = std::fs::remove_dir_all(&out);
        let output = Command::new(env!("CARGO_BIN_EXE_text-to-image"))
            .args([
                "--preset",
                "smoke",
                "--task",
                "shapes",
                "--save-models",
                "--out",
            ])
            .arg(&out)
            .output()
            .expect("the text-to-image binary runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    });
    out.join("shapes").join("models")
}

/// Runs `draw` with `args`; returns success, exit code, stdout and stderr.
fn draw(args: &[&str]) -> (bool, Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_draw"))
        .args(args)
        .output()
        .expect("the draw binary runs");
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        output.status.success(),
        output.status.code(),
        text(output.stdout),
        text(output.stderr),
    )
}

/// A failed `draw`: exit status 1, one line on stderr naming every one of `names`.
fn assert_one_line_error(result: &(bool, Option<i32>, String, String), names: &[&str]) {
    assert_eq!(result.1, Some(1), "{}", result.3);
    common::saved::assert_one_line_error(result.0, &result.3, names);
}

/// Decodes a PNG file to its size and RGB bytes.
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let image = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    (image.width(), image.height(), image.into_raw())
}

/// The `attngan` cell with a model folder and without: the same record. Then the folder's
/// text encoder and generator against the cell's own on three test captions' ids and one
/// fixed noise tensor (made from a formula, not drawn): the same stage-2 images and attention
/// weights, bit for bit. The cell's generator is trained again by `train_cell`, the function
/// `run_cell` trains with: training is deterministic in the configuration, data and cell (the
/// two records above agree to the bit), so this is the generator the cell saved, and the
/// comparison needs no access to the noise the cell drew from the device's generator. The text
/// encoder the cell conditioned on is the run's frozen DAMSM's (`data.damsm.text`). Both sides
/// draw through `draw_captions`, the one drawing path of the experiment's test images.
#[test]
fn a_loaded_generator_draws_as_its_cell_bit_for_bit() {
    let _lock = lock();
    let task = TextToImageTask::Shapes;
    let config = TextToImage::preset(Preset::Smoke, &task);
    let data = TextToImage::load(&config, &task, Path::new("data")).unwrap();
    let cell = Cell::new("attngan", 0, config.seeds[0]);
    let tmp = scratch("attngan");
    let dir = tmp.path().join("model");
    let context = CellContext {
        model_dir: Some(dir.clone()),
    };
    let saved = TextToImage::run_cell(&config, &task, &data, &cell, &context).unwrap();
    let plain =
        TextToImage::run_cell(&config, &task, &data, &cell, &CellContext::default()).unwrap();
    assert_eq!(saved.metrics, plain.metrics, "saving changed the scores");
    assert_eq!(
        saved.curve, plain.curve,
        "saving changed the learning curve"
    );
    assert_eq!(saved.generated_images, plain.generated_images);
    assert_eq!(saved.image_attention, plain.image_attention);
    assert!(!saved.image_attention.is_empty());
    assert!(dir.join(WEIGHTS_FILE).is_file() && dir.join(DESCRIPTION_FILE).is_file());

    let device = inference_device().unwrap();
    let loaded = LoadedGenerator::load(&dir, &device).unwrap();
    assert_eq!(loaded.description.experiment, "text-to-image");
    assert_eq!(loaded.description.cell.variant, "attngan");
    assert_eq!(loaded.spec.variant, Variant::Attngan);
    assert_eq!(loaded.spec.vocab, data.vocab);
    assert_eq!(loaded.spec.image_size, config.canvas);
    assert!(loaded.has_attention());

    let (_, trained, _) = train_cell(&config, &data, &cell).unwrap();
    let generator = trained.generator.valid();
    let captions: Vec<&[String]> = data.test[..3]
        .iter()
        .map(|scene| scene.captions[0].as_slice())
        .collect();
    let noise = || {
        let fixed = |rows: usize, cols: usize, phase: f32| {
            let values: Vec<f32> = (0..rows * cols)
                .map(|i| (i as f32 * 0.37 + phase).sin())
                .collect();
            Tensor::from_data(TensorData::new(values, [rows, cols]), &device)
        };
        GeneratorNoise {
            z: fixed(captions.len(), config.d_noise, 0.0),
            epsilon: fixed(captions.len(), config.d_condition, 1.0),
        }
    };
    let tokens = tokens_tensor(&captions, &data.vocab, &device);
    let cells = draw_captions(&data.damsm.text, &generator, tokens, |_| noise());
    let files = loaded.draw_tokens(&captions, noise());
    assert_eq!(
        bits(cells.image1.clone()),
        bits(files.image1.clone()),
        "stage-2 images differ"
    );
    let weights = |w: Option<Tensor<3>>| bits(w.expect("word attention"));
    assert_eq!(stage2_images(&files).len(), captions.len());
    assert_eq!(weights(cells.weights), weights(files.weights));

    // Drawing from a seed: the same seed, the same images; the first of two samples is
    // the one sample's image; one weight row per word over (canvas / 2)² sub-regions.
    let words = loaded.words(&captions[0].join(" ")).unwrap();
    assert_eq!(words, captions[0]);
    let one = loaded.draw(&words, 1, 7).unwrap();
    let two = loaded.draw(&words, 2, 7).unwrap();
    assert_eq!(loaded.draw(&words, 1, 7).unwrap().images, one.images);
    assert_eq!(two.images.len(), 2);
    assert_eq!(two.images[0], one.images[0]);
    assert_ne!(two.images[1], one.images[0]);
    assert_ne!(loaded.draw(&words, 1, 8).unwrap().images, one.images);
    let attention = one.attention.expect("word attention");
    assert_eq!(attention[0].len(), words.len());
    assert!(
        attention[0]
            .iter()
            .all(|row| row.len() == (config.canvas / 2).pow(2))
    );
}

/// Copies the smoke run's `attngan` folder into `name` and edits its `model.json`; returns
/// the scratch folder's guard (keep it while the model is used) and the model's folder.
fn edited_model(
    name: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> (tempfile::TempDir, PathBuf) {
    let from = smoke_models().join("attngan-k0-seed1");
    let tmp = scratch(name);
    let dir = tmp.path().join("model");
    std::fs::create_dir_all(&dir).unwrap();
    for file in [WEIGHTS_FILE, DESCRIPTION_FILE] {
        std::fs::copy(from.join(file), dir.join(file)).unwrap();
    }
    let path = dir.join(DESCRIPTION_FILE);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    (tmp, dir)
}

/// The error of loading `dir`, in process and through `draw` (one line, exit status 1);
/// both must name every one of `names`.
fn assert_refused(dir: &Path, names: &[&str]) {
    // Building the modules may draw their initial parameters: not while another test trains.
    let loaded = {
        let _lock = lock();
        LoadedGenerator::load(dir, &inference_device().unwrap())
    };
    let Err(error) = loaded else {
        panic!("{} loaded", dir.display());
    };
    let message = format!("{error:#}");
    for name in names {
        assert!(message.contains(name), "{name} not in: {message}");
    }
    let out = dir.with_file_name("out.png");
    let result = draw(&[
        "--model",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "a",
    ]);
    assert_one_line_error(&result, names);
    assert!(!out.exists());
}

#[test]
fn a_description_of_another_model_is_refused_naming_the_file_and_the_tensor() {
    // d_noise widens only stage 1's first layer: [d_condition + d_noise, ...].
    let (_wider_noise, dir) = edited_model("wider-noise", |json| {
        json["model"]["generator"]["d_noise"] = 5.into();
    });
    assert_refused(&dir, &[WEIGHTS_FILE, "'generator.fc.weight'", "[9, 288]"]);
    // An attngan that says it reads the sentence only.
    let (_other_conditioning, dir) = edited_model("other-conditioning", |json| {
        json["model"]["generator"]["conditioning"] = "sentence-only".into();
    });
    assert_refused(&dir, &[DESCRIPTION_FILE, "model.generator.conditioning"]);
    // A canvas the generator cannot be built with is an error, not a panic.
    let (_odd_canvas, dir) = edited_model("odd-canvas", |json| {
        json["model"]["generator"]["canvas"] = 20.into();
        json["model"]["image_size"] = 20.into();
    });
    assert_refused(&dir, &[DESCRIPTION_FILE, "model.generator.canvas"]);
}

#[test]
fn draw_writes_pngs_from_captions() {
    let models = smoke_models();
    let attngan = models.join("attngan-k0-seed1");
    let model = attngan.to_str().unwrap();
    let description: serde_json::Value =
        serde_json::from_slice(&std::fs::read(attngan.join(DESCRIPTION_FILE)).unwrap()).unwrap();
    let size = description["model"]["image_size"].as_u64().unwrap() as u32;
    // A test scene's caption, as the run recorded it.
    let captions = std::fs::read_to_string(models.join("../example_captions.csv")).unwrap();
    let caption = captions.lines().nth(1).unwrap().split_once(',').unwrap().1;
    let caption = caption.trim_matches('"').to_string();
    let tmp = scratch("draw");
    let out = tmp.path();
    let path = |name: &str| out.join(name).to_str().unwrap().to_string();

    let result = draw(&["--model", model, "--out", &path("a.png"), &caption]);
    assert!(result.0, "{}", result.3);
    assert_eq!(result.2, format!("{}: {caption}\n", path("a.png")));
    let (width, height, pixels) = decode(&out.join("a.png"));
    assert_eq!((width, height), (size, size));
    // The same seed, the same bytes; another seed, other bytes.
    let result = draw(&["--model", model, "--out", &path("b.png"), &caption]);
    assert!(result.0, "{}", result.3);
    let bytes = |name: &str| std::fs::read(out.join(name)).unwrap();
    assert_eq!(bytes("a.png"), bytes("b.png"));
    let args = ["--model", model, "--out", &path("c.png"), "--seed", "2"];
    let result = draw(&[&args[..], &[caption.as_str()]].concat());
    assert!(result.0, "{}", result.3);
    assert_ne!(bytes("a.png"), bytes("c.png"));

    // Two samples side by side: twice as wide, the one sample on the left.
    let args = ["--model", model, "--out", &path("d.png"), "--samples", "2"];
    let result = draw(&[&args[..], &[caption.as_str()]].concat());
    assert!(result.0, "{}", result.3);
    let (width, height, wide) = decode(&out.join("d.png"));
    assert_eq!((width, height), (2 * size, size));
    let row = 3 * size as usize;
    for y in 0..size as usize {
        assert_eq!(
            wide[y * 2 * row..y * 2 * row + row],
            pixels[y * row..(y + 1) * row],
            "row {y} of the first sample"
        );
    }

    // Several captions: PATH-<n>.png each, and the word attention of each.
    let args = [
        "--model",
        model,
        "--out",
        &path("e.png"),
        "--attention",
        &path("att.png"),
        &caption,
        "A small red ring, and a large blue square",
    ];
    let result = draw(&args);
    assert!(result.0, "{}", result.3);
    for name in ["e-1.png", "e-2.png", "att-1.png", "att-2.png"] {
        assert!(out.join(name).is_file(), "{name} missing: {}", result.2);
    }
    assert_eq!(decode(&out.join("e-1.png")).2, pixels);
    assert!(!out.join("e.png").exists());

    // An unknown word names itself; the sentence-only model has no attention to draw.
    let result = draw(&["--model", model, "--out", &path("f.png"), "a zebra"]);
    assert_one_line_error(&result, &["'zebra'", "vocabulary"]);
    let sentence_only = models.join("sentence-only-k0-seed1");
    let args = [
        "--model",
        sentence_only.to_str().unwrap(),
        "--out",
        &path("g.png"),
        "--attention",
        &path("g-att.png"),
        &caption,
    ];
    assert_one_line_error(&draw(&args), &["--attention", "sentence-only"]);
    assert!(!out.join("f.png").exists() && !out.join("g.png").exists());
}
