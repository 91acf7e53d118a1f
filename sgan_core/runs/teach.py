"""Runs made from labels a person gives: a set they drew or a file (`--labels-file`), and a
run taught from another with the images that run asked for (`--from RUN --add-labels`).

A new run's labeled images go into its labeled.npz before it is queued; a taught run also gets
its parent's last checkpoint as init.npz (its weights: training/trainer.py starts from them).
Its config records where the labels came from (`pick`: drawn, file or asked), their name, and
the parent, so every table can say so.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from sgan_core.config import ConfigError, RunConfig, check
from sgan_core.data.labeled import LabeledSet, from_training_set, read
from sgan_core.runs.rundir import RunDir


def run_files(cfg: RunConfig, labeled: LabeledSet, parent: RunDir | None = None) -> dict:
    """The files a run on given labels starts with: its labeled.npz and, taught from a
    parent, the parent's last checkpoint as init.npz (create_run / launcher.start_run)."""
    if len(labeled) != cfg.labels:
        raise ConfigError(f"labels is {cfg.labels} but the set holds {len(labeled)} images")
    files = {"labeled.npz": labeled.to_bytes()}
    if parent is not None:
        files["init.npz"] = (parent.ckpt_dir / "state.npz").read_bytes()
    return files


def given_config(cfg: RunConfig, labeled: LabeledSet, source: str, name: str | None) -> RunConfig:
    """cfg for training on a given set: its size is the label budget."""
    return check(dataclasses.replace(cfg, labels=len(labeled), pick=source, labels_name=name))


def parse_answers(text: str, n_train: int) -> dict[int, int]:
    """{training-set index: digit} from "I=D,I=D,..."; ConfigError names a bad pair."""
    answers = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        i, sep, d = part.partition("=")
        if not sep or not i.strip().isdigit() or not d.strip().isdigit():
            raise ConfigError(f"--add-labels takes INDEX=DIGIT pairs, got {part.strip()!r}")
        i, d = int(i), int(d)
        if not 0 <= i < n_train or not 0 <= d <= 9:
            raise ConfigError(f"{part.strip()!r}: the index must be from 0 to {n_train - 1} "
                              "and the digit from 0 to 9")
        answers[i] = d
    if not answers:
        raise ConfigError("--add-labels names no image")
    return answers


def taught_set(parent: RunDir, answers: dict[int, int], x_train: np.ndarray) -> LabeledSet:
    """The parent's labeled images and the new answers (an image it already had is kept as
    it was)."""
    if not parent.labeled_path.is_file():
        raise ConfigError(f"run {parent.id} has no labeled.npz yet (it has not started)")
    old = read(parent.labeled_path, complete=False, n_train=len(x_train))
    index = np.array(sorted(answers), np.int64)
    return old.plus(from_training_set(x_train, [answers[i] for i in index], index))


def child_config(parent: RunDir, labeled: LabeledSet, **overrides) -> RunConfig:
    """The parent's recipe on the labels it had plus the ones it asked for."""
    if not (parent.ckpt_dir / "state.npz").is_file():
        raise ConfigError(f"run {parent.id} has no checkpoint to start from yet")
    cfg = parent.load_config()
    changes = {k: v for k, v in overrides.items() if v is not None}
    return check(dataclasses.replace(cfg, labels=len(labeled), pick="asked", labels_name=None,
                                     parent=parent.id, sweep=None, **changes))
