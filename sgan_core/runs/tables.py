"""Final test accuracy over many runs, as numbers: the Compare page's table by label budget,
preset and length, and a sweep's by label budget (sweep.py). Wording is the views' job."""
from __future__ import annotations

import statistics
from collections import defaultdict

from sgan_core.model.variants import VARIANTS, is_gan_variant
from sgan_core.runs.rundir import RunSummary


def stats(runs: list[RunSummary]) -> dict:
    """Of the runs' final accuracies: mean, sample standard deviation (None for fewer than two
    runs), n runs, and how many distinct seeds (labeled images) they cover."""
    accs = [final_accuracy(r) for r in runs]
    return {"mean": statistics.fmean(accs) if accs else None,
            "sd": statistics.stdev(accs) if len(accs) > 1 else None, "n": len(accs),
            "seeds": len({r.seed for r in runs})}


def run_length(r: RunSummary) -> tuple[str, float]:
    """How long a run was asked to train: ("seconds", budget) or ("steps", count)."""
    if isinstance(r.max_seconds, (int, float)) and r.max_seconds > 0:
        return ("seconds", float(r.max_seconds))
    return ("steps", float(r.total_steps))


def final_accuracy(r: RunSummary) -> float | None:
    """A finished run's final test accuracy; None for any other run."""
    if r.usable and r.state == "finished" and isinstance(r.test_acc, (int, float)):
        return float(r.test_acc)
    return None


def variant_order(variant: str) -> tuple:
    """GAN variants first, the yardsticks after them."""
    return (not is_gan_variant(variant), variant)


def accuracy_table(summaries: list[RunSummary]) -> dict:
    """Final test accuracy of finished runs, one row per (dataset, label budget, preset,
    length), one stats cell (or None) per variant, the supervised baseline last: runs of
    different data or lengths are never averaged together."""
    cells = defaultdict(list)
    for r in summaries:
        if (final_accuracy(r) is not None and isinstance(r.labels, int) and r.variant in VARIANTS
                and isinstance(r.preset, str) and isinstance(r.dataset, str)):
            cells[(r.dataset, r.labels, r.preset, run_length(r), r.variant)].append(r)
    variants = sorted({k[4] for k in cells}, key=variant_order)
    rows = []
    for dataset, labels, preset, length in sorted({k[:4] for k in cells}):
        row = {"dataset": dataset, "labels": labels, "preset": preset, "length": length}
        for v in variants:
            runs = cells.get((dataset, labels, preset, length, v))
            row[v] = stats(runs) if runs else None
        row["game"] = game_effect(row, variants)
        rows.append(row)
    return {"rows": rows, "variants": variants}


def game_effect(row: dict, variants: list[str]) -> tuple[str, float] | None:
    """What the real/fake game added in a table row: (the GAN variant with the best mean, its
    mean minus self-training's, the same recipe without the game); None without both."""
    own = row.get("selftrain")
    gans = [(row[v]["mean"], v) for v in variants if is_gan_variant(v) and row.get(v)]
    if not own or not gans:
        return None
    best, name = max(gans)
    return name, best - own["mean"]
