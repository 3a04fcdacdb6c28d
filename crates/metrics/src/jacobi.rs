//! Eigenvalues and eigenvectors of real symmetric matrices by the cyclic
//! Jacobi method (Golub and Van Loan, "Matrix Computations", 4th ed.,
//! §8.5), used by the Fréchet distance for the square root of a covariance
//! matrix and for the trace of a matrix square root.
//!
//! Each step applies a plane rotation `J` in the `(p, q)` plane,
//! `A <- J^T A J`, chosen so that the new `A[p][q]` is zero; a sweep visits
//! every `p < q` once, row by row. Rotations are orthogonal, so the
//! eigenvalues and the Frobenius norm `||A||_F` are unchanged, while the
//! off-diagonal mass shrinks, quadratically once it is small. Jacobi is
//! slower than Householder tridiagonalisation followed by QR iteration (a
//! sweep costs about `3 d^3` flops, `6 d^3` with eigenvectors, and 6 to 12
//! sweeps are typical), but it is short and simple, and its absolute
//! accuracy, about `d * TOLERANCE * ||A||_F`, is ample for the covariance
//! matrices of a few hundred features it is used on.
//!
//! Matrices are `d × d` row-major slices. A rotation reads and writes rows
//! `p` and `q` contiguously and mirrors them into columns `p` and `q`; the
//! eigenvectors are kept as rows (`V^T`) so that their update is
//! contiguous too.

/// An off-diagonal element is rotated away only while its magnitude
/// exceeds `TOLERANCE * ||A||_F`. Rotations leave rounding residue of about
/// `f64::EPSILON * ||A||_F` (2.2e-16) in elements they had zeroed, so a
/// threshold a hundred times larger is always reached, and leaving such
/// elements in place moves every eigenvalue by at most about
/// `d * TOLERANCE * ||A||_F` (Weyl's inequality).
const TOLERANCE: f64 = 1e-14;

/// Upper bound on the number of sweeps. Cyclic Jacobi converges
/// quadratically, so this is never reached for finite input; it only
/// guarantees termination. If it is reached, the current diagonal is
/// returned as is.
const MAX_SWEEPS: usize = 100;

/// Eigendecomposition `A = V diag(values) V^T` of a symmetric matrix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SymmetricEigen {
    /// The eigenvalues, in ascending order.
    pub values: Vec<f64>,
    /// The orthonormal eigenvectors as the rows of a `d × d` row-major
    /// matrix (that is, `V^T`): row `j` belongs to `values[j]`. Empty when
    /// only the eigenvalues were asked for.
    pub vectors: Vec<f64>,
}

/// Eigenvalues and eigenvectors of the symmetric `d × d` row-major matrix
/// `matrix` (only its upper triangle is read).
///
/// # Panics
///
/// Panics if `matrix.len() != d * d`.
pub(crate) fn symmetric_eigen(matrix: &[f64], d: usize) -> SymmetricEigen {
    decompose(matrix, d, true)
}

/// Eigenvalues, in ascending order, of the symmetric `d × d` row-major
/// matrix `matrix` (only its upper triangle is read). Cheaper than
/// [`symmetric_eigen`] because no eigenvectors are accumulated.
///
/// # Panics
///
/// Panics if `matrix.len() != d * d`.
pub(crate) fn symmetric_eigenvalues(matrix: &[f64], d: usize) -> Vec<f64> {
    decompose(matrix, d, false).values
}

fn decompose(matrix: &[f64], d: usize, with_vectors: bool) -> SymmetricEigen {
    assert_eq!(matrix.len(), d * d, "expected a {d} x {d} matrix");
    // Mirror the upper triangle so that asymmetric rounding in the caller's
    // product cannot make the rotations below disagree with each other.
    let mut a = vec![0.0; d * d];
    for i in 0..d {
        for j in i..d {
            a[i * d + j] = matrix[i * d + j];
            a[j * d + i] = matrix[i * d + j];
        }
    }
    let mut vt = if with_vectors {
        let mut identity = vec![0.0; d * d];
        for i in 0..d {
            identity[i * d + i] = 1.0;
        }
        identity
    } else {
        Vec::new()
    };

    let threshold = TOLERANCE * a.iter().map(|x| x * x).sum::<f64>().sqrt();
    // A NaN or overflowing entry makes the norm non-finite; no rotation
    // could repair that, so the diagonal is returned as is.
    let sweeps = if threshold.is_finite() { MAX_SWEEPS } else { 0 };
    for _ in 0..sweeps {
        let mut rotated = false;
        for p in 0..d {
            for q in p + 1..d {
                if a[p * d + q].abs() <= threshold {
                    continue;
                }
                rotated = true;
                rotate(&mut a, &mut vt, d, p, q);
            }
        }
        if !rotated {
            break;
        }
    }

    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| a[i * d + i].total_cmp(&a[j * d + j]));
    let values = order.iter().map(|&i| a[i * d + i]).collect();
    let vectors = if with_vectors {
        order
            .iter()
            .flat_map(|&row| vt[row * d..(row + 1) * d].iter().copied())
            .collect()
    } else {
        Vec::new()
    };
    SymmetricEigen { values, vectors }
}

/// Applies the rotation that zeroes `a[p][q]` (`p < q`) to the symmetric
/// `a` from both sides, and to the rows of `vt` (eigenvectors as rows) if
/// it is non-empty, following Numerical Recipes' `jacobi` (Press et al.,
/// 3rd ed., §11.1).
fn rotate(a: &mut [f64], vt: &mut [f64], d: usize, p: usize, q: usize) {
    let apq = a[p * d + q];
    let app = a[p * d + p];
    let aqq = a[q * d + q];
    // t = tan(angle) is the smaller root of t^2 + 2 theta t - 1 = 0, which
    // keeps the rotation angle at most 45 degrees (needed for convergence).
    // `hypot` avoids overflowing theta^2 when a[p][q] is tiny.
    let theta = (aqq - app) / (2.0 * apq);
    let t = if theta >= 0.0 {
        1.0 / (theta + theta.hypot(1.0))
    } else {
        -1.0 / (-theta + theta.hypot(1.0))
    };
    let c = 1.0 / t.hypot(1.0);
    let s = t * c;

    // Outside the (p, q) block, J^T A J only mixes rows p and q (and, by
    // symmetry, columns p and q) with this 2 x 2 rotation. Computing rows
    // and mirroring them into the columns does each product once and keeps
    // the reads contiguous.
    for k in 0..d {
        if k == p || k == q {
            continue;
        }
        let apk = a[p * d + k];
        let aqk = a[q * d + k];
        let new_p = c * apk - s * aqk;
        let new_q = s * apk + c * aqk;
        a[p * d + k] = new_p;
        a[q * d + k] = new_q;
        a[k * d + p] = new_p;
        a[k * d + q] = new_q;
    }
    // The block itself, in the closed form that makes a[p][q] exactly 0.
    a[p * d + p] = app - t * apq;
    a[q * d + q] = aqq + t * apq;
    a[p * d + q] = 0.0;
    a[q * d + p] = 0.0;

    // V <- V J mixes columns p and q of V, which are rows p and q of V^T.
    if !vt.is_empty() {
        for k in 0..d {
            let vpk = vt[p * d + k];
            let vqk = vt[q * d + k];
            vt[p * d + k] = c * vpk - s * vqk;
            vt[q * d + k] = s * vpk + c * vqk;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: &[f64], expected: &[f64], tolerance: f64) {
        assert_eq!(got.len(), expected.len(), "got {got:?}");
        for (g, e) in got.iter().zip(expected) {
            assert!(
                (g - e).abs() <= tolerance,
                "got {got:?}, expected {expected:?}"
            );
        }
    }

    /// The eigenvectors are orthonormal, and `V diag(values) V^T` rebuilds
    /// `matrix` (row `k` of `vt` is column `k` of `V`).
    fn assert_decomposes(matrix: &[f64], d: usize, eigen: &SymmetricEigen) {
        let vt = &eigen.vectors;
        for i in 0..d {
            for j in 0..d {
                let gram: f64 = (0..d).map(|k| vt[i * d + k] * vt[j * d + k]).sum();
                let identity = if i == j { 1.0 } else { 0.0 };
                assert!((gram - identity).abs() < 1e-12, "V^T V [{i}][{j}] = {gram}");
                let rebuilt: f64 = (0..d)
                    .map(|k| vt[k * d + i] * eigen.values[k] * vt[k * d + j])
                    .sum();
                assert!(
                    (rebuilt - matrix[i * d + j]).abs() < 1e-12,
                    "rebuilt [{i}][{j}] = {rebuilt}, expected {}",
                    matrix[i * d + j]
                );
            }
        }
    }

    #[test]
    fn two_by_two() {
        // det([[2 - x, 1], [1, 2 - x]]) = (2 - x)^2 - 1 = 0 -> x = 1 or 3,
        // with eigenvectors (1, -1) / sqrt 2 and (1, 1) / sqrt 2.
        let matrix = [2.0, 1.0, 1.0, 2.0];
        let eigen = symmetric_eigen(&matrix, 2);
        assert_close(&eigen.values, &[1.0, 3.0], 1e-14);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        // Row 1 is +-(1, 1) / sqrt 2: both entries have the same sign.
        assert!((eigen.vectors[2].abs() - h).abs() < 1e-14);
        assert!((eigen.vectors[2] - eigen.vectors[3]).abs() < 1e-14);
        assert_decomposes(&matrix, 2, &eigen);
    }

    #[test]
    fn two_by_two_with_zero_diagonal() {
        // [[0, 1], [1, 0]]: x^2 - 1 = 0 -> -1, 1 (theta = 0, a 45 degree turn).
        let matrix = [0.0, 1.0, 1.0, 0.0];
        let eigen = symmetric_eigen(&matrix, 2);
        assert_close(&eigen.values, &[-1.0, 1.0], 1e-14);
        assert_decomposes(&matrix, 2, &eigen);
    }

    #[test]
    fn three_by_three_second_difference() {
        // The tridiagonal [[2, -1, 0], [-1, 2, -1], [0, -1, 2]] has
        // eigenvalues 2 - 2 cos(k pi / 4), k = 1, 2, 3: 2 - sqrt 2, 2, 2 + sqrt 2
        // (characteristic polynomial (2 - x)((2 - x)^2 - 2)). It needs more
        // than one sweep: rotating (0, 1) fills in (0, 2).
        let matrix = [2.0, -1.0, 0.0, -1.0, 2.0, -1.0, 0.0, -1.0, 2.0];
        let eigen = symmetric_eigen(&matrix, 3);
        let r = 2f64.sqrt();
        assert_close(&eigen.values, &[2.0 - r, 2.0, 2.0 + r], 1e-14);
        assert_decomposes(&matrix, 3, &eigen);
        assert_eq!(eigen.values, symmetric_eigenvalues(&matrix, 3));
    }

    #[test]
    fn three_by_three_with_repeated_eigenvalue() {
        // J - I for the all-ones J: J has eigenvalues 3, 0, 0, so this has
        // 2, -1, -1.
        let matrix = [0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        let eigen = symmetric_eigen(&matrix, 3);
        assert_close(&eigen.values, &[-1.0, -1.0, 2.0], 1e-14);
        assert_decomposes(&matrix, 3, &eigen);
    }

    #[test]
    fn diagonal_and_empty_matrices_need_no_rotation() {
        let eigen = symmetric_eigen(&[5.0, 0.0, 0.0, -3.0], 2);
        assert_eq!(eigen.values, vec![-3.0, 5.0]);
        // Sorting moved the eigenvector of -3 (e_2) to row 0.
        assert_eq!(eigen.vectors, vec![0.0, 1.0, 1.0, 0.0]);
        assert_eq!(symmetric_eigenvalues(&[], 0), Vec::<f64>::new());
    }

    #[test]
    fn larger_matrix_rebuilds() {
        // A fixed, dense 6 x 6 symmetric matrix from a small LCG.
        let d = 6;
        let mut state = 12345u64;
        let mut matrix = vec![0.0; d * d];
        for i in 0..d {
            for j in i..d {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let x = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                matrix[i * d + j] = x;
                matrix[j * d + i] = x;
            }
        }
        let eigen = symmetric_eigen(&matrix, d);
        assert_decomposes(&matrix, d, &eigen);
        // The trace is the sum of the eigenvalues.
        let trace: f64 = (0..d).map(|i| matrix[i * d + i]).sum();
        assert!((eigen.values.iter().sum::<f64>() - trace).abs() < 1e-13);
        assert!(eigen.values.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn nan_input_returns_without_rotating() {
        let values = symmetric_eigenvalues(&[f64::NAN, 1.0, 1.0, 2.0], 2);
        assert!(values.iter().any(|v| v.is_nan()), "{values:?}");
        assert!(values.contains(&2.0), "{values:?}");
    }

    #[test]
    #[should_panic(expected = "expected a 2 x 2 matrix")]
    fn wrong_size_panics() {
        symmetric_eigenvalues(&[1.0, 2.0, 3.0], 2);
    }
}
