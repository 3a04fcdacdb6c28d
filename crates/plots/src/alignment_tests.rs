//! Alignment figures: the heatmap's shape checks and atomic write, and the grid of several
//! alignments (at most three columns, drawn only when a folder has several groups).

use super::*;
use crate::test_support::{assert_png, no_tmp_files, png_size, scratch};

#[test]
fn heatmap_checks_shapes_and_writes_atomically() {
    let tmp = scratch("heatmap");
    let dir = tmp.path();
    let path = dir.join("h.png");
    let toks = |n: usize| (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>();
    let err = attention_heatmap(&path, "t", &toks(3), &toks(2), &[vec![0.0; 3]]).unwrap_err();
    assert!(format!("{err:#}").contains("weight rows"));
    assert!(!path.exists());

    // A long sentence: 60 source x 55 target tokens.
    let (ns, nt) = (60, 55);
    let w: Vec<Vec<f32>> = (0..nt)
        .map(|i| {
            (0..ns)
                .map(|j| (-((i as f32 * 60.0 / 55.0 - j as f32).powi(2)) / 2.0).exp())
                .collect()
        })
        .collect();
    attention_heatmap(&path, "long sentence", &toks(ns), &toks(nt), &w).unwrap();
    assert_png(&path);
    no_tmp_files(dir);
}

/// `n` panels on one 20-token sentence, each with its own target length.
fn grid_panels(n: usize) -> Vec<Alignment> {
    let src: Vec<String> = "the agreement on the european economic area was signed in \
                            august 1992 , after long talks between the two sides . </s>"
        .split(' ')
        .map(String::from)
        .collect();
    let tgt_full: Vec<String> = "l' accord sur la zone économique européenne a été signé en \
                                 août 1992 , après de longues négociations entre les deux \
                                 parties . </s>"
        .split_whitespace()
        .map(String::from)
        .collect();
    let models = [
        ("RNNsearch", 50),
        ("RNNsearch", 30),
        ("RNNencdec", 50),
        ("RNNencdec", 30),
    ];
    (0..n)
        .map(|k| {
            let (model, tml) = models[k % models.len()];
            // Each panel decodes a slightly different target (drops a few tokens).
            let tgt: Vec<String> = tgt_full
                .iter()
                .enumerate()
                .filter(|(i, _)| k == 0 || (i + k) % 7 != 0)
                .map(|(_, t)| t.clone())
                .collect();
            let sharp = if model == "RNNsearch" { 1.5 } else { 8.0 };
            let weights = (0..tgt.len())
                .map(|i| {
                    let centre = i as f32 * (src.len() - 1) as f32 / (tgt.len() - 1) as f32;
                    let row: Vec<f32> = (0..src.len())
                        .map(|j| (-((j as f32 - centre).powi(2)) / sharp).exp())
                        .collect();
                    let sum: f32 = row.iter().sum();
                    row.into_iter().map(|w| w / sum).collect()
                })
                .collect();
            Alignment {
                model: model.into(),
                train_max_len: tml,
                seed: 1 + (k / models.len()) as u64,
                src_tokens: src.clone(),
                tgt_tokens: tgt,
                weights,
            }
        })
        .collect()
}

#[test]
fn alignment_grid_draws_panels_in_at_most_three_columns() {
    let tmp = scratch("grid");
    let dir = tmp.path();
    let five = dir.join("grid5.png");
    let three = dir.join("grid3.png");
    let two = dir.join("grid2.png");
    attention_heatmap_grid(&five, "wmt14-en-fr: alignment", &grid_panels(5)).unwrap();
    attention_heatmap_grid(&three, "three panels", &grid_panels(3)).unwrap();
    attention_heatmap_grid(&two, "two panels", &grid_panels(2)).unwrap();
    for p in [&five, &three, &two] {
        assert_png(p);
    }
    // Five panels: 3 columns (as wide as three panels), 2 rows (taller).
    let (w5, h5) = png_size(&five);
    let (w3, h3) = png_size(&three);
    let (w2, h2) = png_size(&two);
    assert_eq!(w5, w3);
    assert!(h5 > h3 + 300, "{h5} vs {h3}");
    assert!(w2 < w3 && h2 == h3, "{w2}x{h2} vs {w3}x{h3}");

    // Bad input: no panels, or a ragged matrix (named by its panel), writes nothing.
    let bad_path = dir.join("bad.png");
    let msg = format!(
        "{:#}",
        attention_heatmap_grid(&bad_path, "t", &[]).unwrap_err()
    );
    assert!(msg.contains("no panels"), "{msg}");
    let mut bad = grid_panels(2);
    bad[1].weights[3].pop();
    let msg = format!(
        "{:#}",
        attention_heatmap_grid(&bad_path, "t", &bad).unwrap_err()
    );
    assert!(
        msg.contains("panel 1 (RNNsearch-30 (seed 1))") && msg.contains("weight row 3"),
        "{msg}"
    );
    assert!(!bad_path.exists());
    no_tmp_files(dir);
}

#[test]
fn redraw_writes_alignment_grid_only_for_several_groups() {
    let tmp = scratch("grid-redraw");
    let dir = tmp.path();
    let mut rows = Vec::new();
    for a in grid_panels(4) {
        for (i, t) in a.tgt_tokens.iter().enumerate() {
            for (j, s) in a.src_tokens.iter().enumerate() {
                rows.push(AlignmentRow {
                    model: a.model.clone(),
                    train_max_len: a.train_max_len,
                    seed: a.seed,
                    tgt_pos: i,
                    tgt_token: t.clone(),
                    src_pos: j,
                    src_token: s.clone(),
                    weight: a.weights[i][j] as f64,
                });
            }
        }
    }
    write_alignment_csv(&dir.join(ALIGNMENT_FILE), &rows).unwrap();
    let written = redraw_results_dir(dir).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "alignment-RNNencdec-30-seed1.png",
            "alignment-RNNencdec-50-seed1.png",
            "alignment-RNNsearch-30-seed1.png",
            "alignment-RNNsearch-50-seed1.png",
            "alignment-grid.png",
        ]
    );
    for f in &written {
        assert_png(f);
    }
    // 4 panels: 3 columns and 2 rows, so wider and taller than one heatmap (whose
    // cells are larger).
    let (w, h) = png_size(&written[4]);
    let (w1, h1) = png_size(&written[0]);
    assert!(w > w1 && h > h1, "{w}x{h} vs {w1}x{h1}");

    // A single group: no grid.
    let one: Vec<AlignmentRow> = rows
        .iter()
        .filter(|r| r.model == "RNNsearch" && r.train_max_len == 50)
        .cloned()
        .collect();
    let single = dir.join("single");
    write_alignment_csv(&single.join(ALIGNMENT_FILE), &one).unwrap();
    assert_eq!(
        redraw_results_dir(&single).unwrap(),
        vec![single.join("alignment.png")]
    );
    no_tmp_files(dir);
}
