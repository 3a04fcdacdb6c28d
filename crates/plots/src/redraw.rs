//! Aggregation over seeds and redrawing whole results folders from their CSVs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use metrics::stats::mean_std;

use crate::data::{
    Alignment, AlignmentRow, CostRow, CurveRow, DocAttention, DocAttentionRow, MetricRow,
    read_alignment_csv, read_cost_csv, read_curve_csv, read_doc_attention_csv, read_metrics_csv,
};
use crate::draw::{
    Series, attention_heatmap, attention_heatmap_grid, line_plot_with_bands, token_shading,
};

/// Long-format metrics of a results folder (see [`METRICS_HEADER`](crate::METRICS_HEADER)).
pub const METRICS_FILE: &str = "metrics.csv";
/// Attention weights of one example sentence (see [`ALIGNMENT_HEADER`](crate::ALIGNMENT_HEADER)).
pub const ALIGNMENT_FILE: &str = "alignment.csv";
/// Training-loss curves (see [`CURVE_HEADER`](crate::CURVE_HEADER)).
pub const CURVE_FILE: &str = "learning_curve.csv";
/// Measured cost against sequence length (see [`COST_HEADER`](crate::COST_HEADER)).
pub const COST_FILE: &str = "cost.csv";
/// Attention over the document of one example question (see
/// [`DOC_ATTENTION_HEADER`](crate::DOC_ATTENTION_HEADER)).
pub const DOC_ATTENTION_FILE: &str = "document_attention.csv";
/// Wall-clock times per trained model (see [`TIMINGS_HEADER`](crate::TIMINGS_HEADER)).
pub const TIMINGS_FILE: &str = "timings.csv";

/// Every CSV a results folder may hold; a folder with any of them is redrawn.
const RESULT_FILES: [&str; 5] = [
    METRICS_FILE,
    ALIGNMENT_FILE,
    CURVE_FILE,
    COST_FILE,
    DOC_ATTENTION_FILE,
];

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

/// Groups alignment rows by (model, train_max_len, seed) (sorted by that key) and
/// builds one matrix per group; positions are sorted and need not be contiguous.
pub fn alignment_matrices(rows: &[AlignmentRow]) -> Vec<Alignment> {
    let mut groups: BTreeMap<(String, usize, u64), Vec<&AlignmentRow>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.model.clone(), r.train_max_len, r.seed))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((model, train_max_len, seed), cells)| {
            let mut src: BTreeMap<usize, &str> = BTreeMap::new();
            let mut tgt: BTreeMap<usize, &str> = BTreeMap::new();
            for c in &cells {
                src.entry(c.src_pos).or_insert(&c.src_token);
                tgt.entry(c.tgt_pos).or_insert(&c.tgt_token);
            }
            let src_index: BTreeMap<usize, usize> =
                src.keys().enumerate().map(|(i, &p)| (p, i)).collect();
            let tgt_index: BTreeMap<usize, usize> =
                tgt.keys().enumerate().map(|(i, &p)| (p, i)).collect();
            let mut weights = vec![vec![0.0f32; src.len()]; tgt.len()];
            for c in &cells {
                weights[tgt_index[&c.tgt_pos]][src_index[&c.src_pos]] = c.weight as f32;
            }
            Alignment {
                model,
                train_max_len,
                seed,
                src_tokens: src.values().map(|s| s.to_string()).collect(),
                tgt_tokens: tgt.values().map(|s| s.to_string()).collect(),
                weights,
            }
        })
        .collect()
}

/// Groups document-attention rows by (model, seed) (sorted by that key), each with
/// its tokens and weights in position order; positions need not be contiguous, and a
/// position given twice keeps its last row.
pub fn doc_attention_groups(rows: &[DocAttentionRow]) -> Vec<DocAttention> {
    type Positions<'a> = BTreeMap<usize, (&'a str, f64)>;
    let mut groups: BTreeMap<(&str, u64), Positions<'_>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.model.as_str(), r.seed))
            .or_default()
            .insert(r.position, (r.token.as_str(), r.weight));
    }
    groups
        .into_iter()
        .map(|((model, seed), positions)| DocAttention {
            model: model.to_string(),
            seed,
            tokens: positions.values().map(|(t, _)| t.to_string()).collect(),
            weights: positions.values().map(|&(_, w)| w as f32).collect(),
        })
        .collect()
}

/// Keeps a file-name component to `[A-Za-z0-9._-]`.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What the length buckets measure: the reader's documents, every other experiment's
/// source sentences.
fn length_label(experiment: &str) -> &'static str {
    match experiment {
        "reader" => "document length (tokens)",
        _ => "source length",
    }
}

fn y_label_for(metric: &str) -> String {
    match metric {
        "bleu" => "BLEU".to_string(),
        m => m.replace('_', " "),
    }
}

/// 0..100 when every mean ± std fits in it (the usual case), otherwise a padded
/// range (starting at 0 for non-negative data).
fn y_range_for(series: &[Series]) -> std::ops::Range<f64> {
    let (lo, hi) = series.iter().flat_map(|s| s.points.iter()).fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(lo, hi), &(_, m, s)| (lo.min(m - s), hi.max(m + s)),
    );
    if !(lo.is_finite() && hi.is_finite()) || (lo >= 0.0 && hi <= 100.0) {
        return 0.0..100.0;
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    let start = if lo >= 0.0 { 0.0 } else { lo - pad };
    start..(hi + pad)
}

/// A y range fitted to the data: from 0 (or a little below the lowest mean − std
/// when that is negative) to 5% above the highest mean + std; `0..1` without data.
fn fitted_y_range(series: &[Series]) -> std::ops::Range<f64> {
    let (lo, hi) = series.iter().flat_map(|s| s.points.iter()).fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(lo, hi), &(_, m, s)| {
            if m.is_finite() && s.is_finite() {
                (lo.min(m - s), hi.max(m + s))
            } else {
                (lo, hi)
            }
        },
    );
    if !(lo.is_finite() && hi.is_finite()) {
        return 0.0..1.0;
    }
    let span = hi - lo.min(0.0);
    let pad = if span > 0.0 { span * 0.05 } else { 1.0 };
    let start = if lo >= 0.0 { 0.0 } else { lo - pad };
    if start == 0.0 && hi <= 0.0 {
        return 0.0..1.0; // all zero
    }
    start..(hi + pad)
}

/// The folder's own name for figure titles (resolved for paths like `.`; the path
/// itself when it has no name).
fn dir_label(dir: &Path) -> String {
    let named = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    named(dir)
        .or_else(|| dir.canonicalize().ok().as_deref().and_then(named))
        .unwrap_or_else(|| dir.display().to_string())
}

/// Redraws every figure of one results folder (holding any of `metrics.csv`,
/// `alignment.csv`, `learning_curve.csv`, `cost.csv` and `document_attention.csv`)
/// from the CSVs alone, and returns the files written:
///
/// * for `metrics.csv`: `summary.md` (see [`summary_markdown`]), and for each metric
///   `<metric>.png`, mean ± std over seeds against the bucket midpoint ("source length"), one series per (model, train_max_len),
///   titled `<experiment> / <task>: <metric>` (see [`aggregate`]). If the file holds
///   several (experiment, task) pairs, each gets `<experiment>-<task>-<metric>.png`.
///   Metrics with only "all lengths" rows get no figure.
/// * for `alignment.csv`: `alignment.png` when it holds one (model, train_max_len,
///   seed) group, else `alignment-<model>-<train_max_len>-seed<seed>.png` per group
///   and `alignment-grid.png` with all of them side by side ([`attention_heatmap_grid`]).
/// * for `learning_curve.csv`: `learning_curve.png`, training loss against step,
///   mean ± std over seeds, one series per (model, train_max_len) (see
///   [`curve_series`]), titled `<folder name>: training loss`.
/// * for each measure in `cost.csv`: `cost-<measure>.png`, median milliseconds
///   against sequence length, one line per model (see [`cost_series`]).
/// * for each (model, seed) group of `document_attention.csv`:
///   `document_attention-<model>-seed<seed>.png`, the document with each token shaded
///   by its weight ([`token_shading`]), titled
///   `<model> (seed <seed>): attention over the document`.
pub fn redraw_results_dir(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let metrics_path = dir.join(METRICS_FILE);
    let alignment_path = dir.join(ALIGNMENT_FILE);
    let curve_path = dir.join(CURVE_FILE);
    let cost_path = dir.join(COST_FILE);
    let doc_path = dir.join(DOC_ATTENTION_FILE);
    if !RESULT_FILES.iter().any(|f| dir.join(f).is_file()) {
        bail!(
            "{}: none of {} in this folder",
            dir.display(),
            RESULT_FILES.join(", ")
        );
    }
    let mut written = Vec::new();

    if metrics_path.is_file() {
        let rows = read_metrics_csv(&metrics_path)?;
        let mut by_task: BTreeMap<(&str, &str), Vec<MetricRow>> = BTreeMap::new();
        for r in &rows {
            by_task
                .entry((r.experiment.as_str(), r.task.as_str()))
                .or_default()
                .push(r.clone());
        }
        let summary = dir.join("summary.md");
        crate::write_atomic(&summary, summary_markdown(&rows).as_bytes())?;
        written.push(summary);
        let several = by_task.len() > 1;
        for ((experiment, task), group) in &by_task {
            let mut metrics: Vec<&str> = group.iter().map(|r| r.metric.as_str()).collect();
            metrics.sort_unstable();
            metrics.dedup();
            for metric in metrics {
                let series = aggregate(group, metric);
                if series.iter().all(|s| s.points.is_empty()) {
                    continue;
                }
                let name = if several {
                    format!(
                        "{}-{}-{}.png",
                        sanitize(experiment),
                        sanitize(task),
                        sanitize(metric)
                    )
                } else {
                    format!("{}.png", sanitize(metric))
                };
                let out = dir.join(name);
                line_plot_with_bands(
                    &out,
                    &format!("{experiment} / {task}: {metric}"),
                    length_label(experiment),
                    &y_label_for(metric),
                    y_range_for(&series),
                    &series,
                )
                .with_context(|| format!("drawing {}", out.display()))?;
                written.push(out);
            }
        }
    }

    if alignment_path.is_file() {
        let rows = read_alignment_csv(&alignment_path)?;
        let matrices = alignment_matrices(&rows);
        let several = matrices.len() > 1;
        for a in &matrices {
            let out = if several {
                dir.join(format!(
                    "alignment-{}-{}-seed{}.png",
                    sanitize(&a.model),
                    a.train_max_len,
                    a.seed
                ))
            } else {
                dir.join("alignment.png")
            };
            let title = format!(
                "{}-{} (seed {}): alignment",
                a.model, a.train_max_len, a.seed
            );
            attention_heatmap(&out, &title, &a.src_tokens, &a.tgt_tokens, &a.weights)
                .with_context(|| format!("drawing {}", out.display()))?;
            written.push(out);
        }
        if several {
            let out = dir.join("alignment-grid.png");
            let title = format!("{}: alignment", dir_label(dir));
            attention_heatmap_grid(&out, &title, &matrices)
                .with_context(|| format!("drawing {}", out.display()))?;
            written.push(out);
        }
    }

    if curve_path.is_file() {
        let series = curve_series(&read_curve_csv(&curve_path)?);
        let out = dir.join("learning_curve.png");
        line_plot_with_bands(
            &out,
            &format!("{}: training loss", dir_label(dir)),
            "step",
            "training loss",
            fitted_y_range(&series),
            &series,
        )
        .with_context(|| format!("drawing {}", out.display()))?;
        written.push(out);
    }

    if cost_path.is_file() {
        let rows = read_cost_csv(&cost_path)?;
        let mut measures: Vec<&str> = rows.iter().map(|r| r.measure.as_str()).collect();
        measures.sort_unstable();
        measures.dedup();
        for measure in measures {
            let series = cost_series(&rows, measure);
            let out = dir.join(format!("cost-{}.png", sanitize(measure)));
            line_plot_with_bands(
                &out,
                &format!("cost: {measure} (ms, median)"),
                "sequence length",
                &format!("ms per {}", measure.replace('_', " ")),
                fitted_y_range(&series),
                &series,
            )
            .with_context(|| format!("drawing {}", out.display()))?;
            written.push(out);
        }
    }

    if doc_path.is_file() {
        for d in doc_attention_groups(&read_doc_attention_csv(&doc_path)?) {
            let out = dir.join(format!(
                "document_attention-{}-seed{}.png",
                sanitize(&d.model),
                d.seed
            ));
            let title = format!("{} (seed {}): attention over the document", d.model, d.seed);
            token_shading(&out, &title, &d.tokens, &d.weights)
                .with_context(|| format!("drawing {}", out.display()))?;
            written.push(out);
        }
    }
    Ok(written)
}

/// Walks `root` recursively (sorted, not following symbolic links, skipping hidden
/// folders) and calls [`redraw_results_dir`] on every folder that contains any of
/// `metrics.csv`, `alignment.csv`, `learning_curve.csv`, `cost.csv` and
/// `document_attention.csv`; returns all
/// files written. Stops at the first error.
pub fn redraw_all(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !root.is_dir() {
        bail!("{}: not a folder", root.display());
    }
    let mut dirs = Vec::new();
    collect_result_dirs(root, &mut dirs)?;
    let mut written = Vec::new();
    for d in dirs {
        written.extend(redraw_results_dir(&d)?);
    }
    Ok(written)
}

fn collect_result_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if RESULT_FILES.iter().any(|f| dir.join(f).is_file()) {
        out.push(dir.to_path_buf());
    }
    let mut subdirs = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("listing folder {}", dir.display()))?
    {
        let entry = entry.with_context(|| format!("listing folder {}", dir.display()))?;
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if is_dir && !hidden {
            subdirs.push(entry.path());
        }
    }
    subdirs.sort();
    for d in subdirs {
        collect_result_dirs(&d, out)?;
    }
    Ok(())
}
