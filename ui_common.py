"""Helpers shared by the Streamlit pages: where runs live, run lookup from the URL, formatting."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from sgan_core.rundir import NoSuchRun, RunDir, list_runs, resolve_run

PROJECT_ROOT = Path(__file__).resolve().parent


def runs_dir() -> Path:
    """Where run directories live ($SGAN_RUNS_DIR, default runs/ in the project)."""
    return Path(os.environ.get("SGAN_RUNS_DIR", PROJECT_ROOT / "runs"))



NAV = [("app.py", "Home", ":material/home:"),
       ("pages/1_Train.py", "Train", ":material/model_training:"),
       ("pages/2_Compare.py", "Compare", ":material/compare:"),
       ("pages/3_Draw.py", "Draw", ":material/draw:")]


def sidebar() -> None:
    """Our own page menu (Streamlit's automatic one would call the home page "app")."""
    from streamlit.errors import StreamlitAPIException
    with st.sidebar:
        st.markdown("### SGAN Lab")
        try:
            for path, label, icon in NAV:
                st.page_link(path, label=label, icon=icon)
        except StreamlitAPIException:
            pass  # a page run on its own (tests) has no other pages to link to
        st.caption("Semi-supervised GANs on MNIST, trained live on this machine.")


def runs() -> list[dict]:
    """Summaries of every run, newest first."""
    return sorted(list_runs(runs_dir()), key=lambda r: r["id"], reverse=True)


def run_from_id(run_id: str | None) -> RunDir | None:
    """The run named by an id from the URL or a form, or None after showing 'no such run'."""
    if not run_id:
        return None
    try:
        return resolve_run(runs_dir(), run_id)
    except NoSuchRun as e:
        st.warning(f"{e}. Pick a run from the list.")
        return None


def fmt_acc(value) -> str:
    return "–" if value is None else f"{value:.2%}"


def fmt_duration(seconds) -> str:
    if seconds is None or seconds != seconds:
        return "–"
    seconds = int(round(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m" if h else (f"{m}m {s:02d}s" if m else f"{s}s")


def run_label(row: dict) -> str:
    return (f"{row['variant']} · {row['labels']} labels · {row['preset']} · seed {row['seed']} · "
            f"{fmt_acc(row['test_acc'])}  ({row['id']})")


def runs_table_rows(rows: list[dict]) -> list[dict]:
    return [{"run": r["id"], "labels": r["labels"], "variant": r["variant"],
             "preset": r["preset"], "state": r["state"],
             "step": (f"{r['step']} ({fmt_duration(r['max_seconds'])} budget)"
                      if r.get("max_seconds") else f"{r['step']}/{r['total_steps']}"),
             "test acc": None if r["test_acc"] is None else round(100 * r["test_acc"], 2),
             "elapsed": fmt_duration(r["elapsed_s"])} for r in rows]
