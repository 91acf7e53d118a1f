"""A live run's progress, charts and latest grid for every viewer at once: built once per
change in memory and pushed to each open page over one server-sent event stream (as
TensorBoard's front end reads its data, but pushed rather than polled).

Before, every viewer's page reran its live part every 2 s to resend all of it, and then fetched
a JSON file every 2 s through Streamlit's static file serving (a thread-pool task per fetch):
the server's cost grew with the room (benchmarks/room.py). Now:
  - one thread per server (feed_publisher.py; started by the first page or watch link that
    shows a live run, it never calls Streamlit and is the only reader of the run directory)
    builds the feed at most every 1.5 s while the run is queued or training, and once more
    when it ends, and hands it to the run's feed_hub.Channel, which encodes each change once
    for every viewer;
  - feed_routes.py streams each channel from memory on the server's event loop (one
    connection per viewer, no thread): the whole feed first, then only what changed;
  - `feed` mounts a component that follows that stream (feed_view.py) and redraws what
    changed, smoothing the curves and choosing the x axis in the browser; when the run's state
    changes it reruns the page once. The watch-only page (/watch/<id>) follows the same stream
    with the same code;
  - what still reruns per viewer while a run trains (the "How it learns" panels) reruns less
    often as the room grows (`room_interval`): slower, never stopped.
"""
from __future__ import annotations

import threading
import time

import streamlit as st

from sgan_core.runs.rundir import RunDir

from .charts import X_TITLES
from .feed_publisher import progress_parts, publisher, stream_url  # noqa: F401 (the pages')
from .feed_view import CSS, FEED_VIEW_JS, HTML, PLOTLY_JS
from .live_chart import plotly_src

VIEWERS_AT_BASE = 20   # past this many viewers of live pages, their reruns slow down
WATCHER_TIMEOUT_S = 60.0


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


_JS = PLOTLY_JS + FEED_VIEW_JS + """
export default async function ({ data, parentElement, setTriggerValue }) {
  const root = parentElement.querySelector(".sgan-feed");
  root.args = data;
  if (root.view) { root.view.redraw(); return; }  // new smoothing, axis or run: keep going
  const Plotly = await loadPlotly(data.src);
  root.view = followFeed(root, Plotly, (feed) => {
    if (feed.state !== root.args.state) {  // queued -> running -> finished: rerun once
      root.args = {...root.args, state: feed.state};
      setTriggerValue("state", feed.state);
    }
  });
}
"""

_feed = st.components.v2.component("sgan_lab.live_feed", js=_JS, html=HTML, css=CSS,
                                   isolate_styles=False)


def feed(run: RunDir, state: str, smoothing: float, x: str, grid_caption: str | None) -> None:
    """The run's live progress and charts (and latest grid unless grid_caption is None), drawn
    in the browser from the run's feed stream; the page reruns when the run's state is no
    longer `state`."""
    publisher().watch(run)
    _feed(data={"src": plotly_src(), "url": stream_url(run), "smoothing": smoothing, "x": x,
                "grid": grid_caption is not None, "caption": grid_caption or "",
                "state": state, "x_title": X_TITLES[x]},
          key="live_feed", height="content", on_state_change=lambda: None)
