//! Lexicon of the toy translation task. Target stems are chosen so that no two inflected
//! target forms coincide (checked by a unit test).

use super::grammar::Number;

/// (English singular, English plural, target stem)
pub(super) const NOUNS: [(&str, &str, &str); 20] = [
    ("dog", "dogs", "kan"),
    ("cat", "cats", "mir"),
    ("bird", "birds", "pil"),
    ("horse", "horses", "hor"),
    ("goat", "goats", "kapr"),
    ("cow", "cows", "bov"),
    ("fox", "foxes", "vulp"),
    ("wolf", "wolves", "lup"),
    ("mouse", "mice", "mus"),
    ("child", "children", "kind"),
    ("man", "men", "vir"),
    ("woman", "women", "fem"),
    ("king", "kings", "rek"),
    ("queen", "queens", "regin"),
    ("farmer", "farmers", "agr"),
    ("teacher", "teachers", "dok"),
    ("friend", "friends", "amik"),
    ("baker", "bakers", "pan"),
    ("sailor", "sailors", "nav"),
    ("girl", "girls", "puel"),
];

/// (English, target stem)
pub(super) const ADJECTIVES: [(&str, &str); 15] = [
    ("big", "grob"),
    ("small", "pik"),
    ("red", "rud"),
    ("old", "sen"),
    ("young", "jun"),
    ("happy", "fel"),
    ("angry", "ir"),
    ("brown", "brun"),
    ("black", "nigr"),
    ("white", "alb"),
    ("tall", "alt"),
    ("quiet", "tak"),
    ("clever", "sag"),
    ("lazy", "pigr"),
    ("hungry", "fam"),
];

/// (English with a singular subject, with a plural subject, target stem)
pub(super) const TRANSITIVE_VERBS: [(&str, &str, &str); 10] = [
    ("sees", "see", "vid"),
    ("chases", "chase", "kas"),
    ("likes", "like", "am"),
    ("finds", "find", "trov"),
    ("follows", "follow", "seg"),
    ("hears", "hear", "aud"),
    ("bites", "bite", "mord"),
    ("carries", "carry", "port"),
    ("helps", "help", "jut"),
    ("feeds", "feed", "nutr"),
];

/// (English with a singular subject, with a plural subject, target stem)
pub(super) const INTRANSITIVE_VERBS: [(&str, &str, &str); 5] = [
    ("sleeps", "sleep", "dorm"),
    ("runs", "run", "kur"),
    ("sings", "sing", "kant"),
    ("waits", "wait", "atend"),
    ("falls", "fall", "kad"),
];

/// (English, target)
pub(super) const ADVERBS: [(&str, &str); 5] = [
    ("quickly", "rapi"),
    ("slowly", "lenti"),
    ("often", "saepi"),
    ("today", "hodi"),
    ("again", "rursi"),
];

/// (English, the number it goes with (`None`: either), target stem)
pub(super) const DETERMINERS: [(&str, Option<Number>, &str); 7] = [
    ("the", None, "l"),
    ("a", Some(Number::Singular), "un"),
    ("this", Some(Number::Singular), "k"),
    ("that", Some(Number::Singular), "t"),
    ("some", Some(Number::Plural), "s"),
    ("these", Some(Number::Plural), "k"),
    ("those", Some(Number::Plural), "t"),
];

pub(super) const AND_SOURCE: &str = "and";
pub(super) const AND_TARGET: &str = "e";

/// Most adjectives in one noun phrase.
pub(super) const MAX_ADJECTIVES: usize = 3;

/// Clause lengths: intransitive `det noun verb` ...
pub(super) const INTRANSITIVE_MIN: usize = 3;
/// ... up to three adjectives and an adverb more.
pub(super) const INTRANSITIVE_MAX: usize = INTRANSITIVE_MIN + MAX_ADJECTIVES + 1;
/// Transitive `det noun verb det noun` ...
pub(super) const TRANSITIVE_MIN: usize = 5;
/// ... up to three adjectives per noun phrase and an adverb more.
pub(super) const TRANSITIVE_MAX: usize = TRANSITIVE_MIN + 2 * MAX_ADJECTIVES + 1;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn target_forms_are_all_distinct() {
        let mut forms = Vec::new();
        for (_, _, stem) in NOUNS {
            forms.extend(["a", "ai", "an", "ain"].map(|s| format!("{stem}{s}")));
        }
        for (_, stem) in ADJECTIVES {
            forms.extend(["e", "es"].map(|s| format!("{stem}{s}")));
        }
        for (_, _, stem) in TRANSITIVE_VERBS {
            forms.extend(["it", "is", "unt", "us"].map(|s| format!("{stem}{s}")));
        }
        for (_, _, stem) in INTRANSITIVE_VERBS {
            forms.extend(["et", "ent"].map(|s| format!("{stem}{s}")));
        }
        // "this"/"these" and "that"/"those" share a stem by design (they are
        // one word inflected for number), so collect determiner forms once.
        let determiner_forms: HashSet<String> = DETERMINERS
            .iter()
            .flat_map(|(_, _, stem)| ["o", "oi", "on", "oin"].map(|s| format!("{stem}{s}")))
            .collect();
        forms.extend(determiner_forms);
        forms.extend(ADVERBS.map(|(_, t)| t.to_string()));
        forms.push(AND_TARGET.to_string());
        let unique: HashSet<&String> = forms.iter().collect();
        assert_eq!(unique.len(), forms.len(), "{forms:?}");
    }
}
