//! AttnGAN's DAMSM (Xu et al. 2018, §3.3): its matching scores and four losses on a case
//! derived by hand, its encoders' shapes and padding, its gradients against finite
//! differences.

use std::f32::consts::FRAC_1_SQRT_2;

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Distribution, Tensor};
use models::seq2seq::{ids_tensor, mask_tensor};
use models::vision::{
    DamsmConfig, DamsmImageEncoder, DamsmImageEncoderConfig, DamsmImageOutput,
    DamsmTextEncoderConfig, DamsmTextOutput, EncoderTuning, ImageEncoderConfig, damsm_loss,
    sentence_scores, word_scores,
};

mod common;
use common::{
    assert_central_differences, assert_close, nudged, random, seed_device, tensor, values,
};

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
    let image = DamsmImageOutput { regions, global };
    let text = DamsmTextOutput {
        words,
        sentence,
        mask,
    };
    let matched = config.matching(&image, &text);
    assert_close(
        &values(matched.loss.total),
        &[8.856718],
        1e-5,
        "L_DAMSM via matching",
    );
    assert_close(
        &values(config.loss(&image, &text).total),
        &[8.856718],
        1e-5,
        "L_DAMSM via loss",
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

/// Captions past the batch are negatives of `L_1` alone. Scores `[[0.5, 0.2, 0.4],
/// [0.1, 0.3, 0.3]]` (two images; caption 2 belongs to neither), γ3 = 10:
/// `L_1 = -log(e^5 / (e^5 + e^2 + e^4)) - log(e^3 / (e^1 + e^3 + e^3)) = 1.1076359`;
/// `L_2` sees the first two columns only: `-log(e^5 / (e^5 + e^1)) - log(e^3 / (e^2 + e^3))
/// = 0.3314116`. One image and two captions `[[0.6, 0.2]]`: `L_1 = log(1 + e^-4) =
/// 0.0181499`, `L_2 = 0` (an image is sure of itself when it is the only one).
#[test]
fn extra_captions_are_negatives_of_the_image_side_only() {
    let device = Device::flex();
    let scores = tensor(vec![0.5, 0.2, 0.4, 0.1, 0.3, 0.3], [2, 3], &device);
    let loss = damsm_loss(scores.clone(), scores, 10.0);
    let parts = [loss.word_1, loss.word_2, loss.sentence_1, loss.sentence_2].map(|t| values(t)[0]);
    assert_close(
        &parts,
        &[1.1076359, 0.3314116, 1.1076359, 0.3314116],
        1e-5,
        "L_1^w, L_2^w, L_1^s, L_2^s with an extra caption",
    );
    let one = tensor(vec![0.6, 0.2], [1, 2], &device);
    let loss = damsm_loss(one.clone(), one, 10.0);
    assert_close(
        &[values(loss.word_1)[0], values(loss.word_2)[0]],
        &[0.0181499, 0.0],
        1e-5,
        "one image, two captions",
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
        assert!(grad.iter().any(|g| g.abs() > 1e-3), "{name}: a gradient");
        assert_central_differences(name, &grad, 0..grad.len(), eps, |i, delta| {
            let mut m = frozen.clone();
            let layer = pick(&mut m);
            layer.weight = nudged(&layer.weight, i, delta);
            f(&m)
        });
    }
}
