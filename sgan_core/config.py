"""Run configuration: one small dataclass holding every setting of a run, plus named presets.

A preset fixes the network and optimiser; the run chooses labels, variant, seed and length.
The whole config is written to `config.json` in the run directory, so a run can be re-created,
resumed or evaluated from that file alone.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from sgan_core.data import DATASETS
from sgan_core.data.picks import GIVEN, PICKS, TYPICAL_MAX
from sgan_core.model.variants import VARIANTS, Variant
from sgan_core.values import MAX_INT, finite_or_none

ARCHS = ("mlp", "cnn", "tutorial")
GENERATORS = ("mlp", "dcgan", "tutorial")
GENERATOR_LOSSES = ("feature_matching", "nonsat")
MIN_LABELS, MAX_LABELS = 10, 60000
CONFIG_LIMIT = 1e300              # any finite setting may be asked for (1e30 diverges, honestly)
MAX_SEED = 2**32 - 1                # NumPy's seeds are 32-bit and not negative
DEFAULT_THREADS = 2                 # a run's TensorFlow threads: on 2 cores, one run at a time
TUPLE_FIELDS = ("input_range", "cnn_filters")  # lists in config.json, tuples in RunConfig
# The step count of a run trained by the clock alone: far more steps than any time budget holds.
CLOCK_STEPS = 10**6


@dataclass
class RunConfig:
    """Every setting of a run, flat in config.json and read in the groups of GROUPS."""
    # --- what it learns from ---
    dataset: str = "mnist"            # data/__init__.py's DATASETS
    labels: int = 100                 # the label budget: labeled training images
    pick: str = "random"              # how they were chosen: a pick of data/picks.py's PICKS,
                                      # or given (GIVEN: drawn, file, asked) in labeled.npz
    labels_name: str | None = None    # the drawn set's or the file's name (given labels)
    parent: str | None = None         # the run this one starts from (asked labels: its
                                      # weights, its labels and the new ones)
    seed: int = 0                     # labels, initial weights and batches
    mnist_path: str | None = None     # the data file (default: $SGAN_MNIST, data/mnist.npz)
    # --- how long ---
    preset: str = "fast"              # PRESETS: the network and optimiser below
    steps: int = 3000
    max_seconds: float | None = None  # train by the clock: whichever of the two comes first
    # --- discriminator (the classifier) ---
    variant: str = "stacked"          # model/variants.py: how its logits read real/fake and digit
    arch: str = "mlp"                 # "mlp" (Salimans et al.), "cnn" (a small strided CNN),
                                      # "tutorial" (the Keras tutorials' CNN)
    cnn_filters: tuple = (32, 64, 128)  # channels of the "cnn" discriminator's three layers
    input_noise: float = 0.3          # Gaussian noise std at the discriminator's input (mlp, cnn)
    hidden_noise: float = 0.5         # Gaussian noise std after each hidden layer (mlp)
    input_range: tuple = (-1.0, 1.0)  # pixel 0 maps to input_range[0], 255 to input_range[1]
    # --- generator and the real/fake game ---
    generator: str = "mlp"            # "mlp" (two dense layers), "dcgan" (small transposed
                                      # convs) or "tutorial" (the Keras tutorials' generator)
    latent_dim: int = 100
    generator_loss: str = "feature_matching"   # or "nonsat" (non-saturating GAN loss)
    nonsat_weight: float = 0.0        # feature matching plus this much of the non-saturating loss
    class_weight: float = 0.0         # > 0: the generator is told which digit to draw and is
                                      # trained (with this weight) so the classifier reads it so
    diversity_weight: float = 0.0     # > 0: the generator also pays 1 / (how different its
                                      # drawings of one digit are from different inputs)
                                      # (mode seeking, Mao et al. 2019)
    unsup_weight: float = 1.0         # weight of the discriminator's real/fake terms
    game_every: int = 1               # the game (fakes, real/fake terms, generator update) on
                                      # every this many steps; the steps between learn from
                                      # labels and self-labels only, at `selftrain`'s cost
    game_until: float = 1.0           # no game after this fraction of the run (the generator
                                      # keeps its last weights)
    # --- batches and optimiser ---
    batch_size: int = 100             # images of each kind (labeled, unlabeled, fake) per step
    labeled_batch: int = 0            # labeled images per step; 0: batch_size, except that a
                                      # run learning from unlabeled images sees each labeled
                                      # image once a step when it has fewer
    fake_batch: int = 0               # generated images per step; 0: batch_size
    lr_d: float = 2e-3
    lr_g: float = 2e-3
    beta_1: float = 0.5
    lr_decay_start: float = 1.0       # fraction of steps after which the lr decays linearly to 0
    ema_decay: float = 0.999          # the weight average that evaluation and export use; 0: none
    # --- self-labels (the teacher's readings of unlabeled images) ---
    pseudo_weight: float = 0.0        # cross-entropy on unlabeled images the teacher is sure of
    pseudo_threshold: float = 0.95    # ... sure = its top class probability above this
    pseudo_align: bool = False        # divide the teacher's readings by their running mean per
                                      # digit (distribution alignment, ReMixMatch)
    pseudo_adaptive: bool = False     # per-digit thresholds, low for digits the teacher is
                                      # rarely sure of yet (FlexMatch)
    # --- augmentation ---
    augment_shift: int = 2            # random translation of labeled images, in pixels
    augment_unlabeled: bool = False   # translate the unlabeled real images too
    strong_augment: bool = False      # rotate/scale/translate instead of the pixel shift
    # --- files it writes (bookkeeping) ---
    log_every: int = 5                # a metrics row every this many steps (charts: >= 1/s)
    eval_every: int = 250             # the full test set (10,000 images): the reported figure
    subset_every: int = 25            # the first TEST_SUBSET test images, for the live chart
    sample_every: int = 250
    checkpoint_every: int = 500
    checkpoint_seconds: float = 30.0  # also checkpoint this often: a kill loses at most this
    # --- where it runs ---
    threads: int = DEFAULT_THREADS    # TensorFlow intra-op threads in the trainer
    gpus: int = 0                     # GPUs a Ray task reserves for this run (ray_runner.py)
    sweep: str | None = None          # the sweep this run belongs to (sweep.py), if any

    @property
    def variant_spec(self) -> Variant:
        return VARIANTS[self.variant]

    @property
    def is_gan(self) -> bool:
        return self.variant_spec.is_gan

    @property
    def uses_unlabeled(self) -> bool:
        return self.variant_spec.unlabeled

    @property
    def conditional(self) -> bool:
        """Whether the generator takes a digit (one-hot, after z) as well as z."""
        return self.is_gan and self.class_weight > 0

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for name in TUPLE_FIELDS:
            d[name] = list(d[name])
        return d

    @classmethod
    def from_dict(cls, d) -> "RunConfig":
        """A config read from disk, checked as untrusted input: ConfigError names the first bad
        setting ("labels is not a whole number"). Unknown keys are ignored: runs written before
        an option was removed still load."""
        if not isinstance(d, dict):
            raise ConfigError("not a JSON object")
        for name in REQUIRED_FIELDS:
            if name not in d:
                raise ConfigError(f"{name} is missing")
        d = _renamed(d)
        kwargs = {f.name: _typed(f.name, d[f.name], f.default)
                  for f in dataclasses.fields(cls) if f.name in d}
        return check(cls(**kwargs))


# RunConfig's fields in the groups of its section comments (tests/test_config.py checks that
# every field is in exactly one): how pages and the CLI show a run's settings.
GROUPS: dict[str, tuple[str, ...]] = {
    "what it learns from": ("dataset", "labels", "pick", "labels_name", "parent", "seed",
                            "mnist_path"),
    "how long": ("preset", "steps", "max_seconds"),
    "discriminator": ("variant", "arch", "cnn_filters", "input_noise", "hidden_noise",
                      "input_range"),
    "generator and the game": ("generator", "latent_dim", "generator_loss", "nonsat_weight",
                               "class_weight", "diversity_weight", "unsup_weight", "game_every",
                               "game_until"),
    "batches and optimiser": ("batch_size", "labeled_batch", "fake_batch", "lr_d", "lr_g",
                              "beta_1", "lr_decay_start", "ema_decay"),
    "self-labels": ("pseudo_weight", "pseudo_threshold", "pseudo_align", "pseudo_adaptive"),
    "augmentation": ("augment_shift", "augment_unlabeled", "strong_augment"),
    "files it writes": ("log_every", "eval_every", "subset_every", "sample_every",
                        "checkpoint_every", "checkpoint_seconds"),
    "where it runs": ("threads", "gpus", "sweep"),
}
REQUIRED_FIELDS = ("labels", "variant", "seed")


def _renamed(d: dict) -> dict:
    """A config.json written before the tutorials' networks had that name: preset "seed" and
    arch "conv", whose generator was the tutorials' whatever `generator` said."""
    d = dict(d)
    if d.get("preset") == "seed":
        d["preset"] = "tutorial"
    if d.get("arch") == "conv":
        d["arch"] = d["generator"] = "tutorial"
    return d


def _typed(name: str, value, default):
    """value, if it has the type of the field's default (ints for int fields, any finite number
    for float fields); otherwise ConfigError."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        kind = "true or false"
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT
        kind = "a whole number"
    elif isinstance(default, float) or name == "max_seconds":
        ok = finite_or_none(value, CONFIG_LIMIT) is not None or (value is None and default is None)
        kind = "a number"
    elif isinstance(default, tuple):
        ok = (isinstance(value, (list, tuple)) and len(value) <= 16
              and all(finite_or_none(v, CONFIG_LIMIT) is not None for v in value))
        value = tuple(value) if ok else value
        kind = "a list of numbers"
    else:  # str, or str | None
        ok = isinstance(value, str) or (value is None and default is None)
        kind = "text"
    if not ok:
        raise ConfigError(f"{name} is not {kind} (found {_short(value)})")
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


PRESETS: dict[str, dict] = {
    # Accuracy in about two minutes on a 2-core CPU: a narrow strided CNN discriminator, feature
    # matching, self-training on unlabeled images the weight-averaged model is sure of (teacher
    # on the image, student on a rotated, scaled and shifted copy), its readings balanced over
    # the digits with per-digit bars (with few labels the teacher otherwise locks in its early
    # mistakes). The generator is told the digit and its loss adds a tenth of the
    # non-saturating loss, so that its drawings read as digits; the class loss at 0.3 rather
    # than 1.0 keeps each digit's drawings as varied as handwriting at no cost in accuracy;
    # 32 fakes a step instead of 100 buy more steps in the same time. Measurements:
    # benchmarks/RESULTS.md.
    "fast": dict(arch="cnn", steps=1100, lr_d=3e-3, lr_g=3e-3, lr_decay_start=0.4,
                 fake_batch=32, generator="dcgan", nonsat_weight=0.1, class_weight=0.3,
                 pseudo_weight=1.0, pseudo_align=True, pseudo_adaptive=True,
                 augment_unlabeled=True, strong_augment=True,
                 ema_decay=0.995, eval_every=100, sample_every=100, checkpoint_every=300),
    # The same recipe for an hour at a constant, halved learning rate (a decaying one peaked
    # mid-run and slid below). Options tried and not kept: benchmarks/RESULTS.md.
    "best": dict(arch="cnn", steps=27000, lr_d=1.5e-3, lr_g=1.5e-3, lr_decay_start=1.0,
                 pseudo_weight=1.0, pseudo_align=True, pseudo_adaptive=True,
                 augment_unlabeled=True, strong_augment=True,
                 ema_decay=0.999, eval_every=1000, sample_every=1000, checkpoint_every=1000),
    # Salimans et al. (2016)'s MNIST network: MLP 1000-500-250-250-250 with weight norm and noise.
    "salimans": dict(arch="mlp", steps=2000, lr_d=2e-3, lr_g=2e-3, lr_decay_start=0.6,
                     ema_decay=0.995, eval_every=250),
    # The Keras tutorials' network and optimiser, trained by our fused step.
    "tutorial": dict(arch="tutorial", generator="tutorial", batch_size=50, lr_d=2e-4,
                     lr_g=2e-4, beta_1=0.5, generator_loss="nonsat", augment_shift=0,
                     ema_decay=0.0, steps=3000),
}

# Presets whose results were measured by the clock: the dashboard offers them as minutes, so a
# run ends when it was promised to on any machine (a slower one trains fewer steps).
PRESET_MINUTES: dict[str, float] = {"fast": 2.0, "best": 60.0}

class ConfigError(ValueError):
    """A setting that cannot be used; the message says which and why."""


def parse_labels(value) -> int:
    """Validate a label budget given as int or text; raise ConfigError with a clear message."""
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ConfigError(f"label budget must be a whole number from {MIN_LABELS} to "
                          f"{MAX_LABELS}, got {value!r}") from None
    if not MIN_LABELS <= n <= MAX_LABELS:
        raise ConfigError(f"label budget must be from {MIN_LABELS} to {MAX_LABELS} "
                          f"(at least one image per digit), got {n}")
    return n


def parse_setting(text: str) -> tuple[str, object]:
    """("name", value) from "name=value" (value as JSON: 0.5, true, [1, 2]), checked against
    the field's type: the command line's way to set any field of RunConfig."""
    name, sep, raw = text.partition("=")
    name = name.strip().replace("-", "_")
    fields = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    if not sep or name not in fields:
        raise ConfigError(f"--set takes NAME=VALUE with NAME a setting of RunConfig "
                          f"(e.g. pseudo_threshold=0.9), got {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw  # plain text, e.g. generator=dcgan
    if isinstance(fields[name], float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return name, _typed(name, value, fields[name])


def make_config(preset: str = "fast", **overrides) -> RunConfig:
    """Build a validated RunConfig from a preset and explicit overrides (None means 'keep').

    Training by the clock: max_seconds without steps trains until the time is up (CLOCK_STEPS);
    with both, whichever comes first ends the run."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    values = dict(PRESETS[preset])
    values.update({k: v for k, v in overrides.items() if v is not None})
    if overrides.get("max_seconds") is not None and overrides.get("steps") is None:
        values["steps"] = CLOCK_STEPS
    values["preset"] = preset
    try:
        cfg = RunConfig(**values)
    except TypeError as e:
        raise ConfigError(str(e)) from None
    cfg.labels = parse_labels(cfg.labels)
    return check(cfg)


def check(cfg: RunConfig) -> RunConfig:
    """cfg, if every setting can be trained with; otherwise ConfigError saying which and why.
    Runs before a run directory is created, and on every config.json read from disk."""
    def fail(msg):
        raise ConfigError(msg)

    def positive(name, minimum=None):
        value, label = getattr(cfg, name), name.replace("_", " ")
        if finite_or_none(value, CONFIG_LIMIT) is None:
            fail(f"{label} must be a finite number, got {_short(value)}")
        if minimum is not None and value < minimum:
            fail(f"{label} must be at least {minimum}, got {value}")
        if value <= 0:
            fail(f"{label} must be positive, got {value}")

    if not isinstance(cfg.labels, int) or not MIN_LABELS <= cfg.labels <= MAX_LABELS:
        fail(f"labels must be from {MIN_LABELS} to {MAX_LABELS}, got {_short(cfg.labels)}")
    for what, value, choices in (("dataset", cfg.dataset, DATASETS),
                                 ("pick", cfg.pick, (*PICKS, *GIVEN)),
                                 ("variant", cfg.variant, VARIANTS), ("network", cfg.arch, ARCHS),
                                 ("generator", cfg.generator, GENERATORS),
                                 ("generator loss", cfg.generator_loss, GENERATOR_LOSSES)):
        if value not in choices:
            fail(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")
    if cfg.pick == "typical" and cfg.labels > TYPICAL_MAX:
        fail(f"a typical pick chooses at most {TYPICAL_MAX:,} labeled images, got "
             f"{cfg.labels:,}; choose random for larger budgets")
    if not isinstance(cfg.seed, int) or not 0 <= cfg.seed <= MAX_SEED:
        fail(f"seed must be a whole number from 0 to {MAX_SEED}, got {_short(cfg.seed)}")
    for name in ("steps", "game_every", "latent_dim", "log_every", "eval_every", "sample_every",
                 "checkpoint_every", "threads"):
        positive(name, minimum=1)
    positive("batch_size", minimum=2)
    for name in ("lr_d", "lr_g", "checkpoint_seconds"):
        positive(name)
    if cfg.max_seconds is not None:
        positive("max_seconds")
    if min(cfg.augment_shift, cfg.subset_every, cfg.gpus, cfg.labeled_batch,
           cfg.fake_batch) < 0:
        fail("augment shift, subset every, gpus and labeled and fake batches must not be "
             "negative")
    if not 0.0 <= cfg.game_until <= 1.0:
        fail(f"game until must be a fraction of the run from 0 to 1, got {cfg.game_until}")
    if not 0.0 <= cfg.ema_decay < 1.0:
        fail(f"ema decay must be from 0 to below 1, got {cfg.ema_decay}")
    if len(cfg.input_range) != 2 or not cfg.input_range[0] < cfg.input_range[1]:
        fail(f"input range must be two increasing numbers, got {list(cfg.input_range)}")
    if len(cfg.cnn_filters) != 3 or not all(isinstance(n, int) and n > 0
                                            for n in cfg.cnn_filters):
        fail(f"cnn filters must be three positive whole numbers, got {list(cfg.cnn_filters)}")
    return cfg
