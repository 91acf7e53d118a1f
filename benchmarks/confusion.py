"""Where a trained run goes wrong: per-digit test accuracy and its most frequent confusions.

    python -m benchmarks.confusion RUN_DIR [RUN_DIR ...]

Loads each run's exported classifier (the weight-averaged model, as the Draw page does) and
classifies all 10,000 MNIST test images.
"""
from __future__ import annotations

import argparse

import numpy as np

from sgan_core.data.mnist import load_mnist
from sgan_core.reading.predict import classify_images
from sgan_core.runs.rundir import RunDir


def confusion(run: RunDir, x_test: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    probs = classify_images(run, x_test)
    matrix = np.zeros((10, 10), np.int64)
    np.add.at(matrix, (y_test, probs.argmax(-1)), 1)
    return matrix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--top", type=int, default=6, help="confusions to list")
    args = ap.parse_args()
    data = load_mnist()
    for path in args.runs:
        m = confusion(RunDir(path), data.x_test, data.y_test)
        errors = m.sum() - np.trace(m)
        print(f"{path}: {np.trace(m) / m.sum():.2%} correct, {errors} errors")
        print("  per digit: " + "  ".join(f"{d}: {m[d, d] / m[d].sum():.1%}" for d in range(10)))
        off = [(m[t, p], t, p) for t in range(10) for p in range(10) if t != p and m[t, p]]
        top = sorted(off, reverse=True)[:args.top]
        print("  most confused (true -> predicted: count): "
              + ", ".join(f"{t}->{p}: {n}" for n, t, p in top))


if __name__ == "__main__":
    main()
