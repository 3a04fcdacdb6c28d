//! Every CSV of the committed `results/` tree reads with its reader and is written back
//! byte for byte by its writer. A CSV whose format is not known here fails the test, so
//! a new format cannot go unchecked.

use std::path::{Path, PathBuf};

use plots::{
    READER_TIMINGS_HEADER, TIMINGS_HEADER, read_alignment_csv, read_cost_csv, read_curve_csv,
    read_doc_attention_csv, read_example_captions_csv, read_example_images_csv,
    read_generated_images_csv, read_glimpse_patches_csv, read_glimpse_paths_csv,
    read_image_attention_csv, read_metrics_csv, read_reader_timings_csv, read_timings_csv,
    write_alignment_csv, write_cost_csv, write_curve_csv, write_doc_attention_csv,
    write_example_captions_csv, write_example_images_csv, write_generated_images_csv,
    write_glimpse_patches_csv, write_glimpse_paths_csv, write_image_attention_csv,
    write_metrics_csv, write_reader_timings_csv, write_timings_csv,
};

type Reader<T> = fn(&Path) -> anyhow::Result<Vec<T>>;
type Writer<T> = fn(&Path, &[T]) -> anyhow::Result<()>;

fn results_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results")
}

/// Every `*.csv` under `dir`, in path order.
fn csv_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            csv_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "csv") {
            out.push(path);
        }
    }
}

/// Reads `src`, writes the rows to `copy`, and returns a description of the first
/// difference between the two files (None when they are identical).
fn round_trip<T>(src: &Path, copy: &Path, read: Reader<T>, write: Writer<T>) -> Option<String> {
    let rows = match read(src) {
        Ok(rows) => rows,
        Err(e) => return Some(format!("read failed: {e:#}")),
    };
    if let Err(e) = write(copy, &rows) {
        return Some(format!("write failed: {e:#}"));
    }
    let original = std::fs::read(src).unwrap();
    let written = std::fs::read(copy).unwrap();
    if original == written {
        return None;
    }
    let original = String::from_utf8_lossy(&original);
    let written = String::from_utf8_lossy(&written);
    let line = original
        .split_inclusive('\n')
        .zip(written.split_inclusive('\n'))
        .position(|(a, b)| a != b);
    Some(match line {
        Some(i) => format!(
            "line {} differs: {:?} was written as {:?}",
            i + 1,
            original.split_inclusive('\n').nth(i).unwrap(),
            written.split_inclusive('\n').nth(i).unwrap()
        ),
        None => format!(
            "{} bytes were written as {} bytes",
            original.len(),
            written.len()
        ),
    })
}

#[test]
fn every_committed_csv_is_rewritten_byte_for_byte() {
    let results = results_dir();
    let bench = results.join("bench");
    let mut files = Vec::new();
    csv_files(&results, &mut files);

    // Removed when dropped, so also when the test panics part-way.
    let scratch = tempfile::Builder::new()
        .prefix("plots-csv-roundtrip-")
        .tempdir()
        .unwrap();

    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, src) in files.iter().enumerate() {
        // results/bench holds the benchmark tables (seq2seq.csv, attention.csv), whose
        // formats belong to the benchmark scripts rather than to this crate.
        if src.starts_with(&bench) {
            continue;
        }
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let copy = scratch.path().join(format!("{i}-{name}"));
        let failure = match name.as_str() {
            "metrics.csv" => round_trip(src, &copy, read_metrics_csv, write_metrics_csv),
            "alignment.csv" => round_trip(src, &copy, read_alignment_csv, write_alignment_csv),
            "learning_curve.csv" => round_trip(src, &copy, read_curve_csv, write_curve_csv),
            "cost.csv" => round_trip(src, &copy, read_cost_csv, write_cost_csv),
            "document_attention.csv" => {
                round_trip(src, &copy, read_doc_attention_csv, write_doc_attention_csv)
            }
            "example_images.csv" => round_trip(
                src,
                &copy,
                read_example_images_csv,
                write_example_images_csv,
            ),
            "image_attention.csv" => round_trip(
                src,
                &copy,
                read_image_attention_csv,
                write_image_attention_csv,
            ),
            "generated_images.csv" => round_trip(
                src,
                &copy,
                read_generated_images_csv,
                write_generated_images_csv,
            ),
            "example_captions.csv" => round_trip(
                src,
                &copy,
                read_example_captions_csv,
                write_example_captions_csv,
            ),
            "glimpse_paths.csv" => {
                round_trip(src, &copy, read_glimpse_paths_csv, write_glimpse_paths_csv)
            }
            "glimpse_patches.csv" => round_trip(
                src,
                &copy,
                read_glimpse_patches_csv,
                write_glimpse_patches_csv,
            ),
            "timings.csv" => {
                let text = std::fs::read_to_string(src).unwrap();
                match text.lines().next().unwrap_or("") {
                    TIMINGS_HEADER => round_trip(src, &copy, read_timings_csv, write_timings_csv),
                    READER_TIMINGS_HEADER => round_trip(
                        src,
                        &copy,
                        read_reader_timings_csv,
                        write_reader_timings_csv,
                    ),
                    other => Some(format!("unknown timings header {other:?}")),
                }
            }
            _ => Some("no reader for this file name".to_string()),
        };
        checked += 1;
        if let Some(why) = failure {
            failures.push(format!("{}: {why}", src.display()));
        }
    }
    scratch.close().unwrap();

    assert!(checked > 0, "no CSV found under {}", results.display());
    assert!(
        failures.is_empty(),
        "{} of {checked} CSV files do not round-trip:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
