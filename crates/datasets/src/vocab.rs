//! Token ↔ id vocabularies with four reserved special tokens.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Id of `<pad>`, the padding token.
pub const PAD: u32 = 0;
/// Id of `<s>`, the beginning-of-sequence token.
pub const BOS: u32 = 1;
/// Id of `</s>`, the end-of-sequence token.
pub const EOS: u32 = 2;
/// Id of `<unk>`, which stands for every token not in the vocabulary.
pub const UNK: u32 = 3;

/// The special tokens, in id order (`SPECIALS[PAD as usize] == "<pad>"`).
pub const SPECIALS: [&str; 4] = ["<pad>", "<s>", "</s>", "<unk>"];

/// A bijection between tokens and dense `u32` ids.
///
/// Ids 0..4 are always the [`SPECIALS`]; ordinary tokens follow, most
/// frequent first. Serializes as its token list (`{"tokens": [...]}`); the
/// lookup table is rebuilt on deserialization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VocabFile", into = "VocabFile")]
pub struct Vocab {
    itos: Vec<String>,
    stoi: HashMap<String, u32>,
}

/// On-disk form of a [`Vocab`]: just the tokens in id order.
#[derive(Serialize, Deserialize)]
struct VocabFile {
    tokens: Vec<String>,
}

impl From<Vocab> for VocabFile {
    fn from(vocab: Vocab) -> Self {
        VocabFile { tokens: vocab.itos }
    }
}

impl TryFrom<VocabFile> for Vocab {
    type Error = String;

    fn try_from(file: VocabFile) -> Result<Self, String> {
        if file.tokens.len() < SPECIALS.len()
            || file.tokens[..SPECIALS.len()]
                .iter()
                .zip(SPECIALS)
                .any(|(a, b)| a != b)
        {
            return Err(format!(
                "a vocabulary must start with the special tokens {SPECIALS:?}"
            ));
        }
        let vocab = Vocab::from_tokens(file.tokens);
        if vocab.stoi.len() != vocab.itos.len() {
            return Err("a vocabulary must not list a token twice".to_string());
        }
        Ok(vocab)
    }
}

impl Vocab {
    /// Builds a vocabulary from tokenized sentences.
    ///
    /// Tokens are ranked by frequency, most frequent first; ties are broken by
    /// the token string so the result does not depend on hash order. The
    /// vocabulary holds at most `max_size` entries *including* the four
    /// [`SPECIALS`] (which are always present, so the smallest vocabulary has
    /// 4 entries whatever `max_size` says). Occurrences of the special token
    /// strings in the input are not counted as ordinary tokens.
    pub fn build<'a>(sentences: impl IntoIterator<Item = &'a [String]>, max_size: usize) -> Vocab {
        let mut counts: HashMap<&'a str, usize> = HashMap::new();
        for sentence in sentences {
            for token in sentence {
                *counts.entry(token.as_str()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(&str, usize)> = counts
            .into_iter()
            .filter(|(token, _)| !SPECIALS.contains(token))
            .collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let room = max_size.saturating_sub(SPECIALS.len());
        let tokens = SPECIALS
            .iter()
            .map(|s| s.to_string())
            .chain(ranked.into_iter().take(room).map(|(t, _)| t.to_string()))
            .collect();
        Vocab::from_tokens(tokens)
    }

    fn from_tokens(itos: Vec<String>) -> Vocab {
        let stoi = itos
            .iter()
            .enumerate()
            .map(|(id, token)| (token.clone(), id as u32))
            .collect();
        Vocab { itos, stoi }
    }

    /// Number of entries, specials included.
    pub fn len(&self) -> usize {
        self.itos.len()
    }

    /// Always `false`: a vocabulary holds at least the four specials.
    pub fn is_empty(&self) -> bool {
        self.itos.is_empty()
    }

    /// The id of `token`, or [`UNK`] if it is not in the vocabulary.
    pub fn id(&self, token: &str) -> u32 {
        self.stoi.get(token).copied().unwrap_or(UNK)
    }

    /// The token with id `id`; out-of-range ids read as `"<unk>"`.
    pub fn token(&self, id: u32) -> &str {
        self.itos
            .get(id as usize)
            .map_or(SPECIALS[UNK as usize], String::as_str)
    }

    /// All tokens in id order.
    pub fn tokens(&self) -> &[String] {
        &self.itos
    }

    /// Maps tokens to ids (unknown tokens to [`UNK`]); adds no BOS/EOS.
    pub fn encode(&self, tokens: &[String]) -> Vec<u32> {
        tokens.iter().map(|t| self.id(t)).collect()
    }

    /// Maps ids back to tokens, stopping at the first [`EOS`] and dropping
    /// [`PAD`] and [`BOS`]; [`UNK`] and out-of-range ids come out as `"<unk>"`.
    pub fn decode(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .take_while(|&&id| id != EOS)
            .filter(|&&id| id != PAD && id != BOS)
            .map(|&id| self.token(id).to_string())
            .collect()
    }
}
