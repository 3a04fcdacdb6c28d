//! Bible cloze questions: the named-entity heuristic, cloze questions from a SWORD zText
//! module, and (with fetched data) the KJV itself.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use datasets::DataError;
use datasets::reader::baselines::{accuracy, context_entities, exclusive_frequency, max_frequency};
use datasets::reader::bible_cloze::{cloze_from_verses, named_entities};
use datasets::reader::{ClozeConfig, PLACEHOLDER, Question, bible_cloze};
use datasets::sword::VerseRef;
use flate2::Compression;
use flate2::write::ZlibEncoder;

mod common;
use common::{scratch_dir, toks};

// ---------------------------------------------------------------- Bible cloze

/// Genesis 1:1-13 of a made-up Bible.
const VERSES: [&str; 13] = [
    "And Abram went to Bethel with Lot.",
    "Then Lot saw Bethel and the plain.",
    "And Abram said unto Lot, Behold the land.",
    "And Sarai dwelt in Bethel with Abram.",
    "The famine came; and Abram went down into Egypt.",
    "And Pharaoh took Sarai into his house.",
    "And Pharaoh called Abram and said, What is this?",
    "So Abram went up out of Egypt, he and Sarai's maid.",
    "And Lot also had flocks in Bethel.",
    "And there was strife between Abram and Lot.",
    "And Abram said unto Lot, Let there be no strife.",
    "Then Lot chose the plain, and Lot journeyed east.",
    "And the men of Sodom were wicked.",
];

#[test]
fn named_entity_heuristic() {
    assert_eq!(named_entities(VERSES), ["Abram", "Bethel", "Lot", "Sarai"]);
    // Capitalized mid-sentence in 3 verses but also lowercase: out. Only
    // sentence-initial: out. All caps and stop words: out.
    let verses = [
        "Then Saying came. Tom met Saying and the LORD and God.",
        "x Tom, Saying, LORD, God.",
        "y Tom Saying LORD God",
        "the saying is true",
        "Zed. Zed! Zed? Zed, Tom",
    ];
    assert_eq!(named_entities(verses), ["Tom"]);
}

fn gen_verses(book: &'static str, texts: &[&str]) -> Vec<(VerseRef, String)> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                VerseRef {
                    book,
                    chapter: 1,
                    verse: i as u16 + 1,
                },
                t.to_string(),
            )
        })
        .collect()
}

/// Checks the invariants every Bible question must satisfy.
fn check_cloze(q: &Question) {
    assert_eq!(q.query.iter().filter(|t| *t == PLACEHOLDER).count(), 1);
    assert!(
        q.context.contains(&q.answer),
        "the answer is in the context"
    );
    assert!(
        !q.query.contains(&q.answer),
        "the query does not give it away"
    );
    let listed: HashSet<&str> = q.entities.iter().map(|(id, _)| id.as_str()).collect();
    assert!(listed.contains(q.answer.as_str()));
    for t in q.context.iter().chain(&q.query) {
        assert!(
            listed.contains(t.as_str()) || *t == PLACEHOLDER || *t == t.to_lowercase(),
            "{t}"
        );
    }
}

#[test]
fn cloze_questions_from_a_ztext_module() {
    // Slots: module, testament, book and chapter headings, then Gen 1:1-13;
    // the New Testament is empty.
    let tmp = scratch_dir("kjv");
    let dir = tmp.path();
    let mut raw = Vec::new();
    let mut bzv = Vec::new();
    for _ in 0..4 {
        bzv.extend_from_slice(&[0; 10]);
    }
    for v in VERSES {
        bzv.extend_from_slice(&0u32.to_le_bytes());
        bzv.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        bzv.extend_from_slice(&(v.len() as u16).to_le_bytes());
        raw.extend_from_slice(v.as_bytes());
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&raw).unwrap();
    let bzz = encoder.finish().unwrap();
    let mut bzs = Vec::new();
    for n in [0, bzz.len(), raw.len()] {
        bzs.extend_from_slice(&(n as u32).to_le_bytes());
    }
    fs::write(dir.join("ot.bzs"), bzs).unwrap();
    fs::write(dir.join("ot.bzv"), bzv).unwrap();
    fs::write(dir.join("ot.bzz"), bzz).unwrap();
    for ext in ["bzs", "bzv", "bzz"] {
        fs::write(dir.join(format!("nt.{ext}")), b"").unwrap();
    }

    let config = ClozeConfig {
        context_verses: 3,
        max_examples: usize::MAX,
        seed: 5,
    };
    let questions = bible_cloze(dir, &config).unwrap();
    assert_eq!(
        questions,
        cloze_from_verses(&gen_verses("Gen", &VERSES), &config)
    );
    // Gen 1:9 has no entity of its context, 1:12 names Lot twice, 1:13 no
    // entity at all.
    let urls: Vec<&str> = questions.iter().map(|q| q.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "kjv:Gen.1.4",
            "kjv:Gen.1.5",
            "kjv:Gen.1.6",
            "kjv:Gen.1.7",
            "kjv:Gen.1.8",
            "kjv:Gen.1.10",
            "kjv:Gen.1.11"
        ]
    );
    for q in &questions {
        check_cloze(q);
    }
    // Gen 1:6 "And Pharaoh took Sarai into his house.": Sarai is the only
    // entity (Pharaoh is named in two verses only), and the context is
    // Gen 1:3-5 tokenized and lowercased.
    let q6 = &questions[2];
    let surface: HashMap<&str, &str> = q6
        .entities
        .iter()
        .map(|(id, s)| (id.as_str(), s.as_str()))
        .collect();
    assert_eq!(surface[q6.answer.as_str()], "Sarai");
    assert_eq!(
        q6.query,
        toks("and pharaoh took @placeholder into his house .")
    );
    let id_of: HashMap<&str, &str> = surface.iter().map(|(id, s)| (*s, *id)).collect();
    let expected_context = format!(
        "and {abram} said unto {lot} , behold the land . and {sarai} dwelt in {bethel} with {abram} . \
         the famine came ; and {abram} went down into egypt .",
        abram = id_of["Abram"],
        lot = id_of["Lot"],
        sarai = id_of["Sarai"],
        bethel = id_of["Bethel"]
    );
    assert_eq!(q6.context, toks(&expected_context));
    assert_eq!(context_entities(q6).len(), 4);
    // Gen 1:8: the possessive is split off, so Sarai's is Sarai.
    assert!(questions[4].query.contains(&"'s".to_string()));

    // Deterministic per seed; another seed blanks or numbers differently.
    assert_eq!(questions, bible_cloze(dir, &config).unwrap());
    let other = bible_cloze(dir, &ClozeConfig { seed: 6, ..config }).unwrap();
    assert_eq!(other.len(), questions.len());
    assert_ne!(other, questions);
    // max_examples keeps a subset, in Bible order.
    let few = bible_cloze(
        dir,
        &ClozeConfig {
            max_examples: 3,
            ..config
        },
    )
    .unwrap();
    assert_eq!(few.len(), 3);
    let positions: Vec<usize> = few
        .iter()
        .map(|q| urls.iter().position(|u| *u == q.url).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(
        bible_cloze(
            dir,
            &ClozeConfig {
                context_verses: 0,
                ..config
            }
        )
        .unwrap()
        .is_empty()
    );
    assert!(matches!(
        bible_cloze(&dir.join("nope"), &config),
        Err(DataError::Io { .. })
    ));
}

#[test]
fn cloze_contexts_stay_within_one_book() {
    let mut verses = gen_verses("Gen", &VERSES);
    verses.extend(gen_verses("Exod", &VERSES[..6]));
    let config = ClozeConfig {
        context_verses: 3,
        max_examples: usize::MAX,
        seed: 1,
    };
    let questions = cloze_from_verses(&verses, &config);
    let exod: Vec<&str> = questions
        .iter()
        .map(|q| q.url.as_str())
        .filter(|u| u.starts_with("kjv:Exod"))
        .collect();
    assert_eq!(exod, ["kjv:Exod.1.4", "kjv:Exod.1.5", "kjv:Exod.1.6"]);
    for q in &questions {
        check_cloze(q);
        assert!(q.context.iter().filter(|t| *t == "." || *t == "?").count() >= 3);
    }
}

/// The real KJV, when `scripts/fetch-data` has fetched it: a light check
/// here; `kjv_cloze_statistics` (ignored) prints the full numbers.
fn kjv_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sword/kjv");
    dir.join("ot.bzs").exists().then_some(dir)
}

/// On the real KJV: run `scripts/fetch-data`, then `cargo test --release -p datasets --test
/// reader -- --ignored`.
#[test]
#[ignore = "needs data/sword/kjv from scripts/fetch-data"]
fn kjv_cloze_sample() {
    let dir = kjv_dir().expect("data/sword/kjv: run scripts/fetch-data first");
    let config = ClozeConfig {
        max_examples: 300,
        seed: 7,
        ..ClozeConfig::default()
    };
    let questions = bible_cloze(&dir, &config).unwrap();
    assert_eq!(questions.len(), 300);
    for q in &questions {
        check_cloze(q);
    }
    assert!(accuracy(&questions, max_frequency) < 0.6);
}

#[test]
#[ignore = "reads the whole KJV and builds every question; run with --ignored --nocapture"]
fn kjv_cloze_statistics() {
    let Some(dir) = kjv_dir() else {
        eprintln!("data/sword/kjv not present; skipped");
        return;
    };
    let slots = datasets::sword::read_ztext(&dir).unwrap();
    let texts: Vec<&str> = slots.iter().flatten().map(String::as_str).collect();
    let entities = named_entities(texts.iter().copied());
    eprintln!("verses {}, named entities {}", texts.len(), entities.len());
    let questions = bible_cloze(&dir, &ClozeConfig::default()).unwrap();
    let n = questions.len() as f64;
    let mean_context = questions.iter().map(|q| q.context.len()).sum::<usize>() as f64 / n;
    let mean_query = questions.iter().map(|q| q.query.len()).sum::<usize>() as f64 / n;
    let mean_candidates = questions
        .iter()
        .map(|q| context_entities(q).len())
        .sum::<usize>() as f64
        / n;
    eprintln!(
        "questions {}, mean context tokens {mean_context:.1}, mean query tokens {mean_query:.1}, \
         mean candidates {mean_candidates:.2}",
        questions.len()
    );
    eprintln!(
        "max-frequency {:.3}, exclusive-frequency {:.3}",
        accuracy(&questions, max_frequency),
        accuracy(&questions, exclusive_frequency)
    );
    let mut answers: HashMap<String, usize> = HashMap::new();
    for q in &questions {
        let surface = &q.entities.iter().find(|(id, _)| *id == q.answer).unwrap().1;
        *answers.entry(surface.clone()).or_default() += 1;
    }
    let mut top: Vec<_> = answers.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    eprintln!("most frequent answers: {:?}", &top[..20.min(top.len())]);
    eprintln!(
        "example:\n url {}\n context {}\n query {}\n answer {}\n entities {:?}",
        questions[1000].url,
        questions[1000].context.join(" "),
        questions[1000].query.join(" "),
        questions[1000].answer,
        questions[1000].entities
    );
    assert!(questions.len() > 5_000);
    for q in &questions {
        check_cloze(q);
    }
}
