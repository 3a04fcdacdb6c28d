//! The recurrent attention model (Mnih et al. 2014) against whole-image networks on
//! translated and cluttered digits.

fn main() -> std::process::ExitCode {
    experiments::cli::main::<experiments::glimpses::Glimpses>()
}
