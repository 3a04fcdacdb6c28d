//! The reader experiment end to end, on data it writes itself.

use std::path::{Path, PathBuf};

use datasets::reader::synthetic::{StoryConfig, generate_stories};
use experiments::reader::{
    Config, QuestionSplits, ReaderTask, ReaderVocab, encode, predict, run, train_reader,
};
use models::readers::ReaderKind;

static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "attention-lab-reader-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every reader fits a tiny synthetic set: after training, its accuracy on those questions is
/// far above the frequency baselines' (which stay below 40% on these stories).
#[test]
fn every_reader_learns_a_tiny_synthetic_set() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let stories = generate_stories(&StoryConfig {
        n: 24,
        min_sentences: 3,
        max_sentences: 4,
        entities: 6,
        seed: 5,
    });
    let max_freq =
        datasets::reader::baselines::accuracy(&stories, datasets::reader::baselines::max_frequency);
    assert!(max_freq < 0.6, "baseline {max_freq}");
    let splits = QuestionSplits {
        train: stories.clone(),
        valid: Vec::new(),
        test: Vec::new(),
    };
    let vocab = ReaderVocab::build(&splits, 1000);
    let train = encode(&vocab, &stories).unwrap();
    let config = Config {
        steps: 120,
        batch_size: 24,
        learning_rate: 1e-2,
        d_embed: 24,
        d_hidden: 24,
        d_attention: 24,
        ..Config::preset("smoke", &ReaderTask::Synthetic).unwrap()
    };
    for kind in ReaderKind::ALL {
        let device = harness::device(3).unwrap();
        let trained = train_reader(&config, kind, &vocab, &train, &device, kind.name()).unwrap();
        let pred = predict(
            &burn::module::Module::valid(&trained.model),
            &train,
            vocab.n_entities,
        );
        let correct = pred
            .iter()
            .zip(&train)
            .filter(|(p, q)| **p == q.answer)
            .count();
        let accuracy = correct as f64 / train.len() as f64;
        assert!(
            accuracy >= 0.9,
            "{}: training accuracy {accuracy}",
            kind.name()
        );
    }
}

#[test]
fn smoke_run_writes_table_and_attention() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let task = ReaderTask::Synthetic;
    let config = Config::preset("smoke", &task).unwrap();
    let dir = run(&config, &task, Path::new("data"), &scratch("smoke")).unwrap();
    let rows = plots::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    for model in [
        "max-frequency",
        "exclusive-frequency",
        "deep-lstm",
        "uniform",
        "attentive",
        "impatient",
        "attention-sum",
        "stanford",
    ] {
        assert!(
            rows.iter()
                .any(|r| r.model == model && r.metric == "test_accuracy"),
            "{model}"
        );
    }
    let attention = plots::read_doc_attention_csv(&dir.join("document_attention.csv")).unwrap();
    for model in [
        "uniform",
        "attentive",
        "impatient",
        "attention-sum",
        "stanford",
    ] {
        let w: f64 = attention
            .iter()
            .filter(|r| r.model == model)
            .map(|r| r.weight)
            .sum();
        assert!(
            (w - 1.0).abs() < 1e-3,
            "{model}: document attention sums to {w}"
        );
    }
}

/// A directory of `.question` files with one malformed file: an error naming it, or with
/// skip_bad a count of it.
#[test]
fn malformed_question_files_are_named_or_skipped() {
    let root = scratch("dirs");
    let stories = generate_stories(&StoryConfig {
        n: 6,
        min_sentences: 3,
        max_sentences: 4,
        entities: 6,
        seed: 1,
    });
    for split in ["train", "validation", "test"] {
        let dir = root.join(split);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, q) in stories.iter().enumerate() {
            datasets::reader::write_question(&dir.join(format!("{i}.question")), q).unwrap();
        }
    }
    std::fs::write(
        root.join("train/bad.question"),
        "http://x\n\nno placeholder here\n",
    )
    .unwrap();
    let task = ReaderTask::Questions(root.clone());
    let config = Config::preset("smoke", &task).unwrap();
    let err = experiments::reader::load_questions(&config, &task, Path::new("data"))
        .err()
        .expect("a malformed file is an error");
    assert!(format!("{err:#}").contains("bad.question"), "{err:#}");
    let skipping = Config {
        skip_bad: true,
        ..config
    };
    let splits = experiments::reader::load_questions(&skipping, &task, Path::new("data")).unwrap();
    assert_eq!(splits.train.len(), stories.len());
}
