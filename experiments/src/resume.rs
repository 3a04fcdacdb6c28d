//! What lets a run be interrupted and continued: one writer per results folder, and the
//! `checkpoints/` folder of an unfinished run.
//!
//! ```text
//! <out>/<task>/
//!   .lock                      held (flock) by the run writing here; the kernel drops it
//!                              when that process dies, however it dies
//!   checkpoints/               only while a run is unfinished; removed when it completes
//!     run.json                 the configuration, code revision and backend it belongs to
//!     cells/<index>/           a finished cell's rows, as CSVs (a *part*)
//!     load/                    the training loops of the data loading (pretrained encoders)
//!     cell-<index>/            the training loops of the unfinished cell (see checkpoint.rs)
//! ```
//!
//! Re-running the same command into the same `--out` finds `checkpoints/run.json`, checks
//! that it describes the same run, reads the finished parts and continues. Another
//! configuration or another code revision is refused with what differs.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The exclusive right to write into a results folder, for as long as it lives.
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    /// Takes `dir/.lock`, or refuses if another live process holds it.
    pub fn acquire(dir: &Path) -> anyhow::Result<RunLock> {
        RunLock::take(
            &dir.join(".lock"),
            &format!("another run is writing into {}", dir.display()),
        )
    }

    /// Takes the lock file `path` (a cell's, under `checkpoints/`), or refuses if another
    /// live process holds it.
    pub fn acquire_file(path: &Path) -> anyhow::Result<RunLock> {
        RunLock::take(path, &format!("another process holds {}", path.display()))
    }

    fn take(path: &Path, held: &str) -> anyhow::Result<RunLock> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let path = path.to_path_buf();
        let file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                bail!(
                    "{held} (process {}); wait for it to finish or choose another --out",
                    holder.trim()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        file.set_len(0)?;
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(RunLock { file, path })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still held, so no other process can take a lock on the old file
        // and then see it vanish.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// What a run's checkpoints belong to (`checkpoints/run.json`).
#[derive(Serialize, Deserialize, PartialEq, Debug)]
pub struct RunIdentity {
    /// The experiment's name.
    pub experiment: String,
    /// The configuration as run.
    pub config: Value,
    /// The git revision of the code (`unknown` outside a checkout).
    pub revision: String,
    /// The backend the run trained on.
    pub backend: String,
}

/// The `checkpoints/` folder of a results folder.
pub struct RunProgress {
    dir: PathBuf,
}

impl RunProgress {
    /// The progress of the run in `results_dir` for `identity`: `(progress, true)` when an
    /// unfinished run of the same identity is there to continue, `(progress, false)` when
    /// the run starts afresh (there is none, or `fresh` asks to drop it). An unfinished run
    /// of another identity is an error naming what differs.
    pub fn open(
        results_dir: &Path,
        identity: &RunIdentity,
        fresh: bool,
    ) -> anyhow::Result<(RunProgress, bool)> {
        let progress = RunProgress {
            dir: results_dir.join("checkpoints"),
        };
        let path = progress.dir.join("run.json");
        if fresh || !path.exists() {
            return Ok((progress, false));
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let saved: RunIdentity = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a run description", path.display()))?;
        let differences = differences(&saved, identity);
        if !differences.is_empty() {
            bail!(
                "{} holds an unfinished run that differs from this one ({}); run with --fresh to start over, or choose another --out",
                results_dir.display(),
                differences.join("; ")
            );
        }
        Ok((progress, true))
    }

    /// The progress of `results_dir` for cells run by several processes at once
    /// (`--cells`): the first to come writes `run.json` (atomically, never over another's);
    /// the others check theirs against it, as [`RunProgress::open`] does.
    pub fn open_shared(results_dir: &Path, identity: &RunIdentity) -> anyhow::Result<RunProgress> {
        let progress = RunProgress {
            dir: results_dir.join("checkpoints"),
        };
        std::fs::create_dir_all(&progress.dir)
            .with_context(|| format!("cannot create {}", progress.dir.display()))?;
        let path = progress.dir.join("run.json");
        let tmp = progress
            .dir
            .join(format!("run.json.{}.tmp", std::process::id()));
        let json = serde_json::to_string_pretty(identity)? + "\n";
        std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
        // A hard link fails if run.json exists: exactly one process creates it.
        let created = std::fs::hard_link(&tmp, &path).is_ok();
        let _ = std::fs::remove_file(&tmp);
        if !created {
            RunProgress::open(results_dir, identity, false)?;
        }
        Ok(progress)
    }

    /// The results folder these checkpoints belong to.
    pub fn results_dir(&self) -> &Path {
        self.dir
            .parent()
            .expect("checkpoints/ is inside the results folder")
    }

    /// The lock a process holds while it runs cell `index` (`--cells`).
    pub fn cell_lock(&self, index: usize) -> PathBuf {
        self.dir.join(format!("cell-{index}.lock"))
    }

    /// Where the training loops of the data loading of a `--cells` process keep their
    /// checkpoints (named for its first unfinished cell, so a requeued process finds them).
    pub fn load_checkpoints_of(&self, first_cell: usize) -> PathBuf {
        self.dir.join(format!("load-{first_cell}"))
    }

    /// Starts afresh: removes the checkpoints of an earlier run and writes `run.json`.
    pub fn start(&self, identity: &RunIdentity) -> anyhow::Result<()> {
        self.remove()?;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let json = serde_json::to_string_pretty(identity)? + "\n";
        plots::write_atomic(&self.dir.join("run.json"), json.as_bytes())
    }

    /// Where the finished cell `index` keeps its rows.
    pub fn part(&self, index: usize) -> PathBuf {
        self.dir.join("cells").join(index.to_string())
    }

    /// Where the training loops of cell `index` keep their checkpoints.
    pub fn cell_checkpoints(&self, index: usize) -> PathBuf {
        self.dir.join(format!("cell-{index}"))
    }

    /// Where the training loops of the data loading keep their checkpoints.
    pub fn load_checkpoints(&self) -> PathBuf {
        self.dir.join("load")
    }

    /// Removes the whole folder (the run is complete, or starts over).
    pub fn remove(&self) -> anyhow::Result<()> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .with_context(|| format!("cannot remove {}", self.dir.display()))?;
        }
        Ok(())
    }
}

/// What differs between two identities, one phrase each (`steps: 3000 then, 2000 now`).
fn differences(then: &RunIdentity, now: &RunIdentity) -> Vec<String> {
    let mut out = Vec::new();
    for (name, a, b) in [
        ("experiment", &then.experiment, &now.experiment),
        ("code revision", &then.revision, &now.revision),
        ("backend", &then.backend, &now.backend),
    ] {
        if a != b {
            out.push(format!("{name}: {a} then, {b} now"));
        }
    }
    value_differences("", &then.config, &now.config, &mut out);
    out
}

/// The fields of two JSON values that differ, by path.
fn value_differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let missing = Value::Null;
                value_differences(
                    &child,
                    x.get(key).unwrap_or(&missing),
                    y.get(key).unwrap_or(&missing),
                    out,
                );
            }
        }
        _ if a != b => out.push(format!("{path}: {a} then, {b} now")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(config: Value, revision: &str) -> RunIdentity {
        RunIdentity {
            experiment: "x".into(),
            config,
            revision: revision.into(),
            backend: "flex".into(),
        }
    }

    #[test]
    fn differences_name_every_changed_field_by_path() {
        let then = identity(
            serde_json::json!({"steps": 3000, "base": {"lr": 0.001}}),
            "a",
        );
        let now = identity(
            serde_json::json!({"steps": 2000, "base": {"lr": 0.001}}),
            "b",
        );
        assert_eq!(
            differences(&then, &now),
            vec![
                "code revision: a then, b now".to_string(),
                "steps: 3000 then, 2000 now".to_string()
            ]
        );
        assert!(differences(&then, &then).is_empty());
    }

    #[test]
    fn a_second_lock_on_a_folder_is_refused_and_freed_when_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("lock-test-{}", std::process::id()));
        let first = RunLock::acquire(&dir).unwrap();
        let err = RunLock::acquire(&dir).err().expect("refused").to_string();
        assert!(err.contains("another run is writing into"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        drop(first);
        assert!(!dir.join(".lock").exists());
        RunLock::acquire(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
