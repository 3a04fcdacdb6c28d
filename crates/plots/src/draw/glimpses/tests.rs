//! The glimpse figure: where the canvas, the squares, the path and the patches land, in
//! which colours, the same bytes drawn twice, and the shapes it refuses.

use super::*;
use crate::data::{GreyPatch, ScaleSquare};
use crate::test_support::scratch;

/// A 6 × 6 grey canvas, channel-major: pixel (y, x) is `(6y + x) / 36` on every channel.
fn gradient_canvas() -> Vec<f32> {
    let plane: Vec<f32> = (0..36).map(|i| i as f32 / 36.0).collect();
    plane.repeat(3)
}

fn canvas(data: &[f32]) -> GridImage<'_> {
    GridImage {
        data,
        height: 6,
        width: 6,
    }
}

fn square(scale: usize, left: i64, top: i64, side: usize) -> ScaleSquare {
    ScaleSquare {
        scale,
        left,
        top,
        side,
    }
}

fn patch(values: [f32; 4]) -> Option<GreyPatch> {
    Some(GreyPatch {
        side: 2,
        values: values.to_vec(),
    })
}

/// One glimpse centred on (3, 3): a 2-pixel square at (2, 2) and a 4-pixel one at (1, 1),
/// with their 2 × 2 patches.
fn one_glimpse() -> Vec<GlimpseStep> {
    vec![GlimpseStep {
        step: 0,
        x: 3.0,
        y: 3.0,
        squares: vec![square(0, 2, 2, 2), square(1, 1, 1, 4)],
        patches: vec![patch([0.0, 0.25, 0.5, 1.0]), patch([0.1, 0.2, 0.3, 0.4])],
    }]
}

/// The RGB bytes of the figure's pixel (x, y).
fn pixel(panels: &GlimpsePanels, (x, y): (i32, i32)) -> [u8; 3] {
    let at = 3 * (y as usize * panels.width as usize + x as usize);
    [panels.rgb[at], panels.rgb[at + 1], panels.rgb[at + 2]]
}

/// The grey byte of canvas pixel (y, x) of [`gradient_canvas`].
fn grey(y: usize, x: usize) -> [u8; 3] {
    [((y * 6 + x) as f64 / 36.0 * 255.0).round() as u8; 3]
}

#[test]
fn step_colours_run_from_blue_to_red() {
    assert_eq!(step_colour(0, 1), [66, 133, 244]);
    assert_eq!(step_colour(0, 4), [66, 133, 244]);
    assert_eq!(step_colour(1, 4), [52, 199, 89]);
    assert_eq!(step_colour(2, 4), [255, 193, 7]);
    assert_eq!(step_colour(3, 4), [234, 67, 53]);
    // Halfway between blue and green.
    assert_eq!(step_colour(1, 7), [59, 166, 167]);
}

#[test]
fn squares_outline_in_the_step_colour_over_the_scaled_canvas() {
    let data = gradient_canvas();
    let steps = one_glimpse();
    let rows = [GlimpseFigureRow {
        caption: "example 0: label 3, predicted 3 (right)".into(),
        canvas: canvas(&data),
        steps: &steps,
    }];
    let panels = render_glimpses("RAM, 1 glimpses", &rows).unwrap();
    // 6 pixels at 40× = 240; the canvas under the title, legend, caption and label.
    assert_eq!(panels.canvas_scale, 40);
    assert_eq!(panels.canvases, [(20, 124)]);
    let (left, top) = panels.canvases[0];
    let at = |x: i32, y: i32| pixel(&panels, (left + x, top + y));
    let blue = [66, 133, 244];

    // Canvas pixel (0, 5) is a plain 40 × 40 block of its grey.
    for (dx, dy) in [(200, 0), (239, 0), (200, 39), (239, 39)] {
        assert_eq!(at(dx, dy), grey(0, 5));
    }
    // The 4-pixel square spans screen pixels 40..200 across and down: its border is the
    // outermost 2 of them, in the step's colour; inside and outside is the canvas.
    assert_eq!(at(40, 100), blue);
    assert_eq!(at(41, 100), blue);
    assert_eq!(at(42, 100), grey(2, 1));
    assert_eq!(at(39, 100), grey(2, 0));
    assert_eq!(at(199, 60), blue);
    assert_eq!(at(200, 60), grey(1, 5));
    assert_eq!(at(100, 40), blue);
    assert_eq!(at(100, 199), blue);
    // The 2-pixel square's top-left corner, and a pixel inside it.
    assert_eq!(at(80, 80), blue);
    assert_eq!(at(84, 84), grey(2, 2));
    // The centre carries the first (and last) glimpse's disc.
    assert_eq!(at(120, 120), blue);

    // The patches: a column of two, 2 pixels at 28×, finest on top; each pixel a block of
    // its grey (0.5 → 128), framed in the step's colour.
    assert_eq!(panels.patch_scale, 28);
    let cells = &panels.patches[0][0];
    assert_eq!(cells.len(), 2);
    let (pl, pt) = cells[0];
    assert_eq!(pl, left + 240 + 2 * 12);
    assert_eq!(cells[1], (pl, pt + 56 + 6));
    assert_eq!(pt, top);
    for (dx, dy) in [(0, 28), (27, 28), (0, 55), (27, 55)] {
        assert_eq!(pixel(&panels, (pl + dx, pt + dy)), [128; 3]);
    }
    assert_eq!(pixel(&panels, (pl + 28, pt + 28)), [255; 3]);
    assert_eq!(pixel(&panels, (pl, pt)), [0; 3]);
    let (ql, qt) = cells[1];
    assert_eq!(pixel(&panels, (ql + 30, qt + 30)), [102; 3]); // 0.4
    assert_eq!(pixel(&panels, (pl - 1, pt + 10)), blue);
}

#[test]
fn later_steps_take_later_colours_and_the_path_joins_the_centres() {
    let data = gradient_canvas();
    let steps = vec![
        GlimpseStep {
            step: 0,
            x: 1.0,
            y: 1.0,
            squares: vec![square(0, 0, 0, 2)],
            patches: vec![None],
        },
        GlimpseStep {
            step: 1,
            x: 5.0,
            y: 1.0,
            squares: vec![square(0, 4, 0, 2)],
            patches: vec![None],
        },
    ];
    let rows = [GlimpseFigureRow {
        caption: "example 1".into(),
        canvas: canvas(&data),
        steps: &steps,
    }];
    let panels = render_glimpses("t", &rows).unwrap();
    let (left, top) = panels.canvases[0];
    let at = |x: i32, y: i32| pixel(&panels, (left + x, top + y));
    let (blue, red) = ([66, 133, 244], [234, 67, 53]);
    assert_eq!(at(0, 60), blue); // step 0's square, left edge
    assert_eq!(at(160, 60), red); // step 1's square, left edge
    // The path from (40, 40) to (200, 40), 2 pixels wide, in the colour of its end.
    assert_eq!(at(120, 40), red);
    assert_eq!(at(120, 41), red);
    assert_eq!(at(120, 42), grey(1, 3));
    // A disc on the first centre, a ring (hollow) on the last.
    assert_eq!(at(40, 40), blue);
    assert_eq!(at(204, 40), red);
    assert_eq!(at(200, 48), grey(1, 5));
    // Without any patch there are no patch columns: the figure is as wide as its text.
    assert!(panels.patches[0].is_empty());
}

#[test]
fn figure_is_written_with_the_same_bytes_twice() {
    let tmp = scratch("write");
    let dir = tmp.path();
    let data = gradient_canvas();
    let steps = one_glimpse();
    let rows = [
        GlimpseFigureRow {
            caption: "example 0".into(),
            canvas: canvas(&data),
            steps: &steps,
        },
        GlimpseFigureRow {
            caption: "example 1".into(),
            canvas: canvas(&data),
            steps: &steps[..0],
        },
    ];
    let (a, b) = (dir.join("a.png"), dir.join("b.png"));
    glimpse_figure(&a, "RAM, 1 glimpses (seed 1)", &rows).unwrap();
    glimpse_figure(&b, "RAM, 1 glimpses (seed 1)", &rows).unwrap();
    let bytes = std::fs::read(&a).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(bytes, std::fs::read(&b).unwrap());
    let panels = render_glimpses("RAM, 1 glimpses (seed 1)", &rows).unwrap();
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    assert_eq!((be(16), be(20)), (panels.width, panels.height));
    // The second row starts one row (caption, label, canvas, gap) below the first.
    assert_eq!(
        panels.canvases[1].1 - panels.canvases[0].1,
        23 + 19 + 240 + 22
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn row<'a>(canvas: GridImage<'a>, steps: &'a [GlimpseStep]) -> GlimpseFigureRow<'a> {
    GlimpseFigureRow {
        caption: "c".into(),
        canvas,
        steps,
    }
}

/// The error of drawing `rows`, in full.
fn refusal(rows: &[GlimpseFigureRow<'_>]) -> String {
    format!("{:#}", render_glimpses("t", rows).err().unwrap())
}

#[test]
fn malformed_input_is_refused() {
    let data = gradient_canvas();
    let tmp = scratch("refused");
    let dir = tmp.path();
    let path = dir.join("g.png");
    let msg = format!("{:#}", glimpse_figure(&path, "t", &[]).unwrap_err());
    assert!(msg.contains("no examples"), "{msg}");

    let short = vec![0.0f32; 35];
    let msg = refusal(&[row(canvas(&short), &[])]);
    assert!(msg.contains("35 values for a 3 × 6 × 6 canvas"), "{msg}");

    let mut steps = one_glimpse();
    steps[0].patches.pop();
    let msg = refusal(&[row(canvas(&data), &steps)]);
    assert!(msg.contains("step 0: 1 patches for 2 squares"), "{msg}");

    let mut steps = one_glimpse();
    steps[0].patches[1] = Some(GreyPatch {
        side: 2,
        values: vec![0.5; 3],
    });
    let msg = format!(
        "{:#}",
        glimpse_figure(&path, "t", &[row(canvas(&data), &steps)]).unwrap_err()
    );
    assert!(msg.contains("3 values for a 2 × 2 patch"), "{msg}");
    assert!(!path.exists());
    std::fs::remove_dir_all(dir).unwrap();
}
