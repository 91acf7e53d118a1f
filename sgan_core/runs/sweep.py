"""Sweeps: a grid of label budgets x variants x seeds, queued as ordinary runs tagged with one
sweep id (`sweep` in config.json), and the label-efficiency table read back from their files.

A sweep adds nothing to how runs train: the launcher's queue and slots run them, Stop, Resume
and `interrupted` work as for any run, and the table is computed from run summaries alone.
"""
from __future__ import annotations

import time
from collections import defaultdict

from sgan_core.config import ConfigError, RunConfig, make_config
from sgan_core.model.variants import is_gan_variant
from sgan_core.runs.launcher import start_runs
from sgan_core.runs.rundir import RunDir, RunSummary
from sgan_core.runs.tables import final_accuracy, stats, variant_order

MAX_RUNS = 120  # 5 budgets x 4 variants x 6 seeds; more is refused with the number


def plan(labels: list[int], variants: list[str], seeds: list[int], preset: str = "fast",
         **overrides) -> list[RunConfig]:
    """Validated configs of every run of the grid, smallest label budget first."""
    if not labels or not variants or not seeds:
        raise ConfigError("a sweep needs at least one label budget, variant and seed")
    total = len(set(labels)) * len(set(variants)) * len(set(seeds))
    if total > MAX_RUNS:
        raise ConfigError(f"a sweep of {total} runs is more than the {MAX_RUNS} allowed; "
                          "choose fewer budgets, variants or seeds")
    return [make_config(preset, labels=n, variant=v, seed=s, **overrides)
            for n in sorted(set(labels)) for v in dict.fromkeys(variants)
            for s in sorted(set(seeds))]


def new_sweep_id() -> str:
    return time.strftime("sweep-%Y%m%d-%H%M%S")


def start(cfgs: list[RunConfig], runs_dir, sweep_id: str | None = None,
          max_queued: int | None = None, ray_address: str | None = None
          ) -> tuple[str, list[RunDir]]:
    """Queue every run of the plan under one sweep id: (the id, the runs)."""
    sweep_id = sweep_id or new_sweep_id()
    for cfg in cfgs:
        cfg.sweep = sweep_id
    return sweep_id, start_runs(cfgs, runs_dir, max_queued, ray_address)


def sweep_ids(summaries: list[RunSummary]) -> list[str]:
    """Every sweep among the runs, newest first."""
    return sorted({r.sweep for r in summaries if r.sweep}, reverse=True)


def members(summaries: list[RunSummary], sweep_id: str) -> list[RunSummary]:
    return [r for r in summaries if r.sweep == sweep_id and r.usable]


def efficiency_table(runs: list[RunSummary]) -> list[dict]:
    """Final test accuracy by label budget and variant over the finished runs: mean, sample
    standard deviation, n finished, and how many runs the cell has in all."""
    cells, totals = defaultdict(list), defaultdict(int)
    for r in runs:
        totals[(r.labels, r.variant)] += 1
        if final_accuracy(r) is not None:
            cells[(r.labels, r.variant)].append(r)
    return [{"labels": labels, "variant": variant, "runs": totals[(labels, variant)],
             **stats(cells.get((labels, variant), []))}
            for labels, variant in sorted(totals, key=lambda k: (k[0], *variant_order(k[1])))]


def headline(table: list[dict]) -> dict | None:
    """The smallest budget where a GAN variant and the baseline both have finished runs: the
    budget, the best GAN variant there, and the mean accuracy of each."""
    by_budget = defaultdict(dict)
    for row in table:
        if row["mean"] is not None:
            by_budget[row["labels"]][row["variant"]] = row["mean"]
    for labels in sorted(by_budget):
        accs = by_budget[labels]
        gans = {v: a for v, a in accs.items() if is_gan_variant(v)}
        if gans and "supervised" in accs:
            variant, gan = max(gans.items(), key=lambda kv: kv[1])
            return {"labels": labels, "variant": variant, "gan": gan,
                    "baseline": accs["supervised"]}
    return None
