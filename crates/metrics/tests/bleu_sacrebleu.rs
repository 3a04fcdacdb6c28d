//! BLEU agreement with sacreBLEU: a table of corpora scored by sacreBLEU
//! 2.4.3 itself (see `data/gen_sacrebleu_cases.py`), plus values derived by
//! hand from the BLEU definition.

#[path = "data/sacrebleu_cases.rs"]
mod sacrebleu_cases;

use metrics::bleu::{Smoothing, compute_bleu, corpus_bleu, corpus_bleu_with, tokenize_13a};
use sacrebleu_cases::{BLEU_CASES, TOKENIZER_CASES};

#[test]
fn scores_match_sacrebleu_table() {
    assert!(BLEU_CASES.len() >= 30);
    for case in BLEU_CASES {
        let score = corpus_bleu_with(case.hyps, case.refs, case.smoothing);
        // The port reproduces sacreBLEU's floating-point operations in the
        // same order, so this is far tighter than the 0.01 the spec needs.
        assert!(
            (score.score - case.score).abs() < 1e-9,
            "hyps {:?} refs {:?} {:?}: got {} expected {}",
            case.hyps,
            case.refs,
            case.smoothing,
            score.score,
            case.score
        );
        assert_eq!(
            score.to_string(),
            case.summary,
            "hyps {:?} refs {:?} {:?}",
            case.hyps,
            case.refs,
            case.smoothing
        );
    }
}

#[test]
fn tokenizer_matches_sacrebleu_table() {
    for &(input, expected) in TOKENIZER_CASES {
        assert_eq!(tokenize_13a(input), expected, "input {input:?}");
    }
}

#[test]
fn one_wrong_word_hand_computed() {
    // "a b c d" vs "a b c e": matches 3/4, 2/3, 1/2, 0/1.
    let score = corpus_bleu(&["a b c d"], &["a b c e"]);
    assert_eq!(score.counts, [3, 2, 1, 0]);
    assert_eq!(score.totals, [4, 3, 2, 1]);
    assert_eq!((score.sys_len, score.ref_len, score.bp), (4, 4, 1.0));
    // exp smoothing: the first order with no match gets 1 / (2 * total) =
    // 50%, so BLEU = (75 * 66.67 * 50 * 50)^(1/4) = 12_500_000^(1/4).
    assert!((score.precisions[3] - 50.0).abs() < 1e-12);
    assert!((score.score - 12_500_000f64.powf(0.25)).abs() < 1e-9);
    assert_eq!(format!("{:.2}", score.score), "59.46");

    // Without smoothing the zero 4-gram precision zeroes the score.
    let unsmoothed = corpus_bleu_with(&["a b c d"], &["a b c e"], Smoothing::None);
    assert_eq!(unsmoothed.score, 0.0);
    assert_eq!(unsmoothed.precisions[3], 0.0);

    // floor 0.1: 4-gram precision 100 * 0.1 / 1 = 10%.
    let floor = corpus_bleu_with(&["a b c d"], &["a b c e"], Smoothing::Floor(0.1));
    assert!((floor.score - 2_500_000f64.powf(0.25)).abs() < 1e-9);

    // add-k 1 applies from the bigrams up: 3/4, 3/4, 2/3, 1/2.
    let add_k = corpus_bleu_with(&["a b c d"], &["a b c e"], Smoothing::AddK(1.0));
    let expected = 100.0 * (0.75f64 * 0.75 * (2.0 / 3.0) * 0.5).powf(0.25);
    assert!((add_k.score - expected).abs() < 1e-9);
}

#[test]
fn perfect_match_is_100() {
    let lines = ["The quick brown fox jumps.", "Over the lazy dog, twice!"];
    let score = corpus_bleu(&lines, &lines);
    assert!((score.score - 100.0).abs() < 1e-9);
    assert_eq!(score.counts, score.totals);
    assert_eq!(score.bp, 1.0);
}

#[test]
fn brevity_penalty_hand_computed() {
    // Hypothesis "the cat sat on" (4 tokens) is a prefix of the 6-token
    // reference, so every n-gram matches and all precisions are 100%.
    // BP = exp(1 - ref_len / sys_len) = exp(1 - 6/4) = exp(-0.5) = 0.60653,
    // hence BLEU = 100 * exp(-0.5) = 60.65.
    let score = corpus_bleu(&["the cat sat on"], &["the cat sat on the mat"]);
    assert_eq!(score.counts, [4, 3, 2, 1]);
    assert_eq!(score.precisions, [100.0; 4]);
    assert!((score.bp - (-0.5f64).exp()).abs() < 1e-15);
    assert!((score.score - 100.0 * (-0.5f64).exp()).abs() < 1e-9);
    assert_eq!(
        score.to_string(),
        "BLEU = 60.65 100.0/100.0/100.0/100.0 (BP = 0.607 ratio = 0.667 hyp_len = 4 ref_len = 6)"
    );
}

#[test]
fn longer_hypothesis_has_no_brevity_penalty() {
    let score = corpus_bleu(
        &["the cat sat on the mat today"],
        &["the cat sat on the mat"],
    );
    assert_eq!(score.bp, 1.0);
    // Unigrams 6/7, bigrams 5/6, trigrams 4/5, 4-grams 3/4.
    let expected = 100.0 * ((6.0 / 7.0) * (5.0 / 6.0) * (4.0 / 5.0) * (3.0f64 / 4.0)).powf(0.25);
    assert!((score.score - expected).abs() < 1e-9);
}

#[test]
fn counts_are_clipped_by_the_reference() {
    // "the" occurs 4 times in the hypothesis but once in the reference.
    let score = corpus_bleu(&["the the the the"], &["the cat"]);
    assert_eq!(score.counts, [1, 0, 0, 0]);
    assert_eq!(score.totals, [4, 3, 2, 1]);
}

#[test]
fn missing_ngram_order_gives_zero_even_with_smoothing() {
    // Two-token lines have no trigrams: sacreBLEU stops at the empty order
    // and the remaining zero precisions make the score 0.
    let score = corpus_bleu(&["the cat", "a dog"], &["the cat", "a dog"]);
    assert_eq!(score.totals, [4, 2, 0, 0]);
    assert_eq!(score.score, 0.0);
    assert_eq!(score.precisions, [100.0, 100.0, 0.0, 0.0]);
}

#[test]
fn empty_hypotheses_score_zero_with_zero_brevity_penalty() {
    let score = corpus_bleu(&["", "  "], &["a b", "c"]);
    assert_eq!(
        (score.score, score.bp, score.sys_len, score.ref_len),
        (0.0, 0.0, 0, 3)
    );
    assert_eq!(
        score.to_string(),
        "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 3)"
    );
}

#[test]
fn empty_corpus_scores_zero() {
    let score = corpus_bleu(&[], &[]);
    assert_eq!(
        (score.score, score.bp, score.sys_len, score.ref_len),
        (0.0, 1.0, 0, 0)
    );
}

#[test]
#[should_panic(expected = "got 2 hypotheses but 1 references")]
fn mismatched_corpus_sizes_panic() {
    corpus_bleu(&["a", "b"], &["a"]);
}

#[test]
fn compute_bleu_from_statistics_matches_corpus_bleu() {
    let hyps = ["the cat sat on the mat", "a dog ran in the house"];
    let refs = ["the cat sat on a mat", "the dog ran into the house"];
    let direct = corpus_bleu(&hyps, &refs);
    let from_stats = compute_bleu(
        &direct.counts,
        &direct.totals,
        direct.sys_len,
        direct.ref_len,
        Smoothing::Exp,
    );
    assert_eq!(direct, from_stats);
}

#[test]
fn trailing_whitespace_is_ignored_and_entities_unescaped() {
    let plain = corpus_bleu(&["Tom & Jerry \"run\""], &["Tom & Jerry \"ran\""]);
    let escaped = corpus_bleu(
        &["Tom &amp; Jerry &quot;run&quot; \r\n"],
        &["Tom & Jerry \"ran\""],
    );
    assert_eq!(plain, escaped);
}
