//! BLEU with several references per hypothesis and BLEU-1 to BLEU-n: a
//! table of corpora scored by sacreBLEU itself (see
//! `data/gen_sacrebleu_multi_ref_cases.py`), the single-reference table
//! through the multi-reference functions, and hand-checked properties.

// Only the BLEU cases of the single-reference table are used here.
#[allow(dead_code)]
#[path = "data/sacrebleu_cases.rs"]
mod sacrebleu_cases;
#[path = "data/sacrebleu_multi_ref_cases.rs"]
mod sacrebleu_multi_ref_cases;

use metrics::bleu::{
    MAX_NGRAM_ORDER, Smoothing, corpus_bleu, corpus_bleu_1_to_4, corpus_bleu_multi,
    corpus_bleu_multi_with, corpus_bleu_n, corpus_bleu_with,
};
use sacrebleu_cases::BLEU_CASES;
use sacrebleu_multi_ref_cases::MULTI_REF_CASES;

#[test]
fn scores_match_sacrebleu_multi_reference_table() {
    let expected_count: usize = MULTI_REF_CASES.iter().map(|case| case.scores.len()).sum();
    assert!(expected_count >= 60);
    for case in MULTI_REF_CASES {
        for expected in case.scores {
            let context = format!(
                "{:?}, BLEU-{} {:?}",
                case.name, expected.max_order, expected.smoothing
            );
            let score = corpus_bleu_multi_with(
                case.hyps,
                case.refs,
                expected.max_order,
                expected.smoothing,
            );
            assert_eq!(score.counts, expected.counts, "{context}");
            assert_eq!(score.totals, expected.totals, "{context}");
            assert_eq!(
                (score.sys_len, score.ref_len),
                (expected.sys_len, expected.ref_len),
                "{context}"
            );
            // The same floating-point operations in the same order as
            // sacreBLEU: far tighter than its printed 2 decimals.
            assert!(
                (score.score - expected.score).abs() <= 1e-9 * expected.score.max(1.0),
                "{context}: got {} expected {}",
                score.score,
                expected.score
            );
            assert_eq!(score.to_string(), expected.summary, "{context}");

            // The shorthand functions are the same computation.
            if expected.smoothing == Smoothing::Exp {
                assert_eq!(
                    corpus_bleu_n(case.hyps, case.refs, expected.max_order),
                    score,
                    "{context}"
                );
                if expected.max_order == MAX_NGRAM_ORDER {
                    assert_eq!(corpus_bleu_multi(case.hyps, case.refs), score, "{context}");
                }
                if expected.max_order <= MAX_NGRAM_ORDER {
                    let all = corpus_bleu_1_to_4(case.hyps, case.refs);
                    assert_eq!(all[expected.max_order - 1], score, "{context}");
                }
            }
        }
    }
}

#[test]
fn one_reference_each_equals_single_reference_bleu() {
    for case in BLEU_CASES {
        let refs: Vec<[&str; 1]> = case.refs.iter().map(|&r| [r]).collect();
        let single = corpus_bleu_with(case.hyps, case.refs, case.smoothing);
        let multi = corpus_bleu_multi_with(case.hyps, &refs, MAX_NGRAM_ORDER, case.smoothing);
        assert_eq!(multi, single, "hyps {:?} refs {:?}", case.hyps, case.refs);
    }
}

#[test]
fn reference_order_does_not_matter() {
    for case in MULTI_REF_CASES {
        let reversed: Vec<Vec<&str>> = case
            .refs
            .iter()
            .map(|refs| refs.iter().rev().copied().collect())
            .collect();
        assert_eq!(
            corpus_bleu_1_to_4(case.hyps, &reversed),
            corpus_bleu_1_to_4(case.hyps, case.refs),
            "{}",
            case.name
        );
    }
}

#[test]
fn closest_reference_length_and_max_clipping_hand_computed() {
    // Hypothesis: 4 tokens; references of 3 and 5 tokens are equally close
    // and the shorter counts, so there is no brevity penalty.
    let score = corpus_bleu_multi(&["a b c d"], &[["a b c d e", "a b c"]]);
    assert_eq!((score.sys_len, score.ref_len, score.bp), (4, 3, 1.0));
    assert_eq!(score.counts, [4, 3, 2, 1]);
    assert!((score.score - 100.0).abs() < 1e-9);

    // "a" four times; each reference has it once: clipped to 1, not 3.
    let score = corpus_bleu_n(&["a a a a"], &[["a b", "a c", "a d"]], 1);
    assert_eq!(score.counts, [1]);
    // exp(ln 25) = 24.999999999999996, as in sacreBLEU.
    assert!((score.score - 25.0).abs() < 1e-9);

    // A 6-token hypothesis closest to the 7-token reference: BP =
    // exp(1 - 7/6) although it is longer than the other references.
    let score = corpus_bleu_n(&["a b c d e f"], &[vec!["a b", "a b c d e f g", "x"]], 1);
    assert_eq!(score.ref_len, 7);
    assert!((score.bp - (1.0 - 7.0f64 / 6.0).exp()).abs() < 1e-15);
    assert!((score.score - 100.0 * score.bp).abs() < 1e-9);
}

#[test]
fn bleu_1_to_4_hand_computed() {
    // Matches 3/4, 2/3, 1/2, 0/1; the 4-gram precision is smoothed to
    // 1 / (2 * 1) = 50%.
    let [b1, b2, b3, b4] = corpus_bleu_1_to_4(&["a b c d"], &[["a b c e", "x"]]);
    assert!((b1.score - 75.0).abs() < 1e-9);
    assert!((b2.score - (75.0f64 * 200.0 / 3.0).sqrt()).abs() < 1e-9);
    assert!((b3.score - (75.0f64 * 200.0 / 3.0 * 50.0).cbrt()).abs() < 1e-9);
    assert!((b4.score - 12_500_000f64.powf(0.25)).abs() < 1e-9);
    assert_eq!(b4, corpus_bleu(&["a b c d"], &["a b c e"]));
    assert_eq!(b2.precisions.len(), 2);
    assert!(
        b2.to_string()
            .starts_with("BLEU = 70.71 75.0/66.7 (BP = 1.000")
    );
}

#[test]
fn empty_reference_is_a_zero_length_reference() {
    // sacreBLEU keeps an empty string as a reference of length 0 (only
    // `None` drops a reference): the 1-token hypothesis is closest to it.
    let with_empty = corpus_bleu_n(&["a"], &[["a b c d e", ""]], 1);
    assert_eq!((with_empty.ref_len, with_empty.bp), (0, 1.0));
    let left_out = corpus_bleu_n(&["a"], &[["a b c d e"]], 1);
    assert_eq!(left_out.ref_len, 5);
    assert!(left_out.bp < 0.02);
}

#[test]
fn accepts_owned_strings_and_arrays() {
    let hyps = vec!["the cat".to_string()];
    let refs = vec![vec!["the cat".to_string(), "a cat".to_string()]];
    let owned = corpus_bleu_n(&hyps, &refs, 2);
    let borrowed = corpus_bleu_n(&["the cat"], &[["the cat", "a cat"]], 2);
    assert_eq!(owned, borrowed);
    assert!((owned.score - 100.0).abs() < 1e-9);
}

#[test]
fn empty_corpus_scores_zero() {
    let refs: [[&str; 1]; 0] = [];
    let score = corpus_bleu_multi::<&str, _, _>(&[], &refs);
    assert_eq!((score.score, score.bp, score.ref_len), (0.0, 1.0, 0));
}

#[test]
#[should_panic(expected = "hypothesis 1 has no reference")]
fn hypothesis_without_references_panics() {
    let refs: [&[&str]; 2] = [&["a"], &[]];
    corpus_bleu_multi(&["a", "b"], &refs);
}

#[test]
#[should_panic(expected = "got 2 hypotheses but 1 references")]
fn mismatched_corpus_sizes_panic() {
    corpus_bleu_multi(&["a", "b"], &[["a", "b"]]);
}

#[test]
#[should_panic(expected = "the n-gram order must be at least 1")]
fn order_zero_panics() {
    corpus_bleu_n(&["a"], &[["a"]], 0);
}
