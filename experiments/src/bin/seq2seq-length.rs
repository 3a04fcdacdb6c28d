//! Plain encoder-decoder against attention as sentences grow (Bahdanau et al. 2015, Fig. 2).

fn main() -> std::process::ExitCode {
    experiments::cli::main::<experiments::seq2seq_length::Seq2SeqLength>()
}
