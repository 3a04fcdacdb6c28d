//! One attention step of a decoder, timed alone, as `bench/pytorch/attn_kernel_bench.py` times
//! it in PyTorch: scores, masked softmax and context for a batch of 64 queries against 50
//! annotations of size 256, for the additive, dot and scaled-dot scores. Forward alone (no
//! autodiff) and forward plus backward of `sum(c ⊙ g)` with respect to the query, the
//! annotations, the precomputed keys and the score's parameters. Prints the median
//! microseconds per step of each, and one `RESULT {json}` line per score.

use std::time::Instant;

use burn::tensor::{Bool, Device, Distribution, Int, Tensor};
use clap::Parser;
use experiments::cli::run_in_pool;
use models::attention::attend;
use models::scores::{Score, ScoreConfig, ScoreKind};

/// Times one decoder attention step (scores, masked softmax, context), forward and backward.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Queries per step.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Annotations per query (source length).
    #[arg(long, default_value_t = 50)]
    src_len: usize,
    /// Size of the query, of each annotation and of the additive score's hidden layer.
    #[arg(long, default_value_t = 256)]
    hidden: usize,
    /// Worker threads for the backend's parallel kernels.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Calls per timed repetition (7 repetitions, median reported); 0 calibrates each to
    /// about 1/7 s, as the PyTorch script does.
    #[arg(long, default_value_t = 0)]
    iters: usize,
    /// Seed of the inputs and weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Median seconds per call of `f` over 7 repetitions of `iters` calls (calibrated when 0),
/// after 5 untimed calls.
fn time_per_call(iters: usize, mut f: impl FnMut()) -> f64 {
    const REPS: usize = 7;
    for _ in 0..5 {
        f();
    }
    let mut n = iters.max(1);
    if iters == 0 {
        loop {
            let t0 = Instant::now();
            (0..n).for_each(|_| f());
            if t0.elapsed().as_secs_f64() > 1.0 / REPS as f64 {
                break;
            }
            n *= 2;
        }
    }
    let mut times: Vec<f64> = (0..REPS)
        .map(|_| {
            let t0 = Instant::now();
            (0..n).for_each(|_| f());
            t0.elapsed().as_secs_f64() / n as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[REPS / 2]
}

/// The step's inputs: annotations `[B, S, D]`, query `[B, D]`, mask `[B, S]` (each row
/// real for a random length in `[S/2, S]`, the first row full), the output weighting `g`.
struct Inputs {
    annotations: Tensor<3>,
    query: Tensor<2>,
    mask: Tensor<2, Bool>,
    g: Tensor<2>,
}

// `slice_assign([0..1], ..)` is one range for the one dimension, not a vector of a range.
#[allow(clippy::single_range_in_vec_init)]
fn inputs(args: &Args, device: &Device) -> Inputs {
    let normal = Distribution::Normal(0.0, 1.0);
    let (b, s, d) = (args.batch, args.src_len, args.hidden);
    let lengths = Tensor::<1, Int>::random(
        [b],
        Distribution::Uniform((s / 2) as f64, (s + 1) as f64),
        device,
    )
    .slice_assign([0..1], Tensor::from_ints([s as i32], device));
    let positions = Tensor::<1, Int>::arange(0..s as i64, device).unsqueeze_dim::<2>(0); // [1, S]
    Inputs {
        annotations: Tensor::random([b, s, d], normal, device),
        query: Tensor::random([b, d], normal, device),
        mask: positions.lower(lengths.unsqueeze_dim::<2>(1)), // [B, S]
        g: Tensor::random([b, d], normal, device),
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    run_in_pool(args.threads, move || bench(args))
}

fn bench(args: Args) -> anyhow::Result<()> {
    if args.batch == 0 || args.src_len < 2 || args.hidden == 0 {
        anyhow::bail!("need --batch >= 1, --src-len >= 2 and --hidden >= 1");
    }
    let device = harness::device(args.seed)?;
    let plain = device.clone().inner();
    println!(
        "{} backend, {} threads, batch {}, source length {}, hidden {}",
        harness::backend_name(),
        args.threads,
        args.batch,
        args.src_len,
        args.hidden
    );
    for kind in [ScoreKind::Additive, ScoreKind::Dot, ScoreKind::ScaledDot] {
        let config = ScoreConfig::new(kind, args.hidden, args.hidden).with_d_attention(args.hidden);
        // Forward alone, no autodiff.
        let score: Score = config.init(&plain);
        let x = inputs(&args, &plain);
        let prepared = score.prepare(x.annotations.clone()); // U H, once per sequence
        let fwd = time_per_call(args.iters, || {
            let scores = score.scores(x.query.clone(), &prepared);
            let context = attend(scores, x.mask.clone(), &x.annotations).context;
            let _ = context.into_data(); // wait for the result, as a step would
        });
        // Forward and backward with respect to the query, annotations, keys and parameters.
        let score: Score = config.init(&device);
        let x = inputs(&args, &device);
        let prepared = score.prepare(x.annotations.clone()).detach();
        let fwd_bwd = time_per_call(args.iters, || {
            let (query, annotations, keys) = (
                x.query.clone().require_grad(),
                x.annotations.clone().require_grad(),
                prepared.clone().require_grad(),
            );
            let scores = score.scores(query, &keys);
            let context = attend(scores, x.mask.clone(), &annotations).context;
            let grads = (context * x.g.clone()).sum().backward();
            drop(grads);
        });
        println!(
            "{:>10}: forward {:8.1} µs   forward+backward {:8.1} µs",
            kind.name(),
            fwd * 1e6,
            fwd_bwd * 1e6
        );
        let result = serde_json::json!({
            "variant": kind.name(), "batch": args.batch, "src_len": args.src_len,
            "hidden": args.hidden, "threads": args.threads, "backend": harness::backend_name(),
            "fwd_us": fwd * 1e6, "fwd_bwd_us": fwd_bwd * 1e6,
        });
        println!("RESULT {result}");
    }
    Ok(())
}
