//! `replot [ROOT]`: redraws every figure under ROOT (default `results`) from the
//! `metrics.csv` / `alignment.csv` / `learning_curve.csv` / `cost.csv` /
//! `document_attention.csv` / `example_images.csv` with `image_attention.csv` /
//! `generated_images.csv` (with `example_captions.csv`) / `glimpse_paths.csv` (with
//! `glimpse_patches.csv`) files alone, printing each file written.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: replot [ROOT]

Redraws every figure under ROOT (default: results) from the CSVs alone, in each
folder holding any of these files (except under a run's checkpoints/, whose
cell parts are not results until merged):
  metrics.csv         <metric>.png per metric (mean +- std over seeds against
                      source length) and summary.md; for experiment
                      glimpses also error_vs_glimpses-<kind>-<side>.png
                      (test error against the number of glimpses)
  alignment.csv       alignment*.png heatmaps (and alignment-grid.png with all
                      models and seeds side by side when there are several)
  learning_curve.csv  learning_curve.png (training loss against step)
  cost.csv            cost-<measure>.png (median ms against sequence length)
  document_attention.csv
                      document_attention-<model>-seed<seed>.png per (model,
                      seed): the document with tokens shaded by attention
  example_images.csv with image_attention.csv
                      attention-<model>-seed<seed>-example<example>.png per
                      (model, seed, example): the image, then its attention
                      for each generated word (not in a folder that also has
                      generated_images.csv)
  generated_images.csv (example_captions.csv, example_images.csv)
                      samples.png: one row per example under its caption,
                      the real image, then each model's lowest seed
  generated_images.csv with image_attention.csv
                      word-attention-<model>-seed<seed>-example<example>.png
                      per (model, seed, example): the generated image, then
                      its attention for each caption word
  glimpse_paths.csv (glimpse_patches.csv, example_images.csv)
                      glimpses-<model>-<glimpses>-seed<seed>.png per (model,
                      glimpses, seed): each example's canvas with the
                      glimpses' squares and path, then what each glimpse saw
Prints each file written.

Options:
  -h, --help    Print this help and exit";

fn main() -> ExitCode {
    let mut root: Option<PathBuf> = None;
    for arg in std::env::args_os().skip(1) {
        match arg.to_str() {
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            Some("--") => continue,
            Some(a) if a.starts_with('-') && a.len() > 1 => {
                eprintln!("replot: unknown option `{a}` (see --help)");
                return ExitCode::from(2);
            }
            _ => {
                if root.is_some() {
                    eprintln!("replot: expected at most one ROOT argument (see --help)");
                    return ExitCode::from(2);
                }
                root = Some(PathBuf::from(arg));
            }
        }
    }
    let root = root.unwrap_or_else(|| PathBuf::from("results"));
    match plots::redraw_all(&root) {
        Ok(files) => {
            if files.is_empty() {
                eprintln!(
                    "replot: no metrics.csv, alignment.csv, learning_curve.csv or cost.csv found under {}",
                    root.display()
                );
            }
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("replot: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
