//! The word tokenizer shared by every text reader.

/// Lowercases `text` and splits it into word and punctuation tokens.
///
/// * Whitespace separates tokens and is dropped.
/// * A word is a run of letters, digits and combining marks (any script, so
///   `ñ`, `á`, `ü` stay inside words).
/// * An apostrophe (`'` or `’`) between two word characters stays inside the
///   word (`"don't"`, `"o’er"`); anywhere else it is punctuation.
/// * Every other character (punctuation, symbols such as `¿` `¡` `;` `-`) is
///   a token of its own, one character per token.
///
/// ```
/// use datasets::tokenize::words;
/// assert_eq!(words("And the Lord, said:"), ["and", "the", "lord", ",", "said", ":"]);
/// assert_eq!(words("¿Quién es él?"), ["¿", "quién", "es", "él", "?"]);
/// assert_eq!(words("Don't 'go'"), ["don't", "'", "go", "'"]);
/// ```
pub fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let inner_apostrophe = is_apostrophe(c)
            && !word.is_empty()
            && chars.get(i + 1).is_some_and(|&next| is_word_char(next));
        if is_word_char(c) || inner_apostrophe {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() && !c.is_control() {
            tokens.push(c.to_lowercase().collect());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Letters, digits and combining diacritics (so decomposed accents such as
/// `e` + U+0301 stay in their word).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{0300}'..='\u{036F}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn splits_punctuation_and_lowercases() {
        assert_eq!(words("Lord,"), ["lord", ","]);
        assert_eq!(
            words("  In the BEGINNING.  "),
            ["in", "the", "beginning", "."]
        );
        assert_eq!(words("a...b"), ["a", ".", ".", ".", "b"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn spanish_accents_and_inverted_marks() {
        assert_eq!(
            words("¡OH Jehová, señal! ¿Caín?"),
            ["¡", "oh", "jehová", ",", "señal", "!", "¿", "caín", "?"]
        );
        // Decomposed accent (e + combining acute) stays one word.
        assert_eq!(words("cre\u{0301}o"), ["cre\u{0301}o"]);
    }

    #[test]
    fn apostrophes_inside_words_only() {
        assert_eq!(words("don't"), ["don't"]);
        assert_eq!(words("o’er"), ["o’er"]);
        assert_eq!(words("'tis"), ["'", "tis"]);
        assert_eq!(words("dogs'"), ["dogs", "'"]);
        assert_eq!(words("it' s"), ["it", "'", "s"]);
    }
}
