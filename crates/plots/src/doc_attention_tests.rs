//! The reader's document attention (`document_attention.csv`): exact bytes, errors naming
//! file, line and field, the token shading that wraps with the text, and a folder that holds
//! nothing else.

use std::path::PathBuf;

use super::*;
use crate::test_support::{assert_png, no_tmp_files, png_size, scratch};

fn doc_row(model: &str, seed: u64, position: usize, token: &str, weight: f64) -> DocAttentionRow {
    DocAttentionRow {
        model: model.into(),
        seed,
        position,
        token: token.into(),
        weight,
    }
}

#[test]
fn doc_attention_csv_round_trip() {
    let tmp = scratch("doc-csv");
    let dir = tmp.path();
    let path = dir.join(DOC_ATTENTION_FILE);
    let rows = vec![
        doc_row("AttentiveReader", 1, 0, "@entity3", 0.5),
        doc_row("AttentiveReader", 1, 1, ",", 0.123456),
        doc_row("AttentiveReader", 1, 2, "said", 0.0),
        doc_row("ImpatientReader", 7, 0, "@entity3", 1.0),
    ];
    write_doc_attention_csv(&path, &rows).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(
            "model,seed,position,token,weight\n\
             AttentiveReader,1,0,@entity3,0.500000\n\
             AttentiveReader,1,1,<comma>,0.123456\n"
        ),
        "{text}"
    );
    assert_eq!(DOC_ATTENTION_HEADER, "model,seed,position,token,weight");
    assert_eq!(read_doc_attention_csv(&path).unwrap(), rows);
    no_tmp_files(dir);

    // A model with a comma is refused and leaves the old file intact.
    let mut bad = rows.clone();
    bad[3].model = "a,b".into();
    assert!(write_doc_attention_csv(&path, &bad).is_err());
    assert_eq!(read_doc_attention_csv(&path).unwrap(), rows);
    no_tmp_files(dir);

    // Grouped by (model, seed), tokens in position order.
    let mut shuffled = rows.clone();
    shuffled.reverse();
    let groups = doc_attention_groups(&shuffled);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].model, "AttentiveReader");
    assert_eq!(groups[0].tokens, ["@entity3", ",", "said"]);
    assert_eq!(groups[0].weights, [0.5, 0.123456, 0.0]);
    assert_eq!(
        (groups[1].model.as_str(), groups[1].seed),
        ("ImpatientReader", 7)
    );
}

#[test]
fn malformed_doc_attention_csv_names_file_line_and_field() {
    let tmp = scratch("doc-malformed");
    let dir = tmp.path();
    let path = dir.join(DOC_ATTENTION_FILE);
    let good = doc_row("AttentiveReader", 1, 0, "the", 0.1).to_csv_line();
    std::fs::write(
        &path,
        format!("{DOC_ATTENTION_HEADER}\n{good}\nAttentiveReader,1,1,cat,heavy\n"),
    )
    .unwrap();
    let msg = format!("{:#}", read_doc_attention_csv(&path).unwrap_err());
    assert!(msg.contains("document_attention.csv:3"), "{msg}");
    assert!(msg.contains("weight") && msg.contains("heavy"), "{msg}");

    // An unescaped comma in a token gives one field too many.
    std::fs::write(
        &path,
        format!("{DOC_ATTENTION_HEADER}\n{good}\n{good}\nAttentiveReader,1,2,,,0.1\n"),
    )
    .unwrap();
    let msg = format!("{:#}", read_doc_attention_csv(&path).unwrap_err());
    assert!(msg.contains("document_attention.csv:4"), "{msg}");
    assert!(msg.contains("found 6"), "{msg}");

    std::fs::write(&path, format!("{DOC_ATTENTION_HEADER}\nA,x,0,the,0.1\n")).unwrap();
    let msg = format!("{:#}", read_doc_attention_csv(&path).unwrap_err());
    assert!(msg.contains(":2") && msg.contains("'seed'"), "{msg}");

    std::fs::write(&path, format!("model,position,token,weight\n{good}\n")).unwrap();
    let msg = format!("{:#}", read_doc_attention_csv(&path).unwrap_err());
    assert!(
        msg.contains("document_attention.csv:1") && msg.contains("header"),
        "{msg}"
    );
}

/// A ~300-token CNN-style document with entity markers, and attention weights with
/// a few peaks (on `@entity7` and the words around the answer) over a low floor.
fn doc_example() -> (Vec<String>, Vec<f32>) {
    let sentences = [
        "( @entity0 ) -- @entity1 , the former head of the @entity2 , said on tuesday \
         that he would not seek another term after a long dispute with the board .",
        "the announcement came as a surprise to many in @entity3 , where @entity1 had \
         been expected to run again , according to two people close to the talks .",
        "\" i have done what i came to do , \" @entity1 told reporters outside the \
         headquarters of the @entity2 in @entity4 .",
        "his deputy , @entity7 , is widely seen as the most likely successor , and has \
         the support of most members of the board .",
        "@entity7 , 54 , joined the @entity2 in 1998 after a career in banking in \
         @entity5 and @entity6 , and led its reform programme for the last six years .",
        "critics say the reforms went too far , cutting jobs and closing offices , while \
         supporters credit them with saving the organisation from bankruptcy .",
        "the board will meet next month to discuss the succession , a spokesman for the \
         @entity2 said in a statement on wednesday .",
        "@entity1 , who has led the @entity2 since 2005 , will stay in office until a \
         successor is chosen , the statement said .",
        "members of the board declined to comment on the process , but one said that \
         @entity7 had already begun to talk to other candidates .",
        "the @entity2 has faced growing pressure from @entity8 and @entity9 over its \
         finances , and the dispute with the board centred on a plan to sell part of \
         its property in @entity4 .",
        "@entity1 opposed the plan , saying it would weaken the organisation in the long \
         run , while the board argued it was needed to balance the budget .",
        "the decision ends a tenure marked by both growth and controversy , and opens a \
         new chapter for the @entity2 as it prepares for its centenary next year .",
    ];
    let tokens: Vec<String> = sentences
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_string)
        .collect();
    let mut weights: Vec<f32> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let floor = 0.002 + 0.001 * ((i as f32 * 0.7).sin() + 1.0);
            if t.starts_with("@entity") {
                floor * 3.0
            } else {
                floor
            }
        })
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        if t == "@entity7" {
            weights[i] += 0.08;
        }
        if t == "successor" {
            weights[i] += 0.04;
        }
        if t == "likely" {
            weights[i] += 0.02;
        }
    }
    let sum: f32 = weights.iter().sum();
    (tokens, weights.iter().map(|w| w / sum).collect())
}

#[test]
fn token_shading_wraps_and_grows_with_the_text() {
    let tmp = scratch("token-shading");
    let dir = tmp.path();
    let (tokens, weights) = doc_example();
    assert!((280..=330).contains(&tokens.len()), "{}", tokens.len());
    let long = dir.join("long.png");
    token_shading(
        &long,
        "AttentiveReader (seed 1): attention over the document",
        &tokens,
        &weights,
    )
    .unwrap();
    assert_png(&long);
    let (w, h) = png_size(&long);
    assert_eq!(w, 1100);

    // A short document is one or two lines: same width, less height.
    let short = dir.join("short.png");
    token_shading(&short, "short", &tokens[..30], &weights[..30]).unwrap();
    let (ws, hs) = png_size(&short);
    assert_eq!(ws, 1100);
    assert!(hs < h && hs >= 100, "{hs} vs {h}");

    // A flat distribution, all zeros and non-finite weights still draw.
    let flat = vec![1.0 / tokens.len() as f32; tokens.len()];
    token_shading(&dir.join("flat.png"), "flat", &tokens, &flat).unwrap();
    let mut odd = vec![0.0f32; tokens.len()];
    odd[3] = f32::NAN;
    odd[4] = -1.0;
    token_shading(&dir.join("zero.png"), "zero", &tokens, &odd).unwrap();
    assert_png(&dir.join("zero.png"));

    // Bad input writes nothing.
    let bad = dir.join("bad.png");
    assert!(token_shading(&bad, "t", &tokens, &weights[1..]).is_err());
    assert!(token_shading(&bad, "t", &[], &[]).is_err());
    assert!(!bad.exists());
    no_tmp_files(dir);
}

#[test]
fn redraw_folder_with_only_document_attention() {
    let tmp = scratch("doc-only");
    let root = tmp.path();
    let dir = root.join("reading-cnn");
    let (tokens, weights) = doc_example();
    let mut rows = Vec::new();
    for (model, seed) in [("ImpatientReader", 2u64), ("AttentiveReader", 1)] {
        for (i, (t, &w)) in tokens.iter().zip(&weights).enumerate() {
            // The impatient reader attends more evenly.
            let w = if model == "ImpatientReader" {
                0.5 * w + 0.5 / tokens.len() as f32
            } else {
                w
            };
            rows.push(doc_row(model, seed, i, t, w as f64));
        }
    }
    write_doc_attention_csv(&dir.join(DOC_ATTENTION_FILE), &rows).unwrap();

    let written = redraw_results_dir(&dir).unwrap();
    let expected: Vec<PathBuf> = [
        "document_attention-AttentiveReader-seed1.png",
        "document_attention-ImpatientReader-seed2.png",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    assert_eq!(written, expected);
    for f in &written {
        assert_png(f);
        assert_eq!(png_size(f).0, 1100);
    }
    no_tmp_files(&dir);

    // redraw_all finds a folder holding only document_attention.csv.
    assert_eq!(redraw_all(root).unwrap(), expected);
}
