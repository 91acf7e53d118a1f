"""A run's charts and grid checks for the Train page, built once per change for every viewer
(here, not in the page script: a page defines its functions again on every run, and Streamlit
reads a cached function's source each time to know it)."""
from __future__ import annotations

import streamlit as st

from sgan_core.training.grids import GridError, read_grid

from .charts import accuracy_figure, losses_figure, to_json


@st.cache_resource(max_entries=32, show_spinner=False)
def figures(run_path: str, n_rows: int, last_row: str, smoothing: float, x: str, _rows):
    """Both charts of a run, built once per new metrics row and shared by every viewer."""
    return (to_json(losses_figure(_rows, smoothing, x)),
            to_json(accuracy_figure(_rows, smoothing, x)))


@st.cache_data(max_entries=256, show_spinner=False)
def grid_problem(path: str, mtime: float, size: int) -> str:
    """Why a grid file cannot be shown ('' when it can), checked once per file version."""
    try:
        read_grid(path)
    except GridError as e:
        return str(e)
    return ""
