//! Inception score (Salimans et al. 2016, "Improved Techniques for Training
//! GANs") from class posteriors of generated images:
//!
//! ```text
//! IS = exp( mean_x KL( p(y|x) || p(y) ) ),   p(y) = mean_x p(y|x)
//! ```
//!
//! It is high when each image is confidently one class (low-entropy
//! `p(y|x)`) and the classes are varied (high-entropy `p(y)`); it ranges
//! from 1 (every image has the same posterior) to the number of classes
//! (confident, evenly spread one-hot posteriors).
//!
//! As in the reference code (`inception_score/model.py` of
//! openai/improved-gan, adapted for CUB birds by StackGAN and reused by
//! AttnGAN and DM-GAN), the
//! images are split into consecutive folds (`splits=10`), the marginal
//! `p(y)` and the score are computed within each fold, and the result is
//! the mean ± population standard deviation (`np.std`) of the per-fold
//! scores; see [`crate::folds`]. Terms with `p(y|x) = 0` contribute 0 (the
//! limit of `p log p`), where the reference code would produce NaN.
//!
//! **Not comparable with published values.** The papers' scores use the
//! posteriors of Inception-v3 (ImageNet, or fine-tuned on CUB birds for
//! StackGAN and its successors). Here the posteriors come from whatever
//! classifier the caller supplies, in this project a judge network trained
//! for the experiment, so the score measures confidence and diversity as
//! that network sees them, on its own class set and scale, and can only be
//! compared between runs scored by the same judge.

use std::fmt;

use crate::folds::{FoldError, FoldScore, fold_ranges};

/// How far a posterior's sum may be from 1. Loose enough for single
/// precision softmax outputs (whose sums are off by about `1e-7`), tight
/// enough to catch logits or unnormalised scores passed by mistake.
pub const SUM_TOLERANCE: f64 = 1e-3;

/// Why the Inception score cannot be computed. Indices are 0-based.
#[derive(Debug, Clone, PartialEq)]
pub enum InceptionScoreError {
    /// There are no posteriors.
    NoImages,
    /// The posteriors have no classes (rows of length 0).
    NoClasses,
    /// A row's length differs from that of row 0.
    RaggedRows {
        /// The index of the first row whose length differs.
        row: usize,
        /// The length of row 0.
        expected: usize,
        /// The length of `row`.
        found: usize,
    },
    /// A probability is negative, NaN or infinite.
    InvalidProbability {
        /// The image (row).
        row: usize,
        /// The class (column).
        class: usize,
        /// The value itself.
        value: f64,
    },
    /// A row does not sum to 1 within [`SUM_TOLERANCE`].
    NotNormalized {
        /// The image (row).
        row: usize,
        /// The row's sum.
        sum: f64,
    },
    /// The images cannot be split into the requested folds.
    Folds(FoldError),
}

impl fmt::Display for InceptionScoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InceptionScoreError::NoImages => {
                write!(f, "no posteriors to compute the Inception score over")
            }
            InceptionScoreError::NoClasses => write!(f, "the posteriors have no classes"),
            InceptionScoreError::RaggedRows {
                row,
                expected,
                found,
            } => write!(
                f,
                "posterior {row} has {found} classes but posterior 0 has {expected}"
            ),
            InceptionScoreError::InvalidProbability { row, class, value } => write!(
                f,
                "posterior {row} gives class {class} probability {value}; probabilities must be finite and non-negative"
            ),
            InceptionScoreError::NotNormalized { row, sum } => write!(
                f,
                "posterior {row} sums to {sum}, not 1 (within {SUM_TOLERANCE}); pass probabilities, not logits"
            ),
            InceptionScoreError::Folds(error) => write!(f, "Inception score folds: {error}"),
        }
    }
}

impl std::error::Error for InceptionScoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InceptionScoreError::Folds(error) => Some(error),
            _ => None,
        }
    }
}

/// Inception score of all `posteriors` taken as a single fold (the marginal
/// `p(y)` is their mean).
///
/// `posteriors[i][y]` is the probability `p(y|x_i)` of class `y` for image
/// `i`: every row has the same number of classes (at least 1), and holds
/// finite, non-negative values summing to 1 within [`SUM_TOLERANCE`]. The
/// result is at least 1 and at most the number of classes (up to rounding).
///
/// ```
/// use metrics::inception::inception_score;
/// // Confident and evenly spread over 2 classes: IS = 2.
/// let score = inception_score(&[vec![1.0, 0.0], vec![0.0, 1.0]]).unwrap();
/// assert!((score - 2.0).abs() < 1e-12);
/// ```
pub fn inception_score(posteriors: &[Vec<f64>]) -> Result<f64, InceptionScoreError> {
    check_posteriors(posteriors)?;
    Ok(fold_inception_score(posteriors))
}

/// Inception score as mean ± population standard deviation over `folds`
/// consecutive folds of images (10 in the papers,
/// [`crate::folds::PAPER_FOLDS`]), each fold with its own marginal `p(y)`;
/// fold boundaries as in [`crate::folds::fold_ranges`].
///
/// Input requirements as [`inception_score`], plus
/// [`InceptionScoreError::Folds`] for `folds == 0` or fewer images than
/// folds. Because each fold's marginal comes from fewer images, the mean is
/// in general not the single-fold [`inception_score`].
///
/// ```
/// use metrics::inception::inception_score_folds;
/// // Fold 0 is confident and diverse (IS 2), fold 1 is not (IS 1).
/// let posteriors = [vec![1.0, 0.0], vec![0.0, 1.0], vec![0.5, 0.5], vec![0.5, 0.5]];
/// let score = inception_score_folds(&posteriors, 2).unwrap();
/// assert!((score.mean - 1.5).abs() < 1e-12 && (score.std - 0.5).abs() < 1e-12);
/// ```
pub fn inception_score_folds(
    posteriors: &[Vec<f64>],
    folds: usize,
) -> Result<FoldScore, InceptionScoreError> {
    check_posteriors(posteriors)?;
    let ranges = fold_ranges(posteriors.len(), folds).map_err(InceptionScoreError::Folds)?;
    let per_fold: Vec<f64> = ranges
        .into_iter()
        .map(|range| fold_inception_score(&posteriors[range]))
        .collect();
    Ok(FoldScore::from_fold_scores(&per_fold))
}

fn check_posteriors(posteriors: &[Vec<f64>]) -> Result<(), InceptionScoreError> {
    let Some(first) = posteriors.first() else {
        return Err(InceptionScoreError::NoImages);
    };
    let classes = first.len();
    if classes == 0 {
        return Err(InceptionScoreError::NoClasses);
    }
    for (row, probabilities) in posteriors.iter().enumerate() {
        if probabilities.len() != classes {
            return Err(InceptionScoreError::RaggedRows {
                row,
                expected: classes,
                found: probabilities.len(),
            });
        }
        // Negatives, NaN (which fails every comparison) and infinities are
        // caught entry by entry, so that the error names the bad entry
        // rather than reporting an uninformative sum.
        if let Some((class, &value)) = probabilities
            .iter()
            .enumerate()
            .find(|(_, p)| !(**p >= 0.0 && p.is_finite()))
        {
            return Err(InceptionScoreError::InvalidProbability { row, class, value });
        }
        let sum: f64 = probabilities.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(InceptionScoreError::NotNormalized { row, sum });
        }
    }
    Ok(())
}

/// `exp(mean_x KL(p(y|x) || p(y)))` over the non-empty, validated `fold`,
/// with `p(y)` the fold's mean posterior.
fn fold_inception_score(fold: &[Vec<f64>]) -> f64 {
    let classes = fold[0].len();
    let count = fold.len() as f64;
    let mut marginal = vec![0.0; classes];
    for posterior in fold {
        for (m, p) in marginal.iter_mut().zip(posterior) {
            *m += p;
        }
    }
    for m in &mut marginal {
        *m /= count;
    }
    let mean_kl = fold
        .iter()
        .map(|posterior| {
            posterior
                .iter()
                .zip(&marginal)
                // p > 0 implies m >= p / count > 0, so the log is finite.
                .filter(|(p, _)| **p > 0.0)
                .map(|(p, m)| p * (p.ln() - m.ln()))
                .sum::<f64>()
        })
        .sum::<f64>()
        / count;
    mean_kl.exp()
}
