"""The dashboard's queue: background runs train one at a time, in order, in their own process."""
import time

import pytest

from sgan_core import launcher
from sgan_core.config import make_config
from sgan_core.rundir import create_run


@pytest.mark.slow
def test_two_starts_train_one_after_the_other(small_mnist, runs_dir, monkeypatch):
    monkeypatch.setenv("SGAN_MNIST", small_mnist)
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
