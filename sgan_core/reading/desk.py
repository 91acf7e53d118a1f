"""The generator's desk: ask a run's saved generator for digits, and morph one into another.

A generator told which digit to draw (conditional) is asked directly; one that is not is asked
for many and its run's own classifier picks those it reads as the digit. Runs in NumPy (see
npforward), so each request answers in milliseconds inside the Streamlit server.
"""
from __future__ import annotations

import numpy as np

from sgan_core.data.mnist import scale_images, to_uint8
from sgan_core.model.variants import N_CLASSES
from sgan_core.reading.predict import (
    ModelLoadError,
    load_classifier,
    load_model_file,
    model_shapes,
    numpy_function,
)
from sgan_core.runs.rundir import RunDir, UnreadableRun

POOL = 400  # latent vectors tried per request of an unconditional generator


class Desk:
    def __init__(self, run: RunDir):
        try:
            self.cfg = run.load_config()
        except UnreadableRun as e:
            raise ModelLoadError(f"{run.id}: {e.reason}.") from None
        if not self.cfg.is_gan:
            raise ModelLoadError(f"{run.id} has no generator (a supervised run).")
        model = load_model_file(run.generator_path)
        width = self.cfg.latent_dim + (N_CLASSES if self.cfg.conditional else 0)
        if model_shapes(model) != ((None, width), (None, 28, 28, 1)):
            raise ModelLoadError(f"{run.id}/generator.keras is not this run's generator "
                                 f"(shapes {model_shapes(model)}).")
        self.conditional = self.cfg.conditional
        self._generate = numpy_function(model)
        self._classify = numpy_function(load_classifier(run.classifier_path))

    def _latent(self, seed: int, n: int) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal(
            (n, self.cfg.latent_dim)).astype(np.float32)

    def _draw(self, z: np.ndarray, digits: np.ndarray | None = None) -> np.ndarray:
        """Images (n, 28, 28) uint8 for latent vectors z; digits: one-hot rows (or blends)."""
        x = z if digits is None else np.concatenate([z, digits.astype(np.float32)], 1)
        return to_uint8(self._generate(x), self.cfg.input_range).reshape(-1, 28, 28)

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The run's classifier on uint8 images: (digit read, probability of it)."""
        probs = self._classify(scale_images(images, self.cfg.input_range))
        return probs.argmax(-1), probs.max(-1)

    def batch(self, digit: int, seed: int, n: int = 20) -> tuple[np.ndarray, int]:
        """(n images of `digit`, how many latent vectors were tried)."""
        if self.conditional:
            return self._draw(self._latent(seed, n), np.eye(N_CLASSES)[[digit] * n]), n
        images = self._draw(self._latent(seed, POOL))
        read, _ = self.read(images)
        return images[read == digit][:n], POOL

    def morph_inputs(self, digit_a: int, digit_b: int, seed_a: int, seed_b: int,
                     n: int = 10) -> tuple[np.ndarray, np.ndarray | None]:
        """What the generator is told for the n frames of a morph: (latent vectors (n, latent),
        digit inputs (n, 10), None for a generator that takes no digit)."""
        def path(t):
            return self._path(digit_a, digit_b, seed_a, seed_b, t)

        t = np.linspace(0.0, 1.0, max(n, FIRST_POINTS))
        images = self._draw(*path(t))
        # where one step between points changes the picture by more than half a frame's share,
        # look between them, until the path is fine enough or MOST_POINTS are drawn
        while len(t) < MOST_POINTS:
            change = _changes(images)
            wide = np.flatnonzero(change > change.sum() / (2 * (n - 1)))[:MOST_POINTS - len(t)]
            if not len(wide) or change.sum() <= 0:
                break
            middles = (t[wide] + t[wide + 1]) / 2
            t = np.concatenate([t, middles])
            images = np.concatenate([images, self._draw(*path(middles))])
            order = np.argsort(t, kind="stable")
            t, images = t[order], images[order]
        return path(t[even_frames(images, n)])

    def morph(self, digit_a: int, digit_b: int, seed_a: int, seed_b: int,
              n: int = 10) -> np.ndarray:
        """n images from (seed_a's latent vector, digit_a) to (seed_b's, digit_b): both what
        the generator is told to draw and its noise move along the path, the digit input as a
        linear blend of the two one-hot vectors. The frames are spaced so that each differs
        from the one before by about as much as any other: where the generator changes
        quickly, the frames sit closer together on the path."""
        return self._draw(*self.morph_inputs(digit_a, digit_b, seed_a, seed_b, n))

    def _path(self, digit_a, digit_b, seed_a, seed_b, t):
        """The generator's inputs at the fractions t of the way: the noise on the great circle
        between the two latent vectors (it keeps the length a Gaussian vector has, where a
        straight line passes through short, blurry ones), the digit blended linearly."""
        t = np.asarray(t, np.float32)[:, None]
        z = slerp(self._latent(seed_a, 1)[0], self._latent(seed_b, 1)[0], t)
        if not self.conditional:
            return z, None
        eye = np.eye(N_CLASSES, dtype=np.float32)
        return z, (1 - t) * eye[digit_a] + t * eye[digit_b]


FIRST_POINTS = 17   # points first drawn on a morph's path, from which its frames are picked
MOST_POINTS = 129   # at most this many, more of them where the picture changes fast


def _changes(images: np.ndarray) -> np.ndarray:
    """How much the picture changes from each image to the next: mean absolute pixel change."""
    steps = np.abs(np.diff(images.astype(np.float32), axis=0))
    return steps.reshape(len(images) - 1, -1).mean(axis=1)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points at the fractions t (n, 1) of the way from vector a to b along the great circle
    (a straight line when they are parallel), as float32 (n, len(a))."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    cos = np.dot(a64, b64) / max(np.linalg.norm(a64) * np.linalg.norm(b64), 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    t = np.asarray(t, np.float64)
    if omega < 1e-6:
        return ((1 - t) * a64 + t * b64).astype(np.float32)
    return ((np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64)
            / np.sin(omega)).astype(np.float32)


def even_frames(images: np.ndarray, n: int) -> np.ndarray:
    """Indices of n of a dense path's images, first and last included, spaced evenly by how
    much the picture changes along the path (the sum of mean absolute pixel changes)."""
    travelled = np.concatenate([[0.0], np.cumsum(_changes(images))])
    if travelled[-1] <= 0:  # nothing changes: even steps on the path
        return np.linspace(0, len(images) - 1, n).round().astype(int)
    wanted = np.linspace(0.0, travelled[-1], n)
    pick = np.abs(travelled[None, :] - wanted[:, None]).argmin(axis=1)
    pick[0], pick[-1] = 0, len(images) - 1
    for i in range(1, n):  # never the same point twice (a jump wider than a frame's share)
        pick[i] = max(pick[i], pick[i - 1] + 1)
    for i in range(n - 2, -1, -1):
        pick[i] = min(pick[i], pick[i + 1] - 1)
    return pick
