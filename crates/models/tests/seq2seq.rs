//! Encoders respect padding; the decoders' attention is a distribution over real tokens;
//! beam search of width 1 is greedy decoding.

use burn::tensor::Device;
use models::rnn::{CellKind, RnnEncoderConfig};
use models::seq2seq::{Architecture, Seq2SeqConfig, ids_tensor, mask_tensor};

mod common;
use common::{seed_device, values};

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Row 1 of a padded batch must encode exactly as the same sentence alone: its summary is
/// the state at its true end, not after the padding.
#[test]
fn encoders_summarize_each_sentence_at_its_true_end() {
    for cell in [CellKind::Gru, CellKind::Lstm] {
        for bidirectional in [false, true] {
            let device = Device::flex();
            let _rng = seed_device(&device, 3);
            let encoder = RnnEncoderConfig::new(12)
                .with_d_embed(6)
                .with_d_hidden(5)
                .with_cell(cell)
                .with_bidirectional(bidirectional)
                .init(&device);
            // [5 6 7 8 2] and [9 4 2 0 0] (0 = padding).
            let padded = encoder.forward(
                ids_tensor(&[5, 6, 7, 8, 2, 9, 4, 2, 0, 0], 2, 5, &device),
                mask_tensor(
                    &[true, true, true, true, true, true, true, true, false, false],
                    2,
                    5,
                    &device,
                ),
            );
            let alone = encoder.forward(
                ids_tensor(&[9, 4, 2], 1, 3, &device),
                mask_tensor(&[true; 3], 1, 3, &device),
            );
            let d = padded.summary.dims()[1];
            let row1 = values(padded.summary.clone().narrow(0, 1, 1));
            let what = format!("{cell:?} bidirectional={bidirectional}");
            assert!(
                max_abs_diff(&row1, &values(alone.summary)) < 1e-6,
                "{what}: summary"
            );
            let ann_row1 = values(padded.annotations.narrow(0, 1, 1).narrow(1, 0, 3));
            assert!(
                max_abs_diff(&ann_row1, &values(alone.annotations)) < 1e-6,
                "{what}: annotations"
            );
            assert_eq!(
                d,
                if bidirectional { 10 } else { 5 },
                "{what}: summary size"
            );
        }
    }
}

#[test]
fn rnnsearch_attention_is_a_distribution_over_real_tokens() {
    let device = Device::flex();
    let _rng = seed_device(&device, 5);
    let model = Seq2SeqConfig::new(Architecture::RnnSearch, 10, 11)
        .with_d_embed(4)
        .with_d_encoder(6)
        .with_d_decoder(8)
        .with_d_attention(5)
        .init(&device);
    let src = ids_tensor(&[4, 5, 6, 2, 7, 2, 0, 0], 2, 4, &device);
    let mask = mask_tensor(
        &[true, true, true, true, true, true, false, false],
        2,
        4,
        &device,
    );
    let tgt_in = ids_tensor(&[1, 3, 4, 1, 5, 0], 2, 3, &device);
    let out = model.forward(src, mask, tgt_in);
    assert_eq!(out.logits.dims(), [2, 3, 11]);
    let weights = out.weights.expect("RNNsearch returns its weights");
    assert_eq!(weights.dims(), [2, 3, 4]);
    let w = values(weights);
    for (row, chunk) in w.chunks(4).enumerate() {
        let sum: f32 = chunk.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "step {row} sums to {sum}");
        if row >= 3 {
            // Sentence 2 has two real tokens.
            assert_eq!(&chunk[2..], &[0.0, 0.0], "padding gets exactly zero weight");
        }
    }
}

#[test]
fn rnnencdec_has_no_attention_and_beam_of_one_is_greedy() {
    for architecture in [Architecture::RnnEncDec, Architecture::RnnSearch] {
        let device = Device::flex();
        let _rng = seed_device(&device, 9);
        let model = Seq2SeqConfig::new(architecture, 10, 10)
            .with_d_embed(4)
            .with_d_encoder(6)
            .with_d_decoder(8)
            .with_d_attention(5)
            .init(&device);
        let src = || ids_tensor(&[4, 5, 6, 7, 2], 1, 5, &device);
        let mask = || mask_tensor(&[true; 5], 1, 5, &device);
        let greedy = model.greedy(src(), mask(), 12);
        assert_eq!(
            greedy.weights.is_some(),
            architecture == Architecture::RnnSearch
        );
        let beam = model.beam_search(src(), mask(), 1, 12);
        assert_eq!(beam, greedy.tokens[0], "{architecture:?}");
        assert_eq!(model.architecture(), architecture);
    }
}

/// Every score in both arrangements, soft and hard: logits of the right shape, attention
/// over real tokens only; sampled positions have log α ≤ 0 and lie on real tokens.
#[test]
fn every_score_and_arrangement_decodes() {
    use models::scores::ScoreKind;
    use models::seq2seq::{Arrangement, Selection};
    for arrangement in [Arrangement::Bahdanau, Arrangement::Luong] {
        for score in ScoreKind::ALL {
            let device = Device::flex();
            let _rng = seed_device(&device, 4);
            let model = Seq2SeqConfig::new(Architecture::RnnSearch, 10, 11)
                .with_d_embed(4)
                .with_d_encoder(4)
                .with_d_decoder(8)
                .with_d_attention(5)
                .with_score(score)
                .with_arrangement(arrangement)
                .with_max_src_len(6)
                .init(&device);
            let what = format!("{arrangement:?} {}", score.name());
            assert_eq!(
                model.combine.is_some(),
                arrangement == Arrangement::Luong,
                "{what}"
            );
            let src = || ids_tensor(&[4, 5, 6, 2, 7, 2, 0, 0], 2, 4, &device);
            let mask = || {
                mask_tensor(
                    &[true, true, true, true, true, true, false, false],
                    2,
                    4,
                    &device,
                )
            };
            let tgt_in = || ids_tensor(&[1, 3, 4, 1, 5, 0], 2, 3, &device);
            for selection in [Selection::Soft, Selection::Sample, Selection::Argmax] {
                let out = model.forward_with(src(), mask(), tgt_in(), selection);
                assert_eq!(out.logits.dims(), [2, 3, 11], "{what}");
                let w = values(out.weights.unwrap());
                for row in w.chunks(4).skip(3) {
                    assert_eq!(&row[2..], &[0.0, 0.0], "{what} {selection:?}: padding");
                }
                match out.sample_log_probs {
                    Some(lp) => {
                        assert_eq!(selection, Selection::Sample);
                        assert!(
                            values(lp).iter().all(|&v| v <= 0.0 && v > -28.0),
                            "{what}: log α of a real token"
                        );
                    }
                    None => assert_ne!(selection, Selection::Sample),
                }
            }
            let decoded = model.greedy(src(), mask(), 6);
            assert_eq!(decoded.tokens.len(), 2, "{what}");
        }
    }
}

/// Local-p attention in the Luong decoder: weights stay on real tokens and sum to at most 1.
#[test]
fn luong_local_p_decodes_with_bounded_weights() {
    use models::seq2seq::Arrangement;
    let device = Device::flex();
    let _rng = seed_device(&device, 6);
    let model = Seq2SeqConfig::new(Architecture::RnnSearch, 10, 11)
        .with_d_embed(4)
        .with_d_encoder(4)
        .with_d_decoder(8)
        .with_arrangement(Arrangement::Luong)
        .with_local_window(2)
        .init(&device);
    assert!(model.local.is_some());
    let out = model.forward(
        ids_tensor(&[4, 5, 6, 2, 7, 2, 0, 0], 2, 4, &device),
        mask_tensor(
            &[true, true, true, true, true, true, false, false],
            2,
            4,
            &device,
        ),
        ids_tensor(&[1, 3, 4, 1, 5, 0], 2, 3, &device),
    );
    let w = values(out.weights.unwrap());
    for (i, row) in w.chunks(4).enumerate() {
        let sum: f32 = row.iter().sum();
        assert!(sum > 0.0 && sum <= 1.0 + 1e-6, "row {i} sums to {sum}");
        if i >= 3 {
            assert_eq!(&row[2..], &[0.0, 0.0], "padding");
        }
    }
}

/// `split_steps` gives the steps in order with the values of one-step slices, and routes
/// each step's gradient back to its own position only.
#[test]
fn split_steps_gives_each_step_and_routes_its_gradient_back() {
    use burn::tensor::{Tensor, TensorData};
    use models::rnn::split_steps;
    let device = Device::flex().autodiff();
    let (batch, len, width) = (2, 7, 3);
    let data: Vec<f32> = (0..batch * len * width).map(|i| i as f32).collect();
    let x =
        Tensor::<3>::from_data(TensorData::new(data, [batch, len, width]), &device).require_grad();
    let steps = split_steps(x.clone());
    assert_eq!(steps.len(), len);
    let mut loss = Tensor::<1>::zeros([1], &device);
    for (t, step) in steps.into_iter().enumerate() {
        assert_eq!(step.dims(), [batch, width]);
        let want = values(x.clone().narrow(1, t, 1).reshape([batch, width]));
        assert_eq!(values(step.clone()), want, "step {t}");
        // d loss / d x[b, t, w] = t + 1.
        loss = loss + step.sum() * (t as f32 + 1.0);
    }
    let grads = loss.backward();
    let grad = values(x.grad(&grads).unwrap());
    for (i, g) in grad.iter().enumerate() {
        let t = (i / width) % len;
        assert_eq!(*g, t as f32 + 1.0, "gradient at flat index {i}");
    }
}
