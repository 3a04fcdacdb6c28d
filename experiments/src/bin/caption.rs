//! `caption --model DIR IMAGE...`: captions image files with a captioner saved by
//! `--save-models`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Parser;
use experiments::saved_model::captioner::{LoadedCaptioner, attention_lines};
use experiments::saved_model::inference_device;

/// Captions PNG or JPEG images with a saved Show, Attend and Tell model.
///
/// Each image is prepared as the model's training images were (model.json's `image`: the
/// shorter side scaled to the canvas, the centre cropped, transparency over the recorded
/// background), encoded by the saved encoder and captioned greedily. Prints
/// `IMAGE: caption` per image. See docs/saved-models.md.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Example:\n  caption --model results/captioning/shapes/models/soft-k0-seed1 --attention scene.png"
)]
struct Args {
    /// A model folder written by --save-models (OUT/<task>/models/<cell>/ of captioning).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// PNG or JPEG files.
    #[arg(value_name = "IMAGE", required = true)]
    images: Vec<PathBuf>,
    /// After each caption, one line per word with the grid cell attended most (row and
    /// column from the top left of the G × G grid) and its weight. Soft and hard
    /// attention only.
    #[arg(long)]
    attention: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    experiments::cli::run_in_pool(threads, || run(&args))
}

fn run(args: &Args) -> anyhow::Result<()> {
    let model = LoadedCaptioner::load(&args.model, &inference_device()?)?;
    if args.attention && !model.has_attention() {
        bail!(
            "{} is {}, a captioner without attention: --attention is not available",
            args.model.display(),
            model.description.label()
        );
    }
    for path in &args.images {
        let image = model.read_image(path)?;
        let [caption] = <[_; 1]>::try_from(model.caption(&[&image])).expect("one image");
        println!("{}: {}", path.display(), caption.words.join(" "));
        if args.attention {
            for line in attention_lines(&caption, model.grid()) {
                println!("  {line}");
            }
        }
    }
    Ok(())
}
