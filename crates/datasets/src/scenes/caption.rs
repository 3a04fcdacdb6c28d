//! Reference captions from the grammar of the [module docs](super).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::facts::{Colour, Relation, SceneObject, Size};

/// How many reference captions every scene has.
pub const CAPTIONS_PER_SCENE: usize = 5;

/// The openers a caption may start with, the empty one first; the references of a scene use
/// each once.
pub const OPENERS: [&[&str]; CAPTIONS_PER_SCENE] = [
    &[],
    &["there", "is"],
    &["we", "see"],
    &["the", "image", "shows"],
    &["the", "picture", "shows"],
];

/// The grammar's own words (everything but class names), in a fixed order.
pub(super) fn grammar_words() -> Vec<&'static str> {
    let mut words = vec!["a", ",", "and", "it"];
    words.extend(OPENERS.iter().flat_map(|o| o.iter().copied()));
    words.extend(Size::ALL.map(Size::name));
    words.extend(Colour::ALL.map(Colour::name));
    for relation in Relation::ALL {
        words.extend(relation.phrases().iter().flat_map(|p| p.iter().copied()));
    }
    let mut seen = Vec::new();
    words.retain(|w| {
        let new = !seen.contains(w);
        seen.push(*w);
        new
    });
    words
}

/// Every token a caption over `class_names` can contain: the grammar's words (in a fixed
/// order), then the words of the class names, each once.
pub fn caption_vocabulary(class_names: &[String]) -> Vec<String> {
    let mut vocab: Vec<String> = grammar_words().into_iter().map(String::from).collect();
    for word in class_names.iter().flat_map(|n| n.split_whitespace()) {
        if !vocab.iter().any(|v| v == word) {
            vocab.push(word.to_string());
        }
    }
    vocab
}

/// "a SIZE COLOUR CLASS".
fn push_object(tokens: &mut Vec<String>, object: &SceneObject) {
    tokens.push("a".into());
    tokens.push(object.size.name().into());
    tokens.push(object.colour.name().into());
    tokens.extend(object.class_name.split_whitespace().map(String::from));
}

/// The phrase stating [`Relation::between`] the two objects' slots, short or long.
fn push_relation(
    tokens: &mut Vec<String>,
    subject: &SceneObject,
    reference: &SceneObject,
    long: bool,
) {
    let phrase = Relation::between(subject.slot, reference.slot).phrases()[usize::from(long)];
    tokens.extend(phrase.iter().map(|w| w.to_string()));
}

/// One caption: the objects in `order`, opener `OPENERS[opener]`, and for the relation
/// introducing the `i + 1`-th object the long phrase when `long[i]`.
fn write_caption(
    objects: &[SceneObject],
    order: &[usize],
    opener: usize,
    long: &[bool],
) -> Vec<String> {
    let mut tokens: Vec<String> = OPENERS[opener].iter().map(|w| w.to_string()).collect();
    let Some((&first, rest)) = order.split_first() else {
        return tokens;
    };
    push_object(&mut tokens, &objects[first]);
    let mut previous = first;
    for (i, &next) in rest.iter().enumerate() {
        if i == 0 {
            push_relation(&mut tokens, &objects[first], &objects[next], long[i]);
            push_object(&mut tokens, &objects[next]);
        } else {
            tokens.push(",".into());
            tokens.push("and".into());
            push_object(&mut tokens, &objects[next]);
            push_relation(&mut tokens, &objects[next], &objects[previous], long[i]);
            tokens.push("it".into());
        }
        previous = next;
    }
    tokens
}

/// The one fixed rendering of a scene's objects: in the given order (a scene's objects are
/// in slot order), no opener, the short relation phrases.
///
/// # Panics
///
/// If two objects share a slot.
pub fn canonical_caption(objects: &[SceneObject]) -> Vec<String> {
    let order: Vec<usize> = (0..objects.len()).collect();
    write_caption(objects, &order, 0, &vec![false; objects.len()])
}

/// [`CAPTIONS_PER_SCENE`] reference captions of `objects` (distinct slots), deterministic in
/// `seed`: each takes a seeded object order and a fair coin per relation for its short or
/// long phrase, and the five take the five [`OPENERS`] in a seeded order, so they are
/// pairwise distinct. No objects, no captions.
///
/// # Panics
///
/// If two objects share a slot.
pub fn reference_captions(objects: &[SceneObject], seed: u64) -> Vec<Vec<String>> {
    if objects.is_empty() {
        return Vec::new();
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut openers: Vec<usize> = (0..OPENERS.len()).collect();
    openers.shuffle(&mut rng);
    openers
        .into_iter()
        .map(|opener| {
            let mut order: Vec<usize> = (0..objects.len()).collect();
            order.shuffle(&mut rng);
            let long: Vec<bool> = order.iter().map(|_| rng.random_bool(0.5)).collect();
            write_caption(objects, &order, opener, &long)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenes::facts::Slot;

    #[test]
    fn grammar_by_example() {
        let objects = [
            SceneObject::test("square", Colour::Red, Size::Small, 0, 0),
            SceneObject::test("ring", Colour::Blue, Size::Large, 0, 2),
            SceneObject::test("ankle boot", Colour::Green, Size::Small, 2, 1),
        ];
        assert_eq!(
            canonical_caption(&objects).join(" "),
            "a small red square left of a large blue ring , and a small green ankle boot below it"
        );
        let s = |row, col| Slot { row, col };
        assert_eq!(Relation::between(s(0, 0), s(1, 1)), Relation::LeftOf);
        assert_eq!(Relation::between(s(2, 2), s(0, 1)), Relation::Below);
        assert_eq!(Relation::between(s(1, 0), s(1, 2)), Relation::LeftOf);
        assert!(
            Relation::Above.holds(s(0, 0), s(1, 1)) && !Relation::Above.holds(s(1, 0), s(1, 1))
        );
        // The opposite relation holds with subject and reference swapped, for every pair.
        let slots: Vec<Slot> = (0..9).map(|i| s(i / 3, i % 3)).collect();
        for relation in Relation::ALL {
            assert_eq!(relation.opposite().opposite(), relation);
            for &a in &slots {
                for &b in &slots {
                    assert_eq!(relation.holds(a, b), relation.opposite().holds(b, a));
                }
            }
        }
    }
}
