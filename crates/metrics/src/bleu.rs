//! Corpus BLEU, reproducing sacreBLEU 2.x.
//!
//! [`corpus_bleu`] gives the same result as sacreBLEU's
//! `sacrebleu.corpus_bleu(hyps, [refs])` with default settings: one reference
//! per hypothesis, the `13a` tokenizer ([`tokenize_13a`]), case-sensitive,
//! BLEU-4 with `exp` smoothing and without effective order. The other
//! smoothing methods are available through [`corpus_bleu_with`].
//!
//! The port follows `sacrebleu/metrics/bleu.py`,
//! `sacrebleu/tokenizers/tokenizer_13a.py` and `tokenizer_re.py` of
//! sacreBLEU 2.4.3 step by step, including its Python-specific details
//! (Unicode whitespace as `str.split()`/`str.rstrip()` define it, the
//! left-to-right non-overlapping behaviour of `re.sub`, and `my_log`'s floor
//! for `log(0)`), so scores and the printed summary line agree with
//! sacreBLEU's. The crate's tests compare against a table of scores that
//! sacreBLEU itself produced.
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

use std::collections::HashMap;
use std::fmt;

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
/// hyp_len = 4 ref_len = 4)`.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuScore {
    /// The BLEU score, from 0 to 100.
    pub score: f64,
    /// Matching (reference-clipped) n-grams of order 1 to 4, summed over the
    /// corpus. These are the raw counts; unlike sacreBLEU's, they do not
    /// include the constant that `add-k` smoothing adds.
    pub counts: [usize; MAX_NGRAM_ORDER],
    /// Hypothesis n-grams of order 1 to 4, summed over the corpus (raw, as
    /// for [`BleuScore::counts`]).
    pub totals: [usize; MAX_NGRAM_ORDER],
    /// The (smoothed) n-gram precisions of order 1 to 4, from 0 to 100.
    pub precisions: [f64; MAX_NGRAM_ORDER],
    /// The brevity penalty, from 0 to 1.
    pub bp: f64,
    /// Total number of hypothesis tokens.
    pub sys_len: usize,
    /// Total number of reference tokens.
    pub ref_len: usize,
}

impl BleuScore {
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
        let [p1, p2, p3, p4] = self.precisions;
        write!(
            f,
            "BLEU = {:.2} {p1:.1}/{p2:.1}/{p3:.1}/{p4:.1} (BP = {:.3} ratio = {:.3} hyp_len = {} ref_len = {})",
            self.score,
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
    assert_eq!(
        hyps.len(),
        refs.len(),
        "got {} hypotheses but {} references",
        hyps.len(),
        refs.len()
    );
    let mut counts = [0usize; MAX_NGRAM_ORDER];
    let mut totals = [0usize; MAX_NGRAM_ORDER];
    let mut sys_len = 0usize;
    let mut ref_len = 0usize;
    for (hyp, reference) in hyps.iter().zip(refs) {
        // sacreBLEU's `_preprocess_segment`: rstrip, then tokenize.
        let hyp = tokenize_13a(hyp.trim_end_matches(is_python_whitespace));
        let reference = tokenize_13a(reference.trim_end_matches(is_python_whitespace));
        let hyp_tokens: Vec<&str> = split_python_whitespace(&hyp).collect();
        let ref_tokens: Vec<&str> = split_python_whitespace(&reference).collect();
        sys_len += hyp_tokens.len();
        ref_len += ref_tokens.len();
        for order in 1..=MAX_NGRAM_ORDER {
            let ref_ngrams = count_ngrams(&ref_tokens, order);
            for (ngram, hyp_count) in count_ngrams(&hyp_tokens, order) {
                totals[order - 1] += hyp_count;
                // Clipping: an n-gram is credited at most as often as it
                // occurs in the reference.
                if let Some(&ref_count) = ref_ngrams.get(ngram) {
                    counts[order - 1] += hyp_count.min(ref_count);
                }
            }
        }
    }
    compute_bleu(counts, totals, sys_len, ref_len, smoothing)
}

/// BLEU from corpus-level sufficient statistics; sacreBLEU's
/// `BLEU.compute_bleu` with `effective_order=False`.
///
/// `counts` and `totals` are the matching and total hypothesis n-grams of
/// order 1 to 4, `sys_len` and `ref_len` the hypothesis and reference token
/// counts. Useful to combine statistics computed separately (for example in
/// bootstrap resampling).
///
/// ```
/// use metrics::bleu::{compute_bleu, Smoothing};
/// // Every n-gram matches, hypothesis half as long as the reference:
/// // BP = exp(1 - 20/10) = exp(-1).
/// let score = compute_bleu([10, 9, 8, 7], [10, 9, 8, 7], 10, 20, Smoothing::Exp);
/// assert!((score.score - 100.0 * (-1.0f64).exp()).abs() < 1e-9);
/// ```
pub fn compute_bleu(
    counts: [usize; MAX_NGRAM_ORDER],
    totals: [usize; MAX_NGRAM_ORDER],
    sys_len: usize,
    ref_len: usize,
    smoothing: Smoothing,
) -> BleuScore {
    let bp = if sys_len < ref_len {
        if sys_len > 0 {
            (1.0 - ref_len as f64 / sys_len as f64).exp()
        } else {
            0.0
        }
    } else {
        1.0
    };
    let mut precisions = [0.0f64; MAX_NGRAM_ORDER];
    let mut result = BleuScore {
        score: 0.0,
        counts,
        totals,
        precisions,
        bp,
        sys_len,
        ref_len,
    };
    // sacreBLEU stops early (score and precisions 0) when nothing matches at
    // all, before any smoothing could make a precision non-zero.
    if counts.iter().all(|&c| c == 0) {
        return result;
    }

    let mut smooth_mteval = 1.0f64;
    for order in 1..=MAX_NGRAM_ORDER {
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
    result.score = bp * (log_sum / MAX_NGRAM_ORDER as f64).exp();
    result.precisions = precisions;
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

/// Occurrence counts of the n-grams of one order in a token sequence.
fn count_ngrams<'a>(tokens: &'a [&'a str], order: usize) -> HashMap<&'a [&'a str], usize> {
    let mut ngram_counts = HashMap::new();
    for ngram in tokens.windows(order) {
        *ngram_counts.entry(ngram).or_insert(0) += 1;
    }
    ngram_counts
}

/// sacreBLEU's `13a` tokenizer, the tokenization of WMT's mteval-v13a.pl.
///
/// A port of `Tokenizer13a.__call__` and the `TokenizerRegexp`
/// post-tokenizer, in this order:
///
/// 1. remove `<skipped>`, join words hyphenated across a line break (`-\n`),
///    turn other newlines into spaces;
/// 2. unescape `&quot;`, `&amp;`, `&lt;`, `&gt;` (one after the other, as
///    sacreBLEU does, so `&amp;lt;` becomes `<`);
/// 3. surround with spaces and split off as tokens: ASCII punctuation and
///    symbols other than `'`, `,`, `-` and `.`; periods and commas, except
///    between two digits (`1,000.5` stays one token); and a dash after a
///    digit;
/// 4. collapse whitespace to single spaces and trim.
///
/// The regular expressions are reproduced by hand-written scans with the
/// same left-to-right, non-overlapping matching as Python's `re.sub`.
///
/// ```
/// use metrics::bleu::tokenize_13a;
/// assert_eq!(tokenize_13a("Hello, world! It costs $1,000.50."), "Hello , world ! It costs $ 1,000.50 .");
/// assert_eq!(tokenize_13a("A &amp; B &quot;quoted&quot;"), "A & B \" quoted \"");
/// ```
pub fn tokenize_13a(line: &str) -> String {
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let padded: Vec<char> = format!(" {line} ").chars().collect();

    // r'([\{-\~\[-\` -\&\(-\+\:-\@\/])' -> r' \1 '. Single characters
    // cannot overlap, so this is a plain character map.
    let mut spaced = Vec::with_capacity(padded.len() * 2);
    for &c in &padded {
        if is_13a_symbol(c) {
            spaced.extend([' ', c, ' ']);
        } else {
            spaced.push(c);
        }
    }
    // r'([^0-9])([\.,])' -> r'\1 \2 ': period and comma unless after a digit.
    let spaced = substitute_pairs(
        &spaced,
        |a, b| !a.is_ascii_digit() && is_period_or_comma(b),
        |a, b, out| out.extend([a, ' ', b, ' ']),
    );
    // r'([\.,])([^0-9])' -> r' \1 \2': period and comma unless before a digit.
    let spaced = substitute_pairs(
        &spaced,
        |a, b| is_period_or_comma(a) && !b.is_ascii_digit(),
        |a, b, out| out.extend([' ', a, ' ', b]),
    );
    // r'([0-9])(-)' -> r'\1 \2 ': a dash after a digit.
    let spaced = substitute_pairs(
        &spaced,
        |a, b| a.is_ascii_digit() && b == '-',
        |a, b, out| out.extend([a, ' ', b, ' ']),
    );

    let spaced: String = spaced.into_iter().collect();
    split_python_whitespace(&spaced)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The character class `[\{-\~\[-\` -\&\(-\+\:-\@\/]` of the first 13a rule:
/// ASCII punctuation and symbols except `'`, `,`, `-` and `.`, plus space.
fn is_13a_symbol(c: char) -> bool {
    matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/')
}

fn is_period_or_comma(c: char) -> bool {
    c == '.' || c == ','
}

/// Equivalent of `re.sub` for a pattern of exactly two single-character
/// groups: scans left to right, and after a match resumes after both
/// characters, so matches never overlap (in `"a.,"` only `a.` matches the
/// "not a digit, then period or comma" rule, not `.,`).
fn substitute_pairs(
    chars: &[char],
    matches: impl Fn(char, char) -> bool,
    replace: impl Fn(char, char, &mut Vec<char>),
) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len() + chars.len() / 2);
    let mut i = 0;
    while i < chars.len() {
        if i + 1 < chars.len() && matches(chars[i], chars[i + 1]) {
            replace(chars[i], chars[i + 1], &mut out);
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Whitespace as Python's `str.isspace()` defines it, which `str.split()`
/// and `str.rstrip()` use: Unicode White_Space plus the ASCII information
/// separators U+001C to U+001F (Python counts them because their
/// bidirectional class is B or S).
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.split()` with no arguments.
fn split_python_whitespace(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_python_whitespace).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_whitespace_covers_information_separators() {
        assert!(is_python_whitespace('\u{1c}'));
        assert!(is_python_whitespace('\u{1f}'));
        assert!(is_python_whitespace('\u{a0}'));
        assert!(is_python_whitespace('\u{3000}'));
        assert!(!is_python_whitespace('\u{200b}'));
        assert!(!is_python_whitespace('\u{1b}'));
        let tokens: Vec<&str> = split_python_whitespace(" a\u{1d}b\u{a0} c\t").collect();
        assert_eq!(tokens, ["a", "b", "c"]);
    }

    #[test]
    fn symbol_class_matches_the_regex_ranges() {
        let symbols: String = (' '..='~').filter(|&c| is_13a_symbol(c)).collect();
        assert_eq!(symbols, " !\"#$%&()*+/:;<=>?@[\\]^_`{|}~");
    }

    #[test]
    fn pair_substitution_does_not_overlap() {
        let chars: Vec<char> = "a.,b".chars().collect();
        let out: String = substitute_pairs(
            &chars,
            |a, b| !a.is_ascii_digit() && is_period_or_comma(b),
            |a, b, out| out.extend([a, ' ', b, ' ']),
        )
        .into_iter()
        .collect();
        // `Python: re.sub(r'([^0-9])([\.,])', r'\1 \2 ', 'a.,b') == 'a . ,b'`
        assert_eq!(out, "a . ,b");
    }

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
        let score = compute_bleu([0; 4], [3, 2, 1, 0], 3, 0, Smoothing::Exp);
        assert_eq!(score.ratio(), 0.0);
        assert_eq!(score.bp, 1.0);
        assert_eq!(score.score, 0.0);
    }
}
