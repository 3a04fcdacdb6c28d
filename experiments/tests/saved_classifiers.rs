//! Saved classifiers of the glimpses experiment (`--save-models`) and the `classify` command,
//! on procedural shapes (no fetched data).
//!
//! - In process, for RAM and the CNN: a cell run with a model folder returns the same record
//!   as without one (saving changes no result), and the model loaded back from the folder
//!   gives that record's metrics and glimpse rows again, bit for bit, through the
//!   experiment's own scoring code.
//! - A `model.json` edited to another size is refused naming `model.safetensors` and the
//!   tensor; one whose fields disagree names the field; a model of another kind is named.
//! - Image files become canvases as documented (as is, centred, scaled to fit).
//! - `classify` on a smoke run's folders and PNGs of its test canvases: the output format,
//!   the class and probability of the mean policy (or of a seeded sample), one line per
//!   glimpse, and one-line errors for `--glimpses` on a CNN, an undecodable image and a
//!   missing folder.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::saved::{assert_failed_with_one_line, lock, with_dir};
use common::scratch;
use datasets::images::RgbImage;
use datasets::images::canvas::{Canvas, CanvasSpec};
use experiments::experiment::{Cell, CellContext, Experiment, Preset};
use experiments::glimpses::eval::{self, TestLocations};
use experiments::glimpses::train::{TrainedCell, TrainedModel};
use experiments::glimpses::variants::{self, Classifier};
use experiments::glimpses::{Config, GlimpseData, GlimpseTask, Glimpses, first_of_canvas};
use experiments::saved_model::classifier::{
    ClassifierNetwork, ClassifierSpec, LoadedClassifier, canvas_from_image, save_classifier,
};
use experiments::saved_model::{DESCRIPTION_FILE, ModelFile, SavedKind, inference_device};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The smoke preset on procedural shapes, its data and its first canvas.
fn smoke() -> (Config, GlimpseTask, GlimpseData, CanvasSpec) {
    let task = GlimpseTask::Shapes;
    let config = Glimpses::preset(Preset::Smoke, &task);
    let data = Glimpses::load(&config, &task, Path::new("data")).unwrap();
    let canvas = config.canvases[0].parse().unwrap();
    (config, task, data, canvas)
}

#[test]
fn loaded_classifiers_repeat_their_cells_bit_for_bit() {
    let _lock = lock();
    let (config, task, data, canvas) = smoke();
    let ram = Classifier::Ram {
        glimpses: config.glimpse_counts[0],
    };
    for model in [ram, Classifier::Cnn] {
        let cell = variants::cell(&canvas, model, config.seeds[0]);
        assert!(Glimpses::cells(&config).contains(&cell), "{cell:?}");
        let tmp = scratch(&format!("cell-{}", model.name()));
        let dir = tmp.path().join("model");
        let saved = Glimpses::run_cell(&config, &task, &data, &cell, &with_dir(&dir)).unwrap();
        let plain =
            Glimpses::run_cell(&config, &task, &data, &cell, &CellContext::default()).unwrap();
        assert_eq!(saved.metrics, plain.metrics, "saving changed the scores");
        assert_eq!(
            saved.curve, plain.curve,
            "saving changed the learning curve"
        );
        assert_eq!(saved.glimpse_paths, plain.glimpse_paths);
        assert_eq!(saved.glimpse_patches, plain.glimpse_patches);
        assert_eq!(saved.example_images, plain.example_images);
        if model == ram {
            assert!(!saved.glimpse_paths.is_empty() && !saved.glimpse_patches.is_empty());
            assert!(
                saved
                    .metrics
                    .iter()
                    .any(|r| r.metric.ends_with("_mean_policy"))
            );
        }

        let device = inference_device().unwrap();
        let loaded = LoadedClassifier::load(&dir, &device).unwrap();
        assert_eq!(loaded.description.experiment, "glimpses");
        assert_eq!(loaded.description.task, "shapes");
        assert_eq!(loaded.description.cell.variant, cell.variant);
        assert_eq!(loaded.spec.canvas, canvas.name());
        assert_eq!(loaded.spec.side, canvas.side);
        assert_eq!(loaded.spec.class_names, data.train.class_names);
        // The experiment's own scoring, on the loaded model.
        let trained = TrainedCell {
            model: loaded.model,
            seconds: 0.0,
            curve: Vec::new(),
            device,
        };
        let first = first_of_canvas(&config, &cell);
        let again = eval::cell_record(
            &config, &task, &data, &canvas, model, &cell, &trained, first,
        )
        .unwrap();
        assert_eq!(again.metrics, saved.metrics, "{}", model.name());
        assert_eq!(again.glimpse_paths, saved.glimpse_paths);
        assert_eq!(again.glimpse_patches, saved.glimpse_patches);
        assert_eq!(again.example_images, saved.example_images);
    }
}

/// A freshly built (untrained) model of `model` on `canvas`, saved to `dir`.
fn save_untrained(
    config: &Config,
    data: &GlimpseData,
    canvas: &CanvasSpec,
    model: Classifier,
    dir: &Path,
) {
    let device = harness::device(7).unwrap().without_autodiff();
    let spec = ClassifierSpec::new(config, data, canvas, model);
    let module = match &spec.network {
        ClassifierNetwork::Ram(c) => TrainedModel::Ram(Box::new(c.init(&device))),
        ClassifierNetwork::Mlp(c) => TrainedModel::Mlp(c.init(&device)),
        ClassifierNetwork::Cnn(c) => TrainedModel::Cnn(c.init(&device)),
    };
    let cell = variants::cell(canvas, model, 7);
    save_classifier(&with_dir(dir), "shapes", &cell, spec, &module).unwrap();
}

/// Replaces `from` (which must occur) by `to` in `dir/model.json`.
fn edit_description(dir: &Path, from: &str, to: &str) {
    let path = dir.join(DESCRIPTION_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in {text}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The error of loading `dir`, on one line.
fn load_error(dir: &Path) -> String {
    let device = inference_device().unwrap();
    let error = format!(
        "{:#}",
        LoadedClassifier::load(dir, &device).err().expect("refused")
    );
    assert!(!error.contains('\n'), "{error}");
    error
}

#[test]
fn descriptions_that_do_not_fit_are_refused_naming_file_and_tensor_or_field() {
    let _lock = lock();
    let (config, _, data, canvas) = smoke();
    let tmp = scratch("refused");
    let root = tmp.path();
    let cases = [
        (
            Classifier::Ram { glimpses: 2 },
            "\"d_hidden\": 16",
            "\"d_hidden\": 12",
        ),
        (
            Classifier::Mlp { hidden: 8 },
            "\"hidden\": 8",
            "\"hidden\": 6",
        ),
        (Classifier::Cnn, "\"filters\": 8", "\"filters\": 4"),
    ];
    for (model, from, to) in cases {
        let dir = root.join(model.name());
        save_untrained(&config, &data, &canvas, model, &dir);
        LoadedClassifier::load(&dir, &inference_device().unwrap()).unwrap();
        edit_description(&dir, from, to);
        let error = load_error(&dir);
        assert!(error.contains("model.safetensors: tensor '"), "{error}");
        assert!(error.contains("has shape"), "{error}");
    }

    // Fields that disagree with each other name the field.
    let dir = root.join("classes");
    save_untrained(&config, &data, &canvas, Classifier::Cnn, &dir);
    edit_description(&dir, "\"n_classes\": 6", "\"n_classes\": 5");
    let error = load_error(&dir);
    assert!(
        error.contains("model.json: field 'network.n_classes'"),
        "{error}"
    );
    let dir = root.join("side");
    save_untrained(&config, &data, &canvas, Classifier::Mlp { hidden: 8 }, &dir);
    edit_description(&dir, "\"side\": 32", "\"side\": 30");
    assert!(load_error(&dir).contains("field 'canvas'"));

    // A folder of another kind says what it holds.
    let dir = root.join("reader");
    std::fs::create_dir_all(&dir).unwrap();
    let reader = experiments::saved_model::reader::ReaderSpec {
        config: models::readers::ReaderConfig::new(models::readers::ReaderKind::Attentive, 8, 2),
        vocab: Vec::new(),
    };
    let cell = Cell::new("attentive", 0, 1);
    let description = ModelFile::new("reader", "synthetic", &cell, SavedKind::Reader(reader));
    std::fs::write(
        dir.join(DESCRIPTION_FILE),
        serde_json::to_vec(&description).unwrap(),
    )
    .unwrap();
    let error = load_error(&dir);
    assert!(
        error.contains("holds a reader model") && error.contains("classify needs a classifier"),
        "{error}"
    );
}

/// A `height × width` image of grey values.
fn grey_image(height: usize, width: usize, value: impl Fn(usize, usize) -> f32) -> RgbImage {
    let mut image = RgbImage::filled(height, width, [0.0; 3]);
    for ch in 0..3 {
        for y in 0..height {
            for x in 0..width {
                image.set(ch, y, x, value(y, x));
            }
        }
    }
    image
}

#[test]
fn images_become_canvases_as_documented() {
    // Exactly the side: as it is.
    let exact = grey_image(8, 8, |y, x| (y * 8 + x) as f32 / 64.0);
    let want: Vec<f32> = (0..64).map(|i| i as f32 / 64.0).collect();
    assert_eq!(canvas_from_image(&exact, 8), want);
    // Smaller: unscaled at the centre of black, the offset rounded down.
    let small = grey_image(3, 5, |_, _| 0.5);
    let canvas = canvas_from_image(&small, 8);
    for (i, &v) in canvas.iter().enumerate() {
        let (y, x) = (i / 8, i % 8);
        let inside = (2..5).contains(&y) && (1..6).contains(&x);
        assert_eq!(v, if inside { 0.5 } else { 0.0 }, "pixel ({y}, {x})");
    }
    // Colour: the luma.
    let mut red = RgbImage::filled(8, 8, [0.0; 3]);
    red.set(0, 0, 0, 1.0);
    assert!((canvas_from_image(&red, 8)[0] - 0.299).abs() < 1e-6);
    // Larger and square: scaled, a uniform image keeping its value.
    assert_eq!(
        canvas_from_image(&grey_image(16, 16, |_, _| 0.25), 8),
        vec![0.25; 64]
    );
    // Larger and wide: the whole image kept, black above and below, symmetric.
    let wide = canvas_from_image(&grey_image(8, 16, |_, _| 1.0), 8);
    let row = |y: usize| &wide[y * 8..(y + 1) * 8];
    assert!(row(0).iter().chain(row(7)).all(|&v| v == 0.0), "{wide:?}");
    assert!(row(3).iter().chain(row(4)).all(|&v| v == 1.0), "{wide:?}");
    for y in 0..8 {
        assert_eq!(row(y), row(7 - y));
        assert!(row(y).iter().all(|&v| v == row(y)[0]));
    }
}

/// Runs a binary; returns its output.
fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{bin} runs: {e}"))
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Writes `canvas` as an 8-bit greyscale PNG; its bytes decode to the canvas exactly.
fn write_png(canvas: &Canvas, path: &Path) {
    let bytes: Vec<u8> = canvas
        .pixels
        .iter()
        .map(|&v| (v * 255.0).round() as u8)
        .collect();
    assert!(
        bytes
            .iter()
            .zip(&canvas.pixels)
            .all(|(&b, &v)| f32::from(b) / 255.0 == v)
    );
    let side = canvas.side as u32;
    image::GrayImage::from_raw(side, side, bytes)
        .unwrap()
        .save(path)
        .unwrap();
}

/// What `classify` prints for `canvases` (files `paths`), computed in process with the
/// loaded model; RAM samples with a generator seeded afresh per image by `seed`.
fn expected_lines(
    model: &LoadedClassifier,
    canvases: &[Canvas],
    paths: &[String],
    locations: TestLocations,
    seed: u64,
    glimpses: bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (canvas, path) in canvases.iter().zip(paths) {
        let mut noise = StdRng::seed_from_u64(seed);
        let [c] = <[_; 1]>::try_from(
            model
                .classify(std::slice::from_ref(&canvas.pixels), locations, &mut noise)
                .unwrap(),
        )
        .unwrap();
        let name = &model.spec.class_names[c.class];
        lines.push(format!("{path}: {name} ({:.3})", c.probabilities[c.class]));
        if glimpses {
            for (step, &l) in c.glimpses.iter().flatten().enumerate() {
                let (row, column) = model.glimpse_centre(l);
                lines.push(format!(
                    "  glimpse {}: row {row:.1}, column {column:.1}",
                    step + 1
                ));
            }
        }
    }
    lines
}

#[test]
fn classify_reads_images_and_answers_as_the_saved_model_does() {
    let tmp = scratch("classify-run");
    let out = tmp.path();
    let glimpses_bin = env!("CARGO_BIN_EXE_glimpses");
    let args = [
        "--preset",
        "smoke",
        "--save-models",
        "--task",
        "shapes",
        "--out",
    ];
    stdout(&run(
        glimpses_bin,
        &[&args[..], &[out.to_str().unwrap()]].concat(),
    ));
    let (config, _, data, canvas) = smoke();
    let models = out.join("shapes").join("models");
    for cell in Glimpses::cells(&config) {
        for file in ["model.json", "model.safetensors"] {
            let path = models.join(cell.file_name()).join(file);
            assert!(path.is_file(), "{}", path.display());
        }
    }
    let folder = |model| models.join(variants::cell(&canvas, model, config.seeds[0]).file_name());
    let n_glimpses = config.glimpse_counts[0];
    let ram = folder(Classifier::Ram {
        glimpses: n_glimpses,
    });
    let random = folder(Classifier::RandomRam {
        glimpses: config.random_glimpses,
    });
    let cnn = folder(Classifier::Cnn);

    // PNGs of the first test canvases, as the run placed them.
    let test = &data.test_set(&canvas)[..4];
    let paths: Vec<String> = (0..test.len())
        .map(|i| {
            out.join(format!("canvas-{i}.png"))
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for (canvas, path) in test.iter().zip(&paths) {
        write_png(canvas, Path::new(path));
    }
    let (ram_model, random_model, cnn_model) = {
        let _lock = lock();
        let device = inference_device().unwrap();
        let load = |dir: &Path| LoadedClassifier::load(dir, &device).unwrap();
        (load(&ram), load(&random), load(&cnn))
    };
    let bin = env!("CARGO_BIN_EXE_classify");
    let classify = |dir: &Path, extra: &[&str]| {
        let mut argv = vec!["--model", dir.to_str().unwrap()];
        argv.extend_from_slice(extra);
        argv.extend(paths.iter().map(String::as_str));
        stdout(&run(bin, &argv))
    };
    let lines = |text: String| text.lines().map(str::to_string).collect::<Vec<_>>();

    // RAM, the policy's mean: the class the experiment's mean-policy test predicts.
    let shown = lines(classify(&ram, &[]));
    let mean = TestLocations::Mean;
    assert_eq!(
        shown,
        expected_lines(&ram_model, test, &paths, mean, 0, false)
    );
    let mut noise = StdRng::seed_from_u64(0);
    let device = &ram_model.device;
    let predicted = eval::predict(&ram_model.model, test, mean, &mut noise, 1, device);
    for (line, (&class, path)) in shown.iter().zip(predicted.iter().zip(&paths)) {
        let name = &ram_model.spec.class_names[class];
        assert!(line.starts_with(&format!("{path}: {name} (")), "{line}");
        assert!(line.ends_with(')'), "{line}");
    }
    // One indented line per glimpse.
    let shown = lines(classify(&ram, &["--glimpses"]));
    assert_eq!(shown.len(), test.len() * (1 + n_glimpses));
    assert_eq!(
        shown,
        expected_lines(&ram_model, test, &paths, mean, 0, true)
    );
    assert!(shown[1].starts_with("  glimpse 1: row "), "{}", shown[1]);
    // A seeded sample per glimpse, the same on every run.
    let sampled = TestLocations::Sampled;
    let shown = lines(classify(&ram, &["--glimpses", "--sample-seed", "5"]));
    assert_eq!(
        shown,
        expected_lines(&ram_model, test, &paths, sampled, 5, true)
    );
    // RAM-random samples from seed 0 unless told otherwise.
    let shown = classify(&random, &["--glimpses"]);
    assert_eq!(
        shown,
        classify(&random, &["--glimpses", "--sample-seed", "0"])
    );
    assert_eq!(
        lines(shown),
        expected_lines(&random_model, test, &paths, sampled, 0, true)
    );
    // The CNN: no glimpses to show.
    let shown = lines(classify(&cnn, &[]));
    assert_eq!(
        shown,
        expected_lines(&cnn_model, test, &paths, mean, 0, false)
    );
    let output = run(
        bin,
        &["--model", cnn.to_str().unwrap(), "--glimpses", &paths[0]],
    );
    assert_failed_with_one_line(&output, &["--glimpses", "whole-image"]);

    // Other sizes are read too: a smaller image and a larger one.
    let glyph = &data.test.glyphs[0];
    let small = out.join("glyph.png");
    image::GrayImage::from_raw(glyph.cols as u32, glyph.rows as u32, glyph.pixels.clone())
        .unwrap()
        .save(&small)
        .unwrap();
    let large = out.join("large.png");
    image::GrayImage::from_fn(70, 50, |x, y| image::Luma([((x * y) % 256) as u8]))
        .save(&large)
        .unwrap();
    for path in [&small, &large] {
        let text = stdout(&run(
            bin,
            &["--model", ram.to_str().unwrap(), path.to_str().unwrap()],
        ));
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with(&format!("{}: ", path.display())), "{text}");
    }

    // Errors: one line naming the file.
    let junk = out.join("junk.png");
    std::fs::write(&junk, b"not an image").unwrap();
    let output = run(
        bin,
        &["--model", ram.to_str().unwrap(), junk.to_str().unwrap()],
    );
    assert_failed_with_one_line(&output, &["junk.png", "cannot decode"]);
    let missing = models.join("no-such-model");
    let output = run(bin, &["--model", missing.to_str().unwrap(), &paths[0]]);
    assert_failed_with_one_line(&output, &["no-such-model", "no such model folder"]);
}
