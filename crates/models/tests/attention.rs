//! The additive score and masked attention against values derived by hand, and their
//! gradients against central finite differences.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use models::attention::{attend, masked_softmax};
use models::scores::{AdditiveScore, Score, ScoreConfig, ScoreKind};

mod common;
use common::{assert_close, seed_device, values};

fn device() -> Device {
    Device::flex()
}

fn linear(weight: Vec<f32>, d_in: usize, d_out: usize, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [d_in, d_out]),
            device,
        )),
        bias: None,
    }
}

/// W = U = I, v = (1, -1): e_i = tanh(s_1 + h_i1) - tanh(s_2 + h_i2).
/// s = (0.5, 0); h_0 = (0, 0), h_1 = (1, 0.5), h_2 = (2, 2) padded.
///   e_0 = tanh(0.5) - tanh(0)   = 0.4621172
///   e_1 = tanh(1.5) - tanh(0.5) = 0.9051483 - 0.4621172 = 0.4430311
///   e_2 = tanh(2.5) - tanh(2)   = 0.9866143 - 0.9640276 = 0.0225867 (masked out)
///   α_0 = 1 / (1 + exp(e_1 - e_0)) = 1 / (1 + exp(-0.0190861)) = 0.5047714, α_1 = 0.4952286
///   c = α_0 h_0 + α_1 h_1 = (0.4952286, 0.2476143)
#[test]
fn additive_score_matches_hand_derivation() {
    let device = device();
    let score = AdditiveScore {
        query_proj: linear(vec![1.0, 0.0, 0.0, 1.0], 2, 2, &device),
        key_proj: linear(vec![1.0, 0.0, 0.0, 1.0], 2, 2, &device),
        v: linear(vec![1.0, -1.0], 2, 1, &device),
    };
    let query = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, 0.0], [1, 2]), &device);
    let keys = Tensor::<3>::from_data(
        TensorData::new(vec![0.0f32, 0.0, 1.0, 0.5, 2.0, 2.0], [1, 3, 2]),
        &device,
    );
    let mask =
        Tensor::<2, Bool>::from_data(TensorData::new(vec![true, true, false], [1, 3]), &device);

    let scores = score.scores(query, &score.project_keys(keys.clone()));
    assert_close(
        &values(scores.clone()),
        &[0.4621172, 0.4430311, 0.0225867],
        1e-6,
        "scores",
    );

    let out = attend(scores, mask, &keys);
    let weights = values(out.weights);
    assert_close(&weights, &[0.5047714, 0.4952286, 0.0], 1e-6, "weights");
    assert_eq!(
        weights[2], 0.0,
        "a padded position gets exactly zero weight"
    );
    assert_close(
        &values(out.context),
        &[0.4952286, 0.2476143],
        1e-6,
        "context",
    );
}

#[test]
fn masked_softmax_gives_padding_exactly_zero_and_rows_sum_to_one() {
    let device = device();
    // Large scores at padded positions must not leak weight.
    let scores = Tensor::<2>::from_data(
        TensorData::new(
            vec![
                1.0f32, -2.0, 50.0, 50.0, 0.3, 0.3, 0.3, 80.0, -5.0, 7.0, 2.0, 1.0,
            ],
            [3, 4],
        ),
        &device,
    );
    let mask = Tensor::<2, Bool>::from_data(
        TensorData::new(
            vec![
                true, true, false, false, true, true, true, false, true, true, true, true,
            ],
            [3, 4],
        ),
        &device,
    );
    let weights = values(masked_softmax(scores, mask));
    for (i, w) in weights.iter().enumerate() {
        if [2, 3, 7].contains(&i) {
            assert_eq!(*w, 0.0, "padded position {i}");
        } else {
            assert!(*w > 0.0, "real position {i} gets weight");
        }
    }
    for row in weights.chunks(4) {
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6, "row sums to {sum}");
    }
    // Row 1: three equal scores -> 1/3 each.
    assert_close(&weights[4..7], &[1.0 / 3.0; 3], 1e-6, "uniform row");
}

/// A scalar function of the attention's inputs and parameters: Σ r ⊙ context.
fn objective(
    score: &AdditiveScore,
    query: Tensor<2>,
    keys: Tensor<3>,
    mask: Tensor<2, Bool>,
    r: Tensor<2>,
) -> Tensor<1> {
    let scores = score.scores(query, &score.project_keys(keys.clone()));
    (attend(scores, mask, &keys).context * r).sum()
}

/// Central differences on every input and parameter entry: (f(x+ε) - f(x-ε)) / 2ε.
#[test]
fn additive_attention_gradients_match_finite_differences() {
    let plain = device();
    let _rng = seed_device(&plain, 7);
    let ad = plain.clone().autodiff();
    let (batch, src, d_q, d_k, d_a) = (2, 4, 3, 5, 6);
    let Score::Additive(score) = ScoreConfig::new(ScoreKind::Additive, d_q, d_k)
        .with_d_attention(d_a)
        .init(&ad)
    else {
        unreachable!("asked for an additive score")
    };
    let rand = |shape: Vec<usize>| {
        Tensor::<1>::random(
            [shape.iter().product::<usize>()],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &plain,
        )
    };
    let query: Vec<f32> = values(rand(vec![batch, d_q]));
    let keys: Vec<f32> = values(rand(vec![batch, src, d_k]));
    let r: Vec<f32> = values(rand(vec![batch, d_k]));
    let mask_v = vec![true, true, true, false, true, true, true, true];

    let q_t = |v: &[f32], d: &Device| {
        Tensor::<2>::from_data(TensorData::new(v.to_vec(), [batch, d_q]), d)
    };
    let k_t = |v: &[f32], d: &Device| {
        Tensor::<3>::from_data(TensorData::new(v.to_vec(), [batch, src, d_k]), d)
    };
    let r_t = |d: &Device| Tensor::<2>::from_data(TensorData::new(r.clone(), [batch, d_k]), d);
    let m_t =
        |d: &Device| Tensor::<2, Bool>::from_data(TensorData::new(mask_v.clone(), [batch, src]), d);

    // Autodiff gradients.
    let q_ad = q_t(&query, &ad).require_grad();
    let k_ad = k_t(&keys, &ad).require_grad();
    let grads = objective(&score, q_ad.clone(), k_ad.clone(), m_t(&ad), r_t(&ad)).backward();
    let g_query = values(q_ad.grad(&grads).unwrap());
    let g_keys = values(k_ad.grad(&grads).unwrap());
    let g_w: Vec<f32> = values(score.query_proj.weight.val().grad(&grads).unwrap());
    let g_v: Vec<f32> = values(score.v.weight.val().grad(&grads).unwrap());

    // Finite differences, evaluated without autodiff.
    let frozen = score.valid();
    let f = |q: &[f32], k: &[f32], m: &AdditiveScore| -> f32 {
        objective(m, q_t(q, &plain), k_t(k, &plain), m_t(&plain), r_t(&plain)).into_scalar::<f32>()
    };
    let eps = 1e-2f32;
    let tol = 2e-3f32;
    for i in 0..query.len() {
        let (mut up, mut down) = (query.clone(), query.clone());
        up[i] += eps;
        down[i] -= eps;
        let fd = (f(&up, &keys, &frozen) - f(&down, &keys, &frozen)) / (2.0 * eps);
        assert!(
            (fd - g_query[i]).abs() < tol,
            "d/dquery[{i}]: autodiff {} fd {fd}",
            g_query[i]
        );
    }
    for i in 0..keys.len() {
        let (mut up, mut down) = (keys.clone(), keys.clone());
        up[i] += eps;
        down[i] -= eps;
        let fd = (f(&query, &up, &frozen) - f(&query, &down, &frozen)) / (2.0 * eps);
        assert!(
            (fd - g_keys[i]).abs() < tol,
            "d/dkeys[{i}]: autodiff {} fd {fd}",
            g_keys[i]
        );
        // The padded key of row 0 (position 3) has no influence at all.
        if i / d_k == 3 {
            assert_eq!(g_keys[i], 0.0, "padded key gets no gradient");
        }
    }
    let perturb = |which: &str, i: usize, delta: f32| -> AdditiveScore {
        let mut m = frozen.clone();
        let lin = if which == "W" {
            &mut m.query_proj
        } else {
            &mut m.v
        };
        let w = lin.weight.val();
        let dims = w.dims();
        let mut data = values(w);
        data[i] += delta;
        lin.weight = Param::from_tensor(Tensor::from_data(TensorData::new(data, dims), &plain));
        m
    };
    for (which, grad) in [("W", &g_w), ("v", &g_v)] {
        for (i, g) in grad.iter().enumerate() {
            let fd = (f(&query, &keys, &perturb(which, i, eps))
                - f(&query, &keys, &perturb(which, i, -eps)))
                / (2.0 * eps);
            assert!(
                (fd - g).abs() < tol,
                "d/d{which}[{i}]: autodiff {g} fd {fd}"
            );
        }
    }
}

/// Local-p (Luong et al. 2015): with `v_p = 0`, `p_t = S · sigmoid(0) = S / 2`. Four real
/// tokens of five, equal scores (α = 1/4 each), half-window D = 2 so σ = 1:
///   w_s = 1/4 · exp(-(s - 2)^2 / 2) = (0.0338338, 0.1516327, 0.25, 0.1516327), padding 0.
/// With values v_s = s the context is Σ w_s s = 1.1065308.
#[test]
fn local_p_attention_matches_hand_derivation() {
    let device = device();
    let mut local = models::attention::PredictiveAlignment::new(3, 2, &device);
    local.v_p = linear(vec![0.0, 0.0, 0.0], 3, 1, &device);
    let query = Tensor::<2>::from_data(TensorData::new(vec![0.3f32, -1.0, 2.0], [1, 3]), &device);
    let mask = Tensor::<2, Bool>::from_data(
        TensorData::new(vec![true, true, true, true, false], [1, 5]),
        &device,
    );
    assert_close(
        &values(local.position(query.clone(), mask.clone())),
        &[2.0],
        1e-6,
        "p_t",
    );
    let scores = Tensor::<2>::zeros([1, 5], &device);
    let keys = Tensor::<3>::from_data(
        TensorData::new(vec![0.0f32, 1.0, 2.0, 3.0, 4.0], [1, 5, 1]),
        &device,
    );
    let out = local.attend(scores, query, mask, &keys);
    assert_close(
        &values(out.weights),
        &[0.0338338, 0.1516327, 0.25, 0.1516327, 0.0],
        1e-6,
        "weights",
    );
    assert_close(&values(out.context), &[1.1065308], 1e-6, "context");
}
