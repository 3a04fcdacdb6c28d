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
use plots::TimingRow;

use crate::config_file::write_config;
use crate::experiment::{CellRecord, Experiment, Task};

/// The rows written so far, one list per CSV of the results folder.
pub struct Recorder {
    dir: PathBuf,
    /// Every row written so far (its `timing` unused: timings collect in `timings`).
    written: CellRecord,
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
            written: CellRecord::default(),
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
        append(
            &mut self.written.metrics,
            record.metrics,
            dir,
            plots::METRICS_FILE,
            plots::write_metrics_csv,
        )?;
        append(
            &mut self.written.alignment,
            record.alignment,
            dir,
            plots::ALIGNMENT_FILE,
            plots::write_alignment_csv,
        )?;
        append(
            &mut self.written.curve,
            record.curve,
            dir,
            plots::CURVE_FILE,
            plots::write_curve_csv,
        )?;
        append(
            &mut self.written.doc_attention,
            record.doc_attention,
            dir,
            plots::DOC_ATTENTION_FILE,
            plots::write_doc_attention_csv,
        )?;
        append(
            &mut self.written.cost,
            record.cost,
            dir,
            plots::COST_FILE,
            plots::write_cost_csv,
        )?;
        append(
            &mut self.written.example_images,
            record.example_images,
            dir,
            plots::EXAMPLE_IMAGES_FILE,
            plots::write_example_images_csv,
        )?;
        append(
            &mut self.written.image_attention,
            record.image_attention,
            dir,
            plots::IMAGE_ATTENTION_FILE,
            plots::write_image_attention_csv,
        )?;
        append(
            &mut self.written.generated_images,
            record.generated_images,
            dir,
            plots::GENERATED_IMAGES_FILE,
            plots::write_generated_images_csv,
        )?;
        append(
            &mut self.written.example_captions,
            record.example_captions,
            dir,
            plots::EXAMPLE_CAPTIONS_FILE,
            plots::write_example_captions_csv,
        )?;
        append(
            &mut self.written.glimpse_paths,
            record.glimpse_paths,
            dir,
            plots::GLIMPSE_PATHS_FILE,
            plots::write_glimpse_paths_csv,
        )?;
        append(
            &mut self.written.glimpse_patches,
            record.glimpse_patches,
            dir,
            plots::GLIMPSE_PATCHES_FILE,
            plots::write_glimpse_patches_csv,
        )?;
        let timing: Vec<TimingRow> = record.timing.into_iter().collect();
        append(
            &mut self.timings,
            timing,
            dir,
            plots::TIMINGS_FILE,
            plots::write_timings_csv,
        )
    }

    /// Redraws every figure and `summary.md` from the CSVs; returns the folder.
    pub fn finish(self) -> anyhow::Result<PathBuf> {
        for path in plots::redraw_results_dir(&self.dir)? {
            eprintln!("wrote {}", path.display());
        }
        Ok(self.dir)
    }
}

/// Appends `rows` to the rows written so far, `all`, and rewrites `dir/name` with all of
/// them; a CSV is written only once it has a row.
fn append<T>(
    all: &mut Vec<T>,
    rows: Vec<T>,
    dir: &Path,
    name: &str,
    write: fn(&Path, &[T]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    all.extend(rows);
    write(&dir.join(name), all)
}

/// Whether `name` is a file a run writes besides `config.json`: a CSV, `summary.md` or a
/// figure.
fn is_output(name: &str) -> bool {
    plots::RESULT_FILES.contains(&name)
        || [plots::TIMINGS_FILE, plots::SUMMARY_FILE].contains(&name)
        || name.ends_with(".png")
}

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
        if is_output(name) {
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
