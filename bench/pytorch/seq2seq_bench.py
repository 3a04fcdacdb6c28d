#!/usr/bin/env python3
"""PyTorch reference for `bench-seq2seq`: one GRU encoder-decoder training step, timed.

What it measures
  The wall time of one training step (forward, loss, backward, Adam update) of a small
  RNN encoder-decoder on the synthetic reverse task, as a median over the timed steps
  after a warm-up. Each step draws a fresh random batch (the data are infinite); drawing it
  is not timed. --device cuda runs the model, the optimizer and every tensor of the step on
  the GPU: the batches are still drawn on the CPU (the same batches either way) and moved
  before the timer starts, and each timed step ends with torch.cuda.synchronize().

The workload, like for like with experiments/src/bin/bench-seq2seq.rs
  task      source x_1 .. x_L EOS, target x_L .. x_1 EOS; L uniform in [--min-len,
            --max-len]; tokens uniform over the 29 ordinary symbols of a 32-word vocabulary
            (PAD=0, BOS=1, EOS=2, then 29 symbols). Batch --batch (64).
  encoder   source embedding 64 -> bidirectional GRU, 128 per direction, over packed
            sequences (so each direction's final state is that of the true last token);
            annotations h_i of size 256.
  decoder   s_0 = tanh(W_init [h_fwd_final; h_bwd_final]); a GRU cell of 256 over
            [target embedding 64 of y_{t-1}; context c_t], one time step at a time, with
            teacher forcing; logits_t = W_out [s_t; c_t] (vocabulary 32).
  --model plain     c_t = [h_fwd_final; h_bwd_final] at every step (RNNencdec).
  --model additive  Bahdanau's additive attention on the previous state (RNNsearch):
                    e_ti = v^T tanh(W s_{t-1} + U h_i), attention size 256, padding
                    masked; a_t = softmax(e_t); c_t = sum_i a_ti h_i. U h_i is computed
                    once per batch.
  loss      mean cross-entropy over the non-PAD target positions; Adam, lr 1e-3.
  Our Rust model differs in two small ways, documented there: its readout also sees the
  previous word's embedding, and it masks padded steps instead of packing them.

Flags the comparison uses (scripts/bench-vs-pytorch passes the same values to both sides)
  --model, --min-len, --max-len, --batch, --threads, --seed as in bench-seq2seq;
  --steps counts ALL steps, warm-up included (bench-seq2seq's --steps counts the timed
  ones only), so `--steps S+W --warmup W` here times the same S steps as
  `--steps S --warmup W` there; --test-n 0 skips the greedy evaluation after the timing;
  --device cpu (the default) or cuda, for a GPU build of ours.

Run
  python bench/pytorch/seq2seq_bench.py --model additive --min-len 10 --max-len 20 \\
      --steps 70 --warmup 10 --threads 2 --test-n 0
  (set OMP_NUM_THREADS/MKL_NUM_THREADS to --threads as well; bench-vs-pytorch does.)

Output (stdout)
  a header line (torch version, threads, device, settings, parameter count); a loss line
  every --log-every steps; a summary: median and mean ms per step, the "clean" median over the
  steps taken while other processes kept fewer than --max-foreign cores busy, steps/s,
  target tokens/s, analytic forward matmul GFLOP per step and the rate achieved, the final
  loss, the greedy test accuracies (unless --test-n 0), the cores this process and others
  used; and, last, one line `RESULT {json}` with keys model, min_len, max_len, steps,
  threads, device, seed, median_ms, median_ms_clean, clean_steps, timed_steps, mean_ms,
  steps_per_s, tokens_per_s, fwd_gflop_per_step, achieved_gflops_train_3x, final_loss,
  exact_acc, token_acc (null when the evaluation is skipped), train_wall_s, eval_s,
  own_cores, foreign_cores, torch. --json FILE writes the same object to FILE.
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# Vocabulary: three specials, then the ordinary symbols.
PAD, BOS, EOS = 0, 1, 2
FIRST_SYMBOL = 3
VOCAB = 32

# Sizes of the reference model.
EMBED = 64          # source and target embeddings (separate tables)
ENC_HIDDEN = 128    # per direction
ANNOTATION = 2 * ENC_HIDDEN  # h_i = [forward; backward], also the plain model's context
DEC_HIDDEN = 256
ATTN = 256          # hidden size of the additive score

EVAL_SEED_OFFSET = 12345  # the test sequences come from a generator of their own
EVAL_CHUNK = 250          # sequences decoded at once during the evaluation


# ----------------------------------------------------------------------------- data
def reverse_batch(batch, min_len, max_len, gen):
    """A random batch of the reverse task.

    Returns (src, src_len, dec_in, dec_out): src is (B, W) with W = longest L + 1, padded
    with PAD after each row's EOS; src_len (B,) counts the EOS; dec_in = BOS then the
    reversed symbols; dec_out = the reversed symbols then EOS; both (B, W), PAD-padded.
    """
    lens = torch.randint(min_len, max_len + 1, (batch,), generator=gen)
    longest = int(lens.max())
    width = longest + 1
    symbols = torch.randint(FIRST_SYMBOL, VOCAB, (batch, longest), generator=gen)

    pos = torch.arange(width).unsqueeze(0)            # (1, W)
    n = lens.unsqueeze(1)                             # (B, 1)
    real = pos < n                                    # the L symbols of each row
    padded = torch.cat([symbols, torch.full((batch, 1), PAD)], dim=1)
    # Position i of the reversed row holds symbol L-1-i.
    reversed_ = padded.gather(1, (n - 1 - pos).clamp(min=0))

    at_eos = pos == n                                 # (B, W): position L of each row
    src = torch.where(real, padded, torch.full_like(padded, PAD))
    src[at_eos] = EOS
    dec_out = torch.where(real, reversed_, torch.full_like(padded, PAD))
    dec_out[at_eos] = EOS
    dec_in = torch.full_like(padded, PAD)
    dec_in[:, 0] = BOS
    dec_in[:, 1:] = dec_out[:, :-1].masked_fill(dec_out[:, :-1] == EOS, PAD)
    return src, lens + 1, dec_in, dec_out


# ----------------------------------------------------------------------------- model
class Encoded:
    """What the decoder needs from the encoder, computed once per batch."""

    def __init__(self, annotations, final, s0, mask, keys):
        self.annotations = annotations  # (B, S, 256) h_i, zeros at padding
        self.final = final              # (B, 256) [h_fwd at the true end; h_bwd at 0]
        self.s0 = s0                    # (B, 256) initial decoder state
        self.mask = mask                # (B, S) True at real source positions
        self.keys = keys                # (B, S, 256) U h_i (additive model), else None


class Seq2Seq(nn.Module):
    """RNNencdec (attention=False) or RNNsearch with the additive score (attention=True)."""

    def __init__(self, attention):
        super().__init__()
        self.attention = attention
        # Created in this order so that a seed gives the same weights from run to run.
        self.src_embed = nn.Embedding(VOCAB, EMBED, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(VOCAB, EMBED, padding_idx=PAD)
        self.encoder = nn.GRU(EMBED, ENC_HIDDEN, batch_first=True, bidirectional=True)
        self.init_state = nn.Linear(ANNOTATION, DEC_HIDDEN)
        self.cell = nn.GRUCell(EMBED + ANNOTATION, DEC_HIDDEN)
        self.readout = nn.Linear(DEC_HIDDEN + ANNOTATION, VOCAB)
        if attention:
            self.score_query = nn.Linear(DEC_HIDDEN, ATTN, bias=False)  # W
            self.score_key = nn.Linear(ANNOTATION, ATTN)                 # U (with bias)
            self.score_out = nn.Linear(ATTN, 1, bias=False)              # v

    def encode(self, src, src_len):
        width = src.shape[1]
        packed = pack_padded_sequence(self.src_embed(src), src_len, batch_first=True,
                                      enforce_sorted=False)
        out, h_n = self.encoder(packed)
        annotations, _ = pad_packed_sequence(out, batch_first=True, total_length=width)
        final = torch.cat([h_n[0], h_n[1]], dim=-1)
        # True at the real positions (the symbols, never PAD, and EOS): the same mask as
        # arange(width) < src_len, made on src's device (src_len stays on the CPU).
        mask = src != PAD
        keys = self.score_key(annotations) if self.attention else None
        return Encoded(annotations, final, torch.tanh(self.init_state(final)), mask, keys)

    def context(self, s_prev, enc):
        """c_t: the fixed summary (plain), or the additive attention's weighted sum."""
        if not self.attention:
            return enc.final
        query = self.score_query(s_prev).unsqueeze(1)                        # (B, 1, A)
        scores = self.score_out(torch.tanh(query + enc.keys)).squeeze(-1)    # (B, S)
        weights = torch.softmax(scores.masked_fill(~enc.mask, float("-inf")), dim=-1)
        return torch.bmm(weights.unsqueeze(1), enc.annotations).squeeze(1)  # (B, 256)

    def decode_step(self, y_prev, s_prev, enc):
        c = self.context(s_prev, enc)
        s = self.cell(torch.cat([self.tgt_embed(y_prev), c], dim=-1), s_prev)
        return self.readout(torch.cat([s, c], dim=-1)), s

    def forward(self, src, src_len, dec_in):
        """Teacher-forced logits (B, T, VOCAB), one explicit decoder step per position."""
        enc = self.encode(src, src_len)
        s = enc.s0
        logits = []
        for t in range(dec_in.shape[1]):
            step_logits, s = self.decode_step(dec_in[:, t], s, enc)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def greedy(self, src, src_len, steps):
        enc = self.encode(src, src_len)
        s = enc.s0
        y = torch.full((src.shape[0],), BOS, dtype=torch.long, device=src.device)
        out = []
        for _ in range(steps):
            step_logits, s = self.decode_step(y, s, enc)
            y = step_logits.argmax(-1)
            out.append(y)
        return torch.stack(out, dim=1)


def forward_matmul_flops(src_len, width, batch, attention):
    """Analytic matmul FLOPs (2*M*N*K each) of one forward pass.

    The encoder runs over the real tokens only (packed); the decoder runs all `width`
    steps for every row, and the attention terms span the padded source width.
    """
    real_tokens = int(src_len.sum())
    flops = real_tokens * 2 * (2 * 3 * ENC_HIDDEN * (EMBED + ENC_HIDDEN))  # 2 directions
    flops += batch * 2 * ANNOTATION * DEC_HIDDEN                           # s_0
    per_step = 2 * 3 * DEC_HIDDEN * (EMBED + ANNOTATION + DEC_HIDDEN)      # GRU cell
    per_step += 2 * (DEC_HIDDEN + ANNOTATION) * VOCAB                      # readout
    if attention:
        flops += batch * width * 2 * ANNOTATION * ATTN                     # U h_i, once
        per_step += 2 * DEC_HIDDEN * ATTN                                  # W s_{t-1}
        per_step += width * 2 * ATTN                                       # v^T tanh(.)
        per_step += width * 2 * ANNOTATION                                 # sum a_ti h_i
    return flops + batch * width * per_step


def sync(device):
    """Wait for the GPU's queued work (cuda), so that a timer read next is real; no-op on cpu."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ----------------------------------------------------------------------------- load
def cpu_seconds():
    """(CPU seconds the whole machine has been busy, CPU seconds of this process)."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:]]
        busy = (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # - idle, iowait
    except (OSError, ValueError):
        busy = float("nan")
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return busy, ru.ru_utime + ru.ru_stime


class LoadMonitor:
    """Marks each timed step clean or not, by the cores other processes kept busy.

    Steps are grouped in blocks of at least one second of wall time; a block is clean when
    the machine's busy CPU time minus this process's, per wall second, is below `limit`.
    """

    def __init__(self, limit):
        self.limit = limit
        self.clean = []
        self._since = time.perf_counter()
        self._cpu = cpu_seconds()
        self._open = 0  # timed steps in the current block

    def step(self, timed, last):
        self._open += int(timed)
        now = time.perf_counter()
        if now - self._since < 1.0 and not last:
            return
        cpu = cpu_seconds()
        others = ((cpu[0] - self._cpu[0]) - (cpu[1] - self._cpu[1])) / (now - self._since)
        self.clean += [others < self.limit] * self._open
        self._since, self._cpu, self._open = now, cpu, 0


# ----------------------------------------------------------------------------- evaluation
def evaluate(model, args, device):
    """Greedy decoding of --test-n fresh sequences: (exact-sequence, token) accuracy."""
    gen = torch.Generator().manual_seed(args.seed + EVAL_SEED_OFFSET)
    model.eval()
    exact = right = total = 0
    for start in range(0, args.test_n, EVAL_CHUNK):
        n = min(EVAL_CHUNK, args.test_n - start)
        src, src_len, _, dec_out = reverse_batch(n, args.min_len, args.max_len, gen)
        pred = model.greedy(src.to(device), src_len, dec_out.shape[1]).cpu()
        real = dec_out != PAD
        hits = (pred == dec_out) & real
        right += int(hits.sum())
        total += int(real.sum())
        exact += int((hits.sum(1) == real.sum(1)).sum())
    model.train()
    return exact / args.test_n, right / total


# ----------------------------------------------------------------------------- main
def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["plain", "additive"], default="additive")
    ap.add_argument("--steps", type=int, default=500,
                    help="training steps, warm-up included (default 500)")
    ap.add_argument("--warmup", type=int, default=10,
                    help="first steps left out of the timing (default 10)")
    ap.add_argument("--min-len", type=int, default=10, help="shortest source (default 10)")
    ap.add_argument("--max-len", type=int, default=20, help="longest source (default 20)")
    ap.add_argument("--batch", type=int, default=64, help="sequences per step (default 64)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    ap.add_argument("--clip", type=float, default=0.0,
                    help="clip the gradient norm to this (default 0: no clipping)")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch.set_num_threads (default 2)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                    help="where the model and the timed step run (default cpu; the batches "
                         "are drawn on the CPU either way)")
    ap.add_argument("--seed", type=int, default=0, help="weights and batches (default 0)")
    ap.add_argument("--test-n", type=int, default=1000,
                    help="sequences of the greedy evaluation after the timing "
                         "(default 1000; 0 skips it)")
    ap.add_argument("--log-every", type=int, default=100,
                    help="print the mean loss every this many steps (0: never; default 100)")
    ap.add_argument("--max-foreign", type=float, default=0.1,
                    help="a block of steps is clean when other processes kept fewer cores "
                         "than this busy (default 0.1)")
    ap.add_argument("--json", default="", help="also write the RESULT object to this file")
    args = ap.parse_args()
    if not 1 <= args.min_len <= args.max_len:
        ap.error("need 1 <= --min-len <= --max-len")
    if args.batch < 1 or args.threads < 1:
        ap.error("--batch and --threads must be at least 1")
    if args.warmup < 0 or args.steps <= args.warmup:
        ap.error("--steps counts the warm-up too: it must exceed --warmup (>= 0)")
    if args.test_n < 0:
        ap.error("--test-n must be >= 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        built = (f"built for CUDA {torch.version.cuda}" if torch.version.cuda
                 else "a CPU-only build")
        ap.error(f"--device cuda: torch.cuda.is_available() is False (torch "
                 f"{torch.__version__}, {built}): no usable NVIDIA GPU here")
    return args


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data_gen = torch.Generator().manual_seed(args.seed)  # on the CPU, whatever --device
    device = torch.device(args.device)
    model = Seq2Seq(attention=args.model == "additive").to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}  threads={torch.get_num_threads()}  "
          f"device={args.device}  model={args.model}  "
          f"len=[{args.min_len},{args.max_len}]  batch={args.batch}  steps={args.steps}  "
          f"params={n_params}", flush=True)

    step_s, tokens, flops, losses = [], [], [], []
    monitor = LoadMonitor(args.max_foreign)
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    for step in range(1, args.steps + 1):
        src, src_len, dec_in, dec_out = reverse_batch(args.batch, args.min_len, args.max_len,
                                                      data_gen)
        # To the device before the timer (src_len stays on the CPU: the packing wants it there).
        src_d, dec_in_d, dec_out_d = src.to(device), dec_in.to(device), dec_out.to(device)
        sync(device)
        t0 = time.perf_counter()
        logits = model(src_d, src_len, dec_in_d)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), dec_out_d.reshape(-1),
                               ignore_index=PAD)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        sync(device)
        elapsed = time.perf_counter() - t0

        timed = step > args.warmup
        if timed:
            step_s.append(elapsed)
            tokens.append(int((dec_out != PAD).sum()))
            flops.append(forward_matmul_flops(src_len, dec_in.shape[1], args.batch,
                                              model.attention))
        losses.append(loss.item())
        monitor.step(timed, last=step == args.steps)
        if args.log_every and step % args.log_every == 0:
            recent = losses[-args.log_every:]
            print(f"  step {step:6d}  loss {sum(recent) / len(recent):.4f}  "
                  f"elapsed {time.perf_counter() - wall0:7.1f}s", flush=True)
    train_wall = time.perf_counter() - wall0
    cpu1 = cpu_seconds()
    own_cores = (cpu1[1] - cpu0[1]) / train_wall
    foreign_cores = (cpu1[0] - cpu0[0]) / train_wall - own_cores

    clean = [t for t, ok in zip(step_s, monitor.clean) if ok]
    median = statistics.median(step_s)
    median_clean = statistics.median(clean) if clean else float("nan")
    mean = sum(step_s) / len(step_s)
    tokens_per_s = sum(tokens) / sum(step_s)
    fwd_flop = sum(flops) / len(flops)
    fwd_gflops = sum(flops) / sum(step_s) / 1e9
    tail = losses[-50:]
    final_loss = sum(tail) / len(tail)

    if args.test_n > 0:
        t0 = time.perf_counter()
        exact, token_acc = evaluate(model, args, device)
        eval_s = time.perf_counter() - t0
    else:
        exact = token_acc = None
        eval_s = 0.0

    result = dict(
        model=args.model, min_len=args.min_len, max_len=args.max_len, steps=args.steps,
        threads=args.threads, device=args.device, seed=args.seed,
        median_ms=median * 1e3, median_ms_clean=median_clean * 1e3,
        clean_steps=len(clean), timed_steps=len(step_s), mean_ms=mean * 1e3,
        steps_per_s=1 / median, tokens_per_s=tokens_per_s,
        fwd_gflop_per_step=fwd_flop / 1e9, achieved_gflops_train_3x=3 * fwd_gflops,
        final_loss=final_loss, exact_acc=exact, token_acc=token_acc,
        train_wall_s=train_wall, eval_s=eval_s,
        own_cores=own_cores, foreign_cores=foreign_cores, torch=torch.__version__)

    print(f"median step  {median * 1e3:9.2f} ms   (mean {mean * 1e3:.2f} ms, "
          f"{len(step_s)} timed steps after {args.warmup} warm-up)")
    print(f"clean median {median_clean * 1e3:9.2f} ms   over {len(clean)}/{len(step_s)} timed "
          f"steps in >=1 s blocks where other processes used < {args.max_foreign} cores")
    print(f"steps/s      {1 / median:9.2f}   (clean: {1 / median_clean:.2f})")
    print(f"tokens/s     {tokens_per_s:9.0f}   (non-PAD target tokens, EOS included)")
    print(f"fwd FLOPs    {fwd_flop / 1e9:9.4f} GFLOP/step (matmuls, analytic)")
    print(f"achieved     {fwd_gflops:9.2f} GFLOP/s forward only, "
          f"~{3 * fwd_gflops:.2f} GFLOP/s training (3x forward)")
    print(f"final loss   {final_loss:9.4f}   (mean of the last {len(tail)} steps)")
    if args.test_n > 0:
        print(f"greedy test  exact-seq acc {exact * 100:6.2f}%   token acc "
              f"{token_acc * 100:6.2f}%   ({args.test_n} seqs, {eval_s:.1f}s)")
    else:
        print("greedy test  skipped (--test-n 0)")
    print(f"train wall   {train_wall:9.1f} s   (this process used {own_cores:.2f} cores, "
          f"other processes {foreign_cores:.2f}: timings are suspect above "
          f"{args.max_foreign})")
    print("RESULT " + json.dumps(result), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
