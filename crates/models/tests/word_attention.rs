//! AttnGAN's attention model `F^attn` (Xu et al. 2018, §3.1) on a hand-built case, its
//! masking of padded words and its gradients; conditioning augmentation and its KL term.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use models::seq2seq::mask_tensor;
use models::vision::{
    ConditioningAugmentation, ConditioningAugmentationConfig, WordAttention, WordAttentionConfig,
    kl_divergence,
};

mod common;
use common::{
    assert_central_differences, assert_close, linear, nudged, random, seed_device, tensor, values,
};

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
    assert_central_differences("U", &grad, 0..grad.len(), eps, |i, delta| {
        let mut m = frozen.clone();
        m.project.weight = nudged(&m.project.weight, i, delta);
        f(&m)
    });
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
