//! Saved cloze readers (the reader experiment): what `model.json` holds for them, the hook
//! its cells call, and answering questions with a loaded reader (the `answer` command).

use std::path::Path;

use burn::tensor::Device;
use datasets::reader::Question;
use models::readers::{Reader, ReaderConfig};
use serde::{Deserialize, Serialize};

use super::{DESCRIPTION_FILE, ModelFile, SavedKind, load_weights, write_model_dir};
use crate::experiment::{Cell, CellContext};
use crate::reader::eval::predict;
use crate::reader::{ReaderVocab, encode};

/// `model.json`'s `model` for `"kind": "reader"`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderSpec {
    /// The module's configuration: which reader, vocabulary size, entity classes, sizes.
    pub config: ReaderConfig,
    /// Every token in id order: `<pad>`, `<unk>`, `@entity0..@entity{N-1}` (entity k is
    /// id 2 + k and class k), `@placeholder`, then the words. Questions are read as written
    /// (their tokens are separated by spaces); a word not listed is `<unk>`.
    pub vocab: Vec<String>,
}

/// Saves a trained reader into the cell's model folder when `--save-models` asked for one;
/// does nothing otherwise. Draws no random numbers.
pub fn save_reader(
    context: &CellContext,
    task: &str,
    cell: &Cell,
    config: &ReaderConfig,
    vocab: &ReaderVocab,
    model: &Reader,
) -> anyhow::Result<()> {
    let Some(dir) = &context.model_dir else {
        return Ok(());
    };
    let spec = ReaderSpec {
        config: config.clone(),
        vocab: vocab.tokens(),
    };
    let description = ModelFile::new("reader", task, cell, SavedKind::Reader(spec));
    write_model_dir(dir, &description, model)
}

/// A loaded reader with its vocabulary.
pub struct LoadedReader {
    /// The module, on an inference device.
    pub model: Reader,
    /// The vocabulary rebuilt from `model.json`.
    pub vocab: ReaderVocab,
    /// The whole of `model.json`.
    pub description: ModelFile,
}

/// A reader's answer to one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The predicted entity id (`@entity3`).
    pub entity: String,
    /// Its surface form in the question's entity lines, if listed.
    pub surface: Option<String>,
    /// Whether it is the question's answer.
    pub correct: bool,
}

impl LoadedReader {
    /// Reads the model folder `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> anyhow::Result<LoadedReader> {
        let description = ModelFile::read(dir)?;
        let SavedKind::Reader(spec) = &description.model else {
            return Err(description.wrong_kind(dir, "answer", "reader"));
        };
        let path = dir.join(DESCRIPTION_FILE);
        let vocab = ReaderVocab::from_tokens(&spec.vocab, spec.config.n_entities)
            .map_err(|e| anyhow::anyhow!("{}: field 'vocab': {e}", path.display()))?;
        if vocab.len() != spec.config.vocab_size {
            anyhow::bail!(
                "{}: field 'vocab' lists {} tokens, field 'config.vocab_size' says {}",
                path.display(),
                vocab.len(),
                spec.config.vocab_size
            );
        }
        let model = load_weights(spec.config.init(device), dir)?;
        Ok(LoadedReader {
            model,
            vocab,
            description,
        })
    }

    /// The predicted entity of each question, in batches as the experiment scores them.
    pub fn answer(&self, questions: &[Question]) -> anyhow::Result<Vec<Answer>> {
        let encoded = encode(&self.vocab, questions)?;
        let classes = predict(&self.model, &encoded, self.vocab.n_entities);
        Ok(questions
            .iter()
            .zip(encoded.iter().zip(classes))
            .map(|(question, (q, class))| {
                let entity = datasets::reader::entity_id(class);
                Answer {
                    surface: (question.entities.iter())
                        .find(|(id, _)| *id == entity)
                        .map(|(_, surface)| surface.clone()),
                    entity,
                    correct: q.answer == class,
                }
            })
            .collect())
    }
}

/// Reads `.question` files in order; the first that fails is an error naming it and the line.
pub fn read_questions(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<Question>> {
    paths
        .iter()
        .map(|path| datasets::reader::read_question(path).map_err(anyhow::Error::from))
        .collect()
}
