//! Fréchet distance between two sets of feature vectors: the Fréchet
//! Inception Distance (FID) of Heusel et al. 2017, "GANs Trained by a Two
//! Time-Scale Update Rule Converge to a Local Nash Equilibrium", when the
//! features are Inception-v3 pool activations of real and generated images.
//!
//! Each set is summarised by the Gaussian with its sample mean `mu` and
//! covariance `S`, and the distance is the squared 2-Wasserstein distance
//! between the two Gaussians:
//!
//! ```text
//! FID = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr (S1 S2)^(1/2)
//! ```
//!
//! As in pytorch-fid (`np.cov(features, rowvar=False)`), the covariances use
//! the unbiased `n - 1` denominator, so the same features give the same
//! `mu` and `S`.
//!
//! pytorch-fid takes `tr (S1 S2)^(1/2)` from `scipy.linalg.sqrtm` of the
//! non-symmetric product `S1 S2`, adding `1e-6` to the diagonals when that
//! fails. Here it comes from symmetric eigendecompositions instead: with
//! `A = S1^(1/2)` (from the eigendecomposition of `S1`), `S1 S2 = A (A S2)`
//! has the same eigenvalues as `A S2 A`, which is symmetric positive
//! semi-definite, so `tr (S1 S2)^(1/2) = sum_i sqrt(lambda_i(A S2 A))`. This
//! needs no offset for singular covariances (fewer samples than
//! dimensions), and it agrees with pytorch-fid to rounding wherever
//! `sqrtm` succeeds. Eigenvalues that rounding makes slightly negative are
//! taken as 0 before their square root.
//!
//! Cost: `O(n d^2)` for the covariances of `n` rows of dimension `d`, plus
//! two Jacobi eigendecompositions and two matrix products, `O(d^3)` each:
//! in a release build on one core, about 0.4 s for `d = 256` and 6 s for
//! `d = 512`, so minutes for Inception's `d = 2048`.
//!
//! When the features come from a network other than Inception-v3 (such as a
//! judge network trained for the experiment), the value is a Fréchet
//! distance in that network's feature space and is not comparable with
//! published FIDs.

use std::fmt;

use crate::jacobi;

/// Which of the two feature sets an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureSet {
    /// The first argument of [`frechet_distance`].
    First,
    /// The second argument of [`frechet_distance`].
    Second,
}

impl fmt::Display for FeatureSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FeatureSet::First => "first",
            FeatureSet::Second => "second",
        })
    }
}

/// Why [`frechet_distance`] cannot be computed. Row and column indices are
/// 0-based.
#[derive(Debug, Clone, PartialEq)]
pub enum FidError {
    /// A set has fewer than 2 rows, so its `n - 1` covariance is undefined.
    TooFewRows {
        /// The set with too few rows.
        set: FeatureSet,
        /// Its number of rows.
        rows: usize,
    },
    /// A set's rows are empty (dimension 0).
    ZeroDimension {
        /// The set with empty rows.
        set: FeatureSet,
    },
    /// A row's length differs from that of the set's first row.
    RaggedRows {
        /// The set with the ragged row.
        set: FeatureSet,
        /// The index of the first row whose length differs.
        row: usize,
        /// The length of row 0.
        expected: usize,
        /// The length of `row`.
        found: usize,
    },
    /// A feature value is NaN or infinite.
    NonFinite {
        /// The set holding the value.
        set: FeatureSet,
        /// The row of the value.
        row: usize,
        /// The column of the value.
        column: usize,
        /// The value itself.
        value: f64,
    },
    /// The two sets' rows have different dimensions.
    DimensionMismatch {
        /// The dimension of the first set's rows.
        first: usize,
        /// The dimension of the second set's rows.
        second: usize,
    },
}

impl fmt::Display for FidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FidError::TooFewRows { set, rows } => write!(
                f,
                "the {set} feature set has {rows} row(s); a covariance needs at least 2"
            ),
            FidError::ZeroDimension { set } => {
                write!(f, "the {set} feature set has rows of dimension 0")
            }
            FidError::RaggedRows {
                set,
                row,
                expected,
                found,
            } => write!(
                f,
                "row {row} of the {set} feature set has {found} values but row 0 has {expected}"
            ),
            FidError::NonFinite {
                set,
                row,
                column,
                value,
            } => write!(
                f,
                "row {row}, column {column} of the {set} feature set is {value}; features must be finite"
            ),
            FidError::DimensionMismatch { first, second } => write!(
                f,
                "the first feature set has dimension {first} but the second has dimension {second}"
            ),
        }
    }
}

impl std::error::Error for FidError {}

/// Fréchet distance between the Gaussians fitted to the rows of `first` and
/// of `second` (one feature vector per row; see the [module
/// docs](self) for the formula).
///
/// The sets may have different numbers of rows, but each needs at least 2,
/// all of the same dimension `d >= 1` in both sets, and only finite values.
/// The result is in squared feature units and is at least 0: rounding can
/// push the distance between nearly identical sets a little below 0, and
/// such values are reported as 0. It is symmetric in its arguments up to
/// rounding.
///
/// ```
/// use metrics::fid::frechet_distance;
/// // A translated copy has the same covariance, so only the means, 3
/// // apart, count: FID = 3^2 = 9.
/// let first = vec![vec![1.0, 0.0], vec![-1.0, 0.0], vec![0.0, 1.0], vec![0.0, -1.0]];
/// let second: Vec<Vec<f64>> = first.iter().map(|r| vec![r[0] + 3.0, r[1]]).collect();
/// let fid = frechet_distance(&first, &second).unwrap();
/// assert!((fid - 9.0).abs() < 1e-12);
/// ```
pub fn frechet_distance(first: &[Vec<f64>], second: &[Vec<f64>]) -> Result<f64, FidError> {
    let d = check_rows(first, FeatureSet::First)?;
    let second_d = check_rows(second, FeatureSet::Second)?;
    if d != second_d {
        return Err(FidError::DimensionMismatch {
            first: d,
            second: second_d,
        });
    }
    let (mu1, s1) = mean_and_covariance(first, d);
    let (mu2, s2) = mean_and_covariance(second, d);

    let mean_term: f64 = mu1.iter().zip(&mu2).map(|(a, b)| (a - b) * (a - b)).sum();
    let trace_term: f64 = (0..d).map(|i| s1[i * d + i] + s2[i * d + i]).sum();

    // A = S1^(1/2) = V diag(sqrt(lambda)) V^T = sum_k sqrt(lambda_k) v_k v_k^T.
    // A covariance is positive semi-definite, so negative eigenvalues are
    // rounding and become 0.
    let eigen = jacobi::symmetric_eigen(&s1, d);
    let mut a = vec![0.0; d * d];
    for (k, &lambda) in eigen.values.iter().enumerate() {
        let root = lambda.max(0.0).sqrt();
        if root == 0.0 {
            continue;
        }
        let vk = &eigen.vectors[k * d..(k + 1) * d];
        for (i, &vki) in vk.iter().enumerate() {
            let scaled = root * vki;
            for (entry, &vkj) in a[i * d..(i + 1) * d].iter_mut().zip(vk) {
                *entry += scaled * vkj;
            }
        }
    }
    let product = matmul(&matmul(&a, &s2, d), &a, d);
    let sqrt_trace: f64 = jacobi::symmetric_eigenvalues(&product, d)
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .sum();

    let distance = mean_term + trace_term - 2.0 * sqrt_trace;
    // `< 0.0` rather than `max(0.0)`, which would turn a NaN into 0.
    Ok(if distance < 0.0 { 0.0 } else { distance })
}

/// Validates one set and returns its dimension.
fn check_rows(rows: &[Vec<f64>], set: FeatureSet) -> Result<usize, FidError> {
    if rows.len() < 2 {
        return Err(FidError::TooFewRows {
            set,
            rows: rows.len(),
        });
    }
    let d = rows[0].len();
    if d == 0 {
        return Err(FidError::ZeroDimension { set });
    }
    for (row, values) in rows.iter().enumerate() {
        if values.len() != d {
            return Err(FidError::RaggedRows {
                set,
                row,
                expected: d,
                found: values.len(),
            });
        }
        if let Some((column, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(FidError::NonFinite {
                set,
                row,
                column,
                value,
            });
        }
    }
    Ok(d)
}

/// The mean (length `d`) and the unbiased (`n - 1`) covariance (`d × d`,
/// row-major) of `rows`, which has at least 2 rows of length `d`.
fn mean_and_covariance(rows: &[Vec<f64>], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() as f64;
    let mut mean = vec![0.0; d];
    for row in rows {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += x;
        }
    }
    for m in &mut mean {
        *m /= n;
    }
    // Centring first (two passes) avoids the cancellation of
    // E[xy] - E[x]E[y] when features have a large offset.
    let mut covariance = vec![0.0; d * d];
    let mut centred = vec![0.0; d];
    for row in rows {
        for ((c, x), m) in centred.iter_mut().zip(row).zip(&mean) {
            *c = x - m;
        }
        for i in 0..d {
            let ci = centred[i];
            for j in i..d {
                covariance[i * d + j] += ci * centred[j];
            }
        }
    }
    for i in 0..d {
        for j in i..d {
            let value = covariance[i * d + j] / (n - 1.0);
            covariance[i * d + j] = value;
            covariance[j * d + i] = value;
        }
    }
    (mean, covariance)
}

/// The product of two `d × d` row-major matrices.
fn matmul(x: &[f64], y: &[f64], d: usize) -> Vec<f64> {
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            let xik = x[i * d + k];
            // i-k-j order: the inner loop runs along rows of `y` and `out`.
            for j in 0..d {
                out[i * d + j] += xik * y[k * d + j];
            }
        }
    }
    out
}
