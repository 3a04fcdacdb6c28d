//! The attention strip: its size, its bytes drawn twice, where a panel is bright, and
//! the shapes it refuses.

use std::path::Path;

use super::*;
use crate::test_support::scratch;

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

/// A 6 × 6 image, channel-major: red 1, green 0.5, blue 0 everywhere.
fn orange_6x6() -> Vec<f32> {
    [1.0f32, 0.5, 0.0]
        .iter()
        .flat_map(|&v| std::iter::repeat_n(v, 36))
        .collect()
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// One-hot over a 3 × 3 grid.
fn one_hot(cell: usize) -> Vec<f32> {
    let mut w = vec![0.0; 9];
    w[cell] = 1.0;
    w
}

/// The RGB bytes of the strip's pixel (x, y).
fn pixel(strip: &Strip, (x, y): (usize, usize)) -> [u8; 3] {
    let at = 3 * (y * strip.width as usize + x);
    [strip.rgb[at], strip.rgb[at + 1], strip.rgb[at + 2]]
}

/// The screen pixels of image pixel (y, x) in panel `k`.
fn block(strip: &Strip, k: usize, (y, x): (usize, usize)) -> Vec<(usize, usize)> {
    let (left, top) = strip.panels[k];
    let s = strip.scale;
    (0..s)
        .flat_map(|dy| (0..s).map(move |dx| (dx, dy)))
        .map(|(dx, dy)| (left as usize + x * s + dx, top as usize + y * s + dy))
        .collect()
}

#[test]
fn strip_has_the_expected_size_and_the_same_bytes_twice() {
    let tmp = scratch("size");
    let dir = tmp.path();
    let image = orange_6x6();
    let caption = words(&["a", "red", "circle"]);
    let weights = vec![one_hot(0), one_hot(5), vec![1.0 / 9.0; 9]];
    let (a, b) = (dir.join("a.png"), dir.join("b.png"));
    for path in [&a, &b] {
        attention_strip(path, &image, 6, 6, &caption, &weights, "soft (seed 1)").unwrap();
    }
    // 6 pixels at 32× = 192-pixel panels; 4 slots of 192 + 16 across, one row:
    // 20 + 4 · 208 − 16 + 20 wide; 80 (title and legend) + 24 + 192 + 20 tall.
    assert_eq!(png_size(&a), (856, 316));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let strip = render_strip(&image, 6, 6, &caption, &weights, "soft (seed 1)").unwrap();
    assert_eq!((strip.width, strip.height, strip.scale), (856, 316, 32));
    assert_eq!(
        strip.panels,
        [(20, 104), (228, 104), (436, 104), (644, 104)]
    );

    // Past 7 words the panels wrap: 8 a row, here two rows.
    let long = words(&["w"; 10]);
    let path = dir.join("long.png");
    attention_strip(&path, &image, 6, 6, &long, &vec![one_hot(4); 10], "t").unwrap();
    assert_eq!(
        png_size(&path),
        (20 + 8 * 208 - 16 + 20, 80 + 2 * 236 - 20 + 20)
    );

    // 48 pixels are scaled 4×; a large image is not scaled down.
    let big = vec![0.5f32; 3 * 48 * 48];
    let strip = render_strip(&big, 48, 48, &long[..1], &[vec![0.0; 16]], "t").unwrap();
    assert_eq!(strip.scale, 4);
    let huge = vec![0.5f32; 3 * 200 * 300];
    let strip = render_strip(&huge, 200, 300, &long[..1], &[vec![1.0; 4]], "t").unwrap();
    assert_eq!((strip.scale, strip.height), (1, 80 + 24 + 200 + 20));
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp."), "leftover temporary file {name}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_panel_is_brightest_where_the_weight_is() {
    let image = orange_6x6();
    // Word 0 looks at cell 5 (grid row 1, column 2: image rows 2–3, columns 4–5);
    // word 1 mostly at cell 0, a quarter as much at cell 8, nowhere else.
    let mut spread = vec![0.0f32; 9];
    spread[0] = 0.8;
    spread[8] = 0.2;
    let strip = render_strip(
        &image,
        6,
        6,
        &words(&["red", "circle"]),
        &[one_hot(5), spread],
        "t",
    )
    .unwrap();
    let lit = [255, 128, 0]; // the image's own colour
    let dim = [64, 32, 0]; // 0.25 of it, rounded
    for y in 0..6 {
        for x in 0..6 {
            // The plain image first, at full brightness.
            for p in block(&strip, 0, (y, x)) {
                assert_eq!(pixel(&strip, p), lit, "image at {y},{x}");
            }
            let in_cell = (2..4).contains(&y) && (4..6).contains(&x);
            for p in block(&strip, 1, (y, x)) {
                let want = if in_cell { lit } else { dim };
                assert_eq!(pixel(&strip, p), want, "word 0 at {y},{x}");
            }
            // 0.25 + 0.75 · 0.2 / 0.8 = 0.4375 of the colour in cell 8.
            let want = match (y / 2, x / 2) {
                (0, 0) => lit,
                (2, 2) => [112, 56, 0],
                _ => dim,
            };
            for p in block(&strip, 2, (y, x)) {
                assert_eq!(pixel(&strip, p), want, "word 1 at {y},{x}");
            }
        }
    }
    // The frame around a panel is grey, outside the image.
    let (left, top) = strip.panels[1];
    assert_eq!(
        pixel(&strip, (left as usize - 1, top as usize + 10)),
        [150, 150, 150]
    );
}

#[test]
fn nearest_upsampling_on_sizes_the_grid_does_not_divide() {
    // 7 rows over 3 grid rows: ⌊y · 3 / 7⌋ = 0 0 0 1 1 2 2.
    let mut w = vec![0.0f32; 9];
    w[3] = 1.0; // grid row 1, column 0
    let b = brightness(&w, 3, 7, 7);
    let lit_rows: Vec<usize> = (0..7).filter(|&y| b[y * 7] == 1.0).collect();
    assert_eq!(lit_rows, [3, 4]);
    let lit_cols: Vec<usize> = (0..7).filter(|&x| b[3 * 7 + x] == 1.0).collect();
    assert_eq!(lit_cols, [0, 1, 2]);
    // No positive (or finite) weight: everything dimmed.
    let b = brightness(&[f32::NAN, -1.0, 0.0, 0.0], 2, 4, 4);
    assert!(b.iter().all(|&v| v == DIM));
}

#[test]
fn bad_shapes_are_refused_and_nothing_is_written() {
    let tmp = scratch("bad");
    let dir = tmp.path();
    let path = dir.join("bad.png");
    let image = orange_6x6();
    let one = words(&["red"]);
    /// Image, its height, words, weights, and a part of the error.
    type Case<'a> = (&'a [f32], usize, &'a [String], Vec<Vec<f32>>, &'a str);
    let cases: [Case<'_>; 6] = [
        (&image[1..], 6, &one, vec![one_hot(0)], "107 values"),
        (&image, 0, &one, vec![one_hot(0)], "empty image"),
        (&image, 6, &one, vec![], "0 attention grids for 1 words"),
        (
            &image,
            6,
            &one,
            vec![vec![0.2; 5]],
            "not the cells of a square",
        ),
        (
            &image,
            6,
            &words(&["a", "b"]),
            vec![one_hot(0), vec![0.25; 4]],
            "word 1 has 4 weights, word 0 has 9",
        ),
        (
            &image,
            6,
            &one,
            vec![vec![0.0; 49]],
            "7 × 7 grid over a 6 × 6",
        ),
    ];
    for (image, side, words, weights, want) in cases {
        let msg = format!(
            "{:#}",
            attention_strip(&path, image, side, 6, words, &weights, "t").unwrap_err()
        );
        assert!(msg.contains("bad.png") && msg.contains(want), "{msg}");
    }
    // No words at all is just the image.
    attention_strip(&path, &image, 6, 6, &[], &[], "t").unwrap();
    assert_eq!(png_size(&path).1, 316);
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}
