"""A run's labeled images, whatever their source, and the labeled sets a person keeps.

A `LabeledSet` is uint8 images (N, 28, 28; white digit on black, as MNIST), their digits, and
for each its position in the training set (`index`, -1 for an image from elsewhere, e.g. one
drawn). Every run keeps its own in `labeled.npz`; a person's sets (drawn on the canvas, or a
file of someone else's handwriting) are files of the same format. Every file read here is
untrusted: a bad one gets one sentence (LabelsError) and is never half used.
"""
from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sgan_core.data.mnist import DataError
from sgan_core.files import atomic_write_bytes

N_DIGITS = 10
MAX_IMAGES = 60000
SET_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,59}")  # always with fullmatch
SETS_FOLDER = ".labelsets"  # beside the run directories (a name no run id can take)


class LabelsError(DataError):
    """A labels file that cannot be used; the message says which and why, in one line."""


@dataclass(frozen=True)
class LabeledSet:
    images: np.ndarray   # uint8 (N, 28, 28)
    labels: np.ndarray   # int64 (N,), 0..9
    index: np.ndarray    # int64 (N,): position in the training set, -1 from elsewhere

    def __len__(self) -> int:
        return len(self.labels)

    def missing_digits(self) -> list[int]:
        return sorted(set(range(N_DIGITS)) - set(self.labels.tolist()))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, images=self.images, labels=self.labels, index=self.index)
        return buf.getvalue()

    def plus(self, other: LabeledSet) -> LabeledSet:
        """This set and other's images, an image of the training set never twice."""
        keep = ~np.isin(other.index, self.index[self.index >= 0]) | (other.index < 0)
        return LabeledSet(np.concatenate([self.images, other.images[keep]]),
                          np.concatenate([self.labels, other.labels[keep]]),
                          np.concatenate([self.index, other.index[keep]]))


def from_training_set(x_train: np.ndarray, labels, index) -> LabeledSet:
    index = np.asarray(index, np.int64)
    return LabeledSet(np.asarray(x_train[index], np.uint8), np.asarray(labels, np.int64), index)


def check(images, labels, index=None, name: str = "labels file", complete: bool = True,
          n_train: int = MAX_IMAGES) -> LabeledSet:
    """A LabeledSet from arrays, or LabelsError naming the first problem. complete: every
    digit must have an image (a run learns only the digits it is shown)."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise LabelsError(f"{name}: images has shape {images.shape}, expected (N, 28, 28)")
    if images.dtype != np.uint8:
        raise LabelsError(f"{name}: images has dtype {images.dtype}, expected uint8 (0-255, "
                          "white digit on black)")
    if len(images) == 0:
        raise LabelsError(f"{name}: it holds no images")
    if len(images) > MAX_IMAGES:
        raise LabelsError(f"{name}: {len(images)} images, at most {MAX_IMAGES}")
    if labels.shape != (len(images),):
        raise LabelsError(f"{name}: labels has shape {labels.shape}, expected ({len(images)},)")
    if np.issubdtype(labels.dtype, np.floating) and not np.isfinite(labels).all():
        raise LabelsError(f"{name}: labels holds NaN or infinite values")
    if not (np.issubdtype(labels.dtype, np.integer) or (
            np.issubdtype(labels.dtype, np.floating) and (labels == np.round(labels)).all())):
        raise LabelsError(f"{name}: labels has dtype {labels.dtype}, expected whole numbers")
    if labels.min() < 0 or labels.max() > 9:
        raise LabelsError(f"{name}: a label outside 0-9 (min {labels.min():g}, "
                          f"max {labels.max():g})")
    index = np.full(len(images), -1) if index is None else np.asarray(index)
    if index.shape != labels.shape or not np.issubdtype(index.dtype, np.integer) \
            or index.min() < -1 or index.max() >= n_train:
        raise LabelsError(f"{name}: index must be one whole number per image, -1 or a position "
                          f"in the {n_train} training images")
    out = LabeledSet(images, labels.astype(np.int64), index.astype(np.int64))
    if complete and out.missing_digits():
        missing = ", ".join(map(str, out.missing_digits()))
        raise LabelsError(f"{name}: no image of digit {missing}; a run learns only the digits "
                          "it is shown")
    return out


def read(path, complete: bool = True, n_train: int = MAX_IMAGES) -> LabeledSet:
    """A labels file (`images`, `labels`, optional `index`) checked as untrusted input."""
    name = Path(path).name
    if not os.path.isfile(path):
        raise LabelsError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise LabelsError(f"{name}: not an .npz file (save one with numpy.savez(path, "
                          "images=..., labels=...))")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files if k in ("images", "labels", "index")}
    except Exception as e:  # zip/npy errors come in many types; all mean "unreadable"
        raise LabelsError(f"{name}: not a readable .npz file ({type(e).__name__})") from None
    for key in ("images", "labels"):
        if key not in arrays:
            raise LabelsError(f"{name}: no array named {key!r}")
    return check(arrays["images"], arrays["labels"], arrays.get("index"), name, complete,
                 n_train)


# ---------- a person's labeled sets, kept beside the runs ----------
def sets_dir(runs_dir) -> Path:
    return Path(runs_dir) / SETS_FOLDER


def check_set_name(name: str) -> str:
    name = str(name).strip()
    if not SET_NAME_RE.fullmatch(name):
        raise LabelsError("a set's name is 1-60 letters, digits, spaces, '.', '_' or '-', "
                          "starting with a letter or digit")
    return name


def set_path(runs_dir, name: str) -> Path:
    return sets_dir(runs_dir) / f"{check_set_name(name)}.npz"


def save_set(runs_dir, name: str, labeled: LabeledSet) -> Path:
    path = set_path(runs_dir, name)
    atomic_write_bytes(path, labeled.to_bytes())
    return path


def list_sets(runs_dir) -> list[str]:
    folder = sets_dir(runs_dir)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.npz") if SET_NAME_RE.fullmatch(p.stem))


def delete_set(runs_dir, name: str) -> None:
    set_path(runs_dir, name).unlink(missing_ok=True)
