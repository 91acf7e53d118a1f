"""Plotly charts that update in place, so a zoom or pan survives live refreshes.

`st.plotly_chart` (Streamlit 1.67) gives a chart a new identity whenever its figure changes:
every refresh of a live page mounted a new chart and dropped the viewer's zoom within seconds.
This component mounts once per key and hands each new figure to `Plotly.react`, which keeps
zoom, pan and hidden legend entries for as long as the figure's `layout.uirevision` stays.

plotly.js is the copy inside the installed plotly package, which Streamlit serves as the static
file of a declared (never rendered) v1 component: nothing is fetched from the internet, and its
toolbar's upload button ("Share chart", to Plotly Cloud) is removed.
"""
from __future__ import annotations

from pathlib import Path

import plotly
import streamlit as st
import streamlit.components.v1 as components_v1

from sgan_ui.common import server_path

PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"

_JS = """
let plotlyReady = null;
function loadPlotly(src) {
  plotlyReady ??= new Promise((resolve, reject) => {
    if (window.Plotly) return resolve(window.Plotly);
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => { plotlyReady = null; reject(new Error("plotly.js not loaded")); };
    document.head.appendChild(script);
  });
  return plotlyReady;
}

export default async function ({ data, parentElement }) {
  const Plotly = await loadPlotly(data.src);
  const el = parentElement.querySelector(".sgan-live-chart");
  if (el.dataset.spec === data.figure) return;  // nothing changed: leave the chart alone
  el.dataset.spec = data.figure;
  const fig = JSON.parse(data.figure);
  await Plotly.react(el, fig.data, fig.layout, {
    // plotly.js 3 adds a "Share chart" button that uploads the chart to Plotly Cloud: runs stay
    // on this machine, so it (and every link to plotly.com) is off
    displaylogo: false, responsive: true, showSendToCloud: false, showEditInChartStudio: false,
    showLink: false, plotlyServerURL: "",
    modeBarButtonsToRemove: ["lasso2d", "select2d", "sendChartToCloud"],
  });
}
"""

_assets = components_v1.declare_component("plotly_js", path=str(PLOTLY_DIR))  # serving only
_chart = st.components.v2.component("sgan_lab.live_chart", js=_JS, isolate_styles=False,
                                    html='<div class="sgan-live-chart"></div>')


def plotly_src() -> str:
    return server_path(f"component/{__name__}.plotly_js/plotly.min.js")


def live_chart(spec: str, key: str) -> None:
    """A chart from charts.to_json(spec) (built once per change, not once per viewer) that
    keeps its identity, and the viewer's zoom, by key."""
    _chart(data={"src": plotly_src(), "figure": spec}, key=key, height="content")

