"""Every page renders without exceptions: with no runs, a running run and a finished run."""
import json
import os
import re
import time

import pytest

from sgan_core.reading.predict import SHIPPED_MODEL_DIR
from sgan_core.runs.rundir import RunDir
from sgan_ui import live_feed
from sgan_ui.common import plain
from sgan_ui.navigation import PAGES
from sgan_ui.words import errors_per_100

from conftest import ENTRY_AND_PAGES, HEADINGS, page_text
from conftest import run_page as app_test


def count(at, element_type: str) -> int:
    """Elements of a type anywhere in the page (plotly charts have no AppTest accessor)."""
    def walk(node):
        n = int(getattr(node, "type", None) == element_type)
        return n + sum(walk(c) for c in getattr(node, "children", {}).values())
    return walk(at._tree)


@pytest.mark.parametrize("page", ENTRY_AND_PAGES)
def test_pages_with_no_runs(page, tmp_path, monkeypatch):
    at = app_test(page, tmp_path / "empty", monkeypatch)
    assert not at.exception, at.exception
    if page == "pages/1_Train.py":
        assert "No runs yet" in page_text(at)
    if page == "pages/4_Sweep.py":
        assert "No sweep yet" in page_text(at)
    if page == "pages/3_Draw.py":  # the shipped model, described from its own run files
        shipped = RunDir(SHIPPED_MODEL_DIR)
        labels, acc = shipped.read_config()["labels"], shipped.read_status()["test_acc"]
        text = page_text(at)
        assert f"{labels} labeled images" in text and f"{acc:.2%} of the MNIST" in text


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
def test_pages_with_finished_runs(page, finished_runs_dir, monkeypatch):
    at = app_test(page, finished_runs_dir, monkeypatch)
    assert not at.exception, at.exception
    if page == "pages/2_Compare.py":
        assert count(at, "plotly_chart") >= 1 and len(at.dataframe) == 1


@pytest.mark.parametrize("page", ENTRY_AND_PAGES)
def test_pages_with_a_running_run(page, finished_runs_dir, tmp_path, monkeypatch):
    import shutil
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    run = RunDir(next(p for p in runs_dir.iterdir() if "stacked" in p.name))
    run.write_status(state="running", pid=os.getpid(), step=15, heartbeat=time.time())
    at = app_test(page, runs_dir, monkeypatch, query={"run": run.id})
    assert not at.exception, at.exception
    if page == "pages/1_Train.py":
        # the live part is the run's feed, written for every viewer and drawn by the browser
        feeds = [c for c in at.get("bidi_component") if c.proto.component_name ==
                 "sgan_lab.live_feed"]
        assert len(feeds) == 1 and not at.get("progress")
        url = json.loads(feeds[0].proto.json)["url"]
        published = live_feed.read_feed(run)
        assert url.endswith(f"/app/static/live/{live_feed.feed_name(run)}.json")
        assert published["text"] == "running · step 15 / 30" and published["state"] == "running"
        assert [m[0] for m in published["metrics"]] == ["Test accuracy", "Steps / s", "Elapsed",
                                                         "ETA"]
        assert [c["layout"]["title"]["text"] for c in published["charts"]] == ["Losses",
                                                                               "Accuracy"]
        grid = published["grid"]["src"]
        assert grid.startswith("/app/static/live/") and grid.endswith(".png")
        assert (live_feed.FEED_DIR / grid.rsplit("/", 1)[1]).read_bytes().startswith(b"\x89PNG")


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
    run.write_status(state="failed", message="training diverged: loss_sup became NaN")
    at = app_test("pages/1_Train.py", runs_dir, monkeypatch, query={"run": run.id})
    assert not at.exception
    # the message is shown literally (Markdown-escaped: a file's text never renders as markup)
    assert f"Run failed: {plain('training diverged: loss_sup became NaN')}" in page_text(at)
    assert any(b.label == "Resume" for b in at.button)


def test_compare_demo_states_the_measured_difference(finished_runs_dir, tmp_path, monkeypatch):
    import shutil

    from sgan_core.runs import demo
    from sgan_core.runs.rundir import atomic_write_json
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    ids = sorted(p.name for p in runs_dir.iterdir() if p.is_dir())
    atomic_write_json(runs_dir / demo.STATE_FILE, {"runs": ids})
    accs = {RunDir(runs_dir / i).read_config()["variant"]: RunDir(runs_dir / i).read_status()
            ["test_acc"] for i in ids}
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
