"""How a run learns (sgan_core/insight.py): the files the trainer writes, the hidden-label
guarantee, the readers' checks, the generator desk, TensorBoard's event files, the CLI's
mistakes and the Train page's panels."""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from sgan_core.config import make_config
from sgan_core.reading import insight
from sgan_core.reading.desk import Desk, even_frames, slerp
from sgan_core.reading.predict import SHIPPED_MODEL_DIR, ModelLoadError
from sgan_core.runs.rundir import RunDir, list_run_dirs

from conftest import ROOT, cli, page_text, run_page


def _run(runs_dir, variant) -> RunDir:
    return next(r for r in list_run_dirs(runs_dir) if r.read_config()["variant"] == variant)


# ------------------------------------------------------------------ pure functions
def test_pca_basis_spans_the_top_principal_directions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 40)) @ np.diag([10.0, 7.0] + list(np.linspace(3, 0.1, 38)))
    _, basis = insight.pca_basis(x)
    _, _, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    # same plane: projecting the exact directions onto the found ones keeps their length
    np.testing.assert_allclose(np.linalg.norm(vt[:2] @ basis.T, axis=1), 1.0, atol=1e-3)


def test_aligned_turns_a_mirrored_map_back():
    rng = np.random.default_rng(1)
    before = rng.standard_normal((200, 2))
    mirrored = before @ np.array([[0.0, 1.0], [1.0, 0.0]]) * 3.0  # swapped axes, scaled
    (after,) = insight.aligned(mirrored, [], insight.aligned(before, [], None)[0])
    np.testing.assert_allclose(after, insight.aligned(before, [], None)[0], atol=1e-9)


def test_confusions_and_per_digit_accuracy():
    truth = np.array([4, 4, 4, 9, 9, 7, 7, 7, 7])
    read = np.array([4, 9, 9, 9, 4, 7, 7, 1, 7])
    m = insight.confusion_matrix(truth, read)
    assert m.sum() == 9 and m[4, 9] == 2 and m[9, 4] == 1 and m[7, 1] == 1
    assert insight.top_confusions(m, 2) == [(4, 9, 2), (7, 1, 1)]
    acc = insight.per_digit_accuracy(m)
    assert acc[4] == pytest.approx(1 / 3) and acc[7] == 0.75 and np.isnan(acc[0])


@pytest.mark.parametrize("align,adaptive", [(True, True), (False, True), (True, False)])
def test_teacher_readings_match_the_training_steps_teacher(align, adaptive):
    """The display's NumPy teacher decides as model/selflabels.py's TensorFlow one does."""
    from sgan_core.model.selflabels import PseudoLabeler
    cfg = make_config("fast", pseudo_align=align, pseudo_adaptive=adaptive)
    pseudo = PseudoLabeler(cfg)
    rng = np.random.default_rng(2)
    for _ in range(30):  # grow some running state
        pseudo.targets(rng.standard_normal((64, 10)).astype(np.float32) * 4)
    raw = rng.standard_normal((256, 11)).astype(np.float32) * 4
    probs, thresholds = pseudo.targets(raw)  # (it updates the state first, then decides)
    share = pseudo.sure_share.numpy() if adaptive else None
    bars = insight.current_bars(cfg, share)
    np.testing.assert_allclose(bars, thresholds.numpy(), rtol=1e-5, atol=1e-6)
    read, sure = insight.teacher_readings(raw, bars, pseudo.mean_probs.numpy() if align else None)
    p = probs.numpy()
    assert (read == p.argmax(-1)).all()
    margin = np.abs(p.max(-1) - thresholds.numpy()[p.argmax(-1)]) > 1e-5  # float32 vs 64
    assert (sure == (p.max(-1) > thresholds.numpy()[p.argmax(-1)]))[margin].all()


# ------------------------------------------------------------------ the files of a real run
def test_finished_runs_hold_consistent_insight(finished_runs_dir):
    for variant in ("stacked", "supervised"):
        run = _run(finished_runs_dir, variant)
        rows = run.read_metrics()
        evaluated = [r for r in rows if "test_acc" in r]
        files = run.insight_files()
        assert [s for s, _ in files] == [r["step"] for r in evaluated]
        snap = insight.read_snapshot(files[-1][1])
        points = insight.read_points(run.insight_points_path)
        m = snap["confusion"]
        assert m.sum() == 1000 and m.trace() / 1000 == evaluated[-1]["test_acc"]
        assert len(snap["mistake_index"]) == min(insight.MAX_MISTAKES, 1000 - m.trace())
        assert (snap["mistake_truth"] != snap["mistake_read"]).all()
        assert (np.diff(snap["mistake_conf"]) <= 0).all()  # surest first
        assert snap["self_sample"] == 3000 - 20 and snap["train_size"] == 3000
        assert snap["self_by_digit"].sum() / snap["self_sample"] == \
            pytest.approx(evaluated[-1]["self_labeled"])
        assert bool(snap["self_training"]) == (variant == "stacked")
        assert len(snap["map_test"]) == len(points["test_images"]) == 1000
        assert len(snap["map_labeled"]) == len(points["labeled_digits"]) == 20
        assert (np.linalg.norm(snap["belief_test"], axis=1) <= 1 + 1e-5).all()
        assert ("fake_images" in snap) == (variant == "stacked")
        if variant == "stacked":
            assert len(snap["map_fake"]) == 100 and (snap["map_fake_asked"][:10] ==
                                                     np.arange(10)).all()


def test_hidden_labels_never_reach_training(small_mnist, tmp_path):
    """Shuffling MNIST's labels of the unlabeled images changes the display's self-label
    accuracy and nothing else: every other metric, bit for bit, and every saved weight."""
    from sgan_core.data.mnist import read_npz
    from sgan_core.data.picks import label_budget_indices
    data = read_npz(small_mnist)
    lab_idx = label_budget_indices(data.y_train, 20, 0)
    rest = np.setdiff1d(np.arange(len(data.y_train)), lab_idx)
    shuffled = data.y_train.copy()
    shuffled[rest] = np.random.default_rng(7).permutation(shuffled[rest])
    assert (shuffled[rest] != data.y_train[rest]).mean() > 0.5
    np.save(tmp_path / "lab_idx.npy", lab_idx)
    np.savez(tmp_path / "shuffled.npz", x_train=data.x_train, y_train=shuffled,
             x_test=data.x_test, y_test=data.y_test)
    # the labeled images are the same in both (which images a person labeled is chosen with
    # their labels; the rest of the labels are what is hidden)
    script = (
        "import sys, numpy as np\n"
        "from sgan_core.data import picks\n"
        f"picks.PICKS['random'] = lambda d, n, seed: np.load({str(tmp_path / 'lab_idx.npy')!r})\n"
        "from sgan_core.config import make_config\n"
        "from sgan_core.runs.rundir import create_run\n"
        "from sgan_core.training.trainer import Trainer\n"
        "cfg = make_config('fast', labels=20, steps=40, eval_every=20, mnist_path=sys.argv[1])\n"
        "Trainer(cfg, create_run(cfg, sys.argv[2], 'run')).fit()\n")
    runs = {}
    for name, path in (("true", small_mnist), ("shuffled", str(tmp_path / "shuffled.npz"))):
        subprocess.run([sys.executable, "-c", script, path, str(tmp_path / name)], cwd=ROOT,
                       check=True, capture_output=True, timeout=600)
        runs[name] = RunDir(tmp_path / name / "run")
    a, b = (runs[k].read_metrics() for k in ("true", "shuffled"))
    assert len(a) == len(b) and any("self_label_acc" in r for r in a)
    for ra, rb in zip(a, b):
        skip = {"elapsed_s", "self_label_acc"}
        assert {k: v for k, v in ra.items() if k not in skip} == \
            {k: v for k, v in rb.items() if k not in skip}
    assert any(ra.get("self_label_acc") != rb.get("self_label_acc") for ra, rb in zip(a, b))
    with np.load(runs["true"].ckpt_dir / "state.npz") as fa, \
            np.load(runs["shuffled"].ckpt_dir / "state.npz") as fb:
        for key in fa.files:
            if key != "meta":
                np.testing.assert_array_equal(fa[key], fb[key], err_msg=key)


# ------------------------------------------------------------------ untrusted files
def _snapshot_arrays() -> dict:
    rng = np.random.default_rng(0)
    n = 5
    return dict(step=np.int64(10), self_sample=np.int64(100), train_size=np.int64(3000),
                self_training=np.bool_(True), self_bars=np.full(10, 0.5, np.float32),
                self_by_digit=np.full(10, 9), self_right_by_digit=np.full(10, 8),
                confusion=np.eye(10, dtype=np.int64) * 90 + 1,
                mistake_index=np.arange(n), mistake_truth=np.full(n, 4, np.uint8),
                mistake_read=np.full(n, 9, np.uint8), mistake_conf=np.linspace(.9, .5, n),
                mistake_images=np.zeros((n, 28, 28), np.uint8),
                map_test=rng.standard_normal((30, 2)), map_test_read=np.zeros(30, np.uint8),
                belief_test=np.zeros((30, 2)), map_labeled=np.zeros((3, 2)),
                belief_labeled=np.zeros((3, 2)), map_fake=np.zeros((0, 2)),
                map_fake_read=np.zeros(0, np.uint8), belief_fake=np.zeros((0, 2)))


def test_the_self_label_chart_at_its_first_evaluation():
    """One snapshot: the x axis spans 0 to twice its step, not a unit around it; the per-digit
    curves are named by digit ("digit 0 right", not "0s right", which read as seconds)."""
    from sgan_ui.charts import one_point_range
    from sgan_ui.insight_charts import self_label_figure
    snap = _snapshot_arrays()
    rows = [{"step": 100, "self_labeled": 0.4, "self_label_acc": 0.9}]
    fig = self_label_figure(rows, [(100, snap)])
    assert fig["layout"]["xaxis"]["range"] == [0.0, 200.0]
    names = [t["name"] for t in fig["data"]]
    assert names[2:] == [f"digit {d} right" for d in range(10)]
    later = self_label_figure(rows + [{"step": 200, "self_labeled": 0.5, "self_label_acc": 0.9}],
                              [(100, snap), (200, snap)])
    assert "range" not in later["layout"]["xaxis"]  # plotly's own, once the points spread
    assert one_point_range([0, 0]) == [-1, 1] and one_point_range([]) is None


def test_chart_titles_sit_under_the_toolbar_and_legends_at_the_bottom():
    from sgan_ui import charts, insight_charts
    snap = _snapshot_arrays()
    figures = [charts.losses_figure([], 0, "step"), charts.accuracy_figure([], 0, "step"),
               insight_charts.self_label_bars(snap),
               insight_charts.confusion_figure(snap["confusion"], 10),
               charts.probabilities_figure(np.full(10, 0.1)).to_plotly_json()]
    for fig in figures:
        layout = fig["layout"]
        title = layout["title"]
        top_px = (1 - title["y"]) * layout["height"]
        assert title["yref"] == "container" and title["yanchor"] == "top"
        assert charts.TOOLBAR_PX - 0.01 <= top_px < layout["margin"]["t"], layout["title"]
        legend = layout.get("legend")
        if legend:
            assert (legend["yref"], legend["y"], legend["yanchor"]) == ("container", 0, "bottom")


def test_mistake_captions_fit_one_line_under_their_image():
    from sgan_ui.insight_panels import GALLERY_PX, mistake_caption
    snap = _snapshot_arrays() | {"mistake_conf": np.array([1.0, 0.999, 0.5, 0.07, 0.0])}
    for i in range(5):
        for mixed in (False, True):
            assert len(mistake_caption(snap, i, mixed)) <= GALLERY_PX // 8
    assert mistake_caption(snap, 0, True) == "4→9 100%"
    assert mistake_caption(snap, 2, False) == "50%"


@pytest.mark.parametrize("damage,message", [
    (lambda a: a.pop("confusion"), "lacks confusion"),
    (lambda a: a.update(confusion=np.zeros((9, 10), np.int64)), "confusion has shape"),
    (lambda a: a.update(map_test=np.full((30, 2), np.nan)), "not numbers"),
    (lambda a: a.update(mistake_read=np.full(4, 9, np.uint8)), "do not agree"),
    (lambda a: a.update(mistake_read=np.full(5, 12, np.uint8)), "do not agree"),
    (lambda a: a.update(confusion=np.array([["x"] * 10] * 10)), "confusion has shape"),
])
def test_damaged_snapshots_fail_with_one_sentence(tmp_path, damage, message):
    good = tmp_path / "step_000010.npz"
    insight.write_npz(good, **_snapshot_arrays())
    assert insight.read_snapshot(good)["step"] == 10
    arrays = _snapshot_arrays()
    damage(arrays)
    bad = tmp_path / "step_000020.npz"
    insight.write_npz(bad, **arrays)
    with pytest.raises(insight.InsightError, match=message):
        insight.read_snapshot(bad)


def test_files_that_are_not_npz_or_hold_objects_are_refused(tmp_path):
    text = tmp_path / "step_000001.npz"
    text.write_text("hello")
    with pytest.raises(insight.InsightError, match="not an .npz"):
        insight.read_snapshot(text)
    pickled = tmp_path / "step_000002.npz"
    arrays = _snapshot_arrays()
    arrays["confusion"] = np.array([{"a": 1}] * 100, dtype=object).reshape(10, 10)
    np.savez(pickled, **arrays)  # object arrays need pickle: never loaded
    with pytest.raises(insight.InsightError, match="cannot be read"):
        insight.read_snapshot(pickled)


# ------------------------------------------------------------------ the generator desk
def test_desk_draws_the_digit_asked_and_morphs(finished_runs_dir):
    desk = Desk(_run(finished_runs_dir, "stacked"))
    assert desk.conditional
    images, tried = desk.batch(4, seed=0)
    assert images.shape == (20, 28, 28) and images.dtype == np.uint8 and tried == 20
    again, _ = desk.batch(4, seed=0)
    other, _ = desk.batch(4, seed=1)
    assert (images == again).all() and (images != other).any()
    row = desk.morph(3, 8, 1, 2)
    assert row.shape == (10, 28, 28) and (row[0] != row[-1]).any()
    _, told = desk.morph_inputs(3, 8, 1, 2)
    assert_mixtures(told, 3, 8)
    read, conf = desk.read(images)
    assert read.shape == (20,) and ((conf > 0) & (conf <= 1)).all()


def assert_mixtures(told: np.ndarray, a: int, b: int) -> None:
    """A morph's digit inputs: all a, then blends of a and b (less a each frame), then all b."""
    assert told.shape == (10, 10)
    assert np.allclose(told.sum(axis=1), 1) and np.allclose(np.delete(told, [a, b], axis=1), 0)
    assert told[0, a] == 1 and told[-1, b] == 1
    middle = told[1:-1]
    assert ((middle[:, a] > 0) & (middle[:, a] < 1)).all()
    assert (np.diff(told[:, b]) > 0).all()


def fake_desk(switch: float = 40.0) -> Desk:
    """A Desk whose generator draws a 3-like template when told 3, an 8-like one when told 8,
    and switches between them steeply (as trained generators do) as the blend passes half."""
    from types import SimpleNamespace
    ys, xs = np.mgrid[:28, :28]
    three = np.where((xs > 14) & (abs(ys - 14) < 10), 1.0, -1.0)
    eight = np.where((abs(xs - 14) < 6) & (abs(ys - 14) < 11), 1.0, -1.0)

    def generate(x):
        z, told = x[:, :4], x[:, 4:]
        w = 1 / (1 + np.exp(-switch * (told[:, 8] - told[:, 3])))[:, None, None]
        shade = 0.05 * np.tanh(z[:, :1])[:, :, None]
        return ((1 - w) * three + w * eight + shade)[..., None].clip(-1, 1)

    desk = Desk.__new__(Desk)
    desk.cfg = SimpleNamespace(latent_dim=4, input_range=(-1.0, 1.0))
    desk.conditional, desk._generate = True, generate
    return desk


def test_a_morph_blends_what_the_generator_is_told_and_changes_gradually():
    desk = fake_desk()
    z, told = desk.morph_inputs(3, 8, 1000, 1001)
    assert_mixtures(told, 3, 8)
    ends = desk._latent(1000, 1)[0], desk._latent(1001, 1)[0]
    assert np.allclose(z[0], ends[0]) and np.allclose(z[-1], ends[1])
    frames = desk.morph(3, 8, 1000, 1001).astype(np.float32)
    changes = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))
    # a steep generator on evenly spaced blends jumps in one step; these frames share the way
    t = np.linspace(0, 1, 10, dtype=np.float32)[:, None]
    eye = np.eye(10, dtype=np.float32)
    even = desk._draw(np.repeat(z[:1], 10, axis=0), (1 - t) * eye[3] + t * eye[8])
    even_changes = np.abs(np.diff(even.astype(np.float32), axis=0)).mean(axis=(1, 2))
    assert even_changes.max() > 0.5 * even_changes.sum()
    assert changes.max() < 2.5 * changes.mean(), changes
    assert (changes > 0).all()


def test_slerp_keeps_a_gaussian_vectors_length_and_ends_at_both():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(100), rng.standard_normal(100)
    path = slerp(a, b, np.linspace(0, 1, 9)[:, None])
    assert np.allclose(path[0], a, atol=1e-5) and np.allclose(path[-1], b, atol=1e-5)
    norms = np.linalg.norm(path, axis=1)
    assert norms.min() > 0.9 * min(np.linalg.norm(a), np.linalg.norm(b))
    assert np.linalg.norm((a + b) / 2) < 0.8 * norms[4]  # the straight line's middle is short
    same = slerp(a, a, np.linspace(0, 1, 3)[:, None])
    assert np.allclose(same, a, atol=1e-5)


def test_even_frames_spread_the_change_and_never_repeat():
    t = np.linspace(0, 1, 33)
    steep = 1 / (1 + np.exp(-60 * (t - 0.5)))
    images = (255 * steep[:, None, None] * np.ones((1, 4, 4))).astype(np.uint8)
    pick = even_frames(images, 10)
    assert pick[0] == 0 and pick[-1] == 32 and (np.diff(pick) > 0).all()
    assert 0.3 < t[pick[4]] < 0.7 and 0.3 < t[pick[5]] < 0.7  # frames crowd where it changes
    flat = np.zeros((33, 4, 4), np.uint8)
    assert list(even_frames(flat, 3)) == [0, 16, 32]


def test_desk_refuses_runs_without_a_usable_generator(finished_runs_dir, tmp_path):
    with pytest.raises(ModelLoadError, match="no generator"):
        Desk(_run(finished_runs_dir, "supervised"))
    copy = tmp_path / "copy"
    shutil.copytree(_run(finished_runs_dir, "stacked").path, copy)
    (copy / "generator.keras").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="damaged"):
        Desk(RunDir(copy))
    # a classifier where the generator should be is not taken for one
    shutil.copy(copy / "classifier.keras", copy / "generator.keras")
    with pytest.raises(ModelLoadError, match="not this run's generator"):
        Desk(RunDir(copy))


# ------------------------------------------------------------------ TensorBoard, CLI
def test_event_files_hold_the_scalars_and_grids(finished_runs_dir):
    import tensorflow as tf
    run = _run(finished_runs_dir, "stacked")
    files = list(run.path.glob("events.out.tfevents.*"))
    assert len(files) == 1
    scalars, images = {}, []
    for event in tf.compat.v1.train.summary_iterator(str(files[0])):
        for v in event.summary.value:
            if v.metadata.plugin_data.plugin_name == "scalars":
                scalars[(v.tag, event.step)] = float(tf.make_ndarray(v.tensor))
            elif v.metadata.plugin_data.plugin_name == "images":
                images.append((v.tag, event.step))
    last = [r for r in run.read_metrics() if "test_acc" in r][-1]
    assert scalars[("accuracy/test (10,000 images)", last["step"])] == \
        pytest.approx(last["test_acc"])
    assert ("self-labels/share labeled", last["step"]) in scalars
    assert ("loss/sup", last["step"]) in scalars
    assert [s for _, s in images] == [s for s, _ in run.sample_files()]


def test_tensorboard_reads_the_runs_directory(finished_runs_dir):
    """What `tensorboard --logdir runs` shows (TensorBoard is an optional install)."""
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    run = _run(finished_runs_dir, "stacked")
    acc = accumulator.EventAccumulator(str(run.path))
    acc.Reload()
    tags = acc.Tags()
    assert "accuracy/test (10,000 images)" in tags["tensors"] + tags["scalars"]
    assert "generated digits" in tags["tensors"] + tags["images"]


def test_cli_eval_prints_the_mistakes(finished_runs_dir, small_mnist):
    run = _run(finished_runs_dir, "stacked")
    r = cli("eval", run.path, "--mnist", small_mnist, "--mistakes")
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    start = lines.index("confusion matrix (rows: true digit, columns: read as)")
    matrix = np.array([[int(n) for n in line.split()[1:11]] for line in lines[start + 2:
                                                                              start + 12]])
    snap = insight.read_snapshot(run.insight_files()[-1][1])
    np.testing.assert_array_equal(matrix, snap["confusion"])  # the same model, the same test set
    assert "most frequent confusions:" in r.stdout
    top = insight.top_confusions(matrix, 1)[0]
    assert f"  {top[0]} read as {top[1]}: {top[2]}" in r.stdout


# ------------------------------------------------------------------ the Train page
def test_train_page_shows_how_a_run_learns(finished_runs_dir, monkeypatch):
    run = _run(finished_runs_dir, "stacked")
    at = run_page("pages/1_Train.py", finished_runs_dir, monkeypatch, query={"run": run.id})
    assert not at.exception
    text = page_text(at)
    assert "How it learns" in [h.value for h in at.subheader]
    assert [t.label for t in at.tabs] == ["Labels it gives itself", "Map", "Mistakes",
                                          "Generator"]
    assert "From 20 labeled images the model now labels about" in text
    # only the open tab runs: the others' panels are not computed until opened
    assert "drawings of a" not in text
    labels = {}
    for tab in ("Labels it gives itself", "Map", "Mistakes", "Generator"):
        at.session_state["insight_tab"] = tab
        at.run()
        assert not at.exception
        labels[tab] = {b.label for b in at.get("download_button")}
        text = page_text(at)
        if tab == "Mistakes":
            assert "test digits; most often a" in text or "reads all" in text
        if tab == "Generator":
            assert "drawings of a 4 (the generator is told to draw it)" in text
    assert {"Self-labels (CSV)"} <= labels["Labels it gives itself"]
    assert {"Map of this step (CSV)"} <= labels["Map"]
    assert {"Confusion matrix (CSV)", "Misread digits (CSV)"} <= labels["Mistakes"]
    assert {"This batch (PNG)", "This morph (PNG)"} <= labels["Generator"]
    assert "Misread digits (CSV)" not in labels["Generator"]
    # asking for another digit answers with that digit
    at.pills(key="desk_digit").set_value(7).run()
    assert "drawings of a 7" in page_text(at)


def test_train_page_says_what_an_old_run_lacks(runs_dir, monkeypatch):
    shutil.copytree(SHIPPED_MODEL_DIR, runs_dir / "demo_run")
    at = run_page("pages/1_Train.py", runs_dir, monkeypatch, query={"run": "demo_run"})
    assert not at.exception
    assert "This run has no insight/ files" in page_text(at)


def test_train_page_survives_a_damaged_snapshot(finished_runs_dir, runs_dir, monkeypatch):
    shutil.copytree(finished_runs_dir, runs_dir, dirs_exist_ok=True)
    run = _run(runs_dir, "stacked")
    run.insight_files()[-1][1].write_bytes(b"damaged")
    at = run_page("pages/1_Train.py", runs_dir, monkeypatch, query={"run": run.id})
    assert not at.exception
    text = page_text(at)
    assert "insight file(s) cannot be read and are left out" in text
    assert "is damaged" in text
    assert "has no insight/ files" not in text  # it has them: one is damaged
