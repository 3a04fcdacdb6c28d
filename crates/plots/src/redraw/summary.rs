//! The `summary.md` of a results folder: Markdown tables of every metric, mean ± std
//! over seeds per length bucket; and the axis labels the figures share with them.

use std::collections::BTreeMap;

use metrics::stats::mean_std;

use super::aggregate::series_name;
use crate::data::MetricRow;

/// A Markdown summary of a `metrics.csv`: for each metric, one table whose rows are
/// (model, train_max_len) (named like the series, see [`series_name`]) and whose
/// columns are that metric's length buckets and "all", each cell `mean ± std` over
/// seeds, with the number of test sentences per bucket in the header. A metric with
/// only "all lengths" rows (e.g. `valid_accuracy`, `test_accuracy`) gets a table with
/// just the "all" column. This is what READMEs quote, so no number there is typed by hand.
pub fn summary_markdown(rows: &[MetricRow]) -> String {
    let mut out = String::new();
    let mut metrics: Vec<&str> = rows.iter().map(|r| r.metric.as_str()).collect();
    metrics.sort_unstable();
    metrics.dedup();
    for metric in metrics {
        // Buckets in length order, "all lengths" (0, 0) last; n is a property of the
        // evaluation set, which may differ between metrics (validation vs test).
        let mut buckets: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        type Buckets = BTreeMap<(usize, usize), Vec<f64>>;
        let mut cells: BTreeMap<(String, usize), Buckets> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.metric == metric) {
            buckets.insert((r.len_lo, r.len_hi), r.n);
            cells
                .entry((r.model.clone(), r.train_max_len))
                .or_default()
                .entry((r.len_lo, r.len_hi))
                .or_default()
                .push(r.value);
        }
        let mut columns: Vec<(usize, usize)> =
            buckets.keys().copied().filter(|&b| b != (0, 0)).collect();
        let bucketed = !columns.is_empty();
        if buckets.contains_key(&(0, 0)) {
            columns.push((0, 0));
        }
        let label = |(lo, hi): (usize, usize)| match (lo, hi) {
            (0, 0) => format!("all (n={})", buckets[&(0, 0)]),
            _ => format!("{lo}-{hi} (n={})", buckets[&(lo, hi)]),
        };
        let seeds = cells
            .values()
            .flat_map(|b| b.values())
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        out.push_str(&format!(
            "### {} (mean ± std over {seeds} seeds{})\n\n| model |",
            y_label_for(metric),
            if bucketed {
                let experiment = rows.first().map_or("", |r| r.experiment.as_str());
                format!("; {} buckets", length_label(experiment))
            } else {
                String::new()
            }
        ));
        for &c in &columns {
            out.push_str(&format!(" {} |", label(c)));
        }
        out.push_str("\n|---|");
        out.push_str(&"---:|".repeat(columns.len()));
        out.push('\n');
        for ((model, k), by_bucket) in &cells {
            out.push_str(&format!("| {} |", series_name(model, *k)));
            for c in &columns {
                match by_bucket.get(c) {
                    Some(values) => {
                        let (mean, std) = mean_std(values);
                        out.push_str(&format!(" {mean:.1} ± {std:.1} |"));
                    }
                    None => out.push_str(" |"),
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// What the length buckets measure: the reader's documents, the scenes of the captioner and
/// the text-to-image generators, the glimpse models' canvases, every other experiment's
/// source sentences.
pub(super) fn length_label(experiment: &str) -> &'static str {
    match experiment {
        "reader" => "document length (tokens)",
        "captioning" | "text-to-image" => "objects in the scene",
        "glimpses" => "canvas side (pixels)",
        _ => "source length",
    }
}

pub(super) fn y_label_for(metric: &str) -> String {
    match metric {
        "bleu" => "BLEU".to_string(),
        m => m.replace('_', " "),
    }
}
