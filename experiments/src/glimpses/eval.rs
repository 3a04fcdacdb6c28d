//! Scoring one trained model of a glimpses run: the test error with one sample per glimpse
//! and with the policy's mean locations, the FLOPs per image, and for the first seed the
//! glimpse paths and patches of a few test images (the paper's Figure 3).

use burn::tensor::{Device, Int, Tensor, TensorData};
use datasets::images::canvas::{Canvas, CanvasSpec};
use models::vision::{LocationPolicy, LocationSampling, Ram};
use plots::{ExampleImageRow, GlimpsePatchRow, GlimpsePathRow, MetricRow, TimingRow};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::train::{
    TrainedCell, TrainedModel, cnn_config, mlp_config, pixels_and_labels, ram_config,
};
use super::variants::Classifier;
use super::{Config, GlimpseData, GlimpseTask};
use crate::experiment::{Cell, CellRecord, Experiment, Task};

/// How RAM picks its locations at test time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestLocations {
    /// One sample per glimpse, as the paper reports.
    Sampled,
    /// The policy's mean location (learned policy only).
    Mean,
}

/// The predicted class of every canvas, `eval_batch_size` canvases per pass, RAM's draws
/// from `noise` in order.
///
/// # Panics
/// For [`TestLocations::Mean`] with a RAM of random locations (it has no mean).
pub fn predict(
    model: &TrainedModel,
    canvases: &[Canvas],
    locations: TestLocations,
    noise: &mut StdRng,
    eval_batch_size: usize,
    device: &Device,
) -> Vec<usize> {
    let mut predicted = Vec::with_capacity(canvases.len());
    for part in canvases.chunks(eval_batch_size) {
        let (pixels, _) = pixels_and_labels(part);
        let (logits, _) = forward_pass(
            model,
            &pixels,
            part.len(),
            part[0].side,
            locations,
            noise,
            device,
        );
        let argmax: Tensor<2, Int> = logits.argmax(1);
        predicted.extend(argmax.into_data().iter::<i64>().map(|c| c as usize));
    }
    predicted
}

/// One test-time pass of `model` over `batch` canvases of `side × side` pixels (row-major,
/// concatenated): the logits `[B, n_classes]` and, for RAM, every image's glimpse locations
/// `(x, y)` in `[-1, 1]²`, step by step (`None` for the whole-image networks). RAM's draws
/// come from `noise`. The one forward path of the test error and of the `classify` command.
///
/// # Panics
/// If `pixels` is not `batch` canvases of the model's side, or for [`TestLocations::Mean`]
/// with a RAM of random locations.
pub fn forward_pass(
    model: &TrainedModel,
    pixels: &[f32],
    batch: usize,
    side: usize,
    locations: TestLocations,
    noise: &mut StdRng,
    device: &Device,
) -> (Tensor<2>, Option<Vec<Vec<[f32; 2]>>>) {
    let images = || {
        Tensor::<2>::from_data(
            TensorData::new(pixels.to_vec(), [batch, side * side]),
            device,
        )
    };
    match model {
        TrainedModel::Ram(ram) => {
            let output = ram_pass(ram, pixels, batch, locations, noise, device);
            (output.logits, Some(output.locations))
        }
        TrainedModel::Mlp(mlp) => (mlp.forward(images()), None),
        TrainedModel::Cnn(cnn) => (cnn.forward(images().reshape([batch, 1, side, side])), None),
    }
}

/// One RAM pass at test time, its draws from `noise`.
fn ram_pass(
    ram: &Ram,
    pixels: &[f32],
    batch: usize,
    locations: TestLocations,
    noise: &mut StdRng,
    device: &Device,
) -> models::vision::RamOutput {
    match locations {
        TestLocations::Sampled => {
            let mut uniform = || noise.random::<f64>();
            ram.forward(
                pixels,
                batch,
                LocationSampling::Stochastic(&mut uniform),
                device,
            )
        }
        TestLocations::Mean => ram.forward(pixels, batch, LocationSampling::Mean, device),
    }
}

/// Test error in percent.
fn error_percent(predicted: &[usize], canvases: &[Canvas]) -> f64 {
    let wrong = predicted
        .iter()
        .zip(canvases)
        .filter(|&(&p, c)| p != usize::from(c.label))
        .count();
    100.0 * wrong as f64 / canvases.len().max(1) as f64
}

/// Everything one trained cell adds to the results (the model is only read: a model
/// loaded from its folder gives the same rows).
#[allow(clippy::too_many_arguments)]
pub fn cell_record(
    config: &Config,
    task: &GlimpseTask,
    data: &GlimpseData,
    canvas: &CanvasSpec,
    model: Classifier,
    cell: &Cell,
    trained: &TrainedCell,
    first_of_canvas: bool,
) -> anyhow::Result<CellRecord> {
    let eval_start = std::time::Instant::now();
    let test = data.test_set(canvas);
    let device = &trained.device;
    // The test-time draws of a cell depend on its seed alone.
    let mut noise = StdRng::seed_from_u64(cell.seed.wrapping_add(0x5EED));
    let kind = canvas.kind().name();
    let row = |metric: String, value: f64| MetricRow {
        experiment: super::Glimpses::NAME.into(),
        task: task.name(),
        model: model.name(),
        train_max_len: model.glimpses(),
        seed: cell.seed,
        len_lo: canvas.side,
        len_hi: canvas.side,
        n: test.len(),
        metric,
        value,
    };
    let sampled = predict(
        &trained.model,
        test,
        TestLocations::Sampled,
        &mut noise,
        config.eval_batch_size,
        device,
    );
    let mut metrics = vec![row(format!("{kind}_error"), error_percent(&sampled, test))];
    if matches!(model, Classifier::Ram { .. }) {
        let mean = predict(
            &trained.model,
            test,
            TestLocations::Mean,
            &mut noise,
            config.eval_batch_size,
            device,
        );
        metrics.push(row(
            format!("{kind}_error_mean_policy"),
            error_percent(&mean, test),
        ));
    }
    metrics.push(row(
        format!("{kind}_mflops"),
        flops_per_image(config, canvas, model, data.n_classes) as f64 / 1e6,
    ));

    let canvas_index = data
        .test_canvases
        .iter()
        .position(|(spec, _)| spec == canvas)
        .expect("a canvas of the run");
    let examples = &test[..config.examples.min(test.len())];
    let first_example = canvas_index * config.examples;
    let example_images = if first_of_canvas {
        examples
            .iter()
            .enumerate()
            .flat_map(|(i, c)| grey_image_rows(c, first_example + i))
            .collect()
    } else {
        Vec::new()
    };
    let (glimpse_paths, glimpse_patches) = match &trained.model {
        TrainedModel::Ram(ram) if cell.seed == config.seeds[0] => glimpse_rows(
            config,
            ram,
            model,
            cell,
            examples,
            first_example,
            &mut noise,
            device,
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let eval_seconds = eval_start.elapsed().as_secs_f64();
    Ok(CellRecord {
        metrics,
        example_images,
        glimpse_paths,
        glimpse_patches,
        curve: cell.curve_rows(&trained.curve),
        timing: Some(TimingRow {
            model: cell.variant.clone(),
            train_max_len: cell.train_max_len,
            seed: cell.seed,
            steps: config.steps,
            train_seconds: trained.seconds,
            ms_per_step: 1000.0 * trained.seconds / config.steps as f64,
            eval_seconds,
        }),
        ..CellRecord::default()
    })
}

/// The FLOPs of one image's forward pass through `model` on `canvas`.
fn flops_per_image(
    config: &Config,
    canvas: &CanvasSpec,
    model: Classifier,
    n_classes: usize,
) -> u64 {
    match model {
        Classifier::Ram { glimpses } | Classifier::RandomRam { glimpses } => {
            ram_config(config, canvas, n_classes, glimpses, LocationPolicy::Learned)
                .flops_per_image()
        }
        Classifier::Mlp { hidden } => mlp_config(canvas, hidden, n_classes).flops_per_image(),
        Classifier::Cnn => cnn_config(canvas, n_classes).flops_per_image(),
    }
}

/// A greyscale canvas as `example_images.csv` rows (red = green = blue).
fn grey_image_rows(canvas: &Canvas, example: usize) -> Vec<ExampleImageRow> {
    canvas
        .pixels
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let v = f64::from(v);
            ExampleImageRow {
                example,
                y: i / canvas.side,
                x: i % canvas.side,
                red: v,
                green: v,
                blue: v,
            }
        })
        .collect()
}

/// The glimpse path (one sample per glimpse, as the error is measured) of each example and
/// the patches the sensor returned at each step.
#[allow(clippy::too_many_arguments)]
fn glimpse_rows(
    config: &Config,
    ram: &Ram,
    model: Classifier,
    cell: &Cell,
    examples: &[Canvas],
    first_example: usize,
    noise: &mut StdRng,
    device: &Device,
) -> (Vec<GlimpsePathRow>, Vec<GlimpsePatchRow>) {
    let mut paths = Vec::new();
    let mut patches = Vec::new();
    if examples.is_empty() {
        return (paths, patches);
    }
    let (pixels, _) = pixels_and_labels(examples);
    let output = ram_pass(
        ram,
        &pixels,
        examples.len(),
        TestLocations::Sampled,
        noise,
        device,
    );
    let predicted: Vec<i64> = output.logits.argmax(1).into_data().iter::<i64>().collect();
    let sensor = &ram.sensor;
    let side = examples[0].side;
    let g = config.patch;
    for (i, (canvas, locations)) in examples.iter().zip(&output.locations).enumerate() {
        let example = first_example + i;
        for (step, &location) in locations.iter().enumerate() {
            let seen = sensor.extract(&canvas.pixels, side, &[location]);
            // The location in pixels, as the sensor maps it (before snapping to a pixel).
            let [x, y] = location.map(|v| (f64::from(v) + 1.0) / 2.0 * side as f64);
            for (scale, square) in sensor.squares(side, location).into_iter().enumerate() {
                paths.push(GlimpsePathRow {
                    model: model.name(),
                    train_max_len: model.glimpses(),
                    seed: cell.seed,
                    example,
                    step,
                    x,
                    y,
                    scale,
                    left: square.left,
                    top: square.top,
                    side: square.size,
                    label: usize::from(canvas.label),
                    predicted: predicted[i] as usize,
                });
                for (p, &value) in seen[scale * g * g..(scale + 1) * g * g].iter().enumerate() {
                    patches.push(GlimpsePatchRow {
                        model: model.name(),
                        train_max_len: model.glimpses(),
                        seed: cell.seed,
                        example,
                        step,
                        scale,
                        y: p / g,
                        x: p % g,
                        value: f64::from(value),
                    });
                }
            }
        }
    }
    (paths, patches)
}
