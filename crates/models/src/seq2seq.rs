//! RNN encoder-decoders: the fixed-context RNNencdec (Cho et al. 2014) and the attentive
//! RNNsearch (Bahdanau et al. 2015), sharing one encoder, one decoder cell and one step
//! function, so the two differ in exactly one place: where the context comes from.
//!
//! Departures from the papers (all for speed on small data, none changes the comparison):
//! a single-layer readout instead of the maxout deep output; embeddings of 64 and hidden
//! sizes of 128/256 instead of 620/1000; both models use the same bidirectional encoder
//! (Bahdanau's RNNencdec reads in one direction only), so the *only* difference left is
//! the attention.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, tanh};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::attention::{AdditiveScore, AdditiveScoreConfig, attend};
use crate::rnn::{
    Cell, CellConfig, CellKind, EncoderOutput, RecurrentState, RnnEncoder, RnnEncoderConfig,
};

/// Beginning-of-sentence id fed as the first decoder input (matches `datasets::vocab::BOS`).
pub const BOS: u32 = 1;
/// End-of-sentence id (matches `datasets::vocab::EOS`).
pub const EOS: u32 = 2;
/// Padding id (matches `datasets::vocab::PAD`).
pub const PAD: u32 = 0;

/// Which encoder-decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Architecture {
    /// Cho et al. 2014: the encoder's final states, one fixed vector, initialize the decoder
    /// and are fed at every step and to the readout.
    RnnEncDec,
    /// Bahdanau et al. 2015: a fresh context at every step from additive attention over all
    /// annotations.
    RnnSearch,
}

impl Architecture {
    /// The paper's name, used in CSVs and legends.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::RnnEncDec => "RNNencdec",
            Architecture::RnnSearch => "RNNsearch",
        }
    }
}

/// Configuration of a [`Seq2Seq`] model.
#[derive(Config, Debug)]
pub struct Seq2SeqConfig {
    /// RNNencdec or RNNsearch.
    pub architecture: Architecture,
    /// Source vocabulary size.
    pub src_vocab: usize,
    /// Target vocabulary size.
    pub tgt_vocab: usize,
    /// Embedding size (source and target). 64: enough for vocabularies of a few thousand.
    #[config(default = 64)]
    pub d_embed: usize,
    /// Encoder hidden size per direction.
    #[config(default = 128)]
    pub d_encoder: usize,
    /// Decoder hidden size.
    #[config(default = 256)]
    pub d_decoder: usize,
    /// Hidden size of the additive alignment model (RNNsearch only).
    #[config(default = 256)]
    pub d_attention: usize,
    /// GRU or LSTM, encoder and decoder alike.
    #[config(default = "CellKind::Gru")]
    pub cell: CellKind,
    /// Bidirectional encoder.
    #[config(default = true)]
    pub bidirectional: bool,
}

/// An RNN encoder-decoder; see the module docs.
#[derive(Module, Debug)]
pub struct Seq2Seq {
    /// Source embedding and recurrent reader(s).
    pub encoder: RnnEncoder,
    /// Target embedding.
    pub tgt_embedding: Embedding,
    /// `s_0 = tanh(W_init c)`, from the encoder summary.
    pub init_state: Linear,
    /// Previous-word embedding to decoder gates (bias here), run once over all steps in
    /// teacher forcing.
    pub embed_gates: Linear,
    /// Context to decoder gates (no bias).
    pub context_gates: Linear,
    /// The decoder's recurrent cell.
    pub cell: Cell,
    /// The alignment model; `None` for RNNencdec, whose context is the fixed summary.
    pub attention: Option<AdditiveScore>,
    /// `[s_t; E y_{t-1}; c_t] -> logits`.
    pub readout: Linear,
}

/// Teacher-forced output.
#[derive(Clone, Debug)]
pub struct Seq2SeqOutput {
    /// `[batch, tgt_len, tgt_vocab]` unnormalized scores.
    pub logits: Tensor<3>,
    /// `[batch, tgt_len, src_len]` attention weights (RNNsearch only).
    pub weights: Option<Tensor<3>>,
}

/// What decoding returns.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// One token sequence per row, EOS and everything after it removed.
    pub tokens: Vec<Vec<u32>>,
    /// `[batch, steps, src_len]` attention weights of every step (RNNsearch only).
    pub weights: Option<Tensor<3>>,
}

/// Per-sequence tensors the decoder reuses at every step.
struct DecoderMemory {
    annotations: Tensor<3>,
    mask: Tensor<2, Bool>,
    /// `U h` for additive attention.
    projected_keys: Option<Tensor<3>>,
    /// The fixed context `c` and its gate contribution, for RNNencdec.
    summary: Tensor<2>,
    summary_gates: Tensor<2>,
}

impl DecoderMemory {
    fn select_rows(&self, index: Tensor<1, Int>) -> DecoderMemory {
        DecoderMemory {
            annotations: self.annotations.clone().select(0, index.clone()),
            mask: self.mask.clone().select(0, index.clone()),
            projected_keys: self
                .projected_keys
                .clone()
                .map(|k| k.select(0, index.clone())),
            summary: self.summary.clone().select(0, index.clone()),
            summary_gates: self.summary_gates.clone().select(0, index),
        }
    }
}

/// One decoder step's output.
struct StepOutput {
    state: RecurrentState,
    /// `[batch, d_decoder + d_embed + d_annotation]`, the readout's input.
    readout_input: Tensor<2>,
    /// `[batch, src_len]` (RNNsearch only).
    weights: Option<Tensor<2>>,
}

impl Seq2SeqConfig {
    /// Creates the model.
    pub fn init(&self, device: &Device) -> Seq2Seq {
        let encoder_config = RnnEncoderConfig::new(self.src_vocab)
            .with_d_embed(self.d_embed)
            .with_d_hidden(self.d_encoder)
            .with_cell(self.cell)
            .with_bidirectional(self.bidirectional);
        let d_ann = encoder_config.d_annotation();
        let cell = CellConfig::new(self.cell, self.d_decoder);
        Seq2Seq {
            encoder: encoder_config.init(device),
            tgt_embedding: EmbeddingConfig::new(self.tgt_vocab, self.d_embed).init(device),
            init_state: LinearConfig::new(d_ann, self.d_decoder).init(device),
            embed_gates: cell.init_input_gates(self.d_embed, device),
            context_gates: LinearConfig::new(d_ann, self.cell.gates() * self.d_decoder)
                .with_bias(false)
                .init(device),
            cell: cell.init(device),
            attention: match self.architecture {
                Architecture::RnnEncDec => None,
                Architecture::RnnSearch => Some(
                    AdditiveScoreConfig::new(self.d_decoder, d_ann, self.d_attention).init(device),
                ),
            },
            readout: LinearConfig::new(self.d_decoder + self.d_embed + d_ann, self.tgt_vocab)
                .init(device),
        }
    }
}

impl Seq2Seq {
    /// RNNencdec or RNNsearch.
    pub fn architecture(&self) -> Architecture {
        match self.attention {
            None => Architecture::RnnEncDec,
            Some(_) => Architecture::RnnSearch,
        }
    }

    /// The device the parameters live on (plain, without autodiff, after `valid()`).
    pub fn device(&self) -> Device {
        self.tgt_embedding.weight.val().device()
    }

    /// Teacher-forced pass.
    ///
    /// - `src`: `[batch, src_len]`; `src_mask`: `[batch, src_len]`, true at real tokens.
    /// - `tgt_in`: `[batch, tgt_len]`, BOS followed by the target (shifted right).
    pub fn forward(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Seq2SeqOutput {
        let [batch, tgt_len] = tgt_in.dims();
        let (memory, mut state) = self.start(src, src_mask);
        let embedded = self.tgt_embedding.forward(tgt_in); // [B, T, E]
        let d_embed = embedded.dims()[2];
        let gates_all = self.embed_gates.forward(embedded.clone()); // [B, T, G*H]
        let d_gates = gates_all.dims()[2];

        let mut readouts = Vec::with_capacity(tgt_len);
        let mut weights = Vec::with_capacity(tgt_len);
        for t in 0..tgt_len {
            let embed_t = embedded.clone().narrow(1, t, 1).reshape([batch, d_embed]);
            let gates_t = gates_all.clone().narrow(1, t, 1).reshape([batch, d_gates]);
            let out = self.step(&memory, embed_t, gates_t, state);
            state = out.state;
            readouts.push(out.readout_input);
            weights.extend(out.weights);
        }
        // One readout product over all steps: [B, T, R] -> [B, T, V].
        let logits = self.readout.forward(Tensor::stack::<3>(readouts, 1));
        Seq2SeqOutput {
            logits,
            weights: (!weights.is_empty()).then(|| Tensor::stack(weights, 1)),
        }
    }

    /// Encodes and builds the initial decoder state `s_0 = tanh(W_init c)`.
    fn start(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
    ) -> (DecoderMemory, RecurrentState) {
        let EncoderOutput {
            annotations,
            summary,
            mask,
        } = self.encoder.forward(src, src_mask);
        let state = self
            .cell
            .state_from_hidden(tanh(self.init_state.forward(summary.clone())));
        let memory = DecoderMemory {
            projected_keys: self
                .attention
                .as_ref()
                .map(|score| score.project_keys(annotations.clone())),
            summary_gates: self.context_gates.forward(summary.clone()),
            annotations,
            mask,
            summary,
        };
        (memory, state)
    }

    /// One decoder step from `s_{t-1}` and the previous word.
    ///
    /// - `embed_t`: `[batch, d_embed]`, `E y_{t-1}`; `gates_t`: its gate projection.
    fn step(
        &self,
        memory: &DecoderMemory,
        embed_t: Tensor<2>,
        gates_t: Tensor<2>,
        state: RecurrentState,
    ) -> StepOutput {
        // The context: the one place RNNencdec and RNNsearch differ.
        let (context, context_gates, weights) = match (&self.attention, &memory.projected_keys) {
            (Some(score), Some(keys)) => {
                // Bahdanau: align with the *previous* state s_{t-1}, before the RNN step.
                let scores = score.scores(state.h.clone(), keys);
                let out = attend(scores, memory.mask.clone(), &memory.annotations);
                let gates = self.context_gates.forward(out.context.clone());
                (out.context, gates, Some(out.weights))
            }
            _ => (memory.summary.clone(), memory.summary_gates.clone(), None),
        };
        let state = self.cell.step(gates_t + context_gates, state);
        let readout_input = Tensor::cat(vec![state.h.clone(), embed_t, context], 1);
        StepOutput {
            state,
            readout_input,
            weights,
        }
    }

    /// Logits of one step from its readout input: `[batch, R] -> [batch, V]`.
    fn step_logits(&self, readout_input: Tensor<2>) -> Tensor<2> {
        self.readout.forward(readout_input)
    }

    /// Embeds one token per row: `[batch]` ids -> (`[batch, E]`, `[batch, G*H]`).
    fn embed_step(&self, tokens: Tensor<1, Int>) -> (Tensor<2>, Tensor<2>) {
        let [batch] = tokens.dims();
        let embed = self
            .tgt_embedding
            .forward(tokens.reshape([batch, 1]))
            .reshape([batch, self.tgt_embedding.weight.dims()[1]]);
        let gates = self.embed_gates.forward(embed.clone());
        (embed, gates)
    }

    /// Greedy decoding: at each step the most probable word, fed back as the next input.
    ///
    /// - `src`, `src_mask`: `[batch, src_len]`.
    /// - `max_len`: at most this many target tokens per row (EOS included).
    pub fn greedy(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        max_len: usize,
    ) -> Decoded {
        let device = src.device();
        let [batch, _] = src.dims();
        let (memory, mut state) = self.start(src, src_mask);
        let mut tokens = Tensor::<1, Int>::full([batch], BOS as i64, &device);
        let mut produced: Vec<Tensor<1, Int>> = Vec::with_capacity(max_len);
        let mut weights = Vec::new();
        for t in 0..max_len {
            let (embed, gates) = self.embed_step(tokens);
            let out = self.step(&memory, embed, gates, state);
            state = out.state;
            weights.extend(out.weights);
            tokens = self
                .step_logits(out.readout_input)
                .argmax(1)
                .reshape([batch]);
            produced.push(tokens.clone());
            // Stop early once every row has emitted EOS; reading back costs a sync, so
            // check only every few steps.
            if t % 4 == 3 {
                let done = Tensor::stack::<2>(produced.clone(), 1)
                    .equal_elem(EOS as i64)
                    .int()
                    .sum_dim(1)
                    .greater_elem(0)
                    .all()
                    .into_scalar::<bool>();
                if done {
                    break;
                }
            }
        }
        let steps = produced.len();
        let ids = Tensor::stack::<2>(produced, 1).into_data(); // [B, steps]
        let ids: Vec<i64> = ids.iter::<i64>().collect();
        let tokens = (0..batch)
            .map(|b| {
                ids[b * steps..(b + 1) * steps]
                    .iter()
                    .map(|&id| id as u32)
                    .take_while(|&id| id != EOS)
                    .collect()
            })
            .collect();
        Decoded {
            tokens,
            weights: (!weights.is_empty()).then(|| Tensor::stack(weights, 1)),
        }
    }

    /// Beam search for one sentence.
    ///
    /// - `src`, `src_mask`: `[1, src_len]`.
    /// - `beam`: number of hypotheses kept per step.
    /// - returns the best finished hypothesis by log-probability divided by length (so
    ///   short outputs are not favoured), EOS removed.
    pub fn beam_search(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        beam: usize,
        max_len: usize,
    ) -> Vec<u32> {
        assert!(beam >= 1, "beam width must be at least 1");
        let device = src.device();
        let (memory, mut state) = self.start(src, src_mask);
        // Live hypotheses: (tokens, summed log-probability); row i of `state` is hypothesis i.
        let mut live: Vec<(Vec<u32>, f32)> = vec![(Vec::new(), 0.0)];
        let mut finished: Vec<(Vec<u32>, f32)> = Vec::new();
        for _ in 0..max_len {
            let rows = live.len();
            let zeros = Tensor::<1, Int>::zeros([rows], &device);
            let memory_rows = memory.select_rows(zeros);
            let last: Vec<i64> = live
                .iter()
                .map(|(toks, _)| *toks.last().unwrap_or(&BOS) as i64)
                .collect();
            let tokens = Tensor::<1, Int>::from_data(TensorData::new(last, [rows]), &device);
            let (embed, gates) = self.embed_step(tokens);
            let out = self.step(&memory_rows, embed, gates, state);
            let log_probs = log_softmax(self.step_logits(out.readout_input), 1).into_data();
            let log_probs: Vec<f32> = log_probs.iter::<f32>().collect();
            let vocab = log_probs.len() / rows;

            // Best `beam` extensions over all (hypothesis, word) pairs.
            let mut candidates: Vec<(usize, usize, f32)> = Vec::with_capacity(rows * vocab);
            for (row, (_, score)) in live.iter().enumerate() {
                for word in 0..vocab {
                    candidates.push((row, word, score + log_probs[row * vocab + word]));
                }
            }
            candidates.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
            let mut next_live = Vec::with_capacity(beam);
            let mut parents = Vec::with_capacity(beam);
            for &(row, word, score) in candidates.iter().take(beam) {
                let mut toks = live[row].0.clone();
                if word as u32 == EOS {
                    let len = toks.len() as f32 + 1.0;
                    finished.push((toks, score / len));
                } else {
                    toks.push(word as u32);
                    next_live.push((toks, score));
                    parents.push(row as i64);
                }
            }
            if finished.len() >= beam || next_live.is_empty() {
                break;
            }
            let parents_len = parents.len();
            let parents =
                Tensor::<1, Int>::from_data(TensorData::new(parents, [parents_len]), &device);
            state = out.state.select_rows(parents);
            live = next_live;
        }
        // Unfinished hypotheses compete too when max_len was reached.
        finished.extend(live.into_iter().map(|(toks, s)| {
            let len = toks.len().max(1) as f32;
            (toks, s / len)
        }));
        finished
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(toks, _)| toks)
            .unwrap_or_default()
    }
}

/// Mean cross-entropy over real target positions (PAD positions excluded).
///
/// - `logits`: `[batch, tgt_len, vocab]`; `targets`: `[batch, tgt_len]`.
/// - returns a one-element tensor.
pub fn sequence_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    let [batch, tgt_len, vocab] = logits.dims();
    let log_probs = log_softmax(logits.reshape([batch * tgt_len, vocab]), 1);
    let targets = targets.reshape([batch * tgt_len, 1]);
    let real = targets.clone().not_equal_elem(PAD as i64).float(); // [B*T, 1]
    let picked = log_probs.gather(1, targets); // [B*T, 1]
    let total = (picked * real.clone()).sum().neg();
    total / real.sum()
}

/// Builds an id tensor `[rows, cols]` from row-major ids.
pub fn ids_tensor(ids: &[u32], rows: usize, cols: usize, device: &Device) -> Tensor<2, Int> {
    let data: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
    Tensor::from_data(TensorData::new(data, [rows, cols]), device)
}

/// Builds a mask tensor `[rows, cols]` from row-major flags.
pub fn mask_tensor(mask: &[bool], rows: usize, cols: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::from_data(TensorData::new(mask.to_vec(), [rows, cols]), device)
}
