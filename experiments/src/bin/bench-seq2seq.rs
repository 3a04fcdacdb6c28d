//! The reference training workload of `bench/pytorch/seq2seq_bench.py`, timed: a GRU
//! encoder-decoder (embeddings 64, bidirectional encoder 128 per direction, decoder 256,
//! vocabulary 32, attention 256) on fresh random reverse batches, Adam. Prints the median
//! milliseconds per training step (forward, backward, optimizer; after a warm-up) and the
//! peak resident memory, for comparison with the PyTorch script on the same flags.
//!
//! Differences from the PyTorch model, both small: our readout also sees the previous word's
//! embedding (`[s_t; E y_{t-1}; c_t]`, +64 inputs), and padding is handled by masked steps
//! rather than packed sequences.

use std::time::Instant;

use burn::module::Module;
use clap::Parser;
use experiments::bench_timing::{median_p10_p90, peak_rss_mib};
use experiments::cli::run_in_pool;
use experiments::training::{
    LearningRateSchedule, OptimizerSettings, cross_entropy_loss, train_loop,
};
use models::seq2seq::{
    Architecture, Seq2SeqConfig, ids_tensor, mask_tensor, sequence_cross_entropy,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Times one training step of the reference seq2seq workload (median ms, peak memory).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// plain (RNNencdec) or additive (RNNsearch).
    #[arg(long, default_value = "additive", value_parser = ["plain", "additive"])]
    model: String,
    /// Shortest source sequence.
    #[arg(long, default_value_t = 10)]
    min_len: usize,
    /// Longest source sequence.
    #[arg(long, default_value_t = 20)]
    max_len: usize,
    /// Sequences per step.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Timed steps (after the warm-up).
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Seed of the weights and the batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads for the backend's parallel kernels (as `torch.set_num_threads`).
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

const VOCAB: usize = 32;
const FIRST_TOKEN: u32 = 3;

/// A random reverse batch: src, mask `[B, L+1]`, decoder input and target `[B, L+1]`.
fn reverse_batch(
    rng: &mut StdRng,
    args: &Args,
) -> (Vec<u32>, Vec<bool>, Vec<u32>, Vec<u32>, usize) {
    let lens: Vec<usize> = (0..args.batch)
        .map(|_| rng.random_range(args.min_len..=args.max_len))
        .collect();
    let width = lens.iter().max().copied().unwrap_or(1) + 1;
    let (mut src, mut mask) = (
        vec![0u32; args.batch * width],
        vec![false; args.batch * width],
    );
    let (mut tgt_in, mut tgt_out) = (
        vec![0u32; args.batch * width],
        vec![0u32; args.batch * width],
    );
    for (b, &len) in lens.iter().enumerate() {
        let x: Vec<u32> = (0..len)
            .map(|_| rng.random_range(FIRST_TOKEN..VOCAB as u32))
            .collect();
        let row = b * width;
        for i in 0..len {
            src[row + i] = x[i];
            tgt_out[row + i] = x[len - 1 - i];
            tgt_in[row + i + 1] = x[len - 1 - i];
        }
        src[row + len] = models::seq2seq::EOS;
        tgt_out[row + len] = models::seq2seq::EOS;
        tgt_in[row] = models::seq2seq::BOS;
        mask[row..row + len + 1].iter_mut().for_each(|m| *m = true);
    }
    (src, mask, tgt_in, tgt_out, width)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    run_in_pool(args.threads, move || bench(args))
}

fn bench(args: Args) -> anyhow::Result<()> {
    if args.min_len == 0 || args.min_len > args.max_len || args.batch == 0 || args.steps == 0 {
        anyhow::bail!("need 1 <= --min-len <= --max-len, --batch >= 1 and --steps >= 1");
    }
    let device = harness::device(args.seed)?;
    let architecture = if args.model == "plain" {
        Architecture::RnnEncDec
    } else {
        Architecture::RnnSearch
    };
    let model = Seq2SeqConfig::new(architecture, VOCAB, VOCAB)
        .with_d_attention(256)
        .init(&device);
    let mut rng = StdRng::seed_from_u64(args.seed);
    // One extra step: the last one is not timed (nothing asks for a batch after it).
    let total = args.warmup + args.steps + 1;
    let mut times = Vec::with_capacity(total);
    let mut step_started: Option<Instant> = None;
    let settings = OptimizerSettings {
        steps: total,
        learning_rate: 1e-3,
        // No clipping, as the reference (`--clip 0`).
        grad_clip: f64::INFINITY,
        schedule: LearningRateSchedule::Constant,
    };
    // A step is timed from the moment its batch is ready to the moment the next one is
    // asked for: forward, backward and optimizer, not the batch's generation (as the
    // reference times it).
    let next_batch = || {
        if let Some(started) = step_started {
            times.push(started.elapsed());
        }
        let (src, mask, tgt_in, tgt_out, width) = reverse_batch(&mut rng, &args);
        let b = args.batch;
        let batch = (
            ids_tensor(&src, b, width, &device),
            mask_tensor(&mask, b, width, &device),
            ids_tensor(&tgt_in, b, width, &device),
            ids_tensor(&tgt_out, b, width, &device),
        );
        step_started = Some(Instant::now());
        batch
    };
    let result = train_loop(
        &settings,
        model,
        &format!("bench {}", args.model),
        0,
        next_batch,
        |m, (src, mask, tgt_in, tgt_out), _| {
            cross_entropy_loss(sequence_cross_entropy(
                m.forward(src.clone(), mask.clone(), tgt_in.clone()).logits,
                tgt_out.clone(),
            ))
        },
    );
    let trained = result?;
    // times[i] is step i+1 (the last step is not followed by a request, so it is not
    // timed); drop the warm-up.
    let ms: Vec<f64> = times
        .iter()
        .skip(args.warmup)
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let _ = trained.model.valid();
    let timed_steps = ms.len();
    let (median, p10, p90) = median_p10_p90(ms);
    let peak = peak_rss_mib();
    println!(
        "{} backend, {} threads, model {}, lengths {}-{}, batch {}: median {median:.1} ms/step over {} steps (p10 {p10:.1}, p90 {p90:.1}), peak RSS {} MiB",
        harness::backend_name(),
        args.threads,
        args.model,
        args.min_len,
        args.max_len,
        args.batch,
        timed_steps,
        peak.map_or("unknown".to_string(), |m| format!("{m:.0}"))
    );
    let result = serde_json::json!({
        "model": args.model, "min_len": args.min_len, "max_len": args.max_len,
        "batch": args.batch, "threads": args.threads, "steps": timed_steps,
        "backend": harness::backend_name(), "median_ms": median, "p10_ms": p10,
        "p90_ms": p90, "peak_rss_mib": peak,
    });
    println!("RESULT {result}");
    Ok(())
}
