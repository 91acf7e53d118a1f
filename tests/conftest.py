"""Shared fixtures and helpers: a small slice of the real MNIST, a runs directory per test, the
CLI in a fresh process, pages through Streamlit's AppTest, and waiting for a condition.
(tests/pages_harness.py drives a real browser.)"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sgan_core import PROJECT_ROOT as ROOT
from sgan_ui.navigation import PAGES

# Every page file, and app.py (which runs Home): a page added to the list is tested by default.
PAGE_FILES = [p.path for p in PAGES]
ENTRY_AND_PAGES = ["app.py"] + [p.path for p in PAGES if p.url_path]
# Each page's heading: a page missing here fails the navigation tests.
HEADINGS = {"pages/home.py": "SGAN Lab", "pages/1_Train.py": "Train a semi-supervised GAN",
            "pages/2_Compare.py": "Compare runs", "pages/3_Draw.py": "Draw a digit",
            "pages/4_Sweep.py": "Label-efficiency sweep", "pages/5_Teach.py": "Teach it yourself",
            "pages/6_Room.py": "Label with the room"}

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Each test's fresh runs directory would time this machine again (speed.py's probe: seconds
# of TensorFlow in a child process); tests that want it time it or cache a probe themselves.
os.environ.setdefault("SGAN_SPEED_PROBE", "0")


@pytest.fixture(scope="session")
def small_mnist(tmp_path_factory) -> str:
    """3,000 training and 1,000 test images of the real MNIST, as an npz file."""
    from sgan_core.data.mnist import SHIPPED_MNIST
    with np.load(SHIPPED_MNIST) as f:
        arrays = {"x_train": f["x_train"][:3000], "y_train": f["y_train"][:3000],
                  "x_test": f["x_test"][:1000], "y_test": f["y_test"][:1000]}
    path = tmp_path_factory.mktemp("data") / "mnist_small.npz"
    np.savez(path, **arrays)
    return str(path)


def pytest_collection_modifyitems(items):
    """Tests that need trained runs train them first: they are slow."""
    for item in items:
        if "finished_runs_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    d = tmp_path / "runs"
    d.mkdir()
    return d


def wait_for(condition, what: str, timeout: float = 300) -> None:
    """Poll condition() until it is true; fail naming `what` after timeout seconds."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def run_page(page: str, runs_dir, monkeypatch, query=None, timeout: float = 90, **env):
    """One run of a page (a path from the project root) through AppTest, on runs_dir."""
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("SGAN_RUNS_DIR", str(runs_dir))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / page), default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def page_text(at) -> str:
    """Every text a page shows in Markdown, captions and message boxes."""
    parts = [e.value for kind in ("markdown", "info", "warning", "error", "caption", "success")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def cli(*args, env=None, timeout=600, **kwargs):
    """Run `python -m sgan_core ...` in a fresh process, as a user would."""
    import subprocess
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    return subprocess.run([sys.executable, "-m", "sgan_core", *map(str, args)], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def finished_runs_dir(tmp_path_factory, small_mnist):
    """Two finished runs on the same 20 labels (seed 0): stacked, and the supervised baseline."""
    d = tmp_path_factory.mktemp("runs_finished")
    for variant in ("stacked", "supervised"):
        r = cli("train", "--labels", 20, "--variant", variant, "--steps", 30, "--runs-dir", d,
                "--mnist", small_mnist, "--quiet")
        assert r.returncode == 0, r.stderr[-2000:]
    return d


def demo_of_finished_runs(finished_runs_dir, runs_dir: Path) -> dict[str, float]:
    """finished_runs_dir's two runs copied into runs_dir as a finished demo: each side's
    variant -> its final test accuracy."""
    import shutil

    from sgan_core.runs import demo
    from sgan_core.runs.rundir import RunDir, atomic_write_json
    shutil.copytree(finished_runs_dir, runs_dir)
    ids = sorted(p.name for p in runs_dir.iterdir() if p.is_dir())
    atomic_write_json(runs_dir / demo.STATE_FILE, {"runs": ids})
    return {RunDir(runs_dir / i).read_config()["variant"]: RunDir(runs_dir / i).read_status()
            ["test_acc"] for i in ids}
