//! The DAMSM's word-region attention weights (Xu et al. 2018, eqs. 8-9) as loops on `f32`
//! slices, one parallel pass each way.
//!
//! For every image `i` and caption `c`, from the similarities `s[t, l]` of the caption's
//! words and the image's regions: `s̄[t, l]`, the softmax of `s[·, l]` over the caption's
//! real words, then `α[t, l]`, the softmax of `γ1 · s̄[t, ·]` over the regions, zero at
//! padded words. Burn composes these from two softmaxes and two masks over `[images,
//! captions, words, regions]`, each a pass over memory on one thread, and twice as many
//! backward; the DAMSM loss of the generator's step runs them on every image against every
//! caption. Here each `(i, c)` pair's block is computed at once, pairs split between
//! threads; backward recomputes `s̄` and `α` from `s`:
//!
//! - `dz[t, l] = α[t, l] · (dα[t, l] - Σ_l' α[t, l'] dα[t, l'])`, `ds̄ = γ1 · dz`;
//! - `ds[t, l] = s̄[t, l] · (ds̄[t, l] - Σ_t' s̄[t', l] ds̄[t', l])` over real words, zero at
//!   padded ones.
//!
//! The sums run in another order than Burn's, so the values agree with Burn's to rounding,
//! not bit for bit.

use rayon::prelude::*;

use super::cpu::{LANES, add_lanes, dot, exp_approx};

/// The shape `[captions, words, images, regions]` of the similarities.
#[derive(Clone, Copy, Debug)]
pub struct Dims {
    pub captions: usize,
    pub words: usize,
    pub images: usize,
    pub regions: usize,
}

/// `Σ x` in [`LANES`] chains combined in a fixed order.
#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (acc, &v) in acc.iter_mut().zip(chunk) {
            *acc += v;
        }
    }
    add_lanes(&acc) + tail
}

/// `max x` (`-∞` for an empty row).
#[inline(always)]
fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for chunk in chunks {
        for (acc, &v) in acc.iter_mut().zip(chunk) {
            *acc = acc.max(v);
        }
    }
    acc.iter().fold(tail, |m, &v| m.max(v))
}

/// One `(image, caption)` pair's work space: `s̄` and `α`, each `[T, L]`, and two
/// per-region rows.
struct Pair {
    normalized: Vec<f32>,
    weights: Vec<f32>,
    column: Vec<f32>,
    column_sum: Vec<f32>,
}

impl Pair {
    fn new(dims: Dims) -> Self {
        let block = dims.words * dims.regions;
        Pair {
            normalized: vec![0.0; block],
            weights: vec![0.0; block],
            column: vec![0.0; dims.regions],
            column_sum: vec![0.0; dims.regions],
        }
    }

    /// `s̄` and `α` of the pair whose similarity row of word `t` is `row(t)` (`[L]`);
    /// `real[t]` is 1 for a real word, 0 for padding (rows of padding are left at 0).
    fn forward<'s>(&mut self, row: impl Fn(usize) -> &'s [f32], real: &[f32], gamma1: f32) {
        let regions = self.column.len();
        let words = real.len();
        let is_real = |t: &usize| real[*t] != 0.0;
        // s̄[·, l]: a softmax down each region's column, over the real words.
        let top = &mut self.column;
        top.fill(f32::NEG_INFINITY);
        for t in (0..words).filter(is_real) {
            for (top, &s) in top.iter_mut().zip(row(t)) {
                *top = top.max(s);
            }
        }
        let total = &mut self.column_sum;
        total.fill(0.0);
        for t in (0..words).filter(is_real) {
            let out = &mut self.normalized[t * regions..][..regions];
            for (((e, total), &s), &top) in out
                .iter_mut()
                .zip(total.iter_mut())
                .zip(row(t))
                .zip(top.iter())
            {
                *e = exp_approx(s - top);
                *total += *e;
            }
        }
        for t in 0..words {
            let out = &mut self.normalized[t * regions..][..regions];
            if is_real(&t) {
                for (e, &total) in out.iter_mut().zip(total.iter()) {
                    *e /= total;
                }
            } else {
                out.fill(0.0);
            }
        }
        // α[t, ·]: a softmax of γ1 s̄ along each real word's row.
        for t in 0..words {
            let normalized = &self.normalized[t * regions..][..regions];
            let out = &mut self.weights[t * regions..][..regions];
            if !is_real(&t) {
                out.fill(0.0);
                continue;
            }
            let top = gamma1 * max(normalized);
            for (w, &v) in out.iter_mut().zip(normalized) {
                *w = exp_approx(gamma1 * v - top);
            }
            let total = sum(out);
            for w in out.iter_mut() {
                *w /= total;
            }
        }
    }

    /// `ds` of the pair (`[T, L]`, 0 at padded words), left in place of `α`, from the
    /// weights' gradient `d_alpha` (`[T, L]`), after [`Self::forward`] on the same pair.
    fn backward(&mut self, real: &[f32], gamma1: f32, d_alpha: &[f32]) {
        let regions = self.column.len();
        let real_words = || (0..real.len()).filter(|&t| real[t] != 0.0);
        // ds̄ = γ1 · α ⊙ (dα - Σ_l α dα), row by row.
        for t in real_words() {
            let weights = &mut self.weights[t * regions..][..regions];
            let d_alpha = &d_alpha[t * regions..][..regions];
            for ((product, &w), &d) in self.column.iter_mut().zip(weights.iter()).zip(d_alpha) {
                *product = w * d;
            }
            let dot = sum(&self.column);
            for (w, &d) in weights.iter_mut().zip(d_alpha) {
                *w = gamma1 * (*w * (d - dot));
            }
        }
        // ds = s̄ ⊙ (ds̄ - Σ_t s̄ ds̄), column by column over the real words.
        let dot = &mut self.column_sum;
        dot.fill(0.0);
        for t in real_words() {
            let normalized = &self.normalized[t * regions..][..regions];
            let d_normalized = &self.weights[t * regions..][..regions];
            for ((dot, &n), &dn) in dot.iter_mut().zip(normalized).zip(d_normalized) {
                *dot += n * dn;
            }
        }
        for t in real_words() {
            let normalized = &self.normalized[t * regions..][..regions];
            let out = &mut self.weights[t * regions..][..regions];
            for ((out, &n), &dot) in out.iter_mut().zip(normalized).zip(dot.iter()) {
                *out = n * (*out - dot);
            }
        }
    }
}

/// `α [I, C, T, L]` from `s [C, T, I, L]` and `real [C, T]` (1 for a real word, 0 for
/// padding; every caption has a real word).
pub fn weights(s: &[f32], real: &[f32], dims: Dims, gamma1: f32) -> Vec<f32> {
    let Dims {
        captions,
        words,
        images,
        regions,
    } = dims;
    let mut alpha = vec![0.0f32; images * captions * words * regions];
    alpha
        .par_chunks_mut(words * regions)
        .enumerate()
        .with_min_len(8)
        .for_each_init(
            || Pair::new(dims),
            |pair, (index, out)| {
                let (i, c) = (index / captions, index % captions);
                let row = |t: usize| &s[((c * words + t) * images + i) * regions..][..regions];
                pair.forward(row, &real[c * words..][..words], gamma1);
                out.copy_from_slice(&pair.weights);
            },
        );
    alpha
}

/// `ds [C, T, I, L]` of [`weights`] from `s`, `real` and the weights' gradient `dα [I, C,
/// T, L]`; `s̄` and `α` are computed again, pair by pair.
pub fn weights_grad(s: &[f32], real: &[f32], dims: Dims, gamma1: f32, d_alpha: &[f32]) -> Vec<f32> {
    let Dims {
        captions,
        words,
        images,
        regions,
    } = dims;
    let mut ds = vec![0.0f32; s.len()];
    // One caption's `[T, I, L]` block of `ds` a job, its images in turn.
    ds.par_chunks_mut(words * images * regions)
        .enumerate()
        .for_each_init(
            || Pair::new(dims),
            |pair, (c, ds_c)| {
                let real_c = &real[c * words..][..words];
                for i in 0..images {
                    let row = |t: usize| &s[((c * words + t) * images + i) * regions..][..regions];
                    pair.forward(row, real_c, gamma1);
                    let d_alpha =
                        &d_alpha[(i * captions + c) * words * regions..][..words * regions];
                    pair.backward(real_c, gamma1, d_alpha);
                    for (t, ds) in pair.weights.chunks_exact(regions).enumerate() {
                        ds_c[(t * images + i) * regions..][..regions].copy_from_slice(ds);
                    }
                }
            },
        );
    ds
}

/// The floor of every norm in the DAMSM's cosines (the word relevances here, the sentence
/// scores in `vision::damsm`): a padded word's context is all zeros.
pub const NORM_FLOOR: f64 = 1e-6;

/// The shape of the word-context vectors `[images, captions, words, d]`.
#[derive(Clone, Copy, Debug)]
pub struct ContextDims {
    pub images: usize,
    pub captions: usize,
    pub words: usize,
    pub d: usize,
}

/// One row's cosine: the norms `max(|a|, floor)` and `max(|b|, floor)`, whether each is
/// above the floor (where the norm has a gradient), and `r = a · b / (|a| |b|)`.
struct Cosine {
    norm_a: f32,
    norm_b: f32,
    a_free: bool,
    b_free: bool,
    r: f32,
}

impl Cosine {
    #[inline(always)]
    fn of(a: &[f32], b: &[f32], floor: f32) -> Self {
        let (sa, sb, floor2) = (dot(a, a), dot(b, b), floor * floor);
        let (norm_a, norm_b) = (sa.max(floor2).sqrt(), sb.max(floor2).sqrt());
        Cosine {
            norm_a,
            norm_b,
            a_free: sa > floor2,
            b_free: sb > floor2,
            r: dot(a, b) / (norm_a * norm_b),
        }
    }

    /// The gradient of `g · r` with respect to one side `x`, the other being `y`, is
    /// `u y - v x` with `u = g / (|a| |b|)` and `v = g r / |x|²` (0 where `|x|` is held at
    /// the floor): `(u, v)` for `x = a` (`of_a`) or `x = b`.
    #[inline(always)]
    fn coefficients(&self, g: f32, of_a: bool) -> (f32, f32) {
        let (norm, free) = if of_a {
            (self.norm_a, self.a_free)
        } else {
            (self.norm_b, self.b_free)
        };
        let v = if free {
            g * self.r / (norm * norm)
        } else {
            0.0
        };
        (g / (self.norm_a * self.norm_b), v)
    }
}

/// `R [I, C, T]`: the cosine of each word-context vector `context [I, C, T, D]` with its
/// word `words [C, T, D]` (eq. 10's `R(c_t, e_t)`), each norm floored at `floor`.
pub fn relevance(context: &[f32], words: &[f32], dims: ContextDims, floor: f32) -> Vec<f32> {
    let ContextDims {
        captions,
        words: len,
        d,
        ..
    } = dims;
    let mut out = vec![0.0f32; context.len() / d.max(1)];
    if d == 0 {
        return out;
    }
    // One image-caption pair's `[T]` a job.
    out.par_chunks_mut(len)
        .zip(context.par_chunks(len * d))
        .enumerate()
        .with_min_len(8)
        .for_each(|(pair, (out, context))| {
            let c = pair % captions;
            let words = &words[c * len * d..][..len * d];
            for ((r, a), b) in out
                .iter_mut()
                .zip(context.chunks_exact(d))
                .zip(words.chunks_exact(d))
            {
                *r = Cosine::of(a, b, floor).r;
            }
        });
    out
}

/// `(d context [I, C, T, D], d words [C, T, D])` of [`relevance`] from its inputs and the
/// output gradient `g [I, C, T]`: with `r = a · b / (|a| |b|)`,
///
/// - `d a = g (b / (|a| |b|) - r a / |a|²)`;
/// - `d b = Σ_i g_i (a_i / (|a_i| |b|) - r_i b / |b|²)`, the images in order;
///
/// a norm held at the floor has no gradient (its second term is left out).
pub fn relevance_grads(
    context: &[f32],
    words: &[f32],
    dims: ContextDims,
    floor: f32,
    grad: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let ContextDims {
        images,
        captions,
        words: len,
        d,
    } = dims;
    let mut d_context = vec![0.0f32; context.len()];
    let mut d_words = vec![0.0f32; words.len()];
    if d == 0 {
        return (d_context, d_words);
    }
    d_context
        .par_chunks_mut(len * d)
        .zip(context.par_chunks(len * d).zip(grad.par_chunks(len)))
        .enumerate()
        .with_min_len(8)
        .for_each(|(pair, (da, (context, grad)))| {
            let c = pair % captions;
            let words = &words[c * len * d..][..len * d];
            let rows = da.chunks_exact_mut(d).zip(context.chunks_exact(d));
            for (((da, a), b), &g) in rows.zip(words.chunks_exact(d)).zip(grad) {
                let (u, v) = Cosine::of(a, b, floor).coefficients(g, true);
                for ((da, &a), &b) in da.iter_mut().zip(a).zip(b) {
                    *da = u * b - v * a;
                }
            }
        });
    // One caption's `[T, D]` of `d words` a job, summed over the images in order.
    d_words
        .par_chunks_mut(len * d)
        .enumerate()
        .for_each(|(c, db)| {
            let words = &words[c * len * d..][..len * d];
            for i in 0..images {
                let pair = i * captions + c;
                let context = &context[pair * len * d..][..len * d];
                let grad = &grad[pair * len..][..len];
                let rows = db.chunks_exact_mut(d).zip(words.chunks_exact(d));
                for (((db, b), a), &g) in rows.zip(context.chunks_exact(d)).zip(grad) {
                    let (u, v) = Cosine::of(a, b, floor).coefficients(g, false);
                    for ((db, &a), &b) in db.iter_mut().zip(a).zip(b) {
                        *db += u * a - v * b;
                    }
                }
            }
        });
    (d_context, d_words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_support::assert_matches_differences;

    /// One image, one caption of two real words and one padded, two regions, γ1 = 1, by
    /// hand: s = [[0, ln 3], [0, 0], [5, 5]] (the last row padded). Over the real words,
    /// region 0 has s̄ = (½, ½) and region 1 (¾, ¼); then word 0's α is the softmax of
    /// (½, ¾) and word 1's of (½, ¼); the padded word's α is 0.
    #[test]
    fn weights_match_a_hand_computed_case() {
        let dims = Dims {
            captions: 1,
            words: 3,
            images: 1,
            regions: 2,
        };
        let s = [0.0, 3.0f32.ln(), 0.0, 0.0, 5.0, 5.0];
        let alpha = weights(&s, &[1.0, 1.0, 0.0], dims, 1.0);
        let softmax2 = |a: f64, b: f64| (1.0 / (1.0 + (b - a).exp()), 1.0 / (1.0 + (a - b).exp()));
        let (w00, w01) = softmax2(0.5, 0.75);
        let (w10, w11) = softmax2(0.5, 0.25);
        for (got, want) in alpha.iter().zip([w00, w01, w10, w11, 0.0, 0.0]) {
            assert!((*got as f64 - want).abs() < 1e-6, "{alpha:?}");
        }
    }

    /// Hand values, one image, one caption of two words, D = 2: `a = (3, 4)` against `b = (4,
    /// 3)` gives `24 / 25`; `a = (0, 0)` (a padded word's context) stays at the floor and
    /// gives 0, and its gradient is `g b / (floor |b|)`.
    #[test]
    fn relevance_matches_a_hand_computed_case() {
        let dims = ContextDims {
            images: 1,
            captions: 1,
            words: 2,
            d: 2,
        };
        let (context, words) = ([3.0, 4.0, 0.0, 0.0], [4.0, 3.0, 1.0, 0.0]);
        let r = relevance(&context, &words, dims, 1e-3);
        assert!((r[0] - 0.96).abs() < 1e-6 && r[1] == 0.0, "{r:?}");
        let (da, db) = relevance_grads(&context, &words, dims, 1e-3, &[1.0, 2.0]);
        // d a = b / 25 - (24 / 25) a / 25 for the first word; 2 b / 1e-3 for the second.
        let want_da = [
            (4.0 - 0.96 * 3.0) / 25.0,
            (3.0 - 0.96 * 4.0) / 25.0,
            2000.0,
            0.0,
        ];
        for (got, want) in da.iter().zip(want_da) {
            assert!((got - want).abs() < 1e-3 * want.abs().max(1.0), "{da:?}");
        }
        let want_db = [
            (3.0 - 0.96 * 4.0) / 25.0,
            (4.0 - 0.96 * 3.0) / 25.0,
            0.0,
            0.0,
        ];
        for (got, want) in db.iter().zip(want_db) {
            assert!((got - want).abs() < 1e-6, "{db:?}");
        }
    }

    /// Both gradients against central finite differences of `Σ w · R`, three images, two
    /// captions of three words, D = 5.
    #[test]
    fn relevance_gradients_match_finite_differences() {
        let dims = ContextDims {
            images: 3,
            captions: 2,
            words: 3,
            d: 5,
        };
        let n_context = dims.images * dims.captions * dims.words * dims.d;
        let context: Vec<f32> = (0..n_context).map(|i| (i as f32 * 0.73).sin()).collect();
        let words: Vec<f32> = (0..n_context / dims.images)
            .map(|i| (i as f32 * 1.91).cos())
            .collect();
        let w: Vec<f32> = (0..n_context / dims.d)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let loss = |context: &[f32], words: &[f32]| -> f64 {
            relevance(context, words, dims, 1e-6)
                .iter()
                .zip(&w)
                .map(|(&r, &w)| r as f64 * w as f64)
                .sum()
        };
        let (dc, dw) = relevance_grads(&context, &words, dims, 1e-6, &w);
        assert_matches_differences(&dc, &context, |c| loss(c, &words), "d context");
        assert_matches_differences(&dw, &words, |e| loss(&context, e), "d words");
    }

    /// The gradient against central finite differences of `Σ w · α` (a fixed weighting),
    /// two images, three captions (one with a padded word), four words, five regions.
    #[test]
    fn the_gradient_matches_finite_differences() {
        let dims = Dims {
            captions: 3,
            words: 4,
            images: 2,
            regions: 5,
        };
        let n = dims.captions * dims.words * dims.images * dims.regions;
        let s: Vec<f32> = (0..n).map(|i| (i as f32 * 0.91).sin() * 2.0).collect();
        let w: Vec<f32> = (0..n).map(|i| (i as f32 * 1.37).cos()).collect();
        let real = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let gamma1 = 4.0;
        let loss = |s: &[f32]| -> f64 {
            weights(s, &real, dims, gamma1)
                .iter()
                .zip(&w)
                .map(|(&a, &w)| a as f64 * w as f64)
                .sum()
        };
        let ds = weights_grad(&s, &real, dims, gamma1, &w);
        assert_matches_differences(&ds, &s, loss, "ds");
        // Padded words get no gradient.
        let word = |j: usize| j / (dims.images * dims.regions) % dims.words;
        let caption = |j: usize| j / (dims.words * dims.images * dims.regions);
        for (j, &g) in ds.iter().enumerate() {
            if real[caption(j) * dims.words + word(j)] == 0.0 {
                assert_eq!(g, 0.0);
            }
        }
    }
}
