"""Which training images should a person label next? The run's own classifier reads a sample
of the images it has no label for; the ones it is least sure of (the smallest gap between its
two likeliest digits), spread over the label-free clusters of data/picks.py so that K asks are
K different kinds of image, not K copies of one confusion. No label of MNIST is read here.
"""
from __future__ import annotations

import numpy as np

from sgan_core.data.mnist import scale_images
from sgan_core.data.picks import features, kmeans
from sgan_core.reading.predict import load_classifier, numpy_function
from sgan_core.runs.rundir import RunDir

POOL = 10000      # unlabeled images read (a seeded sample): a few seconds in NumPy
SHORTLIST = 10    # the count x this many least sure images are spread over `count` clusters


def ask(run: RunDir, x_train: np.ndarray, count: int, labeled_index=(), seed: int = 0,
        forward=None) -> np.ndarray:
    """`count` training-set indices whose labels would help the run most now, most useful
    first: uncertain and diverse. forward: images -> probabilities (default: the run's saved
    classifier in NumPy)."""
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
    shortlist = np.argsort(gap, kind="stable")[:min(len(pool), count * SHORTLIST)]
    if len(shortlist) <= count:
        return pool[shortlist]
    clusters = kmeans(features(x_train[pool[shortlist]], rng), count, rng)
    chosen = [shortlist[clusters == j][0] for j in range(count) if (clusters == j).any()]
    rest = [i for i in shortlist if i not in set(chosen)]
    chosen += rest[:count - len(chosen)]  # an empty cluster: the next least sure
    return pool[np.array(chosen)][np.argsort(gap[chosen], kind="stable")]
