//! Trained models as files (`--save-models`), and reading them back for the commands that use
//! them (`translate`, `answer`, `caption`, `classify`, `draw`). The format is in docs/saved-models.md.
//!
//! A saved model is a folder of two files:
//!
//! - `model.safetensors`: every parameter, named by its path in the Burn module
//!   (`encoder.embedding.weight`), written by `burn::store::SafetensorsStore`. Safetensors is
//!   a plain container of named little-endian arrays, so the file does not depend on the
//!   backend that trained the model, and PyTorch reads it (`safetensors.torch.load_file`).
//! - `model.json`: a [`ModelFile`]: which experiment and cell trained it, and everything
//!   needed to rebuild the module and use it (its configuration with every size, the
//!   vocabularies, how input is tokenized or preprocessed, decoding settings).
//!
//! The folder is written as `<name>.partial/` and renamed when complete, so a killed run
//! leaves either the previous folder or the new one. Loading rebuilds the module from
//! `model.json`, then reads the weights, refusing a file that does not match the module: a
//! missing, extra or misshapen tensor is an error naming the file and the tensor.
//!
//! One file per kind of model: [`seq2seq`] (the RNN encoder-decoders and the Transformer),
//! [`reader`] (the cloze readers), [`captioner`] (Show, Attend and Tell with its image
//! encoder), [`generator`] (AttnGAN's generator with its DAMSM text encoder) and
//! [`classifier`] (the glimpses experiment's RAM and whole-image networks).

pub mod captioner;
pub mod classifier;
pub mod generator;
pub mod reader;
pub mod seq2seq;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::module::Module;
use burn::store::{ApplyError, ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::experiment::Cell;

/// The weights' file in a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The description's file in a model folder.
pub const DESCRIPTION_FILE: &str = "model.json";
/// The `format` field of every `model.json`.
pub const FORMAT: &str = "attention-lab saved model";
/// The version of the format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// `model.json`: where a model comes from and what rebuilds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The experiment that trained it (`seq2seq-length`, `reader`, ...).
    pub experiment: String,
    /// The task as `--task` spells it (`reverse`, `synthetic`, `shapes`, `tsv:PATH`).
    pub task: String,
    /// The cell that trained it.
    pub cell: SavedCell,
    /// The backend it was trained on (informational: the weights load on any).
    pub trained_on: String,
    /// The model: its kind, configuration, vocabularies and input handling.
    pub model: SavedKind,
}

/// A cell as `model.json` records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedCell {
    /// The variant, as in the CSVs (`RNNsearch`, `attentive`, `soft`).
    pub variant: String,
    /// The training length k (0 where the experiment has none).
    pub train_max_len: usize,
    /// The seed of the model's initialization.
    pub seed: u64,
}

impl From<&Cell> for SavedCell {
    fn from(cell: &Cell) -> SavedCell {
        SavedCell {
            variant: cell.variant.clone(),
            train_max_len: cell.train_max_len,
            seed: cell.seed,
        }
    }
}

/// What kind of model a folder holds, with what rebuilds and uses it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SavedKind {
    /// RNNencdec or RNNsearch (`translate`).
    Seq2seq(seq2seq::Seq2SeqSpec),
    /// The Transformer (`translate`).
    Transformer(seq2seq::TransformerSpec),
    /// A cloze reader (`answer`).
    Reader(reader::ReaderSpec),
    /// An image encoder and a caption decoder (`caption`).
    Captioner(captioner::CaptionerSpec),
    /// AttnGAN's generator with the DAMSM text encoder it was trained against (`draw`).
    TextToImage(generator::GeneratorSpec),
    /// RAM or a whole-image network of the glimpses experiment (`classify`).
    Classifier(classifier::ClassifierSpec),
}

impl SavedKind {
    /// The kind's name in `model.json`.
    pub fn name(&self) -> &'static str {
        match self {
            SavedKind::Seq2seq(_) => "seq2seq",
            SavedKind::Transformer(_) => "transformer",
            SavedKind::Reader(_) => "reader",
            SavedKind::Captioner(_) => "captioner",
            SavedKind::TextToImage(_) => "text-to-image",
            SavedKind::Classifier(_) => "classifier",
        }
    }
}

impl ModelFile {
    /// The description of a model trained by `experiment` on `task` in `cell`.
    pub fn new(experiment: &str, task: &str, cell: &Cell, model: SavedKind) -> ModelFile {
        ModelFile {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            experiment: experiment.to_string(),
            task: task.to_string(),
            cell: cell.into(),
            trained_on: harness::backend_name().to_string(),
            model,
        }
    }

    /// One line naming the model, for logs and figure titles.
    pub fn label(&self) -> String {
        let cell = &self.cell;
        let k = match cell.train_max_len {
            0 => String::new(),
            k => format!("-{k}"),
        };
        format!(
            "{}{k} seed {} ({} on {})",
            cell.variant, cell.seed, self.experiment, self.task
        )
    }

    /// Reads `dir/model.json`. Errors name the file and, where serde can, the field.
    pub fn read(dir: &Path) -> anyhow::Result<ModelFile> {
        let path = dir.join(DESCRIPTION_FILE);
        if !dir.is_dir() {
            bail!(
                "{}: no such model folder (--save-models writes them under OUT/<task>/models/)",
                dir.display()
            );
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not JSON", path.display()))?;
        if value.get("format").and_then(|v| v.as_str()) != Some(FORMAT) {
            bail!(
                "{}: field 'format' is not \"{FORMAT}\": not a saved model's description",
                path.display()
            );
        }
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(FORMAT_VERSION)) {
            bail!(
                "{}: field 'format_version' is {}, this build reads version {FORMAT_VERSION}",
                path.display(),
                version.map_or("missing".to_string(), |v| v.to_string())
            );
        }
        serde_json::from_value(value).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// An error for a command given a model of another kind.
    pub fn wrong_kind(&self, dir: &Path, command: &str, wanted: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "{}: holds a {} model (experiment {}); {command} needs a {wanted} model",
            dir.join(DESCRIPTION_FILE).display(),
            self.model.name(),
            self.experiment
        )
    }
}

/// Writes a model folder `dir`: `model.safetensors` from `module` and `model.json` from
/// `description`, as `<dir>.partial/` renamed over `dir` once both files are on disk.
/// Reads and writes no random state.
pub fn write_model_dir<M: Module>(
    dir: &Path,
    description: &ModelFile,
    module: &M,
) -> anyhow::Result<()> {
    let name = dir
        .file_name()
        .with_context(|| format!("{}: not a folder name", dir.display()))?
        .to_string_lossy();
    let partial = dir.with_file_name(format!("{name}.partial"));
    let context = || format!("cannot write model {}", partial.display());
    if partial.exists() {
        std::fs::remove_dir_all(&partial).with_context(context)?;
    }
    std::fs::create_dir_all(&partial).with_context(context)?;
    let mut store = SafetensorsStore::from_file(partial.join(WEIGHTS_FILE)).overwrite(true);
    module
        .save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(context)?;
    let mut json = serde_json::to_vec_pretty(description)?;
    json.push(b'\n');
    std::fs::write(partial.join(DESCRIPTION_FILE), json).with_context(context)?;
    for file in [WEIGHTS_FILE, DESCRIPTION_FILE] {
        std::fs::File::open(partial.join(file))
            .and_then(|f| f.sync_all())
            .with_context(context)?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    std::fs::rename(&partial, dir)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), dir.display()))
}

/// Loads `dir/model.safetensors` into `model` (built from `model.json`), which must have
/// exactly its tensors, of the same shapes and types: anything else is an error naming the
/// file and the tensor.
pub fn load_weights<M: Module>(mut model: M, dir: &Path) -> anyhow::Result<M> {
    let path = dir.join(WEIGHTS_FILE);
    if !path.is_file() {
        bail!("{}: no such file", path.display());
    }
    let mut store = SafetensorsStore::from_file(&path)
        .validate(false)
        .allow_partial(true);
    let applied = model
        .load_from(&mut store)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let file = path.display();
    if let Some(error) = applied.errors.first() {
        match error {
            ApplyError::ShapeMismatch {
                path: name,
                expected,
                found,
            } => bail!(
                "{file}: tensor '{name}' has shape {:?}, the model described in {DESCRIPTION_FILE} needs {:?}",
                found.as_slice(),
                expected.as_slice()
            ),
            ApplyError::DTypeMismatch {
                path: name,
                expected,
                found,
            } => bail!(
                "{file}: tensor '{name}' holds {found:?}, the model described in {DESCRIPTION_FILE} needs {expected:?}"
            ),
            other => bail!("{file}: {other}"),
        }
    }
    if let Some((name, _)) = applied.missing.first() {
        bail!("{file}: no tensor '{name}', which the model described in {DESCRIPTION_FILE} needs");
    }
    if let Some(name) = applied.unused.first() {
        bail!("{file}: tensor '{name}' is not in the model described in {DESCRIPTION_FILE}");
    }
    Ok(model)
}

/// The device a loaded model runs on: the build's backend, without autodiff (inference
/// only). Loading draws the initial parameters before overwriting them, so the seed does not
/// matter; it is fixed so nothing else does either.
pub fn inference_device() -> anyhow::Result<Device> {
    Ok(harness::device(0)?.without_autodiff())
}

/// `path` with `-<n>` before the extension (`attention.png` -> `attention-2.png`), for one
/// file per input when several are given.
pub fn numbered_path(path: &Path, n: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}
