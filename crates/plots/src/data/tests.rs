//! Unit tests of the row formats: header order, number formatting, the `<comma>`
//! escape, and the error messages of the generic reader and writer.

use std::path::Path;

use serde::Serialize;

use super::*;
use crate::test_support::scratch;

fn metric_row(value: f64) -> MetricRow {
    MetricRow {
        experiment: "seq2seq-length".into(),
        task: "reverse".into(),
        model: "RNNsearch".into(),
        train_max_len: 20,
        seed: 1,
        len_lo: 1,
        len_hi: 5,
        n: 212,
        metric: "exact_match".into(),
        value,
    }
}

fn read_error(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    format!("{:#}", read_metrics_csv(path).unwrap_err())
}

/// The header serde derives from a row struct's field names.
fn derived_header<T: Serialize>(row: &T) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.serialize(row).unwrap();
    let bytes = writer.into_inner().unwrap();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn headers_match_the_struct_fields_in_order() {
    let timing = TimingRow {
        model: "RNNsearch".into(),
        train_max_len: 15,
        seed: 2,
        steps: 500,
        train_seconds: 22.686,
        ms_per_step: 45.37,
        eval_seconds: 0.297,
    };
    let reader_timing = ReaderTimingRow {
        model: "deep-lstm".into(),
        seed: 1,
        steps: 200,
        train_seconds: 45.812,
        ms_per_step: 229.06,
    };
    let alignment = AlignmentRow {
        model: "RNNsearch".into(),
        train_max_len: 20,
        seed: 1,
        tgt_pos: 0,
        tgt_token: "le".into(),
        src_pos: 0,
        src_token: "the".into(),
        weight: 0.5,
    };
    let curve = CurveRow {
        model: "soft".into(),
        train_max_len: 15,
        seed: 1,
        step: 100,
        loss: 2.5,
    };
    let cost = CostRow {
        model: "Transformer".into(),
        seq_len: 10,
        measure: "train_step".into(),
        median_ms: 1.5,
        repeats: 5,
    };
    let doc = DocAttentionRow {
        model: "attentive".into(),
        seed: 1,
        position: 0,
        token: "the".into(),
        weight: 0.25,
    };
    let pixel = ExampleImageRow {
        example: 0,
        y: 2,
        x: 3,
        red: 1.0,
        green: 0.25,
        blue: 0.123456,
    };
    let image_attention = ImageAttentionRow {
        model: "soft".into(),
        seed: 1,
        example: 0,
        step: 2,
        word: "red".into(),
        cell: 5,
        weight: 0.5,
    };
    let generated = GeneratedImageRow {
        model: "attngan".into(),
        seed: 3,
        example: 1,
        y: 2,
        x: 3,
        red: 1.0,
        green: 0.25,
        blue: 0.123456,
    };
    let caption = ExampleCaptionRow {
        example: 4,
        caption: "a red circle , left of a square".into(),
    };
    assert_eq!(derived_header(&metric_row(1.0)), METRICS_HEADER);
    assert_eq!(derived_header(&generated), GENERATED_IMAGES_HEADER);
    assert_eq!(derived_header(&caption), EXAMPLE_CAPTIONS_HEADER);
    assert_eq!(derived_header(&pixel), EXAMPLE_IMAGES_HEADER);
    assert_eq!(derived_header(&image_attention), IMAGE_ATTENTION_HEADER);
    assert_eq!(derived_header(&alignment), ALIGNMENT_HEADER);
    assert_eq!(derived_header(&curve), CURVE_HEADER);
    assert_eq!(derived_header(&cost), COST_HEADER);
    assert_eq!(derived_header(&doc), DOC_ATTENTION_HEADER);
    assert_eq!(derived_header(&timing), TIMINGS_HEADER);
    assert_eq!(derived_header(&reader_timing), READER_TIMINGS_HEADER);

    // The fixed decimals of the experiments' own format strings.
    assert_eq!(
        io::csv_line(&timing).unwrap(),
        "RNNsearch,15,2,500,22.686,45.37,0.297"
    );
    assert_eq!(
        io::csv_line(&reader_timing).unwrap(),
        "deep-lstm,1,200,45.812,229.06"
    );
    assert_eq!(
        io::csv_line(&alignment).unwrap(),
        "RNNsearch,20,1,0,le,0,the,0.500000"
    );
    assert_eq!(io::csv_line(&curve).unwrap(), "soft,15,1,100,2.500000");
    assert_eq!(
        io::csv_line(&cost).unwrap(),
        "Transformer,10,train_step,1.500,5"
    );
    assert_eq!(io::csv_line(&doc).unwrap(), "attentive,1,0,the,0.250000");
    // Pixels with 4 decimals; image attention weights with 6, like alignment.csv's.
    assert_eq!(io::csv_line(&pixel).unwrap(), "0,2,3,1.0000,0.2500,0.1235");
    assert_eq!(
        io::csv_line(&image_attention).unwrap(),
        "soft,1,0,2,red,5,0.500000"
    );
    // Generated pixels like example pixels; a caption's commas escaped like a token's.
    assert_eq!(
        io::csv_line(&generated).unwrap(),
        "attngan,3,1,2,3,1.0000,0.2500,0.1235"
    );
    assert_eq!(
        io::csv_line(&caption).unwrap(),
        "4,a red circle <comma> left of a square"
    );
}

#[test]
fn timings_csv_round_trip() {
    let tmp = scratch("timings");
    let dir = tmp.path();
    let path = dir.join("timings.csv");
    let rows = vec![TimingRow {
        model: "RNNencdec".into(),
        train_max_len: 10,
        seed: 1,
        steps: 500,
        train_seconds: 53.018,
        ms_per_step: 106.04,
        eval_seconds: 0.714,
    }];
    write_timings_csv(&path, &rows).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{TIMINGS_HEADER}\nRNNencdec,10,1,500,53.018,106.04,0.714\n")
    );
    assert_eq!(read_timings_csv(&path).unwrap(), rows);
    // The other timings format is refused by its header.
    let msg = format!("{:#}", read_reader_timings_csv(&path).unwrap_err());
    assert!(msg.contains("timings.csv:1: wrong header"), "{msg}");

    let rows = vec![ReaderTimingRow {
        model: "attentive".into(),
        seed: 2,
        steps: 500,
        train_seconds: 48.451,
        ms_per_step: 96.9,
    }];
    write_reader_timings_csv(&path, &rows).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{READER_TIMINGS_HEADER}\nattentive,2,500,48.451,96.90\n")
    );
    assert_eq!(read_reader_timings_csv(&path).unwrap(), rows);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_value_names_file_line_and_field() {
    let tmp = scratch("bad-value");
    let dir = tmp.path();
    let path = dir.join("metrics.csv");
    let good = metric_row(98.5).to_csv_line();
    let msg = read_error(
        &path,
        &format!(
            "{METRICS_HEADER}\n{good}\n\nseq2seq-length,reverse,RNNsearch,20,1,1,5,212,exact_match,abc\n"
        ),
    );
    assert_eq!(
        msg,
        format!(
            "{}:4: field 'value': invalid float literal \"abc\"",
            path.display()
        )
    );

    let msg = read_error(
        &path,
        &format!(
            "{METRICS_HEADER}\nseq2seq-length,reverse,RNNsearch,-20,1,1,5,212,exact_match,1\n"
        ),
    );
    assert!(
        msg.starts_with(&format!("{}:2: field 'train_max_len': ", path.display()))
            && msg.ends_with("\"-20\""),
        "{msg}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn blank_text_field_is_named() {
    let tmp = scratch("blank-text");
    let dir = tmp.path();
    let path = dir.join("metrics.csv");
    let msg = read_error(
        &path,
        &format!("{METRICS_HEADER}\nseq2seq-length,reverse, ,20,1,1,5,212,exact_match,1\n"),
    );
    assert_eq!(
        msg,
        format!("{}:2: field 'model': empty text \" \"", path.display())
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_and_extra_fields_are_named() {
    let tmp = scratch("field-count");
    let dir = tmp.path();
    let path = dir.join("metrics.csv");
    let msg = read_error(
        &path,
        &format!("{METRICS_HEADER}\nseq2seq-length,reverse,RNNsearch,20,1,1,5,212,exact_match\n"),
    );
    assert!(
        msg.starts_with(&format!(
            "{}:2: expected 10 comma-separated fields",
            path.display()
        )),
        "{msg}"
    );
    assert!(msg.contains("found 9; field 'value' is missing"), "{msg}");

    let msg = read_error(
        &path,
        &format!(
            "{METRICS_HEADER}\nseq2seq-length,reverse,RNN,search,20,1,1,5,212,exact_match,1\n"
        ),
    );
    assert!(
        msg.contains(":2: expected 10") && msg.contains("found 11"),
        "{msg}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn wrong_header_shows_expected_and_found() {
    let tmp = scratch("wrong-header");
    let dir = tmp.path();
    let path = dir.join("metrics.csv");
    let msg = read_error(&path, "experiment,task,model,value\na,b,c,1\n");
    assert_eq!(
        msg,
        format!(
            "{}:1: wrong header: expected \"{METRICS_HEADER}\", found \"experiment,task,model,value\"",
            path.display()
        )
    );

    let msg = read_error(&path, "\n");
    assert_eq!(
        msg,
        format!(
            "{}: empty file (expected header \"{METRICS_HEADER}\")",
            path.display()
        )
    );

    // A UTF-8 byte order mark before the header is not part of it.
    let good = metric_row(98.5).to_csv_line();
    std::fs::write(&path, format!("\u{feff}{METRICS_HEADER}\n{good}\n")).unwrap();
    assert_eq!(read_metrics_csv(&path).unwrap(), vec![metric_row(98.5)]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn refused_row_is_named_and_nothing_is_written() {
    let tmp = scratch("refused-row");
    let dir = tmp.path();
    let path = dir.join("metrics.csv");
    let mut rows = vec![metric_row(1.0), metric_row(2.0)];
    rows[1].metric = "exact,match".into();
    let msg = format!("{:#}", write_metrics_csv(&path, &rows).unwrap_err());
    assert!(
        msg.contains("metrics.csv: row 2: text \"exact,match\""),
        "{msg}"
    );
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn token_with_a_comma_round_trips_through_the_escape() {
    let tmp = scratch("comma-token");
    let dir = tmp.path();
    let path = dir.join("document_attention.csv");
    let rows = vec![
        DocAttentionRow {
            model: "attentive".into(),
            seed: 1,
            position: 0,
            token: ",".into(),
            weight: 0.5,
        },
        DocAttentionRow {
            model: "attentive".into(),
            seed: 1,
            position: 1,
            token: "1,000".into(),
            weight: 0.25,
        },
    ];
    write_doc_attention_csv(&path, &rows).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!(
            "{DOC_ATTENTION_HEADER}\nattentive,1,0,<comma>,0.500000\nattentive,1,1,1<comma>000,0.250000\n"
        )
    );
    assert_eq!(read_doc_attention_csv(&path).unwrap(), rows);

    let path = dir.join("alignment.csv");
    let rows = vec![AlignmentRow {
        model: "RNNsearch".into(),
        train_max_len: 20,
        seed: 1,
        tgt_pos: 3,
        tgt_token: "a,b".into(),
        src_pos: 4,
        src_token: ",".into(),
        weight: 0.125,
    }];
    write_alignment_csv(&path, &rows).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{ALIGNMENT_HEADER}\nRNNsearch,20,1,3,a<comma>b,4,<comma>,0.125000\n")
    );
    assert_eq!(read_alignment_csv(&path).unwrap(), rows);
    std::fs::remove_dir_all(dir).unwrap();
}
