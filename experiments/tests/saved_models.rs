//! Trained models as files (`--save-models`) and the commands that use them.
//!
//! - In process, for each kind of model: a cell run with a model folder returns the same
//!   record as without one (saving changes no result), and the model loaded back from the
//!   folder gives that record's numbers again, bit for bit (decoded ids, attention weights,
//!   accuracies, annotations), through the experiment's own scoring code.
//! - A module saved and loaded back gives the same logits to the bit; a `model.safetensors`
//!   of a model of another size is refused, naming the file and the tensor.
//! - The commands on the smoke runs' folders: `translate` (with `--alignment`, the PNG, and
//!   the refusal for a model without attention; a Transformer), `answer` and `caption`,
//!   their output format, and agreement with what the runs recorded.

mod common;

use std::path::Path;

use burn::tensor::{Int, Tensor, TensorData};
use common::saved::{assert_one_line_error, lock, run, smoke_run, with_dir};
use common::scratch;
use experiments::captioning::{CaptionTask, Captioning, encoder, eval as caption_eval};
use experiments::experiment::{Cell, CellContext, Experiment, Preset};
use experiments::reader::{ReaderExperiment, ReaderTask, eval as reader_eval, make_reader_batch};
use experiments::saved_model::captioner::LoadedCaptioner;
use experiments::saved_model::reader::LoadedReader;
use experiments::saved_model::seq2seq::Translator;
use experiments::saved_model::{
    ModelFile, SavedKind, WEIGHTS_FILE, inference_device, write_model_dir,
};
use experiments::seq2seq::decode::{decode_alignment, decode_all};
use experiments::seq2seq::eval::evaluate;
use experiments::seq2seq::{TaskSpec, load_data};
use experiments::seq2seq_length::Seq2SeqLength;
use experiments::transformer::TransformerExperiment;
use models::seq2seq::{Selection, ids_tensor, mask_tensor};

#[test]
fn a_loaded_translator_repeats_its_cell_bit_for_bit() {
    let _lock = lock();
    let task = Seq2SeqLength::default_task();
    let config = Seq2SeqLength::preset(Preset::Smoke, &task);
    let data = load_data("test", &config, &task, Path::new("data")).unwrap();
    // The RNNsearch cell that records the alignment of a test sentence.
    let k = config.longest_train_len();
    let cell = Cell::new("RNNsearch", k, config.seeds[0]);
    let tmp = scratch("seq2seq");
    let dir = tmp.path().join("model");
    let saved = Seq2SeqLength::run_cell(&config, &task, &data, &cell, &with_dir(&dir)).unwrap();
    let plain =
        Seq2SeqLength::run_cell(&config, &task, &data, &cell, &CellContext::default()).unwrap();
    assert_eq!(saved.metrics, plain.metrics, "saving changed the scores");
    assert_eq!(
        saved.alignment, plain.alignment,
        "saving changed the alignment"
    );
    assert!(!saved.alignment.is_empty());

    let device = inference_device().unwrap();
    let loaded = Translator::load(&dir, &device).unwrap();
    assert_eq!(loaded.description.cell.variant, "RNNsearch");
    let (model, spec) = loaded.recurrent().expect("a recurrent model");
    assert_eq!(spec.src_vocab, data.src_vocab);
    // The alignment of the example sentence, weight for weight.
    let again = decode_alignment(&data, model, Selection::Soft, &cell).unwrap();
    assert_eq!(again, saved.alignment);
    // The whole test set decoded and scored as the cell did.
    let hyps = decode_all(
        &data.test,
        &device,
        config.eval_batch_size,
        |src, mask, len| model.greedy_with(src, mask, len, Selection::Soft).tokens,
    );
    let name = Seq2SeqLength::NAME;
    let metrics = evaluate(
        &config,
        name,
        &task,
        &data,
        &hyps,
        "RNNsearch",
        k,
        cell.seed,
    );
    assert_eq!(metrics, saved.metrics);
}

/// Saved, loaded: the same teacher-forced logits to the bit. Then a `model.safetensors` of a
/// model with a larger decoder is refused, naming the file and a tensor.
#[test]
fn logits_survive_a_round_trip_and_another_size_is_refused() {
    let _lock = lock();
    let task: TaskSpec = "copy".parse().unwrap();
    let config = experiments::seq2seq::Config::preset(Preset::Smoke, &task);
    let data = load_data("test", &config, &task, Path::new("data")).unwrap();
    let model_config = experiments::seq2seq::seq2seq_model(
        &config,
        &data,
        models::seq2seq::Architecture::RnnSearch,
    );
    let device = harness::device(7).unwrap().without_autodiff();
    let model = model_config.init(&device);
    let cell = Cell::new("RNNsearch", 4, 7);
    let save = experiments::saved_model::seq2seq::Seq2SeqSave::new(
        "seq2seq-length",
        &task,
        &config,
        &data,
        &model_config,
        Selection::Soft,
    );
    let tmp = scratch("round-trip");
    let root = tmp.path();
    let dir = root.join("model");
    experiments::saved_model::seq2seq::save_seq2seq(&with_dir(&dir), &cell, save, &model).unwrap();
    let loaded = Translator::load(&dir, &inference_device().unwrap()).unwrap();
    let (src, tgt) = (&data.test[0].0, &data.test[0].1);
    let logits = |m: &models::seq2seq::Seq2Seq| {
        let d = m.device();
        let tgt_in: Vec<i64> = [1]
            .into_iter()
            .chain(tgt.iter().map(|&t| t as i64))
            .collect();
        let n = tgt_in.len();
        let out = m.forward(
            ids_tensor(src, 1, src.len(), &d),
            mask_tensor(&vec![true; src.len()], 1, src.len(), &d),
            Tensor::<2, Int>::from_data(TensorData::new(tgt_in, [1, n]), &d),
        );
        let bits: Vec<u32> = out
            .logits
            .into_data()
            .iter::<f32>()
            .map(f32::to_bits)
            .collect();
        bits
    };
    assert_eq!(logits(loaded.recurrent().unwrap().0), logits(&model));

    // The same description over the weights of a model with a larger decoder.
    let bigger = model_config
        .clone()
        .with_d_decoder(2 * config.d_decoder)
        .init(&device);
    let description = loaded.description.clone();
    write_model_dir(&root.join("bigger"), &description, &bigger).unwrap();
    std::fs::copy(
        root.join("bigger").join(WEIGHTS_FILE),
        dir.join(WEIGHTS_FILE),
    )
    .unwrap();
    let error = Translator::load(&dir, &device).err().expect("refused");
    let error = format!("{error:#}");
    assert!(error.contains("model.safetensors: tensor '"), "{error}");
    assert!(error.contains("has shape"), "{error}");
    assert!(!error.contains('\n'), "{error}");
    // And a model of another kind is named as such.
    assert!(matches!(description.model, SavedKind::Seq2seq(_)));
    let err = LoadedReader::load(&dir, &device).err().expect("refused");
    assert!(format!("{err}").contains("holds a seq2seq model"), "{err}");
}

/// The Transformer of the transformer experiment: saving changes nothing, and the loaded
/// model decodes the test set to the cell's scores.
#[test]
fn a_loaded_transformer_repeats_its_cell_bit_for_bit() {
    let _lock = lock();
    let task = TransformerExperiment::default_task();
    let mut config = TransformerExperiment::preset(Preset::Smoke, &task);
    config.cost_lengths.clear();
    let base = &config.base;
    let data = load_data("test", base, &task, Path::new("data")).unwrap();
    let k = base.longest_train_len();
    let cell = Cell::new("Transformer", k, base.seeds[0]);
    let tmp = scratch("transformer");
    let dir = tmp.path().join("model");
    let data = Some(data);
    let run_cell = |context: CellContext| {
        TransformerExperiment::run_cell(&config, &task, &data, &cell, &context).unwrap()
    };
    let saved = run_cell(with_dir(&dir));
    let plain = run_cell(CellContext::default());
    assert_eq!(saved.metrics, plain.metrics, "saving changed the scores");

    let device = inference_device().unwrap();
    let loaded = Translator::load(&dir, &device).unwrap();
    assert!(loaded.recurrent().is_none());
    assert!(loaded.no_alignment().is_some() && !loaded.has_beam_search());
    let experiments::saved_model::seq2seq::TranslatorModel::Transformer { model, .. } =
        &loaded.model
    else {
        panic!("a Transformer");
    };
    let Some(data) = data else {
        unreachable!("loaded above")
    };
    let hyps = decode_all(&data.test, &device, base.eval_batch_size, |s, m, len| {
        model.greedy(s, m, len).tokens
    });
    let name = TransformerExperiment::NAME;
    let metrics = evaluate(base, name, &task, &data, &hyps, "Transformer", k, cell.seed);
    assert_eq!(metrics, saved.metrics);
}

#[test]
fn a_loaded_reader_repeats_its_cell_bit_for_bit() {
    let _lock = lock();
    let task = ReaderTask::Synthetic;
    let config = ReaderExperiment::preset(Preset::Smoke, &task);
    let data = ReaderExperiment::load(&config, &task, Path::new("data")).unwrap();
    let cell = Cell::new("attentive", 0, config.seeds[0]);
    let tmp = scratch("reader");
    let dir = tmp.path().join("model");
    let saved = ReaderExperiment::run_cell(&config, &task, &data, &cell, &with_dir(&dir)).unwrap();
    let plain =
        ReaderExperiment::run_cell(&config, &task, &data, &cell, &CellContext::default()).unwrap();
    assert_eq!(saved.metrics, plain.metrics, "saving changed the scores");
    assert!(!saved.doc_attention.is_empty());

    let loaded = LoadedReader::load(&dir, &inference_device().unwrap()).unwrap();
    assert_eq!(loaded.vocab.tokens(), data.vocab.tokens());
    let n = data.vocab.n_entities;
    let predictions = reader_eval::Predictions {
        valid: reader_eval::predict(&loaded.model, &data.valid, n),
        test: reader_eval::predict(&loaded.model, &data.test, n),
    };
    let metrics = reader_eval::accuracy_rows(&config, &task, &data, "attentive", 1, &predictions);
    assert_eq!(metrics, saved.metrics);
    let example = data.example.unwrap();
    let (batch, _) = make_reader_batch(&[&data.test[example]], n, &loaded.model.device());
    let weights: Vec<f64> = (loaded.model.forward(&batch).weights.unwrap().into_data())
        .iter::<f32>()
        .map(f64::from)
        .collect();
    let recorded: Vec<f64> = saved.doc_attention.iter().map(|r| r.weight).collect();
    assert_eq!(weights, recorded);
}

#[test]
fn a_loaded_captioner_repeats_its_cell_bit_for_bit() {
    let _lock = lock();
    let task = CaptionTask::Shapes;
    let config = Captioning::preset(Preset::Smoke, &task);
    let data = Captioning::load(&config, &task, Path::new("data")).unwrap();
    let cell = Cell::new("soft", 0, config.seeds[0]);
    let tmp = scratch("captioner");
    let dir = tmp.path().join("model");
    let saved = Captioning::run_cell(&config, &task, &data, &cell, &with_dir(&dir)).unwrap();
    let plain =
        Captioning::run_cell(&config, &task, &data, &cell, &CellContext::default()).unwrap();
    assert_eq!(saved.metrics, plain.metrics, "saving changed the scores");
    assert!(!saved.image_attention.is_empty());

    let device = inference_device().unwrap();
    let loaded = LoadedCaptioner::load(&dir, &device).unwrap();
    // The saved encoder annotates the test scenes exactly as the run's did.
    let annotations = encoder::annotate(
        &loaded.encoder,
        &data.test.scenes,
        config.eval_batch_size,
        &device,
    );
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&annotations), bits(&data.test.annotations));
    let mut metrics = Vec::new();
    let mut attention = Vec::new();
    for (split, prefix) in [(&data.test, ""), (&data.compositional, "compositional_")] {
        let generated = caption_eval::generate(&loaded.captioner, &data, split, &config, &device);
        metrics.extend(caption_eval::metric_rows(
            &config, &data, split, &generated, &cell, prefix,
        ));
        if prefix.is_empty() {
            attention = caption_eval::attention_rows(&data, &generated, &cell);
        }
    }
    assert_eq!(metrics, saved.metrics);
    assert_eq!(attention, saved.image_attention);
}

#[test]
fn translate_reads_a_saved_run_and_shows_its_alignment() {
    let tmp = scratch("translate-run");
    let out = tmp.path();
    let dir = smoke_run(env!("CARGO_BIN_EXE_seq2seq-length"), out, "reverse", &[]);
    let models = dir.join("models");
    for name in [
        "RNNencdec-k4-seed1",
        "RNNsearch-k4-seed1",
        "RNNencdec-k6-seed1",
        "RNNsearch-k6-seed1",
    ] {
        for file in ["model.json", "model.safetensors"] {
            assert!(models.join(name).join(file).is_file(), "{name}/{file}");
        }
    }
    let search = models.join("RNNsearch-k6-seed1");
    let model = search.to_str().unwrap();
    let bin = env!("CARGO_BIN_EXE_translate");
    // One line out per line in, an empty one for an empty one.
    let (ok, stdout, stderr) = run(bin, &["--model", model], "a b c\n\nd e f g h\n");
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[1].is_empty() && !lines[0].is_empty(), "{stdout}");

    // The sentence of alignment.csv: the same output tokens and strongest source word,
    // weights as recorded.
    let rows = plots::read_alignment_csv(&dir.join("alignment.csv")).unwrap();
    let rows: Vec<_> = rows.iter().filter(|r| r.model == "RNNsearch").collect();
    let n_src = rows.iter().map(|r| r.src_pos).max().unwrap() + 1;
    let source: Vec<&str> = rows[..n_src - 1]
        .iter()
        .map(|r| r.src_token.as_str())
        .collect();
    let (ok, stdout, stderr) = run(bin, &["--model", model, "--alignment"], &source.join(" "));
    assert!(ok, "{stderr}");
    let shown: Vec<&str> = stdout.lines().skip(1).collect();
    let expected: Vec<String> = rows
        .chunks(n_src)
        .map(|row| {
            let best = row
                .iter()
                .fold(row[0], |b, r| if r.weight > b.weight { r } else { b });
            format!(
                "  {} <- {} {:.2}",
                row[0].tgt_token, best.src_token, best.weight
            )
        })
        .collect();
    assert_eq!(shown.len(), expected.len(), "{stdout}");
    for (line, want) in shown.iter().zip(&expected) {
        assert!(line.starts_with(want.as_str()), "{line} is not {want}...");
    }

    let png = out.join("alignment.png");
    let args = ["--model", model, "--alignment-png", png.to_str().unwrap()];
    let (ok, _, stderr) = run(bin, &args, "a b c\n");
    assert!(ok, "{stderr}");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));

    let plain = models.join("RNNencdec-k6-seed1");
    let args = ["--model", plain.to_str().unwrap(), "--alignment"];
    let (ok, _, stderr) = run(bin, &args, "a b c\n");
    assert_one_line_error(ok, &stderr, &["RNNencdec", "--alignment", "not available"]);

    // A description that no longer fits the weights: one line naming file and tensor.
    let json = search.join("model.json");
    let text = std::fs::read_to_string(&json).unwrap();
    let edited = text.replace("\"d_decoder\": 16", "\"d_decoder\": 12");
    assert_ne!(edited, text);
    std::fs::write(&json, edited).unwrap();
    let (ok, _, stderr) = run(bin, &["--model", model], "a b c\n");
    assert_one_line_error(ok, &stderr, &["model.safetensors", "tensor '", "shape"]);
}

/// `translate` with the transformer experiment's models: the Transformer translates one
/// line per line, and refuses `--alignment` and `--beam`, saying why; its RNNsearch still
/// shows an alignment.
#[test]
fn translate_reads_a_saved_transformer() {
    let tmp = scratch("translate-transformer");
    let out = tmp.path();
    let args = ["--set", "cost_lengths=[]"];
    let dir = smoke_run(env!("CARGO_BIN_EXE_transformer"), out, "reverse", &args);
    let bin = env!("CARGO_BIN_EXE_translate");
    let models = dir.join("models");
    let transformer = models.join("Transformer-k4-seed1");
    let model = transformer.to_str().unwrap();
    let (ok, stdout, stderr) = run(bin, &["--model", model], "a b c\n\nd e f\n");
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[1].is_empty(), "{stdout}");
    let (ok, _, stderr) = run(bin, &["--model", model, "--alignment"], "a b c\n");
    assert_one_line_error(
        ok,
        &stderr,
        &["Transformer", "cross-attention", "--alignment"],
    );
    let (ok, _, stderr) = run(bin, &["--model", model, "--beam", "3"], "a b c\n");
    assert_one_line_error(ok, &stderr, &["Transformer", "--beam"]);
    let search = models.join("RNNsearch-k4-seed1");
    let args = ["--model", search.to_str().unwrap(), "--alignment"];
    let (ok, stdout, stderr) = run(bin, &args, "a b c\n");
    assert!(ok, "{stderr}");
    assert!(stdout.lines().nth(1).unwrap().contains(" <- "), "{stdout}");
}

#[test]
fn answer_reads_question_files_and_scores_them_as_the_run_did() {
    let tmp = scratch("answer-run");
    let out = tmp.path();
    let dir = smoke_run(env!("CARGO_BIN_EXE_reader"), out, "synthetic", &[]);
    let model = dir.join("models").join("attentive-k0-seed1");
    let questions = {
        let _lock = lock();
        let task = ReaderTask::Synthetic;
        let config = ReaderExperiment::preset(Preset::Smoke, &task);
        ReaderExperiment::load(&config, &task, Path::new("data"))
            .unwrap()
            .splits
            .test
    };
    let files: Vec<String> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let path = out.join(format!("{i:03}.question"));
            datasets::reader::write_question(&path, q).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();
    let mut args = vec!["--model", model.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let (ok, stdout, stderr) = run(env!("CARGO_BIN_EXE_answer"), &args, "");
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len() + 1, "{stdout}");
    for (line, file) in lines.iter().zip(&files) {
        let rest = line.strip_prefix(&format!("{file}: @entity")).expect(line);
        assert!(rest.contains(" correct") || rest.contains(" wrong, the answer is @entity"));
    }
    // The accuracy is the run's test accuracy for this reader.
    let (right, total) = lines[files.len()]
        .strip_prefix("accuracy: ")
        .and_then(|s| s.split_once(" = "))
        .and_then(|(frac, _)| frac.split_once('/'))
        .expect(&stdout);
    let accuracy =
        100.0 * right.parse::<usize>().unwrap() as f64 / total.parse::<usize>().unwrap() as f64;
    let metrics = plots::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    let recorded = metrics
        .iter()
        .find(|r| r.model == "attentive" && r.metric == "test_accuracy" && r.len_hi == 0)
        .unwrap();
    // metrics.csv keeps four decimals.
    assert!((accuracy - recorded.value).abs() <= 5e-5, "{stdout}");

    let wrong = dir.join("models").join("missing");
    let (ok, _, stderr) = run(
        env!("CARGO_BIN_EXE_answer"),
        &["--model", wrong.to_str().unwrap(), &files[0]],
        "",
    );
    assert_one_line_error(ok, &stderr, &["missing", "no such model folder"]);
}

#[test]
fn caption_reads_png_files_as_the_model_was_trained() {
    let tmp = scratch("caption-run");
    let out = tmp.path();
    let dir = smoke_run(
        env!("CARGO_BIN_EXE_captioning"),
        out,
        "shapes",
        &["--task", "shapes"],
    );
    let model = dir.join("models").join("soft-k0-seed1");
    let description = ModelFile::read(&model).unwrap();
    let SavedKind::Captioner(spec) = &description.model else {
        panic!("a captioner");
    };
    assert_eq!(spec.image.size, 24);
    // Two images of the size the model reads: a few shapes, and an empty canvas.
    let png = |name: &str, f: &dyn Fn(u32, u32) -> [u8; 3]| {
        let path = out.join(name);
        image::RgbImage::from_fn(24, 24, |x, y| image::Rgb(f(x, y)))
            .save(&path)
            .unwrap();
        path.to_str().unwrap().to_string()
    };
    let shapes = png("shapes.png", &|x, y| match (x / 8, y / 8) {
        (0, 0) => [255, 0, 0],
        (2, 1) => [0, 0, 255],
        _ => [0, 0, 0],
    });
    let empty = png("empty.png", &|_, _| [0, 0, 0]);
    let args = [
        "--model",
        model.to_str().unwrap(),
        "--attention",
        &shapes,
        &empty,
    ];
    let (ok, stdout, stderr) = run(env!("CARGO_BIN_EXE_caption"), &args, "");
    assert!(ok, "{stderr}");
    // The same captions as the library gives on the same files.
    let _lock = lock();
    let loaded = LoadedCaptioner::load(&model, &inference_device().unwrap()).unwrap();
    let mut expected = Vec::new();
    for file in [&shapes, &empty] {
        let image = loaded.read_image(Path::new(file)).unwrap();
        let caption = loaded.caption(&[&image]).remove(0);
        expected.push(format!("{file}: {}", caption.words.join(" ")));
        for word in &caption.words {
            expected.push(format!("  {word} -> row "));
        }
    }
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{stdout}");
    for (line, want) in lines.iter().zip(&expected) {
        assert!(line.starts_with(want.as_str()), "{line} is not {want}...");
    }

    let none = dir.join("models").join("none-k0-seed1");
    let args = ["--model", none.to_str().unwrap(), "--attention", &shapes];
    let (ok, _, stderr) = run(env!("CARGO_BIN_EXE_caption"), &args, "");
    assert_one_line_error(ok, &stderr, &["none", "--attention", "not available"]);
    let args = ["--model", model.to_str().unwrap(), "missing.png"];
    let (ok, _, stderr) = run(env!("CARGO_BIN_EXE_caption"), &args, "");
    assert_one_line_error(ok, &stderr, &["missing.png"]);
}
