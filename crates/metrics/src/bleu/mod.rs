//! Corpus BLEU, reproducing sacreBLEU 2.x.
//!
//! [`corpus_bleu`] gives the same result as sacreBLEU's
//! `sacrebleu.corpus_bleu(hyps, [refs])` with default settings: one reference
//! per hypothesis, the `13a` tokenizer ([`tokenize_13a`]), case-sensitive,
//! BLEU-4 with `exp` smoothing and without effective order. The other
//! smoothing methods are available through [`corpus_bleu_with`].
//!
//! Several references per hypothesis (five per image in captioning):
//! [`corpus_bleu_multi`] is `sacrebleu.corpus_bleu(hyps, [refs1, ...,
//! refsK])`, [`corpus_bleu_n`] is BLEU-n,
//! `sacrebleu.BLEU(max_ngram_order=n).corpus_score(hyps, [refs1, ...])`,
//! [`corpus_bleu_1_to_4`] gives BLEU-1 to BLEU-4 from one pass over the
//! corpus, and [`corpus_bleu_multi_with`] takes the order and the smoothing.
//! As in sacreBLEU:
//!
//! * a hypothesis n-gram is credited at most as often as it occurs in the
//!   reference where it occurs most often;
//! * the brevity penalty's reference length sums, over the hypotheses, the
//!   length of the reference closest in length to the hypothesis, the
//!   shorter of two equally close ones;
//! * BLEU-n is the brevity penalty times the geometric mean of the
//!   precisions of orders 1 to n (uniform weights `1/n`), with the same
//!   smoothing and early stops as BLEU-4 and without effective order, so an
//!   order without any hypothesis n-gram makes the score 0.
//!
//! sacreBLEU takes K reference streams as long as the corpus; a `None` in a
//! stream drops that reference for that segment, so the number of references
//! may vary. Here each hypothesis has its own list of references, of any
//! length but at least one; leaving a reference out is sacreBLEU's `None`.
//! An empty string is not left out: as in sacreBLEU it is a reference of
//! length 0 and can be the closest length.
//!
//! These are sacreBLEU's values, not those of the COCO caption evaluation
//! code (`pycocoevalcap`), which tokenizes differently (PTB tokenizer,
//! lowercased, punctuation removed) and smooths zero counts differently.
//!
//! The port follows `sacrebleu/metrics/bleu.py`,
//! `sacrebleu/tokenizers/tokenizer_13a.py` and `tokenizer_re.py` of
//! sacreBLEU 2.4.3 step by step, including its Python-specific details
//! (Unicode whitespace as `str.split()`/`str.rstrip()` define it, the
//! left-to-right non-overlapping behaviour of `re.sub`, and `my_log`'s floor
//! for `log(0)`), so scores and the printed summary line agree with
//! sacreBLEU's. The crate's tests compare against tables of scores that
//! sacreBLEU itself produced (2.4.3 and 2.6.0, which agree).
//!
//! ```
//! use metrics::bleu::{corpus_bleu, corpus_bleu_with, Smoothing};
//! let score = corpus_bleu(&["a b c d"], &["a b c e"]);
//! assert_eq!(
//!     score.to_string(),
//!     "BLEU = 59.46 75.0/66.7/50.0/50.0 (BP = 1.000 ratio = 1.000 hyp_len = 4 ref_len = 4)"
//! );
//! assert_eq!(corpus_bleu_with(&["a b c d"], &["a b c e"], Smoothing::None).score, 0.0);
//! ```

use std::fmt;

mod ngrams;
mod tokenizer;

use ngrams::CorpusStats;
pub use tokenizer::tokenize_13a;

/// The n-gram order of BLEU-4, sacreBLEU's `MAX_NGRAM_ORDER`.
pub const MAX_NGRAM_ORDER: usize = 4;

/// How n-gram orders without any matching n-gram are scored; sacreBLEU's
/// `smooth_method` (and `smooth_value`).
///
/// The methods are those of Chen and Cherry (2014), "A Systematic Comparison
/// of Smoothing Techniques for Sentence-Level BLEU".
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Smoothing {
    /// sacreBLEU's default `exp` (mteval-v13a's NIST smoothing): the `k`-th
    /// order with zero matches, counting from the lowest, gets precision
    /// `1 / (2^k * total)`.
    #[default]
    Exp,
    /// `none`: an order with zero matches makes the whole score 0.
    None,
    /// `floor`: an order with zero matches gets precision `value / total`
    /// (sacreBLEU's default value is [`Smoothing::FLOOR_DEFAULT`]).
    Floor(f64),
    /// `add-k`: adds `k` to both the matches and the total of every order
    /// from 2 up (sacreBLEU's default `k` is [`Smoothing::ADD_K_DEFAULT`]).
    AddK(f64),
}

impl Smoothing {
    /// sacreBLEU's default value for `floor` smoothing.
    pub const FLOOR_DEFAULT: f64 = 0.1;
    /// sacreBLEU's default `k` for `add-k` smoothing.
    pub const ADD_K_DEFAULT: f64 = 1.0;

    /// The method for a sacreBLEU `smooth_method` name (`exp`, `none`,
    /// `floor` or `add-k`), with sacreBLEU's default value; `None` for any
    /// other name.
    ///
    /// ```
    /// use metrics::bleu::Smoothing;
    /// assert_eq!(Smoothing::from_name("floor"), Some(Smoothing::Floor(0.1)));
    /// assert_eq!(Smoothing::from_name("add-one"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Smoothing> {
        match name {
            "exp" => Some(Smoothing::Exp),
            "none" => Some(Smoothing::None),
            "floor" => Some(Smoothing::Floor(Self::FLOOR_DEFAULT)),
            "add-k" => Some(Smoothing::AddK(Self::ADD_K_DEFAULT)),
            _ => None,
        }
    }

    /// sacreBLEU's name for the method, as accepted by
    /// [`Smoothing::from_name`].
    pub fn name(&self) -> &'static str {
        match self {
            Smoothing::Exp => "exp",
            Smoothing::None => "none",
            Smoothing::Floor(_) => "floor",
            Smoothing::AddK(_) => "add-k",
        }
    }
}

/// A corpus BLEU score with the statistics it was computed from; sacreBLEU's
/// `BLEUScore`.
///
/// Its [`Display`](fmt::Display) form is sacreBLEU's summary line, for
/// example `BLEU = 59.46 75.0/66.7/50.0/50.0 (BP = 1.000 ratio = 1.000
/// hyp_len = 4 ref_len = 4)` (one precision per n-gram order).
#[derive(Debug, Clone, PartialEq)]
pub struct BleuScore {
    /// The BLEU score, from 0 to 100.
    pub score: f64,
    /// Matching (reference-clipped) n-grams of order 1 to
    /// [`BleuScore::max_order`], summed over the corpus. These are the raw
    /// counts; unlike sacreBLEU's, they do not include the constant that
    /// `add-k` smoothing adds.
    pub counts: Vec<usize>,
    /// Hypothesis n-grams of order 1 to [`BleuScore::max_order`], summed
    /// over the corpus (raw, as for [`BleuScore::counts`]).
    pub totals: Vec<usize>,
    /// The (smoothed) n-gram precisions of order 1 to
    /// [`BleuScore::max_order`], from 0 to 100.
    pub precisions: Vec<f64>,
    /// The brevity penalty, from 0 to 1.
    pub bp: f64,
    /// Total number of hypothesis tokens.
    pub sys_len: usize,
    /// Total number of reference tokens: per hypothesis, those of the
    /// reference closest in length.
    pub ref_len: usize,
}

impl BleuScore {
    /// The highest n-gram order: 4 for BLEU-4.
    pub fn max_order(&self) -> usize {
        self.precisions.len()
    }

    /// Hypothesis length over reference length, or 0 when the reference is
    /// empty (as sacreBLEU reports it).
    pub fn ratio(&self) -> f64 {
        if self.ref_len == 0 {
            0.0
        } else {
            self.sys_len as f64 / self.ref_len as f64
        }
    }
}

impl fmt::Display for BleuScore {
    /// sacreBLEU's `BLEUScore.format()` without a signature. Rust's fixed
    /// precision formatting rounds the exact binary value half-to-even, as
    /// Python's does, so the digits agree too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BLEU = {:.2} ", self.score)?;
        for (index, precision) in self.precisions.iter().enumerate() {
            let separator = if index == 0 { "" } else { "/" };
            write!(f, "{separator}{precision:.1}")?;
        }
        write!(
            f,
            " (BP = {:.3} ratio = {:.3} hyp_len = {} ref_len = {})",
            self.bp,
            self.ratio(),
            self.sys_len,
            self.ref_len
        )
    }
}

/// Corpus BLEU-4 of `hyps` against one reference each, exactly as sacreBLEU
/// 2.x computes it by default: `13a` tokenization, case-sensitive, `exp`
/// smoothing, no effective order.
///
/// Trailing whitespace of every line is ignored, as in sacreBLEU.
///
/// # Panics
///
/// Panics if `hyps` and `refs` have different lengths.
pub fn corpus_bleu(hyps: &[&str], refs: &[&str]) -> BleuScore {
    corpus_bleu_with(hyps, refs, Smoothing::Exp)
}

/// Corpus BLEU-4 like [`corpus_bleu`], with the given smoothing method.
///
/// # Panics
///
/// Panics if `hyps` and `refs` have different lengths.
pub fn corpus_bleu_with(hyps: &[&str], refs: &[&str], smoothing: Smoothing) -> BleuScore {
    let refs = refs.iter().map(std::slice::from_ref);
    CorpusStats::collect(hyps, refs, MAX_NGRAM_ORDER).score(MAX_NGRAM_ORDER, smoothing)
}

/// Corpus BLEU-4 of `hyps` against several references each; `refs[i]` holds
/// the references of `hyps[i]`. Equal to sacreBLEU's
/// `sacrebleu.corpus_bleu(hyps, [refs1, ..., refsK])` with default settings
/// (see the [module documentation](self) for how references combine and
/// how the number of references may vary).
///
/// ```
/// use metrics::bleu::corpus_bleu_multi;
/// let hyps = ["the cat sat on the mat"];
/// let refs = [vec!["the cat is on the mat", "a cat sat on the mat", "there is a cat"]];
/// let score = corpus_bleu_multi(&hyps, &refs);
/// assert_eq!(score.counts, [6, 5, 3, 2]);
/// assert_eq!(format!("{:.2}", score.score), "84.09");
/// ```
///
/// # Panics
///
/// Panics if `hyps` and `refs` have different lengths, or a hypothesis has
/// no reference.
pub fn corpus_bleu_multi<H, L, R>(hyps: &[H], refs: &[L]) -> BleuScore
where
    H: AsRef<str>,
    L: AsRef<[R]>,
    R: AsRef<str>,
{
    corpus_bleu_multi_with(hyps, refs, MAX_NGRAM_ORDER, Smoothing::Exp)
}

/// Corpus BLEU-n (`max_order` = n) of `hyps` against several references
/// each, with `exp` smoothing: sacreBLEU's
/// `sacrebleu.BLEU(max_ngram_order=n).corpus_score(hyps, [refs1, ...])`.
///
/// ```
/// use metrics::bleu::{corpus_bleu_multi, corpus_bleu_n};
/// let hyps = ["a b c d"];
/// let refs = [["a b c e", "b c"]];
/// // BLEU-1 is the clipped unigram precision times the brevity penalty.
/// assert_eq!(format!("{:.2}", corpus_bleu_n(&hyps, &refs, 1).score), "75.00");
/// assert_eq!(corpus_bleu_n(&hyps, &refs, 4), corpus_bleu_multi(&hyps, &refs));
/// ```
///
/// # Panics
///
/// Panics if `max_order` is 0, `hyps` and `refs` have different lengths,
/// or a hypothesis has no reference.
pub fn corpus_bleu_n<H, L, R>(hyps: &[H], refs: &[L], max_order: usize) -> BleuScore
where
    H: AsRef<str>,
    L: AsRef<[R]>,
    R: AsRef<str>,
{
    corpus_bleu_multi_with(hyps, refs, max_order, Smoothing::Exp)
}

/// Corpus BLEU-n (`max_order` = n) of `hyps` against several references
/// each, with the given smoothing: sacreBLEU's
/// `sacrebleu.BLEU(max_ngram_order=n, smooth_method=...,
/// smooth_value=...).corpus_score(hyps, [refs1, ...])`.
///
/// # Panics
///
/// Panics if `max_order` is 0, `hyps` and `refs` have different lengths,
/// or a hypothesis has no reference.
pub fn corpus_bleu_multi_with<H, L, R>(
    hyps: &[H],
    refs: &[L],
    max_order: usize,
    smoothing: Smoothing,
) -> BleuScore
where
    H: AsRef<str>,
    L: AsRef<[R]>,
    R: AsRef<str>,
{
    assert!(max_order >= 1, "the n-gram order must be at least 1");
    let refs = refs.iter().map(AsRef::as_ref);
    CorpusStats::collect(hyps, refs, max_order).score(max_order, smoothing)
}

/// BLEU-1, BLEU-2, BLEU-3 and BLEU-4 of `hyps` against several references
/// each, as captioning papers report them: element `k` equals
/// [`corpus_bleu_n`] with `max_order = k + 1`. The corpus is read once, as
/// the statistics of orders 1 to n are the same for every BLEU-m, m >= n.
///
/// # Panics
///
/// Panics if `hyps` and `refs` have different lengths, or a hypothesis has
/// no reference.
pub fn corpus_bleu_1_to_4<H, L, R>(hyps: &[H], refs: &[L]) -> [BleuScore; MAX_NGRAM_ORDER]
where
    H: AsRef<str>,
    L: AsRef<[R]>,
    R: AsRef<str>,
{
    let stats = CorpusStats::collect(hyps, refs.iter().map(AsRef::as_ref), MAX_NGRAM_ORDER);
    std::array::from_fn(|k| stats.score(k + 1, Smoothing::Exp))
}

/// BLEU from corpus-level sufficient statistics; sacreBLEU's
/// `BLEU.compute_bleu` with `effective_order=False` and `max_ngram_order`
/// the length of `counts`.
///
/// `counts` and `totals` are the matching and total hypothesis n-grams of
/// order 1 to n (4 for BLEU-4), `sys_len` and `ref_len` the hypothesis and
/// reference token counts. Useful to combine statistics computed separately
/// (for example in bootstrap resampling).
///
/// ```
/// use metrics::bleu::{compute_bleu, Smoothing};
/// // Every n-gram matches, hypothesis half as long as the reference:
/// // BP = exp(1 - 20/10) = exp(-1).
/// let score = compute_bleu(&[10, 9, 8, 7], &[10, 9, 8, 7], 10, 20, Smoothing::Exp);
/// assert!((score.score - 100.0 * (-1.0f64).exp()).abs() < 1e-9);
/// ```
///
/// # Panics
///
/// Panics if `counts` is empty or `counts` and `totals` differ in length.
pub fn compute_bleu(
    counts: &[usize],
    totals: &[usize],
    sys_len: usize,
    ref_len: usize,
    smoothing: Smoothing,
) -> BleuScore {
    assert!(!counts.is_empty(), "the n-gram order must be at least 1");
    assert_eq!(
        counts.len(),
        totals.len(),
        "counts and totals of different n-gram orders"
    );
    let max_order = counts.len();
    let bp = if sys_len < ref_len {
        if sys_len > 0 {
            (1.0 - ref_len as f64 / sys_len as f64).exp()
        } else {
            0.0
        }
    } else {
        1.0
    };
    let mut result = BleuScore {
        score: 0.0,
        counts: counts.to_vec(),
        totals: totals.to_vec(),
        precisions: vec![0.0; max_order],
        bp,
        sys_len,
        ref_len,
    };
    // sacreBLEU stops early (score and precisions 0) when nothing matches at
    // all, before any smoothing could make a precision non-zero.
    if counts.iter().all(|&c| c == 0) {
        return result;
    }

    let precisions = &mut result.precisions;
    let mut smooth_mteval = 1.0f64;
    for order in 1..=max_order {
        let mut correct = counts[order - 1] as f64;
        let mut total = totals[order - 1] as f64;
        if let Smoothing::AddK(k) = smoothing
            && order > 1
        {
            correct += k;
            total += k;
        }
        // No hypothesis n-grams of this order (every line shorter than
        // `order`): this and the higher precisions stay 0, hence score 0.
        if total == 0.0 {
            break;
        }
        if correct == 0.0 {
            match smoothing {
                Smoothing::Exp => {
                    smooth_mteval *= 2.0;
                    precisions[order - 1] = 100.0 / (smooth_mteval * total);
                }
                Smoothing::Floor(value) => precisions[order - 1] = 100.0 * value / total,
                Smoothing::None | Smoothing::AddK(_) => {}
            }
        } else {
            precisions[order - 1] = 100.0 * correct / total;
        }
    }

    // Same operation order as Python's `sum([...]) / eff_order` so the last
    // bits agree as well.
    let log_sum = precisions
        .iter()
        .fold(0.0f64, |sum, &p| sum + floored_log(p));
    result.score = bp * (log_sum / max_order as f64).exp();
    result
}

/// sacreBLEU's `my_log`: the natural log, with log(0) floored to
/// -9999999999 so that a zero precision drives the score to exactly 0.
fn floored_log(value: f64) -> f64 {
    if value == 0.0 {
        -9_999_999_999.0
    } else {
        value.ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_names_round_trip() {
        for name in ["exp", "none", "floor", "add-k"] {
            assert_eq!(Smoothing::from_name(name).unwrap().name(), name);
        }
        assert_eq!(Smoothing::default(), Smoothing::Exp);
        assert_eq!(Smoothing::from_name("add-k"), Some(Smoothing::AddK(1.0)));
    }

    #[test]
    fn ratio_is_zero_without_reference_tokens() {
        let score = compute_bleu(&[0; 4], &[3, 2, 1, 0], 3, 0, Smoothing::Exp);
        assert_eq!(score.ratio(), 0.0);
        assert_eq!(score.bp, 1.0);
        assert_eq!(score.score, 0.0);
    }

    #[test]
    fn summary_line_lists_one_precision_per_order() {
        let score = compute_bleu(&[3, 2], &[4, 3], 4, 5, Smoothing::Exp);
        assert_eq!(score.max_order(), 2);
        assert!(
            score
                .to_string()
                .starts_with("BLEU = 55.07 75.0/66.7 (BP = 0.779")
        );
        let score = compute_bleu(&[3], &[4], 4, 4, Smoothing::Exp);
        assert!(
            score
                .to_string()
                .starts_with("BLEU = 75.00 75.0 (BP = 1.000")
        );
    }
}
