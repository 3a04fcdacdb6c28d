//! Questions as tensors: the reader vocabulary (entities first, so entity k is class k),
//! encoded questions, and padded batches.

use std::collections::HashMap;

use anyhow::Context;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use datasets::reader::{Question, is_entity_id};
use models::readers::ReaderBatch;

use super::questions::QuestionSplits;

/// Token ids: `<pad>` 0, `<unk>` 1, then `@entity0..@entity{N-1}`, `@placeholder`, then words
/// by training frequency. Entity k is id `2 + k` and class k.
pub struct ReaderVocab {
    ids: HashMap<String, u32>,
    /// Number of entity classes.
    pub n_entities: usize,
    size: usize,
}

/// The unknown word. Not `datasets::vocab::UNK` (3), by design: this vocabulary has no
/// `<s>`/`</s>` (a reader never generates), and entity ids must start right after the
/// specials so that entity k is id `2 + k`; renumbering would also move every committed
/// reader result (the embedding rows are drawn in id order).
const UNK: u32 = 1;
/// The id of `@entity0`.
const FIRST_ENTITY: u32 = 2;

impl ReaderVocab {
    /// Builds the vocabulary from training questions; `n_entities` covers every split.
    pub fn build(splits: &QuestionSplits, max_words: usize) -> ReaderVocab {
        let all = splits.train.iter().chain(&splits.valid).chain(&splits.test);
        let n_entities = all
            .flat_map(|q| q.entities.iter().filter_map(|(id, _)| entity_index(id)))
            .max()
            .map_or(0, |k| k + 1);
        let mut ids = HashMap::new();
        for k in 0..n_entities {
            ids.insert(datasets::reader::entity_id(k), FIRST_ENTITY + k as u32);
        }
        ids.insert(
            datasets::reader::PLACEHOLDER.to_string(),
            FIRST_ENTITY + n_entities as u32,
        );
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for q in &splits.train {
            for t in q.context.iter().chain(&q.query) {
                if !ids.contains_key(t) {
                    *counts.entry(t).or_default() += 1;
                }
            }
        }
        let mut words: Vec<(&str, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (word, _) in words.into_iter().take(max_words) {
            let id = ids.len() as u32 + FIRST_ENTITY;
            ids.insert(word.to_string(), id);
        }
        let size = ids.len() + FIRST_ENTITY as usize;
        ReaderVocab {
            ids,
            n_entities,
            size,
        }
    }

    /// Vocabulary size (specials included).
    pub fn len(&self) -> usize {
        self.size
    }

    /// Whether only the specials are there.
    pub fn is_empty(&self) -> bool {
        self.size == FIRST_ENTITY as usize
    }

    /// The id of a token (`<unk>` for a word outside the vocabulary).
    pub fn id(&self, token: &str) -> u32 {
        self.ids.get(token).copied().unwrap_or(UNK)
    }

    /// Every token in id order: `<pad>`, `<unk>`, the entities, `@placeholder`, the words
    /// (what a saved reader's `model.json` lists).
    pub fn tokens(&self) -> Vec<String> {
        let mut tokens = vec![String::new(); self.size];
        tokens[0] = "<pad>".to_string();
        tokens[UNK as usize] = "<unk>".to_string();
        for (token, &id) in &self.ids {
            tokens[id as usize] = token.clone();
        }
        tokens
    }

    /// The vocabulary [`Self::tokens`] listed, with `n_entities` entity classes; refused
    /// (with the reason) unless it starts as [`Self::build`] makes it and lists no token twice.
    pub fn from_tokens(tokens: &[String], n_entities: usize) -> Result<ReaderVocab, String> {
        let first = FIRST_ENTITY as usize;
        let expected = ["<pad>".to_string(), "<unk>".to_string()]
            .into_iter()
            .chain((0..n_entities).map(datasets::reader::entity_id))
            .chain([datasets::reader::PLACEHOLDER.to_string()]);
        for (i, want) in expected.enumerate() {
            if tokens.get(i) != Some(&want) {
                return Err(format!(
                    "token {i} must be '{want}' (specials, then @entity0..@entity{}, then {})",
                    n_entities.saturating_sub(1),
                    datasets::reader::PLACEHOLDER
                ));
            }
        }
        let mut ids = HashMap::new();
        for (id, token) in tokens.iter().enumerate().skip(first) {
            if ids.insert(token.clone(), id as u32).is_some() {
                return Err(format!("token '{token}' is listed twice"));
            }
        }
        Ok(ReaderVocab {
            ids,
            n_entities,
            size: tokens.len(),
        })
    }
}

/// The class of an entity id (`@entity7` is class 7); `None` for any other token.
pub fn entity_index(token: &str) -> Option<usize> {
    is_entity_id(token)
        .then(|| token[datasets::reader::ENTITY_PREFIX.len()..].parse().ok())
        .flatten()
}

/// One question as ids.
#[derive(Clone, Debug)]
pub struct EncodedQuestion {
    /// Document ids.
    pub doc: Vec<u32>,
    /// Query ids.
    pub query: Vec<u32>,
    /// Answer class.
    pub answer: usize,
}

/// Encodes questions; a question whose answer is not an `@entityN` id is an error.
pub fn encode(vocab: &ReaderVocab, questions: &[Question]) -> anyhow::Result<Vec<EncodedQuestion>> {
    questions
        .iter()
        .map(|q| {
            let answer = entity_index(&q.answer).with_context(|| {
                format!("{}: answer '{}' is not an @entityN id", q.url, q.answer)
            })?;
            Ok(EncodedQuestion {
                doc: q.context.iter().map(|t| vocab.id(t)).collect(),
                query: q.query.iter().map(|t| vocab.id(t)).collect(),
                answer,
            })
        })
        .collect()
}

/// Pads questions into a [`ReaderBatch`] and the answers `[B]`.
pub fn make_reader_batch(
    questions: &[&EncodedQuestion],
    n_entities: usize,
    device: &Device,
) -> (ReaderBatch, Tensor<1, Int>) {
    let b = questions.len();
    let d = questions
        .iter()
        .map(|q| q.doc.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let q_len = questions
        .iter()
        .map(|q| q.query.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let (mut doc, mut doc_mask) = (vec![0i64; b * d], vec![false; b * d]);
    let (mut query, mut query_mask) = (vec![0i64; b * q_len], vec![false; b * q_len]);
    let mut candidates = vec![false; b * n_entities];
    let mut doc_entities = vec![0f32; b * d * n_entities];
    for (row, q) in questions.iter().enumerate() {
        for (i, &id) in q.doc.iter().enumerate() {
            doc[row * d + i] = id as i64;
            doc_mask[row * d + i] = true;
            let k = id.wrapping_sub(FIRST_ENTITY) as usize;
            if id >= FIRST_ENTITY && k < n_entities {
                candidates[row * n_entities + k] = true;
                doc_entities[(row * d + i) * n_entities + k] = 1.0;
            }
        }
        for (i, &id) in q.query.iter().enumerate() {
            query[row * q_len + i] = id as i64;
            query_mask[row * q_len + i] = true;
        }
    }
    let answers: Vec<i64> = questions.iter().map(|q| q.answer as i64).collect();
    let batch = ReaderBatch {
        doc: Tensor::from_data(TensorData::new(doc, [b, d]), device),
        doc_mask: Tensor::<2, Bool>::from_data(TensorData::new(doc_mask, [b, d]), device),
        query: Tensor::from_data(TensorData::new(query, [b, q_len]), device),
        query_mask: Tensor::<2, Bool>::from_data(TensorData::new(query_mask, [b, q_len]), device),
        candidates: Tensor::<2, Bool>::from_data(
            TensorData::new(candidates, [b, n_entities]),
            device,
        ),
        doc_entities: Tensor::from_data(TensorData::new(doc_entities, [b, d, n_entities]), device),
    };
    (
        batch,
        Tensor::from_data(TensorData::new(answers, [b]), device),
    )
}
