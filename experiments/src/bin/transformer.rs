//! RNNencdec, RNNsearch and the Transformer (Vaswani et al. 2017): quality per source length,
//! and the cost of a training step and of decoding against sequence length.

fn main() -> std::process::ExitCode {
    experiments::cli::main::<experiments::transformer::TransformerExperiment>()
}
