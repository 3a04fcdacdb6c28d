//! The Transformer learns through the shared pipeline, and the experiment writes what it
//! promises: metrics for all three models and both cost measures.

use std::path::Path;
use std::process::Command;

use burn::module::Module;
use datasets::synthetic::SyntheticTask;
use experiments::experiment::Preset;
use experiments::run;
use experiments::seq2seq::decode::decode_all;
use experiments::seq2seq::eval::evaluate;
use experiments::seq2seq::{self, TaskSpec, load_data, train};
use experiments::training::cross_entropy_loss;
use experiments::transformer::{
    Config, DECODE_SENTENCE, MODELS, TRAIN_STEP, TransformerExperiment,
};
use models::seq2seq::sequence_cross_entropy;
use models::transformer::TransformerSeq2SeqConfig;

mod common;
use common::scratch;

/// Burn seeds one random generator per backend and process, and the test harness runs tests
/// on parallel threads: runs that train hold this lock so their random draws do not interleave.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A small Transformer trained with the pipeline's `train` copies length-5 sentences.
#[test]
fn tiny_transformer_learns_to_copy_length_5() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let task = TaskSpec::Synthetic(SyntheticTask::Copy);
    let config = seq2seq::Config {
        seeds: vec![1],
        train_max_lens: vec![5],
        min_len: 5,
        test_max_len: 5,
        train_size: 4000,
        test_size: 200,
        steps: 250,
        batch_size: 32,
        learning_rate: 3e-3,
        ..seq2seq::Config::preset(Preset::Quick, &task)
    };
    let data = load_data("transformer", &config, &task, Path::new("data")).unwrap();
    let device = harness::device(1).unwrap();
    let model = TransformerSeq2SeqConfig::new(data.src_vocab.len(), data.tgt_vocab.len())
        .with_d_model(32)
        .with_n_heads(2)
        .with_n_layers(1)
        .with_d_ff(64)
        .with_max_len(32)
        .init(&device);
    let trained = train(
        &config,
        data.train_set(&config, 5),
        model,
        &device,
        "Transformer copy-5",
        0,
        |m, b, _| {
            cross_entropy_loss(sequence_cross_entropy(
                m.forward(b.src.clone(), b.mask.clone(), b.tgt_in.clone())
                    .logits,
                b.tgt_out.clone(),
            ))
        },
    )
    .unwrap();
    let model = trained.model.valid();
    let hyps = decode_all(&data.test, &model.device(), 100, |src, mask, max_len| {
        model.greedy(src, mask, max_len).tokens
    });
    let rows = evaluate(&config, "test", &task, &data, &hyps, "Transformer", 5, 1);
    let em = rows
        .iter()
        .find(|r| r.metric == "exact_match" && r.len_lo == 0)
        .unwrap()
        .value;
    assert!(em >= 95.0, "Transformer copy-5 exact match {em}");
}

/// The smoke preset runs end to end: metrics for all three models, both cost measures at
/// every length, and their figures.
#[test]
fn smoke_run_writes_metrics_and_cost() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let task = TaskSpec::Synthetic(SyntheticTask::Reverse);
    let config = Config::preset(Preset::Smoke, &task);
    let tmp = scratch("smoke");
    let dir =
        run::run::<TransformerExperiment>(&config, &task, Path::new("data"), tmp.path()).unwrap();
    let metrics = plots::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    for model in MODELS {
        assert!(
            metrics
                .iter()
                .any(|r| r.model == model && r.experiment == "transformer"),
            "{model} scored"
        );
    }
    let cost = plots::read_cost_csv(&dir.join("cost.csv")).unwrap();
    for model in MODELS {
        for measure in [TRAIN_STEP, DECODE_SENTENCE] {
            for &len in &config.cost_lengths {
                assert!(
                    cost.iter().any(|r| r.model == model
                        && r.measure == measure
                        && r.seq_len == len
                        && r.median_ms.is_finite()
                        && r.median_ms > 0.0),
                    "{model} {measure} at length {len}"
                );
            }
        }
    }
    for file in [
        "config.json",
        "timings.csv",
        "exact_match.png",
        "cost-train_step.png",
        "cost-decode_sentence.png",
    ] {
        assert!(dir.join(file).is_file(), "{file} written");
    }
}

/// `--set skip_quality=true` reaches the run: the cost is measured, nothing is trained or
/// scored.
#[test]
fn skip_quality_measures_the_cost_only() {
    let _training = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = scratch("cost-only");
    let out = tmp.path();
    let output = Command::new(env!("CARGO_BIN_EXE_transformer"))
        .args(["--preset", "smoke", "--set", "skip_quality=true", "--out"])
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let dir = out.join("reverse");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["config"]["skip_quality"], true);
    assert!(!dir.join("metrics.csv").exists(), "nothing scored");
    let cost = plots::read_cost_csv(&dir.join("cost.csv")).unwrap();
    for model in MODELS {
        assert!(cost.iter().any(|r| r.model == model), "{model} costed");
    }
}

#[test]
fn validate_names_the_bad_field() {
    let task = TaskSpec::Synthetic(SyntheticTask::Reverse);
    let config = Config::preset(Preset::Smoke, &task);
    let bad = |c: Config, field: &str| {
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains(field), "error should name {field}: {err}");
    };
    bad(
        Config {
            d_model: 10,
            n_heads: 4,
            ..config.clone()
        },
        "n_heads",
    );
    bad(
        Config {
            cost_repeats: 0,
            ..config.clone()
        },
        "cost_repeats",
    );
    bad(
        Config {
            transformer_learning_rate: 0.0,
            ..config.clone()
        },
        "transformer_learning_rate",
    );
    bad(
        Config {
            cost_lengths: vec![4, 0],
            ..config.clone()
        },
        "cost_lengths",
    );
    bad(
        Config {
            skip_quality: true,
            cost_lengths: Vec::new(),
            ..config.clone()
        },
        "skip_quality",
    );
    for preset in [Preset::Quick, Preset::Paper, Preset::Smoke] {
        Config::preset(preset, &task).validate().unwrap();
    }
}
