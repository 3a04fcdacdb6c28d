//! Corpus n-gram statistics against one or several references per
//! hypothesis: sacreBLEU's `BLEU._extract_reference_info`,
//! `_compute_segment_statistics` and `_get_closest_ref_len`, summed over the
//! corpus.

use std::collections::HashMap;

use super::tokenizer::{preprocess, split_python_whitespace};
use super::{BleuScore, Smoothing, compute_bleu};

/// BLEU's sufficient statistics of a corpus, for n-gram orders 1 to
/// `counts.len()`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CorpusStats {
    /// Clipped matching hypothesis n-grams per order.
    counts: Vec<usize>,
    /// Hypothesis n-grams per order.
    totals: Vec<usize>,
    /// Hypothesis tokens.
    sys_len: usize,
    /// Per hypothesis, the token count of the reference closest in length.
    ref_len: usize,
}

impl CorpusStats {
    /// Statistics for n-gram orders 1 to `max_order` of `hyps`, each scored
    /// against its list of references from `refs`.
    ///
    /// # Panics
    ///
    /// Panics if `hyps` and `refs` have different lengths or a hypothesis
    /// has no reference.
    pub(super) fn collect<'r, H, R>(
        hyps: &[H],
        refs: impl ExactSizeIterator<Item = &'r [R]>,
        max_order: usize,
    ) -> CorpusStats
    where
        H: AsRef<str>,
        R: AsRef<str> + 'r,
    {
        assert_eq!(
            hyps.len(),
            refs.len(),
            "got {} hypotheses but {} references",
            hyps.len(),
            refs.len()
        );
        let mut stats = CorpusStats {
            counts: vec![0; max_order],
            totals: vec![0; max_order],
            sys_len: 0,
            ref_len: 0,
        };
        for (index, (hyp, refs)) in hyps.iter().zip(refs).enumerate() {
            assert!(!refs.is_empty(), "hypothesis {index} has no reference");
            stats.add_segment(hyp.as_ref(), refs);
        }
        stats
    }

    /// Adds one hypothesis and its references.
    fn add_segment<R: AsRef<str>>(&mut self, hyp: &str, refs: &[R]) {
        let max_order = self.counts.len();
        let refs: Vec<String> = refs.iter().map(|r| preprocess(r.as_ref())).collect();
        let ref_tokens: Vec<Vec<&str>> = refs
            .iter()
            .map(|r| split_python_whitespace(r).collect())
            .collect();
        let ref_ngrams = max_ngram_counts(&ref_tokens, max_order);

        let hyp = preprocess(hyp);
        let hyp_tokens: Vec<&str> = split_python_whitespace(&hyp).collect();
        self.sys_len += hyp_tokens.len();
        self.ref_len += closest_ref_len(hyp_tokens.len(), ref_tokens.iter().map(Vec::len));
        for (ngram, hyp_count) in count_ngrams(&hyp_tokens, max_order) {
            let order = ngram.len();
            self.totals[order - 1] += hyp_count;
            // Clipping: an n-gram is credited at most as often as it occurs
            // in the reference where it occurs most often.
            if let Some(&ref_count) = ref_ngrams.get(ngram) {
                self.counts[order - 1] += hyp_count.min(ref_count);
            }
        }
    }

    /// BLEU-`max_order` from the statistics of orders 1 to `max_order`
    /// (sacreBLEU's `BLEU(max_ngram_order=max_order)`).
    ///
    /// # Panics
    ///
    /// Panics if `max_order` is 0 or above the order collected.
    pub(super) fn score(&self, max_order: usize, smoothing: Smoothing) -> BleuScore {
        compute_bleu(
            &self.counts[..max_order],
            &self.totals[..max_order],
            self.sys_len,
            self.ref_len,
            smoothing,
        )
    }
}

/// Occurrence counts of the n-grams of orders 1 to `max_order` in a token
/// sequence (an n-gram's order is its length).
fn count_ngrams<'a>(tokens: &'a [&'a str], max_order: usize) -> HashMap<&'a [&'a str], usize> {
    let mut ngram_counts = HashMap::new();
    for order in 1..=max_order {
        for ngram in tokens.windows(order) {
            *ngram_counts.entry(ngram).or_insert(0) += 1;
        }
    }
    ngram_counts
}

/// For every n-gram of any reference, its largest count in a single
/// reference.
fn max_ngram_counts<'a>(
    refs: &'a [Vec<&'a str>],
    max_order: usize,
) -> HashMap<&'a [&'a str], usize> {
    let mut max_counts = HashMap::new();
    for tokens in refs {
        for (ngram, count) in count_ngrams(tokens, max_order) {
            let max = max_counts.entry(ngram).or_insert(0);
            *max = count.max(*max);
        }
    }
    max_counts
}

/// The reference length closest to the hypothesis length; of two equally
/// close, the shorter (sacreBLEU's `_get_closest_ref_len`).
fn closest_ref_len(hyp_len: usize, ref_lens: impl IntoIterator<Item = usize>) -> usize {
    ref_lens
        .into_iter()
        .min_by_key(|&len| (len.abs_diff(hyp_len), len))
        .expect("a hypothesis needs at least one reference")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_reference_length_prefers_the_shorter_on_a_tie() {
        assert_eq!(closest_ref_len(3, [2, 4]), 2);
        assert_eq!(closest_ref_len(3, [4, 2]), 2);
        assert_eq!(closest_ref_len(6, [2, 7, 1]), 7);
        assert_eq!(closest_ref_len(1, [5, 0]), 0);
        assert_eq!(closest_ref_len(0, [3]), 3);
    }

    #[test]
    fn reference_counts_take_the_maximum_over_references() {
        let refs = [vec!["the", "cat"], vec!["the", "the", "mat"]];
        let counts = max_ngram_counts(&refs, 2);
        assert_eq!(counts[&["the"][..]], 2);
        assert_eq!(counts[&["cat"][..]], 1);
        assert_eq!(counts[&["the", "the"][..]], 1);
        assert_eq!(counts.len(), 6);
    }

    #[test]
    fn statistics_of_several_references() {
        // "the" 3 times, at most twice in one reference; the hypothesis (4
        // tokens) is closest to the 3-token reference.
        let refs: [&[&str]; 1] = [&["the cat", "the the mat", "a b c d e f"]];
        let stats = CorpusStats::collect(&["the the the cat"], refs.into_iter(), 4);
        assert_eq!(stats.counts, [3, 2, 0, 0]);
        assert_eq!(stats.totals, [4, 3, 2, 1]);
        assert_eq!((stats.sys_len, stats.ref_len), (4, 3));
    }

    #[test]
    #[should_panic(expected = "hypothesis 1 has no reference")]
    fn a_hypothesis_without_references_panics() {
        let refs: [&[&str]; 2] = [&["a"], &[]];
        CorpusStats::collect(&["a", "b"], refs.into_iter(), 4);
    }
}
