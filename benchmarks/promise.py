"""Does a run end when the dashboard promised? The Train page's promise for a run (from this
machine's measured speed and its slowdown now, speed.py) against the time from Start to the
run's end, for runs queued as the dashboard queues them.

    python -m benchmarks.promise [--hogs N] [--runs-dir DIR] [--kinds fast-clock,...]

--hogs N starts N busy programs first, each in its own session (2 on 2 cores: a machine three
times slower for a run, see demo_time.py). Kinds: fast-clock (fast, 2 minutes by the clock, 2
threads), and for the reference rates fast-selftrain and fast-supervised (300 steps each, 2
threads).
"""
from __future__ import annotations

import argparse
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hogs", type=int, default=0)
    ap.add_argument("--runs-dir")
    ap.add_argument("--kinds", default="fast-clock")
    args = ap.parse_args()
    hogs = start_hogs(args.hogs)
    try:
        runs_dir = args.runs_dir or tempfile.mkdtemp()
        for kind in args.kinds.split(","):
            cfg = make_config("fast", labels=100, **KINDS[kind])
            rate, source = speed.rate_for(list_runs(runs_dir), cfg)
            slow = speed.slowdown(cfg.threads)
            promised = speed.run_seconds(cfg, rate, slow)
            t0 = time.time()
            run = launcher.start_run(cfg, runs_dir)
            while run.effective_status().get("state") in ("queued", "running"):
                time.sleep(0.5)
            took = time.time() - t0
            status = run.read_status()
            print(f"{kind}: promised {promised:.0f} s ({source} {rate:.1f} steps/s, slowdown "
                  f"{slow:.2f}), took {took:.0f} s ({promised / took - 1:+.0%}); "
                  f"{status.get('state')} at step {status.get('step')}, "
                  f"{status['step'] / status['elapsed_s']:.1f} steps/s over "
                  f"{status['elapsed_s']:.0f} s of training, started "
                  f"{status['started_at'] - status['queued_at']:.1f} s after queueing, test "
                  f"{status.get('test_acc')}", flush=True)
    finally:
        for h in hogs:
            h.kill()


if __name__ == "__main__":
    main()
