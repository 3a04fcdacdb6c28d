//! `translate --model DIR [FILE]`: translates one sentence per line (standard input, or FILE)
//! with a sequence-to-sequence model saved by `--save-models`, one translation per line.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use experiments::saved_model::seq2seq::{Translator, alignment_lines};
use experiments::saved_model::{inference_device, numbered_path};

/// Translates sentences with a saved RNNencdec, RNNsearch or Transformer model.
///
/// Each input line is tokenized as the experiment tokenized its corpus (lowercased words and
/// punctuation; the synthetic tasks' symbols separated by spaces), words outside the
/// model's source vocabulary become <unk>, and the translation is printed on one line
/// (an empty line for an empty one). See docs/saved-models.md.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Example:\n  echo 'a b c d' | translate --model results/seq2seq-length/reverse/models/RNNsearch-k20-seed1 --alignment"
)]
struct Args {
    /// A model folder written by --save-models (OUT/<task>/models/<cell>/ of seq2seq-length,
    /// score-functions, soft-vs-hard or transformer).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Sentences, one a line. Default: standard input.
    file: Option<PathBuf>,
    /// Beam search with this width (1: greedy, the default, as the experiments score).
    /// Recurrent models only.
    #[arg(long, value_name = "N", default_value_t = 1)]
    beam: usize,
    /// After each translation, one line per target word (and the final </s>) with its
    /// strongest source words and their attention weights: `  casa <- house 0.81, the
    /// 0.10`. Attentive models (RNNsearch) only.
    #[arg(long)]
    alignment: bool,
    /// Draw each sentence's attention as a heatmap PNG here (PATH for one input line,
    /// PATH-<n>.png for line n of several). Attentive models only.
    #[arg(long, value_name = "PATH")]
    alignment_png: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    experiments::cli::run_in_pool(threads, || run(&args))
}

fn run(args: &Args) -> anyhow::Result<()> {
    if args.beam == 0 {
        bail!("--beam must be at least 1");
    }
    let translator = Translator::load(&args.model, &inference_device()?)?;
    let wants_weights = args.alignment || args.alignment_png.is_some();
    if let (true, Some(why)) = (wants_weights, translator.no_alignment()) {
        bail!(
            "{} is {}, {why}: --alignment and --alignment-png are not available",
            args.model.display(),
            translator.description.label()
        );
    }
    if args.beam > 1 && !translator.has_beam_search() {
        bail!(
            "{} is {}: --beam is for the recurrent models; the Transformer decodes greedily",
            args.model.display(),
            translator.description.label()
        );
    }
    let lines: Vec<String> = match &args.file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .lines()
            .map(str::to_string)
            .collect(),
        None => std::io::stdin()
            .lock()
            .lines()
            .collect::<Result<_, _>>()
            .context("cannot read standard input")?,
    };
    let source = args
        .file
        .as_ref()
        .map_or("<stdin>".to_string(), |p| p.display().to_string());
    let mut out = std::io::stdout().lock();
    for (index, line) in lines.iter().enumerate() {
        let tokens = translator.tokenize(line);
        if let Some(max) = translator.max_source_tokens()
            && tokens.len() > max
        {
            bail!(
                "{source}:{}: {} tokens; this model (location score) reads at most {max}",
                index + 1,
                tokens.len()
            );
        }
        if tokens.is_empty() {
            writeln!(out)?;
            continue;
        }
        let translation = translator.translate(&tokens, args.beam, wants_weights);
        writeln!(out, "{}", translation.words.join(" "))?;
        if args.alignment {
            for line in alignment_lines(&translation) {
                writeln!(out, "  {line}")?;
            }
        }
        if let (Some(png), Some(weights)) = (&args.alignment_png, &translation.weights) {
            let path = match lines.len() {
                1 => png.clone(),
                _ => numbered_path(png, index + 1),
            };
            plots::attention_heatmap(
                &path,
                &translator.description.label(),
                &translation.src_tokens,
                &translation.tgt_tokens,
                weights,
            )?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
