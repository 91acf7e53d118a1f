"""The stakeholder demo: a GAN, the same recipe without the real/fake game (self-training)
and the supervised baseline, trained on the same labels for the same number of steps, and the
result that the page puts in one sentence.

The length is in steps, not seconds: by seed and steps a run computes the same numbers on a
fast idle machine and on a slow busy one, so the verdict never depends on the machine; only the
wait does, and the page says how long that is here. Each run asks for one TensorFlow thread, so
on two cores the worker trains two at once (see launcher.py): the GAN, the longest, on one
core, self-training then the baseline on the other.

"Teach it yourself" is the same demo on a person's own drawings (one of each digit, drawn on
the Teach page) instead of 100 of MNIST's labeled images: its state is TAUGHT_FILE, so both
demos can be shown side by side.
"""
from __future__ import annotations

import dataclasses

from sgan_core.config import RunConfig, make_config
from sgan_core.data.labeled import LabeledSet
from sgan_core.model.variants import is_gan_variant
from sgan_core.runs import speed
from sgan_core.runs.launcher import check_room, fits, start_runs
from sgan_core.runs.rundir import RunDir, RunSummary, atomic_write_json, read_json

GAN_VARIANT = "stacked"
SELFTRAIN = "selftrain"
BASELINE = "supervised"
SIDES = (GAN_VARIANT, SELFTRAIN, BASELINE)  # queue order: the longest first
LABELS = 100
STEPS = 600
THREADS = 1
STATE_FILE = "demo.json"
TAUGHT_FILE = "taught_demo.json"  # the demo on a person's drawings
TOO_SLOW_S = 10 * 60  # past this the page says plainly that the machine is too slow or busy


def configs(seed: int = 0, labeled: LabeledSet | None = None,
            name: str | None = None) -> list[RunConfig]:
    """Every side: the same labels, seed and steps, the `fast` recipe; the GAN's generator is
    told which digit to draw (as in `fast`), so its grid shows the digits 0 to 9 in columns.
    labeled: a person's drawings (named `name`) instead of MNIST's labeled images."""
    cfgs = [make_config("fast", labels=LABELS, variant=v, seed=seed, steps=STEPS,
                        threads=THREADS) for v in SIDES]
    if labeled is None:
        return cfgs
    return [dataclasses.replace(c, labels=len(labeled), pick="drawn", labels_name=name)
            for c in cfgs]


def slots(cfgs: list[RunConfig]) -> int:
    """How many of the runs the worker trains at once here (launcher.fits: cores or slots)."""
    n = 1
    while n < len(cfgs) and fits([c.threads for c in cfgs[:n]], cfgs[n].threads):
        n += 1
    return n


def finish_seconds(work: list[float], n_slots: int, speedup_alone: float = 1.0) -> float:
    """Seconds until the last of the runs ends, each needing work[i] seconds while it shares
    the machine (in queue order: the first n_slots train at once, the next starts when one
    ends), and speedup_alone times less once it trains alone."""
    queue, active, left, t = list(range(len(work))), [], list(work), 0.0
    while queue or active:
        while queue and len(active) < n_slots:
            active.append(queue.pop(0))
        speed = speedup_alone if len(active) == 1 and not queue else 1.0
        dt = min(left[i] for i in active) / speed
        t += dt
        for i in active:
            left[i] -= dt * speed
        active = [i for i in active if left[i] > 1e-9]
    return t


def expected_seconds(summaries: list[RunSummary], cfgs: list[RunConfig],
                     slowdown_both: float = 1.0, slowdown_one: float = 1.0
                     ) -> tuple[float, str]:
    """(seconds from the click to the verdict on this machine, where the speed comes from:
    speed.rate_for's least sure source). The machine is slowdown_both times slower than idle
    while two runs train and slowdown_one times once one is left (speed.slowdown(2) and (1):
    on a busy machine the run left alone speeds up)."""
    rates, sources = [], set()
    for cfg in cfgs:
        rate, source = speed.rate_for(summaries, cfg)
        rates.append(rate)
        sources.add(source)
    source = next(s for s in ("guess", "reference", "measured") if s in sources)
    n_slots = slots(cfgs)
    if n_slots == 1:
        return sum(speed.run_seconds(c, r, slowdown_one) for c, r in zip(cfgs, rates)), source
    overhead = speed.STARTUP_S + speed.END_S
    work = [overhead + c.steps / r * slowdown_both for c, r in zip(cfgs, rates)]
    return finish_seconds(work, n_slots, slowdown_both / slowdown_one), source


def start(runs_dir, seed: int = 0, max_queued: int | None = None,
          speedup_alone: float = 1.0, labeled: LabeledSet | None = None,
          name: str | None = None) -> list[RunDir]:
    """Queue the runs. speedup_alone: how much faster one run trains here once the others have
    finished (speed.slowdown(2) / speed.slowdown(1) at the click), for seconds_left.
    labeled: teach it yourself, on a person's drawings (state in TAUGHT_FILE)."""
    cfgs = configs(seed, labeled, name)
    check_room(runs_dir, max_queued, adding=len(cfgs))
    files = None if labeled is None else [{"labeled.npz": labeled.to_bytes()}] * len(cfgs)
    started = start_runs(cfgs, runs_dir, files=files)
    state = STATE_FILE if labeled is None else TAUGHT_FILE
    atomic_write_json(f"{runs_dir}/{state}", {"runs": [r.id for r in started],
                                              "speedup_alone": speedup_alone})
    return started


def seconds_left(summaries: list[RunSummary], rates: list[float | None],
                 speedup_alone: float = 1.0, n_slots: int = 2,
                 expected: list[float] | None = None) -> float | None:
    """Seconds until every run has finished, from each running one's own speed (rates: recent
    steps a second, None before it has any), the one left alone speeding up by speedup_alone.
    A queued run trains at its expected idle rate (expected, speed.rate_for) slowed as much as
    the running ones are against theirs. None until it can be told."""
    if not summaries:
        return None
    expected = expected or [None] * len(summaries)
    running, queued, slowdowns = [], [], []
    for s, rate, idle in zip(summaries, rates, expected):
        if s.state == "finished":
            continue
        if s.state == "running" and rate:
            running.append(max(0, (s.total_steps or 0) - s.step) / rate)
            if idle:
                slowdowns.append(idle / rate)
        elif s.state == "queued" and idle:
            queued.append((s.total_steps or 0) / idle)
        else:
            return None
    if queued and not slowdowns:
        return None  # nothing trains yet: how busy the machine is, is not measured
    slow = max(1.0, sum(slowdowns) / len(slowdowns)) if slowdowns else 1.0
    overhead = speed.STARTUP_S + speed.END_S
    work = running + [overhead + q * slow for q in queued]
    return finish_seconds(work, n_slots, max(1.0, speedup_alone))


def speedup_alone(state: dict) -> float:
    """demo.json's speedup_alone, if it is a sane number."""
    value = state.get("speedup_alone")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 20
    return float(value) if ok else 1.0


def read(runs_dir, state_file: str = STATE_FILE) -> dict:
    state = read_json(f"{runs_dir}/{state_file}", {})
    return state if isinstance(state, dict) else {}


def demo_runs(runs_dir, state: dict) -> list[RunDir]:
    ids = state.get("runs")
    if not isinstance(ids, list):
        return []
    runs = [RunDir(f"{runs_dir}/{i}") for i in ids if isinstance(i, str) and "/" not in i]
    return [r for r in runs if r.exists()]


def gan_run(runs: list[RunDir]) -> RunDir | None:
    return next((r for r in runs if is_gan_variant(r.summary().variant)), None)


def result(runs: list[RunDir]) -> dict | None:
    """Once every demo run has finished with a test accuracy: the label budget, the steps
    each trained, the time budget (0: none) and the final accuracy of the GAN, of
    self-training (None in a demo from before it had that side) and of the baseline; else
    None."""
    accs, summaries = {}, [r.summary() for r in runs]
    for s in summaries:
        if not s.usable or s.state != "finished" or s.test_acc is None:
            return None
        accs[s.variant] = float(s.test_acc)
    gan = next((acc for name, acc in accs.items() if is_gan_variant(name)), None)
    base = accs.get(BASELINE)
    if gan is None or base is None:
        return None
    return {"labels": summaries[0].labels, "steps": min(s.step for s in summaries),
            "drawn": summaries[0].pick == "drawn", "name": summaries[0].labels_name,
            "seconds": summaries[0].max_seconds or 0, "gan": gan,
            "selftrain": accs.get(SELFTRAIN), "baseline": base}
