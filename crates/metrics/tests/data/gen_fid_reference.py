"""Prints the reference Fréchet distances used by tests/image_metrics.rs.

The formula and numerics are pytorch-fid's (`calculate_frechet_distance` in
pytorch_fid/fid_score.py): `np.cov(rowvar=False)` covariances and
`scipy.linalg.sqrtm` of `sigma1 @ sigma2`. Produced with numpy 2.4 and
scipy 1.17:

    python3 -m venv /tmp/fidvenv && /tmp/fidvenv/bin/pip install numpy scipy
    /tmp/fidvenv/bin/python crates/metrics/tests/data/gen_fid_reference.py

The feature sets are integer formulas (exact in binary floating point) that
the Rust test rebuilds, so no data has to be copied between the two.
"""

import numpy as np
from scipy import linalg


def features(rows, dim, a, b, c, modulus):
    return np.array(
        [[((a * i * i + b * i * j + c * j * j + 1) % modulus) / 4.0 for j in range(dim)]
         for i in range(rows)]
    )


def frechet_distance(x, y):
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    sigma1, sigma2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        raise SystemExit("sqrtm failed; pick other data")
    covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


# (name, first set, second set), each set as (rows, dim, a, b, c, modulus).
CASES = [
    ("dim4", (12, 4, 3, 5, 1, 13), (9, 4, 2, 7, 3, 11)),
    ("dim6", (20, 6, 1, 3, 2, 17), (15, 6, 5, 1, 4, 19)),
]

for name, first, second in CASES:
    print(f"{name}: {float(frechet_distance(features(*first), features(*second)))!r}")
