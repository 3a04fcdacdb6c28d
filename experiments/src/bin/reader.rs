//! Cloze reading comprehension (Hermann et al. 2015, Table 5 in shape): frequency baselines,
//! Deep LSTM, Uniform, Attentive and Impatient Readers, Attention Sum and Stanford readers.

fn main() -> std::process::ExitCode {
    experiments::cli::main::<experiments::reader::ReaderExperiment>()
}
