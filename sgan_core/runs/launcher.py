"""Background training for the dashboard: a queue of runs and one worker process.

Policy: as many trainings at once as the CPU cores hold, by the TensorFlow threads each run
asks for (`max(1, cores // threads)` runs of equal threads; $SGAN_SLOTS sets the number of runs
instead). On a 2-core machine a 2-thread run trains alone, so runs train one at a time; the
demo's two 1-thread runs train side by side. This holds across every browser session and server
restart. Start and Resume mark a run `queued` and make sure a worker is alive; the worker (a
fresh `python -m sgan_core worker` process in its own session, so it outlives the web server and
never inherits a forked TensorFlow) starts queued runs oldest first, each in its own
`python -m sgan_core train --resume` child, and exits when the queue is empty and its children
have ended. A file lock keeps the worker unique.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sgan_core import PROJECT_ROOT
from sgan_core.config import RunConfig
from sgan_core.files import try_lock
from sgan_core.runs.rundir import ACTIVE_STATES, RunDir, create_run, list_run_dirs
from sgan_core.values import finite_or_none

LOCK_NAME = ".worker.lock"
TRAINER_NICE = 10  # the trainer yields the CPU to the web server when both want it


class QueueFull(RuntimeError):
    """The queue holds as many waiting runs as allowed; the message says how many."""


def check_room(runs_dir, max_queued: int | None, adding: int = 1) -> None:
    """QueueFull unless `adding` more runs fit under max_queued waiting runs (None: no cap)."""
    if max_queued is None:
        return
    waiting = len(queued_runs(runs_dir))
    if waiting + adding > max_queued:
        raise QueueFull(f"{waiting} runs are already waiting, the most this server queues is "
                        f"{max_queued}; try again when one has started")


def enqueue(run: RunDir, code: str = "queued") -> None:
    run.clear_stop()
    run.write_status(state="queued", why={"code": code}, message="", queued_at=time.time(),
                     pid=None)


def start_run(cfg: RunConfig, runs_dir, max_queued: int | None = None,
              files: dict | None = None) -> RunDir:
    """Queue a new run (with `files` in its directory first, e.g. teach.run_files)."""
    check_room(runs_dir, max_queued)
    run = create_run(cfg, runs_dir, files=files)
    enqueue(run)
    ensure_worker(runs_dir)
    return run


def start_runs(cfgs: list[RunConfig], runs_dir, max_queued: int | None = None,
               ray_address: str | None = None, files: list[dict] | None = None
               ) -> list[RunDir]:
    """Queue several runs at once, in order, with one worker start (a sweep); files: each
    run's starting files (as start_run's)."""
    check_room(runs_dir, max_queued, adding=len(cfgs))
    runs = [create_run(cfg, runs_dir, files=f) for cfg, f in
            zip(cfgs, files or [None] * len(cfgs))]
    for run in runs:
        enqueue(run)
    ensure_worker(runs_dir, ray_address)
    return runs


def resume_run(run: RunDir, runs_dir, max_queued: int | None = None) -> None:
    check_room(runs_dir, max_queued)
    enqueue(run, "queued_to_resume")
    ensure_worker(runs_dir)


def stop_run(run: RunDir) -> None:
    """Ask a running trainer to stop (it checkpoints first); a queued run is dequeued."""
    state = run.effective_status().get("state")
    if state == "queued":
        run.write_status(state="stopped", why={"code": "dequeued"})
    elif state == "running":
        run.request_stop()


def delete_run(run: RunDir) -> None:
    if run.effective_status().get("state") in ACTIVE_STATES:
        stop_run(run)
        deadline = time.time() + 10
        while run.read_status().get("state") == "running" and time.time() < deadline:
            time.sleep(0.2)
    shutil.rmtree(run.path, ignore_errors=True)


def queued_runs(runs_dir) -> list[RunDir]:
    runs = [r for r in list_run_dirs(runs_dir) if r.read_status().get("state") == "queued"]
    return sorted(runs, key=lambda r: _queued_at(r.read_status()))


def _queued_at(status: dict) -> float:
    return finite_or_none(status.get("queued_at")) or 0.0


def quiet_env(base: dict | None = None) -> dict:
    """An environment (this process's, or base) for a worker or trainer, with TensorFlow's C++
    log limited to fatal messages (TF_CPP_MIN_LOG_LEVEL=3, unless set): on a CPU-only machine
    it otherwise logs "failed call to cuInit" and "remapper failed" as errors, which are not. A
    real error still fails the run with its Python exception, in the log and the run's
    status."""
    env = dict(os.environ if base is None else base)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def ensure_worker(runs_dir, ray_address: str | None = None) -> None:
    """Make sure a worker serves the queue (on a Ray cluster with ray_address or
    $SGAN_RAY_ADDRESS)."""
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    ray_address = ray_address or os.environ.get("SGAN_RAY_ADDRESS") or None
    with open(Path(runs_dir) / "worker.log", "ab") as log:
        subprocess.Popen([sys.executable, "-m", "sgan_core", "worker", "--runs-dir",
                          str(Path(runs_dir).resolve())]
                         + (["--ray-address", ray_address] if ray_address else []),
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, cwd=str(PROJECT_ROOT), env=quiet_env())


def trainer_command(run: RunDir, threads: int | None = None) -> list[str]:
    """The one command that trains a queued run, here or on a Ray node (ray_runner.py)."""
    cmd = [sys.executable, "-m", "sgan_core", "train", "--resume", str(run.path), "--quiet",
           "--nice", str(TRAINER_NICE)]
    if threads:
        cmd += ["--threads", str(threads)]
    return cmd


def start_trainer(run: RunDir, threads: int | None = None, **popen) -> subprocess.Popen:
    """trainer_command in a child process of this one, its output appended to the run's log."""
    popen["env"] = quiet_env(popen.get("env"))
    with open(run.log_path, "ab") as log:
        return subprocess.Popen(trainer_command(run, threads), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=str(PROJECT_ROOT), **popen)


def run_threads(run: RunDir) -> int:
    threads = run.read_config().get("threads")
    return threads if isinstance(threads, int) and threads > 0 else 1


def slots() -> int | None:
    """Runs at once set by $SGAN_SLOTS; None: by threads (as many as the cores hold)."""
    value = os.environ.get("SGAN_SLOTS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def runs_at_once(threads: int) -> int:
    """How many runs of `threads` threads train side by side here: the policy of `fits`, as a
    number for the pages."""
    return slots() or max(1, (os.cpu_count() or 1) // max(1, threads))


def fits(running_threads: list[int], threads: int) -> bool:
    """May a run asking for `threads` start beside runs using `running_threads`?"""
    if not running_threads:
        return True
    if slots():
        return len(running_threads) < slots()
    return sum(running_threads) + threads <= (os.cpu_count() or 1)


def _finish(run: RunDir, rc: int, lost: str | None = None, queued_at=None) -> None:
    """A trainer that ended without writing its final state: killed by a signal (rc < 0),
    lost with its Ray node, or gone quietly, it is resumable (`interrupted`); an error exit
    (rc > 0) is `failed`. A run queued again since this trainer started (Resume right after
    a Stop) is left to its new place in the queue."""
    status = run.read_status()
    if status.get("state") not in ACTIVE_STATES or status.get("queued_at") != queued_at:
        return
    if rc > 0:
        why = {"code": "exit_code", "exit_code": rc, "log": run.log_path.name}
        run.write_status(state="failed", why=why, message="")
        return
    if lost:
        why = {"code": "lost_node", "error": lost}
    else:
        why = {"code": "killed", "signal": -rc} if rc < 0 else {"code": "ended_early"}
    run.write_status(state="interrupted", why=why, message="")


class LocalExecutor:
    """Trains each run in a child process of the worker, on this machine."""
    places_runs = False  # the worker decides what fits (`fits`)

    def start(self, run: RunDir, threads: int, gpus: int):
        return start_trainer(run, threads)

    def placement_problem(self, threads: int, gpus: int) -> dict | None:
        cores = os.cpu_count() or 1
        if threads > cores:  # it still trains, alone and slower than asked
            return {"code": "more_threads_than_cores", "threads": threads, "cores": cores}
        return None


@dataclass
class Child:
    """A run the worker started: its trainer (a local process, or a Ray task with the same
    poll()), the threads it holds, and the queue time it was started for."""
    run: RunDir
    trainer: object
    threads: int
    queued_at: object


def _start_child(run: RunDir, executor) -> Child:
    """Start a queued run's trainer; a run that cannot be placed as asked says why in its
    status at once."""
    threads, queued_at = run_threads(run), run.read_status().get("queued_at")
    gpus = run.read_config().get("gpus")
    gpus = gpus if isinstance(gpus, int) and gpus > 0 else 0
    problem = executor.placement_problem(threads, gpus)
    if problem:
        run.write_status(why=problem)
    return Child(run, executor.start(run, threads, gpus), threads, queued_at)


def worker_loop(runs_dir, executor=None, idle_exit_s: float = 2.0) -> None:
    """Start queued runs, oldest first, while they fit, until the queue stays empty. The
    executor trains them: LocalExecutor (the default) here, or ray_runner.RayExecutor on a
    cluster, which places each run itself when a node has room."""
    executor = executor or LocalExecutor()
    lock = try_lock(Path(runs_dir) / LOCK_NAME, wait_s=5.0)
    if lock is None:
        return  # another worker owns the queue and will see our run
    children: dict[str, Child] = {}
    try:
        idle_since = time.time()
        while True:
            for run_id, child in list(children.items()):
                rc = child.trainer.poll()
                if rc is not None:
                    _finish(child.run, rc, getattr(child.trainer, "lost", None), child.queued_at)
                    del children[run_id]
                    idle_since = time.time()
            for run in queued_runs(runs_dir):  # in order: a later run never jumps the queue
                if run.id in children:
                    continue
                if not executor.places_runs and not fits(
                        [c.threads for c in children.values()], run_threads(run)):
                    break
                children[run.id] = _start_child(run, executor)
            if not children and time.time() - idle_since > idle_exit_s:
                if not queued_runs(runs_dir):
                    return
            time.sleep(0.3)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
