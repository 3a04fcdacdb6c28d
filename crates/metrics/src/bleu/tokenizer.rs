//! sacreBLEU's `13a` tokenizer and the Python string semantics around it.

/// sacreBLEU's `_preprocess_segment` with the default settings: strip
/// trailing whitespace (`str.rstrip()`), then tokenize with `13a`.
pub(super) fn preprocess(line: &str) -> String {
    tokenize_13a(line.trim_end_matches(is_python_whitespace))
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
pub(super) fn split_python_whitespace(text: &str) -> impl Iterator<Item = &str> {
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
}
