//! CSV rows to [`Series`]: metrics per length bucket, training loss per step and cost
//! per sequence length, each mean ± std over seeds, named by [`series_name`].

use std::collections::BTreeMap;

use metrics::stats::mean_std;

use crate::data::{CostRow, CurveRow, MetricRow};
use crate::draw::Series;

/// Name of the series (and summary row) of one (model, train_max_len): `<model>`
/// when `train_max_len` is 0 (experiments without a training length write 0),
/// else `<model>-<train_max_len>`.
pub fn series_name(model: &str, train_max_len: usize) -> String {
    if train_max_len == 0 {
        model.to_string()
    } else {
        format!("{model}-{train_max_len}")
    }
}

/// Mean ± std over seeds of one metric: one [`Series`] per (model, train_max_len),
/// named like `RNNsearch-20` (just the model when train_max_len is 0; see
/// [`series_name`]), sorted by model name then train_max_len. Each point is
/// `((len_lo + len_hi) / 2, mean, std)` over the rows with the same
/// (model, train_max_len, len_lo, len_hi, metric); points are sorted by x.
///
/// * "All lengths" rows (`len_lo == len_hi == 0`) and non-finite values are skipped.
/// * A bucket where some seed is missing still gets the mean of the rows present.
/// * `std` is the sample standard deviation (divisor n − 1); 0 for a single row.
///
/// Rows of different experiments or tasks are not told apart: pass rows of one
/// (experiment, task) at a time.
pub fn aggregate(rows: &[MetricRow], metric: &str) -> Vec<Series> {
    type Buckets = BTreeMap<(usize, usize), Vec<f64>>;
    let mut groups: BTreeMap<(String, usize), Buckets> = BTreeMap::new();
    for r in rows {
        if r.metric != metric || r.is_overall() || !r.value.is_finite() {
            continue;
        }
        groups
            .entry((r.model.clone(), r.train_max_len))
            .or_default()
            .entry((r.len_lo, r.len_hi))
            .or_default()
            .push(r.value);
    }
    groups
        .into_iter()
        .map(|((model, tml), buckets)| {
            let mut points: Vec<(f64, f64, f64)> = buckets
                .into_iter()
                .map(|((lo, hi), vals)| {
                    let (mean, std) = mean_std(&vals);
                    ((lo + hi) as f64 / 2.0, mean, std)
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                name: series_name(&model, tml),
                points,
            }
        })
        .collect()
}

/// Training loss against step, mean ± std over seeds: one [`Series`] per
/// (model, train_max_len), named like `RNNsearch-20` (just the model when
/// train_max_len is 0; see [`series_name`]), sorted by model name then
/// train_max_len. Each point is `(step, mean, std)` over the rows with the same
/// (model, train_max_len, step); points are sorted by step.
///
/// * Non-finite losses are skipped (a diverged seed does not blank the curve).
/// * A step logged by only some seeds gets the mean of the rows present.
/// * `std` is the sample standard deviation (divisor n − 1); 0 for a single row.
pub fn curve_series(rows: &[CurveRow]) -> Vec<Series> {
    let mut groups: BTreeMap<(String, usize), BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.loss.is_finite()) {
        groups
            .entry((r.model.clone(), r.train_max_len))
            .or_default()
            .entry(r.step)
            .or_default()
            .push(r.loss);
    }
    groups
        .into_iter()
        .map(|((model, tml), steps)| Series {
            name: series_name(&model, tml),
            points: steps
                .into_iter()
                .map(|(step, vals)| {
                    let (mean, std) = mean_std(&vals);
                    (step as f64, mean, std)
                })
                .collect(),
        })
        .collect()
}

/// Milliseconds against sequence length for one measure: one [`Series`] per model
/// (named by the model, sorted by name), each point `(seq_len, median_ms, 0)`, sorted
/// by length. Several rows for the same (model, seq_len, measure) are averaged;
/// non-finite times are skipped. The std is always 0 (no band is drawn).
pub fn cost_series(rows: &[CostRow], measure: &str) -> Vec<Series> {
    let mut groups: BTreeMap<&str, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for r in rows {
        if r.measure != measure || !r.median_ms.is_finite() {
            continue;
        }
        groups
            .entry(r.model.as_str())
            .or_default()
            .entry(r.seq_len)
            .or_default()
            .push(r.median_ms);
    }
    groups
        .into_iter()
        .map(|(model, lens)| Series {
            name: model.to_string(),
            points: lens
                .into_iter()
                .map(|(len, vals)| (len as f64, mean_std(&vals).0, 0.0))
                .collect(),
        })
        .collect()
}
