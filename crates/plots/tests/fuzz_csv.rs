//! Every CSV reader that `replot` uses fuzzed (see `docs/fuzzing.md`): random bytes and
//! mutations of valid files (lines of the committed results). For each input the reader
//! returns the rows or an error that is one line naming the file, never panics or hangs,
//! and holds at its peak no more than a small factor times the input's size plus a fixed
//! allowance.
//!
//! `FUZZ_CASES=N` sets the number of inputs per reader (default [`CI_CASES`]).

use std::path::Path;

use fuzzing::mutate::{Bytes, input};
use fuzzing::{Scratch, check_one_line, check_peak, fuzz};
use plots::*;

fuzzing::install_counting_allocator!();

/// Inputs per reader in CI.
const CI_CASES: u32 = 20_000;

/// Bytes a read may hold beyond its factor times the input: the csv reader's 8 KiB
/// buffer, its record, and an error message with the path.
const ALLOWANCE: usize = 16 * 1024;

/// Bytes a read may hold per byte of input: the file's bytes, then per row a struct of up
/// to 144 bytes (four 24-byte strings and six numbers, for one of at least 20 bytes of
/// text: `a,b,c,1,1,1,1,1,m,1\n`) and its strings, in a vector that may double.
const FACTOR: usize = 24;

/// A reader, by name: the rows it read, counted.
type Reader = fn(&Path) -> anyhow::Result<usize>;

/// Fuzzes one reader (`name` in the log) of `file` on mutations of `valid` (the header and a few lines, as the
/// committed results hold them).
fn fuzz_reader(name: &str, file: &str, read: Reader, valid: &str) {
    let scratch = Scratch::new(name);
    let seeds = vec![
        valid.as_bytes().to_vec(),
        valid.replace('\n', "\r\n").into_bytes(),
        format!("\u{feff}{valid}\n\n").into_bytes(),
    ];
    fuzz(name, CI_CASES, input(seeds), |Bytes(bytes)| {
        let path = scratch.write(file, bytes);
        let (result, peak) = fuzzing::alloc::peak_bytes(|| read(&path));
        if let Err(error) = &result {
            check_one_line(&format!("{error:#}"), file)?;
        }
        check_peak(peak, bytes.len(), FACTOR, ALLOWANCE)
    });
}

#[test]
fn metrics() {
    fuzz_reader(
        "metrics.csv",
        "metrics.csv",
        |p| read_metrics_csv(p).map(|r| r.len()),
        "experiment,task,model,train_max_len,seed,len_lo,len_hi,n,metric,value
captioning,scenes,none,0,1,0,0,500,bleu1,83.7571
seq2seq-length,reverse,RNNsearch,20,2,1,10,133,bleu,-0.0000
",
    );
}

#[test]
fn alignment() {
    fuzz_reader(
        "alignment.csv",
        "alignment.csv",
        |p| read_alignment_csv(p).map(|r| r.len()),
        "model,train_max_len,seed,tgt_pos,tgt_token,src_pos,src_token,weight
content-local5,15,1,0,mirai,0,the,0.005721
content-local5,15,1,0,<comma>,1,cats,0.885957
",
    );
}

#[test]
fn learning_curve() {
    fuzz_reader(
        "learning_curve.csv",
        "learning_curve.csv",
        |p| read_curve_csv(p).map(|r| r.len()),
        "model,train_max_len,seed,step,loss\nnone,0,1,50,1.749682\nnone,0,1,100,0.950932\n",
    );
}

#[test]
fn cost() {
    fuzz_reader(
        "cost.csv",
        "cost.csv",
        |p| read_cost_csv(p).map(|r| r.len()),
        "model,seq_len,measure,median_ms,repeats
RNNencdec,10,train_step,46.054,5
RNNencdec,10,decode_sentence,0.170,5
",
    );
}

#[test]
fn document_attention() {
    fuzz_reader(
        "document_attention.csv",
        "document_attention.csv",
        |p| read_doc_attention_csv(p).map(|r| r.len()),
        "model,seed,position,token,weight\nattentive,1,0,@entity3,0.034189\nattentive,1,1,wrote,0.007790\n",
    );
}

#[test]
fn timings() {
    fuzz_reader(
        "timings.csv",
        "timings.csv",
        |p| read_timings_csv(p).map(|r| r.len()),
        "model,train_max_len,seed,steps,train_seconds,ms_per_step,eval_seconds
none,0,1,2000,38.652,19.33,0.301
none,0,2,2000,38.855,19.43,0.278
",
    );
}

#[test]
fn reader_timings() {
    fuzz_reader(
        "timings.csv (reading)",
        "timings.csv",
        |p| read_reader_timings_csv(p).map(|r| r.len()),
        "model,seed,steps,train_seconds,ms_per_step\ndeep-lstm,1,1000,71.465,71.47\ndeep-lstm,2,1000,67.454,67.45\n",
    );
}

#[test]
fn example_images() {
    fuzz_reader(
        "example_images.csv",
        "example_images.csv",
        |p| read_example_images_csv(p).map(|r| r.len()),
        "example,y,x,red,green,blue\n0,0,0,0.0000,0.0000,0.0000\n0,0,1,0.5020,1.0000,0.0000\n",
    );
}

#[test]
fn image_attention() {
    fuzz_reader(
        "image_attention.csv",
        "image_attention.csv",
        |p| read_image_attention_csv(p).map(|r| r.len()),
        "model,seed,example,step,word,cell,weight\nsoft,1,0,0,the,0,0.036138\nsoft,1,0,0,the,1,0.030954\n",
    );
}

#[test]
fn generated_images() {
    fuzz_reader(
        "generated_images.csv",
        "generated_images.csv",
        |p| read_generated_images_csv(p).map(|r| r.len()),
        "model,seed,example,y,x,red,green,blue
attngan,1,0,0,0,0.0212,0.0094,0.0150
attngan,1,0,0,1,0.0028,0.0007,0.0015
",
    );
}

#[test]
fn example_captions() {
    fuzz_reader(
        "example_captions.csv",
        "example_captions.csv",
        |p| read_example_captions_csv(p).map(|r| r.len()),
        "example,caption
0,the image shows a small yellow pullover
1,we see a large cyan zero to the right of a small blue one<comma> and a red two
",
    );
}

#[test]
fn glimpse_paths() {
    fuzz_reader(
        "glimpse_paths.csv",
        "glimpse_paths.csv",
        |p| read_glimpse_paths_csv(p).map(|r| r.len()),
        "model,train_max_len,seed,example,step,x,y,scale,left,top,side,label,predicted
RAM,2,1,0,0,31.77,27.11,0,26,21,12,2,7
RAM,2,1,0,0,31.77,27.11,1,20,15,24,2,7
",
    );
}

#[test]
fn glimpse_patches() {
    fuzz_reader(
        "glimpse_patches.csv",
        "glimpse_patches.csv",
        |p| read_glimpse_patches_csv(p).map(|r| r.len()),
        "model,train_max_len,seed,example,step,scale,y,x,value
RAM,2,1,0,0,0,0,0,0.0000
RAM,2,1,0,0,0,0,1,0.7500
",
    );
}
