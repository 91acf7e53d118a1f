"""Sweeps: a grid of ordinary runs under one sweep id, and the label-efficiency table (issue 24)."""
import pytest

from sgan_core.config import ConfigError
from sgan_core.runs import sweep
from sgan_core.runs.rundir import RunDir, RunSummary, list_runs
from sgan_ui.words import markdown_table, sweep_reading

from conftest import cli


def summary(labels, variant, acc, state="finished", seed=0) -> RunSummary:
    return RunSummary(id=f"{variant}-{labels}-{seed}", labels=labels, variant=variant,
                      preset="fast", seed=seed, state=state, step=10, total_steps=10,
                      max_seconds=None, test_acc=acc, elapsed_s=1.0, message="", why={},
                      created=0.0,
                      has_classifier=True, sweep="sweep-1")


def test_plan_is_the_whole_grid_validated():
    cfgs = sweep.plan([100, 20, 20], ["supervised", "stacked"], [1, 0], "fast", steps=50)
    assert [(c.labels, c.variant, c.seed) for c in cfgs] == [
        (20, "supervised", 0), (20, "supervised", 1), (20, "stacked", 0), (20, "stacked", 1),
        (100, "supervised", 0), (100, "supervised", 1), (100, "stacked", 0),
        (100, "stacked", 1)]
    assert all(c.steps == 50 for c in cfgs)
    with pytest.raises(ConfigError, match="a sweep of 1000 runs is more than the 120 allowed"):
        sweep.plan(list(range(10, 110, 10)), ["stacked"], list(range(100)))
    with pytest.raises(ConfigError, match="label budget must be from 10"):
        sweep.plan([5], ["stacked"], [0])
    with pytest.raises(ConfigError, match="at least one"):
        sweep.plan([20], [], [0])


def test_efficiency_table_and_its_reading():
    runs = [summary(20, "stacked", 0.80, seed=0), summary(20, "stacked", 0.90, seed=1),
            summary(20, "supervised", 0.70), summary(20, "supervised", None, "running", seed=1),
            summary(100, "stacked", 0.97), summary(100, "supervised", 0.94)]
    table = sweep.efficiency_table(runs)
    assert [(r["labels"], r["variant"], r["n"], r["runs"]) for r in table] == [
        (20, "stacked", 2, 2), (20, "supervised", 1, 2), (100, "stacked", 1, 1),
        (100, "supervised", 1, 1)]
    assert table[0]["mean"] == pytest.approx(0.85) and table[0]["sd"] == pytest.approx(0.0707, 1e-3)
    assert table[1]["sd"] is None
    assert sweep_reading(sweep.headline(table)) == (
        "With 20 labels the semi-supervised GAN (stacked) misreads 15.0 of every 100 test "
        "digits, the supervised baseline 30.0.")
    text = markdown_table(table)
    assert "| 20 | stacked | 85.00 ± 7.07% | 2/2 |" in text
    assert "| 20 | supervised | 70.00% | 1/2 |" in text


def test_bad_sweep_arguments_queue_nothing(runs_dir):
    for args, words in ((["--labels", "5"], "label budget"), (["--labels", "20", "--variants",
                                                                "nope"], "unknown variant"),
                        (["--labels", "20", "--seeds", "-1"], "seed must be")):
        r = cli("sweep", *args, "--runs-dir", runs_dir)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr
        assert not any(runs_dir.iterdir())


@pytest.mark.slow
def test_a_sweep_of_four_runs_on_two_slots(small_mnist, runs_dir):
    r = cli("sweep", "--labels", "20,50", "--variants", "stacked,supervised", "--seeds", "0",
            "--steps", 40, "--threads", 1, "--runs-dir", runs_dir, "--mnist", small_mnist,
            "--wait", env={"SGAN_SLOTS": "2"})
    assert r.returncode == 0, r.stderr[-2000:]
    sweep_id = r.stdout.splitlines()[0]
    runs = [RunDir(runs_dir / s.id) for s in list_runs(runs_dir)]
    assert len(runs) == 4 and {run.read_config()["sweep"] for run in runs} == {sweep_id}
    statuses = [run.read_status() for run in runs]
    assert [s["state"] for s in statuses] == ["finished"] * 4
    # from the runs' own clocks: never more than two trainers alive at once, and two did overlap
    spans = [(s["started_at"], s["finished_at"]) for s in statuses]
    overlaps = [sum(a <= start < b for a, b in spans) for start, _ in spans]
    assert max(overlaps) == 2
    # the printed table is the runs' own final accuracies
    for s, run in zip(statuses, runs):
        cfg = run.read_config()
        assert f"| {cfg['labels']} | {cfg['variant']} | {100 * s['test_acc']:.2f}% | 1/1 |" \
            in r.stdout
    assert "With 20 labels the semi-supervised GAN (stacked) misreads" in r.stdout


@pytest.mark.slow
def test_sweep_page_draws_the_curve_of_a_sweep(runs_dir, monkeypatch):
    from sgan_core.config import make_config
    from sgan_core.runs.rundir import create_run

    from conftest import run_page
    for labels, variant, acc in ((20, "stacked", 0.85), (20, "supervised", 0.76),
                                 (100, "stacked", 0.96), (100, "supervised", 0.94)):
        run = create_run(make_config("fast", labels=labels, variant=variant, sweep="sweep-x"),
                         runs_dir)
        run.write_status(state="finished", test_acc=acc)
    at = run_page("pages/4_Sweep.py", runs_dir, monkeypatch)
    assert not at.exception, at.exception
    assert next(s for s in at.selectbox if s.label == "Sweep").value == "sweep-x"
    assert at.success[0].value == ("With 20 labels the semi-supervised GAN (stacked) misreads "
                                   "15.0 of every 100 test digits, the supervised baseline "
                                   "24.0.")
    table = at.dataframe[0].value
    assert list(table["test accuracy (mean ± sd)"]) == ["85.00%", "76.00%", "96.00%", "94.00%"]
