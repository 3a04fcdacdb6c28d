//! Neural readers for cloze-style reading comprehension: "Teaching Machines to Read and
//! Comprehend" (Hermann et al. 2015) and two stronger successors.
//!
//! A question is a document `d`, a query `q` with one entity replaced by `@placeholder`, and
//! an answer among the anonymized entities `@entity0..@entity{N-1}`. Every reader maps
//! (document, query) to one score per entity class; entities absent from the document are
//! masked out, so predictions are always entities of the document (as in all three papers).
//!
//! | reader | how the document is summarized | paper |
//! |---|---|---|
//! | Deep LSTM | a two-layer LSTM reads `d ||| q` (skip connections); its final states | Hermann et al. §3 |
//! | Uniform | mean of the document annotations: the Attentive Reader with attention removed | Hermann et al. §4 |
//! | Attentive | additive attention over bi-LSTM document annotations, queried by the query encoding | Hermann et al. §3 |
//! | Impatient | re-reads the document once per query token, accumulating `r(i)` | Hermann et al. §3 |
//! | Attentive (bilinear) | the Attentive Reader with Chen et al.'s score `u^T W y_d(t)`: an ablation | Chen et al. 2016 §3.2 |
//! | Attention Sum | `P(e) = Σ_{i: d_i = e} softmax(h_i · q)` (pointer-style, no output layer) | Kadlec et al. 2016 |
//! | Stanford | bilinear attention `softmax(q^T W p_i)`, output over entities | Chen et al. 2016 |
//!
//! Departures: sizes far below the papers'; one embedding shared by document and query;
//! Hermann's readers use LSTMs, the Attention Sum and Stanford readers GRUs, as published.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::tanh;
use burn::tensor::{Bool, Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::attention::{MASKED_SCORE, attend, masked_softmax};
use crate::kernels;
use crate::rnn::{BiRnn, CellKind, EncoderDirection, RnnEncoderConfig, split_steps};
use crate::scores::{Score, ScoreConfig, ScoreKind, dot_scores};

/// Which reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderKind {
    /// Hermann et al.'s Deep LSTM Reader.
    DeepLstm,
    /// The Attentive Reader with uniform weights.
    Uniform,
    /// Hermann et al.'s Attentive Reader.
    Attentive,
    /// Hermann et al.'s Impatient Reader.
    Impatient,
    /// The Attentive Reader with the bilinear score of Chen et al. in place of the additive
    /// one; everything else unchanged. It isolates how much of the Stanford reader's lead
    /// comes from the score alone.
    AttentiveBilinear,
    /// Kadlec et al.'s Attention Sum Reader.
    AttentionSum,
    /// Chen et al.'s (Stanford) Attentive Reader.
    Stanford,
}

impl ReaderKind {
    /// All seven: the six published readers, weakest first as the papers order them, then
    /// the ablation.
    pub const ALL: [ReaderKind; 7] = [
        ReaderKind::DeepLstm,
        ReaderKind::Uniform,
        ReaderKind::Attentive,
        ReaderKind::Impatient,
        ReaderKind::AttentionSum,
        ReaderKind::Stanford,
        ReaderKind::AttentiveBilinear,
    ];

    /// The six published readers (all but the ablation), weakest first.
    pub const PUBLISHED: &'static [ReaderKind] = Self::ALL.split_at(6).0;

    /// The name used in CSVs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ReaderKind::DeepLstm => "deep-lstm",
            ReaderKind::Uniform => "uniform",
            ReaderKind::Attentive => "attentive",
            ReaderKind::Impatient => "impatient",
            ReaderKind::AttentiveBilinear => "attentive-bilinear",
            ReaderKind::AttentionSum => "attention-sum",
            ReaderKind::Stanford => "stanford",
        }
    }
}

impl std::str::FromStr for ReaderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReaderKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ReaderKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown reader '{s}': expected one of {}", names.join(", "))
            })
    }
}

/// Configuration of a [`Reader`].
#[derive(Config, Debug)]
pub struct ReaderConfig {
    /// Which reader.
    pub kind: ReaderKind,
    /// Vocabulary size (words, entity ids, specials).
    pub vocab_size: usize,
    /// Number of entity classes `@entity0..@entity{N-1}`.
    pub n_entities: usize,
    /// Embedding size.
    #[config(default = 64)]
    pub d_embed: usize,
    /// Recurrent hidden size per direction.
    #[config(default = 64)]
    pub d_hidden: usize,
    /// Hidden size of additive attention and of the joint embedding `g`.
    #[config(default = 64)]
    pub d_attention: usize,
}

/// One batch of questions as tensors.
#[derive(Clone, Debug)]
pub struct ReaderBatch {
    /// Document ids `[B, D]`.
    pub doc: Tensor<2, Int>,
    /// True at real document tokens `[B, D]`.
    pub doc_mask: Tensor<2, Bool>,
    /// Query ids `[B, Q]`.
    pub query: Tensor<2, Int>,
    /// True at real query tokens `[B, Q]`.
    pub query_mask: Tensor<2, Bool>,
    /// True for the entity classes present in the document `[B, N]`.
    pub candidates: Tensor<2, Bool>,
    /// `[B, D, N]`: 1 where document position `i` holds entity `e`, else 0.
    pub doc_entities: Tensor<3>,
}

/// What a reader returns.
#[derive(Clone, Debug)]
pub struct ReaderOutput {
    /// `[B, N]` log-scores over entity classes; classes absent from the document hold
    /// [`MASKED_SCORE`].
    pub logits: Tensor<2>,
    /// `[B, D]` attention over the document (the attention readers; for the Impatient
    /// Reader the weights after the last query token).
    pub weights: Option<Tensor<2>>,
}

/// A reader; see the module docs.
#[derive(Module, Debug)]
pub enum Reader {
    /// Deep LSTM Reader.
    DeepLstm(DeepLstmReader),
    /// Attentive Reader (additive or bilinear score) or Uniform Reader.
    Attentive(AttentiveReader),
    /// Impatient Reader.
    Impatient(ImpatientReader),
    /// Attention Sum Reader.
    AttentionSum(AttentionSumReader),
    /// Stanford Attentive Reader.
    Stanford(StanfordReader),
}

/// Two stacked LSTMs over `document ||| query`; the second layer sees the input too (skip
/// connection), and both layers' final states make `g`.
#[derive(Module, Debug)]
pub struct DeepLstmReader {
    /// Shared embedding.
    pub embedding: Embedding,
    /// First layer, input `[E]`.
    pub layer1: EncoderDirection,
    /// Second layer, input `[E + H]`.
    pub layer2: EncoderDirection,
    /// `[2H] -> N`.
    pub output: Linear,
}

/// Bi-LSTM document annotations `y_d`, query encoding `u`, `r = Σ s(t) y_d(t)`,
/// `g = tanh(W_rg r + W_ug u)`, scores `W g`. With `score: None` the weights are uniform:
/// the Uniform Reader; with a bilinear score, the ablation
/// [`ReaderKind::AttentiveBilinear`].
#[derive(Module, Debug)]
pub struct AttentiveReader {
    /// Shared embedding.
    pub embedding: Embedding,
    /// Document reader.
    pub doc_rnn: BiRnn,
    /// Query reader.
    pub query_rnn: BiRnn,
    /// Additive attention (`m(t) = tanh(W_ym y_d(t) + W_um u)`, `s ∝ exp(w^T m)`), or the
    /// bilinear `s ∝ exp(u^T W y_d(t))` of the ablation; `None` for the Uniform Reader.
    pub score: Option<Score>,
    /// `W_rg`.
    pub doc_to_joint: Linear,
    /// `W_ug`.
    pub query_to_joint: Linear,
    /// `g -> N`.
    pub output: Linear,
}

/// Re-reads the document at every query token `i`:
/// `m(i,t) = tanh(W_dm y_d(t) + W_rm r(i-1) + W_qm y_q(i))`, `s(i) = softmax(w^T m(i))`,
/// `r(i) = y_d^T s(i) + tanh(W_rr r(i-1))`; `g = tanh(W_rg r(|q|) + W_qg u)`.
#[derive(Module, Debug)]
pub struct ImpatientReader {
    /// Shared embedding.
    pub embedding: Embedding,
    /// Document reader.
    pub doc_rnn: BiRnn,
    /// Query reader.
    pub query_rnn: BiRnn,
    /// Additive attention whose query is `[r(i-1); y_q(i)]` (so `W` = `[W_rm; W_qm]`).
    pub score: Score,
    /// `W_rr`.
    pub recur: Linear,
    /// `W_rg`.
    pub doc_to_joint: Linear,
    /// `W_qg`.
    pub query_to_joint: Linear,
    /// `g -> N`.
    pub output: Linear,
}

/// Kadlec et al. 2016: `s_i = softmax(h_i · q)`, `P(e) = Σ_{i: d_i = e} s_i`.
#[derive(Module, Debug)]
pub struct AttentionSumReader {
    /// Shared embedding.
    pub embedding: Embedding,
    /// Document reader (bi-GRU).
    pub doc_rnn: BiRnn,
    /// Query reader (bi-GRU).
    pub query_rnn: BiRnn,
}

/// Chen et al. 2016: `α_i = softmax(q^T W_s p_i)`, `o = Σ α_i p_i`, scores `W_a o`.
#[derive(Module, Debug)]
pub struct StanfordReader {
    /// Shared embedding.
    pub embedding: Embedding,
    /// Document reader (bi-GRU).
    pub doc_rnn: BiRnn,
    /// Query reader (bi-GRU).
    pub query_rnn: BiRnn,
    /// The bilinear score `q^T W_s p`.
    pub score: Score,
    /// `W_a`: `o -> N`.
    pub output: Linear,
}

impl ReaderConfig {
    /// Creates the reader.
    pub fn init(&self, device: &Device) -> Reader {
        let embedding = EmbeddingConfig::new(self.vocab_size, self.d_embed).init(device);
        let (h, a, n) = (self.d_hidden, self.d_attention, self.n_entities);
        let bi = |cell: CellKind| {
            RnnEncoderConfig::new(self.vocab_size)
                .with_d_embed(self.d_embed)
                .with_d_hidden(h)
                .with_cell(cell)
                .init_rnn(device)
        };
        let linear = |i, o| LinearConfig::new(i, o).init(device);
        let score = |kind, d_query| {
            ScoreConfig::new(kind, d_query, 2 * h)
                .with_d_attention(a)
                .init(device)
        };
        match self.kind {
            ReaderKind::DeepLstm => {
                let cell = crate::rnn::CellConfig::new(CellKind::Lstm, h);
                let layer = |d_input| EncoderDirection {
                    input_gates: cell.init_input_gates(d_input, device),
                    cell: cell.init(device),
                };
                let layer1 = layer(self.d_embed);
                let layer2 = layer(self.d_embed + h);
                Reader::DeepLstm(DeepLstmReader {
                    embedding,
                    layer1,
                    layer2,
                    output: linear(2 * h, n),
                })
            }
            ReaderKind::Uniform | ReaderKind::Attentive | ReaderKind::AttentiveBilinear => {
                let (doc_rnn, query_rnn) = (bi(CellKind::Lstm), bi(CellKind::Lstm));
                let score = match self.kind {
                    ReaderKind::Attentive => Some(score(ScoreKind::Additive, 2 * h)),
                    ReaderKind::AttentiveBilinear => Some(score(ScoreKind::General, 2 * h)),
                    _ => None,
                };
                Reader::Attentive(AttentiveReader {
                    embedding,
                    doc_rnn,
                    query_rnn,
                    score,
                    doc_to_joint: linear(2 * h, a),
                    query_to_joint: linear(2 * h, a),
                    output: linear(a, n),
                })
            }
            ReaderKind::Impatient => {
                let (doc_rnn, query_rnn) = (bi(CellKind::Lstm), bi(CellKind::Lstm));
                Reader::Impatient(ImpatientReader {
                    embedding,
                    doc_rnn,
                    query_rnn,
                    score: score(ScoreKind::Additive, 4 * h),
                    recur: linear(2 * h, 2 * h),
                    doc_to_joint: linear(2 * h, a),
                    query_to_joint: linear(2 * h, a),
                    output: linear(a, n),
                })
            }
            ReaderKind::AttentionSum => {
                let (doc_rnn, query_rnn) = (bi(CellKind::Gru), bi(CellKind::Gru));
                Reader::AttentionSum(AttentionSumReader {
                    embedding,
                    doc_rnn,
                    query_rnn,
                })
            }
            ReaderKind::Stanford => {
                let (doc_rnn, query_rnn) = (bi(CellKind::Gru), bi(CellKind::Gru));
                Reader::Stanford(StanfordReader {
                    embedding,
                    doc_rnn,
                    query_rnn,
                    score: score(ScoreKind::General, 2 * h),
                    output: linear(2 * h, n),
                })
            }
        }
    }
}

/// Masks the scores of entities absent from the document.
fn restrict_to_candidates(logits: Tensor<2>, candidates: Tensor<2, Bool>) -> Tensor<2> {
    logits.mask_fill(candidates.bool_not(), MASKED_SCORE)
}

impl Reader {
    /// Scores every entity class for a batch of questions.
    pub fn forward(&self, batch: &ReaderBatch) -> ReaderOutput {
        match self {
            Reader::DeepLstm(r) => r.forward(batch),
            Reader::Attentive(r) => r.forward(batch),
            Reader::Impatient(r) => r.forward(batch),
            Reader::AttentionSum(r) => r.forward(batch),
            Reader::Stanford(r) => r.forward(batch),
        }
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        let embedding = match self {
            Reader::DeepLstm(r) => &r.embedding,
            Reader::Attentive(r) => &r.embedding,
            Reader::Impatient(r) => &r.embedding,
            Reader::AttentionSum(r) => &r.embedding,
            Reader::Stanford(r) => &r.embedding,
        };
        embedding.weight.val().device()
    }
}

/// Encodes document and query with their bi-RNNs: annotations `[B, D, 2H]`, the query's
/// annotations `[B, Q, 2H]` and its summary `u` `[B, 2H]`.
fn read_both(
    embedding: &Embedding,
    doc_rnn: &BiRnn,
    query_rnn: &BiRnn,
    b: &ReaderBatch,
) -> (Tensor<3>, Tensor<3>, Tensor<2>) {
    let doc = doc_rnn.forward(embedding.forward(b.doc.clone()), b.doc_mask.clone());
    let query = query_rnn.forward(embedding.forward(b.query.clone()), b.query_mask.clone());
    (doc.annotations, query.annotations, query.summary)
}

impl DeepLstmReader {
    fn forward(&self, b: &ReaderBatch) -> ReaderOutput {
        // d ||| q as one sequence; padding between them is skipped by the masked steps.
        let x = Tensor::cat(
            vec![
                self.embedding.forward(b.doc.clone()),
                self.embedding.forward(b.query.clone()),
            ],
            1,
        ); // [B, D+Q, E]
        let take = Tensor::cat(vec![b.doc_mask.clone(), b.query_mask.clone()], 1).float(); // [B, D+Q]
        let (out1, final1) = self.layer1.run(&x, &take, false); // [B, L, H], [B, H]
        let (_, final2) = self
            .layer2
            .run(&Tensor::cat(vec![x, out1], 2), &take, false);
        let g = Tensor::cat(vec![final1, final2], 1); // [B, 2H]
        ReaderOutput {
            logits: restrict_to_candidates(kernels::linear(&self.output, g), b.candidates.clone()),
            weights: None,
        }
    }
}

impl AttentiveReader {
    fn forward(&self, b: &ReaderBatch) -> ReaderOutput {
        let (doc, _, u) = read_both(&self.embedding, &self.doc_rnn, &self.query_rnn, b);
        let scores = match &self.score {
            Some(score) => score.scores(u.clone(), &score.prepare(doc.clone())),
            // Equal scores: the masked softmax turns them into 1/|d| over real tokens.
            None => b.doc_mask.clone().float().zeros_like(),
        };
        let out = attend(scores, b.doc_mask.clone(), &doc);
        let g = tanh(
            kernels::linear(&self.doc_to_joint, out.context)
                + kernels::linear(&self.query_to_joint, u),
        );
        ReaderOutput {
            logits: restrict_to_candidates(kernels::linear(&self.output, g), b.candidates.clone()),
            weights: Some(out.weights),
        }
    }
}

impl ImpatientReader {
    fn forward(&self, b: &ReaderBatch) -> ReaderOutput {
        let (doc, query, u) = read_both(&self.embedding, &self.doc_rnn, &self.query_rnn, b);
        let query_steps = split_steps(query); // Q x [B, 2H]
        let keys = self.score.prepare(doc.clone()); // W_dm y_d, once
        let take = b.query_mask.clone().float(); // [B, Q]
        let mut r = u.zeros_like(); // r(0) = 0, [B, 2H]
        let mut weights = None;
        for (i, y_q) in query_steps.into_iter().enumerate() {
            let scores = self
                .score
                .scores(Tensor::cat(vec![r.clone(), y_q], 1), &keys);
            let out = attend(scores, b.doc_mask.clone(), &doc);
            let new_r = out.context + tanh(kernels::linear(&self.recur, r.clone()));
            // Padded query positions leave r unchanged.
            let take_i = take.clone().narrow(1, i, 1); // [B, 1]
            r = r.clone() + (new_r - r) * take_i;
            weights = Some(out.weights);
        }
        let g =
            tanh(kernels::linear(&self.doc_to_joint, r) + kernels::linear(&self.query_to_joint, u));
        ReaderOutput {
            logits: restrict_to_candidates(kernels::linear(&self.output, g), b.candidates.clone()),
            weights,
        }
    }
}

impl AttentionSumReader {
    fn forward(&self, b: &ReaderBatch) -> ReaderOutput {
        let (doc, _, q) = read_both(&self.embedding, &self.doc_rnn, &self.query_rnn, b);
        let [batch, doc_len, _] = doc.dims();
        let s = masked_softmax(dot_scores(q, &doc), b.doc_mask.clone()); // [B, D]
        // P(e) = Σ_i s_i [d_i = e]: [B, 1, D] x [B, D, N] -> [B, N].
        let p = s
            .clone()
            .reshape([batch, 1, doc_len])
            .matmul(b.doc_entities.clone());
        let n = p.dims()[2];
        let log_p = p.reshape([batch, n]).clamp_min(1e-12).log();
        ReaderOutput {
            logits: restrict_to_candidates(log_p, b.candidates.clone()),
            weights: Some(s),
        }
    }
}

impl StanfordReader {
    fn forward(&self, b: &ReaderBatch) -> ReaderOutput {
        let (doc, _, q) = read_both(&self.embedding, &self.doc_rnn, &self.query_rnn, b);
        let out = attend(
            self.score.scores(q, &self.score.prepare(doc.clone())),
            b.doc_mask.clone(),
            &doc,
        );
        ReaderOutput {
            logits: restrict_to_candidates(
                kernels::linear(&self.output, out.context),
                b.candidates.clone(),
            ),
            weights: Some(out.weights),
        }
    }
}

/// Mean cross-entropy of the answers `[B]` under the logits `[B, N]`.
pub fn reader_loss(logits: Tensor<2>, answers: Tensor<1, Int>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let log_probs = burn::tensor::activation::log_softmax(logits, 1);
    log_probs
        .gather(1, answers.reshape([batch, 1]))
        .mean()
        .neg()
}
