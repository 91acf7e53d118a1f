"""Run directory contract: atomic files, safe run lookup, torn metrics, interrupted runs."""
import json
import os
import time

import pytest

from sgan_core.runs.rundir import NoSuchRun, RunDir, atomic_write_json, list_runs, resolve_run


def make_run(runs_dir, run_id, **status):
    run = RunDir(runs_dir / run_id)
    run.path.mkdir()
    run.write_config({"labels": 100, "variant": "stacked", "preset": "fast", "seed": 0,
                      "steps": 10})
    run.write_status(**status)
    return run


def test_atomic_write_leaves_no_temp_files(tmp_path):
    atomic_write_json(tmp_path / "a.json", {"x": 1})
    atomic_write_json(tmp_path / "a.json", {"x": 2})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2}
    assert os.listdir(tmp_path) == ["a.json"]


@pytest.mark.parametrize("bad", ["../etc", "..", ".", "/etc/passwd", "a/b", "", "unknown-run",
                                 "..%2F", "x" * 300, "good-run\n", "good-run\r\n"])
def test_resolve_refuses_everything_but_known_runs(runs_dir, bad):
    make_run(runs_dir, "good-run", state="finished")
    with pytest.raises(NoSuchRun):
        resolve_run(runs_dir, bad)
    assert resolve_run(runs_dir, "good-run").id == "good-run"


def test_torn_metrics_line_is_ignored(runs_dir):
    run = make_run(runs_dir, "r1", state="running")
    run.append_metrics([{"step": 1}, {"step": 2}])
    with open(run.metrics_path, "a") as f:
        f.write('{"step": 3, "loss')
    assert [r["step"] for r in run.read_metrics()] == [1, 2]
    run.truncate_metrics(1)
    assert [r["step"] for r in run.read_metrics()] == [1]


def test_metrics_are_read_incrementally_and_survive_damage(runs_dir, monkeypatch):
    run = make_run(runs_dir, "r1", state="running")
    run.append_metrics([{"step": 1}])
    with open(run.metrics_path, "a") as f:
        f.write('not json\n[1, 2]\n{"no_step": 1}\n')     # damaged lines are skipped
    run.append_metrics([{"step": 2}])
    assert [r["step"] for r in run.read_metrics()] == [1, 2]
    with open(run.metrics_path, "a") as f:                    # half a row: not yet
        f.write('{"step": 3, "loss_sup"')
    assert [r["step"] for r in run.read_metrics()] == [1, 2]
    with open(run.metrics_path, "a") as f:                    # ... until its end arrives
        f.write(': 0.5}\n')
    assert run.read_metrics()[-1] == {"step": 3, "loss_sup": 0.5}
    # only the appended bytes are read: the old rows are not parsed again
    parsed = []
    import sgan_core.runs.rundir as rundir
    real = rundir._parse_rows
    monkeypatch.setattr(rundir, "_parse_rows", lambda data: parsed.append(data) or real(data))
    run.append_metrics([{"step": 4}])
    assert [r["step"] for r in run.read_metrics()] == [1, 2, 3, 4]
    assert parsed == [b'{"step": 4}\n']
    # a resume replaces the file whole: the cache notices and reads it again
    run.truncate_metrics(2)
    assert [r["step"] for r in run.read_metrics()] == [1, 2]
    run.metrics_path.unlink()
    assert run.read_metrics() == ()


def test_dead_running_run_reads_as_interrupted(runs_dir):
    run = make_run(runs_dir, "r1", state="running", pid=2 ** 22 + 12345)
    status = json.loads(run.status_path.read_text())
    status["heartbeat"] = time.time() - 3600
    run.status_path.write_text(json.dumps(status))
    assert run.effective_status()["state"] == "interrupted"
    alive = make_run(runs_dir, "r2", state="running", pid=os.getpid())
    assert alive.effective_status()["state"] == "running"
    assert {r.id: r.state for r in list_runs(runs_dir)} == {"r1": "interrupted",
                                                            "r2": "running"}
