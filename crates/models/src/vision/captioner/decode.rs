//! Decoding a caption from an image's annotations: greedy and beam search, through the same
//! step function as teacher forcing, so the three cannot drift apart.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

use super::Captioner;
use crate::beam::extend_beams;
use crate::kernels::linear;
use crate::seq2seq::{BOS, all_finished, tokens_until_eos};

/// What greedy decoding returns.
#[derive(Clone, Debug)]
pub struct Caption {
    /// One word sequence per image, EOS and everything after it removed.
    pub tokens: Vec<Vec<u32>>,
    /// `[batch, steps, L]` the attention weights of every step (Soft and Hard).
    pub weights: Option<Tensor<3>>,
}

impl Captioner {
    /// Embeds one word per row: `[batch]` ids -> (`E y` `[batch, m]`, gates `[batch, 4n]`).
    fn embed_step(&self, tokens: Tensor<1, Int>) -> (Tensor<2>, Tensor<2>) {
        let [batch] = tokens.dims();
        let d_embed = self.embedding.weight.dims()[1];
        let embed = self
            .embedding
            .forward(tokens.reshape([batch, 1]))
            .reshape([batch, d_embed]);
        let gates = linear(&self.embed_gates, embed.clone());
        (embed, gates)
    }

    /// Greedy decoding: the most probable word at each step, fed back as the next input.
    /// Call it on `model.valid()` (dropout off).
    ///
    /// - `annotations`: `[batch, L, D]`.
    /// - `max_len`: at most this many words per caption (EOS included).
    pub fn greedy(&self, annotations: Tensor<3>, max_len: usize) -> Caption {
        let device = annotations.device();
        let batch = annotations.dims()[0];
        let selection = self.deterministic_selection();
        let (memory, mut state) = self.start(annotations);
        let mut tokens = Tensor::<1, Int>::full([batch], BOS as i64, &device);
        let mut produced: Vec<Tensor<1, Int>> = Vec::with_capacity(max_len);
        let mut weights = Vec::new();
        for t in 0..max_len {
            let (embed, gates) = self.embed_step(tokens);
            let out = self.step(&memory, embed, gates, state, &selection);
            state = out.state;
            weights.extend(out.context.weights);
            tokens = linear(&self.output, out.deep).argmax(1).reshape([batch]); // [B]
            produced.push(tokens.clone());
            // Reading back costs a sync: check for the end only every few steps.
            if t % 4 == 3 && all_finished(&produced) {
                break;
            }
        }
        Caption {
            tokens: tokens_until_eos(produced, batch),
            weights: (!weights.is_empty()).then(|| Tensor::stack(weights, 1)),
        }
    }

    /// Beam search for one image; call it on `model.valid()`.
    ///
    /// - `annotations`: `[1, L, D]`.
    /// - `width`: hypotheses kept per step; `max_len`: at most this many words.
    /// - returns the finished hypothesis with the best log-probability per word (so short
    ///   captions are not favoured), EOS removed.
    pub fn beam_search(&self, annotations: Tensor<3>, width: usize, max_len: usize) -> Vec<u32> {
        assert!(width >= 1, "beam width must be at least 1");
        assert_eq!(annotations.dims()[0], 1, "beam search takes one image");
        let device = annotations.device();
        let selection = self.deterministic_selection();
        let (memory, mut state) = self.start(annotations);
        // Live hypotheses: (words, summed log-probability); row i of `state` is hypothesis i.
        let mut live: Vec<(Vec<u32>, f32)> = vec![(Vec::new(), 0.0)];
        let mut finished: Vec<(Vec<u32>, f32)> = Vec::new();
        for _ in 0..max_len {
            let rows = live.len();
            let memory_rows = memory.select_rows(Tensor::zeros([rows], &device));
            let last: Vec<i64> = live
                .iter()
                .map(|(words, _)| *words.last().unwrap_or(&BOS) as i64)
                .collect();
            let tokens = Tensor::<1, Int>::from_data(TensorData::new(last, [rows]), &device);
            let (embed, gates) = self.embed_step(tokens);
            let out = self.step(&memory_rows, embed, gates, state, &selection);
            let log_probs: Vec<f32> = log_softmax(linear(&self.output, out.deep), 1)
                .into_data()
                .iter::<f32>()
                .collect(); // [rows, K]
            let (next_live, parents) = extend_beams(&live, &log_probs, width, &mut finished);
            if finished.len() >= width || next_live.is_empty() {
                break;
            }
            let n = parents.len();
            state = out
                .state
                .select_rows(Tensor::from_data(TensorData::new(parents, [n]), &device));
            live = next_live;
        }
        // Unfinished hypotheses compete too when max_len was reached.
        finished.extend(live.into_iter().map(|(words, s)| {
            let len = words.len().max(1) as f32;
            (words, s / len)
        }));
        finished
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(words, _)| words)
            .unwrap_or_default()
    }
}
