//! The reader experiment end to end, on data it writes itself: every reader learns, the
//! smoke preset writes its table and attention, `.question` directories in DeepMind's layout
//! are read (and bad ones refused with one line naming the culprit).

use std::path::Path;
use std::process::Command;

use datasets::reader::Question;
use datasets::reader::synthetic::{StoryConfig, generate_stories};
use experiments::experiment::{Cell, Experiment, Preset};
use experiments::reader::{
    Config, QuestionSplits, ReaderData, ReaderExperiment, ReaderTask, ReaderVocab, encode,
    load_questions,
};
use experiments::run;
use models::readers::ReaderKind;

mod common;
use common::scratch;

/// Burn seeds one random generator per backend and process, and the test harness runs tests
/// on parallel threads: runs that train hold this lock so their random draws do not interleave.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Every reader fits a tiny synthetic set: after training, its accuracy on those questions is
/// far above the frequency baselines' (which stay below 60% on these stories).
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
    // The training questions are also the validation and test questions: the accuracy the
    // cell reports is the training accuracy.
    let splits = QuestionSplits {
        train: stories.clone(),
        valid: stories.clone(),
        test: stories.clone(),
    };
    let vocab = ReaderVocab::build(&splits, 1000);
    let train = encode(&vocab, &stories).unwrap();
    let data = ReaderData {
        splits,
        vocab,
        valid: train.clone(),
        test: train.clone(),
        train,
        example: None,
    };
    let task = ReaderTask::Synthetic;
    let config = Config {
        seeds: vec![3],
        readers: ReaderKind::ALL.to_vec(),
        // 20 steps already reach 100% for every reader; 10 do not.
        steps: 60,
        batch_size: 24,
        learning_rate: 1e-2,
        d_embed: 24,
        d_hidden: 24,
        d_attention: 24,
        ..Config::preset(Preset::Smoke, &task)
    };
    ReaderExperiment::validate(&config).unwrap();
    for kind in ReaderKind::ALL {
        let cell = Cell::new(kind.name(), 0, 3);
        let record =
            ReaderExperiment::run_cell(&config, &task, &data, &cell, &Default::default()).unwrap();
        let accuracy = record
            .metrics
            .iter()
            .find(|r| r.metric == "valid_accuracy" && r.len_lo == 0)
            .unwrap_or_else(|| panic!("{}: no valid_accuracy row", kind.name()))
            .value;
        assert!(
            accuracy >= 90.0,
            "{}: training accuracy {accuracy}%",
            kind.name()
        );
    }
}

/// With `select_every`, a cell reports the reader of the step with the best validation
/// accuracy: its `valid_accuracy` is the best of the checks written to the learning curve,
/// and `selected_step` is the first step that reached it.
#[test]
fn model_selection_reports_the_reader_of_the_best_validation_check() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let stories = |n, seed| {
        generate_stories(&StoryConfig {
            n,
            min_sentences: 3,
            max_sentences: 6,
            entities: 6,
            seed,
        })
    };
    // Few training stories, other validation ones: validation accuracy rises and falls.
    let splits = QuestionSplits {
        train: stories(40, 5),
        valid: stories(60, 6),
        test: stories(60, 7),
    };
    let vocab = ReaderVocab::build(&splits, 1000);
    let data = ReaderData {
        train: encode(&vocab, &splits.train).unwrap(),
        valid: encode(&vocab, &splits.valid).unwrap(),
        test: encode(&vocab, &splits.test).unwrap(),
        splits,
        vocab,
        example: None,
    };
    let task = ReaderTask::Synthetic;
    let config = Config {
        seeds: vec![2],
        readers: vec![ReaderKind::Attentive],
        steps: 50,
        batch_size: 8,
        learning_rate: 1e-2,
        d_embed: 16,
        d_hidden: 16,
        d_attention: 16,
        select_every: 5,
        ..Config::preset(Preset::Smoke, &task)
    };
    ReaderExperiment::validate(&config).unwrap();
    let cell = Cell::new("attentive", 0, 2);
    let record =
        ReaderExperiment::run_cell(&config, &task, &data, &cell, &Default::default()).unwrap();
    let metric = |name: &str| {
        (record.metrics.iter())
            .find(|r| r.metric == name && r.len_lo == 0)
            .unwrap_or_else(|| panic!("no {name} row"))
            .value
    };
    let checks: Vec<(usize, f64)> = (record.curve.iter())
        .filter(|r| r.model == "attentive validation error")
        .map(|r| (r.step, 100.0 * (1.0 - r.loss)))
        .collect();
    let steps: Vec<usize> = checks.iter().map(|&(step, _)| step).collect();
    assert_eq!(steps, (5..=50).step_by(5).collect::<Vec<_>>());
    let best = checks.iter().map(|&(_, a)| a).fold(f64::MIN, f64::max);
    let first_best = checks.iter().find(|&&(_, a)| a == best).unwrap().0;
    assert!((metric("valid_accuracy") - best).abs() < 1e-9, "{checks:?}");
    assert_eq!(metric("selected_step"), first_best as f64, "{checks:?}");
    // The choice mattered in this run: the last check is not the best.
    assert!(checks.last().unwrap().1 < best, "{checks:?}");
}

#[test]
fn smoke_run_writes_table_and_attention() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let task = ReaderTask::Synthetic;
    let config = Config::preset(Preset::Smoke, &task);
    let tmp = scratch("smoke");
    let dir = run::run::<ReaderExperiment>(&config, &task, Path::new("data"), tmp.path()).unwrap();
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

/// The text of a `.question` file as DeepMind's CNN / Daily Mail corpus writes it: URL,
/// context, query, answer, then one `@entityN:surface form` line per entity, each field
/// followed by a blank line. `i` varies the story.
fn question_text(i: usize) -> String {
    let (a, b) = (i % 3, 3 + i % 2);
    format!(
        "http://www.cnn.com/2015/04/0{i}/story.html\n\
         \n\
         @entity{a} met @entity{b} in @entity5 . later @entity{b} gave @entity{a} a book .\n\
         \n\
         @placeholder gave @entity{a} a book\n\
         \n\
         @entity{b}\n\
         \n\
         @entity{a}:Ann Lee\n\
         @entity{b}:Bo\n\
         @entity5:New York\n"
    )
}

/// Writes `n` question files into each of `root/<split>` for `splits`.
fn write_layout(root: &Path, splits: &[&str], n: usize) {
    for split in splits {
        let dir = root.join(split);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            std::fs::write(dir.join(format!("{i:04}.question")), question_text(i)).unwrap();
        }
    }
}

/// Runs the `reader` binary and returns its exit code and stderr.
fn reader_cli(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_reader"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A refused run: exit code 1 (not a panic's 101), and the `error:` line, which is returned.
fn error_line(args: &[&str]) -> String {
    let (code, stderr) = reader_cli(args);
    assert_eq!(code, Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{args:?}: one error line: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().last(),
        Some(errors[0]),
        "{args:?}: nothing follows the error line: {stderr}"
    );
    errors[0].to_string()
}

/// `questions:DIR` reads DeepMind's layout (`training/`, `validation/`, `test/`) and the
/// shorter `train/`, end to end through the `reader` binary.
#[test]
fn question_directories_in_deepmind_layout_are_read() {
    let tmp = scratch("layout");
    let root = tmp.path();
    let deepmind = root.join("cnn");
    write_layout(&deepmind, &["training", "validation", "test"], 3);
    // Two more training questions, so each split's count is its own.
    for i in 3..5 {
        std::fs::write(
            deepmind.join(format!("training/{i:04}.question")),
            question_text(i),
        )
        .unwrap();
    }
    let task = ReaderTask::Questions(deepmind.clone());
    let config = Config::preset(Preset::Smoke, &task);
    let splits = load_questions(&config, &task, Path::new("data")).unwrap();
    assert_eq!(
        (splits.train.len(), splits.valid.len(), splits.test.len()),
        (5, 3, 3)
    );
    let first: &Question = &splits.valid[0];
    assert_eq!(first.url, "http://www.cnn.com/2015/04/00/story.html");
    assert_eq!(first.answer, "@entity3");
    assert_eq!(first.entities[0], ("@entity0".into(), "Ann Lee".into()));

    let short = root.join("short");
    write_layout(&short, &["train", "validation", "test"], 3);
    let task = ReaderTask::Questions(short.clone());
    let splits = load_questions(&config, &task, Path::new("data")).unwrap();
    assert_eq!(
        (splits.train.len(), splits.valid.len(), splits.test.len()),
        (3, 3, 3)
    );

    // The whole run, through the command line, on the DeepMind layout.
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let out = root.join("out");
    let (code, stderr) = reader_cli(&[
        "--preset",
        "smoke",
        "--task",
        &format!("questions:{}", deepmind.display()),
        "--set",
        r#"readers=["attentive"]"#,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let rows = plots::read_metrics_csv(&out.join("questions-cnn/metrics.csv")).unwrap();
    assert!(
        rows.iter()
            .any(|r| r.model == "attentive" && r.metric == "test_accuracy" && r.n == 3),
        "attentive scored on the 3 test questions"
    );
}

/// A directory without the layout, and a directory that does not exist: one line naming
/// the directory (once), and for the former the layout expected.
#[test]
fn question_directories_without_the_layout_are_named() {
    let tmp = scratch("no-layout");
    let root = tmp.path();
    let out = root.join("out");
    let out = out.to_str().unwrap();
    let empty = root.join("empty");
    write_layout(&empty, &["validation", "test"], 2);
    let empty = empty.to_str().unwrap();
    let line = error_line(&[
        "--preset",
        "smoke",
        "--task",
        &format!("questions:{empty}"),
        "--out",
        out,
    ]);
    assert!(line.contains(empty), "names the directory: {line}");
    for part in ["training/", "validation/", "test/"] {
        assert!(line.contains(part), "states the layout ({part}): {line}");
    }

    let missing = root.join("missing");
    let missing = missing.to_str().unwrap();
    let line = error_line(&[
        "--preset",
        "smoke",
        "--task",
        &format!("questions:{missing}"),
        "--out",
        out,
    ]);
    assert_eq!(line.matches(missing).count(), 1, "names it once: {line}");
    assert!(line.matches("(os error").count() <= 1, "{line}");
    assert!(
        line.matches("No such file or directory").count() <= 1,
        "{line}"
    );
}

/// Too few synthetic stories for three splits is a configuration error naming `stories`,
/// not a panic.
#[test]
fn too_few_stories_is_an_error_naming_the_field() {
    let tmp = scratch("few-stories");
    let out = tmp.path();
    for stories in ["1", "2"] {
        let line = error_line(&[
            "--preset",
            "smoke",
            "--set",
            &format!("stories={stories}"),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(line.contains("'stories'"), "stories={stories}: {line}");
    }
}

/// A directory of `.question` files with one malformed file: an error naming it, or with
/// skip_bad a count of it.
#[test]
fn malformed_question_files_are_named_or_skipped() {
    let tmp = scratch("dirs");
    let root = tmp.path();
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
    let task = ReaderTask::Questions(root.to_path_buf());
    let config = Config::preset(Preset::Smoke, &task);
    let err = load_questions(&config, &task, Path::new("data"))
        .err()
        .expect("a malformed file is an error");
    assert!(format!("{err:#}").contains("bad.question"), "{err:#}");
    let skipping = Config {
        skip_bad: true,
        ..config
    };
    let splits = load_questions(&skipping, &task, Path::new("data")).unwrap();
    assert_eq!(splits.train.len(), stories.len());

    // The same through the command line: refused naming the file, or with
    // `--set skip_bad=true` the file is skipped and reported.
    let (task_arg, out) = (
        format!("questions:{}", root.display()),
        root.join("out").display().to_string(),
    );
    let refused = [
        "--preset",
        "smoke",
        "--task",
        &task_arg,
        "--set",
        r#"readers=["uniform"]"#,
        "--out",
        &out,
    ];
    let line = error_line(&refused);
    assert!(line.contains("bad.question"), "{line}");
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let skipping = [&refused[..], &["--set", "skip_bad=true"]].concat();
    let (code, stderr) = reader_cli(&skipping);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped 1 malformed files") && stderr.contains("bad.question"),
        "{stderr}"
    );
}
