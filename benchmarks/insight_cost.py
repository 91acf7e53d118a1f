"""What recording how a run learns costs the training: a `fast` run (20 labels, 2 threads) by
the clock, with the insight recorder and TensorBoard event files, and with both replaced by
no-ops, in fresh processes, alternating.

    python -m benchmarks.insight_cost [--seconds 120] [--pairs 1]

Prints the steps each reached and, for the runs with insight, the seconds spent inside the
recorder and the event writer (their share of the run: the issue's budget is 5% of the steps).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
from sgan_core.reading import insight
from sgan_core.training import trainer as trainer_mod
from sgan_core.config import make_config
from sgan_core.runs.rundir import create_run

with_insight, seconds, runs_dir = sys.argv[1] == "1", float(sys.argv[2]), sys.argv[3]
spent = {"recorder_s": 0.0, "events_s": 0.0, "snapshots": 0}

def timed(fn, key):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            spent[key] += time.perf_counter() - t
    return wrapper

if with_insight:
    insight.Recorder.record = timed(insight.Recorder.record, "recorder_s")
    for name in ("scalars", "image"):
        setattr(trainer_mod.EventFiles, name,
                timed(getattr(trainer_mod.EventFiles, name), "events_s"))
else:
    class Off:
        n_map = 0  # no map features: the test images are read as without insight
        def __init__(self, *a, **k): pass
        def record(self, *a): return {}
        def scalars(self, row): pass
        def image(self, *a): pass
        def close(self): pass
    insight.Recorder = Off
    trainer_mod.EventFiles = Off

cfg = make_config("fast", labels=20, variant="stacked", max_seconds=seconds, threads=2)
trainer_mod.configure_threads(cfg.threads)
run = create_run(cfg, runs_dir)
t = trainer_mod.Trainer(cfg, run)
status = t.fit()
spent.update(steps=status["step"], elapsed_s=status["elapsed_s"], test_acc=status["test_acc"],
             snapshots=len(run.insight_files()))
print("RESULT " + json.dumps(spent))
"""


def one(with_insight: bool, seconds: float) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, "1" if with_insight else "0",
                          str(seconds), tempfile.mkdtemp()],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(next(line for line in out.splitlines()
                           if line.startswith("RESULT "))[7:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--pairs", type=int, default=1)
    args = ap.parse_args()
    print(f"{'insight':8} {'steps':>6} {'steps/s':>8} {'test acc':>9} {'recorder s':>11} "
          f"{'events s':>9} {'snapshots':>9}")
    for _ in range(args.pairs):
        for flag in (True, False):
            r = one(flag, args.seconds)
            print(f"{'on' if flag else 'off':8} {r['steps']:>6} "
                  f"{r['steps'] / r['elapsed_s']:>8.2f} {r['test_acc']:>9.2%} "
                  f"{r['recorder_s']:>11.2f} {r['events_s']:>9.2f} {r['snapshots']:>9}")


if __name__ == "__main__":
    main()
