//! Accuracy of predicted token-id sequences against reference sequences.
//!
//! Hypotheses and references are compared position by position (no
//! alignment), which is the right notion for tasks where the output length is
//! determined by the input, such as copying, reversal or sorting.

/// Fraction (0..=1) of reference positions where the hypothesis has the same
/// token.
///
/// Reference positions beyond the end of a shorter hypothesis count as wrong;
/// extra hypothesis tokens past the end of the reference are ignored. The
/// fraction is taken over all reference tokens of all pairs together
/// (micro-average), so long sequences weigh more than short ones. Returns
/// `0.0` when there are no reference tokens at all.
///
/// # Panics
///
/// Panics if `hyps` and `refs` have different lengths.
///
/// ```
/// use metrics::accuracy::token_accuracy;
/// let hyps = vec![vec![1, 2, 9], vec![4]];
/// let refs = vec![vec![1, 2, 3], vec![4, 5]];
/// assert_eq!(token_accuracy(&hyps, &refs), 3.0 / 5.0);
/// ```
pub fn token_accuracy(hyps: &[Vec<u32>], refs: &[Vec<u32>]) -> f64 {
    assert_pair_counts(hyps.len(), refs.len());
    let mut correct = 0usize;
    let mut total = 0usize;
    for (hyp, reference) in hyps.iter().zip(refs) {
        total += reference.len();
        // `zip` stops at the shorter sequence: missing hypothesis positions
        // are simply never counted as correct, and extra ones are never seen.
        correct += hyp
            .iter()
            .zip(reference)
            .filter(|(predicted, expected)| predicted == expected)
            .count();
    }
    if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    }
}

/// Fraction (0..=1) of pairs where the hypothesis equals the reference
/// exactly (same length, same tokens). Returns `0.0` for no pairs.
///
/// # Panics
///
/// Panics if `hyps` and `refs` have different lengths.
///
/// ```
/// use metrics::accuracy::exact_match;
/// let hyps = vec![vec![1, 2], vec![3], vec![4, 5]];
/// let refs = vec![vec![1, 2], vec![3, 0], vec![4, 5]];
/// assert_eq!(exact_match(&hyps, &refs), 2.0 / 3.0);
/// ```
pub fn exact_match(hyps: &[Vec<u32>], refs: &[Vec<u32>]) -> f64 {
    assert_pair_counts(hyps.len(), refs.len());
    if refs.is_empty() {
        return 0.0;
    }
    let matches = hyps
        .iter()
        .zip(refs)
        .filter(|(hyp, reference)| hyp == reference)
        .count();
    matches as f64 / refs.len() as f64
}

/// Mismatched pair counts are a caller bug; silently truncating (as `zip`
/// would) would report an accuracy over the wrong data.
fn assert_pair_counts(hyp_count: usize, ref_count: usize) {
    assert_eq!(
        hyp_count, ref_count,
        "got {hyp_count} hypotheses but {ref_count} references"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_accuracy_counts_reference_positions() {
        // Pair 1: 2 of 3 right. Pair 2: hypothesis too short, 1 of 2 right.
        // Pair 3: hypothesis too long, extra tokens ignored, 1 of 1 right.
        let hyps = vec![vec![1, 2, 0], vec![7], vec![5, 6, 6, 6]];
        let refs = vec![vec![1, 2, 3], vec![7, 8], vec![5]];
        assert_eq!(token_accuracy(&hyps, &refs), 4.0 / 6.0);
    }

    #[test]
    fn token_accuracy_is_micro_averaged() {
        // Macro average would be (1/1 + 0/3) / 2 = 0.5; micro is 1/4.
        let hyps = vec![vec![1], vec![0, 0, 0]];
        let refs = vec![vec![1], vec![1, 2, 3]];
        assert_eq!(token_accuracy(&hyps, &refs), 0.25);
    }

    #[test]
    fn token_accuracy_edge_cases() {
        assert_eq!(token_accuracy(&[], &[]), 0.0);
        assert_eq!(token_accuracy(&[vec![1, 2]], &[vec![]]), 0.0);
        assert_eq!(token_accuracy(&[vec![]], &[vec![1, 2]]), 0.0);
        assert_eq!(token_accuracy(&[vec![1, 2]], &[vec![1, 2]]), 1.0);
    }

    #[test]
    fn exact_match_requires_equal_length() {
        let hyps = vec![vec![1, 2], vec![1, 2, 3], vec![], vec![4]];
        let refs = vec![vec![1, 2], vec![1, 2], vec![], vec![5]];
        assert_eq!(exact_match(&hyps, &refs), 0.5);
        assert_eq!(exact_match(&[], &[]), 0.0);
    }

    #[test]
    #[should_panic(expected = "got 1 hypotheses but 2 references")]
    fn mismatched_pair_counts_panic() {
        token_accuracy(&[vec![1]], &[vec![1], vec![2]]);
    }
}
