//! `readme-tables`: keeps the result tables in Markdown files (the README, `docs/*.md`)
//! equal to the `summary.md` files they copy, so that a re-run experiment cannot leave a
//! stale number behind. The marker syntax and the selector language are documented on
//! [`Cli`], whose text `--help` prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Rewrites the tables between `<!-- table: ... -->` and `<!-- /table -->` markers in
/// Markdown files from the summary.md files they name, or (--check) lists the stale ones.
///
/// MARKERS
///
///   <!-- table: PATH [SECTION] [rows=NAME,NAME,...] [cols=BUCKET,BUCKET,...] -->
///   ... generated: a blank line, the table, a blank line ...
///   <!-- /table -->
///
/// Each marker is a line of its own. Everything between the two marker lines is
/// replaced; markers inside fenced code blocks (``` or ~~~) are ignored.
///
///   PATH     a summary.md, relative to the folder of the Markdown file that names it
///            (README.md: results/seq2seq-length/reverse/summary.md; a file under
///            docs/: ../results/seq2seq-length/reverse/summary.md).
///
/// SELECTOR (every part optional; words separated by spaces)
///
///   SECTION  which table of the summary.md: its heading's metric with spaces written
///            as underscores, any case: exact_match, token_accuracy, bleu,
///            test_accuracy, valid_accuracy. May be left out when the file has only
///            one table.
///   rows=    the rows to keep, by the model column (RNNsearch-20, attention-sum), in
///            the order given. Default: every row, in the file's order.
///   cols=    the columns to keep, by bucket without its count (1-5, 16-20, all), in
///            the order given; the model column always comes first. Default: all.
///
///   With neither rows= nor cols= the table is copied line for line; with either it is
///   rebuilt from the selected cells (the "(n=...)" counts stay in the headers).
///
/// EXAMPLES
///
///   <!-- table: results/seq2seq-length/reverse/summary.md exact_match -->
///   <!-- table: ../results/reader/synthetic/summary.md test_accuracy cols=all -->
///   <!-- table: results/transformer/reverse/summary.md bleu rows=Transformer-15 cols=16-20,all -->
///
/// MODES
///
///   readme-tables README.md docs/*.md
///       rewrites every table whose text differs, each file atomically, and names the
///       files it changed. If any marker has an error, nothing is written.
///   readme-tables --check README.md docs/*.md
///       writes nothing; prints FILE:LINE for each stale table (LINE: its opening
///       marker) and exits 1 if there is one.
///
/// Exit status: 0 up to date (or rewritten), 1 stale tables found by --check, 2 an
/// error (an unreadable file, a summary.md that does not exist, a bad selector, a
/// marker without its pair), reported as FILE:LINE: message.
#[derive(Parser, Debug)]
#[command(name = "readme-tables", verbatim_doc_comment)]
struct Cli {
    /// Markdown files holding table markers (e.g. README.md docs/*.md).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Write nothing: list each stale table as FILE:LINE and exit 1 if there is one.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut errors: Vec<String> = Vec::new();
    let mut stale: Vec<String> = Vec::new();
    let mut rewrites: Vec<(PathBuf, String, usize)> = Vec::new();
    let mut tables = 0usize;
    for file in &cli.files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{}: cannot read: {e}", file.display()));
                continue;
            }
        };
        match process(file, &text) {
            Ok(done) => {
                tables += done.tables.len();
                let n_stale = done.tables.iter().filter(|t| t.stale).count();
                for t in done.tables.iter().filter(|t| t.stale) {
                    stale.push(format!(
                        "{}:{}: stale table ({})",
                        file.display(),
                        t.line,
                        t.spec
                    ));
                }
                if n_stale > 0 {
                    rewrites.push((file.clone(), done.text, n_stale));
                }
            }
            Err(errs) => errors.extend(errs),
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("readme-tables: error: {e}");
        }
        if !cli.check {
            eprintln!("readme-tables: nothing written");
        }
        return ExitCode::from(2);
    }
    if cli.check {
        if stale.is_empty() {
            println!("readme-tables: {}", up_to_date(tables, cli.files.len()));
            return ExitCode::SUCCESS;
        }
        for s in &stale {
            println!("{s}");
        }
        println!(
            "readme-tables: {} of {tables} tables stale; rewrite them with \
             `cargo run --release -q -p plots --bin readme-tables -- {}`",
            stale.len(),
            cli.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        return ExitCode::from(1);
    }
    for (file, text, n) in &rewrites {
        if let Err(e) = plots::write_atomic(file, text.as_bytes()) {
            eprintln!("readme-tables: error: {}: {e:#}", file.display());
            return ExitCode::from(2);
        }
        println!(
            "{}: {n} table{} rewritten",
            file.display(),
            if *n == 1 { "" } else { "s" }
        );
    }
    if rewrites.is_empty() {
        println!("readme-tables: {}", up_to_date(tables, cli.files.len()));
    }
    ExitCode::SUCCESS
}

fn up_to_date(tables: usize, files: usize) -> String {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{tables} table{} in {files} file{} up to date",
        s(tables),
        s(files)
    )
}

/// One marker pair found in a Markdown file.
#[derive(Debug)]
struct TableRef {
    /// 1-based line of the opening marker.
    line: usize,
    /// The marker's text after `table:`.
    spec: String,
    /// Whether the text between the markers differs from the generated table.
    stale: bool,
}

/// A Markdown file with every table regenerated.
#[derive(Debug)]
struct Processed {
    text: String,
    tables: Vec<TableRef>,
}

enum Marker<'a> {
    Open(&'a str),
    Close,
}

/// `<!-- table: SPEC -->` or `<!-- /table -->` alone on a line (surrounding spaces allowed).
fn marker(line: &str) -> Option<Marker<'_>> {
    let inner = line
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    if inner == "/table" {
        return Some(Marker::Close);
    }
    let rest = inner.strip_prefix("table")?;
    let spec = rest.trim_start().strip_prefix(':')?;
    Some(Marker::Open(spec.trim()))
}

/// A fence line (``` or ~~~, up to three spaces of indent) opens or closes a code block.
fn fence(line: &str) -> Option<&str> {
    let t = line.trim_start_matches(' ');
    if line.len() - t.len() > 3 {
        return None;
    }
    ["```", "~~~"].into_iter().find(|f| t.starts_with(f))
}

/// Regenerates every table of one Markdown file; all errors of the file, each as
/// `FILE:LINE: message`, if any.
fn process(file: &Path, text: &str) -> Result<Processed, Vec<String>> {
    let base = file.parent().unwrap_or(Path::new(""));
    let mut out = String::with_capacity(text.len());
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    let mut in_fence: Option<&str> = None;
    // While inside a marker pair: (opening line, spec, generated table or None on error,
    // the old text between the markers).
    let mut open: Option<(usize, String, Option<String>, String)> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        if let Some((_, _, _, old)) = open.as_mut() {
            match marker(line) {
                Some(Marker::Close) => {
                    let (at, spec, new, old) = open.take().expect("inside a table");
                    match new {
                        Some(new) => {
                            tables.push(TableRef {
                                line: at,
                                spec,
                                stale: new != old,
                            });
                            out.push_str(&new);
                        }
                        None => out.push_str(&old),
                    }
                    out.push_str(line);
                }
                Some(Marker::Open(_)) => {
                    errors.push(format!(
                        "{}:{n}: a table marker opens before the one opened at line {} is \
                         closed with <!-- /table -->",
                        file.display(),
                        open.as_ref().expect("inside a table").0
                    ));
                    return Err(errors);
                }
                None => old.push_str(line),
            }
            continue;
        }
        if let Some(f) = in_fence {
            if fence(line).is_some_and(|g| g == f) {
                in_fence = None;
            }
            out.push_str(line);
            continue;
        }
        if let Some(f) = fence(line) {
            in_fence = Some(f);
            out.push_str(line);
            continue;
        }
        match marker(line) {
            Some(Marker::Open(spec)) => {
                let new = match generate(base, spec) {
                    Ok(table) => Some(format!("\n{table}\n")),
                    Err(e) => {
                        errors.push(format!("{}:{n}: {e}", file.display()));
                        None
                    }
                };
                open = Some((n, spec.to_string(), new, String::new()));
                out.push_str(line);
            }
            Some(Marker::Close) => {
                errors.push(format!(
                    "{}:{n}: <!-- /table --> without an opening <!-- table: ... --> marker",
                    file.display()
                ));
            }
            None => out.push_str(line),
        }
    }
    if let Some((at, ..)) = open {
        errors.push(format!(
            "{}:{at}: table marker never closed (expected a line <!-- /table -->)",
            file.display()
        ));
    }
    if errors.is_empty() {
        Ok(Processed { text: out, tables })
    } else {
        Err(errors)
    }
}

/// A parsed marker: the summary.md path and the selector.
#[derive(Debug, PartialEq)]
struct Spec {
    path: String,
    section: Option<String>,
    rows: Option<Vec<String>>,
    cols: Option<Vec<String>>,
}

fn parse_spec(spec: &str) -> Result<Spec, String> {
    let mut words = spec.split_whitespace();
    let path = words
        .next()
        .ok_or("the marker names no summary.md (expected <!-- table: PATH [SELECTOR] -->)")?
        .to_string();
    let mut parsed = Spec {
        path,
        section: None,
        rows: None,
        cols: None,
    };
    for word in words {
        if let Some((key, value)) = word.split_once('=') {
            let list: Vec<String> = value
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if list.is_empty() {
                return Err(format!(
                    "bad selector `{word}`: `{key}=` needs a list of names"
                ));
            }
            let slot = match key {
                "rows" => &mut parsed.rows,
                "cols" => &mut parsed.cols,
                _ => {
                    return Err(format!(
                        "bad selector `{word}`: unknown key `{key}` (expected rows= or cols=)"
                    ));
                }
            };
            if slot.is_some() {
                return Err(format!("bad selector: `{key}=` given twice"));
            }
            *slot = Some(list);
        } else if let Some(s) = &parsed.section {
            return Err(format!(
                "bad selector `{word}`: a second section name after `{s}` (one table per \
                 marker; rows= and cols= take comma-separated lists without spaces)"
            ));
        } else {
            parsed.section = Some(word.to_string());
        }
    }
    Ok(parsed)
}

/// One `### heading` and its table in a summary.md.
#[derive(Debug)]
struct Section {
    /// The heading's metric (the text before " ("), e.g. "exact match".
    label: String,
    /// The table's lines, verbatim.
    lines: Vec<String>,
}

impl Section {
    fn key(&self) -> String {
        normalize(&self.label)
    }
}

fn normalize(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '-'], "_")
}

fn parse_summary(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            let label = h.split(" (").next().unwrap_or(h).trim().to_string();
            sections.push(Section {
                label,
                lines: Vec::new(),
            });
        } else if line.trim_start().starts_with('|')
            && let Some(s) = sections.last_mut()
        {
            s.lines.push(line.trim_end().to_string());
        }
    }
    sections.retain(|s| s.lines.len() >= 2);
    sections
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(|c| c.trim().to_string()).collect()
}

fn row_line(cells: &[String]) -> String {
    let mut s = String::from("|");
    for c in cells {
        if c.is_empty() {
            s.push_str(" |");
        } else {
            s.push(' ');
            s.push_str(c);
            s.push_str(" |");
        }
    }
    s
}

/// The table a marker's spec asks for, its lines each ending in a newline.
fn generate(base: &Path, spec: &str) -> Result<String, String> {
    let spec = parse_spec(spec)?;
    let path = base.join(&spec.path);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read summary {}: {e}", path.display()))?;
    let sections = parse_summary(&text);
    let names = || {
        sections
            .iter()
            .map(Section::key)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if sections.is_empty() {
        return Err(format!("no table in {}", path.display()));
    }
    let section = match &spec.section {
        Some(name) => sections
            .iter()
            .find(|s| s.key() == normalize(name))
            .ok_or_else(|| {
                format!(
                    "bad selector: no `{name}` table in {} (it has: {})",
                    path.display(),
                    names()
                )
            })?,
        None if sections.len() == 1 => &sections[0],
        None => {
            return Err(format!(
                "{} has {} tables ({}): name one after the path",
                path.display(),
                sections.len(),
                names()
            ));
        }
    };
    if spec.rows.is_none() && spec.cols.is_none() {
        return Ok(section.lines.iter().map(|l| format!("{l}\n")).collect());
    }
    let header = cells(&section.lines[0]);
    let align = cells(&section.lines[1]);
    let body: Vec<Vec<String>> = section.lines[2..].iter().map(|l| cells(l)).collect();
    let what = format!("the `{}` table of {}", section.key(), path.display());
    let columns: Vec<usize> = match &spec.cols {
        None => (0..header.len()).collect(),
        Some(wanted) => {
            let key = |h: &str| h.split(" (").next().unwrap_or(h).trim().to_lowercase();
            let mut cols = vec![0];
            for w in wanted {
                let w_low = w.to_lowercase();
                let j = (1..header.len())
                    .find(|&j| key(&header[j]) == w_low || header[j].to_lowercase() == w_low)
                    .ok_or_else(|| {
                        format!(
                            "bad selector: no column `{w}` in {what} (columns: {})",
                            header[1..]
                                .iter()
                                .map(|h| key(h))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?;
                cols.push(j);
            }
            cols
        }
    };
    let rows: Vec<&Vec<String>> = match &spec.rows {
        None => body.iter().collect(),
        Some(wanted) => wanted
            .iter()
            .map(|w| {
                body.iter()
                    .find(|r| r.first().is_some_and(|m| m.eq_ignore_ascii_case(w)))
                    .ok_or_else(|| {
                        format!(
                            "bad selector: no row `{w}` in {what} (rows: {})",
                            body.iter()
                                .filter_map(|r| r.first().cloned())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let pick = |r: &[String]| -> Vec<String> {
        columns
            .iter()
            .map(|&j| r.get(j).cloned().unwrap_or_default())
            .collect()
    };
    let mut out = String::new();
    out.push_str(&row_line(&pick(&header)));
    out.push('\n');
    let a = pick(&align);
    out.push('|');
    for c in &a {
        out.push_str(if c.is_empty() { "---" } else { c });
        out.push('|');
    }
    out.push('\n');
    for r in rows {
        out.push_str(&row_line(&pick(r)));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_whole_lines() {
        assert!(matches!(
            marker("<!-- table: a/summary.md bleu -->\n"),
            Some(Marker::Open("a/summary.md bleu"))
        ));
        assert!(matches!(
            marker("  <!-- /table -->  \n"),
            Some(Marker::Close)
        ));
        assert!(marker("see `<!-- table: x -->` above\n").is_none());
        assert!(marker("<!-- tables: x -->\n").is_none());
        assert!(marker("<!-- a comment -->\n").is_none());
    }

    #[test]
    fn spec_parses_section_rows_and_cols() {
        let s = parse_spec("r/summary.md exact_match rows=a,b cols=1-5,all").unwrap();
        assert_eq!(
            s,
            Spec {
                path: "r/summary.md".into(),
                section: Some("exact_match".into()),
                rows: Some(vec!["a".into(), "b".into()]),
                cols: Some(vec!["1-5".into(), "all".into()]),
            }
        );
        assert!(parse_spec("").is_err());
        assert!(parse_spec("p bleu exact_match").is_err());
        assert!(parse_spec("p rows=a rows=b").is_err());
        assert!(
            parse_spec("p colums=all")
                .unwrap_err()
                .contains("unknown key `colums`")
        );
        assert!(parse_spec("p cols=").is_err());
    }

    #[test]
    fn code_fences_hide_markers() {
        let md = "```\n<!-- table: nowhere/summary.md -->\n```\ntext\n";
        let done = process(Path::new("x.md"), md).unwrap();
        assert!(done.tables.is_empty());
        assert_eq!(done.text, md);
    }
}
