"""Every page with no runs, with finished runs and with a running run: it renders without
exceptions and shows what it should (its title, the runs listed, their figures)."""
import json
import os
import re
import shutil
import time

import pytest

from sgan_core.reading.predict import SHIPPED_MODEL_DIR
from sgan_core.runs.rundir import RunDir, list_run_dirs, list_runs
from sgan_ui import feed_publisher
from sgan_ui.common import fmt_acc, plain
from sgan_ui.navigation import PAGES
from sgan_ui.words import errors_per_100

from conftest import ENTRY_AND_PAGES, HEADINGS, demo_of_finished_runs, page_text, wait_for
from conftest import run_page as app_test

SWEEP = "sweep-20261205-000000"


def count(at, element_type: str) -> int:
    """Elements of a type anywhere in the page (plotly charts have no AppTest accessor)."""
    def walk(node):
        n = int(getattr(node, "type", None) == element_type)
        return n + sum(walk(c) for c in getattr(node, "children", {}).values())
    return walk(at._tree)


def heading(page: str) -> str:
    """The title a page shows (app.py shows Home)."""
    return HEADINGS.get(page, HEADINGS[PAGES[0].path])


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def widget(at, kind: str, label: str):
    """The one selectbox or multiselect with that label."""
    found = [w for w in getattr(at, kind) if w.label == label]
    assert len(found) == 1, (kind, label, [w.label for w in getattr(at, kind)])
    return found[0]


def listed_ids(options) -> list[str]:
    """The run ids of a picker's options ("... · 97.40%  (<id>)"), sorted."""
    return sorted(m.group(1) for o in options if (m := re.search(r"\((\S+)\)$", o)))


def chart_titles(at) -> dict[str, dict]:
    """The figures of the page's live charts, by title."""
    out = {}
    for c in at.get("bidi_component"):
        if c.proto.component_name == "sgan_lab.live_chart":
            figure = json.loads(c.proto.json).get("figure")
            if figure:
                spec = json.loads(figure)
                out[(spec["layout"].get("title") or {}).get("text", "")] = spec
    return out


def by_variant(runs_dir) -> dict:
    """The summaries of the stacked run and the supervised baseline."""
    return {r.variant: r for r in list_runs(runs_dir)}


def as_one_sweep(runs_dir) -> None:
    """Tag every run in runs_dir as one sweep's, as `sweep` starts them."""
    for run in list_run_dirs(runs_dir):
        run.write_config({**run.read_config(), "sweep": SWEEP})


@pytest.mark.parametrize("page", ENTRY_AND_PAGES)
def test_pages_with_no_runs(page, tmp_path, monkeypatch):
    at = app_test(page, tmp_path / "empty", monkeypatch)
    assert not at.exception, at.exception
    assert at.title[0].value == heading(page)
    text = page_text(at)
    if page == "app.py":  # Home: a card per page, and no runs to glance at
        cards = [f"{i} · {p.title}" for i, p in enumerate(PAGES[1:], 1)]
        assert [s.value for s in at.subheader] == cards + ["Runs at a glance"]
        assert "No runs yet: start one on the Train page" in text
        assert not at.metric and not at.dataframe
    if page == "pages/1_Train.py":
        assert "No runs yet" in text
        assert [e.label for e in at.expander][0] == "New run"
        assert "Run" not in [s.label for s in at.selectbox]
    if page == "pages/2_Compare.py":
        assert "No run has been evaluated yet" in text and not at.dataframe
        assert any(b.label == "Run the demo" for b in at.button)
    if page == "pages/3_Draw.py":  # the shipped model, described from its own run files
        shipped = RunDir(SHIPPED_MODEL_DIR)
        labels, acc = shipped.read_config()["labels"], shipped.read_status()["test_acc"]
        assert f"{labels} labeled images" in text and f"{acc:.2%} of the MNIST" in text
        assert widget(at, "selectbox", "Model").options == ["shipped demo model"]
        assert metrics(at) == {"Prediction": "–"}
    if page == "pages/4_Sweep.py":
        assert "No sweep yet" in text
        assert any(b.label == "Start the sweep" for b in at.button)
        assert "Sweep" not in [s.label for s in at.selectbox]


def test_navigation_reaches_every_page(tmp_path, monkeypatch):
    """app.py is the entry point: Home first, then every page through st.navigation."""
    at = app_test("app.py", tmp_path / "empty", monkeypatch)
    assert not at.exception, at.exception
    assert at.title[0].value == HEADINGS[PAGES[0].path]
    for page in PAGES[1:]:
        at.switch_page(page.path).run()
        assert not at.exception, (page.path, at.exception)
        assert at.title[0].value == HEADINGS[page.path]


@pytest.mark.parametrize("page", ENTRY_AND_PAGES)
def test_pages_with_finished_runs(page, finished_runs_dir, tmp_path, monkeypatch):
    """Two finished 30-step runs on the same 20 labels: stacked, then the baseline."""
    runs_dir = finished_runs_dir
    if page == "pages/4_Sweep.py":  # the page shows sweeps: these two runs make one here
        runs_dir = tmp_path / "runs"
        shutil.copytree(finished_runs_dir, runs_dir)
        as_one_sweep(runs_dir)
    at = app_test(page, runs_dir, monkeypatch)
    assert not at.exception, at.exception
    assert at.title[0].value == heading(page)
    runs = by_variant(runs_dir)
    stacked, baseline = runs["stacked"], runs["supervised"]
    best = max(runs.values(), key=lambda r: r.test_acc)
    ids = sorted(r.id for r in runs.values())
    if page == "app.py":  # Home: the runs at a glance
        assert metrics(at) == {"Runs": "2", "Training now": "0",
                               "Best test accuracy": fmt_acc(best.test_acc)}
        table = at.dataframe[0].value
        assert dict(zip(table["run"], table["state"])) == {r: "finished" for r in ids}
        assert dict(zip(table["run"], table["test acc"])) == {
            r.id: round(100 * r.test_acc, 2) for r in runs.values()}
    if page == "pages/1_Train.py":  # the newest run (the baseline), its figures and verdict
        assert at.selectbox(key="run_pick").value == baseline.id
        assert listed_ids(at.selectbox(key="run_pick").options) == ids
        assert [p.proto.text for p in at.get("progress")] == ["finished · step 30 / 30"]
        assert metrics(at)["Test accuracy"] == fmt_acc(baseline.test_acc)
        assert any(f"The baseline reads {fmt_acc(baseline.test_acc)}" in i.value
                   for i in at.info)
        charts = chart_titles(at)
        assert charts["Losses"]["data"][0]["x"][-1] == 30
        assert charts["Accuracy"]["data"][0]["x"][-1] == 30
        assert "All runs (2)" in [e.label for e in at.expander]
    if page == "pages/2_Compare.py":
        assert count(at, "plotly_chart") >= 1 and len(at.dataframe) == 1
        assert sorted(widget(at, "multiselect", "Runs").value) == ids
        row = at.dataframe[0].value.iloc[0]  # one row: 20 labels, both variants
        assert row["labels"] == 20
        for r in runs.values():
            assert row[r.variant].startswith(f"{100 * r.test_acc:.2f}%"), row
        best_line = next(t for t in page_text(at).splitlines() if t.startswith("Best run"))
        assert best_line.count(fmt_acc(best.test_acc)) == 1 and f"({best.id})" in best_line
    if page == "pages/3_Draw.py":  # the shipped model first, each run among the others
        model = widget(at, "selectbox", "Model")
        assert model.value == "shipped demo model"
        assert listed_ids(model.options[1:]) == ids
        shipped = RunDir(SHIPPED_MODEL_DIR).read_config()
        assert f"Model: {shipped['variant']} · {shipped['labels']} labels" in page_text(at)
        assert metrics(at) == {"Prediction": "–"}
    if page == "pages/4_Sweep.py":
        assert widget(at, "selectbox", "Sweep").value == SWEEP
        assert "2 runs: 2 finished" in [c.value for c in at.caption]
        table = at.dataframe[0].value
        assert {(r["labels"], r["variant"]): (r["test accuracy (mean ± sd)"], r["finished"])
                for r in table.to_dict("records")} == {
            (20, r.variant): (f"{100 * r.test_acc:.2f}%", "1 of 1") for r in runs.values()}
        box = at.success if stacked.test_acc > baseline.test_acc else at.warning
        assert any(f"misreads {errors_per_100(stacked.test_acc)} of every 100" in b.value
                   and f"baseline {errors_per_100(baseline.test_acc)}" in b.value for b in box)
        assert count(at, "bidi_component") >= 1  # the label-efficiency curve


@pytest.mark.parametrize("page", ENTRY_AND_PAGES)
def test_pages_with_a_running_run(page, finished_runs_dir, tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    if page == "pages/4_Sweep.py":
        as_one_sweep(runs_dir)
    run = RunDir(next(p for p in runs_dir.iterdir() if "stacked" in p.name))
    run.write_status(state="running", pid=os.getpid(), step=15, heartbeat=time.time())
    baseline = by_variant(runs_dir)["supervised"]
    at = app_test(page, runs_dir, monkeypatch, query={"run": run.id})
    assert not at.exception, at.exception
    assert at.title[0].value == heading(page)
    # a run that trains is listed by its state: its last accuracy would go stale
    as_listed = f"running  ({run.id})"
    if page == "app.py":
        assert metrics(at)["Training now"] == "1" and metrics(at)["Runs"] == "2"
        table = at.dataframe[0].value
        assert dict(zip(table["run"], table["state"])) == {run.id: "running",
                                                           baseline.id: "finished"}
        assert dict(zip(table["run"], table["step"]))[run.id] == "15/30"
    if page == "pages/1_Train.py":
        picker = at.selectbox(key="run_pick")
        assert picker.value == run.id and any(o.endswith(as_listed) for o in picker.options)
        # the live part is the run's feed, written for every viewer and drawn by the browser
        feeds = [c for c in at.get("bidi_component") if c.proto.component_name ==
                 "sgan_lab.live_feed"]
        assert len(feeds) == 1 and not at.get("progress")
        url = json.loads(feeds[0].proto.json)["url"]
        assert url == f"/feed/{feed_publisher.feed_id(run.id)}"  # its stream: no path in it
        wait_for(lambda: feed_publisher.read_feed(run) is not None, "the run's feed", 30)
        published = feed_publisher.read_feed(run)
        assert published["text"] == "running · step 15 / 30" and published["state"] == "running"
        assert [m[0] for m in published["metrics"]] == ["Test accuracy", "Steps / s", "Elapsed",
                                                         "ETA"]
        assert [c["layout"]["title"]["text"] for c in published["charts"]] == ["Losses",
                                                                               "Accuracy"]
        grid = published["grid"]["src"]
        assert grid.startswith(url + "/grid-") and grid.endswith(".png")
        # for a running run, its watch-only page's link and QR code
        room = next(e for e in at.expander if "room" in e.label)
        assert any(f"/watch/{feed_publisher.feed_id(run.id)}" in m.value for m in room.markdown)
    if page == "pages/2_Compare.py":
        assert any(o.endswith(as_listed) for o in widget(at, "multiselect", "Runs").options)
        table = at.dataframe[0].value  # finished runs only: the baseline's column alone
        assert "stacked" not in table.columns
        assert table.iloc[0]["supervised"].startswith(f"{100 * baseline.test_acc:.2f}%")
    if page == "pages/3_Draw.py":  # read at its latest checkpoint, the shipped model first
        model = widget(at, "selectbox", "Model")
        assert model.value == "shipped demo model"
        assert any(o.endswith(as_listed) for o in model.options)
    if page == "pages/4_Sweep.py":
        assert "2 runs: 1 finished, 1 running" in [c.value for c in at.caption]
        table = at.dataframe[0].value
        assert {r["variant"]: (r["test accuracy (mean ± sd)"], r["finished"])
                for r in table.to_dict("records")} == {
            "stacked": ("–", "0 of 1"),
            "supervised": (f"{100 * baseline.test_acc:.2f}%", "1 of 1")}
        # no verdict before both sides have finished
        assert not any("misreads" in b.value for b in list(at.success) + list(at.warning))


def test_train_page_refuses_bad_run_ids(finished_runs_dir, monkeypatch):
    for bad in ("../../etc", "/etc/passwd", "nope"):
        at = app_test("pages/1_Train.py", finished_runs_dir, monkeypatch, query={"run": bad})
        assert not at.exception
        assert "no such run" in page_text(at)


def test_train_page_validates_custom_budget(tmp_path, monkeypatch):
    at = app_test("pages/1_Train.py", tmp_path / "empty", monkeypatch)
    at.radio[0].set_value("custom").run()
    at.text_input[0].set_value("5").run()
    assert "label budget must be from 10 to 60000" in page_text(at)
    start = next(b for b in at.button if "Start" in b.label)
    assert start.disabled


def test_train_page_promises_times_it_keeps(tmp_path, monkeypatch):
    """`fast` and `best` were measured by the clock (2 and 60 minutes), so the form offers them
    by the clock: they end when promised on a slow machine too. A length in steps gets an
    estimate of its time here."""
    at = app_test("pages/1_Train.py", tmp_path / "empty", monkeypatch)
    assert next(r for r in at.radio if r.label == "Length").value == "minutes"
    assert next(n for n in at.number_input if n.label == "Minutes").value == 2.0
    assert "Trains 2m 00s by the clock" in page_text(at)
    assert "a 2-core laptop's speed" in page_text(at)  # nothing measured here yet: said so
    next(s for s in at.selectbox if s.label == "Preset").select("best").run()
    assert not at.exception, at.exception
    assert next(r for r in at.radio if r.label == "Length").value == "minutes"
    assert next(n for n in at.number_input if n.label == "Minutes").value == 60.0
    next(r for r in at.radio if r.label == "Length").set_value("steps").run()
    assert re.search(r"About (\d+h \d+m|\d+m \d+s) at [\d.]+ steps/s", page_text(at)), \
        page_text(at)


def test_failed_run_shows_its_message(finished_runs_dir, tmp_path, monkeypatch):
    import shutil
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    run = RunDir(next(p for p in runs_dir.iterdir() if "stacked" in p.name))
    # as a run written before why-codes said it (the finished run's code goes)
    run.write_status(state="failed", why=None, message="training diverged: loss_sup became NaN")
    at = app_test("pages/1_Train.py", runs_dir, monkeypatch, query={"run": run.id})
    assert not at.exception
    # the message is shown literally (Markdown-escaped: a file's text never renders as markup)
    assert f"Run failed: {plain('training diverged: loss_sup became NaN')}" in page_text(at)
    assert any(b.label == "Resume" for b in at.button)


def test_compare_demo_states_the_measured_difference(finished_runs_dir, tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    accs = demo_of_finished_runs(finished_runs_dir, runs_dir)
    at = app_test("pages/2_Compare.py", runs_dir, monkeypatch)
    assert not at.exception
    gain = accs["stacked"] > accs["supervised"]
    box = at.success if gain else at.warning  # a loss is never shown in a green box
    sentence = " ".join(s.value for s in box if "Taught with" in s.value)
    assert "the same 20 labeled digits (0.03% of the training set) for 30 training steps each" \
        in sentence
    assert f"GAN misreads {errors_per_100(accs['stacked'])} of every 100" in sentence
    assert f"supervised baseline {errors_per_100(accs['supervised'])}" in sentence
    assert count(at, "image") >= 1  # the GAN's generated digits beside the curves


def test_draw_page_reads_with_a_committee(finished_runs_dir, monkeypatch):
    """The two runs share their 20 labels, so either can be read together with the other."""
    at = app_test("pages/3_Draw.py", finished_runs_dir, monkeypatch)
    model = at.selectbox[0]
    # the shipped 99% model comes first: these 30-step runs are far less accurate
    assert model.label == "Model" and model.value == "shipped demo model"
    at = model.select(next(o for o in model.options if "stacked" in o)).run()
    together = at.multiselect[0]
    assert together.label == "Read together with" and len(together.options) == 1
    assert len(at.dataframe) == 0
    at = together.select(together.options[0]).run()
    assert not at.exception, at.exception
    assert "Committee of 2 runs on the same 20 labels" in page_text(at)
    members = at.dataframe[0].value
    assert sorted(members["variant"]) == ["stacked", "supervised"]


def test_compare_page_evaluates_a_committee(finished_runs_dir, monkeypatch):
    at = app_test("pages/2_Compare.py", finished_runs_dir, monkeypatch)
    assert at.selectbox[0].label == "Labeled images"
    assert at.multiselect[1].label == "Members" and len(at.multiselect[1].value) == 2
    button = next(b for b in at.button if "Evaluate the committee" in b.label)
    at = button.click().run()
    assert not at.exception, at.exception
    table = at.dataframe[1].value
    assert list(table["model"])[-1] == "committee of 2 (mean of probabilities)"
    accs = {RunDir(p).read_status()["test_acc"] for p in finished_runs_dir.iterdir() if p.is_dir()}
    assert sorted(table["test acc"][:2]) == sorted(round(100 * a, 2) for a in accs)
    assert "The committee reads" in at.success[0].value
