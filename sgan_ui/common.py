"""Helpers shared by the Streamlit pages: where runs live, run lookup from the URL, formatting."""
from __future__ import annotations

import os
import re
from pathlib import Path

import streamlit as st

from sgan_core import PROJECT_ROOT
from sgan_core.runs import speed
from sgan_core.runs.rundir import NoSuchRun, RunDir, RunSummary, list_runs, resolve_run
from sgan_core.values import finite_or_none
from sgan_ui.words import labels_source


def runs_dir() -> Path:
    """Where run directories live ($SGAN_RUNS_DIR, default runs/ in the project)."""
    return Path(os.environ.get("SGAN_RUNS_DIR", PROJECT_ROOT / "runs"))


def runs() -> list[RunSummary]:
    """Summaries of every run, newest first."""
    return sorted(list_runs(runs_dir()), key=lambda r: r.id, reverse=True)


def run_from_id(run_id: str | None) -> RunDir | None:
    """The run named by an id from the URL or a form, or None after showing 'no such run'."""
    if not run_id:
        return None
    try:
        return resolve_run(runs_dir(), run_id)
    except NoSuchRun as e:
        st.warning(f"{e}. Pick a run from the list.")
        return None


# Every chart's toolbar, st.plotly_chart's and those drawn in the browser (live_chart.py,
# live_feed.py): runs stay on this machine, so no upload to Plotly Cloud (plotly.js 3's "Share
# chart" button) and no link to plotly.com; its camera button saves the chart as a PNG
PLOTLY_CONFIG = {"displaylogo": False, "showSendToCloud": False, "showEditInChartStudio": False,
                 "showLink": False, "plotlyServerURL": "",
                 "modeBarButtonsToRemove": ["sendChartToCloud"],
                 "toImageButtonOptions": {"format": "png", "scale": 2}}

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def plain(text) -> str:
    """Text from a file or a request, shown literally inside Markdown (st.warning, st.error):
    a damaged file must not put links, images or icons on the page."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def readable(summaries: list[RunSummary]) -> list[RunSummary]:
    """The runs whose files can be read; the others are named once by unreadable_note."""
    return [r for r in summaries if r.usable]


def unreadable_note(summaries: list[RunSummary]) -> None:
    """One warning naming each run that cannot be read, and why; nothing when all can."""
    bad = [r for r in summaries if not r.usable]
    if bad:
        listed = "; ".join(f"{plain(r.id)} ({plain(r.problem)})" for r in bad[:5])
        more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        st.warning(f"{len(bad)} run{'s' if len(bad) > 1 else ''} cannot be read and "
                   f"{'are' if len(bad) > 1 else 'is'} left out: {listed}{more}. "
                   "Delete it on the Train page, or repair its files.", icon=":material/warning:")


def server_path(path: str) -> str:
    """An absolute URL path on this server, under its base path (server.baseUrlPath) if any."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return (f"/{base}" if base else "") + "/" + path.lstrip("/")


@st.cache_data(ttl=30, show_spinner=False)
def slowdown_now(processes: int) -> float:
    """speed.slowdown, measured at most every 30 s for every viewer together."""
    return speed.slowdown(processes)


def as_number(value) -> float:
    """A number read from a run's files, or 0.0 when it is missing or not a number."""
    return finite_or_none(value) or 0.0


def fmt_acc(value) -> str:
    return "–" if value is None else f"{value:.2%}"


def fmt_duration(seconds) -> str:
    if seconds is None or seconds != seconds:
        return "–"
    seconds = int(round(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m" if h else (f"{m}m {s:02d}s" if m else f"{s}s")


def run_label(r: RunSummary) -> str:
    if not r.usable:
        return f"cannot be read: {r.problem}  ({r.id})"
    # an active run shows its state: an accuracy here would go stale while it trains
    result = r.state if r.active else fmt_acc(r.test_acc)
    source = "" if r.pick in ("random", None) else f" {labels_source(r)}"
    return (f"{r.variant} · {r.labels} labels{source} · {r.preset} · seed {r.seed} · {result}  "
            f"({r.id})")


def runs_table_rows(summaries: list[RunSummary]) -> list[dict]:
    labels_of = {r.id: r.labels for r in summaries}  # a taught run's parent's
    # what a phone shows without scrolling sideways comes first: state and accuracy
    return [{"state": r.state if r.usable else f"unreadable: {r.problem}",
             "test acc": None if r.test_acc is None else round(100 * r.test_acc, 2),
             "labels": r.labels, "labels from": labels_source(r, labels_of.get(r.parent)),
             "variant": r.variant, "preset": r.preset,
             "step": (f"{r.step} ({fmt_duration(r.max_seconds)} budget)" if r.max_seconds
                      else f"{r.step}/{r.total_steps}"),
             "elapsed": fmt_duration(r.elapsed_s), "run": r.id} for r in summaries]


def runs_table(summaries: list[RunSummary]) -> None:
    st.dataframe(runs_table_rows(summaries), hide_index=True,
                 column_config={"test acc": st.column_config.NumberColumn(format="%.2f%%")})


# Narrow screens (phones, about 390 px): Streamlit stacks every column, which pushed the Train
# metrics and Draw's prediction far down. Containers are styled by their key (st-key-<key>).
# An image asked for at a fixed width (a 420-px grid) never runs past its column or the screen.
# The drawing canvas's own toolbar floats about 34 px above its top edge: room is left for it
# (canvas_room on a wide screen; under the phone's reading on a phone).
PHONE_CSS = """<style>
[data-testid="stImageContainer"], [data-testid="stImageContainer"] img {
  max-width: 100%; height: auto; }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 3rem; }
  .st-key-train_metrics [data-testid="stHorizontalBlock"] { flex-wrap: wrap; gap: 0.5rem; }
  .st-key-train_metrics [data-testid="stColumn"] {
    min-width: calc(50% - 0.5rem) !important; flex: 1 1 calc(50% - 0.5rem) !important; }
  .st-key-diagram_wide { display: none; }
  .st-key-draw_hint, .st-key-model_note, .st-key-canvas_room { display: none; }
  .st-key-phone_prediction { padding-bottom: 2.25rem; }
}
@media (min-width: 641px) {
  .st-key-diagram_tall, .st-key-phone_prediction { display: none; }
  .st-key-draw_controls { max-width: calc(50% - 2rem); }
}
</style>"""


def phone_layout() -> None:
    """Style this page for narrow screens too (see PHONE_CSS)."""
    st.html(PHONE_CSS)
