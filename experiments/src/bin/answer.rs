//! `answer --model DIR FILE.question...`: answers cloze questions with a reader saved by
//! `--save-models`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use experiments::saved_model::inference_device;
use experiments::saved_model::reader::{LoadedReader, read_questions};

/// Answers cloze questions in DeepMind's `.question` format with a saved reader.
///
/// Prints one line per file: the file, the predicted entity id with its surface form from
/// the file's entity lines, and whether it is the file's answer; then the accuracy. Words
/// outside the reader's vocabulary are read as <unk>; an entity id beyond the reader's
/// entity classes cannot be predicted. See docs/saved-models.md.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Example:\n  answer --model results/reader/synthetic/models/attentive-k0-seed1 questions/test/*.question"
)]
struct Args {
    /// A model folder written by --save-models (OUT/<task>/models/<cell>/ of reader).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// `.question` files (URL, context, query, answer and entity lines).
    #[arg(value_name = "FILE.question", required = true)]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    experiments::cli::run_in_pool(threads, || run(&args))
}

fn run(args: &Args) -> anyhow::Result<()> {
    let reader = LoadedReader::load(&args.model, &inference_device()?)?;
    let questions = read_questions(&args.files)?;
    let answers = reader.answer(&questions)?;
    for ((path, question), answer) in args.files.iter().zip(&questions).zip(&answers) {
        let surface = answer
            .surface
            .as_ref()
            .map_or(String::new(), |s| format!(" ({s})"));
        let verdict = if answer.correct {
            "correct".to_string()
        } else {
            let surface = (question.entities.iter())
                .find(|(id, _)| *id == question.answer)
                .map_or(String::new(), |(_, s)| format!(" ({s})"));
            format!("wrong, the answer is {}{surface}", question.answer)
        };
        println!("{}: {}{surface} {verdict}", path.display(), answer.entity);
    }
    let right = answers.iter().filter(|a| a.correct).count();
    println!(
        "accuracy: {right}/{} = {:.1}%",
        answers.len(),
        100.0 * right as f64 / answers.len() as f64
    );
    Ok(())
}
