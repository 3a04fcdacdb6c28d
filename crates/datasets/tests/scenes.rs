//! Captioned scenes: determinism, facts against pixels, captions and their parser, the
//! semantic score, and the compositional split, all on glyphs drawn here.

use std::collections::HashSet;

use datasets::images::{Glyph, LabelledGlyphs};
use datasets::scenes::{
    self, CAPTIONS_PER_SCENE, Colour, HeldOutPair, PixelBox, Scene, SceneConfig, SceneError,
    SceneObject, Size, Slot, SplitConfig, canonical_caption, caption_vocabulary, class_names,
    generate, parse_caption, score, score_caption,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A 28 × 28 glyph from an intensity function of (row, column).
fn glyph(f: impl Fn(i32, i32) -> u8) -> Glyph {
    let pixels = (0..28 * 28).map(|k| f(k / 28, k % 28)).collect();
    Glyph {
        rows: 28,
        cols: 28,
        pixels,
    }
}

/// Squares, crosses and rings of a few sizes, with soft (anti-aliased) edges; and a second
/// source with a multi-word class and a class name ("Ring") the first already has.
fn sources() -> Vec<LabelledGlyphs> {
    let soft = |d: i32| {
        if d < 0 {
            255
        } else if d == 0 {
            120
        } else {
            0
        }
    };
    let square = |m: i32| glyph(move |r, c| soft((r - 13).abs().max((c - 13).abs()) - m));
    let cross = |m: i32| {
        glyph(move |r, c| {
            soft(
                ((r - 13).abs().min((c - 13).abs()) - 2)
                    .max((r - 13).abs().max((c - 13).abs()) - m),
            )
        })
    };
    let ring = |m: i32| {
        glyph(move |r, c| {
            let d = (((r - 13) * (r - 13) + (c - 13) * (c - 13)) as f32).sqrt() as i32;
            soft((d - m).abs() - 2)
        })
    };
    let bar = |m: i32| glyph(move |r, c| soft(((r - 13).abs() - 2).max((c - 13).abs() - m)));
    let boot = |m: i32| {
        glyph(move |r, c| {
            soft(if r > 20 {
                (c - 10).abs() - m
            } else {
                (c - 6).abs() - 3 + (r < 5) as i32 * 9
            })
        })
    };
    let shapes = LabelledGlyphs {
        glyphs: vec![square(5), square(9), cross(8), cross(11), ring(6), ring(9)],
        labels: vec![0, 0, 1, 1, 2, 2],
        class_names: vec!["square".into(), "cross".into(), "ring".into()],
    };
    let more = LabelledGlyphs {
        glyphs: vec![
            bar(9),
            boot(6),
            ring(4),
            Glyph {
                rows: 28,
                cols: 28,
                pixels: vec![0; 784],
            },
        ],
        labels: vec![0, 1, 2, 3],
        class_names: vec![
            "bar".into(),
            "Ankle  Boot".into(),
            "Ring".into(),
            "blank".into(),
        ],
    };
    vec![shapes, more]
}

fn scenes_with(config: &SceneConfig, n: usize, seed: u64) -> Vec<Scene> {
    generate(config, &sources(), n, seed).unwrap()
}

#[test]
fn class_list_merges_and_drops() {
    let names = class_names(&sources()).unwrap();
    assert_eq!(names, ["square", "cross", "ring", "bar", "ankle boot"]);
}

#[test]
fn same_seed_same_scenes_other_seed_differs() {
    let config = SceneConfig::quick();
    let a = scenes_with(&config, 40, 11);
    assert_eq!(a, scenes_with(&config, 40, 11));
    assert_eq!(a[..10], scenes_with(&config, 10, 11)[..]);
    let b = scenes_with(&config, 40, 12);
    assert!(a.iter().zip(&b).filter(|(x, y)| x.image != y.image).count() > 30);
    assert_ne!(
        a.iter().map(|s| &s.captions).collect::<Vec<_>>(),
        b.iter().map(|s| &s.captions).collect::<Vec<_>>()
    );
}

fn slot_bounds(canvas: usize, cell: usize) -> (usize, usize) {
    (cell * canvas / 3, (cell + 1) * canvas / 3)
}

/// Checks every fact of `scene` against its pixels.
fn check_facts(config: &SceneConfig, classes: &[String], scene: &Scene) {
    let img = &scene.image;
    let n = scene.objects.len();
    assert!((config.min_objects..=config.max_objects).contains(&n));
    let slots: HashSet<Slot> = scene.objects.iter().map(|o| o.slot).collect();
    assert_eq!(slots.len(), n, "slots are distinct");
    let triples: HashSet<_> = scene
        .objects
        .iter()
        .map(|o| (o.class, o.colour, o.size))
        .collect();
    assert_eq!(
        triples.len(),
        n,
        "no two objects share class, colour and size"
    );
    assert!(scene.objects.windows(2).all(|w| w[0].slot < w[1].slot));
    for y in 0..img.height {
        for x in 0..img.width {
            let px = [0, 1, 2].map(|ch| img.at(ch, y, x));
            let owners: Vec<&SceneObject> = scene
                .objects
                .iter()
                .filter(|o| o.bbox.contains(x, y))
                .collect();
            assert!(owners.len() <= 1, "boxes overlap");
            let Some(o) = owners.first() else {
                assert_eq!(px, [0.0; 3], "ink outside every box at ({x}, {y})");
                continue;
            };
            // The hue of the object's colour: zero where the colour is, one value elsewhere.
            let rgb = o.colour.rgb();
            let lit: Vec<f32> = (0..3)
                .filter(|&ch| rgb[ch] > 0.0)
                .map(|ch| px[ch])
                .collect();
            assert!(
                (0..3).all(|ch| rgb[ch] > 0.0 || px[ch] == 0.0),
                "{px:?} in a {:?} box",
                o.colour
            );
            assert!(lit.iter().all(|&v| v == lit[0] && (0.0..=1.0).contains(&v)));
        }
    }
    for o in &scene.objects {
        assert_eq!(classes[o.class], o.class_name);
        assert!(config.colours.contains(&o.colour));
        let PixelBox { x0, y0, x1, y1 } = o.bbox;
        let (sx, sy) = (
            slot_bounds(config.canvas, o.slot.col),
            slot_bounds(config.canvas, o.slot.row),
        );
        assert!(sx.0 <= x0 && x0 < x1 && x1 <= sx.1 && sy.0 <= y0 && y0 < y1 && y1 <= sy.1);
        let side = config.glyph_side(o.size);
        assert!(x1 - x0 <= side && y1 - y0 <= side);
        // The box is tight: ink on each of its four edges.
        let ink = |x: usize, y: usize| (0..3).any(|ch| img.at(ch, y, x) > 0.0);
        assert!((x0..x1).any(|x| ink(x, y0)) && (x0..x1).any(|x| ink(x, y1 - 1)));
        assert!((y0..y1).any(|y| ink(x0, y)) && (y0..y1).any(|y| ink(x1 - 1, y)));
    }
}

#[test]
fn facts_agree_with_pixels() {
    let classes = class_names(&sources()).unwrap();
    let mut config = SceneConfig::quick();
    for scene in scenes_with(&config, 300, 3) {
        check_facts(&config, &classes, &scene);
    }
    config.canvas = 61;
    config.min_objects = 3;
    config.max_objects = 9;
    config.colours = vec![Colour::Yellow, Colour::Cyan, Colour::Blue];
    config.small = 0.5;
    config.jitter = 1.0;
    let scenes = scenes_with(&config, 100, 4);
    for scene in &scenes {
        check_facts(&config, &classes, scene);
    }
    assert!(scenes.iter().any(|s| s.objects.len() == 9));
}

#[test]
fn sizes_are_the_configured_pixels() {
    let full = LabelledGlyphs {
        glyphs: vec![Glyph {
            rows: 20,
            cols: 20,
            pixels: vec![255; 400],
        }],
        labels: vec![0],
        class_names: vec!["block".into()],
    };
    let config = SceneConfig {
        colours: vec![Colour::Red, Colour::Green],
        ..SceneConfig::quick()
    };
    for scene in generate(&config, &[full], 50, 5).unwrap() {
        for o in &scene.objects {
            let want = if o.size == Size::Small { 12 } else { 16 };
            assert_eq!((o.bbox.x1 - o.bbox.x0, o.bbox.y1 - o.bbox.y0), (want, want));
        }
    }
}

fn object(class_name: &str, colour: Colour, size: Size, row: usize, col: usize) -> SceneObject {
    let bbox = PixelBox {
        x0: 0,
        y0: 0,
        x1: 1,
        y1: 1,
    };
    SceneObject {
        class: 0,
        class_name: class_name.into(),
        colour,
        size,
        slot: Slot { row, col },
        bbox,
    }
}

#[test]
fn five_distinct_references_in_the_vocabulary() {
    let classes = class_names(&sources()).unwrap();
    let vocab: HashSet<String> = caption_vocabulary(&classes).into_iter().collect();
    for scene in scenes_with(&SceneConfig::quick(), 300, 6) {
        assert_eq!(scene.captions.len(), CAPTIONS_PER_SCENE);
        let distinct: HashSet<&Vec<String>> = scene.captions.iter().collect();
        assert_eq!(distinct.len(), CAPTIONS_PER_SCENE, "{:?}", scene.captions);
        for token in scene.captions.iter().flatten() {
            assert!(
                vocab.contains(token) && *token == token.to_lowercase(),
                "{token:?}"
            );
        }
    }
    let objects = [object("ring", Colour::Red, Size::Large, 1, 1)];
    let refs = scenes::reference_captions(&objects, 9);
    assert_eq!(refs, scenes::reference_captions(&objects, 9));
    assert_eq!(refs.iter().collect::<HashSet<_>>().len(), 5);
}

#[test]
fn references_parse_back_to_their_facts() {
    let classes = class_names(&sources()).unwrap();
    let mut config = SceneConfig::quick();
    config.max_objects = 6;
    let mut seen_long = false;
    for scene in scenes_with(&config, 500, 8) {
        let canonical = canonical_caption(&scene.objects);
        for caption in scene.captions.iter().chain([&canonical]) {
            let parsed = parse_caption(caption, &classes).unwrap();
            assert!(parsed.complete && parsed.consumed == caption.len());
            assert_eq!(parsed.objects.len(), scene.objects.len());
            let s = score(&parsed, &scene.objects);
            assert!(s.all_right(), "{} -> {s:?}", caption.join(" "));
            assert_eq!(
                [
                    s.object_rate(),
                    s.colour_rate(),
                    s.size_rate(),
                    s.relation_rate()
                ],
                [1.0; 4]
            );
            seen_long |= caption.contains(&"under".to_string());
        }
    }
    assert!(seen_long);
}

#[test]
fn parser_survives_token_soup() {
    let classes = class_names(&sources()).unwrap();
    let mut words = caption_vocabulary(&classes);
    words.extend(
        [
            "", " ", "the", "of", "xyz", ",,", "Ring", "ankle", "boot", "é", "it",
        ]
        .map(String::from),
    );
    let objects = &scenes_with(&SceneConfig::quick(), 1, 1)[0].objects;
    let reference = &scenes_with(&SceneConfig::quick(), 1, 1)[0].captions[0];
    let mut rng = StdRng::seed_from_u64(99);
    let mut parsed_any = 0;
    for i in 0..5000 {
        let tokens: Vec<String> = if i % 2 == 0 {
            let len = rng.random_range(0..40);
            (0..len)
                .map(|_| words[rng.random_range(0..words.len())].clone())
                .collect()
        } else {
            // A reference with a few tokens replaced, dropped or inserted.
            let mut t = reference.clone();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..=t.len());
                let w = words[rng.random_range(0..words.len())].clone();
                match rng.random_range(0..3) {
                    0 if at < t.len() => t[at] = w,
                    1 if at < t.len() => drop(t.remove(at)),
                    _ => t.insert(at, w),
                }
            }
            t
        };
        if let Ok(parsed) = parse_caption(&tokens, &classes) {
            parsed_any += 1;
            assert!(!parsed.objects.is_empty() && parsed.consumed <= tokens.len());
            assert!(parsed.relations.iter().all(|r| r.subject < parsed.objects.len() && r.reference < parsed.objects.len()));
        }
        let s = score_caption(&tokens, &classes, objects);
        for r in [
            s.object_rate(),
            s.colour_rate(),
            s.size_rate(),
            s.relation_rate(),
        ] {
            assert!((0.0..=1.0).contains(&r));
        }
    }
    assert!(parsed_any > 500);
}

#[test]
fn compositional_split_holds_its_pairs_out() {
    let config = SceneConfig {
        seed: 21,
        ..SceneConfig::quick()
    };
    let sizes = SplitConfig {
        train: 300,
        valid: 60,
        test: 60,
        compositional: 80,
        held_out_pairs: 4,
    };
    let splits = scenes::splits(&config, &sources(), &sizes).unwrap();
    assert_eq!(splits, scenes::splits(&config, &sources(), &sizes).unwrap());
    assert_eq!(splits.held_out.len(), 4);
    let classes: HashSet<&String> = splits.held_out.iter().map(|p| &p.class_name).collect();
    assert_eq!(classes.len(), 4, "pairs spread over classes first");
    let held = |o: &SceneObject| {
        splits
            .held_out
            .iter()
            .any(|p| p.colour == o.colour && p.class_name == o.class_name)
    };
    for scene in splits.train.iter().chain(&splits.valid).chain(&splits.test) {
        assert!(!scene.objects.iter().any(held));
    }
    assert_eq!(splits.compositional.len(), 80);
    assert!(
        splits
            .compositional
            .iter()
            .all(|s| s.objects.iter().any(held))
    );
    assert_eq!(
        (splits.train.len(), splits.valid.len(), splits.test.len()),
        (300, 60, 60)
    );
    // Growing one split leaves the others as they were.
    let bigger = scenes::splits(
        &config,
        &sources(),
        &SplitConfig {
            train: 310,
            ..sizes.clone()
        },
    )
    .unwrap();
    assert_eq!(
        (bigger.valid, &bigger.train[..300]),
        (splits.valid, &splits.train[..])
    );
    let fixed = vec![HeldOutPair {
        colour: Colour::Cyan,
        class_name: "Ankle Boot".into(),
    }];
    let split = scenes::splits_holding_out(&config, &sources(), &sizes, fixed).unwrap();
    assert!(split.compositional.iter().all(|s| {
        s.objects
            .iter()
            .any(|o| o.colour == Colour::Cyan && o.class_name == "ankle boot")
    }));
    let bad = vec![HeldOutPair {
        colour: Colour::Cyan,
        class_name: "zebra".into(),
    }];
    assert!(matches!(
        scenes::splits_holding_out(&config, &sources(), &sizes, bad),
        Err(SceneError::HeldOut(_))
    ));
    let too_many = SplitConfig {
        held_out_pairs: 26,
        ..sizes
    };
    assert!(matches!(
        scenes::splits(&config, &sources(), &too_many),
        Err(SceneError::HeldOut(_))
    ));
}

#[test]
fn bad_configurations_and_sources_are_reported() {
    let q = SceneConfig::quick();
    let bad = [
        SceneConfig {
            max_objects: 10,
            ..q.clone()
        },
        SceneConfig {
            min_objects: 0,
            ..q.clone()
        },
        SceneConfig {
            min_objects: 5,
            ..q.clone()
        },
        SceneConfig {
            colours: vec![],
            ..q.clone()
        },
        SceneConfig {
            colours: vec![Colour::Red, Colour::Red],
            ..q.clone()
        },
        SceneConfig {
            small: 0.97,
            ..q.clone()
        },
        SceneConfig {
            large: 1.5,
            ..q.clone()
        },
        SceneConfig {
            jitter: f32::NAN,
            ..q.clone()
        },
        SceneConfig {
            canvas: 5,
            ..q.clone()
        },
    ];
    for config in bad {
        assert!(
            matches!(
                generate(&config, &sources(), 1, 0),
                Err(SceneError::Config(_))
            ),
            "{config:?}"
        );
    }
    let mut broken = sources();
    broken[1].labels.pop();
    assert!(matches!(
        generate(&q, &broken, 1, 0),
        Err(SceneError::Source { index: 1, .. })
    ));
    let one = LabelledGlyphs {
        glyphs: vec![sources()[0].glyphs[0].clone()],
        labels: vec![0],
        class_names: vec!["square".into()],
    };
    let few = SceneConfig {
        colours: vec![Colour::Red],
        ..q.clone()
    };
    assert!(matches!(
        generate(&few, &[one], 1, 0),
        Err(SceneError::Config(_))
    ));
    assert!(generate(&q, &[], 1, 0).is_err());
}
