//! The recurrent attention model's test error against its number of glimpses (like Mnih
//! et al. 2014, Tables 1–3, read along the glimpse count): per canvas kind and side, the
//! models that take glimpses as curves and the models that see the whole canvas as
//! horizontal baselines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use metrics::stats::mean_std;

use super::dir::{fitted_y_range, sanitize};
use crate::data::MetricRow;
use crate::draw::{Baseline, Series, line_plot_with_baselines};

/// The experiment whose `metrics.csv` gets the error-against-glimpses figures.
pub(super) const GLIMPSES_EXPERIMENT: &str = "glimpses";

/// The suffix of the test-error metrics, `<kind>_error` (kind e.g. `cluttered`).
const ERROR_SUFFIX: &str = "_error";

/// What one error-against-glimpses figure shows (see [`error_vs_glimpses`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorVsGlimpses {
    /// One per model that takes glimpses (`train_max_len > 0`), named by the model,
    /// sorted by name; points `(glimpses, mean, std)` sorted by glimpses.
    pub series: Vec<Series>,
    /// One per model that sees the whole canvas (`train_max_len == 0`), named by the
    /// model, sorted by name: its mean ± std over seeds.
    pub baselines: Vec<Baseline>,
}

/// The test error (metric `<kind>_error`) on `side × side` canvases (rows with
/// `len_lo == len_hi == side`) against the number of glimpses, mean ± std over seeds:
/// a [`Series`] per model with a glimpse count (`train_max_len > 0`; x = that count) and a
/// [`Baseline`] per model without (`train_max_len == 0`). `std` is the sample standard
/// deviation (divisor n − 1; 0 for one seed); non-finite values are skipped. Pass the rows
/// of one (experiment, task).
pub fn error_vs_glimpses(rows: &[MetricRow], kind: &str, side: usize) -> ErrorVsGlimpses {
    let metric = format!("{kind}{ERROR_SUFFIX}");
    let mut curves: BTreeMap<&str, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    let mut levels: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for r in rows {
        if r.metric != metric || r.len_lo != side || r.len_hi != side || !r.value.is_finite() {
            continue;
        }
        if r.train_max_len > 0 {
            curves
                .entry(&r.model)
                .or_default()
                .entry(r.train_max_len)
                .or_default()
                .push(r.value);
        } else {
            levels.entry(&r.model).or_default().push(r.value);
        }
    }
    ErrorVsGlimpses {
        series: curves
            .into_iter()
            .map(|(model, counts)| Series {
                name: model.to_string(),
                points: counts
                    .into_iter()
                    .map(|(glimpses, values)| {
                        let (mean, std) = mean_std(&values);
                        (glimpses as f64, mean, std)
                    })
                    .collect(),
            })
            .collect(),
        baselines: levels
            .into_iter()
            .map(|(model, values)| {
                let (mean, std) = mean_std(&values);
                Baseline {
                    name: model.to_string(),
                    mean,
                    std,
                }
            })
            .collect(),
    }
}

/// The (kind, side) pairs of `rows` worth a figure: a `<kind>_error` metric on
/// `side × side` canvases where some model was run with at least two glimpse counts.
fn figure_keys(rows: &[MetricRow]) -> BTreeSet<(&str, usize)> {
    let mut counts: BTreeMap<(&str, usize, &str), BTreeSet<usize>> = BTreeMap::new();
    for r in rows {
        let Some(kind) = r.metric.strip_suffix(ERROR_SUFFIX) else {
            continue;
        };
        if r.train_max_len > 0 && r.len_lo == r.len_hi && !r.is_overall() {
            counts
                .entry((kind, r.len_lo, &r.model))
                .or_default()
                .insert(r.train_max_len);
        }
    }
    counts
        .into_iter()
        .filter(|(_, glimpses)| glimpses.len() >= 2)
        .map(|((kind, side, _), _)| (kind, side))
        .collect()
}

/// For each (kind, side) of a `glimpses` experiment's rows (one task) where some model
/// has two or more glimpse counts, `error_vs_glimpses-<kind>-<side>.png` in `dir` (prefixed
/// `<experiment>-<task>-` when `prefixed`), titled `<experiment> / <task>: <kind>
/// <side>×<side>, error against glimpses`; returns the files written.
pub(super) fn draw_error_vs_glimpses(
    dir: &Path,
    (experiment, task): (&str, &str),
    rows: &[MetricRow],
    prefixed: bool,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (kind, side) in figure_keys(rows) {
        let shown = error_vs_glimpses(rows, kind, side);
        let prefix = if prefixed {
            format!("{}-{}-", sanitize(experiment), sanitize(task))
        } else {
            String::new()
        };
        let out = dir.join(format!(
            "{prefix}error_vs_glimpses-{}-{side}.png",
            sanitize(kind)
        ));
        // The baselines count in the y range like one-point series.
        let mut ranged = shown.series.clone();
        ranged.extend(shown.baselines.iter().map(|b| Series {
            name: b.name.clone(),
            points: vec![(0.0, b.mean, b.std)],
        }));
        line_plot_with_baselines(
            &out,
            &format!("{experiment} / {task}: {kind} {side}\u{d7}{side}, error against glimpses"),
            "glimpses",
            "test error (%)",
            fitted_y_range(&ranged),
            &shown.series,
            &shown.baselines,
        )
        .with_context(|| format!("drawing {}", out.display()))?;
        written.push(out);
    }
    Ok(written)
}
