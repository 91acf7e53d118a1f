"""The live feed: one feed per run, built once per change in memory for every viewer."""
import os
import shutil
import time

from sgan_core.runs.rundir import RunDir
from sgan_ui import feed_publisher
from sgan_ui.feed_hub import HUB

from conftest import wait_for


def _running_copy(finished_runs_dir, tmp_path) -> RunDir:
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    run = RunDir(next(p for p in runs_dir.iterdir() if "stacked" in p.name))
    run.write_status(state="running", pid=os.getpid(), step=15, heartbeat=time.time())
    return run


def _channel(run):
    return HUB.channel(feed_publisher.feed_id(run.id))


def test_publish_hands_over_once_per_change_and_the_last_state(finished_runs_dir, tmp_path):
    run = _running_copy(finished_runs_dir, tmp_path)
    HUB.channels.pop(feed_publisher.feed_id(run.id), None)
    assert feed_publisher.publish(run) == "running"
    first = feed_publisher.read_feed(run)
    seq = _channel(run).seq
    feed_publisher.publish(run)  # nothing changed: nothing new for the viewers
    assert _channel(run).seq == seq and not _channel(run).ended
    assert first["text"] == "running · step 15 / 30" and first["metrics"][2][0] == "Elapsed"
    losses, accuracy = first["charts"]
    assert all(t["meta"] == "smooth" for t in losses["data"])  # the browser smooths these
    assert [t.get("meta") for t in accuracy["data"]][0] == "smooth"
    assert all(t.get("meta") is None for t in accuracy["data"][1:])  # test accuracy is not
    for trace in losses["data"] + accuracy["data"]:  # either x axis, the same points
        assert len(trace["x"]) == len(trace["x_elapsed_s"]) == len(trace["y"])
        assert trace["x_elapsed_s"] == sorted(trace["x_elapsed_s"])
    step, png = _channel(run).grid
    assert first["grid"] == {"step": step, "src": f"/feed/{feed_publisher.feed_id(run.id)}"
                                                  f"/grid-{step}.png"}
    assert png == run.sample_files()[-1][1].read_bytes()

    run.write_status(state="finished", step=30)
    assert feed_publisher.publish(run) == "finished"
    last = feed_publisher.read_feed(run)
    assert last["state"] == "finished" and last["version"] != first["version"]
    assert _channel(run).ended and _channel(run).seq == seq + 1


def test_a_damaged_grid_is_left_out(finished_runs_dir, tmp_path):
    run = _running_copy(finished_runs_dir, tmp_path)
    HUB.channels.pop(feed_publisher.feed_id(run.id), None)
    run.sample_files()[-1][1].write_bytes(b"not a png")
    feed_publisher.publish(run)
    assert feed_publisher.read_feed(run)["grid"] is None
    assert _channel(run).grid is None


def test_the_publisher_follows_a_watched_run_to_its_end(finished_runs_dir, tmp_path):
    run = _running_copy(finished_runs_dir, tmp_path)
    HUB.channels.pop(feed_publisher.feed_id(run.id), None)
    publisher = feed_publisher.Publisher()
    assert publisher.watch(run) == feed_publisher.feed_id(run.id)
    wait_for(lambda: (feed_publisher.read_feed(run) or {}).get("state") == "running",
             "the first feed", 30)
    run.write_status(state="finished", step=30)  # its last state: published, then not watched
    wait_for(lambda: feed_publisher.read_feed(run)["state"] == "finished", "the last state", 30)
    wait_for(lambda: not publisher.runs, "the run no longer watched", 30)


def test_a_room_arriving_does_not_keep_the_publisher_reading(tmp_path, monkeypatch):
    """Every viewer's page or stream asks the publisher to watch its run: only the first
    wakes it, or a room arriving would keep it reading the run's files."""
    read = []
    monkeypatch.setattr(feed_publisher, "publish", lambda run: read.append(run.id) or "running")
    publisher = feed_publisher.Publisher()
    run = RunDir(tmp_path / "20261205-120000-stacked-100l-fast-s0")
    for _ in range(500):
        publisher.watch(run)
    wait_for(lambda: read, "the first reading", 10)
    time.sleep(0.5)
    assert len(read) == 1
    publisher.runs.clear()
