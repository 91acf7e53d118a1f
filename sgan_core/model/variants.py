"""The discriminator variants, each described once: its raw logits, real/fake logit and classes.

Every discriminator outputs `raw` logits, 10 class logits first:
  stacked, selftrain,
  supervised:          10 class logits; P(real) = Z / (Z + 1) with Z = sum exp(l)
                       (Salimans et al. 2016), so the real/fake logit is logsumexp(l);
  shared:              10 class logits + 1 real/fake logit from a second head on one trunk;
  multi:               11 logits, the 11th meaning "fake" (Odena 2016); P(real) = the softmax
                       mass of the 10 digits, so the real/fake logit is logsumexp(l_:10) - l_fake.
`split_logits` works on TensorFlow tensors and NumPy arrays alike, so training and the Draw
page's NumPy inference read a variant the same way. No TensorFlow import here: the dashboard
uses this module without it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_CLASSES = 10


def _logsumexp(x):
    if isinstance(x, np.ndarray):
        m = x.max(axis=-1, keepdims=True)
        return (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))[..., 0]
    from keras import ops
    return ops.logsumexp(x, axis=-1)


@dataclass(frozen=True)
class Variant:
    name: str
    help: str
    is_gan: bool = True
    unlabeled: bool = True           # learns from unlabeled images (the game, pseudo-labels)
    title: str = ""                  # how the dashboard names it (default: the name)
    extra_logit: str | None = None   # the 11th logit: "real" (shared), "fake" (multi) or none

    @property
    def label(self) -> str:
        return self.title or self.name.capitalize()

    @property
    def raw_width(self) -> int:
        return N_CLASSES + (self.extra_logit is not None)

    def split_logits(self, raw):
        """(class_logits[N, 10], real_logit[N]) with sigmoid(real_logit) = P(image is real)."""
        if isinstance(raw, np.ndarray):
            raw = raw.astype(np.float64)
        class_logits = raw[:, :N_CLASSES]
        if self.extra_logit == "real":
            return class_logits, raw[:, N_CLASSES]
        lse = _logsumexp(class_logits)
        if self.extra_logit == "fake":
            return class_logits, lse - raw[:, N_CLASSES]
        return class_logits, lse

    def supervised_logits(self, raw):
        """The logits the labeled images' cross-entropy is taken over: for multi all 11
        (a labeled digit is also "not fake"), otherwise the 10 digits."""
        return raw if self.extra_logit == "fake" else raw[:, :N_CLASSES]


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("stacked", "Scores each of the 10 digits; an image that scores high on any digit "
            "counts as real (Salimans et al. 2016)."),
    Variant("shared", "One network with two outputs: which digit, and real or generated.",
            extra_logit="real"),
    Variant("multi", "Eleven classes: the 10 digits plus 'generated' (Odena 2016).",
            extra_logit="fake"),
    Variant("selftrain", "The GAN's recipe with the real/fake game switched off: the classifier "
            "learns from the labels and its own confident readings of unlabeled images.",
            is_gan=False, title="Self-training (no game)"),
    Variant("supervised", "Baseline: the same classifier trained on the labeled images only, "
            "no GAN.", is_gan=False, unlabeled=False),
)}
GAN_VARIANTS = tuple(name for name, v in VARIANTS.items() if v.is_gan)


def is_gan_variant(name) -> bool:
    """Whether a variant name, as read from a run's config.json, names a GAN variant."""
    variant = VARIANTS.get(name) if isinstance(name, str) else None
    return variant is not None and variant.is_gan
