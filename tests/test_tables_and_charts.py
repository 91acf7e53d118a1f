"""What the Compare table, the demo sentence and the live charts say, from run files alone: the
engine's numbers (sgan_core.runs.tables, demo) and the views' words and figures (sgan_ui)."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from sgan_core.runs import demo
from sgan_core.runs.rundir import RunDir, RunSummary
from sgan_core.runs.tables import accuracy_table
from sgan_ui import charts
from sgan_ui.words import demo_sentence, errors_per_100, game_cell, length_text, mean_cell


def summary(variant="stacked", labels=100, acc=0.97, state="finished", seconds=120.0,
            steps=100000, preset="fast", run_id="r", seed=0):
    return RunSummary(id=run_id, labels=labels, variant=variant, preset=preset, seed=seed,
                      state=state, step=10, total_steps=steps, max_seconds=seconds,
                      test_acc=acc, elapsed_s=1.0, message="", why={}, created=0.0,
                      has_classifier=True)


def test_table_never_averages_runs_of_different_datasets():
    import dataclasses
    other = dataclasses.replace(summary(acc=0.80), dataset="other")
    rows = accuracy_table([summary(acc=0.97), other])["rows"]
    assert [(r["dataset"], r["stacked"]["mean"]) for r in rows] == [("mnist", 0.97),
                                                                     ("other", 0.80)]


def test_the_run_directory_says_which_data_and_pick_a_run_used(tmp_path):
    from sgan_core.config import make_config
    from sgan_core.runs.rundir import create_run
    run = create_run(make_config("fast", labels=20), tmp_path)
    s = run.summary()
    assert (s.dataset, s.pick) == ("mnist", "random")
    assert json.loads(run.config_path.read_text())["dataset"] == "mnist"


def test_table_never_averages_runs_of_different_lengths():
    table = accuracy_table([
        summary(acc=0.97), summary(acc=0.96, seed=1), summary(acc=0.99, seconds=3600.0),
        summary(acc=0.93, variant="supervised"),
        summary(acc=0.50, state="stopped"),            # not finished: left out
        summary(acc=0.90, labels="abc"),               # damaged config: left out
        summary(acc=0.90, variant=42),
    ])
    assert table["variants"] == ["stacked", "supervised"]
    rows = {(r["labels"], length_text(r["length"])): r for r in table["rows"]}
    assert set(rows) == {(100, "120 s"), (100, "3600 s")}
    assert rows[(100, "120 s")]["stacked"]["mean"] == pytest.approx(0.965)
    assert mean_cell(rows[(100, "120 s")]["stacked"]) == "96.50 ± 0.71% (2 seeds)"
    assert mean_cell(rows[(100, "120 s")]["supervised"]) == "93.00% (1 seed)"
    assert mean_cell(rows[(100, "3600 s")]["stacked"]) == "99.00% (1 seed)"
    assert rows[(100, "3600 s")]["supervised"] is None and mean_cell(None) == ""
    steps = accuracy_table([summary(seconds=None, steps=1100)])["rows"][0]["length"]
    assert length_text(steps) == "1,100 steps"
    same_seed = accuracy_table([summary(acc=0.97), summary(acc=0.96)])["rows"][0]["stacked"]
    assert mean_cell(same_seed) == "96.50 ± 0.71% (2 runs, 1 seed)"  # not a spread over seeds
    assert rows[(100, "120 s")]["game"] is None and game_cell(None) == ""  # no selftrain run


def test_table_says_what_the_game_adds_to_self_training():
    table = accuracy_table([summary(acc=0.965), summary(acc=0.975, variant="shared"),
                            summary(acc=0.97, variant="selftrain"),
                            summary(acc=0.93, variant="supervised"),
                            summary(acc=0.80, labels=10), summary(acc=0.75, labels=10,
                                                                  variant="selftrain")])
    assert table["variants"] == ["shared", "stacked", "selftrain", "supervised"]
    games = {row["labels"]: game_cell(row["game"]) for row in table["rows"]}
    assert games == {10: "+5.00 points (stacked)", 100: "+0.50 points (shared)"}
    cost = accuracy_table([summary(acc=0.96), summary(acc=0.975, variant="selftrain")])
    assert game_cell(cost["rows"][0]["game"]) == "-1.50 points (stacked)"


def make_demo_run(runs_dir, run_id, variant, acc, state="finished"):
    run = RunDir(runs_dir / run_id)
    run.path.mkdir()
    run.write_config({"labels": 100, "variant": variant, "preset": "fast", "seed": 0,
                      "max_seconds": 70.0})
    run.write_status(state=state, test_acc=acc)
    return run


@pytest.mark.parametrize("gan, base, verdict", [
    (0.96, 0.92, "2.0 times fewer mistakes from learning on the unlabeled images"),
    (0.931, 0.93, "a small gain from the unlabeled images"),
    (0.92, 0.93, "in this run the unlabeled images did not help"),
])
def test_demo_sentence_counts_mistakes(runs_dir, gan, base, verdict):
    runs = [make_demo_run(runs_dir, "g", "stacked", gan),
            make_demo_run(runs_dir, "b", "supervised", base)]
    result = demo.result(runs)
    assert (result["gan"], result["baseline"], result["labels"]) == (gan, base, 100)
    text = demo_sentence(result)
    assert text.startswith("Taught with the same 100 labeled digits (0.17% of the training "
                           "set) for 70 seconds each")
    assert f"misreads {errors_per_100(gan)} of every 100 test digits" in text
    assert f"the supervised baseline {errors_per_100(base)}" in text
    assert text.endswith(verdict + ".")


def test_the_demo_reads_its_self_training_side_and_an_old_demo_without_it(runs_dir):
    runs = [make_demo_run(runs_dir, "g", "stacked", 0.96),
            make_demo_run(runs_dir, "s", "selftrain", 0.97),
            make_demo_run(runs_dir, "b", "supervised", 0.92)]
    result = demo.result(runs)
    assert (result["gan"], result["selftrain"], result["baseline"]) == (0.96, 0.97, 0.92)
    assert "without the real/fake game (self-training on its own confident readings) " \
           "misreads 3.0: here the game cost 1.0 digits in 100" in demo_sentence(result)
    old = demo.result([runs[0], runs[2]])
    assert old["selftrain"] is None and "self-training" not in demo_sentence(old)


def test_demo_sentence_waits_for_both_runs_and_survives_bad_files(runs_dir):
    runs = [make_demo_run(runs_dir, "g", "stacked", 0.96),
            make_demo_run(runs_dir, "b", "supervised", None, state="running")]
    assert demo.result(runs) is None and demo_sentence(None) is None
    (runs_dir / demo.STATE_FILE).write_text(json.dumps({"runs": ["../x", 3, "g"]}))
    assert [r.id for r in demo.demo_runs(runs_dir, demo.read(runs_dir))] == ["g"]
    (runs_dir / demo.STATE_FILE).write_text("[1, 2]")
    assert demo.demo_runs(runs_dir, demo.read(runs_dir)) == []


def rows(n):
    return [{"step": 5 * i, "elapsed_s": 0.5 * i, "loss_sup": 1.0 / (i + 1), "loss_g": 0.3,
             "loss_d_real": 0.0, "loss_d_fake": 0.0, "train_acc": 0.5,
             **({"test_acc_subset": 0.9} if i % 5 == 0 else {}),
             **({"test_acc": 0.95} if i % 20 == 0 else {})} for i in range(n)]


def test_charts_keep_the_viewers_zoom_and_thin_long_runs():
    spec = charts.accuracy_figure(rows(5000), x="elapsed_s")
    fig = go.Figure(json.loads(charts.to_json(spec)))  # a valid plotly figure, once validated
    assert fig.layout.uirevision == "elapsed_s"      # a zoom survives updates, not an axis change
    assert fig.layout.xaxis.title.text == "training seconds"
    assert fig.layout.yaxis.tickformat == charts.PERCENT and fig.layout.template.layout.plot_bgcolor
    names = [t.name for t in fig.data]
    assert names == ["labeled images in training (shifted, rotated copies)",
                     "test subset (first 1,000 images, live)", "test set (all 10,000 images)"]
    batch = fig.data[0]
    assert len(batch.x) <= charts.MAX_POINTS and batch.x[-1] == 0.5 * 4999  # last row kept
    assert len(fig.data[2].x) == 250                 # every full evaluation is drawn
    losses = charts.losses_figure(rows(10))
    assert [t["name"] for t in losses["data"]] == ["supervised", "generator"]  # zero ones hidden


def test_smoothing_is_the_bias_corrected_moving_average():
    values = [1.0, 0.0, 1.0, 1.0]
    out, last = [], 0.0
    for n, v in enumerate(values, 1):
        last = 0.6 * last + 0.4 * v
        out.append(last / (1 - 0.6 ** n))
    np.testing.assert_allclose(charts.smooth(values, 0.6), out)
    np.testing.assert_allclose(charts.smooth(values, 0.0), values)
