//! `classify --model DIR IMAGE...`: classifies image files with a glimpses model (RAM,
//! RAM-random, FC-<hidden> or CNN) saved by `--save-models`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Parser;
use experiments::glimpses::eval::TestLocations;
use experiments::saved_model::classifier::LoadedClassifier;
use experiments::saved_model::inference_device;
use models::vision::LocationPolicy;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Classifies PNG or JPEG images with a saved model of the glimpses experiment.
///
/// Each image is read as greyscale in [0, 1] (the canvases are white objects on black; a
/// colour image becomes its luma) and made a canvas of the model's side (model.json's
/// `side`): an image of exactly that size is read as it is; a smaller one is placed,
/// unscaled, at the centre of a black canvas; a larger one (either side longer) is centred
/// on a black square of its longer side and that square scaled down to the canvas
/// (bilinear, the aspect ratio kept). Prints `IMAGE: class (probability)` per image.
///
/// RAM takes its glimpses at the policy's mean locations unless --sample-seed is given;
/// RAM-random, which has no mean, always samples (seed 0 unless --sample-seed says
/// otherwise). See docs/saved-models.md.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Example:\n  classify --model results/glimpses/digits/models/cluttered-60-4_RAM-k6-seed1 --glimpses seven.png"
)]
struct Args {
    /// A model folder written by --save-models (OUT/<task>/models/<cell>/ of glimpses).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// PNG or JPEG files.
    #[arg(value_name = "IMAGE", required = true)]
    images: Vec<PathBuf>,
    /// RAM: draw one location per glimpse from the policy (as the experiment's `_error`
    /// metric does) from a generator seeded with N, afresh for each image, instead of
    /// taking the policy's mean. Whole-image networks ignore it.
    #[arg(long, value_name = "N")]
    sample_seed: Option<u64>,
    /// RAM only: after each image, one line per glimpse with the centre of its patches in
    /// pixels (row, column from the top left of the canvas).
    #[arg(long)]
    glimpses: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    experiments::cli::run_in_pool(threads, || run(&args))
}

fn run(args: &Args) -> anyhow::Result<()> {
    let model = LoadedClassifier::load(&args.model, &inference_device()?)?;
    let policy = model.policy();
    if args.glimpses && policy.is_none() {
        bail!(
            "{} is {}, a whole-image network: --glimpses is for RAM models only",
            args.model.display(),
            model.description.label()
        );
    }
    let (locations, seed) = match (args.sample_seed, policy) {
        (Some(seed), _) => (TestLocations::Sampled, seed),
        (None, Some(LocationPolicy::Random)) => (TestLocations::Sampled, 0),
        (None, _) => (TestLocations::Mean, 0),
    };
    for path in &args.images {
        let canvas = model.read_canvas(path)?;
        let mut noise = StdRng::seed_from_u64(seed);
        let classified = model.classify(&[canvas], locations, &mut noise)?;
        let [result] = <[_; 1]>::try_from(classified).expect("one canvas");
        let name = &model.spec.class_names[result.class];
        let probability = result.probabilities[result.class];
        println!("{}: {name} ({probability:.3})", path.display());
        if args.glimpses {
            for (step, &location) in result.glimpses.iter().flatten().enumerate() {
                let (row, column) = model.glimpse_centre(location);
                println!("  glimpse {}: row {row:.1}, column {column:.1}", step + 1);
            }
        }
    }
    Ok(())
}
