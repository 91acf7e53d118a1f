"""Which training images should a person label next? The run's own classifier reads a sample
of the images it has no label for. First, kinds of image no label reaches: the sample and the
labeled images are clustered together (data/picks.py's spectral clusters, a few more clusters
than labels); clusters holding no labeled image, the ones the classifier is least sure of
first, each give their most typical image (TypiClust's step, Hacohen et al. 2022, ranked by the
model). Then, if more are wanted, the images it is least sure of (the smallest gap between its
two likeliest digits), spread over clusters so that K asks are K different kinds of image, not
K copies of one confusion. No label of MNIST is read here.
"""
from __future__ import annotations

import numpy as np

from sgan_core.data.mnist import scale_images
from sgan_core.data.picks import features, kmeans, most_typical, spectral_clusters
from sgan_core.reading.predict import load_classifier, numpy_function
from sgan_core.runs.rundir import RunDir

POOL = 10000      # unlabeled images read (a seeded sample): a few seconds in NumPy
SHORTLIST = 10    # the count x this many least sure images are spread over `count` clusters
REACH_POOL = 5000  # of those, clustered with the labeled images (spectral: about 3 s)


def ask(run: RunDir, x_train: np.ndarray, count: int, labeled_index=(), seed: int = 0,
        forward=None) -> np.ndarray:
    """`count` training-set indices whose labels would help the run most now, most useful
    first: kinds of image no label reaches, then uncertain and diverse ones. forward: images
    -> probabilities (default: the run's saved classifier in NumPy)."""
    rng = np.random.default_rng(seed)
    free = np.setdiff1d(np.arange(len(x_train)), np.asarray(labeled_index, np.int64))
    pool = np.sort(rng.choice(free, min(POOL, len(free)), replace=False))
    if forward is None:
        cfg = run.load_config()
        model = numpy_function(load_classifier(run.classifier_path))

        def forward(images):
            return np.concatenate([model(scale_images(images[i:i + 1000], cfg.input_range))
                                   for i in range(0, len(images), 1000)])
    probs = np.asarray(forward(x_train[pool]), np.float64)
    top2 = np.sort(probs, axis=1)[:, -2:]
    gap = top2[:, 1] - top2[:, 0]
    first = unreached(x_train, pool, gap, np.asarray(labeled_index, np.int64), count, rng)
    if len(first) >= count:
        return pool[first[:count]]
    uncertain = uncertain_kinds(x_train, pool, gap, count, rng)
    return pool[np.array([*first, *[i for i in uncertain if i not in set(first)]][:count],
                         np.int64)]


def unreached(x_train, pool, gap, labeled, count: int, rng) -> list[int]:
    """Positions in pool of the most typical image of each cluster no labeled image falls in,
    least sure clusters first (none without labeled images)."""
    if not len(labeled):
        return []
    some = rng.choice(len(pool), min(REACH_POOL, len(pool)), replace=False)
    k = min(len(labeled) + 2 * count, len(some) // 10)
    f, clusters, _ = spectral_clusters(np.concatenate([x_train[pool[some]],
                                                       x_train[labeled]]), k, rng)
    reached = set(clusters[len(some):].tolist())
    free = [j for j in range(k) if j not in reached and (clusters[:len(some)] == j).any()]
    free.sort(key=lambda j: gap[some[clusters[:len(some)] == j]].mean())
    return [int(some[most_typical(f, np.flatnonzero(clusters[:len(some)] == j), rng)])
            for j in free[:count]]


def uncertain_kinds(x_train, pool, gap, count: int, rng) -> list[int]:
    """Positions in pool of the least sure images, one per cluster of a shortlist."""
    shortlist = np.argsort(gap, kind="stable")[:min(len(pool), count * SHORTLIST)]
    if len(shortlist) <= count:
        return shortlist.tolist()
    clusters = kmeans(features(x_train[pool[shortlist]], rng), count, rng)
    chosen = [shortlist[clusters == j][0] for j in range(count) if (clusters == j).any()]
    rest = [i for i in shortlist if i not in set(chosen)]
    chosen += rest[:count - len(chosen)]  # an empty cluster: the next least sure
    return [chosen[i] for i in np.argsort(gap[chosen], kind="stable")]
