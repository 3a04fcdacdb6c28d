//! Splitting an evaluation set into consecutive folds and summarising a
//! per-fold score by its mean and spread, as the Inception score's reference
//! code (Salimans et al. 2016) and DM-GAN's R-precision evaluation (Zhu et
//! al. 2019) report their scores: "mean ± std over 10 splits".
//!
//! The spread is the *population* standard deviation (denominator `k` for
//! `k` folds), which is what both reference implementations get from
//! numpy's `np.std` with its default `ddof=0`. It describes how much the
//! folds disagree, not an estimate of a sampling error, and it differs from
//! [`crate::stats::mean_std`], which uses `k - 1`.

use std::fmt;
use std::ops::Range;

/// The number of folds used by the papers: the Inception score's reference
/// code (`splits=10`) and DM-GAN's R-precision (10 folds of 3000 images).
pub const PAPER_FOLDS: usize = 10;

/// Mean and population standard deviation of a score over folds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoldScore {
    /// Mean of the per-fold scores.
    pub mean: f64,
    /// Population standard deviation (denominator: the number of folds) of
    /// the per-fold scores, as numpy's default `np.std`.
    pub std: f64,
}

impl FoldScore {
    /// Mean and population standard deviation of `per_fold` scores; both
    /// are `0.0` for no scores.
    ///
    /// ```
    /// use metrics::folds::FoldScore;
    /// // Deviations -1 and 1: population variance (1 + 1) / 2 = 1.
    /// assert_eq!(FoldScore::from_fold_scores(&[2.0, 4.0]), FoldScore { mean: 3.0, std: 1.0 });
    /// ```
    pub fn from_fold_scores(per_fold: &[f64]) -> FoldScore {
        if per_fold.is_empty() {
            return FoldScore {
                mean: 0.0,
                std: 0.0,
            };
        }
        let count = per_fold.len() as f64;
        let mean = per_fold.iter().sum::<f64>() / count;
        // Two passes, as numpy does, rather than E[x^2] - E[x]^2, which
        // cancels catastrophically when the folds agree closely.
        let variance = per_fold
            .iter()
            .map(|x| (x - mean) * (x - mean))
            .sum::<f64>()
            / count;
        FoldScore {
            mean,
            std: variance.sqrt(),
        }
    }
}

/// Why items cannot be split into the requested folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldError {
    /// Zero folds were requested.
    NoFolds,
    /// Fewer items than folds, which would leave a fold empty.
    TooFewItems {
        /// The number of items.
        items: usize,
        /// The number of folds requested.
        folds: usize,
    },
}

impl fmt::Display for FoldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FoldError::NoFolds => write!(f, "the number of folds must be at least 1"),
            FoldError::TooFewItems { items, folds } => write!(
                f,
                "cannot split {items} items into {folds} folds: every fold needs at least one item"
            ),
        }
    }
}

impl std::error::Error for FoldError {}

/// The index ranges of `folds` consecutive folds covering `0..items`.
///
/// Fold `i` is `i * items / folds .. (i + 1) * items / folds` (integer
/// division), the slicing of the Inception score's reference code, so fold
/// sizes differ by at most one and every item is in exactly one fold.
/// Items are not shuffled: shuffle them beforehand (with a seeded generator)
/// if their order correlates with anything, such as class.
///
/// ```
/// use metrics::folds::fold_ranges;
/// assert_eq!(fold_ranges(7, 3), Ok(vec![0..2, 2..4, 4..7]));
/// ```
pub fn fold_ranges(items: usize, folds: usize) -> Result<Vec<Range<usize>>, FoldError> {
    if folds == 0 {
        return Err(FoldError::NoFolds);
    }
    if items < folds {
        return Err(FoldError::TooFewItems { items, folds });
    }
    Ok((0..folds)
        .map(|i| i * items / folds..(i + 1) * items / folds)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_item_once() {
        assert_eq!(fold_ranges(6, 3), Ok(vec![0..2, 2..4, 4..6]));
        // 10 // 4 = 2, 20 // 4 = 5, 30 // 4 = 7.
        assert_eq!(fold_ranges(10, 4), Ok(vec![0..2, 2..5, 5..7, 7..10]));
        assert_eq!(fold_ranges(3, 3), Ok(vec![0..1, 1..2, 2..3]));
        let single = fold_ranges(5, 1).unwrap();
        assert_eq!(single.len(), 1);
        assert_eq!(single[0], 0..5);
    }

    #[test]
    fn impossible_splits_are_errors() {
        assert_eq!(fold_ranges(5, 0), Err(FoldError::NoFolds));
        let error = fold_ranges(2, 3).unwrap_err();
        assert_eq!(error, FoldError::TooFewItems { items: 2, folds: 3 });
        assert_eq!(
            error.to_string(),
            "cannot split 2 items into 3 folds: every fold needs at least one item"
        );
    }

    #[test]
    fn population_not_sample_deviation() {
        // Mean 2, squared deviations 1, 0, 1: population variance 2 / 3
        // (the sample variance would be 2 / 2 = 1).
        let score = FoldScore::from_fold_scores(&[1.0, 2.0, 3.0]);
        assert_eq!(score.mean, 2.0);
        assert!((score.std - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(
            FoldScore::from_fold_scores(&[]),
            FoldScore {
                mean: 0.0,
                std: 0.0
            }
        );
        assert_eq!(
            FoldScore::from_fold_scores(&[7.5]),
            FoldScore {
                mean: 7.5,
                std: 0.0
            }
        );
    }
}
