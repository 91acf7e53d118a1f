"""Does a run do what the dashboard promised? The New run form's first estimate on a fresh runs
directory (no run here yet: this machine's step timed by speed.py's probe, the form's wait)
against what the run then does, for runs queued as the dashboard queues them: for a run by the
clock, the steps it trains (and the live estimate from its own rate along the way); for every
run, the time from Start to its end.

    python -m benchmarks.promise [--hogs N] [--runs-dir DIR] [--kinds fast-clock,...]

--hogs N starts N busy programs first, each in its own session (2 on 2 cores: a machine about
three times slower for a run, see demo_time.py), before the probe. --runs-dir reuses a
directory (its history and cached probe) instead of a fresh one. Kinds: fast-clock (fast, 2
minutes by the clock, 2 threads), and for the reference rates fast-selftrain and
fast-supervised (300 steps each, 2 threads).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import time

from sgan_core.config import make_config
from sgan_core.runs import launcher, speed
from sgan_core.runs.rundir import list_runs

from .demo_time import start_hogs

KINDS = {
    "fast-clock": dict(variant="stacked", max_seconds=120.0),
    "fast-selftrain": dict(variant="selftrain", steps=300),
    "fast-supervised": dict(variant="supervised", steps=300),
}
LIVE_AT_S = (15.0, 30.0, 60.0)  # training seconds at which the live estimate is read


def machine() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in out.splitlines()
                  if line.startswith("Model name")), platform.processor() or "?")
    return f"{model}, {os.cpu_count()} cores"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hogs", type=int, default=0)
    ap.add_argument("--runs-dir")
    ap.add_argument("--kinds", default="fast-clock")
    args = ap.parse_args()
    os.environ["SGAN_SPEED_PROBE"] = "1"  # the form's behaviour, whatever the shell says
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {machine()}, hogs {args.hogs}, load average "
          f"{os.getloadavg()[0]:.2f} before", flush=True)
    hogs = start_hogs(args.hogs)
    try:
        time.sleep(1.0 if hogs else 0.0)
        runs_dir = args.runs_dir or tempfile.mkdtemp()
        for kind in args.kinds.split(","):
            cfg = make_config("fast", labels=100, **KINDS[kind])
            t0 = time.time()
            probe = speed.current_probe(runs_dir, cfg.threads)  # as the form: timed if new
            probe_s = time.time() - t0
            est = speed.estimate(list_runs(runs_dir), cfg, probe)
            promised, steps = est.seconds(cfg), est.steps(cfg)
            probe_text = (f"probe {probe.rate:.1f} steps/s (fastest here {probe.best:.1f}) in "
                          f"{probe_s:.1f} s" if probe else "no probe")
            t0 = time.time()
            run = launcher.start_run(cfg, runs_dir)
            live = []  # (training seconds, the live estimate of steps by the end)
            while run.effective_status().get("state") in ("queued", "running"):
                summary = run.summary()
                if (summary.state == "running" and len(live) < len(LIVE_AT_S)
                        and summary.elapsed_s >= LIVE_AT_S[len(live)]):
                    live.append((summary.elapsed_s,
                                 speed.expected_steps(summary, run.read_metrics())))
                time.sleep(0.5)
            took = time.time() - t0
            status = run.read_status()
            trained = status.get("step") or 0
            rate = trained / status["elapsed_s"] if status.get("elapsed_s") else 0.0
            print(f"{kind}: first estimate {steps:,} steps at {est.rate:.1f} steps/s "
                  f"({est.source} {est.idle_rate:.1f} steps/s idle, slowdown "
                  f"{est.slowdown:.2f}; {probe_text}); trained {trained:,} "
                  f"({steps / max(trained, 1) - 1:+.0%}) at {rate:.1f} steps/s over "
                  f"{status.get('elapsed_s', 0):.0f} s of training; {status.get('state')}, test "
                  f"{status.get('test_acc')}", flush=True)
            for at, expected in live:
                if expected:
                    print(f"  live estimate at {at:.0f} s: {expected:,} steps "
                          f"({expected / max(trained, 1) - 1:+.0%})", flush=True)
            print(f"  promised {promised:.0f} s from Start to the end, took {took:.0f} s "
                  f"({promised / took - 1:+.0%}); started "
                  f"{status['started_at'] - status['queued_at']:.1f} s after queueing",
                  flush=True)
    finally:
        for h in hogs:
            h.kill()


if __name__ == "__main__":
    main()
