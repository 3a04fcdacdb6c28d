#!/usr/bin/env python3
"""PyTorch (CPU) reference for `bench-attention`: one decoder attention step, timed alone.

What it measures
  For a batch of --batch decoder states s (B x D) attending over --src-len annotations
  H (B x S x D) with some padding masked out, the time of one attention step:
      scores e (B x S)  ->  a = softmax(e, padding masked)  ->  context c = a^T H (B x D)
  for three scores:
      additive    e = v^T tanh(W s + K), with K = U H + b_U precomputed once per sequence
                  (its cost is printed separately: it is not part of the per-step time)
      dot         e = H s
      scaled-dot  e = H s / sqrt(D)
  each timed forward only (no autograd), and forward plus backward of sum(c * g) for a
  fixed random g, with gradients for s, H, K, W and v.

Like for like with experiments/src/bin/bench-attention.rs
  Same shapes (default B=64, S=50, D=256, additive score size 256), the same three scores,
  the same masks (row lengths uniform in [S/2, S], the first row full), and the same two
  timings. The timing loop is the one bench-attention's --iters 0 follows: five untimed
  calls, then the calls per repetition are doubled until one repetition lasts more than
  1/7 s, then 7 repetitions; the median time per call is reported.

Run
  python bench/pytorch/attn_kernel_bench.py --threads 2 [--batch 64 --src-len 50 --hidden 256]
  (set OMP_NUM_THREADS/MKL_NUM_THREADS to --threads as well; bench-vs-pytorch does.)

Output (stdout), the table scripts/bench-vs-pytorch parses:
  torch VERSION threads=T  B=64 S=50 hidden=256 attn_dim=256
       variant | fwd us/step  GFLOP/s | fwd+bwd us/step   (matmul FLOPs/step fwd)
      additive |       123.4     9.87 |           456.7   (4.03 MFLOP)
  one row per score (microseconds per step, the forward matmul rate), then one line with
  the cost of the additive key precompute K = U H.
"""
import argparse
import math
import statistics
import time

import torch

VARIANTS = ["additive", "dot", "scaled-dot"]
REPETITIONS = 7
MIN_TIME_S = 1.0  # all repetitions of one measurement together last about this long
UNTIMED_CALLS = 5


def median_call_time(fn):
    """Median seconds per call of fn(), calibrated to about MIN_TIME_S in all."""
    for _ in range(UNTIMED_CALLS):
        fn()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - t0 > MIN_TIME_S / REPETITIONS:
            break
        calls *= 2
    per_call = []
    for _ in range(REPETITIONS):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        per_call.append((time.perf_counter() - t0) / calls)
    return statistics.median(per_call)


class Inputs:
    """Annotations, query, mask and score weights, drawn from torch.manual_seed(0)."""

    def __init__(self, batch, src_len, hidden):
        torch.manual_seed(0)
        b, s, d = batch, src_len, hidden
        self.attn_dim = a = hidden
        self.H = torch.randn(b, s, d)
        self.s = torch.randn(b, d)
        lens = torch.randint(s // 2, s + 1, (b,))
        lens[0] = s  # at least one row spans the whole source
        self.mask = torch.arange(s).unsqueeze(0) < lens.unsqueeze(1)  # True = real
        self.W = torch.randn(a, d) / math.sqrt(d)
        self.U = torch.randn(a, d) / math.sqrt(d)
        self.b_U = torch.zeros(a)
        self.v = torch.randn(a) / math.sqrt(a)
        self.K = self.precompute_keys()

    def precompute_keys(self):
        b, s, d = self.H.shape
        return torch.addmm(self.b_U, self.H.reshape(b * s, d), self.U.t()).reshape(b, s, -1)


def context(scores, H, mask):
    """Masked softmax over the source, then the weighted sum of the annotations."""
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return torch.bmm(weights.unsqueeze(1), H).squeeze(1)


def additive_step(s, H, K, W, v, mask):
    query = s @ W.t()                                     # B x A
    scores = torch.tanh(query.unsqueeze(1) + K) @ v       # B x S
    return context(scores, H, mask)


def dot_step(s, H, mask, scale=1.0):
    scores = torch.bmm(H, s.unsqueeze(2)).squeeze(2)      # B x S
    if scale != 1.0:
        scores = scores / scale
    return context(scores, H, mask)


def step_fn(variant, s, H, K, W, v, mask):
    """The attention step of `variant` on these tensors, as a function of no arguments."""
    if variant == "additive":
        return lambda: additive_step(s, H, K, W, v, mask)
    if variant == "dot":
        return lambda: dot_step(s, H, mask)
    if variant == "scaled-dot":
        scale = math.sqrt(H.shape[-1])
        return lambda: dot_step(s, H, mask, scale)
    raise ValueError(variant)


def forward_flops(variant, b, s, d, a):
    """Matmul FLOPs of one forward step: the score, then the context (2*B*S*D)."""
    ctx = 2 * b * s * d
    if variant == "additive":
        return 2 * b * d * a + 2 * b * s * a + ctx
    return 2 * b * s * d + ctx


def time_forward(variant, x):
    fn = step_fn(variant, x.s, x.H, x.K, x.W, x.v, x.mask)
    with torch.no_grad():
        return median_call_time(fn)


def time_forward_backward(variant, x, g):
    leaves = [t.clone().requires_grad_() for t in (x.s, x.H, x.K, x.W, x.v)]
    fn = step_fn(variant, *leaves, x.mask)

    def train_step():
        (fn() * g).sum().backward()
        for t in leaves:
            t.grad = None

    return median_call_time(train_step)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch", type=int, default=64, help="queries per step (default 64)")
    ap.add_argument("--src-len", type=int, default=50,
                    help="annotations per query (default 50)")
    ap.add_argument("--hidden", type=int, default=256,
                    help="size of the query, each annotation and the additive score "
                         "(default 256)")
    args = ap.parse_args()
    if min(args.threads, args.batch, args.src_len, args.hidden) < 1:
        ap.error("--threads, --batch, --src-len and --hidden must be at least 1")

    torch.set_num_threads(args.threads)
    x = Inputs(args.batch, args.src_len, args.hidden)
    b, s, d, a = args.batch, args.src_len, args.hidden, x.attn_dim
    print(f"torch {torch.__version__} threads={torch.get_num_threads()}  "
          f"B={b} S={s} hidden={d} attn_dim={a}")
    print(f"{'variant':>12} | {'fwd us/step':>11} {'GFLOP/s':>8} | {'fwd+bwd us/step':>15}"
          f"   (matmul FLOPs/step fwd)", flush=True)
    g = torch.randn(b, d)  # the fixed upstream gradient of the context
    for variant in VARIANTS:
        fwd = time_forward(variant, x)
        fwd_bwd = time_forward_backward(variant, x, g)
        flops = forward_flops(variant, b, s, d, a)
        print(f"{variant:>12} | {fwd * 1e6:11.1f} {flops / fwd / 1e9:8.2f} | "
              f"{fwd_bwd * 1e6:15.1f}   ({flops / 1e6:.2f} MFLOP)", flush=True)

    with torch.no_grad():
        keys = median_call_time(x.precompute_keys)
    print(f"additive key precompute K = U H (once per sequence, not per step): "
          f"{keys * 1e6:.1f} us ({2 * b * s * d * a / keys / 1e9:.1f} GFLOP/s)")

    # Sanity check: one finite context per query.
    with torch.no_grad():
        c = additive_step(x.s, x.H, x.K, x.W, x.v, x.mask)
        assert c.shape == (b, d) and bool(torch.isfinite(c).all())


if __name__ == "__main__":
    main()
