//! The reading-comprehension data: `.question` files, anonymization, the
//! frequency baselines, synthetic stories and Bible cloze questions.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use datasets::DataError;
use datasets::reader::baselines::{accuracy, context_entities, exclusive_frequency, max_frequency};
use datasets::reader::bible_cloze::{cloze_from_verses, named_entities};
use datasets::reader::synthetic::{StoryConfig, generate_stories};
use datasets::reader::{
    AnonymizeError, ClozeConfig, PLACEHOLDER, Question, anonymize, bible_cloze, is_entity_id,
    parse_question, read_question, read_question_dir, write_question,
};
use datasets::sword::VerseRef;
use flate2::Compression;
use flate2::write::ZlibEncoder;

mod common;
use common::CNN;

/// A fresh, empty directory for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("datasets-reader-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn toks(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn ents(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn cnn_question() -> Question {
    Question {
        url:
            "http://web.archive.org/web/20150731183012id_/http://edition.cnn.com/2015/04/02/example"
                .to_string(),
        context: toks("( @entity0 ) -- @entity1 said on thursday that @entity2 would ..."),
        query: toks("@placeholder said on thursday that @entity2 would visit"),
        answer: "@entity1".to_string(),
        entities: ents(&[
            ("@entity0", "CNN"),
            ("@entity1", "Obama"),
            ("@entity2", "Kerry"),
        ]),
    }
}

// ---------------------------------------------------------------- loader

#[test]
fn reads_the_cnn_layout() {
    let dir = scratch_dir("cnn");
    let path = dir.join("0001.question");
    fs::write(&path, CNN).unwrap();
    assert_eq!(read_question(&path).unwrap(), cnn_question());
    // CRLF line ends, no final newline, trailing blank lines: same question.
    let crlf = CNN.trim_end().replace('\n', "\r\n");
    assert_eq!(parse_question(&crlf, &path).unwrap(), cnn_question());
    assert_eq!(
        parse_question(&format!("{CNN}\n\n"), &path).unwrap(),
        cnn_question()
    );
    // A surface form may contain ':'.
    let colon = CNN.replace("@entity2:Kerry", "@entity2:Star Wars: Episode I");
    assert_eq!(
        parse_question(&colon, &path).unwrap().entities[2],
        ("@entity2".to_string(), "Star Wars: Episode I".to_string())
    );
}

/// Parses `text` as file `path` and returns (line, message) of the error.
fn format_error(text: &str, path: &Path) -> (usize, String) {
    match parse_question(text, path) {
        Err(err @ DataError::Format { .. }) => {
            let shown = err.to_string();
            let DataError::Format { path: p, line, msg } = err else {
                unreachable!()
            };
            assert_eq!(p, path);
            assert!(
                shown.starts_with(&format!("{}:{line}: ", path.display())),
                "{shown}"
            );
            (line, msg)
        }
        other => panic!("expected a format error for {text:?}, got {other:?}"),
    }
}

#[test]
fn malformed_files_name_the_line_and_the_problem() {
    let path = Path::new("data/cnn/bad.question");
    let cases: Vec<(String, usize, &str)> = vec![
        // A missing blank separator.
        (
            CNN.replacen("\n\n", "\n", 1),
            2,
            "expected a blank line after the URL",
        ),
        // Missing fields: the file ends early.
        (
            "http://x\n\nsome context\n\n".to_string(),
            5,
            "missing the query line",
        ),
        (
            "http://x\n\nsome context".to_string(),
            4,
            "missing the blank line after the context",
        ),
        ("".to_string(), 1, "missing the URL line"),
        (
            CNN.replace(
                "( @entity0 ) -- @entity1 said on thursday that @entity2 would ...",
                "  ",
            ),
            3,
            "empty context",
        ),
        // The query has no placeholder.
        (
            CNN.replace("@placeholder said", "@entity1 said"),
            5,
            "no @placeholder",
        ),
        // The answer is not an entity id, or not listed.
        (
            CNN.replace("\n@entity1\n\n", "\nObama\n\n"),
            7,
            "not an entity id",
        ),
        (
            CNN.replace("\n@entity1\n\n", "\n@entity1 @entity2\n\n"),
            7,
            "not an entity id",
        ),
        (
            CNN.replace("\n@entity1\n\n", "\n@entity9\n\n"),
            7,
            "not among the 3 entity lines (lines 9-11)",
        ),
        // Malformed entity lines.
        (
            CNN.replace("@entity2:Kerry", "@entity2 Kerry"),
            11,
            "malformed entity line",
        ),
        (
            CNN.replace("@entity2:Kerry", "entity2:Kerry"),
            11,
            "not an entity id",
        ),
        (
            CNN.replace("@entity2:Kerry", "@entity2:  "),
            11,
            "empty surface form",
        ),
        (
            CNN.replace("@entity2:Kerry", "@entity0:Kerry"),
            11,
            "listed twice (first on line 9)",
        ),
        (
            CNN.replace("@entity1:Obama\n", "\n@entity1:Obama\n"),
            10,
            "blank line inside the entity list",
        ),
        // No entity lines at all.
        (
            CNN.split("@entity0:CNN").next().unwrap().to_string(),
            9,
            "missing the entity lines",
        ),
        (
            CNN.split("\n@entity0:CNN").next().unwrap().to_string(),
            8,
            "missing the blank line after the answer",
        ),
    ];
    for (text, line, needle) in cases {
        let (got_line, msg) = format_error(&text, path);
        assert_eq!(got_line, line, "{text:?}: {msg}");
        assert!(msg.contains(needle), "{text:?}: {msg:?} lacks {needle:?}");
    }
}

#[test]
fn invalid_utf8_names_its_line() {
    let dir = scratch_dir("utf8");
    let path = dir.join("x.question");
    let mut bytes = CNN.as_bytes().to_vec();
    let at = CNN.find("said").unwrap();
    bytes[at] = 0xff;
    fs::write(&path, bytes).unwrap();
    match read_question(&path).unwrap_err() {
        DataError::Format { path: p, line, msg } => {
            assert_eq!((p, line), (path, 3));
            assert!(msg.contains("UTF-8"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    let missing = dir.join("absent.question");
    assert!(matches!(read_question(&missing), Err(DataError::Io { path, .. }) if path == missing));
}

#[test]
fn write_then_read_gives_the_question_back() {
    let dir = scratch_dir("write");
    let path = dir.join("q.question");
    let q = cnn_question();
    write_question(&path, &q).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), CNN, "exact layout");
    assert_eq!(read_question(&path).unwrap(), q);
    assert!(!dir.join("q.question.tmp").exists());

    // Questions that could not be read back are refused and nothing is written.
    let mut bad_token = q.clone();
    bad_token.context[1] = "two words".to_string();
    let mut no_placeholder = q.clone();
    no_placeholder.query[0] = "@entity1".to_string();
    let mut unlisted = q.clone();
    unlisted.answer = "@entity7".to_string();
    let mut newline = q.clone();
    newline.entities[0].1 = "C\nNN".to_string();
    for (bad, needle) in [
        (bad_token, "context token 1"),
        (no_placeholder, "@placeholder"),
        (unlisted, "not among"),
        (newline, "line break"),
    ] {
        let target = dir.join("bad.question");
        match write_question(&target, &bad) {
            Err(DataError::Record {
                path,
                index: 0,
                msg,
            }) => {
                assert_eq!(path, target);
                assert!(msg.contains(needle), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!target.exists());
    }
}

#[test]
fn reads_a_directory_in_name_order_and_skips_bad_files() {
    let dir = scratch_dir("dir");
    let mut q = cnn_question();
    for name in ["c", "a", "b"] {
        q.url = format!("http://example.com/{name}");
        write_question(&dir.join(format!("{name}.question")), &q).unwrap();
    }
    fs::write(
        dir.join("b2.question"),
        CNN.replace("@placeholder", "@entity1"),
    )
    .unwrap();
    fs::write(dir.join("a2.question"), "http://x\n").unwrap();
    fs::write(dir.join("notes.txt"), "not a question").unwrap();
    fs::create_dir(dir.join("sub.question")).unwrap();

    let err = read_question_dir(&dir, false).unwrap_err();
    assert!(
        matches!(&err, DataError::Format { path, line: 2, .. } if *path == dir.join("a2.question")),
        "{err:?}"
    );

    let set = read_question_dir(&dir, true).unwrap();
    let urls: Vec<&str> = set.questions.iter().map(|q| q.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://example.com/a",
            "http://example.com/b",
            "http://example.com/c"
        ]
    );
    let skipped: Vec<&Path> = set.skipped.iter().map(|(p, _)| p.as_path()).collect();
    assert_eq!(skipped, [dir.join("a2.question"), dir.join("b2.question")]);
    assert!(
        set.skipped[1].1.contains("b2.question:5:"),
        "{}",
        set.skipped[1].1
    );

    assert!(matches!(
        read_question_dir(&dir.join("nope"), true),
        Err(DataError::Io { .. })
    ));
}

// ---------------------------------------------------------- anonymization

#[test]
fn anonymization_is_a_per_example_bijection() {
    let context =
        toks("the new york times says obama met kerry in new york city and new york , obama said");
    let query = toks("@placeholder met kerry in new york");
    let entities: Vec<Vec<String>> = ["new york", "new york city", "obama", "kerry", "paris"]
        .map(toks)
        .to_vec();
    let mut perms = HashSet::new();
    for seed in 0..20 {
        let q = anonymize("u", &context, &query, &entities, 2, seed).unwrap();
        assert_eq!(q.url, "u");
        // Entity lines: one per entity, ordered by id, ids 0..n.
        let ids: Vec<&str> = q.entities.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            ["@entity0", "@entity1", "@entity2", "@entity3", "@entity4"]
        );
        let surface: HashMap<&str, &str> = q
            .entities
            .iter()
            .map(|(id, s)| (id.as_str(), s.as_str()))
            .collect();
        let id_of: HashMap<&str, &str> = surface.iter().map(|(id, s)| (*s, *id)).collect();
        assert_eq!(id_of.len(), 5, "distinct entities get distinct ids");
        // The answer's surface form maps to the answer id.
        assert_eq!(surface[q.answer.as_str()], "obama");
        assert_eq!(id_of["obama"], q.answer);
        // Longest match first, and mapping the ids back restores the text.
        assert_eq!(q.context[1], id_of["new york"]); // "new york times"
        assert_eq!(q.context[8], id_of["new york city"]);
        assert_eq!(q.context[10], id_of["new york"]);
        let restore = |tokens: &[String]| -> Vec<String> {
            tokens
                .iter()
                .flat_map(|t| toks(surface.get(t.as_str()).copied().unwrap_or(t)))
                .collect()
        };
        assert_eq!(restore(&q.context), context);
        assert_eq!(restore(&q.query), query);
        assert_eq!(q.query[0], PLACEHOLDER);
        // Same seed, same result.
        assert_eq!(
            anonymize("u", &context, &query, &entities, 2, seed).unwrap(),
            q
        );
        perms.insert(id_of.get("obama").map(|s| s.to_string()).unwrap() + id_of["kerry"]);
    }
    assert!(
        perms.len() > 5,
        "different seeds permute differently: {perms:?}"
    );
}

#[test]
fn anonymization_rejects_bad_input() {
    let c = toks("a b c");
    let q = toks("@placeholder b");
    let e = |v: &[&str]| v.iter().map(|s| toks(s)).collect::<Vec<_>>();
    assert_eq!(
        anonymize("", &c, &q, &[], 0, 1),
        Err(AnonymizeError::NoEntities)
    );
    assert_eq!(
        anonymize("", &c, &q, &e(&["a"]), 1, 1),
        Err(AnonymizeError::AnswerOutOfRange {
            answer: 1,
            entities: 1
        })
    );
    assert_eq!(
        anonymize("", &c, &q, &e(&["a", ""]), 0, 1),
        Err(AnonymizeError::EmptyEntity { index: 1 })
    );
    assert!(matches!(
        anonymize("", &c, &q, &e(&["a", "b", "a"]), 0, 1),
        Err(AnonymizeError::DuplicateEntity {
            first: 0,
            second: 2,
            ..
        })
    ));
    assert_eq!(
        anonymize("", &c, &toks("a b"), &e(&["a"]), 0, 1),
        Err(AnonymizeError::NoPlaceholder)
    );
}

// ---------------------------------------------------------------- baselines

fn question(context: &str, query: &str, answer: &str, ids: &[&str]) -> Question {
    Question {
        url: String::new(),
        context: toks(context),
        query: toks(query),
        answer: answer.to_string(),
        entities: ids
            .iter()
            .map(|id| (id.to_string(), format!("name of {id}")))
            .collect(),
    }
}

#[test]
fn frequency_baselines_on_hand_made_examples() {
    let all = ["@entity1", "@entity2", "@entity3"];
    let q = question(
        "@entity1 met @entity2 . @entity1 saw @entity3 , @entity2 and @entity1 .",
        "@entity1 met @placeholder",
        "@entity2",
        &all,
    );
    assert_eq!(max_frequency(&q), "@entity1");
    assert_eq!(exclusive_frequency(&q), "@entity2");
    assert_eq!(context_entities(&q), ["@entity1", "@entity2", "@entity3"]);
    assert_eq!(accuracy(std::slice::from_ref(&q), max_frequency), 0.0);
    assert_eq!(accuracy(&[q], exclusive_frequency), 1.0);

    // Ties go to the first occurrence in the context.
    let tie = question(
        "x @entity3 @entity2 @entity2 @entity3",
        "@placeholder",
        "@entity3",
        &all,
    );
    assert_eq!(max_frequency(&tie), "@entity3");
    let tie = question(
        "@entity2 @entity3 @entity3 @entity2 @entity1",
        "@entity2 @placeholder",
        "@entity3",
        &all,
    );
    assert_eq!(max_frequency(&tie), "@entity2");
    assert_eq!(exclusive_frequency(&tie), "@entity3");
    // Unlisted ids are not counted; the query is not counted.
    let unlisted = question(
        "@entity9 @entity9 @entity1",
        "@entity3 @entity3 @placeholder",
        "@entity1",
        &all,
    );
    assert_eq!(max_frequency(&unlisted), "@entity1");
    // Every context entity in the query: exclusive falls back to max.
    let fallback = question(
        "@entity2 @entity1 @entity1",
        "@entity1 @entity2 @placeholder",
        "@entity3",
        &all,
    );
    assert_eq!(exclusive_frequency(&fallback), "@entity1");
    // No entity in the context: the first entity line.
    let none = question(
        "nothing here",
        "@placeholder",
        "@entity2",
        &["@entity2", "@entity1"],
    );
    assert_eq!(max_frequency(&none), "@entity2");
    assert_eq!(exclusive_frequency(&none), "@entity2");
    assert_eq!(accuracy(&[], max_frequency), 0.0);
}

// ---------------------------------------------------------------- synthetic

#[test]
fn synthetic_stories_are_seeded_bounded_and_answerable() {
    let config = StoryConfig {
        n: 400,
        min_sentences: 6,
        max_sentences: 12,
        entities: 8,
        seed: 3,
    };
    let stories = generate_stories(&config);
    assert_eq!(stories, generate_stories(&config));
    assert_ne!(
        stories,
        generate_stories(&StoryConfig { seed: 4, ..config })
    );
    assert_eq!(stories.len(), 400);

    let mut lengths = HashSet::new();
    for q in &stories {
        let sentences: Vec<&[String]> = q.context.split_inclusive(|t| t == ".").collect();
        assert!((6..=12).contains(&sentences.len()), "{}", sentences.len());
        assert!(sentences.iter().all(|s| s.last().is_some_and(|t| t == ".")));
        lengths.insert(sentences.len());
        // Every entity token is listed; ids are 0..m.
        let listed: HashSet<&str> = q.entities.iter().map(|(id, _)| id.as_str()).collect();
        assert!(
            q.context
                .iter()
                .filter(|t| t.starts_with('@'))
                .all(|t| listed.contains(t.as_str()))
        );
        assert!(
            q.entities
                .iter()
                .enumerate()
                .all(|(k, (id, _))| *id == format!("@entity{k}"))
        );
        assert!(q.entities.len() <= 8);
        // One placeholder; the answer is an entity of the document.
        assert_eq!(q.query.iter().filter(|t| *t == PLACEHOLDER).count(), 1);
        assert!(is_entity_id(&q.answer) && q.context.contains(&q.answer));
        // Exactly one fact answers the query, and only with the answer.
        let fill = |id: &str| -> Vec<String> {
            q.query
                .iter()
                .map(|t| {
                    if t == PLACEHOLDER {
                        id.to_string()
                    } else {
                        t.clone()
                    }
                })
                .collect()
        };
        for (id, _) in &q.entities {
            let n = sentences.iter().filter(|s| **s == fill(id)).count();
            assert_eq!(n, usize::from(*id == q.answer), "{q:?}");
        }
    }
    assert!(lengths.len() >= 5, "lengths vary: {lengths:?}");

    let max = accuracy(&stories, max_frequency);
    let exclusive = accuracy(&stories, exclusive_frequency);
    assert!(max < 0.4, "max-frequency accuracy {max}");
    assert!(exclusive < 0.5, "exclusive-frequency accuracy {exclusive}");

    // Degenerate configs are clamped instead of panicking.
    let tiny = generate_stories(&StoryConfig {
        n: 5,
        min_sentences: 0,
        max_sentences: 0,
        entities: 0,
        seed: 1,
    });
    assert!(
        tiny.iter()
            .all(|q| q.context.iter().filter(|t| *t == ".").count() == 1)
    );
    assert!(tiny.iter().all(|q| q.context.contains(&q.answer)));
    assert!(generate_stories(&StoryConfig { n: 0, ..config }).is_empty());
}

#[test]
fn synthetic_stories_write_and_read_back() {
    let dir = scratch_dir("stories");
    let stories = generate_stories(&StoryConfig {
        n: 20,
        min_sentences: 2,
        max_sentences: 4,
        entities: 40,
        seed: 9,
    });
    for (i, q) in stories.iter().enumerate() {
        write_question(&dir.join(format!("{i:03}.question")), q).unwrap();
    }
    let set = read_question_dir(&dir, false).unwrap();
    assert_eq!(set.questions, stories);
    assert!(set.skipped.is_empty());
}

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
    let dir = scratch_dir("kjv");
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
    let questions = bible_cloze(&dir, &config).unwrap();
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
    assert_eq!(questions, bible_cloze(&dir, &config).unwrap());
    let other = bible_cloze(&dir, &ClozeConfig { seed: 6, ..config }).unwrap();
    assert_eq!(other.len(), questions.len());
    assert_ne!(other, questions);
    // max_examples keeps a subset, in Bible order.
    let few = bible_cloze(
        &dir,
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
            &dir,
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
