//! Syntax trees of the toy translation task: their English and toy-language forms, and
//! the parser from English back to a tree.

use super::lexicon::{
    ADJECTIVES, ADVERBS, AND_SOURCE, AND_TARGET, DETERMINERS, INTRANSITIVE_VERBS, NOUNS,
    TRANSITIVE_VERBS,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Number {
    Singular,
    Plural,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    Subject,
    Object,
}

/// Indices into the lexicon tables.
#[derive(Clone, Debug)]
pub(super) struct NounPhrase {
    pub(super) determiner: usize,
    pub(super) adjectives: Vec<usize>,
    pub(super) noun: usize,
    pub(super) number: Number,
}

#[derive(Clone, Debug)]
pub(super) enum Predicate {
    Transitive { verb: usize, object: NounPhrase },
    Intransitive { verb: usize },
}

#[derive(Clone, Debug)]
pub(super) struct Clause {
    pub(super) subject: NounPhrase,
    pub(super) predicate: Predicate,
    pub(super) adverb: Option<usize>,
}

#[derive(Clone, Debug)]
pub(super) struct Sentence {
    pub(super) clauses: Vec<Clause>,
}

impl NounPhrase {
    fn english(&self, out: &mut Vec<String>) {
        out.push(DETERMINERS[self.determiner].0.to_string());
        out.extend(self.adjectives.iter().map(|&a| ADJECTIVES[a].0.to_string()));
        let (singular, plural, _) = NOUNS[self.noun];
        out.push(pick(self.number, singular, plural).to_string());
    }

    /// Noun, adjectives in reverse order, determiner; all inflected.
    fn translation(&self, case: Case, out: &mut Vec<String>) {
        let number = self.number;
        let noun_suffix = match case {
            Case::Subject => pick(number, "a", "ai"),
            Case::Object => pick(number, "an", "ain"),
        };
        out.push(format!("{}{noun_suffix}", NOUNS[self.noun].2));
        let adjective_suffix = pick(number, "e", "es");
        out.extend(
            self.adjectives
                .iter()
                .rev()
                .map(|&a| format!("{}{adjective_suffix}", ADJECTIVES[a].1)),
        );
        let determiner_suffix = match case {
            Case::Subject => pick(number, "o", "oi"),
            Case::Object => pick(number, "on", "oin"),
        };
        out.push(format!(
            "{}{determiner_suffix}",
            DETERMINERS[self.determiner].2
        ));
    }

    /// Parses `determiner adjective* noun` at the start of `tokens`; returns
    /// the phrase and the number of tokens it took.
    fn parse(tokens: &[String]) -> Option<(NounPhrase, usize)> {
        let determiner_word = tokens.first()?;
        let mut adjectives = Vec::new();
        let mut pos = 1;
        while let Some(a) = tokens
            .get(pos)
            .and_then(|t| ADJECTIVES.iter().position(|(en, _)| en == t))
        {
            adjectives.push(a);
            pos += 1;
        }
        let word = tokens.get(pos)?;
        let (noun, number) = NOUNS.iter().enumerate().find_map(|(i, (sg, pl, _))| {
            if sg == word {
                Some((i, Number::Singular))
            } else if pl == word {
                Some((i, Number::Plural))
            } else {
                None
            }
        })?;
        let determiner = DETERMINERS.iter().position(|&(en, agrees, _)| {
            en == determiner_word && agrees.is_none_or(|n| n == number)
        })?;
        let phrase = NounPhrase {
            determiner,
            adjectives,
            noun,
            number,
        };
        Some((phrase, pos + 1))
    }
}

impl Clause {
    fn english(&self, out: &mut Vec<String>) {
        self.subject.english(out);
        let number = self.subject.number;
        match &self.predicate {
            Predicate::Transitive { verb, object } => {
                let (singular, plural, _) = TRANSITIVE_VERBS[*verb];
                out.push(pick(number, singular, plural).to_string());
                object.english(out);
            }
            Predicate::Intransitive { verb } => {
                let (singular, plural, _) = INTRANSITIVE_VERBS[*verb];
                out.push(pick(number, singular, plural).to_string());
            }
        }
        out.extend(self.adverb.map(|a| ADVERBS[a].0.to_string()));
    }

    /// Subject, object, adverb, verb (agreeing with subject and object).
    fn translation(&self, out: &mut Vec<String>) {
        self.subject.translation(Case::Subject, out);
        let subject = self.subject.number;
        let verb = match &self.predicate {
            Predicate::Transitive { verb, object } => {
                object.translation(Case::Object, out);
                let suffix = match (subject, object.number) {
                    (Number::Singular, Number::Singular) => "it",
                    (Number::Singular, Number::Plural) => "is",
                    (Number::Plural, Number::Singular) => "unt",
                    (Number::Plural, Number::Plural) => "us",
                };
                format!("{}{suffix}", TRANSITIVE_VERBS[*verb].2)
            }
            Predicate::Intransitive { verb } => {
                let suffix = pick(subject, "et", "ent");
                format!("{}{suffix}", INTRANSITIVE_VERBS[*verb].2)
            }
        };
        out.extend(self.adverb.map(|a| ADVERBS[a].1.to_string()));
        out.push(verb);
    }

    fn parse(tokens: &[String]) -> Option<Clause> {
        let (subject, mut pos) = NounPhrase::parse(tokens)?;
        let verb_word = tokens.get(pos)?;
        pos += 1;
        let agrees = |&(singular, plural, _): &(&str, &str, &str)| {
            pick(subject.number, singular, plural) == verb_word
        };
        let predicate = if let Some(verb) = TRANSITIVE_VERBS.iter().position(agrees) {
            let (object, taken) = NounPhrase::parse(&tokens[pos..])?;
            pos += taken;
            Predicate::Transitive { verb, object }
        } else {
            let verb = INTRANSITIVE_VERBS.iter().position(agrees)?;
            Predicate::Intransitive { verb }
        };
        let adverb = match tokens.get(pos) {
            None => None,
            Some(word) => {
                pos += 1;
                Some(ADVERBS.iter().position(|(en, _)| en == word)?)
            }
        };
        (pos == tokens.len()).then_some(Clause {
            subject,
            predicate,
            adverb,
        })
    }
}

impl Sentence {
    pub(super) fn english(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                out.push(AND_SOURCE.to_string());
            }
            clause.english(&mut out);
        }
        out
    }

    pub(super) fn translation(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                out.push(AND_TARGET.to_string());
            }
            clause.translation(&mut out);
        }
        out
    }

    pub(super) fn parse(tokens: &[String]) -> Option<Sentence> {
        let clauses = tokens
            .split(|t| t == AND_SOURCE)
            .map(Clause::parse)
            .collect::<Option<Vec<_>>>()?;
        Some(Sentence { clauses })
    }
}

fn pick<T>(number: Number, singular: T, plural: T) -> T {
    match number {
        Number::Singular => singular,
        Number::Plural => plural,
    }
}
