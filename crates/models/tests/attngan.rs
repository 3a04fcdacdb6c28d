//! AttnGAN (Xu et al. 2018): the DAMSM's matching scores and four losses on a case derived by
//! hand, its encoders' shapes and padding, its gradients against finite differences; the
//! word attention `F^attn` on a hand-built case, its masking and its gradients; conditioning
//! augmentation and its KL term.

use std::f32::consts::FRAC_1_SQRT_2;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};
use models::seq2seq::{ids_tensor, mask_tensor};
use models::vision::{
    ConditioningAugmentation, ConditioningAugmentationConfig, DamsmConfig, DamsmImageEncoder,
    DamsmImageEncoderConfig, DamsmImageOutput, DamsmTextEncoderConfig, DamsmTextOutput,
    EncoderTuning, ImageEncoderConfig, WordAttention, WordAttentionConfig, damsm_loss,
    kl_divergence, sentence_scores, word_scores,
};

mod common;
use common::{assert_close, seed_device, values};

fn tensor<const D: usize>(data: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(data, shape), device)
}

/// A `Linear` with the given row-major `[d_in, d_out]` weight and optional bias.
fn linear(weight: Vec<f32>, bias: Option<Vec<f32>>, d_in: usize, d_out: usize) -> Linear {
    let device = Device::flex();
    Linear {
        weight: Param::from_tensor(tensor(weight, [d_in, d_out], &device)),
        bias: bias.map(|b| Param::from_tensor(tensor(b, [d_out], &device))),
    }
}

fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// The hand case's word features: caption 0 has two real words `(1, 0)`, `(0, 1)`; caption 1
/// has one, `(1, 1)`, then a padded word whose features are `padded`.
fn hand_words(padded: [f32; 2], device: &Device) -> (Tensor<3>, Tensor<2, Bool>) {
    let words = tensor(
        vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, padded[0], padded[1]],
        [2, 2, 2],
        device,
    );
    (words, mask_tensor(&[true, true, true, false], 2, 2, device))
}

/// B = 2, T = 2, L = 2, D = 2, γ1 = 4, γ2 = 5, γ3 = 10 (computed in f64, independently).
/// Words as in `hand_words` (padded word `(5, -3)`); regions: image 0 `v_0 = (2, 0)`,
/// `v_1 = (0, 1)`; image 1 `v_0 = (1, 1)`, `v_1 = (-1, 0.5)`.
///
/// Image 0, caption 0: `s = e^T v = [[2, 0], [0, 1]]` (word × region); over the words (eq. 8)
/// `s̄ = [[0.8807971, 0.2689414], [0.1192029, 0.7310586]]`; `α = softmax(4 s̄)` over the
/// regions (eq. 9) `= [[0.9203728, 0.0796272], [0.0796272, 0.9203728]]`;
/// `c_0 = (1.8407455, 0.0796272)`, `c_1 = (0.1592545, 0.9203728)`; `R(c, e) = (0.9990657,
/// 0.9853578)`; `R(Q_0, D_0) = ln(e^{5 · 0.9990657} + e^{5 · 0.9853578}) / 5 = 1.1309586`.
///
/// Image 1, caption 0: `s = [[1, -1], [1, 0.5]]`, `α = [[0.7807937, 0.2192063], [0.2192063,
/// 0.7807937]]`, `R(c, e) = (0.5334711, 0.7354784)`, `R(Q_1, D_0) = 0.7975929`.
///
/// Caption 1 has one real word, so `s̄ = 1` at every region and `α = (0.5, 0.5)` whatever the
/// image (with the padded word counted in eq. 8 it would not be): `c = (1, 0.5)` in image 0,
/// `(0, 0.75)` in image 1; `R(Q_0, D_1) = cos((1, 0.5), (1, 1)) = 0.9486833`,
/// `R(Q_1, D_1) = cos((0, 0.75), (1, 1)) = 0.7071068`.
///
/// Sentences: `v̄ = (1, 0), (0.6, 0.8)`, `ē = (1, 1), (0, 1)`: cosines `[[0.7071068, 0],
/// [0.9899495, 0.8]]`.
///
/// Word level: `P(D_i | Q_i) = 1 / (1 + e^{10 (R(Q_i, D_j) - R(Q_i, D_i))})` = 0.8608962 and
/// 0.2880526, so `L_1^w = 0.1497814 + 1.2446122 = 1.3943936`; `P(Q_i | D_i)` = 0.9655656 and
/// 0.0819784, `L_2^w = 0.0350413 + 2.5012995 = 2.5363408`. Sentence level: `P(D_i | Q_i)` =
/// 0.9991514 and 0.1301656, `L_1^s = 0.0008490 + 2.0389474 = 2.0397964`; `P(Q_i | D_i)` =
/// 0.0558072 and 0.9996646, `L_2^s = 2.8858520 + 0.0003354 = 2.8861874`. Total 8.8567182.
#[test]
fn damsm_scores_and_losses_match_hand_derivation() {
    let device = Device::flex();
    let regions = tensor(
        vec![2.0, 0.0, 0.0, 1.0, 1.0, 1.0, -1.0, 0.5],
        [2, 2, 2],
        &device,
    );
    let (words, mask) = hand_words([5.0, -3.0], &device);
    let config = DamsmConfig::new();
    let out = config.word_scores(regions.clone(), words.clone(), mask.clone());
    let scores = values(out.scores.clone());
    assert_close(
        &scores,
        &[1.1309586, 0.9486833, 0.7975929, FRAC_1_SQRT_2],
        1e-6,
        "R(Q_i, D_j)",
    );
    assert_close(
        &values(out.relevance),
        &[
            0.9990657,
            0.9853578,
            0.9486833,
            0.0,
            0.5334711,
            0.7354784,
            FRAC_1_SQRT_2,
            0.0,
        ],
        1e-6,
        "R(c, e)",
    );
    let weights = values(out.weights.clone()); // [image, caption, word, region]
    assert_close(
        &weights,
        &[
            0.9203728, 0.0796272, 0.0796272, 0.9203728, // image 0, caption 0
            0.5, 0.5, 0.0, 0.0, // image 0, caption 1: the padded word takes none
            0.7807937, 0.2192063, 0.2192063, 0.7807937, // image 1, caption 0
            0.5, 0.5, 0.0, 0.0, // image 1, caption 1
        ],
        1e-6,
        "α",
    );

    // A padded word's features change nothing.
    let (junk, _) = hand_words([-40.0, 12.0], &device);
    let again = word_scores(regions.clone(), junk, mask.clone(), 4.0, 5.0);
    assert_eq!(values(again.scores), scores, "scores with other padding");
    assert_eq!(values(again.weights), weights, "α with other padding");

    let global = tensor(vec![1.0, 0.0, 0.6, 0.8], [2, 2], &device);
    let sentence = tensor(vec![1.0, 1.0, 0.0, 1.0], [2, 2], &device);
    let cosines = sentence_scores(global.clone(), sentence.clone());
    assert_close(
        &values(cosines.clone()),
        &[FRAC_1_SQRT_2, 0.0, 0.9899495, 0.8],
        1e-6,
        "cos(v̄_i, ē_j)",
    );

    let loss = damsm_loss(out.scores, cosines, config.gamma3);
    let parts = [
        loss.word_1,
        loss.word_2,
        loss.sentence_1,
        loss.sentence_2,
        loss.total,
    ]
    .map(|t| values(t)[0]);
    assert_close(
        &parts,
        &[1.3943936, 2.5363408, 2.0397964, 2.8861874, 8.856718],
        1e-5,
        "L_1^w, L_2^w, L_1^s, L_2^s, L_DAMSM",
    );

    // The whole matching from encoder outputs: the same loss, and each caption's α over its
    // own image.
    let matched = config.matching(
        &DamsmImageOutput { regions, global },
        &DamsmTextOutput {
            words,
            sentence,
            mask,
        },
    );
    assert_close(
        &values(matched.loss.total),
        &[8.856718],
        1e-5,
        "L_DAMSM via matching",
    );
    assert_eq!(matched.weights.dims(), [2, 2, 2]);
    assert_close(
        &values(matched.weights),
        &[
            0.9203728, 0.0796272, 0.0796272, 0.9203728, 0.5, 0.5, 0.0, 0.0,
        ],
        1e-6,
        "matched α",
    );
}

/// The text encoder: word features of both directions, the sentence vector from the last
/// state of each, padding that changes nothing; the image encoder: regions from the grid,
/// the global feature from the mean annotation; the matching's shapes and distributions.
#[test]
fn damsm_encoders_have_the_documented_shapes() {
    let device = Device::flex();
    let _rng = seed_device(&device, 21);
    let text = DamsmTextEncoderConfig::new(10)
        .with_d_embed(8)
        .with_d_common(6)
        .init(&device);
    let out = text.forward(ids_tensor(&[3, 4, 5, 0, 6, 7, 0, 0], 2, 4, &device));
    assert_eq!(out.words.dims(), [2, 4, 6]);
    assert_eq!(out.sentence.dims(), [2, 6]);
    assert_eq!(
        out.mask
            .clone()
            .into_data()
            .iter::<bool>()
            .collect::<Vec<_>>(),
        [true, true, true, false, true, true, false, false]
    );
    let words = values(out.words.clone());
    let sentence = values(out.sentence.clone());
    for (b, last) in [(0usize, 2usize), (1, 1)] {
        let word = |t: usize| &words[(b * 4 + t) * 6..(b * 4 + t + 1) * 6];
        // ē = [forward state at the last real word; backward state at the first word].
        assert_eq!(
            &sentence[b * 6..b * 6 + 3],
            &word(last)[..3],
            "caption {b}: →"
        );
        assert_eq!(
            &sentence[b * 6 + 3..b * 6 + 6],
            &word(0)[3..],
            "caption {b}: ←"
        );
    }
    // Caption 0 alone, without its padding column: the same features and sentence.
    let alone = text.forward(ids_tensor(&[3, 4, 5], 1, 3, &device));
    assert_close(
        &values(alone.words),
        &words[..18],
        1e-6,
        "words without padding",
    );
    assert_close(
        &values(alone.sentence),
        &sentence[..6],
        1e-6,
        "sentence without padding",
    );

    let image = DamsmImageEncoderConfig::new()
        .with_cnn(
            ImageEncoderConfig::new()
                .with_canvas(16)
                .with_channels(vec![4])
                .with_grid(2)
                .with_d_annotation(5),
        )
        .with_d_common(6)
        .init(&device);
    assert!(image.regions.bias.is_none() && image.global.bias.is_some());
    let images = Tensor::<4>::random([2, 3, 16, 16], Distribution::Default, &device);
    let encoded = image.forward(images.clone());
    assert_eq!(encoded.regions.dims(), [2, 4, 6]);
    assert_eq!(encoded.global.dims(), [2, 6]);
    let annotations = image.cnn.forward(images); // [2, 4, 5]
    let mean = annotations.clone().mean_dim(1).reshape([2, 5]);
    assert_close(
        &values(encoded.global.clone()),
        &values(image.global.forward(mean)),
        1e-6,
        "v̄ = W̄ mean(f) + b",
    );
    assert_close(
        &values(encoded.regions.clone()),
        &values(image.regions.forward(annotations)),
        1e-6,
        "v = W f",
    );

    let matched = DamsmConfig::new().matching(&encoded, &out);
    assert_eq!(matched.word_scores.dims(), [2, 2]);
    assert_eq!(matched.sentence_scores.dims(), [2, 2]);
    assert_eq!(matched.weights.dims(), [2, 4, 4]);
    let real = [true, true, true, false, true, true, false, false];
    for (row, (w, &is_real)) in values(matched.weights).chunks(4).zip(&real).enumerate() {
        let sum: f32 = w.iter().sum();
        let want = if is_real { 1.0 } else { 0.0 };
        assert!((sum - want).abs() < 1e-5, "word {row}: α sums to {sum}");
    }
    let loss = matched.loss;
    let parts: f32 = [loss.word_1, loss.word_2, loss.sentence_1, loss.sentence_2]
        .into_iter()
        .map(|t| values(t)[0])
        .sum();
    let total = values(loss.total)[0];
    assert!(total.is_finite() && total > 0.0, "L_DAMSM = {total}");
    assert!((total - parts).abs() < 1e-5, "total {total}, parts {parts}");
}

/// A frozen CNN gets no gradient from the DAMSM; its projections `W` and `W̄` still do.
#[test]
fn frozen_damsm_cnn_still_trains_its_projections() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 22);
    let device = plain.autodiff();
    for tuning in [EncoderTuning::Frozen, EncoderTuning::FineTune] {
        let image = DamsmImageEncoderConfig::new()
            .with_cnn(
                ImageEncoderConfig::new()
                    .with_canvas(8)
                    .with_channels(vec![])
                    .with_grid(2)
                    .with_d_annotation(3),
            )
            .with_d_common(4)
            .init(&device)
            .with_tuning(tuning);
        let images = Tensor::<4>::random([1, 3, 8, 8], Distribution::Default, &device);
        let out = image.forward(images);
        let grads = (out.regions.sum() + out.global.sum()).backward();
        assert!(image.regions.weight.val().grad(&grads).is_some(), "W");
        assert!(image.global.weight.val().grad(&grads).is_some(), "W̄");
        let conv = image.cnn.convs[0].weight.val().grad(&grads);
        assert_eq!(
            conv.is_some(),
            tuning == EncoderTuning::FineTune,
            "{tuning:?}"
        );
    }
}

type DamsmPick = fn(&mut DamsmImageEncoder) -> &mut Linear;

/// Central differences, ε = 1e-2 in f32, against autodiff on the DAMSM loss's projections
/// `W` (through the word-level matching) and `W̄` (through the sentence-level one), within
/// 5%. Three pairs, captions of 3, 2 and 1 real words.
#[test]
fn damsm_gradients_match_finite_differences() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 23);
    let ad = plain.clone().autodiff();
    let image = DamsmImageEncoderConfig::new()
        .with_cnn(
            ImageEncoderConfig::new()
                .with_canvas(8)
                .with_channels(vec![])
                .with_grid(2)
                .with_d_annotation(3),
        )
        .with_d_common(4)
        .init(&ad);
    // Annotations of standard deviation 0.5: with γ3 = 10 the posteriors are steep, and on
    // N(0, 1) annotations ε = 1e-2 is already too coarse for central differences (10% off
    // where ε = 1e-3 agrees within 0.1%).
    let annotations = values(random([3, 4, 3], &plain).mul_scalar(0.5));
    let words = values(random([3, 3, 4], &plain));
    let sentence = values(random([3, 4], &plain));
    let real = [true, true, true, true, true, false, true, false, false];
    let loss = |m: &DamsmImageEncoder, device: &Device| {
        let text = DamsmTextOutput {
            words: tensor(words.clone(), [3, 3, 4], device),
            sentence: tensor(sentence.clone(), [3, 4], device),
            mask: mask_tensor(&real, 3, 3, device),
        };
        let encoded = m.project(tensor(annotations.clone(), [3, 4, 3], device));
        DamsmConfig::new().matching(&encoded, &text).loss.total
    };
    let grads = loss(&image, &ad).backward();
    let frozen = image.valid();
    let f = |m: &DamsmImageEncoder| loss(m, &plain).into_scalar::<f32>();
    let picks: [(&str, DamsmPick); 2] = [("W", |m| &mut m.regions), ("W̄", |m| &mut m.global)];
    let eps = 1e-2f32;
    for (name, pick) in picks {
        let grad = values(pick(&mut image.clone()).weight.val().grad(&grads).unwrap());
        let perturbed = |i: usize, delta: f32| {
            let mut m = frozen.clone();
            let layer = pick(&mut m);
            let dims = layer.weight.dims();
            let mut w = values(layer.weight.val());
            w[i] += delta;
            layer.weight = Param::from_tensor(tensor(w, dims, &plain));
            m
        };
        assert!(grad.iter().any(|g| g.abs() > 1e-3), "{name}: a gradient");
        for (i, &g) in grad.iter().enumerate() {
            let fd = (f(&perturbed(i, eps)) - f(&perturbed(i, -eps))) / (2.0 * eps);
            assert!(
                (fd - g).abs() <= 0.05 * g.abs().max(fd.abs()) + 5e-5,
                "d L_DAMSM / d {name}[{i}]: autodiff {g}, finite difference {fd}"
            );
        }
    }
}

/// `U = [[1, 0.5], [0, 2]]` (`e' = e U`, row vectors), so the words `(1, 0)`, `(0, 1)` become
/// `e'_0 = (1, 0.5)`, `e'_1 = (0, 2)`.
///
/// Caption 0, words `(1, 0)`, `(0, 1)` and a padded `(7, 7)`:
/// - `h_0 = (1, 0)`: `s' = (1, 0)`, `β = (0.7310586, 0.2689414, 0)`,
///   `c = (0.7310586, 0.3655293 + 0.5378828) = (0.7310586, 0.9034121)`;
/// - `h_1 = (0, 1)`: `s' = (0.5, 2)`, `β = (0.1824255, 0.8175745, 0)`,
///   `c = (0.1824255, 1.7263617)`.
///
/// Caption 1, one real word `(0, 1)` and two padded: `β = (1, 0, 0)` and `c = e'_0 = (0, 2)`
/// at every sub-region (with another caption's mask it would not be).
#[test]
fn word_attention_matches_hand_derivation() {
    let device = Device::flex();
    let attention = WordAttention {
        project: linear(vec![1.0, 0.5, 0.0, 2.0], None, 2, 2),
    };
    let hidden = tensor([1.0, 0.0, 0.0, 1.0].repeat(2), [2, 2, 2], &device);
    let words = tensor(
        vec![
            1.0, 0.0, 0.0, 1.0, 7.0, 7.0, // caption 0
            0.0, 1.0, 3.0, -1.0, 2.0, 5.0, // caption 1
        ],
        [2, 3, 2],
        &device,
    );
    let mask = mask_tensor(&[true, true, false, true, false, false], 2, 3, &device);
    let out = attention.forward(hidden, words, mask);
    assert_eq!(out.weights.dims(), [2, 2, 3]);
    assert_eq!(out.context.dims(), [2, 2, 2]);
    assert_close(
        &values(out.weights),
        &[
            0.7310586, 0.2689414, 0.0, 0.1824255, 0.8175745, 0.0, // caption 0
            1.0, 0.0, 0.0, 1.0, 0.0, 0.0, // caption 1
        ],
        1e-6,
        "β",
    );
    assert_close(
        &values(out.context),
        &[
            0.7310586, 0.9034121, 0.1824255, 1.7263617, 0.0, 2.0, 0.0, 2.0,
        ],
        1e-6,
        "c",
    );
}

/// Random features, captions of 3 and 1 real words out of 4: every sub-region's weights sum
/// to 1 over the real words and are exactly 0 at padded ones, and other features at the
/// padded words leave the output bit for bit the same.
#[test]
fn word_attention_ignores_padded_words() {
    let device = Device::flex();
    let _rng = seed_device(&device, 24);
    let attention = WordAttentionConfig::new()
        .with_d_word(6)
        .with_d_image(4)
        .init(&device);
    let hidden = random([2, 5, 4], &device);
    let words = values(random([2, 4, 6], &device));
    let real = [true, true, true, false, true, false, false, false];
    let mask = mask_tensor(&real, 2, 4, &device);
    let out = attention.forward(
        hidden.clone(),
        tensor(words.clone(), [2, 4, 6], &device),
        mask.clone(),
    );
    let weights = values(out.weights.clone());
    for (row, w) in weights.chunks(4).enumerate() {
        let flags = &real[(row / 5) * 4..(row / 5 + 1) * 4];
        let sum: f32 = w
            .iter()
            .zip(flags)
            .filter(|(_, r)| **r)
            .map(|(w, _)| w)
            .sum();
        assert!(
            (sum - 1.0).abs() < 1e-5,
            "sub-region {row}: β sums to {sum}"
        );
        for (i, (&w, &r)) in w.iter().zip(flags).enumerate() {
            if r {
                assert!(w > 0.0, "sub-region {row}, word {i}: {w}");
            } else {
                assert_eq!(w, 0.0, "sub-region {row}, padded word {i}");
            }
        }
    }
    let mut other = words.clone();
    let other_values = values(random([2, 4, 6], &device));
    for (i, flag) in real.iter().enumerate() {
        if !flag {
            other[i * 6..(i + 1) * 6].copy_from_slice(&other_values[i * 6..(i + 1) * 6]);
        }
    }
    assert_ne!(other, words);
    let again = attention.forward(hidden, tensor(other, [2, 4, 6], &device), mask);
    assert_eq!(values(again.weights), weights, "β with other padding");
    assert_eq!(
        values(again.context),
        values(out.context),
        "c with other padding"
    );
}

/// Central differences, ε = 1e-2 in f32, against autodiff on every entry of `U`, for a loss
/// that reads the context and the weights through fixed random probes, within 5%.
#[test]
fn word_attention_gradients_match_finite_differences() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 25);
    let ad = plain.clone().autodiff();
    let attention = WordAttentionConfig::new()
        .with_d_word(3)
        .with_d_image(4)
        .init(&ad);
    let hidden = values(random([2, 5, 4], &plain));
    let words = values(random([2, 3, 3], &plain));
    let probe_c = values(random([2, 5, 4], &plain));
    let probe_w = values(random([2, 5, 3], &plain));
    let real = [true, true, true, true, true, false];
    let loss = |m: &WordAttention, device: &Device| {
        let out = m.forward(
            tensor(hidden.clone(), [2, 5, 4], device),
            tensor(words.clone(), [2, 3, 3], device),
            mask_tensor(&real, 2, 3, device),
        );
        (out.context * tensor(probe_c.clone(), [2, 5, 4], device)).sum()
            + (out.weights * tensor(probe_w.clone(), [2, 5, 3], device)).sum()
    };
    let grads = loss(&attention, &ad).backward();
    let grad = values(attention.project.weight.val().grad(&grads).unwrap());
    let frozen = attention.valid();
    let f = |m: &WordAttention| loss(m, &plain).into_scalar::<f32>();
    let eps = 1e-2f32;
    assert_eq!(grad.len(), 12);
    for (i, &g) in grad.iter().enumerate() {
        let perturbed = |delta: f32| {
            let mut m = frozen.clone();
            let mut w = values(m.project.weight.val());
            w[i] += delta;
            m.project.weight = Param::from_tensor(tensor(w, [3, 4], &plain));
            m
        };
        let fd = (f(&perturbed(eps)) - f(&perturbed(-eps))) / (2.0 * eps);
        assert!(
            (fd - g).abs() <= 0.05 * g.abs().max(fd.abs()) + 5e-5,
            "d loss / d U[{i}]: autodiff {g}, finite difference {fd}"
        );
    }
}

/// `[μ; log σ²] = ē [[1, 0, 0, 1], [0, 1, 1, 0]] + (0.1, 0, 0, -0.2)`.
///
/// Row 0, `ē = (0.5, -1)`: `μ = (0.6, -1)`, `log σ² = (-1, 0.3)`, `σ = (e^{-0.5}, e^{0.15}) =
/// (0.6065307, 1.1618342)`; with `ε = (1, -2)`, `ĉ = (1.2065307, -3.3236685)`;
/// `KL = ½ [(0.36 + e^{-1} - 1 + 1) + (1 + e^{0.3} - 1 - 0.3)] = 0.8888691`.
/// Row 1, `ē = (0, 0)`: `μ = (0.1, 0)`, `log σ² = (0, -0.2)`; with `ε = (0.5, 0)`,
/// `ĉ = (0.6, 0)`; `KL = ½ [0.01 + (e^{-0.2} - 1 + 0.2)] = 0.0143654`.
/// Averaged over the batch: 0.4516173.
#[test]
fn conditioning_augmentation_matches_hand_derivation() {
    let device = Device::flex();
    let ca = ConditioningAugmentation {
        project: linear(
            vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0],
            Some(vec![0.1, 0.0, 0.0, -0.2]),
            2,
            4,
        ),
        d_condition: 2,
    };
    let sentence = tensor(vec![0.5, -1.0, 0.0, 0.0], [2, 2], &device);
    let noise = tensor(vec![1.0, -2.0, 0.5, 0.0], [2, 2], &device);
    let out = ca.forward_with_noise(sentence, noise);
    assert_close(&values(out.mean.clone()), &[0.6, -1.0, 0.1, 0.0], 1e-6, "μ");
    assert_close(
        &values(out.log_var.clone()),
        &[-1.0, 0.3, 0.0, -0.2],
        1e-6,
        "log σ²",
    );
    assert_close(
        &values(out.condition.clone()),
        &[1.2065307, -3.3236685, 0.6, 0.0],
        1e-6,
        "ĉ",
    );
    assert_close(&values(out.kl()), &[0.4516173], 1e-6, "KL");
    // KL of a single row, and zero at the prior itself.
    let kl = kl_divergence(
        tensor(vec![0.6, -1.0], [1, 2], &device),
        tensor(vec![-1.0, 0.3], [1, 2], &device),
    );
    assert_close(&values(kl), &[0.8888691], 1e-6, "KL of row 0");
    let prior = kl_divergence(
        Tensor::zeros([3, 2], &device),
        Tensor::zeros([3, 2], &device),
    );
    assert_eq!(values(prior), [0.0]);
}

/// With `ε` drawn from the device: the same `μ` and `σ`, and `(ĉ - μ) / σ` standard normal
/// (4000 draws: mean within 0.1 of 0, variance within 0.1 of 1).
#[test]
fn conditioning_augmentation_draws_standard_normal_noise() {
    let device = Device::flex();
    let _rng = seed_device(&device, 26);
    let ca = ConditioningAugmentationConfig::new()
        .with_d_sentence(3)
        .with_d_condition(2)
        .init(&device);
    let n = 2000;
    let sentence = tensor([0.3, -0.7, 1.1].repeat(n), [n, 3], &device);
    let out = ca.forward(sentence);
    assert_eq!(out.condition.dims(), [n, 2]);
    let std = out.log_var.clone().mul_scalar(0.5).exp();
    let eps = values((out.condition - out.mean) / std);
    let mean = eps.iter().sum::<f32>() / eps.len() as f32;
    let var = eps.iter().map(|e| (e - mean).powi(2)).sum::<f32>() / eps.len() as f32;
    assert!(mean.abs() < 0.1, "mean of ε: {mean}");
    assert!((var - 1.0).abs() < 0.1, "variance of ε: {var}");
}
