//! The line plot's marks found by colour in its pixels: a lone point's marker, a
//! baseline's dashed line across the plot, and the dashes past the palette.

use super::*;

/// The (x, y) of every pixel of exactly `colour`.
fn pixels_of(rgb: &[u8], colour: RGBColor) -> Vec<(usize, usize)> {
    let w = LINE_PLOT_SIZE.0 as usize;
    rgb.chunks_exact(3)
        .enumerate()
        .filter(|(_, px)| px[..] == [colour.0, colour.1, colour.2])
        .map(|(i, _)| (i % w, i / w))
        .collect()
}

fn series(name: &str, points: &[(f64, f64, f64)]) -> Series {
    Series {
        name: name.into(),
        points: points.to_vec(),
    }
}

#[test]
fn a_series_with_one_x_is_a_marker_in_the_middle() {
    // The same legend either way; only the point differs.
    let with = render_lines(0.0..100.0, &[series("CNN", &[(60.0, 30.0, 0.0)])], &[]).unwrap();
    let without = render_lines(0.0..100.0, &[series("CNN", &[])], &[]).unwrap();
    let before = pixels_of(&without, PALETTE[0]);
    let added: Vec<(usize, usize)> = pixels_of(&with, PALETTE[0])
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert!(added.len() >= 12, "{} marker pixels", added.len());
    let (xs, ys): (Vec<usize>, Vec<usize>) = added.iter().copied().unzip();
    let (x0, x1) = (*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
    let (y0, y1) = (*ys.iter().min().unwrap(), *ys.iter().max().unwrap());
    // A small mark (circle and error-bar caps), centred across: the lone x is the
    // middle of its axis.
    assert!(x1 - x0 <= 14 && y1 - y0 <= 10, "{x0}..{x1} × {y0}..{y1}");
    let centre = (x0 + x1) as f64 / 2.0 / LINE_PLOT_SIZE.0 as f64;
    assert!((0.45..0.6).contains(&centre), "{centre}");
}

#[test]
fn a_baseline_is_a_dashed_line_across_the_plot() {
    let ram = series("RAM", &[(2.0, 10.0, 1.0), (8.0, 5.0, 1.0)]);
    let fc = Baseline {
        name: "FC-64".into(),
        mean: 20.0,
        std: 2.0,
    };
    let rgb = render_lines(0.0..30.0, &[ram], std::slice::from_ref(&fc)).unwrap();
    // The baseline takes the colour after the series'.
    let orange = PALETTE[1];
    let mut rows: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (x, y) in pixels_of(&rgb, orange) {
        rows.entry(y).or_default().push(x);
    }
    let (_, xs) = rows.iter().max_by_key(|(_, xs)| xs.len()).unwrap();
    let (x0, x1) = (xs[0], *xs.last().unwrap());
    assert!(x1 - x0 > LINE_PLOT_SIZE.0 as usize * 3 / 4, "{x0}..{x1}");
    // Dashes: many runs, the gaps about as long as the dashes.
    let runs = 1 + xs.windows(2).filter(|w| w[1] > w[0] + 1).count();
    assert!(runs >= 30, "{runs} runs");
    assert!(xs.len() < (x1 - x0) * 3 / 4, "{} of {}", xs.len(), x1 - x0);

    // A non-finite baseline is left out; a plot of baselines alone still draws.
    let nan = Baseline {
        name: "broken".into(),
        mean: f64::NAN,
        std: 0.0,
    };
    let rgb = render_lines(0.0..30.0, &[], &[fc, nan]).unwrap();
    assert!(pixels_of(&rgb, PALETTE[0]).len() > 100);
    assert!(pixels_of(&rgb, PALETTE[1]).is_empty());
}

#[test]
fn past_the_palette_lines_are_dashed() {
    assert_eq!(line_style(0), (PALETTE[0], false));
    assert_eq!(line_style(9), (PALETTE[9], false));
    assert_eq!(line_style(10), (PALETTE[0], true));
    // Eleven series: the first and the eleventh share a colour, the eleventh dashed.
    let many: Vec<Series> = (0..11)
        .map(|i| {
            series(
                &format!("s{i}"),
                &[(0.0, 5.0 * i as f64, 0.0), (10.0, 5.0 * i as f64, 0.0)],
            )
        })
        .collect();
    let rgb = render_lines(-5.0..60.0, &many, &[]).unwrap();
    let mut rows: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (x, y) in pixels_of(&rgb, PALETTE[0]) {
        rows.entry(y).or_default().push(x);
    }
    // The first series' line (at y 0) fills its rows but for a pixel or two where the
    // axis ticks cross it; the eleventh's (at y 50) is broken into dashes.
    let gaps = |xs: &Vec<usize>| xs.windows(2).filter(|w| w[1] > w[0] + 1).count();
    assert!(rows.values().any(|xs| xs.len() > 600 && gaps(xs) <= 2));
    assert!(rows.values().any(|xs| xs.len() > 300 && gaps(xs) >= 30));
}
