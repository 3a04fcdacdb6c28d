//! Saved translators: the RNN encoder-decoders (seq2seq-length, score-functions,
//! soft-vs-hard, transformer) and the Transformer (transformer): what `model.json` holds
//! for them, the hooks their cells call, and translation with a loaded model (the
//! `translate` command).

use std::path::Path;

use anyhow::bail;
use burn::tensor::{Device, Int, Tensor, TensorData};
use datasets::vocab::{BOS, EOS, Vocab};
use models::scores::ScoreKind;
use models::seq2seq::{Architecture, Selection, Seq2Seq, Seq2SeqConfig, ids_tensor, mask_tensor};
use models::transformer::{TransformerSeq2Seq, TransformerSeq2SeqConfig};
use serde::{Deserialize, Serialize};

use super::{ModelFile, SavedKind, load_weights, write_model_dir};
use crate::experiment::{Cell, CellContext, Task};
use crate::seq2seq::decode::max_decode_len;
use crate::seq2seq::{TaskData, TaskSpec};

/// How a context is made at test time (the experiment's evaluation setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestSelection {
    /// The expectation under the attention weights.
    Soft,
    /// The most probable source position (hard attention at test time).
    Argmax,
}

impl From<TestSelection> for Selection {
    fn from(selection: TestSelection) -> Selection {
        match selection {
            TestSelection::Soft => Selection::Soft,
            TestSelection::Argmax => Selection::Argmax,
        }
    }
}

/// How input text becomes tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tokenization {
    /// `datasets::tokenize::words`: lowercased, punctuation split off, whitespace dropped
    /// (the synthetic tasks' one-letter symbols are words separated by spaces).
    Words,
}

/// `model.json`'s `model` for `"kind": "seq2seq"`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seq2SeqSpec {
    /// The module's configuration: architecture, vocabulary sizes, every hidden size, the
    /// score and arrangement, the longest source the location score addresses.
    pub config: Seq2SeqConfig,
    /// How contexts are made at test time: `soft`, or `argmax` for hard attention.
    pub selection: TestSelection,
    /// The beam width the experiment scored with (0 or 1: greedy).
    pub beam: usize,
    /// How a line of input is split into tokens.
    pub tokenization: Tokenization,
    /// Source tokens in id order (ids 0-3: `<pad>`, `<s>`, `</s>`, `<unk>`).
    pub src_vocab: Vocab,
    /// Target tokens in id order, the same specials first.
    pub tgt_vocab: Vocab,
}

/// `model.json`'s `model` for `"kind": "transformer"`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerSpec {
    /// The module's configuration: vocabulary sizes, width, heads, layers, feed-forward
    /// size, dropout (unused at test time) and the longest sequence the positions cover.
    pub config: TransformerSeq2SeqConfig,
    /// How a line of input is split into tokens.
    pub tokenization: Tokenization,
    /// Source tokens in id order (ids 0-3: `<pad>`, `<s>`, `</s>`, `<unk>`).
    pub src_vocab: Vocab,
    /// Target tokens in id order, the same specials first.
    pub tgt_vocab: Vocab,
}

/// What a sequence-to-sequence cell saves besides the module.
pub struct Seq2SeqSave<'a> {
    /// The experiment's name.
    pub experiment: &'static str,
    /// The task as `--task` spells it.
    pub task: String,
    /// The module's configuration, as the cell built it.
    pub config: &'a Seq2SeqConfig,
    /// The test-time selection.
    pub selection: Selection,
    /// The experiment's beam width.
    pub beam: usize,
    /// The source vocabulary.
    pub src_vocab: &'a Vocab,
    /// The target vocabulary.
    pub tgt_vocab: &'a Vocab,
}

impl<'a> Seq2SeqSave<'a> {
    /// What a cell of `experiment` on `task` saves: its model built from `config` by the
    /// run's settings `base` and data, used at test time with `selection`.
    pub fn new(
        experiment: &'static str,
        task: &TaskSpec,
        base: &crate::seq2seq::Config,
        data: &'a TaskData,
        config: &'a Seq2SeqConfig,
        selection: Selection,
    ) -> Seq2SeqSave<'a> {
        Seq2SeqSave {
            experiment,
            task: task.arg(),
            config,
            selection,
            beam: base.beam,
            src_vocab: &data.src_vocab,
            tgt_vocab: &data.tgt_vocab,
        }
    }
}

/// Saves a trained encoder-decoder into the cell's model folder when `--save-models` asked
/// for one (`context.model_dir`); does nothing otherwise. Draws no random numbers.
pub fn save_seq2seq(
    context: &CellContext,
    cell: &Cell,
    save: Seq2SeqSave<'_>,
    model: &Seq2Seq,
) -> anyhow::Result<()> {
    let Some(dir) = &context.model_dir else {
        return Ok(());
    };
    let selection = match save.selection {
        Selection::Soft => TestSelection::Soft,
        Selection::Argmax => TestSelection::Argmax,
        Selection::Sample => bail!("a model is saved with its test-time selection, not Sample"),
    };
    let spec = Seq2SeqSpec {
        config: save.config.clone(),
        selection,
        beam: save.beam,
        tokenization: Tokenization::Words,
        src_vocab: save.src_vocab.clone(),
        tgt_vocab: save.tgt_vocab.clone(),
    };
    let description = ModelFile::new(save.experiment, &save.task, cell, SavedKind::Seq2seq(spec));
    write_model_dir(dir, &description, model)
}

/// Saves a trained Transformer into the cell's model folder when `--save-models` asked for
/// one (`context.model_dir`); does nothing otherwise. Draws no random numbers.
pub fn save_transformer(
    context: &CellContext,
    cell: &Cell,
    task: &TaskSpec,
    data: &TaskData,
    config: &TransformerSeq2SeqConfig,
    model: &TransformerSeq2Seq,
) -> anyhow::Result<()> {
    let Some(dir) = &context.model_dir else {
        return Ok(());
    };
    let spec = TransformerSpec {
        config: config.clone(),
        tokenization: Tokenization::Words,
        src_vocab: data.src_vocab.clone(),
        tgt_vocab: data.tgt_vocab.clone(),
    };
    let description = ModelFile::new(
        "transformer",
        &task.arg(),
        cell,
        SavedKind::Transformer(spec),
    );
    write_model_dir(dir, &description, model)
}

/// A loaded translator: a recurrent encoder-decoder or a Transformer, with its description.
pub enum TranslatorModel {
    /// RNNencdec or RNNsearch.
    Recurrent {
        /// The module, on an inference device (boxed: both modules are large structs).
        model: Box<Seq2Seq>,
        /// `model.json`'s model part.
        spec: Seq2SeqSpec,
    },
    /// The Transformer.
    Transformer {
        /// The module, on an inference device.
        model: Box<TransformerSeq2Seq>,
        /// `model.json`'s model part.
        spec: TransformerSpec,
    },
}

/// A loaded translator with what it needs to translate text.
pub struct Translator {
    /// The module and its part of `model.json`.
    pub model: TranslatorModel,
    /// The whole of `model.json`.
    pub description: ModelFile,
}

/// One translated sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Translation {
    /// The source tokens as read (before the vocabulary), then `</s>`.
    pub src_tokens: Vec<String>,
    /// The produced ids (no EOS).
    pub ids: Vec<u32>,
    /// The translation as the experiment scores it (`Vocab::decode` of the ids).
    pub words: Vec<String>,
    /// One token per produced id, then `</s>` if decoding ended before the length limit:
    /// the rows of `weights`.
    pub tgt_tokens: Vec<String>,
    /// With attention: `[tgt_tokens][src_tokens]`, the weights of each produced token and
    /// of the final `</s>` over the source and its `</s>`.
    pub weights: Option<Vec<Vec<f32>>>,
}

impl Translator {
    /// Reads the model folder `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> anyhow::Result<Translator> {
        let description = ModelFile::read(dir)?;
        let model = match description.model.clone() {
            SavedKind::Seq2seq(spec) => TranslatorModel::Recurrent {
                model: Box::new(load_weights(spec.config.init(device), dir)?),
                spec,
            },
            SavedKind::Transformer(spec) => {
                if let Err(e) = spec.config.check() {
                    bail!(
                        "{}: field 'model.config': {e}",
                        dir.join(super::DESCRIPTION_FILE).display()
                    );
                }
                TranslatorModel::Transformer {
                    model: Box::new(load_weights(spec.config.init(device), dir)?),
                    spec,
                }
            }
            _ => return Err(description.wrong_kind(dir, "translate", "seq2seq or transformer")),
        };
        Ok(Translator { model, description })
    }

    /// The recurrent encoder-decoder, if that is what was loaded.
    pub fn recurrent(&self) -> Option<(&Seq2Seq, &Seq2SeqSpec)> {
        match &self.model {
            TranslatorModel::Recurrent { model, spec } => Some((model.as_ref(), spec)),
            TranslatorModel::Transformer { .. } => None,
        }
    }

    /// The source and target vocabularies.
    pub fn vocabs(&self) -> (&Vocab, &Vocab) {
        match &self.model {
            TranslatorModel::Recurrent { spec, .. } => (&spec.src_vocab, &spec.tgt_vocab),
            TranslatorModel::Transformer { spec, .. } => (&spec.src_vocab, &spec.tgt_vocab),
        }
    }

    /// Why this model has no alignment to show, if it has none: RNNencdec has no
    /// attention, and Burn's Transformer decoder does not return its cross-attention.
    pub fn no_alignment(&self) -> Option<&'static str> {
        match &self.model {
            TranslatorModel::Recurrent { spec, .. } => (spec.config.architecture
                != Architecture::RnnSearch)
                .then_some("a model without attention"),
            TranslatorModel::Transformer { .. } => {
                Some("a Transformer, whose decoder does not return its cross-attention weights")
            }
        }
    }

    /// Whether `--beam` above 1 is available (the recurrent models' beam search).
    pub fn has_beam_search(&self) -> bool {
        matches!(self.model, TranslatorModel::Recurrent { .. })
    }

    /// The tokens of one line of input, as the experiment tokenized its corpus.
    pub fn tokenize(&self, line: &str) -> Vec<String> {
        let tokenization = match &self.model {
            TranslatorModel::Recurrent { spec, .. } => spec.tokenization,
            TranslatorModel::Transformer { spec, .. } => spec.tokenization,
        };
        match tokenization {
            Tokenization::Words => datasets::tokenize::words(line),
        }
    }

    /// The longest source in tokens (EOS excluded) the model can read, if it has a limit:
    /// the location score addresses at most `max_src_len` positions, the Transformer's
    /// positions cover `max_len`.
    pub fn max_source_tokens(&self) -> Option<usize> {
        match &self.model {
            TranslatorModel::Recurrent { spec, .. } => {
                let config = &spec.config;
                (config.architecture == Architecture::RnnSearch
                    && config.score == ScoreKind::Location)
                    .then(|| config.max_src_len.saturating_sub(1))
            }
            TranslatorModel::Transformer { spec, .. } => Some(spec.config.max_len - 1),
        }
    }

    /// Translates one tokenized sentence: greedy decoding (with a recurrent model's
    /// test-time selection), or beam search of width `beam` when `beam > 1` (recurrent
    /// models only: see [`Translator::has_beam_search`]). With `weights`, the attention of
    /// each produced word where the model has one to show (teacher-forcing the output after
    /// beam search, which keeps none).
    pub fn translate(&self, tokens: &[String], beam: usize, weights: bool) -> Translation {
        let (src_vocab, tgt) = self.vocabs();
        let src: Vec<u32> = src_vocab.encode(tokens);
        let len = src.len() + 1;
        let ids: Vec<u32> = src.iter().copied().chain([EOS]).collect();
        let mut src_tokens = tokens.to_vec();
        src_tokens.push(src_vocab.token(EOS).to_string());
        let max_len = max_decode_len(len);
        let (out, weights) = match &self.model {
            TranslatorModel::Recurrent { model, spec } => recurrent_translation(
                model,
                spec,
                &ids,
                beam,
                weights && self.no_alignment().is_none(),
            ),
            TranslatorModel::Transformer { model, .. } => {
                let device = model.device();
                let decoded = model.greedy(
                    ids_tensor(&ids, 1, len, &device),
                    mask_tensor(&vec![true; len], 1, len, &device),
                    max_len,
                );
                let [row] = <[Vec<u32>; 1]>::try_from(decoded.tokens).expect("one sentence");
                (row, None)
            }
        };
        // The produced tokens, and `</s>` unless decoding stopped at the length limit.
        let mut tgt_tokens: Vec<String> = out.iter().map(|&id| tgt.token(id).to_string()).collect();
        if out.len() < max_len {
            tgt_tokens.push(tgt.token(EOS).to_string());
        }
        // One row per target token: greedy decoding of a batch may run past this
        // sentence's EOS, teacher forcing always reads one step more than a cut output.
        let weights = weights.map(|flat| {
            (flat.chunks(len).take(tgt_tokens.len()))
                .map(<[f32]>::to_vec)
                .collect()
        });
        Translation {
            src_tokens,
            words: tgt.decode(&out),
            tgt_tokens,
            ids: out,
            weights,
        }
    }
}

/// A recurrent model's output ids for the source `ids` (EOS included), and with `weights`
/// its attention weights flat, `[steps][source]`.
fn recurrent_translation(
    model: &Seq2Seq,
    spec: &Seq2SeqSpec,
    ids: &[u32],
    beam: usize,
    weights: bool,
) -> (Vec<u32>, Option<Vec<f32>>) {
    let device = model.device();
    let len = ids.len();
    let src_t = || ids_tensor(ids, 1, len, &device);
    let mask = || mask_tensor(&vec![true; len], 1, len, &device);
    let selection: Selection = spec.selection.into();
    let (out, greedy_weights) = if beam > 1 {
        let out = model.beam_search(src_t(), mask(), beam, max_decode_len(len));
        (out, None)
    } else {
        let decoded = model.greedy_with(src_t(), mask(), max_decode_len(len), selection);
        let [row] = <[Vec<u32>; 1]>::try_from(decoded.tokens).expect("one sentence");
        (row, decoded.weights)
    };
    let weights = weights.then(|| {
        let steps = out.len() + 1;
        let w = greedy_weights.unwrap_or_else(|| {
            let tgt_in: Vec<i64> = [BOS].iter().chain(&out).map(|&id| id as i64).collect();
            let tgt_in = Tensor::<2, Int>::from_data(TensorData::new(tgt_in, [1, steps]), &device);
            model
                .forward_with(src_t(), mask(), tgt_in, selection)
                .weights
                .expect("RNNsearch returns its weights")
        });
        w.into_data().iter::<f32>().collect()
    });
    (out, weights)
}

/// For each produced word (and the final `</s>`), its strongest source words: up to three
/// with a weight of at least 0.1, the strongest always, as `word <- src 0.81, src 0.10`.
pub fn alignment_lines(translation: &Translation) -> Vec<String> {
    let Some(weights) = &translation.weights else {
        return Vec::new();
    };
    (translation.tgt_tokens.iter())
        .zip(weights)
        .map(|(word, row)| {
            let mut order: Vec<usize> = (0..row.len()).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            let strongest: Vec<String> = order
                .iter()
                .enumerate()
                .filter(|&(rank, &s)| rank == 0 || (rank < 3 && row[s] >= 0.1))
                .map(|(_, &s)| format!("{} {:.2}", translation.src_tokens[s], row[s]))
                .collect();
            format!("{word} <- {}", strongest.join(", "))
        })
        .collect()
}
