//! Recurrent cells and padding-aware encoders.
//!
//! Burn ships whole-sequence `Gru`/`Lstm` modules but no single-step cell, and its modules
//! project the input inside the recurrence (six small products per GRU step). The cells here
//! take the *input gates* already projected, so a caller hoists the input projection out of
//! the loop and runs it as one product over all time steps; inside the loop only the hidden
//! projection remains. Gate layout and equations follow PyTorch (`reset_after`, Cho et al.
//! 2014 v1), so weights can be compared one to one.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::kernels;

/// Which recurrent unit a layer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Gated recurrent unit (Cho et al. 2014), 3 gates.
    Gru,
    /// Long short-term memory (Hochreiter & Schmidhuber 1997), 4 gates.
    Lstm,
}

impl CellKind {
    /// Number of gate blocks the input projection must produce per hidden unit.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }
}

/// Recurrent state: `h` always, the memory cell `c` for an LSTM.
#[derive(Clone, Debug)]
pub struct RecurrentState {
    /// Hidden state `[batch, hidden]`.
    pub h: Tensor<2>,
    /// LSTM memory cell `[batch, hidden]`; `None` for a GRU.
    pub c: Option<Tensor<2>>,
}

impl RecurrentState {
    /// Selects rows (e.g. to reorder beams). `index`: `[n]` row indices.
    pub fn select_rows(self, index: Tensor<1, Int>) -> RecurrentState {
        RecurrentState {
            h: self.h.select(0, index.clone()),
            c: self.c.map(|c| c.select(0, index)),
        }
    }
}

/// Configuration of a [`Cell`].
#[derive(Config, Debug)]
pub struct CellConfig {
    /// GRU or LSTM.
    pub kind: CellKind,
    /// Hidden size.
    pub d_hidden: usize,
    /// Initializer of the hidden-to-gates weights.
    #[config(default = "Initializer::XavierNormal{gain:1.0}")]
    pub initializer: Initializer,
}

/// One recurrent step whose input has already been projected to gate pre-activations.
///
/// The input projection (`[d_input] -> [gates * d_hidden]`, with bias) lives with the caller;
/// the cell owns the hidden projection (`[d_hidden] -> [gates * d_hidden]`, with bias).
#[derive(Module, Debug)]
pub struct Cell {
    /// Hidden-to-gates projection `[d_hidden, gates * d_hidden]`.
    pub hidden_gates: Linear,
    /// Hidden size.
    pub d_hidden: usize,
    /// 3 for a GRU, 4 for an LSTM.
    pub gates: usize,
}

impl CellConfig {
    /// Creates the cell.
    pub fn init(&self, device: &Device) -> Cell {
        Cell {
            hidden_gates: LinearConfig::new(self.d_hidden, self.kind.gates() * self.d_hidden)
                .with_initializer(self.initializer.clone())
                .init(device),
            d_hidden: self.d_hidden,
            gates: self.kind.gates(),
        }
    }

    /// The matching input projection, `[d_input] -> [gates * d_hidden]`.
    pub fn init_input_gates(&self, d_input: usize, device: &Device) -> Linear {
        LinearConfig::new(d_input, self.kind.gates() * self.d_hidden)
            .with_initializer(self.initializer.clone())
            .init(device)
    }
}

impl Cell {
    /// GRU or LSTM, from the gate count.
    pub fn kind(&self) -> CellKind {
        if self.gates == 4 {
            CellKind::Lstm
        } else {
            CellKind::Gru
        }
    }

    /// The all-zero state for `batch` rows.
    pub fn zero_state(&self, batch: usize, device: &Device) -> RecurrentState {
        let zeros = || Tensor::zeros([batch, self.d_hidden], device);
        RecurrentState {
            h: zeros(),
            c: (self.kind() == CellKind::Lstm).then(zeros),
        }
    }

    /// A state whose hidden part is `h` (and a zero memory cell for an LSTM).
    pub fn state_from_hidden(&self, h: Tensor<2>) -> RecurrentState {
        let c = (self.kind() == CellKind::Lstm).then(|| h.zeros_like());
        RecurrentState { h, c }
    }

    /// One step.
    ///
    /// - `input_gates`: `[batch, gates * d_hidden]`, the projected input (bias included).
    /// - `state`: the previous state, each part `[batch, d_hidden]`.
    /// - returns the new state, each part `[batch, d_hidden]`.
    pub fn step(&self, input_gates: Tensor<2>, state: RecurrentState) -> RecurrentState {
        let hidden = self.d_hidden;
        let hidden_gates = kernels::linear(&self.hidden_gates, state.h.clone()); // [B, G*H]
        match state.c {
            // GRU, gate order (r, z, n) as PyTorch:
            //   r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n)
            //   h' = (1 - z) ⊙ n + z ⊙ h = n + z ⊙ (h - n)
            None => RecurrentState {
                h: kernels::gru_step(input_gates, hidden_gates, state.h),
                c: None,
            },
            // LSTM, gate order (i, f, g, o) as PyTorch:
            //   c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c')
            Some(c) => {
                let hc = kernels::lstm_step(input_gates + hidden_gates, c); // [B, 2H]
                RecurrentState {
                    h: hc.clone().narrow(1, 0, hidden),
                    c: Some(hc.narrow(1, hidden, hidden)),
                }
            }
        }
    }
}

impl Cell {
    /// One step over a padded batch: rows where `take` is 0 keep their state (so the state
    /// after the loop is each sequence's state at its true end).
    ///
    /// - `take`: `[batch, 1]`, 1.0 where the row has a real token at this step.
    /// - other shapes as in [`Cell::step`].
    pub fn step_masked(
        &self,
        input_gates: Tensor<2>,
        state: RecurrentState,
        take: Tensor<2>,
    ) -> RecurrentState {
        let hidden = self.d_hidden;
        let hidden_gates = kernels::linear(&self.hidden_gates, state.h.clone()); // [B, G*H]
        match state.c {
            None => RecurrentState {
                h: kernels::gru_step_masked(input_gates, hidden_gates, state.h, take),
                c: None,
            },
            Some(c) => {
                let hc = kernels::lstm_step_masked(input_gates + hidden_gates, state.h, c, take);
                RecurrentState {
                    h: hc.clone().narrow(1, 0, hidden),
                    c: Some(hc.narrow(1, hidden, hidden)),
                }
            }
        }
    }
}

/// Configuration of an [`RnnEncoder`].
#[derive(Config, Debug)]
pub struct RnnEncoderConfig {
    /// Source vocabulary size.
    pub vocab_size: usize,
    /// Embedding size.
    #[config(default = 64)]
    pub d_embed: usize,
    /// Hidden size per direction.
    #[config(default = 128)]
    pub d_hidden: usize,
    /// GRU or LSTM.
    #[config(default = "CellKind::Gru")]
    pub cell: CellKind,
    /// Read the sentence in both directions and concatenate (Bahdanau et al. 2015, §3.2).
    #[config(default = true)]
    pub bidirectional: bool,
}

/// One direction of an encoder: its input projection and its cell.
#[derive(Module, Debug)]
pub struct EncoderDirection {
    /// Embedding-to-gates projection, run once over the whole sequence.
    pub input_gates: Linear,
    /// The recurrent cell.
    pub cell: Cell,
}

/// A uni- or bidirectional GRU/LSTM layer over already-embedded, right-padded input.
#[derive(Module, Debug)]
pub struct BiRnn {
    /// Left-to-right reader.
    pub forward_dir: EncoderDirection,
    /// Right-to-left reader, when bidirectional.
    pub backward_dir: Option<EncoderDirection>,
}

/// Embedding plus a [`BiRnn`].
#[derive(Module, Debug)]
pub struct RnnEncoder {
    /// Token embedding.
    pub embedding: Embedding,
    /// The recurrent reader(s).
    pub rnn: BiRnn,
}

/// What an encoder gives the decoder.
#[derive(Clone, Debug)]
pub struct EncoderOutput {
    /// Annotations `[batch, src_len, d_annotation]` (both directions concatenated).
    /// Rows at padded positions hold no information and must be masked by the reader.
    pub annotations: Tensor<3>,
    /// The fixed-size summary `[batch, d_annotation]`: the forward state at each sequence's
    /// true last token, concatenated with the backward state at its first token.
    pub summary: Tensor<2>,
    /// `[batch, src_len]`, true at real tokens.
    pub mask: Tensor<2, Bool>,
}

impl RnnEncoderConfig {
    /// Creates the encoder.
    pub fn init(&self, device: &Device) -> RnnEncoder {
        // Field order fixes the order of random draws: embedding, forward, backward.
        let embedding = EmbeddingConfig::new(self.vocab_size, self.d_embed).init(device);
        RnnEncoder {
            embedding,
            rnn: self.init_rnn(device),
        }
    }

    /// Only the recurrent layer, for callers that embed the input themselves (e.g. readers
    /// that share one embedding between document and query).
    pub fn init_rnn(&self, device: &Device) -> BiRnn {
        let cell = CellConfig::new(self.cell, self.d_hidden);
        let direction = || EncoderDirection {
            input_gates: cell.init_input_gates(self.d_embed, device),
            cell: cell.init(device),
        };
        let forward_dir = direction();
        BiRnn {
            forward_dir,
            backward_dir: self.bidirectional.then(direction),
        }
    }

    /// Size of one annotation vector.
    pub fn d_annotation(&self) -> usize {
        self.d_hidden * if self.bidirectional { 2 } else { 1 }
    }
}

impl RnnEncoder {
    /// Encodes a right-padded batch.
    ///
    /// - `src`: `[batch, src_len]` token ids.
    /// - `mask`: `[batch, src_len]`, true at real tokens (a prefix of each row).
    pub fn forward(&self, src: Tensor<2, Int>, mask: Tensor<2, Bool>) -> EncoderOutput {
        self.rnn.forward(self.embedding.forward(src), mask) // [B, S, E] embedded
    }
}

impl BiRnn {
    /// Reads an embedded, right-padded batch.
    ///
    /// - `embedded`: `[batch, len, d_input]`.
    /// - `mask`: `[batch, len]`, true at real tokens (a prefix of each row).
    pub fn forward(&self, embedded: Tensor<3>, mask: Tensor<2, Bool>) -> EncoderOutput {
        let [batch, src_len, _] = embedded.dims();
        let take = mask.clone().float(); // [B, S], 1.0 at real tokens

        let (fwd_out, fwd_final) = run_direction(&self.forward_dir, &embedded, &take, false);
        let (annotations, summary) = match &self.backward_dir {
            None => (fwd_out, fwd_final),
            Some(dir) => {
                let (bwd_out, bwd_final) = run_direction(dir, &embedded, &take, true);
                (
                    Tensor::cat(vec![fwd_out, bwd_out], 2),
                    Tensor::cat(vec![fwd_final, bwd_final], 1),
                )
            }
        };
        debug_assert_eq!(annotations.dims()[..2], [batch, src_len]);
        EncoderOutput {
            annotations,
            summary,
            mask,
        }
    }
}

impl EncoderDirection {
    /// Runs this direction over a sequence; see [`run_direction`].
    pub fn run(
        &self,
        embedded: &Tensor<3>,
        take: &Tensor<2>,
        reverse: bool,
    ) -> (Tensor<3>, Tensor<2>) {
        run_direction(self, embedded, take, reverse)
    }
}

/// Splits `[B, S, D]` into its `S` steps, each `[B, D]`, with the same values as `S`
/// slices of one step each.
///
/// Why not those `S` slices: the backward pass of a slice is a zero-filled gradient of the
/// whole input with the slice's gradient written in, and the `S` of them are summed, so a
/// time loop that slices a `[B, S, D]` tensor pays `O(S^2 B D)` in backward (41% of a
/// training step at length 40). Halving recursively pays `O(S log S B D)` and gives the same
/// bits, since every gradient element is still its one step's value plus zeros.
pub fn split_steps(x: Tensor<3>) -> Vec<Tensor<2>> {
    let len = x.dims()[1];
    if len <= 2 {
        return (0..len).map(|t| kernels::take_step(x.clone(), t)).collect();
    }
    let half = len / 2;
    let mut steps = split_steps(kernels::narrow_steps(x.clone(), 0, half));
    steps.extend(split_steps(kernels::narrow_steps(x, half, len - half)));
    steps
}

/// Runs one direction over the sequence; returns the outputs `[B, S, H]` and the final
/// hidden state `[B, H]` (at the true end for the forward reader, at position 0 for the
/// backward one, because padded steps leave the state untouched). `take` is `[B, S]`, 1.0
/// where a step is real; masked steps may lie anywhere, not only at the end.
fn run_direction(
    dir: &EncoderDirection,
    embedded: &Tensor<3>,
    take: &Tensor<2>,
    reverse: bool,
) -> (Tensor<3>, Tensor<2>) {
    let [batch, src_len, _] = embedded.dims();
    // One product for all steps, then split: S of [B, G*H].
    let gates = split_steps(kernels::linear_steps(&dir.input_gates, embedded.clone()));
    let mut state = dir.cell.zero_state(batch, &embedded.device());
    let mut outputs: Vec<Tensor<2>> = Vec::with_capacity(src_len);
    let order: Vec<usize> = if reverse {
        (0..src_len).rev().collect()
    } else {
        (0..src_len).collect()
    };
    for &t in &order {
        let take_t = take.clone().narrow(1, t, 1); // [B, 1], no gradient
        state = dir.cell.step_masked(gates[t].clone(), state, take_t);
        outputs.push(state.h.clone());
    }
    if reverse {
        outputs.reverse();
    }
    (Tensor::stack(outputs, 1), state.h)
}
