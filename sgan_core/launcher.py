"""Background training for the dashboard: a queue of runs and one worker process.

Policy (2 CPU cores): one training at a time, across every browser session and server restart.
Start and Resume mark a run `queued` and make sure a worker is alive; the worker (a fresh
`python -m sgan_core worker` process in its own session, so it outlives the web server and never
inherits a forked TensorFlow) trains queued runs oldest first, each in its own
`python -m sgan_core train --resume` child, and exits when the queue is empty. A file lock keeps
the worker unique.
"""
from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .config import RunConfig
from .rundir import ACTIVE_STATES, RunDir, create_run, list_run_dirs

LOCK_NAME = ".worker.lock"
TRAINER_NICE = 10  # the trainer yields the CPU to the web server when both want it


def enqueue(run: RunDir, message: str = "queued") -> None:
    run.clear_stop()
    run.write_status(state="queued", message=message, queued_at=time.time(), pid=None)


def start_run(cfg: RunConfig, runs_dir) -> RunDir:
    run = create_run(cfg, runs_dir)
    enqueue(run)
    ensure_worker(runs_dir)
    return run


def resume_run(run: RunDir, runs_dir) -> None:
    enqueue(run, "queued to resume")
    ensure_worker(runs_dir)


def stop_run(run: RunDir) -> None:
    """Ask a running trainer to stop (it checkpoints first); a queued run is dequeued."""
    state = run.effective_status().get("state")
    if state == "queued":
        run.write_status(state="stopped", message="removed from the queue")
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
    return sorted(runs, key=lambda r: r.read_status().get("queued_at", 0.0))


def ensure_worker(runs_dir) -> None:
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(runs_dir) / "worker.log", "ab") as log:
        subprocess.Popen([sys.executable, "-m", "sgan_core", "worker", "--runs-dir",
                          str(Path(runs_dir).resolve())],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, cwd=str(Path(__file__).resolve().parent.parent))


def _try_lock(runs_dir, wait_s: float):
    f = open(Path(runs_dir) / LOCK_NAME, "a")
    deadline = time.time() + wait_s
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.time() >= deadline:
                f.close()
                return None
            time.sleep(0.2)


def train_subprocess(run: RunDir, threads: int | None = None) -> int:
    cmd = [sys.executable, "-m", "sgan_core", "train", "--resume", str(run.path), "--quiet",
           "--nice", str(TRAINER_NICE)]
    if threads:
        cmd += ["--threads", str(threads)]
    with open(run.log_path, "ab") as log:
        return subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               cwd=str(Path(__file__).resolve().parent.parent))


def worker_loop(runs_dir, idle_exit_s: float = 2.0) -> None:
    """Train queued runs one at a time until the queue stays empty."""
    lock = _try_lock(runs_dir, wait_s=5.0)
    if lock is None:
        return  # another worker owns the queue and will see our run
    try:
        idle_since = time.time()
        while True:
            queue = queued_runs(runs_dir)
            if not queue:
                if time.time() - idle_since > idle_exit_s:
                    return
                time.sleep(0.3)
                continue
            run = queue[0]
            rc = train_subprocess(run, RunConfig.from_dict(run.read_config()).threads)
            status = run.read_status()
            if status.get("state") in ACTIVE_STATES:
                # the trainer died before it could write its final state
                run.write_status(state="failed" if rc else "interrupted",
                                 message=f"training process exited with code {rc}; "
                                         f"see {run.log_path.name}")
            idle_since = time.time()
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
