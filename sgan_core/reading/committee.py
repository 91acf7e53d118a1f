"""A committee of runs: several classifiers trained on the same labeled images, read together
by averaging their class probabilities (an ensemble).

Runs trained with different recipes on the same labels can make different mistakes: a cluster
of digits one run reads as the wrong class may be read correctly by another. When two members
share a mistake the committee keeps it (measured in benchmarks/RESULTS.md). Members must share
the labeled images (label budget and seed), or the committee would have seen more labels than
any one of them.
"""
from __future__ import annotations

import numpy as np

from sgan_core.config import ConfigError, RunConfig
from sgan_core.reading.predict import DrawingReader, Prediction, RunModel, classify_images
from sgan_core.runs.rundir import RunDir, RunSummary, UnreadableRun


def member_configs(runs: list[RunDir]) -> list[RunConfig]:
    """The members' configs; ConfigError unless there are members with the same labeled images
    and a saved classifier each."""
    if not runs:
        raise ConfigError("a committee needs at least one run")
    try:
        cfgs = [r.load_config() for r in runs]
    except UnreadableRun as e:
        raise ConfigError(str(e)) from None
    for run in runs:
        if not run.classifier_path.is_file():
            raise ConfigError(f"{run.path}: no saved classifier")
    label_sets = {(c.labels, c.seed) for c in cfgs}
    if len(label_sets) > 1:
        found = ", ".join(f"{n} labels seed {s}" for n, s in sorted(label_sets))
        raise ConfigError(f"committee members must be trained on the same labeled images "
                          f"(label budget and seed); found {found}")
    return cfgs


def average_probabilities(member_probs: list[np.ndarray]) -> np.ndarray:
    """(N, 10) probabilities of each member -> their mean, (N, 10)."""
    return np.mean(np.stack(member_probs), axis=0)


def evaluate(runs: list[RunDir], mnist_path: str | None = None) -> dict:
    """Test accuracy of each member and of the committee: {"members": [...], "committee": acc,
    "images": n, "truth": test digits, "read": the committee's (or the one run's) readings}."""
    from sgan_core.data.mnist import load_mnist
    cfgs = member_configs(runs)
    data = load_mnist(mnist_path or cfgs[0].mnist_path)
    probs = [classify_images(r, data.x_test) for r in runs]

    def accuracy(p):
        return float((p.argmax(-1) == data.y_test).mean())
    together = average_probabilities(probs)
    return {"members": [accuracy(p) for p in probs], "committee": accuracy(together),
            "images": len(data.y_test), "truth": data.y_test, "read": together.argmax(-1)}


def label_groups(summaries: list[RunSummary]) -> dict[tuple, list[RunSummary]]:
    """Readable run summaries with a classifier, grouped by their labeled images (label budget,
    seed); only groups of two or more runs, which can be read together."""
    groups: dict[tuple, list[RunSummary]] = {}
    for r in summaries:
        if r.has_classifier and r.usable:
            groups.setdefault((r.labels, r.seed), []).append(r)
    return {k: v for k, v in sorted(groups.items()) if len(v) >= 2}


class CommitteeModel(DrawingReader):
    """Several RunModels on the same labels read together: the mean of their probabilities.
    Its predictions keep each member's own, as `member_predictions`."""

    def __init__(self, members: list[RunModel]):
        if not members:
            raise ValueError("a committee needs at least one member")
        self.members = members
        self.member_predictions: list[Prediction] = []

    def predict_digit(self, digit_uint8: np.ndarray) -> Prediction:
        self.member_predictions = [m.predict_digit(digit_uint8) for m in self.members]
        probs = average_probabilities([p.probabilities for p in self.member_predictions])
        reals = [p.real_probability for p in self.member_predictions
                 if p.real_probability is not None]
        real = float(np.mean(reals)) if reals else None
        return Prediction(int(probs.argmax()), probs, real, digit_uint8)
