//! Reads the English–Spanish Bible corpus and prints its size and lengths.
//!
//! ```text
//! cargo run -p datasets --example bible_stats -- [data/sword/kjv data/sword/sparv]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use datasets::sword::bible_pairs;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (english, spanish) = match &args[..] {
        [] => ("data/sword/kjv".into(), "data/sword/sparv".into()),
        [english, spanish] => (english.clone(), spanish.clone()),
        _ => {
            eprintln!("usage: bible_stats [ENGLISH_MODULE_DIR SPANISH_MODULE_DIR]");
            return ExitCode::FAILURE;
        }
    };
    let pairs = match bible_pairs(&english, &spanish) {
        Ok(pairs) => pairs,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stats = |lengths: Vec<usize>| {
        let mean = lengths.iter().sum::<usize>() as f64 / lengths.len().max(1) as f64;
        let max = lengths.iter().copied().max().unwrap_or(0);
        let mut sorted = lengths;
        sorted.sort_unstable();
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
        format!("mean {mean:.1}, median {median}, max {max}")
    };
    println!("{} pairs", pairs.len());
    println!(
        "English tokens: {}",
        stats(pairs.iter().map(|p| p.src.len()).collect())
    );
    println!(
        "Spanish tokens: {}",
        stats(pairs.iter().map(|p| p.tgt.len()).collect())
    );
    for p in pairs.iter().take(2) {
        println!("{}\n{}\n", p.src.join(" "), p.tgt.join(" "));
    }
    ExitCode::SUCCESS
}
