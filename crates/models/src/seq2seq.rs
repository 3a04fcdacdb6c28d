//! RNN encoder-decoders: the fixed-context RNNencdec (Cho et al. 2014) and the attentive
//! RNNsearch (Bahdanau et al. 2015), sharing one encoder, one decoder cell and one step
//! function, so the two differ in exactly one place: where the context comes from.
//!
//! The attentive decoder takes any alignment [`Score`] and either arrangement:
//! [`Arrangement::Bahdanau`] attends with the previous state `s_{t-1}` before the RNN step and
//! feeds the context to the RNN and the readout; [`Arrangement::Luong`] attends with the new
//! state `s_t` after the step, combines `h̃_t = tanh(W_c [c_t; s_t])`, reads out from `h̃_t`,
//! and feeds `h̃_t` into the next step's input ("input feeding", Luong et al. 2015, §3.3).
//! The context is soft (the expectation under the weights) or hard (one sampled position,
//! Xu et al. 2015), chosen per call by [`Selection`].
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

use crate::attention::{
    AttentionOutput, PredictiveAlignment, attend, masked_softmax, sample_positions,
};
use crate::kernels::{linear, linear_steps};
use crate::rnn::{
    Cell, CellConfig, CellKind, EncoderOutput, RecurrentState, RnnEncoder, RnnEncoderConfig,
    split_steps,
};
use crate::scores::{Score, ScoreConfig, ScoreKind};

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

/// Where attention sits relative to the decoder's RNN step (RNNsearch only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrangement {
    /// Attend with `s_{t-1}`, before the step (Bahdanau et al. 2015).
    Bahdanau,
    /// Attend with `s_t`, after the step, with input feeding (Luong et al. 2015).
    Luong,
}

/// How a context is made from the attention weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// The expectation `Σ_i α_i h_i` (deterministic, differentiable).
    Soft,
    /// One position sampled from `α` per row, `h_i` itself (Xu et al. 2015, training).
    Sample,
    /// The most probable position (Xu et al. 2015, test time).
    Argmax,
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
    /// The alignment score (RNNsearch only).
    #[config(default = "ScoreKind::Additive")]
    pub score: ScoreKind,
    /// Where attention sits relative to the RNN step (RNNsearch only).
    #[config(default = "Arrangement::Bahdanau")]
    pub arrangement: Arrangement,
    /// Longest source (EOS included) the location score can address.
    #[config(default = 64)]
    pub max_src_len: usize,
    /// Luong's local-p attention with this half-window D (Luong arrangement only; 0: global
    /// attention over the whole sentence).
    #[config(default = 0)]
    pub local_window: usize,
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
    /// Context to decoder gates (no bias); with the Luong arrangement, `h̃_{t-1}` to gates.
    pub context_gates: Linear,
    /// The decoder's recurrent cell.
    pub cell: Cell,
    /// The alignment score; `None` for RNNencdec, whose context is the fixed summary.
    pub attention: Option<Score>,
    /// Luong's `W_c`: `[c_t; s_t] -> h̃_t`; `None` in the Bahdanau arrangement.
    pub combine: Option<Linear>,
    /// Bahdanau: `[s_t; E y_{t-1}; c_t] -> logits`; Luong: `h̃_t -> logits`.
    pub readout: Linear,
    /// Luong's local-p position predictor; `None` for global attention.
    pub local: Option<PredictiveAlignment>,
}

/// Teacher-forced output.
#[derive(Clone, Debug)]
pub struct Seq2SeqOutput {
    /// `[batch, tgt_len, tgt_vocab]` unnormalized scores.
    pub logits: Tensor<3>,
    /// `[batch, tgt_len, src_len]` attention weights (RNNsearch only).
    pub weights: Option<Tensor<3>>,
    /// `[batch, tgt_len]` log-probability of the sampled position at each step
    /// ([`Selection::Sample`] only), for REINFORCE.
    pub sample_log_probs: Option<Tensor<2>>,
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
    /// The keys as the score reads them (`U h` for additive).
    prepared_keys: Option<Tensor<3>>,
    /// The fixed context `c` and its gate contribution, for RNNencdec.
    summary: Tensor<2>,
    summary_gates: Tensor<2>,
}

impl DecoderMemory {
    fn select_rows(&self, index: Tensor<1, Int>) -> DecoderMemory {
        DecoderMemory {
            annotations: self.annotations.clone().select(0, index.clone()),
            mask: self.mask.clone().select(0, index.clone()),
            prepared_keys: self
                .prepared_keys
                .clone()
                .map(|k| k.select(0, index.clone())),
            summary: self.summary.clone().select(0, index.clone()),
            summary_gates: self.summary_gates.clone().select(0, index),
        }
    }
}

/// The decoder's state between steps.
#[derive(Clone, Debug)]
struct DecoderState {
    rnn: RecurrentState,
    /// Luong's attentional vector `h̃_{t-1}` `[batch, d_decoder]`, fed to the next step.
    attentional: Option<Tensor<2>>,
}

impl DecoderState {
    fn select_rows(self, index: Tensor<1, Int>) -> DecoderState {
        DecoderState {
            rnn: self.rnn.select_rows(index.clone()),
            attentional: self.attentional.map(|a| a.select(0, index)),
        }
    }
}

/// One decoder step's output.
struct StepOutput {
    state: DecoderState,
    /// The readout's input: Bahdanau `[batch, d_decoder + d_embed + d_annotation]`,
    /// Luong `[batch, d_decoder]`.
    readout_input: Tensor<2>,
    /// `[batch, src_len]` (RNNsearch only).
    weights: Option<Tensor<2>>,
    /// `[batch]`, log α of the sampled position ([`Selection::Sample`] only).
    sample_log_prob: Option<Tensor<1>>,
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
        let luong =
            self.architecture == Architecture::RnnSearch && self.arrangement == Arrangement::Luong;
        // What feeds the gates besides the word: the context (Bahdanau, RNNencdec) or h̃_{t-1}.
        let d_feed = if luong { self.d_decoder } else { d_ann };
        let d_readout = if luong {
            self.d_decoder
        } else {
            self.d_decoder + self.d_embed + d_ann
        };
        Seq2Seq {
            encoder: encoder_config.init(device),
            tgt_embedding: EmbeddingConfig::new(self.tgt_vocab, self.d_embed).init(device),
            init_state: LinearConfig::new(d_ann, self.d_decoder).init(device),
            embed_gates: cell.init_input_gates(self.d_embed, device),
            context_gates: LinearConfig::new(d_feed, self.cell.gates() * self.d_decoder)
                .with_bias(false)
                .init(device),
            cell: cell.init(device),
            attention: match self.architecture {
                Architecture::RnnEncDec => None,
                Architecture::RnnSearch => Some(
                    ScoreConfig::new(self.score, self.d_decoder, d_ann)
                        .with_d_attention(self.d_attention)
                        .with_max_src_len(self.max_src_len)
                        .init(device),
                ),
            },
            combine: luong.then(|| {
                LinearConfig::new(d_ann + self.d_decoder, self.d_decoder)
                    .with_bias(false)
                    .init(device)
            }),
            readout: LinearConfig::new(d_readout, self.tgt_vocab).init(device),
            // Last, so adding it leaves the random draws of every other parameter unchanged.
            local: (luong && self.local_window > 0)
                .then(|| PredictiveAlignment::new(self.d_decoder, self.local_window, device)),
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
        self.forward_with(src, src_mask, tgt_in, Selection::Soft)
    }

    /// Teacher-forced pass with soft or hard attention; see [`Self::forward`].
    pub fn forward_with(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
        selection: Selection,
    ) -> Seq2SeqOutput {
        let tgt_len = tgt_in.dims()[1];
        let (memory, mut state) = self.start(src, src_mask);
        let embedded = self.tgt_embedding.forward(tgt_in); // [B, T, E]
        // One product for all steps, then both split into T steps (see `split_steps`).
        let gates = split_steps(linear_steps(&self.embed_gates, embedded.clone())); // T x [B, G*H]
        let embedded = split_steps(embedded); // T x [B, E]

        let mut readouts = Vec::with_capacity(tgt_len);
        let mut weights = Vec::with_capacity(tgt_len);
        let mut sample_log_probs = Vec::new();
        for (embed_t, gates_t) in embedded.into_iter().zip(gates) {
            let out = self.step(&memory, embed_t, gates_t, state, selection);
            state = out.state;
            readouts.push(out.readout_input);
            weights.extend(out.weights);
            sample_log_probs.extend(out.sample_log_prob);
        }
        // One readout product over all steps: [B, T, R] -> [B, T, V].
        let logits = linear_steps(&self.readout, Tensor::stack::<3>(readouts, 1));
        Seq2SeqOutput {
            logits,
            weights: (!weights.is_empty()).then(|| Tensor::stack(weights, 1)),
            sample_log_probs: (!sample_log_probs.is_empty())
                .then(|| Tensor::stack(sample_log_probs, 1)),
        }
    }

    /// Encodes and builds the initial decoder state `s_0 = tanh(W_init c)`.
    fn start(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
    ) -> (DecoderMemory, DecoderState) {
        let EncoderOutput {
            annotations,
            summary,
            mask,
        } = self.encoder.forward(src, src_mask);
        let rnn = self
            .cell
            .state_from_hidden(tanh(linear(&self.init_state, summary.clone())));
        // Luong's h̃_0: no attention has happened yet.
        let attentional = self.combine.as_ref().map(|_| rnn.h.zeros_like());
        let state = DecoderState { rnn, attentional };
        let memory = DecoderMemory {
            prepared_keys: self
                .attention
                .as_ref()
                .map(|score| score.prepare(annotations.clone())),
            summary_gates: linear(&self.context_gates, summary.clone()),
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
        state: DecoderState,
        selection: Selection,
    ) -> StepOutput {
        let (score, keys) = match (&self.attention, &memory.prepared_keys) {
            (Some(score), Some(keys)) => (score, keys),
            _ => {
                // RNNencdec: the fixed summary is the context at every step.
                let rnn = self
                    .cell
                    .step(gates_t + memory.summary_gates.clone(), state.rnn);
                let readout_input =
                    Tensor::cat(vec![rnn.h.clone(), embed_t, memory.summary.clone()], 1);
                return StepOutput {
                    state: DecoderState {
                        rnn,
                        attentional: None,
                    },
                    readout_input,
                    weights: None,
                    sample_log_prob: None,
                };
            }
        };
        match (&self.combine, state.attentional) {
            (Some(combine), Some(previous)) => {
                // Luong: step first (input feeding h̃_{t-1}), then align with s_t.
                let rnn = self
                    .cell
                    .step(gates_t + linear(&self.context_gates, previous), state.rnn);
                let scores = score.scores(rnn.h.clone(), keys);
                // Local-p attention is soft by construction; it ignores `selection`.
                let (out, sample_log_prob) = match &self.local {
                    Some(local) => {
                        let mask = memory.mask.clone();
                        (
                            local.attend(scores, rnn.h.clone(), mask, &memory.annotations),
                            None,
                        )
                    }
                    None => self.select(scores, memory, selection),
                };
                let attentional = tanh(linear(
                    combine,
                    Tensor::cat(vec![out.context, rnn.h.clone()], 1),
                ));
                StepOutput {
                    state: DecoderState {
                        rnn,
                        attentional: Some(attentional.clone()),
                    },
                    readout_input: attentional,
                    weights: Some(out.weights),
                    sample_log_prob,
                }
            }
            _ => {
                // Bahdanau: align with the *previous* state s_{t-1}, before the RNN step.
                let (out, sample_log_prob) =
                    self.select(score.scores(state.rnn.h.clone(), keys), memory, selection);
                let context_gates = linear(&self.context_gates, out.context.clone());
                let rnn = self.cell.step(gates_t + context_gates, state.rnn);
                let readout_input = Tensor::cat(vec![rnn.h.clone(), embed_t, out.context], 1);
                StepOutput {
                    state: DecoderState {
                        rnn,
                        attentional: None,
                    },
                    readout_input,
                    weights: Some(out.weights),
                    sample_log_prob,
                }
            }
        }
    }

    /// Turns scores into a context: soft, or one sampled or most probable position.
    /// Returns the context with the weights α, and for [`Selection::Sample`] `log α_i` of the
    /// sampled position `[batch]` (the REINFORCE term's log-probability).
    fn select(
        &self,
        scores: Tensor<2>,
        memory: &DecoderMemory,
        selection: Selection,
    ) -> (AttentionOutput, Option<Tensor<1>>) {
        if selection == Selection::Soft {
            return (
                attend(scores, memory.mask.clone(), &memory.annotations),
                None,
            );
        }
        let [batch, _, d_value] = memory.annotations.dims();
        let weights = masked_softmax(scores, memory.mask.clone()); // [B, S]
        let position = match selection {
            // Sampling is not differentiable: draw from detached weights.
            Selection::Sample => sample_positions(weights.clone()), // [B, 1]
            _ => weights.clone().argmax(1),                         // [B, 1]
        };
        let index = position
            .clone()
            .reshape([batch, 1, 1])
            .expand([batch, 1, d_value]);
        let context = memory
            .annotations
            .clone()
            .gather(1, index)
            .reshape([batch, d_value]);
        let log_prob = (selection == Selection::Sample).then(|| {
            weights
                .clone()
                .gather(1, position)
                .clamp_min(1e-12)
                .log()
                .reshape([batch])
        });
        (AttentionOutput { context, weights }, log_prob)
    }

    /// Logits of one step from its readout input: `[batch, R] -> [batch, V]`.
    fn step_logits(&self, readout_input: Tensor<2>) -> Tensor<2> {
        linear(&self.readout, readout_input)
    }

    /// Embeds one token per row: `[batch]` ids -> (`[batch, E]`, `[batch, G*H]`).
    fn embed_step(&self, tokens: Tensor<1, Int>) -> (Tensor<2>, Tensor<2>) {
        let [batch] = tokens.dims();
        let embed = self
            .tgt_embedding
            .forward(tokens.reshape([batch, 1]))
            .reshape([batch, self.tgt_embedding.weight.dims()[1]]);
        let gates = linear(&self.embed_gates, embed.clone());
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
        self.greedy_with(src, src_mask, max_len, Selection::Soft)
    }

    /// Greedy decoding with soft or hard ([`Selection::Argmax`]) attention.
    pub fn greedy_with(
        &self,
        src: Tensor<2, Int>,
        src_mask: Tensor<2, Bool>,
        max_len: usize,
        selection: Selection,
    ) -> Decoded {
        let device = src.device();
        let [batch, _] = src.dims();
        let (memory, mut state) = self.start(src, src_mask);
        let mut tokens = Tensor::<1, Int>::full([batch], BOS as i64, &device);
        let mut produced: Vec<Tensor<1, Int>> = Vec::with_capacity(max_len);
        let mut weights = Vec::new();
        for t in 0..max_len {
            let (embed, gates) = self.embed_step(tokens);
            let out = self.step(&memory, embed, gates, state, selection);
            state = out.state;
            weights.extend(out.weights);
            tokens = self
                .step_logits(out.readout_input)
                .argmax(1)
                .reshape([batch]);
            produced.push(tokens.clone());
            // Stop early once every row has emitted EOS; reading back costs a sync, so
            // check only every few steps.
            if t % 4 == 3 && all_finished(&produced) {
                break;
            }
        }
        Decoded {
            tokens: tokens_until_eos(produced, batch),
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
            let out = self.step(&memory_rows, embed, gates, state, Selection::Soft);
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

/// Whether every row of `produced` (`steps` tensors of `[batch]` ids) holds an EOS.
pub(crate) fn all_finished(produced: &[Tensor<1, Int>]) -> bool {
    Tensor::stack::<2>(produced.to_vec(), 1) // [B, steps]
        .equal_elem(EOS as i64)
        .int()
        .sum_dim(1)
        .greater_elem(0)
        .all()
        .into_scalar::<bool>()
}

/// Reads the produced ids back and cuts each row at its first EOS.
pub(crate) fn tokens_until_eos(produced: Vec<Tensor<1, Int>>, batch: usize) -> Vec<Vec<u32>> {
    let steps = produced.len();
    if steps == 0 {
        return vec![Vec::new(); batch];
    }
    let ids: Vec<i64> = Tensor::stack::<2>(produced, 1) // [B, steps]
        .into_data()
        .iter::<i64>()
        .collect();
    (0..batch)
        .map(|b| {
            ids[b * steps..(b + 1) * steps]
                .iter()
                .map(|&id| id as u32)
                .take_while(|&id| id != EOS)
                .collect()
        })
        .collect()
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
