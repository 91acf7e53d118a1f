"""How much do a run's generated digits look like digits? Read by a reference classifier.

    python -m benchmarks.samples RUN_DIR [RUN_DIR ...] [--n 1000]

For each run, N images from its saved generator (latent vectors from a fixed seed) are read by
a reference CNN trained once on all 60,000 labeled MNIST training images. Printed per run:
  - confident: the share of samples the reference reads with probability >= 0.9;
  - score: exp(mean KL(p(y|x) || p(y))) over the samples, as the Inception score (1 to 10;
    10 means every sample is one clear digit and all digits are equally common);
  - digits: the share of samples read as each digit (argmax), with the smallest and largest.
The first line gives the same figures for N real MNIST test images, for scale.

The reference classifier is cached outside the repository ($SGAN_CACHE, default
~/.cache/sgan_lab) and is never used for training nor shipped as a run.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from sgan_core.data import load_mnist
from sgan_core.grids import to_uint8
from sgan_core.models import generator_input
from sgan_core.rundir import RunDir

CACHE = Path(os.environ.get("SGAN_CACHE", Path.home() / ".cache" / "sgan_lab"))
REFERENCE = CACHE / "reference_classifier.keras"
CONFIDENT = 0.9


def reference_classifier():
    """The cached reference CNN, trained (about two minutes on two cores) if missing."""
    import keras
    if REFERENCE.is_file():
        return keras.saving.load_model(REFERENCE, safe_mode=True)
    from keras import layers
    data = load_mnist()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(), layers.Dropout(0.25), layers.Flatten(),
        layers.Dense(128, activation="relu"), layers.Dropout(0.5),
        layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(as_input(data.x_train), data.y_train, batch_size=128, epochs=3, verbose=2)
    _, acc = model.evaluate(as_input(data.x_test), data.y_test, verbose=0)
    CACHE.mkdir(parents=True, exist_ok=True)
    model.save(REFERENCE)
    (CACHE / "reference_classifier.json").write_text(json.dumps({"test_acc": acc}))
    return model


def as_input(images_uint8: np.ndarray) -> np.ndarray:
    return (images_uint8.astype(np.float32) / 255.0)[..., None]


def generated_digits(run: RunDir, n: int, seed: int = 0) -> np.ndarray:
    """n uint8 (28, 28) images from the run's saved generator, as its sample grids show them."""
    import keras
    cfg = run.load_config()
    generator = keras.saving.load_model(run.generator_path, safe_mode=True, compile=False)
    z = np.random.default_rng(seed).standard_normal((n, cfg.latent_dim)).astype(np.float32)
    images = generator.predict(generator_input(cfg, z), batch_size=500, verbose=0)
    return to_uint8(images, cfg.input_range).reshape(n, 28, 28)


def sample_scores(probs: np.ndarray) -> dict:
    """Confident share, classifier score and per-digit shares of (N, 10) probabilities."""
    p_y = probs.mean(axis=0)
    kl = (probs * (np.log(probs + 1e-12) - np.log(p_y + 1e-12))).sum(axis=1)
    shares = np.bincount(probs.argmax(axis=1), minlength=10) / len(probs)
    return {"confident": float((probs.max(axis=1) >= CONFIDENT).mean()),
            "score": float(np.exp(kl.mean())), "digit_shares": shares.tolist()}


def line(name: str, s: dict) -> str:
    shares = s["digit_shares"]
    return (f"{name}: confident {s['confident']:.1%}, score {s['score']:.2f}, digits "
            f"{min(shares):.1%}-{max(shares):.1%} ("
            + " ".join(f"{d}:{v:.0%}" for d, v in enumerate(shares)) + ")")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--n", type=int, default=1000, help="samples per run (default 1000)")
    args = ap.parse_args()
    reference = reference_classifier()
    real = load_mnist().x_test[:args.n]
    print(line(f"real MNIST test images ({len(real)})",
               sample_scores(reference.predict(as_input(real), verbose=0))))
    for path in args.runs:
        run = RunDir(path)
        if not run.generator_path.is_file():
            print(f"{path}: no generator (a supervised run, or not trained yet)")
            continue
        probs = reference.predict(as_input(generated_digits(run, args.n)), verbose=0)
        step = run.read_status().get("step")
        print(line(f"{path} (step {step})", sample_scores(probs)))


if __name__ == "__main__":
    main()
