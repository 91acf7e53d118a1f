"""Training on a Ray cluster, for when one machine is not enough ($SGAN_RAY_ADDRESS or
--ray-address; `pip install -r requirements-ray.txt`).

The worker hands each queued run to Ray as a task that reserves the run's CPU threads (and a
GPU if the run asks for one); on whichever node has room, the task runs the same
`python -m sgan_core train --resume RUN_DIR` as the local worker does. Ray does placement,
resources and node failure; nothing here schedules. Run directories must live on a path that
every node mounts at the same place (an NFS export, for example), and the project must be at
the same path on every node: status, heartbeat, Stop (the STOP file) and resume then work as
they do locally. A node that dies takes its trainer with it (the trainer dies with the task's
process) and the run is marked `interrupted`, resumable on any node.
"""
from __future__ import annotations

import ctypes
import os
import signal

import ray

from sgan_core import PROJECT_ROOT
from sgan_core.runs.launcher import start_trainer
from sgan_core.runs.rundir import RunDir

PR_SET_PDEATHSIG = 1


def connect(address: str) -> None:
    """Join the cluster as a driver; its workers import sgan_core from this project path."""
    if not ray.is_initialized():
        ray.init(address=address, logging_level="ERROR", log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}})


def _die_with_parent() -> None:
    """In the trainer, before exec: end with SIGKILL when the task's process ends, so a node
    that dies (or a cancelled task) leaves no trainer behind."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@ray.remote(max_retries=0)
def _train(run_path: str, threads: int) -> int:
    """On the node Ray chose: the local worker's trainer command as a child process; its exit
    code."""
    env = dict(os.environ, SGAN_NODE=ray.get_runtime_context().get_node_id())
    return start_trainer(RunDir(run_path), threads, env=env,
                         preexec_fn=_die_with_parent).wait()


def placement_problem(threads: int, gpus: int = 0) -> dict | None:
    """Why no machine of the cluster can ever take a run asking for these (Ray would keep its
    task pending in silence), as a fact; None when one can."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    cpus = max((n.get("CPU", 0) for n in nodes), default=0)
    most_gpus = max((n.get("GPU", 0) for n in nodes), default=0)
    if threads > cpus:
        return {"code": "waiting_cpus", "threads": threads, "largest": cpus}
    if gpus > most_gpus:
        return {"code": "waiting_gpus", "gpus": gpus, "most": most_gpus}
    return None


class RayTrainer:
    """One run as a Ray task; poll() is None while it trains, then the trainer's exit code."""

    def __init__(self, run: RunDir, threads: int, gpus: int = 0):
        self.ref = _train.options(num_cpus=threads, num_gpus=gpus).remote(str(run.path),
                                                                          threads)
        self.lost: str | None = None  # why the task ended without an exit code

    def poll(self) -> int | None:
        ready, _ = ray.wait([self.ref], timeout=0)
        if not ready:
            return None
        try:
            return ray.get(self.ref)
        except ray.exceptions.RayError as e:  # its node died, or its process was killed
            self.lost = type(e).__name__
            return -signal.SIGKILL


class RayExecutor:
    """The worker's executor on a Ray cluster (launcher.worker_loop): each run a Ray task."""
    places_runs = True  # Ray starts a task when a node has room; the worker never waits

    def __init__(self, address: str):
        connect(address)

    def start(self, run: RunDir, threads: int, gpus: int) -> RayTrainer:
        return RayTrainer(RunDir(run.path.resolve()), threads, gpus)

    def placement_problem(self, threads: int, gpus: int) -> dict | None:
        return placement_problem(threads, gpus)
