//! Fixed-width length buckets, for reporting scores as a function of
//! sequence length.
//!
//! Buckets start at length 1 and are `width` wide: with `width = 5` they are
//! `[1, 5]`, `[6, 10]`, `[11, 15]`, ... Length 0 falls in `[0, 0]` so that
//! empty sequences stay visible instead of being merged with short ones.

/// The inclusive `(lo, hi)` range of the bucket that `len` falls in, for
/// buckets of `width` starting at 1.
///
/// A length of 0 gets its own bucket `(0, 0)`.
///
/// # Panics
///
/// Panics if `width` is 0.
///
/// ```
/// use metrics::buckets::length_bucket;
/// assert_eq!(length_bucket(7, 5), (6, 10));
/// assert_eq!(length_bucket(5, 5), (1, 5));
/// assert_eq!(length_bucket(6, 5), (6, 10));
/// ```
pub fn length_bucket(len: usize, width: usize) -> (usize, usize) {
    assert!(width > 0, "bucket width must be positive");
    if len == 0 {
        return (0, 0);
    }
    let index = (len - 1) / width;
    let lo = index * width + 1;
    (lo, lo + width - 1)
}

/// Groups item indices by the bucket of their length.
///
/// `lengths[i]` is the length of item `i`. Returns one entry per non-empty
/// bucket, sorted by the bucket's lower edge; within a bucket the indices
/// keep their original (ascending) order.
///
/// # Panics
///
/// Panics if `width` is 0.
///
/// ```
/// use metrics::buckets::group_by_bucket;
/// let groups = group_by_bucket(&[3, 12, 1, 7], 5);
/// assert_eq!(groups, vec![((1, 5), vec![0, 2]), ((6, 10), vec![3]), ((11, 15), vec![1])]);
/// ```
pub fn group_by_bucket(lengths: &[usize], width: usize) -> Vec<((usize, usize), Vec<usize>)> {
    let mut groups = std::collections::BTreeMap::<(usize, usize), Vec<usize>>::new();
    for (index, &len) in lengths.iter().enumerate() {
        groups
            .entry(length_bucket(len, width))
            .or_default()
            .push(index);
    }
    groups.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_edges() {
        assert_eq!(length_bucket(1, 5), (1, 5));
        assert_eq!(length_bucket(5, 5), (1, 5));
        assert_eq!(length_bucket(6, 5), (6, 10));
        assert_eq!(length_bucket(7, 5), (6, 10));
        assert_eq!(length_bucket(10, 5), (6, 10));
        assert_eq!(length_bucket(11, 5), (11, 15));
        assert_eq!(length_bucket(0, 5), (0, 0));
        assert_eq!(length_bucket(4, 1), (4, 4));
        assert_eq!(length_bucket(100, 10), (91, 100));
    }

    #[test]
    #[should_panic(expected = "bucket width must be positive")]
    fn zero_width_panics() {
        length_bucket(3, 0);
    }

    #[test]
    fn grouping_sorts_buckets_and_keeps_index_order() {
        let lengths = [25, 3, 0, 10, 5, 21, 11];
        let groups = group_by_bucket(&lengths, 10);
        assert_eq!(
            groups,
            vec![
                ((0, 0), vec![2]),
                ((1, 10), vec![1, 3, 4]),
                ((11, 20), vec![6]),
                ((21, 30), vec![0, 5]),
            ]
        );
        assert!(group_by_bucket(&[], 3).is_empty());
    }
}
