//! The recurrent attention model (Mnih et al. 2014): the glimpse sensor on a hand-made
//! canvas, clamping and determinism of the sampled locations, the hybrid loss on a hand case,
//! the REINFORCE estimator against an exact gradient, gradients against finite differences,
//! the FLOP counts against hand counts, a tiny task where RAM must learn where to look, and
//! the whole-image baselines' shapes.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Gradients, Int, Tensor, TensorData};
use models::vision::{
    ConvClassifierConfig, GlimpseSensorConfig, LocationPolicy, LocationSampling,
    MlpClassifierConfig, Ram, RamConfig, RamOutput, gaussian_log_density, hybrid_loss,
    standard_normals,
};

mod common;
use common::{assert_central_differences, assert_close, nudged, seed_device, tensor, values};

/// splitmix64, as uniform draws in `[0, 1)`: the host stream every sampled pass reads.
fn uniform_stream(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E9B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn labels(ids: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(ids.to_vec(), [ids.len()]), device)
}

/// A small RAM: 8-pixel canvas, 2 × 2 patches at 2 scales, widths 3 to 4, 3 classes, 2 glimpses.
fn tiny() -> RamConfig {
    RamConfig::new(8)
        .with_patch(2)
        .with_scales(2)
        .with_d_what(3)
        .with_d_where(3)
        .with_d_glimpse(4)
        .with_d_hidden(4)
        .with_n_classes(3)
        .with_glimpses(2)
}

/// Canvas `p(row, col) = 8 row + col + 1` (1 to 64). At (0, 0) the centre is the corner 4:
/// scale 0 reads rows and columns 3-4, scale 1 rows and columns 2-5 in 2 × 2 blocks. At
/// (-1, -1) the squares hang three quarters off the top-left corner, at (1, 1) off the
/// bottom-right: zeros averaged in. (0.5, -0.5) is column 6, row 2: x is the column.
#[test]
fn sensor_reads_a_hand_made_canvas() {
    let sensor = GlimpseSensorConfig::new()
        .with_patch(2)
        .with_scales(2)
        .init();
    let canvas: Vec<f32> = (1..=64).map(|v| v as f32).collect();
    let tenfold: Vec<f32> = canvas.iter().map(|v| 10.0 * v).collect();
    let images = [&canvas[..], &canvas, &tenfold, &canvas].concat();
    let locations = [[0.0, 0.0], [-1.0, -1.0], [1.0, 1.0], [0.5, -0.5]];
    let got = sensor.extract(&images, 8, &locations);
    #[rustfmt::skip]
    let want = [
        28.0, 29.0, 36.0, 37.0,   23.5, 25.5, 39.5, 41.5, // centre
        0.0, 0.0, 0.0, 1.0,       0.0, 0.0, 0.0, 5.5,     // (1 + 2 + 9 + 10) / 4
        640.0, 0.0, 0.0, 0.0,     595.0, 0.0, 0.0, 0.0,   // 10 (55 + 56 + 63 + 64) / 4
        14.0, 15.0, 22.0, 23.0,   9.5, 11.5, 25.5, 27.5,  // rows 0-3, columns 4-7
    ];
    assert_eq!(got, want);
    let squares = sensor.squares(8, [-1.0, -1.0]);
    assert_eq!(
        (squares[1].left, squares[1].top, squares[1].size),
        (-2, -2, 4)
    );
}

fn set(layer: &mut Linear, weight: f32, bias: &[f32]) {
    let device = layer.weight.val().device();
    let dims = layer.weight.dims();
    layer.weight = Param::from_tensor(Tensor::full(dims, weight, &device));
    layer.bias = Some(Param::from_tensor(tensor(
        bias.to_vec(),
        [bias.len()],
        &device,
    )));
}

/// A mean pushed to the corner (tanh(±50) = ±1) with noise, and a 7.4σ draw (u₁ = 1 − 2⁻⁴⁰)
/// from a mean of 0, both stay on the canvas; the log-density is the unclamped sample's.
#[test]
fn sampled_locations_are_clamped_to_the_canvas() {
    let device = Device::flex();
    let _rng = seed_device(&device, 1);
    let images = vec![0.5f32; 4 * 64];
    let mut model = tiny().init(&device);
    set(&mut model.locator, 0.0, &[50.0, -50.0]);
    let mut uniform = uniform_stream(3);
    let out = model.forward(
        &images,
        4,
        LocationSampling::Stochastic(&mut uniform),
        &device,
    );
    let all: Vec<[f32; 2]> = out.locations.concat();
    assert!(all.iter().flatten().all(|v| (-1.0..=1.0).contains(v)));
    assert!(all.iter().any(|l| l[0] == 1.0) && all.iter().any(|l| l[1] == -1.0));

    let sigma = 0.5;
    let mut model = tiny().with_location_std(sigma).init(&device);
    set(&mut model.locator, 0.0, &[0.0, 0.0]);
    let tail = 2f64.powi(-40);
    let mut draws = [1.0 - tail, 0.0].into_iter().cycle();
    let mut uniform = || draws.next().unwrap();
    let out = model.forward(
        &images[..64],
        1,
        LocationSampling::Stochastic(&mut uniform),
        &device,
    );
    assert_eq!(out.locations[0], vec![[1.0, 0.0]; 2]);
    // ε = (sqrt(-2 ln 2⁻⁴⁰), 0): l = (σ ε_x, 0) = (3.7, 0) before clamping.
    let x = sigma * (-2.0 * tail.ln()).sqrt();
    let peak = -sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let want = (-x * x / (2.0 * sigma * sigma) + 2.0 * peak) as f32;
    assert_close(&values(out.log_policy), &[want, want], 1e-4, "log π");
}

/// The same stream gives the same pass; `Mean` needs none; the random policy draws `2u − 1`
/// from the stream and has no log-density.
#[test]
fn passes_are_deterministic_given_the_stream() {
    let device = Device::flex();
    let _rng = seed_device(&device, 2);
    let images: Vec<f32> = (0..3 * 64).map(|i| (i % 7) as f32 / 7.0).collect();
    let model = tiny().init(&device);
    let pass = |seed| {
        let mut uniform = uniform_stream(seed);
        model.forward(
            &images,
            3,
            LocationSampling::Stochastic(&mut uniform),
            &device,
        )
    };
    let (a, b, c) = (pass(5), pass(5), pass(6));
    assert_eq!(a.logits.dims(), [3, 3]);
    assert_eq!(a.log_policy.dims(), [3, 2]);
    assert_eq!(a.baselines.dims(), [3, 2]);
    assert_eq!(a.locations, b.locations);
    assert_eq!(values(a.logits.clone()), values(b.logits));
    assert_ne!(a.locations, c.locations);
    // Replaying the sampled trajectory gives the same classification.
    let replay = model.forward_at(&images, &a.locations, &device);
    assert_close(&values(replay.logits), &values(a.logits), 1e-6, "replay");

    let mean = model.forward(&images, 3, LocationSampling::Mean, &device);
    let again = model.forward(&images, 3, LocationSampling::Mean, &device);
    assert_eq!(mean.locations, again.locations);

    let random = tiny().with_policy(LocationPolicy::Random).init(&device);
    let mut uniform = uniform_stream(7);
    let out = random.forward(
        &images,
        3,
        LocationSampling::Stochastic(&mut uniform),
        &device,
    );
    let mut check = uniform_stream(7);
    let first = [0, 1].map(|_| (2.0 * check() - 1.0) as f32);
    assert_eq!(out.locations[0][0], first);
    assert!(values(out.log_policy).iter().all(|&v| v == 0.0));
}

#[test]
#[should_panic(expected = "no mean location")]
fn the_random_policy_has_no_mean() {
    let device = Device::flex();
    // Every test that draws parameters holds the seed lock: an unseeded draw in parallel
    // would shift another test's seeded initialization.
    let _rng = seed_device(&device, 3);
    let model = tiny().with_policy(LocationPolicy::Random).init(&device);
    model.forward(&[0.0; 64], 1, LocationSampling::Mean, &device);
}

/// Two images, both predicted class 0, labels (0, 1): R = (1, 0). With log π and b below:
/// REINFORCE −½[(1 − .5)(−1) + (1 − .2)(−2) + (0 − .1)(−.5) + (0 − .3)(−1)] = 0.875, baseline
/// MSE ¼(.25 + .64 + .01 + .09) = 0.2475, accuracy ½. Gradients: log π gets −(R − b) / B, the
/// baselines (b − R) / B · 2 / N only (the advantage is detached).
#[test]
fn hybrid_loss_matches_hand_derivation() {
    let device = Device::flex().autodiff();
    let logits = tensor(vec![2.0, 0.0, 1.0, -1.0], [2, 2], &device).require_grad();
    let log_policy = tensor(vec![-1.0, -2.0, -0.5, -1.0], [2, 2], &device).require_grad();
    let baselines = tensor(vec![0.5, 0.2, 0.1, 0.3], [2, 2], &device).require_grad();
    let output = RamOutput {
        logits: logits.clone(),
        log_policy: log_policy.clone(),
        baselines: baselines.clone(),
        locations: vec![vec![[0.0, 0.0]; 2]; 2],
    };
    let loss = hybrid_loss(&output, labels(&[0, 1], &device));
    // CE: ½[ln(1 + e⁻²) + ln(1 + e²)] = ½(0.126928 + 2.126928).
    assert!((loss.cross_entropy - 1.126928).abs() < 1e-5, "{loss:?}");
    assert!((loss.reinforce - 0.875).abs() < 1e-6, "{loss:?}");
    assert!((loss.baseline_mse - 0.2475).abs() < 1e-6, "{loss:?}");
    assert_eq!(loss.accuracy, 0.5);
    let total = values(loss.objective.clone())[0] as f64;
    assert!((total - (1.126928 + 0.875 + 0.2475)).abs() < 1e-5);
    let grads = loss.objective.backward();
    let want = [-0.25, -0.4, 0.05, 0.15];
    assert_close(
        &values(log_policy.grad(&grads).unwrap()),
        &want,
        1e-6,
        "∂/∂ log π",
    );
    assert_close(
        &values(baselines.grad(&grads).unwrap()),
        &want,
        1e-6,
        "∂/∂ b",
    );
    assert!(logits.grad(&grads).is_some());
}

/// One step, `l ~ N(μ, σ²)`, reward `r(l) = −(l − c)²`: `E[r] = −((μ − c)² + σ²)`, so
/// `dE[r]/dμ = −2(μ − c)`. The per-sample estimator `(r − b) ∂ log π / ∂μ`, by autodiff
/// through [`gaussian_log_density`], averages to it within 4 standard errors, with or
/// without the baseline `b = E[r]`; the baseline cuts its variance (about 22 → 5.4 here).
#[test]
fn reinforce_matches_the_exact_gradient_and_the_baseline_cuts_its_variance() {
    let device = Device::flex().autodiff();
    let (mu, c, sigma, m) = (0.2f64, -0.6f64, 0.17f64, 20_000usize);
    let mut uniform = uniform_stream(11);
    let samples: Vec<f64> = (0..m / 2)
        .flat_map(|_| standard_normals(&mut uniform))
        .map(|e| mu + sigma * e)
        .collect();
    let exact = -2.0 * (mu - c);
    let expected_reward = -((mu - c).powi(2) + sigma * sigma);
    let mut variances = Vec::new();
    for baseline in [0.0, expected_reward] {
        // One copy of μ per sample, so that autodiff returns each sample's gradient.
        let means = Tensor::<2>::full([m, 1], mu as f32, &device).require_grad();
        let drawn: Vec<f32> = samples.iter().map(|&l| l as f32).collect();
        let log_pi = gaussian_log_density(tensor(drawn, [m, 1], &device), means.clone(), sigma);
        let advantage: Vec<f32> = samples
            .iter()
            .map(|&l| (-(l - c).powi(2) - baseline) as f32)
            .collect();
        let surrogate = (tensor(advantage.clone(), [m], &device) * log_pi).sum();
        let grads = surrogate.backward();
        let per_sample: Vec<f64> = values(means.grad(&grads).unwrap())
            .into_iter()
            .map(f64::from)
            .collect();
        // The score function is (l − μ) / σ².
        for i in [0, 1, m - 1] {
            let want = f64::from(advantage[i]) * (samples[i] - mu) / (sigma * sigma);
            assert!((per_sample[i] - want).abs() < 1e-3 * want.abs().max(1.0));
        }
        let mean = per_sample.iter().sum::<f64>() / m as f64;
        let var = per_sample.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
        let standard_error = (var / m as f64).sqrt();
        assert!(
            (mean - exact).abs() < 4.0 * standard_error,
            "baseline {baseline}: estimate {mean} ± {standard_error}, exact {exact}"
        );
        variances.push(var);
    }
    assert!(
        variances[1] < 0.5 * variances[0],
        "variance without baseline {}, with {}",
        variances[0],
        variances[1]
    );
}

type Pick = fn(&mut Ram) -> &mut Linear;

/// The glimpse and core networks: what the cross-entropy trains, and what the policy
/// gradient reaches only when asked.
const GLIMPSE_AND_CORE: [(&str, Pick); 6] = [
    ("glimpse_pixels", |m| &mut m.glimpse_pixels),
    ("glimpse_location", |m| &mut m.glimpse_location),
    ("glimpse_what", |m| &mut m.glimpse_what),
    ("glimpse_where", |m| &mut m.glimpse_where),
    ("core_hidden", |m| &mut m.core_hidden),
    ("core_glimpse", |m| &mut m.core_glimpse),
];

/// Each picked layer's weight gradient in `grads` (of `loss` on `model`) against central
/// finite differences of `loss` computed on `plain`, at its first 6 entries.
fn assert_weight_gradients(
    model: &mut Ram,
    grads: &Gradients,
    picks: &[(&str, Pick)],
    plain: &Device,
    loss: impl Fn(&Ram, &Device) -> Tensor<1>,
) {
    let frozen = model.valid();
    for &(name, pick) in picks {
        let grad = values(pick(model).weight.val().grad(grads).unwrap());
        assert_central_differences(name, &grad, 0..grad.len().min(6), 1e-2, |i, delta| {
            let mut m = frozen.clone();
            let layer = pick(&mut m);
            layer.weight = nudged(&layer.weight, i, delta);
            loss(&m, plain).into_scalar::<f32>()
        });
    }
}

/// No picked layer gets a gradient (or only zeros) in `grads`, the gradients of `what`.
fn assert_no_weight_gradients(
    model: &mut Ram,
    grads: &Gradients,
    picks: &[(&str, Pick)],
    what: &str,
) {
    for &(name, pick) in picks {
        let grad = pick(model).weight.val().grad(grads);
        assert!(
            grad.is_none_or(|g| values(g).iter().all(|&v| v == 0.0)),
            "{name} gets a gradient from {what}"
        );
    }
}

/// The cross-entropy's gradient in the glimpse, core and classifier weights, and the
/// gradient of `Σ w·log π + Σ v·b` in the location and baseline layers, against central
/// finite differences, at fixed locations (a pass that samples them would move them with
/// the weights, a path no gradient takes). The second loss leaves the glimpse and core
/// networks without a gradient: the location network and the baseline read `h_t` detached.
#[test]
fn gradients_match_finite_differences() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 4);
    let ad = plain.clone().autodiff();
    let mut model = tiny().init(&ad);
    let images: Vec<f32> = (0..2 * 64).map(|i| ((i * 37) % 11) as f32 / 11.0).collect();
    let locations = vec![
        vec![[0.1, -0.3], [0.6, 0.2]],
        vec![[-0.7, 0.4], [0.0, -0.9]],
    ];
    let weights = [0.3f32, -0.8, 0.5, 1.1];
    let cross_entropy = |m: &Ram, device: &Device| {
        let out = m.forward_at(&images, &locations, device);
        log_softmax(out.logits, 1)
            .gather(
                1,
                Tensor::from_data(TensorData::new(vec![2i64, 0], [2, 1]), device),
            )
            .mean()
            .neg()
    };
    let policy = |m: &Ram, device: &Device| {
        let out = m.forward_at(&images, &locations, device);
        let w = tensor(weights.to_vec(), [2, 2], device);
        let v = tensor(weights.iter().rev().copied().collect(), [2, 2], device);
        (out.log_policy * w).sum() + (out.baselines * v).sum()
    };
    let heads: [(&str, Pick); 2] = [
        ("locator", |m| &mut m.locator),
        ("baseline", |m| &mut m.baseline),
    ];
    let trained_by_cross_entropy: Vec<(&str, Pick)> = GLIMPSE_AND_CORE
        .into_iter()
        .chain([("classifier", (|m| &mut m.classifier) as Pick)])
        .collect();
    let grads = cross_entropy(&model, &ad).backward();
    assert_weight_gradients(
        &mut model,
        &grads,
        &trained_by_cross_entropy,
        &plain,
        cross_entropy,
    );
    let grads = policy(&model, &ad).backward();
    assert_weight_gradients(&mut model, &grads, &heads, &plain, policy);
    assert_no_weight_gradients(
        &mut model,
        &grads,
        &GLIMPSE_AND_CORE,
        "the policy or the baseline",
    );
    assert!(model.classifier.weight.val().grad(&grads).is_none());
}

/// With `policy_gradient_to_core`, the gradient of `Σ w·log π` reaches the glimpse and core
/// networks (the paper's way), and matches central finite differences there; the baseline's
/// term still reaches neither, and the classifier gets nothing from either.
#[test]
fn the_policy_gradient_reaches_the_core_when_asked() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 4);
    let ad = plain.clone().autodiff();
    let mut model = tiny()
        .with_glimpses(3)
        .init(&ad)
        .with_policy_gradient_to_core(true);
    let images: Vec<f32> = (0..2 * 64).map(|i| ((i * 29) % 13) as f32 / 13.0).collect();
    let locations = vec![
        vec![[0.1, -0.3], [0.6, 0.2], [-0.2, 0.5]],
        vec![[-0.7, 0.4], [0.0, -0.9], [0.3, 0.3]],
    ];
    let weights = [0.3f32, -0.8, 0.5, 1.1, -0.4, 0.9];
    let policy = |m: &Ram, device: &Device| {
        let out = m.forward_at(&images, &locations, device);
        (out.log_policy * tensor(weights.to_vec(), [2, 3], device)).sum()
    };
    let baseline = |m: &Ram, device: &Device| {
        let out = m.forward_at(&images, &locations, device);
        (out.baselines * tensor(weights.to_vec(), [2, 3], device)).sum()
    };
    let grads = policy(&model, &ad).backward();
    for (name, pick) in GLIMPSE_AND_CORE {
        let grad = values(pick(&mut model).weight.val().grad(&grads).unwrap());
        assert!(
            grad.iter().any(|&v| v != 0.0),
            "{name} gets no gradient from the policy"
        );
    }
    assert_weight_gradients(&mut model, &grads, &GLIMPSE_AND_CORE, &plain, policy);
    assert!(model.classifier.weight.val().grad(&grads).is_none());
    let grads = baseline(&model, &ad).backward();
    assert_no_weight_gradients(&mut model, &grads, &GLIMPSE_AND_CORE, "the baseline");
}

/// Hand counts, 2 FLOPs per multiply-accumulate, sensor pixels counted once. RAM with a 2 × 2
/// patch at 2 scales, h_g 3, h_l 4, g 5, h 6, 7 classes, 3 glimpses: per glimpse the sensor
/// reads 4 + 16 = 20 pixels and the layers do 8·3 + 2·4 + 3·5 + 4·5 + 6·6 + 5·6 + 6·2 = 145
/// multiply-adds (133 without the location network of the random policy); then 6·7 for the
/// classifier: 3 (20 + 290) + 84 = 1014, or 3 (20 + 266) + 84 = 942, whatever the canvas.
#[test]
fn flop_counts_match_hand_counts() {
    let ram = |canvas| {
        RamConfig::new(canvas)
            .with_patch(2)
            .with_scales(2)
            .with_d_what(3)
            .with_d_where(4)
            .with_d_glimpse(5)
            .with_d_hidden(6)
            .with_n_classes(7)
            .with_glimpses(3)
    };
    assert_eq!(ram(16).flops_per_image(), 1014);
    assert_eq!(ram(100).flops_per_image(), 1014);
    let random = ram(16).with_policy(LocationPolicy::Random);
    assert_eq!(random.flops_per_image(), 942);

    // 2 (16·5 + 5·5 + 5·3) = 240.
    let mlp = MlpClassifierConfig::new(4).with_hidden(5).with_n_classes(3);
    assert_eq!(mlp.flops_per_image(), 240);

    // 28 pixels: a 4 × 4 map of 8 filters, 16·8·100 + 8·16·256 + 256·10 = 48128 multiply-adds;
    // 60 pixels: 11 × 11, 121·8·100 + 8·121·256 + 2560 = 347168.
    let conv = |canvas| ConvClassifierConfig::new(canvas);
    assert_eq!(conv(28).flops_per_image(), 96_256);
    assert_eq!(conv(60).flops_per_image(), 694_336);
    assert!(conv(100).flops_per_image() > conv(60).flops_per_image());
    let paper = RamConfig::new(60);
    assert_eq!(
        paper.flops_per_image(),
        RamConfig::new(100).flops_per_image()
    );
    // The counts follow the layers' real shapes.
    let device = Device::flex();
    let _rng = seed_device(&device, 6);
    let net = conv(28).init(&device);
    assert_eq!(net.conv.weight.dims(), [8, 1, 10, 10]);
    assert_eq!(net.hidden.weight.dims(), [8 * 16, 256]);
}

#[test]
fn whole_image_baselines_map_canvases_to_logits() {
    let device = Device::flex();
    let _rng = seed_device(&device, 5);
    let mlp = MlpClassifierConfig::new(6).with_hidden(64).init(&device);
    assert_eq!(mlp.forward(Tensor::zeros([3, 36], &device)).dims(), [3, 10]);
    for (canvas, side) in [(28, 4), (60, 11), (100, 19)] {
        let config = ConvClassifierConfig::new(canvas).with_n_classes(4);
        assert_eq!(config.feature_side(), side);
        let net = config.init(&device);
        let logits = net.forward(Tensor::zeros([2, 1, canvas, canvas], &device));
        assert_eq!(logits.dims(), [2, 4]);
    }
    assert!(ConvClassifierConfig::new(8).check().is_err());
}

/// `n` 16 × 16 canvases of three patterns drawn in the top-left corner (rows and columns 1
/// to 6): a horizontal bar, a vertical bar or a diagonal, on faint noise everywhere; labels
/// 0, 1, 2. A 4-pixel patch at the centre of the canvas sees none of it; its 8-pixel second
/// scale sees the pattern's edge.
fn corner_patterns(n: usize, uniform: &mut impl FnMut() -> f64) -> (Vec<f32>, Vec<i64>) {
    let mut images = Vec::with_capacity(n * 256);
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let class = (uniform() * 3.0) as usize;
        let mut canvas: Vec<f32> = (0..256).map(|_| 0.2 * uniform() as f32).collect();
        for i in 0..6 {
            let (row, col) = match class {
                0 => (2, i),
                1 => (i, 2),
                _ => (i, i),
            };
            canvas[(1 + row) * 16 + 1 + col] = 1.0;
        }
        images.extend(canvas);
        ids.push(class as i64);
    }
    (images, ids)
}

/// Trains a RAM (3 glimpses of 4 × 4 at 2 scales) on [`corner_patterns`] by the hybrid loss,
/// 600 Adam steps of 32 images, and scores 300 fresh images with sampled glimpses: the
/// accuracy, and the mean location of the last glimpse.
fn train_on_corner_patterns(policy: LocationPolicy) -> (f64, [f32; 2]) {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 7);
    let device = plain.clone().autodiff();
    let mut model = RamConfig::new(16)
        .with_patch(4)
        .with_scales(2)
        .with_d_what(32)
        .with_d_where(16)
        .with_d_glimpse(32)
        .with_d_hidden(32)
        .with_n_classes(3)
        .with_glimpses(3)
        .with_policy(policy)
        .init(&device);
    let mut optim = AdamConfig::new().init();
    let (mut data, mut noise) = (uniform_stream(71), uniform_stream(72));
    let batch = 32;
    for _ in 0..600 {
        let (images, ids) = corner_patterns(batch, &mut data);
        let out = model.forward(
            &images,
            batch,
            LocationSampling::Stochastic(&mut noise),
            &device,
        );
        let loss = hybrid_loss(&out, labels(&ids, &device));
        let grads = GradientsParams::from_grads(loss.objective.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let model = model.valid();
    let n = 300;
    let (images, ids) = corner_patterns(n, &mut data);
    let out = model.forward(&images, n, LocationSampling::Stochastic(&mut noise), &plain);
    let accuracy = hybrid_loss(&out, labels(&ids, &plain)).accuracy;
    let last = [0, 1].map(|i| out.locations.iter().map(|l| l[2][i]).sum::<f32>() / n as f32);
    (accuracy, last)
}

/// The learned policy finds the corner: at least 95% right (chance 33%; measured 100%), its
/// last glimpse on average in the top-left quadrant (measured (-0.49, -0.58)), where the
/// random-glimpses baseline, trained alike, stays at least 5 points lower (measured 75.7%).
/// In probes with other seeds and 800 steps: learned 99.3-100% (six runs), random 75-83%
/// (three). With the REINFORCE term cut off, the learned policy scores 75%: it is the
/// location network's training that is tested here, not only the classifier's.
#[test]
fn ram_learns_where_to_look() {
    let (learned, last) = train_on_corner_patterns(LocationPolicy::Learned);
    assert!(learned >= 0.95, "learned policy: accuracy {learned}");
    assert!(
        last[0] < -0.15 && last[1] < -0.15,
        "the last glimpse stays at {last:?} on average"
    );
    let (random, _) = train_on_corner_patterns(LocationPolicy::Random);
    assert!(
        random < learned - 0.05,
        "random glimpses {random}, learned {learned}"
    );
}
