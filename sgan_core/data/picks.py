"""Which training images get labels: a run's labeled images are chosen here.

`random` is a balanced draw by seed (each digit n // 10 images, the remainder to digits the seed
chooses). A new way to pick the labeled images is one more function here, named in PICKS, and
the `pick` setting of RunConfig chooses it.
"""
from __future__ import annotations

import numpy as np


def label_budget_indices(y: np.ndarray, n_labels: int, seed: int) -> np.ndarray:
    """Indices of n_labels training images balanced over the 10 digits, reproducible by seed.

    Each digit gets n_labels // 10 images; the remainder goes to digits chosen by the seed.
    """
    rng = np.random.default_rng(seed)
    per_class = np.full(10, n_labels // 10)
    per_class[rng.permutation(10)[: n_labels % 10]] += 1
    picked = []
    for digit in range(10):
        pool = np.flatnonzero(y == digit)
        take = min(per_class[digit], len(pool))
        picked.append(rng.choice(pool, take, replace=False))
    idx = np.concatenate(picked)
    short = n_labels - len(idx)
    if short > 0:  # only when a digit has fewer images than its share (budgets near 60000)
        rest = np.setdiff1d(np.arange(len(y)), idx)
        idx = np.concatenate([idx, rng.choice(rest, short, replace=False)])
    return np.sort(idx)


def random_balanced(data, n_labels: int, seed: int) -> np.ndarray:
    """Today's pick: a balanced draw by seed (it reads the labels to balance the digits)."""
    return label_budget_indices(data.y_train, n_labels, seed)


# name -> pick(data: mnist.Mnist, n_labels, seed) -> sorted indices into the training set
PICKS = {"random": random_balanced}
