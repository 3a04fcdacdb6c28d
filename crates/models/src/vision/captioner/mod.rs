//! The caption generator of Xu et al. 2015, "Show, Attend and Tell" (ICML), §3.1.2: an LSTM
//! reads the annotation vectors `a_i` of an image (from [`super::ImageEncoder`]) and writes
//! one word per step, from a context vector `ẑ_t`, its previous state and the previous word.
//!
//! The three variants share everything except where `ẑ_t` comes from ([`ContextKind`]):
//!
//! - **None**: the mean annotation `(1/L) Σ_i a_i` at every step, one fixed vector: the
//!   bottleneck of "Show and Tell" (Vinyals et al. 2015), kept as the baseline (Vinyals et
//!   al. feed their image vector once, before the first word; here it is fed at every step,
//!   exactly where the attentive variants feed their context, so that only the context
//!   differs).
//! - **Soft** (§4.2): `ẑ_t = β_t Σ_i α_ti a_i`, with the alignment `e_ti = f_att(a_i, h_{t-1})`
//!   (eq. 4, additive: [`AdditiveScore`]), `α_t = softmax(e_t)` (eq. 5) and the gating scalar
//!   `β_t = σ(f_β(h_{t-1}))` (§4.2.1); trained end to end, with the doubly stochastic
//!   penalty `λ Σ_i (1 - Σ_t α_ti)²` (§4.2.1, [`doubly_stochastic_penalty`]).
//! - **Hard** (§4.1): a location `s_t ~ Multinoulli(α_t)` (eq. 8) and `ẑ_t = β_t a_{s_t}`
//!   (eq. 9). Training is REINFORCE, which lives with the caller: the pass returns
//!   `log α_t(s_t)` ([`CaptionerOutput::sample_log_probs`]) for the score-function term with
//!   a moving-average baseline, and the weights for the entropy term
//!   ([`attention_entropy`]). At test time the most probable location is taken.
//!
//! Common to all three: `h_0 = tanh(f_init,h(ā))` and `c_0 = tanh(f_init,c(ā))` from the mean
//! annotation `ā` (§3.1.2), the LSTM step on `[E y_{t-1}; h_{t-1}; ẑ_t]` (eqs. 1-3), and the
//! deep output layer `p(y_t) ∝ exp(L_o(E y_{t-1} + L_h h_t + L_z ẑ_t))` (eq. 7).
//!
//! Departures from the paper: the attentive variants add a learned embedding `p_i` of each
//! cell's position to its annotation before attending (`a_i + p_i` in place of `a_i`, in
//! the keys and in the context). VGG's 14 × 14 features carry their position implicitly
//! (zero padding at the borders, receptive fields wider than the image); the small encoder
//! here, trained on "what is in this cell", does not, and without `p_i` the context says
//! *what* was attended but not *where*, so no relation word ("left of") can be learned. The
//! mean annotation is left without it (a mean of position embeddings is one constant).
//! As an option ([`CaptionerConfig::coordinates`]), the attentive variants also append
//! each cell's centre `(x_i, y_i)` to its annotation, so that `ẑ_t` ends with
//! `β_t Σ_i α_ti (x_i, y_i)`: where it looked, in two numbers that a linear layer can
//! compare with a remembered position ("left of" is `x` smaller).
//! `f_init,h` and `f_init,c` are one tanh layer each (the paper
//! says "MLP" without a depth); the gate `β_t` serves hard attention too (the paper
//! introduces it with soft attention); the doubly stochastic penalty is returned for hard
//! attention as well, for the caller to use or ignore; Xu's variance-reduction trick (with
//! probability 0.5 for a given image, the expected context instead of a sample, §4.1) is one
//! coin per caption drawn from a uniform source the caller passes in
//! ([`Captioner::forward_sampled`]); sizes are small (embeddings 64, LSTM 128, annotations
//! of 64 on a 6 × 6 grid, where the paper reads 512-dimensional annotations on a 14 × 14
//! grid).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig,
};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::attention::{attend, masked_softmax, sample_positions};
use crate::kernels::{linear, linear_steps};
use crate::rnn::{Cell, CellConfig, CellKind, RecurrentState, split_steps};
use crate::scores::{AdditiveScore, AlignmentScore, ScoreConfig, ScoreKind};
use crate::seq2seq::PAD;

mod decode;
pub use decode::Caption;

/// Where the decoder's context `ẑ_t` comes from; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextKind {
    /// The mean annotation at every step, no attention.
    None,
    /// Deterministic soft attention, `β_t Σ_i α_ti a_i` (Xu et al. 2015, §4.2).
    Soft,
    /// Stochastic hard attention, `β_t a_{s_t}` with `s_t ~ α_t` (Xu et al. 2015, §4.1).
    Hard,
}

impl ContextKind {
    /// The three variants, in the order of tables and legends.
    pub const ALL: [ContextKind; 3] = [ContextKind::None, ContextKind::Soft, ContextKind::Hard];

    /// The name used in CSVs, legends and config files.
    pub fn name(self) -> &'static str {
        match self {
            ContextKind::None => "none",
            ContextKind::Soft => "soft",
            ContextKind::Hard => "hard",
        }
    }
}

/// Configuration of a [`Captioner`].
#[derive(Config, Debug)]
pub struct CaptionerConfig {
    /// Vocabulary size `K` (PAD, BOS, EOS and UNK included).
    pub vocab: usize,
    /// Word embedding size `m`, also the width of the deep output layer. 64: vocabularies of
    /// a few dozen to a few thousand words.
    #[config(default = 64)]
    pub d_embed: usize,
    /// LSTM size `n`. 128.
    #[config(default = 128)]
    pub d_hidden: usize,
    /// Annotation size `D`: the encoder's `d_annotation`. 64.
    #[config(default = 64)]
    pub d_annotation: usize,
    /// Hidden size of the additive alignment model `f_att`. 64.
    #[config(default = 64)]
    pub d_attention: usize,
    /// Number of annotation vectors `L` (grid cells), one position embedding each; the
    /// passes check it against their input. 36: the encoder's default 6 × 6 grid.
    #[config(default = 36)]
    pub grid_cells: usize,
    /// Mean annotation, soft or hard attention.
    #[config(default = "ContextKind::Soft")]
    pub context: ContextKind,
    /// Dropout on the deep output layer's hidden vector, in training only. 0.0: the
    /// synthetic scenes are drawn fresh, so overfitting is not what limits these runs.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// `λ` of the doubly stochastic penalty (§4.2.1); the paper gives no value. 1.0.
    #[config(default = 1.0)]
    pub doubly_stochastic: f64,
    /// Hard attention in training: the probability that a caption uses the expected
    /// (soft) context at every step instead of sampled locations (§4.1). 0.5, as the paper.
    #[config(default = 0.5)]
    pub hard_expected: f64,
    /// Soft and hard attention: append each cell's centre `(x, y)`, scaled to `(-1, 1)`,
    /// to its annotation, so that the context carries where it looked as two numbers (see
    /// the module docs). Off: the paper's context.
    #[config(default = false)]
    pub coordinates: bool,
}

/// Attention over the grid with its gate: `f_att` and `f_β`, and the cells' positions.
#[derive(Module, Debug)]
pub struct GatedAttention {
    /// `f_att(a_i, h_{t-1}) = v^T tanh(W h_{t-1} + U a_i)` (eq. 4).
    pub score: AdditiveScore,
    /// `f_β`: `[n] -> [1]`, with bias; `β_t = σ(f_β(h_{t-1}))` (§4.2.1).
    pub gate: Linear,
    /// `p`: one learned vector per cell `[L, D]`, added to the annotations attended over
    /// (see the module docs).
    pub positions: Param<Tensor<2>>,
}

/// An LSTM caption generator; see the module docs.
#[derive(Module, Debug)]
pub struct Captioner {
    /// `E`: word embeddings `[K, m]`.
    pub embedding: Embedding,
    /// `f_init,h`: mean annotation `[D] -> [n]`, then tanh.
    pub init_hidden: Linear,
    /// `f_init,c`: mean annotation `[D] -> [n]`, then tanh.
    pub init_memory: Linear,
    /// `E y_{t-1}` to the LSTM's gates `[m] -> [4n]` (the gates' bias lives here), run once
    /// over all steps in teacher forcing.
    pub embed_gates: Linear,
    /// `ẑ_t` to the LSTM's gates `[D_z] -> [4n]`, no bias (`D_z` is `D`, or `D + 2` with
    /// coordinates).
    pub context_gates: Linear,
    /// The LSTM step; it owns `h_{t-1}` to the gates.
    pub cell: Cell,
    /// `f_att` and `f_β`; `None` for [`ContextKind::None`].
    pub attention: Option<GatedAttention>,
    /// `L_h`: `[n] -> [m]`, no bias (eq. 7).
    pub out_hidden: Linear,
    /// `L_z`: `[D_z] -> [m]`, no bias (eq. 7).
    pub out_context: Linear,
    /// `L_o`: `[m] -> [K]`, with bias (eq. 7).
    pub output: Linear,
    /// Dropout on `E y_{t-1} + L_h h_t + L_z ẑ_t` before `L_o`.
    pub dropout: Dropout,
    /// Mean annotation, soft or hard attention.
    #[module(skip)]
    pub context: ContextKind,
    /// `L`, checked against the annotations of every pass.
    pub grid_cells: usize,
    /// `λ` of the doubly stochastic penalty.
    pub doubly_stochastic: f64,
    /// Probability of the expected context for a caption in hard-attention training.
    pub hard_expected: f64,
    /// Whether the attended annotations end with their cell's coordinates.
    pub coordinates: bool,
}

/// Teacher-forced output.
#[derive(Clone, Debug)]
pub struct CaptionerOutput {
    /// `[batch, T, K]` unnormalized word scores.
    pub logits: Tensor<3>,
    /// `[batch, T, D_z]` the context `ẑ_t` of every step (β included).
    pub contexts: Tensor<3>,
    /// `[batch, T, L]` the attention weights `α_t` (Soft and Hard; for Hard, the
    /// distribution the location was drawn from).
    pub weights: Option<Tensor<3>>,
    /// `[batch, T]` the gate `β_t` (Soft and Hard).
    pub betas: Option<Tensor<2>>,
    /// `[batch, T]` `log α_t(s_t)` of the sampled location (Hard with
    /// [`Captioner::forward_sampled`] only); 0.0 in the captions that used the expected
    /// context, whose weights train through the expectation instead.
    pub sample_log_probs: Option<Tensor<2>>,
    /// `λ Σ_i (1 - Σ_t α_ti)²`, averaged over the batch (Soft and Hard); one element.
    pub penalty: Option<Tensor<1>>,
}

/// How a step turns the weights into a context.
#[derive(Clone, Debug)]
enum Selection {
    /// `Σ_i α_i a_i` (soft attention; ignored by [`ContextKind::None`]).
    Expected,
    /// `a_argmax` (hard attention at test time).
    Argmax,
    /// A sampled `a_{s_t}`, except in the rows where this `[batch, 1]` tensor is 1.0, which
    /// take the expectation (hard attention in training).
    Sample(Box<Tensor<2>>),
}

/// Per-image tensors every step reuses.
struct Memory {
    /// `[batch, L, D_z]`, with the position embeddings added (and the coordinates
    /// appended, if asked) when there is attention.
    annotations: Tensor<3>,
    /// `U a` `[batch, L, d_attention]` (attention only).
    keys: Option<Tensor<3>>,
    /// `[batch, L]`, all true: every cell is real.
    mask: Tensor<2, Bool>,
    /// The mean annotation `[batch, D]`.
    mean: Tensor<2>,
}

impl Memory {
    fn select_rows(&self, index: Tensor<1, Int>) -> Memory {
        Memory {
            annotations: self.annotations.clone().select(0, index.clone()),
            keys: self.keys.clone().map(|k| k.select(0, index.clone())),
            mask: self.mask.clone().select(0, index.clone()),
            mean: self.mean.clone().select(0, index),
        }
    }
}

/// One step's context and how it was made.
struct Context {
    /// `ẑ_t`, `[batch, D]`.
    z: Tensor<2>,
    /// `α_t`, `[batch, L]`.
    weights: Option<Tensor<2>>,
    /// `β_t`, `[batch, 1]`.
    beta: Option<Tensor<2>>,
    /// `log α_t(s_t)`, `[batch]`.
    log_prob: Option<Tensor<1>>,
}

/// One step's output.
struct StepOutput {
    state: RecurrentState,
    /// `E y_{t-1} + L_h h_t + L_z ẑ_t`, `[batch, m]`: the deep output before `L_o`.
    deep: Tensor<2>,
    context: Context,
}

impl CaptionerConfig {
    /// Creates the model.
    pub fn init(&self, device: &Device) -> Captioner {
        let cell = CellConfig::new(CellKind::Lstm, self.d_hidden);
        let plain = |d_in, d_out, bias| LinearConfig::new(d_in, d_out).with_bias(bias).init(device);
        let d_context = self.d_context();
        let attention = (self.context != ContextKind::None).then(|| {
            let score = ScoreConfig::new(ScoreKind::Additive, self.d_hidden, d_context)
                .with_d_attention(self.d_attention);
            GatedAttention {
                score: <AdditiveScore as AlignmentScore>::init(&score, device),
                gate: plain(self.d_hidden, 1, true),
                // Small, so that at the start the content decides where to look and the
                // positions grow only as far as the captions ask for them.
                positions: Initializer::Normal {
                    mean: 0.0,
                    std: 0.1,
                }
                .init([self.grid_cells, self.d_annotation], device),
            }
        });
        Captioner {
            embedding: EmbeddingConfig::new(self.vocab, self.d_embed).init(device),
            init_hidden: plain(self.d_annotation, self.d_hidden, true),
            init_memory: plain(self.d_annotation, self.d_hidden, true),
            embed_gates: cell.init_input_gates(self.d_embed, device),
            context_gates: plain(d_context, 4 * self.d_hidden, false),
            cell: cell.init(device),
            attention,
            out_hidden: plain(self.d_hidden, self.d_embed, false),
            out_context: plain(d_context, self.d_embed, false),
            output: plain(self.d_embed, self.vocab, true),
            dropout: DropoutConfig::new(self.dropout).init(),
            context: self.context,
            grid_cells: self.grid_cells,
            doubly_stochastic: self.doubly_stochastic,
            hard_expected: self.hard_expected,
            coordinates: self.attends_with_coordinates(),
        }
    }

    /// `D_z`, the size of the context: `D`, plus 2 when attention carries coordinates.
    pub fn d_context(&self) -> usize {
        self.d_annotation + 2 * usize::from(self.attends_with_coordinates())
    }

    /// Coordinates are asked for and there is attention to carry them (the mean
    /// annotation has no cell to take them from).
    fn attends_with_coordinates(&self) -> bool {
        self.coordinates && self.context != ContextKind::None
    }
}

impl Captioner {
    /// Teacher-forced pass, deterministic: soft attention, the mean annotation, or for hard
    /// attention the most probable location at every step (Xu et al.'s test-time rule).
    ///
    /// - `annotations`: `[batch, L, D]`.
    /// - `tgt_in`: `[batch, T]`, BOS then the caption, PAD after its end; PAD steps are
    ///   left out of the doubly stochastic penalty's `Σ_t`.
    pub fn forward(&self, annotations: Tensor<3>, tgt_in: Tensor<2, Int>) -> CaptionerOutput {
        self.forward_with(annotations, tgt_in, self.deterministic_selection())
    }

    /// Teacher-forced pass for hard-attention training (the same as [`Self::forward`] for
    /// the other two kinds): each caption, with probability `hard_expected`, uses the
    /// expected context at every step; the others sample a location `s_t ~ α_t` at every
    /// step and report `log α_t(s_t)`.
    ///
    /// `uniform` gives one draw in `[0, 1)` per caption, in row order, before the pass:
    /// pass a seeded generator (`|| rng.random::<f64>()`). The locations themselves are
    /// drawn by [`sample_positions`] from the device's generator (`device.seed`).
    pub fn forward_sampled(
        &self,
        annotations: Tensor<3>,
        tgt_in: Tensor<2, Int>,
        uniform: &mut impl FnMut() -> f64,
    ) -> CaptionerOutput {
        if self.context != ContextKind::Hard {
            return self.forward(annotations, tgt_in);
        }
        let batch = annotations.dims()[0];
        let rows: Vec<f32> = (0..batch)
            .map(|_| f32::from(u8::from(uniform() < self.hard_expected)))
            .collect();
        let expected = Tensor::from_data(TensorData::new(rows, [batch, 1]), &tgt_in.device());
        self.forward_with(annotations, tgt_in, Selection::Sample(Box::new(expected)))
    }

    fn forward_with(
        &self,
        annotations: Tensor<3>,
        tgt_in: Tensor<2, Int>,
        selection: Selection,
    ) -> CaptionerOutput {
        let tgt_len = tgt_in.dims()[1];
        let (memory, mut state) = self.start(annotations);
        let real_steps = tgt_in.clone().not_equal_elem(PAD as i64); // [B, T]
        let embedded = self.embedding.forward(tgt_in); // [B, T, m]
        // One product for all steps, then both split into T steps (see `split_steps`).
        let gates = split_steps(linear_steps(&self.embed_gates, embedded.clone())); // T x [B, 4n]
        let embedded = split_steps(embedded); // T x [B, m]

        let mut deep = Vec::with_capacity(tgt_len);
        let mut contexts = Vec::with_capacity(tgt_len);
        let (mut weights, mut betas, mut log_probs) = (Vec::new(), Vec::new(), Vec::new());
        for (embed_t, gates_t) in embedded.into_iter().zip(gates) {
            let out = self.step(&memory, embed_t, gates_t, state, &selection);
            state = out.state;
            deep.push(out.deep);
            contexts.push(out.context.z);
            weights.extend(out.context.weights);
            betas.extend(out.context.beta);
            log_probs.extend(out.context.log_prob);
        }
        // L_o once over all steps: [B, T, m] -> [B, T, K] (eq. 7).
        let deep = self.dropout.forward(Tensor::stack::<3>(deep, 1));
        let logits = linear_steps(&self.output, deep);
        let weights = (!weights.is_empty()).then(|| Tensor::stack::<3>(weights, 1)); // [B, T, L]
        let penalty = weights
            .clone()
            .map(|w| doubly_stochastic_penalty(w, real_steps, self.doubly_stochastic));
        CaptionerOutput {
            logits,
            contexts: Tensor::stack(contexts, 1),
            weights,
            // T x [B, 1] -> [B, T]
            betas: (!betas.is_empty()).then(|| Tensor::cat(betas, 1)),
            sample_log_probs: (!log_probs.is_empty()).then(|| Tensor::stack(log_probs, 1)),
            penalty,
        }
    }

    /// The per-image memory and the initial state from the mean annotation (§3.1.2).
    fn start(&self, annotations: Tensor<3>) -> (Memory, RecurrentState) {
        let [batch, cells, d] = annotations.dims();
        assert_eq!(
            cells, self.grid_cells,
            "the captioner was configured for {} grid cells, the annotations have {cells}",
            self.grid_cells
        );
        let device = annotations.device();
        let mean = annotations.clone().mean_dim(1).reshape([batch, d]); // ā: [B, D]
        // a_i + p_i: [B, L, D] (attention only; see the module docs).
        let annotations = match &self.attention {
            Some(attention) => annotations + attention.positions.val().unsqueeze_dim::<3>(0),
            None => annotations,
        };
        // [a_i + p_i; x_i; y_i]: [B, L, D + 2] (with coordinates).
        let annotations = if self.coordinates {
            let xy = cell_coordinates(cells, &device).unsqueeze_dim::<3>(0); // [1, L, 2]
            Tensor::cat(vec![annotations, xy.expand([batch, cells, 2])], 2)
        } else {
            annotations
        };
        let state = RecurrentState {
            h: tanh(linear(&self.init_hidden, mean.clone())), // h_0: [B, n]
            c: Some(tanh(linear(&self.init_memory, mean.clone()))), // c_0: [B, n]
        };
        let memory = Memory {
            keys: self
                .attention
                .as_ref()
                .map(|a| a.score.project_keys(annotations.clone())), // U a: [B, L, A]
            mask: Tensor::<2, Int>::ones([batch, cells], &device).bool(),
            annotations,
            mean,
        };
        (memory, state)
    }

    /// One decoder step from `h_{t-1}`, `c_{t-1}` and the previous word.
    ///
    /// - `embed_t`: `E y_{t-1}`, `[batch, m]`; `gates_t`: its gate projection `[batch, 4n]`.
    fn step(
        &self,
        memory: &Memory,
        embed_t: Tensor<2>,
        gates_t: Tensor<2>,
        state: RecurrentState,
        selection: &Selection,
    ) -> StepOutput {
        let Some(attention) = &self.attention else {
            // No attention: the mean annotation, whatever the state.
            let context = Context {
                z: memory.mean.clone(), // [B, D]
                weights: None,
                beta: None,
                log_prob: None,
            };
            return self.advance(embed_t, gates_t, state, context);
        };
        let keys = memory.keys.as_ref().expect("keys come with attention");
        let h_prev = state.h.clone(); // [B, n]
        // e_t = f_att(a, h_{t-1}) (eq. 4): [B, L].
        let scores = attention.score.scores(h_prev.clone(), keys);
        let (picked, weights, log_prob) = match selection {
            // Σ_i α_ti a_i with α_t = softmax(e_t) (eq. 5): [B, D], [B, L].
            Selection::Expected => {
                let out = attend(scores, memory.mask.clone(), &memory.annotations);
                (out.context, out.weights, None)
            }
            Selection::Argmax => {
                let weights = masked_softmax(scores, memory.mask.clone()); // [B, L]
                let cell = weights.clone().argmax(1); // [B, 1]
                (gather_cells(&memory.annotations, cell), weights, None)
            }
            Selection::Sample(expected) => {
                let out = attend(scores, memory.mask.clone(), &memory.annotations);
                let cell = sample_positions(out.weights.clone()); // s_t: [B, 1] (eq. 8)
                let sampled = gather_cells(&memory.annotations, cell.clone()); // a_{s_t}: [B, D]
                // The rows with the coin up take the expectation: [B, D].
                let context = sampled.clone() + (out.context - sampled) * (**expected).clone();
                let batch = cell.dims()[0];
                let sampled_rows = (**expected).clone().neg().add_scalar(1.0); // [B, 1]
                let log_prob = out.weights.clone().gather(1, cell).clamp_min(1e-12).log(); // [B, 1]
                let log_prob = (log_prob * sampled_rows).reshape([batch]); // log α_t(s_t): [B]
                (context, out.weights, Some(log_prob))
            }
        };
        let beta = sigmoid(linear(&attention.gate, h_prev)); // β_t: [B, 1]
        let context = Context {
            z: picked * beta.clone(), // ẑ_t: [B, D]
            weights: Some(weights),
            beta: Some(beta),
            log_prob,
        };
        self.advance(embed_t, gates_t, state, context)
    }

    /// The LSTM step on `[E y_{t-1}; h_{t-1}; ẑ_t]` (eqs. 1-3) and the deep output's hidden
    /// vector `E y_{t-1} + L_h h_t + L_z ẑ_t` (eq. 7), once `ẑ_t` is known.
    fn advance(
        &self,
        embed_t: Tensor<2>,
        gates_t: Tensor<2>,
        state: RecurrentState,
        context: Context,
    ) -> StepOutput {
        let gates = gates_t + linear(&self.context_gates, context.z.clone()); // [B, 4n]
        let state = self.cell.step(gates, state); // h_t, c_t: [B, n]
        let deep = embed_t
            + linear(&self.out_hidden, state.h.clone())
            + linear(&self.out_context, context.z.clone()); // [B, m]
        StepOutput {
            state,
            deep,
            context,
        }
    }

    /// The selection of evaluation and decoding: the expectation, or the argmax location for
    /// hard attention.
    fn deterministic_selection(&self) -> Selection {
        match self.context {
            ContextKind::Hard => Selection::Argmax,
            ContextKind::None | ContextKind::Soft => Selection::Expected,
        }
    }
}

/// The centres of a `G × G` grid's cells in row-major order, `(x, y)` scaled to `(-1, 1)`
/// with `x` growing rightwards and `y` downwards: `[L, 2]` for `L = G²`.
///
/// # Panics
///
/// If `cells` is not a square.
pub fn cell_coordinates(cells: usize, device: &Device) -> Tensor<2> {
    let side = (cells as f64).sqrt().round() as usize;
    assert_eq!(
        side * side,
        cells,
        "coordinates need a square grid, not {cells} cells"
    );
    let centre = |i: usize| ((2 * i + 1) as f32) / side as f32 - 1.0;
    let xy: Vec<f32> = (0..cells)
        .flat_map(|cell| [centre(cell % side), centre(cell / side)])
        .collect();
    Tensor::from_data(TensorData::new(xy, [cells, 2]), device)
}

/// The annotation of one cell per row: `[batch, L, D]` at cells `[batch, 1]` -> `[batch, D]`.
fn gather_cells(annotations: &Tensor<3>, cells: Tensor<2, Int>) -> Tensor<2> {
    let [batch, _, d] = annotations.dims();
    let index = cells.reshape([batch, 1, 1]).expand([batch, 1, d]); // [B, 1, D]
    annotations.clone().gather(1, index).reshape([batch, d])
}

/// The doubly stochastic penalty of Xu et al. 2015, §4.2.1: `λ Σ_i (1 - Σ_t α_ti)²`, which
/// pushes every cell towards a total weight of 1 over the caption ("pay equal attention to
/// every part of the image over the course of generation"). `Σ_t` runs over the caption's
/// real steps only: a padded step's weights are not part of the caption.
///
/// Summed over the batch and divided by the number of real steps (words), not by the
/// number of captions: the paper adds the penalty to a caption's *summed* word
/// log-likelihoods, and [`crate::seq2seq::sequence_cross_entropy`] is their mean over
/// words, so this keeps the paper's balance between the two. Divided by captions, it
/// weighed about 30 times more than in the paper against 30-word captions and held the
/// attention near uniform.
///
/// - `weights`: `[batch, T, L]`; `real_steps`: `[batch, T]`, true at real steps.
/// - returns a one-element tensor.
pub fn doubly_stochastic_penalty(
    weights: Tensor<3>,
    real_steps: Tensor<2, Bool>,
    lambda: f64,
) -> Tensor<1> {
    let real = real_steps.float(); // [B, T]
    let words = real.clone().sum(); // [1]
    let total = (weights * real.unsqueeze_dim::<3>(2)).sum_dim(1); // Σ_t α_ti: [B, 1, L]
    let missing = total.neg().add_scalar(1.0); // [B, 1, L]
    (missing.clone() * missing).sum().mul_scalar(lambda) / words
}

/// The entropy of every step's attention, `H_t = -Σ_i α_ti log α_ti`, for hard attention's
/// entropy term (Xu et al. 2015, §4.1).
///
/// - `weights`: `[batch, T, L]` -> `[batch, T]`.
pub fn attention_entropy(weights: Tensor<3>) -> Tensor<2> {
    let [batch, steps, _] = weights.dims();
    let log = weights.clone().clamp_min(1e-12).log(); // [B, T, L]
    (weights * log).sum_dim(2).reshape([batch, steps]).neg()
}
