//! The five CSV formats: long-format metrics, attention alignments, learning
//! curves, measured cost against sequence length and attention over a document.
//!
//! Fields never contain commas (tokens are written with "," replaced by
//! `<comma>`), so the files are parsed by hand: split on ',' with an exact
//! field count.

use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, anyhow, bail};

use crate::write_atomic;

/// Header of every `metrics.csv`.
pub const METRICS_HEADER: &str =
    "experiment,task,model,train_max_len,seed,len_lo,len_hi,n,metric,value";

/// Header of every `alignment.csv`.
pub const ALIGNMENT_HEADER: &str =
    "model,train_max_len,seed,tgt_pos,tgt_token,src_pos,src_token,weight";

/// Header of every `learning_curve.csv`.
pub const CURVE_HEADER: &str = "model,train_max_len,seed,step,loss";

/// Header of every `cost.csv`.
pub const COST_HEADER: &str = "model,seq_len,measure,median_ms,repeats";

/// Header of every `document_attention.csv`.
pub const DOC_ATTENTION_HEADER: &str = "model,seed,position,token,weight";

/// How a literal comma inside a token is stored in `alignment.csv` and
/// `document_attention.csv`.
const COMMA_ESCAPE: &str = "<comma>";

/// One long-format row.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    pub experiment: String,
    pub task: String,
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    /// Inclusive source-length bucket; `len_lo == len_hi == 0` means "all lengths".
    pub len_lo: usize,
    pub len_hi: usize,
    /// Number of test sentences in the bucket.
    pub n: usize,
    pub metric: String,
    /// On a 0–100 scale.
    pub value: f64,
}

impl MetricRow {
    /// The row as one CSV line (no newline), `value` formatted with `{:.4}`.
    pub fn to_csv_line(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{},{:.4}",
            self.experiment,
            self.task,
            self.model,
            self.train_max_len,
            self.seed,
            self.len_lo,
            self.len_hi,
            self.n,
            self.metric,
            self.value
        )
    }

    /// True for the "all lengths" rows (`len_lo == 0 && len_hi == 0`).
    pub fn is_overall(&self) -> bool {
        self.len_lo == 0 && self.len_hi == 0
    }
}

/// One cell of an attention matrix of one example sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct AlignmentRow {
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    pub tgt_pos: usize,
    /// The token as text (a "," here is stored as `<comma>` in the file).
    pub tgt_token: String,
    pub src_pos: usize,
    pub src_token: String,
    pub weight: f64,
}

/// The attention matrix of one (model, train_max_len, seed) group of `alignment.csv`
/// (built by [`alignment_matrices`](crate::alignment_matrices)).
#[derive(Clone, Debug, PartialEq)]
pub struct Alignment {
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    /// Source tokens in position order.
    pub src_tokens: Vec<String>,
    /// Target tokens in position order.
    pub tgt_tokens: Vec<String>,
    /// `[tgt][src]`; cells missing from the file are 0.
    pub weights: Vec<Vec<f32>>,
}

impl AlignmentRow {
    /// The row as one CSV line (no newline); commas in tokens become `<comma>`,
    /// line breaks become spaces; `weight` formatted with `{:.6}`.
    pub fn to_csv_line(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{:.6}",
            self.model,
            self.train_max_len,
            self.seed,
            self.tgt_pos,
            escape_token(&self.tgt_token),
            self.src_pos,
            escape_token(&self.src_token),
            self.weight
        )
    }
}

/// One point of a training-loss curve (`learning_curve.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct CurveRow {
    pub model: String,
    pub train_max_len: usize,
    pub seed: u64,
    /// Training step (number of updates done) at which the row was logged.
    pub step: usize,
    /// Training loss averaged over the steps since the previous row.
    pub loss: f64,
}

impl CurveRow {
    /// The row as one CSV line (no newline), `loss` formatted with `{:.6}`.
    pub fn to_csv_line(&self) -> String {
        format!(
            "{},{},{},{},{:.6}",
            self.model, self.train_max_len, self.seed, self.step, self.loss
        )
    }
}

/// One timing of `cost.csv`: the median wall-clock time of one measure at one length.
#[derive(Clone, Debug, PartialEq)]
pub struct CostRow {
    pub model: String,
    /// Sequence length the timing was taken at.
    pub seq_len: usize,
    /// What was timed, e.g. `train_step` or `decode_sentence`.
    pub measure: String,
    /// Median wall-clock milliseconds over `repeats` timings.
    pub median_ms: f64,
    pub repeats: usize,
}

impl CostRow {
    /// The row as one CSV line (no newline), `median_ms` formatted with `{:.3}`.
    pub fn to_csv_line(&self) -> String {
        format!(
            "{},{},{},{:.3},{}",
            self.model, self.seq_len, self.measure, self.median_ms, self.repeats
        )
    }
}

/// The attention weight on one document token of one example question
/// (`document_attention.csv`; the same example for every model).
#[derive(Clone, Debug, PartialEq)]
pub struct DocAttentionRow {
    pub model: String,
    pub seed: u64,
    /// Position of the token in the document (0-based in practice; only the order matters).
    pub position: usize,
    /// The token as text (a "," here is stored as `<comma>` in the file).
    pub token: String,
    pub weight: f64,
}

impl DocAttentionRow {
    /// The row as one CSV line (no newline); commas in the token become `<comma>`,
    /// line breaks become spaces; `weight` formatted with `{:.6}`.
    pub fn to_csv_line(&self) -> String {
        format!(
            "{},{},{},{},{:.6}",
            self.model,
            self.seed,
            self.position,
            escape_token(&self.token),
            self.weight
        )
    }
}

/// The attention over the document of one (model, seed) group of
/// `document_attention.csv` (built by [`doc_attention_groups`](crate::doc_attention_groups)).
#[derive(Clone, Debug, PartialEq)]
pub struct DocAttention {
    pub model: String,
    pub seed: u64,
    /// Document tokens in position order.
    pub tokens: Vec<String>,
    /// One weight per token.
    pub weights: Vec<f32>,
}

fn escape_token(token: &str) -> String {
    token.replace(',', COMMA_ESCAPE).replace(['\n', '\r'], " ")
}

fn unescape_token(token: &str) -> String {
    token.replace(COMMA_ESCAPE, ",")
}

/// Splits a file into (1-based line number, line) pairs after checking the header.
/// Blank lines are skipped; a UTF-8 BOM and `\r` line endings are tolerated.
fn data_lines<'a>(
    path: &Path,
    text: &'a str,
    header: &str,
) -> anyhow::Result<Vec<(usize, &'a str)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, first)) if first.trim() == header => {}
        Some((_, first)) if first.trim().is_empty() && text.trim().is_empty() => {
            bail!(
                "{}: empty file (expected header `{header}`)",
                path.display()
            )
        }
        Some((_, first)) => bail!(
            "{}:1: bad header `{first}` (expected `{header}`)",
            path.display()
        ),
        None => bail!("{}: empty file", path.display()),
    }
    Ok(lines.filter(|(_, l)| !l.trim().is_empty()).collect())
}

/// Splits a line into exactly `names.len()` fields.
fn split_fields<'a>(
    path: &Path,
    line_no: usize,
    line: &'a str,
    names: &[&str],
) -> anyhow::Result<Vec<&'a str>> {
    let fields: Vec<&str> = line.split(',').collect();
    if fields.len() != names.len() {
        bail!(
            "{}:{line_no}: expected {} comma-separated fields ({}), found {}: `{line}`",
            path.display(),
            names.len(),
            names.join(","),
            fields.len()
        );
    }
    Ok(fields)
}

fn parse_field<T>(path: &Path, line_no: usize, name: &str, raw: &str) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    raw.trim().parse::<T>().map_err(|e| {
        anyhow!(
            "{}:{line_no}: bad field `{name}` = `{raw}`: {e}",
            path.display()
        )
    })
}

fn text_field(path: &Path, line_no: usize, name: &str, raw: &str) -> anyhow::Result<String> {
    let s = raw.trim();
    if s.is_empty() {
        bail!("{}:{line_no}: empty field `{name}`", path.display());
    }
    Ok(s.to_string())
}

/// Parses a `metrics.csv`; errors name the file, the 1-based line and the bad field.
pub fn read_metrics_csv(path: &Path) -> anyhow::Result<Vec<MetricRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let names: Vec<&str> = METRICS_HEADER.split(',').collect();
    let mut rows = Vec::new();
    for (no, line) in data_lines(path, &text, METRICS_HEADER)? {
        let f = split_fields(path, no, line, &names)?;
        rows.push(MetricRow {
            experiment: text_field(path, no, names[0], f[0])?,
            task: text_field(path, no, names[1], f[1])?,
            model: text_field(path, no, names[2], f[2])?,
            train_max_len: parse_field(path, no, names[3], f[3])?,
            seed: parse_field(path, no, names[4], f[4])?,
            len_lo: parse_field(path, no, names[5], f[5])?,
            len_hi: parse_field(path, no, names[6], f[6])?,
            n: parse_field(path, no, names[7], f[7])?,
            metric: text_field(path, no, names[8], f[8])?,
            value: parse_field(path, no, names[9], f[9])?,
        });
    }
    Ok(rows)
}

fn check_plain(field: &str, name: &str, row: usize) -> anyhow::Result<()> {
    if field.is_empty() || field.contains([',', '\n', '\r']) {
        bail!("row {row}: field `{name}` = {field:?} is empty or contains a comma or line break");
    }
    Ok(())
}

/// Writes a `metrics.csv` (header + one line per row) atomically (tmp + rename).
/// Text fields must be non-empty and free of commas and line breaks.
pub fn write_metrics_csv(path: &Path, rows: &[MetricRow]) -> anyhow::Result<()> {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(METRICS_HEADER);
    out.push('\n');
    for (i, r) in rows.iter().enumerate() {
        check_plain(&r.experiment, "experiment", i + 1)?;
        check_plain(&r.task, "task", i + 1)?;
        check_plain(&r.model, "model", i + 1)?;
        check_plain(&r.metric, "metric", i + 1)?;
        out.push_str(&r.to_csv_line());
        out.push('\n');
    }
    write_atomic(path, out.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Parses an `alignment.csv`; `<comma>` in tokens is turned back into ",".
/// Errors name the file, the 1-based line and the bad field.
pub fn read_alignment_csv(path: &Path) -> anyhow::Result<Vec<AlignmentRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let names: Vec<&str> = ALIGNMENT_HEADER.split(',').collect();
    let mut rows = Vec::new();
    for (no, line) in data_lines(path, &text, ALIGNMENT_HEADER)? {
        let f = split_fields(path, no, line, &names)?;
        rows.push(AlignmentRow {
            model: text_field(path, no, names[0], f[0])?,
            train_max_len: parse_field(path, no, names[1], f[1])?,
            seed: parse_field(path, no, names[2], f[2])?,
            tgt_pos: parse_field(path, no, names[3], f[3])?,
            // Tokens are taken verbatim (no trim): a space could be a token.
            tgt_token: unescape_token(f[4]),
            src_pos: parse_field(path, no, names[5], f[5])?,
            src_token: unescape_token(f[6]),
            weight: parse_field(path, no, names[7], f[7])?,
        });
    }
    Ok(rows)
}

/// Writes an `alignment.csv` atomically; commas in tokens are stored as `<comma>`.
pub fn write_alignment_csv(path: &Path, rows: &[AlignmentRow]) -> anyhow::Result<()> {
    let mut out = String::with_capacity(48 * (rows.len() + 1));
    out.push_str(ALIGNMENT_HEADER);
    out.push('\n');
    for (i, r) in rows.iter().enumerate() {
        check_plain(&r.model, "model", i + 1)?;
        let _ = writeln!(out, "{}", r.to_csv_line());
    }
    write_atomic(path, out.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Parses a `learning_curve.csv`; errors name the file, the 1-based line and the bad field.
pub fn read_curve_csv(path: &Path) -> anyhow::Result<Vec<CurveRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let names: Vec<&str> = CURVE_HEADER.split(',').collect();
    let mut rows = Vec::new();
    for (no, line) in data_lines(path, &text, CURVE_HEADER)? {
        let f = split_fields(path, no, line, &names)?;
        rows.push(CurveRow {
            model: text_field(path, no, names[0], f[0])?,
            train_max_len: parse_field(path, no, names[1], f[1])?,
            seed: parse_field(path, no, names[2], f[2])?,
            step: parse_field(path, no, names[3], f[3])?,
            loss: parse_field(path, no, names[4], f[4])?,
        });
    }
    Ok(rows)
}

/// Writes a `learning_curve.csv` (header + one line per row) atomically (tmp + rename).
/// `model` must be non-empty and free of commas and line breaks.
pub fn write_curve_csv(path: &Path, rows: &[CurveRow]) -> anyhow::Result<()> {
    let mut out = String::with_capacity(40 * (rows.len() + 1));
    out.push_str(CURVE_HEADER);
    out.push('\n');
    for (i, r) in rows.iter().enumerate() {
        check_plain(&r.model, "model", i + 1)?;
        let _ = writeln!(out, "{}", r.to_csv_line());
    }
    write_atomic(path, out.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Parses a `cost.csv`; errors name the file, the 1-based line and the bad field.
pub fn read_cost_csv(path: &Path) -> anyhow::Result<Vec<CostRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let names: Vec<&str> = COST_HEADER.split(',').collect();
    let mut rows = Vec::new();
    for (no, line) in data_lines(path, &text, COST_HEADER)? {
        let f = split_fields(path, no, line, &names)?;
        rows.push(CostRow {
            model: text_field(path, no, names[0], f[0])?,
            seq_len: parse_field(path, no, names[1], f[1])?,
            measure: text_field(path, no, names[2], f[2])?,
            median_ms: parse_field(path, no, names[3], f[3])?,
            repeats: parse_field(path, no, names[4], f[4])?,
        });
    }
    Ok(rows)
}

/// Writes a `cost.csv` (header + one line per row) atomically (tmp + rename).
/// `model` and `measure` must be non-empty and free of commas and line breaks.
pub fn write_cost_csv(path: &Path, rows: &[CostRow]) -> anyhow::Result<()> {
    let mut out = String::with_capacity(48 * (rows.len() + 1));
    out.push_str(COST_HEADER);
    out.push('\n');
    for (i, r) in rows.iter().enumerate() {
        check_plain(&r.model, "model", i + 1)?;
        check_plain(&r.measure, "measure", i + 1)?;
        let _ = writeln!(out, "{}", r.to_csv_line());
    }
    write_atomic(path, out.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Parses a `document_attention.csv`; `<comma>` in tokens is turned back into ",".
/// Errors name the file, the 1-based line and the bad field.
pub fn read_doc_attention_csv(path: &Path) -> anyhow::Result<Vec<DocAttentionRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let names: Vec<&str> = DOC_ATTENTION_HEADER.split(',').collect();
    let mut rows = Vec::new();
    for (no, line) in data_lines(path, &text, DOC_ATTENTION_HEADER)? {
        let f = split_fields(path, no, line, &names)?;
        rows.push(DocAttentionRow {
            model: text_field(path, no, names[0], f[0])?,
            seed: parse_field(path, no, names[1], f[1])?,
            position: parse_field(path, no, names[2], f[2])?,
            // Taken verbatim (no trim), like the alignment tokens.
            token: unescape_token(f[3]),
            weight: parse_field(path, no, names[4], f[4])?,
        });
    }
    Ok(rows)
}

/// Writes a `document_attention.csv` (header + one line per row) atomically
/// (tmp + rename); commas in tokens are stored as `<comma>`. `model` must be
/// non-empty and free of commas and line breaks.
pub fn write_doc_attention_csv(path: &Path, rows: &[DocAttentionRow]) -> anyhow::Result<()> {
    let mut out = String::with_capacity(32 * (rows.len() + 1));
    out.push_str(DOC_ATTENTION_HEADER);
    out.push('\n');
    for (i, r) in rows.iter().enumerate() {
        check_plain(&r.model, "model", i + 1)?;
        let _ = writeln!(out, "{}", r.to_csv_line());
    }
    write_atomic(path, out.as_bytes()).with_context(|| format!("writing {}", path.display()))
}
