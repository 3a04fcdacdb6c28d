#!/usr/bin/env python3
"""PyTorch reference for `bench-attngan`: one training step of AttnGAN (Xu et al. 2018)
as the `text-to-image` experiment runs it, and its two players' passes on their own, timed.

What it measures (the same three workloads as experiments/src/bin/bench-attngan.rs)
  1. The whole training step (experiments/src/text_to_image/train.rs, gan_step): the frozen
     DAMSM text encoder on the captions (under torch.no_grad(): ours is frozen, so it
     builds no graph); one generator forward pass; the discriminators' step (both stages:
     real images with their sentences and with mismatched ones, the drawn images detached;
     BCE losses; backward; Adam); then the generator's step against the updated
     discriminators (both stages' adversarial losses, the KL term, and but for
     --variant no-damsm lambda times the DAMSM loss of the 48-pixel images through the
     frozen DAMSM image encoder; backward; Adam). The DAMSM loss is computed in every
     variant (ours records it), and left out of the generator's loss for no-damsm. Each step
     draws a fresh random batch (not timed): captions of --min-words to --max-words random
     words, PAD-padded to the batch's longest, images uniform in [0, 1) at 48 and 24 px.
  2. The two discriminators alone: forward on one random batch of real images of each
     stage with sentences, backward from the sum of both logits of both.
  3. The generator alone: forward from one batch's sentences, words and noise, backward
     from the sum of its 48-pixel images.
  Median, p10 and p90 milliseconds of each, over --steps timed steps and --part-steps timed
  calls of each part, each after --warmup untimed ones. --device cuda runs the models, the
  optimizers and every tensor of the step on the GPU: the batches are still drawn on the CPU
  (the same batches either way) and moved before the timer starts, the noise is drawn on the
  GPU, and every timer is read after torch.cuda.synchronize().

The model, like for like with crates/models/src/vision/ (sizes: the experiment's quick
preset, experiments/src/text_to_image/config.rs), parameters in the same layers with the
same shapes and biases
  text encoder   (damsm.rs, rnn.rs) embedding [K, 64] (K = --vocab 53); a bidirectional
                 LSTM of 32 units per direction (d_common 64 = both directions), each
                 direction with an input projection 64 -> 128 and a hidden projection
                 32 -> 128, both with biases (as nn.LSTM's bias_ih and bias_hh), gate order
                 (i, f, g, o); over packed sequences (ours masks the padded steps, which
                 leave the state as it was: the same final states); words e = both
                 directions' states [B, T, 64], sentence = the forward state at the last
                 real word and the backward one at the first [B, 64]; no dropout (0.0).
  image encoder  (damsm.rs, cnn.rs) 3x3 "same" convolutions with biases, each + ReLU +
                 2x2 max-pool: 3 -> 16 -> 32 -> 64 channels, 48 -> 6 pixels, the 6x6 map as
                 36 regions [B, 36, 64]; regions v = W f (64 -> 64, no bias), global
                 v_bar = W_bar mean(f) (64 -> 64, bias). Frozen (requires_grad off): the
                 gradient flows through it to the images only.
  generator      (attngan/generator.rs, word_attention.rs; C = 16, canvas 48, s = 6)
                 conditioning augmentation: Linear 64 -> 2*32 (bias) to [mu; log var],
                 c = mu + exp(log var / 2) * eps; F_0: Linear [c; z] 64 -> 2*4C*s*s = 4608
                 (bias), GLU over the flat vector, reshape [B, 4C, 6, 6]; two up-blocks
                 (nearest 2x upsampling, 3x3 "same" conv to twice the output channels,
                 GroupNorm with ONE group (eps 1e-5, affine), GLU over the channels):
                 4C -> 2C -> C, 6 -> 12 -> 24 px; image head 3x3 conv C -> 3 + sigmoid;
                 attngan, no-damsm: word attention, U: Linear 64 -> C without bias on the
                 words, scores h_j . (U e_i) for the 576 sub-regions of h_0 [B, 576, T],
                 padded words masked (-1e9) per caption, softmax over the words, context =
                 weights x (U e) [B, 576, C] -> [B, C, 24, 24]; sentence-only: c broadcast
                 over the 24x24 map instead (no U); the join [h_0; context] (2C or C + 32
                 channels); one residual block x + GN(conv(GLU(GN(conv(x))))) (convs
                 j -> 2j and j -> j); an up-block j -> C, 24 -> 48 px; image head C -> 3 +
                 sigmoid. Every convolution has a bias.
  discriminators (attngan/discriminator.rs) per stage (24 px: 3 blocks; 48 px: 4 blocks)
                 4x4 stride-2 convolutions with padding 1 and biases, 16, 32, 64(, 128)
                 channels, each + leaky ReLU 0.2, down to a 3x3 map; unconditional head
                 conv 3x3 (valid) top -> 1; conditional head: the sentence replicated over
                 the 3x3 map and joined on the channels, 3x3 "same" conv (top + 64) -> top +
                 leaky ReLU 0.2, conv 3x3 (valid) top -> 1. Logits [B].
  losses         BCE with logits (F.binary_cross_entropy_with_logits, batch mean); per
                 stage L_D = (BCE(D(x), 1) + BCE(D(x, s), 1)) / 2 + (BCE(D(x^), 0) +
                 BCE(D(x^, s), 0) + BCE(D(x, s'), 0)) / 3 with s' the sentences rolled by
                 one (row i takes row i+1 mod B), the features of the real images computed
                 once for both conditional heads; L_G = sum over stages of BCE(D(x^), 1) +
                 BCE(D(x^, s), 1) + 1.0 * KL + lambda (5.0; 0 for no-damsm) * L_DAMSM / B,
                 KL = 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2) / B.
  DAMSM loss     (damsm.rs) word level: s = e^T v for every caption-image pair [I, C, T, L],
                 softmax over each caption's real words (padded ones masked with -1e9),
                 alpha = softmax of gamma1 (4) times that over the regions, 0 at padded
                 words; c_t = sum alpha v; R(c_t, e_t) = cos (norms floored at 1e-6), 0 at
                 padded words; R(Q, D) = log(sum over real words exp(gamma2 R))/gamma2
                 (gamma2 5: the paper's 1/gamma2 power); sentence level: cos(v_bar, s);
                 each as gamma3 (10) times the scores, cross-entropy over the batch both
                 ways, summed over the batch: L_DAMSM = L1w + L2w + L1s + L2s. (Ours,
                 DamsmConfig::matching, also builds each caption's attention map over its
                 own image, [B, T, L], which the step never reads; not done here.)
  optimizers     Adam, lr 2e-4 both, betas (0.5, 0.999), eps 1e-5 (Burn's default), no
                 clipping; one for the generator, one for both discriminators. The
                 generator's backward also fills the discriminators' gradients (as ours:
                 their parameters are tracked; the next discriminator step zeroes them).
  The parameter counts of both sides are printed (and in RESULT); at the defaults they are
  equal: generator 389,190 (attngan, no-damsm) or 427,478 (sentence-only),
  discriminators 513,444 (116,786 + 396,658), DAMSM text encoder 28,480, image encoder
  31,840. Initial weights differ (PyTorch's and Burn's default initializers), and so do the
  random numbers (each side has its own generator): neither changes the work done.

Flags (scripts/bench-vs-pytorch passes the same values to both sides)
  --variant attngan|sentence-only|no-damsm, --batch, --steps (timed steps, the warm-up NOT
  included), --warmup, --part-steps (0 skips the parts), --seed, --threads
  (torch.set_num_threads), --vocab, --min-words, --max-words: bench-attngan's names and
  defaults; and --device cpu (the default) or cuda, for a GPU build of ours.

Run
  VENV/bin/python bench/pytorch/attngan_bench.py --variant attngan --steps 30 --warmup 5 \\
      --threads 2
  (set OMP_NUM_THREADS/MKL_NUM_THREADS to --threads as well; bench-vs-pytorch does.)

Output (stdout)
  a header line (torch version, threads, device, settings, parameter counts), the training
  step's and each part's median, p10 and p90 ms, the last losses, the peak RSS, and, last,
  one line `RESULT {json}` with bench-attngan's keys: variant, batch, threads, steps,
  warmup, part_steps, seed, backend ("torch-cpu", or "torch-cuda" with --device cuda),
  vocab, min_words, max_words, canvas, d_common, d_hidden, generator_params,
  discriminator_params, discriminator1_params, discriminator2_params, damsm_text_params,
  damsm_image_params, median_ms, p10_ms, p90_ms, disc_fwd_bwd_ms, disc_fwd_bwd_p10_ms,
  disc_fwd_bwd_p90_ms, gen_fwd_bwd_ms, gen_fwd_bwd_p10_ms, gen_fwd_bwd_p90_ms (null when
  skipped), peak_rss_mib (ru_maxrss, torch itself included), and each phase of the step
  (STEP_PHASES, timed as train.rs's gan_step_timed times them in bench-attngan) as
  phase_<name>_ms, phase_<name>_p10_ms and phase_<name>_p90_ms; and also device and torch.
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD = 0
FIRST_WORD = 4  # PAD, BOS, EOS, UNK, then the words
MASKED_SCORE = -1.0e9  # models::attention::MASKED_SCORE
NORM_FLOOR = 1e-6  # damsm.rs
LEAKY_SLOPE = 0.2

# The quick preset (experiments/src/text_to_image/config.rs).
CANVAS = 48
ENCODER_CHANNELS = [16, 32]
D_ANNOTATION = 64
D_COMMON = 64
D_EMBED = 64
GAMMA1, GAMMA2, GAMMA3 = 4.0, 5.0, 10.0
D_CONDITION = 32
D_NOISE = 32
D_HIDDEN = 16
RESIDUAL_BLOCKS = 1
D_DISCRIMINATOR = 16
FINAL_SIDE = 3
LEARNING_RATE = 2e-4  # generator and discriminators
BETA1 = 0.5
ADAM_EPS = 1e-5  # Burn's AdamConfig default
DAMSM_WEIGHT = 5.0
KL_WEIGHT = 1.0


# ----------------------------------------------------------------------------- DAMSM
class TextEncoder(nn.Module):
    """Embedding + bidirectional LSTM of d_common / 2 per direction, over packed captions."""

    def __init__(self, vocab):
        super().__init__()
        self.embedding = nn.Embedding(vocab, D_EMBED)
        self.lstm = nn.LSTM(D_EMBED, D_COMMON // 2, batch_first=True, bidirectional=True)

    def forward(self, tokens, lengths):                             # [B, T], [B] on the CPU
        mask = tokens != PAD                                         # [B, T]
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, (h_n, _) = self.lstm(packed)
        words, _ = pad_packed_sequence(out, batch_first=True,
                                       total_length=tokens.shape[1])  # [B, T, D]
        sentence = torch.cat([h_n[0], h_n[1]], 1)                    # [B, D]
        return words, sentence, mask


class ImageEncoder(nn.Module):
    """cnn.rs's blocks (3x3 conv + ReLU + 2x2 max-pool), then W and W_bar (damsm.rs)."""

    def __init__(self):
        super().__init__()
        widths = [3] + ENCODER_CHANNELS + [D_ANNOTATION]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1)
                                   for a, b in zip(widths, widths[1:]))
        self.regions = nn.Linear(D_ANNOTATION, D_COMMON, bias=False)
        self.global_ = nn.Linear(D_ANNOTATION, D_COMMON)

    def forward(self, images):                                      # [B, 3, 48, 48]
        x = images
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        f = x.flatten(2).transpose(1, 2)                             # [B, L, d_annotation]
        return self.regions(f), self.global_(f.mean(1))              # [B, L, D], [B, D]


def norm(x, dim):
    """The Euclidean norm along dim, kept, floored at NORM_FLOOR (damsm.rs's norm)."""
    return (x * x).sum(dim, keepdim=True).clamp_min(NORM_FLOOR * NORM_FLOOR).sqrt()


def word_scores(regions, words, mask):
    """R(Q_i, D_j) [I, C] of every image with every caption (damsm.rs's word_scores)."""
    images, cells, d = regions.shape
    captions, length, _ = words.shape
    sim = (words.reshape(captions * length, d) @ regions.reshape(images * cells, d).T)
    sim = sim.reshape(captions, length, images, cells).permute(2, 0, 1, 3)  # [I, C, T, L]
    padded = (~mask).reshape(1, captions, length, 1)
    normalized = torch.softmax(sim.masked_fill(padded, MASKED_SCORE), 2)
    alpha = torch.softmax(normalized * GAMMA1, 3).masked_fill(padded, 0.0)   # [I, C, T, L]
    context = (alpha.reshape(images, captions * length, cells) @ regions)
    context = context.reshape(images, captions, length, d)                  # [I, C, T, D]
    w = words.unsqueeze(0)                                                   # [1, C, T, D]
    dot = (context * w).sum(3, keepdim=True)
    relevance = (dot / (norm(context, 3) * norm(w, 3))).reshape(images, captions, length)
    padded = (~mask).reshape(1, captions, length)
    relevance = relevance.masked_fill(padded, 0.0)
    scaled = (relevance * GAMMA2).masked_fill(padded, MASKED_SCORE)
    return torch.logsumexp(scaled, 2) / GAMMA2                               # [I, C]


def damsm_loss(regions, global_, words, sentence, mask):
    """L1w + L2w + L1s + L2s, summed over the batch (eq. 14)."""
    word = word_scores(regions, words, mask)
    sent = (global_ @ sentence.T) / (norm(global_, 1) @ norm(sentence, 1).T)
    target = torch.arange(word.shape[0], device=word.device)
    total = 0.0
    for scores in (word, sent):
        logits = scores * GAMMA3
        total = total + F.cross_entropy(logits, target, reduction="sum") \
            + F.cross_entropy(logits.T, target, reduction="sum")
    return total


# ----------------------------------------------------------------------------- generator
class UpBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv2d(c_in, 2 * c_out, 3, padding=1)
        self.norm = nn.GroupNorm(1, 2 * c_out)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return F.glu(self.norm(self.conv(x)), 1)


class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 2 * c, 3, padding=1)
        self.norm1 = nn.GroupNorm(1, 2 * c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.norm2 = nn.GroupNorm(1, c)

    def forward(self, x):
        y = F.glu(self.norm1(self.conv1(x)), 1)
        return x + self.norm2(self.conv2(y))


class Generator(nn.Module):
    """Two stages, word attention (or the sentence condition) between them."""

    def __init__(self, variant):
        super().__init__()
        c = D_HIDDEN
        self.side = CANVAS // 8
        self.attend = variant != "sentence-only"
        joined = c + (c if self.attend else D_CONDITION)
        self.ca = nn.Linear(D_COMMON, 2 * D_CONDITION)
        self.fc = nn.Linear(D_CONDITION + D_NOISE, 2 * 4 * c * self.side * self.side)
        self.up0 = nn.ModuleList([UpBlock(4 * c, 2 * c), UpBlock(2 * c, c)])
        self.image0 = nn.Conv2d(c, 3, 3, padding=1)
        self.project = nn.Linear(D_COMMON, c, bias=False) if self.attend else None
        self.residual = nn.ModuleList(ResidualBlock(joined) for _ in range(RESIDUAL_BLOCKS))
        self.up1 = UpBlock(joined, c)
        self.image1 = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, sentence, words, mask, z, eps):
        batch = sentence.shape[0]
        mu, log_var = self.ca(sentence).chunk(2, 1)                 # [B, d_c] each
        cond = mu + torch.exp(0.5 * log_var) * eps
        x = F.glu(self.fc(torch.cat([cond, z], 1)), 1)              # [B, 4C s s]
        x = x.reshape(batch, -1, self.side, self.side)              # [B, 4C, s, s]
        for block in self.up0:
            x = block(x)
        h0 = x                                                      # [B, C, 24, 24]
        image0 = torch.sigmoid(self.image0(h0))
        _, c, side, _ = h0.shape
        if self.attend:
            rows = h0.reshape(batch, c, side * side).transpose(1, 2)  # [B, N, C]
            projected = self.project(words)                            # [B, T, C]
            scores = rows @ projected.transpose(1, 2)                  # [B, N, T]
            scores = scores.masked_fill(~mask.unsqueeze(1), MASKED_SCORE)
            weights = torch.softmax(scores, 2)
            context = (weights @ projected).transpose(1, 2).reshape(batch, c, side, side)
        else:
            context = cond.reshape(batch, -1, 1, 1).expand(batch, cond.shape[1], side, side)
        x = torch.cat([h0, context], 1)
        for block in self.residual:
            x = block(x)
        image1 = torch.sigmoid(self.image1(self.up1(x)))            # [B, 3, 48, 48]
        kl = 0.5 * (mu * mu + log_var.exp() - 1.0 - log_var).sum() / batch
        return image0, image1, kl


# ----------------------------------------------------------------------------- discriminators
class Discriminator(nn.Module):
    def __init__(self, canvas):
        super().__init__()
        blocks = (canvas // FINAL_SIDE).bit_length() - 1
        widths = [3] + [D_DISCRIMINATOR << k for k in range(blocks)]
        self.down = nn.ModuleList(nn.Conv2d(a, b, 4, stride=2, padding=1)
                                  for a, b in zip(widths, widths[1:]))
        top = widths[-1]
        self.uncond = nn.Conv2d(top, 1, FINAL_SIDE)
        self.cond_join = nn.Conv2d(top + D_COMMON, top, 3, padding=1)
        self.cond = nn.Conv2d(top, 1, FINAL_SIDE)

    def features(self, x):
        for conv in self.down:
            x = F.leaky_relu(conv(x), LEAKY_SLOPE)
        return x                                                     # [B, top, 3, 3]

    def unconditional(self, f):
        return self.uncond(f).reshape(-1)

    def conditional(self, f, sentence):
        b, _, h, w = f.shape
        s = sentence.reshape(b, -1, 1, 1).expand(b, sentence.shape[1], h, w)
        x = F.leaky_relu(self.cond_join(torch.cat([f, s], 1)), LEAKY_SLOPE)
        return self.cond(x).reshape(-1)

    def forward(self, x, sentence):
        f = self.features(x)
        return self.unconditional(f), self.conditional(f, sentence)


def bce(logits, real):
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def discriminator_loss(d, real, fake, sentence):
    f = d.features(real)
    real_u, real_c = d.unconditional(f), d.conditional(f, sentence)
    wrong = d.conditional(f, torch.roll(sentence, -1, 0))
    fake_u, fake_c = d(fake, sentence)
    return ((bce(real_u, True) + bce(real_c, True)) / 2
            + (bce(fake_u, False) + bce(fake_c, False) + bce(wrong, False)) / 3)


def generator_adversarial(d, fake, sentence):
    u, c = d(fake, sentence)
    return bce(u, True) + bce(c, True)


# ----------------------------------------------------------------------------- the step
def noise(size, device):
    """z and eps [B, 32] each: torch's global generator on the CPU, the GPU's own on cuda."""
    return (torch.randn(size, D_NOISE, device=device),
            torch.randn(size, D_CONDITION, device=device))


# The phases of a step, in order: train.rs's STEP_PHASES.
STEP_PHASES = ["text_encoder", "generator_forward", "discriminators_forward",
               "discriminators_backward", "discriminators_adam", "generator_adversarial",
               "damsm", "generator_backward", "generator_adam"]


def gan_step(gen, d1, d2, text, image, opt_g, opt_d, damsm_weight, batch,
             phase_done=lambda i: None):
    """train.rs's gan_step_timed: phase_done(i) as STEP_PHASES[i] ends."""
    tokens, lengths, real1, real2 = batch
    size = tokens.shape[0]
    with torch.no_grad():                       # the frozen text encoder
        words, sentence, mask = text(tokens, lengths)
    phase_done(0)
    z, eps = noise(size, tokens.device)
    image0, image1, kl = gen(sentence, words, mask, z, eps)
    phase_done(1)

    d_loss = (discriminator_loss(d1, real1, image0.detach(), sentence)
              + discriminator_loss(d2, real2, image1.detach(), sentence))
    d_value = d_loss.item()
    phase_done(2)
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    phase_done(3)
    opt_d.step()
    phase_done(4)

    # The generator's step reads the discriminators without their parameters' gradients
    # (as the experiment does): pix2pix's set_requires_grad(netD, False).
    set_requires_grad((d1, d2), False)
    g_loss = (generator_adversarial(d1, image0, sentence)
              + generator_adversarial(d2, image1, sentence) + kl * KL_WEIGHT)
    phase_done(5)
    regions, global_ = image(image1)
    damsm = damsm_loss(regions, global_, words, sentence, mask) / size
    damsm_value = damsm.item()
    if damsm_weight > 0:
        g_loss = g_loss + damsm * damsm_weight
    g_value = g_loss.item()
    phase_done(6)
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    phase_done(7)
    opt_g.step()
    phase_done(8)
    set_requires_grad((d1, d2), True)
    return d_value, g_value, damsm_value


def set_requires_grad(modules, flag):
    """Whether backward computes these modules' parameters' gradients."""
    for module in modules:
        for p in module.parameters():
            p.requires_grad_(flag)


# ----------------------------------------------------------------------------- data
def random_batch(args, gen):
    """Caption ids [B, T] PAD-padded to the longest, their lengths [B]; real images at 24 and
    48 px. On the CPU, from gen."""
    b = args.batch
    lengths = torch.randint(args.min_words, args.max_words + 1, (b,), generator=gen)
    t = int(lengths.max())
    ids = torch.randint(FIRST_WORD, args.vocab, (b, t), generator=gen)
    tokens = torch.where(torch.arange(t).unsqueeze(0) < lengths.unsqueeze(1), ids,
                         torch.full_like(ids, PAD))
    real1 = torch.rand(b, 3, CANVAS // 2, CANVAS // 2, generator=gen)
    real2 = torch.rand(b, 3, CANVAS, CANVAS, generator=gen)
    return tokens, lengths, real1, real2


def to_device(batch, device):
    """The batch on device, but for the lengths: pack_padded_sequence wants them on the CPU."""
    tokens, lengths, real1, real2 = batch
    return tokens.to(device), lengths, real1.to(device), real2.to(device)


def sync(device):
    """Wait for the GPU's queued work (cuda), so that a timer read next is real; no-op on cpu."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def summary(ms):
    return (float(np.percentile(ms, 50)), float(np.percentile(ms, 10)),
            float(np.percentile(ms, 90)))


def time_calls(warmup, steps, f, device):
    for _ in range(warmup):
        f()
    out = []
    for _ in range(steps):
        sync(device)
        t0 = time.perf_counter()
        f()
        sync(device)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


# ----------------------------------------------------------------------------- main
def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=["attngan", "sentence-only", "no-damsm"],
                    default="attngan")
    ap.add_argument("--batch", type=int, default=32,
                    help="captions (and images) per step, at least 2 (default 32)")
    ap.add_argument("--steps", type=int, default=30,
                    help="timed training steps, after the warm-up (default 30)")
    ap.add_argument("--warmup", type=int, default=5,
                    help="untimed warm-up steps, and calls of each part (default 5)")
    ap.add_argument("--part-steps", type=int, default=30,
                    help="timed calls of each part (default 30; 0 skips them)")
    ap.add_argument("--seed", type=int, default=0, help="weights and inputs (default 0)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                    help="where the models and the timed steps run (default cpu; the batches "
                         "are drawn on the CPU either way)")
    ap.add_argument("--vocab", type=int, default=53,
                    help="vocabulary size, PAD, BOS, EOS, UNK included (default 53)")
    ap.add_argument("--min-words", type=int, default=6, help="fewest words (default 6)")
    ap.add_argument("--max-words", type=int, default=24, help="most words (default 24)")
    args = ap.parse_args()
    if args.batch < 2 or args.steps < 1 or args.threads < 1:
        ap.error("need --batch >= 2, --steps >= 1 and --threads >= 1")
    if args.warmup < 0 or args.part_steps < 0:
        ap.error("--warmup and --part-steps must be >= 0")
    if args.vocab <= FIRST_WORD:
        ap.error(f"--vocab must exceed {FIRST_WORD} (PAD, BOS, EOS, UNK, then words)")
    if not 1 <= args.min_words <= args.max_words:
        ap.error("need 1 <= --min-words <= --max-words")
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
    gen = Generator(args.variant).to(device)
    d1, d2 = Discriminator(CANVAS // 2).to(device), Discriminator(CANVAS).to(device)
    text, image = TextEncoder(args.vocab).to(device), ImageEncoder().to(device)
    for p in list(text.parameters()) + list(image.parameters()):
        p.requires_grad_(False)                 # frozen, as ours
    n_gen, n_d1, n_d2 = count(gen), count(d1), count(d2)
    n_text, n_image = count(text), count(image)
    print(f"torch {torch.__version__}  threads={torch.get_num_threads()}  "
          f"device={args.device}  variant={args.variant}  batch={args.batch}  "
          f"canvas={CANVAS}  captions of "
          f"{args.min_words} to {args.max_words} words: generator params={n_gen}  "
          f"discriminators params={n_d1 + n_d2} ({n_d1} + {n_d2})  DAMSM text encoder "
          f"params={n_text}  image encoder params={n_image} (frozen)", flush=True)

    # 1. The training step.
    adam = dict(lr=LEARNING_RATE, betas=(BETA1, 0.999), eps=ADAM_EPS)
    opt_g = torch.optim.Adam(gen.parameters(), **adam)
    opt_d = torch.optim.Adam(list(d1.parameters()) + list(d2.parameters()), **adam)
    damsm_weight = 0.0 if args.variant == "no-damsm" else DAMSM_WEIGHT
    step_ms, last = [], None
    phase_ms = [[] for _ in STEP_PHASES]
    for step in range(args.warmup + args.steps):
        batch = to_device(random_batch(args, data_gen), device)  # moved before the timer
        sync(device)
        t0 = time.perf_counter()
        phases, lap = [0.0] * len(STEP_PHASES), [t0]

        def phase_done(i):
            sync(device)
            now = time.perf_counter()
            phases[i] = (now - lap[0]) * 1e3
            lap[0] = now

        last = gan_step(gen, d1, d2, text, image, opt_g, opt_d, damsm_weight, batch,
                        phase_done)
        sync(device)
        elapsed = (time.perf_counter() - t0) * 1e3
        if any(v != v or v in (float("inf"), float("-inf")) for v in last):
            raise SystemExit(f"a loss became non-finite at step {step + 1}: {last}")
        if step >= args.warmup:
            step_ms.append(elapsed)
            for every, ms in zip(phase_ms, phases):
                every.append(ms)
    median, p10, p90 = summary(step_ms)
    phase_summaries = [summary(every) for every in phase_ms]

    # 2 and 3. The players on their own, on one batch.
    disc = gen_part = None
    if args.part_steps > 0:
        tokens, lengths, real1, real2 = to_device(random_batch(args, data_gen), device)
        with torch.no_grad():
            words, sentence, mask = text(tokens, lengths)
        z, eps = noise(args.batch, device)

        def discriminators():
            d1.zero_grad(set_to_none=True)
            d2.zero_grad(set_to_none=True)
            u1, c1 = d1(real1, sentence)
            u2, c2 = d2(real2, sentence)
            (u1.sum() + c1.sum() + u2.sum() + c2.sum()).backward()

        def generator():
            gen.zero_grad(set_to_none=True)
            gen(sentence, words, mask, z, eps)[1].sum().backward()

        disc = summary(time_calls(args.warmup, args.part_steps, discriminators, device))
        gen_part = summary(time_calls(args.warmup, args.part_steps, generator, device))

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    def show(s):
        return "skipped" if s is None else f"median {s[0]:.2f} ms (p10 {s[1]:.2f}, p90 {s[2]:.2f})"

    print(f"training step: median {median:.2f} ms over {len(step_ms)} steps "
          f"(p10 {p10:.2f}, p90 {p90:.2f}); last losses: discriminators {last[0]:.4f}, "
          f"generator {last[1]:.4f}, DAMSM {last[2]:.4f}")
    for name, s in zip(STEP_PHASES, phase_summaries):
        print(f"  phase {name}: {show(s)}")
    print(f"discriminators forward+backward (real images): {show(disc)}")
    print(f"generator forward+backward: {show(gen_part)}")
    print(f"peak RSS {peak:.0f} MiB (torch itself included)")
    pick = (lambda s, i: None if s is None else s[i])
    result = dict(
        variant=args.variant, batch=args.batch, threads=args.threads, steps=len(step_ms),
        warmup=args.warmup, part_steps=args.part_steps, seed=args.seed,
        backend=f"torch-{args.device}", device=args.device,
        vocab=args.vocab, min_words=args.min_words, max_words=args.max_words, canvas=CANVAS,
        d_common=D_COMMON, d_hidden=D_HIDDEN,
        generator_params=n_gen, discriminator_params=n_d1 + n_d2,
        discriminator1_params=n_d1, discriminator2_params=n_d2,
        damsm_text_params=n_text, damsm_image_params=n_image,
        median_ms=median, p10_ms=p10, p90_ms=p90,
        disc_fwd_bwd_ms=pick(disc, 0), disc_fwd_bwd_p10_ms=pick(disc, 1),
        disc_fwd_bwd_p90_ms=pick(disc, 2),
        gen_fwd_bwd_ms=pick(gen_part, 0), gen_fwd_bwd_p10_ms=pick(gen_part, 1),
        gen_fwd_bwd_p90_ms=pick(gen_part, 2),
        peak_rss_mib=peak, torch=torch.__version__)
    for name, s in zip(STEP_PHASES, phase_summaries):
        for suffix, value in zip(("", "_p10", "_p90"), s):
            result[f"phase_{name}{suffix}_ms"] = value
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
