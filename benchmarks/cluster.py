"""What a Ray cluster adds per run, and a sweep's wall time by slots.

    python -m benchmarks.cluster [--runs 4] [--steps 20]

1. Queue to first step: the seconds from queueing a run to its trainer's first step, through
   the local worker and through a Ray cluster on this machine (one node, loopback only; Ray's
   own test helper starts it), --runs runs each, one at a time. The difference is what Ray
   adds per run (task submission, placement, a Ray worker process) on top of starting Python
   and TensorFlow, which both pay.
2. A local sweep of --runs runs of --steps steps, one TensorFlow thread each, with
   SGAN_SLOTS=1 and then 2: wall time from queueing to the last run's end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from sgan_core.config import make_config
from sgan_core.runs import launcher
from sgan_core.runs.rundir import RunDir

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # keep Ray on the loopback address


def wait(runs: list[RunDir], done) -> None:
    while not all(done(r.read_status()) for r in runs):
        time.sleep(0.05)


def queue_to_first_step(n: int, ray_address: str | None) -> list[float]:
    times = []
    for _ in range(n):
        runs_dir = tempfile.mkdtemp(prefix="sgan-bench-")
        t0 = time.time()
        [run] = launcher.start_runs([make_config("fast", labels=100, steps=5, threads=1)],
                                    runs_dir, ray_address=ray_address)
        wait([run], lambda s: s.get("step", 0) >= 1 or s.get("state") == "finished")
        times.append(time.time() - t0)
        wait([run], lambda s: s.get("state") not in ("queued", "running"))
    return times


def sweep_wall_time(n: int, steps: int, slots: int) -> float:
    os.environ["SGAN_SLOTS"] = str(slots)
    runs_dir = tempfile.mkdtemp(prefix="sgan-bench-")
    t0 = time.time()
    runs = launcher.start_runs([make_config("fast", labels=100, steps=steps, seed=s, threads=1)
                                for s in range(n)], runs_dir)
    wait(runs, lambda s: s.get("state") not in ("queued", "running"))
    return time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    print(f"# {os.cpu_count()} CPU cores; fast preset, 100 labels, full MNIST, 1 thread per run")
    local = queue_to_first_step(args.runs, None)
    from ray.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args=dict(
        node_ip_address="127.0.0.1", num_cpus=2, include_dashboard=False))
    try:
        on_ray = queue_to_first_step(args.runs, cluster.address)
    finally:
        cluster.shutdown()
    for name, times in (("local worker", local), ("Ray, one node", on_ray)):
        print(f"queue to first step, {name}: median {statistics.median(times):.1f} s "
              f"({', '.join(f'{t:.1f}' for t in times)})")
    print(f"Ray adds {statistics.median(on_ray) - statistics.median(local):+.1f} s per run")
    for slots in (1, 2):
        print(f"sweep of {args.runs} runs x {args.steps} steps, SGAN_SLOTS={slots}: "
              f"{sweep_wall_time(args.runs, args.steps, slots):.1f} s", flush=True)


if __name__ == "__main__":
    main()
