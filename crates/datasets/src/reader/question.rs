//! DeepMind's CNN / Daily Mail `.question` files.
//!
//! One file holds one question, laid out as
//!
//! ```text
//! line 1   the source URL
//! line 2   (blank)
//! line 3   the context: anonymized, tokenized, on one line
//! line 4   (blank)
//! line 5   the query: one line holding the token @placeholder
//! line 6   (blank)
//! line 7   the answer: @entityN
//! line 8   (blank)
//! line 9…  one `@entityN:surface form` line per entity, to the end of file
//! ```
//!
//! The text is already tokenized, so tokens are split on whitespace and kept
//! as written. Lines may end in `\n` or `\r\n`; blank lines after the last
//! entity line are ignored. An entity's surface form is everything after the
//! first `:` of its line (so it may itself contain `:`).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{PLACEHOLDER, is_entity_id};
use crate::DataError;

/// One reading-comprehension question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Where the story came from (line 1; for generated questions, a
    /// descriptive pseudo-URL).
    pub url: String,
    /// The context document's tokens, entities written as `@entityN`.
    pub context: Vec<String>,
    /// The query's tokens; one of them is [`PLACEHOLDER`].
    pub query: Vec<String>,
    /// The answer: the `@entityN` id that fills the placeholder.
    pub answer: String,
    /// `(@entityN, surface form)` for every entity, in file order.
    pub entities: Vec<(String, String)>,
}

/// The questions of a directory, and the files that could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuestionSet {
    /// The questions read, in file-name order.
    pub questions: Vec<Question>,
    /// Each skipped file with the message of its error (which names the file
    /// and the line at fault).
    pub skipped: Vec<(PathBuf, String)>,
}

/// The single-line fields, with their 1-based line numbers.
const FIELDS: [(usize, &str); 4] = [(1, "URL"), (3, "context"), (5, "query"), (7, "answer")];

/// Line number of the first entity line.
const FIRST_ENTITY_LINE: usize = 9;

/// Parses the text of one `.question` file; `path` is only used in errors.
///
/// A missing or empty field, a missing blank separator line, a query
/// without [`PLACEHOLDER`], an answer that is not a single `@entityN` id or
/// not among the entity lines, a malformed entity line, a repeated entity
/// id, or no entity lines at all give a [`DataError::Format`] naming
/// `path:line`.
pub fn parse_question(text: &str, path: &Path) -> Result<Question, DataError> {
    let error = |line: usize, msg: String| DataError::Format {
        path: path.to_path_buf(),
        line,
        msg,
    };
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    // A final newline leaves an empty last piece that is no line of its own.
    let line_count = match lines.last() {
        Some(&"") => lines.len() - 1,
        _ => lines.len(),
    };
    let line = |n: usize| (n <= line_count).then(|| lines[n - 1]);

    let mut fields = [""; 4];
    for (slot, &(n, name)) in fields.iter_mut().zip(&FIELDS) {
        let Some(value) = line(n) else {
            return Err(error(
                n,
                format!("missing the {name} line (the file has only {line_count} lines)"),
            ));
        };
        if value.trim().is_empty() {
            return Err(error(n, format!("empty {name} line")));
        }
        *slot = value.trim();
        let separator = n + 1;
        match line(separator) {
            None if n == 7 => {
                return Err(error(
                    separator,
                    "missing the blank line after the answer and the entity lines".to_string(),
                ));
            }
            None => {
                return Err(error(
                    separator,
                    format!("missing the blank line after the {name} (the file ends here)"),
                ));
            }
            Some(text) if !text.trim().is_empty() => {
                return Err(error(
                    separator,
                    format!("expected a blank line after the {name}, found {text:?}"),
                ));
            }
            Some(_) => {}
        }
    }
    let [url, context, query, answer] = fields;

    let query: Vec<String> = query.split_whitespace().map(String::from).collect();
    if !query.iter().any(|t| t == PLACEHOLDER) {
        return Err(error(5, format!("the query has no {PLACEHOLDER} token")));
    }
    if !is_entity_id(answer) {
        return Err(error(
            7,
            format!("answer {answer:?} is not an entity id of the form @entityN"),
        ));
    }

    let mut entities: Vec<(String, String)> = Vec::new();
    let mut entity_lines: Vec<usize> = Vec::new();
    let mut blank_at = None;
    for n in FIRST_ENTITY_LINE..=line_count {
        let text = lines[n - 1];
        if text.trim().is_empty() {
            blank_at.get_or_insert(n);
            continue;
        }
        if let Some(blank) = blank_at {
            return Err(error(
                blank,
                "blank line inside the entity list (entity lines must run to the end of the file)"
                    .to_string(),
            ));
        }
        let Some((id, surface)) = text.split_once(':') else {
            return Err(error(
                n,
                format!("malformed entity line {text:?}: expected `@entityN:surface form`"),
            ));
        };
        if !is_entity_id(id) {
            return Err(error(
                n,
                format!(
                    "malformed entity line {text:?}: {id:?} is not an entity id of the form @entityN"
                ),
            ));
        }
        if surface.trim().is_empty() {
            return Err(error(
                n,
                format!("malformed entity line {text:?}: empty surface form"),
            ));
        }
        if let Some(first) = entities.iter().position(|(e, _)| e == id) {
            return Err(error(
                n,
                format!(
                    "entity {id} is listed twice (first on line {})",
                    entity_lines[first]
                ),
            ));
        }
        entities.push((id.to_string(), surface.to_string()));
        entity_lines.push(n);
    }
    if entities.is_empty() {
        return Err(error(
            FIRST_ENTITY_LINE,
            "missing the entity lines (`@entityN:surface form`)".to_string(),
        ));
    }
    if !entities.iter().any(|(id, _)| id == answer) {
        return Err(error(
            7,
            format!(
                "answer {answer} is not among the {} entity lines (lines {FIRST_ENTITY_LINE}-{})",
                entities.len(),
                entity_lines.last().copied().unwrap_or(FIRST_ENTITY_LINE)
            ),
        ));
    }

    Ok(Question {
        url: url.to_string(),
        context: context.split_whitespace().map(String::from).collect(),
        query,
        answer: answer.to_string(),
        entities,
    })
}

/// Reads one `.question` file (see [`parse_question`]).
///
/// An unreadable file gives [`DataError::Io`]; bytes that are not UTF-8
/// give a [`DataError::Format`] naming the line they are on.
pub fn read_question(path: &Path) -> Result<Question, DataError> {
    let bytes = fs::read(path).map_err(|e| DataError::io(path, e))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| DataError::Format {
        path: path.to_path_buf(),
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        msg: format!("invalid UTF-8: {e}"),
    })?;
    parse_question(text, path)
}

/// Renders `q` in the `.question` layout (one trailing newline), without
/// checking it.
fn render(q: &Question) -> String {
    let mut text = format!(
        "{}\n\n{}\n\n{}\n\n{}\n\n",
        q.url,
        q.context.join(" "),
        q.query.join(" "),
        q.answer
    );
    for (id, surface) in &q.entities {
        text.push_str(id);
        text.push(':');
        text.push_str(surface);
        text.push('\n');
    }
    text
}

/// Writes `q` as a `.question` file in exactly the layout [`read_question`]
/// reads, so that reading it back gives `q` again.
///
/// The write is atomic: the text goes to `PATH.tmp`, which is then renamed
/// over `path`. A question that could not be read back unchanged (an empty
/// context, a token that is empty or holds whitespace, a field with a line
/// break or surrounding whitespace, anything [`parse_question`] would
/// reject) gives a [`DataError::Record`] (record 0) and nothing is written.
pub fn write_question(path: &Path, q: &Question) -> Result<(), DataError> {
    let invalid = |msg: String| DataError::Record {
        path: path.to_path_buf(),
        index: 0,
        msg,
    };
    for (name, tokens) in [("context", &q.context), ("query", &q.query)] {
        if tokens.is_empty() {
            return Err(invalid(format!("the {name} has no tokens")));
        }
        if let Some(i) = tokens
            .iter()
            .position(|t| t.is_empty() || t.contains(char::is_whitespace))
        {
            return Err(invalid(format!(
                "{name} token {i} ({:?}) is empty or contains whitespace",
                tokens[i]
            )));
        }
    }
    for (id, surface) in &q.entities {
        if surface.contains(['\n', '\r']) {
            return Err(invalid(format!(
                "the surface form of {id} contains a line break"
            )));
        }
    }
    let text = render(q);
    match parse_question(&text, path) {
        Ok(back) if back == *q => {}
        Ok(_) => {
            return Err(invalid(
                "would not read back unchanged (a field has surrounding whitespace \
                 or an entity id is not a plain @entityN)"
                    .to_string(),
            ));
        }
        Err(DataError::Format { line, msg, .. }) => {
            return Err(invalid(format!(
                "would be rejected on reading (line {line}: {msg})"
            )));
        }
        Err(other) => return Err(other),
    }

    crate::error::write_atomic(path, &text)
}

/// Reads every `*.question` file of `dir` (not its subdirectories), in
/// sorted file-name order.
///
/// With `skip_bad == false` the first file that cannot be read or parsed is
/// the error; with `skip_bad == true` such files are listed in
/// [`QuestionSet::skipped`] with their error message and reading goes on.
/// A directory that cannot be listed is always a [`DataError::Io`].
pub fn read_question_dir(dir: &Path, skip_bad: bool) -> Result<QuestionSet, DataError> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let path = entry.map_err(|e| DataError::io(dir, e))?.path();
        if path.extension().is_some_and(|ext| ext == "question") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut set = QuestionSet::default();
    for path in paths {
        match read_question(&path) {
            Ok(q) => set.questions.push(q),
            Err(e) if skip_bad => set.skipped.push((path, e.to_string())),
            Err(e) => return Err(e),
        }
    }
    Ok(set)
}
