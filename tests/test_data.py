"""Data loading, validation and label budgets."""
import numpy as np
import pytest

from sgan_core.config import ConfigError, make_config, parse_labels
from sgan_core.data.mnist import DataError, load_mnist, read_npz, scale_images
from sgan_core.data.picks import label_budget_indices

from conftest import cli


@pytest.fixture(scope="module")
def y_train():
    return load_mnist().y_train


def test_shipped_copy_is_the_real_mnist():
    d = load_mnist()
    assert d.x_train.shape == (60000, 28, 28) and d.x_test.shape == (10000, 28, 28)
    assert np.bincount(d.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                              5851, 5949]
    assert d.y_test[:5].tolist() == [7, 2, 1, 0, 4] and int(d.x_train[0].sum()) == 27525


@pytest.mark.parametrize("n", [10, 20, 100, 1000])
def test_budget_is_balanced(y_train, n):
    idx = label_budget_indices(y_train, n, seed=0)
    assert len(idx) == len(set(idx)) == n
    assert np.bincount(y_train[idx], minlength=10).tolist() == [n // 10] * 10


def test_remainder_is_spread_deterministically(y_train):
    idx = label_budget_indices(y_train, 25, seed=3)
    counts = np.bincount(y_train[idx], minlength=10)
    assert counts.sum() == 25 and set(counts.tolist()) == {2, 3}
    assert np.array_equal(idx, label_budget_indices(y_train, 25, seed=3))


def test_budget_reproducible_by_seed(y_train):
    a = label_budget_indices(y_train, 100, seed=7)
    assert np.array_equal(a, label_budget_indices(y_train, 100, seed=7))
    assert not np.array_equal(a, label_budget_indices(y_train, 100, seed=8))


def test_full_budget_uses_every_image(y_train):
    assert len(np.unique(label_budget_indices(y_train, 60000, seed=0))) == 60000


@pytest.mark.parametrize("bad", [0, -5, 9, 60001, "abc", "1.5", None, ""])
def test_bad_budgets_are_refused(bad):
    with pytest.raises(ConfigError, match="label budget"):
        parse_labels(bad)


def test_make_config_refuses_unknown_variant_and_preset():
    with pytest.raises(ConfigError, match="variant"):
        make_config("fast", variant="nope")
    with pytest.raises(ConfigError, match="preset"):
        make_config("nope")


def test_scaling_maps_to_input_range():
    x = scale_images(np.array([[[0, 255] + [0] * 26] * 28], dtype=np.uint8))
    assert x.shape == (1, 28, 28, 1) and x.min() == -1.0 and x.max() == 1.0


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def _good(n=20):
    return dict(x_train=np.zeros((n, 28, 28), np.uint8), y_train=np.arange(n) % 10,
                x_test=np.zeros((n, 28, 28), np.uint8), y_test=np.arange(n) % 10)


@pytest.mark.parametrize("change,message", [
    (lambda a: a.pop("y_test"), "missing array 'y_test'"),
    (lambda a: a.update(x_train=np.zeros((20, 28, 27), np.uint8)), "x_train has shape"),
    (lambda a: a.update(x_test=np.zeros((20, 28, 28), np.float32)), "dtype float32"),
    (lambda a: a.update(y_train=np.arange(20) % 11), "labels outside 0..9"),
    (lambda a: a.update(y_test=np.arange(19) % 10), "y_test has shape"),
])
def test_bad_arrays_are_named(tmp_path, change, message):
    arrays = _good()
    change(arrays)
    path = _write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=message) as e:
        read_npz(path)
    assert str(path) in str(e.value)


def test_truncated_and_missing_files(tmp_path):
    good = _write(tmp_path / "good.npz", **_good())
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(DataError, match="not a readable .npz"):
        read_npz(truncated)
    with pytest.raises(DataError, match="no such file"):
        read_npz(tmp_path / "absent.npz")


def test_cli_bad_data_file_gives_one_clear_line(tmp_path, runs_dir):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip file at all")
    r = cli("train", "--steps", 5, "--runs-dir", runs_dir, "--mnist", bad)
    assert r.returncode == 2
    assert "broken.npz" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error:")


def test_cli_bad_label_budget(runs_dir):
    r = cli("train", "--labels", "0", "--runs-dir", runs_dir)
    assert r.returncode == 2 and "label budget" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("variant, settings, labeled, unlabeled, fakes", [
    ("stacked", {}, 20, 100, 100),     # each labeled image once a step, 100 unlabeled
    ("selftrain", {}, 20, 100, 100),   # the same batches as the GAN: only the game is off
    ("supervised", {}, 100, 0, 0),     # 100 augmented labeled copies, no unlabeled work at all
    ("stacked", {"labeled_batch": 60}, 60, 100, 100),  # each labeled image three times a step
    ("stacked", {"fake_batch": 30}, 20, 100, 30),     # 0 above: as many fakes as batch_size
])
def test_each_variant_gets_the_batches_it_learns_from(variant, settings, labeled, unlabeled,
                                                      fakes):
    from sgan_core.data.batches import Batches
    cfg = make_config("fast", labels=20, variant=variant, **{"fake_batch": 0, **settings})
    batch = Batches(cfg, load_mnist()).next()
    assert len(batch.x_lab) == len(batch.y_lab) == labeled
    assert len(batch.x_unl) == len(batch.x_unl_clean) == unlabeled and len(batch.z) == fakes
    assert np.bincount(batch.y_lab, minlength=10).tolist() == [labeled // 10] * 10


@pytest.mark.parametrize("setting, message", [("nope=1", "NAME a setting of RunConfig"),
                                              ("fake_batch=-1", "must not be negative"),
                                              ("pseudo_align=maybe", "true or false")])
def test_cli_bad_setting_is_refused_before_a_run_exists(runs_dir, setting, message):
    r = cli("train", "--steps", 5, "--runs-dir", runs_dir, "--set", setting)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not runs_dir.exists() or not any(runs_dir.iterdir())
