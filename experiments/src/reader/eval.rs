//! Scoring readers: predicted entity classes, and accuracy rows (validation and test
//! overall, test per document-length bucket) for `metrics.csv`.

use models::readers::Reader;
use plots::MetricRow;

use super::{Config, EncodedQuestion, ReaderData, ReaderExperiment, ReaderTask, make_reader_batch};
use crate::experiment::{Experiment, Task};

/// A model's (or a baseline's) predicted classes on the validation and test questions.
pub struct Predictions {
    /// One class per validation question.
    pub valid: Vec<usize>,
    /// One class per test question.
    pub test: Vec<usize>,
}

/// Predicted entity class per question.
pub fn predict(model: &Reader, questions: &[EncodedQuestion], n_entities: usize) -> Vec<usize> {
    let device = model.device();
    questions
        .chunks(64)
        .flat_map(|chunk| {
            let refs: Vec<&EncodedQuestion> = chunk.iter().collect();
            let (batch, _) = make_reader_batch(&refs, n_entities, &device);
            let best = model.forward(&batch).logits.argmax(1).into_data();
            best.iter::<i64>().map(|k| k as usize).collect::<Vec<_>>()
        })
        .collect()
}

/// Accuracy rows for one model: validation and test overall, test per document-length bucket.
pub fn accuracy_rows(
    config: &Config,
    task: &ReaderTask,
    data: &ReaderData,
    model: &str,
    seed: u64,
    predictions: &Predictions,
) -> Vec<MetricRow> {
    let gold = |qs: &[EncodedQuestion]| qs.iter().map(|q| q.answer).collect::<Vec<_>>();
    let (valid_gold, test_gold) = (gold(&data.valid), gold(&data.test));
    let valid = (predictions.valid.as_slice(), valid_gold.as_slice());
    let test = (predictions.test.as_slice(), test_gold.as_slice());
    let test_doc_lens: Vec<usize> = data.test.iter().map(|q| q.doc.len()).collect();
    let accuracy = |pred: &[usize], gold: &[usize], idx: &[usize]| {
        100.0 * idx.iter().filter(|&&i| pred[i] == gold[i]).count() as f64 / idx.len().max(1) as f64
    };
    let row = |metric: &str, lo, hi, n, value| MetricRow {
        experiment: ReaderExperiment::NAME.into(),
        task: task.name(),
        model: model.into(),
        train_max_len: 0,
        seed,
        len_lo: lo,
        len_hi: hi,
        n,
        metric: metric.into(),
        value,
    };
    let all_valid: Vec<usize> = (0..valid.1.len()).collect();
    let all_test: Vec<usize> = (0..test.1.len()).collect();
    let mut rows = vec![
        row(
            "valid_accuracy",
            0,
            0,
            all_valid.len(),
            accuracy(valid.0, valid.1, &all_valid),
        ),
        row(
            "test_accuracy",
            0,
            0,
            all_test.len(),
            accuracy(test.0, test.1, &all_test),
        ),
    ];
    for ((lo, hi), idx) in
        metrics::buckets::group_by_bucket(&test_doc_lens, config.doc_bucket_width)
    {
        rows.push(row(
            "test_accuracy",
            lo,
            hi,
            idx.len(),
            accuracy(test.0, test.1, &idx),
        ));
    }
    rows
}
