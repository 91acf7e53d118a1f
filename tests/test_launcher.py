"""The dashboard's queue: background runs train in order, each in its own process, as many at
once as the cores (or $SGAN_SLOTS) hold."""
import time

import pytest

from sgan_core.config import make_config
from sgan_core.runs import launcher
from sgan_core.runs.rundir import create_run


@pytest.mark.slow
def test_two_starts_train_one_after_the_other(small_mnist, runs_dir, monkeypatch):
    monkeypatch.setenv("SGAN_MNIST", small_mnist)
    monkeypatch.setenv("SGAN_SLOTS", "1")
    first = launcher.start_run(make_config("fast", labels=20, steps=40), runs_dir)
    second = launcher.start_run(make_config("fast", labels=20, steps=40, variant="supervised"),
                                runs_dir)
    deadline = time.time() + 300
    seen_running = set()
    while time.time() < deadline:
        states = [r.effective_status().get("state") for r in (first, second)]
        seen_running.add(tuple(states))
        assert states != ["running", "running"], "two trainings ran at once"
        if states == ["finished", "finished"]:
            break
        time.sleep(0.1)
    assert [r.read_status()["state"] for r in (first, second)] == ["finished", "finished"]
    assert first.read_status()["finished_at"] <= second.read_status()["heartbeat"]
    assert ("running", "queued") in seen_running  # the second waited in the queue
    assert first.read_status()["pid"] != second.read_status()["pid"]


def test_stopping_a_queued_run_dequeues_it(runs_dir):
    queued = create_run(make_config("fast", labels=20, steps=40), runs_dir)
    launcher.enqueue(queued)
    launcher.stop_run(queued)
    assert queued.read_status()["state"] == "stopped"
    assert launcher.queued_runs(runs_dir) == []


def test_runs_fit_by_threads_or_by_slots(monkeypatch):
    monkeypatch.delenv("SGAN_SLOTS", raising=False)
    monkeypatch.setattr(launcher.os, "cpu_count", lambda: 2)
    assert launcher.fits([], 8)                # a run always starts on an idle machine
    assert not launcher.fits([2], 2)           # 2 cores: a 2-thread run trains alone
    assert launcher.fits([1], 1) and not launcher.fits([1, 1], 1)
    monkeypatch.setattr(launcher.os, "cpu_count", lambda: 16)
    assert launcher.fits([2] * 7, 2) and not launcher.fits([2] * 8, 2)
    monkeypatch.setenv("SGAN_SLOTS", "2")
    assert launcher.fits([2], 2) and not launcher.fits([1, 1], 1)


@pytest.mark.slow
def test_two_slots_train_four_runs_two_at_a_time(small_mnist, runs_dir, monkeypatch):
    monkeypatch.setenv("SGAN_MNIST", small_mnist)
    monkeypatch.setenv("SGAN_SLOTS", "2")
    runs = [launcher.start_run(make_config("fast", labels=20, steps=60, seed=i, threads=1),
                               runs_dir) for i in range(4)]
    deadline = time.time() + 400
    most, pids = 0, set()
    while time.time() < deadline:
        statuses = [r.effective_status() for r in runs]
        running = [s for s in statuses if s.get("state") == "running"]
        most = max(most, len(running))
        pids.update(s.get("pid") for s in running)
        assert len(running) <= 2, "more trainings at once than slots"
        if all(s.get("state") == "finished" for s in statuses):
            break
        time.sleep(0.05)
    assert [r.read_status()["state"] for r in runs] == ["finished"] * 4
    assert most == 2 and len(pids) == 4
    # every run trained to its end, each row once
    for r in runs:
        assert [row["step"] for row in r.read_metrics()][-1] == 60
    # from the runs' own clocks: never three trainers alive at the same time
    spans = [(r.read_status()["started_at"], r.read_status()["finished_at"]) for r in runs]
    for start, _ in spans:
        assert sum(s <= start < f for s, f in spans) <= 2
