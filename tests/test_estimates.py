"""The estimates before a run and while it trains (speed.py): this machine's timed step where
nothing like the run has trained here, what else is running judged by what it does to a step,
and the run's own rate once it trains; the Sweep page's warning only when the estimate says so."""
import platform
import subprocess
import sys

import pytest

from sgan_core import PROJECT_ROOT
from sgan_core.config import make_config
from sgan_core.runs import speed
from sgan_core.runs.rundir import RunSummary

from conftest import page_text, run_page

CLOCK = make_config("fast", max_seconds=120.0)  # the New run form's default: 2 minutes, 2 threads
R = speed.RUN_PER_PROBE  # a `fast` GAN run's rate over the probe's


def ran(steps=1000, seconds=100.0, finished_at=1.0):
    return RunSummary(id=f"run-{finished_at}", labels=100, variant="stacked", preset="fast",
                      seed=0, state="finished", step=steps, total_steps=steps, max_seconds=None,
                      test_acc=0.9, elapsed_s=seconds, message="", why={}, created=0.0,
                      has_classifier=True, threads=2, host=platform.node(),
                      finished_at=finished_at)


def training(step, elapsed_s, max_seconds=120.0, total_steps=10**6):
    return RunSummary(id="live", labels=100, variant="stacked", preset="fast", seed=0,
                      state="running", step=step, total_steps=total_steps,
                      max_seconds=max_seconds, test_acc=None, elapsed_s=elapsed_s, message="",
                      why={}, created=0.0, has_classifier=False, threads=2,
                      host=platform.node())


def rows_at(rate, seconds, every=0.5):
    return [{"step": int(rate * t * every), "elapsed_s": t * every}
            for t in range(int(seconds / every) + 1)]


def test_without_runs_like_it_a_step_timed_here_sets_the_rate(tmp_path):
    """A step timed at 20 a second: a `fast` GAN run at 20 * RUN_PER_PROBE, its steps by the
    clock follow, and other kinds of run scale as the reference machine's do; the cache is
    beside the runs, by host and threads."""
    assert speed.read_probe(tmp_path, 2) is None
    speed.record_probe(tmp_path, 2, 20.0)
    probe = speed.read_probe(tmp_path, 2)
    assert probe.run_rate == pytest.approx(20.0 * R) and probe.slowdown == 1.0
    assert speed.read_probe(tmp_path, 1) is None                      # another thread count
    assert speed.read_probe(tmp_path, 2, host="elsewhere") is None    # another machine
    assert (tmp_path / speed.SPEED_FILE).is_file()
    est = speed.estimate([], CLOCK, probe)
    assert est.source == "probed" and est.rate == pytest.approx(20.0 * R)
    assert est.steps(CLOCK) == int(20.0 * R * 120)
    ref = speed.REFERENCE_RATES
    baseline = speed.estimate([], make_config("fast", variant="supervised"), probe)
    assert baseline.rate == pytest.approx(20.0 * R * ref[("fast", "supervised", 2)]
                                          / ref[("fast", "stacked", 2)])
    # no probe: the reference machine's rate, said so
    assert speed.estimate([], CLOCK).source == "reference"
    # runs like it here come first; the probe still says how busy the machine is now
    est = speed.estimate([ran(steps=1000, seconds=50.0)], CLOCK, probe)
    assert est.source == "measured" and est.rate == pytest.approx(20.0)
    # a run by steps trains them all, however fast
    assert est.steps(make_config("fast", steps=700)) == 700


def test_a_slower_step_now_than_at_its_fastest_is_what_else_is_running(tmp_path):
    """The probe timed on an idle machine, then beside other work at a third of that speed:
    three times slower now, and a run by the clock reaches a third of the steps. The fastest
    timing stands for idle, whichever came first."""
    speed.record_probe(tmp_path, 2, 15.0, at=1.0)
    speed.record_probe(tmp_path, 2, 5.0, at=2.0)
    probe = speed.read_probe(tmp_path, 2)
    assert probe.slowdown == pytest.approx(3.0) and probe.at == 2.0
    est = speed.estimate([], CLOCK, probe)
    assert est.idle_rate == pytest.approx(15.0 * R) and est.rate == pytest.approx(5.0 * R)
    assert est.steps(CLOCK) == int(5.0 * R * 120)
    assert est.seconds(CLOCK) == pytest.approx(speed.STARTUP_S + speed.END_S + 120)
    # first timed busy, then idle: the idle timing becomes the fastest, nothing is slower now
    speed.record_probe(tmp_path, 1, 4.0, at=1.0)
    speed.record_probe(tmp_path, 1, 8.0, at=2.0)
    assert speed.read_probe(tmp_path, 1).slowdown == 1.0
    # a training run's own rate against runs like it idle says the same
    assert speed.trainer_slowdown(12.0, rows_at(4.0, 20)) == pytest.approx(3.0)
    assert speed.trainer_slowdown(12.0, rows_at(24.0, 20)) == 1.0   # never faster than idle
    assert speed.trainer_slowdown(12.0, rows_at(4.0, 0)) is None     # one row: not yet known
    assert speed.estimate([], CLOCK, probe, slowdown=2.0).rate == pytest.approx(7.5 * R)


def test_only_the_last_timings_are_kept_and_a_damaged_cache_is_none(tmp_path):
    for i in range(speed.PROBE_KEEP + 5):
        speed.record_probe(tmp_path, 2, 100.0 if i == 0 else 10.0, at=float(i))
    assert speed.read_probe(tmp_path, 2).best == 10.0  # the old fast timing has gone
    (tmp_path / speed.SPEED_FILE).write_text('{"%s": {"2": [["x", 3]]}}' % platform.node())
    assert speed.read_probe(tmp_path, 2) is None
    (tmp_path / speed.SPEED_FILE).write_text("[1, 2")
    assert speed.read_probe(tmp_path, 2) is None
    speed.record_probe(tmp_path, 2, 5.0)  # and is written anew
    assert speed.read_probe(tmp_path, 2).rate == 5.0


def test_the_probe_is_timed_once_then_again_only_when_old(tmp_path, monkeypatch):
    monkeypatch.setenv("SGAN_SPEED_PROBE", "1")
    timed, started = [], []

    def measure(runs_dir, threads):
        timed.append(threads)
        return speed.record_probe(runs_dir, threads, 10.0)

    monkeypatch.setattr(speed, "measure", measure)
    monkeypatch.setattr(speed, "start_probe", lambda runs_dir, threads: started.append(threads))
    assert speed.current_probe(tmp_path, 2, busy=True) is None  # our runs training: not now
    assert timed == []
    assert speed.current_probe(tmp_path, 2).rate == 10.0  # never timed: timed now, waited for
    assert speed.current_probe(tmp_path, 2).rate == 10.0  # cached
    assert timed == [2] and started == []
    assert speed.current_probe(tmp_path, 2, max_age_s=-1).rate == 10.0  # old: the last serves
    assert started == [2]                                               # while it is retimed
    monkeypatch.setenv("SGAN_SPEED_PROBE", "0")
    assert speed.current_probe(tmp_path, 1) is None and timed == [2]  # off: the cache only


def test_a_training_run_corrects_the_estimate_from_its_own_rate():
    """30 s into a 2-minute run at 10 steps a second: about 1,200 steps by the end, whatever
    was estimated before Start. A run by steps ends at its steps."""
    rows = rows_at(10.0, 30)
    assert speed.run_rate(rows) == pytest.approx(10.0)
    assert speed.expected_steps(training(300, 30.0), rows) == 1200
    # the rate of its last 30 s: a run that slowed down halfway is judged by now
    slowed = rows_at(20.0, 30) + [{"step": 600 + 5 * i, "elapsed_s": 30 + i} for i in range(1, 31)]
    assert speed.run_rate(slowed) == pytest.approx(5.0, rel=0.05)
    assert speed.expected_steps(training(750, 60.0), slowed) == pytest.approx(1050, abs=20)
    assert speed.expected_steps(training(0, 0.0), []) is None
    assert speed.expected_steps(training(0, 0.0, max_seconds=None, total_steps=800), []) == 800


@pytest.mark.slow
def test_the_probe_times_a_step_in_a_child_process(tmp_path):
    """A real probe: a child process times the `fast` step and caches it; the process that
    asked (the web server) never imports TensorFlow."""
    code = ("import sys\nfrom sgan_core.runs import speed\n"
            f"probe = speed.measure({str(tmp_path)!r}, 1)\n"
            "assert probe is not None and probe.rate > 0.5, probe\n"
            "assert 'tensorflow' not in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert speed.read_probe(tmp_path, 1) is not None



@pytest.mark.parametrize("probe_rate, warned", [(15.0, False), (4.0, True)])
def test_sweep_warns_of_short_runs_only_when_the_estimate_says_so(tmp_path, monkeypatch,
                                                                  probe_rate, warned):
    """Two minutes a run: with a step timed at 15 a second a `fast` GAN run reaches about
    1,670 steps, enough; at 4 a second about 450, under half the preset's 1,100: warned, with
    the estimate's numbers. The Train page's form says the same steps."""
    runs_dir = tmp_path / "runs"
    speed.record_probe(runs_dir, 2, probe_rate)
    steps = int(probe_rate * R * 120)
    at = run_page("pages/4_Sweep.py", runs_dir, monkeypatch)
    assert not at.exception, at.exception
    text = page_text(at)
    assert ("choose more minutes" in text) == warned, text
    if warned:
        assert f"about {steps:,} steps here now" in text
    at = run_page("pages/1_Train.py", runs_dir, monkeypatch)
    assert f"about {steps:,} steps at" in page_text(at)
    assert "a training step timed on this machine" in page_text(at)
