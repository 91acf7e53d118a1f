"""Run files are untrusted input: a damaged config, model or grid fails its own run with one
clear sentence and never the page, the CLI refuses bad arguments before creating anything, and
the host mode guards a server shown on a network (issue 23)."""
import json
import math
import shutil

import numpy as np
import pytest

from sgan_core.config import ConfigError, RunConfig, make_config
from sgan_core.reading.committee import label_groups
from sgan_core.reading.predict import SHIPPED_MODEL_DIR, ModelLoadError, load_classifier
from sgan_core.runs import launcher
from sgan_core.runs.rundir import RunDir, create_run, list_runs
from sgan_core.runs.tables import accuracy_table
from sgan_core.training.grids import GridError, gif_bytes, grid_image, png_bytes, read_grid
from sgan_ui import access

from conftest import ENTRY_AND_PAGES, cli, page_text, run_page


def copy_of_shipped(runs_dir, run_id, config=None, status=None) -> RunDir:
    """A copy of the shipped demo run with some of its config/status values replaced."""
    run = RunDir(runs_dir / run_id)
    shutil.copytree(SHIPPED_MODEL_DIR, run.path)
    for path, changes in ((run.config_path, config), (run.status_path, status)):
        if changes is not None:
            data = json.loads(path.read_text())
            data.update(changes)
            path.write_text(json.dumps(data))
    return run


# ---------- config.json ----------

@pytest.mark.parametrize("changes, reason", [
    ({"labels": "abc"}, "labels is not a whole number (found 'abc')"),
    ({"variant": 42}, "variant is not text (found 42)"),
    ({"variant": "nope"}, "unknown variant 'nope'"),
    ({"seed": -1}, "seed must be a whole number from 0"),
    ({"lr_d": math.nan}, "lr_d is not a number (found nan)"),
    ({"input_range": "x"}, "input_range is not a list of numbers"),
    ({"steps": 0}, "steps must be at least 1"),
    ({"labels": True}, "labels is not a whole number (found True)"),
])
def test_a_bad_config_value_is_named(runs_dir, changes, reason):
    run = copy_of_shipped(runs_dir, "bad", config=changes)
    summary = run.summary()
    assert not summary.usable and summary.problem.startswith("config.json: ")
    assert reason in summary.problem
    assert summary.labels is None and summary.variant is None


@pytest.mark.parametrize("text, reason", [
    ("{", "not valid JSON"), ("[1, 2]", "not a JSON object"),
    ('{"variant": "stacked", "seed": 0}', "labels is missing")])
def test_a_config_that_is_not_a_config_is_named(runs_dir, text, reason):
    run = copy_of_shipped(runs_dir, "bad")
    run.config_path.write_text(text)
    assert run.summary().problem == f"config.json: {reason}"


def test_a_bad_run_is_skipped_by_tables_and_committees_not_the_others(runs_dir):
    copy_of_shipped(runs_dir, "bad", config={"labels": "abc", "variant": 42})
    copy_of_shipped(runs_dir, "good1")
    copy_of_shipped(runs_dir, "good2", config={"variant": "shared"})
    summaries = list_runs(runs_dir)
    assert [s.id for s in summaries if not s.usable] == ["bad"]
    table = accuracy_table(summaries)  # used to raise TypeError: '<' between str and int
    assert [row["labels"] for row in table["rows"]] == [100]
    groups = label_groups(summaries)
    assert [[r.id for r in group] for group in groups.values()] == [["good1", "good2"]]
    ls = cli("list", "--runs-dir", runs_dir)
    assert ls.returncode == 0
    assert "bad" in ls.stdout
    assert any(line.startswith("good1") and "finished" in line for line in ls.stdout.splitlines())
    assert "unreadable: config.json: labels is not a whole number" in ls.stdout


@pytest.mark.slow
@pytest.mark.parametrize("page", ENTRY_AND_PAGES)
def test_pages_keep_working_beside_a_bad_run(page, runs_dir, monkeypatch):
    copy_of_shipped(runs_dir, "bad", config={"labels": "abc", "variant": 42})
    copy_of_shipped(runs_dir, "good1")
    copy_of_shipped(runs_dir, "good2", config={"variant": "shared"})
    at = run_page(page, runs_dir, monkeypatch, query={"run": "bad"})
    assert not at.exception, at.exception
    assert "labels is not a whole number" in page_text(at)
    if page == "pages/2_Compare.py":  # the good runs are still compared and read together
        assert any("2 runs" in str(o) for o in at.selectbox[0].options)


def test_run_config_from_dict_refuses_what_cannot_be_trained():
    good = make_config("fast").to_dict()
    assert RunConfig.from_dict(good) == make_config("fast")
    with pytest.raises(ConfigError, match="ema decay"):
        RunConfig.from_dict(dict(good, ema_decay=1.5))
    with pytest.raises(ConfigError, match="cnn filters"):
        RunConfig.from_dict(dict(good, cnn_filters=[32, 0, 8]))


# ---------- model files ----------

def lambda_model_file(path):
    import keras
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda x: x * 2.0),
                              keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    model.save(path)


def test_damaged_and_lambda_models_fail_with_one_sentence(tmp_path):
    damaged = tmp_path / "run" / "classifier.keras"
    damaged.parent.mkdir()
    damaged.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ModelLoadError, match=r"^run/classifier.keras is damaged"):
        load_classifier(damaged)
    lam = tmp_path / "lam" / "classifier.keras"
    lam.parent.mkdir()
    lambda_model_file(lam)
    with pytest.raises(ModelLoadError) as err:
        load_classifier(lam)
    assert "Lambda layer" in str(err.value) and "safe_mode" not in str(err.value)
    assert "never runs" in str(err.value)
    with pytest.raises(ModelLoadError, match="not an MNIST classifier"):
        load_classifier(SHIPPED_MODEL_DIR / "classifier.keras", outputs=11)


@pytest.mark.slow
def test_eval_of_broken_models_exits_1_with_one_line(runs_dir, tmp_path):
    broken = copy_of_shipped(runs_dir, "broken")
    broken.classifier_path.write_bytes(b"\x00" * 3000)
    lam = copy_of_shipped(runs_dir, "lam")
    lambda_model_file(lam.classifier_path)
    for run, words in ((broken, "is damaged"), (lam, "Lambda layer")):
        r = cli("eval", run.path)
        assert r.returncode == 1, r.stderr[-2000:]
        assert "Traceback" not in r.stderr and "File not found" not in r.stderr
        assert "safe_mode" not in r.stderr
        assert r.stderr.strip().splitlines()[-1].startswith("error: ") and words in r.stderr


@pytest.mark.slow
def test_draw_never_defaults_to_a_model_that_fails_to_load(runs_dir, monkeypatch):
    # both claim a better accuracy than the shipped model, so they rank first
    broken = copy_of_shipped(runs_dir, "broken", status={"test_acc": 0.9999})
    broken.classifier_path.write_bytes(b"\x00" * 3000)
    lam = copy_of_shipped(runs_dir, "lam", status={"test_acc": 0.9998})
    lambda_model_file(lam.classifier_path)
    at = run_page("pages/3_Draw.py", runs_dir, monkeypatch)
    assert not at.exception, at.exception
    model = at.selectbox[0]
    assert model.value == "shipped demo model", model.options
    for run_id, words in (("broken", "is damaged"), ("lam", "Lambda layer")):
        label = next(o for o in model.options if f"({run_id})" in o)
        at = model.select(label).run()
        assert not at.exception, at.exception
        assert "This model cannot be used" in page_text(at) and words in page_text(at)
        model = at.selectbox[0]


# ---------- sample grids ----------

def write_grid(run: RunDir, step: int, truncate: bool = False) -> None:
    data = png_bytes(grid_image(np.zeros((100, 28, 28)), 10))
    run.samples_dir.mkdir(exist_ok=True)
    (run.samples_dir / f"step_{step:06d}.png").write_bytes(data[: len(data) // 2] if truncate
                                                           else data)


def test_a_truncated_grid_is_refused_and_left_out_of_the_gif(runs_dir):
    run = copy_of_shipped(runs_dir, "r")
    write_grid(run, 0)
    write_grid(run, 100, truncate=True)
    paths = [p for _, p in run.sample_files()]
    assert read_grid(paths[0]).size == (280, 280)
    with pytest.raises(GridError, match="step_000100.png cannot be read"):
        read_grid(paths[1])
    assert gif_bytes(paths)[:6] == b"GIF89a"


@pytest.mark.slow
def test_train_page_shows_a_truncated_grid_as_a_warning(runs_dir, monkeypatch):
    run = copy_of_shipped(runs_dir, "r")
    write_grid(run, 100, truncate=True)
    at = run_page("pages/1_Train.py", runs_dir, monkeypatch, query={"run": "r"})
    assert not at.exception, at.exception  # was OSError: image file is truncated
    assert "The grid of step 100 cannot be shown" in page_text(at)


# ---------- the command line ----------

def test_bad_arguments_leave_no_run_behind(runs_dir, tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(np.random.default_rng(1).bytes(4000))
    for args, env, words in (
            (["--seed", "-1"], None, "seed must be a whole number from 0"),
            (["--threads", "0"], None, "threads must be at least 1"),
            (["--lr-d", "nan"], None, "lr d must be a finite number"),
            (["--run-id", "../x"], None, "run id '../x'"),
            ([], {"SGAN_MNIST": str(garbage)}, "not a readable .npz file")):
        r = cli("train", "--steps", 5, "--runs-dir", runs_dir, *args, env=env)
        assert r.returncode == 2, (args, r.stderr[-2000:])
        assert "Traceback" not in r.stderr and words in r.stderr, (args, r.stderr)
        assert "pickled" not in r.stderr
        assert not any(runs_dir.iterdir()), f"{args} left a run directory"


# ---------- host mode ----------

def test_host_mode_is_on_whenever_others_can_reach_the_server():
    local = set(access.LOCAL_HOSTS)
    assert not access.is_host_mode("localhost", False, local)
    assert not access.is_host_mode("127.0.0.1", False, local)
    assert access.is_host_mode("0.0.0.0", False, local)
    assert access.is_host_mode("", False, local)  # Streamlit's default: every interface
    assert access.is_host_mode("localhost", True, local)  # a password asks for it
    assert access.is_host_mode("localhost", False, local | {"lab.example.org"})  # a proxy


def test_host_names_and_passwords():
    allowed = {"localhost", "127.0.0.1", "::1", "lab.example.org"}
    for header in ("localhost:8501", "127.0.0.1:8501", "[::1]:8501", "LAB.example.org",
                   "lab.example.org:443", None):
        assert access.host_allowed(header, allowed), header
    for header in ("evil.example", "evil.example:8501", "localhost.evil.example",
                   "127.0.0.1.nip.io:8501", ""):
        assert not access.host_allowed(header, allowed), header
    assert access.passwords_match("s3cret", "s3cret")
    assert not access.passwords_match("s3cre", "s3cret")
    assert not access.passwords_match("", "")  # no password configured: nothing unlocks


def test_the_queue_is_capped(runs_dir):
    for seed in range(3):
        create_run(make_config("fast", seed=seed), runs_dir)  # queued, no worker started
    launcher.check_room(runs_dir, None)  # no cap on localhost
    launcher.check_room(runs_dir, 4)
    with pytest.raises(launcher.QueueFull, match="3 runs are already waiting"):
        launcher.check_room(runs_dir, 4, adding=2)  # the demo starts two


@pytest.mark.slow
def open_new_run_form(at):
    """The New run form is built only when open (a closed expander is not run)."""
    at.session_state["new_run"] = True
    return at.run()


def test_host_mode_locks_changes_until_the_password_is_given(runs_dir, monkeypatch):
    copy_of_shipped(runs_dir, "r")
    at = run_page("pages/1_Train.py", runs_dir, monkeypatch, query={"run": "r"},
                  SGAN_ADMIN_PASSWORD="s3cret")
    assert not at.exception, at.exception
    at = open_new_run_form(at)
    start = next(b for b in at.button if b.label == "Start training")
    assert start.disabled and "host's password" in start.help
    # a crafted message can press a disabled button: the handlers check again
    RunDir(runs_dir / "r").write_status(state="stopped")  # shows Resume as well
    monkeypatch.setattr(access, "locked", lambda help_text=None: {"disabled": False,
                                                                  "help": help_text})
    at = open_new_run_form(run_page("pages/1_Train.py", runs_dir, monkeypatch,
                                    query={"run": "r"}, SGAN_ADMIN_PASSWORD="s3cret"))
    for label in ("Start training", "Resume", "Delete for good"):
        at = next(b for b in at.button if b.label == label).click().run()
        assert not at.exception, at.exception
    assert [r.id for r in list_runs(runs_dir)] == ["r"]  # nothing started, nothing deleted
    assert list_runs(runs_dir)[0].state == "stopped"
    monkeypatch.undo()
    # AppTest runs the page alone; the sidebar panel is app.py's: drive it there
    at = run_page("app.py", runs_dir, monkeypatch, SGAN_ADMIN_PASSWORD="s3cret")
    assert "Demo host mode" in page_text(at)
    at.sidebar.text_input[0].input("wrong")
    at = next(b for b in at.button if b.label == "Unlock").click().run()
    assert "Wrong password." in [e.value for e in at.error]
    at.sidebar.text_input[0].input("s3cret")
    at = next(b for b in at.button if b.label == "Unlock").click().run()
    assert not at.exception, at.exception
    assert "Host controls unlocked in this browser." in [e.value for e in at.success]
    at = open_new_run_form(at.switch_page("pages/1_Train.py").run())
    start = next(b for b in at.button if b.label == "Start training")
    assert not start.disabled


def test_damaged_queue_times_do_not_stop_the_queue(runs_dir):
    runs = [create_run(make_config("fast", seed=seed), runs_dir) for seed in range(4)]
    for run, queued_at in zip(runs, (2.0, "yesterday", 10**400, 1.0)):
        run.write_status(queued_at=queued_at)  # once a TypeError inside the worker's sort
    assert launcher.queued_runs(runs_dir) and [r.id for r in launcher.queued_runs(runs_dir)] == \
        [runs[1].id, runs[2].id, runs[3].id, runs[0].id]  # the damaged ones count as 0


@pytest.mark.parametrize("status, state", [
    ({"state": "running", "pid": 2**40}, "interrupted"),  # no such process: not running
    ({"state": "running", "pid": -1}, "interrupted"), ({"state": "running", "pid": "1"},
                                                       "interrupted"),
    ({"step": 10**400, "elapsed_s": 1e400}, "unknown"), ({"test_acc": 10**400}, "unknown"),
    ({"heartbeat": "now", "state": "running"}, "interrupted"), ({"created": [1, 2]}, "unknown")])
def test_absurd_status_values_are_tamed(runs_dir, status, state):
    run = copy_of_shipped(runs_dir, "r")
    run.status_path.write_text(json.dumps(status))  # json writes 1e400 as Infinity
    summary = run.summary()  # raised OverflowError, ValueError or TypeError before
    assert (summary.step, summary.test_acc, summary.state) == (0, None, state)
    assert (summary.elapsed_s, summary.created) == (0.0, 0.0)


def test_absurd_config_and_metrics_values_are_refused(runs_dir):
    run = copy_of_shipped(runs_dir, "r", config={"steps": 10**400})
    assert "steps is not a whole number" in run.summary().problem
    run.config_path.write_text("[" * 100000 + "]" * 100000)  # RecursionError in json
    assert run.summary().problem == "config.json: not valid JSON"
    run.metrics_path.write_text("\n".join([
        json.dumps({"step": 5, "loss": 1.0, "bad": "x", "huge": 10**400, "inf": math.inf}),
        "[" * 100000, json.dumps({"step": 10**400}), json.dumps({"step": 10, "loss": 0.5})]) + "\n")
    assert run.read_metrics() == ({"step": 5, "loss": 1.0}, {"step": 10, "loss": 0.5})


def test_a_resume_right_after_a_stop_keeps_its_place_in_the_queue(runs_dir):
    """The worker noticed the stopped trainer's exit only after Resume had queued the run
    again, and marked the new queue entry 'interrupted': the run never restarted."""
    run = create_run(make_config("fast"), runs_dir)
    launcher.enqueue(run)
    first = run.read_status()["queued_at"]
    run.write_status(state="stopped")
    launcher.enqueue(run, "queued to resume")  # Resume, before the worker polls the old trainer
    launcher._finish(run, 0, queued_at=first)
    assert run.read_status()["state"] == "queued"
    launcher._finish(run, -9, queued_at=run.read_status()["queued_at"])  # its own trainer died
    assert run.read_status()["state"] == "interrupted"
