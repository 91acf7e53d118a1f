"""ckpt/state.npz restored by variable name; a checkpoint written by position (before names)
still resumes; one from another network is refused with a sentence (issue 42)."""
import json

import numpy as np
import pytest

from sgan_core.config import make_config
from sgan_core.model.sgan import SGAN
from sgan_core.runs.rundir import RunDir, create_run
from sgan_core.training import checkpoints
from sgan_ui.words import status_text

from conftest import ROOT, cli


def shuffled_weights(sgan: SGAN, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for variables in sgan.variable_groups().values():
        for var in variables.values():
            var.assign(rng.normal(size=var.shape).astype(var.dtype.name if hasattr(
                var.dtype, "name") else "float32"))


def values(sgan: SGAN) -> dict:
    return {f"{g}/{n}": np.array(v.numpy()) for g, vs in sgan.variable_groups().items()
            for n, v in vs.items()}


def test_names_not_positions_decide_which_array_goes_where(tmp_path):
    cfg = make_config("fast", labels=20)
    a, b = SGAN(cfg), SGAN(cfg)
    shuffled_weights(a, 1)
    checkpoints.save(tmp_path / "state.npz", a.variable_groups(), {"step": 7})
    # the same variables listed in another order still receive their own arrays
    groups = {g: dict(reversed(list(vs.items()))) for g, vs in b.variable_groups().items()}
    meta = checkpoints.load(tmp_path / "state.npz", groups)
    assert meta["step"] == 7 and meta["by"] == "name"
    va, vb = values(a), values(b)
    assert va.keys() == vb.keys() and all(np.array_equal(va[k], vb[k]) for k in va)
    assert "g/g_dense0/kernel" in va and "opt_d/opt_d/iteration" in va


def test_a_checkpoint_written_by_position_still_restores(tmp_path):
    """The format of every run trained before names: `<group>/<i>` in the variables' order."""
    cfg = make_config("fast", labels=20)
    a, b = SGAN(cfg), SGAN(cfg)
    shuffled_weights(a, 2)
    arrays = {f"{g}/{i}": np.asarray(v.numpy()) for g, vs in a.variable_groups().items()
              for i, v in enumerate(vs.values())}
    arrays["meta"] = np.array(json.dumps({"step": 3}))
    np.savez(tmp_path / "old.npz", **arrays)
    checkpoints.load(tmp_path / "old.npz", b.variable_groups())
    va, vb = values(a), values(b)
    assert all(np.array_equal(va[k], vb[k]) for k in va)


def test_a_checkpoint_of_another_network_is_refused_and_changes_nothing(tmp_path):
    small = SGAN(make_config("fast", labels=20, cnn_filters=[8, 16, 32]))
    checkpoints.save(tmp_path / "state.npz", small.variable_groups(), {"step": 1})
    other = SGAN(make_config("fast", labels=20))
    before = values(other)
    with pytest.raises(checkpoints.CheckpointMismatch, match="d/d_conv0/kernel has shape"):
        checkpoints.load(tmp_path / "state.npz", other.variable_groups())
    assert all(np.array_equal(before[k], v) for k, v in values(other).items())
    mlp = SGAN(make_config("salimans", labels=20))
    with pytest.raises(checkpoints.CheckpointMismatch, match="holds no d/d_dense0"):
        checkpoints.load(tmp_path / "state.npz", mlp.variable_groups())


def test_config_files_written_before_still_load():
    """The shipped demo run's config.json (written before the settings were grouped, with
    options since removed) still loads, as MNIST with random labels."""
    cfg = RunDir(ROOT / "data" / "demo_run").load_config()
    assert (cfg.dataset, cfg.pick, cfg.labels, cfg.arch) == ("mnist", "random", 100, "cnn")
    d = json.loads((ROOT / "data" / "demo_run" / "config.json").read_text())
    assert "dataset" not in d and "elastic" in d  # truly an old file


@pytest.mark.slow
def test_a_run_with_a_position_checkpoint_resumes_and_a_foreign_one_fails_plainly(
        small_mnist, runs_dir):
    run = create_run(make_config("fast", labels=20, steps=20, checkpoint_every=10,
                                 eval_every=10, sample_every=10, mnist_path=small_mnist),
                     runs_dir, "old")
    assert cli("train", "--resume", run.path, "--quiet").returncode == 0
    # rewrite its checkpoint as a run trained before names wrote it, then train on
    path = run.ckpt_dir / "state.npz"
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta.pop("by")
    sgan = SGAN(run.load_config())
    old = {"meta": np.array(json.dumps(meta))}
    for g, vs in sgan.variable_groups().items():
        for i, name in enumerate(vs):
            old[f"{g}/{i}"] = arrays[f"{g}/{name}"]
    np.savez(path, **old)
    cfg = json.loads(run.config_path.read_text())
    run.write_config({**cfg, "steps": 30})
    assert cli("train", "--resume", run.path, "--quiet").returncode == 0
    status = run.read_status()
    assert status["state"] == "finished" and status["step"] == 30
    # a checkpoint from another network: the run says plainly that it cannot resume
    run.write_config({**cfg, "steps": 40, "cnn_filters": [8, 16, 32]})
    r = cli("train", "--resume", run.path, "--quiet")
    assert r.returncode == 3
    text = status_text(run.summary())
    assert run.read_status()["state"] == "failed"
    assert "cannot be resumed from" in text and "d/d_conv0/kernel has shape" in text
    assert "cannot be resumed from" in r.stderr
