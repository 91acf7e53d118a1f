"""Shared fixtures: a small slice of the real MNIST and a runs directory per test."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from sgan_core import PROJECT_ROOT as ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def small_mnist(tmp_path_factory) -> str:
    """3,000 training and 1,000 test images of the real MNIST, as an npz file."""
    from sgan_core.data import SHIPPED_MNIST
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
