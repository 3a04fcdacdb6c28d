//! Show, Attend and Tell (Xu et al. 2015): the encoder's grid and its pretraining loss, the
//! captioner's three contexts on hand-built cases, its gradients against finite differences,
//! the hard sampler against its weights, decoding against teacher forcing, and a tiny task
//! that soft attention must learn.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use models::seq2seq::{BOS, EOS, ids_tensor, sequence_cross_entropy};
use models::vision::captioner::{attention_entropy, cell_coordinates, doubly_stochastic_penalty};
use models::vision::{
    Captioner, CaptionerConfig, ContextKind, EncoderTuning, ImageEncoderConfig, multilabel_loss,
};

mod common;
use common::{
    assert_central_differences, assert_close, linear, nudged, random, seed_device, tensor, values,
};

/// A small captioner: vocabulary 8, embeddings 6, LSTM 5, annotations 4 on 4 cells.
fn small(context: ContextKind) -> CaptionerConfig {
    CaptionerConfig::new(8)
        .with_d_embed(6)
        .with_d_hidden(5)
        .with_d_annotation(4)
        .with_d_attention(3)
        .with_grid_cells(4)
        .with_context(context)
}

/// Position embeddings of `small`'s 4 cells set to zero, for hand-derived values.
fn zero_positions(device: &Device) -> Param<Tensor<2>> {
    Param::from_tensor(Tensor::zeros([4, 4], device))
}

#[test]
fn encoder_maps_a_canvas_to_a_grid_of_local_annotations() {
    let device = Device::flex();
    let _rng = seed_device(&device, 1);
    let config = ImageEncoderConfig::new().with_n_labels(Some(7));
    assert_eq!(config.cells(), 36);
    let encoder = config.init(&device);
    // A bright 8 × 8 patch in the top-left corner of an otherwise black image.
    let mut pixels = vec![0.0f32; 2 * 3 * 48 * 48];
    for c in 0..3 {
        for y in 0..8 {
            for x in 0..8 {
                pixels[((3 + c) * 48 + y) * 48 + x] = 1.0; // image 1
            }
        }
    }
    let annotations = encoder.forward(tensor(pixels, [2, 3, 48, 48], &device));
    assert_eq!(annotations.dims(), [2, 36, 64]);
    let a = values(annotations.clone());
    let cell = |image: usize, i: usize| &a[(image * 36 + i) * 64..(image * 36 + i + 1) * 64];
    assert_ne!(
        cell(0, 0),
        cell(1, 0),
        "the patch changes the top-left cell"
    );
    assert_eq!(cell(0, 35), cell(1, 35), "and not the far bottom-right one");
    assert_eq!(encoder.label_logits(annotations).dims(), [2, 7]);

    let coarse = ImageEncoderConfig::new().with_grid(3).init(&device);
    assert_eq!(
        coarse
            .forward(Tensor::zeros([1, 3, 48, 48], &device))
            .dims(),
        [1, 9, 64]
    );
    assert!(ImageEncoderConfig::new().with_canvas(50).check().is_err());
    assert!(ImageEncoderConfig::new().with_grid(4).check().is_err());
}

/// logits (0, 2), targets (1, 0): mean(-log σ(0), -log σ(-2)) = mean(ln 2, ln(1 + e²))
/// = (0.6931472 + 2.1269280) / 2 = 1.4100376. With the present label weighed 3:
/// (3 ln 2 + 2.1269280) / 2 = 2.1031848.
#[test]
fn multilabel_loss_matches_hand_derivation() {
    let device = Device::flex();
    for (weight, want) in [(1.0, 1.4100376), (3.0, 2.1031848)] {
        let loss = multilabel_loss(
            tensor(vec![0.0, 2.0], [1, 2], &device),
            tensor(vec![1.0, 0.0], [1, 2], &device),
            weight,
        );
        assert_close(&values(loss), &[want], 1e-6, "loss");
    }
}

/// A frozen encoder gets no gradient; a fine-tuned one does.
#[test]
fn frozen_encoder_gets_no_gradient() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 2);
    let device = plain.autodiff();
    for tuning in [EncoderTuning::Frozen, EncoderTuning::FineTune] {
        let encoder = ImageEncoderConfig::new()
            .with_canvas(16)
            .with_channels(vec![4])
            .with_grid(4)
            .with_d_annotation(4)
            .init(&device)
            .with_tuning(tuning);
        let images = Tensor::<4>::random([1, 3, 16, 16], Distribution::Default, &device);
        // A tracked factor, so that the frozen case has a graph to run backward on at all.
        let scale = Tensor::<3>::ones([1, 16, 4], &device).require_grad();
        let grads = (encoder.forward(images) * scale.clone()).sum().backward();
        assert!(scale.grad(&grads).is_some());
        let grad = encoder.convs[0].weight.val().grad(&grads);
        assert_eq!(
            grad.is_some(),
            tuning == EncoderTuning::FineTune,
            "{tuning:?}"
        );
    }
}

#[test]
fn soft_weights_are_a_distribution_over_the_grid_at_every_step() {
    let device = Device::flex();
    let _rng = seed_device(&device, 3);
    let model = small(ContextKind::Soft).init(&device);
    let annotations = random([2, 4, 4], &device);
    let out = model.forward(
        annotations.clone(),
        ids_tensor(&[1, 5, 6, 1, 7, 0], 2, 3, &device),
    );
    assert_eq!(out.logits.dims(), [2, 3, 8]);
    assert_eq!(out.contexts.dims(), [2, 3, 4]);
    let weights = out.weights.expect("soft attention returns its weights");
    assert_eq!(weights.dims(), [2, 3, 4]);
    for (step, row) in values(weights.clone()).chunks(4).enumerate() {
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "step {step} sums to {sum}");
        assert!(
            row.iter().all(|&w| w > 0.0),
            "step {step}: every cell is real"
        );
    }
    // ẑ_t = β_t Σ_i α_ti a_i at every step.
    let betas = out.betas.expect("soft attention returns its gate");
    assert!(values(betas.clone()).iter().all(|&b| b > 0.0 && b < 1.0));
    // a_i + p_i: the annotations with the cells' position embeddings.
    let positions = model.attention.as_ref().unwrap().positions.val();
    let attended = annotations + positions.unsqueeze_dim::<3>(0); // [B, L, D]
    let expected = (weights.unsqueeze_dim::<4>(3) * attended.unsqueeze_dim::<4>(1)) // [B, T, L, D]
        .sum_dim(2)
        .reshape([2, 3, 4])
        * betas.unsqueeze_dim::<3>(2);
    assert_close(&values(out.contexts), &values(expected), 1e-6, "contexts");
    assert!(out.penalty.is_some() && out.sample_log_probs.is_none());
}

/// The 2 × 2 grid's centres, row-major, x rightwards and y downwards: (∓0.5, ∓0.5).
/// With coordinates the context ends with `β_t Σ_i α_ti (x_i, y_i)`, and the pooled
/// vector's context has none.
#[test]
fn coordinates_put_where_the_context_looked_at_its_end() {
    let device = Device::flex();
    let _rng = seed_device(&device, 13);
    let xy = values(cell_coordinates(4, &device));
    assert_eq!(xy, [-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5]);
    let third = 2.0 / 3.0;
    let nine = values(cell_coordinates(9, &device));
    assert_close(
        &nine[..6],
        &[-third, -third, 0.0, -third, third, -third],
        1e-6,
        "3 × 3",
    );
    let config = small(ContextKind::Soft).with_coordinates(true);
    assert_eq!(config.d_context(), 6);
    let model = config.init(&device);
    let out = model.forward(
        random([2, 4, 4], &device),
        ids_tensor(&[1, 5, 6, 1, 7, 0], 2, 3, &device),
    );
    assert_eq!(out.contexts.dims(), [2, 3, 6]);
    let (weights, betas) = (values(out.weights.unwrap()), values(out.betas.unwrap()));
    let contexts = values(out.contexts);
    for step in 0..6 {
        let alpha = &weights[step * 4..step * 4 + 4];
        let want: Vec<f32> = (0..2)
            .map(|axis| betas[step] * (0..4).map(|i| alpha[i] * xy[2 * i + axis]).sum::<f32>())
            .collect();
        assert_close(
            &contexts[step * 6 + 4..step * 6 + 6],
            &want,
            1e-6,
            "β Σ α (x, y)",
        );
    }
    let pooled = small(ContextKind::None).with_coordinates(true);
    assert_eq!(pooled.d_context(), 4);
    let out = pooled.init(&device).forward(
        random([1, 4, 4], &device),
        ids_tensor(&[1, 5], 1, 2, &device),
    );
    assert_eq!(out.contexts.dims(), [1, 2, 4]);
}

/// `f_init,h = 0 · ā + (0.5, -1)`, so `h_0 = tanh(0.5, -1) = (0.4621172, -0.7615942)`;
/// `f_β(h) = 2 h_1 + h_2 + 0.3 = 0.4626402`, `β_1 = σ(0.4626402) = 0.6136403`. Every cell
/// holds the same `a`, so whatever α is, `ẑ_1 = β_1 a`.
#[test]
fn beta_is_the_sigmoid_of_the_hand_set_gate() {
    let device = Device::flex();
    let _rng = seed_device(&device, 4);
    let mut model = small(ContextKind::Soft).with_d_hidden(2).init(&device);
    model.init_hidden = linear(vec![0.0; 8], Some(vec![0.5, -1.0]), 4, 2);
    model.attention.as_mut().unwrap().gate = linear(vec![2.0, 1.0], Some(vec![0.3]), 2, 1);
    model.attention.as_mut().unwrap().positions = zero_positions(&device);
    let a = [0.2f32, -1.0, 0.7, 3.0];
    let annotations = tensor(a.repeat(4), [1, 4, 4], &device);
    let out = model.forward(annotations, ids_tensor(&[1, 5], 1, 2, &device));
    let betas = values(out.betas.unwrap());
    assert_close(&betas[..1], &[0.6136403], 1e-6, "β_1");
    assert!(betas[1] > 0.0 && betas[1] < 1.0, "β_2 = {}", betas[1]);
    let want: Vec<f32> = a.iter().map(|x| x * 0.6136403).collect();
    assert_close(&values(out.contexts)[..4], &want, 1e-6, "ẑ_1");
}

/// Row 0: α over 2 cells (0.5, 0.5), (0.2, 0.8), (0.9, 0.1): Σ_t = (1.6, 1.4), penalty
/// 0.36 + 0.16 = 0.52. Row 1: (0.3, 0.7), (0.6, 0.4), then a padded step (1, 0) that must not
/// count: Σ_t = (0.9, 1.1), 0.01 + 0.01 = 0.02. Sum 0.54 over 5 real steps; λ = 2: 0.216.
#[test]
fn doubly_stochastic_penalty_and_entropy_match_hand_derivation() {
    let device = Device::flex();
    let weights = tensor(
        vec![
            0.5, 0.5, 0.2, 0.8, 0.9, 0.1, // row 0
            0.3, 0.7, 0.6, 0.4, 1.0, 0.0, // row 1
        ],
        [2, 3, 2],
        &device,
    );
    let real = Tensor::<2, Bool>::from_data(
        TensorData::new(vec![true, true, true, true, true, false], [2, 3]),
        &device,
    );
    let penalty = doubly_stochastic_penalty(weights.clone(), real, 2.0);
    assert_close(&values(penalty), &[0.216], 1e-6, "penalty");
    // H(0.5, 0.5) = ln 2; H(1, 0) = 0; H(0.2, 0.8) = 0.5004024.
    let entropy = values(attention_entropy(weights));
    assert_close(
        &[entropy[0], entropy[1], entropy[5]],
        &[std::f32::consts::LN_2, 0.5004024, 0.0],
        1e-6,
        "H",
    );

    // The model's own penalty is this function of its weights, PAD steps left out.
    let _rng = seed_device(&device, 5);
    let model = small(ContextKind::Soft)
        .with_doubly_stochastic(0.5)
        .init(&device);
    let tgt_in = ids_tensor(&[1, 5, 6, 1, 7, 0], 2, 3, &device);
    let out = model.forward(random([2, 4, 4], &device), tgt_in.clone());
    let real = tgt_in.not_equal_elem(0);
    let want = doubly_stochastic_penalty(out.weights.unwrap(), real, 0.5);
    assert_close(
        &values(out.penalty.unwrap()),
        &values(want),
        1e-6,
        "model penalty",
    );
}

/// The mean annotation at every step, whatever the words (and so the decoder state) were.
#[test]
fn none_context_is_the_mean_annotation_at_every_step() {
    let device = Device::flex();
    let _rng = seed_device(&device, 6);
    let model = small(ContextKind::None).init(&device);
    assert!(model.attention.is_none());
    let annotations = random([2, 4, 4], &device);
    let mean = values(annotations.clone().mean_dim(1)); // [2, 1, 4]
    let run = |ids: &[u32]| model.forward(annotations.clone(), ids_tensor(ids, 2, 3, &device));
    let a = run(&[1, 5, 6, 1, 7, 0]);
    let b = run(&[1, 4, 4, 1, 6, 5]);
    assert!(a.weights.is_none() && a.betas.is_none() && a.penalty.is_none());
    assert_ne!(
        values(a.logits),
        values(b.logits),
        "different words, different states"
    );
    let contexts = values(a.contexts.clone());
    for (i, z) in contexts.chunks(4).enumerate() {
        let row = i / 3;
        assert_close(z, &mean[row * 4..row * 4 + 4], 1e-6, "ẑ_t = ā");
    }
    assert_eq!(
        contexts,
        values(b.contexts),
        "independent of the decoder state"
    );
}

/// Teacher forcing on greedy decoding's own words reproduces its choices and weights, and a
/// beam of one is greedy decoding.
#[test]
fn greedy_agrees_with_teacher_forcing_and_beam_of_one() {
    for context in ContextKind::ALL {
        let device = Device::flex();
        let _rng = seed_device(&device, 7);
        let model = small(context).init(&device);
        let annotations = random([1, 4, 4], &device);
        let max_len = 6;
        let greedy = model.greedy(annotations.clone(), max_len);
        let words = &greedy.tokens[0];
        // The steps greedy decoding took: its words and EOS, if it stopped.
        let steps = (words.len() + 1).min(max_len);
        let mut ids = vec![BOS];
        ids.extend(&words[..steps - 1]);
        let out = model.forward(annotations.clone(), ids_tensor(&ids, 1, steps, &device));
        let chosen = values(out.logits.argmax(2).float());
        let mut want: Vec<f32> = words.iter().map(|&w| w as f32).collect();
        want.push(EOS as f32);
        assert_eq!(
            chosen,
            want[..steps],
            "{context:?}: the first step and every one after"
        );
        if let Some(w) = greedy.weights {
            let tf = values(out.weights.unwrap());
            assert_close(&values(w)[..steps * 4], &tf, 1e-5, "weights");
        }
        let beam = model.beam_search(annotations, 1, max_len);
        assert_eq!(&beam, words, "{context:?}: beam of one");
    }
}

/// A sampled location is a cell drawn from α: χ² of 4000 draws against `N α` stays under the
/// 0.001 critical value for 3 degrees of freedom, 16.27. Hand-set `f_att`: `W = 0`, `U = I`,
/// `v = (1.5, 0.5, -0.5, -1.5)` on one-hot annotations `a_i = e_i`, so `e_i = v_i tanh(1)`
/// and α = (0.5596806, 0.2613269, 0.1220191, 0.0569734); `ẑ = β e_s` tells the cell.
#[test]
fn hard_samples_follow_the_attention_weights() {
    let device = Device::flex();
    let _rng = seed_device(&device, 8);
    let mut model = small(ContextKind::Hard).with_d_attention(4).init(&device);
    model.attention.as_mut().unwrap().positions = zero_positions(&device);
    let score = &mut model.attention.as_mut().unwrap().score;
    score.query_proj = linear(vec![0.0; 20], None, 5, 4);
    let identity = (0..16).map(|i| f32::from(i % 5 == 0)).collect();
    score.key_proj = linear(identity, None, 4, 4);
    score.v = linear(vec![1.5, 0.5, -0.5, -1.5], None, 4, 1);
    let n = 4000;
    let eye: Vec<f32> = (0..16).map(|i| f32::from(i % 5 == 0)).collect();
    let annotations = tensor(eye.repeat(n), [n, 4, 4], &device);
    let tgt_in = Tensor::<2, Int>::full([n, 1], BOS as i64, &device);
    let alpha = [0.5596806f32, 0.2613269, 0.1220191, 0.0569734];

    let out = model.forward_sampled(annotations.clone(), tgt_in.clone(), &mut || 0.9);
    assert_close(&values(out.weights.unwrap())[..4], &alpha, 1e-5, "α");
    let contexts = values(out.contexts);
    let log_probs = values(out.sample_log_probs.unwrap());
    let mut counts = [0usize; 4];
    for (z, lp) in contexts.chunks(4).zip(&log_probs) {
        let cell = (0..4).max_by(|&i, &j| z[i].total_cmp(&z[j])).unwrap();
        assert!(
            (lp - alpha[cell].ln()).abs() < 1e-5,
            "log α(s) of cell {cell}: {lp}"
        );
        counts[cell] += 1;
    }
    let chi2: f32 = (0..4)
        .map(|i| (counts[i] as f32 - n as f32 * alpha[i]).powi(2) / (n as f32 * alpha[i]))
        .sum();
    assert!(chi2 < 16.27, "χ² = {chi2} for counts {counts:?}");

    // Coins up (draw < 0.5): the expected context, and no REINFORCE term.
    let out = model.forward_sampled(
        annotations.narrow(0, 0, 2),
        tgt_in.narrow(0, 0, 2),
        &mut || 0.1,
    );
    assert_eq!(values(out.sample_log_probs.unwrap()), [0.0, 0.0]);
    let z = values(out.contexts);
    let beta = z.iter().sum::<f32>() / 2.0; // Σ_i β α_i = β
    let want: Vec<f32> = alpha.iter().map(|a| a * beta).collect();
    assert_close(&z[..4], &want, 1e-5, "expected context");
}

/// A training loss of the soft captioner: cross-entropy plus the doubly stochastic penalty.
fn loss(model: &Captioner, annotations: Tensor<3>, tgt_in: &[u32], tgt_out: &[u32]) -> Tensor<1> {
    let device = annotations.device();
    let out = model.forward(annotations, ids_tensor(tgt_in, 2, 3, &device));
    sequence_cross_entropy(out.logits, ids_tensor(tgt_out, 2, 3, &device)) + out.penalty.unwrap()
}

type Pick = fn(&mut Captioner) -> &mut Linear;

/// Central differences, ε = 1e-2 in f32, against autodiff on parameters of the attention
/// (`W`, `v`, `f_β`, the position embeddings `p`) and of the deep output (`L_h`, `L_z`,
/// `L_o`), within 5%; without and with coordinates (the last entries of a layer's weight
/// read the `y` coordinate when the layer reads the context).
#[test]
fn soft_gradients_match_finite_differences() {
    for coordinates in [false, true] {
        soft_gradients_match_finite_differences_with(coordinates);
    }
}

fn soft_gradients_match_finite_differences_with(coordinates: bool) {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 9);
    let ad = plain.clone().autodiff();
    let model = small(ContextKind::Soft)
        .with_coordinates(coordinates)
        .init(&ad);
    let annotations = values(random([2, 4, 4], &plain));
    let (tgt_in, tgt_out) = ([1, 5, 6, 1, 7, 0], [5, 6, 2, 7, 2, 0]);
    let grads = loss(
        &model,
        tensor(annotations.clone(), [2, 4, 4], &ad),
        &tgt_in,
        &tgt_out,
    )
    .backward();
    let frozen = model.valid();
    let f = |m: &Captioner| {
        loss(
            m,
            tensor(annotations.clone(), [2, 4, 4], &plain),
            &tgt_in,
            &tgt_out,
        )
        .into_scalar::<f32>()
    };
    let picks: [(&str, Pick); 6] = [
        ("W", |m| &mut m.attention.as_mut().unwrap().score.query_proj),
        ("v", |m| &mut m.attention.as_mut().unwrap().score.v),
        ("f_β", |m| &mut m.attention.as_mut().unwrap().gate),
        ("L_h", |m| &mut m.out_hidden),
        ("L_z", |m| &mut m.out_context),
        ("L_o", |m| &mut m.output),
    ];
    let eps = 1e-2f32;
    for (name, pick) in picks {
        let grad = values(pick(&mut model.clone()).weight.val().grad(&grads).unwrap());
        let n = grad.len();
        let ends = (0..n.min(4)).chain(n.saturating_sub(4).max(4)..n); // first and last 4
        assert_central_differences(name, &grad, ends, eps, |i, delta| {
            let mut m = frozen.clone();
            let layer = pick(&mut m);
            layer.weight = nudged(&layer.weight, i, delta);
            f(&m)
        });
    }
    // The cells' position embeddings p, which enter the keys and the context.
    let grad = values(
        model
            .attention
            .as_ref()
            .unwrap()
            .positions
            .val()
            .grad(&grads)
            .unwrap(),
    );
    assert_central_differences("p", &grad, 0..grad.len().min(8), eps, |i, delta| {
        let mut m = frozen.clone();
        let attention = m.attention.as_mut().unwrap();
        attention.positions = nudged(&attention.positions, i, delta);
        f(&m)
    });
}

/// A deterministic stream for the synthetic task: splitmix64.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E9B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Images of 4 cells with one object (class k, a one-hot bump e_k) in one random cell, the
/// others empty; the caption is the class's word (4 + k). Returns the annotations, `tgt_in`,
/// `tgt_out` and the object cells.
fn scenes(
    batch: usize,
    state: &mut u64,
    device: &Device,
) -> (Tensor<3>, Vec<u32>, Vec<u32>, Vec<usize>) {
    let mut pixels = vec![0.0f32; batch * 16];
    let (mut tgt_in, mut tgt_out, mut cells) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..batch {
        let (class, cell) = ((next(state) % 4) as usize, (next(state) % 4) as usize);
        pixels[b * 16 + cell * 4 + class] = 1.0;
        tgt_in.extend([BOS, 4 + class as u32]);
        tgt_out.extend([4 + class as u32, EOS]);
        cells.push(cell);
    }
    (
        tensor(pixels, [batch, 4, 4], device),
        tgt_in,
        tgt_out,
        cells,
    )
}

/// Soft attention learns to name the object and to look at its cell, in a few hundred steps.
#[test]
fn soft_attention_learns_to_find_the_object() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 10);
    let device = plain.clone().autodiff();
    let mut model = CaptionerConfig::new(8)
        .with_d_embed(8)
        .with_d_hidden(16)
        .with_d_annotation(4)
        .with_d_attention(8)
        .with_grid_cells(4)
        .with_doubly_stochastic(0.0)
        .init(&device);
    let mut optim = AdamConfig::new().init();
    let mut state = 11u64;
    let batch = 32;
    let mut last = f32::INFINITY;
    for _ in 0..300 {
        let (annotations, tgt_in, tgt_out, _) = scenes(batch, &mut state, &device);
        let out = model.forward(annotations, ids_tensor(&tgt_in, batch, 2, &device));
        let objective = sequence_cross_entropy(out.logits, ids_tensor(&tgt_out, batch, 2, &device));
        last = objective.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(objective.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    assert!(last < 0.05, "final training loss {last}");

    let model = model.valid();
    let (annotations, tgt_in, _, cells) = scenes(64, &mut state, &plain);
    let named = model.greedy(annotations.clone(), 3).tokens;
    for (b, words) in named.iter().enumerate() {
        assert_eq!(
            words,
            &[tgt_in[2 * b + 1]],
            "image {b}: the object's word, then EOS"
        );
    }
    let out = model.forward(annotations, ids_tensor(&tgt_in, 64, 2, &plain));
    let weights = values(out.weights.unwrap()); // [64, 2, 4]
    let hits = cells
        .iter()
        .enumerate()
        .filter(|&(b, &cell)| {
            let first = &weights[b * 8..b * 8 + 4];
            (0..4).max_by(|&i, &j| first[i].total_cmp(&first[j])) == Some(cell)
        })
        .count();
    assert!(
        hits >= 60,
        "attention on the object's cell in {hits} of 64 images"
    );
}
