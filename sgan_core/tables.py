"""Tables over many runs (no Streamlit here: the pages only display them)."""
from __future__ import annotations

from collections import defaultdict

from .rundir import RunSummary
from .variants import is_gan_variant


def accuracy_table(summaries: list[RunSummary]) -> dict:
    """Mean final test accuracy per (label budget, variant), as rows for a table; the
    supervised baseline's column last."""
    cells = defaultdict(list)
    for r in summaries:
        if r.test_acc is not None:
            cells[(r.labels, r.variant)].append(r.test_acc)
    variants = sorted({v for _, v in cells}, key=lambda v: (not is_gan_variant(v), str(v)))
    rows = []
    for labels in sorted({n for n, _ in cells}):
        row = {"labels": labels}
        for v in variants:
            accs = cells.get((labels, v))
            row[v] = f"{100 * sum(accs) / len(accs):.2f}% ({len(accs)})" if accs else ""
        rows.append(row)
    return {"rows": rows, "variants": variants}
