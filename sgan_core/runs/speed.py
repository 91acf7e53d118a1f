"""How long runs take on this machine, from how fast the runs it trained went: a new run's time
before it starts, and its time left while it trains.

A step's cost depends on the preset, the variant (the supervised baseline's step is a fraction
of a GAN's) and the threads, so a run is compared only with finished runs of the same three on
the same host. Until there is one, the reference machine's rates stand in, and the caller is
told so. What else is running now matters as much: slowdown() measures it, as the share of a
core that processes like the trainers would get at this moment.
"""
from __future__ import annotations

import platform
import statistics
import subprocess
import sys

from sgan_core.config import RunConfig
from sgan_core.runs.rundir import RunSummary

STARTUP_S = 15.0  # from queueing a run to its first step (benchmarks/cluster.py measured 14.0 s)
END_S = 5.0       # after its last step: the final test on 10,000 images and the saved models
# Steps a second of the reference machine (2 cores, AMD EPYC), with a full test evaluation
# every eval_every steps included. One thread: a run beside another, as the demo's three sides
# train (the GAN on one core, self-training then the baseline on the other); two threads: one
# run alone. Measurements: benchmarks/RESULTS.md (benchmarks/promise.py).
REFERENCE_RATES = {
    ("fast", "stacked", 2): 9.0, ("fast", "stacked", 1): 4.4,
    ("fast", "selftrain", 2): 12.0, ("fast", "selftrain", 1): 7.5,
    ("fast", "supervised", 2): 18.0, ("fast", "supervised", 1): 12.0,
    ("best", "stacked", 2): 9.2,
}
GAN_RATE_DEFAULT = 5.0  # a GAN preset or thread count with no reference: a cautious guess


def measured_rate(summaries: list[RunSummary], preset: str, variant: str, threads: int,
                  host: str | None = None) -> float | None:
    """Steps a second of the fastest of the last five runs like this one that ran to their end
    here (training time only: evaluations included, start-up not): what this machine does when
    nothing else slows it (slowdown() says how much is slowing it now); None when there are
    none."""
    host = host or platform.node()
    like = [r for r in summaries
            if r.usable and r.state in ("finished", "stopped") and r.preset == preset
            and r.variant == variant and r.threads == threads and r.host == host
            and r.step >= 50 and r.elapsed_s >= 5.0]
    like.sort(key=lambda r: r.finished_at)
    rates = [r.step / r.elapsed_s for r in like[-5:]]
    return max(rates) if rates else None


def rate_for(summaries: list[RunSummary], cfg: RunConfig) -> tuple[float, str]:
    """(steps a second on this machine when idle, where that comes from: "measured" here,
    the "reference" machine's, or a "guess" for a kind of run neither has trained)."""
    rate = measured_rate(summaries, cfg.preset, cfg.variant, cfg.threads)
    if rate is not None:
        return rate, "measured"
    reference = REFERENCE_RATES.get((cfg.preset, cfg.variant, cfg.threads))
    if reference:
        return reference, "reference"
    return GAN_RATE_DEFAULT, "guess"


def run_seconds(cfg: RunConfig, rate: float, slowdown: float = 1.0) -> float:
    """Wall time of a run from its queueing to its end, at `rate` steps a second on an idle
    machine, `slowdown` times slower now. Only the steps stretch: a time budget stays what it
    is, and starting up took 15 s on a machine three times slower too (9 s idle)."""
    training = cfg.steps / rate * slowdown
    if cfg.max_seconds:
        training = min(training, cfg.max_seconds)
    return STARTUP_S + END_S + training


# N busy processes, as the worker's trainers are: in a session of their own (Linux shares the
# CPU between sessions first, then by nice level within one) and at the trainers' nice level.
_PROBE = """
import os, sys, time
os.nice({nice})
for _ in range({processes} - 1):
    if os.fork() == 0:
        break
wall0, cpu0 = time.perf_counter(), time.process_time()
while time.perf_counter() - wall0 < {seconds}:
    sum(range(2000))
sys.stdout.write(f"{{(time.process_time() - cpu0) / (time.perf_counter() - wall0)}}\\n")
sys.stdout.flush()
"""


def slowdown(processes: int, seconds: float = 0.5, nice: int = 10) -> float:
    """How many times slower than on an idle machine `processes` busy processes would run now,
    started as the worker starts trainers (>= 1): they spin for `seconds` side by side, and each
    reports the share of a core it got."""
    code = _PROBE.format(nice=nice, seconds=seconds, processes=max(1, processes))
    probe = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = probe.communicate(timeout=10 + 2 * seconds)
    except subprocess.TimeoutExpired:
        probe.kill()
        out, _ = probe.communicate()
    shares = []
    for line in out.split():
        try:
            shares.append(float(line))
        except ValueError:
            continue
    share = statistics.fmean(shares) if shares else 1.0
    return max(1.0, 1.0 / max(share, 0.02))


def recent_rate(rows) -> float | None:
    """Steps a second over the last ten metrics rows of a training run (None before two)."""
    recent = [r for r in rows[-10:] if "elapsed_s" in r and "step" in r]
    if len(recent) < 2 or recent[-1]["elapsed_s"] <= recent[0]["elapsed_s"]:
        return None
    return ((recent[-1]["step"] - recent[0]["step"]) /
            (recent[-1]["elapsed_s"] - recent[0]["elapsed_s"]))
