//! A run of an experiment: which cells, continuing what was finished, and the merge.
//!
//! Three ways, one folder layout ([`crate::resume`]):
//! - every cell ([`CellSelection::All`], the default): continue or start the run in
//!   `<out>/<task>/`, run the cells not yet finished, write the results;
//! - some cells ([`CellSelection::Only`], `--cells 3,7-9`): run just those into their parts
//!   (`checkpoints/cells/<index>/`), each under its own lock, so several processes (a Slurm
//!   job array, `scripts/sweep local`) can share one folder; no results are written;
//! - the merge ([`CellSelection::Merge`], `--merge`): once every cell's part is there, write
//!   the results from the parts alone (no data loaded, nothing trained). The files are the
//!   bytes a single uninterrupted run writes (`timings.csv` aside), because a single run
//!   writes the same parts and the same rows in the same order.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::checkpoint::{self, Interrupted};
use crate::experiment::{Cell, CellContext, Experiment, Task};
use crate::recorder::{Recorder, read_part, write_part};
use crate::resume::{RunIdentity, RunLock, RunProgress};

/// Which cells a run runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CellSelection {
    /// Every cell not yet finished, then the results.
    #[default]
    All,
    /// Only these cells (indices into [`Experiment::cells`]), into their parts.
    Only(Vec<usize>),
    /// No cell: the results from the finished parts, which must all be there.
    Merge,
}

impl std::str::FromStr for CellSelection {
    type Err = String;

    /// `3,7-9` (indices and inclusive ranges, in any order).
    fn from_str(spec: &str) -> Result<CellSelection, String> {
        let mut indices = Vec::new();
        for piece in spec.split(',') {
            let number = |s: &str| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("--cells: '{piece}' is not an index or a range like 7-9"))
            };
            match piece.split_once('-') {
                Some((lo, hi)) => {
                    let (lo, hi) = (number(lo)?, number(hi)?);
                    if lo > hi {
                        return Err(format!("--cells: the range '{piece}' is empty"));
                    }
                    indices.extend(lo..=hi);
                }
                None => indices.push(number(piece)?),
            }
        }
        indices.sort_unstable();
        indices.dedup();
        Ok(CellSelection::Only(indices))
    }
}

/// `1-3, 7`: indices as ranges, for messages.
pub fn format_indices(indices: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            indices[i].to_string()
        } else {
            format!("{}-{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    out.join(",")
}

/// How a run treats an earlier, unfinished run in its folder, which cells it runs, and
/// what it keeps besides results.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Start over even if the folder holds an unfinished run of the same configuration.
    pub fresh: bool,
    /// Fail unless there is an unfinished run to continue.
    pub resume: bool,
    /// Save a training checkpoint every this many steps (0: only when a signal asks, and
    /// at the end of each training loop).
    pub checkpoint_every: usize,
    /// Write every trained model under `<folder>/models/`.
    pub save_models: bool,
    /// Which cells to run.
    pub cells: CellSelection,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            fresh: false,
            resume: false,
            checkpoint_every: 200,
            save_models: false,
            cells: CellSelection::All,
        }
    }
}

/// [`run_with`] with the default options: every cell; an unfinished run in the folder is
/// continued.
pub fn run<E: Experiment>(
    config: &E::Config,
    task: &E::Task,
    data_dir: &Path,
    out_dir: &Path,
) -> anyhow::Result<PathBuf> {
    run_with::<E>(config, task, data_dir, out_dir, &RunOptions::default())
}

/// Runs an experiment into `out_dir/<task>/` as `options` ask (see the module docs) and
/// returns that folder.
///
/// Every cell: validates the configuration, takes the folder (refused while another run
/// writes there), loads the data, writes `config.json` (replacing an earlier run's outputs
/// there), runs every cell in order (recording each as it finishes) and draws the figures.
/// Data that fails to load leaves an earlier run's folder untouched. An unfinished run of the
/// same configuration and code in the folder is continued (unless `options.fresh`): its
/// finished cells are read back, not run again, and the unfinished cell resumes from its
/// last checkpoint. The files are then the same, byte for byte, as an uninterrupted run's
/// (`timings.csv` aside).
pub fn run_with<E: Experiment>(
    config: &E::Config,
    task: &E::Task,
    data_dir: &Path,
    out_dir: &Path,
    options: &RunOptions,
) -> anyhow::Result<PathBuf> {
    E::validate(config)?;
    let dir = out_dir.join(task.name());
    let info = harness::RunInfo::collect();
    let identity = RunIdentity {
        experiment: E::NAME.to_string(),
        config: serde_json::to_value(config)?,
        revision: info.git_revision,
        backend: info.backend.to_string(),
    };
    let cells = E::cells(config);
    let every = options.checkpoint_every;
    match &options.cells {
        CellSelection::All => {
            let _lock = RunLock::acquire(&dir)?;
            let (progress, resuming) = RunProgress::open(&dir, &identity, options.fresh)?;
            if !resuming && options.resume {
                bail!("--resume: {} holds no unfinished run", dir.display());
            }
            if !resuming {
                progress.start(&identity)?;
            }
            let loaded = checkpoint::with_scope(&progress.load_checkpoints(), every, || {
                E::load(config, task, data_dir)
            });
            let data = match loaded {
                Ok(data) => data,
                // A run that could not load its data has nothing to continue (missing
                // data, say); one stopped by a signal keeps its loading checkpoints.
                Err(e) if !resuming && e.downcast_ref::<Interrupted>().is_none() => {
                    progress.remove()?;
                    return Err(e);
                }
                Err(e) => return Err(e),
            };
            let mut recorder = continue_recording::<E>(config, &dir, &progress, cells.len())?;
            for index in 0..cells.len() {
                if !progress.part(index).exists() {
                    let record =
                        run_cell::<E>(config, task, &data, &progress, options, &cells, index)?;
                    recorder.record(record)?;
                }
            }
            finish(recorder, &progress)
        }
        CellSelection::Only(indices) => {
            if options.fresh {
                bail!(
                    "--fresh with --cells would drop the other cells' parts; remove {} instead",
                    dir.display()
                );
            }
            if let Some(&bad) = indices.iter().find(|&&i| i >= cells.len()) {
                bail!(
                    "--cells: no cell {bad}; this run has cells 0-{} (see --list-cells)",
                    cells.len() - 1
                );
            }
            let progress = RunProgress::open_shared(&dir, &identity)?;
            let todo: Vec<usize> = indices
                .iter()
                .copied()
                .filter(|&i| !progress.part(i).exists())
                .collect();
            if todo.is_empty() {
                eprintln!(
                    "cells {} already finished in {}",
                    format_indices(indices),
                    dir.display()
                );
                return Ok(dir);
            }
            let load_checkpoints = progress.load_checkpoints_of(todo[0]);
            let data = checkpoint::with_scope(&load_checkpoints, every, || {
                E::load(config, task, data_dir)
            })?;
            for &index in &todo {
                let _lock = RunLock::acquire_file(&progress.cell_lock(index))?;
                if !progress.part(index).exists() {
                    run_cell::<E>(config, task, &data, &progress, options, &cells, index)?;
                }
            }
            remove_dir(&load_checkpoints)?;
            eprintln!(
                "cells {} finished in {}; once every cell has, write the results with --merge",
                format_indices(indices),
                dir.display()
            );
            Ok(dir)
        }
        CellSelection::Merge => {
            let _lock = RunLock::acquire(&dir)?;
            let (progress, resuming) = RunProgress::open(&dir, &identity, false)?;
            if !resuming {
                bail!(
                    "{} holds no cells of this run to merge (run them with --cells)",
                    dir.display()
                );
            }
            let missing: Vec<usize> = (0..cells.len())
                .filter(|&i| !progress.part(i).exists())
                .collect();
            if !missing.is_empty() {
                bail!(
                    "cannot merge {}: cells {} of {} are not finished (run them with --cells {})",
                    dir.display(),
                    format_indices(&missing),
                    cells.len(),
                    format_indices(&missing)
                );
            }
            let recorder = continue_recording::<E>(config, &dir, &progress, cells.len())?;
            finish(recorder, &progress)
        }
    }
}

/// A recorder for `dir` with the finished parts' rows already written. Continuing or not,
/// the folder is rewritten from the parts: nothing an earlier run left there (another
/// configuration's figures, say) survives.
fn continue_recording<E: Experiment>(
    config: &E::Config,
    dir: &Path,
    progress: &RunProgress,
    n_cells: usize,
) -> anyhow::Result<Recorder> {
    let mut recorder = Recorder::create(dir.to_path_buf(), config)?;
    let mut finished = Vec::new();
    for index in 0..n_cells {
        let part = progress.part(index);
        if part.exists() {
            finished.push(read_part(&part)?);
        }
    }
    if !finished.is_empty() {
        eprintln!(
            "{}: {} of {n_cells} cells already finished",
            dir.display(),
            finished.len()
        );
        recorder.record_all(finished)?;
    }
    Ok(recorder)
}

/// Runs cell `index` (resuming its training loops from their checkpoints), writes its part
/// and returns its rows. A stop asked for by a signal before it starts is [`Interrupted`].
fn run_cell<E: Experiment>(
    config: &E::Config,
    task: &E::Task,
    data: &E::Data,
    progress: &RunProgress,
    options: &RunOptions,
    cells: &[Cell],
    index: usize,
) -> anyhow::Result<crate::experiment::CellRecord> {
    let cell = &cells[index];
    if checkpoint::signals::stop_requested() {
        return Err(Interrupted {
            at: format!("cell {}/{}", index + 1, cells.len()),
        }
        .into());
    }
    let context = CellContext {
        model_dir: options
            .save_models
            .then(|| progress.results_dir().join("models").join(cell.file_name())),
    };
    let checkpoints = progress.cell_checkpoints(index);
    let record = checkpoint::with_scope(&checkpoints, options.checkpoint_every, || {
        E::run_cell(config, task, data, cell, &context)
    })
    .with_context(|| format!("cell {}/{} ({})", index + 1, cells.len(), cell.label()))?;
    write_part(&progress.part(index), &record)?;
    remove_dir(&checkpoints)?;
    Ok(record)
}

/// Draws the figures and removes the finished run's checkpoints.
fn finish(recorder: Recorder, progress: &RunProgress) -> anyhow::Result<PathBuf> {
    let dir = recorder.finish()?;
    progress.remove()?;
    Ok(dir)
}

fn remove_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_lists_parse_as_indices_and_ranges() {
        assert_eq!(
            "3,7-9,0".parse::<CellSelection>(),
            Ok(CellSelection::Only(vec![0, 3, 7, 8, 9]))
        );
        assert_eq!(
            "5".parse::<CellSelection>(),
            Ok(CellSelection::Only(vec![5]))
        );
        assert!(
            "9-7"
                .parse::<CellSelection>()
                .unwrap_err()
                .contains("'9-7' is empty")
        );
        assert!(
            "a".parse::<CellSelection>()
                .unwrap_err()
                .contains("'a' is not an index")
        );
        assert!("1,,2".parse::<CellSelection>().is_err());
        assert_eq!(format_indices(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(format_indices(&[]), "");
    }
}
