//! The IDX and digit readers against files written here in the exact formats, and, when
//! `ATTENTION_LAB_DATA` names a directory that `scripts/fetch-data` filled, against the real
//! files.

use std::fs;
use std::path::{Path, PathBuf};

use datasets::DataError;
use datasets::images::classes::{DIGITS, FASHION_MNIST};
use datasets::images::digits::{read_digit_file, read_digits};
use datasets::images::idx::{
    IMAGES_MAGIC, LABELS_MAGIC, Split, read_fashion_mnist, read_idx_images, read_idx_labels,
};
use datasets::images::{Glyph, LabelledGlyphs};

mod common;
use common::{gzip, idx_bytes, scratch_dir};

/// Three hand-made 2 × 3 images.
fn three_images() -> Vec<Glyph> {
    [
        [0u8, 1, 2, 3, 4, 5],
        [255, 254, 128, 127, 0, 255],
        [9, 8, 7, 6, 5, 4],
    ]
    .iter()
    .map(|p| Glyph {
        rows: 2,
        cols: 3,
        pixels: p.to_vec(),
    })
    .collect()
}

fn images_idx(glyphs: &[Glyph]) -> Vec<u8> {
    let data: Vec<u8> = glyphs.iter().flat_map(|g| g.pixels.clone()).collect();
    idx_bytes(IMAGES_MAGIC, &[glyphs.len() as u32, 2, 3], &data)
}

/// Asserts that `err` is about `path` and that its message holds each of `needles`.
fn assert_names(err: &DataError, path: &Path, needles: &[&str]) {
    let text = err.to_string();
    assert!(
        text.starts_with(&path.display().to_string()),
        "{text:?} does not start with {}",
        path.display()
    );
    for needle in needles {
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
}

#[test]
fn idx_images_and_labels_round_trip_gzipped_and_plain() {
    let tmp = scratch_dir("idx-round-trip");
    let dir = tmp.path();
    let glyphs = three_images();
    let gz = dir.join("images.gz");
    let plain = dir.join("images");
    fs::write(&gz, gzip(&images_idx(&glyphs))).unwrap();
    fs::write(&plain, images_idx(&glyphs)).unwrap();
    assert_eq!(read_idx_images(&gz).unwrap(), glyphs);
    assert_eq!(read_idx_images(&plain).unwrap(), glyphs);
    assert_eq!(read_idx_images(&gz).unwrap()[1].at(1, 0), 127);

    let labels = [3u8, 0, 9, 255];
    let labels_path = dir.join("labels.gz");
    fs::write(&labels_path, gzip(&idx_bytes(LABELS_MAGIC, &[4], &labels))).unwrap();
    assert_eq!(read_idx_labels(&labels_path).unwrap(), labels);

    // Zero images is a valid (empty) file.
    let empty = dir.join("empty");
    fs::write(&empty, idx_bytes(IMAGES_MAGIC, &[0, 28, 28], &[])).unwrap();
    assert_eq!(read_idx_images(&empty).unwrap(), vec![]);
}

#[test]
fn fashion_mnist_pairs_images_with_labels_in_both_splits() {
    let tmp = scratch_dir("fashion");
    let dir = tmp.path();
    let glyphs = three_images();
    fs::write(
        dir.join("train-images-idx3-ubyte.gz"),
        gzip(&images_idx(&glyphs)),
    )
    .unwrap();
    fs::write(
        dir.join("train-labels-idx1-ubyte.gz"),
        gzip(&idx_bytes(LABELS_MAGIC, &[3], &[9, 0, 7])),
    )
    .unwrap();
    // The test split gunzipped, under the names without `.gz`.
    fs::write(dir.join("t10k-images-idx3-ubyte"), images_idx(&glyphs[..2])).unwrap();
    fs::write(
        dir.join("t10k-labels-idx1-ubyte"),
        idx_bytes(LABELS_MAGIC, &[2], &[8, 5]),
    )
    .unwrap();

    let train = read_fashion_mnist(dir, Split::Train).unwrap();
    assert_eq!(train.glyphs, glyphs);
    assert_eq!(train.labels, [9, 0, 7]);
    assert_eq!(train.class_names, FASHION_MNIST);
    assert_eq!(train.class_names[9], "boot");
    assert_eq!(train.class_names[0], "t-shirt");

    let test = read_fashion_mnist(dir, Split::Test).unwrap();
    assert_eq!(test.glyphs, glyphs[..2]);
    assert_eq!(test.labels, [8, 5]);
    assert_eq!(test.class_names[usize::from(test.labels[0])], "bag");
}

#[test]
fn idx_bad_magic_shows_expected_and_found_in_hex() {
    let tmp = scratch_dir("idx-magic");
    let dir = tmp.path();
    // A labels file where images are expected.
    let path = dir.join("train-images-idx3-ubyte.gz");
    fs::write(&path, gzip(&idx_bytes(LABELS_MAGIC, &[3], &[1, 2, 3]))).unwrap();
    let err = read_idx_images(&path).unwrap_err();
    assert!(matches!(err, DataError::Mismatch { .. }), "{err:?}");
    assert_names(
        &err,
        &path,
        &[
            "bad magic number",
            "expected 0x00000803",
            "found 0x00000801",
        ],
    );

    // Not an IDX file at all.
    let text = dir.join("labels");
    fs::write(&text, b"hello, world").unwrap();
    let err = read_idx_labels(&text).unwrap_err();
    assert_names(
        &err,
        &text,
        &["expected 0x00000801", "found 0x68656c6c", "not an IDX file"],
    );

    // The right shape but 32-bit floats.
    let floats = dir.join("floats");
    fs::write(&floats, idx_bytes(0x0000_0d03, &[0, 1, 1], &[])).unwrap();
    let err = read_idx_images(&floats).unwrap_err();
    assert_names(
        &err,
        &floats,
        &["found 0x00000d03 (32-bit floats, 3 dimensions)"],
    );
}

#[test]
fn idx_truncated_data_says_bytes_expected_and_present() {
    let tmp = scratch_dir("idx-truncated");
    let dir = tmp.path();
    let mut bytes = images_idx(&three_images());
    bytes.truncate(bytes.len() - 4); // 18 bytes declared, 14 present: image 2 is cut short
    let path = dir.join("images.gz");
    fs::write(&path, gzip(&bytes)).unwrap();
    let err = read_idx_images(&path).unwrap_err();
    match &err {
        DataError::Record { index, .. } => assert_eq!(*index, 2),
        other => panic!("expected a record error, got {other:?}"),
    }
    assert_names(
        &err,
        &path,
        &[
            "record 2",
            "truncated",
            "3 images (3×2×3)",
            "18 bytes",
            "14 bytes are present",
        ],
    );

    // A truncated label file, uncompressed.
    let labels = dir.join("labels");
    fs::write(&labels, idx_bytes(LABELS_MAGIC, &[5], &[1, 2])).unwrap();
    let err = read_idx_labels(&labels).unwrap_err();
    assert_names(
        &err,
        &labels,
        &["record 2", "5 bytes", "2 bytes are present"],
    );

    // A header cut short.
    let header = dir.join("header.gz");
    fs::write(&header, gzip(&idx_bytes(IMAGES_MAGIC, &[3], &[]))).unwrap();
    let err = read_idx_images(&header).unwrap_err();
    assert_names(
        &err,
        &header,
        &["truncated header", "expected 16 bytes", "found 8"],
    );

    // Too short even for a magic number.
    let tiny = dir.join("tiny");
    fs::write(&tiny, [0u8, 0]).unwrap();
    let err = read_idx_labels(&tiny).unwrap_err();
    assert_names(&err, &tiny, &["truncated header", "found 2"]);
}

#[test]
fn idx_trailing_bytes_and_broken_gzip_are_errors() {
    let tmp = scratch_dir("idx-trailing");
    let dir = tmp.path();
    let mut bytes = images_idx(&three_images());
    bytes.extend_from_slice(&[1, 2, 3]);
    let path = dir.join("images");
    fs::write(&path, &bytes).unwrap();
    let err = read_idx_images(&path).unwrap_err();
    assert_names(&err, &path, &["3 bytes after the 3 images"]);

    let broken = dir.join("broken.gz");
    let mut gz = gzip(&images_idx(&three_images()));
    gz.truncate(gz.len() / 2);
    fs::write(&broken, gz).unwrap();
    let err = read_idx_images(&broken).unwrap_err();
    assert_names(&err, &broken, &["does not decompress"]);
}

#[test]
fn fashion_mnist_count_mismatch_names_both_files() {
    let tmp = scratch_dir("fashion-count");
    let dir = tmp.path();
    let images = dir.join("train-images-idx3-ubyte.gz");
    let labels = dir.join("train-labels-idx1-ubyte.gz");
    fs::write(&images, gzip(&images_idx(&three_images()))).unwrap();
    fs::write(&labels, gzip(&idx_bytes(LABELS_MAGIC, &[2], &[1, 2]))).unwrap();
    let err = read_fashion_mnist(dir, Split::Train).unwrap_err();
    assert!(matches!(err, DataError::Mismatch { .. }), "{err:?}");
    assert_names(
        &err,
        &labels,
        &["2 labels", &images.display().to_string(), "3 images"],
    );
}

#[test]
fn fashion_mnist_label_outside_the_classes_is_an_error() {
    let tmp = scratch_dir("fashion-label");
    let dir = tmp.path();
    let labels = dir.join("t10k-labels-idx1-ubyte.gz");
    fs::write(
        dir.join("t10k-images-idx3-ubyte.gz"),
        gzip(&images_idx(&three_images())),
    )
    .unwrap();
    fs::write(&labels, gzip(&idx_bytes(LABELS_MAGIC, &[3], &[4, 10, 2]))).unwrap();
    let err = read_fashion_mnist(dir, Split::Test).unwrap_err();
    match &err {
        DataError::Record { index, .. } => assert_eq!(*index, 1),
        other => panic!("expected a record error, got {other:?}"),
    }
    assert_names(&err, &labels, &["record 1", "label 10 is outside 0..10"]);
}

#[test]
fn fashion_mnist_missing_file_is_named() {
    let tmp = scratch_dir("fashion-missing");
    let dir = tmp.path();
    let err = read_fashion_mnist(dir, Split::Train).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert_names(&err, &dir.join("train-images-idx3-ubyte.gz"), &[]);
}

/// `p / 255` with three decimals, as the npm package writes it (0 and 1 as integers).
fn package_value(p: u8) -> String {
    match p {
        0 => "0".to_string(),
        255 => "1".to_string(),
        _ => {
            let text = format!("{:.3}", f64::from(p) / 255.0);
            text.trim_end_matches('0').to_string()
        }
    }
}

/// A digit file of `images`, flat, as the package lays it out.
fn digit_json(images: &[Vec<u8>]) -> String {
    let values: Vec<String> = images
        .iter()
        .flat_map(|pixels| pixels.iter().map(|&p| package_value(p)))
        .collect();
    format!("{{ \"data\": [{}]}}", values.join(","))
}

/// A 28 × 28 image whose pixels are `seed`, `seed + 1`, … (wrapping).
fn digit_image(seed: u8) -> Vec<u8> {
    (0..784).map(|i| seed.wrapping_add(i as u8)).collect()
}

#[test]
fn digits_round_trip_every_byte_value() {
    let tmp = scratch_dir("digits");
    let dir = tmp.path();
    let mut expected = Vec::new();
    for digit in 0..10u8 {
        let images: Vec<Vec<u8>> = (0..(digit % 3 + 1))
            .map(|k| digit_image(digit.wrapping_mul(17).wrapping_add(k.wrapping_mul(101))))
            .collect();
        fs::write(dir.join(format!("{digit}.json")), digit_json(&images)).unwrap();
        expected.extend(images.into_iter().map(|pixels| (digit, pixels)));
    }
    let set = read_digits(dir).unwrap();
    assert_eq!(set.class_names, DIGITS);
    assert_eq!(set.class_names[7], "seven");
    assert_eq!(set.glyphs.len(), expected.len());
    assert_eq!(set.labels.len(), expected.len());
    for ((glyph, &label), (digit, pixels)) in set.glyphs.iter().zip(&set.labels).zip(&expected) {
        assert_eq!(label, *digit);
        assert_eq!((glyph.rows, glyph.cols), (28, 28));
        assert_eq!(&glyph.pixels, pixels);
    }
    // Row-major: data[28 r + c] is row r, column c.
    assert_eq!(set.glyphs[0].at(1, 2), 30);

    // Every byte value, written as the package writes it, comes back exactly.
    let all: Vec<u8> = (0..784).map(|i| (i % 256) as u8).collect();
    let path = dir.join("all.json");
    fs::write(&path, digit_json(std::slice::from_ref(&all))).unwrap();
    assert_eq!(read_digit_file(&path).unwrap()[0].pixels, all);

    // Empty data: no images.
    let empty = dir.join("empty.json");
    fs::write(&empty, r#"{"data": []}"#).unwrap();
    assert_eq!(read_digit_file(&empty).unwrap(), vec![]);
}

#[test]
fn digits_not_json_gives_line_and_column() {
    let tmp = scratch_dir("digits-json");
    let dir = tmp.path();
    let path = dir.join("3.json");
    fs::write(&path, "{ \"data\": [0, 0.5,\n 0.25, oops] }").unwrap();
    let err = read_digit_file(&path).unwrap_err();
    match &err {
        DataError::Format { line, .. } => assert_eq!(*line, 2),
        other => panic!("expected a format error, got {other:?}"),
    }
    assert_names(&err, &path, &[":2:", "not valid JSON", "line 2 column"]);
}

#[test]
fn digits_without_a_data_array_say_what_they_found() {
    let tmp = scratch_dir("digits-shape");
    let dir = tmp.path();
    for (text, found) in [
        (r#"{"pixels": [0, 1]}"#, r#"an object with keys ["pixels"]"#),
        (r#"{"data": 5}"#, r#""data": a number"#),
        ("[0, 1]", "found an array"),
    ] {
        let path = dir.join("0.json");
        fs::write(&path, text).unwrap();
        let err = read_digit_file(&path).unwrap_err();
        assert!(matches!(err, DataError::Mismatch { .. }), "{err:?}");
        assert_names(&err, &path, &["no \"data\" array", found]);
    }
}

#[test]
fn digits_length_not_a_multiple_of_784_says_the_length() {
    let tmp = scratch_dir("digits-length");
    let dir = tmp.path();
    let path = dir.join("1.json");
    let values = vec!["0"; 785];
    fs::write(&path, format!("{{\"data\": [{}]}}", values.join(","))).unwrap();
    let err = read_digit_file(&path).unwrap_err();
    match &err {
        DataError::Record { index, .. } => assert_eq!(*index, 1),
        other => panic!("expected a record error, got {other:?}"),
    }
    assert_names(&err, &path, &["785 values", "not a multiple of 784"]);
}

#[test]
fn digits_value_outside_unit_range_says_the_index() {
    let tmp = scratch_dir("digits-range");
    let dir = tmp.path();
    for (bad, message) in [
        ("1.5", "1.5, outside [0, 1]"),
        ("-0.001", "-0.001, outside [0, 1]"),
        ("\"x\"", "a string, not a number"),
    ] {
        let mut values = vec!["0"; 2 * 784];
        values[784 + 30] = bad; // image 1, row 1, column 2
        let path = dir.join("2.json");
        fs::write(&path, format!("{{\"data\": [{}]}}", values.join(","))).unwrap();
        let err = read_digit_file(&path).unwrap_err();
        match &err {
            DataError::Record { index, .. } => assert_eq!(*index, 1),
            other => panic!("expected a record error, got {other:?}"),
        }
        assert_names(
            &err,
            &path,
            &["record 1", "data[814] (row 1, column 2)", message],
        );
    }
}

#[test]
fn digits_missing_file_is_named() {
    let tmp = scratch_dir("digits-missing");
    let dir = tmp.path();
    for digit in 0..5 {
        fs::write(
            dir.join(format!("{digit}.json")),
            digit_json(&[digit_image(1)]),
        )
        .unwrap();
    }
    let err = read_digits(dir).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert_names(&err, &dir.join("5.json"), &[]);
}

/// The real files, when `ATTENTION_LAB_DATA` names the directory `scripts/fetch-data` filled.
#[test]
fn real_images_when_fetched() {
    let Some(data_dir) = std::env::var_os("ATTENTION_LAB_DATA") else {
        eprintln!(
            "real_images_when_fetched: skipped (set ATTENTION_LAB_DATA to the data directory \
             that scripts/fetch-data filled)"
        );
        return;
    };
    let data_dir = PathBuf::from(data_dir);

    let fashion = data_dir.join("fashion-mnist");
    let train = read_fashion_mnist(&fashion, Split::Train).unwrap();
    let test = read_fashion_mnist(&fashion, Split::Test).unwrap();
    assert_eq!(train.glyphs.len(), 60_000);
    assert_eq!(test.glyphs.len(), 10_000);
    for set in [&train, &test] {
        assert!(set.glyphs.iter().all(|g| (g.rows, g.cols) == (28, 28)));
        let mut per_class = [0usize; 10];
        for &label in &set.labels {
            per_class[usize::from(label)] += 1;
        }
        // Fashion-MNIST is balanced: 6,000 / 1,000 images per class.
        assert!(
            per_class.iter().all(|&n| n == set.glyphs.len() / 10),
            "{per_class:?}"
        );
    }
    // The first labels and the first image's ink, as read independently of this crate.
    assert_eq!(train.labels[..5], [9, 0, 0, 3, 0]);
    assert_eq!(test.labels[..5], [9, 2, 1, 1, 6]);
    let ink: u32 = train.glyphs[0].pixels.iter().map(|&p| u32::from(p)).sum();
    assert_eq!(ink, 76_247);
    eprintln!(
        "fashion-mnist: {} train + {} test images, classes {:?}",
        train.glyphs.len(),
        test.glyphs.len(),
        train.class_names
    );

    let digits = read_digits(&data_dir.join("digits")).unwrap();
    let mut per_digit = [0usize; 10];
    for &label in &digits.labels {
        per_digit[usize::from(label)] += 1;
    }
    assert_eq!(digits.glyphs.len(), 10_000);
    let first_seven = digits.labels.iter().position(|&l| l == 7).unwrap();
    let ink: u32 = digits.glyphs[first_seven]
        .pixels
        .iter()
        .map(|&p| u32::from(p))
        .sum();
    assert_eq!(ink, 25_296);
    assert_eq!(
        per_digit,
        [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    );
    // Every digit has ink and background.
    assert!(
        digits
            .glyphs
            .iter()
            .all(|g| g.pixels.contains(&0) && g.pixels.iter().any(|&p| p > 200))
    );
    eprintln!(
        "digits: {} images, per digit {per_digit:?}",
        digits.glyphs.len()
    );
}

/// Dropping the middle class of three keeps the other two's glyphs in order and renumbers
/// the last class from 2 to 1.
#[test]
fn retain_classes_drops_glyphs_and_renumbers_the_rest() {
    let glyphs = three_images();
    let set = LabelledGlyphs {
        glyphs: glyphs.clone(),
        labels: vec![2, 1, 0],
        class_names: vec!["zero".into(), "one".into(), "two".into()],
    };
    let kept = set.retain_classes(|name| name != "one");
    assert_eq!(
        kept.class_names,
        vec!["zero".to_string(), "two".to_string()]
    );
    assert_eq!(kept.labels, vec![1, 0]);
    assert_eq!(kept.glyphs, vec![glyphs[0].clone(), glyphs[2].clone()]);
}
