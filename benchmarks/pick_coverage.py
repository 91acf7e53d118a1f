"""How good are the labels a pick chooses, before any training: random balanced vs the old
`typical` (k-means into 2N on PCA features, farthest-point) vs today's (spectral clusters).

    python -m benchmarks.pick_coverage [--labels 10 20 50] [--seeds 0 1 ... 9]

MNIST's labels are read here only to score the picks: digits covered (of 10), and the test
accuracy of a 1-nearest-neighbour and a nearest-centroid classifier that know only the N
picked images and their labels (PCA-50 of deskewed, blurred images). Also the seconds a pick
took (on a shared machine, so compare within one run).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from sgan_core.data import picks as P
from sgan_core.data.mnist import load_mnist


def old_typical(data, n_labels: int, seed: int) -> np.ndarray:
    """The pick before spectral clusters (commit 4eed843), kept here to compare."""
    rng = np.random.default_rng(seed)
    pool = np.sort(rng.choice(len(data.x_train), min(20000, len(data.x_train)), replace=False))
    f = P.features(data.x_train[pool], rng)
    k = min(len(pool), 2 * n_labels)
    clusters = P.kmeans(f, k, rng)
    cand, score = [], []
    for j in range(k):
        members = np.flatnonzero(clusters == j)
        if len(members) == 0:
            continue
        if len(members) > 2000:
            members = rng.choice(members, 2000, replace=False)
        dist = P._distances(f[members], f[members])
        near = np.sort(dist, 1)[:, 1:21].mean(1) if len(members) > 1 else np.ones(1)
        cand.append(members[near.argmin()])
        score.append(1.0 / max(near.min(), 1e-9))
    cand, score = np.array(cand), np.array(score)
    chosen = [int(np.argmax(score))]
    gap = np.linalg.norm(f[cand] - f[cand[chosen[0]]], axis=1)
    while len(chosen) < min(n_labels, len(cand)):
        chosen.append(int(np.argmax(gap)))
        gap = np.minimum(gap, np.linalg.norm(f[cand] - f[cand[chosen[-1]]], axis=1))
    return np.sort(pool[cand[chosen]])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, nargs="+", default=[10, 20, 50])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    args = ap.parse_args()
    m = load_mnist()
    prep = [P._blur(P._deskew(x.astype(np.float32) / 255)).reshape(len(x), -1)
            for x in (m.x_train, m.x_test)]
    sample = prep[0][np.random.default_rng(123).choice(len(prep[0]), 10000, replace=False)]
    mean = sample.mean(0)
    _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
    ftr, fte = ((x - mean) @ vt[:50].T for x in prep)

    def score(idx):
        y = m.y_train[idx]
        nn = (y[P._distances(fte, ftr[idx]).argmin(1)] == m.y_test).mean()
        cents = np.array([ftr[idx][y == c].mean(0) if (y == c).any() else np.full(50, 1e9)
                          for c in range(10)])
        nc = (P._distances(fte, cents).argmin(1) == m.y_test).mean()
        return len(set(y.tolist())), nn, nc

    picks = {"random": P.random_balanced, "old typical": old_typical, "typical": P.typical}
    print(f"{'N':>3} {'pick':<12} {'digits':>6} {'min':>4} {'1-NN':>6} {'centroid':>8} "
          f"{'s/pick':>6}   digits per seed")
    for n in args.labels:
        for name, pick in picks.items():
            rows, secs = [], []
            for seed in args.seeds:
                t = time.perf_counter()
                idx = pick(m, n, seed)
                secs.append(time.perf_counter() - t)
                rows.append(score(idx))
            r = np.array(rows)
            print(f"{n:>3} {name:<12} {r[:, 0].mean():>6.1f} {r[:, 0].min():>4.0f} "
                  f"{r[:, 1].mean():>6.3f} {r[:, 2].mean():>8.3f} {np.mean(secs):>6.1f}   "
                  f"{' '.join(str(int(c)) for c in r[:, 0])}", flush=True)


if __name__ == "__main__":
    main()
