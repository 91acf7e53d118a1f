"""What a new viewer's first run of the Train page costs the server (issue 45): CPU time of
one script run of pages/1_Train.py?run=<a live run> through Streamlit's AppTest, in one
process (so the caches are shared as on a server), with ~20 finished runs and one training.

    python -m benchmarks.first_page [--runs 20] [--reps 15] [--view finished] [--profile 25]

The runs are copies of a few short real trainings (made once, in a temporary directory, or
taken from --source); the live run is one of them with status.json saying `running`, with
the pid of a process this script starts and a fresh heartbeat. The first run is the server's
first viewer (every cache cold); the median of the others is what each further viewer costs.
--profile N prints cProfile's N most expensive calls (cumulative) of one further viewer.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def train_sources(dest: Path) -> None:
    for args in (["--steps", "300", "--labels", "100"],
                 ["--steps", "300", "--labels", "100", "--variant", "supervised"],
                 ["--steps", "30", "--labels", "20"]):
        subprocess.run([sys.executable, "-m", "sgan_core", "train", "--preset", "fast",
                        "--runs-dir", str(dest), "--quiet", *args], check=True)


def build_runs(source: Path, dest: Path, n: int, live_pid: int) -> str:
    """n finished copies of the runs in source and one live one; the live run's id."""
    sources = sorted(p for p in source.iterdir() if (p / "config.json").is_file())
    for i in range(n):
        src = sources[i % len(sources)]
        shutil.copytree(src, dest / f"20261201-{i:06d}-{src.name.split('-', 2)[2]}",
                        ignore=shutil.ignore_patterns("ckpt", "events.*"))
    live = dest / f"20261202-000000-{sources[0].name.split('-', 2)[2]}"
    shutil.copytree(sources[0], live, ignore=shutil.ignore_patterns("ckpt", "events.*"))
    status = json.loads((live / "status.json").read_text())
    status.update(state="running", pid=live_pid, heartbeat=time.time(), test_acc=None,
                  total_steps=1100, why={"code": "running"})
    (live / "status.json").write_text(json.dumps(status))
    return live.name


_script_cpu: list[float] = []


def _server_like() -> None:
    """AppTest as a server runs pages: one compiled-script cache for every session (AppTest
    makes one per test, compiling the page each time), and the CPU time of the script thread
    recorded (AppTest's own parsing of what the page sent runs in the calling thread)."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import local_script_runner as lsr
    shared = ScriptCache()
    lsr.ScriptCache = lambda: shared
    plain = lsr.LocalScriptRunner._run_script_thread

    def timed(self):
        t = time.thread_time()
        try:
            plain(self)
        finally:
            _script_cpu.append(time.thread_time() - t)
    lsr.LocalScriptRunner._run_script_thread = timed


def page_run(run_id: str) -> tuple[float, float]:
    """CPU seconds of one new session's first page run: (script thread, whole process)."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "pages" / "1_Train.py"), default_timeout=120)
    at.query_params["run"] = run_id
    t = time.process_time()
    at.run()
    spent = time.process_time() - t
    assert not at.exception, at.exception
    return _script_cpu[-1], spent


def profiled(run_id: str, top: int) -> None:
    """One page run under cProfile, in AppTest's script thread (where the page runs)."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner
    prof, plain = cProfile.Profile(), LocalScriptRunner._run_script_thread

    def run_profiled(self):
        prof.enable()
        try:
            plain(self)
        finally:
            prof.disable()
    LocalScriptRunner._run_script_thread = run_profiled
    try:
        page_run(run_id)
    finally:
        LocalScriptRunner._run_script_thread = plain
    pstats.Stats(prof).sort_stats("cumulative").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="finished runs")
    ap.add_argument("--reps", type=int, default=15, help="further viewers timed")
    ap.add_argument("--source", help="a runs directory to copy (default: train 3 short runs)")
    ap.add_argument("--view", choices=("live", "finished"), default="live",
                    help="the run the page opens on: the live one or a finished one")
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SGAN_SPEED_PROBE", "0")
    os.chdir(ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="first_page-"))
    sleeper = subprocess.Popen(["sleep", "3600"])
    try:
        source = Path(args.source) if args.source else tmp / "source"
        if not args.source:
            source.mkdir()
            train_sources(source)
        runs = tmp / "runs"
        runs.mkdir()
        live = build_runs(source, runs, args.runs, sleeper.pid)
        if args.view == "finished":  # the newest copy of the first source: charts and grids
            live = max(p.name for p in runs.iterdir()
                       if p.name != live and p.name[16:] == live[16:])
        os.environ["SGAN_RUNS_DIR"] = str(runs)
        _server_like()
        first = page_run(live)
        times = [page_run(live) for _ in range(args.reps)]
        print(f"{args.runs} finished runs + 1 live; CPU ms of one Train page run on the "
              f"{args.view} run {live}:")
        for i, what in enumerate(("script thread", "whole process (with AppTest's own)")):
            ms = [1000 * t[i] for t in times]
            print(f"  {what}: first viewer {1000 * first[i]:.0f}; each further viewer median "
                  f"{statistics.median(ms):.1f} (min {min(ms):.1f}, max {max(ms):.1f}, "
                  f"n={len(ms)})")
        if args.profile:
            profiled(live, args.profile)
    finally:
        sleeper.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
