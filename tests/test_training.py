"""End-to-end training through the CLI on a small slice of real MNIST (a few steps each)."""
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sgan_core.model.variants import VARIANTS
from sgan_core.runs.rundir import RunDir, list_run_dirs
from sgan_ui.words import status_text

from conftest import ROOT, cli

pytestmark = pytest.mark.slow


def only_run(runs_dir) -> RunDir:
    runs = list_run_dirs(runs_dir)
    assert len(runs) == 1
    return runs[0]


@pytest.mark.parametrize("variant", VARIANTS)
def test_cli_trains_and_writes_a_complete_run(variant, small_mnist, runs_dir):
    r = cli("train", "--labels", 20, "--variant", variant, "--steps", 60, "--runs-dir", runs_dir,
            "--mnist", small_mnist, "--quiet")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "final test accuracy" in r.stdout.strip().splitlines()[-1]
    run = only_run(runs_dir)
    cfg = run.read_config()
    assert cfg["labels"] == 20 and cfg["variant"] == variant and cfg["input_range"] == [-1, 1]
    status = run.read_status()
    assert status["state"] == "finished" and status["step"] == 60 and status["test_acc"] > 0.2
    rows = run.read_metrics()
    steps = [row["step"] for row in rows]
    assert steps == sorted(set(steps)) and steps[-1] == 60
    for key in ("elapsed_s", "loss_sup", "loss_d_real", "loss_d_fake", "loss_g", "train_acc"):
        assert key in rows[-1]
    assert "test_acc" in rows[-1]
    import keras
    clf = keras.saving.load_model(run.classifier_path, safe_mode=True)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    probs = np.asarray(clf(x))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    spec = VARIANTS[variant]
    if not spec.is_gan:
        assert not run.discriminator_path.exists() and not run.sample_files()
    else:
        raw = np.asarray(keras.saving.load_model(run.discriminator_path, safe_mode=True)(x))
        assert raw.shape == (3, spec.raw_width)
        assert run.generator_path.is_file() and len(run.sample_files()) >= 2


def test_kill_at_any_moment_then_resume(small_mnist, runs_dir):
    """SIGKILL mid-run leaves parseable files; resume continues without duplicate rows."""
    proc = subprocess.Popen([sys.executable, "-m", "sgan_core", "train", "--labels", "20",
                             "--variant", "stacked", "--steps", "400", "--runs-dir", str(runs_dir),
                             "--mnist", small_mnist, "--quiet", "--run-id", "killme"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = RunDir(runs_dir / "killme")
    deadline = time.time() + 300
    # kill after the first checkpoint (step 300 in the fast preset), between two checkpoints
    while time.time() < deadline and not (run.read_status().get("step", 0) >= 320 and
                                          (run.ckpt_dir / "state.npz").is_file()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = run.read_status()["step"]
    assert 300 < killed_at < 400
    for name in ("config.json", "status.json"):
        json.loads((run.path / name).read_text())
    assert run.effective_status()["state"] == "interrupted"
    r = cli("train", "--resume", run.path, "--quiet")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resuming at step 300" in r.stderr
    status = run.read_status()
    assert status["state"] == "finished" and status["step"] == 400
    steps = [row["step"] for row in run.read_metrics()]
    assert steps == sorted(set(steps)), "duplicated or reordered metric rows"
    assert steps[-1] == 400 and set(range(50, 401, 50)) <= set(steps), "lost metric rows"
    # a grid every 100 steps (fast), the final step's included although it is one of them
    assert [step for step, _ in run.sample_files()] == [0, 100, 200, 300, 400]


def test_stop_request_is_honoured_and_resumable(small_mnist, runs_dir):
    proc = subprocess.Popen([sys.executable, "-m", "sgan_core", "train", "--labels", "20",
                             "--steps", "150", "--runs-dir", str(runs_dir), "--mnist",
                             small_mnist, "--quiet", "--run-id", "stopme"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = RunDir(runs_dir / "stopme")
    deadline = time.time() + 300
    while time.time() < deadline and run.read_status().get("step", 0) < 20:
        time.sleep(0.2)
    requested = time.time()
    run.request_stop()
    proc.wait(timeout=120)
    status = run.read_status()
    print(f"stop honoured: state {status['state']} {time.time() - requested:.2f} s after the "
          "request (checkpoint included)")
    stopped_at = status["step"]
    assert status["state"] == "stopped" and 20 <= stopped_at < 150
    assert (run.ckpt_dir / "state.npz").is_file() and run.classifier_path.is_file()
    assert not run.stop_requested()
    r = cli("train", "--resume", run.path, "--quiet")
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resuming at step {stopped_at}" in r.stderr  # a stop checkpoints its own step
    assert run.read_status()["state"] == "finished" and run.read_status()["step"] == 150
    steps = [row["step"] for row in run.read_metrics()]
    assert steps == sorted(set(steps)) and steps[-1] == 150


def test_nan_loss_fails_the_run_with_a_message(small_mnist, runs_dir):
    r = cli("train", "--labels", 20, "--variant", "supervised", "--steps", 200, "--lr-d", "1e30",
            "--runs-dir", runs_dir, "--mnist", small_mnist, "--quiet")
    assert r.returncode == 3
    status = only_run(runs_dir).read_status()
    assert status["state"] == "failed" and status["why"]["nonfinite"] == 1
    assert "NaN or infinite" in status_text(only_run(runs_dir).summary())


def test_a_loss_past_any_sane_bound_fails_the_run(small_mnist, runs_dir):
    """Learning rate 1.0 once ran to losses of ~2e9 and 'finished' at 55% with no word."""
    r = cli("train", "--labels", 20, "--variant", "stacked", "--steps", 300, "--lr-d", "1.0",
            "--lr-g", "1.0", "--runs-dir", runs_dir, "--mnist", small_mnist, "--quiet")
    status = only_run(runs_dir).read_status()
    assert r.returncode == 3, (r.returncode, status)
    assert status["state"] == "failed" and status["why"]["code"] == "diverged"
    assert "training diverged" in status_text(only_run(runs_dir).summary())


def test_a_game_every_other_step_that_ends_half_way(small_mnist, runs_dir):
    """game_every=2, game_until=0.5: game losses in the first half's rows only, and the
    generator's grids change while the game runs and not after it ends."""
    r = cli("train", "--labels", 20, "--steps", 40, "--runs-dir", runs_dir, "--mnist",
            small_mnist, "--quiet", "--set", "game_every=2", "--set", "game_until=0.5",
            "--set", "sample_every=10", "--set", "subset_every=0")
    assert r.returncode == 0, r.stderr[-2000:]
    run = only_run(runs_dir)
    rows = run.read_metrics()
    played = [row["step"] for row in rows if "loss_g" in row]
    assert played and max(played) <= 20 and rows[-1]["step"] == 40
    assert all("loss_sup" in row for row in rows)
    grids = {step: path.read_bytes() for step, path in run.sample_files()}
    assert grids[10] != grids[20]          # learning while the game runs
    assert grids[30] == grids[40]          # and not after it ended
