//! Vocabularies, splits and batches.

use std::collections::HashSet;

use datasets::batch::{Batch, batches, make_batch};
use datasets::split::split;
use datasets::vocab::{BOS, EOS, PAD, UNK, Vocab};

fn sentence(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn vocab_ranks_by_frequency_then_token() {
    let corpus = [sentence("b a c a b d"), sentence("a e c")];
    // Counts: a 3, b 2, c 2, d 1, e 1.
    let vocab = Vocab::build(corpus.iter().map(|s| &s[..]), 7);
    assert_eq!(vocab.len(), 7);
    assert_eq!(
        vocab.tokens(),
        ["<pad>", "<s>", "</s>", "<unk>", "a", "b", "c"]
    );
    assert_eq!(vocab.id("a"), 4);
    assert_eq!(vocab.id("c"), 6);
    assert_eq!(vocab.id("d"), UNK); // cut by the size limit
    assert_eq!(vocab.id("zzz"), UNK);
    assert_eq!(vocab.token(5), "b");
    assert_eq!(vocab.token(99), "<unk>");

    // Ties (d, e at count 1) resolve by string, whatever the input order.
    let reordered = [sentence("e c a"), sentence("d b a c a b")];
    let big = Vocab::build(reordered.iter().map(|s| &s[..]), 100);
    assert_eq!(big.tokens()[4..], ["a", "b", "c", "d", "e"]);
    assert_eq!(big, Vocab::build(corpus.iter().map(|s| &s[..]), 100));
}

#[test]
fn vocab_always_keeps_the_specials() {
    let corpus = [sentence("x <unk> y <pad>")];
    let tiny = Vocab::build(corpus.iter().map(|s| &s[..]), 2);
    assert_eq!(tiny.len(), 4);
    assert_eq!(tiny.id("x"), UNK);
    let full = Vocab::build(corpus.iter().map(|s| &s[..]), 50);
    // Special strings in the data are not added a second time.
    assert_eq!(full.tokens(), ["<pad>", "<s>", "</s>", "<unk>", "x", "y"]);
    assert_eq!(full.id("<pad>"), PAD);
}

#[test]
fn encode_decode() {
    let corpus = [sentence("the cat sat")];
    let vocab = Vocab::build(corpus.iter().map(|s| &s[..]), 10);
    let ids = vocab.encode(&sentence("the dog sat"));
    assert_eq!(ids, [vocab.id("the"), UNK, vocab.id("sat")]);
    let generated = [
        BOS,
        vocab.id("the"),
        PAD,
        UNK,
        vocab.id("cat"),
        EOS,
        vocab.id("sat"),
    ];
    assert_eq!(vocab.decode(&generated), sentence("the <unk> cat"));
}

#[test]
fn make_batch_pads_and_shifts() {
    let examples = vec![
        (vec![10, 11], vec![20, 21, 22]),
        (vec![12, 13, 14, 15], vec![23]),
    ];
    let b = make_batch(&examples);
    let expected = Batch {
        src: vec![10, 11, EOS, PAD, PAD, 12, 13, 14, 15, EOS],
        src_len: vec![3, 5],
        src_max: 5,
        tgt_in: vec![BOS, 20, 21, 22, BOS, 23, PAD, PAD],
        tgt_out: vec![20, 21, 22, EOS, 23, EOS, PAD, PAD],
        tgt_len: vec![4, 2],
        tgt_max: 4,
        batch_size: 2,
    };
    assert_eq!(b, expected);
    assert_eq!(
        b.src_mask(),
        [true, true, true, false, false, true, true, true, true, true]
    );
    assert_eq!(
        b.tgt_mask(),
        [true, true, true, true, true, true, false, false]
    );

    let empty = make_batch(&[]);
    assert_eq!((empty.batch_size, empty.src_max, empty.tgt_max), (0, 0, 0));
    assert!(empty.src.is_empty() && empty.src_mask().is_empty());
}

/// Examples whose first source id is their index, with varied lengths.
fn numbered_examples(n: usize) -> Vec<(Vec<u32>, Vec<u32>)> {
    (0..n)
        .map(|i| {
            let len = 1 + (i * 7919) % 23;
            (vec![i as u32 + 100; len], vec![5; 1 + i % 4])
        })
        .collect()
}

fn rows_of(batches: &[Batch]) -> Vec<u32> {
    batches
        .iter()
        .flat_map(|b| (0..b.batch_size).map(move |r| b.src[r * b.src_max]))
        .collect()
}

#[test]
fn batches_cover_every_example_once_deterministically() {
    let examples = numbered_examples(1003);
    for bucket in [false, true] {
        let a = batches(&examples, 32, 7, bucket);
        assert_eq!(a.len(), 32); // 31 full batches and one of 11
        assert!(a.iter().filter(|b| b.batch_size != 32).count() == 1);
        assert_eq!(a.iter().map(|b| b.batch_size).sum::<usize>(), 1003);
        let mut seen = rows_of(&a);
        seen.sort();
        assert_eq!(seen, (100..1103).collect::<Vec<u32>>());
        // Same seed, same batches; another seed, another order.
        assert_eq!(rows_of(&batches(&examples, 32, 7, bucket)), rows_of(&a));
        assert_ne!(rows_of(&batches(&examples, 32, 8, bucket)), rows_of(&a));
    }
    // Shuffled: not in input order.
    assert_ne!(
        rows_of(&batches(&examples, 1003, 7, false)),
        (100..1103).collect::<Vec<u32>>()
    );
    // A zero batch size does not panic.
    assert_eq!(batches(&examples[..3], 0, 1, true).len(), 3);
}

#[test]
fn bucketing_reduces_padding() {
    let examples = numbered_examples(3200);
    let padding = |bs: &[Batch]| -> usize {
        bs.iter()
            .map(|b| b.src_max * b.batch_size - b.src_len.iter().sum::<usize>())
            .sum()
    };
    let plain = padding(&batches(&examples, 32, 1, false));
    let bucketed = padding(&batches(&examples, 32, 1, true));
    assert!(bucketed * 5 < plain, "bucketed {bucketed} vs plain {plain}");
}

#[test]
fn split_is_deterministic_and_disjoint() {
    let items: Vec<u32> = (0..1000).collect();
    let s = split(items.clone(), 0.1, 0.05, 3);
    assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (850, 100, 50));
    let all: HashSet<u32> = s
        .train
        .iter()
        .chain(&s.valid)
        .chain(&s.test)
        .copied()
        .collect();
    assert_eq!(all.len(), 1000);
    assert_eq!(s, split(items.clone(), 0.1, 0.05, 3));
    assert_ne!(s.valid, split(items.clone(), 0.1, 0.05, 4).valid);
    assert_ne!(s.valid, (0..100).collect::<Vec<u32>>()); // shuffled

    // Degenerate fractions are clamped, never panic.
    let t = split(items.clone(), 0.8, 0.8, 3);
    assert_eq!((t.train.len(), t.valid.len(), t.test.len()), (0, 800, 200));
    let u = split(items, f64::NAN, -1.0, 3);
    assert_eq!((u.train.len(), u.valid.len(), u.test.len()), (1000, 0, 0));
    let empty = split(Vec::<u8>::new(), 0.5, 0.5, 0);
    assert!(empty.train.is_empty() && empty.valid.is_empty() && empty.test.is_empty());
}

#[test]
fn vocab_serde_round_trip_validates() {
    let corpus = [sentence("a b b")];
    let vocab = Vocab::build(corpus.iter().map(|s| &s[..]), 10);
    let json = serde_json::to_string(&vocab).unwrap();
    assert_eq!(json, r#"{"tokens":["<pad>","<s>","</s>","<unk>","b","a"]}"#);
    let back: Vocab = serde_json::from_str(&json).unwrap();
    assert_eq!(back, vocab);
    assert_eq!(back.id("a"), 5);

    let no_specials = r#"{"tokens":["a","b"]}"#;
    let err = serde_json::from_str::<Vocab>(no_specials).unwrap_err();
    assert!(err.to_string().contains("special tokens"), "{err}");
    let duplicate = r#"{"tokens":["<pad>","<s>","</s>","<unk>","a","a"]}"#;
    let err = serde_json::from_str::<Vocab>(duplicate).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}
