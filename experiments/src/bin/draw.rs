//! `draw --model DIR --out PNG CAPTION...`: draws scenes from captions with a text-to-image
//! generator saved by `--save-models`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use datasets::images::RgbImage;
use experiments::saved_model::generator::LoadedGenerator;
use experiments::saved_model::{inference_device, numbered_path};
use image::ImageEncoder;
use image::codecs::png::PngEncoder;

/// Draws scenes from captions with a saved AttnGAN generator (or one of its ablations).
///
/// Each caption is read as the experiment's captions were written (lowercased; whitespace
/// separates words; `,` is a word of its own), encoded by the saved DAMSM text encoder and
/// drawn by the saved generator: one PNG per caption holding its samples side by side, each
/// the stage-2 image (model.json's image_size pixels square). The noise comes from --seed:
/// the same seed gives the same bytes, and every caption gets the same noise, so captions
/// differ only by their words. A word the model did not see in training is an error that
/// lists known words. Prints `PNG: caption` per file written. See docs/saved-models.md.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Example (a model of `text-to-image --task shapes --save-models --out OUT`):\n  draw --model OUT/shapes/models/attngan-k0-seed1 --out scene.png --samples 4 'a large red ring to the left of a small blue square'"
)]
struct Args {
    /// A model folder written by --save-models (OUT/<task>/models/<cell>/ of text-to-image).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// The PNG to write: PNG itself for one caption, PNG-<n>.png for caption n (from 1) of
    /// several.
    #[arg(long, value_name = "PNG")]
    out: PathBuf,
    /// Captions, one argument each (quote them).
    #[arg(value_name = "CAPTION", required = true)]
    captions: Vec<String>,
    /// Images per caption, side by side in its PNG, each from its own noise; the first ones
    /// do not depend on how many are asked for.
    #[arg(long, value_name = "N", default_value_t = 1)]
    samples: usize,
    /// Seed of the noise (z and conditioning augmentation's ε).
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Also draw each caption's word attention, as the experiment's word-attention figures:
    /// the first sample, then one panel per word lit where stage 2 read it. PATH for one
    /// caption, PATH-<n>.png for caption n of several. Word-attention models only (attngan,
    /// no-damsm).
    #[arg(long, value_name = "PATH")]
    attention: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    experiments::cli::run_in_pool(threads, || run(&args))
}

fn run(args: &Args) -> anyhow::Result<()> {
    if args.samples == 0 {
        bail!("--samples must be at least 1");
    }
    let model = LoadedGenerator::load(&args.model, &inference_device()?)?;
    if args.attention.is_some() && !model.has_attention() {
        bail!(
            "{} is {}, a generator without word attention: --attention is not available",
            args.model.display(),
            model.description.label()
        );
    }
    // Every caption is read before anything is drawn or written.
    let captions = args
        .captions
        .iter()
        .map(|caption| model.words(caption))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let path_of = |base: &Path, index: usize| match captions.len() {
        1 => base.to_path_buf(),
        _ => numbered_path(base, index + 1),
    };
    for (index, words) in captions.iter().enumerate() {
        let drawing = model.draw(words, args.samples, args.seed)?;
        let out = path_of(&args.out, index);
        write_png(&out, &side_by_side(&drawing.images))?;
        println!("{}: {}", out.display(), words.join(" "));
        if let (Some(base), Some(attention)) = (&args.attention, &drawing.attention) {
            let path = path_of(base, index);
            let image = &drawing.images[0];
            let title = format!(
                "{}: word attention of stage 2, seed {}",
                model.description.label(),
                args.seed
            );
            plots::attention_strip(
                &path,
                &image.data,
                image.height,
                image.width,
                words,
                &attention[0],
                &title,
            )?;
            println!("{}: {}", path.display(), words.join(" "));
        }
    }
    Ok(())
}

/// The images in a row, left to right (all of the first one's height).
fn side_by_side(images: &[RgbImage]) -> RgbImage {
    let height = images.first().map_or(0, |i| i.height);
    let width: usize = images.iter().map(|i| i.width).sum();
    let mut out = RgbImage {
        height,
        width,
        data: vec![0.0; 3 * height * width],
    };
    let mut left = 0;
    for image in images {
        for ch in 0..3 {
            for y in 0..height.min(image.height) {
                let from = (ch * image.height + y) * image.width;
                let to = (ch * height + y) * width + left;
                out.data[to..to + image.width]
                    .copy_from_slice(&image.data[from..from + image.width]);
            }
        }
        left += image.width;
    }
    out
}

/// Writes `image` (values in [0, 1], clamped; non-finite as 0; rounded as the experiment's
/// figures round) as an 8-bit RGB PNG, through a temporary file renamed into place.
fn write_png(path: &Path, image: &RgbImage) -> anyhow::Result<()> {
    let plane = image.height * image.width;
    let byte = |v: f32| {
        let v = if v.is_finite() {
            f64::from(v).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (255.0 * v).round() as u8
    };
    let rgb: Vec<u8> = (0..plane)
        .flat_map(|at| [0, 1, 2].map(|ch| byte(image.data[ch * plane + at])))
        .collect();
    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes)
        .write_image(
            &rgb,
            u32::try_from(image.width)?,
            u32::try_from(image.height)?,
            image::ExtendedColorType::Rgb8,
        )
        .with_context(|| format!("cannot encode {}", path.display()))?;
    plots::write_atomic(path, &bytes)
}
