"""Benchmark: time-to-accuracy per preset x variant x label budget, and speed vs the reference loop.

Each training runs as `python -m sgan_core train` in its own process (as the dashboard runs it),
one at a time, on the full MNIST. Prints a Markdown table: seconds to reach 90/95/98/99% test
accuracy (first evaluation at or above), final accuracy (the final weight-averaged model;
mean, range and each seed's),
steps/s and peak memory, as means over seeds.

    python -m benchmarks.bench --presets fast --variants stacked,shared,multi,supervised \
        --labels 100 --seeds 0,1,2 --seconds 120
    python -m benchmarks.bench --speed-only      # tutorial preset vs ../shared/reference loop

The README's table by label budget (what each part adds: the game off is the `selftrain`
variant, self-training off is `--set pseudo_weight=0`):

    python -m benchmarks.bench --presets fast --labels 20,50,100 --seeds 0,1,2 --no-speed \
        --variants stacked,selftrain,supervised
    python -m benchmarks.bench --presets fast --labels 20,50,100 --seeds 0,1,2 --no-speed \
        --variants stacked --set pseudo_weight=0
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from sgan_core import PROJECT_ROOT as ROOT
from sgan_core.runs.rundir import RunDir

THRESHOLDS = (0.90, 0.95, 0.98, 0.99)
REFERENCE = ROOT.parent / "shared" / "reference" / "seed_reference.py"


def run_child(cmd: list[str]) -> tuple[int, float, str]:
    """(exit code, peak RSS in MiB, output) of a child process."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, out


def train(preset, variant, labels, seed, seconds, steps, runs_dir, threads, settings=()) -> dict:
    run_id = f"bench-{preset}-{variant}-{labels}l-s{seed}-{int(time.time())}"
    cmd = [sys.executable, "-m", "sgan_core", "train", "--preset", preset, "--variant", variant,
           "--labels", str(labels), "--seed", str(seed), "--runs-dir", str(runs_dir),
           "--run-id", run_id, "--quiet", "--threads", str(threads), "--nice", "10"]
    for setting in settings:
        cmd += ["--set", setting]
    if seconds:  # a pure time budget: the learning rate decays over the seconds, not steps
        cmd += ["--max-seconds", str(seconds)] + (["--steps", str(steps)] if steps else [])
    elif steps:
        cmd += ["--steps", str(steps)]
    rc, peak_mib, out = run_child(cmd)
    if rc != 0:
        raise RuntimeError(f"training failed ({rc}):\n{out[-2000:]}")
    run = RunDir(Path(runs_dir) / run_id)
    rows = run.read_metrics()
    evals = [r for r in rows if "test_acc" in r]
    status = run.read_status()
    reach = {t: next((r["elapsed_s"] for r in evals if r["test_acc"] >= t), None)
             for t in THRESHOLDS}
    timed = [r for r in rows if "test_acc" not in r] or rows
    first, last = timed[0], timed[-1]
    rate = ((last["step"] - first["step"]) / (last["elapsed_s"] - first["elapsed_s"])
            if len(timed) > 1 else status["step"] / status["elapsed_s"])
    return {"final": status["test_acc"], "reach": reach, "steps_per_s": rate,
            "peak_mib": peak_mib, "steps": status["step"], "elapsed_s": status["elapsed_s"]}


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fmt_reach(values, n):
    hit = [v for v in values if v is not None]
    if not hit:
        return "–"
    text = f"{mean(hit):.0f}"
    return text if len(hit) == n else f"{text} ({len(hit)}/{n})"


def speed_ratio(steps: int, threads: int, runs_dir) -> str:
    res = train("tutorial", "stacked", 100, 0, None, steps, runs_dir, threads)
    rc, _, out = run_child([sys.executable, str(REFERENCE), "--steps", str(steps)])
    match = re.search(r"reference: ([\d.]+) steps/s", out)
    if rc != 0 or not match:
        return f"reference loop failed:\n{out[-1000:]}"
    ref = float(match.group(1))
    return (f"tutorial preset: ours {res['steps_per_s']:.2f} steps/s, reference "
            f"train_on_batch loop "
            f"{ref:.2f} steps/s -> {res['steps_per_s'] / ref:.1f}x ({steps} steps each, same "
            f"machine, same run)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="fast")
    ap.add_argument("--variants", default="stacked,shared,multi,supervised")
    ap.add_argument("--labels", default="100")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--seconds", type=float, default=120.0, help="time budget per run")
    ap.add_argument("--steps", type=int, help="step budget per run instead of --seconds")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                    help="a RunConfig setting for every run (repeatable), as `train --set`")
    ap.add_argument("--runs-dir", default=str(ROOT / "benchmarks" / "results" / "runs"))
    ap.add_argument("--speed-steps", type=int, default=40)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args()

    print(f"# SGAN Lab benchmark on {os.cpu_count()} CPU cores, trainer threads {args.threads}, "
          "nice 10 (as the dashboard starts it)"
          + (f"; settings: {' '.join(args.settings)}" if args.settings else ""))
    if not args.speed_only:
        seeds = [int(s) for s in args.seeds.split(",")]
        raw = {}
        print("\n| preset | variant | labels | s to 90% | s to 95% | s to 98% | s to 99% "
              "| final acc (mean ± range) | by seed | steps/s | peak MiB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for preset in args.presets.split(","):
            for labels in [int(n) for n in args.labels.split(",")]:
                for variant in args.variants.split(","):
                    res = [train(preset, variant, labels, s, None if args.steps else args.seconds,
                                 args.steps, args.runs_dir, args.threads, args.settings)
                           for s in seeds]
                    raw[f"{preset}/{variant}/{labels}"] = res
                    finals = [r["final"] for r in res]
                    reach = [fmt_reach([r["reach"][t] for r in res], len(res)) for t in THRESHOLDS]
                    print(f"| {preset} | {variant} | {labels} | " + " | ".join(reach) +
                          f" | {100 * mean(finals):.2f}% ({100 * min(finals):.2f}–"
                          f"{100 * max(finals):.2f}) | "
                          + " / ".join(f"{100 * f:.2f}" for f in finals)
                          + f" | {mean([r['steps_per_s'] for r in res]):.1f}"
                          f" | {max(r['peak_mib'] for r in res):.0f} |", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(raw, indent=2))
    if not args.no_speed:
        print("\n" + speed_ratio(args.speed_steps, args.threads, args.runs_dir), flush=True)


if __name__ == "__main__":
    main()
