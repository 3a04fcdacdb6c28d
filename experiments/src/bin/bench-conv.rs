//! Every convolution layer of AttnGAN's players at the `text-to-image` quick preset's sizes,
//! timed one pass at a time through `models::kernels::conv` (the path `kernels::conv2d`
//! takes on the flex backend): the forward pass, the weight gradient alone and the input
//! gradient alone, as the training step asks for them.
//!
//! The shapes are those `bench-attngan` runs (the generator's 3 × 3 layers, the
//! discriminators' 4 × 4 stride-2 layers, their conditional heads' 3 × 3 joins on 3 × 3
//! maps and their one-pixel heads); inputs are fixed waves, which the time does not depend
//! on. Prints the median, p10 and p90 milliseconds of each pass and the forward pass's
//! GFLOP/s; the last stdout line is `RESULT {json}`.

use std::process::ExitCode;

use clap::Parser;
use experiments::bench_timing::{median_p10_p90, time_calls};
use experiments::cli::run_in_pool;
use models::kernels::conv::{ConvGeometry, conv2d_backward, conv2d_forward};

/// Times each convolution layer of AttnGAN's players, pass by pass (median ms).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Images per call (bench-attngan's default batch).
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed calls of each pass (after the warm-up).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Untimed warm-up calls of each pass.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Worker threads for the kernels' parallel loops.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Time only the layers whose name contains this (e.g. "64x6x6", "4x4/2"), as the
    /// table names them: to profile one layer.
    #[arg(long)]
    only: Option<String>,
}

/// A layer: its player, input channels, input side, output channels, kernel side, stride
/// and padding (all sides).
type Layer = (&'static str, usize, usize, usize, usize, usize, usize);

/// The convolutions of the quick preset's generator (C = 16) and discriminators (d_base 16,
/// final side 3, sentences of 64), once each.
const LAYERS: [Layer; 16] = [
    ("generator", 32, 24, 64, 3, 1, 1),
    ("generator", 32, 24, 32, 3, 1, 1),
    ("generator", 16, 24, 3, 3, 1, 1),
    ("generator", 64, 12, 64, 3, 1, 1),
    ("generator", 32, 48, 32, 3, 1, 1),
    ("generator", 16, 48, 3, 3, 1, 1),
    ("discriminator 2", 3, 48, 16, 4, 2, 1),
    ("discriminator 2", 16, 24, 32, 4, 2, 1),
    ("discriminator 2", 32, 12, 64, 4, 2, 1),
    ("discriminator 2", 64, 6, 128, 4, 2, 1),
    ("discriminator 2", 192, 3, 128, 3, 1, 1),
    ("discriminator 2", 128, 3, 1, 3, 1, 0),
    ("discriminator 1", 3, 24, 16, 4, 2, 1),
    ("discriminator 1", 16, 12, 32, 4, 2, 1),
    ("discriminator 1", 32, 6, 64, 4, 2, 1),
    ("discriminator 1", 128, 3, 64, 3, 1, 1),
];

fn wave(n: usize, k: f32) -> Vec<f32> {
    (0..n).map(|i| (i as f32 * k).sin()).collect()
}

fn main() -> ExitCode {
    let args = Args::parse();
    run_in_pool(args.threads, move || {
        anyhow::ensure!(
            args.batch > 0 && args.steps > 0,
            "--batch and --steps must be at least 1"
        );
        println!(
            "{:<16} {:>24} {:>10} {:>8} {:>10} {:>10}",
            "player", "layer", "fwd ms", "GFLOP/s", "dW ms", "dX ms"
        );
        let mut rows = Vec::new();
        let mut totals = [0.0f64; 3];
        for (player, c_in, side, c_out, kernel, stride, pad) in LAYERS {
            let g = ConvGeometry {
                batch: args.batch,
                c_in,
                input: [side, side],
                c_out,
                kernel: [kernel, kernel],
                stride: [stride, stride],
                padding: [pad; 4],
            };
            let name = format!("{c_in}x{side}x{side} -> {c_out}, {kernel}x{kernel}/{stride}");
            if args
                .only
                .as_ref()
                .is_some_and(|only| !name.contains(only.as_str()))
            {
                continue;
            }
            let x = wave(args.batch * c_in * side * side, 0.37);
            let w = wave(c_out * g.patch(), 1.13);
            let dy = wave(args.batch * c_out * g.pixels(), 0.71);
            let (warmup, steps) = (args.warmup, args.steps);
            let pass = |f: &dyn Fn()| median_p10_p90(time_calls(warmup, steps, f));
            let forward = pass(&|| drop(conv2d_forward(&x, &w, &g)));
            let weight = pass(&|| drop(conv2d_backward(&x, &w, &dy, &g, [false, true])));
            let input = pass(&|| drop(conv2d_backward(&x, &w, &dy, &g, [true, false])));
            let flops = 2.0 * (args.batch * c_out * g.pixels() * g.patch()) as f64;
            println!(
                "{player:<16} {name:>24} {:>10.3} {:>8.0} {:>10.3} {:>10.3}",
                forward.0,
                flops / forward.0 / 1e6,
                weight.0,
                input.0
            );
            for (total, part) in totals.iter_mut().zip([forward.0, weight.0, input.0]) {
                *total += part;
            }
            rows.push(serde_json::json!({
                "player": player, "c_in": c_in, "side": side, "c_out": c_out,
                "kernel": kernel, "stride": stride, "padding": pad,
                "forward_ms": forward.0, "forward_p10_ms": forward.1, "forward_p90_ms": forward.2,
                "weight_grad_ms": weight.0, "weight_grad_p10_ms": weight.1, "weight_grad_p90_ms": weight.2,
                "input_grad_ms": input.0, "input_grad_p10_ms": input.1, "input_grad_p90_ms": input.2,
            }));
        }
        println!(
            "{:<16} {:>24} {:>10.3} {:>8} {:>10.3} {:>10.3}",
            "all", "", totals[0], "", totals[1], totals[2]
        );
        let result = serde_json::json!({
            "batch": args.batch, "threads": args.threads, "steps": args.steps,
            "warmup": args.warmup, "layers": rows,
        });
        println!("RESULT {result}");
        Ok(())
    })
}
