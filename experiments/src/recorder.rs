//! The one writer of results: runs an experiment's cells in order and keeps
//! `<out>/<task>/` up to date after each of them.
//!
//! Every CSV is rewritten atomically (temporary file, then rename) after each finished
//! cell, so a killed run keeps every cell it had finished and never leaves a truncated
//! file. A CSV exists only once it has a row. The figures and `summary.md` are drawn at the
//! end by [`plots::redraw_results_dir`], the same function `scripts/replot` calls, so every
//! figure is a function of the CSVs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use plots::{
    AlignmentRow, CostRow, CurveRow, DocAttentionRow, ExampleImageRow, ImageAttentionRow,
    MetricRow, TimingRow,
};

use crate::config_file::write_config;
use crate::experiment::{CellRecord, Experiment, Task};

/// The rows written so far, one list per CSV of the results folder.
pub struct Recorder {
    dir: PathBuf,
    metrics: Vec<MetricRow>,
    alignment: Vec<AlignmentRow>,
    curve: Vec<CurveRow>,
    doc_attention: Vec<DocAttentionRow>,
    cost: Vec<CostRow>,
    example_images: Vec<ExampleImageRow>,
    image_attention: Vec<ImageAttentionRow>,
    timings: Vec<TimingRow>,
}

impl Recorder {
    /// Creates `dir`, removes the outputs of an earlier run there (its CSVs, `summary.md`
    /// and figures, so none outlives the configuration that made it), and writes
    /// `dir/config.json` (the configuration as run, with the git revision and backend).
    pub fn create(dir: PathBuf, config: &impl serde::Serialize) -> anyhow::Result<Recorder> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        remove_earlier_outputs(&dir)?;
        write_config(&dir, config)?;
        Ok(Recorder {
            dir,
            metrics: Vec::new(),
            alignment: Vec::new(),
            curve: Vec::new(),
            doc_attention: Vec::new(),
            cost: Vec::new(),
            example_images: Vec::new(),
            image_attention: Vec::new(),
            timings: Vec::new(),
        })
    }

    /// The results folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one finished cell's rows and rewrites every CSV they touch.
    pub fn record(&mut self, record: CellRecord) -> anyhow::Result<()> {
        let dir = &self.dir;
        let file = |name: &str| dir.join(name);
        if !record.metrics.is_empty() {
            self.metrics.extend(record.metrics);
            plots::write_metrics_csv(&file(plots::METRICS_FILE), &self.metrics)?;
        }
        if !record.alignment.is_empty() {
            self.alignment.extend(record.alignment);
            plots::write_alignment_csv(&file(plots::ALIGNMENT_FILE), &self.alignment)?;
        }
        if !record.curve.is_empty() {
            self.curve.extend(record.curve);
            plots::write_curve_csv(&file(plots::CURVE_FILE), &self.curve)?;
        }
        if !record.doc_attention.is_empty() {
            self.doc_attention.extend(record.doc_attention);
            plots::write_doc_attention_csv(&file(plots::DOC_ATTENTION_FILE), &self.doc_attention)?;
        }
        if !record.cost.is_empty() {
            self.cost.extend(record.cost);
            plots::write_cost_csv(&file(plots::COST_FILE), &self.cost)?;
        }
        if !record.example_images.is_empty() {
            self.example_images.extend(record.example_images);
            let path = file(plots::EXAMPLE_IMAGES_FILE);
            plots::write_example_images_csv(&path, &self.example_images)?;
        }
        if !record.image_attention.is_empty() {
            self.image_attention.extend(record.image_attention);
            let path = file(plots::IMAGE_ATTENTION_FILE);
            plots::write_image_attention_csv(&path, &self.image_attention)?;
        }
        if let Some(timing) = record.timing {
            self.timings.push(timing);
            plots::write_timings_csv(&file(plots::TIMINGS_FILE), &self.timings)?;
        }
        Ok(())
    }

    /// Redraws every figure and `summary.md` from the CSVs; returns the folder.
    pub fn finish(self) -> anyhow::Result<PathBuf> {
        for path in plots::redraw_results_dir(&self.dir)? {
            eprintln!("wrote {}", path.display());
        }
        Ok(self.dir)
    }
}

/// The files a run writes besides `config.json`: its CSVs and `summary.md` (figures are
/// every `.png`).
const OUTPUT_FILES: [&str; 9] = [
    plots::METRICS_FILE,
    plots::ALIGNMENT_FILE,
    plots::CURVE_FILE,
    plots::DOC_ATTENTION_FILE,
    plots::COST_FILE,
    plots::EXAMPLE_IMAGES_FILE,
    plots::IMAGE_ATTENTION_FILE,
    plots::TIMINGS_FILE,
    "summary.md",
];

/// Removes the CSVs, `summary.md` and `.png` figures an earlier run left in `dir`.
fn remove_earlier_outputs(dir: &Path) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if OUTPUT_FILES.contains(&name) || name.ends_with(".png") {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}

/// Runs a whole experiment: validates the configuration, loads the data, writes
/// `config.json` into `out_dir/<task>/` (replacing an earlier run's outputs there), runs
/// every cell in order (recording each as it finishes) and draws the figures. Returns the
/// results folder. Data that fails to load leaves an earlier run's folder untouched.
pub fn run<E: Experiment>(
    config: &E::Config,
    task: &E::Task,
    data_dir: &Path,
    out_dir: &Path,
) -> anyhow::Result<PathBuf> {
    E::validate(config)?;
    let data = E::load(config, task, data_dir)?;
    let mut recorder = Recorder::create(out_dir.join(task.name()), config)?;
    let cells = E::cells(config);
    for (index, cell) in cells.iter().enumerate() {
        let record = E::run_cell(config, task, &data, cell)
            .with_context(|| format!("cell {}/{} ({})", index + 1, cells.len(), cell.label()))?;
        recorder.record(record)?;
    }
    recorder.finish()
}
