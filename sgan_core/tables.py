"""Tables over many runs (no Streamlit here: the pages only display them)."""
from __future__ import annotations

import statistics
from collections import defaultdict

from .rundir import RunSummary
from .variants import VARIANTS, is_gan_variant


def run_length(r: RunSummary) -> str:
    """How long a run was asked to train: its time budget, or its step count."""
    if isinstance(r.max_seconds, (int, float)) and r.max_seconds > 0:
        return f"{r.max_seconds:g} s"
    return f"{r.total_steps} steps"


def mean_cell(accs: list[float]) -> str:
    """'97.40 ± 0.37% (n=3)': mean, sample standard deviation over runs, and the run count."""
    mean = 100 * statistics.fmean(accs)
    if len(accs) == 1:
        return f"{mean:.2f}% (n=1)"
    return f"{mean:.2f} ± {100 * statistics.stdev(accs):.2f}% (n={len(accs)})"


def accuracy_table(summaries: list[RunSummary]) -> dict:
    """Final test accuracy of finished runs, one row per (label budget, preset, length), one
    column per variant (the supervised baseline last): runs of different lengths are never
    averaged together."""
    cells = defaultdict(list)
    for r in summaries:
        if (r.usable and r.state == "finished" and isinstance(r.test_acc, (int, float))
                and isinstance(r.labels, int) and r.variant in VARIANTS
                and isinstance(r.preset, str)):
            cells[(r.labels, r.preset, run_length(r), r.variant)].append(float(r.test_acc))
    variants = sorted({k[3] for k in cells}, key=lambda v: (not is_gan_variant(v), v))
    rows = []
    for labels, preset, length in sorted({k[:3] for k in cells}):
        row = {"labels": labels, "preset": preset, "length": length}
        for v in variants:
            accs = cells.get((labels, preset, length, v))
            row[v] = mean_cell(accs) if accs else ""
        rows.append(row)
    return {"rows": rows, "variants": variants}
