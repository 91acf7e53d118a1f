"""How long runs take here (speed.py) and the demo's plan and verdict: by steps, so the same on
any machine; only its time depends on the machine."""
import os
import platform

import pytest

from sgan_core.config import make_config
from sgan_core.runs import demo, speed
from sgan_core.runs.rundir import RunSummary
from sgan_ui import charts
from sgan_ui.words import demo_sentence


def ran(variant="stacked", steps=1000, seconds=100.0, threads=2, preset="fast", state="finished",
        host=None, finished_at=1.0):
    return RunSummary(id=f"{variant}-{finished_at}", labels=100, variant=variant, preset=preset,
                      seed=0, state=state, step=steps, total_steps=steps, max_seconds=None,
                      test_acc=0.9, elapsed_s=seconds, message="", why={}, created=0.0,
                      has_classifier=True, threads=threads, host=host or platform.node(),
                      finished_at=finished_at)


def test_a_run_is_timed_by_runs_like_it_on_this_machine():
    cfg = make_config("fast", steps=600, threads=2)
    others = [ran(steps=1000, seconds=100.0, finished_at=1), ran(steps=1000, seconds=200.0,
                                                                 finished_at=2),
              ran(variant="supervised", steps=1000, seconds=10.0),  # another variant
              ran(threads=1, steps=1000, seconds=10.0),              # other threads
              ran(host="elsewhere", steps=1000, seconds=10.0),       # another machine
              ran(state="running", steps=1000, seconds=10.0)]        # not over yet
    rate, source = speed.rate_for(others, cfg)
    assert source == "measured" and rate == pytest.approx(10.0)  # the faster of 10 and 5
    overhead = speed.STARTUP_S + speed.END_S
    assert speed.run_seconds(cfg, rate) == pytest.approx(overhead + 60.0)
    assert speed.run_seconds(cfg, rate, slowdown=3) == pytest.approx(overhead + 180.0)
    rate, source = speed.rate_for([], cfg)
    assert source == "reference" and rate == speed.REFERENCE_RATES[("fast", "stacked", 2)]
    assert speed.rate_for([], make_config("tutorial", variant="shared"))[1] == "guess"
    clock = make_config("fast", max_seconds=120.0)
    assert speed.run_seconds(clock, 10.0, slowdown=3) == pytest.approx(overhead + 120.0)


def test_slowdown_measures_what_else_is_running():
    """With a busy program per core, the demo's two trainers (in a session of their own, as the
    worker starts them) share what Linux gives their session: about one core of two."""
    import subprocess
    import sys
    alone = speed.slowdown(2, seconds=0.3)
    hogs = [subprocess.Popen([sys.executable, "-c", "import time\n"
                              "t = time.time()\nwhile time.time() - t < 5: pass"])
            for _ in range(os.cpu_count() or 1)]
    try:
        busy = speed.slowdown(2, seconds=0.5)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    # absolute, not against `alone`: other work on the machine (another test run, a training)
    # can make `alone` as slow as `busy`; the hogs alone take half of every core
    assert alone >= 1.0 and busy > 1.5, (alone, busy)


def test_recent_rate_reads_the_last_rows():
    rows = [{"step": 5 * i, "elapsed_s": 0.5 * i} for i in range(30)]
    assert speed.recent_rate(rows) == pytest.approx(10.0)
    assert speed.recent_rate(rows[:1]) is None


def test_the_demo_gives_every_side_the_same_steps_and_says_how_long_here(monkeypatch):
    gan, own, base = demo.configs(seed=3)
    assert (gan.variant, own.variant, base.variant) == (demo.GAN_VARIANT, "selftrain",
                                                        demo.BASELINE)
    assert {c.steps for c in (gan, own, base)} == {demo.STEPS} and gan.max_seconds is None
    assert {c.labels for c in (gan, own, base)} == {demo.LABELS}
    assert {c.seed for c in (gan, own, base)} == {3}
    assert gan.conditional  # its grid asks for each digit, so a stakeholder sees digits
    slow = [ran(steps=1000, seconds=1000.0, threads=1, finished_at=1),
            ran(variant="selftrain", steps=1000, seconds=500.0, threads=1),
            ran(variant="supervised", steps=1000, seconds=100.0, threads=1)]
    overhead = speed.STARTUP_S + speed.END_S
    monkeypatch.setattr("os.cpu_count", lambda: 2)  # two at once: the GAN on one core,
    assert demo.slots([gan, own, base]) == 2        # self-training then the baseline
    expected, source = demo.expected_seconds(slow, [gan, own, base])
    gan_s, own_s, base_s = (overhead + demo.STEPS / r for r in (1.0, 2.0, 10.0))
    assert source == "measured" and expected == pytest.approx(max(gan_s, own_s + base_s))
    # a busy machine: everything 3x slower while two train, 1.5x once one is left
    expected, _ = demo.expected_seconds(slow, [gan, own, base], 3.0, 1.5)
    gan_s, own_s, base_s = (overhead + 3 * demo.STEPS / r for r in (1.0, 2.0, 10.0))
    assert expected == pytest.approx(own_s + base_s + (gan_s - own_s - base_s) / 2)
    monkeypatch.setattr("os.cpu_count", lambda: 1)  # one after the other: all count
    expected, _ = demo.expected_seconds(slow, [gan, own, base])
    assert expected == pytest.approx(3 * overhead + demo.STEPS * (1.0 + 0.5 + 0.1))


def test_the_demo_tells_the_time_left_from_each_side_as_it_trains():
    def side(variant, state, step, rate):
        return RunSummary(**{**ran(variant=variant, threads=1).__dict__, "state": state,
                             "step": step, "total_steps": 600}), rate
    queued = [side("stacked", "queued", 0, None), side("supervised", "finished", 600, None)]
    assert demo.seconds_left(*zip(*queued)) is None  # no speed measured yet
    running = [side("stacked", "running", 100, 5.0), side("supervised", "finished", 600, None)]
    assert demo.seconds_left(*zip(*running)) == pytest.approx(100.0)
    # the baseline ends in 10 s (100 steps at 10/s); the GAN then trains twice as fast
    both = [side("stacked", "running", 100, 5.0), side("supervised", "running", 500, 10.0)]
    assert demo.seconds_left(*zip(*both), speedup_alone=2.0) == pytest.approx(10 + 90 / 2)
    # self-training ends in 20 s; the baseline, queued, then starts: its start-up, 600 steps
    # at the rate runs like it had here idle (10/s) slowed as the running two are (2x: 5/s
    # against 10/s idle), and its end: 20 + 20 + 120 s, after the GAN's 100
    three = [side("stacked", "running", 100, 5.0), side("selftrain", "running", 500, 5.0),
             side("supervised", "queued", 0, None)]
    idle = [10.0, 10.0, 10.0]
    assert demo.seconds_left(*zip(*three), expected=idle) == pytest.approx(
        20 + speed.STARTUP_S + speed.END_S + 120)
    assert demo.seconds_left(*zip(*three)) is None  # a queued side with no rate to expect
    nothing_yet = [side("stacked", "queued", 0, None), side("supervised", "queued", 0, None)]
    assert demo.seconds_left(*zip(*nothing_yet), expected=idle[:2]) is None  # load unmeasured
    assert demo.speedup_alone({"speedup_alone": "fast"}) == 1.0
    assert demo.finish_seconds([], 2) == 0.0


def test_the_verdict_names_the_steps_and_its_tone_follows_the_result():
    text = demo_sentence({"labels": 100, "steps": 600, "seconds": 0, "gan": 0.965,
                          "baseline": 0.934})
    assert text.startswith("Taught with the same 100 labeled digits (0.17% of the training set) "
                           "for 600 training steps each")
    assert "misreads 3.5 of every 100 test digits, the supervised baseline 6.6" in text
    worse = demo_sentence({"labels": 100, "steps": 600, "seconds": 0, "gan": 0.69,
                           "baseline": 0.94})
    assert "misreads 31.0 of every 100" in worse and "baseline 6.0" in worse  # one format
    assert worse.endswith("in this run the unlabeled images did not help.")
    cost = demo_sentence({"labels": 100, "steps": 600, "seconds": 0, "gan": 0.965,
                          "selftrain": 0.975, "baseline": 0.934})
    assert ("without the real/fake game (self-training on its own confident readings) "
            "misreads 2.5: here the game cost 1.0 digits in 100") in cost
    gain = demo_sentence({"labels": 10, "steps": 600, "seconds": 0, "gan": 0.85,
                          "selftrain": 0.80, "baseline": 0.60})
    assert gain.endswith("misreads 20.0: here the real/fake game added 5.0 right digits in 100.")


def test_a_one_point_sweep_draws_a_readable_chart():
    fig = charts.sweep_figure([{"labels": 100, "variant": "stacked", "runs": 1, "n": 1,
                                "mean": 0.95, "sd": None, "seeds": 1}])
    low, high = fig["layout"]["yaxis"]["range"]
    assert 0.85 < low < 0.95 < high <= 1.005  # not 0 to 150%
    assert fig["layout"]["xaxis"]["tickvals"] == [100]  # not "2 3 ... 9 10 2 3"
    colors = {t["line"]["color"] for t in fig["data"] if t.get("name") == "stacked"}
    assert colors == {charts.VARIANT_COLORS["stacked"]}


def test_each_variant_keeps_its_colour_between_charts():
    fig = charts.compare_figure({"a": [{"step": 1, "test_acc": 0.5}],
                                 "b": [{"step": 1, "test_acc": 0.6}]},
                                variants={"a": "supervised", "b": "stacked"})
    assert [t["line"]["color"] for t in fig["data"]] == [charts.VARIANT_COLORS["supervised"],
                                                          charts.VARIANT_COLORS["stacked"]]
