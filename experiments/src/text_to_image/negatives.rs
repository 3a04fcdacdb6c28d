//! Hard negatives for the DAMSM's training: a reference caption with one attribute of one
//! object changed, in the caption's own wording (its opener, object order and relation
//! phrases), so that nothing but the changed fact tells it from the truth.
//!
//! The batch's other captions differ from a caption in almost everything (how many objects,
//! which colours), and a DAMSM trained against them alone learns to tell scenes apart by
//! such coarse facts: which colour goes with which object never has to be read. A caption
//! one attribute off has to be told apart by exactly that.
//!
//! The changes, one kind drawn uniformly among those the caption allows, then one place and
//! one new value uniformly:
//!
//! - **colour**: one colour word to another of the six;
//! - **size**: one size word to the other;
//! - **class**: one class name (the words after a colour word) to another class's name;
//! - **relation**: one relation phrase to its opposite in the same form ("left of" ↔ "right
//!   of", "to the left of" ↔ "to the right of", "above" ↔ "below", "on top of" ↔ "under"),
//!   a caption false of the scene since the reference's relation is the one that holds.

use datasets::scenes::{Colour, Relation, Size};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

/// One way to change a caption: replace `len` tokens at `at` by one of `options`.
struct Change {
    at: usize,
    len: usize,
    options: Vec<Vec<String>>,
}

fn words(phrase: &[&str]) -> Vec<String> {
    phrase.iter().map(|w| w.to_string()).collect()
}

/// The changes `caption` allows, by kind: colours, sizes, classes, relations.
fn changes(caption: &[String], class_names: &[String]) -> [Vec<Change>; 4] {
    let classes: Vec<Vec<String>> = class_names
        .iter()
        .map(|n| n.split_whitespace().map(String::from).collect())
        .collect();
    let [mut colours, mut sizes, mut class_changes, mut relations] = [(); 4].map(|()| Vec::new());
    for (at, token) in caption.iter().enumerate() {
        if let Some(colour) = Colour::from_name(token) {
            colours.push(Change {
                at,
                len: 1,
                options: Colour::ALL
                    .into_iter()
                    .filter(|&c| c != colour)
                    .map(|c| words(&[c.name()]))
                    .collect(),
            });
            // The class name follows the colour word; the longest name that matches.
            let rest = &caption[at + 1..];
            if let Some(own) = classes
                .iter()
                .filter(|name| rest.starts_with(name.as_slice()))
                .max_by_key(|name| name.len())
            {
                class_changes.push(Change {
                    at: at + 1,
                    len: own.len(),
                    options: classes.iter().filter(|n| *n != own).cloned().collect(),
                });
            }
        }
        if let Some(size) = Size::from_name(token) {
            let other = Size::ALL.into_iter().find(|&s| s != size);
            sizes.push(Change {
                at,
                len: 1,
                options: other.map(|s| words(&[s.name()])).into_iter().collect(),
            });
        }
        for relation in Relation::ALL {
            for (form, phrase) in relation.phrases().iter().enumerate() {
                let phrase = words(phrase);
                if caption[at..].starts_with(&phrase) {
                    relations.push(Change {
                        at,
                        len: phrase.len(),
                        options: vec![words(relation.opposite().phrases()[form])],
                    });
                }
            }
        }
    }
    [colours, sizes, class_changes, relations]
}

/// `caption` with one attribute of one object changed (see the module docs), drawn by
/// `rng`; `None` if the caption names no colour, size, class or relation the grammar knows.
pub fn one_attribute_off(
    caption: &[String],
    class_names: &[String],
    rng: &mut StdRng,
) -> Option<Vec<String>> {
    let kinds: Vec<Vec<Change>> = changes(caption, class_names)
        .into_iter()
        .filter(|k| k.iter().any(|c| !c.options.is_empty()))
        .collect();
    let kind = kinds.choose(rng)?;
    let sites: Vec<&Change> = kind.iter().filter(|c| !c.options.is_empty()).collect();
    let change = sites[rng.random_range(0..sites.len())];
    let replacement = change.options.choose(rng)?;
    let mut out = caption[..change.at].to_vec();
    out.extend(replacement.iter().cloned());
    out.extend(caption[change.at + change.len..].iter().cloned());
    Some(out)
}

#[cfg(test)]
mod tests {
    use datasets::scenes::parse_caption;
    use rand::SeedableRng;

    use super::*;

    fn tokens(caption: &str) -> Vec<String> {
        caption.split(' ').map(String::from).collect()
    }

    fn names() -> Vec<String> {
        ["seven", "ankle boot", "bag"].map(String::from).to_vec()
    }

    /// Every negative is a sentence of the grammar that differs from the truth in exactly
    /// one fact, keeps the opener and the wording around it, and every kind of change turns
    /// up.
    #[test]
    fn negatives_change_one_fact_in_the_captions_own_words() {
        let truth = tokens(
            "we see a small red ankle boot to the left of a large blue seven , and a small green bag on top of it",
        );
        let parsed_truth = parse_caption(&truth, &names()).unwrap();
        let mut rng = StdRng::seed_from_u64(3);
        let mut seen = [false; 4]; // colour, size, class, relation
        for _ in 0..200 {
            let negative = one_attribute_off(&truth, &names(), &mut rng).unwrap();
            assert_eq!(&negative[..2], &truth[..2], "the opener is kept");
            let parsed = parse_caption(&negative, &names()).unwrap();
            assert!(parsed.complete, "{}", negative.join(" "));
            assert_eq!(parsed.objects.len(), 3);
            let mut differences = 0;
            for (a, b) in parsed.objects.iter().zip(&parsed_truth.objects) {
                if a.colour != b.colour {
                    differences += 1;
                    seen[0] = true;
                }
                if a.size != b.size {
                    differences += 1;
                    seen[1] = true;
                }
                if a.class_name != b.class_name {
                    differences += 1;
                    seen[2] = true;
                }
            }
            for (a, b) in parsed.relations.iter().zip(&parsed_truth.relations) {
                if a.relation != b.relation {
                    assert_eq!(a.relation, b.relation.opposite());
                    differences += 1;
                    seen[3] = true;
                }
            }
            assert_eq!(differences, 1, "{}", negative.join(" "));
        }
        assert_eq!(seen, [true; 4], "every kind of change turns up");
    }

    /// A one-object caption has no relation to flip; a multi-word class name is replaced
    /// whole; a caption without any known attribute has no negative.
    #[test]
    fn negatives_of_short_and_odd_captions() {
        let mut rng = StdRng::seed_from_u64(0);
        let truth = tokens("a large cyan ankle boot");
        for _ in 0..50 {
            let negative = one_attribute_off(&truth, &names(), &mut rng).unwrap();
            assert_ne!(negative, truth);
            let parsed = parse_caption(&negative, &names()).unwrap();
            assert!(parsed.complete && parsed.relations.is_empty());
            assert_eq!(parsed.objects.len(), 1);
        }
        assert_eq!(
            one_attribute_off(&tokens("hello world"), &names(), &mut rng),
            None
        );
    }
}
