//! Glyphs on canvases (Mnih et al. 2014, §4.1): determinism, where the object and its ink
//! land, what clutter is made of and where it comes from, the names of the settings, and the
//! train/test split, all on glyphs built here.

use std::collections::HashSet;

use datasets::images::canvas::{
    Canvas, CanvasError, CanvasKind, CanvasSpec, GLYPH_SIDE, canvas_rng, check_glyphs, epoch_seed,
    place, place_all, split_indices,
};
use datasets::images::shapes::procedural_glyphs;
use datasets::images::{Glyph, LabelledGlyphs};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A 28 × 28 glyph from an intensity function of (row, column).
fn glyph(f: impl Fn(usize, usize) -> u8) -> Glyph {
    let pixels = (0..28 * 28).map(|k| f(k / 28, k % 28)).collect();
    Glyph {
        rows: 28,
        cols: 28,
        pixels,
    }
}

/// A 28 × 28 glyph of one intensity everywhere.
fn filled(value: u8) -> Glyph {
    glyph(|_, _| value)
}

/// The glyphs as a set, glyph `i` labelled `i`.
fn labelled(glyphs: Vec<Glyph>) -> LabelledGlyphs {
    let labels = (0..glyphs.len()).map(|i| i as u8).collect();
    let class_names = (0..glyphs.len()).map(|i| format!("class {i}")).collect();
    LabelledGlyphs {
        glyphs,
        labels,
        class_names,
    }
}

/// Whether canvas pixel (x, y) lies in the object's 28 × 28 box.
fn in_object_box(canvas: &Canvas, x: usize, y: usize) -> bool {
    let (left, top) = canvas.top_left;
    (left..left + GLYPH_SIDE).contains(&x) && (top..top + GLYPH_SIDE).contains(&y)
}

/// `(x, y)` of every pixel with ink.
fn ink(canvas: &Canvas) -> HashSet<(usize, usize)> {
    let side = canvas.side;
    (0..side * side)
        .filter(|&k| canvas.pixels[k] > 0.0)
        .map(|k| (k % side, k / side))
        .collect()
}

#[test]
fn same_seed_same_canvases_other_seed_other_positions() {
    let glyphs = procedural_glyphs(3, 1);
    let indices: Vec<usize> = (0..glyphs.glyphs.len()).collect();
    let spec = CanvasSpec::cluttered(60, 4);
    let first = place_all(&glyphs, &indices, &spec, 5).unwrap();
    assert_eq!(first.len(), 18);
    assert_eq!(place_all(&glyphs, &indices, &spec, 5).unwrap(), first);
    let other = place_all(&glyphs, &indices, &spec, 6).unwrap();
    let corners = |canvases: &[Canvas]| canvases.iter().map(|c| c.top_left).collect::<Vec<_>>();
    assert_ne!(corners(&other), corners(&first));
    // Canvas k is drawn from canvas_rng(seed, k) alone, whatever the other indices.
    for (k, canvas) in first.iter().enumerate() {
        let alone = place(&glyphs, indices[k], &spec, &mut canvas_rng(5, k)).unwrap();
        assert_eq!(&alone, canvas);
    }
    let a = place_all(&glyphs, &[4, 11, 2], &spec, 9).unwrap();
    let b = place_all(&glyphs, &[17, 11, 0], &spec, 9).unwrap();
    assert_eq!(a[1], b[1]);
    assert_ne!(a[0], b[0]);
}

#[test]
fn epochs_re_place_the_training_set() {
    let seeds: HashSet<u64> = (0..100).map(|epoch| epoch_seed(7, epoch)).collect();
    assert_eq!(seeds.len(), 100);
    assert_eq!(epoch_seed(7, 3), epoch_seed(7, 3));
    assert_ne!(epoch_seed(7, 3), epoch_seed(8, 3));
    let glyphs = labelled(vec![filled(255)]);
    let indices = vec![0; 20];
    let spec = CanvasSpec::translated(60);
    let epoch = |e| place_all(&glyphs, &indices, &spec, epoch_seed(7, e)).unwrap();
    assert_eq!(epoch(1), epoch(1));
    assert_ne!(epoch(1), epoch(2));
}

#[test]
fn translated_canvas_holds_the_glyph_at_its_top_left_and_nothing_else() {
    // A distinctive glyph: every pixel a different non-zero value in a 10 × 12 block.
    let object = glyph(|r, c| {
        if (9..19).contains(&r) && (8..20).contains(&c) {
            (r * 12 + c) as u8 + 1
        } else {
            0
        }
    });
    let glyphs = labelled(vec![filled(255), object.clone()]);
    for seed in 0..20 {
        let canvas = place(
            &glyphs,
            1,
            &CanvasSpec::translated(60),
            &mut StdRng::seed_from_u64(seed),
        )
        .unwrap();
        assert_eq!(
            (canvas.side, canvas.pixels.len(), canvas.label),
            (60, 3600, 1)
        );
        assert!(canvas.pieces.is_empty());
        let (left, top) = canvas.top_left;
        assert!(left <= 32 && top <= 32, "{:?}", canvas.top_left);
        for y in 0..60 {
            for x in 0..60 {
                let expected = if in_object_box(&canvas, x, y) {
                    f32::from(object.at(y - top, x - left)) / 255.0
                } else {
                    0.0
                };
                assert_eq!(canvas.at(x, y), expected, "({x}, {y}), seed {seed}");
            }
        }
        // The block's corner, glyph row 9 and column 8, lands 9 rows and 8 columns from
        // the top-left; the canvas has exactly the block's 120 pixels of ink.
        assert_eq!(
            canvas.at(left + 8, top + 9),
            f32::from(9u8 * 12 + 8 + 1) / 255.0
        );
        assert_eq!(ink(&canvas).len(), 120);
    }
}

#[test]
fn centred_canvas_is_the_glyph_over_255() {
    let glyphs = procedural_glyphs(2, 3);
    for index in [0, 5, 11] {
        let canvas = place(
            &glyphs,
            index,
            &CanvasSpec::centred(),
            &mut StdRng::seed_from_u64(1),
        )
        .unwrap();
        let expected: Vec<f32> = glyphs.glyphs[index]
            .pixels
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        assert_eq!(canvas.pixels, expected);
        assert_eq!((canvas.top_left, canvas.side), ((0, 0), 28));
        assert_eq!(canvas.label, glyphs.labels[index]);
    }
}

#[test]
fn cluttered_canvas_keeps_every_pixel_of_the_object() {
    let glyphs = procedural_glyphs(4, 2);
    let indices: Vec<usize> = (0..glyphs.glyphs.len()).collect();
    for spec in [CanvasSpec::cluttered(60, 4), CanvasSpec::cluttered(100, 8)] {
        let canvases = place_all(&glyphs, &indices, &spec, 11).unwrap();
        for (&index, canvas) in indices.iter().zip(&canvases) {
            let object = &glyphs.glyphs[index];
            let (left, top) = canvas.top_left;
            assert!(left + 28 <= spec.side && top + 28 <= spec.side);
            assert_eq!(canvas.label, glyphs.labels[index]);
            assert_eq!(canvas.pieces.len(), spec.clutter);
            for r in 0..28 {
                for c in 0..28 {
                    let value = f32::from(object.at(r, c)) / 255.0;
                    assert!(canvas.at(left + c, top + r) >= value);
                }
            }
            assert!(canvas.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
}

#[test]
fn clutter_is_at_most_clutter_squares_of_piece_pixels() {
    // The object (glyph 0) has no ink and every other glyph is full ink, so all the ink is
    // clutter, and every piece, wherever it is cut, is a full square.
    let glyphs = labelled(vec![filled(0), filled(255), filled(255), filled(255)]);
    let specs = [
        CanvasSpec::cluttered(60, 4),
        CanvasSpec::cluttered(100, 8),
        CanvasSpec::cluttered(40, 6).with_piece(5),
        CanvasSpec::cluttered(60, 1),
    ];
    for spec in specs {
        let (side, piece) = (spec.side, spec.piece);
        let canvases = place_all(&glyphs, &vec![0; 50], &spec, 3).unwrap();
        for canvas in &canvases {
            let ink = ink(canvas);
            assert!(ink.iter().all(|&(x, y)| canvas.at(x, y) == 1.0));
            assert!(ink.len() >= piece * piece && ink.len() <= spec.clutter * piece * piece);
            // From the pixels alone: every ink pixel lies in a piece × piece square of ink
            // wholly inside the canvas.
            let full_square = |x0: usize, y0: usize| {
                (y0..y0 + piece).all(|y| (x0..x0 + piece).all(|x| ink.contains(&(x, y))))
            };
            for &(x, y) in &ink {
                let xs = x.saturating_sub(piece - 1)..=x.min(side - piece);
                let covered = xs.into_iter().any(|x0| {
                    (y.saturating_sub(piece - 1)..=y.min(side - piece))
                        .any(|y0| full_square(x0, y0))
                });
                assert!(
                    covered,
                    "({x}, {y}) of {spec} is in no {piece}-pixel square of ink"
                );
            }
            // And exactly the union of the recorded pieces.
            assert_eq!(canvas.pieces.len(), spec.clutter);
            let union: HashSet<(usize, usize)> = canvas
                .pieces
                .iter()
                .flat_map(|p| {
                    (0..piece)
                        .flat_map(move |dy| (0..piece).map(move |dx| (p.at.0 + dx, p.at.1 + dy)))
                })
                .collect();
            assert_eq!(union, ink);
        }
        if spec.clutter == 1 {
            for canvas in &canvases {
                let ink = ink(canvas);
                let xs: Vec<usize> = ink.iter().map(|p| p.0).collect();
                let ys: Vec<usize> = ink.iter().map(|p| p.1).collect();
                let width = xs.iter().max().unwrap() - xs.iter().min().unwrap() + 1;
                let height = ys.iter().max().unwrap() - ys.iter().min().unwrap() + 1;
                assert_eq!((ink.len(), width, height), (64, 8, 8));
            }
        }
    }
}

#[test]
fn clutter_is_never_cut_from_the_object_glyph() {
    // Only the object's glyph has full ink (255); the others have 10, 20, 30. Outside the
    // object's box, any 255 would be clutter cut from it. The object sits first, in the
    // middle and last, so both sides of the skipped index are exercised.
    for (values, object) in [
        ([255, 10, 20, 30], 0),
        ([10, 20, 255, 30], 2),
        ([10, 20, 30, 255], 3),
    ] {
        let glyphs = labelled(values.iter().map(|&v| filled(v)).collect());
        let canvases = place_all(
            &glyphs,
            &vec![object; 200],
            &CanvasSpec::cluttered(60, 4),
            21,
        )
        .unwrap();
        let mut seen = HashSet::new();
        for canvas in &canvases {
            assert!(canvas.pieces.iter().all(|p| p.source != object));
            for y in 0..60 {
                for x in 0..60 {
                    // Overlaps keep the largest value: the object's inside its box, else
                    // the largest of the pieces over the pixel.
                    let covering = canvas.pieces.iter().filter(|p| {
                        (p.at.0..p.at.0 + 8).contains(&x) && (p.at.1..p.at.1 + 8).contains(&y)
                    });
                    let clutter = covering.map(|p| values[p.source]).max().unwrap_or(0);
                    if in_object_box(canvas, x, y) {
                        assert_eq!(canvas.at(x, y), 1.0);
                    } else {
                        assert_eq!(canvas.at(x, y), f32::from(clutter) / 255.0);
                        seen.insert((canvas.at(x, y) * 255.0).round() as u8);
                    }
                }
            }
        }
        // Every other glyph served as clutter, and the object's never did.
        assert_eq!(seen, HashSet::from([0, 10, 20, 30]), "object {object}");
    }
}

#[test]
fn positions_cover_the_canvas() {
    let glyphs = labelled(vec![filled(255), filled(255)]);
    let canvases = place_all(&glyphs, &vec![0; 2000], &CanvasSpec::cluttered(60, 4), 8).unwrap();
    let xs: HashSet<usize> = canvases.iter().map(|c| c.top_left.0).collect();
    let ys: HashSet<usize> = canvases.iter().map(|c| c.top_left.1).collect();
    // 33 possible corners on each axis (0 to 60 − 28), each hit with 2000 draws.
    assert_eq!(xs, (0..=32).collect());
    assert_eq!(ys, (0..=32).collect());
    let pieces = canvases.iter().flat_map(|c| &c.pieces);
    let at: HashSet<usize> = pieces.clone().flat_map(|p| [p.at.0, p.at.1]).collect();
    let crop: HashSet<usize> = pieces.flat_map(|p| [p.crop.0, p.crop.1]).collect();
    assert_eq!(at, (0..=52).collect());
    assert_eq!(crop, (0..=20).collect());
}

#[test]
fn names_round_trip_and_give_the_kind() {
    let names: Vec<String> = CanvasSpec::paper().iter().map(CanvasSpec::name).collect();
    assert_eq!(
        names,
        [
            "centred-28",
            "translated-60",
            "cluttered-60-4",
            "cluttered-100-8"
        ]
    );
    let kinds: Vec<&str> = CanvasSpec::paper()
        .iter()
        .map(|s| s.kind().name())
        .collect();
    assert_eq!(kinds, ["centred", "translated", "cluttered", "cluttered"]);
    for spec in CanvasSpec::paper() {
        assert_eq!(spec.name().parse::<CanvasSpec>().unwrap(), spec);
        assert_eq!(spec.to_string(), spec.name());
    }
    let small_pieces = CanvasSpec::cluttered(60, 4).with_piece(6);
    assert_eq!(small_pieces.name(), "cluttered-60-4-6");
    assert_eq!(
        "cluttered-60-4-6".parse::<CanvasSpec>().unwrap(),
        small_pieces
    );
    assert_eq!(
        "cluttered-60-4-8".parse::<CanvasSpec>().unwrap(),
        CanvasSpec::cluttered(60, 4)
    );
    assert_eq!(CanvasSpec::cluttered(28, 3).kind(), CanvasKind::Cluttered);
    assert_eq!(CanvasSpec::translated(28).kind(), CanvasKind::Centred);
    let spec = CanvasSpec::cluttered(100, 8);
    assert_eq!(
        CanvasSpec::paper()[3],
        CanvasSpec {
            side: 100,
            clutter: 8,
            piece: 8
        }
    );
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(json, "\"cluttered-100-8\"");
    assert_eq!(serde_json::from_str::<CanvasSpec>(&json).unwrap(), spec);
    let bad = serde_json::from_str::<CanvasSpec>("\"cluttered-100\"").unwrap_err();
    assert!(bad.to_string().contains("cluttered-100"), "{bad}");
}

#[test]
fn bad_spellings_say_what_is_wrong() {
    let cases = [
        ("", "unknown canvas kind"),
        ("blurred-60", "unknown canvas kind"),
        ("Translated-60", "unknown canvas kind"),
        ("centred", "1 separated by `-`"),
        ("cluttered-60", "2 separated by `-`"),
        ("cluttered-60-4-6-2", "5 separated by `-`"),
        ("centred-60", "28 pixels, not 60"),
        ("translated-28", "it is centred-28"),
        ("translated-sixty", "side `sixty` is not a whole number"),
        ("translated-", "side `` is not a whole number"),
        ("translated--60", "3 separated by `-`"),
        (
            "cluttered-60-four",
            "number of pieces `four` is not a whole number",
        ),
        ("cluttered-60-4-x", "piece side `x` is not a whole number"),
        ("cluttered-60-0", "it is translated-60"),
        ("cluttered-28-0", "it is centred-28"),
    ];
    for (text, problem) in cases {
        let error = text.parse::<CanvasSpec>().unwrap_err();
        assert!(
            matches!(&error, CanvasError::Spelling { spelling, .. } if spelling == text),
            "{text}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(problem), "{text}: {message}");
        assert!(
            message.contains("expected centred-28, translated-SIDE"),
            "{message}"
        );
    }
    // Well spelled, but sizes that do not fit.
    for (text, problem) in [
        ("translated-20", "side 20 is below the glyph side 28"),
        ("cluttered-60-4-0", "piece 0"),
        ("cluttered-60-4-29", "piece 29 is above the glyph side 28"),
        ("translated-5000", "side 5000 is above the largest, 1024"),
    ] {
        let error = text.parse::<CanvasSpec>().unwrap_err();
        assert!(
            matches!(error, CanvasError::Spec { .. }),
            "{text}: {error:?}"
        );
        assert!(error.to_string().contains(problem), "{text}: {error}");
    }
}

#[test]
fn bad_specs_are_refused_before_placing() {
    let glyphs = labelled(vec![filled(255), filled(255)]);
    for (spec, problem) in [
        (
            CanvasSpec::translated(27),
            "side 27 is below the glyph side 28",
        ),
        (CanvasSpec::cluttered(60, 4).with_piece(0), "piece 0"),
        (
            CanvasSpec::cluttered(60, 4).with_piece(40),
            "piece 40 is above the glyph side",
        ),
        (CanvasSpec::translated(1025), "above the largest"),
    ] {
        let error = spec.validate().unwrap_err();
        assert!(error.to_string().contains(problem), "{spec:?}: {error}");
        let placed = place(&glyphs, 0, &spec, &mut StdRng::seed_from_u64(0));
        assert_eq!(placed.unwrap_err(), error);
    }
    for spec in CanvasSpec::paper() {
        spec.validate().unwrap();
    }
    assert!(CanvasSpec::translated(28).validate().is_ok());
    assert!(CanvasSpec::translated(1024).validate().is_ok());
}

#[test]
fn unusable_glyph_sets_are_reported() {
    let spec = CanvasSpec::cluttered(60, 4);
    let rng = || StdRng::seed_from_u64(0);
    let message = |glyphs: &LabelledGlyphs, index: usize, spec: &CanvasSpec| match place(
        glyphs,
        index,
        spec,
        &mut rng(),
    ) {
        Err(CanvasError::Glyphs(msg)) => msg,
        other => panic!("expected a glyph error, got {other:?}"),
    };
    let two = labelled(vec![filled(1), filled(2)]);
    assert!(message(&two, 2, &spec).contains("index 2 is out of range: 2 glyphs and 2 labels"));
    let mut unlabelled = two.clone();
    unlabelled.labels.pop();
    assert!(message(&unlabelled, 1, &spec).contains("2 glyphs and 1 labels"));
    let one = labelled(vec![filled(1)]);
    assert!(message(&one, 0, &spec).contains("cluttered-60-4 asks for clutter"));
    place(&one, 0, &CanvasSpec::translated(60), &mut rng()).unwrap();
    let small = Glyph {
        rows: 20,
        cols: 20,
        pixels: vec![0; 400],
    };
    let with_small = labelled(vec![filled(1), small]);
    assert!(message(&with_small, 1, &spec).contains("glyph 1 is 20 × 20 pixels"));
    // As a clutter source, too: glyph 0's clutter can only come from glyph 1.
    assert!(message(&with_small, 0, &spec).contains("glyph 1 is 20 × 20 pixels"));
    let short = Glyph {
        rows: 28,
        cols: 28,
        pixels: vec![0; 700],
    };
    let with_short = labelled(vec![short, filled(1)]);
    assert!(message(&with_short, 0, &spec).contains("glyph 0 says 28 × 28 but holds 700 pixels"));
    let all = place_all(&with_small, &[0, 1], &CanvasSpec::translated(60), 0);
    assert!(matches!(all, Err(CanvasError::Glyphs(msg)) if msg.contains("glyph 1")));
    // The same faults found without placing anything.
    let checked = |glyphs: &LabelledGlyphs| match check_glyphs(glyphs) {
        Err(CanvasError::Glyphs(msg)) => msg,
        other => panic!("expected a glyph error, got {other:?}"),
    };
    check_glyphs(&two).unwrap();
    assert!(checked(&unlabelled).contains("2 glyphs and 1 labels"));
    assert!(checked(&with_small).contains("glyph 1 is 20 × 20 pixels"));
    assert!(checked(&with_short).contains("glyph 0 says 28 × 28 but holds 700 pixels"));
}

#[test]
fn split_indices_partitions_with_a_seed() {
    let (train, test) = split_indices(10_000, 3_333, 4).unwrap();
    assert_eq!((train.len(), test.len()), (6_667, 3_333));
    let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..10_000).collect::<Vec<_>>());
    // Shuffled, not in the set's (label) order.
    assert!(train.windows(2).any(|w| w[0] > w[1]));
    assert_eq!(
        split_indices(10_000, 3_333, 4).unwrap(),
        (train.clone(), test.clone())
    );
    assert_ne!(split_indices(10_000, 3_333, 5).unwrap().1, test);
    for (count, test) in [(0, 0), (7, 0), (7, 7), (60_000, 10_000), (10_001, 1)] {
        let (a, b) = split_indices(count, test, 1).unwrap();
        assert_eq!((a.len(), b.len()), (count - test, test));
    }
    let error = split_indices(5, 6, 0).unwrap_err();
    assert_eq!(error.to_string(), "split: 6 test images asked of 5");
}
