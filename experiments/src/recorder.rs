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
use crate::experiment::CellRecord;

/// Calls `$m!(field, FILE, write_fn, read_fn)` for every CSV of a [`CellRecord`] but the
/// timings (one line per cell, kept apart), in the order of [`plots::RESULT_FILES`].
macro_rules! each_csv {
    ($m:ident) => {
        $m!(metrics, METRICS_FILE, write_metrics_csv, read_metrics_csv);
        $m!(
            alignment,
            ALIGNMENT_FILE,
            write_alignment_csv,
            read_alignment_csv
        );
        $m!(curve, CURVE_FILE, write_curve_csv, read_curve_csv);
        $m!(cost, COST_FILE, write_cost_csv, read_cost_csv);
        $m!(
            doc_attention,
            DOC_ATTENTION_FILE,
            write_doc_attention_csv,
            read_doc_attention_csv
        );
        $m!(
            example_images,
            EXAMPLE_IMAGES_FILE,
            write_example_images_csv,
            read_example_images_csv
        );
        $m!(
            image_attention,
            IMAGE_ATTENTION_FILE,
            write_image_attention_csv,
            read_image_attention_csv
        );
        $m!(
            generated_images,
            GENERATED_IMAGES_FILE,
            write_generated_images_csv,
            read_generated_images_csv
        );
        $m!(
            example_captions,
            EXAMPLE_CAPTIONS_FILE,
            write_example_captions_csv,
            read_example_captions_csv
        );
        $m!(
            glimpse_paths,
            GLIMPSE_PATHS_FILE,
            write_glimpse_paths_csv,
            read_glimpse_paths_csv
        );
        $m!(
            glimpse_patches,
            GLIMPSE_PATCHES_FILE,
            write_glimpse_patches_csv,
            read_glimpse_patches_csv
        );
    };
}

/// Writes one finished cell's rows into `dir` (a *part*: the same CSVs as a results
/// folder, holding that cell's rows alone), as a folder `dir.partial` renamed when
/// complete.
pub fn write_part(dir: &Path, record: &CellRecord) -> anyhow::Result<()> {
    let partial = dir.with_extension("partial");
    let result = write_part_into(&partial, record).and_then(|()| {
        std::fs::rename(&partial, dir)
            .with_context(|| format!("cannot rename {} to {}", partial.display(), dir.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result
}

fn write_part_into(partial: &Path, record: &CellRecord) -> anyhow::Result<()> {
    if partial.exists() {
        std::fs::remove_dir_all(partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    std::fs::create_dir_all(partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    macro_rules! write {
        ($field:ident, $file:ident, $write:ident, $read:ident) => {
            if !record.$field.is_empty() {
                plots::$write(&partial.join(plots::$file), &record.$field)?;
            }
        };
    }
    each_csv!(write);
    if let Some(timing) = &record.timing {
        plots::write_timings_csv(
            &partial.join(plots::TIMINGS_FILE),
            std::slice::from_ref(timing),
        )?;
    }
    Ok(())
}

/// Reads a part written by [`write_part`] back into a cell's record.
pub fn read_part(dir: &Path) -> anyhow::Result<CellRecord> {
    let mut record = CellRecord::default();
    macro_rules! read {
        ($field:ident, $file:ident, $write:ident, $read:ident) => {
            let path = dir.join(plots::$file);
            if path.exists() {
                record.$field = plots::$read(&path)?;
            }
        };
    }
    each_csv!(read);
    let path = dir.join(plots::TIMINGS_FILE);
    if path.exists() {
        record.timing = plots::read_timings_csv(&path)?.into_iter().next();
    }
    Ok(record)
}

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
        self.append(record)?;
        Ok(())
    }

    /// Appends finished cells' rows (read back from their parts) and rewrites every CSV
    /// once.
    pub fn record_all(&mut self, records: Vec<CellRecord>) -> anyhow::Result<()> {
        let mut all = CellRecord::default();
        let mut timings = Vec::new();
        for record in records {
            macro_rules! extend {
                ($field:ident, $file:ident, $write:ident, $read:ident) => {
                    all.$field.extend(record.$field);
                };
            }
            each_csv!(extend);
            timings.extend(record.timing);
        }
        self.append(all)?;
        append(
            &mut self.timings,
            timings,
            &self.dir,
            plots::TIMINGS_FILE,
            plots::write_timings_csv,
        )
    }

    fn append(&mut self, record: CellRecord) -> anyhow::Result<()> {
        let dir = &self.dir;
        macro_rules! write {
            ($field:ident, $file:ident, $write:ident, $read:ident) => {
                append(
                    &mut self.written.$field,
                    record.$field,
                    dir,
                    plots::$file,
                    plots::$write,
                )?;
            };
        }
        each_csv!(write);
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
        || is_temporary(name)
}

/// Whether `name` is a temporary file of [`plots::write_atomic`]
/// (`<name>.<pid>.tmp.<ext>`), left by a run killed while it wrote.
fn is_temporary(name: &str) -> bool {
    let mut parts = name.rsplit('.');
    let (_ext, tmp, pid) = (parts.next(), parts.next(), parts.next());
    tmp == Some("tmp")
        && pid.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes the CSVs, `summary.md`, `.png` figures and temporary files an earlier run left
/// in `dir`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_writer_s_temporary_files_are_outputs_to_clear() {
        assert!(is_temporary("metrics.csv.15023.tmp.csv"));
        assert!(is_temporary("bleu.png.7.tmp.png"));
        assert!(!is_temporary("metrics.csv"));
        assert!(!is_temporary("notes.tmp.txt"));
        assert!(!is_temporary("a.x.tmp.csv"));
        assert!(is_output("metrics.csv.15023.tmp.csv"));
        assert!(!is_output("config.json"));
    }
}
