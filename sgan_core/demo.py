"""The stakeholder demo: a GAN and the supervised baseline trained on the same labels."""
from __future__ import annotations

from .config import make_config
from .launcher import start_run
from .rundir import RunDir, atomic_write_json, read_json
from .variants import is_gan_variant

GAN_VARIANT = "stacked"
BASELINE = "supervised"
LABELS = 100
SECONDS = 120.0
STATE_FILE = "demo.json"


def start(runs_dir, seconds: float = SECONDS, seed: int = 0) -> list[RunDir]:
    started = [start_run(make_config("fast", labels=LABELS, variant=v, seed=seed,
                                     max_seconds=seconds, steps=100000), runs_dir)
               for v in (GAN_VARIANT, BASELINE)]
    atomic_write_json(f"{runs_dir}/{STATE_FILE}", {"runs": [r.id for r in started]})
    return started


def read(runs_dir) -> dict:
    return read_json(f"{runs_dir}/{STATE_FILE}", {}) or {}


def demo_runs(runs_dir, state: dict) -> list[RunDir]:
    runs = [RunDir(f"{runs_dir}/{i}") for i in state.get("runs", [])]
    return [r for r in runs if r.exists()]


def sentence(runs: list[RunDir]) -> str | None:
    """The one-line verdict, once every demo run has finished with a test accuracy."""
    accs = {}
    for r in runs:
        status = r.read_status()
        if status.get("state") != "finished" or status.get("test_acc") is None:
            return None
        accs[r.read_config().get("variant")] = status["test_acc"]
    gan = next((acc for name, acc in accs.items() if is_gan_variant(name)), None)
    base = accs.get(BASELINE)
    if gan is None or base is None:
        return None
    labels = runs[0].read_config().get("labels", LABELS)
    share = labels / 60000
    gain = 100 * (gan - base)
    verdict = (f"{gain:+.1f} points from the unlabeled images" if gain > 0 else
               f"{gain:+.1f} points: in this run the unlabeled images did not help")
    return (f"With {labels} labels ({share:.2%} of the training set): semi-supervised GAN "
            f"{gan:.1%}, supervised baseline {base:.1%} on the test set ({verdict}).")
