//! `bleu`: corpus BLEU of a hypothesis file against one or several
//! reference files, like `sacrebleu REF... -i HYP -f text` (sacreBLEU 2.x
//! defaults).
//!
//! Arguments are parsed by hand to keep the `metrics` crate free of
//! dependencies. Run with `--help` for usage.

use std::process::ExitCode;

use metrics::bleu::{MAX_NGRAM_ORDER, Smoothing, corpus_bleu_multi_with};

const USAGE: &str = "\
Usage: bleu HYP_FILE REF_FILE [REF_FILE...] [--max-order N]
            [--smooth exp|none|floor|add-k] [--smooth-value X] [--score-only]

Corpus BLEU-4 (or BLEU-N) of HYP_FILE against one or several reference files,
computed exactly like `sacrebleu REF_FILE... -i HYP_FILE -f text` with sacreBLEU
2.x defaults (13a tokenization, case-sensitive, no effective order).

All files are UTF-8 text with one sentence per line; line N of HYP_FILE is
scored against line N of every REF_FILE, so all must have the same number of
lines. With several references, n-gram matches are clipped by the largest
count in one reference and the brevity penalty uses, per line, the reference
length closest to the hypothesis length (the shorter on a tie). As in
sacreBLEU, an empty reference line is a reference of length 0.

Options:
  --max-order N        BLEU-N: precisions of n-gram orders 1 to N (default 4),
                       like sacrebleu.BLEU(max_ngram_order=N)
  --smooth METHOD      smoothing for n-gram orders without matches:
                       exp (default), none, floor (value 0.1), add-k (k 1)
  --smooth-value X     the value for floor or add-k instead of the default
  --score-only, -b     print only the score (e.g. 59.46)
  --help, -h           print this help

Output (sacreBLEU's text format):
  BLEU = 59.46 75.0/66.7/50.0/50.0 (BP = 1.000 ratio = 1.000 hyp_len = 4 ref_len = 4)
i.e. the score, the 1- to 4-gram (N-gram) precisions, the brevity penalty, the
hypothesis/reference length ratio and the token counts.";

/// What the command line asks for.
struct Request {
    hyp_path: String,
    ref_paths: Vec<String>,
    max_order: usize,
    smoothing: Smoothing,
    score_only: bool,
}

/// Why the program stops without a score.
enum Failure {
    /// `--help`: print usage and succeed.
    Help,
    /// Bad command line (exit status 2, like most CLI tools).
    Usage(String),
    /// Unreadable input (exit status 1).
    Input(String),
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(Failure::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(message)) => {
            eprintln!("bleu: error: {message} (see bleu --help)");
            ExitCode::from(2)
        }
        Err(Failure::Input(message)) => {
            eprintln!("bleu: error: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(args: Vec<String>) -> Result<String, Failure> {
    let request = parse_args(args)?;
    let hyps = read_lines(&request.hyp_path)?;
    let mut refs: Vec<Vec<String>> = vec![Vec::new(); hyps.len()];
    for ref_path in &request.ref_paths {
        let lines = read_lines(ref_path)?;
        if lines.len() != hyps.len() {
            return Err(Failure::Input(format!(
                "{} has {} lines but {} has {}",
                request.hyp_path,
                hyps.len(),
                ref_path,
                lines.len()
            )));
        }
        for (line_refs, line) in refs.iter_mut().zip(lines) {
            line_refs.push(line);
        }
    }
    let score = corpus_bleu_multi_with(&hyps, &refs, request.max_order, request.smoothing);
    Ok(if request.score_only {
        format!("{:.2}", score.score)
    } else {
        score.to_string()
    })
}

fn parse_args(args: Vec<String>) -> Result<Request, Failure> {
    let mut positional = Vec::new();
    let mut smooth_name: Option<String> = None;
    let mut smooth_value: Option<f64> = None;
    let mut max_order = MAX_NGRAM_ORDER;
    let mut score_only = false;
    let mut options_ended = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if options_ended || !arg.starts_with('-') || arg == "-" {
            positional.push(arg);
            continue;
        }
        // Accept both `--opt value` and `--opt=value`.
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_string(), Some(value)),
            _ => (arg.clone(), None),
        };
        let mut take_value = |option: &str| -> Result<String, Failure> {
            match inline_value {
                Some(value) => Ok(value.to_string()),
                None => args
                    .next()
                    .ok_or_else(|| Failure::Usage(format!("{option} needs a value"))),
            }
        };
        match name.as_str() {
            "--help" | "-h" => return Err(Failure::Help),
            "--" => options_ended = true,
            "--score-only" | "-b" => score_only = true,
            "--smooth" => smooth_name = Some(take_value("--smooth")?),
            "--max-order" => {
                let text = take_value("--max-order")?;
                max_order = text
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| {
                        Failure::Usage(format!(
                            "--max-order must be a positive integer, got {text:?}"
                        ))
                    })?;
            }
            "--smooth-value" => {
                let text = take_value("--smooth-value")?;
                let value = text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| {
                        Failure::Usage(format!(
                            "--smooth-value must be a non-negative number, got {text:?}"
                        ))
                    })?;
                smooth_value = Some(value);
            }
            _ => return Err(Failure::Usage(format!("unknown option {arg}"))),
        }
    }

    let smoothing = match smooth_name.as_deref() {
        None => Smoothing::Exp,
        Some(name) => Smoothing::from_name(name).ok_or_else(|| {
            Failure::Usage(format!(
                "unknown smoothing {name:?}, expected exp, none, floor or add-k"
            ))
        })?,
    };
    let smoothing = match (smoothing, smooth_value) {
        (method, None) => method,
        (Smoothing::Floor(_), Some(value)) => Smoothing::Floor(value),
        (Smoothing::AddK(_), Some(value)) => Smoothing::AddK(value),
        (method, Some(_)) => {
            return Err(Failure::Usage(format!(
                "--smooth-value applies only to floor and add-k, not {}",
                method.name()
            )));
        }
    };

    if positional.len() < 2 {
        return Err(Failure::Usage(format!(
            "expected HYP_FILE and at least one REF_FILE, got {} files",
            positional.len()
        )));
    }
    let ref_paths = positional.split_off(1);
    let hyp_path = positional.remove(0);
    Ok(Request {
        hyp_path,
        ref_paths,
        max_order,
        smoothing,
        score_only,
    })
}

/// Reads a UTF-8 file as sacreBLEU does: lines end at `\n` only (Python's
/// `open(newline="\n")`), and a final line without `\n` still counts. The
/// line terminator and any other trailing whitespace (such as `\r`) are
/// ignored by the BLEU computation itself.
fn read_lines(path: &str) -> Result<Vec<String>, Failure> {
    let bytes =
        std::fs::read(path).map_err(|err| Failure::Input(format!("cannot read {path}: {err}")))?;
    let text = String::from_utf8(bytes).map_err(|err| {
        Failure::Input(format!(
            "{path} is not valid UTF-8 (invalid byte at offset {})",
            err.utf8_error().valid_up_to()
        ))
    })?;
    Ok(text
        .split_inclusive('\n')
        .map(|line| line.strip_suffix('\n').unwrap_or(line).to_string())
        .collect())
}
