//! Show, Attend and Tell (Xu et al. 2015) on captioned scenes: no, soft and hard attention.

fn main() -> std::process::ExitCode {
    experiments::cli::main::<experiments::captioning::Captioning>()
}
