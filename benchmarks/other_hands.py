"""Ten digits in someone else's handwriting as the only labeled images.

    pip install scikit-learn   # only for its bundled copy of the UCI handwritten digits
    python -m benchmarks.other_hands [--seeds 0 1 2] [--steps 1100] [--variants stacked selftrain]
                                     [--hand uci|drawn]

The UCI "optical recognition of handwritten digits" set (43 writers, none of them MNIST's;
8 x 8 images, 17 grey levels) ships inside scikit-learn. For each seed one image of each digit
is drawn from it, enlarged and prepared exactly as a drawing on the Draw page is
(sgan_core.data.canvas.to_mnist: cropped, scaled to 20 pixels, centred by mass in 28 x 28),
written to an npz and trained on with `python -m sgan_core train --labels-file`; the unlabeled
images are MNIST's 60,000 and the test MNIST's 10,000. Prints each run's test accuracy.

--hand drawn instead: the ten one-stroke digits the Teach page's browser test draws on the
canvas (tests/test_teach_browser.py), each seed a different hand: the strokes turned, scaled and
slanted at random (up to 12 degrees, 80-110%, a slant of 0.25) and drawn 14-22 px wide on the
280 x 280 canvas, then prepared as the canvas's drawings are.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from sgan_core.data.canvas import to_mnist


def ten_digits(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    digits = load_digits()
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for d in range(10):
        i = rng.choice(np.flatnonzero(digits.target == d))
        big = Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8)).resize(
            (64, 64), Image.Resampling.BILINEAR)
        framed = np.zeros((96, 96), np.uint8)  # a blank border, as a canvas has
        framed[16:80, 16:80] = np.asarray(big)
        images.append(to_mnist(framed))
        labels.append(d)
    return np.stack(images), np.array(labels)


def drawn_digits(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from PIL import ImageDraw

    from tests.test_teach_browser import DIGIT_STROKES
    rng = np.random.default_rng(seed)
    images = []
    for stroke in DIGIT_STROKES:
        turn = np.radians(rng.uniform(-12, 12))
        sx, sy, slant = rng.uniform(0.8, 1.1), rng.uniform(0.8, 1.1), rng.uniform(-0.25, 0.25)
        m = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]) @ \
            np.array([[sx, slant], [0, sy]])
        points = (np.array(stroke) - 140) @ m.T + 140
        canvas = Image.new("L", (280, 280), 0)
        ImageDraw.Draw(canvas).line([tuple(p) for p in points], fill=255,
                                    width=int(rng.integers(14, 23)), joint="curve")
        images.append(to_mnist(np.asarray(canvas)))
    return np.stack(images), np.arange(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=1100)
    ap.add_argument("--variants", nargs="+", default=["stacked", "selftrain"])
    ap.add_argument("--out", type=Path, default=Path("/tmp/sgan_other_hands"))
    ap.add_argument("--hand", choices=["uci", "drawn"], default="uci")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        images, labels = (ten_digits if args.hand == "uci" else drawn_digits)(seed)
        path = args.out / f"{args.hand}_ten_s{seed}.npz"
        np.savez(path, images=images, labels=labels)
        for variant in args.variants:
            run_id = f"{variant}-{args.hand}10-s{seed}"
            subprocess.run(["rm", "-rf", str(args.out / run_id)], check=True)
            subprocess.run([sys.executable, "-m", "sgan_core", "train", "--preset", "fast",
                            "--labels-file", str(path), "--variant", variant,
                            "--seed", str(seed), "--steps", str(args.steps), "--runs-dir",
                            str(args.out), "--run-id", run_id, "--quiet"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            status = json.loads((args.out / run_id / "status.json").read_text())
            rate = status["step"] / max(status["elapsed_s"], 1e-9)
            print(f"{run_id:24s} {100 * status['test_acc']:6.2f}%  {status['step']} steps  "
                  f"{status['elapsed_s']:.0f} s ({rate:.1f} steps/s)", flush=True)


if __name__ == "__main__":
    main()
