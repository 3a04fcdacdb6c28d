//! Synthetic tasks: correctness, lengths and seed determinism.

use std::collections::HashMap;

use datasets::Pair;
use datasets::synthetic::{SyntheticTask, TOY_MIN_LEN, UnknownTask, generate, translate_toy};

fn tokens(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn task_names_round_trip() {
    for task in SyntheticTask::ALL {
        assert_eq!(task.name().parse::<SyntheticTask>(), Ok(task));
        assert_eq!(task.to_string(), task.name());
    }
    assert_eq!(
        "toy-translation".parse::<SyntheticTask>(),
        Ok(SyntheticTask::ToyTranslation)
    );
    assert_eq!(
        "Copy".parse::<SyntheticTask>(),
        Err(UnknownTask("Copy".to_string()))
    );
}

#[test]
fn symbol_tasks_are_correct() {
    for task in [
        SyntheticTask::Copy,
        SyntheticTask::Reverse,
        SyntheticTask::Sort,
    ] {
        let pairs = generate(task, 200, 1, 30, 11);
        assert_eq!(pairs.len(), 200);
        for Pair { src, tgt } in &pairs {
            assert!((1..=30).contains(&src.len()));
            assert!(
                src.iter()
                    .all(|t| t.len() == 1 && ("a"..="z").contains(&t.as_str())),
                "{src:?}"
            );
            let expected: Vec<String> = match task {
                SyntheticTask::Copy => src.clone(),
                SyntheticTask::Reverse => src.iter().rev().cloned().collect(),
                _ => {
                    let mut sorted = src.clone();
                    sorted.sort();
                    sorted
                }
            };
            assert_eq!(tgt, &expected);
        }
    }
    // Reversal and sorting must actually change something somewhere.
    let reversed = generate(SyntheticTask::Reverse, 50, 5, 10, 3);
    assert!(reversed.iter().any(|p| p.src != p.tgt));
    let sorted = generate(SyntheticTask::Sort, 50, 5, 10, 3);
    assert!(sorted.iter().any(|p| p.src != p.tgt));
}

#[test]
fn symbols_cover_the_whole_alphabet() {
    let pairs = generate(SyntheticTask::Copy, 500, 10, 10, 5);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in pairs.iter().flat_map(|p| &p.src) {
        *counts.entry(t).or_default() += 1;
    }
    assert_eq!(counts.len(), 26);
    // 5000 draws over 26 symbols: each expected ~192 times.
    assert!(
        counts.values().all(|&c| (120..=270).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn generation_is_seed_deterministic() {
    for task in SyntheticTask::ALL {
        let a = generate(task, 100, 3, 40, 42);
        let b = generate(task, 100, 3, 40, 42);
        let c = generate(task, 100, 3, 40, 43);
        assert_eq!(a, b, "{task}");
        assert_ne!(a, c, "{task}");
    }
}

#[test]
fn lengths_cover_the_range_uniformly() {
    for task in SyntheticTask::ALL {
        let (lo, hi) = (3, 80);
        let pairs = generate(task, 7800, lo, hi, 9);
        let mut histogram = vec![0usize; hi + 1];
        for p in &pairs {
            assert!((lo..=hi).contains(&p.src.len()), "{task}: {}", p.src.len());
            histogram[p.src.len()] += 1;
        }
        // 7800 draws over 78 lengths: ~100 each; every length must occur
        // and none may be far off (a non-exact length hit would pile up).
        for (len, &count) in histogram.iter().enumerate().skip(lo) {
            assert!(
                (50..=160).contains(&count),
                "{task}: length {len} drawn {count} times"
            );
        }
    }
}

#[test]
fn bounds_are_forgiving() {
    // Swapped bounds behave like ordered ones.
    assert_eq!(
        generate(SyntheticTask::Copy, 20, 9, 4, 1),
        generate(SyntheticTask::Copy, 20, 4, 9, 1)
    );
    // The toy grammar has no sentence shorter than 3 tokens.
    for p in generate(SyntheticTask::ToyTranslation, 20, 0, 2, 1) {
        assert_eq!(p.src.len(), TOY_MIN_LEN);
    }
    // Zero-length symbol sequences are allowed.
    for p in generate(SyntheticTask::Reverse, 5, 0, 0, 1) {
        assert!(p.src.is_empty() && p.tgt.is_empty());
    }
    assert!(generate(SyntheticTask::Sort, 0, 1, 5, 1).is_empty());
}

#[test]
fn toy_translation_reorders_and_inflects() {
    // Subject-object-verb, noun before its adjectives (mirrored) and then
    // the determiner; suffixes carry number and case.
    let cases = [
        ("the dog sleeps", "kana lo dormet"),
        ("the dogs sleep", "kanai loi dorment"),
        (
            "the big dog sees a small cat",
            "kana grobe lo miran pike unon vidit",
        ),
        ("a cat sees the big dog", "mira uno kanan grobe lon vidit"),
        ("the cats see these dogs", "mirai loi kanain koin vidus"),
        ("this cat sees those dogs", "mira ko kanain toin vidis"),
        (
            "some old lazy wolves chase a mouse today",
            "lupai pigres senes soi musan unon hodi kasunt",
        ),
        (
            "the king feeds the white horses and the horses run quickly",
            "reka lo horain albes loin nutris e horai loi rapi kurent",
        ),
    ];
    for (english, expected) in cases {
        assert_eq!(
            translate_toy(&tokens(english)),
            Some(tokens(expected)),
            "{english}"
        );
    }
}

#[test]
fn toy_translation_rejects_ungrammatical_input() {
    for bad in [
        "",
        "the dog",
        "dog sleeps",
        "the dog sleep",          // verb agreement
        "a dogs sleep",           // determiner agreement
        "the dog sees",           // transitive verb without object
        "the dog sleeps the cat", // intransitive verb with object
        "the dog sleeps and",     // dangling conjunction
        "the dog sleeps quickly today",
        "the unicorn sleeps",
    ] {
        assert_eq!(translate_toy(&tokens(bad)), None, "{bad:?}");
    }
}

#[test]
fn toy_pairs_are_a_function_of_the_source() {
    let pairs = generate(SyntheticTask::ToyTranslation, 2000, 3, 60, 8);
    for p in &pairs {
        assert_eq!(translate_toy(&p.src).as_deref(), Some(&p.tgt[..]));
    }
    // Three-token sentences come in a few hundred variants, so 2000 of them
    // repeat: every repeat must get the same translation.
    let short = generate(SyntheticTask::ToyTranslation, 2000, 3, 3, 8);
    let mut seen: HashMap<&[String], &[String]> = HashMap::new();
    for p in &short {
        if let Some(previous) = seen.insert(&p.src, &p.tgt) {
            assert_eq!(previous, &p.tgt[..]);
        }
    }
    assert!(seen.len() < short.len() / 2, "{}", seen.len());
    // Long sentences use several clauses, and some words need reordering.
    assert!(
        pairs
            .iter()
            .any(|p| p.src.iter().filter(|t| *t == "and").count() >= 3)
    );
    assert!(pairs.iter().all(|p| p.src.len() == p.tgt.len()));
}

#[test]
fn toy_vocabulary_is_small() {
    let pairs = generate(SyntheticTask::ToyTranslation, 3000, 3, 80, 2);
    let distinct = |side: fn(&Pair) -> &Vec<String>| {
        let mut words: Vec<&String> = pairs.iter().flat_map(side).collect();
        words.sort();
        words.dedup();
        words.len()
    };
    let source = distinct(|p| &p.src);
    let target = distinct(|p| &p.tgt);
    assert!((80..=110).contains(&source), "{source}");
    assert!((120..=200).contains(&target), "{target}");
}
