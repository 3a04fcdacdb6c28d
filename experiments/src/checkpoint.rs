//! Checkpoints of the training loop: what a killed run needs to go on as if it had never
//! stopped.
//!
//! A checkpoint is a folder `step-<N>/` holding the model (`model.bpk`), Adam's state
//! (`optimizer.bpk`), both in Burn's burnpack format, which keeps parameter identities so
//! the optimizer's state finds its parameters again, and `state.json` (the step, the
//! learning curve so far, the loop's random stream and the carried REINFORCE baseline,
//! every float stored as its bits), and, for a loop that selects its model by a held-out
//! score, the best model so far (`best.bpk`) with every check in `state.json`. The GAN
//! loop of text-to-image saves its four players (two modules, two optimizers) the same
//! way. It is written as `step-<N>.partial/` and renamed when complete, so a kill at any
//! moment leaves either the previous checkpoint or the new one, never half of one.
//!
//! Where checkpoints go is set by the [`Recorder`](crate::recorder) for the cell it runs
//! ([`with_scope`]): each [`train_loop`](crate::training::train_loop) call inside gets the
//! next *slot* of the scope (`<ordinal>-<label>`), so a cell that trains twice (an encoder,
//! then a decoder) keeps both. Outside a scope (benchmarks, tests of the loop) nothing is
//! saved.
//!
//! What makes the contract (resumed = never interrupted, byte for byte) hold is in the
//! loop: every random draw of a training step comes from generators seeded by the loop's
//! stream and the step number, and the data order is replayed, so nothing that cannot be
//! saved carries over from one step to the next.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::{BurnpackStore, ModuleSnapshot};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Where the training loops of the running cell keep their checkpoints.
struct Scope {
    dir: PathBuf,
    every: usize,
    /// `train_loop` calls so far in this scope: the next slot's ordinal.
    calls: usize,
}

static SCOPE: Mutex<Option<Scope>> = Mutex::new(None);

/// Runs `body` with checkpoints of every training loop inside it kept under `dir`, one
/// every `every` steps (0: only when a signal asks for one).
pub fn with_scope<T>(dir: &Path, every: usize, body: impl FnOnce() -> T) -> T {
    *SCOPE.lock().expect("checkpoint scope") = Some(Scope {
        dir: dir.to_path_buf(),
        every,
        calls: 0,
    });
    let result = body();
    *SCOPE.lock().expect("checkpoint scope") = None;
    result
}

/// The checkpoint slot of one training loop: a folder and how often to save into it.
pub struct Slot {
    dir: PathBuf,
    every: usize,
    /// The loop's label, for the message of a stop.
    label: String,
}

impl Slot {
    /// The next slot of the current scope for a loop labelled `label`, or `None` outside a
    /// scope.
    pub fn next(label: &str) -> Option<Slot> {
        let mut scope = SCOPE.lock().expect("checkpoint scope");
        let scope = scope.as_mut()?;
        scope.calls += 1;
        let name: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Some(Slot {
            dir: scope.dir.join(format!("{}-{name}", scope.calls)),
            every: scope.every,
            label: label.to_string(),
        })
    }

    /// Whether the loop should save after `step`: on the schedule, or because a signal
    /// asked for it.
    pub fn due(&self, step: usize) -> bool {
        (self.every > 0 && step.is_multiple_of(self.every)) || signals::save_requested()
    }
}

/// An `f64` stored as its bits, so a learning curve read back is the same to the last bit
/// (a JSON number written by one library and parsed by another need not be).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExactF64(u64);

impl From<f64> for ExactF64 {
    fn from(x: f64) -> ExactF64 {
        ExactF64(x.to_bits())
    }
}

impl From<ExactF64> for f64 {
    fn from(x: ExactF64) -> f64 {
        f64::from_bits(x.0)
    }
}

/// Everything of the loop besides the model and the optimizer (`state.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoopState {
    /// Steps done.
    pub step: usize,
    /// Steps the loop was asked for (a mismatch means another configuration).
    pub steps: usize,
    /// The loop's random stream: every step's draws are seeded from it and the step.
    pub stream: u64,
    /// Training wall time so far, in seconds (not reproducible; only for timings).
    pub seconds: ExactF64,
    /// The learning-curve points so far.
    pub curve: Vec<(usize, ExactF64)>,
    /// The cross-entropy summed since the last curve point, and over how many steps.
    pub window: (ExactF64, usize),
    /// The moving-average REINFORCE baseline, carried from step to step.
    pub reward_baseline: Option<ExactF64>,
    /// Model selection's checks so far, `(step, score)` (absent in checkpoints of loops
    /// that do not select); the model of the first best one is kept as `best.bpk`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<(usize, ExactF64)>,
}

const STATE_FILE: &str = "state.json";

impl Slot {
    /// Saves a checkpoint after `step` of `steps`: `state` as `state.json`, and whatever
    /// `write` puts in the folder it is given (modules and optimizers: [`save_module`],
    /// [`save_optimizer`]); then removes the older checkpoints. A SIGUSR1 request is then
    /// served; a stop asked for by a signal is [`Interrupted`], for the loop to return.
    pub fn save<S: Serialize>(
        &self,
        step: usize,
        steps: usize,
        state: &S,
        write: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let done = self.dir.join(format!("step-{step}"));
        let partial = self.dir.join(format!("step-{step}.partial"));
        let context = || format!("cannot write checkpoint {}", partial.display());
        if partial.exists() {
            std::fs::remove_dir_all(&partial).with_context(context)?;
        }
        std::fs::create_dir_all(&partial).with_context(context)?;
        write(&partial)?;
        std::fs::write(partial.join(STATE_FILE), serde_json::to_vec_pretty(state)?)
            .with_context(context)?;
        for entry in std::fs::read_dir(&partial).with_context(context)? {
            std::fs::File::open(entry?.path())
                .and_then(|f| f.sync_all())
                .with_context(context)?;
        }
        if done.exists() {
            std::fs::remove_dir_all(&done).with_context(context)?;
        }
        std::fs::rename(&partial, &done).with_context(context)?;
        for (saved, path) in self.checkpoints()? {
            if saved != step {
                std::fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        signals::save_done();
        if signals::stop_requested() {
            return Err(Interrupted {
                at: format!("{}, step {step} of {steps}", self.label),
            }
            .into());
        }
        Ok(())
    }

    /// The latest complete checkpoint: its folder (to load modules and optimizers from:
    /// [`load_module`], [`load_optimizer`]) and its state; `None` when there is none.
    pub fn load<S: DeserializeOwned>(&self) -> anyhow::Result<Option<(PathBuf, S)>> {
        let Some((_, dir)) = self
            .checkpoints()?
            .into_iter()
            .max_by_key(|(step, _)| *step)
        else {
            return Ok(None);
        };
        let path = dir.join(STATE_FILE);
        let state = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{}: not a checkpoint state", path.display()))?;
        Ok(Some((dir, state)))
    }

    /// The complete checkpoints in the slot, with their steps; partial ones are removed.
    fn checkpoints(&self) -> anyhow::Result<Vec<(usize, PathBuf)>> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.ends_with(".partial") {
                std::fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            } else if let Some(step) = name.strip_prefix("step-").and_then(|s| s.parse().ok()) {
                found.push((step, path));
            }
        }
        Ok(found)
    }
}

/// Writes `module` as `dir/<name>.bpk` (burnpack, which keeps parameter identities, so an
/// optimizer's state finds its parameters again).
pub fn save_module<M: Module>(dir: &Path, name: &str, module: &M) -> anyhow::Result<()> {
    let path = dir.join(format!("{name}.bpk"));
    let mut store = BurnpackStore::from_file(&path).overwrite(true);
    module
        .save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Writes an optimizer's state as `dir/<name>.bpk`.
pub fn save_optimizer(dir: &Path, name: &str, optimizer: &ModuleOptimizer) -> anyhow::Result<()> {
    let path = dir.join(format!("{name}.bpk"));
    optimizer
        .to_record()
        .save(&path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Reads an optimizer's state written by [`save_optimizer`].
pub fn load_optimizer(dir: &Path, name: &str) -> anyhow::Result<OptimizerRecord> {
    let path = dir.join(format!("{name}.bpk"));
    OptimizerRecord::load(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Loads `dir/<name>.bpk` (see [`save_module`]) into `model`, which must have exactly its
/// tensors: a missing, extra or misshapen tensor is an error naming it.
pub fn load_saved_module<M: Module>(model: M, dir: &Path, name: &str) -> anyhow::Result<M> {
    load_module(model, &dir.join(format!("{name}.bpk")))
}

/// Loads the burnpack file `path` into `model`, which must have exactly its tensors: a
/// missing, extra or misshapen tensor is an error naming it.
pub fn load_module<M: Module>(mut model: M, path: &Path) -> anyhow::Result<M> {
    let mut store = BurnpackStore::from_file(path);
    let applied = model
        .load_from(&mut store)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Some((name, _)) = applied.missing.first() {
        bail!("{}: no tensor '{name}' for this model", path.display());
    }
    if let Some(name) = applied.unused.first() {
        bail!("{}: tensor '{name}' is not in this model", path.display());
    }
    if let Some(error) = applied.errors.first() {
        bail!("{}: {error}", path.display());
    }
    Ok(model)
}

/// What the scheduler or the user asked for by signal: SIGUSR1 saves a checkpoint at the
/// next step and goes on; SIGTERM and SIGINT (Ctrl-C) save one and stop. A second SIGINT
/// or SIGTERM ends the process at once.
pub mod signals {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, LazyLock};

    static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(Arc::default);
    static SAVE: LazyLock<Arc<AtomicBool>> = LazyLock::new(Arc::default);

    /// Installs the handlers (the experiment binaries do, once, at start).
    pub fn install() -> anyhow::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
        for signal in [SIGINT, SIGTERM] {
            // Registered first: a second signal, with the flag already set, exits at once.
            signal_hook::flag::register_conditional_shutdown(signal, 130, STOP.clone())?;
            signal_hook::flag::register(signal, STOP.clone())?;
        }
        signal_hook::flag::register(SIGUSR1, SAVE.clone())?;
        Ok(())
    }

    /// Whether a stop was asked for (SIGTERM, SIGINT, or [`request_stop`]).
    pub fn stop_requested() -> bool {
        STOP.load(Ordering::Relaxed)
    }

    /// Whether a checkpoint was asked for (SIGUSR1, or a stop).
    pub fn save_requested() -> bool {
        SAVE.load(Ordering::Relaxed) || stop_requested()
    }

    /// Clears a SIGUSR1 request once its checkpoint is written.
    pub fn save_done() {
        SAVE.store(false, Ordering::Relaxed);
    }

    /// Asks for a stop as SIGTERM would.
    pub fn request_stop() {
        STOP.store(true, Ordering::Relaxed);
    }
}

/// The error of a run stopped by a signal after saving its checkpoint.
#[derive(Debug)]
pub struct Interrupted {
    /// The training loop's label and the step it saved.
    pub at: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped by a signal at {}; checkpoint saved", self.at)
    }
}

impl std::error::Error for Interrupted {}
