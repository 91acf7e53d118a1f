"""Which training images get labels: a run's labeled images are chosen here.

`random` is a balanced draw by seed (each digit n // 10 images, the remainder to digits the seed
chooses; it reads the labels to balance them). `typical` reads no label: it picks the most
typical image of each of the densest, most distinct clusters of the images alone (at tiny
budgets typical beats uncertain: Hacohen et al. 2022, "Active learning on a budget"); a person
then labels what it picked (in the CLI and benchmarks MNIST's labels play that person). It can
miss a digit: LabeledSet.missing_digits says which.

A new way to pick the labeled images is one more function here, named in PICKS, and the `pick`
setting of RunConfig chooses it.
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


POOL = 20000        # images clustered (a seeded sample of the training set): fast, and plenty
FEATURES = 30       # principal components of the deskewed, blurred images
NEIGHBOURS = 20     # typicality: 1 / the mean distance to this many nearest neighbours


def typical(data, n_labels: int, seed: int) -> np.ndarray:
    """n_labels training images chosen from the images alone (never data.y_train): k-means
    into 2n clusters of label-free features, each cluster's most typical image, then n of those
    as far from each other as they can be, starting from the most typical."""
    rng = np.random.default_rng(seed)
    pool = np.sort(rng.choice(len(data.x_train), min(POOL, len(data.x_train)), replace=False))
    f = features(data.x_train[pool], rng)
    k = min(len(pool), 2 * n_labels)
    clusters = kmeans(f, k, rng)
    cand, score = [], []
    for j in range(k):
        members = np.flatnonzero(clusters == j)
        if len(members) == 0:
            continue
        if len(members) > 2000:
            members = rng.choice(members, 2000, replace=False)
        dist = _distances(f[members], f[members])
        near = np.sort(dist, 1)[:, 1:NEIGHBOURS + 1].mean(1) if len(members) > 1 \
            else np.ones(1)
        cand.append(members[near.argmin()])
        score.append(1.0 / max(near.min(), 1e-9))
    cand, score = np.array(cand), np.array(score)
    chosen = [int(np.argmax(score))]
    gap = np.linalg.norm(f[cand] - f[cand[chosen[0]]], axis=1)
    while len(chosen) < min(n_labels, len(cand)):
        chosen.append(int(np.argmax(gap)))
        gap = np.minimum(gap, np.linalg.norm(f[cand] - f[cand[chosen[-1]]], axis=1))
    return np.sort(pool[cand[chosen]])


def features(images: np.ndarray, rng) -> np.ndarray:
    """Label-free features of uint8 images: deskewed (as LeCun's MNIST error tables did),
    blurred, projected on their first principal components."""
    x = _blur(_deskew(images.astype(np.float32) / 255.0)).reshape(len(images), -1)
    sample = x[rng.choice(len(x), min(len(x), 10000), replace=False)]
    mean = sample.mean(0)
    _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
    return (x - mean) @ vt[:FEATURES].T


def kmeans(f: np.ndarray, k: int, rng, iterations: int = 25) -> np.ndarray:
    """Cluster of each row (k-means++ start, Lloyd's iterations)."""
    centres = [f[rng.integers(len(f))]]
    d2 = ((f - centres[0]) ** 2).sum(1)
    for _ in range(k - 1):
        centres.append(f[rng.choice(len(f), p=d2 / d2.sum())] if d2.sum() > 0
                       else f[rng.integers(len(f))])
        d2 = np.minimum(d2, ((f - centres[-1]) ** 2).sum(1))
    centres = np.array(centres)
    for _ in range(iterations):
        assign = _distances(f, centres).argmin(1)
        for j in range(k):
            members = f[assign == j]
            if len(members):
                centres[j] = members.mean(0)
    return _distances(f, centres).argmin(1)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a ** 2).sum(1)[:, None] - 2 * a @ b.T + (b ** 2).sum(1)[None]
    return np.sqrt(np.maximum(d2, 0))


def _deskew(im: np.ndarray) -> np.ndarray:
    """Shear each image so that its ink's principal axis stands upright and centred."""
    r, c = np.mgrid[:28, :28].astype(np.float32)
    total = im.sum((1, 2)) + 1e-6
    mr = (im * r).sum((1, 2)) / total
    mc = (im * c).sum((1, 2)) / total
    dr = r[None] - mr[:, None, None]
    cov = (im * dr * (c[None] - mc[:, None, None])).sum((1, 2)) / total
    var = (im * dr ** 2).sum((1, 2)) / total + 1e-6
    src = c[None] + (cov / var)[:, None, None] * (r[None] - 14) + (mc[:, None, None] - 14)
    left = np.floor(src).astype(np.int64)
    w = src - left
    out = np.zeros_like(im)
    for cols, weight in ((left, 1 - w), (left + 1, w)):
        inside = (cols >= 0) & (cols < 28)
        out += np.where(inside, np.take_along_axis(im, np.clip(cols, 0, 27), 2) * weight, 0)
    return out


def _blur(im: np.ndarray) -> np.ndarray:
    out = im.copy()
    out[:, :, 1:-1] = (im[:, :, :-2] + 2 * im[:, :, 1:-1] + im[:, :, 2:]) / 4
    im = out.copy()
    out[:, 1:-1] = (im[:, :-2] + 2 * im[:, 1:-1] + im[:, 2:]) / 4
    return out


# name -> pick(data: mnist.Mnist, n_labels, seed) -> sorted indices into the training set
PICKS = {"random": random_balanced, "typical": typical}
# where a run's labeled images came from when no pick chose them (labeled.npz written first)
GIVEN = ("drawn", "file", "asked")
