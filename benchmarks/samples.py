"""How much do a run's generated digits look like digits? Read by a reference classifier.

    python -m benchmarks.samples RUN_DIR [RUN_DIR ...] [--n 1000]

For each run, N images from its saved generator (latent vectors from a fixed seed) are read by
a reference CNN trained once on all 60,000 labeled MNIST training images. Printed per run:
  - confident: the share of samples the reference reads with probability >= 0.9;
  - score: exp(mean KL(p(y|x) || p(y))) over the samples, as the Inception score (1 to 10;
    10 means every sample is one clear digit and all digits are equally common);
  - digits: the share of samples read as each digit (argmax), with the smallest and largest;
  - diversity: within each digit, the mean pairwise distance between the reference's hidden
    features (its 128-unit layer) of samples it reads as that digit, over the same for real
    test images of that digit, averaged over the digits (1.0: as varied as real handwriting;
    read it with the confident share: messy samples spread too);
  - FD: the Frechet distance between the hidden features of the samples and of N real test
    images (FID's formula in the reference CNN's features, not Inception's).
The first lines give the same figures for N real MNIST test and training images: the floor
that samples from a perfect generator would reach.

The reference classifier is cached outside the repository ($SGAN_CACHE, default
~/.cache/sgan_lab) and is never used for training nor shipped as a run.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from sgan_core.data.mnist import load_mnist, to_uint8
from sgan_core.model.networks import generator_input
from sgan_core.runs.rundir import RunDir

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


def hidden_features(reference, images_uint8: np.ndarray, batch: int = 500) -> np.ndarray:
    """The reference's 128 hidden features (the layer before its last dropout and softmax)."""
    x, out = as_input(images_uint8), []
    for i in range(0, len(x), batch):
        h = x[i:i + batch]
        for layer in reference.layers[:-2]:
            h = layer(h, training=False)
        out.append(np.asarray(h))
    return np.concatenate(out).astype(np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) between two sets of feature rows.
    Tr (S_a S_b)^1/2 is the sum of the square roots of the eigenvalues of
    S_a^1/2 S_b S_a^1/2, which is symmetric: NumPy's eigh, no scipy."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_root)


def mean_pairwise_distance(feats: np.ndarray) -> float | None:
    """Mean Euclidean distance over all pairs of rows; None for fewer than two."""
    n = len(feats)
    if n < 2:
        return None
    sq = (feats ** 2).sum(1)
    d2 = np.clip(sq[:, None] + sq[None, :] - 2 * feats @ feats.T, 0, None)
    return float(np.sqrt(d2)[np.triu_indices(n, 1)].mean())


def within_digit_spread(feats: np.ndarray, digits: np.ndarray) -> list[float | None]:
    """Per digit 0-9, the mean pairwise feature distance among the images read as it."""
    return [mean_pairwise_distance(feats[digits == d]) for d in range(10)]


def diversity(spread: list, real_spread: list) -> float:
    """Within-digit spread over the real images', averaged over the digits the samples have
    at least two of (a digit never drawn counts 0: missing digits are no diversity)."""
    ratios = [0.0 if s is None else s / r for s, r in zip(spread, real_spread) if r]
    return float(np.mean(ratios))


def sample_scores(probs: np.ndarray) -> dict:
    """Confident share, classifier score and per-digit shares of (N, 10) probabilities."""
    p_y = probs.mean(axis=0)
    kl = (probs * (np.log(probs + 1e-12) - np.log(p_y + 1e-12))).sum(axis=1)
    shares = np.bincount(probs.argmax(axis=1), minlength=10) / len(probs)
    return {"confident": float((probs.max(axis=1) >= CONFIDENT).mean()),
            "score": float(np.exp(kl.mean())), "digit_shares": shares.tolist()}


def line(name: str, s: dict) -> str:
    shares = s["digit_shares"]
    extra = "".join(f", {key} {s[key]:.2f}" for key in ("diversity", "FD") if key in s)
    return (f"{name}: confident {s['confident']:.1%}, score {s['score']:.2f}{extra}, digits "
            f"{min(shares):.1%}-{max(shares):.1%} ("
            + " ".join(f"{d}:{v:.0%}" for d, v in enumerate(shares)) + ")")


class Floor:
    """The real test images' features and per-digit spread, which samples are measured
    against, and the scores of real images themselves."""

    def __init__(self, reference, n: int):
        data = load_mnist()
        self.reference = reference
        test, train = data.x_test[:n], data.x_train[:n]
        self.test_feats = hidden_features(reference, test)
        self.test_spread = within_digit_spread(self.test_feats,
                                               self.read(test).argmax(1))
        train_scores = self.scores(train)
        self.train_fd = train_scores["FD"]
        self.lines = [line(f"real MNIST test images ({len(test)})", self.scores(test)),
                      line(f"real MNIST training images ({len(train)})", train_scores)]

    def read(self, images: np.ndarray) -> np.ndarray:
        return self.reference.predict(as_input(images), batch_size=500, verbose=0)

    def scores(self, images: np.ndarray) -> dict:
        probs, feats = self.read(images), hidden_features(self.reference, images)
        spread = within_digit_spread(feats, probs.argmax(1))
        return {**sample_scores(probs), "diversity": diversity(spread, self.test_spread),
                "FD": frechet_distance(feats, self.test_feats)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--n", type=int, default=2000,
                    help="samples per run, and real images of each kind (default 2000)")
    args = ap.parse_args()
    floor = Floor(reference_classifier(), args.n)
    print("\n".join(floor.lines))
    for path in args.runs:
        run = RunDir(path)
        if not run.generator_path.is_file():
            print(f"{path}: no generator (a supervised run, or not trained yet)")
            continue
        step = run.read_status().get("step")
        scores = floor.scores(generated_digits(run, args.n))
        print(line(f"{path} (step {step})", scores)
              + f"; FD {scores['FD'] / floor.train_fd:.1f}x real training images'")


if __name__ == "__main__":
    main()
