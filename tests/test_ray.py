"""Runs on a Ray cluster: two nodes simulated on this machine with Ray's own test helper, bound
to the loopback address (issue 24). Skipped where Ray is not installed
(requirements-ray.txt)."""
import os
import signal
from pathlib import Path

import pytest

from sgan_core.config import make_config
from sgan_core.runs import launcher
from sgan_core.runs.rundir import RunDir, list_runs
from sgan_ui.words import status_text

from conftest import cli, wait_for

# Ray resolves "127.0.0.1" to the machine's network address unless told that this is a
# single-machine cluster: the test (and every process it starts) stays on the loopback.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow
LOOPBACK = {"node_ip_address": "127.0.0.1", "num_cpus": 1}


@pytest.fixture
def cluster(runs_dir):
    from ray.cluster_utils import Cluster
    c = Cluster(initialize_head=True, head_node_args=dict(LOOPBACK, include_dashboard=False))
    worker = c.add_node(**LOOPBACK)
    c.wait_for_nodes()
    yield c, worker
    stop_workers(runs_dir)
    c.shutdown()


def stop_workers(runs_dir) -> None:
    """The queue workers this test's runs started (each in its own session)."""
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in cmd and str(runs_dir).encode() in cmd and proc.name.isdigit():
            os.kill(int(proc.name), signal.SIGKILL)


def test_a_sweep_runs_on_both_nodes(cluster, small_mnist, runs_dir):
    c, worker = cluster
    r = cli("sweep", "--labels", "20,50", "--variants", "stacked,supervised", "--seeds", "0",
            "--steps", 30, "--threads", 1, "--runs-dir", runs_dir, "--mnist", small_mnist,
            "--ray-address", c.address, "--wait", timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    statuses = [RunDir(runs_dir / s.id).read_status() for s in list_runs(runs_dir)]
    assert [s["state"] for s in statuses] == ["finished"] * 4
    assert {s["node"] for s in statuses} == {c.head_node.node_id, worker.node_id}


def test_stop_and_a_lost_node_on_a_cluster(cluster, small_mnist, runs_dir, monkeypatch):
    c, worker = cluster
    monkeypatch.setenv("SGAN_MNIST", small_mnist)
    monkeypatch.setenv("SGAN_RAY_ADDRESS", c.address)
    runs = launcher.start_runs([make_config("fast", labels=20, max_seconds=40.0,
                                            threads=1, checkpoint_seconds=1.0, variant=v)
                                for v in ("stacked", "supervised")], runs_dir)

    def node_of(run):
        return run.read_status().get("node") if run.read_status().get("state") == "running" \
            else None
    wait_for(lambda: all(node_of(r) for r in runs), "both runs to train, one on each node")
    on_worker = next(r for r in runs if node_of(r) == worker.node_id)
    on_head = next(r for r in runs if r is not on_worker)
    # Stop reaches a run on the worker node (through the STOP file on the shared path)
    on_worker.request_stop()
    wait_for(lambda: on_worker.read_status().get("state") == "stopped", "the stop")
    launcher.resume_run(on_worker, runs_dir)  # the only free CPU is the worker node's again
    wait_for(lambda: node_of(on_worker) == worker.node_id
             and on_worker.read_status().get("step", 0) >= 20, "the resume on the worker node")
    # the worker node leaves mid-run: its run is interrupted, not failed, not "running"
    c.remove_node(worker, allow_graceful=False)
    wait_for(lambda: on_worker.read_status().get("state") != "running", "the lost node")
    status = on_worker.read_status()
    assert status["state"] == "interrupted", status
    assert status["why"]["code"] == "lost_node"
    assert "cluster node" in status_text(on_worker.summary())
    # the head node's CPU is freed, and Resume completes the run there
    launcher.stop_run(on_head)
    wait_for(lambda: on_head.read_status().get("state") not in ("queued", "running"),
             "the head run's stop")
    launcher.resume_run(on_worker, runs_dir)
    wait_for(lambda: on_worker.read_status().get("state") not in ("queued", "running"),
             "the resumed run to end", timeout=300)
    status = on_worker.read_status()
    assert status["state"] in ("finished",), status
    assert status["node"] == c.head_node.node_id
    # two threads on a cluster of 1-CPU machines: Ray would keep the task pending in silence
    big = launcher.start_runs([make_config("fast", labels=20, steps=30, threads=2)],
                              runs_dir)[0]
    wait_for(lambda: big.read_status().get("why", {}).get("code") == "waiting_cpus",
             "the reason in the run's status", timeout=60)
    status = big.read_status()
    assert status["state"] == "queued"
    assert status["why"] == {"code": "waiting_cpus", "threads": 2, "largest": 1}
    assert "with 2 CPUs: the largest in the Ray cluster has 1" in status_text(big.summary())
    launcher.stop_run(big)
