"""Plotly charts that update in place, so a zoom or pan survives live refreshes.

`st.plotly_chart` (Streamlit 1.67) gives a chart a new identity whenever its figure changes:
every refresh of a live page mounted a new chart and dropped the viewer's zoom within seconds.
This component mounts once per key and hands each new figure to `Plotly.react`, which keeps
zoom, pan and hidden legend entries for as long as the figure's `layout.uirevision` stays.

plotly.js is its "cartesian" build (scatter, bar, heatmap and the other 2-D charts: 1.5 MB
against the full bundle's 4.8 MB, which took twice as long to compile and made a Train page with
charts open in 2.4 s instead of 2 on a 2-core machine), the same version as the installed
plotly package's, shipped in sgan_ui/plotly_js/ (MIT licence beside it; `npm pack
plotly.js-cartesian-dist-min@4.1.1`) and served as the static file of a declared (never
rendered) v1 component: nothing is fetched from the internet, and its toolbar is
common.PLOTLY_CONFIG's, as every chart's (no "Share chart" upload button to Plotly Cloud).
"""
from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components_v1

from sgan_ui.common import server_path
from sgan_ui.feed_view import PLOTLY_DIR, PLOTLY_FILE, PLOTLY_JS

_JS = PLOTLY_JS + """
export default async function ({ data, parentElement, setStateValue }) {
  const Plotly = await loadPlotly(data.src);
  if (!data.figure) return;  // preload(): plotly.js is on its way before a chart needs it
  const el = parentElement.querySelector(".sgan-live-chart");
  el.sendSelection = setStateValue;  // the latest mount's, for the handlers added once below
  if (el.dataset.spec === data.figure) return;  // nothing changed: leave the chart alone
  el.dataset.spec = data.figure;
  const fig = JSON.parse(data.figure);
  await Plotly.react(el, fig.data, fig.layout, plotlyConfig(data.select));
  if (data.select && !el.dataset.listening) {  // points picked by a click, box or lasso
    el.dataset.listening = "1";
    const send = (event) => el.sendSelection("selection", ((event && event.points) || []).map(
        p => ({curve: p.curveNumber, index: p.pointIndex ?? p.pointNumber, x: p.x, y: p.y})));
    el.on("plotly_selected", send);
    el.on("plotly_click", send);
    el.on("plotly_deselect", () => el.sendSelection("selection", []));
  }
}
"""

_assets = components_v1.declare_component("plotly_js", path=str(PLOTLY_DIR))  # serving only
_chart = st.components.v2.component("sgan_lab.live_chart", js=_JS, isolate_styles=False,
                                    html='<div class="sgan-live-chart"></div>')


def plotly_src() -> str:
    return server_path(f"component/{__name__}.plotly_js/{PLOTLY_FILE}")


def live_chart(spec: str, key: str, select: bool = False) -> list[dict]:
    """A chart from charts.to_json(spec) (built once per change, not once per viewer) that
    keeps its identity, and the viewer's zoom, by key. With `select`, the points the viewer
    last clicked, boxed or lassoed ({"curve", "index", "x", "y"} each; a rerun when they
    change), else []."""
    if not select:
        _chart(data={"src": plotly_src(), "figure": spec}, key=key, height="content")
        return []
    result = _chart(data={"src": plotly_src(), "figure": spec, "select": True}, key=key,
                    height="content", default={"selection": []},
                    on_selection_change=lambda: None)
    picked = result.get("selection") if hasattr(result, "get") else None
    return [p for p in picked if isinstance(p, dict)] if isinstance(picked, list) else []


def preload() -> None:
    """Start fetching and compiling plotly.js as the page opens (in the sidebar, drawn first),
    not when the first chart arrives: on a 2-core machine that was half a second of the page."""
    with st.sidebar:
        _chart(data={"src": plotly_src(), "figure": ""}, key="plotly_preload", height="content")
