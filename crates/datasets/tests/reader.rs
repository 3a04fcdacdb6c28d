//! The reading-comprehension data files: DeepMind's `.question` format (read, written,
//! malformed) and anonymization.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use datasets::DataError;
use datasets::reader::{
    AnonymizeError, PLACEHOLDER, Question, anonymize, parse_question, read_question,
    read_question_dir, write_question,
};

mod common;
use common::{CNN, scratch_dir, toks};

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
    let tmp = scratch_dir("cnn");
    let dir = tmp.path();
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
    let tmp = scratch_dir("utf8");
    let dir = tmp.path();
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
    let tmp = scratch_dir("write");
    let dir = tmp.path();
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
    let tmp = scratch_dir("dir");
    let dir = tmp.path();
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

    let err = read_question_dir(dir, false).unwrap_err();
    assert!(
        matches!(&err, DataError::Format { path, line: 2, .. } if *path == dir.join("a2.question")),
        "{err:?}"
    );

    let set = read_question_dir(dir, true).unwrap();
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
