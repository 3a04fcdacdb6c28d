//! R-precision of text-to-image generation: how often a generated image is
//! closer to the caption it was generated from than to mismatched captions.
//!
//! AttnGAN (Xu et al. 2018, "AttnGAN: Fine-Grained Text to Image Generation
//! with Attentional Generative Adversarial Networks") introduced it: for
//! each generated image, the true caption and 99 randomly drawn mismatched
//! captions are ranked by the cosine similarity between the image's and each
//! caption's global feature vectors from the DAMSM encoders; R-precision
//! with R = 1 is the fraction of images whose true caption ranks first.
//! AttnGAN did not release its evaluation code. DM-GAN (Zhu et al. 2019,
//! "DM-GAN: Dynamic Memory Generative Adversarial Networks for
//! Text-to-Image Synthesis") did, in `code/trainer.py` (`sampling`): 30000
//! generated images, the true caption at candidate index 0, a hit when
//! `torch.argmax(scores) == 0`, then 10 folds of 3000 images reported as
//! `np.average` and `np.std` of the per-fold hit rates. This module follows
//! that procedure, with three documented differences:
//!
//! * **Ties are misses.** `torch.argmax` returns the first of several
//!   maximal entries, so in DM-GAN's code a tie between the true caption and
//!   a mismatched one counts as a hit. Here the true caption must score
//!   strictly highest, so that a degenerate scorer (a collapsed encoder
//!   giving every caption the same similarity) scores 0 rather than 1. With
//!   cosines of real features, exact ties practically never occur and the
//!   two rules agree.
//! * **Folds are consecutive and complete.** DM-GAN shuffles the hit vector
//!   with an unseeded `np.random.shuffle` and takes `R[i*3000:(i+1)*3000-1]`,
//!   which leaves out the last image of every fold. Here fold `i` is the
//!   `i`-th consecutive block of images (see [`crate::folds::fold_ranges`])
//!   and every image counts once; shuffle the rows beforehand with a seeded
//!   generator if their order matters. Neither changes the expected values.
//! * **The standard deviation is over folds, population form** (numpy's
//!   default `ddof=0`), as DM-GAN's `np.std`; see [`crate::folds`].

use std::fmt;

use crate::folds::{FoldError, FoldScore, fold_ranges};

/// The product of the norms is clamped to at least this in [`cosine`], as
/// in DM-GAN's R-precision (`norm.clamp(min=1e-8)`) and AttnGAN's
/// `cosine_similarity`, so a zero vector has cosine 0 with everything
/// instead of NaN.
pub const COSINE_EPS: f64 = 1e-8;

/// Cosine similarity `a·b / max(|a| |b|, COSINE_EPS)`, in -1..=1.
///
/// The product of the norms is clamped as in the reference code (see
/// [`COSINE_EPS`]), so a zero vector gives 0.
///
/// # Panics
///
/// Panics if `a` and `b` have different lengths.
///
/// ```
/// use metrics::rprecision::cosine;
/// assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]) - 0.5f64.sqrt()).abs() < 1e-15);
/// assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
/// ```
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    // Silently truncating (as `zip` would) would compare the wrong vectors.
    assert_eq!(
        a.len(),
        b.len(),
        "cosine of vectors of lengths {} and {}",
        a.len(),
        b.len()
    );
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm_a = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let norm_b = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (norm_a * norm_b).max(COSINE_EPS)
}

/// Why R-precision cannot be computed. Indices are 0-based.
#[derive(Debug, Clone, PartialEq)]
pub enum RPrecisionError {
    /// There are no images (no rows of similarities).
    NoImages,
    /// An image has fewer than 2 candidate captions, so there is nothing to
    /// rank the true caption against.
    TooFewCandidates {
        /// The image (row).
        image: usize,
        /// Its number of candidates.
        candidates: usize,
    },
    /// A similarity is NaN or infinite.
    NonFinite {
        /// The image (row).
        image: usize,
        /// The candidate (column); 0 is the true caption.
        candidate: usize,
        /// The value itself.
        value: f64,
    },
    /// The images cannot be split into the requested folds.
    Folds(FoldError),
}

impl fmt::Display for RPrecisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RPrecisionError::NoImages => write!(f, "no images to compute R-precision over"),
            RPrecisionError::TooFewCandidates { image, candidates } => write!(
                f,
                "image {image} has {candidates} candidate caption(s); R-precision needs the true caption and at least one other"
            ),
            RPrecisionError::NonFinite {
                image,
                candidate,
                value,
            } => write!(
                f,
                "similarity of image {image} to candidate {candidate} is {value}; similarities must be finite"
            ),
            RPrecisionError::Folds(error) => write!(f, "R-precision folds: {error}"),
        }
    }
}

impl std::error::Error for RPrecisionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RPrecisionError::Folds(error) => Some(error),
            _ => None,
        }
    }
}

/// For each image, whether its true caption ranks first.
///
/// `similarities[i][j]` is the similarity (such as a [`cosine`]) of image
/// `i` to its candidate caption `j`, where candidate 0 is the true caption
/// and the others are mismatched ones (99 in the papers). Image `i` is a hit
/// when `similarities[i][0]` is strictly greater than every other candidate's;
/// a tie is a miss (see the [module docs](self)). Rows may differ in length,
/// but each needs at least 2 candidates, and all values must be finite.
///
/// ```
/// use metrics::rprecision::top1_hits;
/// let hits = top1_hits(&[vec![0.9, 0.1, 0.3], vec![0.2, 0.8, 0.1], vec![0.5, 0.5, 0.0]]);
/// assert_eq!(hits, Ok(vec![true, false, false]));
/// ```
pub fn top1_hits(similarities: &[Vec<f64>]) -> Result<Vec<bool>, RPrecisionError> {
    check_rows(similarities)?;
    Ok(similarities
        .iter()
        .map(|row| row[1..].iter().all(|&other| row[0] > other))
        .collect())
}

/// The pairwise rate: for each image, the fraction of its mismatched
/// candidates that its true caption scores strictly above (a tie is a
/// miss), averaged over images. 0..=1; a scorer that cannot tell the truth
/// from the others scores about 0.5.
///
/// Where R-precision asks the truth to beat every candidate at once, this
/// grades each comparison: against 99 near-copies of the caption, each one
/// attribute off, a scorer right 95% of the time on every single pair ranks
/// the truth first only about 0.95^99 ≈ 0.6% of the time, but scores 0.95
/// here. Layout and errors as [`top1_hits`].
///
/// ```
/// use metrics::rprecision::pairwise_rate;
/// // Image 0 beats both others; image 1 beats one of two; image 2 ties its one.
/// let similarities = [vec![0.9, 0.1, 0.3], vec![0.5, 0.8, 0.1], vec![0.4, 0.4]];
/// assert_eq!(pairwise_rate(&similarities), Ok(0.5));
/// ```
pub fn pairwise_rate(similarities: &[Vec<f64>]) -> Result<f64, RPrecisionError> {
    check_rows(similarities)?;
    let per_image = similarities.iter().map(|row| {
        let beaten = row[1..].iter().filter(|&&other| row[0] > other).count();
        beaten as f64 / (row.len() - 1) as f64
    });
    Ok(per_image.sum::<f64>() / similarities.len() as f64)
}

/// Checks the layout [`top1_hits`] documents: at least one image, each with
/// at least 2 candidates, every similarity finite.
fn check_rows(similarities: &[Vec<f64>]) -> Result<(), RPrecisionError> {
    if similarities.is_empty() {
        return Err(RPrecisionError::NoImages);
    }
    for (image, row) in similarities.iter().enumerate() {
        if row.len() < 2 {
            return Err(RPrecisionError::TooFewCandidates {
                image,
                candidates: row.len(),
            });
        }
        if let Some((candidate, &value)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(RPrecisionError::NonFinite {
                image,
                candidate,
                value,
            });
        }
    }
    Ok(())
}

/// R-precision (R = 1): the fraction (0..=1) of images whose true caption
/// scores strictly highest among their candidates, over all images at once.
/// See [`top1_hits`] for the layout of `similarities` and the errors.
///
/// ```
/// use metrics::rprecision::r_precision;
/// let similarities = [vec![0.9, 0.1], vec![0.2, 0.8], vec![0.7, 0.6], vec![0.4, 0.4]];
/// assert_eq!(r_precision(&similarities), Ok(0.5));
/// ```
pub fn r_precision(similarities: &[Vec<f64>]) -> Result<f64, RPrecisionError> {
    let hits = top1_hits(similarities)?;
    Ok(hit_rate(&hits))
}

/// R-precision (R = 1) as mean ± population standard deviation over
/// `folds` consecutive folds of images (10 in the papers,
/// [`crate::folds::PAPER_FOLDS`]); fold boundaries as in
/// [`crate::folds::fold_ranges`].
///
/// When the folds have equal size, the mean equals [`r_precision`] over all
/// images. Errors as [`top1_hits`], and [`RPrecisionError::Folds`] for
/// `folds == 0` or fewer images than folds.
///
/// ```
/// use metrics::rprecision::r_precision_folds;
/// // Fold 0: two hits (rate 1); fold 1: one hit, one tie (rate 0.5).
/// let similarities = [vec![0.9, 0.1], vec![0.7, 0.6], vec![0.8, 0.2], vec![0.4, 0.4]];
/// let score = r_precision_folds(&similarities, 2).unwrap();
/// assert_eq!((score.mean, score.std), (0.75, 0.25));
/// ```
pub fn r_precision_folds(
    similarities: &[Vec<f64>],
    folds: usize,
) -> Result<FoldScore, RPrecisionError> {
    let hits = top1_hits(similarities)?;
    let ranges = fold_ranges(hits.len(), folds).map_err(RPrecisionError::Folds)?;
    let per_fold: Vec<f64> = ranges
        .into_iter()
        .map(|range| hit_rate(&hits[range]))
        .collect();
    Ok(FoldScore::from_fold_scores(&per_fold))
}

/// Fraction of `true` entries in the non-empty `hits`.
fn hit_rate(hits: &[bool]) -> f64 {
    hits.iter().filter(|&&hit| hit).count() as f64 / hits.len() as f64
}
