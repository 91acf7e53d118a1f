"""How the model learns, recorded by the trainer at each full evaluation (`insight/` in the run
directory) and read back, as untrusted files, by the pages and the CLI. Nothing trains from it.

- The labels it gives itself: on a fixed sample of unlabeled training images, the share the
  teacher (the weight-averaged discriminator) is sure enough of to label, by the run's own
  per-digit bars (model/bars.py), and the share of those labels that are right. MNIST's labels of
  these images are read here for this display only; they never reach the training step. A run
  that does not self-train is measured at the flat bar (pseudo_threshold), as a yardstick.
- The map of fixed test images, the labeled images and the sample grid's generated images, in
  two layouts: what the teacher believes (each digit's probability pulls an image towards that
  digit's corner of a decagon: RadViz, whose fixed corners never flip) and what it sees (its
  penultimate features projected to 2-D by a PCA of the test images' features, turned and
  scaled to match the previous snapshot). A 2-D linear view of the features mixes most digits
  (2,000 test images at 96%: a point's 10 nearest neighbours name its digit 53% of the time,
  against 93% on the belief layout), so the belief layout is the one shown first.
- Mistakes: the confusion matrix on every test image, and the misread images, surest first.

Files: insight/points.npz (once: the map's test images, the labeled images, their digits) and
insight/step_XXXXXX.npz (one snapshot per full evaluation).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from sgan_core.data.mnist import to_uint8
from sgan_core.files import atomic_write_bytes
from sgan_core.model.bars import adaptive_bars, align_readings
from sgan_core.model.variants import N_CLASSES

MAP_POINTS = 2000      # test images on the map
# unlabeled training images the self-label shares are measured on: 3,000 give a share of 95% to
# +-0.4 points (one standard error) at under a third of the cost of 10,000 (0.65 s a snapshot,
# which alone would spend 7% of a `fast` run's time: benchmarks/insight_cost.py)
SELF_SAMPLE = 3_000
MAX_LABELED = 500      # labeled images on the map (budgets are usually far smaller)
MAX_MISTAKES = 500     # misread test images kept per snapshot, surest first
SAMPLE_SEED = 20261203
_ANGLES = np.pi / 2 - 2 * np.pi * np.arange(N_CLASSES) / N_CLASSES
CORNERS = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], 1)  # digit d's corner, 0 at the top
MAX_FILE_BYTES = 50_000_000


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def pca_basis(feats: np.ndarray, k: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(mean, top-k principal directions (k, d)) by a randomized range finder (Halko et al.
    2011): a few matrix products instead of a full SVD of a 2,000 x 2,048 matrix."""
    mean = feats.mean(0)
    x = feats - mean
    y = x @ np.random.default_rng(seed).standard_normal((x.shape[1], k + 10)).astype(x.dtype)
    y, _ = np.linalg.qr(x @ (x.T @ y))  # one power iteration sharpens the leading directions
    q, _ = np.linalg.qr(y)
    _, _, vt = np.linalg.svd(q.T @ x, full_matrices=False)
    return mean, vt[:k]


def aligned(test: np.ndarray, others: list[np.ndarray], previous: np.ndarray | None):
    """Scale the test points to unit RMS radius and turn (rotate or mirror) everything to best
    match the previous snapshot's test points (orthogonal Procrustes)."""
    scale = float(np.sqrt((test ** 2).sum(1).mean())) or 1.0
    turn = np.eye(2)
    if previous is not None and previous.shape == test.shape:
        u, _, vt = np.linalg.svd((test / scale).T @ previous)
        turn = u @ vt
    return [(a / scale) @ turn for a in [test, *others]]


def teacher_readings(raw: np.ndarray, bars: np.ndarray, mean_probs: np.ndarray | None):
    """(digit read, sure?) per image, as the training step's teacher decides: probabilities
    aligned by the running mean when the run aligns them, then the bar of the digit read."""
    probs = softmax(raw[:, :N_CLASSES].astype(np.float64))
    if mean_probs is not None:
        probs = align_readings(probs, mean_probs, np)
    read = probs.argmax(-1)
    return read, probs.max(-1) > bars[read]


def current_bars(cfg, sure_share: np.ndarray | None) -> np.ndarray:
    """The per-digit bars the teacher uses now (model/bars.py's adaptive thresholds), or the flat
    pseudo_threshold."""
    tau = cfg.pseudo_threshold
    if sure_share is None:
        return np.full(N_CLASSES, tau)
    return adaptive_bars(tau, sure_share, np)


def confusion_matrix(truth: np.ndarray, read: np.ndarray) -> np.ndarray:
    """Counts (10, 10): row = the true digit, column = the digit read."""
    matrix = np.zeros((N_CLASSES, N_CLASSES), np.int64)
    np.add.at(matrix, (np.asarray(truth, np.int64), np.asarray(read, np.int64)), 1)
    return matrix


def top_confusions(matrix: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    """The k most frequent (true digit, read as, count) mistakes, most frequent first."""
    off = matrix * (1 - np.eye(N_CLASSES, dtype=matrix.dtype))
    order = np.argsort(-off, axis=None, kind="stable")[:k]
    return [(int(t), int(r), int(off[t, r])) for t, r in
            zip(*np.unravel_index(order, off.shape)) if off[t, r] > 0]


def per_digit_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Share of each true digit read right (NaN for a digit with no images)."""
    totals = matrix.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


class Recorder:
    """Owned by the trainer; `record()` after each full evaluation returns the metrics row's
    self-label fields and writes the snapshot."""

    def __init__(self, trainer, data):
        t, cfg = trainer, trainer.cfg
        self.trainer, self.cfg = t, cfg
        lab_idx = t.batches.lab_idx
        pool = np.setdiff1d(np.arange(len(data.y_train)), lab_idx)
        pick = np.sort(np.random.default_rng(SAMPLE_SEED).choice(
            pool, min(SELF_SAMPLE, len(pool)), replace=False))
        self.unl_x = t.batches.x_train[pick]
        self._hidden_digits = data.y_train[pick]  # display only: never passed to training
        self.train_size = len(data.y_train)
        self.x_test_uint8 = data.x_test
        self.n_map = min(MAP_POINTS, len(data.y_test))
        self.x_lab, self.y_lab = t.batches.x_lab[:MAX_LABELED], t.batches.y_lab[:MAX_LABELED]
        self.self_training = bool(cfg.variant_spec.unlabeled and cfg.pseudo_weight > 0)
        self.previous = None
        files = t.run.insight_files()
        if files:  # a resumed run keeps turning its map the way it was
            try:
                self.previous = read_snapshot(files[-1][1])["map_test"]
            except InsightError:
                pass
        if not t.run.insight_points_path.is_file():
            write_npz(t.run.insight_points_path, test_images=data.x_test[:self.n_map],
                      test_digits=data.y_test[:self.n_map].astype(np.uint8),
                      labeled_images=data.x_train[lab_idx][:MAX_LABELED],
                      labeled_digits=data.y_train[lab_idx][:MAX_LABELED].astype(np.uint8))

    def record(self, test_raw: np.ndarray, map_features: np.ndarray) -> dict:
        """test_raw: the full evaluation's raw logits on every test image; map_features: the
        penultimate features of the map's test images, read in the same pass."""
        t = self.trainer
        fields, self_part = self._self_labels()
        snapshot = dict(step=np.int64(t.step), **self_part, **self._mistakes(test_raw),
                        **self._map(test_raw[:self.n_map], map_features))
        write_npz(t.run.insight_dir / f"step_{t.step:06d}.npz", **snapshot)
        return fields

    def _self_labels(self):
        cfg, pseudo = self.cfg, self.trainer.sgan.pseudo
        own = self.self_training
        share = pseudo.sure_share.numpy() if own and cfg.pseudo_adaptive else None
        bars = current_bars(cfg, share)
        mean = pseudo.mean_probs.numpy() if own and cfg.pseudo_align else None
        raw = self.trainer.sgan.read(self.unl_x)
        read, sure = teacher_readings(raw, bars, mean)
        right = sure & (read == self._hidden_digits)
        fields = {"self_labeled": float(sure.mean()) if len(sure) else 0.0}
        if sure.any():
            fields["self_label_acc"] = float(right.sum() / sure.sum())
        return fields, dict(
            self_sample=np.int64(len(sure)), train_size=np.int64(self.train_size),
            self_training=np.bool_(own), self_bars=bars.astype(np.float32),
            self_by_digit=np.bincount(read[sure], minlength=N_CLASSES).astype(np.int64),
            self_right_by_digit=np.bincount(read[right], minlength=N_CLASSES).astype(np.int64))

    def _mistakes(self, test_raw: np.ndarray) -> dict:
        y = self.trainer.y_test
        probs = softmax(test_raw[:, :N_CLASSES].astype(np.float64))
        read, conf = probs.argmax(-1), probs.max(-1)
        confusion = confusion_matrix(y, read)
        wrong = np.flatnonzero(read != y)
        wrong = wrong[np.argsort(-conf[wrong], kind="stable")][:MAX_MISTAKES]
        return dict(confusion=confusion, mistake_index=wrong.astype(np.int64),
                    mistake_truth=y[wrong].astype(np.uint8),
                    mistake_read=read[wrong].astype(np.uint8),
                    mistake_conf=conf[wrong].astype(np.float32),
                    mistake_images=self.x_test_uint8[wrong])

    def _map(self, test_raw: np.ndarray, test_feats: np.ndarray) -> dict:
        t, cfg = self.trainer, self.cfg
        parts = [self.x_lab]
        fakes = t.fixed_samples()
        if fakes is not None:
            parts.append(fakes)
        feats, raw = t.sgan.features(np.concatenate(parts))
        feats = np.concatenate([test_feats, feats]).reshape(self.n_map + len(feats), -1)
        raw = np.concatenate([test_raw, raw])
        mean, basis = pca_basis(feats[:self.n_map])
        coords = (feats - mean) @ basis.T
        n_lab = len(self.x_lab)
        test, lab, fake = np.split(coords.astype(np.float64), [self.n_map, self.n_map + n_lab])
        test, lab, fake = aligned(test, [lab, fake], self.previous)
        self.previous = test
        read = raw[:, :N_CLASSES].argmax(-1)
        belief = softmax(raw[:, :N_CLASSES].astype(np.float64)) @ CORNERS
        b_test, b_lab, b_fake = np.split(belief, [self.n_map, self.n_map + n_lab])
        out = dict(map_test=test.astype(np.float32), map_labeled=lab.astype(np.float32),
                   belief_test=b_test.astype(np.float32),
                   belief_labeled=b_lab.astype(np.float32),
                   belief_fake=b_fake.astype(np.float32),
                   map_test_read=read[:self.n_map].astype(np.uint8),
                   map_fake=fake.astype(np.float32),
                   map_fake_read=read[self.n_map + n_lab:].astype(np.uint8))
        if fakes is not None:
            asked = np.arange(len(fakes)) % N_CLASSES if cfg.conditional else \
                np.full(len(fakes), -1)
            out.update(map_fake_asked=asked.astype(np.int8),
                       fake_images=to_uint8(fakes, cfg.input_range).reshape(-1, 28, 28))
        return out


def write_npz(path: Path, **arrays) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


# ---------------------------------------------------------------- reading (untrusted files)
class InsightError(ValueError):
    """An insight file that cannot be used; the message says which and why."""


# name: (dtype kind, shape with None for any length)
SNAPSHOT_ARRAYS = {
    "step": ("i", ()), "self_sample": ("i", ()), "train_size": ("i", ()),
    "self_training": ("b", ()), "self_bars": ("f", (N_CLASSES,)),
    "self_by_digit": ("i", (N_CLASSES,)), "self_right_by_digit": ("i", (N_CLASSES,)),
    "confusion": ("i", (N_CLASSES, N_CLASSES)), "mistake_index": ("i", (None,)),
    "mistake_truth": ("u", (None,)), "mistake_read": ("u", (None,)), "mistake_conf": ("f", (None,)),
    "mistake_images": ("u", (None, 28, 28)), "map_test": ("f", (None, 2)),
    "map_labeled": ("f", (None, 2)), "map_test_read": ("u", (None,)),
    "map_fake": ("f", (None, 2)), "map_fake_read": ("u", (None,)),
    "belief_test": ("f", (None, 2)), "belief_labeled": ("f", (None, 2)),
    "belief_fake": ("f", (None, 2)),
}
GENERATOR_ARRAYS = {"map_fake_asked": ("i", (None,)), "fake_images": ("u", (None, 28, 28))}
POINTS_ARRAYS = {"test_images": ("u", (None, 28, 28)), "test_digits": ("u", (None,)),
                 "labeled_images": ("u", (None, 28, 28)), "labeled_digits": ("u", (None,))}


def _fits(a: np.ndarray, kind: str, shape: tuple) -> bool:
    kinds = ("i", "u") if kind == "i" else (kind,)
    return (a.dtype.kind in kinds and a.ndim == len(shape)
            and all(want is None or want == got for want, got in zip(shape, a.shape)))


def _load(path: Path, required: dict, optional: dict) -> dict:
    name = f"{path.parent.name}/{path.name}"
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InsightError(f"{name} is too large to be SGAN Lab's")
        if not zipfile.is_zipfile(path):
            raise InsightError(f"{name} is damaged (not an .npz file)")
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files if k in required or k in optional}
    except InsightError:
        raise
    except Exception as e:  # zip and npy errors come in many types; all mean "unreadable"
        raise InsightError(f"{name} cannot be read ({type(e).__name__})") from None
    missing = [k for k in required if k not in arrays]
    if missing:
        raise InsightError(f"{name} lacks {', '.join(missing)}")
    for key, a in arrays.items():
        kind, shape = {**required, **optional}[key]
        if not _fits(a, kind, shape):
            raise InsightError(f"{name}: {key} has shape {a.shape} and type {a.dtype}")
        if kind == "f" and not np.isfinite(a).all():
            raise InsightError(f"{name}: {key} holds values that are not numbers")
    return arrays


def read_snapshot(path) -> dict:
    """One full evaluation's arrays (SNAPSHOT_ARRAYS, and GENERATOR_ARRAYS for a GAN)."""
    a = _load(Path(path), SNAPSHOT_ARRAYS, GENERATOR_ARRAYS)
    same_length = [("mistake_index", "mistake_truth", "mistake_read", "mistake_conf",
                    "mistake_images"), ("map_test", "map_test_read", "belief_test"),
                   ("map_labeled", "belief_labeled"), ("map_fake", "map_fake_read", "belief_fake")]
    digits = ("mistake_truth", "mistake_read", "map_test_read")
    if any(len({len(a[k]) for k in group}) > 1 for group in same_length) \
            or (a["confusion"] < 0).any() \
            or any(a[k].max(initial=0) >= N_CLASSES for k in digits):
        raise InsightError(f"{Path(path).name}: its arrays do not agree with each other")
    return a


def read_points(path) -> dict:
    a = _load(Path(path), POINTS_ARRAYS, {})
    if len(a["test_images"]) != len(a["test_digits"]) or \
            len(a["labeled_images"]) != len(a["labeled_digits"]):
        raise InsightError(f"{Path(path).name}: its arrays do not agree with each other")
    return a
