"""Generates tests/data/sacrebleu_multi_ref_cases.rs: BLEU against several
references per hypothesis, and BLEU-n for n = 1 to 5, computed by sacreBLEU.

Produced with sacreBLEU 2.6.0 on CPython 3.11.7:

    python3 -m venv /tmp/venv-sacrebleu && /tmp/venv-sacrebleu/bin/pip install 'sacrebleu>=2,<3'
    /tmp/venv-sacrebleu/bin/python crates/metrics/tests/data/gen_sacrebleu_multi_ref_cases.py \
        > crates/metrics/tests/data/sacrebleu_multi_ref_cases.rs
    rustfmt --edition 2024 crates/metrics/tests/data/sacrebleu_multi_ref_cases.rs

A case lists the references of each hypothesis. sacreBLEU takes them as K
reference streams, K the largest number of references of a hypothesis, with
`None` where a hypothesis has fewer (sacreBLEU drops `None` references; an
empty string is a reference of length 0). Each case is
`sacrebleu.metrics.BLEU(max_ngram_order=n, smooth_method=..., smooth_value=...)
.corpus_score(hyps, streams)`; where n = 4 with the default smoothing, the
script checks that this equals `sacrebleu.corpus_bleu(hyps, streams)`. The
counts, totals and lengths are the summed segment statistics, before the
constant that `add-k` adds.
"""

import random

import sacrebleu
from sacrebleu.metrics import BLEU
from sacrebleu.utils import sum_of_lists

# The single-reference generator in this directory.
from gen_sacrebleu_cases import PIECES, WORDS, perturb, random_line, rust_smoothing, rust_str

EXP = [(4, "exp", None)]
ORDERS_1_TO_4 = [(n, "exp", None) for n in range(1, 5)]
ALL_SMOOTHING = [(4, method, None) for method in ("exp", "none", "floor", "add-k")]

# A caption-like corpus: six images, five human captions each, and a
# system's captions.
CAPTION_HYPS = [
    "a man riding a wave on top of a surfboard .",
    "a group of people standing around a table with food .",
    "a cat laying on a bed next to a laptop .",
    "a red double decker bus driving down a street .",
    "two giraffes standing next to each other in a field .",
    "a plate of food with broccoli and meat .",
]
CAPTION_REFS = [
    ["A surfer rides a large wave in the ocean.",
     "a man on a surfboard riding a wave",
     "A person riding a surf board on a wave.",
     "A surfer in a wetsuit is riding a big wave.",
     "Man surfing."],
    ["People gather around a table full of food at a party.",
     "a group of people standing around a table with plates of food",
     "Several friends are eating together in a kitchen.",
     "A family stands near a buffet table.",
     "a crowd of people at a dinner table"],
    ["A cat is sleeping on the bed beside an open laptop.",
     "a cat laying on a bed with a laptop",
     "A gray cat lies next to a computer on a bed.",
     "The kitten rests on the blanket.",
     "a cat next to a laptop on a bed"],
    ["A red double decker bus on a city street.",
     "a double decker bus driving down the road",
     "A big red bus drives past some buildings.",
     "Red bus.",
     "a red bus is traveling down a street in london"],
    ["Two giraffes are standing in a grassy field.",
     "two giraffes standing next to each other",
     "A pair of giraffes near some trees.",
     "Giraffes in the wild stand close together in the field.",
     "two tall giraffes standing on a field next to trees"],
    ["A white plate topped with broccoli and a piece of meat.",
     "a plate of food with meat and vegetables",
     "Broccoli, beef and rice on a dish.",
     "A dinner plate with steak and green broccoli.",
     "a plate with meat and broccoli on it"],
]

# (name, hyps, references of each hypothesis, [(max order, smooth_method, smooth_value), ...]).
HAND_CASES = [
    ("five references of different lengths",
     ["a man is riding a horse on the beach ."],
     [["A man rides a horse along the beach.",
       "a person on a horse",
       "A man is riding a brown horse on a sandy beach near the ocean.",
       "horse riding",
       "Someone is riding a horse on the beach at sunset."]],
     ORDERS_1_TO_4),
    ("closest reference longer than the hypothesis",
     ["two dogs play with a red ball in the park"],
     [["dogs play", "two dogs are playing with a red ball in a park", "a dog runs"]],
     EXP + [(2, "exp", None)]),
    ("equally close references: the shorter counts",
     ["a b c d", "x y z"],
     [["a b c", "a b c d e"], ["x y z w", "x y"]],
     EXP),
    ("equally close references in the other order",
     ["a b c d", "x y z"],
     [["a b c d e", "a b c"], ["x y", "x y z w"]],
     EXP),
    ("no 4-gram matches against any reference",
     ["the cat sat red on a mat", "a dog barks"],
     [["the cat sat on the mat", "a cat sat on a mat", "the red mat"],
      ["the dog barks", "a dog is barking"]],
     ALL_SMOOTHING),
    ("no 3- and 4-gram matches",
     ["one two three four five six"],
     [["one two x three four y five six", "two three"]],
     ALL_SMOOTHING + [(2, "exp", None), (3, "exp", None)]),
    ("clipped by the most frequent reference",
     ["the the the the cat cat"],
     [["the cat on the mat", "the the the dog", "a cat and a cat"]],
     ORDERS_1_TO_4),
    ("clipped by the maximum, not the sum, over references",
     ["a a a a"],
     [["a b", "a c", "a d"]],
     ORDERS_1_TO_4),
    ("duplicate references",
     ["a small dog runs in the grass", "a bird"],
     [["a small dog runs on the grass"] * 3, ["a bird flies", "a bird flies"]],
     EXP),
    ("empty hypothesis among others",
     ["", "a cat on a mat", "  "],
     [["a b c", "d e"], ["a cat on the mat", "the cat is on a mat"], ["x"]],
     EXP + [(1, "exp", None)]),
    ("only empty hypotheses",
     ["", ""],
     [["a b", "c"], ["d", "e f g"]],
     EXP),
    ("empty reference string is a reference of length 0",
     ["a", "a b c"],
     [["a b c d e", ""], ["a b c d e", ""]],
     EXP + [(1, "exp", None)]),
    ("reference left out (None in sacreBLEU)",
     ["a", "a b c"],
     [["a b c d e"], ["a b c d e"]],
     EXP + [(1, "exp", None)]),
    ("varying number of references",
     ["the boy kicks the ball", "a woman reads a book on a bench", "cars on a road"],
     [["a boy kicks a ball"],
      ["a woman is reading a book", "a lady reads on a park bench", "woman with a book"],
      ["cars drive on a busy road", "traffic on the highway", "a road with cars",
       "many cars on a road at night", "vehicles on a street"]],
     ORDERS_1_TO_4 + [(4, "floor", 0.2)]),
    ("no hypothesis trigrams: BLEU-3 and BLEU-4 are 0",
     ["a dog", "the cat"],
     [["a dog runs", "one dog"], ["the cat", "a cat sleeps"]],
     ORDERS_1_TO_4),
    ("no matches at all",
     ["x y z", "w"],
     [["a b c", "d"], ["e f"]],
     ORDERS_1_TO_4),
    ("13a tokenization of references",
     ["It costs $1,000.50, or 1.000,5 in Europe.", "A &amp; B &quot;quoted&quot;"],
     [["It costs $1,000.50 - or 1,000.5 in Europe!", "it costs 1000 dollars."],
      ['A & B "quoted"', "A and B"]],
     EXP),
    ("caption-like corpus", CAPTION_HYPS, CAPTION_REFS,
     ORDERS_1_TO_4 + [(5, "exp", None), (4, "none", None), (4, "add-k", None)]),
]


def random_cases(seed, count):
    """Corpora of one to four hypotheses with one to five references each."""
    rng = random.Random(seed)
    cases = []
    for index in range(count):
        hyps, refs = [], []
        for _ in range(rng.randint(1, 4)):
            source = random_line(rng, 12)
            refs.append([perturb(rng, source) if rng.random() < 0.8 else random_line(rng, 12)
                         for _ in range(rng.randint(1, 5))])
            hyps.append(perturb(rng, source) if rng.random() < 0.85 else random_line(rng, 8))
        method = rng.choice(["exp", "exp", "none", "floor", "add-k"])
        cases.append((f"random {index}", hyps, refs, [(rng.randint(1, 4), method, None)]))
    return cases


def streams(refs):
    """References per hypothesis -> sacreBLEU's reference streams."""
    count = max(len(r) for r in refs)
    return [[r[k] if k < len(r) else None for r in refs] for k in range(count)]


def rust_list(items, convert):
    return "&[" + ", ".join(convert(item) for item in items) + "]"


def main():
    print("// @generated by tests/data/gen_sacrebleu_multi_ref_cases.py with sacreBLEU "
          f"{sacrebleu.__version__}; do not edit by hand.")
    print("// Each case is `sacrebleu.metrics.BLEU(max_ngram_order, smooth_method, smooth_value)")
    print("// .corpus_score(hyps, streams)`, the streams holding the references of each hypothesis")
    print("// (`None` where a hypothesis has fewer than the most).")
    print()
    print("use metrics::bleu::Smoothing;")
    print()
    print("/// One corpus with several references per hypothesis, scored by sacreBLEU.")
    print("pub struct MultiRefCase {")
    print("    pub name: &'static str,")
    print("    pub hyps: &'static [&'static str],")
    print("    /// The references of each hypothesis.")
    print("    pub refs: &'static [&'static [&'static str]],")
    print("    pub scores: &'static [Expected],")
    print("}")
    print()
    print("/// sacreBLEU's result for one BLEU-n and smoothing.")
    print("pub struct Expected {")
    print("    pub max_order: usize,")
    print("    pub smoothing: Smoothing,")
    print("    /// Summed segment statistics (without `add-k`'s constant).")
    print("    pub counts: &'static [usize],")
    print("    pub totals: &'static [usize],")
    print("    pub sys_len: usize,")
    print("    pub ref_len: usize,")
    print("    /// `BLEUScore.score`, Python's shortest round-trip repr.")
    print("    pub score: f64,")
    print("    /// `str(BLEUScore)`.")
    print("    pub summary: &'static str,")
    print("}")
    print()
    print("pub const MULTI_REF_CASES: &[MultiRefCase] = &[")
    for name, hyps, refs, settings in HAND_CASES + random_cases(2025, 16):
        print("    MultiRefCase {")
        print(f"        name: {rust_str(name)},")
        print(f"        hyps: {rust_list(hyps, rust_str)},")
        print(f"        refs: {rust_list(refs, lambda r: rust_list(r, rust_str))},")
        print("        scores: &[")
        for max_order, method, value in settings:
            def metric():
                return BLEU(max_ngram_order=max_order, smooth_method=method, smooth_value=value)
            score = metric().corpus_score(hyps, streams(refs))
            if (max_order, method, value) == (4, "exp", None):
                compat = sacrebleu.corpus_bleu(hyps, streams(refs))
                assert (compat.score, str(compat)) == (score.score, str(score)), name
            stats = sum_of_lists(metric()._extract_corpus_statistics(hyps, streams(refs)))
            sys_len, ref_len = stats[0], stats[1]
            counts, totals = stats[2:2 + max_order], stats[2 + max_order:]
            assert (sys_len, ref_len) == (score.sys_len, score.ref_len), name
            print("            Expected {")
            print(f"                max_order: {max_order},")
            print(f"                smoothing: {rust_smoothing(method, value)},")
            print(f"                counts: {rust_list(counts, str)},")
            print(f"                totals: {rust_list(totals, str)},")
            print(f"                sys_len: {sys_len},")
            print(f"                ref_len: {ref_len},")
            print(f"                score: {float(score.score)!r},")
            print(f"                summary: {rust_str(str(score))},")
            print("            },")
        print("        ],")
        print("    },")
    print("];")


if __name__ == "__main__":
    main()
