"""Which training images get labels: a run's labeled images are chosen here.

`random` is a balanced draw by seed (each digit n // 10 images, the remainder to digits the seed
chooses; it reads the labels to balance them). `typical` reads no label: it clusters a seeded
pool of 10,000 images where MNIST's digits separate (the leading eigenvectors of a 10-nearest-
neighbour graph of deskewed, blurred PCA features: spectral clustering) and picks the most
typical image of each of the n largest clusters (at tiny budgets typical beats uncertain:
Hacohen et al. 2022, "Active learning on a budget"); a person then labels what it picked (in
the CLI and benchmarks MNIST's labels play that person). Measured (benchmarks/pick_coverage.py,
seeds 0-9): at n=10 it covers all ten digits for every seed (the k-means pick before it: 8.4
on average); it can still miss one: LabeledSet.missing_digits says which.

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


POOL = 10000        # images clustered (a seeded sample of the training set): fast, and plenty
FEATURES = 30       # principal components of the deskewed, blurred images
GRAPH = 10          # each image's nearest neighbours in the graph that is clustered
EMBED = 16          # leading eigenvectors of the graph: the space the images are clustered in
RESTARTS = 10       # k-means runs; the tightest wins (one run often merges two digits)
NEIGHBOURS = 20     # typicality: 1 / the mean distance to this many nearest cluster-mates


def typical(data, n_labels: int, seed: int) -> np.ndarray:
    """n_labels training images chosen from the images alone (never data.y_train): spectral
    clusters of a seeded pool (k-means on the leading eigenvectors of its nearest-neighbour
    graph), and the most typical image of each of the n largest."""
    rng = np.random.default_rng(seed)
    pool = np.sort(rng.choice(len(data.x_train), min(POOL, len(data.x_train)), replace=False))
    if n_labels >= len(pool):
        return pool
    f, clusters, dist = spectral_clusters(data.x_train[pool], n_labels, rng)
    chosen = []
    for j in np.argsort(-np.bincount(clusters, minlength=n_labels), kind="stable"):
        members = np.flatnonzero(clusters == j)
        if len(members) == 0:
            break
        chosen.append(most_typical(f, members, rng))
    spare = [i for i in np.argsort(dist.mean(1), kind="stable") if i not in set(chosen)]
    chosen += spare[: n_labels - len(chosen)]  # only when k-means left a cluster empty
    return np.sort(pool[chosen])


def spectral_clusters(images: np.ndarray, k: int, rng) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """(features, cluster of each image, distances to its graph neighbours): k-means, the
    tightest of RESTARTS, on the leading eigenvectors of the images' nearest-neighbour graph."""
    f = features(images, rng)
    near, dist = _neighbours(f, min(GRAPH, len(images) - 1))
    z = _spectral(near, min(EMBED, len(images) - 1), rng)
    best = None
    for _ in range(RESTARTS):
        clusters = kmeans(z, k, rng)
        spread = sum(((z[clusters == j] - z[clusters == j].mean(0)) ** 2).sum()
                     for j in np.unique(clusters))
        if best is None or spread < best[0]:
            best = spread, clusters
    return f, best[1], dist


def most_typical(f: np.ndarray, members: np.ndarray, rng) -> int:
    """The member in the densest place among its cluster-mates (1 / mean distance to its
    NEIGHBOURS nearest)."""
    if len(members) == 1:
        return int(members[0])
    mates = members if len(members) <= 3000 else rng.choice(members, 3000, replace=False)
    k = min(NEIGHBOURS, len(mates) - 1)
    d = np.sort(_distances(f[members], f[mates]), 1)[:, 1:k + 2].mean(1)
    return int(members[d.argmin()])


def _neighbours(f: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest other rows and their distances, 2,000 rows at a time."""
    near = np.empty((len(f), k), np.int64)
    dist = np.empty((len(f), k), np.float32)
    f = f.astype(np.float32)
    sq = (f ** 2).sum(1)
    for s in range(0, len(f), 2000):
        d = sq[None] - 2 * f[s:s + 2000] @ f.T  # each row's distances^2 less a constant
        d[np.arange(len(d)), np.arange(s, s + len(d))] = np.inf
        near[s:s + 2000] = np.argpartition(d, k, 1)[:, :k]
        dist[s:s + 2000] = np.take_along_axis(d, near[s:s + 2000], 1)
    dist = np.sqrt(np.maximum(dist + sq[:, None], 0))
    return near, dist


def _spectral(near: np.ndarray, dim: int, rng, depth: int = 20) -> np.ndarray:
    """Rows of the dim leading eigenvectors of D^-1/2 W D^-1/2 (W: the symmetrised
    neighbour graph), found by block Krylov iteration and Rayleigh-Ritz, each row scaled to
    length 1 (Ng, Jordan and Weiss 2001)."""
    n, k = near.shape
    rows = np.r_[np.repeat(np.arange(n), k), near.ravel()]
    cols = np.r_[near.ravel(), np.repeat(np.arange(n), k)]
    order = np.argsort(rows, kind="stable")
    rows, cols = rows[order], cols[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    scale = 1 / np.sqrt(np.bincount(rows, minlength=n))[:, None]

    def walk(x):
        return scale * np.add.reduceat((scale * x)[cols], starts, 0)

    x = _orthonormal(rng.standard_normal((n, dim + 4)))
    basis, images = [], []
    for _ in range(depth + 1):
        basis.append(x)
        images.append(walk(x))
        x = images[-1] - sum(b @ (b.T @ images[-1]) for b in basis[-2:])
        x = _orthonormal(x)
    b = np.hstack(basis)
    s, u = np.linalg.eigh(b.T @ b)
    w = u[:, s > s.max() * 1e-9] / np.sqrt(s[s > s.max() * 1e-9])
    h = w.T @ (b.T @ np.hstack(images)) @ w
    _, v = np.linalg.eigh((h + h.T) / 2)
    z = b @ (w @ v[:, ::-1][:, :dim])
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


def _orthonormal(x: np.ndarray) -> np.ndarray:
    s, u = np.linalg.eigh(x.T @ x)
    keep = s > s.max() * 1e-10
    return x @ (u[:, keep] / np.sqrt(s[keep]))


def features(images: np.ndarray, rng) -> np.ndarray:
    """Label-free features of uint8 images: deskewed (as LeCun's MNIST error tables did),
    blurred, projected on their first principal components."""
    x = _blur(_deskew(images.astype(np.float32) / 255.0)).reshape(len(images), -1)
    sample = x[rng.choice(len(x), min(len(x), 10000), replace=False)]
    mean = sample.mean(0)
    centred = sample - mean
    # the principal axes from the 784 x 784 covariance: the SVD's axes, 10 times faster
    _, axes = np.linalg.eigh(centred.T @ centred)
    return (x - mean) @ axes[:, ::-1][:, :FEATURES]


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
DEFAULT_PICK = "random"  # what the New run form and the CLI start from (benchmarks/picks.py)
TYPICAL_MAX = 1000  # past this a typical pick is slow (k-means with that many clusters) and
                    # typical stops paying: it is for tiny budgets (Hacohen et al. 2022)
# where a run's labeled images came from when no pick chose them (labeled.npz written first)
GIVEN = ("drawn", "file", "asked")
