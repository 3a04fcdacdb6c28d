//! AttnGAN's generator and discriminators (Xu et al. 2018, §3.1-3.2): the shapes of both
//! stages for both variants, stage 2's attention and its padding, replayable noise, the
//! discriminators' logits, the adversarial losses on a case derived by hand, the generator's
//! gradients against finite differences, and a short fit of two sentence-dependent images.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Bool, Device, Distribution, Gradients, Tensor};
use models::seq2seq::mask_tensor;
use models::vision::{
    AttnGanDiscriminatorConfig, AttnGanGenerator, AttnGanGeneratorConfig, DiscriminatorOutput,
    GeneratorConditioning, GeneratorNoise, binary_cross_entropy, discriminator_loss,
    generator_adversarial_loss, mismatched,
};

mod common;
use common::{
    assert_central_differences, assert_close, nudged, random, seed_device, tensor, values,
};

/// A small generator: `C = 8`, sentences of 6, words of 5, `ĉ` and `z` of 4, 48 × 48.
fn small(conditioning: GeneratorConditioning) -> AttnGanGeneratorConfig {
    AttnGanGeneratorConfig::new()
        .with_d_sentence(6)
        .with_d_word(5)
        .with_d_condition(4)
        .with_d_noise(4)
        .with_d_hidden(8)
        .with_conditioning(conditioning)
}

/// Two captions of 4 word slots, with 3 and 1 real words.
const REAL: [bool; 8] = [true, true, true, false, true, false, false, false];

fn caption_mask(device: &Device) -> Tensor<2, Bool> {
    mask_tensor(&REAL, 2, 4, device)
}

/// Every value strictly inside (0, 1).
fn assert_in_unit_interval(v: &[f32], what: &str) {
    for (i, &x) in v.iter().enumerate() {
        assert!(x > 0.0 && x < 1.0, "{what}[{i}] = {x}");
    }
}

/// Both variants: images of 24 and 48 pixels in (0, 1), hidden maps of `C` channels, the
/// attention over 24 × 24 sub-regions (word attention only), `μ` and `log σ²`.
#[test]
fn generator_stages_have_the_documented_shapes() {
    let device = Device::flex();
    let _rng = seed_device(&device, 31);
    for conditioning in GeneratorConditioning::ALL {
        let generator = small(conditioning).init(&device);
        assert_eq!(generator.conditioning(), conditioning);
        assert_eq!(
            generator.attention.is_some(),
            conditioning == GeneratorConditioning::WordAttention,
            "{}",
            conditioning.name()
        );
        let noise = generator.draw_noise(2, &device);
        assert_eq!(noise.z.dims(), [2, 4]);
        assert_eq!(noise.epsilon.dims(), [2, 4]);
        let out = generator.forward(
            random([2, 6], &device),
            random([2, 4, 5], &device),
            caption_mask(&device),
            noise,
        );
        let name = conditioning.name();
        assert_eq!(out.image0.dims(), [2, 3, 24, 24], "{name}: x_0");
        assert_eq!(out.image1.dims(), [2, 3, 48, 48], "{name}: x_1");
        assert_eq!(out.hidden0.dims(), [2, 8, 24, 24], "{name}: h_0");
        assert_eq!(out.hidden1.dims(), [2, 8, 48, 48], "{name}: h_1");
        assert_eq!(out.mean.dims(), [2, 4], "{name}: μ");
        assert_eq!(out.log_var.dims(), [2, 4], "{name}: log σ²");
        assert_eq!(
            out.weights.as_ref().map(|w| w.dims()),
            (conditioning == GeneratorConditioning::WordAttention).then_some([2, 576, 4]),
            "{name}: β"
        );
        assert_in_unit_interval(&values(out.image0.clone()), &format!("{name}: x_0"));
        assert_in_unit_interval(&values(out.image1.clone()), &format!("{name}: x_1"));
        let kl = values(out.kl())[0];
        assert!(kl.is_finite() && kl >= 0.0, "{name}: KL = {kl}");
    }
    // Other canvases scale every stage.
    let generator = small(GeneratorConditioning::WordAttention)
        .with_canvas(16)
        .init(&device);
    let out = generator.forward(
        random([2, 6], &device),
        random([2, 4, 5], &device),
        caption_mask(&device),
        generator.draw_noise(2, &device),
    );
    assert_eq!(out.image0.dims(), [2, 3, 8, 8]);
    assert_eq!(out.image1.dims(), [2, 3, 16, 16]);
    assert_eq!(out.weights.unwrap().dims(), [2, 64, 4]);
}

/// Stage 2's weights sum to 1 over each caption's real words and are exactly 0 at padded
/// ones; other features at the padded words leave both images bit for bit the same. The
/// sentence-only variant reads no word at all.
#[test]
fn stage_two_attention_ignores_padded_words() {
    let device = Device::flex();
    let _rng = seed_device(&device, 32);
    let generator = small(GeneratorConditioning::WordAttention).init(&device);
    let sentence = random([2, 6], &device);
    let words = values(random([2, 4, 5], &device));
    let noise = generator.draw_noise(2, &device);
    let run = |g: &AttnGanGenerator, words: Vec<f32>| {
        g.forward(
            sentence.clone(),
            tensor(words, [2, 4, 5], &device),
            caption_mask(&device),
            noise.clone(),
        )
    };
    let out = run(&generator, words.clone());
    let weights = values(out.weights.clone().unwrap()); // [2, 576, 4]
    for (row, w) in weights.chunks(4).enumerate() {
        let flags = &REAL[(row / 576) * 4..(row / 576 + 1) * 4];
        let mut sum = 0.0;
        for (i, (&w, &real)) in w.iter().zip(flags).enumerate() {
            if real {
                assert!(w > 0.0, "sub-region {row}, word {i}: {w}");
                sum += w;
            } else {
                assert_eq!(w, 0.0, "sub-region {row}, padded word {i}");
            }
        }
        assert!(
            (sum - 1.0).abs() < 1e-5,
            "sub-region {row}: β sums to {sum}"
        );
    }
    // The attention is not uniform: the sub-regions of caption 0 weigh its words differently.
    let spread = weights
        .chunks(4)
        .take(576)
        .map(|w| w[0])
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), w| {
            (lo.min(w), hi.max(w))
        });
    assert!(
        spread.1 - spread.0 > 1e-3,
        "β_0 over sub-regions: {spread:?}"
    );

    let mut other = words.clone();
    for (i, &real) in REAL.iter().enumerate() {
        if !real {
            for (k, v) in other[i * 5..(i + 1) * 5].iter_mut().enumerate() {
                *v = 10.0 * (k as f32 + 1.0) - 25.0;
            }
        }
    }
    assert_ne!(other, words);
    let again = run(&generator, other);
    assert_eq!(values(again.image0), values(out.image0.clone()), "x_0");
    assert_eq!(values(again.image1), values(out.image1.clone()), "x_1");
    assert_eq!(values(again.weights.unwrap()), weights, "β");
    // A real word's features do change the stage-2 image (not stage 1's).
    let mut changed = words.clone();
    changed[0] += 3.0;
    let moved = run(&generator, changed);
    assert_eq!(
        values(moved.image0),
        values(out.image0),
        "x_0 reads no word"
    );
    let diff = max_abs_diff(&values(moved.image1), &values(out.image1));
    assert!(diff > 1e-5, "x_1 moved by {diff} for a real word");

    let plain = small(GeneratorConditioning::SentenceOnly).init(&device);
    let a = run(&plain, words.clone());
    let b = run(&plain, values(random([2, 4, 5], &device)));
    assert_eq!(
        values(a.image1),
        values(b.image1),
        "sentence-only reads no word"
    );
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The same noise gives the same images, bit for bit; another `z` or another `ε` gives other
/// images; an image does not depend on its batch-mates (no batch statistics).
#[test]
fn generator_noise_replays() {
    let device = Device::flex();
    let _rng = seed_device(&device, 33);
    for conditioning in GeneratorConditioning::ALL {
        let name = conditioning.name();
        let generator = small(conditioning).init(&device);
        let sentence = random([2, 6], &device);
        let words = random([2, 4, 5], &device);
        let run = |noise: GeneratorNoise| {
            let out = generator.forward(
                sentence.clone(),
                words.clone(),
                caption_mask(&device),
                noise,
            );
            (values(out.image0), values(out.image1))
        };
        let noise = generator.draw_noise(2, &device);
        let first = run(noise.clone());
        assert_eq!(run(noise.clone()), first, "{name}: same noise");
        let z = generator.draw_noise(2, &device).z;
        let other_z = run(GeneratorNoise {
            z,
            epsilon: noise.epsilon.clone(),
        });
        let epsilon = generator.draw_noise(2, &device).epsilon;
        let other_eps = run(GeneratorNoise {
            z: noise.z.clone(),
            epsilon,
        });
        for (what, other) in [("z", other_z), ("ε", other_eps)] {
            let d0 = max_abs_diff(&other.0, &first.0);
            let d1 = max_abs_diff(&other.1, &first.1);
            assert!(d0 > 1e-4 && d1 > 1e-4, "{name}: other {what}: {d0}, {d1}");
        }
        // The first image alone, batch of one.
        let alone = generator.forward(
            sentence.clone().narrow(0, 0, 1),
            words.clone().narrow(0, 0, 1),
            mask_tensor(&REAL[..4], 1, 4, &device),
            GeneratorNoise {
                z: noise.z.clone().narrow(0, 0, 1),
                epsilon: noise.epsilon.clone().narrow(0, 0, 1),
            },
        );
        assert_close(
            &values(alone.image1),
            &first.1[..3 * 48 * 48],
            1e-5,
            &format!("{name}: x_1 without its batch-mate"),
        );
    }
}

/// Both discriminators (24 and 48 pixels): a 3 × 3 map, one logit of each kind per image;
/// only the conditional one reads the sentence. `mismatched` rolls the sentences by one.
#[test]
fn discriminator_logits_have_the_documented_shapes() {
    let device = Device::flex();
    let _rng = seed_device(&device, 34);
    for (canvas, blocks) in [(24, 3), (48, 4)] {
        let config = AttnGanDiscriminatorConfig::new()
            .with_canvas(canvas)
            .with_d_base(4)
            .with_d_sentence(6);
        assert_eq!(config.blocks(), blocks);
        let d = config.init(&device);
        assert_eq!(d.down.len(), blocks);
        let images = Tensor::<4>::random([3, 3, canvas, canvas], Distribution::Default, &device);
        let features = d.features(images.clone());
        assert_eq!(features.dims(), [3, 4 << (blocks - 1), 3, 3], "{canvas}");
        let sentence = random([3, 6], &device);
        let out = d.forward(images.clone(), sentence.clone());
        assert_eq!(out.unconditional.dims(), [3], "{canvas}");
        assert_eq!(out.conditional.dims(), [3], "{canvas}");
        let other = d.forward(images, random([3, 6], &device));
        assert_eq!(
            values(other.unconditional),
            values(out.unconditional),
            "{canvas}: D(x) reads no sentence"
        );
        let moved = max_abs_diff(&values(other.conditional), &values(out.conditional.clone()));
        assert!(moved > 1e-6, "{canvas}: D(x, ē) moved by {moved}");
        // The mismatched logits are the conditional head on rolled sentences.
        let wrong = d.conditional(features, mismatched(sentence.clone()));
        assert_eq!(wrong.dims(), [3]);
    }
    let sentence = tensor(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2], &device);
    assert_eq!(values(mismatched(sentence)), [3.0, 4.0, 5.0, 6.0, 1.0, 2.0]);
}

/// Logits by hand; `-log σ(x) = ln(1 + e^{-x})` and `-log σ(-x) = ln(1 + e^x)` computed in
/// f64, independently:
///
/// - real, unconditional `(2, -1)`: `(0.1269280 + 1.3132617) / 2 = 0.7200948`;
/// - real, conditional `(0.5, 3)`: `(0.4740770 + 0.0485874) / 2 = 0.2613322`;
/// - fake, unconditional `(-2, 1.5)`: `(0.1269280 + 1.7014133) / 2 = 0.9141706`;
/// - fake, conditional `(0, -4)`: `(0.6931472 + 0.0181499) / 2 = 0.3556486`;
/// - mismatched `(1, -0.5)`: `(1.3132617 + 0.4740770) / 2 = 0.8936693`;
/// - `L_D = (0.7200948 + 0.2613322) / 2 + (0.9141706 + 0.3556486 + 0.8936693) / 3 =
///   1.2118764`;
/// - `L_G` on the fake logits, both "real": `(2.1269280 + 0.2014133) / 2 + (0.6931472 +
///   4.0181499) / 2 = 1.1641707 + 2.3556486 = 3.5198192`.
///
/// And logits of ±200, where `log σ` through `σ` would be `-inf` in f32: 100 each way.
#[test]
fn adversarial_losses_match_hand_derivation() {
    let device = Device::flex();
    let t = |v: Vec<f32>| tensor(v, [2], &device);
    let real = DiscriminatorOutput {
        unconditional: t(vec![2.0, -1.0]),
        conditional: t(vec![0.5, 3.0]),
    };
    let fake = DiscriminatorOutput {
        unconditional: t(vec![-2.0, 1.5]),
        conditional: t(vec![0.0, -4.0]),
    };
    let loss = discriminator_loss(&real, &fake, t(vec![1.0, -0.5]));
    let parts = [
        loss.real_unconditional,
        loss.real_conditional,
        loss.fake_unconditional,
        loss.fake_conditional,
        loss.mismatched,
        loss.total,
    ]
    .map(|t| values(t)[0]);
    assert_close(
        &parts,
        &[
            0.7200948, 0.2613322, 0.9141706, 0.3556486, 0.8936693, 1.2118764,
        ],
        1e-6,
        "L_D and its parts",
    );
    assert_close(
        &values(generator_adversarial_loss(&fake)),
        &[3.5198192],
        1e-6,
        "L_G",
    );
    let big = t(vec![200.0, -200.0]);
    assert_close(
        &[
            values(binary_cross_entropy(big.clone(), true))[0],
            values(binary_cross_entropy(big, false))[0],
        ],
        &[100.0, 100.0],
        1e-4,
        "BCE of ±200",
    );
}

/// Which weight of the generator a finite difference perturbs.
#[derive(Clone, Copy, Debug)]
enum Weight {
    /// Stage 1's linear layer.
    Fc,
    /// Stage 1's first upsampling convolution.
    Up0,
    /// Stage 2's `U` in `F^attn`.
    Attention,
    /// Stage 2's first residual convolution.
    Residual,
    /// Stage 2's image head.
    Image1,
}

fn weight_grad(g: &AttnGanGenerator, which: Weight, grads: &Gradients) -> Vec<f32> {
    match which {
        Weight::Fc => values(g.fc.weight.val().grad(grads).unwrap()),
        Weight::Up0 => values(g.up0[0].conv.weight.val().grad(grads).unwrap()),
        Weight::Attention => values(
            g.attention
                .as_ref()
                .unwrap()
                .project
                .weight
                .val()
                .grad(grads)
                .unwrap(),
        ),
        Weight::Residual => values(g.residual[0].conv1.weight.val().grad(grads).unwrap()),
        Weight::Image1 => values(g.image1.weight.val().grad(grads).unwrap()),
    }
}

fn with_weight(g: &AttnGanGenerator, which: Weight, i: usize, delta: f32) -> AttnGanGenerator {
    let mut g = g.clone();
    match which {
        Weight::Fc => g.fc.weight = nudged(&g.fc.weight, i, delta),
        Weight::Up0 => g.up0[0].conv.weight = nudged(&g.up0[0].conv.weight, i, delta),
        Weight::Attention => {
            let attention = g.attention.as_mut().unwrap();
            attention.project.weight = nudged(&attention.project.weight, i, delta);
        }
        Weight::Residual => {
            g.residual[0].conv1.weight = nudged(&g.residual[0].conv1.weight, i, delta)
        }
        Weight::Image1 => g.image1.weight = nudged(&g.image1.weight, i, delta),
    }
    g
}

/// Central differences, ε = 1e-2 in f32, against autodiff, within 5%, for the three
/// largest-gradient entries of five weights across both stages (the linear layer, an
/// upsampling convolution, `U` of the attention, a residual convolution, the image head),
/// through a fixed random probe of the stage-2 image, `Σ x_1 ⊙ p`.
#[test]
fn generator_gradients_match_finite_differences() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 35);
    let ad = plain.clone().autodiff();
    let generator = small(GeneratorConditioning::WordAttention)
        .with_canvas(16)
        .init(&ad);
    let sentence = values(random([2, 6], &plain));
    let words = values(random([2, 4, 5], &plain));
    let z = values(random([2, 4], &plain));
    let epsilon = values(random([2, 4], &plain));
    let probe = values(random([2, 3, 16, 16], &plain));
    let loss = |g: &AttnGanGenerator, device: &Device| {
        let out = g.forward(
            tensor(sentence.clone(), [2, 6], device),
            tensor(words.clone(), [2, 4, 5], device),
            caption_mask(device),
            GeneratorNoise {
                z: tensor(z.clone(), [2, 4], device),
                epsilon: tensor(epsilon.clone(), [2, 4], device),
            },
        );
        (out.image1 * tensor(probe.clone(), [2, 3, 16, 16], device)).sum()
    };
    let grads = loss(&generator, &ad).backward();
    let frozen = generator.valid();
    let f = |g: &AttnGanGenerator| loss(g, &plain).into_scalar::<f32>();
    let eps = 1e-2f32;
    for which in [
        Weight::Fc,
        Weight::Up0,
        Weight::Attention,
        Weight::Residual,
        Weight::Image1,
    ] {
        let grad = weight_grad(&generator, which, &grads);
        let mut order: Vec<usize> = (0..grad.len()).collect();
        order.sort_by(|&a, &b| grad[b].abs().total_cmp(&grad[a].abs()));
        assert!(grad[order[0]].abs() > 1e-2, "{which:?}: a gradient");
        let what = format!("{which:?}");
        assert_central_differences(&what, &grad, order[..3].iter().copied(), eps, |i, delta| {
            f(&with_weight(&frozen, which, i, delta))
        });
    }
}

/// The target of sentence `k`: half of the canvas lit (left for 0, right for 1) in a colour
/// of its own, the rest black, `[3, side, side]` row-major.
fn half_lit(k: usize, side: usize) -> Vec<f32> {
    let colour = [[0.9, 0.2, 0.1], [0.1, 0.3, 0.9]][k];
    let mut v = Vec::with_capacity(3 * side * side);
    for c in colour {
        for _row in 0..side {
            for col in 0..side {
                let left = col < side / 2;
                v.push(if left == (k == 0) { c } else { 0.0 });
            }
        }
    }
    v
}

/// The generator alone, fresh noise at every step, fitted by L2 to one of two images chosen
/// by the sentence (at 24 and 48 pixels): the loss falls 10× in 50 Adam steps. Ignoring the
/// sentence could do no better than the mean of the two targets, whose loss is above a tenth
/// of the initial one.
#[test]
fn generator_learns_sentence_dependent_images() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 36);
    let device = plain.clone().autodiff();
    let mut generator = small(GeneratorConditioning::WordAttention).init(&device);
    let batch = 2; // sentences 0 and 1
    let sentences = values(random([2, 6], &plain));
    let words = values(random([2, 4, 5], &plain));
    let pick = |v: &[f32], width: usize| {
        (0..batch)
            .flat_map(|b| v[(b % 2) * width..(b % 2 + 1) * width].to_vec())
            .collect::<Vec<_>>()
    };
    let sentence = tensor(pick(&sentences, 6), [batch, 6], &device);
    let word_batch = tensor(pick(&words, 20), [batch, 4, 5], &device);
    let mask = caption_mask(&device);
    let target = |side: usize| {
        let both = [half_lit(0, side), half_lit(1, side)].concat();
        tensor(
            pick(&both, 3 * side * side),
            [batch, 3, side, side],
            &device,
        )
    };
    let (target0, target1) = (target(24), target(48));
    // The best sentence-blind output, the mean target: a quarter of the mean squared
    // difference of the two targets.
    let blind = values(
        (target1.clone().narrow(0, 0, 1) - target1.clone().narrow(0, 1, 1))
            .powi_scalar(2)
            .mean(),
    )[0] / 4.0;
    let mut optim = AdamConfig::new().init();
    let mut first = None;
    let mut last = f32::INFINITY;
    for _ in 0..50 {
        let noise = generator.draw_noise(batch, &device);
        let out = generator.forward(sentence.clone(), word_batch.clone(), mask.clone(), noise);
        let objective = (out.image0 - target0.clone()).powi_scalar(2).mean()
            + (out.image1 - target1.clone()).powi_scalar(2).mean();
        last = objective.clone().into_scalar::<f32>();
        first.get_or_insert(last);
        let grads = GradientsParams::from_grads(objective.backward(), &generator);
        generator = optim.step(1e-2, generator, grads);
    }
    let first = first.unwrap();
    assert!(
        2.0 * blind > first / 10.0,
        "the sentence-blind loss {} would pass",
        2.0 * blind
    );
    assert!(last < first / 10.0, "loss {first} -> {last}");
}
