"""The generator's desk: ask a run's saved generator for digits, and morph one into another.

A generator told which digit to draw (conditional) is asked directly; one that is not is asked
for many and its run's own classifier picks those it reads as the digit. Runs in NumPy (see
npforward), so each request answers in milliseconds inside the Streamlit server.
"""
from __future__ import annotations

import numpy as np

from sgan_core.data.mnist import to_uint8
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
        lo, hi = self.cfg.input_range
        x = images.astype(np.float32)[..., None] / 255.0 * (hi - lo) + lo
        probs = self._classify(x)
        return probs.argmax(-1), probs.max(-1)

    def batch(self, digit: int, seed: int, n: int = 20) -> tuple[np.ndarray, int]:
        """(n images of `digit`, how many latent vectors were tried)."""
        if self.conditional:
            return self._draw(self._latent(seed, n), np.eye(N_CLASSES)[[digit] * n]), n
        images = self._draw(self._latent(seed, POOL))
        read, _ = self.read(images)
        return images[read == digit][:n], POOL

    def morph(self, digit_a: int, digit_b: int, seed_a: int, seed_b: int,
              n: int = 10) -> np.ndarray:
        """n images on the straight line from (seed_a's latent vector, digit_a) to
        (seed_b's, digit_b): the digit blends too when the generator takes one."""
        t = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
        z = (1 - t) * self._latent(seed_a, 1) + t * self._latent(seed_b, 1)
        if not self.conditional:
            return self._draw(z)
        eye = np.eye(N_CLASSES, dtype=np.float32)
        return self._draw(z, (1 - t) * eye[digit_a] + t * eye[digit_b])
