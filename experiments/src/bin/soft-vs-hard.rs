//! Soft (deterministic) against hard (stochastic, REINFORCE) attention (Xu et al. 2015).

fn main() -> std::process::ExitCode {
    experiments::cli::main::<experiments::soft_vs_hard::SoftVsHard>()
}
