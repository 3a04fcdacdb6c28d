//! The Transformer's masks hold: no position sees the future, no position sees padding;
//! cached greedy decoding agrees with the teacher-forced pass on its own output.

use std::sync::MutexGuard;

use burn::tensor::Device;
use models::seq2seq::{BOS, EOS, ids_tensor, mask_tensor};
use models::transformer::{TransformerSeq2Seq, TransformerSeq2SeqConfig};

mod common;
use common::{seed_device, values};

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A small model: 2 layers of everything, so masks must hold through a stack. The guard
/// keeps other tests from drawing from the backend's generator until the test ends: Burn
/// initializes parameters lazily, on first use, so the draws happen in the test's forward.
fn tiny_model(seed: u64) -> (TransformerSeq2Seq, Device, MutexGuard<'static, ()>) {
    let device = Device::flex();
    let rng = seed_device(&device, seed);
    let model = TransformerSeq2SeqConfig::new(12, 13)
        .with_d_model(16)
        .with_n_heads(4)
        .with_n_layers(2)
        .with_d_ff(32)
        .with_max_len(32)
        .init(&device);
    (model, device, rng)
}

#[test]
fn forward_and_greedy_have_the_documented_shapes() {
    let (model, device, _rng) = tiny_model(1);
    let src = ids_tensor(&[4, 5, 6, 2, 7, 2, 0, 0], 2, 4, &device);
    let mask = mask_tensor(
        &[true, true, true, true, true, true, false, false],
        2,
        4,
        &device,
    );
    let tgt_in = ids_tensor(&[1, 4, 5, 1, 6, 0], 2, 3, &device);
    let out = model.forward(src.clone(), mask.clone(), tgt_in);
    assert_eq!(out.logits.dims(), [2, 3, 13]);
    assert!(out.weights.is_none());
    assert!(out.sample_log_probs.is_none());
    let decoded = model.greedy(src, mask, 6);
    assert_eq!(decoded.tokens.len(), 2);
    assert!(decoded.tokens.iter().all(|row| row.len() <= 6));
    assert!(decoded.tokens.iter().flatten().all(|&id| id != EOS));
}

/// Changing the target after position t leaves the logits at positions 0..=t unchanged.
#[test]
fn decoder_self_attention_is_causal() {
    let (model, device, _rng) = tiny_model(2);
    let src = ids_tensor(&[4, 5, 6, 7, 2], 1, 5, &device);
    let mask = mask_tensor(&[true; 5], 1, 5, &device);
    let tgt_a = ids_tensor(&[1, 4, 5, 6, 7, 8], 1, 6, &device);
    let tgt_b = ids_tensor(&[1, 4, 5, 11, 3, 9], 1, 6, &device);
    let logits_a = model.forward(src.clone(), mask.clone(), tgt_a).logits; // [1, 6, V]
    let logits_b = model.forward(src, mask, tgt_b).logits;
    let t = 2; // the last position where the two inputs agree
    let diff = max_abs_diff(
        &values(logits_a.clone().narrow(1, 0, t + 1)),
        &values(logits_b.clone().narrow(1, 0, t + 1)),
    );
    assert!(diff < 1e-5, "positions <= {t} saw the future: {diff}");
    // And the later positions do depend on what changed (the test is not vacuous).
    let later = max_abs_diff(
        &values(logits_a.narrow(1, t + 1, 3)),
        &values(logits_b.narrow(1, t + 1, 3)),
    );
    assert!(
        later > 1e-3,
        "positions after {t} ignored their input: {later}"
    );
}

/// A sentence padded with extra PAD positions (alone, or next to a longer one) gives the
/// same logits as unpadded: neither the encoder nor the cross-attention reads padding.
#[test]
fn source_padding_is_ignored() {
    let (model, device, _rng) = tiny_model(3);
    let tgt_in = ids_tensor(&[1, 8, 9, 10], 1, 4, &device);
    let alone = model
        .forward(
            ids_tensor(&[9, 4, 2], 1, 3, &device),
            mask_tensor(&[true; 3], 1, 3, &device),
            tgt_in.clone(),
        )
        .logits;
    let padded = model
        .forward(
            ids_tensor(&[9, 4, 2, 0, 0, 0], 1, 6, &device),
            mask_tensor(&[true, true, true, false, false, false], 1, 6, &device),
            tgt_in.clone(),
        )
        .logits;
    let diff = max_abs_diff(&values(alone.clone()), &values(padded));
    assert!(diff < 1e-5, "padding changed the logits: {diff}");

    // Row 1 of a batch with a longer sentence in row 0.
    let batch = model
        .forward(
            ids_tensor(&[5, 6, 7, 8, 2, 9, 4, 2, 0, 0], 2, 5, &device),
            mask_tensor(
                &[true, true, true, true, true, true, true, true, false, false],
                2,
                5,
                &device,
            ),
            ids_tensor(&[1, 4, 5, 6, 1, 8, 9, 10], 2, 4, &device),
        )
        .logits;
    let diff = max_abs_diff(&values(alone), &values(batch.narrow(0, 1, 1)));
    assert!(diff < 1e-5, "padding in a batch changed the logits: {diff}");
}

/// Greedy decoding with Burn's autoregressive cache picks, at every step, the argmax of the
/// teacher-forced pass fed with its own output: the cache changes the cost, not the result.
#[test]
fn cached_greedy_agrees_with_teacher_forcing_on_its_output() {
    let (model, device, _rng) = tiny_model(4);
    let max_len = 8;
    let src_ids = [4u32, 5, 6, 7, 8, 2];
    let src = ids_tensor(&src_ids, 1, 6, &device);
    let mask = mask_tensor(&[true; 6], 1, 6, &device);
    let tokens = model.greedy(src.clone(), mask.clone(), max_len).tokens[0].clone();
    assert!(
        tokens.len() >= 3,
        "too short to exercise the cache: {tokens:?}"
    );
    // What the decoder produced: the tokens, then EOS unless it ran out of steps.
    let mut produced = tokens.clone();
    if produced.len() < max_len {
        produced.push(EOS);
    }
    let tgt_in: Vec<u32> = [BOS]
        .into_iter()
        .chain(produced.iter().copied())
        .take(produced.len())
        .collect();
    let logits = model
        .forward(src, mask, ids_tensor(&tgt_in, 1, tgt_in.len(), &device))
        .logits; // [1, T, V]
    let argmax: Vec<u32> = logits
        .argmax(2)
        .into_data()
        .iter::<i64>()
        .map(|id| id as u32)
        .collect();
    assert_eq!(argmax, produced, "greedy {tokens:?}");
}

#[test]
fn config_check_names_the_bad_size() {
    let err = TransformerSeq2SeqConfig::new(10, 10)
        .with_d_model(30)
        .with_n_heads(4)
        .check()
        .unwrap_err();
    assert!(err.contains("n_heads"), "{err}");
    let err = TransformerSeq2SeqConfig::new(10, 10)
        .with_d_model(9)
        .with_n_heads(3)
        .check()
        .unwrap_err();
    assert!(err.contains("even"), "{err}");
    assert!(TransformerSeq2SeqConfig::new(10, 10).check().is_ok());
}
