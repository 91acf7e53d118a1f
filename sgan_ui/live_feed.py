"""A live run's progress, charts and latest grid for every viewer at once: built once per
change into a small JSON file that each open page fetches by itself, as TensorBoard's front end
polls its data.

Before, every viewer's page reran its live part every 2 s to resend all of it: the server's
cost grew with the room, and past about a core of such reruns (Python's one interpreter lock)
the live page stopped for everyone (benchmarks/room.py). Now:
  - one thread per server (`Publisher`, started by the first page that shows a live run; it
    never calls Streamlit) writes static/live/<run>.json at most every PUBLISH_EVERY_S while
    the run is queued or training, and once more when it ends: the progress line and figures,
    chart specs without smoothing (by step, with each curve's x by training seconds beside),
    and the latest grid's address (a PNG beside
    it, named by step, so a browser fetches each grid once);
  - `feed` mounts a component that fetches that file every POLL_MS (Streamlit's static file
    serving, `server.enableStaticServing`) and redraws what changed, smoothing the curves and
    choosing the x axis in the browser; when the run's state changes it reruns the page once;
  - what still reruns per viewer while a run trains (the "How it learns" panels) reruns less
    often as the room grows (`room_interval`): slower, never stopped.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

import streamlit as st

from sgan_core import PROJECT_ROOT
from sgan_core.runs import speed
from sgan_core.runs.rundir import RunDir, atomic_write_bytes

from .charts import X_TITLES, accuracy_figure, losses_figure, to_json
from .common import fmt_acc, fmt_duration, server_path
from .live_chart import PLOTLY_JS, plotly_src

PUBLISH_EVERY_S = 1.5
POLL_MS = 2000
# points per curve in the feed: as many as a live chart's width shows, and the file every page
# fetches every 2 s stays small (an hour's run: about 60 KB instead of 250 KB)
FEED_POINTS = 300
VIEWERS_AT_BASE = 20   # past this many viewers of live pages, their reruns slow down
WATCHER_TIMEOUT_S = 60.0

_published: dict[str, tuple[float, str]] = {}   # feed file -> (when, version)


def feed_dir() -> Path:
    """Where the feeds are written: static/live/ in the project, which Streamlit serves as
    app/static/live/ (the address `feed_url` gives); $SGAN_FEED_DIR instead where set when a
    page watches a run (the tests write under a temporary directory: a feed there is not
    served)."""
    return Path(os.environ.get("SGAN_FEED_DIR") or PROJECT_ROOT / "static" / "live")


def feed_name(run: RunDir) -> str:
    return hashlib.sha1(str(run.path.resolve()).encode()).hexdigest()[:20]


def feed_url(run: RunDir) -> str:
    return server_path(f"app/static/live/{feed_name(run)}.json")


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


def payload(run: RunDir, summary, rows: list[dict], folder: Path) -> dict:
    """The run's state and progress, both charts by step with each curve's x values by
    training seconds beside them (the curves smoothing applies to marked), and the latest
    grid (its PNG written into folder, beside the feed)."""
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
           "charts": charts, "grid": None}
    grids = run.sample_files()
    if grids:
        step, path = grids[-1]
        # a file of its own, named by step: each browser fetches a grid once, not every poll
        name = f"{feed_name(run)}-grid-{step:06d}.png"
        target = folder / name
        if not target.is_file():
            try:
                png = path.read_bytes()
            except OSError:
                png = b""
            if png.startswith(b"\x89PNG"):
                folder.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(target, png)
                for old in folder.glob(f"{feed_name(run)}-grid-*.png"):
                    if old.name < name:
                        old.unlink(missing_ok=True)
        if target.is_file():
            out["grid"] = {"step": step, "src": server_path(f"app/static/live/{name}")}
    return out


def publish(run: RunDir, folder: Path | None = None) -> str:
    """Write the run's feed into folder (default feed_dir()) if something changed since the
    last time; its state."""
    summary = run.summary()
    rows = run.read_metrics()
    grids = run.sample_files()
    version = (f"{summary.state}:{summary.step}:{len(rows)}:{grids[-1][0] if grids else 0}:"
               f"{summary.elapsed_s:.0f}")
    folder = feed_dir() if folder is None else folder
    path = folder / f"{feed_name(run)}.json"
    if _published.get(str(path), (0, ""))[1] != version or not path.is_file():
        body = payload(run, summary, rows, folder)
        body["version"] = version
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, to_json(body).encode())
        _published[str(path)] = (time.monotonic(), version)
    return summary.state


class Publisher:
    """The one thread that keeps the feeds of watched live runs fresh (it never calls
    Streamlit: files in, files out)."""

    def __init__(self):
        self.lock, self.runs = threading.Lock(), {}
        threading.Thread(target=self._loop, name="sgan-live-feed", daemon=True).start()

    def watch(self, run: RunDir) -> None:
        folder = feed_dir()  # where the page that asks looks, for as long as it is watched
        with self.lock:
            self.runs[str(run.path)] = (run, folder)
        publish(run, folder)  # the page that asks finds its feed there

    def _loop(self):
        while True:
            time.sleep(PUBLISH_EVERY_S)
            with self.lock:
                runs = list(self.runs.items())
            for key, (run, folder) in runs:
                try:
                    state = publish(run, folder)
                except Exception:  # noqa: BLE001 - a damaged or deleted run: stop watching it
                    state = "gone"
                if state not in ("queued", "running"):  # its last state is written: done
                    with self.lock:
                        self.runs.pop(key, None)


@st.cache_resource(show_spinner=False)
def publisher() -> Publisher:
    return Publisher()


class _Watchers:
    """Sessions that reran a live view in the last WATCHER_TIMEOUT_S, for every viewer."""

    def __init__(self):
        self.lock, self.seen = threading.Lock(), {}

    def touch(self, session: str) -> int:
        now = time.monotonic()
        with self.lock:
            self.seen[session] = now
            if len(self.seen) > 1 and now - min(self.seen.values()) > WATCHER_TIMEOUT_S:
                self.seen = {s: t for s, t in self.seen.items()
                             if now - t <= WATCHER_TIMEOUT_S}
            return len(self.seen)


@st.cache_resource(show_spinner=False)
def _watchers() -> _Watchers:
    return _Watchers()


def room_interval(base_s: float) -> float:
    """`base_s` up to VIEWERS_AT_BASE viewers of live pages, then widening with the room, so
    that all of them together rerun as often as VIEWERS_AT_BASE would."""
    ctx = st.runtime.scriptrunner.get_script_run_ctx()
    n = _watchers().touch(ctx.session_id if ctx else "?")
    return round(max(base_s, base_s * n / VIEWERS_AT_BASE), 1)


_JS = PLOTLY_JS + """
function smooth(ys, w) {  // charts.smooth: TensorBoard's bias-corrected moving average
  if (!(w > 0)) return ys;
  let last = 0;
  return ys.map((v, i) => {
    if (v === null) return null;
    last = last * w + (1 - w) * v;
    return last / (1 - Math.pow(w, i + 1));
  });
}

export default async function ({ data, parentElement, setTriggerValue }) {
  const root = parentElement.querySelector(".sgan-feed");
  root.args = data;
  root.trigger = setTriggerValue;
  if (root.redraw) { root.redraw(); return; }  // new smoothing or axis: redraw, keep polling
  const Plotly = await loadPlotly(data.src);
  let feed = null;
  root.redraw = async () => {
    if (!feed) return;
    root.querySelector(".sgan-feed-text").textContent = feed.text;
    root.querySelector(".sgan-feed-bar > div").style.width = `${100 * feed.fraction}%`;
    root.querySelectorAll(".sgan-feed-metric").forEach((m, i) => {
      if (!feed.metrics[i]) return;
      m.querySelector("span").textContent = feed.metrics[i][0];
      m.querySelector("b").textContent = feed.metrics[i][1];
    });
    const a = root.args, specs = feed.charts;
    const boxes = root.querySelectorAll(".sgan-feed-chart");
    for (let i = 0; i < specs.length; i++) {
      const spec = JSON.parse(JSON.stringify(specs[i]));
      spec.data.forEach(t => {
        if (t.meta === "smooth") t.y = smooth(t.y, a.smoothing);
        if (a.x === "elapsed_s") t.x = t.x_elapsed_s;
        delete t.x_elapsed_s;
      });
      spec.layout.xaxis.title.text = a.x_title;
      spec.layout.uirevision = a.x;
      await Plotly.react(boxes[i], spec.data, spec.layout, plotlyConfig(false));
    }
    const grid = root.querySelector(".sgan-feed-grid");
    if (a.grid && feed.grid) {
      const img = grid.querySelector("img");
      if (img.getAttribute("src") !== feed.grid.src) img.setAttribute("src", feed.grid.src);
      grid.querySelector("p").textContent = `Generated digits at step ${feed.grid.step} (`
          + a.caption + ")";
      grid.style.display = "";
    } else grid.style.display = "none";
  };
  const poll = async () => {
    if (!root.isConnected) return;  // the page moved on: stop
    try {
      const r = await fetch(root.args.url, {cache: "no-store"});
      if (r.ok) {
        const next = await r.json();
        if (!feed || next.version !== feed.version) { feed = next; await root.redraw(); }
        if (feed.state !== root.args.state) {  // queued -> running -> finished: rerun once
          root.args = {...root.args, state: feed.state};
          root.trigger("state", feed.state);
        }
      }
    } catch (e) { /* the next poll tries again */ }
    setTimeout(poll, root.args.poll_ms);
  };
  poll();
}
"""

_HTML = """<div class="sgan-feed">
  <p class="sgan-feed-text"></p><div class="sgan-feed-bar"><div></div></div>
  <div class="sgan-feed-metrics">
    <div class="sgan-feed-metric"><span></span><b></b></div>
    <div class="sgan-feed-metric"><span></span><b></b></div>
    <div class="sgan-feed-metric"><span></span><b></b></div>
    <div class="sgan-feed-metric"><span></span><b></b></div>
  </div>
  <div class="sgan-feed-row"><div class="sgan-feed-chart"></div>
  <div class="sgan-feed-chart"></div></div>
  <div class="sgan-feed-grid" style="display:none"><img width="420" alt="generated digits">
  <p></p></div>
</div>"""

_CSS = """
.sgan-feed-text { margin: 0 0 0.3rem 0; font-size: 0.875rem; }
.sgan-feed-bar { height: 0.5rem; border-radius: 0.25rem; background: #f3f6f8; }
.sgan-feed-bar > div { height: 100%; width: 0; border-radius: 0.25rem; background: #e4572e;
                       transition: width 0.5s; }
.sgan-feed-metrics { display: flex; flex-wrap: wrap; margin: 1rem 0; }
.sgan-feed-metric { flex: 1 1 25%; min-width: 8rem; }
.sgan-feed-metric span { display: block; font-size: 0.875rem; }
.sgan-feed-metric b { font-size: 2.25rem; font-weight: 400; line-height: 1.3; }
.sgan-feed-row { display: flex; gap: 1rem; flex-wrap: wrap; }
.sgan-feed-chart { flex: 1 1 320px; min-width: 0; min-height: 340px; }
.sgan-feed-grid img { max-width: 100%; border-radius: 0.5rem; image-rendering: pixelated; }
.sgan-feed-grid p { color: rgba(49, 51, 63, 0.6); font-size: 0.875rem; max-width: 420px; }
"""

_feed = st.components.v2.component("sgan_lab.live_feed", js=_JS, html=_HTML, css=_CSS,
                                   isolate_styles=False)


def feed(run: RunDir, state: str, smoothing: float, x: str, grid_caption: str | None) -> None:
    """The run's live progress and charts (and latest grid unless grid_caption is None), drawn
    in the browser from the run's feed; the page reruns when the run's state is no longer
    `state`."""
    publisher().watch(run)
    _feed(data={"src": plotly_src(), "url": feed_url(run), "smoothing": smoothing, "x": x,
                "grid": grid_caption is not None, "caption": grid_caption or "",
                "poll_ms": POLL_MS, "state": state, "x_title": X_TITLES[x]},
          key="live_feed", height="content", on_state_change=lambda: None)


def read_feed(run: RunDir) -> dict | None:
    """The run's published feed (for tests and benchmarks), None if there is none."""
    path = feed_dir() / f"{feed_name(run)}.json"
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
