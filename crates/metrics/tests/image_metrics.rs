//! Text-to-image metrics: Fréchet distance, R-precision and the Inception
//! score, against values derived by hand from their definitions and, for
//! the Fréchet distance, against pytorch-fid's numerics
//! (`data/gen_fid_reference.py`).

use metrics::fid::{FeatureSet, FidError, frechet_distance};
use metrics::folds::{FoldError, PAPER_FOLDS};
use metrics::inception::{InceptionScoreError, inception_score, inception_score_folds};
use metrics::rprecision::{
    RPrecisionError, cosine, pairwise_rate, r_precision, r_precision_folds, top1_hits,
};

fn assert_close(got: f64, expected: f64, tolerance: f64) {
    assert!(
        (got - expected).abs() <= tolerance,
        "got {got}, expected {expected} (tolerance {tolerance})"
    );
}

/// The integer-formula feature sets of `data/gen_fid_reference.py`: row `i`,
/// column `j` is `((a i^2 + b i j + c j^2 + 1) mod modulus) / 4`, exact in
/// binary floating point.
fn formula_features(
    rows: usize,
    dim: usize,
    a: usize,
    b: usize,
    c: usize,
    m: usize,
) -> Vec<Vec<f64>> {
    (0..rows)
        .map(|i| {
            (0..dim)
                .map(|j| ((a * i * i + b * i * j + c * j * j + 1) % m) as f64 / 4.0)
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------- FID

/// Two 2-D sets whose sample covariances are exactly diagonal: each is its
/// mean plus the four points (±a, 0), (0, ±b), whose cross products are
/// all 0.
///
/// First: mean (1, 2), a = 3, b = 6. Variances with the n - 1 = 3
/// denominator: x: (9 + 9) / 3 = 6, y: (36 + 36) / 3 = 24.
/// Second: mean (4, 6), a = 6, b = 3: variances 24 and 6.
///
/// |mu1 - mu2|^2 = 3^2 + 4^2 = 25, and per coordinate
/// s1 + s2 - 2 sqrt(s1 s2) = 6 + 24 - 2 sqrt(144) = 6 (both coordinates),
/// so FID = 25 + 6 + 6 = 37. (With the biased n = 4 denominator the
/// variances would be 4.5 and 18 and FID = 25 + 2 * 4.5 = 34.)
fn diagonal_sets() -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let around = |mean: [f64; 2], a: f64, b: f64| {
        [[a, 0.0], [-a, 0.0], [0.0, b], [0.0, -b]]
            .iter()
            .map(|offset| vec![mean[0] + offset[0], mean[1] + offset[1]])
            .collect::<Vec<_>>()
    };
    (around([1.0, 2.0], 3.0, 6.0), around([4.0, 6.0], 6.0, 3.0))
}
const DIAGONAL_FID: f64 = 37.0;

#[test]
fn fid_of_identical_sets_is_zero() {
    // Dense, correlated 6-D features, so the square root takes Jacobi
    // rotations rather than reading off a diagonal.
    let features = formula_features(20, 6, 1, 3, 2, 17);
    let fid = frechet_distance(&features, &features.clone()).unwrap();
    assert!((0.0..1e-9).contains(&fid), "fid {fid}");
    let (first, _) = diagonal_sets();
    assert!(frechet_distance(&first, &first).unwrap() < 1e-9);
}

#[test]
fn fid_of_translated_set_is_squared_shift() {
    // Same covariance, so only |mu1 - mu2|^2 = 1 + 4 + 0.25 + 0 + 0 + 9 remains.
    let features = formula_features(20, 6, 1, 3, 2, 17);
    let shift = [1.0, -2.0, 0.5, 0.0, 0.0, 3.0];
    let shifted: Vec<Vec<f64>> = features
        .iter()
        .map(|row| row.iter().zip(&shift).map(|(x, s)| x + s).collect())
        .collect();
    assert_close(frechet_distance(&features, &shifted).unwrap(), 14.25, 1e-9);
}

#[test]
fn fid_matches_closed_form_for_diagonal_covariances() {
    let (first, second) = diagonal_sets();
    assert_close(
        frechet_distance(&first, &second).unwrap(),
        DIAGONAL_FID,
        1e-12,
    );
}

#[test]
fn fid_is_invariant_under_rotation() {
    // Rotating every point of both sets by 30 degrees rotates the means and
    // turns the covariances into R S R^T, which are no longer diagonal;
    // distances, traces and tr (S1 S2)^(1/2) are unchanged, so FID is still
    // 37, now through non-trivial eigendecompositions.
    let (cos, sin) = (3f64.sqrt() / 2.0, 0.5);
    let rotate = |rows: Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        rows.iter()
            .map(|r| vec![cos * r[0] - sin * r[1], sin * r[0] + cos * r[1]])
            .collect()
    };
    let (first, second) = diagonal_sets();
    let (first, second) = (rotate(first), rotate(second));
    assert!(first.iter().map(|r| r[0] * r[1]).sum::<f64>().abs() > 1.0);
    assert_close(
        frechet_distance(&first, &second).unwrap(),
        DIAGONAL_FID,
        1e-9,
    );
}

#[test]
fn fid_uses_unbiased_covariance() {
    // 1-D: {0, 2} has mean 1 and variance (1 + 1) / (2 - 1) = 2; {1, 1} has
    // mean 1 and variance 0. FID = 0 + 2 + 0 - 2 sqrt(2 * 0) = 2 (a biased
    // n = 2 denominator would give 1).
    let fid = frechet_distance(&[vec![0.0], vec![2.0]], &[vec![1.0], vec![1.0]]).unwrap();
    assert_close(fid, 2.0, 1e-15);
}

#[test]
fn fid_handles_singular_non_commuting_covariances() {
    // First: (-2, 0), (0, 0), (2, 0): S1 = [[4, 0], [0, 0]] (8 / 2 = 4).
    // Second: (-1, -1), (0, 0), (1, 1): S2 = [[1, 1], [1, 1]]. Both means
    // are 0. S1 S2 = [[4, 4], [0, 0]] has eigenvalues 4 and 0, so
    // tr (S1 S2)^(1/2) = 2 and FID = 4 + 2 - 2 * 2 = 2. Both covariances
    // are singular, and S1 S2 != S2 S1.
    let first = vec![vec![-2.0, 0.0], vec![0.0, 0.0], vec![2.0, 0.0]];
    let second = vec![vec![-1.0, -1.0], vec![0.0, 0.0], vec![1.0, 1.0]];
    assert_close(frechet_distance(&first, &second).unwrap(), 2.0, 1e-12);
    // Swapped, the square root is taken of [[1, 1], [1, 1]], which needs a
    // rotation: A = [[1, 1], [1, 1]] / sqrt 2, A S1 A = [[2, 2], [2, 2]]
    // with eigenvalues 4 and 0, the same 2.
    assert_close(frechet_distance(&second, &first).unwrap(), 2.0, 1e-12);
}

#[test]
fn fid_is_symmetric() {
    let first = formula_features(20, 6, 1, 3, 2, 17);
    let second = formula_features(15, 6, 5, 1, 4, 19);
    let forward = frechet_distance(&first, &second).unwrap();
    let backward = frechet_distance(&second, &first).unwrap();
    assert!(forward > 1.0, "forward {forward}");
    assert_close(forward, backward, 1e-9 * forward);
}

#[test]
fn fid_matches_pytorch_fid_numerics() {
    // Values printed by data/gen_fid_reference.py (np.cov and
    // scipy.linalg.sqrtm of sigma1 @ sigma2, as pytorch-fid).
    let cases = [
        (
            (12, 4, 3, 5, 1, 13),
            (9, 4, 2, 7, 3, 11),
            1.2735887400973906,
        ),
        (
            (20, 6, 1, 3, 2, 17),
            (15, 6, 5, 1, 4, 19),
            4.006030406901004,
        ),
    ];
    for (first, second, expected) in cases {
        let first = formula_features(first.0, first.1, first.2, first.3, first.4, first.5);
        let second = formula_features(second.0, second.1, second.2, second.3, second.4, second.5);
        assert_close(frechet_distance(&first, &second).unwrap(), expected, 1e-9);
    }
}

#[test]
fn fid_errors_name_what_is_wrong() {
    let good = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
    let check = |first: &[Vec<f64>], second: &[Vec<f64>], expected: FidError, needle: &str| {
        let error = frechet_distance(first, second).unwrap_err();
        // NaN != NaN, so compare the NaN case by its message alone.
        if !matches!(expected, FidError::NonFinite { value, .. } if value.is_nan()) {
            assert_eq!(error, expected);
        }
        let message = error.to_string();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    };

    check(
        &[vec![1.0, 2.0]],
        &good,
        FidError::TooFewRows {
            set: FeatureSet::First,
            rows: 1,
        },
        "the first feature set has 1 row(s); a covariance needs at least 2",
    );
    check(
        &good,
        &[],
        FidError::TooFewRows {
            set: FeatureSet::Second,
            rows: 0,
        },
        "the second feature set has 0 row(s)",
    );
    check(
        &[vec![], vec![]],
        &good,
        FidError::ZeroDimension {
            set: FeatureSet::First,
        },
        "the first feature set has rows of dimension 0",
    );
    check(
        &good,
        &[vec![0.0, 1.0], vec![1.0, 0.0], vec![1.0, 1.0, 1.0]],
        FidError::RaggedRows {
            set: FeatureSet::Second,
            row: 2,
            expected: 2,
            found: 3,
        },
        "row 2 of the second feature set has 3 values but row 0 has 2",
    );
    check(
        &[vec![0.0, 1.0], vec![f64::NAN, 0.0]],
        &good,
        FidError::NonFinite {
            set: FeatureSet::First,
            row: 1,
            column: 0,
            value: f64::NAN,
        },
        "row 1, column 0 of the first feature set is NaN; features must be finite",
    );
    check(
        &good,
        &[vec![0.0, f64::INFINITY], vec![1.0, 0.0]],
        FidError::NonFinite {
            set: FeatureSet::Second,
            row: 0,
            column: 1,
            value: f64::INFINITY,
        },
        "row 0, column 1 of the second feature set is inf",
    );
    check(
        &good,
        &[vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 2.0]],
        FidError::DimensionMismatch {
            first: 2,
            second: 3,
        },
        "the first feature set has dimension 2 but the second has dimension 3",
    );
}

// -------------------------------------------------------- R-precision

#[test]
fn cosine_hand_values() {
    // (1, 2, 2)·(2, 0, 1) = 4; norms 3 and sqrt 5.
    assert_close(
        cosine(&[1.0, 2.0, 2.0], &[2.0, 0.0, 1.0]),
        4.0 / (3.0 * 5f64.sqrt()),
        1e-15,
    );
    assert_close(cosine(&[1.0, 2.0, 2.0], &[10.0, 20.0, 20.0]), 1.0, 1e-15);
    assert_close(cosine(&[1.0, -1.0], &[-3.0, 3.0]), -1.0, 1e-15);
    assert_eq!(cosine(&[1.0, 0.0], &[0.0, 5.0]), 0.0);
    // The clamped norm makes a zero vector's cosine 0, not NaN.
    assert_eq!(cosine(&[0.0, 0.0], &[0.0, 0.0]), 0.0);
}

#[test]
#[should_panic(expected = "cosine of vectors of lengths 2 and 3")]
fn cosine_of_different_lengths_panics() {
    cosine(&[1.0, 2.0], &[1.0, 2.0, 3.0]);
}

#[test]
fn top1_hits_on_hand_built_matrix() {
    // 4 images x 3 candidates, candidate 0 the true caption.
    let similarities = [
        vec![0.9, 0.2, 0.1],    // true caption strictly highest: hit
        vec![0.3, 0.8, 0.1],    // candidate 1 higher: miss
        vec![0.5, 0.1, 0.5],    // tie with candidate 2: miss
        vec![-0.1, -0.3, -0.2], // all negative, true caption highest: hit
    ];
    assert_eq!(top1_hits(&similarities), Ok(vec![true, false, false, true]));
    assert_eq!(r_precision(&similarities), Ok(0.5));
}

#[test]
fn pairwise_rate_grades_each_comparison() {
    // Image 0 beats 3 of 3 (1), image 1 beats 1 of 3 (1/3), image 2 ties one and beats one
    // of 2 (1/2): mean (1 + 1/3 + 1/2) / 3 = 11/18. None of 1 and 2 ranks first.
    let similarities = [
        vec![0.9, 0.2, 0.1, 0.3],
        vec![0.4, 0.8, 0.1, 0.5],
        vec![0.5, 0.5, 0.1],
    ];
    assert_close(pairwise_rate(&similarities).unwrap(), 11.0 / 18.0, 1e-15);
    assert_eq!(r_precision(&similarities), Ok(1.0 / 3.0));
    // A scorer right on 95 of 99 near-copies: far from first, high pairwise.
    let mut row = vec![1.0];
    row.extend((0..99).map(|j| if j < 4 { 2.0 } else { 0.0 }));
    assert_close(pairwise_rate(&[row.clone()]).unwrap(), 95.0 / 99.0, 1e-15);
    assert_eq!(r_precision(&[row]), Ok(0.0));
    // A constant scorer ties everything: 0, not 0.5.
    assert_eq!(pairwise_rate(&[vec![0.3; 100]]), Ok(0.0));
    // The same errors as R-precision.
    assert_eq!(pairwise_rate(&[]), Err(RPrecisionError::NoImages));
    assert_eq!(
        pairwise_rate(&[vec![0.5]]),
        Err(RPrecisionError::TooFewCandidates {
            image: 0,
            candidates: 1
        })
    );
}

#[test]
fn constant_scorer_scores_zero() {
    // Every candidate ties with the true caption: all misses (DM-GAN's
    // argmax would call them all hits).
    let similarities = vec![vec![0.3; 100]; 8];
    assert_eq!(r_precision(&similarities), Ok(0.0));
    assert_eq!(
        r_precision_folds(&similarities, 4).map(|s| (s.mean, s.std)),
        Ok((0.0, 0.0))
    );
}

/// Rows with a hit (true caption strictly highest) or a miss.
fn rows_from_hits(hits: &[bool]) -> Vec<Vec<f64>> {
    hits.iter()
        .map(|&hit| {
            if hit {
                vec![0.9, 0.1, 0.2]
            } else {
                vec![0.1, 0.9, 0.2]
            }
        })
        .collect()
}

#[test]
fn r_precision_folds_hand_derived() {
    // 6 images in 3 folds of 2: rates 1, 0.5, 0. Mean 0.5; squared
    // deviations 0.25, 0, 0.25, population variance 0.5 / 3 = 1/6 (the
    // sample variance would be 0.25).
    let similarities = rows_from_hits(&[true, true, true, false, false, false]);
    let score = r_precision_folds(&similarities, 3).unwrap();
    assert_close(score.mean, 0.5, 1e-14);
    assert_close(score.std, (1.0f64 / 6.0).sqrt(), 1e-14);

    // 7 images in 3 folds: 0..2, 2..4, 4..7 (i * 7 / 3). Hits TF, TT, TFF:
    // rates 1/2, 1, 1/3, mean 11/18; deviations -2/18, 7/18, -5/18, so the
    // population variance is (4 + 49 + 25) / 324 / 3 and std = sqrt(26) / 18.
    let similarities = rows_from_hits(&[true, false, true, true, true, false, false]);
    let score = r_precision_folds(&similarities, 3).unwrap();
    assert_close(score.mean, 11.0 / 18.0, 1e-14);
    assert_close(score.std, 26f64.sqrt() / 18.0, 1e-14);
    // Unequal folds: the mean of rates is not the overall rate 4/7.
    assert_close(r_precision(&similarities).unwrap(), 4.0 / 7.0, 1e-15);
}

#[test]
fn r_precision_folds_paper_setting() {
    // 30 images in 10 folds of 3, with 0, 1, 2, 3, 0, 1, 2, 3, 0, 1 hits:
    // rates 0, 1/3, 2/3, 1, 0, 1/3, 2/3, 1, 0, 1/3.
    let per_fold_hits = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1];
    let hits: Vec<bool> = per_fold_hits
        .iter()
        .flat_map(|&h| (0..3).map(move |i| i < h))
        .collect();
    let score = r_precision_folds(&rows_from_hits(&hits), PAPER_FOLDS).unwrap();
    // The rates sum to (0 + 1 + 2 + 3) * 2 / 3 + 1/3 = 13/3: mean 13/30.
    // Their squares sum to ((0 + 1 + 4 + 9) * 2 + 1) / 9 = 29/9, so
    // E[r^2] = 29/90 and the population variance is
    // 29/90 - (13/30)^2 = (290 - 169) / 900 = 121/900: std 11/30.
    assert_close(score.mean, 13.0 / 30.0, 1e-14);
    assert_close(score.std, 11.0 / 30.0, 1e-14);
}

#[test]
fn r_precision_errors_name_what_is_wrong() {
    let check = |result: Result<f64, RPrecisionError>, expected: RPrecisionError, needle: &str| {
        let error = result.unwrap_err();
        if !matches!(expected, RPrecisionError::NonFinite { value, .. } if value.is_nan()) {
            assert_eq!(error, expected);
        }
        let message = error.to_string();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    };
    check(r_precision(&[]), RPrecisionError::NoImages, "no images");
    check(
        r_precision(&[vec![0.5, 0.1], vec![0.5]]),
        RPrecisionError::TooFewCandidates {
            image: 1,
            candidates: 1,
        },
        "image 1 has 1 candidate caption(s)",
    );
    check(
        r_precision(&[vec![0.5, 0.1, f64::NAN]]),
        RPrecisionError::NonFinite {
            image: 0,
            candidate: 2,
            value: f64::NAN,
        },
        "similarity of image 0 to candidate 2 is NaN",
    );
    let two = rows_from_hits(&[true, false]);
    check(
        r_precision_folds(&two, 0).map(|s| s.mean),
        RPrecisionError::Folds(FoldError::NoFolds),
        "number of folds must be at least 1",
    );
    check(
        r_precision_folds(&two, PAPER_FOLDS).map(|s| s.mean),
        RPrecisionError::Folds(FoldError::TooFewItems {
            items: 2,
            folds: 10,
        }),
        "cannot split 2 items into 10 folds",
    );
}

// --------------------------------------------------- Inception score

#[test]
fn inception_score_of_identical_posteriors_is_one() {
    // p(y|x) = p(y) for every x: every KL is 0, IS = exp(0) = 1.
    let posteriors = vec![vec![0.2, 0.3, 0.5]; 5];
    assert_close(inception_score(&posteriors).unwrap(), 1.0, 1e-12);
    let one_class = vec![vec![0.0, 1.0, 0.0]; 4];
    assert_close(inception_score(&one_class).unwrap(), 1.0, 1e-12);
}

#[test]
fn inception_score_of_even_one_hot_posteriors_is_class_count() {
    // Each class one-hot equally often: p(y) = 1/n, and each image's KL is
    // 1 * log(1 / (1/n)) = log n, so IS = exp(log n) = n.
    for classes in [2usize, 3, 5, 10] {
        let posteriors: Vec<Vec<f64>> = (0..3 * classes)
            .map(|i| {
                (0..classes)
                    .map(|y| if y == i % classes { 1.0 } else { 0.0 })
                    .collect()
            })
            .collect();
        assert_close(inception_score(&posteriors).unwrap(), classes as f64, 1e-12);
    }
}

#[test]
fn inception_score_two_class_hand_derived() {
    // p(y|x1) = (1, 0), p(y|x2) = (1/2, 1/2): p(y) = (3/4, 1/4).
    // KL1 = 1 * log(1 / (3/4)) = log(4/3).
    // KL2 = 1/2 log((1/2) / (3/4)) + 1/2 log((1/2) / (1/4))
    //     = 1/2 log(2/3) + 1/2 log 2 = 1/2 log(4/3).
    // mean KL = 3/4 log(4/3), so IS = (4/3)^(3/4) = 1.2408...
    let posteriors = [vec![1.0, 0.0], vec![0.5, 0.5]];
    let expected = (4.0f64 / 3.0).powf(0.75);
    assert_close(inception_score(&posteriors).unwrap(), expected, 1e-14);
    assert_close(expected, 1.240806, 1e-6);
}

#[test]
fn inception_score_folds_use_per_fold_marginals() {
    // Fold 0: (1, 0), (0, 1): marginal (1/2, 1/2), KL log 2 each: IS 2.
    // Fold 1: (1/2, 1/2) twice: IS 1. Mean 1.5, population std 0.5 (the
    // sample std would be sqrt(0.5)).
    let posteriors = [
        vec![1.0, 0.0],
        vec![0.0, 1.0],
        vec![0.5, 0.5],
        vec![0.5, 0.5],
    ];
    let score = inception_score_folds(&posteriors, 2).unwrap();
    assert_close(score.mean, 1.5, 1e-12);
    assert_close(score.std, 0.5, 1e-12);
    // As one fold the marginal is (1/2, 1/2) for all four: KLs log 2,
    // log 2, 0, 0, mean log(2) / 2, IS sqrt 2.
    assert_close(inception_score(&posteriors).unwrap(), 2f64.sqrt(), 1e-12);
    let single = inception_score_folds(&posteriors, 1).unwrap();
    assert_close(single.mean, 2f64.sqrt(), 1e-12);
    assert_eq!(single.std, 0.0);
}

#[test]
fn inception_score_errors_name_what_is_wrong() {
    let check = |result: Result<f64, InceptionScoreError>,
                 expected: InceptionScoreError,
                 needle: &str| {
        let error = result.unwrap_err();
        if !matches!(expected, InceptionScoreError::InvalidProbability { value, .. } if value.is_nan())
        {
            assert_eq!(error, expected);
        }
        let message = error.to_string();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    };
    check(
        inception_score(&[]),
        InceptionScoreError::NoImages,
        "no posteriors",
    );
    check(
        inception_score(&[vec![], vec![]]),
        InceptionScoreError::NoClasses,
        "no classes",
    );
    check(
        inception_score(&[vec![0.5, 0.5], vec![1.0]]),
        InceptionScoreError::RaggedRows {
            row: 1,
            expected: 2,
            found: 1,
        },
        "posterior 1 has 1 classes but posterior 0 has 2",
    );
    check(
        inception_score(&[vec![0.5, 0.5], vec![1.5, -0.5]]),
        InceptionScoreError::InvalidProbability {
            row: 1,
            class: 1,
            value: -0.5,
        },
        "posterior 1 gives class 1 probability -0.5",
    );
    check(
        inception_score(&[vec![f64::NAN, 1.0]]),
        InceptionScoreError::InvalidProbability {
            row: 0,
            class: 0,
            value: f64::NAN,
        },
        "posterior 0 gives class 0 probability NaN",
    );
    check(
        inception_score(&[vec![0.5, 0.5], vec![2.0, 3.0]]),
        InceptionScoreError::NotNormalized { row: 1, sum: 5.0 },
        "posterior 1 sums to 5, not 1",
    );
    check(
        inception_score_folds(&[vec![1.0, 0.0]], 2).map(|s| s.mean),
        InceptionScoreError::Folds(FoldError::TooFewItems { items: 1, folds: 2 }),
        "cannot split 1 items into 2 folds",
    );
    // Single-precision rounding of the sum is accepted.
    assert!(inception_score(&[vec![0.5, 0.500_000_1], vec![0.25, 0.75]]).is_ok());
}
