//! Padded mini-batches of id sequences (plain vectors; no tensors here).

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::vocab::{BOS, EOS, PAD};

/// How many batches' worth of examples are sorted together by source length
/// when bucketing: large enough to group similar lengths, small enough that
/// batches still mix examples from across the epoch.
pub const BUCKET_CHUNK_BATCHES: usize = 50;

/// A padded batch; every matrix is row-major `[batch_size, len]`.
///
/// For a source `a b` and target `x y z` (ids), with `src_max = 4`,
/// `tgt_max = 4`:
///
/// ```text
/// src     = a b EOS PAD     src_len = 3
/// tgt_in  = BOS x y z       (teacher-forcing input)
/// tgt_out = x y z EOS       (what the decoder must predict)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Source ids with [`EOS`] appended, padded with [`PAD`] to `src_max`.
    pub src: Vec<u32>,
    /// Real source length of each row, the appended [`EOS`] included.
    pub src_len: Vec<usize>,
    /// Padded source length (the longest `src_len`).
    pub src_max: usize,
    /// [`BOS`] followed by the target ids, padded with [`PAD`] to `tgt_max`.
    pub tgt_in: Vec<u32>,
    /// The target ids followed by [`EOS`], padded with [`PAD`] to `tgt_max`.
    pub tgt_out: Vec<u32>,
    /// Real length of each row of `tgt_in` / `tgt_out` (target length + 1).
    pub tgt_len: Vec<usize>,
    /// Padded target length (longest target + 1).
    pub tgt_max: usize,
    /// Number of rows.
    pub batch_size: usize,
}

impl Batch {
    /// `[batch_size, src_max]`, `true` at real source positions (EOS
    /// included), `false` at padding.
    pub fn src_mask(&self) -> Vec<bool> {
        length_mask(&self.src_len, self.src_max)
    }

    /// `[batch_size, tgt_max]`, `true` where `tgt_out` holds a real token
    /// (EOS included), `false` at padding: the positions the loss counts.
    pub fn tgt_mask(&self) -> Vec<bool> {
        length_mask(&self.tgt_len, self.tgt_max)
    }
}

fn length_mask(lens: &[usize], max: usize) -> Vec<bool> {
    lens.iter()
        .flat_map(|&len| (0..max).map(move |j| j < len))
        .collect()
}

/// Builds one batch from encoded `(source, target)` id sequences.
///
/// The source gets [`EOS`] appended so the encoder sees an end marker
/// (`src_len` counts it); the target is shifted into `tgt_in` (BOS first)
/// and `tgt_out` (EOS last). An empty slice gives an empty batch with
/// `src_max == 0` and `tgt_max == 0`.
pub fn make_batch(examples: &[(Vec<u32>, Vec<u32>)]) -> Batch {
    let batch_size = examples.len();
    let src_len: Vec<usize> = examples.iter().map(|(s, _)| s.len() + 1).collect();
    let tgt_len: Vec<usize> = examples.iter().map(|(_, t)| t.len() + 1).collect();
    let src_max = src_len.iter().copied().max().unwrap_or(0);
    let tgt_max = tgt_len.iter().copied().max().unwrap_or(0);

    let mut src = Vec::with_capacity(batch_size * src_max);
    let mut tgt_in = Vec::with_capacity(batch_size * tgt_max);
    let mut tgt_out = Vec::with_capacity(batch_size * tgt_max);
    for (s, t) in examples {
        src.extend(s.iter().copied().chain([EOS]));
        src.resize(src.len() + src_max - (s.len() + 1), PAD);
        tgt_in.extend([BOS].into_iter().chain(t.iter().copied()));
        tgt_in.resize(tgt_in.len() + tgt_max - (t.len() + 1), PAD);
        tgt_out.extend(t.iter().copied().chain([EOS]));
        tgt_out.resize(tgt_out.len() + tgt_max - (t.len() + 1), PAD);
    }
    Batch {
        src,
        src_len,
        src_max,
        tgt_in,
        tgt_out,
        tgt_len,
        tgt_max,
        batch_size,
    }
}

/// Deterministic mini-batches covering every example once (one epoch).
///
/// The example order is shuffled with `seed` and cut into batches of
/// `batch_size` (0 is treated as 1); the last, partial batch is kept.
///
/// With `bucket_by_length`, the shuffled order is cut into chunks of
/// [`BUCKET_CHUNK_BATCHES`]` * batch_size` examples, each chunk is sorted by
/// source length (so a batch holds similar lengths and needs little
/// padding), and the resulting batches are shuffled again so that training
/// does not see lengths in a rising saw-tooth.
pub fn batches(
    examples: &[(Vec<u32>, Vec<u32>)],
    batch_size: usize,
    seed: u64,
    bucket_by_length: bool,
) -> Vec<Batch> {
    let batch_size = batch_size.max(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut rng);
    if bucket_by_length {
        for chunk in order.chunks_mut(BUCKET_CHUNK_BATCHES * batch_size) {
            // Stable sort keeps the shuffled order among equal lengths.
            chunk.sort_by_key(|&i| examples[i].0.len());
        }
    }
    let mut groups: Vec<&[usize]> = order.chunks(batch_size).collect();
    if bucket_by_length {
        groups.shuffle(&mut rng);
    }
    groups
        .into_iter()
        .map(|group| {
            let rows: Vec<(Vec<u32>, Vec<u32>)> =
                group.iter().map(|&i| examples[i].clone()).collect();
            make_batch(&rows)
        })
        .collect()
}
