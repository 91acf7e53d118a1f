"""Training batches, assembled in NumPy from one seeded generator.

Each step takes labeled images (cycled an epoch at a time in shuffled order, augmented),
unlabeled images drawn from the whole training set (the teacher sees them as they are, the
student an augmented copy) and latent vectors for the generator. The generator's state and
the labeled queue are part of the checkpoint, so a resumed run continues the same stream.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sgan_core.data.augment import affine_images, shift_images
from sgan_core.data.labeled import LabeledSet, from_training_set
from sgan_core.data.mnist import DataError, Mnist, scale_images
from sgan_core.data.picks import PICKS


class Batch(NamedTuple):
    x_lab: np.ndarray      # labeled images, augmented
    y_lab: np.ndarray
    x_unl: np.ndarray      # unlabeled images as the student sees them
    z: np.ndarray          # latent vectors
    x_unl_clean: np.ndarray  # the same unlabeled images as the teacher sees them


def pick_labels(cfg, data: Mnist) -> LabeledSet:
    """The labeled images a run's pick chooses from the training set; MNIST's labels play the
    person who labels them."""
    if cfg.labels > len(data.y_train):
        raise DataError(f"label budget {cfg.labels} exceeds the {len(data.y_train)} training "
                        f"images in {data.source}")
    index = PICKS[cfg.pick](data, cfg.labels, cfg.seed)
    return from_training_set(data.x_train, data.y_train[index], index)


class Batches:
    def __init__(self, cfg, data: Mnist, labeled: LabeledSet | None = None):
        self.cfg = cfg  # a config.RunConfig
        labeled = labeled or pick_labels(cfg, data)
        self.background = float(cfg.input_range[0])
        self.x_train = scale_images(data.x_train, cfg.input_range)
        self.lab_idx = labeled.index
        self.x_lab = scale_images(labeled.images, cfg.input_range)
        self.y_lab = labeled.labels.astype(np.int32)
        self.rng = np.random.default_rng(cfg.seed + 1)
        self.lab_queue = np.zeros(0, dtype=np.int64)

    def augment(self, x: np.ndarray) -> np.ndarray:
        if self.cfg.strong_augment:
            return affine_images(x, self.rng, self.background)
        return shift_images(x, self.cfg.augment_shift, self.rng, self.background)

    def _labeled(self):
        cfg = self.cfg
        n = cfg.labeled_batch or (min(cfg.batch_size, len(self.x_lab)) if cfg.uses_unlabeled
                                  else cfg.batch_size)
        while len(self.lab_queue) < n:
            self.lab_queue = np.concatenate([self.lab_queue, self.rng.permutation(len(self.x_lab))])
        idx, self.lab_queue = self.lab_queue[:n], self.lab_queue[n:]
        return self.augment(self.x_lab[idx]), self.y_lab[idx]

    def next(self) -> Batch:
        x_lab, y_lab = self._labeled()
        bs = self.cfg.batch_size
        if not self.cfg.uses_unlabeled:  # the baseline spends no time on images it never uses
            none = x_lab[:0]
            return Batch(x_lab, y_lab, none, np.zeros((0, self.cfg.latent_dim), np.float32), none)
        x_clean = x_unl = self.x_train[self.rng.integers(0, len(self.x_train), bs)]
        if self.cfg.augment_unlabeled:
            x_unl = self.augment(x_unl)
        n_fake = self.cfg.fake_batch or bs
        z = self.rng.standard_normal((n_fake, self.cfg.latent_dim)).astype(np.float32)
        return Batch(x_lab, y_lab, x_unl, z, x_clean)

    def state(self) -> dict:
        return {"rng": self.rng.bit_generator.state, "lab_queue": self.lab_queue.tolist()}

    def restore(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.lab_queue = np.asarray(state["lab_queue"], dtype=np.int64)
