//! All six alignment scores: values derived by hand, masking, gradients against central finite
//! differences, and the hard-attention sampler's frequencies (chi-squared); the registry's
//! names.

use std::f64::consts::{FRAC_1_SQRT_2, SQRT_2};

use burn::config::{Config, config_to_json};
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};
use models::attention::{attend, sample_positions};
use models::scores::{
    ContentScore, DotScore, GeneralScore, LocationScore, ScaledDotScore, Score, ScoreConfig,
    ScoreKind, help_list,
};

mod common;
use common::{seed_device, values};

fn linear(
    weight: Vec<f32>,
    bias: Option<Vec<f32>>,
    d_in: usize,
    d_out: usize,
    device: &Device,
) -> Linear {
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [d_in, d_out]),
            device,
        )),
        bias: bias
            .map(|b| Param::from_tensor(Tensor::from_data(TensorData::new(b, [d_out]), device))),
    }
}

fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (*g as f64 - w).abs() <= tol,
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

/// Query s = (1, 1); keys h_0 = (1, 0), h_1 = (0, 2), h_2 = (3, 3) padded.
/// Expected scores (e_0, e_1) and weights α = softmax(e_0, e_1), worked out by hand:
/// - dot: e = (1, 2); α = (1/(1+e), e/(1+e)) = (0.2689414, 0.7310586).
/// - scaled dot, d = 2: e = (1/√2, 2/√2) = (0.7071068, 1.4142136); α = (0.3302385, 0.6697615).
/// - general, W_a = [[1, 0], [0, -1]]: s W_a = (1, -1), e = (1, -2); α = (0.9525741, 0.0474259).
/// - location, W_a = [[1, 2, 3], [0, -1, 0]], b = (0.5, 0, 0): e = (1.5, 1, 3); α = (0.6224593, 0.3775407).
/// - content, W_k = I, w_β = (0.5, 0.5), b_β = 0: β = softplus(1) = ln(1 + e) = 1.3132617,
///   cos(s, h_0) = cos(s, h_1) = 1/√2, cos(s, h_2) = 1: e = (0.9286162, 0.9286162, 1.3132617);
///   α = (0.5, 0.5).
///
/// The context is α_0 h_0 + α_1 h_1 = (α_0, 2 α_1).
#[test]
fn each_score_matches_hand_derivation() {
    let device = Device::flex();
    let cases: Vec<(Score, Vec<f64>, [f64; 2])> = vec![
        (
            Score::Dot(DotScore { d_key: 2 }),
            vec![1.0, 2.0, 6.0],
            [0.2689414, 0.7310586],
        ),
        (
            Score::ScaledDot(ScaledDotScore { d_key: 2 }),
            vec![FRAC_1_SQRT_2, SQRT_2, 3.0 * SQRT_2],
            [0.3302385, 0.6697615],
        ),
        (
            Score::General(GeneralScore {
                bilinear: linear(vec![1.0, 0.0, 0.0, -1.0], None, 2, 2, &device),
            }),
            vec![1.0, -2.0, 0.0],
            [0.9525741, 0.0474259],
        ),
        (
            Score::Location(LocationScore {
                position_proj: linear(
                    vec![1.0, 2.0, 3.0, 0.0, -1.0, 0.0],
                    Some(vec![0.5, 0.0, 0.0]),
                    2,
                    3,
                    &device,
                ),
            }),
            vec![1.5, 1.0, 3.0],
            [0.6224593, 0.3775407],
        ),
        (
            Score::Content(ContentScore {
                key_proj: linear(vec![1.0, 0.0, 0.0, 1.0], None, 2, 2, &device),
                strength: linear(vec![0.5, 0.5], Some(vec![0.0]), 2, 1, &device),
            }),
            vec![0.9286162, 0.9286162, 1.3132617],
            [0.5, 0.5],
        ),
    ];
    let query = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0], [1, 2]), &device);
    let keys = Tensor::<3>::from_data(
        TensorData::new(vec![1.0f32, 0.0, 0.0, 2.0, 3.0, 3.0], [1, 3, 2]),
        &device,
    );
    let mask =
        Tensor::<2, Bool>::from_data(TensorData::new(vec![true, true, false], [1, 3]), &device);
    for (score, want_scores, [a0, a1]) in cases {
        let what = score.kind().name();
        let scores = score.scores(query.clone(), &score.prepare(keys.clone()));
        assert_close(&values(scores.clone()), &want_scores, 1e-6, what);
        let out = attend(scores, mask.clone(), &keys);
        assert_close(&values(out.weights), &[a0, a1, 0.0], 1e-6, what);
        assert_close(&values(out.context), &[a0, 2.0 * a1], 1e-6, what);
    }
}

fn random_inputs(
    device: &Device,
    batch: usize,
    src: usize,
    d: usize,
) -> (Tensor<2>, Tensor<3>, Tensor<2>) {
    (
        Tensor::random([batch, d], Distribution::Normal(0.0, 1.0), device),
        Tensor::random([batch, src, d], Distribution::Normal(0.0, 1.0), device),
        Tensor::random([batch, d], Distribution::Normal(0.0, 1.0), device),
    )
}

/// Row 0 has 3 real positions of 5, row 1 all 5.
fn mask(device: &Device) -> Tensor<2, Bool> {
    let m = vec![true, true, true, false, false, true, true, true, true, true];
    Tensor::from_data(TensorData::new(m, [2, 5]), device)
}

#[test]
fn every_score_gives_padding_exactly_zero_weight_and_rows_summing_to_one() {
    let device = Device::flex();
    let _rng = seed_device(&device, 11);
    for kind in ScoreKind::ALL {
        let score = ScoreConfig::new(kind, 4, 4)
            .with_d_attention(3)
            .with_max_src_len(5)
            .init(&device);
        let (query, keys, _) = random_inputs(&device, 2, 5, 4);
        // Padded keys far larger than real ones must still get nothing.
        let keys = keys.mul_scalar(1.0)
            + mask(&device)
                .bool_not()
                .float()
                .unsqueeze_dim::<3>(2)
                .mul_scalar(50.0);
        let scores = score.scores(query, &score.prepare(keys.clone()));
        let w = values(attend(scores, mask(&device), &keys).weights);
        assert_eq!(&w[3..5], &[0.0, 0.0], "{}: padded weights", kind.name());
        for row in w.chunks(5) {
            let sum: f32 = row.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-5,
                "{}: row sums to {sum}",
                kind.name()
            );
        }
    }
}

/// Σ r ⊙ context, a scalar function of the query, keys and parameters.
fn objective(
    score: &Score,
    query: Tensor<2>,
    keys: Tensor<3>,
    r: Tensor<2>,
    mask: Tensor<2, Bool>,
) -> Tensor<1> {
    let scores = score.scores(query, &score.prepare(keys.clone()));
    (attend(scores, mask, &keys).context * r).sum()
}

/// The score's first weight matrix, if it has one (the parameter checked by differences).
/// A score not named here has its gradients checked for the query and keys only.
fn first_weight(score: &mut Score) -> Option<&mut Param<Tensor<2>>> {
    match score {
        Score::Content(s) => Some(&mut s.key_proj.weight),
        Score::Additive(s) => Some(&mut s.query_proj.weight),
        Score::Location(s) => Some(&mut s.position_proj.weight),
        Score::General(s) => Some(&mut s.bilinear.weight),
        _ => None,
    }
}

#[test]
fn every_score_has_gradients_matching_finite_differences() {
    let plain = Device::flex();
    let ad = plain.clone().autodiff();
    let (batch, src, d) = (2, 5, 4);
    for kind in ScoreKind::ALL {
        let _rng = seed_device(&plain, 21);
        let mut score = ScoreConfig::new(kind, d, d)
            .with_d_attention(3)
            .with_max_src_len(src)
            .init(&ad);
        let (q, k, r) = random_inputs(&plain, batch, src, d);
        let (q, k, r) = (values(q), values(k), values(r));
        let q_t = |v: &[f32], dev: &Device| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), [batch, d]), dev)
        };
        let k_t = |v: &[f32], dev: &Device| {
            Tensor::<3>::from_data(TensorData::new(v.to_vec(), [batch, src, d]), dev)
        };

        let q_ad = q_t(&q, &ad).require_grad();
        let k_ad = k_t(&k, &ad).require_grad();
        let grads =
            objective(&score, q_ad.clone(), k_ad.clone(), q_t(&r, &ad), mask(&ad)).backward();
        let g_q = values(q_ad.grad(&grads).unwrap());
        // The location score never reads the keys' values: no gradient reaches them there.
        let g_k = k_ad
            .grad(&grads)
            .map(values)
            .unwrap_or_else(|| vec![0.0; k.len()]);
        let g_w = first_weight(&mut score).map(|w| values(w.val().grad(&grads).unwrap()));

        let frozen = score.valid();
        let f = |m: &Score, qv: &[f32], kv: &[f32]| {
            objective(
                m,
                q_t(qv, &plain),
                k_t(kv, &plain),
                q_t(&r, &plain),
                mask(&plain),
            )
            .into_scalar::<f32>()
        };
        let (eps, tol) = (1e-2f32, 3e-3f32);
        let name = kind.name();
        for i in 0..q.len() {
            let (mut up, mut down) = (q.clone(), q.clone());
            up[i] += eps;
            down[i] -= eps;
            let fd = (f(&frozen, &up, &k) - f(&frozen, &down, &k)) / (2.0 * eps);
            assert!(
                (fd - g_q[i]).abs() < tol,
                "{name}: d/dquery[{i}] autodiff {} fd {fd}",
                g_q[i]
            );
        }
        for i in 0..k.len() {
            let (mut up, mut down) = (k.clone(), k.clone());
            up[i] += eps;
            down[i] -= eps;
            let fd = (f(&frozen, &q, &up) - f(&frozen, &q, &down)) / (2.0 * eps);
            assert!(
                (fd - g_k[i]).abs() < tol,
                "{name}: d/dkeys[{i}] autodiff {} fd {fd}",
                g_k[i]
            );
            // Row 0, positions 3 and 4 are padding: no influence at all.
            if i < src * d && i / d >= 3 {
                assert_eq!(g_k[i], 0.0, "{name}: padded key {i} gets no gradient");
            }
        }
        if let Some(g_w) = g_w {
            let perturbed = |i: usize, delta: f32| {
                let mut m = frozen.clone();
                let w = first_weight(&mut m).unwrap();
                let dims = w.val().dims();
                let mut data = values(w.val());
                data[i] += delta;
                *w = Param::from_tensor(Tensor::from_data(TensorData::new(data, dims), &plain));
                m
            };
            for (i, g) in g_w.iter().enumerate() {
                let fd =
                    (f(&perturbed(i, eps), &q, &k) - f(&perturbed(i, -eps), &q, &k)) / (2.0 * eps);
                assert!(
                    (fd - g).abs() < tol,
                    "{name}: d/dW[{i}] autodiff {g} fd {fd}"
                );
            }
        }
    }
}

/// The hard-attention sampler draws position i with probability α_i: Pearson's chi-squared
/// over 20,000 seeded draws against α = (0.1, 0.2, 0.3, 0.4, 0) stays below the 0.1% critical
/// value for 3 degrees of freedom (16.27), and the zero-weight position is never drawn.
#[test]
fn hard_attention_samples_positions_with_the_attention_probabilities() {
    let device = Device::flex();
    let _rng = seed_device(&device, 1234);
    let n = 20_000;
    let alpha = [0.1f32, 0.2, 0.3, 0.4, 0.0];
    let weights = Tensor::<1>::from_data(TensorData::new(alpha.to_vec(), [5]), &device)
        .unsqueeze_dim::<2>(0)
        .repeat_dim(0, n); // [n, 5]
    let positions: Vec<i64> = sample_positions(weights)
        .into_data()
        .iter::<i64>()
        .collect();
    let mut counts = [0usize; 5];
    for p in positions {
        counts[p as usize] += 1;
    }
    assert_eq!(counts[4], 0, "a zero-weight position is never sampled");
    let chi2: f64 = (0..4)
        .map(|i| {
            let expected = n as f64 * alpha[i] as f64;
            (counts[i] as f64 - expected).powi(2) / expected
        })
        .sum();
    assert!(chi2 < 16.27, "chi-squared {chi2:.2} for counts {counts:?}");
    // And the test has power: the same counts against a uniform α are rejected.
    let chi2_uniform: f64 = (0..4)
        .map(|i| (counts[i] as f64 - n as f64 / 4.0).powi(2) / (n as f64 / 4.0))
        .sum();
    assert!(
        chi2_uniform > 16.27,
        "uniform chi-squared {chi2_uniform:.2}"
    );
}

#[test]
fn dot_scores_refuse_mismatched_sizes() {
    let err = ScoreConfig::new(ScoreKind::Dot, 4, 6).check().unwrap_err();
    assert!(
        err.contains("query size (4)") && err.contains("key size (6)"),
        "{err}"
    );
    assert!(ScoreConfig::new(ScoreKind::General, 4, 6).check().is_ok());
    assert_eq!("scaled-dot".parse::<ScoreKind>(), Ok(ScoreKind::ScaledDot));
    assert!(
        "cosine"
            .parse::<ScoreKind>()
            .unwrap_err()
            .contains("content")
    );
}

/// Every score of the registry parses from its name and goes through a config file as it;
/// names are unique; `ScoreKind::ALL` is in registry order, starting with the six scores the
/// committed results were run with, in their order.
#[test]
fn registry_names_round_trip_for_every_score() {
    let device = Device::flex();
    let names: Vec<&str> = ScoreKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(
        names[..6],
        [
            "content",
            "additive",
            "location",
            "general",
            "dot",
            "scaled-dot"
        ]
    );
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "names are unique: {names:?}");
    let help = help_list();
    let mut rest = help.as_str();
    for (i, kind) in ScoreKind::ALL.into_iter().enumerate() {
        let name = kind.name();
        assert_eq!(kind as usize, i, "{name}: ALL is in declaration order");
        assert_eq!(name.parse::<ScoreKind>(), Ok(kind));
        let config = ScoreConfig::new(kind, 4, 4);
        let json = config_to_json(&config);
        assert!(json.contains(&format!("\"kind\": \"{name}\"")), "{json}");
        let back = ScoreConfig::load_binary(json.as_bytes()).unwrap();
        assert_eq!(back.kind, kind);
        assert_eq!(back.init(&device).kind(), kind);
        // The help lists every score, in order, with its paper.
        let entry = format!("{name} ({}: {})", kind.paper(), kind.description());
        let at = rest
            .find(&entry)
            .unwrap_or_else(|| panic!("help list lacks `{entry}` (in order): {help}"));
        rest = &rest[at + entry.len()..];
    }
    assert!(
        ScoreConfig::load_binary(br#"{"kind": "scaled_dot", "d_query": 4, "d_key": 4}"#).is_err()
    );
}
