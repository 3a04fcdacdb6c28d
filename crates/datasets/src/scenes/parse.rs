//! Captions back to facts: a recogniser for the grammar of the [module docs](super).

use super::caption::OPENERS;
use super::facts::{Colour, Relation, Size};

/// One object as a caption names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    /// The size word, if there was one.
    pub size: Option<Size>,
    /// The colour word, if there was one.
    pub colour: Option<Colour>,
    /// The class name (lower-case words joined by spaces), one of the parser's classes.
    pub class_name: String,
}

/// A relation a caption states: `objects[subject]` stands `relation` of `objects[reference]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MentionedRelation {
    /// Index of the object the relation is about, into [`ParsedCaption::objects`].
    pub subject: usize,
    /// Where it stands.
    pub relation: Relation,
    /// Index of the object it stands relative to.
    pub reference: usize,
}

/// What a caption says, as far as it could be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedCaption {
    /// The objects named, in caption order.
    pub objects: Vec<Mention>,
    /// The relations stated, in caption order.
    pub relations: Vec<MentionedRelation>,
    /// How many tokens were read.
    pub consumed: usize,
    /// Whether every token was read (the caption is a sentence of the grammar, up to the
    /// optional words).
    pub complete: bool,
}

/// A token sequence without a single readable object phrase at its start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No tokens at all.
    #[error("empty caption")]
    Empty,
    /// The caption (after an optional opener) does not start with an object phrase.
    #[error("no object phrase at the start of the caption (token {position}: {token:?})")]
    NoObject {
        /// Index of the first token that could not be read.
        position: usize,
        /// That token.
        token: String,
    },
}

/// A position in the token sequence.
struct Cursor<'a> {
    tokens: &'a [String],
    classes: &'a [Vec<&'a str>],
    pos: usize,
}

impl Cursor<'_> {
    /// Whether `words` follow at `at`.
    fn matches(&self, at: usize, words: &[&str]) -> bool {
        self.tokens.len() >= at + words.len()
            && words.iter().zip(&self.tokens[at..]).all(|(w, t)| w == t)
    }

    /// Consumes `words` if they follow.
    fn eat(&mut self, words: &[&str]) -> bool {
        let ok = self.matches(self.pos, words);
        if ok {
            self.pos += words.len();
        }
        ok
    }

    fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    /// The longest class name at `at`, with its length.
    fn class_at(&self, at: usize) -> Option<(String, usize)> {
        self.classes
            .iter()
            .filter(|words| !words.is_empty() && self.matches(at, words))
            .max_by_key(|words| words.len())
            .map(|words| (words.join(" "), words.len()))
    }

    /// `["a"] [size] [colour] class`, trying the most complete reading first (a class name
    /// may itself start with a size or colour word).
    fn object(&mut self) -> Option<Mention> {
        let start = self.pos;
        self.eat(&["a"]);
        let base = self.pos;
        let word = |at: usize| self.tokens.get(at).map(String::as_str).unwrap_or("");
        let size = Size::from_name(word(base));
        for take_size in [true, false] {
            if take_size && size.is_none() {
                continue;
            }
            let at = base + usize::from(take_size);
            let colour = Colour::from_name(word(at));
            for take_colour in [true, false] {
                if take_colour && colour.is_none() {
                    continue;
                }
                let at = at + usize::from(take_colour);
                if let Some((class_name, len)) = self.class_at(at) {
                    self.pos = at + len;
                    return Some(Mention {
                        size: if take_size { size } else { None },
                        colour: if take_colour { colour } else { None },
                        class_name,
                    });
                }
            }
        }
        self.pos = start;
        None
    }

    /// The longest relation phrase that follows, consumed.
    fn relation(&mut self) -> Option<Relation> {
        let (relation, len) = Relation::ALL
            .into_iter()
            .flat_map(|r| r.phrases().map(|p| (r, p)))
            .filter(|(_, phrase)| self.matches(self.pos, phrase))
            .map(|(r, phrase)| (r, phrase.len()))
            .max_by_key(|&(_, len)| len)?;
        self.pos += len;
        Some(relation)
    }
}

/// Reads `tokens` as a caption over `class_names` (compared after lower-casing and collapsing
/// whitespace). `Ok` holds every object and relation read before the first token the grammar
/// does not allow there; `Err` only when not even the first object phrase could be read.
///
/// The parser is lenient where a model's caption may stray but the meaning is still clear:
/// the article `a` and the size and colour words are optional (a missing one is `None`, and
/// scores as wrong), and tokens are compared lower-cased. It stops at the first token the
/// grammar does not allow there and returns what it read up to that point, with
/// [`ParsedCaption::complete`] false; a relation is kept only once its clause is whole
/// (`R o2` in the first clause, `, and o R it` in later ones), an object as soon as its
/// phrase is. It never panics, whatever the tokens.
pub fn parse_caption<S: AsRef<str>>(
    tokens: &[S],
    class_names: &[String],
) -> Result<ParsedCaption, ParseError> {
    let tokens: Vec<String> = tokens.iter().map(|t| t.as_ref().to_lowercase()).collect();
    if tokens.is_empty() {
        return Err(ParseError::Empty);
    }
    let names: Vec<String> = class_names
        .iter()
        .map(|n| super::normalize_name(n))
        .collect();
    let classes: Vec<Vec<&str>> = names
        .iter()
        .map(|n| n.split_whitespace().collect())
        .collect();
    let mut c = Cursor {
        tokens: &tokens,
        classes: &classes,
        pos: 0,
    };
    // The longest opener after which an object phrase follows, else none.
    let mut first = None;
    let mut openers: Vec<&[&str]> = OPENERS.to_vec();
    openers.sort_by_key(|o| std::cmp::Reverse(o.len()));
    for opener in openers {
        c.pos = 0;
        if c.eat(opener)
            && let Some(object) = c.object()
        {
            first = Some(object);
            break;
        }
    }
    let Some(first) = first else {
        return Err(ParseError::NoObject {
            position: 0,
            token: tokens[0].clone(),
        });
    };
    let mut parsed = ParsedCaption {
        objects: vec![first],
        ..ParsedCaption::default()
    };
    read_clauses(&mut c, &mut parsed);
    parsed.consumed = c.pos;
    parsed.complete = c.at_end();
    Ok(parsed)
}

/// Everything after the first object: `relation object { "," "and" object relation "it" }`.
fn read_clauses(c: &mut Cursor, parsed: &mut ParsedCaption) {
    if c.at_end() {
        return;
    }
    let mark = c.pos;
    let Some(relation) = c.relation() else {
        return;
    };
    let Some(second) = c.object() else {
        c.pos = mark;
        return;
    };
    parsed.objects.push(second);
    parsed.relations.push(MentionedRelation {
        subject: 0,
        relation,
        reference: 1,
    });
    while !c.at_end() {
        let mark = c.pos;
        if !(c.eat(&[","]) && c.eat(&["and"])) {
            c.pos = mark;
            return;
        }
        let Some(object) = c.object() else {
            c.pos = mark;
            return;
        };
        parsed.objects.push(object);
        let after_object = c.pos;
        let Some(relation) = c.relation().filter(|_| c.eat(&["it"])) else {
            c.pos = after_object;
            return;
        };
        let subject = parsed.objects.len() - 1;
        parsed.relations.push(MentionedRelation {
            subject,
            relation,
            reference: subject - 1,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_reads_what_it_can() {
        let classes: Vec<String> = ["square", "red panda", "ring"].map(String::from).to_vec();
        let p = |s: &str| parse_caption(&crate::scenes::toks(s), &classes);
        let partial = p("a small red square left of the moon").unwrap();
        assert_eq!(
            (
                partial.objects.len(),
                partial.relations.len(),
                partial.complete
            ),
            (1, 0, false)
        );
        assert_eq!(partial.consumed, 4);
        let upper = p("We See A Large Red Panda above a ring").unwrap();
        assert!(upper.complete);
        assert_eq!(upper.objects[0].class_name, "red panda");
        assert_eq!(
            (upper.objects[0].size, upper.objects[0].colour),
            (Some(Size::Large), None)
        );
        assert_eq!(
            (upper.objects[1].size, upper.objects[1].colour),
            (None, None)
        );
        let panda = p("a small red red panda").unwrap();
        assert_eq!(panda.objects[0].colour, Some(Colour::Red));
        let dangling = p("a ring below a square , and a small ring under").unwrap();
        assert_eq!(
            (
                dangling.objects.len(),
                dangling.relations.len(),
                dangling.complete
            ),
            (3, 1, false)
        );
        assert!(matches!(
            p("left of a ring"),
            Err(ParseError::NoObject { position: 0, .. })
        ));
        assert_eq!(parse_caption::<&str>(&[], &classes), Err(ParseError::Empty));
    }
}
