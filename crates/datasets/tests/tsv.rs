//! TSV reading and writing, including the error messages.

use std::fs;

use datasets::tsv::{read_tsv, write_tsv};
use datasets::{DataError, Pair};

mod common;
use common::scratch_dir;

fn pair(src: &[&str], tgt: &[&str]) -> Pair {
    Pair {
        src: src.iter().map(|s| s.to_string()).collect(),
        tgt: tgt.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn reads_pairs_and_skips_blank_lines() {
    let tmp = scratch_dir("read");
    let dir = tmp.path();
    let path = dir.join("x.tsv");
    fs::write(
        &path,
        "Go away!\t¡Vete!\r\n\n   \nI don't know.\tNo lo sé.\n",
    )
    .unwrap();
    assert_eq!(
        read_tsv(&path).unwrap(),
        [
            pair(&["go", "away", "!"], &["¡", "vete", "!"]),
            pair(&["i", "don't", "know", "."], &["no", "lo", "sé", "."]),
        ]
    );
}

#[test]
fn malformed_lines_name_path_and_line() {
    let tmp = scratch_dir("malformed");
    let dir = tmp.path();
    let path = dir.join("x.tsv");
    let cases = [
        (
            "a\tb\n\nno tab here\n",
            3,
            "expected 2 tab-separated fields, found 1",
        ),
        (
            "a\tb\nc\td\te\n",
            2,
            "expected 2 tab-separated fields, found 3",
        ),
        ("a\tb\n \tb\n", 2, "empty source side"),
        ("a\t...\nc\t \n", 2, "empty target side"),
    ];
    for (content, line, msg) in cases {
        fs::write(&path, content).unwrap();
        let err = read_tsv(&path).unwrap_err();
        assert!(
            matches!(&err, DataError::Format { path: p, line: l, msg: m } if *p == path && *l == line && m == msg),
            "{err:?}"
        );
        assert_eq!(err.to_string(), format!("{}:{line}: {msg}", path.display()));
    }
    fs::write(&path, b"a\tb\nc\t\xff\n").unwrap();
    let err = read_tsv(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:2: invalid UTF-8", path.display())),
        "{err}"
    );
}

#[test]
fn missing_file_error_names_the_path() {
    let tmp = scratch_dir("missing");
    let path = tmp.path().join("nope.tsv");
    let err = read_tsv(&path).unwrap_err();
    assert!(matches!(&err, DataError::Io { path: p, .. } if *p == path));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: ", path.display())),
        "{err}"
    );
}

#[test]
fn write_then_read_round_trips_atomically() {
    let tmp = scratch_dir("write");
    let dir = tmp.path();
    let path = dir.join("out.tsv");
    fs::write(&path, "old content\n").unwrap();
    let rows = vec![
        ("Hello, world.".to_string(), "Hola, mundo.".to_string()),
        ("Yes".to_string(), "Sí".to_string()),
    ];
    write_tsv(&path, &rows).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "Hello, world.\tHola, mundo.\nYes\tSí\n"
    );
    assert!(!dir.join("out.tsv.tmp").exists());
    assert_eq!(read_tsv(&path).unwrap().len(), 2);

    // A field that could not be read back is refused and nothing changes.
    let bad = vec![
        ("ok".to_string(), "fine".to_string()),
        ("a\tb".to_string(), "c".to_string()),
    ];
    let err = write_tsv(&path, &bad).unwrap_err();
    assert!(matches!(err, DataError::Record { index: 1, .. }), "{err:?}");
    assert_eq!(read_tsv(&path).unwrap().len(), 2);

    // Writing into a directory that does not exist names the temp file.
    let err = write_tsv(&dir.join("no/such/dir.tsv"), &rows).unwrap_err();
    assert!(err.to_string().contains("dir.tsv.tmp"), "{err}");
}
