//! The two CSV formats: long-format metrics and attention alignments.
//!
//! Fields never contain commas (alignment tokens are written with "," replaced
//! by `<comma>`), so the files are parsed by hand: split on ',' with an exact
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

/// How a literal comma inside a token is stored in `alignment.csv`.
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
