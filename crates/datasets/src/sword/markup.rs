//! Verse markup (OSIS, ThML, GBF) to plain text: tags, footnotes, entities and USFM
//! leftovers.

/// Tags that mark up text *inside* a word or phrase: removing them must not
/// separate what they touch (`<w>give</w>n` is one word). Every other tag is
/// replaced by a space, since it marks a boundary (verse-internal divisions,
/// poetry lines, Spanish `<transChange>` insertions that abut words).
const INLINE_TAGS: &[&str] = &[
    "w",
    "divineName",
    "seg",
    "foreign",
    "hi",
    "name",
    "abbr",
    "q",
    "rdg",
    "catchWord",
    "a",
    "b",
    "i",
    "u",
    "em",
    "strong",
    "font",
    "span",
    "sup",
    "sub",
    "small",
];

/// Strips OSIS / ThML / GBF markup from a verse and returns plain text.
///
/// * Footnotes are removed with their content: `<note ...>...</note>` (OSIS,
///   ThML) and `<RF>...<Rf>` (GBF), nested or not.
/// * Every other tag is removed; tags that can sit inside a word (`<w>`,
///   `<divineName>`, ...) vanish without a trace, the rest become a space.
/// * The entities `&amp; &lt; &gt; &quot; &apos; &nbsp;` and numeric ones
///   (`&#233;`, `&#xE9;`) are decoded; unknown ones are kept as written.
/// * The paragraph sign `¶` (layout, not text) and stray USFM character
///   markers such as `\nd` / `\+nd*` (conversion leftovers) are dropped.
/// * Runs of whitespace collapse to one space; the ends are trimmed.
///
/// A `<` that starts no complete tag is kept as text.
///
/// ```
/// use datasets::sword::strip_markup;
/// let raw = r#"In the <w lemma="strong:H7225">begin</w>ning.<note placement="foot">Heb. x</note> &amp; <lb/>more"#;
/// assert_eq!(strip_markup(raw), "In the beginning. & more");
/// ```
pub fn strip_markup(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut note_depth = 0usize;
    let mut rest = raw;
    while let Some(lt) = rest.find('<') {
        if note_depth == 0 {
            text.push_str(&rest[..lt]);
        }
        let Some(tag_len) = tag_length(&rest[lt..]) else {
            // Not a tag: keep the `<` and go on after it.
            if note_depth == 0 {
                text.push('<');
            }
            rest = &rest[lt + 1..];
            continue;
        };
        let tag = &rest[lt..lt + tag_len];
        rest = &rest[lt + tag_len..];
        let closing = tag.starts_with("</");
        let self_closing = tag.ends_with("/>");
        let name: &str = tag
            .trim_start_matches('<')
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .next()
            .unwrap_or("");
        let opens_note = (name == "note" && !closing && !self_closing) || name == "RF";
        let closes_note = (name == "note" && closing) || name == "Rf";
        if opens_note {
            note_depth += 1;
        } else if closes_note {
            note_depth = note_depth.saturating_sub(1);
        } else if note_depth == 0 && !INLINE_TAGS.contains(&name) {
            text.push(' ');
        }
    }
    if note_depth == 0 {
        text.push_str(rest);
    }
    let decoded = decode_entities(&strip_usfm_markers(&text.replace('¶', " ")));
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes USFM character markers (`\nd `, `\+nd*`, `\wj*`): conversion
/// leftovers found in some OSIS modules (the KJV has ~70). A backslash not
/// followed by a marker name is kept.
fn strip_usfm_markers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(slash) = rest.find('\\') {
        out.push_str(&rest[..slash]);
        let after = &rest[slash + 1..];
        let body = after.strip_prefix('+').unwrap_or(after);
        let name_len = body
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(body.len());
        if name_len == 0 {
            out.push('\\');
            rest = after;
            continue;
        }
        let marker_end = after.len() - body.len() + name_len;
        rest = &after[marker_end..];
        rest = rest.strip_prefix('*').unwrap_or(rest);
    }
    out.push_str(rest);
    out
}

/// Length in bytes of the tag that starts `s` (which starts with `<`), or
/// `None` if no tag starts there. Quoted attribute values may contain `>`.
fn tag_length(s: &str) -> Option<usize> {
    let after = s[1..].chars().next()?;
    if !(after.is_alphabetic() || after == '/' || after == '!' || after == '?') {
        return None;
    }
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// Decodes the XML entities and numeric character references in `s`.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Entity names are short; a `;` far away belongs to something else.
        let decoded = rest
            .char_indices()
            .take(12)
            .find(|&(_, c)| c == ';')
            .and_then(|(semi, _)| Some((decode_entity(&rest[1..semi])?, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity body (between `&` and `;`) stands for.
fn decode_entity(body: &str) -> Option<char> {
    let code = match body {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        "nbsp" => return Some(' '),
        _ => {
            let number = body.strip_prefix('#')?;
            match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            }
        }
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_notes_tags_and_entities() {
        assert_eq!(
            strip_markup(
                "<div type=\"x-p\"/>¶ And <divineName><w>LORD</w></divineName>'s \
                 day<note n=\"a\">Or, <note>nested</note> text</note>, &lt;a&gt; &#233;&#xF1; &bogus; x&y"
            ),
            "And LORD's day, <a> éñ &bogus; x&y"
        );
        assert_eq!(strip_markup("a<lb/>b"), "a b");
        assert_eq!(
            strip_markup("hay allí</w><transChange>también"),
            "hay allí también"
        );
        assert_eq!(strip_markup("GBF<RF>note<Rf> text"), "GBF text");
        assert_eq!(strip_markup("1 < 2 <"), "1 < 2 <");
        assert_eq!(strip_markup("<a title=\"x>y\">z</a>"), "z");
        assert_eq!(strip_markup("   "), "");
        assert_eq!(
            strip_markup("the \\nd <w>LORD</w> and the LORD\\+nd*, a\\b \\ c\\"),
            "the LORD and the LORD, a \\ c\\"
        );
    }
}
