//! Alignment, document-attention and image-attention rows grouped into one matrix, one
//! document or one caption per run, and example-image and generated-image pixels into
//! images, ready to draw.

use std::collections::BTreeMap;

use anyhow::bail;

use crate::data::{
    Alignment, AlignmentRow, DocAttention, DocAttentionRow, ExampleImage, ExampleImageRow,
    GeneratedImage, GeneratedImageRow, ImageAttention, ImageAttentionRow,
};

/// Groups alignment rows by (model, train_max_len, seed) (sorted by that key) and
/// builds one matrix per group; positions are sorted and need not be contiguous.
pub fn alignment_matrices(rows: &[AlignmentRow]) -> Vec<Alignment> {
    let mut groups: BTreeMap<(String, usize, u64), Vec<&AlignmentRow>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.model.clone(), r.train_max_len, r.seed))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((model, train_max_len, seed), cells)| {
            let mut src: BTreeMap<usize, &str> = BTreeMap::new();
            let mut tgt: BTreeMap<usize, &str> = BTreeMap::new();
            for c in &cells {
                src.entry(c.src_pos).or_insert(&c.src_token);
                tgt.entry(c.tgt_pos).or_insert(&c.tgt_token);
            }
            let src_index: BTreeMap<usize, usize> =
                src.keys().enumerate().map(|(i, &p)| (p, i)).collect();
            let tgt_index: BTreeMap<usize, usize> =
                tgt.keys().enumerate().map(|(i, &p)| (p, i)).collect();
            let mut weights = vec![vec![0.0f32; src.len()]; tgt.len()];
            for c in &cells {
                weights[tgt_index[&c.tgt_pos]][src_index[&c.src_pos]] = c.weight as f32;
            }
            Alignment {
                model,
                train_max_len,
                seed,
                src_tokens: src.values().map(|s| s.to_string()).collect(),
                tgt_tokens: tgt.values().map(|s| s.to_string()).collect(),
                weights,
            }
        })
        .collect()
}

/// Groups document-attention rows by (model, seed) (sorted by that key), each with
/// its tokens and weights in position order; positions need not be contiguous, and a
/// position given twice keeps its last row.
pub fn doc_attention_groups(rows: &[DocAttentionRow]) -> Vec<DocAttention> {
    type Positions<'a> = BTreeMap<usize, (&'a str, f64)>;
    let mut groups: BTreeMap<(&str, u64), Positions<'_>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.model.as_str(), r.seed))
            .or_default()
            .insert(r.position, (r.token.as_str(), r.weight));
    }
    groups
        .into_iter()
        .map(|((model, seed), positions)| DocAttention {
            model: model.to_string(),
            seed,
            tokens: positions.values().map(|(t, _)| t.to_string()).collect(),
            weights: positions.values().map(|&(_, w)| w as f32).collect(),
        })
        .collect()
}

/// Groups example-image pixels by example (sorted by it) into channel-major images, each
/// `max y + 1` tall and `max x + 1` wide; pixels missing from the rows are 0 (black), and
/// a pixel given twice keeps its last row.
pub fn example_images(rows: &[ExampleImageRow]) -> Vec<ExampleImage> {
    let mut groups: BTreeMap<usize, Vec<&ExampleImageRow>> = BTreeMap::new();
    for r in rows {
        groups.entry(r.example).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(example, pixels)| {
            let height = pixels.iter().map(|p| p.y + 1).max().unwrap_or(0);
            let width = pixels.iter().map(|p| p.x + 1).max().unwrap_or(0);
            let plane = height * width;
            let mut data = vec![0.0f32; 3 * plane];
            for p in &pixels {
                let at = p.y * width + p.x;
                data[at] = p.red as f32;
                data[plane + at] = p.green as f32;
                data[2 * plane + at] = p.blue as f32;
            }
            ExampleImage {
                example,
                height,
                width,
                data,
            }
        })
        .collect()
}

/// Groups generated-image pixels by (model, seed, example) (sorted by that key) into
/// channel-major images, each `max y + 1` tall and `max x + 1` wide. Unlike
/// [`example_images`], which fills gaps with black, every pixel of that rectangle must be
/// given exactly once: a pixel given twice, or one missing, is an error naming the image
/// and the pixel (a generator writes whole images, so either means a broken file).
pub fn generated_images(rows: &[GeneratedImageRow]) -> anyhow::Result<Vec<GeneratedImage>> {
    let mut groups: BTreeMap<(&str, u64, usize), Vec<&GeneratedImageRow>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.model.as_str(), r.seed, r.example))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((model, seed, example), pixels)| {
            let name = || format!("the image of {model} seed {seed} example {example}");
            let height = pixels.iter().map(|p| p.y + 1).max().unwrap_or(0);
            let width = pixels.iter().map(|p| p.x + 1).max().unwrap_or(0);
            let plane = height * width;
            let mut given = vec![false; plane];
            let mut data = vec![0.0f32; 3 * plane];
            for p in &pixels {
                let at = p.y * width + p.x;
                if std::mem::replace(&mut given[at], true) {
                    bail!("{}: pixel (y {}, x {}) is given twice", name(), p.y, p.x);
                }
                data[at] = p.red as f32;
                data[plane + at] = p.green as f32;
                data[2 * plane + at] = p.blue as f32;
            }
            if let Some(at) = given.iter().position(|&g| !g) {
                bail!(
                    "{}: {} of its {height} \u{d7} {width} pixels are given; \
                     pixel (y {}, x {}) is missing",
                    name(),
                    pixels.len(),
                    at / width,
                    at % width
                );
            }
            Ok(GeneratedImage {
                model: model.to_string(),
                seed,
                example,
                height,
                width,
                data,
            })
        })
        .collect()
}

/// Groups image-attention rows by (model, seed, example) (sorted by that key), each with
/// its words in step order (steps need not be contiguous; a step keeps the word of its
/// first row) and one G × G grid of weights per word, G the smallest side whose square
/// exceeds every cell index of the group; cells missing from the rows are 0.
pub fn image_attention_groups(rows: &[ImageAttentionRow]) -> Vec<ImageAttention> {
    type Steps<'a> = BTreeMap<usize, (&'a str, Vec<(usize, f64)>)>;
    let mut groups: BTreeMap<(&str, u64, usize), Steps<'_>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.model.as_str(), r.seed, r.example))
            .or_default()
            .entry(r.step)
            .or_insert_with(|| (r.word.as_str(), Vec::new()))
            .1
            .push((r.cell, r.weight));
    }
    groups
        .into_iter()
        .map(|((model, seed, example), steps)| {
            let cells = steps
                .values()
                .flat_map(|(_, c)| c.iter().map(|&(cell, _)| cell + 1))
                .max()
                .unwrap_or(1);
            let root = cells.isqrt();
            let grid = if root * root == cells { root } else { root + 1 };
            let weights = steps
                .values()
                .map(|(_, c)| {
                    let mut w = vec![0.0f32; grid * grid];
                    for &(cell, weight) in c {
                        w[cell] = weight as f32;
                    }
                    w
                })
                .collect();
            ImageAttention {
                model: model.to_string(),
                seed,
                example,
                words: steps.values().map(|(word, _)| word.to_string()).collect(),
                grid,
                weights,
            }
        })
        .collect()
}
