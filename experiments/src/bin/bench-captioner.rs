//! The training step of the Show, Attend and Tell captioner (Xu et al. 2015), timed, as
//! `bench/pytorch/captioner_bench.py` times the same workload in PyTorch.
//!
//! Two workloads, the sizes of the `captioning` experiment's quick preset by default:
//!
//! 1. The captioner's whole training step on precomputed annotations, which is what the
//!    experiment runs per step (its encoder is pretrained once and frozen, and every image's
//!    annotations are computed once): the teacher-forced pass of `models::vision::Captioner`
//!    (`--context none`, `soft` or `hard`), its loss (cross-entropy over the non-PAD targets,
//!    plus the doubly stochastic penalty for soft attention, or the REINFORCE hybrid loss for
//!    hard attention, exactly as `experiments::captioning` builds them), the backward pass,
//!    and Adam with gradient-norm clipping, through `experiments::training::train_loop`
//!    itself. Timed from the moment a batch is ready to the moment the next one is asked
//!    for, as `bench-seq2seq` does; each step gets a fresh random batch (annotations uniform
//!    in `[0, 1)`, as after a ReLU; captions of `caption_len / 2` to `caption_len - 1` random
//!    words, PAD-padded to `caption_len` decoder steps).
//! 2. The convolutional encoder (`models::vision::ImageEncoder`) on its own, on one random
//!    batch of `--batch` images: the forward pass without autodiff (as the experiment
//!    annotates its images), and the forward plus backward pass of the sum of the
//!    annotations with autodiff (the gradients of every convolution).
//!
//! Prints the median, p10 and p90 milliseconds of each, the parameter counts and the peak
//! resident memory; the last stdout line is `RESULT {json}`.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use clap::Parser;
use experiments::bench_timing::{median_p10_p90, peak_rss_mib, time_calls};
use experiments::captioning::captioner_loss;
use experiments::cli::run_in_pool;
use experiments::reinforce::ReinforceWeights;
use experiments::training::{LearningRateSchedule, OptimizerSettings, train_loop};
use models::seq2seq::{BOS, EOS, PAD};
use models::vision::{CaptionerConfig, ContextKind, ImageEncoderConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Times the captioner's training step and the image encoder (median ms, peak memory).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The decoder's context: none (the mean annotation), soft or hard attention.
    #[arg(long, default_value = "soft", value_parser = ["none", "soft", "hard"])]
    context: String,
    /// Captions (and images) per step.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed training steps (after the warm-up).
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Untimed warm-up steps (of the training step, and of each encoder pass).
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Timed calls of each encoder pass (after the warm-up); 0 skips the encoder.
    #[arg(long, default_value_t = 50)]
    encoder_steps: usize,
    /// Seed of the weights and the random inputs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads for the backend's parallel kernels (as `torch.set_num_threads`).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Decoder steps T per caption (BOS, the words, then PAD).
    #[arg(long, default_value_t = 20)]
    caption_len: usize,
    /// Vocabulary size K, PAD, BOS, EOS and UNK included.
    #[arg(long, default_value_t = 53)]
    vocab: usize,
    /// Side of the square RGB images, in pixels.
    #[arg(long, default_value_t = 48)]
    canvas: usize,
    /// Output channels of the encoder's blocks before the last, comma-separated.
    #[arg(long, default_value = "16,32", value_delimiter = ',')]
    encoder_channels: Vec<usize>,
    /// Side G of the annotation grid (L = G² annotations).
    #[arg(long, default_value_t = 6)]
    grid: usize,
    /// Size D of an annotation vector (the encoder's last block).
    #[arg(long, default_value_t = 64)]
    d_annotation: usize,
    /// Word embedding size m.
    #[arg(long, default_value_t = 64)]
    d_embed: usize,
    /// LSTM size n.
    #[arg(long, default_value_t = 128)]
    d_hidden: usize,
    /// Hidden size of the additive attention.
    #[arg(long, default_value_t = 64)]
    d_attention: usize,
}

// The quick preset's training settings (`experiments/src/captioning/config.rs`).
const LEARNING_RATE: f64 = 3e-3;
const GRAD_CLIP: f64 = 5.0;
const DOUBLY_STOCHASTIC: f64 = 1.0;
const HARD_EXPECTED: f64 = 0.5;
const REINFORCE: ReinforceWeights = ReinforceWeights {
    reinforce: 1.0,
    entropy: 0.01,
    baseline_decay: 0.9,
};
/// The first ordinary word: PAD, BOS, EOS and UNK come first.
const FIRST_WORD: u32 = 4;

/// A random batch: annotations `[B, L, D]`, decoder input and target ids `[B, T]`.
fn random_batch(
    rng: &mut StdRng,
    args: &Args,
    device: &Device,
) -> (Tensor<3>, Tensor<2, Int>, Tensor<2, Int>) {
    let (b, t, cells, d) = (
        args.batch,
        args.caption_len,
        args.grid * args.grid,
        args.d_annotation,
    );
    let annotations: Vec<f32> = (0..b * cells * d).map(|_| rng.random::<f32>()).collect();
    let (mut tgt_in, mut tgt_out) = (vec![PAD as i64; b * t], vec![PAD as i64; b * t]);
    for row in 0..b {
        let words = rng.random_range((t / 2).max(1)..t);
        let at = row * t;
        tgt_in[at] = BOS as i64;
        for i in 0..words {
            let id = rng.random_range(FIRST_WORD..args.vocab as u32) as i64;
            tgt_in[at + i + 1] = id;
            tgt_out[at + i] = id;
        }
        tgt_out[at + words] = EOS as i64;
    }
    (
        Tensor::from_data(TensorData::new(annotations, [b, cells, d]), device),
        Tensor::from_data(TensorData::new(tgt_in, [b, t]), device),
        Tensor::from_data(TensorData::new(tgt_out, [b, t]), device),
    )
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    run_in_pool(args.threads, move || bench(args))
}

fn bench(args: Args) -> anyhow::Result<()> {
    if args.batch == 0 || args.steps == 0 || args.caption_len < 2 {
        anyhow::bail!("need --batch >= 1, --steps >= 1 and --caption-len >= 2");
    }
    if args.vocab <= FIRST_WORD as usize {
        anyhow::bail!("--vocab must exceed {FIRST_WORD} (PAD, BOS, EOS, UNK, then words)");
    }
    let context = match args.context.as_str() {
        "none" => ContextKind::None,
        "hard" => ContextKind::Hard,
        _ => ContextKind::Soft,
    };
    let encoder_config = ImageEncoderConfig::new()
        .with_canvas(args.canvas)
        .with_channels(args.encoder_channels.clone())
        .with_grid(args.grid)
        .with_d_annotation(args.d_annotation);
    encoder_config.check().map_err(anyhow::Error::msg)?;
    let cells = encoder_config.cells();

    // 1. The captioner's training step.
    let device = harness::device(args.seed)?;
    let model = CaptionerConfig::new(args.vocab)
        .with_d_embed(args.d_embed)
        .with_d_hidden(args.d_hidden)
        .with_d_annotation(args.d_annotation)
        .with_d_attention(args.d_attention)
        .with_grid_cells(cells)
        .with_context(context)
        .with_doubly_stochastic(DOUBLY_STOCHASTIC)
        .with_hard_expected(HARD_EXPECTED)
        .init(&device);
    let params = model.num_params();
    let mut rng = StdRng::seed_from_u64(args.seed);
    // One extra step: the last one is not timed (nothing asks for a batch after it).
    let total = args.warmup + args.steps + 1;
    let mut times = Vec::with_capacity(total);
    let mut step_started: Option<Instant> = None;
    let settings = OptimizerSettings {
        steps: total,
        learning_rate: LEARNING_RATE,
        grad_clip: GRAD_CLIP,
        schedule: LearningRateSchedule::Constant,
    };
    let next_batch = || {
        if let Some(started) = step_started {
            times.push(started.elapsed());
        }
        let batch = random_batch(&mut rng, &args, &device);
        step_started = Some(Instant::now());
        batch
    };
    let trained = train_loop(
        &settings,
        model,
        &format!("bench captioner {}", args.context),
        0,
        next_batch,
        |m, batch, step| captioner_loss(m, batch, REINFORCE, step),
    )?;
    let _ = trained.model.valid();
    // times[i] is step i+1; drop the warm-up.
    let step_ms: Vec<f64> = times
        .iter()
        .skip(args.warmup)
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let timed_steps = step_ms.len();
    let (median, p10, p90) = median_p10_p90(step_ms);

    // 2. The encoder on its own: forward without autodiff, forward + backward with it.
    let encoder = encoder_config.init(&device);
    let encoder_params = encoder.num_params();
    let mut image_rng = StdRng::seed_from_u64(args.seed.wrapping_add(2));
    let image_shape = [args.batch, 3, args.canvas, args.canvas];
    let pixels: Vec<f32> = (0..image_shape.iter().product::<usize>())
        .map(|_| image_rng.random::<f32>())
        .collect();
    let images = |device: &Device| {
        Tensor::<4>::from_data(TensorData::new(pixels.clone(), image_shape), device)
    };
    let (fwd, fwd_bwd) = if args.encoder_steps > 0 {
        let plain = device.clone().without_autodiff();
        let frozen = encoder.valid();
        let plain_images = images(&plain);
        let fwd = time_calls(args.warmup, args.encoder_steps, || {
            let annotations = frozen.forward(plain_images.clone()); // [B, L, D]
            let _ = annotations.into_data(); // wait for the result
        });
        let images = images(&device);
        let fwd_bwd = time_calls(args.warmup, args.encoder_steps, || {
            let grads = encoder.forward(images.clone()).sum().backward();
            drop(grads);
        });
        (Some(median_p10_p90(fwd)), Some(median_p10_p90(fwd_bwd)))
    } else {
        (None, None)
    };

    let peak = peak_rss_mib();
    let fmt_ms = |s: Option<(f64, f64, f64)>| {
        s.map_or("skipped".to_string(), |(m, lo, hi)| {
            format!("median {m:.2} ms (p10 {lo:.2}, p90 {hi:.2})")
        })
    };
    println!(
        "{} backend, {} threads, context {}, batch {}, caption length {}, {} cells of {}: \
         captioner {params} parameters, encoder {encoder_params}",
        harness::backend_name(),
        args.threads,
        args.context,
        args.batch,
        args.caption_len,
        cells,
        args.d_annotation,
    );
    println!(
        "training step: median {median:.2} ms over {timed_steps} steps (p10 {p10:.2}, p90 {p90:.2})"
    );
    println!("encoder forward: {}", fmt_ms(fwd));
    println!("encoder forward+backward: {}", fmt_ms(fwd_bwd));
    println!(
        "peak RSS {} MiB",
        peak.map_or("unknown".to_string(), |m| format!("{m:.0}"))
    );
    let pick = |s: Option<(f64, f64, f64)>, i: usize| s.map(|t| [t.0, t.1, t.2][i]);
    let result = serde_json::json!({
        "context": args.context, "batch": args.batch, "caption_len": args.caption_len,
        "threads": args.threads, "steps": timed_steps, "warmup": args.warmup,
        "encoder_steps": args.encoder_steps, "seed": args.seed,
        "backend": harness::backend_name(),
        "vocab": args.vocab, "canvas": args.canvas, "encoder_channels": args.encoder_channels,
        "grid": args.grid, "d_annotation": args.d_annotation, "d_embed": args.d_embed,
        "d_hidden": args.d_hidden, "d_attention": args.d_attention,
        "params": params, "encoder_params": encoder_params,
        "median_ms": median, "p10_ms": p10, "p90_ms": p90,
        "encoder_fwd_ms": pick(fwd, 0), "encoder_fwd_p10_ms": pick(fwd, 1),
        "encoder_fwd_p90_ms": pick(fwd, 2),
        "encoder_fwd_bwd_ms": pick(fwd_bwd, 0), "encoder_fwd_bwd_p10_ms": pick(fwd_bwd, 1),
        "encoder_fwd_bwd_p90_ms": pick(fwd_bwd, 2),
        "peak_rss_mib": peak,
    });
    println!("RESULT {result}");
    Ok(())
}
