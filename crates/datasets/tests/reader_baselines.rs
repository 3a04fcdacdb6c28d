//! The frequency baselines of the reader experiment, and synthetic stories.

use std::collections::HashSet;

use datasets::reader::baselines::{accuracy, context_entities, exclusive_frequency, max_frequency};
use datasets::reader::synthetic::{StoryConfig, generate_stories};
use datasets::reader::{PLACEHOLDER, Question, is_entity_id, read_question_dir, write_question};

mod common;
use common::{scratch_dir, toks};

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
    let tmp = scratch_dir("stories");
    let dir = tmp.path();
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
    let set = read_question_dir(dir, false).unwrap();
    assert_eq!(set.questions, stories);
    assert!(set.skipped.is_empty());
}
