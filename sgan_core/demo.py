"""The stakeholder demo: a GAN and the supervised baseline trained side by side on the same
labels for the same number of steps, and the result that the page puts in one sentence.

The length is in steps, not seconds: by seed and steps a run computes the same numbers on a
fast idle machine and on a slow busy one, so the verdict never depends on the machine; only the
wait does, and the page says how long that is here. Each run asks for one TensorFlow thread, so
on two cores the worker trains both at once (see launcher.py).
"""
from __future__ import annotations

from . import speed
from .config import RunConfig, make_config
from .launcher import check_room, fits, start_runs
from .rundir import RunDir, RunSummary, atomic_write_json, read_json
from .variants import is_gan_variant

GAN_VARIANT = "stacked"
BASELINE = "supervised"
LABELS = 100
STEPS = 600
THREADS = 1
STATE_FILE = "demo.json"
TOO_SLOW_S = 10 * 60  # past this the page says plainly that the machine is too slow or busy


def configs(seed: int = 0) -> list[RunConfig]:
    """Both sides: the same labels, seed and steps, the `fast` recipe; the GAN's generator is
    told which digit to draw (as in `fast`), so its grid shows the digits 0 to 9 in columns."""
    return [make_config("fast", labels=LABELS, variant=v, seed=seed, steps=STEPS,
                        threads=THREADS) for v in (GAN_VARIANT, BASELINE)]


def side_by_side(cfgs: list[RunConfig]) -> bool:
    """Whether the worker trains both runs at once here (launcher.fits: cores or slots)."""
    return fits([cfgs[0].threads], cfgs[1].threads)


def expected_seconds(summaries: list[RunSummary], cfgs: list[RunConfig],
                     slowdown_both: float = 1.0, slowdown_one: float = 1.0
                     ) -> tuple[float, str]:
    """(seconds from the click to the verdict on this machine, where the speed comes from:
    speed.rate_for's least sure source). The machine is slowdown_both times slower than idle
    while both runs train and slowdown_one times once one is left (speed.slowdown(2) and (1):
    on a busy machine the run left alone speeds up)."""
    rates, sources = [], set()
    for cfg in cfgs:
        rate, source = speed.rate_for(summaries, cfg)
        rates.append(rate)
        sources.add(source)
    source = next(s for s in ("guess", "reference", "measured") if s in sources)
    if not side_by_side(cfgs):
        return sum(speed.run_seconds(c, r, slowdown_one) for c, r in zip(cfgs, rates)), source
    overhead = speed.STARTUP_S + speed.END_S
    alone = [c.steps / r * slowdown_both for c, r in zip(cfgs, rates)]  # training, both on
    first = min(alone)
    slower = max(range(len(cfgs)), key=lambda i: alone[i])
    left = cfgs[slower].steps - first * rates[slower] / slowdown_both
    return overhead + first + left / rates[slower] * slowdown_one, source


def start(runs_dir, seed: int = 0, max_queued: int | None = None,
          speedup_alone: float = 1.0) -> list[RunDir]:
    """Queue both runs. speedup_alone: how much faster one run trains here once the other has
    finished (speed.slowdown(2) / speed.slowdown(1) at the click), for seconds_left."""
    cfgs = configs(seed)
    check_room(runs_dir, max_queued, adding=len(cfgs))
    started = start_runs(cfgs, runs_dir)
    atomic_write_json(f"{runs_dir}/{STATE_FILE}", {"runs": [r.id for r in started],
                                                   "speedup_alone": speedup_alone})
    return started


def seconds_left(summaries: list[RunSummary], rates: list[float | None],
                 speedup_alone: float = 1.0) -> float | None:
    """Seconds until both runs have finished, from each one's own speed as it trains (rates:
    recent steps a second of each, None before it has any), the one left speeding up by
    speedup_alone when the other ends; None until it can be told."""
    left = []
    for s, rate in zip(summaries, rates):
        if s.state == "finished":
            left.append(0.0)
        elif s.state == "running" and rate:
            left.append(max(0, (s.total_steps or 0) - s.step) / rate)
        else:
            return None
    if len(left) == 2 and min(left) > 0 and speedup_alone > 1:
        first, last = sorted(left)  # the last one's steps after `first` go faster
        return first + (last - first) / speedup_alone
    return max(left) if left else None


def speedup_alone(state: dict) -> float:
    """demo.json's speedup_alone, if it is a sane number."""
    value = state.get("speedup_alone")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 20
    return float(value) if ok else 1.0


def read(runs_dir) -> dict:
    state = read_json(f"{runs_dir}/{STATE_FILE}", {})
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
    each trained, the time budget (0: none) and the final accuracy of the GAN and of the
    baseline; else None."""
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
            "seconds": summaries[0].max_seconds or 0, "gan": gan, "baseline": base}
