"""The one thread per server that reads live runs' directories and hands their feeds to
feed_hub's channels: at most every PUBLISH_EVERY_S while a run is queued or training, and once
more when it ends: the progress line and figures, chart specs without smoothing (by step, with
each curve's x by training seconds beside), and the latest grid's address (its PNG kept in the
channel, named by step, so a browser fetches each grid once). It never calls Streamlit.
"""
from __future__ import annotations

import base64
import hashlib
import threading

from sgan_core.runs import speed
from sgan_core.runs.rundir import RunDir

from .charts import accuracy_figure, losses_figure
from .common import fmt_acc, fmt_duration, server_path
from .feed_hub import HUB

PUBLISH_EVERY_S = 1.5
# points per curve in the feed: as many as a live chart's width shows, and the whole feed a
# viewer gets on arrival stays small (an hour's run: about 60 KB instead of 250 KB)
FEED_POINTS = 300
ACTIVE = ("queued", "running")


def feed_id(run_id: str) -> str:
    """A run's short id in links (/watch/<id>, /feed/<id>): 6 letters and digits from a hash
    of its run id, no path; feed_routes resolves it only among the runs the pages list."""
    digest = hashlib.sha256(run_id.encode()).digest()
    return base64.b32encode(digest).decode()[:6].lower()


def stream_url(run: RunDir) -> str:
    return server_path(f"feed/{feed_id(run.id)}")


def watch_url(run: RunDir) -> str:
    return server_path(f"watch/{feed_id(run.id)}")


def progress_parts(summary, rows) -> tuple[float, str, list[tuple[str, str]]]:
    """(fraction done, the progress line, the four figures under it) of a run."""
    step, total, state = summary.step, summary.total_steps or 1, summary.state
    rate = speed.recent_rate(rows)
    elapsed = summary.elapsed_s
    if summary.max_seconds:  # a time budget: progress and ETA by the clock
        budget = summary.max_seconds
        eta = max(0.0, budget - elapsed)
        fraction = 1.0 if state == "finished" else min(1.0, elapsed / budget)
        if summary.active or elapsed < budget:
            text = (f"{state} · step {step} · {fmt_duration(min(elapsed, budget))} of "
                    f"{fmt_duration(budget)}")
            expected = speed.expected_steps(summary, rows) if state == "running" else None
            if expected:  # from its own rate: the estimate before Start, corrected
                text += f" · about {expected:,} steps by the end"
        else:  # the final evaluation runs after the budget: say so rather than "35s of 30s"
            text = (f"{state} · step {step} · trained {fmt_duration(budget)}, then the final "
                    "test")
    else:
        eta = (total - step) / rate if rate else None
        fraction = min(1.0, step / total)
        text = f"{state} · step {step} / {total}"
    return fraction, text, [("Test accuracy", fmt_acc(summary.test_acc)),
                            ("Steps / s", f"{rate:.1f}" if rate else "–"),
                            ("Elapsed", fmt_duration(summary.elapsed_s)),
                            ("ETA", fmt_duration(eta) if state == "running" else "–")]


def payload(run: RunDir, summary, rows: list[dict]) -> dict:
    """The run's state and progress, both charts by step with each curve's x values by
    training seconds beside them (the curves smoothing applies to marked), and the latest
    grid (its PNG kept in the run's channel, fetched from the address given)."""
    fraction, text, metrics = progress_parts(summary, rows)
    charts = []
    for build in (losses_figure, accuracy_figure):
        by_step = build(rows, 0.0, "step", FEED_POINTS)
        by_time = build(rows, 0.0, "elapsed_s", FEED_POINTS)
        for i, (trace, timed) in enumerate(zip(by_step["data"], by_time["data"])):
            trace["x_elapsed_s"] = timed["x"]  # the other axis: only its x values travel
            if build is losses_figure or trace["name"].startswith("labeled"):
                trace["meta"] = "smooth"
        charts.append(by_step)
    out = {"state": summary.state, "fraction": fraction, "text": text, "metrics": metrics,
           "charts": charts, "grid": None,
           "title": f"{summary.variant} · {summary.labels} labels · {summary.preset}"}
    grids = run.sample_files()
    if grids:
        step, path = grids[-1]
        channel = HUB.channel(feed_id(run.id))
        if channel.grid is None or channel.grid[0] != step:
            try:
                png = path.read_bytes()
            except OSError:
                png = b""
            if png.startswith(b"\x89PNG"):
                channel.grid = (step, png)
        if channel.grid and channel.grid[0] == step:
            # an address of its own, named by step: each browser fetches a grid once
            out["grid"] = {"step": step,
                           "src": server_path(f"feed/{feed_id(run.id)}/grid-{step}.png")}
    return out


def publish(run: RunDir) -> str:
    """Hand the run's feed to its channel if something changed since the last time; its
    state."""
    summary = run.summary()
    rows = run.read_metrics()
    grids = run.sample_files()
    version = (f"{summary.state}:{summary.step}:{len(rows)}:{grids[-1][0] if grids else 0}:"
               f"{summary.elapsed_s:.0f}")
    channel = HUB.channel(feed_id(run.id))
    ended = summary.state not in ACTIVE
    if channel.feed is None or channel.feed.get("version") != version or \
            channel.ended != ended:
        body = payload(run, summary, rows)
        body["version"] = version
        channel.update(body, ended=ended)
    return summary.state


class Publisher:
    """The one thread that keeps the feeds of watched live runs fresh (it never calls
    Streamlit: files in, memory out)."""

    def __init__(self):
        self.lock, self.runs, self.wake = threading.Lock(), {}, threading.Event()
        threading.Thread(target=self._loop, name="sgan-live-feed", daemon=True).start()

    def watch(self, run: RunDir) -> str:
        """Keep the run's feed fresh while it is queued or training (and publish it now);
        its feed id."""
        key = feed_id(run.id)
        with self.lock:
            new = key not in self.runs
            self.runs[key] = run
        if new:  # not once per viewer: a room arriving would keep the thread reading
            self.wake.set()
        return key

    def _loop(self):
        while True:
            self.wake.wait(PUBLISH_EVERY_S)
            self.wake.clear()
            with self.lock:
                runs = list(self.runs.items())
            for key, run in runs:
                try:
                    state = publish(run)
                except Exception:  # noqa: BLE001 - a damaged or deleted run: stop watching it
                    state = "gone"
                if state not in ACTIVE:  # its last state is published: done
                    with self.lock:
                        if self.runs.get(key) is run:
                            self.runs.pop(key, None)


_publisher: Publisher | None = None
_publisher_lock = threading.Lock()


def publisher() -> Publisher:
    """The server's one publisher (for the pages and the routes alike)."""
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = Publisher()
        return _publisher




def read_feed(run: RunDir) -> dict | None:
    """The run's published feed (for tests and benchmarks), None if there is none."""
    channel = HUB.get(feed_id(run.id))
    return channel.feed if channel else None
