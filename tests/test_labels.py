"""Labels a person gives or the product picks (issue 44): labels files checked as untrusted
input, the `typical` pick that reads no label, `ask`, and the labeled.npz and lineage of every
source of labels."""
import json
import re

import numpy as np
import pytest

from sgan_core.data import labeled as lab
from sgan_core.data.mnist import read_npz
from sgan_core.data.picks import typical
from sgan_core.runs.rundir import RunDir

from conftest import cli, run_page


@pytest.fixture(scope="module")
def ten(small_mnist):
    """One test image of each digit: someone else's handwriting, as far as training knows."""
    data = read_npz(small_mnist)
    idx = [int(np.flatnonzero(data.y_test == d)[0]) for d in range(10)]
    return data.x_test[idx], data.y_test[idx]


BAD = {
    "not an npz": (None, "not an .npz file"),
    "wrong shape": (lambda x, y: dict(images=x[:, :27], labels=y), "expected (N, 28, 28)"),
    "wrong dtype": (lambda x, y: dict(images=x.astype(np.float32), labels=y), "expected uint8"),
    "label outside 0-9": (lambda x, y: dict(images=x, labels=np.r_[y[:-1], 10]),
                          "a label outside 0-9"),
    "no images": (lambda x, y: dict(images=x[:0], labels=y[:0]), "holds no images"),
    "NaN": (lambda x, y: dict(images=x, labels=np.r_[y[:-1], np.nan]), "NaN"),
    "a digit with no image": (lambda x, y: dict(images=x[y != 7], labels=y[y != 7]),
                              "no image of digit 7"),
    "no labels array": (lambda x, y: dict(images=x), "no array named 'labels'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_labels_file_gets_one_clear_line(case, ten, tmp_path):
    make, words = BAD[case]
    path = tmp_path / "set.npz"
    if make is None:
        path.write_text("not a zip")
    else:
        np.savez(path, **make(*ten))
    with pytest.raises(lab.LabelsError, match=re.escape(words)) as e:
        lab.read(path)
    assert "\n" not in str(e.value)


def test_a_bad_file_on_the_command_line_makes_no_run(ten, tmp_path, runs_dir, small_mnist):
    x, y = ten
    np.savez(tmp_path / "nine.npz", images=x[:9], labels=y[:9])
    r = cli("train", "--labels-file", tmp_path / "nine.npz", "--runs-dir", runs_dir,
            "--mnist", small_mnist)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "error: nine.npz: no image of digit 9; a run learns only the digits it is shown"]
    assert not any(runs_dir.iterdir()) if runs_dir.exists() else True


def test_the_typical_pick_never_reads_a_label(small_mnist):
    data = read_npz(small_mnist)
    picked = typical(data, 10, seed=3)
    data.y_train[:] = np.random.default_rng(0).permutation(data.y_train)  # scrambled
    assert np.array_equal(typical(data, 10, seed=3), picked)
    data.y_train[:] = -1  # no labels at all
    assert np.array_equal(typical(data, 10, seed=3), picked)
    assert len(set(picked.tolist())) == 10


def test_a_set_says_which_digits_it_misses_and_adds_no_image_twice():
    img = np.zeros((3, 28, 28), np.uint8)
    a = lab.check(img, [1, 2, 3], [5, 6, -1], complete=False)
    assert a.missing_digits() == [0, 4, 5, 6, 7, 8, 9]
    b = a.plus(lab.check(img, [4, 2, 0], [7, 6, -1], complete=False))
    assert b.index.tolist() == [5, 6, -1, 7, -1] and b.labels.tolist() == [1, 2, 3, 4, 0]


def test_sets_are_saved_listed_reused_and_deleted(ten, runs_dir):
    s = lab.check(*ten)
    lab.save_set(runs_dir, "my digits", s)
    assert lab.list_sets(runs_dir) == ["my digits"]
    again = lab.read(lab.set_path(runs_dir, "my digits"))
    assert np.array_equal(again.images, s.images) and again.index.tolist() == [-1] * 10
    lab.delete_set(runs_dir, "my digits")
    assert lab.list_sets(runs_dir) == []
    with pytest.raises(lab.LabelsError):
        lab.set_path(runs_dir, "../escape")


def test_ask_offers_unlabeled_uncertain_images_of_different_kinds(small_mnist):
    from sgan_core.reading.ask import ask
    data = read_npz(small_mnist)
    labeled = np.arange(0, 3000, 100)

    def forward(images):  # a model sure of bright images, unsure of faint ones
        ink = images.reshape(len(images), -1).mean(1) / 255
        p = np.full((len(images), 10), 0.01)
        p[:, 0] = np.clip(ink * 8, 0.11, 0.91)
        return p / p.sum(1, keepdims=True)
    asked = ask(None, data.x_train, 10, labeled, forward=forward)
    assert len(set(asked.tolist())) == 10 and not np.isin(asked, labeled).any()
    ink = data.x_train.reshape(3000, -1).mean(1)
    assert ink[asked].mean() < np.median(ink)  # the unsure ones
    assert np.array_equal(asked, ask(None, data.x_train, 10, labeled, forward=forward))


def test_ask_reaches_first_for_kinds_of_image_no_label_reaches(small_mnist):
    from sgan_core.reading.ask import ask
    data = read_npz(small_mnist)
    ones = np.flatnonzero(data.y_train == 1)[:20]  # the test knows the digits; ask does not
    is_one = {data.x_train[i].tobytes() for i in np.flatnonzero(data.y_train == 1)}

    def forward(images):  # unsure only of 1s: by uncertainty alone it would ask for 1s
        p = np.tile(np.eye(10)[3] * 0.9 + 0.01, (len(images), 1))
        p[[im.tobytes() in is_one for im in images]] = 0.1
        return p
    asked = ask(None, data.x_train, 10, ones, forward=forward)
    assert len(set(asked.tolist())) == 10 and not np.isin(asked, ones).any()
    assert (data.y_train[asked] != 1).sum() >= 8, data.y_train[asked]
    assert len(set(data.y_train[asked].tolist())) >= 6, data.y_train[asked]


@pytest.mark.slow
def test_every_source_of_labels_leaves_its_labeled_npz_and_lineage(ten, tmp_path, runs_dir,
                                                                   small_mnist):
    x, y = ten
    np.savez(tmp_path / "mine.npz", images=x, labels=y)
    common = ["--steps", 20, "--runs-dir", runs_dir, "--mnist", small_mnist, "--quiet",
              "--set", "eval_every=10", "--set", "checkpoint_every=10"]
    for run_id, extra in (("random", ["--labels", 20]), ("typical", ["--labels", 10, "--pick",
                                                                      "typical"]),
                          ("file", ["--labels-file", tmp_path / "mine.npz"])):
        r = cli("train", "--run-id", run_id, *extra, *common)
        assert r.returncode == 0, r.stderr
    data = read_npz(small_mnist)
    asked = cli("ask", runs_dir / "typical", "--count", 5, "--mnist", small_mnist)
    assert asked.returncode == 0, asked.stderr
    idx = [int(i) for i in asked.stdout.split()]
    answers = ",".join(f"{i}={data.y_train[i]}" for i in idx)
    r = cli("train", "--run-id", "asked", "--from", runs_dir / "typical", "--add-labels",
            answers, *common)
    assert r.returncode == 0, r.stderr
    expect = {"random": ("random", 20), "typical": ("typical", 10), "file": ("file", 10),
              "asked": ("asked", 15)}
    for run_id, (pick, n) in expect.items():
        run = RunDir(runs_dir / run_id)
        cfg = json.loads(run.config_path.read_text())
        s = lab.read(run.labeled_path, complete=False, n_train=3000)
        assert (cfg["pick"], cfg["labels"], len(s)) == (pick, n, n), run_id
        assert run.summary().pick == pick
        if pick == "file":
            assert s.index.tolist() == [-1] * 10 and np.array_equal(s.images, x)
            assert cfg["labels_name"] == "mine"
        else:  # images of the training set, labeled as MNIST says (the person, here)
            assert np.array_equal(s.images, data.x_train[s.index])
            assert np.array_equal(s.labels, data.y_train[s.index])
    child = RunDir(runs_dir / "asked")
    assert json.loads(child.config_path.read_text())["parent"] == "typical"
    assert child.init_path.is_file()
    assert set(idx) <= set(lab.read(child.labeled_path, False, 3000).index.tolist())


def test_the_teach_page_names_a_bad_set_name_and_lists_a_saved_set(ten, runs_dir, monkeypatch):
    from conftest import page_text, run_page
    at = run_page("pages/5_Teach.py", runs_dir, monkeypatch)
    at.text_input[0].set_value("../escape").run()
    assert not at.exception
    assert "a set's name is 1-60 letters" in page_text(at)
    lab.save_set(runs_dir, "theirs", lab.check(*ten))
    at = run_page("pages/5_Teach.py", runs_dir, monkeypatch)
    assert at.selectbox[0].value == "theirs"
    assert "**theirs**: 10 images" in page_text(at)


def test_the_new_run_form_starts_the_pick_chosen_and_refuses_a_huge_typical_one(
        runs_dir, monkeypatch):
    from sgan_core.config import ConfigError, make_config
    from sgan_core.runs import launcher
    started = []
    monkeypatch.setattr(launcher, "start_run", lambda cfg, *a, **k: started.append(cfg)
                        or (_ for _ in ()).throw(launcher.QueueFull("captured")))
    at = run_page("pages/1_Train.py", runs_dir, monkeypatch)
    at.session_state["new_run"] = True
    at = at.run()
    pick = next(r for r in at.radio if r.label == "Which images get labels")
    at = pick.set_value("typical").run()
    assert any("reading no label" in c.value for c in at.caption)
    at = next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, at.exception
    assert [(c.pick, c.labels) for c in started] == [("typical", 100)]
    make_config("fast", labels=1000, pick="typical")
    with pytest.raises(ConfigError, match="at most 1,000"):
        make_config("fast", labels=1001, pick="typical")
