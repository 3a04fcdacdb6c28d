//! The image formats (`example_images.csv`, `image_attention.csv`): exact bytes, errors
//! naming file, line and field, grouping, and the attention strips a results folder gets.

use std::path::{Path, PathBuf};

use super::*;
use crate::test_support::{read_error, scratch};

fn pixel(example: usize, y: usize, x: usize, rgb: [f64; 3]) -> ExampleImageRow {
    ExampleImageRow {
        example,
        y,
        x,
        red: rgb[0],
        green: rgb[1],
        blue: rgb[2],
    }
}

/// Every pixel of a `side × side` image, in (y, x) order: a gradient with a blue square.
fn image_rows(example: usize, side: usize) -> Vec<ExampleImageRow> {
    let mut rows = Vec::new();
    for y in 0..side {
        for x in 0..side {
            let v = (y * side + x) as f64 / (side * side) as f64;
            let square = (1..3).contains(&y) && (1..3).contains(&x);
            let rgb = if square { [0.1, 0.2, 0.9] } else { [v, v, 0.5] };
            rows.push(pixel(example, y, x, rgb));
        }
    }
    rows
}

#[allow(clippy::too_many_arguments)]
fn attention(
    model: &str,
    seed: u64,
    example: usize,
    step: usize,
    word: &str,
    cell: usize,
    weight: f64,
) -> ImageAttentionRow {
    ImageAttentionRow {
        model: model.into(),
        seed,
        example,
        step,
        word: word.into(),
        cell,
        weight,
    }
}

/// A caption over a 3 × 3 grid: each word looks mostly at one cell.
fn caption_rows(model: &str, seed: u64, example: usize, words: &[&str]) -> Vec<ImageAttentionRow> {
    let mut rows = Vec::new();
    for (step, word) in words.iter().enumerate() {
        let focus = (step * 4 + example) % 9;
        for cell in 0..9 {
            let w = if cell == focus { 0.6 } else { 0.05 };
            rows.push(attention(model, seed, example, step, word, cell, w));
        }
    }
    rows
}

/// Writes `rows`, checks the file's bytes, reads them back and writes them again.
fn round_trip<T: PartialEq + std::fmt::Debug>(
    path: &Path,
    rows: &[T],
    expected: &str,
    read: fn(&Path) -> anyhow::Result<Vec<T>>,
    write: fn(&Path, &[T]) -> anyhow::Result<()>,
) {
    write(path, rows).unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), expected);
    let back = read(path).unwrap();
    assert_eq!(back, rows);
    write(path, &back).unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), expected);
}

#[test]
fn image_formats_round_trip_byte_for_byte() {
    let tmp = scratch("round-trip");
    let dir = tmp.path();
    let rows = vec![
        pixel(0, 0, 0, [1.0, 0.5, 0.0]),
        pixel(0, 0, 1, [0.1235, 0.9999, 0.0001]),
        pixel(1, 0, 0, [0.25, 0.75, 0.3333]),
    ];
    round_trip(
        &dir.join(EXAMPLE_IMAGES_FILE),
        &rows,
        "example,y,x,red,green,blue\n\
         0,0,0,1.0000,0.5000,0.0000\n\
         0,0,1,0.1235,0.9999,0.0001\n\
         1,0,0,0.2500,0.7500,0.3333\n",
        read_example_images_csv,
        write_example_images_csv,
    );
    let rows = vec![
        attention("soft", 1, 0, 0, "a", 0, 0.75),
        attention("soft", 1, 0, 0, "a", 1, 0.25),
        attention("soft", 1, 0, 1, ",", 0, 0.123457),
        attention("hard", 12, 3, 0, "x,y", 3, 1.0),
    ];
    round_trip(
        &dir.join(IMAGE_ATTENTION_FILE),
        &rows,
        "model,seed,example,step,word,cell,weight\n\
         soft,1,0,0,a,0,0.750000\n\
         soft,1,0,0,a,1,0.250000\n\
         soft,1,0,1,<comma>,0,0.123457\n\
         hard,12,3,0,x<comma>y,3,1.000000\n",
        read_image_attention_csv,
        write_image_attention_csv,
    );

    // Values are rounded on writing: pixels to 4 decimals, weights to 6.
    let path = dir.join("rounded.csv");
    write_example_images_csv(&path, &[pixel(0, 0, 0, [0.123456, 0.99996, 0.00004])]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("\n0,0,0,0.1235,1.0000,0.0000\n"), "{text}");
    write_image_attention_csv(&path, &[attention("m", 1, 0, 0, "w", 0, 0.1234567)]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("\nm,1,0,0,w,0,0.123457\n"), "{text}");

    // A model with a comma is refused and leaves the old file intact.
    let path = dir.join(IMAGE_ATTENTION_FILE);
    let before = std::fs::read(&path).unwrap();
    let mut bad = rows.clone();
    bad[1].model = "so,ft".into();
    let msg = format!("{:#}", write_image_attention_csv(&path, &bad).unwrap_err());
    assert!(msg.contains("image_attention.csv: row 2"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 3);
}

#[test]
fn malformed_image_files_name_file_line_and_field() {
    let tmp = scratch("malformed");
    let dir = tmp.path();
    let images = |body: &str| {
        read_error(
            dir,
            EXAMPLE_IMAGES_FILE,
            &format!("{EXAMPLE_IMAGES_HEADER}\n0,0,0,0.1,0.2,0.3\n{body}"),
            read_example_images_csv,
        )
    };
    let msg = images("\n0,0,1,0.1,dark,0.3\n");
    assert!(
        msg.ends_with("example_images.csv:4: field 'green': invalid float literal \"dark\""),
        "{msg}"
    );
    let msg = images("0,-1,0,0.1,0.2,0.3\n");
    assert!(
        msg.contains("example_images.csv:3: field 'y'") && msg.ends_with("\"-1\""),
        "{msg}"
    );
    let msg = images("0,0,1,0.1,0.2\n");
    assert!(
        msg.contains("example_images.csv:3: expected 6") && msg.contains("'blue' is missing"),
        "{msg}"
    );

    let attention = |body: &str| {
        read_error(
            dir,
            IMAGE_ATTENTION_FILE,
            &format!("{IMAGE_ATTENTION_HEADER}\nsoft,1,0,0,a,0,0.5\n{body}"),
            read_image_attention_csv,
        )
    };
    let msg = attention("soft,1,0,0,a,one,0.5\n");
    assert!(
        msg.contains("image_attention.csv:3: field 'cell'") && msg.ends_with("\"one\""),
        "{msg}"
    );
    let msg = attention("soft,1,0,0,a,1,heavy\n");
    assert!(
        msg.contains("image_attention.csv:3: field 'weight'") && msg.contains("heavy"),
        "{msg}"
    );
    let msg = attention(" ,1,0,0,a,1,0.5\n");
    assert!(
        msg.contains("image_attention.csv:3: field 'model': empty text"),
        "{msg}"
    );
    // An unescaped comma in a word gives one field too many.
    let msg = attention("soft,1,0,1,,,1,0.5\n");
    assert!(
        msg.contains("image_attention.csv:3: expected 7") && msg.contains("found 8"),
        "{msg}"
    );
    let msg = read_error(
        dir,
        IMAGE_ATTENTION_FILE,
        "model,seed,step,word,cell,weight\nsoft,1,0,a,0,0.5\n",
        read_image_attention_csv,
    );
    assert!(msg.contains("image_attention.csv:1: wrong header"), "{msg}");
}

#[test]
fn rows_group_into_images_and_captions() {
    let mut rows = image_rows(1, 3);
    rows.extend([pixel(0, 1, 1, [0.5, 0.25, 1.0])]);
    let images = example_images(&rows);
    assert_eq!(images.len(), 2);
    // Example 0 has one pixel given, at (1, 1): 2 × 2, the others black.
    assert_eq!(
        (images[0].example, images[0].height, images[0].width),
        (0, 2, 2)
    );
    assert_eq!(
        images[0].data,
        [0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 1.0]
    );
    // Channel-major: the red plane, then green, then blue.
    let one = &images[1];
    assert_eq!((one.height, one.width, one.data.len()), (3, 3, 27));
    assert_eq!(one.data[4], 0.1); // red at (1, 1), in the blue square
    assert_eq!(one.data[9 + 4], 0.2);
    assert_eq!(one.data[18 + 4], 0.9);
    assert_eq!(one.data[18], 0.5);

    let mut rows = caption_rows("soft", 2, 0, &["a", "red"]);
    rows.extend(caption_rows("hard", 1, 0, &["a"]));
    rows.push(attention("soft", 2, 0, 5, "circle", 1, 1.0)); // steps need not be contiguous
    rows.reverse();
    let groups = image_attention_groups(&rows);
    let keys: Vec<(&str, u64, usize)> = groups
        .iter()
        .map(|g| (g.model.as_str(), g.seed, g.example))
        .collect();
    assert_eq!(keys, [("hard", 1, 0), ("soft", 2, 0)]);
    let soft = &groups[1];
    assert_eq!(
        (soft.words.clone(), soft.grid),
        (vec!["a".to_string(), "red".into(), "circle".into()], 3)
    );
    assert_eq!(soft.weights[1][4], 0.6);
    assert_eq!(soft.weights[1][0], 0.05);
    // Cells missing from the rows are 0.
    assert_eq!(
        soft.weights[2],
        [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    );
    // Five cells need a 3 × 3 grid.
    let odd = image_attention_groups(&[attention("m", 1, 0, 0, "w", 4, 1.0)]);
    assert_eq!((odd[0].grid, odd[0].weights[0].len()), (3, 9));
}

#[test]
fn redraw_draws_one_strip_per_model_seed_and_example() {
    let tmp = scratch("redraw");
    let root = tmp.path();
    let dir = root.join("captioning").join("scenes");
    let mut pixels = image_rows(0, 6);
    pixels.extend(image_rows(1, 6));
    write_example_images_csv(&dir.join(EXAMPLE_IMAGES_FILE), &pixels).unwrap();

    // Only the images: nothing to draw, but the folder is a results folder.
    assert_eq!(redraw_results_dir(&dir).unwrap(), Vec::<PathBuf>::new());

    let mut rows = Vec::new();
    for (model, seed) in [("soft", 2u64), ("hard/beam", 1), ("soft", 1)] {
        for example in [1, 0] {
            rows.extend(caption_rows(
                model,
                seed,
                example,
                &["a", "red", "circle", ","],
            ));
        }
    }
    write_image_attention_csv(&dir.join(IMAGE_ATTENTION_FILE), &rows).unwrap();
    let written = redraw_results_dir(&dir).unwrap();
    let expected: Vec<PathBuf> = [
        "attention-hard_beam-seed1-example0.png",
        "attention-hard_beam-seed1-example1.png",
        "attention-soft-seed1-example0.png",
        "attention-soft-seed1-example1.png",
        "attention-soft-seed2-example0.png",
        "attention-soft-seed2-example1.png",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    assert_eq!(written, expected);
    for f in &written {
        let b = std::fs::read(f).unwrap();
        assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}", f.display());
    }
    // Redrawn from the same CSVs: the same bytes.
    let first = std::fs::read(&written[0]).unwrap();
    assert_eq!(redraw_all(root).unwrap(), expected);
    assert_eq!(std::fs::read(&written[0]).unwrap(), first);

    // An example without its image is named.
    rows.extend(caption_rows("soft", 1, 7, &["a"]));
    write_image_attention_csv(&dir.join(IMAGE_ATTENTION_FILE), &rows).unwrap();
    let msg = format!("{:#}", redraw_results_dir(&dir).unwrap_err());
    assert!(
        msg.contains("example 7 of image_attention.csv (soft seed 1) is not in example_images.csv"),
        "{msg}"
    );
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp."), "leftover temporary file {name}");
    }
}
