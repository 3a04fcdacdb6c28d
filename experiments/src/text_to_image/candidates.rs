//! The candidate captions of R-precision, fixed once per run so that every generator and the
//! real images are ranked against the same ones.
//!
//! - **Random** (AttnGAN's and DM-GAN's protocol): the true caption (the one the image was
//!   drawn from) and `candidates - 1` first captions of other test scenes, drawn without
//!   replacement, leaving out scenes with the same facts (their captions would be just as
//!   true).
//! - **Hard**: the scene's canonical caption and captions of its facts changed in exactly one
//!   attribute of one object: its colour, its class, or its slot (to a free one). All of them
//!   in the canonical rendering, so no candidate differs from the truth by its wording; a
//!   change that leaves the canonical caption as it was (moving the only object of a scene,
//!   whose caption states no relation) is no candidate. At most `candidates - 1` of them,
//!   drawn without replacement; a scene with fewer distinct changes has fewer candidates
//!   (one object: 5 colours + the other classes).

use datasets::scenes::{Colour, GRID, Scene, SceneObject, Slot, canonical_caption};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};

/// The facts of a scene that its captions state, for telling apart scenes whose captions
/// would be equally true.
fn facts(scene: &Scene) -> Vec<(usize, Colour, datasets::scenes::Size, Slot)> {
    scene
        .objects
        .iter()
        .map(|o| (o.class, o.colour, o.size, o.slot))
        .collect()
}

/// For each test scene, the indices of the other test scenes whose first captions are its
/// random candidates (`candidates - 1` each), drawn by `seed`.
pub fn random_candidates(test: &[Scene], candidates: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let all_facts: Vec<_> = test.iter().map(facts).collect();
    (0..test.len())
        .map(|i| {
            let others: Vec<usize> = (0..test.len())
                .filter(|&j| all_facts[j] != all_facts[i])
                .collect();
            others
                .choose_multiple(&mut rng, candidates - 1)
                .copied()
                .collect()
        })
        .collect()
}

/// The hard candidates of one scene: its canonical caption first, then up to
/// `candidates - 1` canonical captions of one-attribute changes, drawn by `rng`.
pub fn hard_candidates(
    scene: &Scene,
    class_names: &[String],
    candidates: usize,
    rng: &mut StdRng,
) -> Vec<Vec<String>> {
    let truth = canonical_caption(&scene.objects);
    let mut changed: Vec<Vec<String>> = Vec::new();
    let mut add = |objects: Vec<SceneObject>| {
        let mut objects = objects;
        objects.sort_by_key(|o| (o.slot.row, o.slot.col));
        let caption = canonical_caption(&objects);
        if caption != truth && !changed.contains(&caption) {
            changed.push(caption);
        }
    };
    let taken: Vec<Slot> = scene.objects.iter().map(|o| o.slot).collect();
    for k in 0..scene.objects.len() {
        let with = |change: &dyn Fn(&mut SceneObject)| {
            let mut objects = scene.objects.clone();
            change(&mut objects[k]);
            objects
        };
        for colour in Colour::ALL
            .into_iter()
            .filter(|&c| c != scene.objects[k].colour)
        {
            add(with(&|o| o.colour = colour));
        }
        for (class, name) in class_names.iter().enumerate() {
            if class != scene.objects[k].class {
                add(with(&|o| {
                    o.class = class;
                    o.class_name = name.clone();
                }));
            }
        }
        for slot in (0..GRID * GRID).map(|i| Slot {
            row: i / GRID,
            col: i % GRID,
        }) {
            if !taken.contains(&slot) {
                add(with(&|o| o.slot = slot));
            }
        }
    }
    changed.shuffle(rng);
    changed.truncate(candidates - 1);
    let mut out = vec![truth];
    out.extend(changed);
    out
}

#[cfg(test)]
mod tests {
    use datasets::images::RgbImage;
    use datasets::scenes::{PixelBox, Size, parse_caption};

    use super::*;

    fn names() -> Vec<String> {
        ["bag", "seven", "sneaker"].map(String::from).to_vec()
    }

    fn object(class: usize, colour: Colour, row: usize, col: usize) -> SceneObject {
        SceneObject {
            class,
            class_name: names()[class].clone(),
            colour,
            size: Size::Large,
            slot: Slot { row, col },
            bbox: PixelBox {
                x0: 0,
                y0: 0,
                x1: 1,
                y1: 1,
            },
        }
    }

    fn scene(objects: Vec<SceneObject>) -> Scene {
        Scene {
            image: RgbImage {
                height: 1,
                width: 1,
                data: vec![0.0; 3],
            },
            captions: vec![canonical_caption(&objects)],
            objects,
        }
    }

    #[test]
    fn one_object_has_every_other_colour_and_class_and_no_move() {
        let truth = scene(vec![object(0, Colour::Red, 1, 1)]);
        let mut rng = StdRng::seed_from_u64(0);
        let captions = hard_candidates(&truth, &names(), 100, &mut rng);
        assert_eq!(captions[0], truth.captions[0]);
        // 5 other colours + 2 other classes; moving the only object changes no word.
        assert_eq!(captions.len(), 1 + 5 + 2);
        let original = &parse_caption(&captions[0], &names()).unwrap().objects[0];
        for caption in &captions[1..] {
            let parsed = parse_caption(caption, &names()).unwrap();
            assert_eq!(parsed.objects.len(), 1);
            let changed = &parsed.objects[0];
            let differences = usize::from(changed.colour != original.colour)
                + usize::from(changed.class_name != original.class_name);
            assert_eq!(differences, 1, "{caption:?}");
        }
    }

    #[test]
    fn moves_that_change_a_relation_are_candidates_and_the_count_is_capped() {
        // A red bag left of a blue seven: moving the bag right of the seven changes the
        // caption; moving it to another free slot left of the seven does not.
        let truth = scene(vec![
            object(0, Colour::Red, 1, 0),
            object(1, Colour::Blue, 1, 1),
        ]);
        let mut rng = StdRng::seed_from_u64(0);
        let all = hard_candidates(&truth, &names(), 1000, &mut rng);
        let distinct: std::collections::BTreeSet<&Vec<String>> = all.iter().collect();
        assert_eq!(distinct.len(), all.len(), "no candidate twice");
        let colour_and_class = 2 * (5 + 2);
        assert!(all.len() - 1 > colour_and_class, "some moves count");
        assert!(
            all.len() - 1 < colour_and_class + 2 * 7,
            "not every move does"
        );
        let capped = hard_candidates(&truth, &names(), 10, &mut rng);
        assert_eq!(capped.len(), 10);
        assert_eq!(capped[0], truth.captions[0]);
    }

    #[test]
    fn random_candidates_leave_out_the_scene_and_its_twins() {
        let a = scene(vec![object(0, Colour::Red, 0, 0)]);
        let twin = a.clone();
        let others: Vec<Scene> = (0..6)
            .map(|k| scene(vec![object(k % 3, Colour::ALL[k], 2, 2)]))
            .collect();
        let mut test = vec![a, twin];
        test.extend(others);
        let chosen = random_candidates(&test, 4, 7);
        assert_eq!(chosen.len(), test.len());
        for (i, picks) in chosen.iter().enumerate() {
            assert_eq!(picks.len(), 3);
            assert!(!picks.contains(&i));
            if i < 2 {
                assert!(!picks.contains(&(1 - i)), "the twin has the same facts");
            }
        }
        assert_eq!(chosen, random_candidates(&test, 4, 7), "fixed by the seed");
    }
}
