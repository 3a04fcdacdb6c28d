//! One training step of AttnGAN (Xu et al. 2018) as the `text-to-image` experiment runs it,
//! timed, as `bench/pytorch/attngan_bench.py` times the same workload in PyTorch.
//!
//! Three workloads, the sizes of the experiment's quick preset
//! (`experiments::text_to_image::Config::preset(Preset::Quick, ..)`; only the batch can be
//! changed here):
//!
//! 1. The whole training step, `experiments::text_to_image::train::gan_step` itself, on the
//!    experiment's own `Players::new`: the frozen DAMSM text encoder (a bidirectional LSTM)
//!    on the captions; one generator forward pass (conditioning augmentation, FC + GLU, two
//!    upsampling blocks, the 24-pixel image, word attention, residual blocks, one more
//!    upsampling block, the 48-pixel image); the discriminators' step (both stages: real,
//!    detached drawn and mismatched logits, BCE losses, Adam with β1 = 0.5); then the
//!    generator's step against the updated discriminators (both stages' adversarial losses,
//!    the KL term and, but for `--variant no-damsm`, λ times the DAMSM loss of the 48-pixel
//!    images through the frozen DAMSM image encoder; Adam). The DAMSM is randomly
//!    initialized, not pretrained (frozen, as the experiment freezes its pretrained one):
//!    the work is the same. Each step gets a fresh random batch (not timed): captions of
//!    `--min-words` to `--max-words` random words (the scene captions' lengths), PAD-padded
//!    to the batch's longest, and images uniform in `[0, 1)` at 48 and 24 pixels.
//! 2. The two discriminators alone (the convolution-heavy part): forward on one random
//!    batch of real images of each stage with sentences, and backward from the sum of both
//!    logits of both (the gradients of every discriminator parameter).
//! 3. The generator alone: forward from one batch's sentences, words and noise, and backward
//!    from the sum of its 48-pixel images.
//!
//! The step is also timed phase by phase (`train::STEP_PHASES`, through `gan_step_timed`: a
//! clock read as each phase ends, which flex allows since it finishes every operation
//! before returning), as the PyTorch script times its own.
//!
//! Prints the median, p10 and p90 milliseconds of each, the parameter counts and the peak
//! resident memory; the last stdout line is `RESULT {json}`, the phases as
//! `phase_<name>_ms` (and `_p10_ms`, `_p90_ms`).

use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use clap::Parser;
use experiments::bench_timing::{median_p10_p90, peak_rss_mib, time_calls};
use experiments::cli::run_in_pool;
use experiments::experiment::Preset;
use experiments::text_to_image::pretrain::Damsm;
use experiments::text_to_image::train::{
    GanBatch, GanObjective, Players, STEP_PHASES, gan_step_timed,
};
use experiments::text_to_image::{Config, TextToImageTask, Variant};
use models::seq2seq::PAD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Times AttnGAN's training step and its two players' passes (median ms, peak memory).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// AttnGAN, or one of its ablations (no word attention; no DAMSM loss).
    #[arg(long, default_value = "attngan", value_parser = ["attngan", "sentence-only", "no-damsm"])]
    variant: String,
    /// Captions (and images) per step; at least 2 (the mismatched pairs).
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed training steps (after the warm-up).
    #[arg(long, default_value_t = 30)]
    steps: usize,
    /// Untimed warm-up steps (of the training step, and of each part).
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Timed calls of each part (discriminators, generator) after the warm-up; 0 skips them.
    #[arg(long, default_value_t = 30)]
    part_steps: usize,
    /// Seed of the weights and the random inputs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads for the backend's parallel kernels (as `torch.set_num_threads`).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Vocabulary size, PAD, BOS, EOS and UNK included (the scene captions': 53).
    #[arg(long, default_value_t = 53)]
    vocab: usize,
    /// Fewest words of a caption.
    #[arg(long, default_value_t = 6)]
    min_words: usize,
    /// Most words of a caption.
    #[arg(long, default_value_t = 24)]
    max_words: usize,
}

/// The first ordinary word: PAD, BOS, EOS and UNK come first.
const FIRST_WORD: u32 = 4;

/// Caption ids `[B, T]`: `min_words..=max_words` random words each, PAD-padded to the
/// longest (as `text_to_image::pretrain::tokens_tensor` pads a batch).
fn random_tokens(rng: &mut StdRng, args: &Args, device: &Device) -> Tensor<2, Int> {
    let lengths: Vec<usize> = (0..args.batch)
        .map(|_| rng.random_range(args.min_words..=args.max_words))
        .collect();
    let len = *lengths.iter().max().expect("a batch of at least 2");
    let mut ids = vec![PAD as i64; args.batch * len];
    for (row, &words) in lengths.iter().enumerate() {
        for t in 0..words {
            ids[row * len + t] = rng.random_range(FIRST_WORD..args.vocab as u32) as i64;
        }
    }
    Tensor::from_data(TensorData::new(ids, [args.batch, len]), device)
}

/// Random images `[B, 3, side, side]` uniform in `[0, 1)`.
fn random_images(rng: &mut StdRng, batch: usize, side: usize, device: &Device) -> Tensor<4> {
    let shape = [batch, 3, side, side];
    let pixels: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| rng.random::<f32>())
        .collect();
    Tensor::from_data(TensorData::new(pixels, shape), device)
}

/// A fresh random batch of captions and real images at both stages' sides.
fn random_batch(rng: &mut StdRng, args: &Args, canvas: usize, device: &Device) -> GanBatch {
    GanBatch {
        tokens: random_tokens(rng, args, device),
        real1: random_images(rng, args.batch, canvas / 2, device),
        real2: random_images(rng, args.batch, canvas, device),
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    run_in_pool(args.threads, move || bench(args))
}

fn bench(args: Args) -> anyhow::Result<()> {
    if args.batch < 2 || args.steps == 0 {
        anyhow::bail!("need --batch >= 2 (the mismatched pairs) and --steps >= 1");
    }
    if args.vocab <= FIRST_WORD as usize {
        anyhow::bail!("--vocab must exceed {FIRST_WORD} (PAD, BOS, EOS, UNK, then words)");
    }
    if args.min_words == 0 || args.min_words > args.max_words {
        anyhow::bail!("need 1 <= --min-words <= --max-words");
    }
    let variant = *Variant::ALL
        .iter()
        .find(|v| v.name() == args.variant)
        .expect("clap checks the variant");
    let mut config = Config::preset(Preset::Quick, &TextToImageTask::Scenes);
    config.batch_size = args.batch;
    let canvas = config.canvas;

    // 1. The training step, as the experiment runs it.
    let device = harness::device(args.seed)?;
    let mut players = Players::new(&config, variant, &device);
    let generator_params = players.generator.num_params();
    let discriminator1_params = players.discriminators.stage1.num_params();
    let discriminator2_params = players.discriminators.stage2.num_params();
    let damsm = Damsm {
        text: config.damsm_text(args.vocab).init(&device),
        image: config.damsm_image().init(&device),
    }
    .freeze();
    let (text_params, image_params) = (damsm.text.num_params(), damsm.image.num_params());
    let objective = GanObjective {
        damsm,
        matching: config.damsm(),
        damsm_weight: if variant.uses_damsm() {
            config.damsm_weight
        } else {
            0.0
        },
        kl_weight: config.kl_weight,
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut step_ms = Vec::with_capacity(args.steps);
    // Each phase's time in every timed step (the clock read as the phase ends).
    let mut phase_ms = vec![Vec::with_capacity(args.steps); STEP_PHASES.len()];
    let mut last = None;
    for step in 0..args.warmup + args.steps {
        let batch = random_batch(&mut rng, &args, canvas, &device);
        let mut phases = [0.0f64; STEP_PHASES.len()];
        let t0 = Instant::now();
        let mut lap = t0;
        let losses = gan_step_timed(
            &config,
            &mut players,
            &objective,
            &batch,
            &device,
            &mut |i| {
                let now = Instant::now();
                phases[i] = (now - lap).as_secs_f64() * 1000.0;
                lap = now;
            },
        );
        let elapsed = t0.elapsed().as_secs_f64() * 1000.0;
        if !(losses.discriminator.is_finite() && losses.generator.is_finite()) {
            anyhow::bail!("a loss became non-finite at step {}: {losses:?}", step + 1);
        }
        if step >= args.warmup {
            step_ms.push(elapsed);
            for (all, ms) in phase_ms.iter_mut().zip(phases) {
                all.push(ms);
            }
        }
        last = Some(losses);
    }
    let timed_steps = step_ms.len();
    let (median, p10, p90) = median_p10_p90(step_ms);
    let phases: Vec<(f64, f64, f64)> = phase_ms.into_iter().map(median_p10_p90).collect();

    // 2 and 3. The players on their own, on one batch.
    let (discriminators, generator) = if args.part_steps > 0 {
        let batch = random_batch(&mut rng, &args, canvas, &device);
        let text = objective.damsm.text.forward(batch.tokens.clone());
        let sentence = text.sentence.clone().detach();
        let d = &players.discriminators;
        let discriminators = time_calls(args.warmup, args.part_steps, || {
            let one = d.stage1.forward(batch.real1.clone(), sentence.clone());
            let two = d.stage2.forward(batch.real2.clone(), sentence.clone());
            let total = one.unconditional.sum()
                + one.conditional.sum()
                + two.unconditional.sum()
                + two.conditional.sum();
            drop(total.backward());
        });
        let g = &players.generator;
        let noise = g.draw_noise(args.batch, &device);
        let words = text.words.clone().detach();
        let generator = time_calls(args.warmup, args.part_steps, || {
            let out = g.forward(
                sentence.clone(),
                words.clone(),
                text.mask.clone(),
                noise.clone(),
            );
            drop(out.image1.sum().backward());
        });
        (
            Some(median_p10_p90(discriminators)),
            Some(median_p10_p90(generator)),
        )
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
        "{} backend, {} threads, variant {}, batch {}, canvas {canvas}, captions of {} to {} \
         words: generator {generator_params} parameters, discriminators {} ({} + {}), \
         DAMSM text encoder {text_params}, image encoder {image_params} (frozen)",
        harness::backend_name(),
        args.threads,
        args.variant,
        args.batch,
        args.min_words,
        args.max_words,
        discriminator1_params + discriminator2_params,
        discriminator1_params,
        discriminator2_params,
    );
    let last = last.expect("at least one step");
    println!(
        "training step: median {median:.2} ms over {timed_steps} steps (p10 {p10:.2}, p90 \
         {p90:.2}); last losses: discriminators {:.4}, generator {:.4}, DAMSM {:.4}",
        last.discriminator, last.generator, last.damsm
    );
    for (name, (m, lo, hi)) in STEP_PHASES.iter().zip(&phases) {
        println!("  phase {name}: median {m:.2} ms (p10 {lo:.2}, p90 {hi:.2})");
    }
    println!(
        "discriminators forward+backward (real images): {}",
        fmt_ms(discriminators)
    );
    println!("generator forward+backward: {}", fmt_ms(generator));
    println!(
        "peak RSS {} MiB",
        peak.map_or("unknown".to_string(), |m| format!("{m:.0}"))
    );
    let pick = |s: Option<(f64, f64, f64)>, i: usize| s.map(|t| [t.0, t.1, t.2][i]);
    let mut result = serde_json::json!({
        "variant": args.variant, "batch": args.batch, "threads": args.threads,
        "steps": timed_steps, "warmup": args.warmup, "part_steps": args.part_steps,
        "seed": args.seed, "backend": harness::backend_name(),
        "vocab": args.vocab, "min_words": args.min_words, "max_words": args.max_words,
        "canvas": canvas, "d_common": config.d_common, "d_hidden": config.d_hidden,
        "generator_params": generator_params,
        "discriminator_params": discriminator1_params + discriminator2_params,
        "discriminator1_params": discriminator1_params,
        "discriminator2_params": discriminator2_params,
        "damsm_text_params": text_params, "damsm_image_params": image_params,
        "median_ms": median, "p10_ms": p10, "p90_ms": p90,
        "disc_fwd_bwd_ms": pick(discriminators, 0),
        "disc_fwd_bwd_p10_ms": pick(discriminators, 1),
        "disc_fwd_bwd_p90_ms": pick(discriminators, 2),
        "gen_fwd_bwd_ms": pick(generator, 0), "gen_fwd_bwd_p10_ms": pick(generator, 1),
        "gen_fwd_bwd_p90_ms": pick(generator, 2),
        "peak_rss_mib": peak,
    });
    // Each phase as `phase_<name>_ms`, `_p10_ms` and `_p90_ms`.
    for (name, (m, lo, hi)) in STEP_PHASES.iter().zip(phases) {
        for (suffix, value) in [("", m), ("_p10", lo), ("_p90", hi)] {
            result[format!("phase_{name}{suffix}_ms")] = serde_json::json!(value);
        }
    }
    println!("RESULT {result}");
    Ok(())
}
