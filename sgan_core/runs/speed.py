"""How long runs take on this machine, and how many steps a run by the clock trains: a new
run's estimate before it starts, corrected from its own rate while it trains.

A run's idle speed (steps a second, evaluations included) comes from, in order:
  - "measured": the fastest recent finished run like it here (same preset, variant, threads
    and host);
  - "probed": a training step timed on this machine (`probe`: the `fast` GAN's step on a small
    synthetic batch, in a child process started as the worker starts trainers, a few seconds,
    cached beside the runs in .speed.json by host and threads), times RUN_PER_PROBE for a
    `fast` GAN run, and other kinds of run as much faster or slower as REFERENCE_RATES says;
  - "reference" (or "guess"): the reference machine's rates, where nothing here is timed.
What else is running is judged by what it does to a step: the probe timed now against the
fastest it has been timed here (Probe.slowdown), or a training run's own rate against its idle
rate (trainer_slowdown). A run that trains corrects the estimate from its own recent rate
(expected_steps).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sgan_core import PROJECT_ROOT
from sgan_core.config import ConfigError, RunConfig, make_config
from sgan_core.files import try_lock
from sgan_core.runs.launcher import TRAINER_NICE, quiet_env
from sgan_core.runs.rundir import RunSummary, atomic_write_json, read_json

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
# A `fast` GAN run's steps a second (evaluations included) over the probe's (its bare step),
# both timed on one machine under the same load, six pairs on 2026-12-05: 0.97, 0.77, 0.73
# idle (the last with other work on the machine), 0.90, 0.78, 0.75 beside two busy programs
# (benchmarks/RESULTS.md). Other kinds of run scale from it as REFERENCE_RATES do.
RUN_PER_PROBE = 0.83
PROBE_SECONDS = 3.0       # the probe's timed steps (after two untimed: tracing and warm-up)
PROBE_TIMEOUT_S = 120.0   # a probe that has not answered by then is given up (estimates fall
                          # back to the reference rates)
PROBE_MAX_AGE_S = 300.0   # an older probe is timed again, in the background, for "now"
PROBE_KEEP = 10           # timings kept per host and threads: the fastest is "idle"
SPEED_FILE = ".speed.json"
_LOCK_FILE = ".speed.lock"


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


def reference_rate(cfg: RunConfig) -> tuple[float, str]:
    """(the reference machine's idle rate for a run like cfg, "reference"), or a cautious
    "guess" for a kind of run it never timed (a thread count it never timed: its 2 threads')."""
    for threads in (cfg.threads, 2):
        rate = REFERENCE_RATES.get((cfg.preset, cfg.variant, threads))
        if rate:
            return rate, "reference"
    return GAN_RATE_DEFAULT, "guess"


def rate_for(summaries: list[RunSummary], cfg: RunConfig,
             probe: Probe | None = None) -> tuple[float, str]:
    """(steps a second on this machine when idle, where that comes from: "measured" in runs like
    it here, "probed" (this machine's timed step, `probe`, scaled as the reference machine's
    rates scale its probe), the "reference" machine's, or a "guess")."""
    rate = measured_rate(summaries, cfg.preset, cfg.variant, cfg.threads)
    if rate is not None:
        return rate, "measured"
    rate, source = reference_rate(cfg)
    if probe is not None:  # this machine's `fast` GAN run, and others as the reference's scale
        fast, _ = reference_rate(make_config("fast", threads=cfg.threads))
        return probe.run_rate * rate / fast, "probed"
    return rate, source


@dataclass(frozen=True)
class Estimate:
    """What a run of some config will do here now: its idle rate, how many times slower what
    else is running makes it now, and where the idle rate comes from (rate_for's sources)."""
    idle_rate: float
    slowdown: float
    source: str

    @property
    def rate(self) -> float:
        """Steps a second now."""
        return self.idle_rate / self.slowdown

    def steps(self, cfg: RunConfig) -> int:
        """Steps the run trains: all of them, or as many as its time budget holds now."""
        if cfg.max_seconds:
            return int(min(cfg.steps, self.rate * cfg.max_seconds))
        return cfg.steps

    def seconds(self, cfg: RunConfig) -> float:
        """From queueing to its end (run_seconds)."""
        return run_seconds(cfg, self.idle_rate, self.slowdown)


def estimate(summaries: list[RunSummary], cfg: RunConfig, probe: Probe | None = None,
             slowdown: float | None = None) -> Estimate:
    """A run of cfg here now: its idle rate (rate_for) and the slowdown now, given (a training
    run's, trainer_slowdown) or the probe's (the step timed last against its fastest)."""
    rate, source = rate_for(summaries, cfg, probe)
    if slowdown is None:
        slowdown = probe.slowdown if probe is not None else 1.0
    return Estimate(rate, max(1.0, slowdown), source)


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


def run_rate(rows, window_s: float = 30.0) -> float | None:
    """Steps a second of a training run over its last window_s seconds of metrics rows (its
    evaluations included, as they fall), or since its first row if it is younger; None
    before two rows."""
    timed = [r for r in rows if "elapsed_s" in r and "step" in r]
    if len(timed) < 2:
        return None
    last = timed[-1]
    first = next((r for r in timed if r["elapsed_s"] >= last["elapsed_s"] - window_s),
                 timed[0])
    if first is last:
        first = timed[-2]
    seconds = last["elapsed_s"] - first["elapsed_s"]
    return (last["step"] - first["step"]) / seconds if seconds > 0 else None


def expected_steps(summary: RunSummary, rows) -> int | None:
    """The steps a training run will have trained by its end, from its own rate so far
    (run_rate): its step count, or for a time budget its step now plus its rate times the
    seconds left. None before its rate is known."""
    if summary.total_steps and not summary.max_seconds:
        return summary.total_steps
    rate = run_rate(rows)
    if rate is None or not summary.max_seconds:
        return None
    left = max(0.0, summary.max_seconds - summary.elapsed_s)
    steps = summary.step + rate * left
    return int(min(steps, summary.total_steps) if summary.total_steps else steps)


def trainer_slowdown(idle_rate: float, rows) -> float | None:
    """How many times slower than idle a training run goes now (>= 1), from its own rate
    (run_rate) against the idle rate of runs like it; None before its rate is known."""
    rate = run_rate(rows)
    if not rate or idle_rate <= 0:
        return None
    return max(1.0, idle_rate / rate)


# ---------- the probe: a training step timed on this machine ----------

@dataclass(frozen=True)
class Probe:
    """The probe's timings here at some thread count: the last one (now, or `at`) and the
    fastest of the last PROBE_KEEP (this machine with nothing else slowing it, as far as seen)."""
    rate: float      # the probe's steps a second the last time it was timed
    best: float      # the fastest it was timed here
    at: float        # when the last timing ended (time.time())
    threads: int

    @property
    def slowdown(self) -> float:
        """How many times slower a step was the last time than at its fastest here."""
        return max(1.0, self.best / self.rate)

    @property
    def run_rate(self) -> float:
        """Steps a second of a `fast` GAN run at these threads here idle, evaluations
        included."""
        return self.best * RUN_PER_PROBE

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.at)


def probing() -> bool:
    """Whether estimates may time this machine ($SGAN_SPEED_PROBE=0: never, as in the tests,
    where each test's fresh runs directory would time it again)."""
    return os.environ.get("SGAN_SPEED_PROBE", "1").strip() != "0"


def read_probe(runs_dir, threads: int, host: str | None = None) -> Probe | None:
    """The cached probe of this host at `threads` threads in runs_dir's .speed.json, or None."""
    entry = (read_json(Path(runs_dir) / SPEED_FILE, {}) or {})
    if not isinstance(entry, dict):
        return None
    entry = entry.get(host or platform.node(), {})
    timings = entry.get(str(threads)) if isinstance(entry, dict) else None
    try:
        timings = [(float(at), float(rate)) for at, rate in timings if float(rate) > 0]
    except (TypeError, ValueError):
        return None
    if not timings:
        return None
    at, rate = timings[-1]
    return Probe(rate=rate, best=max(r for _, r in timings), at=at, threads=threads)


def record_probe(runs_dir, threads: int, rate: float, at: float | None = None,
                 host: str | None = None) -> Probe:
    """Add a timing to the cache (the last PROBE_KEEP are kept); the probe it makes."""
    path = Path(runs_dir) / SPEED_FILE
    data = read_json(path, {})
    data = data if isinstance(data, dict) else {}
    entry = data.setdefault(host or platform.node(), {})
    if not isinstance(entry, dict):
        entry = data[host or platform.node()] = {}
    timings = entry.get(str(threads))
    timings = timings if isinstance(timings, list) else []
    timings = (timings + [[time.time() if at is None else at, rate]])[-PROBE_KEEP:]
    entry[str(threads)] = timings
    atomic_write_json(path, data)
    return read_probe(runs_dir, threads, host)


def time_a_step(threads: int, seconds: float = PROBE_SECONDS) -> dict:
    """Steps a second of the `fast` GAN's training step (its batch assembled and augmented as
    the trainer does) on 1,000 synthetic images, after two untimed steps; in this process,
    which it fills with TensorFlow (the probe's child process, never the web server)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    from sgan_core.data.batches import Batches
    from sgan_core.data.mnist import Mnist
    from sgan_core.model.sgan import SGAN
    tf.config.threading.set_intra_op_parallelism_threads(threads)  # as the trainer does
    tf.config.threading.set_inter_op_parallelism_threads(1)
    cfg = make_config("fast", labels=100, threads=threads)
    rng = np.random.default_rng(0)
    data = Mnist(x_train=rng.integers(0, 256, (1000, 28, 28), dtype=np.uint8),
                 y_train=np.arange(1000) % 10, x_test=np.zeros((10, 28, 28), np.uint8),
                 y_test=np.arange(10), source="probe")
    batches, sgan = Batches(cfg, data), SGAN(cfg)

    def step():
        return {k: float(v) for k, v in sgan.train_step(*batches.next(), game=True).items()}

    step(), step()
    n, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while n < 10 or time.perf_counter() - wall0 < seconds:
        step()
        n += 1
    wall = time.perf_counter() - wall0
    return {"rate": n / wall, "steps": n, "cpu_per_step": (time.process_time() - cpu0) / n}


def _lock(runs_dir, wait_s: float):
    """The probe lock of runs_dir (one probe at a time), or None if not had within wait_s."""
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    return try_lock(Path(runs_dir) / _LOCK_FILE, wait_s)


def probe_main(runs_dir: str, threads: int) -> None:
    """The probe's child process: time a step and cache it, at the trainers' nice level;
    nothing if another probe of runs_dir is timing (it would only time the two of them)."""
    os.nice(TRAINER_NICE)
    lock = _lock(runs_dir, 0.0)
    if lock is None:
        return
    try:
        result = time_a_step(threads)
        record_probe(runs_dir, threads, result["rate"])
        sys.stdout.write(json.dumps(result) + "\n")
    finally:
        lock.close()


_children: dict[tuple[str, int], subprocess.Popen] = {}
_failed: dict[tuple[str, int], float] = {}  # probes that failed here, by when: not retried soon
_children_lock = threading.Lock()
RETRY_FAILED_S = 600.0


def start_probe(runs_dir, threads: int) -> subprocess.Popen:
    """Time a step in a child process, in a session of its own as the worker starts trainers
    (this process never imports TensorFlow for it); one child per runs_dir and threads."""
    key = (str(Path(runs_dir).resolve()), int(threads))
    with _children_lock:
        child = _children.get(key)
        if child is None or child.poll() is not None:
            code = (f"from sgan_core.runs.speed import probe_main; "
                    f"probe_main({key[0]!r}, {key[1]})")
            child = _children[key] = subprocess.Popen(
                [sys.executable, "-c", code], cwd=str(PROJECT_ROOT), env=quiet_env(),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        return child


def measure(runs_dir, threads: int, timeout: float = PROBE_TIMEOUT_S) -> Probe | None:
    """Time a step now (start_probe) and wait for it (and for any other probe of runs_dir
    then timing); the probe, or the cached one if it failed or took longer than timeout."""
    key = (str(Path(runs_dir).resolve()), int(threads))
    if time.monotonic() - _failed.get(key, -RETRY_FAILED_S) < RETRY_FAILED_S:
        return read_probe(runs_dir, threads)
    child = start_probe(runs_dir, threads)
    deadline = time.monotonic() + timeout
    try:
        if child.wait(timeout=timeout) != 0:
            _failed[key] = time.monotonic()
    except subprocess.TimeoutExpired:
        _failed[key] = time.monotonic()
        return read_probe(runs_dir, threads)
    lock = _lock(runs_dir, max(0.0, deadline - time.monotonic()))  # another probe's end
    if lock is not None:
        lock.close()
    return read_probe(runs_dir, threads)


def current_probe(runs_dir, threads: int, busy: bool = False,
                  max_age_s: float = PROBE_MAX_AGE_S) -> Probe | None:
    """The probe an estimate uses now. Never timed here: timed now (a few seconds' wait) unless
    `busy` (our own runs training would slow it: None, the caller falls back). Timed more than
    max_age_s ago: timed again in the background (unless busy), and the last timing serves
    meanwhile. None where probing is off ($SGAN_SPEED_PROBE=0) and nothing is cached."""
    probe = read_probe(runs_dir, threads)
    if not probing() or busy:
        return probe
    if probe is None:
        return measure(runs_dir, threads)
    if probe.age() > max_age_s:
        start_probe(runs_dir, threads)
    return probe


def idle_rate_of(summary: RunSummary, summaries: list[RunSummary],
                 probe: Probe | None = None) -> float | None:
    """The idle rate of runs like a run (rate_for, from its summary), None if it cannot be
    read."""
    try:
        cfg = make_config(summary.preset or "fast", variant=summary.variant or "stacked",
                          threads=summary.threads or 2)
    except ConfigError:  # a preset or variant this version does not know
        return None
    return rate_for(summaries, cfg, probe)[0]
