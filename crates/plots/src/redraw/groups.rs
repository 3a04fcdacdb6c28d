//! Alignment and document-attention rows grouped into one matrix or one document per
//! run, ready to draw.

use std::collections::BTreeMap;

use crate::data::{Alignment, AlignmentRow, DocAttention, DocAttentionRow};

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
