//! What an experiment is: a configuration, presets, a task, and an ordered list of *cells*
//! (one training run each) whose rows the [`Recorder`](crate::recorder::Recorder) writes.
//!
//! An experiment module implements [`Experiment`] and nothing else: the command line
//! ([`crate::cli`]), the results folder, `config.json`, the CSVs and the figures are the
//! same code for every experiment. A new experiment is one module and one line in
//! `src/bin/` (see ARCHITECTURE.md, "How to add an experiment").

use std::path::Path;
use std::str::FromStr;

use plots::{
    AlignmentRow, CostRow, CurveRow, DocAttentionRow, ExampleCaptionRow, ExampleImageRow,
    GeneratedImageRow, GlimpsePatchRow, GlimpsePathRow, ImageAttentionRow, MetricRow, TimingRow,
};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The presets every experiment has. Each experiment says what they mean for it in
/// [`Experiment::preset`]; `long`, which only some have, is [`Experiment::long_preset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// CPU-sized: minutes on 2 cores; already shows the effect (the committed results).
    Quick,
    /// The paper's lengths and sizes: hours, meant for a GPU.
    Paper,
    /// Seconds: checks the pipeline end to end (CI); shows nothing.
    Smoke,
}

impl Preset {
    /// The spelling on the command line and in `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => "quick",
            Preset::Paper => "paper",
            Preset::Smoke => "smoke",
        }
    }
}

/// The spelling of the `long` preset on the command line and in `config.json`.
pub const LONG_PRESET: &str = "long";

/// Where an experiment's examples come from: parsed from `--task`, recorded in
/// `config.json` by [`Task::arg`], and naming the results folder by [`Task::name`].
pub trait Task: Clone + FromStr<Err = String> {
    /// The spellings `--task` accepts, for `--help` and errors.
    const CHOICES: &'static str;
    /// The results folder and the CSVs' `task` column (no path separators).
    fn name(&self) -> String;
    /// The spelling `--task` accepts, as recorded in `config.json`.
    fn arg(&self) -> String;
}

/// One training run of an experiment: a variant (model, score, reader...) at one training
/// length and seed. Cells run in the order [`Experiment::cells`] lists them, and that order
/// is the row order of every CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// What is trained, as named in the CSVs (e.g. `RNNsearch`, `scaled-dot`, `attentive`).
    pub variant: String,
    /// The training length k (0 where the experiment has none).
    pub train_max_len: usize,
    /// The seed of the model's initialization.
    pub seed: u64,
}

impl Cell {
    /// A training curve (`(step, mean loss)` pairs) as this cell's `learning_curve.csv`
    /// rows.
    pub fn curve_rows(&self, curve: &[(usize, f64)]) -> Vec<CurveRow> {
        (curve.iter())
            .map(|&(step, loss)| CurveRow {
                model: self.variant.clone(),
                train_max_len: self.train_max_len,
                seed: self.seed,
                step,
                loss,
            })
            .collect()
    }

    /// A cell of `variant` at training length `train_max_len` and `seed`.
    pub fn new(variant: impl Into<String>, train_max_len: usize, seed: u64) -> Cell {
        Cell {
            variant: variant.into(),
            train_max_len,
            seed,
        }
    }

    /// Every (training length, variant, seed) in that nesting order, the order of the CSV
    /// rows: for each `k` of `train_max_lens`, each variant, each seed. Experiments without
    /// training lengths pass `&[0]`.
    pub fn grid<V: Into<String> + Clone>(
        train_max_lens: &[usize],
        variants: &[V],
        seeds: &[u64],
    ) -> Vec<Cell> {
        let mut cells = Vec::new();
        for &k in train_max_lens {
            for variant in variants {
                for &seed in seeds {
                    cells.push(Cell::new(variant.clone(), k, seed));
                }
            }
        }
        cells
    }

    /// `variant-k<k>-seed<s>` with anything but letters, digits, `-` and `.` replaced by
    /// `_`: a folder name for the cell's files.
    pub fn file_name(&self) -> String {
        format!("{}-k{}-seed{}", self.variant, self.train_max_len, self.seed)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// `variant-k seed s`, for progress lines.
    pub fn label(&self) -> String {
        match self.train_max_len {
            0 => format!("{} seed {}", self.variant, self.seed),
            k => format!("{}-{k} seed {}", self.variant, self.seed),
        }
    }
}

/// What the recorder gives a cell besides its configuration and data.
#[derive(Clone, Debug, Default)]
pub struct CellContext {
    /// Where to save the cell's trained model (`--save-models`), or `None`.
    pub model_dir: Option<std::path::PathBuf>,
}

/// Everything one finished cell adds to the results; each list is appended to its CSV.
#[derive(Default)]
pub struct CellRecord {
    /// Rows of `metrics.csv` (reproducible numbers only).
    pub metrics: Vec<MetricRow>,
    /// Rows of `alignment.csv` (attention on one example sentence).
    pub alignment: Vec<AlignmentRow>,
    /// Rows of `learning_curve.csv`.
    pub curve: Vec<CurveRow>,
    /// Rows of `document_attention.csv` (a reader's attention over one document).
    pub doc_attention: Vec<DocAttentionRow>,
    /// Rows of `cost.csv` (wall clock: not reproducible).
    pub cost: Vec<CostRow>,
    /// Rows of `example_images.csv` (the pixels of the images attention is drawn on).
    pub example_images: Vec<ExampleImageRow>,
    /// Rows of `image_attention.csv` (a captioner's attention over the grid, per word; a
    /// text-to-image generator's over its generated image, per caption word).
    pub image_attention: Vec<ImageAttentionRow>,
    /// Rows of `generated_images.csv` (the pixels of the images a text-to-image model
    /// generated from the example captions).
    pub generated_images: Vec<GeneratedImageRow>,
    /// Rows of `example_captions.csv` (the captions the example images were generated
    /// from, one per example).
    pub example_captions: Vec<ExampleCaptionRow>,
    /// Rows of `glimpse_paths.csv` (where a recurrent attention model looked, step by step,
    /// on the example images).
    pub glimpse_paths: Vec<GlimpsePathRow>,
    /// Rows of `glimpse_patches.csv` (what its sensor returned at each of those glimpses).
    pub glimpse_patches: Vec<GlimpsePatchRow>,
    /// The cell's line of `timings.csv` (wall clock: not reproducible).
    pub timing: Option<TimingRow>,
}

/// One experiment: how to configure it, what its cells are and how to run one.
///
/// The contract the [`Recorder`](crate::recorder::Recorder) relies on: `run_cell` depends
/// only on the configuration, the loaded data and the cell (seeds included), so a cell
/// gives the same rows whether it runs alone or after others.
pub trait Experiment {
    /// The experiment's name in CSVs and in `results/<name>/`.
    const NAME: &'static str;
    /// What it reproduces and what to expect on the quick preset (the `--help` header).
    const ABOUT: &'static str;
    /// Every setting of a run. `deny_unknown_fields`, and a doc comment on every field:
    /// `--help` lists them from the schema.
    type Config: Serialize + DeserializeOwned + JsonSchema + Clone;
    /// Where the examples come from.
    type Task: Task;
    /// What every cell shares, loaded once per run (vocabularies, splits).
    type Data;

    /// The task when neither `--task` nor `--config` names one.
    fn default_task() -> Self::Task;
    /// The configuration a preset gives for a task.
    fn preset(preset: Preset, task: &Self::Task) -> Self::Config;
    /// The `long` preset for a task, where the experiment has one: the paper's shape on
    /// real data on the CPU, hours on 2 cores, run as cells across machines or days
    /// (`--cells`, `--merge`). None by default.
    fn long_preset(task: &Self::Task) -> Option<Self::Config> {
        let _ = task;
        None
    }
    /// The configuration's `task` field (the spelling of [`Task::arg`]).
    fn task_field(config: &mut Self::Config) -> &mut String;
    /// Checks the values a run cannot work with; the error names the field.
    fn validate(config: &Self::Config) -> anyhow::Result<()>;
    /// Loads or generates the examples every cell uses; prints one line describing them.
    fn load(
        config: &Self::Config,
        task: &Self::Task,
        data_dir: &Path,
    ) -> anyhow::Result<Self::Data>;
    /// The cells of a run, in the order their rows appear in the CSVs.
    fn cells(config: &Self::Config) -> Vec<Cell>;
    /// Trains and scores one cell.
    fn run_cell(
        config: &Self::Config,
        task: &Self::Task,
        data: &Self::Data,
        cell: &Cell,
        context: &CellContext,
    ) -> anyhow::Result<CellRecord>;
    /// A cell's cost relative to the others of the run (`--list-cells`). By default its
    /// training length k (1 where there is none): a recurrent loop's step costs about k,
    /// and the cells of one run share their step count.
    fn cell_cost(config: &Self::Config, cell: &Cell) -> f64 {
        let _ = config;
        cell.train_max_len.max(1) as f64
    }
    /// Extra lines for `--help` after the configuration fields (e.g. the registry of
    /// scores); none by default.
    fn help_notes() -> String {
        String::new()
    }
}
