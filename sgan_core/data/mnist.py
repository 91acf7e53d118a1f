"""MNIST loading with validation, input scaling, and balanced label budgets.

Search order for the data file: an explicit path (argument or `SGAN_MNIST`), the copy shipped in
the project (`data/mnist.npz`) and the Keras cache. Nothing is downloaded.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sgan_core import PROJECT_ROOT

SHIPPED_MNIST = PROJECT_ROOT / "data" / "mnist.npz"
KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"

KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataError(RuntimeError):
    """The MNIST file is missing or not what it should be; the message names the file."""


@dataclass
class Mnist:
    x_train: np.ndarray  # uint8 (60000, 28, 28)
    y_train: np.ndarray  # int64 (60000,)
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def validate_arrays(arrays: dict, source: str) -> None:
    """Raise DataError unless arrays hold MNIST-shaped uint8 images with labels 0..9.

    Slices of MNIST (fewer images) are accepted, so tests can use small files.
    """
    for key in KEYS:
        if key not in arrays:
            raise DataError(f"{source}: missing array {key!r} (has {sorted(arrays)})")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or x.shape[0] == 0:
            raise DataError(f"{source}: x_{split} has shape {x.shape}, expected (N, 28, 28)")
        if x.dtype != np.uint8:
            raise DataError(f"{source}: x_{split} has dtype {x.dtype}, expected uint8")
        if y.shape != (x.shape[0],):
            raise DataError(f"{source}: y_{split} has shape {y.shape}, expected ({x.shape[0]},)")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{source}: y_{split} has dtype {y.dtype}, expected integers")
        if y.min() < 0 or y.max() > 9:
            raise DataError(f"{source}: y_{split} has labels outside 0..9 "
                            f"(min {y.min()}, max {y.max()})")


def read_npz(path: str | os.PathLike) -> Mnist:
    path = str(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):  # np.load would try it as a pickle and say so
        raise DataError(f"{path}: not a readable .npz file (expected a zip of the NumPy arrays "
                        f"x_train, y_train, x_test, y_test)")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as e:  # zip/npy errors come in many types; all mean "unreadable"
        raise DataError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    validate_arrays(arrays, path)
    return Mnist(arrays["x_train"], arrays["y_train"].astype(np.int64),
                 arrays["x_test"], arrays["y_test"].astype(np.int64), source=path)


def find_mnist(path: str | None = None) -> str | None:
    """The first MNIST file that exists in the search order, or None."""
    explicit = path or os.environ.get("SGAN_MNIST")
    if explicit:
        return explicit  # an explicit choice is used, or fails, but is never silently skipped
    for candidate in (SHIPPED_MNIST, KERAS_CACHE):
        if candidate.is_file():
            return str(candidate)
    return None


def load_mnist(path: str | None = None) -> Mnist:
    """MNIST from the first file found; nothing is ever downloaded (the app works offline, and
    the web server must not import Keras)."""
    found = find_mnist(path)
    if found is None:
        raise DataError(f"no MNIST file found ({SHIPPED_MNIST}, {KERAS_CACHE}). Set SGAN_MNIST "
                        "or pass --mnist PATH.")
    return read_npz(found)


def scale_images(x_uint8: np.ndarray, input_range=(-1.0, 1.0)) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 (N, 28, 28, 1) in input_range."""
    lo, hi = input_range
    x = x_uint8.astype(np.float32) / 255.0 * (hi - lo) + lo
    return x.reshape(x.shape[0], 28, 28, 1)


def to_uint8(images: np.ndarray, input_range=(-1.0, 1.0)) -> np.ndarray:
    """scale_images' inverse: network inputs (or generated images) back to 0..255 pixels."""
    lo, hi = input_range
    x = (np.asarray(images, dtype=np.float32) - lo) / (hi - lo)
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)
