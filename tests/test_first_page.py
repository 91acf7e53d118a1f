"""A cheap first page run (issue 45): every run's summary is read once per change of its files
for every viewer, a change (a new run, a new state, a trainer killed) is seen by the next page
run, and what a viewer has not opened is not built."""
import os
import subprocess
import threading
import time

import pytest
from test_rundir import make_run
from test_untrusted import copy_of_shipped

from sgan_core.runs.rundir import RunDir, list_runs

from conftest import page_text, run_page

TRAIN = "pages/1_Train.py"


def aged(*runs, seconds: float = 10) -> None:
    """Files last changed `seconds` ago: past the window in which a change is always re-read."""
    then = time.time() - seconds
    for run in runs:
        for path in (run.config_path, run.status_path, run.classifier_path):
            if path.exists():
                os.utime(path, (then, then))


@pytest.fixture
def summary_reads(monkeypatch) -> list[str]:
    """The ids of runs whose summary was read from their files (by pages, not the feed's
    publisher thread, which reads a live run on its own clock)."""
    reads, plain = [], RunDir.summary

    def counted(self, status=None):
        if threading.current_thread().name != "sgan-live-feed":
            reads.append(self.id)
        return plain(self, status)
    monkeypatch.setattr(RunDir, "summary", counted)
    return reads


def test_summaries_are_read_once_per_change(runs_dir, summary_reads):
    a = make_run(runs_dir, "a", state="finished", test_acc=0.9)
    b = make_run(runs_dir, "b", state="finished", test_acc=0.8)
    aged(a, b)
    assert [r.state for r in list_runs(runs_dir)] == ["finished", "finished"]
    assert sorted(summary_reads) == ["a", "b"]
    summary_reads.clear()
    list_runs(runs_dir)
    assert summary_reads == []
    b.write_status(state="stopped")  # a new file (atomic write)
    assert {r.id: r.state for r in list_runs(runs_dir)} == {"a": "finished", "b": "stopped"}
    assert summary_reads == ["b"]
    # rewritten in place, same size, same time stamp: still seen, as it changed within the
    # window in which a file system's clock tick could hide a second change
    stamp = b.status_path.stat().st_mtime_ns
    b.status_path.write_text(b.status_path.read_text().replace('"stopped"', '"running"'))
    os.utime(b.status_path, ns=(stamp, stamp))
    assert {r.id: r.state for r in list_runs(runs_dir)}["b"] == "running"


def test_a_killed_trainer_is_seen_without_a_file_changing(runs_dir, summary_reads):
    trainer = subprocess.Popen(["sleep", "60"])
    try:
        run = make_run(runs_dir, "r", state="running", pid=trainer.pid)
        aged(run)
        assert [r.state for r in list_runs(runs_dir)] == ["running"]
        assert [r.state for r in list_runs(runs_dir)] == ["running"]
        assert summary_reads == ["r"]
    finally:
        trainer.kill()
        trainer.wait()
    assert [r.state for r in list_runs(runs_dir)] == ["interrupted"]
    assert list_runs(runs_dir)[0].why == {"code": "vanished"}


def test_a_second_viewer_reads_no_run_file_again(runs_dir, monkeypatch, summary_reads):
    trainer = subprocess.Popen(["sleep", "120"])
    try:
        done = copy_of_shipped(runs_dir, "20261201-000000-done")
        live = copy_of_shipped(runs_dir, "20261202-000000-live", status={
            "state": "running", "pid": trainer.pid, "heartbeat": time.time(), "test_acc": None})
        aged(done, live)
        at = run_page(TRAIN, runs_dir, monkeypatch, query={"run": live.id})
        assert not at.exception, at.exception
        assert set(summary_reads) == {done.id, live.id}
        # folded away, so not built: the QR code (and the labeled images)
        assert not at.get("image")
        summary_reads.clear()
        at = run_page(TRAIN, runs_dir, monkeypatch, query={"run": live.id})  # a new session
        assert not at.exception, at.exception
        assert summary_reads == []
        assert at.selectbox(key="run_pick").options[0].endswith(f"running  ({live.id})")

        new = copy_of_shipped(runs_dir, "20261203-000000-new")
        RunDir(done.path).write_status(state="queued", why={"code": "queued"})
        at = run_page(TRAIN, runs_dir, monkeypatch, query={"run": live.id})
        assert sorted(summary_reads) == sorted([done.id, new.id])
        options = at.selectbox(key="run_pick").options
        assert options[0].endswith(f"({new.id})")
        assert options[2].endswith(f"queued  ({done.id})")
    finally:
        trainer.kill()
        trainer.wait()
    at = run_page(TRAIN, runs_dir, monkeypatch, query={"run": live.id})
    assert "Interrupted" in page_text(at)
