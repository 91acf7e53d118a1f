"""Which images get labels: random against typical against asked, for the GAN, the game off
and the baseline, by steps.

    python -m benchmarks.picks [--labels 10 20 50] [--seeds 0 1 2] [--steps 1100]
                               [--recipes stacked selftrain supervised] [--out DIR]

Every run is the CLI's (`python -m sgan_core train ...`), one at a time, `fast` preset, the
same steps for all, so a busier machine changes the time and not the figures. Cells:
  - random N: today's balanced draw; typical N: `--pick typical` (no label read);
  - asked N: a typical N/2 run (the parent) asks for N/2 more (`python -m sgan_core ask`),
    MNIST's labels play the person, and the child trains `--steps` more from the parent's
    weights (`--from --add-labels`), so 2 x steps in all;
  - more random N: the same parent, the same child steps, N/2 random unlabeled images instead
    of the asked ones (is it the asking or only more labels?);
  - the baseline on asked labels trains from scratch on the child's labeled.npz.
Prints one line per run as it ends and a table at the end; results also go to DIR/picks.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from sgan_core.data.mnist import load_mnist


def train(out: Path, run_id: str, *args: str) -> dict:
    run = out / run_id
    if not (run / "status.json").is_file() or json.loads(
            (run / "status.json").read_text()).get("state") != "finished":
        if run.exists():
            subprocess.run(["rm", "-rf", str(run)], check=True)
        subprocess.run([sys.executable, "-m", "sgan_core", "train", "--preset", "fast",
                        "--runs-dir", str(out), "--run-id", run_id, "--quiet", *args],
                       check=True, stdout=subprocess.DEVNULL)
    status = json.loads((run / "status.json").read_text())
    return {"run": run_id, "acc": status.get("test_acc"), "steps": status.get("step"),
            "seconds": status.get("elapsed_s")}


def asked_indices(out: Path, parent: str, count: int) -> list[int]:
    text = subprocess.run([sys.executable, "-m", "sgan_core", "ask", str(out / parent),
                           "--count", str(count)], check=True, capture_output=True,
                          text=True).stdout
    return [int(line) for line in text.split()]


def random_indices(out: Path, parent: str, count: int, n_train: int, seed: int) -> list[int]:
    taken = set(np.load(out / parent / "labeled.npz")["index"].tolist())
    rng = np.random.default_rng(1000 + seed)
    free = np.array([i for i in range(n_train) if i not in taken])
    return rng.choice(free, count, replace=False).tolist()


def answers(indices, y_train) -> str:
    """MNIST's labels play the person who answers."""
    return ",".join(f"{i}={int(y_train[i])}" for i in indices)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, nargs="+", default=[10, 20, 50])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--steps", type=int, default=1100)
    ap.add_argument("--recipes", nargs="+", default=["stacked", "selftrain", "supervised"])
    ap.add_argument("--picks", nargs="+", default=["random", "typical", "asked", "more"])
    ap.add_argument("--out", type=Path, default=Path("/tmp/sgan_picks"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    mnist = load_mnist()
    x_train, y_train = mnist.x_train, mnist.y_train
    results_path = args.out / "picks.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    steps = ["--steps", str(args.steps)]

    def record(key, row):
        results[key] = row
        results_path.write_text(json.dumps(results, indent=1))
        print(f"{key:38s} {100 * (row['acc'] or 0):6.2f}%  {row['steps']} steps  "
              f"{row['seconds'] or 0:6.0f} s  ({row['steps'] / max(row['seconds'] or 1, 1):.1f}"
              f" steps/s)", flush=True)

    for n in args.labels:
        for recipe in args.recipes:
            for seed in args.seeds:
                base = [*steps, "--labels", str(n), "--variant", recipe, "--seed", str(seed)]
                for pick in ("random", "typical"):
                    if pick in args.picks:
                        key = f"{recipe}-{pick}{n}-s{seed}"
                        record(key, train(args.out, key, *base, "--pick", pick))
                if n < 20 or not {"asked", "more"} & set(args.picks):
                    continue
                half = n // 2
                if recipe == "supervised":  # the baseline on the GAN child's labeled images
                    child = args.out / f"stacked-asked{n}-s{seed}" / "labeled.npz"
                    if "asked" in args.picks and child.is_file():
                        key = f"supervised-asked{n}-s{seed}"
                        record(key, train(args.out, key, *steps, "--variant", "supervised",
                                          "--seed", str(seed), "--labels-file", str(child)))
                    continue
                parent = f"{recipe}-typical{half}-s{seed}"
                record(parent, train(args.out, parent, *steps, "--labels", str(half),
                                     "--variant", recipe, "--seed", str(seed),
                                     "--pick", "typical"))
                for pick in ("asked", "more"):
                    if pick not in args.picks:
                        continue
                    t0 = time.perf_counter()
                    chosen = (asked_indices(args.out, parent, n - half) if pick == "asked" else
                              random_indices(args.out, parent, n - half, len(x_train), seed))
                    key = f"{recipe}-{pick}{n}-s{seed}"
                    row = train(args.out, key, *steps, "--from", str(args.out / parent),
                                "--add-labels", answers(chosen, y_train))
                    row["choose_s"] = time.perf_counter() - t0 - (row["seconds"] or 0)
                    record(key, row)

    print("\nmean test accuracy (runs):")
    for n in args.labels:
        for recipe in args.recipes:
            cells = []
            for pick in ("random", "typical", "asked", "more"):
                accs = [results[k]["acc"] for k in results
                        if k.startswith(f"{recipe}-{pick}{n}-s") and results[k]["acc"]]
                cells.append(f"{pick} {100 * np.mean(accs):.2f}% ({len(accs)})" if accs else
                             f"{pick} -")
            print(f"{n:3d} labels {recipe:11s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
