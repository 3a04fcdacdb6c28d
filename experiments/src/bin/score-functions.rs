//! The six alignment scores side by side: content (Graves 2014), additive (Bahdanau 2015),
//! location, general, dot (Luong 2015), scaled dot (Vaswani 2017).

fn main() -> std::process::ExitCode {
    experiments::cli::main::<experiments::score_functions::ScoreFunctions>()
}
