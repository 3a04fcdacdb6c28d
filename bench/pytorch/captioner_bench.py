#!/usr/bin/env python3
"""PyTorch (CPU) reference for `bench-captioner`: the training step of the Show, Attend and
Tell captioner (Xu et al. 2015), and its convolutional encoder on its own, timed.

What it measures (the same two workloads as experiments/src/bin/bench-captioner.rs)
  1. The captioner's whole training step on precomputed annotations, which is what the
     `captioning` experiment runs per step (its encoder is pretrained once and frozen, and
     every image's annotations are computed once): the teacher-forced pass, the loss, the
     backward pass, gradient-norm clipping and the Adam update. Each step draws a fresh
     random batch (not timed): annotations uniform in [0, 1) (as after a ReLU), captions of
     caption_len/2 to caption_len-1 random words, PAD-padded to caption_len decoder steps.
  2. The convolutional encoder on one random batch of --batch images in [0, 1): the forward
     pass under torch.no_grad() (ours: without autodiff, as the experiment annotates its
     images), and the forward plus backward pass of the sum of the annotations (the
     gradients of every convolution; the images need none).
  Median, p10 and p90 milliseconds of each, over --steps timed training steps and
  --encoder-steps timed encoder calls, each after --warmup untimed ones.

The model, like for like with crates/models/src/vision/ (sizes: the quick preset's)
  encoder   (cnn.rs) blocks of a 3x3 convolution with "same" padding and a bias, a ReLU
            and a 2x2 max-pool: 3 -> 16 -> 32 -> 64 channels (--encoder-channels 16,32,
            --d-annotation 64), 48 -> 24 -> 12 -> 6 pixels (--canvas 48); an extra max-pool
            when --grid is smaller than what is left (not at the defaults); the map
            [B, D, G, G] becomes [B, L = G*G, D], cell i at row i / G, column i % G.
  captioner (captioner/mod.rs) parameters in the same layers with the same shapes and
            biases, created in the same order:
            E embedding [K, m] (K = --vocab 53, m = --d-embed 64; no padding row);
            f_init,h and f_init,c: Linear D -> n with bias, then tanh, of the mean
            annotation (n = --d-hidden 128): h_0, c_0;
            embed_gates: Linear m -> 4n with bias, run ONCE over all T steps of E y (as
            ours: the LSTM's input projection is hoisted out of the time loop), the result
            and E y then split into their T steps with one unbind each (ours: split_steps);
            context_gates: Linear D -> 4n without bias, per step on z_t;
            hidden_gates: Linear n -> 4n with bias, per step on h_{t-1} (ours: rnn::Cell);
            the LSTM step in PyTorch's gate order (i, f, g, o):
              gates = (embed_gates_t + context_gates(z_t)) + hidden_gates(h_{t-1}),
              c_t = sigma(f) c_{t-1} + sigma(i) tanh(g),  h_t = sigma(o) tanh(c_t)
            (ours runs this as one fused kernel, kernels::lstm_step; here it is the
            composite a PyTorch user writes for a pre-projected input: torch.lstm_cell
            takes the raw input, so it cannot serve);
            attention (soft and hard): the learned position embeddings p [L, D] (normal
            init) are added to the annotations once per batch, a_i + p_i, for the keys and
            the context (not for the mean);
            scores/additive.rs: U: Linear D -> A without bias,
            once per batch on the annotations (A = --d-attention 64); W: Linear n -> A
            without bias and v: Linear A -> 1 without bias, per step:
              e_t = v^T tanh(W h_{t-1} + U a_i)  [B, L]
            (ours: one fused kernel, kernels::additive_energy; here the composite);
            alpha_t = softmax over the L cells of e_t, after the same masked_fill with an
            all-true mask as ours (attention::masked_softmax, -1e9); the expected context
            sum_i alpha_ti a_i as an elementwise product and a sum over the cells (as
            attention::attend, not a batched matrix product);
            gate f_beta: Linear n -> 1 with bias, beta_t = sigma(f_beta(h_{t-1}));
            z_t = beta_t * (the context)  (none: z_t = the mean annotation, no beta);
            deep output: logits = L_o(E y_{t-1} + L_h h_t + L_z z_t), L_h: n -> m and
            L_z: D -> m without bias, per step; L_o: m -> K with bias, once over all
            steps of the stacked [B, T, m];
            dropout 0.0 (the default; ours skips the layer at 0 too).
  context   --context none: the mean annotation at every step (no attention parameters);
            soft: z_t = beta_t sum_i alpha_ti a_i;
            hard: one coin per caption (probability 0.5, from a seeded generator) picks
            the expected context at every step; the other captions sample a cell
            s_t ~ alpha_t (torch.multinomial on the detached weights; ours: categorical)
            and take z_t = beta_t a_{s_t}, blended as ours does,
            sampled + (expected - sampled) * coin, with log alpha_t(s_t) (clamped at 1e-12,
            0 where the coin chose the expectation) kept for REINFORCE.
  outputs   as ours, every pass also stacks the contexts [B, T, D], the betas [B, T] and
            (attention) the weights [B, T, L], and computes the doubly stochastic penalty
            lambda * sum_b sum_i (1 - sum_t alpha_ti)^2 / (number of real steps), the sum
            over t running over the non-PAD steps of the decoder input (lambda 1.0); hard attention computes it but
            leaves it out of its loss, as ours does.
  loss      none, soft: cross-entropy over the non-PAD targets (F.cross_entropy with
            ignore_index=PAD, the mean over real tokens: models::seq2seq::
            sequence_cross_entropy), plus the penalty (soft). hard: the hybrid loss of
            experiments/src/reinforce.rs: CE - 1.0 * mean_b[(R_b - baseline) *
            sum_t log alpha_t(s_t)] - 0.01 * H, with R_b sentence b's mean token
            log-likelihood (read back to the host, as ours), a moving-average baseline
            (decay 0.9) and H the mean attention entropy over real steps.
            The cross-entropy is read back every step (ours checks it for NaN).
  optimizer Adam, lr 3e-3 (the quick preset's), betas (0.9, 0.999), eps 1e-5 (Burn's
            default); before it, gradient-norm clipping at 5.0 applied PER PARAMETER
            TENSOR, as Burn's GradientClippingConfig::Norm does inside the optimizer that
            experiments::training::train_loop builds (each gradient g becomes
            g * min(1, 5 / (||g|| + f32::MIN_POSITIVE)), always multiplied), NOT the global
            norm of torch.nn.utils.clip_grad_norm_; done here with torch._foreach_norm and
            torch._foreach_mul_.
  The parameter counts of both sides are printed (and in RESULT as params and
  encoder_params); at the defaults they are equal: captioner 167,861 (none) or 182,646
  (soft, hard), encoder 23,584. Initial weights differ (PyTorch's and Burn's default
  initializers), and so do the random numbers (each side has its own generator): neither
  changes the work done.

Flags (scripts/bench-vs-pytorch passes the same values to both sides)
  --context none|soft|hard, --batch, --steps (timed steps, the warm-up NOT included, as in
  bench-captioner; seq2seq_bench.py counts them differently), --warmup, --encoder-steps
  (0 skips the encoder), --seed, --threads (torch.set_num_threads), --caption-len,
  --vocab, --canvas, --encoder-channels, --grid, --d-annotation, --d-embed, --d-hidden,
  --d-attention: the same names and defaults as bench-captioner.

Run
  VENV/bin/python bench/pytorch/captioner_bench.py --context soft --steps 60 --warmup 10 \\
      --threads 2
  (set OMP_NUM_THREADS/MKL_NUM_THREADS to --threads as well; bench-vs-pytorch does.)

Output (stdout)
  a header line (torch version, threads, settings, parameter counts), the training step's
  and each encoder pass's median, p10 and p90 ms, the final loss, the peak RSS, and, last,
  one line `RESULT {json}` with the keys of bench-captioner's: context, batch, caption_len,
  threads, steps, warmup, encoder_steps, seed, backend ("torch-cpu"), vocab, canvas,
  encoder_channels, grid, d_annotation, d_embed, d_hidden, d_attention, params,
  encoder_params, median_ms, p10_ms, p90_ms, encoder_fwd_ms, encoder_fwd_p10_ms,
  encoder_fwd_p90_ms, encoder_fwd_bwd_ms, encoder_fwd_bwd_p10_ms, encoder_fwd_bwd_p90_ms
  (null when skipped), peak_rss_mib (ru_maxrss, torch itself included); and also
  final_loss, torch.
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS, EOS = 0, 1, 2
FIRST_WORD = 4  # PAD, BOS, EOS, UNK, then the words
MASKED_SCORE = -1.0e9  # models::attention::MASKED_SCORE

# The quick preset's training settings (experiments/src/captioning/config.rs).
LEARNING_RATE = 3e-3
GRAD_CLIP = 5.0
DOUBLY_STOCHASTIC = 1.0
HARD_EXPECTED = 0.5
REINFORCE_WEIGHT = 1.0
ENTROPY_WEIGHT = 0.01
BASELINE_DECAY = 0.9
ADAM_EPS = 1e-5  # Burn's AdamConfig default
F32_MIN_POSITIVE = float(torch.finfo(torch.float32).tiny)


# ----------------------------------------------------------------------------- model
class ImageEncoder(nn.Module):
    """conv 3x3 (same) + ReLU + 2x2 max-pool blocks; the last map is the annotation grid."""

    def __init__(self, canvas, channels, d_annotation, grid):
        super().__init__()
        widths = [3] + list(channels) + [d_annotation]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1)
                                   for a, b in zip(widths, widths[1:]))
        side = canvas >> len(self.convs)
        self.grid_kernel = side // grid

    def forward(self, images):                      # [B, 3, H, W]
        x = images
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)    # [B, C, H/2, W/2]
        if self.grid_kernel > 1:
            x = F.max_pool2d(x, self.grid_kernel)   # [B, D, G, G]
        return x.flatten(2).transpose(1, 2)         # [B, L, D]


class Captioner(nn.Module):
    """Show, Attend and Tell's LSTM decoder; see the module docstring for every layer."""

    def __init__(self, vocab, d_embed, d_hidden, d_annotation, d_attention, cells, context):
        super().__init__()
        self.context = context
        self.d_hidden = d_hidden
        m, n, d, a = d_embed, d_hidden, d_annotation, d_attention
        self.embedding = nn.Embedding(vocab, m)
        self.init_hidden = nn.Linear(d, n)
        self.init_memory = nn.Linear(d, n)
        self.embed_gates = nn.Linear(m, 4 * n)
        self.context_gates = nn.Linear(d, 4 * n, bias=False)
        self.hidden_gates = nn.Linear(n, 4 * n)
        if context != "none":
            self.score_query = nn.Linear(n, a, bias=False)  # W
            self.score_key = nn.Linear(d, a, bias=False)    # U
            self.score_v = nn.Linear(a, 1, bias=False)      # v
            self.gate = nn.Linear(n, 1)                     # f_beta
            self.positions = nn.Parameter(torch.randn(cells, d))  # p
        self.out_hidden = nn.Linear(n, m, bias=False)       # L_h
        self.out_context = nn.Linear(d, m, bias=False)      # L_z
        self.output = nn.Linear(m, vocab)                   # L_o

    def forward(self, annotations, tgt_in, expected=None):
        """Teacher-forced pass. `expected`: [B, 1] 1.0/0.0 coins (hard attention only).

        Returns (logits [B, T, K], contexts [B, T, D], weights [B, T, L] or None,
        betas [B, T] or None, sample_log_probs [B, T] or None, penalty or None).
        """
        batch, cells, d = annotations.shape
        mean = annotations.mean(1)                                   # [B, D]
        h = torch.tanh(self.init_hidden(mean))                       # [B, n]
        c = torch.tanh(self.init_memory(mean))                       # [B, n]
        attention = self.context != "none"
        if attention:
            annotations = annotations + self.positions               # a_i + p_i: [B, L, D]
        keys = self.score_key(annotations) if attention else None    # [B, L, A]
        mask = torch.ones(batch, cells, dtype=torch.bool)            # every cell is real
        real_steps = tgt_in != PAD                                   # [B, T]
        embedded = self.embedding(tgt_in)                            # [B, T, m]
        gates_all = self.embed_gates(embedded).unbind(1)             # T x [B, 4n]
        embedded = embedded.unbind(1)                                # T x [B, m]
        deep, contexts, weights, betas, log_probs = [], [], [], [], []
        for embed_t, gates_t in zip(embedded, gates_all):
            if not attention:
                z = mean
            else:
                query = self.score_query(h).unsqueeze(1)                         # [B, 1, A]
                scores = self.score_v(torch.tanh(query + keys)).squeeze(-1)       # [B, L]
                alpha = torch.softmax(scores.masked_fill(~mask, MASKED_SCORE), 1)  # [B, L]
                picked = (alpha.unsqueeze(2) * annotations).sum(1)                # [B, D]
                if expected is not None:
                    cell = torch.multinomial(alpha.detach(), 1)                   # [B, 1]
                    sampled = annotations.gather(
                        1, cell.unsqueeze(2).expand(batch, 1, d)).squeeze(1)      # [B, D]
                    picked = sampled + (picked - sampled) * expected
                    log_prob = alpha.gather(1, cell).clamp_min(1e-12).log()       # [B, 1]
                    log_probs.append((log_prob * (1.0 - expected)).reshape(batch))
                beta = torch.sigmoid(self.gate(h))                                # [B, 1]
                z = picked * beta                                                 # [B, D]
                weights.append(alpha)
                betas.append(beta)
            gates = gates_t + self.context_gates(z) + self.hidden_gates(h)        # [B, 4n]
            i, f, g, o = gates.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            deep.append(embed_t + self.out_hidden(h) + self.out_context(z))       # [B, m]
            contexts.append(z)
        logits = self.output(torch.stack(deep, 1))                                # [B, T, K]
        weights = torch.stack(weights, 1) if weights else None                    # [B, T, L]
        penalty = None
        if weights is not None:
            real = real_steps.float().unsqueeze(2)                                # [B, T, 1]
            missing = 1.0 - (weights * real).sum(1, keepdim=True)                 # [B, 1, L]
            penalty = (missing * missing).sum() * DOUBLY_STOCHASTIC / real_steps.sum()
        return (logits, torch.stack(contexts, 1), weights,
                torch.cat(betas, 1) if betas else None,
                torch.stack(log_probs, 1) if log_probs else None, penalty)


# ----------------------------------------------------------------------------- losses
def soft_loss(model, annotations, tgt_in, tgt_out):
    """Cross-entropy over non-PAD targets (+ the penalty): (objective, cross-entropy)."""
    logits, _, _, _, _, penalty = model(annotations, tgt_in)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                         ignore_index=PAD)
    value = ce.item()
    return (ce + penalty if penalty is not None else ce), value


class Hybrid:
    """The REINFORCE hybrid loss of experiments/src/reinforce.rs, with its baseline."""

    def __init__(self, seed):
        self.coins = torch.Generator().manual_seed(seed + 1)
        self.baseline = None

    def __call__(self, model, annotations, tgt_in, tgt_out):
        batch = annotations.shape[0]
        expected = (torch.rand(batch, 1, generator=self.coins) < HARD_EXPECTED).float()
        logits, _, weights, _, log_choice, _ = model(annotations, tgt_in, expected)
        _, steps, vocab = logits.shape
        log_probs = torch.log_softmax(logits.reshape(batch * steps, vocab), 1)
        picked = log_probs.gather(1, tgt_out.reshape(batch * steps, 1)).reshape(batch, steps)
        real = (tgt_out != PAD).float()
        ll = picked * real
        tokens = real.sum()
        ce = -ll.sum() / tokens
        per_sentence = (ll.detach().sum(1, keepdim=True) / real.sum(1, keepdim=True)).tolist()
        per_sentence = [r[0] for r in per_sentence]
        mean_reward = sum(per_sentence) / batch
        b_now = mean_reward if self.baseline is None else self.baseline
        advantage = torch.tensor([[r - b_now] for r in per_sentence])
        self.baseline = BASELINE_DECAY * b_now + (1.0 - BASELINE_DECAY) * mean_reward
        reinforce = -((log_choice * real).sum(1, keepdim=True) * advantage).mean()
        entropy_steps = -(weights * weights.clamp_min(1e-12).log()).sum(2)      # [B, T]
        entropy = (entropy_steps * real).sum() / tokens
        value = ce.item()
        return ce + reinforce * REINFORCE_WEIGHT - entropy * ENTROPY_WEIGHT, value


def clip_per_tensor(params, max_norm):
    """Burn's GradientClipping::Norm: every gradient tensor clipped to its own norm."""
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch.stack(torch._foreach_norm(grads))
    coefs = (max_norm / (norms + F32_MIN_POSITIVE)).clamp(max=1.0)
    torch._foreach_mul_(grads, coefs.unbind())


# ----------------------------------------------------------------------------- data
def random_batch(args, gen):
    """Annotations [B, L, D] in [0, 1); decoder input and target ids [B, T], PAD-padded."""
    b, t, cells = args.batch, args.caption_len, args.grid * args.grid
    annotations = torch.rand(b, cells, args.d_annotation, generator=gen)
    words = torch.randint(max(t // 2, 1), t, (b,), generator=gen)        # words per caption
    ids = torch.randint(FIRST_WORD, args.vocab, (b, t), generator=gen)
    pos = torch.arange(t).unsqueeze(0)                                    # [1, T]
    n = words.unsqueeze(1)                                                # [B, 1]
    tgt_out = torch.where(pos < n, ids, torch.full_like(ids, PAD))
    tgt_out[pos.expand(b, t) == n] = EOS
    tgt_in = torch.full_like(ids, PAD)
    tgt_in[:, 0] = BOS
    tgt_in[:, 1:] = torch.where(pos[:, :-1] < n, ids[:, :-1], torch.full_like(ids[:, :-1], PAD))
    return annotations, tgt_in, tgt_out


def summary(ms):
    return (float(np.percentile(ms, 50)), float(np.percentile(ms, 10)),
            float(np.percentile(ms, 90)))


def time_calls(warmup, steps, f):
    for _ in range(warmup):
        f()
    out = []
    for _ in range(steps):
        t0 = time.perf_counter()
        f()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


# ----------------------------------------------------------------------------- main
def channels(text):
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"want comma-separated integers, got {text!r}")
    if any(c < 1 for c in out):
        raise argparse.ArgumentTypeError(f"channels must be >= 1, got {text!r}")
    return out


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--context", choices=["none", "soft", "hard"], default="soft")
    ap.add_argument("--batch", type=int, default=32, help="captions (and images) per step")
    ap.add_argument("--steps", type=int, default=50,
                    help="timed training steps, after the warm-up (default 50)")
    ap.add_argument("--warmup", type=int, default=5,
                    help="untimed warm-up steps, and calls of each encoder pass (default 5)")
    ap.add_argument("--encoder-steps", type=int, default=50,
                    help="timed calls of each encoder pass (default 50; 0 skips it)")
    ap.add_argument("--seed", type=int, default=0, help="weights and inputs (default 0)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--caption-len", type=int, default=20, help="decoder steps T (default 20)")
    ap.add_argument("--vocab", type=int, default=53, help="vocabulary size K (default 53)")
    ap.add_argument("--canvas", type=int, default=48, help="image side in pixels (default 48)")
    ap.add_argument("--encoder-channels", type=channels, default=[16, 32],
                    help="channels of the blocks before the last (default 16,32)")
    ap.add_argument("--grid", type=int, default=6, help="annotation grid side G (default 6)")
    ap.add_argument("--d-annotation", type=int, default=64, help="annotation size D (default 64)")
    ap.add_argument("--d-embed", type=int, default=64, help="embedding size m (default 64)")
    ap.add_argument("--d-hidden", type=int, default=128, help="LSTM size n (default 128)")
    ap.add_argument("--d-attention", type=int, default=64,
                    help="additive attention size (default 64)")
    args = ap.parse_args()
    if args.batch < 1 or args.steps < 1 or args.threads < 1 or args.caption_len < 2:
        ap.error("need --batch, --steps, --threads >= 1 and --caption-len >= 2")
    if args.warmup < 0 or args.encoder_steps < 0:
        ap.error("--warmup and --encoder-steps must be >= 0")
    if args.vocab <= FIRST_WORD:
        ap.error(f"--vocab must exceed {FIRST_WORD} (PAD, BOS, EOS, UNK, then words)")
    shrink = 1 << (len(args.encoder_channels) + 1)
    if args.canvas % shrink or args.grid < 1 or (args.canvas // shrink) % args.grid:
        ap.error(f"--canvas must be a multiple of {shrink} and --grid must divide "
                 f"canvas / {shrink}")
    return args


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data_gen = torch.Generator().manual_seed(args.seed)
    model = Captioner(args.vocab, args.d_embed, args.d_hidden, args.d_annotation,
                      args.d_attention, args.grid * args.grid, args.context)
    params = list(model.parameters())
    n_params = sum(p.numel() for p in params)
    encoder = ImageEncoder(args.canvas, args.encoder_channels, args.d_annotation, args.grid)
    n_encoder = sum(p.numel() for p in encoder.parameters())
    print(f"torch {torch.__version__}  threads={torch.get_num_threads()}  "
          f"context={args.context}  batch={args.batch}  caption_len={args.caption_len}  "
          f"cells={args.grid * args.grid}x{args.d_annotation}  captioner params={n_params}  "
          f"encoder params={n_encoder}", flush=True)

    # 1. The training step.
    opt = torch.optim.Adam(params, lr=LEARNING_RATE, eps=ADAM_EPS)
    loss_fn = Hybrid(args.seed) if args.context == "hard" else soft_loss
    step_ms, losses = [], []
    for step in range(args.warmup + args.steps):
        annotations, tgt_in, tgt_out = random_batch(args, data_gen)
        t0 = time.perf_counter()
        objective, value = loss_fn(model, annotations, tgt_in, tgt_out)
        if value != value or value in (float("inf"), float("-inf")):
            raise SystemExit(f"loss became {value} at step {step + 1}")
        opt.zero_grad(set_to_none=True)
        objective.backward()
        clip_per_tensor(params, GRAD_CLIP)
        opt.step()
        elapsed = (time.perf_counter() - t0) * 1e3
        if step >= args.warmup:
            step_ms.append(elapsed)
        losses.append(value)
    median, p10, p90 = summary(step_ms)

    # 2. The encoder on its own.
    fwd = fwd_bwd = None
    if args.encoder_steps > 0:
        img_gen = torch.Generator().manual_seed(args.seed + 2)
        images = torch.rand(args.batch, 3, args.canvas, args.canvas, generator=img_gen)

        def forward():
            with torch.no_grad():
                encoder(images)

        def forward_backward():
            encoder.zero_grad(set_to_none=True)
            encoder(images).sum().backward()

        fwd = summary(time_calls(args.warmup, args.encoder_steps, forward))
        fwd_bwd = summary(time_calls(args.warmup, args.encoder_steps, forward_backward))

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    def show(s):
        return "skipped" if s is None else f"median {s[0]:.2f} ms (p10 {s[1]:.2f}, p90 {s[2]:.2f})"

    tail = losses[-10:]
    final_loss = sum(tail) / len(tail)
    print(f"training step: median {median:.2f} ms over {len(step_ms)} steps "
          f"(p10 {p10:.2f}, p90 {p90:.2f}); cross-entropy at the end {final_loss:.4f}")
    print(f"encoder forward: {show(fwd)}")
    print(f"encoder forward+backward: {show(fwd_bwd)}")
    print(f"peak RSS {peak:.0f} MiB (torch itself included)")
    pick = (lambda s, i: None if s is None else s[i])
    result = dict(
        context=args.context, batch=args.batch, caption_len=args.caption_len,
        threads=args.threads, steps=len(step_ms), warmup=args.warmup,
        encoder_steps=args.encoder_steps, seed=args.seed, backend="torch-cpu",
        vocab=args.vocab, canvas=args.canvas, encoder_channels=args.encoder_channels,
        grid=args.grid, d_annotation=args.d_annotation, d_embed=args.d_embed,
        d_hidden=args.d_hidden, d_attention=args.d_attention,
        params=n_params, encoder_params=n_encoder,
        median_ms=median, p10_ms=p10, p90_ms=p90,
        encoder_fwd_ms=pick(fwd, 0), encoder_fwd_p10_ms=pick(fwd, 1),
        encoder_fwd_p90_ms=pick(fwd, 2),
        encoder_fwd_bwd_ms=pick(fwd_bwd, 0), encoder_fwd_bwd_p10_ms=pick(fwd_bwd, 1),
        encoder_fwd_bwd_p90_ms=pick(fwd_bwd, 2),
        peak_rss_mib=peak, final_loss=final_loss, torch=torch.__version__)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
