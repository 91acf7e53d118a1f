"""The live feed: one file per run, written once per change for every viewer of its page."""
import json
import os
import shutil
import time

from sgan_core.runs.rundir import RunDir
from sgan_ui import live_feed

from conftest import wait_for


def _running_copy(finished_runs_dir, tmp_path) -> RunDir:
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    run = RunDir(next(p for p in runs_dir.iterdir() if "stacked" in p.name))
    run.write_status(state="running", pid=os.getpid(), step=15, heartbeat=time.time())
    return run


def test_publish_writes_once_per_change_and_the_last_state(finished_runs_dir, tmp_path,
                                                           feed_dir):
    run = _running_copy(finished_runs_dir, tmp_path)
    assert live_feed.publish(run) == "running"
    first = live_feed.read_feed(run)
    path = feed_dir / f"{live_feed.feed_name(run)}.json"  # $SGAN_FEED_DIR, read when written
    assert live_feed.feed_dir() == feed_dir and path.is_file()
    written = path.stat().st_mtime_ns
    live_feed.publish(run)  # nothing changed: not written again
    assert path.stat().st_mtime_ns == written
    assert first["text"] == "running · step 15 / 30" and first["metrics"][2][0] == "Elapsed"
    losses, accuracy = first["charts"]
    assert all(t["meta"] == "smooth" for t in losses["data"])  # the browser smooths these
    assert [t.get("meta") for t in accuracy["data"]][0] == "smooth"
    assert all(t.get("meta") is None for t in accuracy["data"][1:])  # test accuracy is not
    for trace in losses["data"] + accuracy["data"]:  # either x axis, the same points
        assert len(trace["x"]) == len(trace["x_elapsed_s"]) == len(trace["y"])
        assert trace["x_elapsed_s"] == sorted(trace["x_elapsed_s"])
    grid = feed_dir / first["grid"]["src"].rsplit("/", 1)[1]
    assert grid.read_bytes() == run.sample_files()[-1][1].read_bytes()

    run.write_status(state="finished", step=30)
    assert live_feed.publish(run) == "finished"
    last = live_feed.read_feed(run)
    assert last["state"] == "finished" and last["version"] != first["version"]


def test_a_damaged_grid_is_left_out(finished_runs_dir, tmp_path, feed_dir):
    run = _running_copy(finished_runs_dir, tmp_path)
    run.sample_files()[-1][1].write_bytes(b"not a png")
    live_feed.publish(run)
    assert live_feed.read_feed(run)["grid"] is None
    assert not list(feed_dir.glob("*.png"))


def test_the_feeds_default_to_the_served_folder(monkeypatch):
    """Unset, $SGAN_FEED_DIR leaves the feeds in static/live/, which Streamlit serves as the
    app/static/live/ of feed_url."""
    from sgan_core import PROJECT_ROOT
    monkeypatch.delenv("SGAN_FEED_DIR")
    assert live_feed.feed_dir() == PROJECT_ROOT / "static" / "live"


def test_the_publisher_writes_where_the_page_looked(finished_runs_dir, tmp_path, feed_dir,
                                                   monkeypatch):
    """A watched run's feed stays in the folder the page looked in when $SGAN_FEED_DIR changes
    after (as when a test ends: its thread then never writes into the project)."""
    run = _running_copy(finished_runs_dir, tmp_path)
    live_feed.Publisher().watch(run)
    path = feed_dir / f"{live_feed.feed_name(run)}.json"
    assert json.loads(path.read_text())["state"] == "running"
    monkeypatch.setenv("SGAN_FEED_DIR", str(tmp_path / "elsewhere"))
    run.write_status(state="finished", step=30)  # its last state: written, then not watched
    wait_for(lambda: json.loads(path.read_text())["state"] == "finished", "the last state", 30)
    assert not (tmp_path / "elsewhere").exists()
