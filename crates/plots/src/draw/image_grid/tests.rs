//! The image grid: where each image's pixels land and how much they are scaled, captions
//! wrapping over lines, the same bytes drawn twice, and the shapes it refuses.

use super::*;
use crate::test_support::scratch;

/// A `side × side` image, channel-major, all of one colour.
fn flat(side: usize, rgb: [f32; 3]) -> Vec<f32> {
    rgb.iter()
        .flat_map(|&v| std::iter::repeat_n(v, side * side))
        .collect()
}

fn image(data: &[f32], side: usize) -> Option<GridImage<'_>> {
    Some(GridImage {
        data,
        height: side,
        width: side,
    })
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// The RGB bytes of the grid's pixel (x, y).
fn pixel(grid: &Grid, (x, y): (i32, i32)) -> [u8; 3] {
    let at = 3 * (y as usize * grid.width as usize + x as usize);
    [grid.rgb[at], grid.rgb[at + 1], grid.rgb[at + 2]]
}

#[test]
fn images_land_in_their_cells_scaled_three_times() {
    let red = flat(48, [1.0, 0.0, 0.0]);
    let blue = flat(48, [0.0, 0.0, 1.0]);
    let mut corner = flat(48, [0.0, 1.0, 0.0]);
    corner[47 * 48 + 47] = 1.0; // the bottom-right pixel is yellow
    let rows = [
        ImageGridRow {
            caption: "a red circle , left of a blue square".into(),
            images: vec![image(&red, 48), image(&corner, 48), None],
        },
        ImageGridRow {
            caption: "a blue square".into(),
            images: vec![None, image(&blue, 48), image(&red, 48)],
        },
    ];
    let grid = render_grid("samples", &names(&["real", "attngan", "no-damsm"]), &rows).unwrap();
    assert_eq!(grid.scale, 3);
    assert_eq!(grid.rgb.len(), 3 * (grid.width * grid.height) as usize);
    let [(left, top), (middle, _), _] = grid.cells[0][..] else {
        panic!("{:?}", grid.cells)
    };
    // Cells are 144 pixels wide and 12 apart; the second row is lower.
    assert_eq!(middle - left, 144 + 12);
    assert!(grid.cells[1][0].1 > top + 144);
    for (dx, dy) in [(0, 0), (143, 0), (0, 143), (143, 143)] {
        assert_eq!(pixel(&grid, (left + dx, top + dy)), [255, 0, 0]);
    }
    // The image's last pixel is the last 3 × 3 block of its cell.
    for d in 0..3 {
        assert_eq!(
            pixel(&grid, (middle + 141 + d, top + 141 + d)),
            [255, 255, 0]
        );
    }
    assert_eq!(pixel(&grid, (middle + 140, top + 140)), [0, 255, 0]);
    let (left, top) = grid.cells[1][1];
    assert_eq!(pixel(&grid, (left + 70, top + 70)), [0, 0, 255]);
    // A cell without an image is white inside its frame (its "no image" text aside).
    let (left, top) = grid.cells[1][0];
    assert_eq!(pixel(&grid, (left + 5, top + 5)), [255, 255, 255]);
}

#[test]
fn long_captions_wrap_and_the_bytes_repeat() {
    let green = flat(48, [0.0, 1.0, 0.0]);
    let row = |caption: &str| ImageGridRow {
        caption: caption.into(),
        images: vec![image(&green, 48), image(&green, 48)],
    };
    let columns = names(&["real", "attngan"]);
    let short = render_grid("samples", &columns, &[row("a green square")]).unwrap();
    let long_caption = "a large red circle , above a small blue square , left of a green \
                        triangle , and below a yellow star in the middle of the scene";
    let long = render_grid("samples", &columns, &[row(long_caption)]).unwrap();
    // The same width (the grid's), the caption over more lines, so the images lower.
    assert_eq!(long.width, short.width);
    let extra_lines = long.cells[0][0].1 - short.cells[0][0].1;
    assert!(
        extra_lines >= 2 * CAPTION_LINE_H && extra_lines % CAPTION_LINE_H == 0,
        "{extra_lines}"
    );
    assert_eq!(long.height - short.height, extra_lines as u32);

    let tmp = scratch("bytes");
    let dir = tmp.path();
    let path = dir.join("samples.png");
    image_grid(&path, "samples", &columns, &[row(long_caption)]).unwrap();
    let first = std::fs::read(&path).unwrap();
    assert_eq!(&first[..8], b"\x89PNG\r\n\x1a\n");
    image_grid(&path, "samples", &columns, &[row(long_caption)]).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), first);
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_shapes_are_refused_and_nothing_is_written() {
    let tmp = scratch("shapes");
    let dir = tmp.path();
    let path = dir.join("samples.png");
    let green = flat(4, [0.0, 1.0, 0.0]);
    let columns = names(&["real", "attngan"]);
    let error = |columns: &[String], rows: &[ImageGridRow<'_>]| {
        format!("{:#}", image_grid(&path, "t", columns, rows).unwrap_err())
    };
    let msg = error(&columns, &[]);
    assert!(
        msg.contains("2 columns and 0 rows: nothing to draw"),
        "{msg}"
    );
    let short_row = ImageGridRow {
        caption: "a".into(),
        images: vec![image(&green, 4)],
    };
    let msg = error(&columns, &[short_row]);
    assert!(msg.contains("row 0 has 1 cells for 2 columns"), "{msg}");
    let wrong_size = ImageGridRow {
        caption: "a".into(),
        images: vec![None, image(&green, 3)],
    };
    let msg = error(&columns, &[wrong_size]);
    assert!(
        msg.contains("row 0, column 1: 48 values for a 3 × 3 × 3 image"),
        "{msg}"
    );
    assert!(
        msg.starts_with(&format!("image grid {}", path.display())),
        "{msg}"
    );
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}
