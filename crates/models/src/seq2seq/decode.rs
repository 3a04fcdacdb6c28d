//! Decoding without a reference: greedy (the most probable word fed back at each step)
//! and beam search for one sentence; and the read-back of decoded ids up to EOS.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Int, Tensor, TensorData};

use super::{BOS, Decoded, EOS, Selection, Seq2Seq};
use crate::beam::extend_beams;

impl Seq2Seq {
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
            let (next_live, parents) = extend_beams(&live, &log_probs, beam, &mut finished);
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
